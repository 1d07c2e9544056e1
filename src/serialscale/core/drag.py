"""Critical-path drag: how much shorter the depth gets if one step took no time.

``drag(s) = depth - depth with cost(s) set to 0`` (the critical-path method's drag). It is 0
for a step off the critical path, at most ``cost(s)``, and limited by the paths that do not
go through ``s``. Only steps of one critical path can have drag > 0 (that path avoids every
other step and keeps its length), so :func:`drag` looks at the reported critical path
``p_1 ... p_k`` only, exactly and without re-running the schedule per step:

A path that avoids ``p_i`` and is longer than ``depth - cost(p_i)`` either passes a step
``x`` that is neither before nor after ``p_i`` (its longest such path is
``depth - slack(x)``), or it is made of steps before ``p_i`` then steps after it, joined by
one dependency ``a -> d`` that bypasses ``p_i`` (its longest such path is
``finish(a) + bottom_level(d)``). With ``alpha(y)`` the last critical-path position at or
before ``y`` and ``beta(y)`` the first at or after it (one pass forward, one backward), ``x``
is beside ``p_i`` exactly when ``alpha(x) < i < beta(x)``, and ``a -> d`` bypasses ``p_i``
exactly when ``beta(a) <= i <= alpha(d)`` with neither end ``p_i``. So::

    drag(p_i) = min(cost(p_i), slack of every x beside p_i,
                    depth - finish(a) - bottom_level(d) of every a -> d bypassing p_i)

each a minimum over the intervals of positions that cover ``i``: one sweep, in
``O((steps + dependencies) log(steps))``. The tests check it against the depth recomputed by
networkx for every step of random graphs.
"""

from __future__ import annotations

import heapq
import math
import operator
from array import array
from collections import deque
from collections.abc import Sequence
from itertools import compress, repeat

from .. import accel
from .graph import Cost, Graph
from .metrics import SLACK_TOLERANCE


def drag(
    graph: Graph,
    critical_path: Sequence[int],
    finish: Sequence[Cost],
    levels: Sequence[Cost],
    slack: Sequence[Cost],
    total_depth: Cost,
) -> list[Cost]:
    """``drag`` of every step, in input order (0 off ``critical_path``).

    ``finish`` is the ASAP schedule's, ``levels`` the bottom levels
    (:func:`serialscale.core.metrics.bottom_levels`), ``slack`` the slack
    (:func:`serialscale.core.metrics.slack`) and ``critical_path`` the reported one (step
    indices, first to last). With float costs, a drag within ``SLACK_TOLERANCE * depth`` of 0
    is rounding and reported as 0, as slack is.
    """
    n = graph.n
    zero = graph.zero
    out: list[Cost] = [zero] * n
    k = len(critical_path)
    if k == 0:
        return out
    costs = graph.costs
    alpha, below = _positions(graph, critical_path)
    # Only a slack below the costliest step of the path can limit a drag; a dependency's
    # slack is at least the slack of either end, so only steps under that bound take part.
    bound = max(map(costs.__getitem__, critical_path))
    fast = accel.select()
    if fast is not None and all(getattr(x, "typecode", None) == "d"
                                for x in (finish, levels, slack, alpha, below)):  # fmt: skip
        limits: Sequence[Cost] = array("d", bytes(8 * k))
        fast.drag_limits(graph.pred_ptr, graph.pred_idx, array("q", critical_path), finish,
                         levels, slack, alpha, below, total_depth, bound, limits)  # fmt: skip
    else:
        position = [0] * n  # 1-based position on the critical path, 0 off it
        for i, v in enumerate(critical_path, 1):
            position[v] = i
        limits = _limits(graph, critical_path, position, finish, levels, slack, alpha, below,
                         total_depth, bound)  # fmt: skip
    is_float = isinstance(total_depth, float)
    tol = SLACK_TOLERANCE * total_depth if is_float else 0
    if len(limits) != k:
        raise ValueError("drag: one limit per critical step expected")
    # best = min(cost, limit) (the cost on a tie, as min() keeps the first), 0 when within
    # the tolerance; in C-level maps, a critical path can be 10**5 steps and more
    best = list(map(min, map(costs.__getitem__, critical_path), limits))
    for j in compress(range(k), map(operator.le, best, repeat(tol))):
        best[j] = zero
    deque(map(operator.setitem, repeat(out), critical_path, best), 0)
    return out


