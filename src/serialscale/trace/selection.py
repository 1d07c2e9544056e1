"""Selection on traced values is a dependency (issue 13).

A value chosen by comparing values depends on the comparisons that chose it. The builtins
and standard modules that select would leave the chosen values untouched (their comparisons
recorded, but nothing needing them), so while a traced function runs they are replaced by
versions that make the same comparisons in the same order and pass every value they place
through a zero-cost ``select`` step needing the comparison that placed it:

- ``max`` and ``min``: a chain of n - 1 comparisons, as the builtins compare;
- ``sorted``: a stable bottom-up merge sort, the comparisons of one merge chained (each
  chose the heads compared next), so its depth grows linearly with n, as written;
- ``heapq``: ``heappush``, ``heappop``, ``heapify``, ``heapreplace`` and ``heappushpop`` sift
  as the module's own Python code does, each comparison of a sift needing the one before;
  ``nsmallest``, ``nlargest`` (documented as ``sorted(...)[:n]``) and ``merge`` (pairwise
  merges of the sorted inputs);
- ``bisect``: ``bisect_left``/``bisect_right`` make the binary search's chain of
  comparisons and return the position as a traced integer that needs the last one (indexing
  with it converts it: an escape, named in the notes); ``insort_left``/``insort_right``
  insert the value as selected by that chain.

Tuples compare element by element, as Python compares them; a tuple that holds traced values
(``(priority, task)`` in a heap) is selected element by element. ``list.sort`` and numpy's
``sort``/``max``/``min`` are methods of builtin types, which cannot be replaced: they are
watched instead (:mod:`.native_selection`). Names the target's code bound before the run
(``from heapq import heappush`` at import time) are swapped for the run
(:func:`.api.swapping_bound_names`).
"""

from __future__ import annotations

import bisect
import builtins
import functools
import heapq
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import accel
from .values import TRACED, Traced, TracedItems, current

_ORIGINAL_MAX, _ORIGINAL_MIN, _ORIGINAL_SORTED = builtins.max, builtins.min, builtins.sorted
_MISSING = object()


def plain(value: Any) -> Any:
    """``value`` with every traced value (inside lists and tuples too) replaced by its value."""
    if type(value) in TRACED:
        return value.value
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def _nodes(value: Any) -> list[int]:
    """The steps behind the traced values in ``value`` (inside tuples too); an input, which
    no step made, counts as -1."""
    if type(value) in TRACED:
        return [value.node]
    if type(value) is tuple:
        return [n for v in value for n in _nodes(v)]
    return []


def _traced(values: Iterable[Any]) -> bool:
    return any(_nodes(v) for v in values)


def _compare(rec: Any, a: Any, b: Any, greater: bool, after: int = -1) -> tuple[bool, int]:
    """``a > b`` (or ``a < b``): its truth (read without a control decision) and the step
    that made it (-1 when neither side is traced). ``after`` is the comparison the algorithm
    made just before, whose outcome chose these operands: the step needs it too (control
    dependence inside the algorithm, as written)."""
    plain_a, plain_b = plain(a), plain(b)
    result = bool(plain_a > plain_b if greater else plain_a < plain_b)
    nodes = _nodes(a) + _nodes(b)
    if not nodes:
        return result, -1
    needs = [n for n in (*nodes, after) if n >= 0]
    return result, rec.named("gt" if greater else "lt", needs)


def _select(rec: Any, value: Any, comparison: int) -> Any:
    """``value`` as chosen by a comparison: a zero-cost step needing the comparison and the
    value's own step, so what comes after depends on how the choice was made. A tuple is
    selected element by element; a plain value stays plain."""
    if comparison < 0:
        return value
    if type(value) is tuple:
        return tuple(_select(rec, v, comparison) for v in value)
    if type(value) not in TRACED:
        return value
    needs = [n for n in (comparison, value.node) if n >= 0]
    return Traced(value.value, rec.named("select", needs, 0))


