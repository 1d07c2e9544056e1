"""Selection by builtin methods: ``list.sort``, and numpy's ``sort``, ``max`` and ``min`` on
object arrays. What they choose depends on the comparisons they made (issue 13).

These are methods of builtin types and cannot be replaced, unlike ``sorted`` or ``max``
(see :mod:`.selection`). So while a traced run is on, a profile function (compiled: a C
profile hook that calls into Python only for these methods; pure Python: ``sys.setprofile``)
reports when one of them starts and ends, and the recorder does three things:

1. At the start, every traced value in the list or array (inside tuples too) is replaced
   by a copy made by a zero-cost ``sort-input`` step needing it. Inputs share no step, so
   without this the comparisons could not tell the values they compared apart.
2. The method runs natively. Its comparisons (timsort's, numpy's, as they are made) are
   recorded as usual, at the line that called the method.
3. At the end, each of those comparisons is made to need the comparison that last involved
   either of its operands (or a value a key function derived from them), instead of only
   the operands: what a sort or a running maximum compares next is chosen by what it
   compared before, so the comparisons chain as the algorithm makes them (a merge of two
   runs is one chain, a maximum of n values a chain of n - 1). Then every value chosen
   passes through a zero-cost ``select`` step needing the last comparison that involved it
   (a value no comparison involved, because a key function hid it, needs the last one): a
   sort's values in place; for ``max``/``min`` the array gets its own values back and what
   was returned becomes the selected value.

The truth tests the method makes on its comparisons, in its caller's name, are not the
caller's branches (the recorder's ``enter_native``): they are the method's own, followed
by the chains above, as ``sorted`` makes none.

Methods are recognised by name (``sort``, ``max``, ``min``) and the instance's type, so
numpy imported during the run is covered. ``numpy.max``/``min``/``amax``/``amin`` of an
object array are routed to the array's method during the run when numpy was imported before
it started (a module-level import). Not watched: these methods while another profile
function is installed (``sys.setprofile``; cProfile's, up to Python 3.11), in threads the
traced function starts, when called from C code, ``np.maximum.reduce`` called directly, and
``argmax``/``argsort`` (they return positions, not values), and traced values inside lists or
other objects being sorted (only traced values and tuples of them are copied in: a list or a
record is the user's own mutable object). The pure-Python profile function
runs on every call and return: tracing in pure Python is about 6x slower with it.
"""

from __future__ import annotations

import contextlib
import mmap
import sys
from array import array
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from .. import accel
from .recorder import NO_STEP, Recorder
from .selection import _nodes, _select
from .values import COMPARISONS, TRACED, Traced, current

#: The events the profile functions report.
STARTS, RETURNS, RAISES = 0, 1, 2
_PY_EVENTS = {"c_call": STARTS, "c_return": RETURNS, "c_exception": RAISES}


class _Call:
    """One watched call in progress: its container, where its steps begin, its caller's
    frame, and the copies made for the container's values (with their positions)."""

    __slots__ = ("container", "frame", "made", "originals", "positions", "sorts", "start")

    def __init__(self, container: Any, sorts: bool, frame: FrameType, positions: list[Any],
                 originals: list[Any]) -> None:  # fmt: skip
        self.container = container
        self.sorts = sorts  # True: sorts in place; False: returns what it picks
        self.frame = frame
        self.positions = positions
        self.originals = originals  # the values at those positions when the call started
        self.made: list[Traced] = []
        self.start = 0  # the first step after the sort-input steps


#: The names of the watched builtin methods; :func:`_sorts` says which are selecting ones.
NAMES = ("sort", "max", "min")


def _sorts(name: str, container: Any) -> bool | None:
    """Whether method ``name`` of ``container`` sorts in place (True), returns what it picks
    (False), or is not one of the selecting methods (None)."""
    kind = type(container)
    if kind is list:
        return True if name == "sort" else None
    np = sys.modules.get("numpy")  # looked up each time: numpy may be imported during the run
    if np is not None and kind is getattr(np, "ndarray", None):
        return name == "sort"
    return None


