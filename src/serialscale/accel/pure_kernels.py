"""The pure-Python twins of the compiled kernels (``serialscale.accel._kernels``, csrc/*.c).

Every function of the compiled module has a twin here of the same name and the same
positional-only signature, which does the same thing to the same arguments: the same
results, written into the same output arrays, and the same exception type on bad input
(the messages are the C ones where a caller shows them). :func:`serialscale.accel.kernels`
hands out this module or the compiled one; nothing else picks. Integers sum exactly in
Python and only approximately in doubles: the C kernels take ``array('d')`` costs and times,
and so do these twins; they also take lists (Python numbers) there, which the exact
integer passes use (:func:`serialscale.accel.beyond_doubles`).

Three kernels are shortcuts whose contract lets them decline (the caller then takes its own
general path, which gives the same result): ``json_duplicate_key`` (-2: gave up),
``json_needs`` (-1) and ``records`` (None). Their twins always decline: without C they
would only repeat, slower, what the general path does anyway.

``tests/test_seam.py`` checks that the two modules have the same names and signatures;
the kernels' own tests run each pair on random inputs against an independent oracle.
"""

from __future__ import annotations

import heapq
import math
import operator
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import accumulate, chain, compress, islice, repeat
from operator import add, le, lt, ne
from typing import Any

#: What ``_buf`` accepts where C wants ``array('q')`` / ``array('d')`` (the format letters).
_FORMATS = {"q": ("q", "l"), "d": ("d",)}


def _buf(obj: Any, kind: str, min_len: int, name: str, writable: bool = False) -> Any:
    """``obj`` checked as the C kernels check a buffer argument (``get_buf``/``get_out`` in
    csrc/common.c): a one-dimensional array of type ``kind``, at least ``min_len`` long.
    A list passes too (its items are not checked): the exact integer passes hand lists."""
    if isinstance(obj, list):
        if len(obj) < min_len:
            raise ValueError(f"{name}: too short")
        return obj
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError(
            f"{name}: expected a{' writable' if writable else 'n'} array of type '{kind}'"
        ) from None
    if writable and view.readonly:
        raise TypeError(f"{name}: expected a writable array of type '{kind}'")
    fmt = view.format.lstrip("@=<")
    if fmt not in _FORMATS[kind] or view.itemsize != 8 or view.ndim > 1:
        raise TypeError(f"{name}: expected an array of type '{kind}'")
    if len(view) < min_len:
        raise ValueError(f"{name}: too short")
    return obj


def _real(value: Any) -> Any:
    """A number argument as C's ``"d"`` format takes it (TypeError otherwise); ints stay
    ints (the exact passes hand Python integers)."""
    if isinstance(value, (int, float)):
        return value
    if not isinstance(value, (str, bytes)):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"must be real number, not {type(value).__name__}")


def _sites(obj: Any) -> Any:
    """``site``: an ``array('i')`` of label numbers (csrc/common.c ``get_sites``)."""
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError("site: expected an array of type 'i'") from None
    if view.format != "i" or view.itemsize != 4 or view.ndim > 1:
        raise TypeError("site: expected an array of type 'i'")
    return obj


def _check_ptr(ptr: Sequence[int], n: int, m: int | None, name: str) -> None:
    """Offsets from 0 to at most ``m`` (None: any), never decreasing (``check_ptr``)."""
    if ptr[0] != 0 or (m is not None and ptr[n] > m):
        raise ValueError(f"{name}: offsets must run from 0 to at most {m}")
    if not all(map(le, islice(ptr, 0, n), islice(ptr, 1, n + 1))):
        raise ValueError(f"{name}: offsets must never decrease")


def _check_index(idx: Sequence[int], count: int, n: int, name: str) -> None:
    """The first ``count`` indices lie in ``0..n-1`` (``check_index``)."""
    if count and (min(idx[:count]) < 0 or max(idx[:count]) >= n):
        x = next(x for x in idx[:count] if x < 0 or x >= n)  # the first, as C names it
        raise ValueError(f"{name}: index {x} out of range 0..{n - 1}")


def _check_csr(ptr: Sequence[int], idx: Sequence[int], n: int, pname: str, iname: str) -> None:
    _check_ptr(ptr, n, len(idx), pname)
    _check_index(idx, ptr[n], n, iname)


# --- loading (csrc/loading.c) ---


def json_duplicate_key(data: Any, /) -> int:
    """The byte offset of the first key repeated within one JSON object, -1 when there is
    none, -2 when the scan gives up. The twin always gives up (see the module docstring)."""
    memoryview(data)  # the C kernel's argument check (a bytes-like object)
    return -2


