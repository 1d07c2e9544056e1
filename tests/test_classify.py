"""Classification bands and recommendations."""

from __future__ import annotations

from serialscale import Workload, analyze_workload
from serialscale.core.graph import Graph

from .conftest import WORKLOADS, chain, fan


def wl(graph: Graph, unit: str | None = None) -> Workload:
    return Workload(name="w", graph=graph, unit=unit)


def test_hundred_step_chain_is_serial() -> None:
    r = analyze_workload(wl(chain(100)))
    assert r.classification == "serial"
    assert r.recommendation.strategy == "serial-leaning"
    assert r.recommendation.processors == 1
    assert r.recommendation.focus  # points at critical-path steps


def test_fan_out_of_64_is_parallel() -> None:
    r = analyze_workload(wl(fan(64)))
    assert r.classification == "parallel"
    rec = r.recommendation
    assert rec.strategy == "parallel-leaning"
    # The answer is for the target, 8: source, 8 rounds of 8, sink = 10: 66/10 = 6.6x; 4 give
    # 66/18 = 3.7x, less than 90% of that, so no fewer do as well; 16 would give 66/6 = 11x.
    assert rec.processors == 8
    assert rec.expected_speedup == 6.6
    assert "8 processors give 6.60x, 10 instead of 66" in rec.reason
    assert "more would help: 16 give 11.00x" in rec.reason
    wide = analyze_workload(wl(fan(64)), processors=64).recommendation
    assert wide.processors == 64 and wide.expected_speedup == 22  # 66/3


def test_fewer_processors_that_do_as_well_are_named() -> None:
    g = Graph.from_lists(["a", "b", "c"], [3, 3, 3], [[], [], []])
    rec = analyze_workload(wl(g, "minutes"), processors=8).recommendation
    assert rec.processors == 4 and rec.expected_speedup == 3
    assert rec.reason.startswith("8 processors give 3.00x, 3 minutes instead of 9")
    assert "; 4 do as well (3.00x)" in rec.reason


def test_focus_names_the_costliest_critical_steps() -> None:
    g = Graph.from_lists(["a", "b", "c", "d"], [1, 9, 2, 5], [[], [0], [1], [2]])
    r = analyze_workload(wl(g, "s"))
    assert r.recommendation.focus == ["b", "d", "c"]  # in a chain, drag is the cost
    assert "'b' (drag 9 s), 'd' (drag 5 s), 'c' (drag 2 s)" in r.recommendation.reason


def test_focus_follows_drag_not_cost() -> None:
    # b (10) runs beside c (8): b's drag is 2; a and d drag by their whole cost
    g = Graph.from_lists(["a", "b", "c", "d"], [3, 10, 8, 4], [[], [0], [0], [1, 2]])
    rec = analyze_workload(wl(g)).recommendation
    assert rec.focus == ["d", "a", "b"]
    parallel = analyze_workload(wl(fan(64))).recommendation
    assert parallel.focus == ["src", "sink"]  # named for parallel workloads too


def test_focus_ties_keep_path_order_and_zero_costs_are_left_out() -> None:
    costs = [0, 4, 1, 4, 0, 4, 2]
    ids = [f"s{i}" for i in range(len(costs))]
    g = Graph.from_lists(ids, costs, [[i - 1] if i else [] for i in range(len(costs))])
    r = analyze_workload(wl(g))
    expected = [ids[i] for i in sorted(range(len(costs)), key=lambda i: -costs[i])[:3]]
    assert r.recommendation.focus == expected == ["s1", "s3", "s5"]
    only_zero = Graph.from_lists(["a", "b"], [0, 0], [[], [0]])
    assert analyze_workload(wl(only_zero)).recommendation.focus == []


def test_mixed_band() -> None:
    # ceiling 3 (>= 2) but 8 processors cannot be kept half busy
    g = Graph.from_lists(["a", "b", "c"], [3, 3, 3], [[], [], []])
    r = analyze_workload(wl(g))
    assert r.speedup_ceiling == 3
    assert r.classification == "mixed"
    assert r.recommendation.strategy == "parallel-leaning"
    assert r.recommendation.processors == 4  # first power of two at or above width 3


def test_target_processors_change_the_band() -> None:
    g = Graph.from_lists(["a", "b", "c"], [3, 3, 3], [[], [], []])
    assert analyze_workload(wl(g), processors=2).classification == "parallel"
    assert analyze_workload(wl(g), processors=32).classification == "mixed"


def test_all_zero_costs_are_serial_with_null_ratios() -> None:
    r = analyze_workload(wl(chain(4, cost=0)))
    assert r.speedup_ceiling is None and r.serial_fraction is None
    assert r.classification == "serial"


def test_bundled_examples_classify_as_their_comments_say() -> None:
    from serialscale import analyze

    expected = {
        "mapreduce.yaml": "parallel",
        "reasoning_chain.yaml": "serial",
        "ml_training.yaml": "serial",
        "ci_build.yaml": "mixed",
    }
    for name, cls in expected.items():
        assert analyze(WORKLOADS / name).classification == cls, name
