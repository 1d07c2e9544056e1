"""The target of a traced function started as the command starts, before its options are
parsed (see :mod:`.isolation`, whose guarantees it keeps): this module forks it and holds its
pipes. It imports only ``os`` and ``sys``: the command forks once what both processes need
is imported (the report's types), and the target imports the tracer and the analysis while
the command imports typer and parses."""

from __future__ import annotations

import os
import sys


def path_without_working_folder() -> list[str]:
    """Take the working folder off ``sys.path`` (``python -m`` puts it first) and return
    ``sys.path`` as it was, for the caller to put back once its imports are made: they take
    nothing of the user's (a ``struct.py`` there). Relative entries (the working folder's
    too) go as well; a working folder that was removed is no error."""
    try:
        here: str | None = os.getcwd()
    except OSError:
        here = None
    saved = sys.path[:]
    sys.path[:] = [p for p in saved if p and os.path.isabs(p) and os.path.normpath(p) != here]
    return saved


#: The target started early: its label, its sentinel's pid, the job pipe's end that
#: serialscale writes, the result and status pipes' ends that it reads.
_started: tuple[str, int, int, int, int] | None = None


def prestart(label: str) -> None:
    """Fork the sentinel of a target for ``label`` (which forks the target: see
    :func:`serialscale.run.isolation.prestart`). Best effort: nothing on failure."""
    global _started
    if _started is not None or not (hasattr(os, "fork") and hasattr(os, "setsid")):
        return
    import select

    if not hasattr(select, "poll"):  # isolation.available(): no target, the work runs here
        return
    pipes: list[int] = []
    try:
        for _ in range(3):
            pipes.extend(os.pipe())
        job_r, job_w, result_r, result_w, status_r, status_w = pipes
        parent = os.getpid()
        pid = os.fork()
    except OSError:
        for fd in pipes:
            os.close(fd)
        return
    if pid == 0:  # the sentinel: never returns
        code = 70  # isolation.FAILED
        try:
            os.setsid()  # at once: the terminal's Ctrl-C is serialscale's alone from here
            os.close(job_w)
            os.close(result_r)
            os.close(status_r)
            from .isolation import _sentinel

            _sentinel(None, label, result_w, status_w, parent, job_r)
        finally:
            os._exit(code)
    for fd in (job_r, result_w, status_w):
        os.close(fd)
    _started = (label, pid, job_w, result_r, status_r)


def take(label: str) -> tuple[int, int, int, int] | None:
    """The target started for ``label`` (its sentinel's pid, the job pipe's end to write, the
    result and status pipes' ends to read), now the caller's; ``None`` when there is none, or
    it is for another label (it is then ended)."""
    global _started
    if _started is None:
        return None
    if _started[0] != label:
        cancel()
        return None
    _, pid, job_w, result_r, status_r = _started
    _started = None
    return pid, job_w, result_r, status_r


def started() -> int | None:
    """The pid of the sentinel of the target started early, if any (for tests)."""
    return None if _started is None else _started[1]


def cancel() -> None:
    """End the target started early, if any (unused: the command needs another)."""
    global _started
    if _started is None:
        return
    _, pid, job_w, result_r, status_r = _started
    _started = None
    for fd in (job_w, result_r, status_r):
        os.close(fd)
    end(pid)


def end(pid: int) -> int:
    """Kill the sentinel's process group (the target and what it started) and the sentinel,
    reap the sentinel, and return its wait status."""
    kill(pid)
    status = reap(pid)
    return 0 if status is None else status


def kill(pid: int) -> None:
    """Kill the sentinel ``pid``'s process group and the sentinel (not waiting for them)."""
    import contextlib  # here: as the command starts, this module imports only os
    import signal

    for kill in (os.killpg, os.kill):  # the group; the sentinel, were it not yet a leader
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def reap(pid: int, wait: bool = True) -> int | None:
    """The wait status of the sentinel ``pid`` once it has ended (0 when it was reaped
    already); without ``wait``, ``None`` when it has not ended yet."""
    try:
        done, status = os.waitpid(pid, 0 if wait else os.WNOHANG)
    except ChildProcessError:
        return 0
    return status if done else None
