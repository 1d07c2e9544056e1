"""The ``serialscale`` command's entry point: the cyclic garbage collector is off from the
first import, as the interpreter starts (typer and click make tens of thousands of objects
and no garbage cycles worth collecting: about 5 ms of a 100 ms start). Bulk passes pause the
collector anyway (:mod:`serialscale.base.gcpause`); a traced target runs in a child process that
turns it back on (:mod:`serialscale.run.isolation`). For ``analyze FILE.py:FUNC``, that child
is started before typer is even imported (:func:`serialscale.run.isolation.prestart`). Library
users never import this."""

import gc

gc.disable()

import os  # noqa: E402
import sys  # noqa: E402
from typing import NoReturn  # noqa: E402

#: Options after which no single traced function is analyzed in a process of its own.
_NOT_ONE = ("-h", "--help", "--version", "-j", "--jobs", "--scheduler", "--batch", "--plot")


def _function_target(argv: list[str]) -> str | None:
    """The one traced function ``serialscale analyze ...`` seems to name, else ``None``.

    Only a guess: its target is started before the options are parsed (its imports run
    while the command starts), and the parsed command gives it its job only when it really
    analyzes that one function in a process of its own; otherwise it is ended unused."""
    if len(argv) < 2 or argv[0] != "analyze" or os.environ.get("DASK_SCHEDULER_ADDRESS"):
        return None
    if any(arg.split("=", 1)[0] in _NOT_ONE for arg in argv):
        return None
    found = [arg for arg in argv[1:] if _looks_like_function(arg)]
    return found[0] if len(found) == 1 else None


def _looks_like_function(arg: str) -> bool:
    """Whether ``arg`` looks like a traced function (``FILE.py:FUNC``, ``MODULE:FUNC``): a
    guess made before the options are parsed."""
    where, colon, func = arg.rpartition(":")
    return (bool(colon and where) and not arg.startswith("-") and "=" not in arg
            and all(part.isidentifier() for part in func.split(".")))  # fmt: skip


__all__ = ["run"]


def _hold_closed_standard_descriptors() -> None:
    """A descriptor 0-2 closed as the command started (``>&-``, ``<&-``) gets ``/dev/null``:
    a pipe opened later would take its number, and the traced function's process points its
    0 and 1 elsewhere (the result's pipe was lost: "could not start a process"). Python's
    ``sys.stdout`` stays ``None``: writing a report there still fails, as it must."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:  # (the lowest free number: fd, unless it was opened meanwhile)
                os.close(opened)


def run() -> NoReturn:
    """The ``serialscale`` command: :func:`serialscale.cli.quick.run` (``analyze FILE.py:FUNC``
    without typer) or :func:`serialscale.cli.app.main`, then end the process at once.

    The interpreter's usual teardown (freeing every module and object) takes 10-25 ms, a fifth
    of a small analysis; nothing needs it here: by then every output file is written and
    closed, and worker pools and Dask clients were shut down by the commands. Only standard
    streams need flushing. In-process callers use :func:`serialscale.cli.app.main`, which exits
    normally.

    Ctrl-C before the command's own handlers are in place (its first imports, about a tenth
    of a second) ends it as they do: one line, exit code 130, no traceback.
    """
    try:
        _run()
    except KeyboardInterrupt:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C changes nothing
        early = sys.modules.get("serialscale.run.early")
        if early is not None:
            early.cancel()
        try:  # noqa: SIM105 (as few names as possible here)
            os.write(2, b"serialscale: interrupted\n")
        except OSError:
            pass
        os._exit(130)  # ExitCode.INTERRUPTED, not imported yet perhaps


def _run() -> NoReturn:
    _hold_closed_standard_descriptors()
    from ..run import early  # (imports nothing of serialscale's)

    label = _function_target(sys.argv[1:])
    if label is not None:
        # What both processes need (the result's types: msgspec, dataclasses, typing...),
        # imported once; then the target imports the tracer and the analysis while this
        # process imports typer and parses (on another core).
        # Imported with the working folder off sys.path ('python -m' puts it first): a
        # 'struct.py' there must not run before the options are checked (pickle imports
        # struct); the command's own imports after this are as they always were.
        saved = early.path_without_working_folder()
        try:
            from ..documents import report  # noqa: F401
            from ..run import isolation

            early.prestart(label)
            isolation.reap_at_exit()  # this process ends with its output: see there
        finally:
            sys.path[:] = saved
    from ..base.errors import ExitCode, say
    from . import quick

    code: int | str | None = 0
    try:
        quick.run(sys.argv[1:])  # returns only when typer is needed
        from .app import main

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
    early.cancel()  # unused (a usage error, Ctrl-C): not left to linger
    isolating = sys.modules.get("serialscale.run.isolation")
    if isolating is not None:
        isolating.reap_dying()
    os._exit(status)
