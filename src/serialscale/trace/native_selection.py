"""Selection by builtin methods: ``list.sort``, and numpy's ``sort``, ``max`` and ``min`` on
object arrays. What they choose depends on the comparisons they made (issue 13).

These are methods of builtin types, which the traced code reaches through the type (not
through names that can be swapped, like ``sorted`` or ``max``: :mod:`.selection`). So while
a traced run is on, the type's own dict holds a wrapper in place of each (``list.sort``;
``numpy.ndarray.sort``/``max``/``min`` when numpy is imported, before the run or during it:
a finder first on ``sys.meta_path`` swaps them as soon as numpy's package has run), and the
originals are put back when the last run ends, however it ends (a return, an exception,
KeyboardInterrupt); an entry something else replaced meanwhile is left as it is. The
methods are swapped once for all runs going on (:class:`.users.Users`: runs in several
threads, a run inside a run); each thread that runs one has its own watch, innermost run
first. The wrapper calls the original; in a thread that has a watch on, it reports to the run's
:class:`NativeWatch` when the call starts and ends, and the recorder does three things:

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

The compiled wrapper (``_tape.method_watch``) is a C method descriptor: ``lst.sort()``
stays a plain method call, ``list.sort(lst)`` and ``f = lst.sort; f()`` are watched alike,
and introspection (``__name__``, ``__doc__``, ``inspect.signature``) sees the original. No
profile function is installed: on CPython 3.11 any profile function puts the interpreter in
its tracing mode, every instruction of the traced code unspecialised (that cost 25-35% of
recording). The pure-Python twin swaps the same dict entries (the dict behind
``cls.__dict__``, then ``PyType_Modified`` through ctypes) for a Python function, which
calls the original through a small function compiled as if at the caller's file and line,
with the caller's globals, so that the method's comparisons are named, kept or handed plain
as the compiled wrapper (which makes no frame) has them; in frame mode that function's
frame carries its caller's decision, and neither of the two frames stores anything (the
scoped watcher looks through them). The two tracers record the same steps (tested).

Watched: these methods called from Python code or from C code (``map(list.sort, rows)``),
under another profiler (``sys.setprofile``, cProfile), in every thread that runs a traced
run (each its own). ``numpy.max``/``min``/``amax``/``amin`` of an object array are routed
to the array's method during the run when numpy was imported before it started (a
module-level import). Not watched: in threads the traced function starts (they have no
recorder), ``np.maximum.reduce`` called directly, ``argmax``/``argsort`` (they return
positions, not values), and traced values inside lists or other objects being sorted (only
traced values and tuples of them are copied in: a list or a record is the user's own mutable
object; their comparisons are recorded all the same). A profiler running during the run no
longer sees these methods as calls of builtins (no ``c_call`` events: the wrapper is not one).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import mmap
import sys
import threading
from array import array
from collections.abc import Callable, Iterator
from types import CodeType, FrameType, FunctionType, ModuleType
from typing import Any

from .. import accel
from .recorder import NO_STEP, Recorder, tests_bool_identity
from .selection import _nodes, _select
from .users import Run, Users, put_back
from .values import COMPARISONS, TRACED, Traced, current

#: The events the watched methods report.
STARTS, RETURNS, RAISES = 0, 1, 2


class _Call:
    """One watched call in progress: its container, where its steps begin, its caller's
    frame, and the copies made for the container's values (with their positions)."""

    __slots__ = ("container", "frame", "made", "originals", "placed", "positions", "sorts",
                 "start")  # fmt: skip

    def __init__(self, container: Any, sorts: bool, frame: FrameType, positions: list[Any],
                 originals: list[Any]) -> None:  # fmt: skip
        self.container = container
        self.sorts = sorts  # True: sorts in place; False: returns what it picks
        self.frame = frame
        self.positions = positions
        self.originals = originals  # the values at those positions when the call started
        self.placed: list[Any] = []  # what was put at those positions for the call
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
    """What the watched methods call: ``watch(event, which, self, the calling frame)``."""

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
            _give_back(call)
        call.placed = []  # (its references would count as the result's: see _finished)
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
            values = list(container)
        else:  # an ndarray: object arrays only; its values in C order, as _ndindex goes
            if container.dtype.kind != "O" or not container.flags.writeable:
                return None
            values = container.ravel().tolist()
        # which types are there, at C speed first: a plain list or array (sorted in traced
        # code as often as not) costs a pass, not a Python call per value
        kinds = set(map(type, values))
        if kinds.isdisjoint(TRACED) and tuple not in kinds:
            return None
        if not any(_nodes(v) for v in values):
            return None
        positions: list[Any] = (list(range(len(values))) if type(container) is list
                                else list(_ndindex(container.shape)))  # fmt: skip
        call = _Call(container, sorts, frame, positions, values)
        for position, value in zip(positions, values, strict=True):
            entered = _enter(rec, value, call.made)
            call.placed.append(entered)
            container[position] = entered
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


