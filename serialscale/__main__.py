"""``python -m serialscale``."""

from ._command import run

if __name__ == "__main__":
    run()