def resolve_names(
    ids: list[str], needs: list[Any], pred_ptr: Any, pred_idx: Any, optional_type: Any = None, /
) -> int:
    """Step ids and per-step need lists to CSR indices: status 0 (done) or 1 (the caller
    takes its checked path: a repeated id, an unknown need, a need or id that is not a str,
    a row that is not a list). A need of exactly ``optional_type`` (a str subclass) that
    names no step is dropped; ``pred_ptr[n]`` then says how many of ``pred_idx`` hold needs."""
    for arg, position in ((ids, 1), (needs, 2)):
        if not isinstance(arg, list):
            raise TypeError(f"argument {position} must be list, not {type(arg).__name__}")
    if optional_type is not None and not (
        isinstance(optional_type, type) and issubclass(optional_type, str)
    ):
        raise TypeError("optional_type must be a subclass of str")
    n = len(ids)
    if len(needs) != n:
        raise ValueError("ids and needs differ in length")
    ptr = _buf(pred_ptr, "q", n + 1, "pred_ptr", writable=True)
    idx = _buf(pred_idx, "q", 0, "pred_idx", writable=True)
    if set(map(type, ids)) - {str}:
        return 1
    index = dict(zip(ids, range(n), strict=True))
    if len(index) != n:
        return 1  # a repeated id
    m, e = len(idx), 0
    dropped = False
    out: list[int] = []
    ptr[0] = 0
    for i, row in enumerate(needs):
        if type(row) is not list:
            return 1
        for key in row:
            optional = optional_type is not None and type(key) is optional_type
            if (type(key) is not str and not optional) or e >= m:
                return 1
            found = index.get(str(key) if optional else key, -1)
            if found < 0:
                if not optional:
                    return 1
                dropped = True
            out.append(found)
            e += 1
        ptr[i + 1] = e
    if e != m:
        return 1
    idx[:e] = type(idx)("q", out) if not isinstance(idx, list) else out
    if dropped:  # squeeze out the optional needs that named no step
        w = r = 0
        for i in range(n):
            while r < ptr[i + 1]:
                if idx[r] >= 0:
                    idx[w] = idx[r]
                    w += 1
                r += 1
            ptr[i + 1] = w
    return 0


def json_needs(ids: list[str], raws: list[Any], pred_ptr: Any, pred_idx: Any, /) -> int:
    """Undecoded JSON need lists to CSR indices: how many needs, or -1 where the names must
    be decoded first. The twin always says -1 (see the module docstring)."""
    for arg, position in ((ids, 1), (raws, 2)):
        if not isinstance(arg, list):
            raise TypeError(f"argument {position} must be list, not {type(arg).__name__}")
    if len(raws) != len(ids):
        raise ValueError("ids and raws differ in length")
    _buf(pred_ptr, "q", len(ids) + 1, "pred_ptr", writable=True)
    if pred_idx is not None:
        _buf(pred_idx, "q", 0, "pred_idx", writable=True)
    return -1


# --- graph construction (csrc/graph.c) ---


def count_duplicates(pred_ptr: Any, pred_idx: Any, /) -> int:
    """How many needs repeat one of the same step's needs."""
    ptr = _buf(pred_ptr, "q", 1, "pred_ptr")
    n = len(ptr) - 1
    idx = _buf(pred_idx, "q", 0, "pred_idx")
    _check_csr(ptr, idx, n, "pred_ptr", "pred_idx")
    return ptr[n] - sum(len(set(idx[ptr[i] : ptr[i + 1]])) for i in range(n))


def successors(pred_ptr: Any, pred_idx: Any, succ_ptr: Any, succ_idx: Any, /) -> None:
    """The transposed CSR: successor lists, each in increasing index order."""
    pptr = _buf(pred_ptr, "q", 1, "pred_ptr")
    n = len(pptr) - 1
    pidx = _buf(pred_idx, "q", 0, "pred_idx")
    m = len(pidx)
    sptr = _buf(succ_ptr, "q", n + 1, "succ_ptr", writable=True)
    sidx = _buf(succ_idx, "q", m, "succ_idx", writable=True)
    _check_ptr(pptr, n, m, "pred_ptr")
    if pptr[n] != m:
        raise ValueError("pred_ptr: the last offset must be len(pred_idx)")
    if m and (min(pidx) < 0 or max(pidx) >= n):
        raise ValueError("pred_idx out of range")
    count = Counter(pidx)
    total = 0
    sptr[0] = 0
    for i in range(n):
        total += count.get(i, 0)
        sptr[i + 1] = total
    fill = list(sptr[:n])
    for i in range(n):
        for p in pidx[pptr[i] : pptr[i + 1]]:
            sidx[fill[p]] = i
            fill[p] += 1


def topological_order(pred_ptr: Any, succ_ptr: Any, succ_idx: Any, order: Any, /) -> int:
    """Input order when every step's successors come after it; otherwise Kahn's algorithm
    with a FIFO queue seeded in input order, into ``order``; how many steps it ordered
    (fewer than all: a cycle)."""
    pptr = _buf(pred_ptr, "q", 1, "pred_ptr")
    n = len(pptr) - 1
    sptr = _buf(succ_ptr, "q", n + 1, "succ_ptr")
    sidx = _buf(succ_idx, "q", 0, "succ_idx")
    out = _buf(order, "q", n, "order", writable=True)
    _check_ptr(pptr, n, None, "pred_ptr")
    _check_csr(sptr, sidx, n, "succ_ptr", "succ_idx")
    rows = map(operator.sub, sptr[1 : n + 1], sptr[:n])
    owner = chain.from_iterable(map(repeat, range(n), rows))
    if all(map(operator.gt, sidx[: sptr[n]], owner)):  # every successor after its step
        out[:n] = type(out)("q", range(n)) if not isinstance(out, list) else list(range(n))
        return n
    remaining = [pptr[i + 1] - pptr[i] for i in range(n)]
    found = [i for i in range(n) if remaining[i] == 0]
    head = 0
    while head < len(found):
        v = found[head]
        head += 1
        for w in sidx[sptr[v] : sptr[v + 1]]:
            remaining[w] -= 1
            if remaining[w] == 0:
                found.append(w)
    out[: len(found)] = type(out)("q", found) if not isinstance(out, list) else found
    return len(found)