def _give_back(call: _Call) -> None:
    """The container's values before the call, where the call left what was put there: a
    position it wrote (its result, with ``out=`` a view of the container) keeps what it
    wrote, as in a plain run."""
    container = call.container
    for position, original, placed in zip(call.positions, call.originals, call.placed,
                                          strict=True):  # fmt: skip
        if container[position] is placed:
            container[position] = original


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
    """Watch the selecting builtin methods in this thread for the duration of a traced run:
    their type dicts hold watching wrappers while any run is on (in any thread), and this
    thread's watch calls this run's :class:`NativeWatch`. Whatever ends the run (a return,
    an exception, KeyboardInterrupt), the thread's previous watch and, after the last run,
    the original methods are back."""
    watch = NativeWatch(recorder)
    run = _swap_in()
    try:
        stack = _stacks.setdefault(threading.get_ident(), [])
        try:
            stack.append(watch)  # (in the try: an interrupt just after it still takes it off)
            _watch_methods(watch, NAMES)
            yield
        finally:
            if watch in stack:  # (by identity: a NativeWatch equals only itself)
                stack.remove(watch)
            if stack:
                _watch_methods(stack[-1], NAMES)
            else:
                _watch_methods(None, ())
                _stacks.pop(threading.get_ident(), None)
    finally:
        _swap_out(run)


# --- the swap: wrappers in the type dicts, while any run is on ---

#: Guards the swap's bookkeeping (runs start and end in any thread).
_lock = threading.RLock()
#: The runs watching now, in all threads: the methods are swapped while there is one.
_runs = Users()
#: What was swapped: (type, name, the wrapper put there, the original taken out).
_swapped: list[tuple[type, str, Any, Any]] = []
#: Each thread's watches, innermost run last (a run started inside a traced run).
_stacks: dict[int, list[NativeWatch]] = {}


def _swap_in() -> Run:
    """One more run (its token, for :func:`_swap_out`): the first swaps the methods of
    ``list`` and (imported) numpy's ``ndarray``, and puts :data:`_FINDER` first on
    ``sys.meta_path``, after restoring what an interrupted run may have left swapped."""
    with _lock:
        if not _runs.any():
            _restore()
            try:
                _swap_type(list)
                _swap_numpy()
                sys.meta_path.insert(0, _FINDER)
            except BaseException:
                _restore()
                raise
        return _runs.join()


def _swap_out(run: Run) -> None:
    """One run fewer: after the last, the originals are back and the finder gone."""
    with _lock:
        _runs.leave(run)
        if not _runs.any():
            _restore()


def _swap_type(cls: type, names: tuple[str, ...] = NAMES) -> None:
    """Put a watching wrapper in ``cls``'s dict in place of each method named ``names``."""
    if any(kind is cls for kind, _, _, _ in _swapped):
        return
    for name in names:
        original = cls.__dict__.get(name)
        if original is not None:
            wrapper = _method_watch(original, name)
            _swap_method(cls, name, wrapper)
            _swapped.append((cls, name, wrapper, original))


def _swap_numpy() -> None:
    """Swap ``ndarray.sort``/``max``/``min`` if numpy is imported."""
    ndarray = getattr(sys.modules.get("numpy"), "ndarray", None)
    if isinstance(ndarray, type):
        _swap_type(ndarray)


def _restore() -> None:
    """Put the originals back, where the type's dict still holds the wrapper put there (an
    entry something else replaced in the meantime is left as it is), and take the finder
    off ``sys.meta_path``."""
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_FINDER)
    put_back(_swapped, _unswap)


def _unswap(entry: tuple[type, str, Any, Any]) -> None:
    """The original of one entry of :data:`_swapped` back, if the wrapper is still there."""
    cls, name, wrapper, original = entry
    if cls.__dict__.get(name) is wrapper:
        _swap_method(cls, name, original)


