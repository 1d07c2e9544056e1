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
    # Metrics in Python integers (past 2**53: accel.beyond_doubles) stay exact here too: the
    # pure twin sweeps them as they are, into a list.
    doubles = all(getattr(x, "typecode", None) == "d" for x in (finish, levels, slack))
    fast = accel.kernels(exact=not doubles)
    limits: list[Cost] | array = array("d", bytes(8 * k)) if doubles else [0] * k
    fast.drag_limits(graph.pred_ptr, graph.pred_idx, array("q", critical_path), finish,
                     levels, slack, alpha, below, total_depth, bound, limits)  # fmt: skip
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


def drag_doubles(
    graph: Graph,
    critical_path: Sequence[int],
    finish: Sequence[Cost],
    levels: Sequence[Cost],
    slack: Sequence[Cost],
    total_depth: Cost,
    every: bool = True,
) -> tuple[array | None, array] | None:
    """:func:`drag` in one kernel call where the metrics are doubles (``array('d')``, from
    the kernels): every step's drag as the same doubles (so ``Metrics.number`` of each is
    :func:`drag`'s number; None unless ``every``: a report without ``--detail`` reads only
    the path's), and the drag of each critical-path step by position; ``None`` for exact
    metrics (Python numbers), which take :func:`drag`."""
    if not all(getattr(x, "typecode", None) == "d" for x in (finish, levels, slack)):
        return None
    n, k = graph.n, len(critical_path)
    out = array("d", [0.0]) * n if every else None
    on_path = array("d", [0.0]) * k
    tol = SLACK_TOLERANCE * total_depth if isinstance(total_depth, float) else 0.0
    accel.kernels().drag_values(graph.order, graph.pred_ptr, graph.pred_idx, graph.succ_ptr,
                                graph.succ_idx, graph.costs_f64, array("q", critical_path),
                                finish, levels, slack, total_depth, tol, out, on_path)  # fmt: skip
    return out, on_path


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
    fast = accel.kernels()
    marks = array("d", bytes(8 * n))
    for v in critical_path:
        marks[v] = 1.0
    start, finish, levels = (array("d", bytes(8 * n)) for _ in range(3))
    fast.asap(graph.order, graph.pred_ptr, graph.pred_idx, marks, 0.0, start, finish)
    fast.bottom_levels(graph.order, graph.succ_ptr, graph.succ_idx, marks, levels)
    return finish, levels
