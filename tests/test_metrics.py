"""Metrics against independent oracles: networkx, path enumeration and closed forms."""

from __future__ import annotations

import itertools
import math
from array import array

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.core.graph import Graph
from serialscale.core.metrics import compute_metrics

from .conftest import Dag, chain, costs_float, dags, fan


def nx_depth(dag: Dag) -> float:
    """networkx weights edges, we weight steps: put each step's cost on its edge to a sink."""
    g = dag.nx()
    sink = "sink"
    g.add_node(sink)
    for v, _data in list(g.nodes(data=True)):
        if v != sink:
            g.add_edge(v, sink)
    for u, v in g.edges:
        g.edges[u, v]["w"] = g.nodes[u]["cost"]
    return nx.dag_longest_path_length(g, weight="w", default_weight=0)


def all_paths(dag: Dag) -> list[list[int]]:
    """Every maximal source-to-sink path, by brute force (small graphs only)."""
    g = dag.nx()
    sources = [v for v in g if g.in_degree(v) == 0]
    sinks = [v for v in g if g.out_degree(v) == 0]
    paths = [[v] for v in sources if v in sinks]
    for s in sources:
        for t in sinks:
            if s != t:
                paths.extend(nx.all_simple_paths(g, s, t))
    return paths


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@given(dags(max_steps=40))
def test_work_and_depth_match_networkx(dag: Dag) -> None:
    m = compute_metrics(dag.graph())
    assert m.work == sum(dag.costs)
    assert m.depth == nx_depth(dag)


@given(dags(max_steps=25, costs=costs_float))
def test_depth_matches_networkx_with_float_costs(dag: Dag) -> None:
    m = compute_metrics(dag.graph())
    assert close(m.depth, nx_depth(dag))
    assert m.depth <= m.work * (1 + 1e-12)


@given(dags(max_steps=40))
def test_critical_path_is_a_full_path_costing_depth(dag: Dag) -> None:
    g = dag.graph()
    m = compute_metrics(g)
    path = m.critical_path
    assert path, "a non-empty graph has a critical path"
    assert g.preds(path[0]) == []
    for a, b in itertools.pairwise(path):
        assert a in g.preds(b)
    assert sum(dag.costs[v] for v in path) == m.depth
    assert m.finish[path[-1]] == m.depth


@settings(max_examples=60)
@given(dags(max_steps=10))
def test_slack_against_path_enumeration(dag: Dag) -> None:
    """slack(v) = depth - (cost of the costliest source-to-sink path through v)."""
    m = compute_metrics(dag.graph())
    through = dict.fromkeys(range(len(dag.costs)), -1)
    for path in all_paths(dag):
        cost = sum(dag.costs[v] for v in path)
        for v in path:
            through[v] = max(through[v], cost)
    for v, best in through.items():
        assert m.slack[v] == m.depth - best
    for v in m.critical_path:
        assert m.slack[v] == 0


@settings(max_examples=60)
@given(dags(max_steps=10, costs=costs_float))
def test_slack_is_exactly_zero_on_float_critical_paths(dag: Dag) -> None:
    m = compute_metrics(dag.graph())
    assert all(m.slack[v] == 0 for v in m.critical_path)
    assert all(s >= 0 for s in m.slack)


def oracle_starts(dag: Dag) -> list[float]:
    """start(v) = costliest path into v, excluding v: enumerate ancestors with networkx."""
    g = dag.nx()
    starts = []
    for v in range(len(dag.costs)):
        sub = g.subgraph(nx.ancestors(g, v) | {v}).copy()
        for a, b in sub.edges:
            sub.edges[a, b]["w"] = dag.costs[a]
        starts.append(nx.dag_longest_path_length(sub, weight="w", default_weight=0))
    return starts