def check_graph_csr(pred_ptr: Any, pred_idx: Any, /) -> None:
    """Predecessor CSR checks, with the messages a :class:`GraphError` shows."""
    ptr = _buf(pred_ptr, "q", 1, "pred_ptr")
    idx = _buf(pred_idx, "q", 0, "pred_idx")
    n, m = len(ptr) - 1, len(idx)
    if ptr[0] != 0 or ptr[n] != m:
        raise ValueError(f"pred_ptr must run from 0 to {m} (the number of needs)")
    if not all(map(le, islice(ptr, 0, n), islice(ptr, 1, n + 1))):
        raise ValueError("pred_ptr must never decrease")
    if m and (min(idx) < 0 or max(idx) >= n):
        raise ValueError(f"pred_idx: every index must name a step, 0 to {n - 1}")


def costs_ok(costs: Any, /) -> bool:
    """Whether every cost is finite and >= 0 (int64 or double costs)."""
    try:
        values = _buf(costs, "q", 0, "costs")
    except TypeError:
        values = _buf(costs, "d", 0, "costs")
        return all(c >= 0 and c < math.inf for c in values)  # NaN fails both
    return not len(values) or min(values) >= 0


def as_doubles(costs: Any, out: Any, /) -> None:
    """``out[i] = float(costs[i])``: integer costs as doubles (see graph.Graph.costs_f64)."""
    values = _buf(costs, "q", 0, "costs")
    target = _buf(out, "d", len(values), "out", writable=True)
    target[: len(values)] = array("d", values)


def int_sum(values: Any, /) -> int:
    """The exact sum of int64 ``values``, as ``sum()`` gives it (see metrics.work)."""
    return sum(_buf(values, "q", 0, "values"))


def tape_csr(
    a: Any, b: Any, c: Any, more_steps: Any, more_ptr: Any, more_idx: Any,
    pred_ptr: Any, pred_idx: Any, /,
) -> int:  # fmt: skip
    """A traced run's steps as predecessor CSR: step ``i`` needs ``a[i]``, ``b[i]``, ``c[i]``
    (-1: none), then, when ``i`` is ``more_steps[k]``, ``more_idx[more_ptr[k]:more_ptr[k +
    1]]``. Every need names an earlier step, ``more_steps`` increases and ``pred_idx`` has
    room for every need (ValueError otherwise); how many needs were written."""
    _buf(a, "q", 0, "a")
    n = len(a)
    _buf(b, "q", n, "b")
    _buf(c, "q", n, "c")
    steps = _buf(more_steps, "q", 0, "more_steps")
    k_count = len(steps)
    mptr = _buf(more_ptr, "q", k_count + 1, "more_ptr")
    midx = _buf(more_idx, "q", 0, "more_idx")
    ptr = _buf(pred_ptr, "q", n + 1, "pred_ptr", writable=True)
    idx = _buf(pred_idx, "q", 0, "pred_idx", writable=True)
    if len(b) != n or len(c) != n:
        raise ValueError("a, b and c differ in length")
    _check_ptr(mptr, k_count, len(midx), "more_ptr")
    for k in range(k_count):
        if steps[k] < 0 or steps[k] >= n or (k > 0 and steps[k] <= steps[k - 1]):
            raise ValueError("more_steps must increase, within the steps")
    more = {steps[k]: midx[mptr[k] : mptr[k + 1]] for k in range(k_count)}
    rows: Iterable[tuple[int, ...]] = zip(a, b, c, strict=True)
    if more:
        rows = ((*row, *more[i]) if i in more else row for i, row in enumerate(rows))
        kept = [[x for x in row if x != -1] for row in rows]
        lengths = list(map(len, kept))
        flat = list(chain.from_iterable(kept))
    else:  # the common case, in bulk: three needs at most
        absent = repeat(-1)
        lengths = list(map(add, map(add, map(ne, a, absent), map(ne, b, absent)),
                           map(ne, c, absent)))  # fmt: skip
        flat = [x for row in rows for x in row if x != -1]
    owners = chain.from_iterable(map(repeat, range(n), lengths))
    if len(flat) > len(idx) or (flat and (min(flat) < 0 or not all(map(lt, flat, owners)))):
        raise ValueError("a need that names no earlier step, or pred_idx too short for the needs")
    ptr[0] = 0
    ends = list(accumulate(lengths))
    ptr[1 : n + 1] = type(ptr)("q", ends) if not isinstance(ptr, list) else ends
    idx[: len(flat)] = type(idx)("q", flat) if not isinstance(idx, list) else flat
    return len(flat)