class _NumpyFinder:
    """First on ``sys.meta_path`` while runs are on: numpy imported during a run (a first
    ``import numpy`` inside the traced function) has its ``ndarray`` methods swapped as soon
    as its package has run. It finds nothing itself: the spec the other finders give, with a
    loader that swaps after executing the module."""

    def __init__(self) -> None:
        self.busy = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "numpy" or self.busy:
            return None
        self.busy = True  # the finders asked below may ask the meta path again
        try:
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                spec = find(name, path, target) if finder is not self and find else None
                if spec is not None:
                    break
            else:
                return None
        finally:
            self.busy = False
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _SwappingLoader(spec.loader)
        return spec


class _SwappingLoader:
    """A loader that runs the real one's ``exec_module``, gives the module the real loader
    back, and swaps numpy's methods if runs are on."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            self.loader.exec_module(module)
        finally:
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader
        with _lock:
            if _runs.any():
                _swap_numpy()


_FINDER = _NumpyFinder()


# --- the compiled parts and their pure twins ---


def _py_watch_methods(callback: Callable[..., Any] | None, names: tuple[str, ...]) -> None:
    """The pure twin of the compiled tape's ``watch_methods``: in this thread, the wrappers
    (:func:`_py_method_watch`) named ``names[index]`` call ``callback(kind, index, self,
    frame)`` around the original; ``None`` stops."""
    if not isinstance(names, tuple):
        raise TypeError(f"argument 2 must be tuple, not {type(names).__name__}")
    if callback is None:
        _py_watches.pop(threading.get_ident(), None)
        return
    if not callable(callback):
        raise TypeError("watch_methods: callback must be callable or None")
    if len(names) > 8:
        raise ValueError("watch_methods: at most 8 names")
    if not all(isinstance(name, str) for name in names):
        raise TypeError("watch_methods: names must be str")
    if not all(0 < len(name.encode()) < 16 and "\x00" not in name for name in names):
        raise ValueError("watch_methods: names must be 1 to 15 characters")
    _py_watches[threading.get_ident()] = (callback, names)


#: Each thread's watch (pure twin): (callback, names).
_py_watches: dict[int, tuple[Callable[..., Any], tuple[str, ...]]] = {}

#: The pure wrapper's frame is named so (not serialscale's file): the scoped watcher and the
#: recorder look through it to the caller, as they do where the compiled wrapper has none.
_WRAPPER_FILE = "<serialscale watched method>"


def _py_method_watch(original: Callable[..., Any], name: str) -> Callable[..., Any]:
    """The pure twin of the compiled ``method_watch``: a function that calls ``original``,
    watched in the threads that have a watch on.

    The compiled wrapper makes no Python frame, so the comparisons the method makes are
    recorded at its caller's line. This one calls the original through a small function
    compiled as if at the caller's file and line (:func:`_call_site`) to the same effect.
    Neither of the two frames stores anything, and this one's file is not serialscale's:
    the scoped watcher, which watches opcode by opcode the calls made while a decision is
    in force, looks through them as it does through the compiled wrapper."""
    if not callable(original):
        raise TypeError("method_watch: the original must be callable")
    if not isinstance(name, str):
        raise TypeError(f"argument 2 must be str, not {type(name).__name__}")
    watches, ident, getframe = _py_watches, threading.get_ident, sys._getframe

    def watched(*args: Any, **kwargs: Any) -> Any:
        if not args or ident() not in watches or name not in watches[ident()][1]:
            return original(*args, **kwargs)
        try:
            return _call_site(getframe(1))(
                watches[ident()], name, original, args, kwargs, getframe(1), _py_started,
                _py_returned, getframe)  # fmt: skip
        except BaseException:
            _py_raised(getframe(0))
            raise

    watched.__code__ = watched.__code__.replace(co_filename=_WRAPPER_FILE)
    return functools.update_wrapper(watched, original, assigned=_FORWARDED, updated=())


#: What the wrappers show of the original (the compiled one forwards every attribute).
_FORWARDED = ("__module__", "__name__", "__qualname__", "__doc__", "__text_signature__",
              "__objclass__")  # fmt: skip

_CALL_SITE = compile(
    "def watched_call(watch, name, original, args, kwargs, caller, started, returned, "
    "getframe): return returned(started(watch, name, args[0], caller, getframe()), "
    "original(*args, **kwargs))",
    _WRAPPER_FILE,
    "exec",
)
_CALL_SITE_CODE: CodeType = next(c for c in _CALL_SITE.co_consts if isinstance(c, CodeType))
_call_sites: dict[tuple[str, int, bool], CodeType] = {}
_tests_identity: dict[CodeType, bool] = {}
#: Each thread's watched calls in progress (pure twin), innermost last: the wrapper's frame,
#: the callback, the name's index, the instance and the caller's frame.
_py_open: dict[int, list[tuple[FrameType | None, Callable[..., Any], int, Any, FrameType]]] = {}


def _call_site(caller: FrameType) -> Callable[..., Any]:
    """The function the pure wrapper calls the original through, as if at ``caller``'s file
    and line, with its globals: the comparisons the method makes are named by that line,
    and their bools are kept or handed plain as the caller's would be
    (``Recorder.hands_plain``: its module, and whether its code tests bools by identity:
    ``is_`` among the names says so)."""
    code = caller.f_code
    identity = _tests_identity.get(code)
    if identity is None:
        identity = _tests_identity[code] = tests_bool_identity(code)
    key = (code.co_filename, caller.f_lineno or 1, identity)
    made = _call_sites.get(key)
    if made is None:
        names = _CALL_SITE_CODE.co_names + (("is_",) if identity else ())
        made = _call_sites[key] = _CALL_SITE_CODE.replace(
            co_filename=key[0], co_firstlineno=key[1], co_names=names
        )
    return FunctionType(made, caller.f_globals)


def _py_started(watch: tuple[Callable[..., Any], tuple[str, ...]], name: str, owner: Any,
                caller: FrameType, frame: FrameType) -> None:  # fmt: skip
    """The start of a watched call (pure twin), from ``frame``, the call-site function. In
    frame mode, that frame has its caller's decision: the steps the method makes there need
    what the caller's would."""
    callback, which = watch[0], watch[1].index(name)
    rec = current()
    if rec is not None and rec.frames:
        entry = rec.frames.get(id(caller))
        if entry is not None and entry[0] is caller:
            rec.frames[id(frame)] = (frame, entry[1])
    callback(STARTS, which, owner, frame)
    # started: it ends with a RETURNS or RAISES event (not when the callback raised)
    _py_open.setdefault(threading.get_ident(), []).append(
        (frame.f_back, callback, which, owner, caller)
    )


