"""Each speedup row's makespan (issue 25): the simulated wall time in the workload's unit,
checked against a list scheduler written here from its definition (networkx bottom levels)
and against the work, span and Brent bounds."""

from __future__ import annotations

import heapq

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import accel
from serialscale.core.analysis import analyze_workload
from serialscale.core.metrics import compute_metrics
from serialscale.core.schedule import speedup_table
from serialscale.core.workload import Workload

from .conftest import Dag, dags


def _bottom_levels(dag: Dag) -> list:
    g = dag.nx()
    levels = [0] * len(dag.costs)
    for v in reversed(list(nx.topological_sort(g))):
        levels[v] = dag.costs[v] + max((levels[w] for w in g.successors(v)), default=0)
    return levels


def _list_schedule(dag: Dag, p: int, extra: float = 0) -> float:
    """Whenever a processor is free, start the ready step with the largest bottom level
    (ties: the first in input order); zero-cost steps finish at once. With ``extra``, every
    step lasts its cost + extra (the priorities stay the bottom levels of the costs)."""
    return _list_schedules(dag, [p], extra)[0]


def _list_schedules(dag: Dag, counts, extra: float = 0) -> list[float]:
    """:func:`_list_schedule` on each of ``counts`` processors (the networkx graph and its
    bottom levels are made once)."""
    g, levels = dag.nx(), _bottom_levels(dag)
    return [_schedule_on(dag, g, levels, p, extra) for p in counts]


def _schedule_on(dag: Dag, g: nx.DiGraph, levels: list, p: int, extra: float) -> float:
    n = len(dag.costs)
    waiting = [g.in_degree(v) for v in range(n)]
    ready = [(-levels[v], v) for v in range(n) if waiting[v] == 0]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []
    now, done = 0, 0

    def finish(v: int) -> None:
        for w in g.successors(v):
            waiting[w] -= 1
            if waiting[w] == 0:
                heapq.heappush(ready, (-levels[w], w))

    while done < n:
        while ready and len(running) < p:
            _, v = heapq.heappop(ready)
            if dag.costs[v] + extra == 0:
                done += 1
                finish(v)
            else:
                heapq.heappush(running, (now + (dag.costs[v] + extra), v))
        if not running:
            continue
        now, v = heapq.heappop(running)
        done += 1
        finish(v)
        while running and running[0][0] == now:
            _, u = heapq.heappop(running)
            done += 1
            finish(u)
    return now


@settings(max_examples=200, deadline=None)
@given(dags(max_steps=16))
def test_makespan_is_the_list_schedule_and_within_the_bounds(dag: Dag) -> None:
    g = dag.graph()
    m = compute_metrics(g)
    rows = speedup_table(g, m, processors=4)
    expected = _list_schedules(dag, [row.processors for row in rows])
    for row, makespan in zip(rows, expected, strict=True):
        p = row.processors
        assert row.makespan == makespan
        assert type(row.makespan) is int  # integer costs: an integer time
        if m.depth:
            assert max(m.work / p, m.depth) <= row.makespan <= (m.work - m.depth) / p + m.depth
            assert row.simulated == m.work / row.makespan


@settings(max_examples=100, deadline=None)
@given(dags(max_steps=40, costs=st.sampled_from([0, 1])), st.sampled_from([1, 2, 0.1, 7.3]),
       st.booleans(), st.integers(min_value=1, max_value=9))  # fmt: skip
def test_makespan_with_one_cost_for_every_step(dag: Dag, cost, zeros: bool, p: int) -> None:
    # The compiled schedule's tick-by-tick path (every step that lasts at all lasts the
    # same; with or without steps of cost 0 among them): the reference list scheduler on
    # the same graph, for any number of processors.
    from serialscale.accel import pure_kernels
    from serialscale.core.schedule import _simulate

    dag = Dag([cost * c if zeros else cost for c in dag.costs], dag.needs)
    g = dag.graph()
    m = compute_metrics(g)
    if not m.depth:
        return
    for kernels in {accel.kernels(), pure_kernels}:  # the compiled one, where built, and its twin
        assert _simulate(g, m, [(p, 0)], kernels)[p, 0] == _list_schedule(dag, p)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=330, max_size=330), st.sampled_from([0, 5]),
       st.randoms(use_true_random=False))  # fmt: skip