def tape_needs(a: Any, b: Any, c: Any, /) -> int:
    """How many entries of the columns ``a``, ``b`` and ``c`` are not -1 (a traced run's
    needs; -1: none): the size of the predecessor index :func:`tape_csr` fills."""
    columns = [_buf(x, "q", 0, name) for x, name in ((a, "a"), (b, "b"), (c, "c"))]
    return sum(len(x) - operator.countOf(x, -1) for x in columns)


def occurrences(site: Any, labels: int, out: Any, /) -> None:
    """``out[i]`` = how many of ``site[0..i]`` equal ``site[i]`` (1 for the first)."""
    labels = operator.index(labels)
    sites = _sites(site)
    if labels < 0:
        raise ValueError("labels must be >= 0")
    result = _buf(out, "q", len(sites), "out", writable=True)
    count = [0] * labels
    for i, s in enumerate(sites):
        if s < 0 or s >= labels:
            raise ValueError(f"site {s} out of range 0..{labels - 1}")
        count[s] += 1
        result[i] = count[s]


def spell_ids(labels: Any, site: Any, occurrence: Any, indices: Any, /) -> list[str]:
    """For each ``i`` of ``indices``, ``labels[site[i]] + str(occurrence[i])``: the ids of a
    traced run's steps (core/step_ids.py), the labels given with their ``#``. IndexError for
    an index outside the steps, ValueError for a site that names no label, TypeError for a
    label that is not a str or an index that is not an int."""
    if not isinstance(labels, list):
        raise TypeError(f"argument 1 must be list, not {type(labels).__name__}")
    sites = _sites(site)
    n = len(memoryview(sites))
    occ = _buf(occurrence, "q", n, "occurrence")
    if not isinstance(indices, list):
        raise TypeError(f"argument 4 must be list, not {type(indices).__name__}")
    if not all(map(isinstance, indices, repeat(int))):
        raise TypeError("spell_ids: indices must be ints")
    if indices and (min(indices) < 0 or max(indices) >= n):
        raise IndexError("spell_ids: index out of range")
    named = list(map(sites.__getitem__, indices))
    if named and (min(named) < 0 or max(named) >= len(labels)):
        bad = next(s for s in named if s < 0 or s >= len(labels))
        raise ValueError(f"site {bad} out of range 0..{len(labels) - 1}")
    spelled = list(map(labels.__getitem__, named))
    if not all(map(isinstance, spelled, repeat(str))):
        raise TypeError("spell_ids: labels must be str")
    return list(map(str.__add__, spelled, map(str, map(occ.__getitem__, indices))))


def spell_at(labels: Any, site: Any, indices: Any, /) -> list[str]:
    """:func:`spell_ids` with the occurrences counted here (:func:`occurrences`: every site
    checked first); the compiled kernel counts only up to the last step wanted."""
    if not isinstance(labels, list):
        raise TypeError(f"argument 1 must be list, not {type(labels).__name__}")
    if not isinstance(indices, list):
        raise TypeError(f"argument 3 must be list, not {type(indices).__name__}")
    sites = _sites(site)
    occurrence = array("q", [0]) * len(memoryview(sites))
    occurrences(sites, len(labels), occurrence)
    return spell_ids(labels, sites, occurrence, indices)


def rechain(
    a: Any, b: Any, c: Any, site: Any, comparing: Any, lo: int, start: int, owner: Any,
    last_of: Any, /,
) -> int:  # fmt: skip
    """The rewrite of a watched sort's comparisons (trace/native_selection.py): steps
    ``start`` on are the call's. A step that is not a comparison (``comparing[site]`` 0)
    and needs a value derived from a sort-input step is derived from it too (``owner``, one
    entry per step from ``lo``); a comparison of derived values is made to need, per
    operand, the last comparison involving its sort-input (``last_of``, by sort-input)
    instead, its needs normalised. ``a``, ``b``, ``c``, ``owner`` and ``last_of`` are
    updated; the call's last comparison, or -1."""
    lo, start = operator.index(lo), operator.index(start)
    sites = _sites(site)
    n = len(sites)
    if not 0 <= lo <= start <= n:
        raise ValueError(f"need 0 <= lo <= start <= {n}")
    for obj, name, size, writable in ((a, "a", n, True), (b, "b", n, True), (c, "c", n, True),
                                      (comparing, "comparing", 0, False),
                                      (owner, "owner", n - lo, True),
                                      (last_of, "last_of", n - lo, True)):  # fmt: skip
        _buf(obj, "q", size, name, writable)
    # the region as lists: per-item array access is what a long sort's time went to
    av, bv, cv = list(a[start:n]), list(b[start:n]), list(c[start:n])
    own, latest = list(owner[: n - lo]), list(last_of[: n - lo])
    labels, last = len(comparing), -1

    def origin(need: int) -> int:
        if not lo <= need < n:
            return -1
        found = own[need - lo]
        if found != -1 and not lo <= found < n:
            raise ValueError(f"owner: step {found} out of range {lo}..{n - 1}")
        return found

    for k, (x_need, y_need, c_need, label) in enumerate(
        zip(av, bv, cv, sites[start:n], strict=True)
    ):
        if not 0 <= label < labels:
            raise ValueError(f"site {label} out of range 0..{labels - 1}")
        x, y = origin(x_need), origin(y_need)
        if not comparing[label]:  # a key function's step: derived from its argument
            derived = x if x >= 0 else y if y >= 0 else origin(c_need)
            if derived >= 0:
                own[start + k - lo] = derived
            continue
        if x < 0 and y < 0:
            continue  # a comparison of values the call was not given
        new_a = latest[x - lo] if x >= 0 and latest[x - lo] >= 0 else x_need
        new_b = latest[y - lo] if y >= 0 and latest[y - lo] >= 0 else y_need
        # normalised as the tape does: distinct steps first, -1 after
        kept = [v for v in dict.fromkeys((new_a, new_b, c_need)) if v >= 0]
        kept += [-1] * (3 - len(kept))
        av[k], bv[k], cv[k] = kept
        step = start + k
        if x >= 0:
            latest[x - lo] = step
        if y >= 0:
            latest[y - lo] = step
        last = step
    for target, values in ((a, av), (b, bv), (c, cv)):
        target[start:n] = type(target)("q", values) if not isinstance(target, list) else values
    for target, values in ((owner, own), (last_of, latest)):
        target[: n - lo] = type(target)("q", values) if not isinstance(target, list) else values
    return last