class NativeWatch:
    """What the profile function calls: ``watch(event, which, self, the caller's frame)``."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.open: list[_Call | None] = []  # calls in progress, innermost last

    def __call__(self, event: int, which: int, container: Any, frame: FrameType | None) -> None:
        if event == STARTS:
            call = self._started(NAMES[which], container, frame)
            self.open.append(call)
            if call is not None:
                self.recorder.enter_native(call.frame)
            return
        call = self.open.pop() if self.open else None
        if call is None:
            return
        self.recorder.leave_native()
        if call.container is not container:
            return
        if not call.sorts:  # the container gets its own values back, whatever happened
            for position, original in zip(call.positions, call.originals, strict=True):
                container[position] = original
        if event == RETURNS:
            self._finished(call)

    def _started(self, name: str, container: Any, frame: FrameType | None) -> _Call | None:
        rec = self.recorder
        if frame is None or current() is not rec or rec.paused:
            return None
        sorts = _sorts(name, container)
        if sorts is None:
            return None
        if type(container) is list:
            positions: list[Any] = list(range(len(container)))
        else:  # an ndarray: object arrays only
            if container.dtype.kind != "O" or not container.flags.writeable:
                return None
            positions = list(_ndindex(container.shape))
        values = [container[p] for p in positions]
        if not any(_nodes(v) for v in values):
            return None
        call = _Call(container, sorts, frame, positions, values)
        for position, value in zip(positions, values, strict=True):
            container[position] = _enter(rec, value, call.made)
        call.start = rec.count
        return call

    def _finished(self, call: _Call) -> None:
        last_of, last = self._rechain(call)
        if last == NO_STEP:
            return  # nothing was compared: nothing was chosen
        rec = self.recorder
        if call.sorts:
            container = call.container
            for position in call.positions:
                value = container[position]
                placed = [last_of[n] for n in _nodes(value) if n in last_of]
                container[position] = _select(rec, value, max(placed) if placed else last)
            return
        # max/min: the copies still referred to (by what was returned: the array has its own
        # values back) become selected values, in place. Three references are ours (the
        # list, the loop variable, getrefcount's argument); the result holds any other.
        for value in call.made:
            if sys.getrefcount(value) > 3:
                value.node = _select(rec, value, last_of.get(value.node, last)).node

    def _rechain(self, call: _Call) -> tuple[dict[int, int], int]:
        """Make each comparison of the call need the last one involving its operands (the
        ``rechain`` kernel, or its pure-Python twin below); the last comparison involving
        each sort-input step, and the call's last comparison."""
        rec = self.recorder
        rec.flush()  # the call's comparisons, into the arrays rewritten here
        comparing = array("q", [op in COMPARISONS for op, _, _ in rec.site_names])
        entries = [value.node for value in call.made]
        lo, n = min(entries), len(rec.site)
        owner = array("q", [-1]) * (n - lo)  # step -> the sort-input it derives from
        for entry in entries:
            owner[entry - lo] = entry
        last_of = array("q", [-1]) * (n - lo)  # sort-input -> its last comparison
        kernels, start = accel.kernels(), call.start
        lent: tuple[Any, ...] = (rec.a, rec.b, rec.c)
        needs = lent
        if not isinstance(lent[0], array):
            # The compiled tape's int32 needs, widened to the kernel's int64 where it reads
            # and writes them (steps `start` on) and copied back after. The compiled kernel
            # is given anonymous memory, of which only that part is ever touched; the pure
            # twin writes back by array slices: arrays.
            if accel.compiled_kernels_in_use():
                needs = tuple(memoryview(mmap.mmap(-1, 8 * n)).cast("q") for _ in lent)
                for wide, view in zip(needs, lent, strict=True):
                    wide[start:] = array("q", view[start:])
            else:
                needs = tuple(array("q", view) for view in lent)
        last = kernels.rechain(*needs, rec.site, comparing, lo, start, owner, last_of)
        if needs is not lent:
            for view, wide in zip(lent, needs, strict=True):
                view[start:] = array("i", wide[start:])
        del needs, lent  # the compiled tape's columns are lent while their views live
        placed = {entry: last_of[entry - lo] for entry in entries if last_of[entry - lo] >= 0}
        return placed, last


