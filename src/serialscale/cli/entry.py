"""The ``serialscale`` command's entry point: the cyclic garbage collector is off from the
first import, as the interpreter starts (typer and click make tens of thousands of objects
and no garbage cycles worth collecting: about 5 ms of a 100 ms start). Bulk passes pause the
collector anyway (:mod:`serialscale.base.gcpause`); a traced target runs in a child process that
turns it back on (:mod:`serialscale.run.isolation`). Library users never import this."""

import gc

gc.disable()

import os  # noqa: E402
import sys  # noqa: E402
from typing import NoReturn  # noqa: E402

from ..base.errors import ExitCode, say  # noqa: E402
from .app import main  # noqa: E402

__all__ = ["run"]


def run() -> NoReturn:
    """The ``serialscale`` command: :func:`serialscale.cli.app.main`, then end the process at once.

    The interpreter's usual teardown (freeing every module and object) takes 10-25 ms, a fifth
    of a small analysis; nothing needs it here: by then every output file is written and
    closed, and worker pools and Dask clients were shut down by the commands. Only standard
    streams need flushing. In-process callers use :func:`serialscale.cli.app.main`, which exits
    normally.
    """
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    except MemoryError:  # even saying so ran out: the last resort, never a traceback
        code = ExitCode.INPUT
        try:  # noqa: SIM105 (no context manager to allocate here)
            os.write(2, b"serialscale: error: ran out of memory\n")
        except OSError:
            pass
    if isinstance(code, str):  # sys.exit("message"), as the interpreter would print it
        say(code)
        code = 1
    status = code if isinstance(code, int) else 0
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: the result did not arrive
            status = status or ExitCode.INPUT
    os._exit(status)
