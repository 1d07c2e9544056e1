"""Speedup model: bounds, Brent's guarantee, the list-schedule simulation and overhead."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from serialscale.core.graph import Graph
from serialscale.core.metrics import compute_metrics
from serialscale.core.schedule import (
    burdened_depth,
    list_schedule_makespan,
    processor_counts,
    speedup_table,
)

from .conftest import Dag, chain, costs_float, dags, fan

EPS = 1e-9


@given(dags(max_steps=30))
def test_speedup_invariants(dag: Dag) -> None:
    g = dag.graph()
    m = compute_metrics(g)
    rows = speedup_table(g, m, processors=8)
    assert [r.processors for r in rows] == processor_counts(m.width, 8)
    for r in rows:
        if m.depth == 0:
            assert r.simulated is None and r.upper is None
            continue
        assert r.guaranteed <= r.simulated * (1 + EPS)
        assert r.simulated <= r.upper * (1 + EPS)
        assert r.upper == min(r.processors, m.work / m.depth)
        if r.processors >= m.width:
            assert r.simulated == m.work / m.depth


@settings(max_examples=80)
@given(dags(max_steps=30, costs=costs_float))
def test_simulation_itself_meets_the_exact_rows(dag: Dag) -> None:
    """The table skips simulating P = 1 and P >= width; the simulation must agree there."""
    g = dag.graph()
    m = compute_metrics(g)
    assert math.isclose(list_schedule_makespan(g, 1, m.bottom_level), m.work, rel_tol=1e-9)
    for p in (max(m.width, 1), m.width + 1, 2 * m.width + 3):
        assert list_schedule_makespan(g, p, m.bottom_level) == m.depth
    for p in range(1, m.width + 1):
        makespan = list_schedule_makespan(g, p, m.bottom_level)
        # Graham's bound for any greedy schedule, and the work and span laws.
        assert makespan <= (m.work - m.depth) / p + m.depth + 1e-9
        assert makespan >= max(m.depth, m.work / p) - 1e-9


def test_fan_out_on_eight_processors_by_hand() -> None:
    g = fan(64)
    m = compute_metrics(g)
    assert list_schedule_makespan(g, 8, m.bottom_level) == 1 + 8 + 1
    row = next(r for r in speedup_table(g, m, 8) if r.processors == 8)
    assert row.simulated == 66 / 10
    assert row.guaranteed == 66 / ((66 - 3) / 8 + 3)


def test_critical_path_first_beats_input_order() -> None:
    # a long chain (x1..x3) and three short independent steps listed first; on 2 processors,
    # critical-path-first starts the chain at once and finishes at 3.
    ids = ["s1", "s2", "s3", "x1", "x2", "x3"]
    g = Graph.from_lists(ids, [1] * 6, [[], [], [], [], [3], [4]])
    m = compute_metrics(g)
    assert list_schedule_makespan(g, 2, m.bottom_level) == 3


def test_chain_gets_no_speedup() -> None:
    g = chain(100)
    m = compute_metrics(g)
    assert all(r.simulated == 1 for r in speedup_table(g, m, 8))


def test_processor_counts() -> None:
    assert processor_counts(1, 8) == [1, 2, 4, 8]
    assert processor_counts(20, 8) == [1, 2, 4, 8, 16, 32]
    assert processor_counts(3, 6) == [1, 2, 4, 6, 8]
    assert processor_counts(0, 1) == [1]


def test_overhead_burdens_the_span() -> None:
    g = fan(4, cost=2)
    m = compute_metrics(g)
    assert burdened_depth(g, 0) == 6
    assert burdened_depth(g, 1) == 9  # three steps on the path, each +1
    rows = speedup_table(g, m, 4, overhead=1)
    by_p = {r.processors: r for r in rows}
    assert by_p[1].simulated_burdened == 1.0
    # 4 processors: src 3, the four workers at once 3, sink 3 -> makespan 9
    assert by_p[4].simulated_burdened == m.work / 9
    assert by_p[4].simulated == m.work / 6


@pytest.mark.parametrize("overhead", [0, 0.5])
def test_all_zero_costs_give_null_speedups(overhead: float) -> None:
    g = chain(3, cost=0)
    m = compute_metrics(g)
    rows = speedup_table(g, m, 8, overhead)
    assert all(r.simulated is None and r.guaranteed is None for r in rows)


def test_the_simulation_runs_on_when_no_thread_can_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a capped address space, starting a thread fails (RuntimeError): the processor
    counts are simulated one at a time instead, with the same makespans as the pure-Python
    list schedule (found by a fresh-clone run of the ulimit test: "internal error")."""
    import random
    import threading

    from serialscale.core.schedule import THREADED_STEPS

    rnd = random.Random(3)
    n = THREADED_STEPS + 500
    needs = [[rnd.randrange(i)] if i else [] for i in range(n)]  # a random tree: wide
    g = Graph.from_lists([f"s{i}" for i in range(n)], [rnd.randint(1, 9) for _ in range(n)], needs)
    m = compute_metrics(g)
    assert m.width > 8

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    rows = speedup_table(g, m, processors=8)
    for r in rows:
        assert r.simulated is not None and r.processors > 0
        oracle = list_schedule_makespan(g, r.processors, m.bottom_level, 0)
        assert math.isclose(m.work / oracle, r.simulated, rel_tol=1e-12)
