"""Math on traced values is recorded, not escaped (issue 13, in part).

While a traced function runs, the functions of :mod:`math` (``sqrt``, ``exp``, ``log``,
``sin``, ``cos``, ``hypot``, ``fsum``, ``prod``...), the builtin ``sum`` and
``statistics.mean`` / ``fmean`` accept traced values: a function of traced numbers is one step
needing the steps behind its arguments, and a reduction records what it really computes,
one step per element after the first, in order (``sum`` of n values is n - 1 additions; its
start value 0 is not an operation). ``statistics.variance``, ``pvariance``, ``stdev``,
``pstdev``, ``geometric_mean`` and ``harmonic_mean`` return what the originals compute on the
plain values (the unpatched ones built a traced Fraction for float data and recorded
nothing) with the steps of their formula (mean, deviations, squares, sum, division, root).
``median`` and ``quantiles`` go through the recorded ``sorted``; ``mode`` hashes its values
(an escape). Outside a traced run, and for plain values, they are the originals.

Selection (``max``, ``min``, ``sorted``, ``heapq``, ``bisect``) is patched at the same time;
it lives in :mod:`.selection`.

They are patched on the modules for the duration of the run (:func:`recording_math`), so code
that calls ``math.sqrt(x)`` or ``sum(xs)`` is covered; names the target's code bound to the
originals before the run (``from math import sqrt``) are swapped too
(:func:`.api.swapping_bound_names`). ``pow(b, e, m)`` with a traced argument is one step.
"""

from __future__ import annotations

import builtins
import contextlib
import fractions
import math
import statistics
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from .. import accel
from . import selection
from .native_selection import numpy_replacements
from .selection import plain as _plain
from .users import Users, put_back
from .values import TRACED, Traced, current

#: The functions of ``math`` recorded as one step each when an argument is traced.
SCALAR = ("sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
          "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "hypot", "pow", "fabs",
          "copysign", "erf", "erfc", "gamma", "lgamma", "isqrt", "dist", "cbrt")  # fmt: skip

_ORIGINAL_SUM = builtins.sum


def _traced(values: Iterable[Any]) -> bool:
    return any(type(v) in TRACED for v in values)