def _limits(
    graph: Graph,
    critical_path: Sequence[int],
    position: list[int],
    finish: Sequence[Cost],
    levels: Sequence[Cost],
    slack: Sequence[Cost],
    alpha: Sequence[float],
    below: Sequence[float],
    total_depth: Cost,
    bound: Cost,
) -> list[Cost]:
    """For each position of the critical path, the least value of the intervals that cover
    it (``inf``: none): the slack a path avoiding that step keeps. The pure-Python twin of
    the ``drag_limits`` kernel."""
    n, k = graph.n, len(critical_path)
    pred_ptr, pred_idx = graph.pred_ptr, graph.pred_idx
    top = k + 1  # beta(y) = top - below[y]
    off_path = [0 if p else 1 for p in position]
    # tight steps off the path; and path steps with a need besides their path predecessor
    # (a path step's only other dependency can bypass something; a chain has none)
    tight = list(compress(range(n), map(operator.and_, map(operator.lt, slack, repeat(bound)),
                                        off_path)))  # fmt: skip
    joins = [v for v in critical_path if pred_ptr[v + 1] - pred_ptr[v] > 1]
    # Intervals (first, last, value) of positions i, each with the slack a path avoiding p_i
    # keeps: a step beside the path (off it, alpha < i < beta) ...
    intervals: list[tuple[int, int, Cost]] = []
    for v in tight:
        first, last = int(alpha[v]) + 1, top - int(below[v]) - 1
        if first <= last:
            intervals.append((first, last, slack[v]))
    # ... or a dependency a -> d with beta(a) <= i <= alpha(d), neither end p_i.
    for d in (*tight, *joins):
        lo, hi = pred_ptr[d], pred_ptr[d + 1]
        last = int(alpha[d]) - (1 if position[d] else 0)
        if hi == lo or last < 1:
            continue
        level = levels[d]
        for a in pred_idx[lo:hi]:
            first = top - int(below[a]) + (1 if position[a] else 0)
            if first <= last:
                value = total_depth - finish[a] - level
                if value < bound:
                    intervals.append((first, last, value))
    intervals.sort(key=lambda t: t[0])
    heap: list[tuple[Cost, int]] = []
    out: list[Cost] = []
    j = 0
    for i in range(1, k + 1):
        while j < len(intervals) and intervals[j][0] <= i:
            first, last, value = intervals[j]
            heapq.heappush(heap, (value, last))
            j += 1
        while heap and heap[0][1] < i:
            heapq.heappop(heap)
        out.append(heap[0][0] if heap else math.inf)
    return out


def _positions(
    graph: Graph, critical_path: Sequence[int]
) -> tuple[Sequence[float], Sequence[float]]:
    """``alpha(y)``, the last critical-path position at or before ``y`` (0: none), and
    ``below(y) = k + 1 - beta(y)``, where ``beta(y)`` is the first position at or after it
    (``k + 1``: none), for every step (whole numbers; doubles from the kernels).

    Positions rise along every path, so ``alpha`` is the ASAP finish with cost 1 on the
    path's steps and 0 elsewhere (a path step's needs all lie before it, one of them its
    predecessor on the path), and ``k + 1 - beta`` is the bottom level with those costs: the
    same passes as the metrics, in the compiled kernels when they are there.
    """
    n = graph.n
    fast = accel.select()
    if fast is not None:
        marks = array("d", bytes(8 * n))
        for v in critical_path:
            marks[v] = 1.0
        start, finish, levels = (array("d", bytes(8 * n)) for _ in range(3))
        fast.asap(graph.order, graph.pred_ptr, graph.pred_idx, marks, 0.0, start, finish)
        fast.bottom_levels(graph.order, graph.succ_ptr, graph.succ_idx, marks, levels)
        return finish, levels
    on_path = [0] * n
    for v in critical_path:
        on_path[v] = 1
    pred_ptr, pred_idx = graph.pred_ptr, graph.pred_idx
    succ_ptr, succ_idx = graph.succ_ptr, graph.succ_idx
    alpha: list[float] = [0] * n
    below: list[float] = [0] * n
    aget, bget = alpha.__getitem__, below.__getitem__
    for v in graph.order:
        lo, hi = pred_ptr[v], pred_ptr[v + 1]
        alpha[v] = on_path[v] + (max(map(aget, pred_idx[lo:hi])) if hi > lo else 0)
    for v in reversed(graph.order):
        lo, hi = succ_ptr[v], succ_ptr[v + 1]
        below[v] = on_path[v] + (max(map(bget, succ_idx[lo:hi])) if hi > lo else 0)
    return alpha, below
