"""Memory for what follows a recording, made ready while the recording goes on.

A page of memory first touched costs a page fault (1.5-2 µs on the virtual machines this
was measured on), and the graph and analysis that follow a traced run take 120-160 bytes of
new memory per step recorded: 60,000 faults for 2 M steps, a quarter of the command's time.
The recording runs on one core. In a process of serialscale's own (the target of a traced
function, :mod:`serialscale.run.isolation`), :func:`prepare_ahead` has malloc keep freed
memory for later allocations, and each run then has a thread on another core fault in
:data:`BYTES_PER_STEP` bytes of heap per step recorded so far, and give them back to malloc,
where the graph and the analysis find them present (the ``prefault`` kernel, csrc/memory.c).

Nothing anyone reads changes: the pages are made present and given back unchanged. The
thread is not a ``threading`` thread (``threading.enumerate()`` and ``active_count()`` in the
traced code see what they would see untraced), takes no traced value, calls nothing the
tracer watches, and is done with its last block when the run is (at most one block of
:data:`MOST_AT_ONCE` bytes to wait for). Without glibc, with the pure-Python twins, or in a
process not serialscale's own (a library user's), nothing of this happens.

What it costs: malloc serves the traced code the same way (its large blocks too come from
the heap, and nothing freed goes back to the system), so a traced function that frees large
blocks keeps their memory, and a run that ends early (``--max-ops``, an exception) has made
up to :data:`MOST_IN_A_RUN` bytes ready for nothing. So none of this happens where a memory
limit applies (``ulimit -v`` or ``-d``, a cgroup's ``memory.max``: a container's): there,
malloc is left as it is. A process forked by the traced code does not wait for the thread
(which is not in it).
"""

from __future__ import annotations

import _thread
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from .. import accel
from ..base.limits import process_memory_limits

#: Bytes made ready per step recorded: below what the graph and the analysis take (122-158
#: per step, measured on the benchmarks' functions, benchmarks/RESULTS.md), so a run never
#: has more memory made ready than it uses.
BYTES_PER_STEP = 112
#: The least made ready at once (fewer steps than this makes ready nothing).
LEAST_AT_ONCE = 8 << 20
#: The most made ready at once (~15 ms): the longest a run's end waits for the thread.
MOST_AT_ONCE = 32 << 20
#: Seconds between two looks at the steps recorded.
PERIOD = 0.005
#: The most made ready in one run (~4.8 M steps' worth), whatever the machine's memory: the
#: most a run that ends early can have taken for nothing.
MOST_IN_A_RUN = 512 << 20

#: The most bytes made ready in one run (:data:`MOST_IN_A_RUN`, or a quarter of the
#: machine's memory if less), 0 while :func:`prepare_ahead` has not been called here, could
#: not tune malloc, or found a memory limit.
_most = 0


class Counting(Protocol):
    """What the thread follows: a recorder's count of steps."""

    count: int


