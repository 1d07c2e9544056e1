"""The tracing API: inputs, tasks, op calls, and running a function under a recorder."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from ..defaults import DEFAULT_MAX_OPS
from ..graph import Cost
from .recorder import NO_STEP, Recorder
from .values import Traced, _active, current

F = TypeVar("F", bound=Callable[..., Any])


def input(value: Any) -> Traced:
    """One traced input wrapping ``value``. Inputs are ready at time 0 and are not steps."""
    return Traced(value, NO_STEP)


def inputs(values: Iterable[Any]) -> list[Traced]:
    """A list of traced inputs, one per item of ``values``."""
    return [Traced(v, NO_STEP) for v in values]


def _collect(obj: Any, nodes: list[int]) -> Any:
    """Append the steps behind every traced value in ``obj`` (nested in lists, tuples, dicts
    and sets) to ``nodes``, and return ``obj`` with traced values replaced by their values.
    """
    kind = type(obj)
    if kind is Traced:
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
    return Traced(result, rec.named(name, nodes, step_cost))


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
    from .native_selection import watching_native_selection

    recorder = Recorder(control, max_ops)
    token = _active.set(recorder)
    try:
        with recording_math(), watching_native_selection(recorder):
            result = fn(**params)
    finally:
        _active.reset(token)
        recorder.release_frames()
    return Trace(recorder, result)