def _ndindex(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Every index of an array of this shape, in C order."""
    if not shape:
        yield ()
        return
    for i in range(shape[0]):
        for rest in _ndindex(shape[1:]):
            yield (i, *rest)


def _enter(rec: Recorder, value: Any, made: list[Traced]) -> Any:
    """``value`` with each traced value in it (inside tuples too) replaced by a copy made by
    a new zero-cost ``sort-input`` step; the copies go into ``made``."""
    if type(value) is tuple:
        return tuple(_enter(rec, v, made) for v in value)
    if type(value) not in TRACED:
        return value
    copy = Traced(value.value, rec.named("sort-input", [value.node] if value.node >= 0 else [], 0))
    made.append(copy)
    return copy


def numpy_replacements() -> list[tuple[Any, str, Any]]:
    """(module, name, replacement): ``numpy.max``/``min``/``amax``/``amin`` of an object
    array call the array's method (watched) instead of the ufunc reduction (not watched)."""
    np = sys.modules.get("numpy")
    if np is None or not hasattr(np, "ndarray"):
        return []
    out: list[tuple[Any, str, Any]] = []
    for name, method in (("max", "max"), ("min", "min"), ("amax", "max"), ("amin", "min")):
        original = getattr(np, name, None)
        if original is not None:
            out.append((np, name, _by_method(np, original, method)))
    return out


def _by_method(np: Any, original: Callable[..., Any], method: str) -> Callable[..., Any]:
    def routed(a: Any, *args: Any, **kwargs: Any) -> Any:
        if current() is not None and type(a) in (list, tuple, np.ndarray):
            array = np.asarray(a) if type(a) is not np.ndarray else a
            if array.dtype.kind == "O":
                return getattr(array, method)(*args, **kwargs)
        return original(a, *args, **kwargs)

    routed.__name__ = original.__name__
    routed.__doc__ = original.__doc__
    return routed


@contextlib.contextmanager
def watching_native_selection(recorder: Recorder) -> Iterator[None]:
    """Watch the selecting builtin methods in this thread for the duration of a traced run
    (nothing, when another profiler is installed: it keeps its place)."""
    if sys.getprofile() is not None:
        yield
        return
    watch = NativeWatch(recorder)
    _watch_methods(watch, NAMES)
    installed = sys.getprofile()  # the watcher's own hook (the C one's, or the Python one's)
    try:
        yield
    finally:
        if sys.getprofile() is installed:  # the traced code may have installed its own
            _watch_methods(None, ())


def _py_watch_methods(callback: Callable[..., Any] | None, names: tuple[str, ...]) -> None:
    """The pure twin of the compiled tape's ``watch_methods``: ``callback(kind, index, self,
    frame)`` around every call of a builtin method named ``names[index]`` in this thread
    (a profile hook); ``None`` removes the hook."""
    if not isinstance(names, tuple):
        raise TypeError(f"argument 2 must be tuple, not {type(names).__name__}")
    if callback is None:
        sys.setprofile(None)
        return
    if not callable(callback):
        raise TypeError("watch_methods: callback must be callable or None")
    if len(names) > 8:
        raise ValueError("watch_methods: at most 8 names")
    if not all(isinstance(name, str) for name in names):
        raise TypeError("watch_methods: names must be str")
    if not all(0 < len(name.encode()) < 16 and "\x00" not in name for name in names):
        raise ValueError("watch_methods: names must be 1 to 15 characters")
    index = {name: i for i, name in enumerate(names)}

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        kind = _PY_EVENTS.get(event)
        if kind is not None:
            which = index.get(getattr(arg, "__name__", None))  # type: ignore[arg-type]
            owner = getattr(arg, "__self__", None)
            if which is not None and owner is not None:
                callback(kind, which, owner, frame)

    sys.setprofile(profile)


_watch_methods = accel.tracer_part("tape", "watch_methods", _py_watch_methods)
