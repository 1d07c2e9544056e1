"""Default settings, kept apart so the command line can read them without importing the engine."""

#: Target processor count of the classification (never the machine's own core count).
DEFAULT_PROCESSORS = 8

#: Largest number of steps a templated workload may expand to.
DEFAULT_MAX_STEPS = 5_000_000
