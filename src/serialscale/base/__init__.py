"""What every layer uses and that uses nothing of serialscale: errors and exit codes, defaults,
limits, words for people, and pausing the garbage collector."""