# --- metrics (csrc/metrics.c) ---


def asap(
    order: Any, pred_ptr: Any, pred_idx: Any, costs: Any, extra: float, start: Any,
    finish: Any, /,
) -> Any:  # fmt: skip
    """ASAP ``start`` and ``finish`` of every step (see metrics.asap_schedule): steps in
    ``order``; ``finish = start + cost + extra``. Returns the largest finish (0.0: none)."""
    order = _buf(order, "q", 0, "order")
    n = len(order)
    ptr = _buf(pred_ptr, "q", n + 1, "pred_ptr")
    idx = _buf(pred_idx, "q", 0, "pred_idx")
    cost = _buf(costs, "d", n, "costs")
    begin = _buf(start, "d", n, "start", writable=True)
    end = _buf(finish, "d", n, "finish", writable=True)
    extra = float(_real(extra))
    _check_index(order, n, n, "order")
    _check_csr(ptr, idx, n, "pred_ptr", "pred_idx")
    get = end.__getitem__
    for v in order:
        lo, hi = ptr[v], ptr[v + 1]
        s = max(map(get, idx[lo:hi])) if hi > lo else 0.0
        begin[v] = s
        end[v] = s + cost[v] + extra if extra != 0.0 else s + cost[v]
    depth = 0.0
    for f in end:  # as the C loop: a NaN never wins a comparison
        if f > depth:
            depth = f
    return depth


def bottom_levels(order: Any, succ_ptr: Any, succ_idx: Any, costs: Any, out: Any, /) -> None:
    """Each step's bottom level: its cost plus the largest bottom level of its successors."""
    order = _buf(order, "q", 0, "order")
    n = len(order)
    ptr = _buf(succ_ptr, "q", n + 1, "succ_ptr")
    idx = _buf(succ_idx, "q", 0, "succ_idx")
    cost = _buf(costs, "d", n, "costs")
    level = _buf(out, "d", n, "out", writable=True)
    _check_index(order, n, n, "order")
    _check_csr(ptr, idx, n, "succ_ptr", "succ_idx")
    get = level.__getitem__
    for v in reversed(order):
        lo, hi = ptr[v], ptr[v + 1]
        level[v] = cost[v] + (max(map(get, idx[lo:hi])) if hi > lo else 0.0)


def profile(start: Any, finish: Any, costs: Any, integral: Any, /) -> list[tuple[Any, Any, int]]:
    """The parallelism profile (see metrics.profile): (start, end, running) segments, times
    as ints when ``integral``."""
    begin = _buf(start, "d", 0, "start")
    n = len(begin)
    end = _buf(finish, "d", n, "finish")
    cost = _buf(costs, "d", n, "costs")
    as_time = int if integral else float
    positive = [cost[i] > 0 for i in range(n)]
    for i in compress(range(n), positive):
        if not (0 <= begin[i] < math.inf and 0 <= end[i] < math.inf):
            raise ValueError("profile: times must be finite and >= 0")
    delta = Counter(compress(begin[:n], positive))
    delta.subtract(Counter(compress(end[:n], positive)))
    times = sorted(delta)
    out: list[tuple[Any, Any, int]] = []
    running, seg_running = 0, -1
    seg_start: Any = 0.0
    for k in range(len(times) - 1):
        running += delta[times[k]]
        if running != seg_running:
            if seg_running >= 0:
                out.append((as_time(seg_start), as_time(times[k]), seg_running))
            seg_start, seg_running = times[k], running
    if seg_running >= 0:
        out.append((as_time(seg_start), as_time(times[-1]), seg_running))
    return out