def test_makespan_with_a_step_of_many_needs(costs: list, only: int, rnd) -> None:
    # More than 255 needs for one step (the plan's counts of needs are then 32-bit, not
    # bytes), with costs of many values or of one value and 0 (the plan keeps a byte per
    # step then): the reference list scheduler, compiled and pure.
    from serialscale.accel import pure_kernels
    from serialscale.core.schedule import _simulate

    if only:
        costs = [only if c else 0 for c in costs]
    needs = [[] for _ in range(300)] + [list(range(300))]
    needs += [[300, *rnd.sample(range(300 + i), 2)] for i in range(1, 30)]
    dag = Dag(costs, needs)
    g = dag.graph()
    m = compute_metrics(g)
    if not m.depth:
        return
    counts = (1, 2, 3, 7, 64)
    for p, expected in zip(counts, _list_schedules(dag, counts), strict=True):
        for kernels in {accel.kernels(), pure_kernels}:
            assert _simulate(g, m, [(p, 0)], kernels)[p, 0] == expected


def _plan_makespans(dag: Dag, counts, extra: float = 0) -> list[list[float]]:
    """The makespans of ``dag`` on each of ``counts`` processors from the plan kernels, the
    compiled ones where built and their pure twin, the priorities networkx's bottom levels."""
    from array import array

    from serialscale.accel import pure_kernels

    g = dag.graph()
    levels = array("d", map(float, _bottom_levels(dag)))
    out = []
    for kernels in {accel.kernels(), pure_kernels}:
        plan = kernels.schedule_plan(levels, g.costs_f64, g.pred_ptr, g.succ_ptr, g.succ_idx)
        out.append([kernels.makespan(plan, p, float(extra)) for p in counts])
    return out


@settings(max_examples=150, deadline=None)
@given(dags(max_steps=30, costs=st.sampled_from([0, 1])), st.sampled_from([1, 3, 0.1]),
       st.sampled_from([0, 1, 0.5]), st.booleans())  # fmt: skip
def test_makespan_of_one_duration_on_every_processor_count(dag: Dag, cost, extra, zeros) -> None:
    # Every processor count from 1 to past the steps, with and without an overhead: the
    # tick-by-tick schedule answers some counts without simulating (every level of the
    # bottom levels fits on the processors) and stops others early (few steps left beside
    # the longest path left); csrc/schedule.c proves both, this checks them against the
    # list scheduler written here, on graphs whose input order may not be topological.
    dag = Dag([cost * c if zeros else cost for c in dag.costs], dag.needs)
    counts = range(1, len(dag.costs) + 2)
    expected = _list_schedules(dag, counts, extra)
    for found in _plan_makespans(dag, counts, extra):
        assert found == expected


@pytest.mark.parametrize(
    "shape", ["chains", "chains and a long one", "stencil", "tree", "a sum, then each over it"]
)
def test_makespan_of_one_duration_on_graphs_of_many_equal_levels(shape: str) -> None:
    # Shapes where the shortcuts of the tick-by-tick schedule decide most processor counts:
    # many independent chains (each level as wide as the chains: counts at least that need
    # no simulation), a long chain beside them (the schedule ends on it alone: stopped
    # early), a stencil (every level full), a reduction tree, and a sum computed step by
    # step before every value is divided by it (at most 2 steps ready at first: those ticks
    # are shared by every count of 2 and more, and done once); traced runs look so.
    needs: list[list[int]] = []
    costs: list[int] = []

    def step(cost: int, *need: int) -> int:
        needs.append(list(need))
        costs.append(cost)
        return len(needs) - 1

    if shape.startswith("chains"):
        for _ in range(40):
            last = step(0)
            for _ in range(12):
                last = step(1, last)
        if shape.endswith("long one"):
            last = step(1)
            for _ in range(60):
                last = step(1, last)
    elif shape == "stencil":
        row = [step(1) for _ in range(30)]
        for _ in range(15):
            row = [step(1, *row[max(i - 1, 0) : i + 2]) for i in range(30)]
    elif shape == "tree":
        row = [step(1) for _ in range(256)]
        while len(row) > 1:
            row = [step(1, row[i], row[i + 1]) for i in range(0, len(row), 2)]
    else:
        total = step(1)
        for _ in range(50):
            total = step(1, total)  # the sum so far plus the next value (not a step)
        for _ in range(80):
            step(1, step(1, total), total)  # (x - mean) / mean, say
    dag = Dag(costs, needs)
    counts = [1, 2, 3, 4, 7, 8, 16, 31, 32, 39, 40, 41, 64, 128, 300]
    for extra in (0, 1):
        expected = _list_schedules(dag, counts, extra)
        for found in _plan_makespans(dag, counts, extra):
            assert found == expected, extra


@settings(max_examples=60, deadline=None)
@given(dags(max_steps=25, costs=st.sampled_from([0, 1])),
       st.lists(st.integers(0, 5), min_size=25, max_size=25))  # fmt: skip