@settings(max_examples=60)
@given(dags(max_steps=14))
def test_width_and_profile_against_brute_force(dag: Dag) -> None:
    m = compute_metrics(dag.graph())
    starts = oracle_starts(dag)
    assert [m.number(x) for x in m.start] == starts
    intervals = [(s, s + c) for s, c in zip(starts, dag.costs, strict=True) if c > 0]
    # The peak of a set of half-open intervals is reached at some interval's start.
    peak = max((sum(a <= t < b for a, b in intervals) for t, _ in intervals), default=0)
    assert m.width == peak
    for seg in m.profile:
        mid = (seg.start + seg.end) / 2
        assert seg.running == sum(a <= mid < b for a, b in intervals)
    if m.profile:
        assert m.profile[0].start == 0 and m.profile[-1].end == m.depth
        for a, b in zip(m.profile, m.profile[1:], strict=False):
            assert a.end == b.start and a.running != b.running
    assert m.width <= len(dag.costs)
    assert m.depth <= m.work


def test_diamond_by_hand() -> None:
    #   a(2) -> b(3) -> d(1);  a -> c(5) -> d
    g = Graph.from_lists(["a", "b", "c", "d"], [2, 3, 5, 1], [[], [0], [0], [1, 2]])
    m = compute_metrics(g)
    assert (m.work, m.depth, m.width) == (11, 8, 2)
    assert m.critical_path == [0, 2, 3]
    assert [m.number(x) for x in m.slack] == [0, 2, 0, 0]
    assert [(s.start, s.end, s.running) for s in m.profile] == [(0, 2, 1), (2, 5, 2), (5, 8, 1)]


@pytest.mark.parametrize("n", [1, 2, 17, 100])
def test_chain_closed_form(n: int) -> None:
    m = compute_metrics(chain(n, cost=3))
    assert (m.work, m.depth, m.width) == (3 * n, 3 * n, 1)
    assert m.critical_path == list(range(n))
    assert all(s == 0 for s in m.slack)


@pytest.mark.parametrize("k", [1, 2, 64])
def test_fan_out_closed_form(k: int) -> None:
    m = compute_metrics(fan(k, cost=2))
    assert (m.work, m.depth, m.width) == (2 * (k + 2), 6, k)
    assert m.critical_path == [0, 1, k + 1]


def test_all_zero_costs() -> None:
    m = compute_metrics(chain(5, cost=0))
    assert (m.work, m.depth, m.width) == (0, 0, 0)
    assert m.profile == []
    assert len(m.critical_path) == 5


def test_zero_cost_steps_do_not_count_toward_width() -> None:
    g = Graph.from_lists(["a", "b", "c"], [0, 0, 4], [[], [], []])
    m = compute_metrics(g)
    assert m.width == 1 and m.depth == 4


@pytest.mark.slow
def test_million_step_chain() -> None:
    m = compute_metrics(chain(1_000_000))
    assert m.depth == 1_000_000 and m.width == 1
    assert len(m.critical_path) == 1_000_000


@given(st.lists(st.one_of(st.integers(0, 4), st.sampled_from([0.0, 0.5, 2.5])), max_size=60),
       st.integers(1, 12))  # fmt: skip
def test_near_critical_against_a_full_sort(slack: list, count: int) -> None:
    from serialscale.core.analysis import near_critical

    expected = sorted((s, i) for i, s in enumerate(slack) if s > 0)[:count]
    assert near_critical(slack, count) == [i for _, i in expected]
    # as the kernels' metrics give it: doubles (the compiled pass when built)
    assert near_critical(array("d", slack), count) == [i for _, i in expected]


def test_work_adds_float_costs_left_to_right_on_every_python() -> None:
    """One rounding per addition, in input order: the same on every Python (from 3.12 the
    builtin sum() compensates rounding and would give 1.0000000000000002e16 here)."""
    from serialscale.core.metrics import work
    from serialscale.core.summation import ordered_sum

    costs = [1e16, 1.0, 1.0]
    by_hand = 0.0
    for c in costs:
        by_hand = by_hand + c
    assert by_hand == 1e16
    graph = Graph.from_lists(["a", "b", "c"], costs, [[], [], []])
    assert work(graph) == ordered_sum(costs) == by_hand


