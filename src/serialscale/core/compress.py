"""``--target-depth``: the fewest steps to shorten, and by how much, to reach a depth.

A plan is a set of steps with a new (lower) cost each, such that the depth with those costs is
at most the target. It is found in two stages:

1. **Which steps.** The candidates are the steps that lie on a path longer than the target
   (``depth - slack(s) > target``), with a cost > 0 and not added by an importer. When there
   are at most :data:`EXACT_CANDIDATES` of them, every set of up to :data:`EXACT_SIZE` steps is
   tried, smallest first (in the order of their drag, then input order), with those steps set
   to 0: the first set that reaches the target has the **fewest steps** possible (``fewest``
   is true). Otherwise the set is built greedily: the step with the most drag, shortened by
   its drag (re-computed after each); when no single step has drag (parallel critical paths
   of equal length), a minimum set of steps that cuts every critical path (a minimum vertex
   cut, by networkx's maximum flow) is shortened together; ``fewest`` is then false.
2. **By how much.** Each chosen step, in turn, gets back the largest cost that still reaches
   the target with the others as they are (a bisection: depth only grows with a cost): no
   step of the plan can be shortened by less on its own.

A target below 0 cannot be reached; any target >= 0 can (with every cost at 0 the depth is 0).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from msgspec import UNSET

from ..accel import EXACT_INT
from ..base.words import plain_number
from ..documents.report import CompressionPlan, PlannedStep
from .drag import drag
from .graph import Cost, Graph
from .metrics import compute_metrics

#: Up to this many candidate steps, the fewest steps are found by trying every set.
EXACT_CANDIDATES = 16
#: The largest set tried exhaustively.
EXACT_SIZE = 4
#: A plan looks at no more candidate steps than this (each step of a plan costs a few
#: recomputations of the graph): past it, the plan says so instead of running for minutes.
MAX_CANDIDATES = 200


def parse_target(text: str, depth: Cost) -> float:
    """``--target-depth``: a depth (``27``, ``27.5``) or a change of the current one (``-20%``).
    Raises ValueError with a message for anything else."""
    raw = text.strip()
    number = plain_number(raw[:-1] if raw.endswith("%") else raw)
    if number is not None:
        # (100 + pct) / 100, not 1 + pct / 100: -20% of 34 is 27.2, not 27.200000000000003
        value = depth * (100 + number) / 100 if raw.endswith("%") else float(number)
        if raw.endswith("%") and not math.isfinite(value):  # a depth near the largest float
            value = depth * ((100 + number) / 100)
    else:
        raise ValueError(f"--target-depth expects a depth or a percentage such as -20%, got "
                         f"{text!r}") from None  # fmt: skip
    if not math.isfinite(value):
        raise ValueError(f"--target-depth must be finite, got {text!r}")
    return value


def _depth(graph: Graph, costs: Sequence[Cost]) -> Cost:
    return compute_metrics(Graph.from_csr(graph.ids, costs, graph.pred_ptr, graph.pred_idx)).depth


def plan(graph: Graph, target: float, connectors: frozenset[str] = frozenset()) -> CompressionPlan:
    """The :class:`CompressionPlan` reaching depth ``target`` (module docstring)."""
    m = compute_metrics(graph)
    depth = m.number(m.depth)
    if depth <= target:
        return CompressionPlan(target=_num(target), reached=True, fewest=True, depth=depth,
                               steps=[])  # fmt: skip
    if target < 0:
        return CompressionPlan(target=_num(target), reached=False, fewest=True, depth=depth,
                               steps=[], reason="a depth below 0 cannot be reached")  # fmt: skip
    costs: list[Cost] = list(graph.costs)
    ids = graph.ids
    drags = drag(graph, m.critical_path, m.finish, m.bottom_level, m.slack, m.depth)
    candidates = [v for v in range(graph.n) if costs[v] > 0 and ids[v] not in connectors
                  and m.number(m.depth) - m.number(m.slack[v]) > target]  # fmt: skip
    candidates.sort(key=lambda v: (-drags[v], v))
    if len(candidates) > MAX_CANDIDATES:
        return CompressionPlan(
            target=_num(target), reached=False, fewest=False, depth=depth, steps=[],
            reason=f"{len(candidates):,} steps lie on paths longer than the target, more than "
            f"the {MAX_CANDIDATES} a plan looks at: ask for a smaller cut (or use --what-if)",
        )  # fmt: skip
    chosen: list[int] | None = None
    fewest = False
    if len(candidates) <= EXACT_CANDIDATES:
        for size in range(1, min(EXACT_SIZE, len(candidates)) + 1):
            for subset in itertools.combinations(candidates, size):
                trial: list[Cost] = list(costs)
                for v in subset:
                    trial[v] = 0
                if _depth(graph, trial) <= target:
                    chosen, fewest = list(subset), True
                    break
            if chosen is not None:
                break
    if chosen is None:
        chosen = _greedy(graph, costs, target, connectors)
    new_costs: list[Cost] = list(costs)
    for v in chosen:
        new_costs[v] = 0
    if _depth(graph, new_costs) > target:  # the greedy stage stopped short: take them all
        chosen = list(candidates)
        new_costs = list(costs)
        for v in chosen:
            new_costs[v] = 0
    for v in chosen:  # give each back the most it can keep
        new_costs[v] = _largest_cost(graph, new_costs, v, costs[v], target)
    # a step the greedy stage chose may need no shortening once the others got theirs
    kept = [v for v in chosen if new_costs[v] < costs[v]]
    steps = [PlannedStep(ids[v], costs[v], new_costs[v], costs[v] - new_costs[v])
             for v in sorted(kept, key=lambda v: (-(costs[v] - new_costs[v]), v))]  # fmt: skip
    reached_depth = _depth(graph, new_costs)
    return CompressionPlan(target=_num(target), reached=reached_depth <= target, fewest=fewest,
                           depth=reached_depth, steps=steps,
                           reason=UNSET if reached_depth <= target else
                           "no plan found within the candidates")  # fmt: skip


def _greedy(graph: Graph, costs: list[Cost], target: float, connectors: frozenset[str]
            ) -> list[int]:  # fmt: skip
    """Steps chosen by drag (or a minimum cut of the critical paths when none has drag)."""
    work: list[Cost] = list(costs)
    chosen: list[int] = []
    for _ in range(2 * MAX_CANDIDATES):
        g = Graph.from_csr(graph.ids, work, graph.pred_ptr, graph.pred_idx)
        m = compute_metrics(g)
        depth = m.number(m.depth)
        if depth <= target:
            break
        drags = drag(g, m.critical_path, m.finish, m.bottom_level, m.slack, m.depth)
        ranked = [v for v in m.critical_path if graph.ids[v] not in connectors and work[v] > 0]
        best = max(ranked, key=lambda v: drags[v], default=None)
        if best is not None and drags[best] > 0:
            cut, amount = [best], min(drags[best], depth - target)
        else:
            cut = _min_cut(g, m, connectors)
            amount = min(min(work[v] for v in cut), depth - target)
        for v in cut:
            work[v] = max(0, work[v] - amount)
            if v not in chosen:
                chosen.append(v)
    return chosen


def _min_cut(graph: Graph, m: object, connectors: frozenset[str]) -> list[int]:
    """The fewest steps (cost > 0) that every critical path passes."""
    import networkx as nx

    number = m.number  # type: ignore[attr-defined]
    start, finish, slack = m.start, m.finish, m.slack  # type: ignore[attr-defined]
    depth = number(m.depth)  # type: ignore[attr-defined]
    flow = nx.DiGraph()
    critical = [v for v in range(graph.n) if number(slack[v]) == 0]
    for v in critical:
        free = graph.costs[v] > 0 and graph.ids[v] not in connectors
        flow.add_edge(("in", v), ("out", v), capacity=1 if free else math.inf)
        if number(start[v]) == 0:
            flow.add_edge("source", ("in", v), capacity=math.inf)
        if number(finish[v]) == depth:
            flow.add_edge(("out", v), "sink", capacity=math.inf)
        for u in graph.pred_idx[graph.pred_ptr[v] : graph.pred_ptr[v + 1]]:
            if number(slack[u]) == 0 and number(finish[u]) == number(start[v]):
                flow.add_edge(("out", u), ("in", v), capacity=math.inf)
    _, (side, _) = nx.minimum_cut(flow, "source", "sink")
    return sorted(v for v in critical if ("in", v) in side and ("out", v) not in side)


def _largest_cost(graph: Graph, costs: list[Cost], v: int, high: Cost, target: float) -> Cost:
    """The largest cost of step ``v`` in ``[0, high]`` with the depth still <= ``target``."""
    trial: list[Cost] = list(costs)
    trial[v] = high
    if _depth(graph, trial) <= target:
        return high
    if isinstance(high, int):
        low, hi = 0, high  # low reaches the target, hi does not
        while hi - low > 1:
            mid = (low + hi) // 2
            trial[v] = mid
            if _depth(graph, trial) <= target:
                low = mid
            else:
                hi = mid
        return low
    bottom, top = 0.0, float(high)
    for _ in range(40):  # 2**-40 of the cost: below any timing's precision
        middle = (bottom + top) / 2
        trial[v] = middle
        if _depth(graph, trial) <= target:
            bottom = middle
        else:
            top = middle
    # The bisection leaves residues such as 4.49999999997 (and 2.7e-11 for the next step, which
    # takes up the difference): the roundest number in the final interval that still reaches
    # the target is the same answer as people write it.
    for digits in range(1, 16):
        rounded = float(f"{(bottom + top) / 2:.{digits}g}")
        if bottom <= rounded <= top:
            trial[v] = rounded
            if _depth(graph, trial) <= target:
                return rounded
    return bottom


def _num(value: float) -> Cost:
    """Whole numbers below 2**53 (``accel.EXACT_INT``) as ints (as costs are), anything else
    as it is."""
    return int(value) if float(value).is_integer() and abs(value) < EXACT_INT else value
