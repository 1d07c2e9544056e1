"""Running analyses: collecting targets, batches in worker processes or Dask, sweeps, and
process isolation for imported code. Above the inputs, renderers and core; below the command
line."""