def prepare_ahead() -> bool:
    """From now on, in this process, keep freed memory for later allocations and make memory
    ready while each traced run records. For a process of serialscale's own only: it changes
    how malloc serves the whole process for good (nothing freed goes back to the system).
    Whether it took effect (glibc and the compiled kernels, and no memory limit: see the
    module's docstring)."""
    global _most
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return False
    if physical <= 0 or memory_limited() or not accel.kernels().keep_freed_memory():
        return False
    _most = min(physical // 4, MOST_IN_A_RUN)
    return True


#: Where this process's cgroups are listed, and where the cgroup file systems are mounted.
PROC_CGROUP = "/proc/self/cgroup"
CGROUP_ROOT = "/sys/fs/cgroup"


def memory_limited() -> bool:
    """Whether this process's memory is limited: an address-space or data limit
    (``ulimit -v``, ``-d``), or its cgroup's (a container's)."""
    return rlimited() or cgroup_limited()


def rlimited() -> bool:
    """Whether an address-space or data limit applies here (``ulimit -v``, ``-d``)."""
    try:
        return bool(process_memory_limits())
    except (OSError, ValueError):
        return True  # (cannot tell: as if limited)


def cgroup_limited(proc: str = PROC_CGROUP, root: str = CGROUP_ROOT) -> bool:
    """Whether this process's memory cgroup, or one above it, limits its memory (v2:
    ``memory.max`` other than ``max``; v1: ``memory.limit_in_bytes`` below 2**60), as
    ``proc`` (``/proc/self/cgroup``) names them under ``root``."""
    try:
        with open(proc, "rb") as handle:
            lines = handle.read(1 << 16).decode("utf-8", "replace").splitlines()
    except OSError:
        lines = ["0::/"]  # (no /proc: the root's, where a container's limit shows)
    for line in lines:
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controllers == "":  # v2: one hierarchy
            base, name = root, "memory.max"
            if os.path.isdir(os.path.join(root, "unified")):  # v2 beside v1 (hybrid)
                base = os.path.join(root, "unified")
        elif "memory" in controllers.split(","):
            base, name = os.path.join(root, "memory"), "memory.limit_in_bytes"
        else:
            continue
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        for depth in range(len(parts), -1, -1):  # this cgroup, then each one above it
            if _limit_in(os.path.join(base, *parts[:depth], name)):
                return True
    return False


def _limit_in(path: str) -> bool:
    """Whether the cgroup file ``path`` sets a limit (missing: none)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(64).strip()
    except OSError:
        return False
    return text not in (b"max", b"") and not (text.isdigit() and int(text) >= 1 << 60)


class _Follower:
    """The thread's state: the block made ready so far, and the locks that end it."""

    def __init__(self, recorder: Counting, most: int, prefault: Callable[[int, int, int], int]):
        self.recorder = recorder
        self.most = most
        self.prefault = prefault
        self.pid = os.getpid()  # the process the thread runs in (a fork has no such thread)
        self.ready = 0  # bytes of the block made ready
        self.stop = _thread.allocate_lock()
        self.stop.acquire()  # released: the run is over
        self.ended = _thread.allocate_lock()
        self.ended.acquire()  # released by the thread as it ends

    def run(self) -> None:
        """Follow the count of steps until told to stop, a block at a time. No builtin is
        called here: during a run ``min``, ``max``, ``sum`` and ``pow`` are the recorder's."""
        try:
            base = 0
            behind = False
            while not self.stop.acquire(timeout=0 if behind else PERIOD):
                want = BYTES_PER_STEP * self.recorder.count
                want = want if want < self.most else self.most
                if want - self.ready < LEAST_AT_ONCE:
                    behind = False
                    continue
                size = self.ready + MOST_AT_ONCE
                size = size if size < want else want
                at = self.prefault(size, base, self.ready)
                if not at:  # not a block of the main heap: nothing to make ready here
                    return
                base, self.ready = at, size
                behind = size < want
        except Exception:  # (MemoryError): memory made ready is a help, never a need
            return
        finally:
            self.ended.release()


@contextmanager
def ready_while_recording(recorder: Counting) -> Iterator[_Follower | None]:
    """While the block runs (a traced run recording into ``recorder``), make memory ready
    on another thread (see the module's docstring); yields its state, or ``None`` where
    :func:`prepare_ahead` was not called or did not take effect. On leaving, the thread
    stops and gives its last block back before the caller goes on."""
    if not _most:
        yield None
        return
    follower = _Follower(recorder, _most, accel.kernels().prefault)
    try:
        _thread.start_new_thread(follower.run, ())
    except RuntimeError:  # no thread can start: the run goes on without
        yield None
        return
    try:
        yield follower
    finally:
        follower.stop.release()
        if os.getpid() == follower.pid:  # (in a fork of the traced code's: no thread to wait)
            follower.ended.acquire()