def critical_path(
    pred_ptr: Any, pred_idx: Any, succ_ptr: Any, start: Any, finish: Any, depth: float, /
) -> list[int]:
    """The critical path (see metrics.critical_path): from the first step without successors
    that finishes at ``depth``, back through the lowest-numbered need finishing when each
    step starts."""
    begin = _buf(start, "d", 0, "start")
    n = len(begin)
    pptr = _buf(pred_ptr, "q", n + 1, "pred_ptr")
    pidx = _buf(pred_idx, "q", 0, "pred_idx")
    sptr = _buf(succ_ptr, "q", n + 1, "succ_ptr")
    end = _buf(finish, "d", n, "finish")
    depth = float(_real(depth))
    _check_csr(pptr, pidx, n, "pred_ptr", "pred_idx")
    _check_ptr(sptr, n, None, "succ_ptr")
    if n == 0:
        return []
    v = next((i for i in range(n) if end[i] == depth and sptr[i] == sptr[i + 1]), -1)
    if v < 0:
        raise ValueError("critical_path: no step without successors finishes at depth")
    path = [v]
    while pptr[v + 1] > pptr[v]:
        s = begin[v]
        best = min((u for u in pidx[pptr[v] : pptr[v + 1]] if end[u] == s), default=-1)
        if best < 0 or len(path) >= n:
            raise ValueError(
                "critical_path: start and finish are not an ASAP schedule of this graph"
            )
        v = best
        path.append(v)
    path.reverse()
    return path


def slack(start: Any, levels: Any, depth: float, tol: float, out: Any, /) -> None:
    """``out = depth - level - start``, or 0 where that is at most ``tol``."""
    begin = _buf(start, "d", 0, "start")
    n = len(begin)
    level = _buf(levels, "d", n, "levels")
    result = _buf(out, "d", n, "out", writable=True)
    depth, tol = float(_real(depth)), float(_real(tol))
    for i in range(n):
        x = depth - level[i] - begin[i]
        result[i] = 0.0 if x <= tol else x


# --- scheduling (csrc/schedule.c) ---


class _Plan:
    """A schedule plan: what :func:`makespan` reads (the capsule of the C kernels)."""

    __slots__ = ("costs", "key", "pred_ptr", "succ_idx", "succ_ptr")

    def __init__(self, key: list[float], costs: list[float], pred_ptr: list[int],
                 succ_ptr: list[int], succ_idx: list[int]) -> None:  # fmt: skip
        self.key, self.costs, self.pred_ptr = key, costs, pred_ptr
        self.succ_ptr, self.succ_idx = succ_ptr, succ_idx


def schedule_plan(priority: Any, costs: Any, pred_ptr: Any, succ_ptr: Any, succ_idx: Any, /) -> Any:
    """The steps prepared for :func:`makespan` (highest priority first, ties to the lower
    index). Costs and priorities finite and >= 0, and each step's count of needs the number
    of successor entries naming it (ValueError otherwise)."""
    prio = _buf(priority, "d", 0, "priority")
    n = len(prio)
    cost = _buf(costs, "d", n, "costs")
    pptr = _buf(pred_ptr, "q", n + 1, "pred_ptr")
    sptr = _buf(succ_ptr, "q", n + 1, "succ_ptr")
    sidx = _buf(succ_idx, "q", 0, "succ_idx")
    _check_ptr(pptr, n, None, "pred_ptr")
    _check_csr(sptr, sidx, n, "succ_ptr", "succ_idx")
    for i in range(n):
        if not (0.0 <= cost[i] < math.inf and 0.0 <= prio[i] < math.inf):
            raise ValueError("schedule_plan: costs and priorities must be finite and >= 0")
    if n >= 2**31 - 1 or sptr[n] >= 2**31 - 1:
        raise OverflowError("too many steps for a schedule plan")
    named = Counter(sidx[: sptr[n]])
    if any(named.get(i, 0) != pptr[i + 1] - pptr[i] for i in range(n)):
        raise ValueError(
            "schedule_plan: pred_ptr's counts of needs do not match the successor lists"
        )
    return _Plan([-float(p) for p in prio[:n]], [float(x) for x in cost[:n]],
                 list(pptr[: n + 1]), list(sptr[: n + 1]), list(sidx))  # fmt: skip


def makespan(plan: Any, processors: int, extra: float, /) -> float:
    """The makespan of the critical-path-first list schedule (schedule.list_schedule_makespan)
    of ``plan`` on ``processors``, every step ``extra`` longer."""
    processors, extra = operator.index(processors), float(_real(extra))
    if not isinstance(plan, _Plan):
        raise ValueError("PyCapsule_GetPointer called with incorrect name")
    if processors < 1 or not 0.0 <= extra < math.inf:
        raise ValueError("makespan: processors must be >= 1 and extra finite and >= 0")
    n = len(plan.costs)
    costs, key, succ_ptr, succ_idx = plan.costs, plan.key, plan.succ_ptr, plan.succ_idx
    waiting = [plan.pred_ptr[i + 1] - plan.pred_ptr[i] for i in range(n)]
    ready = [(key[i], i) for i in range(n) if waiting[i] == 0]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []
    free, now = processors, 0.0
    push, pop = heapq.heappush, heapq.heappop
    while True:
        while ready and free:
            v = pop(ready)[1]
            duration = costs[v] + extra
            if duration:
                push(running, (now + duration, v))
                free -= 1
            else:  # completes at once: its successors may be ready right now
                for w in succ_idx[succ_ptr[v] : succ_ptr[v + 1]]:
                    waiting[w] -= 1
                    if not waiting[w]:
                        push(ready, (key[w], w))
        if not running:
            return now
        now = running[0][0]
        while running and running[0][0] == now:
            v = pop(running)[1]
            free += 1
            for w in succ_idx[succ_ptr[v] : succ_ptr[v + 1]]:
                waiting[w] -= 1
                if not waiting[w]:
                    push(ready, (key[w], w))


