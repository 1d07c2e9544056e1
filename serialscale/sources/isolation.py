"""Running code we import in a child process, so that it cannot take serialscale down.

A traced target is someone else's code: it may call ``sys.exit`` or ``os._exit``, raise
``KeyboardInterrupt``, kill its own process, print, or run forever. The command line runs
each one in a forked child whose standard output is serialscale's standard error (so prints
never reach the report), and gets back the child's result or its error, pickled through a
pipe. Whatever the child does, the parent turns it into one :class:`WorkloadError`:

- it returns: its result;
- it raises a located error, or any exception or ``BaseException`` (``SystemExit``,
  ``KeyboardInterrupt``): that error, naming what happened;
- its process ends without a result (``os._exit``, a signal, a crash): which exit code or
  signal ended it;
- it runs past ``timeout`` seconds: it is killed, and the error names ``--timeout``.

A real Ctrl-C reaches the parent too (the terminal signals the whole process group): the
parent kills the child and lets ``KeyboardInterrupt`` end serialscale (exit code 130).

Where ``os.fork`` does not exist (Windows), the work runs in this process.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import Location, WorkloadError

T = TypeVar("T")

#: Bytes read from the child at a time.
CHUNK = 1 << 20


def available() -> bool:
    """Whether work can run in a child process here."""
    return hasattr(os, "fork")


def run_isolated(work: Callable[[], T], label: str, timeout: float | None = None) -> T:
    """``work()`` in a forked child; its result, or a :class:`WorkloadError` for ``label``."""
    if not available():
        return work()
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(work, label, write_end)
    os.close(write_end)
    try:
        data, timed_out = _collect(read_end, timeout)
    except BaseException:  # Ctrl-C or an error while waiting: the child must not outlive us
        _kill(pid)
        raise
    finally:
        os.close(read_end)
    if timed_out:
        _kill(pid)
        raise WorkloadError(
            f"stopped after --timeout {timeout:g} seconds: the function was still running",
            Location(label),
        )
    _, status = os.waitpid(pid, 0)
    if not data:
        raise WorkloadError(_ended(status), Location(label))
    try:
        kind, value = pickle.loads(data)
    except Exception as exc:  # a truncated result: the child died while sending it
        raise WorkloadError(f"{_ended(status)} ({type(exc).__name__})", Location(label)) from None
    if kind == "error":
        raise value
    return value


def _child(work: Callable[[], object], label: str, out: int) -> None:
    """Run ``work`` with stdout sent to stderr; send back the outcome; end the process."""
    code = 0
    try:
        gc.enable()  # the command starts with it off (serialscale._command); user code needs it
        os.dup2(2, 1)  # prints, from Python or from C, go to serialscale's stderr
        sys.stdout = sys.stderr
        try:
            outcome: tuple[str, object] = ("ok", work())
        except WorkloadError as exc:
            outcome = ("error", exc)
        except SystemExit as exc:
            outcome = ("error", WorkloadError(_exit_message(exc), Location(label)))
        except BaseException as exc:  # KeyboardInterrupt raised by the code, and the rest
            what = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            outcome = ("error", WorkloadError(f"the function raised {what}", Location(label)))
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            message = f"its result could not be sent back ({type(exc).__name__}: {exc})"
            data = pickle.dumps(("error", WorkloadError(message, Location(label))))
        view = memoryview(data)
        while view:
            view = view[os.write(out, view[:CHUNK]) :]
    except BaseException:
        code = 70  # the parent reports how the child ended
    finally:
        os._exit(code)


def _exit_message(exc: SystemExit) -> str:
    if exc.code is None or exc.code == 0:
        return "the function called sys.exit() (exit code 0) before returning a result"
    return f"the function called sys.exit({exc.code!r}) before returning a result"


def _collect(fd: int, timeout: float | None) -> tuple[bytes, bool]:
    """Everything the child writes until it closes the pipe; ``True`` on a timeout."""
    chunks: list[bytes] = []
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return b"", True
        chunk = os.read(fd, CHUNK)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _ended(status: int) -> str:
    """How a child that sent nothing back ended."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the function's process was killed by {name} before returning a result"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"the function ended its process (exit code {code}) before returning a result"
