"""Each speedup row's makespan (issue 25): the simulated wall time in the workload's unit,
checked against a list scheduler written here from its definition (networkx bottom levels)
and against the work, span and Brent bounds."""

from __future__ import annotations

import heapq

import networkx as nx
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


def _list_schedule(dag: Dag, p: int) -> float:
    """Whenever a processor is free, start the ready step with the largest bottom level
    (ties: the first in input order); zero-cost steps finish at once."""
    g, levels, n = dag.nx(), _bottom_levels(dag), len(dag.costs)
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
            if dag.costs[v] == 0:
                done += 1
                finish(v)
            else:
                heapq.heappush(running, (now + dag.costs[v], v))
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
    for row in speedup_table(g, m, processors=4):
        p = row.processors
        assert row.makespan == _list_schedule(dag, p)
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
    for p in (1, 2, 3, 7, 64):
        for kernels in {accel.kernels(), pure_kernels}:
            assert _simulate(g, m, [(p, 0)], kernels)[p, 0] == _list_schedule(dag, p)


def test_makespan_is_in_the_json_report(tmp_path) -> None:
    from serialscale.core.graph import Graph

    graph = Graph.from_lists(["a", "b", "c", "d"], [4, 3, 3, 2], [[], [0], [0], [1, 2]])
    report = analyze_workload(Workload(name="w", graph=graph, source=None, unit="minutes"),
                              processors=2)  # fmt: skip
    rows = {r.processors: r.makespan for r in report.speedup}
    assert rows == {1: 12, 2: 9}  # 4 + 3 + 3 + 2 on one; a, then b and c side by side, then d