def _scalar(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def recorded(*args: Any) -> Any:
        rec = current()
        flat = [a for arg in args for a in (arg if isinstance(arg, (list, tuple)) else (arg,))]
        if rec is None or rec.paused or not _traced(flat):
            return original(*args)
        plain = [_plain(a) for a in args]
        nodes = [a.node for a in flat if type(a) in TRACED]
        return Traced(original(*plain), rec.named(name, nodes))

    recorded.__name__ = name
    recorded.__doc__ = original.__doc__
    return recorded


def _plain_fast(name: str, original: Callable[..., Any], recorded: Callable[..., Any]) -> Any:
    """``recorded``, with the compiled tracer's shortcut to ``original`` for calls on plain
    numbers (``_tape.passthrough``: the same result, no Python call per math call)."""
    return _PASSTHROUGH(name, original, recorded)


def _passthrough(name: str, original: Callable[..., Any], fallback: Callable[..., Any]) -> Any:
    """The pure twin of the compiled tape's ``passthrough`` (``original`` for calls on plain
    numbers, else ``fallback``): ``fallback``, which gives the same for plain numbers."""
    if not isinstance(name, str):
        raise TypeError(f"argument 1 must be str, not {type(name).__name__}")
    if not (callable(original) and callable(fallback)):
        raise TypeError("passthrough: original and fallback must be callable")
    return fallback


_PASSTHROUGH = accel.tracer_part("tape", "passthrough", _passthrough)


def _node(value: Any) -> int:
    """The step behind a traced value; -1 for a plain one (or an input)."""
    return value.node if type(value) in TRACED else -1


def _step(rec: Any, name: str, *needs: int) -> int:
    """One step needing the given steps (-1: a plain value, no need)."""
    return rec.named(name, [n for n in needs if n >= 0])


def _chain(name: str, items: list[Any], combine: Callable[[Any, Any], Any],
           final: Any = None) -> Any:  # fmt: skip
    """A left-to-right reduction: one step per item after the first, each needing the
    previous step and the item; the value is ``final`` when given (e.g. fsum's exact sum)."""
    rec = current()
    assert rec is not None
    value = _plain(items[0])
    node = _node(items[0])
    for item in items[1:]:
        value = combine(value, _plain(item))
        node = _step(rec, name, node, _node(item))
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
    traced = type(start) in TRACED  # whether the sum so far is a traced value
    node = start.node if traced else -1
    for item in iterable:
        item_traced = type(item) in TRACED
        item_node = item.node if item_traced else -1
        if skip_start:  # the first item is the sum so far
            value, traced, node, skip_start = _plain(item), item_traced, item_node, False
            continue
        value = value + _plain(item)
        if traced or item_traced:  # an addition with a traced operand: one step
            node = _step(rec, "add", node, item_node)
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
        if rec is None or rec.paused or not (_traced(items) or type(start) in TRACED):
            return original(items, start=start)
        if not (start == 1 and type(start) is int):
            items = [start, *items]
        return _chain("mul", items, lambda a, b: a * b)

    return prod


def _mean(original: Callable[..., Any]) -> Callable[..., Any]:
    """mean and fmean: the value the original computes on the plain numbers (exactly: mean
    sums fractions, fmean rounds once), with the steps of a left-to-right sum and one
    division."""

    def mean(data: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        rec = current()
        items = list(data)
        if rec is None or rec.paused or not _traced(items) or args or kwargs:
            return original(items, *args, **kwargs)
        value = original(_plain(items))  # its errors (no data) first
        node = _step(rec, "truediv", _total(rec, [_node(x) for x in items]))
        return Traced(value, node)

    mean.__name__ = original.__name__
    mean.__doc__ = original.__doc__
    return mean


_ORIGINAL_POW = builtins.pow


def recorded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    """``pow``: with a modulus and a traced argument, one step needing the traced
    arguments' steps (the operators see two arguments only); else the original."""
    rec = current()
    if mod is None or rec is None or rec.paused or not _traced((base, exp, mod)):
        return _ORIGINAL_POW(base, exp, mod)
    value = _ORIGINAL_POW(_plain(base), _plain(exp), _plain(mod))
    return Traced(value, _step(rec, "pow", _node(base), _node(exp), _node(mod)))


def _total(rec: Any, nodes: list[int]) -> int:
    """The additions of a left-to-right sum of values made by these steps: the last one."""
    node = nodes[0]
    for other in nodes[1:]:
        node = _step(rec, "add", node, other)
    return node


def _spread(original: Callable[..., Any], root: bool) -> Callable[..., Any]:
    """variance, pvariance, stdev, pstdev: the value the original computes (exactly), with
    the steps of the two-pass formula: the mean (unless given), each deviation and its
    square, their sum, the division, and for the standard deviations the square root."""

    def spread(data: Iterable[Any], centre: Any = None) -> Any:
        rec = current()
        items = list(data)
        if rec is None or rec.paused or not _traced([*items, centre]):
            return original(items, centre)
        value = original(_plain(items), _plain(centre))  # its errors (n < 2) come first
        if centre is None:
            centre_node = _step(rec, "truediv", _total(rec, [_node(x) for x in items]))
        else:
            centre_node = _node(centre)
        squares = [_step(rec, "mul", _step(rec, "sub", _node(x), centre_node)) for x in items]
        node = _step(rec, "truediv", _total(rec, squares))
        return Traced(value, _step(rec, "sqrt", node) if root else node)

    spread.__name__ = original.__name__
    spread.__doc__ = original.__doc__
    return spread


def _means_of(original: Callable[..., Any], each: str, then: str | None) -> Callable[..., Any]:
    """geometric_mean (log each, sum, divide, exp) and harmonic_mean (reciprocal each, sum,
    divide): the original's value, their steps."""

    def mean(data: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        rec = current()
        items = list(data)
        if rec is None or rec.paused or not _traced(items):
            return original(items, *args, **kwargs)
        value = original(_plain(items), *args, **kwargs)
        total = _total(rec, [_step(rec, each, _node(x)) for x in items])
        node = _step(rec, "truediv", total)
        return Traced(value, _step(rec, then, node) if then else node)

    mean.__name__ = original.__name__
    mean.__doc__ = original.__doc__
    return mean


class _Patches:
    """What :func:`recording_math` put in place, shared by every run going on at once (traced
    runs in several threads): the first run in patches, the last one out restores. Each
    run patching and restoring on its own let a second thread save the first one's
    replacements as "originals" and leave them in place after both ended."""

    lock: ClassVar[threading.Lock] = threading.Lock()
    users: ClassVar[Users] = Users()
    saved: ClassVar[list[tuple[Any, str, Any]]] = []
    swaps: ClassVar[dict[int, tuple[Any, Any]]] = {}


@contextlib.contextmanager
def recording_math() -> Iterator[dict[int, tuple[Any, Any]]]:
    """Patch math, ``sum``, ``pow``, ``statistics``' means and spreads,
    ``fractions.Fraction``'s constructor and the selecting functions of :mod:`.selection`
    for a traced run; restore them after (when no other traced run is using them). Yields
    ``id(original) -> (original, replacement)`` for every function replaced, so that names
    bound to the originals before the run can be swapped too
    (:func:`.api.swapping_bound_names`)."""
    with _Patches.lock:
        if not _Patches.users.any():
            _restore(_Patches.saved)  # what an interrupted run may have left in place
            _Patches.swaps = {}
            try:
                _patch_all(_Patches.saved, _Patches.swaps)
            except BaseException:
                _restore(_Patches.saved)
                raise
        run = _Patches.users.join()
        swaps = _Patches.swaps
    try:
        yield swaps
    finally:
        with _Patches.lock:
            _Patches.users.leave(run)
            if not _Patches.users.any():
                _restore(_Patches.saved)
                _Patches.swaps = {}


def _restore(saved: list[tuple[Any, str, Any]]) -> None:
    """The originals back, last patched first; ``saved`` is empty after."""
    put_back(saved, lambda entry: setattr(entry[0], entry[1], entry[2]))


def _patch_all(saved: list[tuple[Any, str, Any]], swaps: dict[int, tuple[Any, Any]]) -> None:
    """Put every replacement in place, recording what it replaced in ``saved`` and
    ``swaps``."""

    def patch(owner: Any, name: str, replacement: Any) -> None:
        original = getattr(owner, name)
        saved.append((owner, name, original))
        swaps[id(original)] = (original, replacement)
        setattr(owner, name, replacement)

    for name in SCALAR:
        if hasattr(math, name):
            original = getattr(math, name)
            patch(math, name, _plain_fast(name, original, _scalar(name, original)))
    patch(math, "fsum", _fsum(math.fsum))
    patch(math, "prod", _prod(math.prod))
    patch(builtins, "sum", selection.compiled("sum", _ORIGINAL_SUM, recorded_sum))
    patch(builtins, "pow", recorded_pow)
    patch(statistics, "mean", _mean(statistics.mean))
    patch(statistics, "fmean", _mean(statistics.fmean))
    for name in ("variance", "pvariance", "stdev", "pstdev"):
        patch(statistics, name, _spread(getattr(statistics, name), root="stdev" in name))
    patch(statistics, "geometric_mean", _means_of(statistics.geometric_mean, "log", "exp"))
    patch(statistics, "harmonic_mean", _means_of(statistics.harmonic_mean, "truediv", None))
    for owner, name, replacement in [*selection.replacements(), *numpy_replacements()]:
        patch(owner, name, replacement)
    # Fraction's __new__ as the class holds it (a staticmethod), so that restoring it
    # puts back exactly what was there
    saved.append((fractions.Fraction, "__new__", fractions.Fraction.__dict__["__new__"]))
    fractions.Fraction.__new__ = staticmethod(_fraction_new)  # type: ignore[method-assign]


_ORIGINAL_FRACTION_NEW = fractions.Fraction.__new__


def _fraction_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``Fraction(x)``, ``Fraction(x, y)`` of traced numbers: the exact fraction, as one step
    needing theirs (the constructor refuses anything that is not a number it knows, so a
    traced int or float could not even be converted)."""
    rec = current()
    if rec is None or rec.paused or not any(type(a) in TRACED for a in args):
        return _ORIGINAL_FRACTION_NEW(cls, *args, **kwargs)
    value: Any = _ORIGINAL_FRACTION_NEW(cls, *(_plain(a) for a in args), **kwargs)
    nodes = [a.node for a in args if type(a) in TRACED and a.node >= 0]
    return Traced(value, rec.named("Fraction", nodes))
