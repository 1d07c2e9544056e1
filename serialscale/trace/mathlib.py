"""Math and selection on traced values are recorded, not escaped (issue 13, in part).

While a traced function runs, the functions of :mod:`math` (``sqrt``, ``exp``, ``log``,
``sin``, ``cos``, ``hypot``, ``fsum``, ``prod``...), the builtin ``sum`` and
``statistics.mean`` / ``fmean`` accept traced values: a function of traced numbers is one step
needing the steps behind its arguments, and a reduction records what it really computes,
one step per element after the first, in order (``sum`` of n values is n - 1 additions; its
start value 0 is not an operation). Outside a traced run, and for plain values, they are the
originals.

``max``, ``min`` and ``sorted`` record their comparisons as they make them, and what they
return depends on those comparisons: each chosen value passes through a zero-cost ``select``
step that needs the comparison (a ``max`` of n values is a chain of n - 1 comparisons; a
sorted list, a bottom-up merge sort's comparisons).

They are patched on the modules for the duration of the run (:func:`recording_math`), so code
that calls ``math.sqrt(x)`` or ``sum(xs)`` is covered; a name bound before the run
(``from math import sqrt`` at import time) still holds the original, which converts traced
values to floats: an escape, counted and named in the report's notes.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import statistics
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .values import Traced, current

#: The functions of ``math`` recorded as one step each when an argument is traced.
SCALAR = ("sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
          "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "hypot", "pow", "fabs",
          "copysign", "erf", "erfc", "gamma", "lgamma", "isqrt", "dist", "cbrt")  # fmt: skip

_ORIGINAL_SUM = builtins.sum


def _traced(values: Iterable[Any]) -> bool:
    return any(type(v) is Traced for v in values)


def _scalar(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def recorded(*args: Any) -> Any:
        rec = current()
        flat = [a for arg in args for a in (arg if isinstance(arg, (list, tuple)) else (arg,))]
        if rec is None or rec.paused or not _traced(flat):
            return original(*args)
        plain = [_plain(a) for a in args]
        nodes = [a.node for a in flat if type(a) is Traced]
        return Traced(original(*plain), rec.named(name, nodes))

    recorded.__name__ = name
    recorded.__doc__ = original.__doc__
    return recorded


def _plain(value: Any) -> Any:
    if type(value) is Traced:
        return value.value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _chain(name: str, items: list[Any], combine: Callable[[Any, Any], Any],
           final: Any = None) -> Any:  # fmt: skip
    """A left-to-right reduction: one step per item after the first, each needing the
    previous step and the item; the value is ``final`` when given (e.g. fsum's exact sum)."""
    rec = current()
    assert rec is not None
    value = _plain(items[0])
    node = items[0].node if type(items[0]) is Traced else -1
    for item in items[1:]:
        value = combine(value, _plain(item))
        needs = [n for n in (node, item.node if type(item) is Traced else -1) if n >= 0]
        node = rec.named(name, needs)
    return Traced(final if final is not None else value, node)


def recorded_sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    """``sum``: additions in order, streamed (nothing is materialized); an addition with a
    traced operand is a step, one of plain values is not; the default start 0 is not an
    operation."""
    rec = current()
    if rec is None or rec.paused:
        return _ORIGINAL_SUM(iterable, start)
    skip_start = type(start) is int and start == 0
    value = _plain(start)
    traced = type(start) is Traced  # whether the sum so far is a traced value
    node = start.node if traced else -1
    for item in iterable:
        item_traced = type(item) is Traced
        item_node = item.node if item_traced else -1
        if skip_start:  # the first item is the sum so far
            value, traced, node, skip_start = _plain(item), item_traced, item_node, False
            continue
        value = value + _plain(item)
        if traced or item_traced:  # an addition with a traced operand: one step
            node = rec.named("add", [n for n in (node, item_node) if n >= 0])
            traced = True
    return Traced(value, node) if traced else value


def _fsum(original: Callable[..., Any]) -> Callable[..., Any]:
    def fsum(iterable: Iterable[Any], /) -> Any:
        rec = current()
        items = list(iterable)
        if rec is None or rec.paused or not _traced(items):
            return original(items)
        if len(items) == 1:
            return items[0]
        return _chain("fsum", items, lambda a, b: a + b, final=original(_plain(items)))

    return fsum


def _prod(original: Callable[..., Any]) -> Callable[..., Any]:
    def prod(iterable: Iterable[Any], /, *, start: Any = 1) -> Any:
        rec = current()
        items = list(iterable)
        if rec is None or rec.paused or not (_traced(items) or type(start) is Traced):
            return original(items, start=start)
        if not (start == 1 and type(start) is int):
            items = [start, *items]
        return _chain("mul", items, lambda a, b: a * b)

    return prod


def _mean(original: Callable[..., Any]) -> Callable[..., Any]:
    def mean(data: Iterable[Any], *args: Any) -> Any:
        rec = current()
        items = list(data)
        if rec is None or rec.paused or not _traced(items) or args:
            return original(items, *args)
        if not items:
            return original(items)
        return recorded_sum(items) / len(items)

    mean.__name__ = original.__name__
    return mean


_ORIGINAL_MAX, _ORIGINAL_MIN, _ORIGINAL_SORTED = builtins.max, builtins.min, builtins.sorted
_MISSING = object()


def _compare(rec: Any, a: Any, b: Any, greater: bool, after: int = -1) -> tuple[bool, int]:
    """``a > b`` (or ``a < b``): its truth (read without a control decision) and the step
    that made it (-1 when neither side is traced). ``after`` is the comparison the algorithm
    made just before, whose outcome chose these operands: the step needs it too (control
    dependence inside the algorithm, as written)."""
    plain_a, plain_b = _plain(a), _plain(b)
    result = bool(plain_a > plain_b if greater else plain_a < plain_b)
    if type(a) is not Traced and type(b) is not Traced:
        return result, -1
    nodes = [x.node for x in (a, b) if type(x) is Traced]
    needs = [n for n in (*nodes, after) if n >= 0]
    return result, rec.named("gt" if greater else "lt", needs)


def _select(rec: Any, value: Any, comparison: int) -> Any:
    """``value`` as chosen by a comparison: a zero-cost step needing the comparison and the
    value's own step, so what comes after depends on how the choice was made."""
    if comparison < 0:
        return value
    node = value.node if type(value) is Traced else -1
    needs = [n for n in (comparison, node) if n >= 0]
    return Traced(_plain(value), rec.named("select", needs, 0))


def _extreme(original: Callable[..., Any], greater: bool) -> Callable[..., Any]:
    def extreme(*args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        rec = current()
        items = list(args[0]) if len(args) == 1 else list(args)
        keys = [key(i) for i in items] if key is not None else items
        if rec is None or rec.paused or not _traced([*items, *keys]):
            if len(args) == 1 and default is not _MISSING:
                return original(items, key=key, default=default)
            return original(items, key=key) if key is not None else original(items)
        if not items:
            if default is _MISSING:
                raise ValueError(f"{original.__name__}() iterable argument is empty")
            return default
        # A chain of n - 1 comparisons, as the builtin does them (the first extreme wins ties).
        best, best_key = items[0], keys[0]
        for item, item_key in zip(items[1:], keys[1:], strict=True):
            better, comparison = _compare(rec, item_key, best_key, greater)
            chosen, chosen_key = (item, item_key) if better else (best, best_key)
            best = _select(rec, chosen, comparison)
            best_key = best if key is None else _select(rec, chosen_key, comparison)
        return best

    extreme.__name__ = original.__name__
    return extreme


def recorded_sorted(iterable: Iterable[Any], /, *, key: Any = None, reverse: bool = False) -> Any:
    """``sorted``: a stable merge sort whose every output element depends on the comparisons
    that placed it (the builtin's comparisons would leave the values untouched)."""
    rec = current()
    items = list(iterable)
    keys = [key(i) for i in items] if key is not None else items
    if rec is None or rec.paused or not _traced([*items, *keys]):
        return _ORIGINAL_SORTED(items, key=key, reverse=reverse)
    runs = [[(k, i)] for k, i in zip(keys, items, strict=True)]  # (key, value); with no key
    # function the key is the value itself (the same object)
    while len(runs) > 1:  # bottom-up: merge neighbouring runs, pass after pass
        merged = []
        for a, b in zip(runs[0::2], runs[1::2], strict=False):
            merged.append(_merge(rec, a, b, reverse))
        if len(runs) % 2:
            merged.append(runs[-1])
        runs = merged
    return [value for _, value in runs[0]] if runs else []


def _merge(rec: Any, a: list[tuple[Any, Any]], b: list[tuple[Any, Any]],
           reverse: bool) -> list[tuple[Any, Any]]:  # fmt: skip
    out: list[tuple[Any, Any]] = []
    i = j = 0
    previous = -1  # the last comparison of this merge: it chose the heads compared next
    while i < len(a) and j < len(b):
        # stable: b's head goes first only if it is strictly before a's head
        take_b, comparison = _compare(rec, b[j][0], a[i][0], reverse, previous)
        previous = comparison
        key, value = b[j] if take_b else a[i]
        chosen = _select(rec, value, comparison)
        # the key moves with its value: later comparisons depend on this one
        out.append((chosen if key is value else _select(rec, key, comparison), chosen))
        if take_b:
            j += 1
        else:
            i += 1
    return out + a[i:] + b[j:]


@contextlib.contextmanager
def recording_math() -> Iterator[None]:
    """Patch math, ``sum`` and ``statistics.mean``/``fmean`` for a traced run; restore after."""
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, replacement: Any) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    try:
        for name in SCALAR:
            if hasattr(math, name):
                patch(math, name, _scalar(name, getattr(math, name)))
        patch(math, "fsum", _fsum(math.fsum))
        patch(math, "prod", _prod(math.prod))
        patch(builtins, "sum", recorded_sum)
        patch(statistics, "mean", _mean(statistics.mean))
        patch(statistics, "fmean", _mean(statistics.fmean))
        patch(builtins, "max", _extreme(_ORIGINAL_MAX, greater=True))
        patch(builtins, "min", _extreme(_ORIGINAL_MIN, greater=False))
        patch(builtins, "sorted", recorded_sorted)
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)