def _py_returned(_: None, result: Any) -> Any:
    """The end of the innermost watched call, which returned ``result`` (pure twin)."""
    _wrapper, callback, which, owner, caller = _py_open[threading.get_ident()].pop()
    callback(RETURNS, which, owner, caller)
    return result


def _py_raised(wrapper: FrameType) -> None:
    """An exception leaves the pure wrapper running in frame ``wrapper``: the end of its
    watched call if it started and did not end (pure twin)."""
    calls = _py_open.get(threading.get_ident())
    if calls and calls[-1][0] is wrapper:
        _wrapper, callback, which, owner, caller = calls.pop()
        callback(RAISES, which, owner, caller)


def _py_swap_method(cls: type, name: str, value: Any) -> Any:
    """The pure twin of the compiled ``swap_method``: put ``value`` in ``cls``'s own dict
    under ``name`` (which must be there); the value it replaces. The dict is the one behind
    ``cls.__dict__`` (read-only for builtin types: the proxy's referent), then
    ``PyType_Modified`` (through ctypes) drops the type's attribute cache."""
    if not isinstance(cls, type):
        raise TypeError(f"argument 1 must be type, not {type(cls).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"argument 2 must be str, not {type(name).__name__}")
    found = gc.get_referents(cls.__dict__)
    if len(found) != 1 or type(found[0]) is not dict:
        raise TypeError("swap_method: a type without a dict")
    own: dict[str, Any] = found[0]
    old = own[name]
    own[name] = value
    _type_modified(cls)
    return old


@functools.cache
def _type_modified_function() -> Any:
    import ctypes

    modified = ctypes.pythonapi.PyType_Modified
    modified.argtypes = [ctypes.py_object]
    modified.restype = None
    return modified


def _type_modified(cls: type) -> None:
    _type_modified_function()(cls)


_watch_methods = accel.tracer_part("tape", "watch_methods", _py_watch_methods)
_method_watch = accel.tracer_part("tape", "method_watch", _py_method_watch)
_swap_method = accel.tracer_part("tape", "swap_method", _py_swap_method)