def test_makespan_of_one_duration_with_priorities_other_than_bottom_levels(dag, prio) -> None:
    # Priorities that are not bottom levels (the levels then may rise along the ranks, or
    # the ranks not follow the needs): no shortcut applies, the schedule is simulated; the
    # reference list scheduler with the same priorities.
    from array import array

    from serialscale.accel import pure_kernels
    from serialscale.core.schedule import list_schedule_makespan

    g = dag.graph()
    priority = prio[: g.n]
    for kernels in {accel.kernels(), pure_kernels}:
        plan = kernels.schedule_plan(array("d", map(float, priority)), g.costs_f64,
                                     g.pred_ptr, g.succ_ptr, g.succ_idx)  # fmt: skip
        for p in (1, 2, 3, 5, 30):
            assert kernels.makespan(plan, p, 0.0) == list_schedule_makespan(g, p, priority)


def test_makespan_is_in_the_json_report(tmp_path) -> None:
    from serialscale.core.graph import Graph

    graph = Graph.from_lists(["a", "b", "c", "d"], [4, 3, 3, 2], [[], [0], [0], [1, 2]])
    report = analyze_workload(Workload(name="w", graph=graph, source=None, unit="minutes"),
                              processors=2)  # fmt: skip
    rows = {r.processors: r.makespan for r in report.speedup}
    assert rows == {1: 12, 2: 9}  # 4 + 3 + 3 + 2 on one; a, then b and c side by side, then d


def _in_blocks(dag: Dag, p: int) -> bool:
    """Whether, ranking the steps by (networkx bottom level descending, index), every step's
    needs all rank in an earlier block of ``p`` ranks than its own (blocks ``[t*p, (t+1)*p)``):
    the condition under which csrc/schedule.c answers a one-duration schedule without
    simulating it (BLOCKS there), computed here from its definition."""
    levels = _bottom_levels(dag)
    order = sorted(range(len(dag.costs)), key=lambda v: (-levels[v], v))
    rank = {v: r for r, v in enumerate(order)}
    return all(rank[u] // p < rank[v] // p for v, row in enumerate(dag.needs) for u in row)


@st.composite
def _layered(draw) -> Dag:
    """Levels of random widths, each step needing a random few of the level before (and
    now and then of any earlier level): the shape of traced arithmetic, for which the
    blocks condition often holds."""
    rnd = draw(st.randoms(use_true_random=True))
    widths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=8))
    needs: list[list[int]] = []
    before: list[int] = []
    for width in widths:
        level = []
        for _ in range(width):
            pool = before if rnd.random() < 0.9 else list(range(len(needs)))
            level.append(len(needs))
            needs.append(sorted(rnd.sample(pool, min(len(pool), rnd.randint(1, 3)))))
        before = level
    return Dag([1] * len(needs), needs)


@settings(max_examples=120, deadline=None)
@given(st.one_of(_layered(), dags(max_steps=30, costs=st.just(1))),
       st.sampled_from([1, 3, 0.1]), st.sampled_from([0, 0.5]))  # fmt: skip
def test_makespan_of_one_duration_where_every_block_of_ranks_is_ready_in_turn(
    dag: Dag, cost, extra
) -> None:
    # Every step lasts the same: where each step's needs rank in an earlier block of P
    # ranks, the compiled schedule answers ceil(n / P) ticks without simulating (BLOCKS in
    # csrc/schedule.c, for P a power of two). Both the counts where the condition holds
    # and those where it does not: the reference list scheduler on the same graph.
    dag = Dag([cost] * len(dag.costs), dag.needs)
    counts = [1, 2, 3, 4, 8, 16, 32]
    expected = _list_schedules(dag, counts, extra)
    for found in _plan_makespans(dag, counts, extra):
        assert found == expected


def test_the_blocks_condition_is_met_by_a_stencil_and_answered_exactly() -> None:
    # A wide stencil (traced finite differences look so): the blocks condition holds for
    # every power of two below its width (checked here from its definition, so the
    # compiled shortcut is what answers), and the makespans are the list scheduler's.
    needs: list[list[int]] = [[] for _ in range(40)]
    row = list(range(40))
    for _ in range(12):
        row = [len(needs) + i for i in range(40)]
        needs += [[r - 40 for r in row[max(i - 1, 0) : i + 2]] for i in range(40)]
    dag = Dag([1] * len(needs), needs)
    counts = [2, 4, 8, 16, 32]
    assert all(_in_blocks(dag, p) for p in counts)
    assert not _in_blocks(dag, 64)  # past the width: simulated (or shortcut (b))
    for extra in (0, 2):
        expected = _list_schedules(dag, counts, extra)
        assert expected == [(len(needs) + p - 1) // p * (1 + extra) for p in counts]
        for found in _plan_makespans(dag, counts, extra):
            assert found == expected