def _extreme(original: Callable[..., Any], greater: bool) -> Callable[..., Any]:
    def extreme(*args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        rec = current()
        if not args or (len(args) > 1 and default is not _MISSING):  # the builtin's errors
            given = {} if default is _MISSING else {"default": default}
            return original(*args, key=key, **given)
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


def _merge_all(rec: Any, runs: list[list[tuple[Any, Any]]], reverse: bool) -> list[Any]:
    """Merge sorted runs of (key, value) pairs, neighbours pass after pass (bottom-up)."""
    while len(runs) > 1:
        merged = [_merge(rec, a, b, reverse) for a, b in zip(runs[0::2], runs[1::2],
                                                               strict=False)]  # fmt: skip
        if len(runs) % 2:
            merged.append(runs[-1])
        runs = merged
    return [value for _, value in runs[0]] if runs else []


def recorded_sorted(iterable: Iterable[Any], /, *, key: Any = None, reverse: bool = False) -> Any:
    """``sorted``: a stable merge sort whose every output element depends on the comparisons
    that placed it (the builtin's comparisons would leave the values untouched)."""
    rec = current()
    items = list(iterable)
    keys = [key(i) for i in items] if key is not None else items
    if rec is None or rec.paused or not _traced([*items, *keys]):
        return _ORIGINAL_SORTED(items, key=key, reverse=reverse)
    # (key, value); with no key function the key is the value itself (the same object)
    return _merge_all(rec, [[(k, i)] for k, i in zip(keys, items, strict=True)], reverse)


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


# --- heapq: the module's own sifting, comparisons recorded, moved items selected. ---


def _sift_down(rec: Any, heap: list[Any], start: int, pos: int, after: int) -> None:
    """heapq._siftdown: move heap[pos] up towards the root while it is smaller."""
    item = heap[pos]
    while pos > start:
        parent_pos = (pos - 1) >> 1
        parent = heap[parent_pos]
        smaller, after = _compare(rec, item, parent, False, after)
        if not smaller:
            item = _select(rec, item, after)  # stays: the comparison decided that too
            break
        heap[pos] = _select(rec, parent, after)
        item = _select(rec, item, after)
        pos = parent_pos
    heap[pos] = item


def _sift_up(rec: Any, heap: list[Any], pos: int) -> None:
    """heapq._siftup: move the smaller child up until a leaf, then sift the item down."""
    end, start, item = len(heap), pos, heap[pos]
    child = 2 * pos + 1
    after = -1
    while child < end:
        right = child + 1
        if right < end:
            smaller, after = _compare(rec, heap[child], heap[right], False, after)
            if not smaller:
                child = right
        heap[pos] = _select(rec, heap[child], after)
        pos = child
        child = 2 * pos + 1
    heap[pos] = item
    _sift_down(rec, heap, start, pos, after)


def _heappush(rec: Any, heap: list[Any], item: Any) -> None:
    heap.append(item)
    _sift_down(rec, heap, 0, len(heap) - 1, -1)


def _heappop(rec: Any, heap: list[Any]) -> Any:
    last = heap.pop()
    if not heap:
        return last
    top, heap[0] = heap[0], last
    _sift_up(rec, heap, 0)
    return top


def _heapify(rec: Any, heap: list[Any]) -> None:
    for i in reversed(range(len(heap) // 2)):
        _sift_up(rec, heap, i)


def _heapreplace(rec: Any, heap: list[Any], item: Any) -> Any:
    if not heap:
        raise IndexError("index out of range")
    top, heap[0] = heap[0], item
    _sift_up(rec, heap, 0)
    return top


def _heappushpop(rec: Any, heap: list[Any], item: Any) -> Any:
    """Push, then pop, faster than the two (heapq's own shortcut)."""
    if heap:
        smaller, comparison = _compare(rec, heap[0], item, False)
        if smaller:
            item, heap[0] = _select(rec, heap[0], comparison), _select(rec, item, comparison)
            _sift_up(rec, heap, 0)
        else:
            item = _select(rec, item, comparison)
    return item


#: heapq's functions that move items, by name: what runs instead while tracing.
_HEAP: dict[str, Callable[..., Any]] = {
    "heappush": _heappush, "heappop": _heappop, "heapify": _heapify,
    "heapreplace": _heapreplace, "heappushpop": _heappushpop,
}  # fmt: skip


def _while_tracing(
    original: Callable[..., Any], recorded: Callable[..., Any]
) -> Callable[..., Any]:
    """``original``, except inside a traced run, where ``recorded(recorder, ...)`` runs:
    always then, even on plain values (they make no steps in it), since a heap's traced
    values may sit anywhere and looking for them would cost O(n)."""

    @functools.wraps(original)
    def call(*args: Any) -> Any:
        rec = current()
        if rec is None or rec.paused:
            return original(*args)
        return recorded(rec, *args)

    return call


def _first(original: Callable[..., Any], reverse: bool) -> Callable[..., Any]:
    """nsmallest / nlargest: documented as ``sorted(iterable, key=key[, reverse])[:n]``."""

    def recorded(n: int, iterable: Iterable[Any], key: Any = None) -> list[Any]:
        if current() is None:
            return original(n, iterable, key=key)
        result: list[Any] = recorded_sorted(iterable, key=key, reverse=reverse)[: max(n, 0)]
        return result

    recorded.__name__ = original.__name__
    return recorded


def _heap_merge(*iterables: Iterable[Any], key: Any = None, reverse: bool = False) -> Iterator[Any]:
    """heapq.merge: the sorted inputs merged pairwise (a stable merge, as heapq.merge is)."""
    rec = current()
    if rec is None or rec.paused:
        return _ORIGINAL_MERGE(*iterables, key=key, reverse=reverse)
    pairs = [[(key(v) if key else v, v) for v in it] for it in iterables]
    if not _traced(k for run in pairs for pair in run for k in pair):
        runs = ([v for _, v in run] for run in pairs)
        return _ORIGINAL_MERGE(*runs, key=key, reverse=reverse)
    return iter(_merge_all(rec, [run for run in pairs if run], reverse))


_ORIGINAL_MERGE = heapq.merge


# --- bisect: a binary search's chain of comparisons. ---


def _search(rec: Any, a: list[Any], x: Any, lo: int, hi: int | None, key: Any,
            right: bool) -> tuple[int, int]:  # fmt: skip
    """bisect's loop: the position, and the last comparison (each needs the one before)."""
    if lo < 0:
        raise ValueError("lo must be non-negative")
    hi = len(a) if hi is None else hi
    after = -1
    while lo < hi:
        mid = (lo + hi) // 2
        probe = a[mid] if key is None else key(a[mid])
        if right:  # bisect_right: go right while not x < probe
            before, after = _compare(rec, x, probe, False, after)
            lo, hi = (lo, mid) if before else (mid + 1, hi)
        else:  # bisect_left: go right while probe < x
            below, after = _compare(rec, probe, x, False, after)
            lo, hi = (mid + 1, hi) if below else (lo, mid)
    return lo, after


def _bisect_function(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    right = name.endswith("right")

    def recorded(a: list[Any], x: Any, lo: int = 0, hi: int | None = None, *,
                 key: Any = None) -> Any:  # fmt: skip
        rec = current()
        if rec is None or rec.paused:  # while tracing: the recorded search, O(log n) anyway
            kwargs = {"key": key} if key is not None else {}
            return original(a, x, lo, hi, **kwargs)
        probe_x = x if key is None or name.startswith("bisect") else key(x)
        position, last = _search(rec, a, probe_x, lo, hi, key, right)
        if name.startswith("insort"):
            a.insert(position, _select(rec, x, last))
            return None
        return Traced(position, last) if last >= 0 else position

    recorded.__name__ = name
    recorded.__doc__ = original.__doc__
    return recorded


def replacements() -> list[tuple[Any, str, Any]]:
    """(module, name, replacement) for every selecting function recorded while tracing."""
    out: list[tuple[Any, str, Any]] = [
        (builtins, "max", compiled("max", _ORIGINAL_MAX, _extreme(_ORIGINAL_MAX, True))),
        (builtins, "min", compiled("min", _ORIGINAL_MIN, _extreme(_ORIGINAL_MIN, False))),
        (builtins, "sorted", recorded_sorted),
        (heapq, "nsmallest", _first(heapq.nsmallest, reverse=False)),
        (heapq, "nlargest", _first(heapq.nlargest, reverse=True)),
        (heapq, "merge", _heap_merge),
    ]
    for name, recorded in _HEAP.items():
        function = _while_tracing(getattr(heapq, name), recorded)
        if name in _COMPILED_HEAP:  # the same steps in C, this the twin it falls back to
            function = compiled(name, getattr(heapq, name), function)
        out.append((heapq, name, function))
    for name in ("bisect_left", "bisect_right", "insort_left", "insort_right"):
        function = _bisect_function(name, getattr(bisect, name))
        out.append((bisect, name, function))
        if name.endswith("right"):  # bisect.bisect and bisect.insort are the _right ones
            out.append((bisect, name.split("_")[0], function))
    return out


#: The heapq functions the compiled tracer records itself (the others: their twins in _HEAP).
_COMPILED_HEAP = ("heappush", "heappop")


def _selector(name: str, original: Callable[..., Any], fallback: Callable[..., Any]) -> Any:
    """The pure twin of the compiled tape's ``selector`` (``max``, ``min``, ``sum``,
    ``heappush`` or ``heappop`` recorded in C, calling ``fallback`` for the cases it does not
    take): ``fallback``."""
    if name not in ("max", "min", "sum", *_COMPILED_HEAP):
        raise ValueError(f"selector: name must be max, min, sum, heappush or heappop, got '{name}'")
    if not (callable(original) and callable(fallback)):
        raise TypeError("selector: original and fallback must be callable")
    return fallback


def _setup_selection(items: type, plain: Callable[[Any], Any]) -> None:
    """The pure twin of the compiled tape's ``setup_selection`` (which registers the types
    its ``compare`` and ``select`` make): nothing to register in Python."""
    if not (isinstance(items, type) and issubclass(items, Traced)):
        raise TypeError("setup_selection: the type must derive from Value")
    if not callable(plain):
        raise TypeError("setup_selection: plain must be callable")


def compiled(name: str, original: Callable[..., Any], twin: Callable[..., Any]) -> Any:
    """``max``, ``min``, ``sum``, ``heappush`` or ``heappop`` recorded by the compiled tracer
    (``_tape.selector``: the same steps as ``twin``, which it calls for the cases it does not
    take), or ``twin`` itself in pure Python."""
    return _SELECTOR(name, original, twin)


# The same steps as the twins above, in C when the compiled tape is in use: every heap,
# sort and bisect step goes here.
_SELECTOR = accel.tracer_part("tape", "selector", _selector)
_compare = accel.tracer_part("tape", "compare", _compare)
_select = accel.tracer_part("tape", "select", _select)
accel.tracer_part("tape", "setup_selection", _setup_selection)(TracedItems, plain)