@given(dags())
def test_step_levels_are_the_longest_chain_of_needs_before_each_step(dag: Dag) -> None:
    """Oracle: networkx's longest path (in edges) over the step's ancestors and itself."""
    from serialscale.core.metrics import step_levels

    g = dag.nx()
    expected = [nx.dag_longest_path_length(g.subgraph(nx.ancestors(g, i) | {i})) for i in g]
    assert step_levels(dag.graph()) == expected


@given(st.lists(st.one_of(st.integers(0, 4), st.sampled_from([0.0, 0.5, 2.5])), max_size=60),
       st.integers(-1, 12))  # fmt: skip
def test_most_against_a_full_sort(values: list, count: int) -> None:
    """``most`` (the ranking of top_drag) in both kernel modules: the largest values other
    than 0, ties by index, as a full sort ranks them; a NaN is refused."""
    from serialscale import accel
    from serialscale.accel import pure_kernels

    expected = [i for _, i in sorted((-v, i) for i, v in enumerate(values) if v)][: max(count, 0)]
    for k in (m for m in (accel._compiled, pure_kernels) if m is not None):
        assert k.most(array("d", values), count) == expected
        with pytest.raises(ValueError):
            k.most(array("d", [*values, math.nan]), count)


@given(st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([2**63 - 1, -(2**63)])),
                max_size=40))  # fmt: skip
def test_int_sum_is_the_exact_sum(values: list[int]) -> None:
    """The work of integer costs (``int_sum``, compiled and pure) is Python's exact sum, also
    where partial sums leave 64 bits (each direction) and come back."""
    from serialscale import accel

    modules = [accel.pure_kernels] + ([accel._compiled] if accel.available() else [])
    for k in modules:
        assert k.int_sum(array("q", values)) == sum(values)
        with pytest.raises(TypeError):
            k.int_sum(array("d", map(float, values)))


@pytest.mark.skipif(
    not __import__("serialscale.accel").accel.compiled_kernels_in_use(),
    reason="no pass runs on a thread without the compiled kernels (background.beside)",
)
def test_the_side_by_side_passes_give_the_same_report(monkeypatch) -> None:
    """A graph large enough for the passes to run on threads (ASAP beside the bottom levels,
    the speedup table beside drag) gets the very report the passes give one after the other,
    and one whose numbers networkx confirms."""
    import random

    from serialscale import Workload, analyze_workload
    from serialscale.core import background
    from serialscale.render.json_report import render_json

    rnd = random.Random(7)
    n = background.SIDE_BY_SIDE_STEPS + 500
    needs = [rnd.sample(range(i), min(i, rnd.randrange(3))) for i in range(n)]
    costs = [rnd.randrange(3) for _ in range(n)]
    graph = Graph.from_lists([f"s{i}" for i in range(n)], costs, needs)
    threaded = render_json(analyze_workload(Workload("w", graph), processors=8))
    monkeypatch.setattr(background, "SIDE_BY_SIDE_STEPS", 10**9)
    assert render_json(analyze_workload(Workload("w", graph), processors=8)) == threaded
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((u, v) for v, row in enumerate(needs) for u in row)
    nx.set_node_attributes(g, dict(enumerate(costs)), "cost")
    finish: dict[int, int] = {}
    for v in nx.topological_sort(g):
        finish[v] = costs[v] + max((finish[u] for u in g.predecessors(v)), default=0)
    import json

    assert json.loads(threaded)["depth"] == max(finish.values())


def test_a_pass_on_a_thread_hands_back_its_result_or_its_error(monkeypatch) -> None:
    """``background.started``: the result, the error raised, and, where no thread can start,
    the call made at once."""
    import threading

    from serialscale.core.background import started

    assert started(sum, [1, 2, 3])() == 6
    failing = started(int, "x")
    with pytest.raises(ValueError):
        failing()

    def refuse(self) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    calls = []
    result = started(calls.append, 1)
    assert calls == [1]  # made at once, here
    assert result() is None