# --- critical-path drag (csrc/drag.c) ---


def near_critical(slack: Any, count: int, /) -> list[int]:
    """The ``count`` steps with the least slack other than 0, the least first, ties by
    index (see analysis.near_critical). A list of exact slacks passes too."""
    values = _buf(slack, "d", 0, "slack")
    count = operator.index(count)
    if count <= 0:
        return []
    # the bound first (the count-th smallest positive slack, in C-level passes), then only
    # the few steps at or under it are ranked: no Python call per step
    smallest = heapq.nsmallest(count, filter(None, values))
    if not smallest:
        return []
    within = compress(range(len(values)), map(operator.le, values, repeat(smallest[-1])))
    slack_of = values.__getitem__
    return heapq.nsmallest(
        count, (i for i in within if slack_of(i)), key=lambda i: (slack_of(i), i)
    )


def drag_limits(
    pred_ptr: Any, pred_idx: Any, path: Any, finish: Any, levels: Any, slack: Any, alpha: Any,
    below: Any, depth: float, bound: float, out: Any, /,
) -> None:  # fmt: skip
    """For each position of the critical ``path``, the least value of the intervals that
    cover it (``inf``: none): the slack a path avoiding that step keeps (see drag.drag and
    csrc/drag.c). ``alpha`` and ``below`` are drag._positions'."""
    end = _buf(finish, "d", 0, "finish")
    n = len(end)
    pptr = _buf(pred_ptr, "q", n + 1, "pred_ptr")
    pidx = _buf(pred_idx, "q", 0, "pred_idx")
    steps = _buf(path, "q", 0, "path")
    k = len(steps)
    level = _buf(levels, "d", n, "levels")
    slacks = _buf(slack, "d", n, "slack")
    alphas = _buf(alpha, "d", n, "alpha")
    belows = _buf(below, "d", n, "below")
    limits = _buf(out, "d", k, "out", writable=True)
    depth, bound = _real(depth), _real(bound)
    _check_csr(pptr, pidx, n, "pred_ptr", "pred_idx")
    _check_index(steps, k, n, "path")
    if not 0 <= depth < math.inf or bound != bound:
        raise ValueError("drag_limits: depth must be finite and >= 0")
    for v in range(n):
        for x in (alphas[v], belows[v]):
            if not (0 <= x <= k) or x != math.floor(x):
                raise ValueError("drag_limits: alpha and below must be whole numbers in 0..k")
    position = [0] * n  # 1-based position on the path, 0 off it
    for i, v in enumerate(steps[:k], 1):
        position[v] = i
    top = k + 1  # beta(y) = top - below[y]
    intervals: list[tuple[int, int, Any]] = []
    for d in range(n):
        tight = not position[d] and slacks[d] < bound
        if not tight and not (position[d] and pptr[d + 1] - pptr[d] > 1):
            continue
        if tight:  # a step beside the path: alpha < i < beta
            first, last = int(alphas[d]) + 1, top - int(belows[d]) - 1
            if first <= last:
                intervals.append((first, last, slacks[d]))
        # dependencies a -> d that bypass positions first..last
        last = int(alphas[d]) - (1 if position[d] else 0)
        if last < 1:
            continue
        for a in pidx[pptr[d] : pptr[d + 1]]:
            first = top - int(belows[a]) + (1 if position[a] else 0)
            if first <= last:
                value = depth - end[a] - level[d]
                if value < bound:
                    intervals.append((first, last, value))
    intervals.sort(key=lambda t: t[0])
    heap: list[tuple[Any, int]] = []
    j = 0
    for i in range(1, k + 1):
        while j < len(intervals) and intervals[j][0] <= i:
            first, last, value = intervals[j]
            heapq.heappush(heap, (value, last))
            j += 1
        while heap and heap[0][1] < i:
            heapq.heappop(heap)
        limits[i - 1] = heap[0][0] if heap else math.inf


