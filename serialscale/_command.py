"""The ``serialscale`` command's entry point: the cyclic garbage collector is off from the
first import, as the interpreter starts (typer and click make tens of thousands of objects
and no garbage cycles worth collecting: about 5 ms of a 100 ms start). Bulk passes pause the
collector anyway (:mod:`serialscale.gcpause`); a traced target runs in a child process that
turns it back on (:mod:`serialscale.sources.isolation`). Library users never import this."""

import gc

gc.disable()

from .cli import run  # noqa: E402

__all__ = ["run"]
