"""The command's quick path: ``serialscale analyze FILE.py:FUNC [--format F]`` run without
typer, which takes 50-60 ms to import and build its parser (a third of a small traced
function's run through the command line).

Only command lines that typer would parse the same way, to the same values, take it: the
command ``analyze``, one traced function, and at most ``--format``/``-f`` with one of its
choices spelled exactly. Anything else (another option, a typo, ``--help``, shell
completion, a configuration file to read) goes to typer, which parses it and says what is
wrong, as before. ``tests/test_startup.py`` checks that both paths give the command the same
values. Also here: what the command line does when it is interrupted, runs out of memory or
meets a bug (typer's path uses the same, :func:`serialscale.cli.app.main`)."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from ..base.errors import ExitCode, say


class _Parser(Exception):
    """The command needs typer's parser after all (a configuration file to apply)."""


class _NoContext:
    """Stands for typer's context where the quick path has none: the configuration file's
    settings are checked against the parsers' options (:func:`commands.configured`), and a
    run that finds a file goes to typer (:class:`_Parser`) before anything is done."""

    def __getattr__(self, name: str) -> Any:
        raise _Parser(name)


def values(argv: list[str]) -> dict[str, Any] | None:
    """The parameters of ``analyze`` (by name, as typer passes them) for ``argv``, when it is
    a command line of the quick path (see the module); else ``None``."""
    if len(argv) < 2 or argv[0] != "analyze" or os.environ.get("DASK_SCHEDULER_ADDRESS"):
        return None
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return None  # shell completion: typer's
    from ..render.choices import BatchFormat

    files: list[str] = []
    fmt = BatchFormat.table
    rest = iter(argv[1:])
    for arg in rest:
        if arg in ("--format", "-f"):
            arg = "--format=" + next(rest, "")
        if arg.startswith("--format="):
            choice = arg.partition("=")[2]
            if choice not in BatchFormat.__members__:
                return None
            fmt = BatchFormat(choice)
        elif arg.startswith("-") or not _looks_like_function(arg):
            return None
        else:
            files.append(arg)
    if len(files) != 1:
        return None
    return _defaults() | {"files": files, "fmt": fmt}


def _looks_like_function(arg: str) -> bool:
    from .entry import _looks_like_function

    return _looks_like_function(arg)


def _defaults() -> dict[str, Any]:
    """``analyze``'s parameters with no option given, as typer passes them."""
    from ..base.defaults import (
        DEFAULT_MAX_DEPENDENCIES,
        DEFAULT_MAX_OPS,
        DEFAULT_MAX_STEPS,
        DEFAULT_PROCESSORS,
    )
    from ..render.choices import BatchFormat, ColorMode, PlotKind

    return {
        "ctx": None, "files": [], "fmt": BatchFormat.table, "color": ColorMode.auto,
        "plot": None, "plot_kind": PlotKind.speedup, "batch": False,
        "processors": DEFAULT_PROCESSORS, "overhead": 0.0, "output": None, "detail": False,
        "param": None, "control": None, "max_steps": DEFAULT_MAX_STEPS,
        "max_dependencies": DEFAULT_MAX_DEPENDENCIES, "max_input_size": "1G",
        "max_ops": DEFAULT_MAX_OPS, "timeout": None, "from_": None, "durations": None,
        "reverse_edges": False, "include": None, "exclude": None, "jobs": 1,
        "no_ignore": False, "scheduler": None, "target_depth": None, "what_if": None,
        "fail_on": None, "min_speedup": None, "max_depth": None, "max_serial_fraction": None,
        "baseline": None, "max_depth_increase": None, "quiet": False, "verbose": False,
        "config": None, "isolated": False,
    }  # fmt: skip


def run(argv: list[str]) -> None:
    """Run ``argv`` on the quick path and exit (``SystemExit``), or return at once when it is
    not a command line of the quick path, or when typer must parse it after all."""
    given = values(argv)
    if given is None:
        return
    from . import commands

    def analyze() -> int:
        try:
            return commands.run_analyze(commands.configured(_NoContext(), "analyze", given))
        except commands.CommandError as exc:
            for line in exc.lines:
                say(line)
            return ExitCode.INPUT
        except EOFError:  # as typer does: a new line, then "interrupted"
            sys.stderr.write("\n")
            raise KeyboardInterrupt from None
        except OSError as exc:  # as typer does: a closed pipe is exit 1, quietly
            if exc.errno != errno.EPIPE:
                raise
            return _pacified()

    try:
        outcome(analyze)
    except _Parser:
        return


def _pacified() -> int:
    """Standard streams whose closed pipe is ignored from here, and exit code 1 (typer's)."""
    from typer._click.utils import PacifyFlushWrapper

    sys.stdout = PacifyFlushWrapper(sys.stdout)
    sys.stderr = PacifyFlushWrapper(sys.stderr)
    return 1


def outcome(command: Callable[[], int | None]) -> NoReturn:
    """Run ``command`` and exit with its code. A bug never shows users a traceback: one line,
    exit 2. Ctrl-C ends it with exit code 130, as shells expect. Memory that ran out is exit 2
    too. (:class:`_Parser` goes through.)"""
    out_of_memory = False
    code: int | None = ExitCode.OK
    try:
        code = command()
    except _Parser:
        raise
    except KeyboardInterrupt:
        interrupted()
    except MemoryError:
        # Handled below, once this block has let go of the exception: its traceback holds
        # every frame of the work, and with them all that was built.
        out_of_memory = True
    except RuntimeError as exc:
        if "can't start new thread" not in str(exc):  # the interpreter's words, 3.10 to 3.13
            internal(exc)
        print("serialscale: error: could not start a thread: out of memory or of processes",
              file=sys.stderr)  # fmt: skip
        sys.exit(ExitCode.INPUT)
    except Exception as exc:
        internal(exc)
    if out_of_memory:
        ran_out_of_memory()
    if code == ExitCode.INTERRUPTED:  # typer turns KeyboardInterrupt into a silent exit 130
        interrupted()
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


def interrupted() -> NoReturn:
    """Ctrl-C: say so and exit 130, as shells expect; a second Ctrl-C changes nothing."""
    from ..run.stopping import ignore_interrupts

    ignore_interrupts()
    say("serialscale: interrupted")
    sys.exit(ExitCode.INTERRUPTED)


#: The message for memory that ran out, made in advance: its handler must not need any.
OUT_OF_MEMORY = b"serialscale: error: ran out of memory\n"


def ran_out_of_memory() -> NoReturn:
    """Say that memory ran out and exit 2, needing no memory to say it: what the work built
    is freed first (the collector may be off), the message was made in advance and is
    written straight to the descriptor."""
    import gc

    gc.collect()
    try:  # noqa: SIM105 (no context manager to allocate here)
        os.write(2, OUT_OF_MEMORY)
    except OSError:
        pass
    sys.exit(ExitCode.INPUT)


def internal(exc: Exception) -> NoReturn:
    """A bug: one line naming it, exit 2, never a traceback."""
    name = type(exc).__name__
    say(f"serialscale: internal error: {name}: {exc} (please report it)")
    sys.exit(ExitCode.INPUT)