def drag_values(
    order: Any, pred_ptr: Any, pred_idx: Any, succ_ptr: Any, succ_idx: Any, costs: Any,
    path: Any, finish: Any, levels: Any, slack: Any, depth: float, tol: float, out: Any,
    on_path: Any, /,
) -> None:  # fmt: skip
    """Critical-path drag in doubles, in one call (see drag.drag and csrc/drag.c): the path
    positions (:func:`asap` and :func:`bottom_levels` with cost 1 on the path's steps, 0
    elsewhere), the bound (the largest cost on the path), the :func:`drag_limits` sweep,
    then each path step's ``min(cost, limit)``, 0 when at most ``tol``, into ``on_path`` (by
    position) and ``out`` (by step; 0 off the path; None: not written). ``n = len(order)``
    steps."""
    steps_in_order = _buf(order, "q", 0, "order")
    n = len(steps_in_order)
    pptr = _buf(pred_ptr, "q", n + 1, "pred_ptr")
    pidx = _buf(pred_idx, "q", 0, "pred_idx")
    sptr = _buf(succ_ptr, "q", n + 1, "succ_ptr")
    sidx = _buf(succ_idx, "q", 0, "succ_idx")
    cost = _buf(costs, "d", n, "costs")
    steps = _buf(path, "q", 0, "path")
    k = len(steps)
    end = _buf(finish, "d", n, "finish")
    level = _buf(levels, "d", n, "levels")
    slacks = _buf(slack, "d", n, "slack")
    result = None if out is None else _buf(out, "d", n, "out", writable=True)
    best = _buf(on_path, "d", k, "on_path", writable=True)
    depth, tol = float(_real(depth)), float(_real(tol))
    _check_index(steps_in_order, n, n, "order")
    _check_csr(pptr, pidx, n, "pred_ptr", "pred_idx")
    _check_csr(sptr, sidx, n, "succ_ptr", "succ_idx")
    _check_index(steps, k, n, "path")
    if result is not None:
        result[:n] = array("d", bytes(8 * n)) if not isinstance(result, list) else [0.0] * n
    if k == 0:
        return
    marks = array("d", bytes(8 * n))
    for v in steps[:k]:
        marks[v] = 1.0
    alpha, below, ignored = (array("d", bytes(8 * n)) for _ in range(3))
    asap(steps_in_order, pptr, pidx, marks, 0.0, ignored, alpha)
    bottom_levels(steps_in_order, sptr, sidx, marks, below)
    bound = max(map(cost.__getitem__, steps[:k]))
    limits = array("d", bytes(8 * k))
    # the sweep over exactly n steps (finish and the rest may be longer than the order)
    end, level, slacks = (array("d", x[:n]) for x in (end, level, slacks))
    drag_limits(array("q", pptr[: n + 1]), pidx, array("q", steps[:k]), end, level, slacks,
                alpha, below, depth, bound, limits)  # fmt: skip
    for i, v in enumerate(steps[:k]):
        value = min(cost[v], limits[i])  # the cost on a tie
        value = 0.0 if value <= tol else value
        best[i] = value
        if result is not None:
            result[v] = value


def most(values: Any, count: int, /) -> list[int]:
    """The indices of the ``count`` largest values other than 0, the largest first, ties by
    index (``sorted(nonzero, key=value, reverse=True)[:count]``, a stable sort); ValueError
    for a NaN (it has no rank)."""
    numbers = _buf(values, "d", 0, "values")
    count = operator.index(count)
    if any(x != x for x in numbers):
        raise ValueError("most: values must not be NaN")
    if count <= 0:
        return []
    get = numbers.__getitem__
    return heapq.nlargest(count, compress(range(len(numbers)), numbers), key=get)


# --- rendering (csrc/render.c) ---


def records(items: list[Any], newline: str, encode: Any, /) -> str | None:
    """The JSON text of a list of flat records, or None to leave it to the caller. The twin
    always leaves it (see the module docstring)."""
    if not isinstance(items, list):
        raise TypeError(f"argument 1 must be list, not {type(items).__name__}")
    if not isinstance(newline, str):
        raise TypeError(f"argument 2 must be str, not {type(newline).__name__}")
    return None


# --- memory made ready ahead of use (csrc/memory.c) ---


def keep_freed_memory() -> bool:
    """Whether malloc now keeps freed memory in its main heap for later allocations. The twin
    cannot ask (pure Python has no malloc to tune): False, and nothing is made ready."""
    return False


def prefault(size: int, base: int, ready: int, /) -> int:
    """Make a heap block of ``size`` bytes present ahead of use; where it was, or 0 when
    nothing was done. The twin does nothing (the pages are touched when used, as always):
    0, after the compiled kernel's argument checks."""
    # the compiled kernel's order: its argument parsing (sizes as Py_ssize_t, base an int),
    # the base as an unsigned 64-bit number, then the sizes' signs
    size, ready = operator.index(size), operator.index(ready)
    if not (-(2**63) <= size < 2**63 and -(2**63) <= ready < 2**63):
        raise OverflowError("prefault: size and ready must fit in 64 bits")
    if not isinstance(base, int):
        raise TypeError(f"prefault: base must be int, not {type(base).__name__}")
    if not 0 <= base < 2**64:
        raise OverflowError("prefault: base must be an unsigned 64-bit address")
    if size < 0 or ready < 0:
        raise ValueError("prefault: size and ready must be >= 0")
    if size > 1 << 30:
        raise ValueError("prefault: size must be at most 1 GiB")
    return 0
