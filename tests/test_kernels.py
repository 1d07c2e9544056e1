"""The compiled kernels give exactly the reports of the straightforward pure-Python passes."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import Workload, analyze_workload
from serialscale import accel as kernels
from serialscale.core.graph import CycleError, Graph
from serialscale.render.json_report import render_json

from .conftest import Dag, costs_float, dags

pytestmark = [
    pytest.mark.skipif(not kernels.available(), reason="kernels not built"),
    pytest.mark.slow,  # each test runs both implementations itself: the pure pass adds nothing
]
uses_default_selection = pytest.mark.skipif(
    os.environ.get(kernels.PURE_ENV) == "1", reason="pure Python forced: no fast JSON path"
)

small_ints = st.integers(min_value=0, max_value=3)  # many ties in the critical path


def both(dag: Dag, **options) -> tuple[str, str]:
    reports = []
    for fast in (False, True):
        with kernels.accelerated(fast):
            graph = Graph.from_lists(dag.ids, dag.costs, dag.needs)
            report = analyze_workload(Workload("w", graph), detail=True, **options)
            reports.append(render_json(report))
    return reports[0], reports[1]


@settings(max_examples=150)
@given(dags(max_steps=40, costs=small_ints), st.sampled_from([0, 1, 2.5]), st.integers(1, 16))
def test_same_report_with_integer_costs(dag: Dag, overhead, processors: int) -> None:
    slow, fast = both(dag, overhead=overhead, processors=processors)
    assert slow == fast


@settings(max_examples=150)
@given(dags(max_steps=40, costs=costs_float), st.sampled_from([0, 0.25, 3]))
def test_same_report_with_float_costs(dag: Dag, overhead) -> None:
    slow, fast = both(dag, overhead=overhead)
    assert slow == fast


@given(dags(max_steps=30, costs=st.one_of(small_ints, costs_float)))
def test_same_report_with_mixed_costs(dag: Dag) -> None:
    slow, fast = both(dag)
    assert slow == fast
    data = json.loads(slow)
    if any(isinstance(c, float) for c in dag.costs):
        assert all(isinstance(r["start"], float) for r in data["detail"])


@given(dags(max_steps=30))
def test_same_graph_arrays(dag: Dag) -> None:
    with kernels.accelerated(False):
        a = Graph.from_lists(dag.ids, dag.costs, dag.needs)
    with kernels.accelerated(True):
        b = Graph.from_lists(dag.ids, dag.costs, dag.needs)
    assert (a.pred_ptr, a.pred_idx, a.succ_ptr, a.succ_idx) == (
        b.pred_ptr, b.pred_idx, b.succ_ptr, b.succ_idx,
    )  # fmt: skip
    assert sorted(a.order) == sorted(b.order)


def test_same_cycle() -> None:
    needs = [[3], [0], [1], [2], []]
    cycles = []
    for fast in (False, True):
        with pytest.raises(CycleError) as info, kernels.accelerated(fast):
            Graph.from_lists(["a", "b", "c", "d", "e"], [1] * 5, needs)
        cycles.append(info.value.cycle)
    assert cycles[0] == cycles[1] == [0, 1, 2, 3, 0]


def test_huge_integer_costs_stay_exact() -> None:
    big = 2**60
    dag = Dag([big, big + 1, 3], [[], [0], [1]])
    slow, fast = both(dag)
    assert slow == fast
    assert json.loads(fast)["depth"] == 2 * big + 4


def test_pure_python_can_be_forced(monkeypatch) -> None:
    monkeypatch.setenv(kernels.PURE_ENV, "1")
    assert kernels.kernels() is kernels.pure_kernels
    with kernels.accelerated(True):  # the module-level setting wins over the environment
        assert kernels.kernels() is kernels._compiled
    assert kernels.kernels() is kernels.pure_kernels


@uses_default_selection
@settings(max_examples=60)
@given(dags(max_steps=30, costs=st.one_of(small_ints, costs_float)), st.booleans())
def test_fast_json_path_gives_the_checked_paths_workload(dag: Dag, int_ids: bool) -> None:
    from serialscale.sources import json_fast, workload_file

    ids = list(range(len(dag.costs))) if int_ids else dag.ids
    steps = []
    for i, cost in enumerate(dag.costs):
        step = {"id": ids[i], "cost": cost}
        if dag.needs[i]:
            step["needs"] = [ids[j] for j in dag.needs[i]]
        steps.append(step)
    doc = {"name": "w", "unit": "s", "steps": steps}
    data = json.dumps(doc).encode()
    assert json_fast.json_columns(data) is not None  # the fast path takes it
    fast = workload_file.parse_workload(data, "w.json", is_json=True)
    original = json_fast.json_columns
    json_fast.json_columns = lambda data, *limits: None
    try:
        checked = workload_file.parse_workload(data, "w.json", is_json=True)
    finally:
        json_fast.json_columns = original
    assert render_json(analyze_workload(fast, detail=True)) == render_json(
        analyze_workload(checked, detail=True)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"a": 1, "b": {"a": 2}, "a": 3}', len(b'{"a": 1, "b": {"a": 2}, ')),
        (b'{"x": "\\"a\\":", "a": 1}', -1),
        (b'{"a": [{"a": 1, "b": ["a", "a"]}]}', -1),
        (
            b'{"steps": [{"id": "a", "cost": 1}, {"id": "b", "id": "c"}]}',
            len(b'{"steps": [{"id": "a", "cost": 1}, {"id": "b", '),
        ),
        (b"[" * 5000, -2),
        (b'{"a": "unterminated', -2),
    ],
)
def test_json_duplicate_key_scan(text: bytes, expected: int) -> None:
    from serialscale.accel import _kernels

    assert _kernels.json_duplicate_key(text) == expected


@uses_default_selection
def test_fast_json_path_falls_back_for_anything_unusual() -> None:
    from serialscale.sources.json_fast import json_columns

    assert json_columns(b'{"steps": [{"id": "a", "cost": -1}]}') is None
    assert json_columns(b'{"steps": [{"id": "a", "id": "b"}]}') is None
    assert json_columns(b'{"params": {"n": 2}, "steps": [{"id": "a"}]}') is None
    assert json_columns(b'{"steps": []}') is None
    assert json_columns(b'{"steps": [{"id": ""}]}') is None
    assert json_columns(b'{"steps": [{"id": "a"}]}') is not None


def random_graph(n: int, seed: int, costs: list, fan_in: int = 0) -> Graph:
    """A random DAG of ``n`` steps, up to 3 random earlier needs each, input order shuffled;
    with ``fan_in``, one last step needs ``fan_in`` of the others."""
    import random

    rnd = random.Random(seed)
    perm = list(range(n))
    rnd.shuffle(perm)
    needs: list[list[int]] = [[] for _ in range(n)]
    for k in range(1, n):
        # each need once: a repeated need sends the graph through the pure-Python dedupe
        # (seconds at 270,000 steps), which is not what these tests are about
        needs[perm[k]] = list({perm[rnd.randrange(k)] for _ in range(rnd.randint(0, 3))})
    if fan_in:
        needs.append(rnd.sample(range(n), fan_in))
    ids = [f"s{i}" for i in range(len(needs))]
    return Graph.from_lists(ids, [rnd.choice(costs) for _ in ids], needs)


# The compiled schedule picks its data structures by the graph: a ring of buckets for whole
# durations under 65,536 (else a heap), one-byte waiting counts when no step needs more than
# 255 others (else four bytes), a bitset of 3 or 4 levels, and ticks without a running set
# when every step that lasts at all lasts the same. Each case against the reference.
@pytest.mark.parametrize(
    ("n", "costs", "fan_in", "overheads"),
    [
        (5000, [0, 1, 2, 3], 0, [0, 1]),  # ring; many ties and zero-cost steps; 3 levels
        (5000, [1, 63, 64], 300, [0, 1]),  # ring of 128 buckets exactly at the edge; wide counts
        (4000, [0, 1, 70_000], 0, [0]),  # whole costs too long for the ring: heap
        (4000, [0, 1, 65_535], 0, [0, 1]),  # longest 65,535 (ring), then 65,536 (heap)
        (3000, [0.5, 0.25, 1.75, 3.0], 300, [0, 2]),  # heap with wide counts
        (3000, [1, 2, 3], 0, [0.5]),  # whole costs, fractional overhead: heap
        (270_000, [1, 2, 5, 10], 0, [0]),  # 4 bitset levels: 270,000 ranks > 64**3
        # One duration for every step (a traced run's unit costs): tick by tick, no running
        # set; with an overhead, whole or not; a float cost added up tick after tick.
        (5000, [1], 0, [0, 1, 0.5]),
        (5000, [1], 300, [0]),  # wide counts
        (3000, [0.1], 0, [0, 0.3]),
        (3000, [0], 0, [0, 2]),  # all zero: completes at once; with an overhead, uniform
        (5000, [0, 1], 0, [0, 1]),  # ticks with steps of cost 0 between; with an overhead not
        (3000, [0, 0, 0.1], 300, [0]),
        (270_000, [1], 0, [0]),  # 4 bitset levels
    ],
)
def test_compiled_schedule_matches_the_reference(n: int, costs: list, fan_in: int, overheads):
    from serialscale.core.metrics import compute_metrics
    from serialscale.core.schedule import _simulate, list_schedule_makespan

    graph = random_graph(n, seed=n + fan_in, costs=costs, fan_in=fan_in)
    with kernels.accelerated(True):
        m = compute_metrics(graph)
    counts = [4096] if n > 100_000 else [2, 7, 64, 1000]  # the reference is slow at 270,000
    wanted = [(p, c) for p in counts for c in overheads]
    fast = _simulate(graph, m, wanted, kernels._compiled)
    levels = list(m.bottom_level)
    for p, c in wanted:
        assert fast[p, c] == list_schedule_makespan(graph, p, levels, c), (p, c)


@settings(max_examples=60)
@given(st.integers(1, 3000), st.integers(0, 10**6), st.sampled_from([[1], [0, 1, 2], [0, 3]]))
def test_whole_priorities_give_the_schedule_of_any_order_kept(n: int, seed: int, costs) -> None:
    """Whole-number priorities in a small range are counted into rank order, others are
    radix-sorted (csrc/schedule.c): priorities moved out of that range, or made fractional,
    in the same order, give the same schedule; the reference simulates one of them."""
    from array import array

    from serialscale.core.metrics import compute_metrics
    from serialscale.core.schedule import list_schedule_makespan

    graph = random_graph(n, seed=seed, costs=costs)
    with kernels.accelerated(True):
        m = compute_metrics(graph)
    levels = m.bottom_level
    k = kernels._compiled
    variants = [array("d", levels), array("d", (2 * x + 0.5 for x in levels)),
                array("d", (x + 2.0**40 for x in levels))]  # fmt: skip
    plans = [k.schedule_plan(v, graph.costs_f64, graph.pred_ptr, graph.succ_ptr, graph.succ_idx)
             for v in variants]  # fmt: skip
    for p in (2, 3, 16):
        spans = [k.makespan(plan, p, 0.0) for plan in plans]
        assert spans == [list_schedule_makespan(graph, p, list(levels))] * 3, p


@pytest.mark.parametrize("costs", [[0, 1, 2, 3], [0.5, 0.25, 1.75, 3.0, 0.1], [0, 1, 10**9]])
def test_compiled_profile_matches_the_reference_on_a_large_graph(costs: list) -> None:
    """Whole times in a small range are counted, others sorted (csrc/metrics.c): both
    against the pure-Python pass (integer costs up to 10**9: times past the counted range)."""
    from serialscale.core.metrics import asap_schedule, compute_metrics, profile

    graph = random_graph(20_000, seed=7, costs=costs)
    start, finish = asap_schedule(graph)
    expected = [(s.start, s.end, s.running) for s in profile(graph, start, finish)]
    with kernels.accelerated(True):
        got = compute_metrics(graph).profile
    assert [(s.start, s.end, s.running) for s in got] == expected


@uses_default_selection
def test_fast_json_path_resolves_long_and_non_ascii_ids() -> None:
    """resolve_names compares short ASCII ids inside its table and any other id through the
    id object: ids on both sides of the 16-character line, sharing prefixes, not ASCII."""
    from serialscale.sources import workload_file

    ids = ["α", "Ωmega", "naïve", "日本", "a", "é" * 40, "x" * 15, "x" * 16, "x" * 17,
           "x" * 16 + "y", "x" * 40, "x" * 39 + "y"]  # fmt: skip
    steps = [{"id": ids[0]}] + [{"id": ids[i], "needs": ids[:i]} for i in range(1, len(ids))]
    data = json.dumps({"steps": steps}, ensure_ascii=False).encode()
    graph = workload_file.parse_workload(data, "w.json", is_json=True).graph
    assert list(graph.ids) == ids
    assert [graph.preds(i) for i in range(len(ids))] == [list(range(i)) for i in range(len(ids))]


@pytest.mark.parametrize(
    ("ids", "needs", "status"),
    [
        (["ab", "cd"], [[], ["ab"]], 0),
        (["ab", "ab"], [[], []], 1),  # a repeated short id
        (["y" * 20, "y" * 20], [[], []], 1),  # a repeated long id
        (["é", "é"], [[], []], 1),  # a repeated non-ASCII id
        (["ab", "cd"], [[], ["zz"]], 1),  # an unknown need
        (["y" * 20, "y" * 19 + "z"], [[], ["y" * 19 + "q"]], 1),  # unknown, a shared prefix
        (["ab", "cd"], [[], [3]], 1),  # a need that is not a str
    ],
)
def test_resolve_names_hands_every_problem_to_the_checked_path(ids, needs, status) -> None:
    from array import array

    from serialscale.accel import _kernels

    m = sum(map(len, needs))
    ptr, idx = array("q", bytes(8 * (len(ids) + 1))), array("q", bytes(8 * m))
    assert _kernels.resolve_names(ids, needs, ptr, idx) == status
    if status == 0:
        assert list(ptr) == [0, 0, 1] and list(idx) == [0]


@uses_default_selection
def test_fast_json_path_resolves_needs_across_its_lookup_chunks() -> None:
    """Needs are looked up 8,192 at a time: rows that cross chunks, and one longer than one."""
    from serialscale.sources import workload_file

    n = 10_000
    steps = [{"id": f"s{i}", "needs": [f"s{j}" for j in range(max(0, i - 3), i)]}
             for i in range(n)]  # fmt: skip
    steps.append({"id": "all", "needs": [f"s{j}" for j in reversed(range(n))]})
    data = json.dumps({"steps": steps}).encode()
    graph = workload_file.parse_workload(data, "w.json", is_json=True).graph
    assert all(graph.preds(i) == list(range(max(0, i - 3), i)) for i in range(n))
    assert graph.preds(n) == list(reversed(range(n)))


# --- The kernels refuse what would make them read or write out of bounds. ---


def _arrays():
    from array import array

    return array, array("q", [0, 1]), array("q", [0, 0, 1]), array("q", [0])


@pytest.mark.parametrize(
    "call",
    [
        # output buffers that are read-only or of the wrong type
        lambda k, a, order, ptr, idx: k.asap(
            order, ptr, idx, a("d", [1, 1]), 0.0, bytes(16), a("d", [0, 0])
        ),
        lambda k, a, order, ptr, idx: k.asap(
            order,
            ptr,
            idx,
            a("d", [1, 1]),
            0.0,
            memoryview(a("d", [0, 0])).toreadonly(),
            a("d", [0, 0]),
        ),
        lambda k, a, order, ptr, idx: k.asap(
            order, ptr, idx, a("d", [1, 1]), 0.0, a("q", [0, 0]), a("d", [0, 0])
        ),
        lambda k, a, order, ptr, idx: k.slack(a("d", [0, 0]), a("d", [0, 0]), 1.0, 0.0, b"\0" * 16),
        lambda k, a, order, ptr, idx: k.successors(ptr, idx, bytes(24), a("q", [0])),
        lambda k, a, order, ptr, idx: k.topological_order(
            ptr, a("q", [0, 1, 1]), a("q", [1]), memoryview(a("q", [0, 0])).toreadonly()
        ),
        # indices out of range, offsets that decrease or overrun
        lambda k, a, order, ptr, idx: k.asap(
            a("q", [0, 7]), ptr, idx, a("d", [1, 1]), 0.0, a("d", [0, 0]), a("d", [0, 0])
        ),
        lambda k, a, order, ptr, idx: k.asap(
            order, ptr, a("q", [5]), a("d", [1, 1]), 0.0, a("d", [0, 0]), a("d", [0, 0])
        ),
        lambda k, a, order, ptr, idx: k.asap(
            order, a("q", [0, 1, 0]), idx, a("d", [1, 1]), 0.0, a("d", [0, 0]), a("d", [0, 0])
        ),
        lambda k, a, order, ptr, idx: k.asap(
            order, a("q", [0, 0, 9]), idx, a("d", [1, 1]), 0.0, a("d", [0, 0]), a("d", [0, 0])
        ),
        lambda k, a, order, ptr, idx: k.bottom_levels(
            order, a("q", [0, 1, 1]), a("q", [-3]), a("d", [1, 1]), a("d", [0, 0])
        ),
        lambda k, a, order, ptr, idx: k.count_duplicates(a("q", [0, 2, 1]), a("q", [0, 0])),
        lambda k, a, order, ptr, idx: k.successors(
            a("q", [0, 0, 3]), idx, a("q", [0, 0, 0]), a("q", [0])
        ),
        lambda k, a, order, ptr, idx: k.critical_path(
            ptr, a("q", [3]), a("q", [0, 1, 1]), a("d", [0, 1]), a("d", [1, 2]), 2.0
        ),
        lambda k, a, order, ptr, idx: k.schedule_plan(
            a("d", [1, 1]), a("d", [1, 1]), ptr, a("q", [0, 1, 1]), a("q", [4])
        ),
        lambda k, a, order, ptr, idx: k.schedule_plan(
            a("d", [1, 1]), a("d", [-1, 1]), ptr, a("q", [0, 1, 1]), a("q", [1])
        ),
        lambda k, a, order, ptr, idx: k.makespan(
            k.schedule_plan(a("d", [2, 1]), a("d", [1, 1]), ptr, a("q", [0, 1, 1]), a("q", [1])),
            0,
            0.0,
        ),
        # start and finish that are not an ASAP schedule: no walk off the path
        lambda k, a, order, ptr, idx: k.critical_path(
            ptr, idx, a("q", [0, 1, 1]), a("d", [0, 5]), a("d", [1, 6]), 6.0
        ),
    ],
)
def test_kernels_refuse_bad_buffers_with_an_exception(call) -> None:
    array, order, ptr, idx = _arrays()
    with pytest.raises((TypeError, ValueError)):
        call(kernels._compiled, array, order, ptr, idx)


def test_kernels_never_write_into_read_only_inputs() -> None:
    from array import array

    graph = Graph.from_lists(["a", "b", "c"], [1, 2, 3], [[], [0], [0, 1]])
    before = [bytes(getattr(graph, n)) for n in ("pred_ptr", "pred_idx", "succ_ptr", "order")]
    start, finish = array("d", [0] * 3), array("d", [0] * 3)
    kernels._compiled.asap(graph.order, graph.pred_ptr, graph.pred_idx, graph.costs_f64, 0.0,
                           start, finish)  # fmt: skip
    assert list(finish) == [1, 3, 6]
    after = [bytes(getattr(graph, n)) for n in ("pred_ptr", "pred_idx", "succ_ptr", "order")]
    assert before == after


def test_integer_costs_past_two_to_the_53_simulate_exactly() -> None:
    """Past 2**53 the compiled simulation would round; the schedule then runs in Python ints,
    and every row keeps guaranteed <= simulated <= upper on both implementations."""
    big = 2**53 + 1
    dag = Dag([big, 1, 1, big, 3], [[], [], [], [1, 2], [0, 3]])
    slow, fast = both(dag, processors=2)
    assert slow == fast
    for row in json.loads(fast)["speedup"]:
        assert row["guaranteed"] <= row["simulated"] <= row["upper"]


@pytest.mark.skipif(os.environ.get("SERIALSCALE_EXPECT_SANITIZED") != "1", reason="make sanitize")
def test_make_sanitize_loads_the_sanitized_build() -> None:
    """Under ``make sanitize`` the kernels the suite loads are the sanitized copies."""
    from pathlib import Path

    from serialscale.trace import recorder

    assert "build/sanitize" in Path(kernels._compiled.__file__).as_posix()
    assert recorder.COMPILED


# --- issue 27's C points: twins agree on bad input; counts cannot wrap ------------------------


@pytest.mark.skipif(not kernels.available(), reason="not built")
@pytest.mark.parametrize(
    "succ",
    [
        ([0, 2, 2], [1, 1]),  # step 1 named twice by step 0, but it needs one step
        ([0, 0, 0], []),  # step 1 needs a step that names no successor
        ([0, 1, 257], [1] + [0] * 256),  # 256 entries: a one-byte count wrapped to 0, forever
    ],
)
def test_schedule_plan_refuses_counts_that_disagree_with_the_successors(succ) -> None:
    from array import array

    ptr, idx = succ
    with pytest.raises(ValueError, match="do not match the successor lists"):
        kernels._compiled.schedule_plan(array("d", [2, 1]), array("d", [1, 1]),
                                        array("q", [0, 0, 1]), array("q", ptr),
                                        array("q", idx))  # fmt: skip


def test_critical_path_twins_refuse_a_depth_no_last_step_reaches() -> None:
    from array import array

    from serialscale.core import metrics

    graph = Graph.from_lists(["a", "b"], [1, 1], [[], [0]])
    start, finish = array("d", [0, 1]), array("d", [5, 2])  # the largest finish has a successor
    with pytest.raises(ValueError, match="no step without successors finishes at depth"):
        metrics.critical_path(graph, start, finish)
    if kernels.available():
        with pytest.raises(ValueError, match="no step without successors finishes at depth"):
            kernels._compiled.critical_path(graph.pred_ptr, graph.pred_idx, graph.succ_ptr,
                                            start, finish, 5.0)  # fmt: skip
    bad = array("d", [0, 3])  # b starts when no need of it finishes
    with pytest.raises(ValueError, match="not an ASAP schedule"):
        metrics.critical_path(graph, bad, array("d", [1, 4]))


@pytest.mark.skipif(not kernels.available(), reason="not built")
def test_schedule_plan_refuses_a_count_of_needs_past_int32() -> None:
    """A count of needs is narrowed to 32 bits in the plan: 2**32 + 1 would have become 1
    (issue 27, schedule.c; caught since the counts are checked against the successor lists)."""
    from array import array

    with pytest.raises(ValueError, match="do not match the successor lists"):
        kernels._compiled.schedule_plan(array("d", [2, 1]), array("d", [1, 1]),
                                        array("q", [0, 0, 2**32 + 1]), array("q", [0, 1, 1]),
                                        array("q", [1]))  # fmt: skip


@settings(max_examples=100)
@given(st.lists(st.integers(min_value=0, max_value=2**63 - 1), max_size=50))
def test_integer_costs_as_doubles_round_as_float_does(costs: list[int]) -> None:
    # costs_f64 of integer costs: the kernel's int64 -> double against float(int), which
    # rounds to nearest, ties to even (2**53 + 1 and larger are not exact).
    costs += [2**53 + 1, 2**53 + 3, 2**63 - 1]
    graph = Graph([f"s{i}" for i in range(len(costs))], costs, [0] * (len(costs) + 1), [])
    with kernels.accelerated(True):
        assert graph.costs_f64.tolist() == [float(c) for c in costs]
