"""Default settings, kept apart so the command line can read them without importing the engine."""

#: Target processor count of the classification (never the machine's own core count).
DEFAULT_PROCESSORS = 8

#: Largest number of steps a workload may have (templates are stopped as they expand).
DEFAULT_MAX_STEPS = 5_000_000

#: Largest number of dependencies (need entries) a workload may have, after expansion.
DEFAULT_MAX_DEPENDENCIES = 50_000_000

#: Largest input file (or standard input) read, in bytes: 1 GiB.
DEFAULT_MAX_INPUT_BYTES = 1 << 30

#: Largest number of operations a traced function may record.
DEFAULT_MAX_OPS = 50_000_000
