"""The tracing API: inputs, tasks, op calls, and running a function under a recorder."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar, overload

from .. import accel
from ..base.defaults import DEFAULT_MAX_OPS
from ..core.graph import Cost
from .recorder import NO_STEP, Recorder
from .users import Run, Users
from .values import TRACED, Traced, ValueBase, _active, current

F = TypeVar("F", bound=Callable[..., Any])


def input(value: Any) -> Any:
    """One traced input wrapping ``value``. Inputs are ready at time 0 and are not steps.

    A numpy array becomes a traced array (:mod:`serialscale.trace.arrays`): its operations
    are recorded one step per array operation, with work and span from the cost table.
    """
    if _is_ndarray(value):
        from .arrays import traced

        return traced(value)
    return Traced(value, NO_STEP)


def inputs(values: Iterable[Any]) -> list[Any]:
    """A list of traced inputs, one per item of ``values`` (see :func:`input`)."""
    return _inputs(values, input)


def _pure_inputs(values: Iterable[Any], one: Callable[[Any], Any]) -> list[Any]:
    """The pure twin of the compiled tape's ``inputs``: ``[one(v) for v in values]``, with a
    plain int, float or bool made a traced value of no step here (what :func:`input` gives
    for it) without the call."""
    if not callable(one):
        raise TypeError("inputs: one must be callable")
    out = []
    for v in values:
        if type(v) in _PLAIN_NUMBERS:
            t = _new(Traced)
            t.value = v
            t.node = NO_STEP
            out.append(t)
        else:
            out.append(one(v))
    return out


_PLAIN_NUMBERS = frozenset((int, float, bool))
_new = ValueBase.__new__  # no __init__ call: the fields are set here
_inputs = accel.tracer_part("tape", "inputs", _pure_inputs)


def _is_ndarray(value: Any) -> bool:
    """Whether ``value`` is a numpy array (numpy is never imported here: a value can only
    be one if numpy is loaded already)."""
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray)


def _collect(obj: Any, nodes: list[int]) -> Any:
    """Append the steps behind every traced value in ``obj`` (nested in lists, tuples, dicts
    and sets) to ``nodes``, and return ``obj`` with traced values replaced by their values.
    """
    kind = type(obj)
    if kind in TRACED or isinstance(obj, Traced):  # a traced array is a Traced too
        nodes.append(obj.node)
        return obj.value
    if kind in (list, tuple, set, frozenset):
        return kind(_collect(item, nodes) for item in obj)
    if kind is dict:
        return {_collect(k, nodes): _collect(v, nodes) for k, v in obj.items()}
    return obj


def _call(name: str, fn: Callable[..., Any], args: tuple, kwargs: dict, cost: Any) -> Any:
    rec = current()
    if rec is None or rec.paused:
        return fn(*args, **kwargs)
    nodes: list[int] = []
    plain_args = _collect(args, nodes)
    plain_kwargs = _collect(kwargs, nodes)
    rec.paused += 1
    started = time.perf_counter()
    try:
        result = fn(*plain_args, **plain_kwargs)
    finally:
        elapsed = time.perf_counter() - started
        rec.paused -= 1
    step_cost: Cost = elapsed if cost == "measured" else cost
    if cost == "measured":
        rec.measured += 1
    step = rec.named(name, nodes, step_cost)
    if _is_ndarray(result):  # an array result stays an array: its operations are recorded
        from .arrays import traced

        return traced(result, step)
    return Traced(result, step)


def _check_cost(cost: Any) -> None:
    if cost == "measured":
        return
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not 0 <= cost < float("inf"):
        raise ValueError(f"cost must be a finite number >= 0 or 'measured', got {cost!r}")


@overload
def task(fn: F) -> F: ...
@overload
def task(*, cost: Cost | str = 1, name: str | None = None) -> Callable[[F], F]: ...


def task(fn: Any = None, *, cost: Any = 1, name: str | None = None) -> Any:
    """Mark a function as one coarse-grained step, like ``dask.delayed`` but run eagerly.

    Each call while tracing is one step of cost ``cost`` (default 1; ``"measured"`` = the call's
    wall-clock seconds). It needs the steps behind every traced value in its arguments (inside
    lists, tuples, dicts and sets too) and returns a traced value wrapping the real result.
    Nothing inside the body is recorded. Outside a traced run it is the plain function.
    """
    _check_cost(cost)

    def wrap(func: F) -> F:
        label = name or func.__name__

        @functools.wraps(func)
        def traced(*args: Any, **kwargs: Any) -> Any:
            return _call(label, func, args, kwargs, cost)

        traced.__serialscale_task__ = True  # type: ignore[attr-defined]
        return traced  # type: ignore[return-value]

    return wrap(fn) if fn is not None else wrap


def op(fn: Callable[..., Any], *args: Any, cost: Cost = 1) -> Any:
    """Record one call ``fn(*args)`` of any function (``math.sqrt``...) as a step."""
    _check_cost(cost)
    label = getattr(fn, "__name__", None) or type(fn).__name__
    return _call(label, fn, args, {}, cost)


#: How many functions :func:`swapping_bound_names` looks into at most (a module's own).
_MOST_FUNCTIONS = 10_000


def _own_functions(fn: Any) -> list[types.FunctionType]:
    """The target and the functions it can reach by name in its own code: its module's
    functions (and the methods of classes defined there), and functions in closures."""
    start = inspect.unwrap(getattr(fn, "__func__", fn))
    if not isinstance(start, types.FunctionType):
        start = vars(type(fn)).get("__call__")  # a callable object: its method
        start = getattr(start, "__func__", start)
        if not isinstance(start, types.FunctionType):
            return []
    seen: dict[int, types.FunctionType] = {}
    scanned: set[int] = set()  # the module namespaces looked through
    todo = [start]
    while todo and len(seen) < _MOST_FUNCTIONS:
        f = todo.pop()
        if id(f) in seen or f.__globals__.get("__name__", "").startswith("serialscale"):
            continue  # serialscale's own modules hold the originals on purpose
        seen[id(f)] = f
        for cell in f.__closure__ or ():
            with contextlib.suppress(ValueError):  # an empty cell
                todo.extend(_functions_in(cell.cell_contents))
        if id(f.__globals__) not in scanned:
            scanned.add(id(f.__globals__))
            for value in list(f.__globals__.values()):
                todo.extend(g for g in _functions_in(value) if g.__globals__ is f.__globals__)
    return list(seen.values())


def _functions_in(value: Any) -> list[types.FunctionType]:
    if isinstance(value, types.FunctionType):
        return [value]
    if isinstance(value, type):
        found = []
        for member in list(vars(value).values()):
            member = getattr(member, "__func__", member)  # staticmethod, classmethod
            if isinstance(member, types.FunctionType):
                found.append(member)
        return found
    return []


class _Slot:
    """One place that holds a patched original by a name bound before the run (a module's
    global, a keyword default, a closure cell, a function's defaults), swapped for the
    recorded version. Shared by the traced runs going on at once (threads): the first run
    swaps, the last one out puts the original back (each run restoring on its own let the
    first to finish take the recorded version away from the others mid-run)."""

    __slots__ = ("get", "original", "put", "replacement", "users")

    def __init__(self, get: Callable[[], Any], put: Callable[[Any], None], original: Any,
                 replacement: Any) -> None:  # fmt: skip
        self.get, self.put = get, put
        self.original, self.replacement = original, replacement
        self.users = Users()

    def restore(self) -> None:
        """The original back, where the replacement still is (else a run rebound the name:
        its own doing)."""
        with contextlib.suppress(ValueError):  # an emptied cell
            if self.get() is self.replacement:
                self.put(self.original)


_slots_lock = threading.Lock()
#: (id(holder), what) -> the slot swapped now; holders stay alive while their slot is here
_slots: dict[tuple[int, str], tuple[Any, _Slot]] = {}


def _take(holder: Any, what: str, get: Callable[[], Any], put: Callable[[Any], None],
          replacement_for: Callable[[Any], Any]) -> tuple[tuple[int, str], Run] | None:  # fmt: skip
    """Swap the value ``get()`` gives for ``replacement_for(value)`` (``None``: leave it),
    or join the run that already did; the key and the run's token for :func:`_give_back`,
    or ``None``."""
    key = (id(holder), what)
    with _slots_lock:
        found = _slots.get(key)
        if found is not None and found[0] is holder:
            if found[1].users.any():
                # another run swapped it (and may have rebound it since: its own doing): join
                # it, so that the last run out restores, never one in the middle
                return key, found[1].users.join()
            # swapped by runs that were interrupted (see .users): the original back first
            found[1].restore()
            del _slots[key]
        value = get()
        replacement = replacement_for(value)
        if replacement is None:
            return None
        slot = _Slot(get, put, value, replacement)
        _slots[key] = (holder, slot)
        run = slot.users.join()
        put(replacement)
        return key, run


def _restore_stale() -> None:
    """Give back the names no run uses any more but an interrupted one (see .users)."""
    with _slots_lock:
        for key, (_, slot) in list(_slots.items()):
            if not slot.users.any():
                slot.restore()
                del _slots[key]


def _give_back(key: tuple[int, str], run: Run) -> None:
    with _slots_lock:
        found = _slots.get(key)
        if found is None:  # (given back already: by a later run, after an interruption)
            return
        slot = found[1]
        slot.users.leave(run)
        if not slot.users.any():
            slot.restore()
            del _slots[key]


@contextlib.contextmanager
def swapping_bound_names(fn: Any, swaps: dict[int, tuple[Any, Any]]) -> Iterator[None]:
    """For the duration of a traced run, the recorded versions of the patched functions
    (``swaps``: ``id(original) -> (original, replacement)``) wherever the target's code holds
    the originals by a name bound before the run: its module's globals (``from heapq import
    heappush``), closures and the defaults of its module's functions (``def f(func=max)``).
    Restored after, also on an exception, where the run left the replacement in place, once
    no other traced run (another thread) is using it."""
    taken: list[tuple[tuple[int, str], Run]] = []

    def swapped(value: Any) -> Any:
        found = swaps.get(id(value))
        return found[1] if found is not None and found[0] is value else None

    def defaults_swapped(old: Any) -> Any:
        if not old or not any(swapped(d) is not None for d in old):
            return None
        return tuple(swapped(d) or d for d in old)

    # originals and recorded versions by id: a value that is neither is passed over without
    # taking the lock (a module may hold thousands of names)
    known = {id(v) for pair in swaps.values() for v in pair}

    def take(holder: Any, what: str, get: Callable[[], Any], put: Callable[[Any], None],
             replacement_for: Callable[[Any], Any] = swapped) -> None:  # fmt: skip
        joined = _take(holder, what, get, put, replacement_for)
        if joined is not None:
            taken.append(joined)

    _restore_stale()  # (before the originals are looked for: an interrupted run's names)
    try:
        namespaces: dict[int, dict[str, Any]] = {}
        for f in _own_functions(fn):
            namespaces[id(f.__globals__)] = f.__globals__
            for cell in f.__closure__ or ():
                with contextlib.suppress(ValueError):  # an empty cell
                    if id(cell.cell_contents) in known:
                        take(cell, "cell", functools.partial(getattr, cell, "cell_contents"),
                             functools.partial(setattr, cell, "cell_contents"))  # fmt: skip
            if any(id(d) in known for d in f.__defaults__ or ()) or ((id(f), "defaults") in _slots):
                take(f, "defaults", functools.partial(getattr, f, "__defaults__"),
                     functools.partial(setattr, f, "__defaults__"), defaults_swapped)  # fmt: skip
            keywords = f.__kwdefaults__ or {}
            for name, value in list(keywords.items()):
                if id(value) in known:
                    take(keywords, name, functools.partial(keywords.get, name),
                         functools.partial(keywords.__setitem__, name))  # fmt: skip
        for namespace in namespaces.values():
            for name, value in list(namespace.items()):
                if id(value) in known:
                    take(namespace, name, functools.partial(namespace.get, name),
                         functools.partial(namespace.__setitem__, name))  # fmt: skip
        yield
    finally:
        for key, run in reversed(taken):
            _give_back(key, run)


@contextlib.contextmanager
def _scoped(recorder: Recorder) -> Iterator[None]:
    """The scope watcher of ``--control scoped`` for the run (nothing in other modes)."""
    if recorder.control != "scoped":
        yield
        return
    from .scopes import watching_scopes

    with watching_scopes(recorder) as watch:
        recorder.scopes = watch
        yield


class Trace:
    """What one traced run left: the recorder and the function's return value."""

    def __init__(self, recorder: Recorder, result: Any) -> None:
        self.recorder = recorder
        self.result = result


def run_traced(
    fn: Callable[..., Any],
    params: dict[str, Any],
    control: str = "dataflow",
    max_ops: int = DEFAULT_MAX_OPS,
) -> Trace:
    """Call ``fn(**params)`` once with a fresh recorder active; exceptions propagate (past
    ``max_ops`` recorded operations: :class:`~serialscale.trace.recorder.TooManyOperations`)."""
    from .mathlib import recording_math
    from .memory import ready_while_recording
    from .native_selection import watching_native_selection

    recorder = Recorder(control, max_ops)
    token = _active.set(recorder)
    try:
        with ready_while_recording(recorder), recording_math() as swaps, \
                swapping_bound_names(fn, swaps), watching_native_selection(recorder), \
                _scoped(recorder):  # fmt: skip
            result = fn(**params)
        recorder.flush()  # the arrays hold every step once the run is over
    finally:
        _active.reset(token)
        recorder.release_frames()
        recorder.scopes = None
    return Trace(recorder, result)
