"""Ctrl-C during a batch: one stops it at once, with nothing left running.

A terminal's Ctrl-C sends SIGINT to every process of the foreground process group:
serialscale and its worker processes alike. Left to themselves, the workers would each raise
``KeyboardInterrupt`` wherever they are (a traceback from ``multiprocessing`` when one is idle,
a result made of the interruption when one is busy), while serialscale waited in the pool's
``shutdown`` for the batch to end. So:

- workers ignore SIGINT (:func:`worker_started`): the interruption is serialscale's to handle;
- serialscale, on ``KeyboardInterrupt``, ignores any further Ctrl-C while it cleans up, and
  stops every worker (:func:`stop_workers`): SIGTERM, which a busy worker turns into
  :class:`Stopped` (so ``finally`` blocks run: an isolated traced function's process group is
  killed, see :mod:`serialscale.run.isolation`) and an idle one answers by exiting; a
  worker still there after :data:`GRACE` seconds is killed;
- then the ``KeyboardInterrupt`` goes on to the command line, which says so and exits 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds a stopped worker has to run its ``finally`` blocks before it is killed.
GRACE = 0.5
#: The exit code of a worker that was stopped (as a shell reports SIGINT).
STOPPED_EXIT = 130

#: Whether this worker process is running a task (set by :func:`in_worker`).
_busy = False


class Stopped(BaseException):
    """Raised in a busy worker by SIGTERM: serialscale stops the batch. A ``BaseException``,
    so that no ``except Exception`` of the analysis swallows it."""


def worker_started() -> None:
    """A worker process's initializer: Ctrl-C is for serialscale, SIGTERM stops the worker
    (see the module)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: Any) -> None:
    if _busy:
        raise Stopped
    os._exit(STOPPED_EXIT)


def in_worker(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in a worker process, stoppable by SIGTERM: on :class:`Stopped` the
    stack unwinds (its ``finally`` blocks run), then the worker exits at once."""
    global _busy
    _busy = True
    try:
        return work(*args)
    except Stopped:
        os._exit(STOPPED_EXIT)
    finally:
        _busy = False


def ignore_interrupts() -> None:
    """Ctrl-C from now on does nothing: the command is ending already (a second Ctrl-C must
    not interrupt the clean-up and leave a worker running or print a traceback)."""
    with contextlib.suppress(ValueError):  # not the main thread: nothing to change
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_workers(pool: Any, interrupted: bool = True) -> None:
    """Stop the worker processes of a ``ProcessPoolExecutor`` now (see the module) and let the
    pool go without waiting for its tasks; ``interrupted`` (by Ctrl-C): ignore any further
    Ctrl-C, the command is ending."""
    if interrupted:
        ignore_interrupts()
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    deadline = time.monotonic() + GRACE
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            if process.is_alive():
                process.kill()
                process.join(GRACE)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=False, cancel_futures=True)
