"""A traced run's tape becomes a graph without a Python object per step (issue 17).

The compiled ``tape_csr`` and ``occurrences`` kernels and their pure-Python twins are checked
against independent oracles: per-step need lists written out by hand from the tape, networkx
on the recorded steps, and ids counted with ``collections.Counter``.
"""

from __future__ import annotations

from array import array
from collections import Counter

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import serialscale as ss
from serialscale import accel as kernels
from serialscale.accel import pure_kernels
from serialscale.core.graph import Graph
from serialscale.core.step_ids import OccurrenceIds
from serialscale.trace import run_traced
from serialscale.trace.recorder import NO_STEP

needs_compiled = pytest.mark.skipif(not kernels.available(), reason="kernels not built")


@st.composite
def tapes(draw):
    """A tape: per step up to three earlier needs (a, b, c) and sometimes more."""
    n = draw(st.integers(0, 40))
    a, b, c, more = array("q"), array("q"), array("q"), {}
    for i in range(n):
        earlier = st.integers(0, i - 1) if i else st.just(NO_STEP)
        for column in (a, b, c):
            column.append(draw(st.one_of(st.just(NO_STEP), earlier)))
        if i and draw(st.booleans()) and draw(st.booleans()):
            more[i] = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=4))
    return a, b, c, more


def oracle_rows(a, b, c, more) -> list[list[int]]:
    return [[x for x in (a[i], b[i], c[i], *more.get(i, [])) if x != NO_STEP]
            for i in range(len(a))]  # fmt: skip


def run_tape_csr(a, b, c, more, compiled: bool) -> list[list[int]]:
    n = len(a)
    m = sum(map(len, oracle_rows(a, b, c, more)))
    ptr, idx = array("q", bytes(8 * (n + 1))), array("q", bytes(8 * m))
    steps = sorted(more)
    more_ptr = array("q", [0])
    for s in steps:
        more_ptr.append(more_ptr[-1] + len(more[s]))
    more_idx = array("q", [x for s in steps for x in more[s]])
    kernel = kernels._compiled.tape_csr if compiled else pure_kernels.tape_csr
    assert kernel(a, b, c, array("q", steps), more_ptr, more_idx, ptr, idx) == m
    return [idx[ptr[i] : ptr[i + 1]].tolist() for i in range(n)]


@pytest.mark.slow  # runs both twins itself, the switch aside: the pure pass adds nothing
@settings(max_examples=150, deadline=None)
@given(tapes())
def test_tape_csr_twins_agree_with_the_tape_written_out(tape) -> None:
    a, b, c, more = tape
    expected = oracle_rows(a, b, c, more)
    assert run_tape_csr(a, b, c, more, compiled=False) == expected
    if kernels.available():
        assert run_tape_csr(a, b, c, more, compiled=True) == expected


@pytest.mark.parametrize("compiled", [pytest.param(True, marks=needs_compiled), False])
@pytest.mark.parametrize(
    "args",
    [
        # a need that names a later step, or the step itself
        lambda q: (q([NO_STEP, 1]), q([NO_STEP, NO_STEP]), q(), q([0]), q(), q([0, 0, 0]), q([0])),
        lambda q: (q([0]), q([NO_STEP]), q(), q([0]), q(), q([0, 0]), q([0])),
        lambda q: (q([NO_STEP, -5]), q([NO_STEP, NO_STEP]), q(), q([0]), q(), q([0] * 3), q([0])),
        # no room for the needs
        lambda q: (q([NO_STEP, 0]), q([NO_STEP, 0]), q(), q([0]), q(), q([0, 0, 0]), q([0])),
        # a and b of different lengths; more_steps out of order or out of range
        lambda q: (q([NO_STEP]), q(), q(), q([0]), q(), q([0, 0]), q()),
        lambda q: (
            q([NO_STEP] * 3),
            q([NO_STEP] * 3),
            q([2, 1]),
            q([0, 1, 2]),
            q([0, 0]),
            q([0] * 4),
            q([0] * 2),
        ),
        lambda q: (q([NO_STEP]), q([NO_STEP]), q([7]), q([0, 1]), q([0]), q([0, 0]), q([0])),
        lambda q: (q([NO_STEP]), q([NO_STEP]), q([0]), q([0, 5]), q([0]), q([0, 0]), q([0])),
        # outputs that are read-only or of the wrong type
        lambda q: (q([NO_STEP]), q([NO_STEP]), q(), q([0]), q(), bytes(16), q()),
        lambda q: (
            q([NO_STEP]),
            q([NO_STEP]),
            q(),
            q([0]),
            q(),
            memoryview(q([0, 0])).toreadonly(),
            q(),
        ),
        lambda q: (array("d", [-1.0]), q([NO_STEP]), q(), q([0]), q(), q([0, 0]), q()),
    ],
)
def test_tape_csr_refuses_what_it_cannot_trust(args, compiled: bool) -> None:
    """Both twins refuse each of these, with the same exception type."""

    def q(values=()):
        return array("q", values)

    a, b, *rest = args(q)
    c = q([NO_STEP] * len(b)) if isinstance(b, array) else b  # a third column like the second
    kernel = kernels._compiled.tape_csr if compiled else pure_kernels.tape_csr
    with pytest.raises((TypeError, ValueError)) as raised:
        kernel(a, b, c, *rest)
    if compiled:  # the same exception type from the pure twin
        with pytest.raises(raised.type):
            pure_kernels.tape_csr(a, b, c, *rest)


def test_pure_tape_csr_refuses_a_need_on_a_later_step() -> None:
    ptr, idx = array("q", [0, 0, 0]), array("q", [0])
    with pytest.raises(ValueError, match="earlier"):
        pure_kernels.tape_csr(array("q", [1, NO_STEP]), array("q", [NO_STEP, NO_STEP]),
                              array("q", [NO_STEP, NO_STEP]), array("q"), array("q", [0]),
                              array("q"), ptr, idx)  # fmt: skip


def counted_ids(labels: list[str], site: list[int]) -> list[str]:
    seen: Counter[int] = Counter()
    out = []
    for s in site:
        seen[s] += 1
        out.append(f"{labels[s]}#{seen[s]}")
    return out


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k - 1)))))
@pytest.mark.parametrize("fast", [False, True])
def test_occurrence_ids_spell_label_and_count(fast: bool, labels_site) -> None:
    if fast and not kernels.available():
        pytest.skip("kernels not built")
    k, site = labels_site
    labels = [f"add@f.py:{j}" for j in range(k)]
    with kernels.accelerated(fast):
        expected = counted_ids(labels, site)
        picked = list(range(len(expected)))[::-2] * 2  # any order, repeats
        fresh = OccurrenceIds(labels, array("i", site))  # take first: only these counted
        assert fresh.take(picked) == [expected[i] for i in picked]
        assert fresh.take(sorted(picked)[:3]) == [expected[i] for i in sorted(picked)[:3]]
        ids = OccurrenceIds(labels, array("i", site))
        assert list(ids) == expected
        assert [ids[i] for i in range(len(ids))] == expected
        assert ids[1:3] == tuple(expected[1:3])
        assert len(ids) == len(expected)
        assert ids == tuple(expected)
        assert ids.take(picked) == [expected[i] for i in picked]
        if expected:
            assert ids[-1] == expected[-1]
            assert ids != tuple(expected[:-1])


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("site", [[0, 1], [0, -1]])
def test_occurrence_ids_refuse_sites_that_name_no_label(fast: bool, site: list[int]) -> None:
    if fast and not kernels.available():
        pytest.skip("kernels not built")
    with kernels.accelerated(fast):
        ids = OccurrenceIds(["a"], array("i", site))  # checked when first read
        with pytest.raises(ValueError):
            ids.take([0])  # every site, though only the first is spelled
        with pytest.raises(ValueError):
            ids[0]
        with pytest.raises(ValueError):
            list(ids)


def test_occurrence_ids_want_int32_sites() -> None:
    with pytest.raises(TypeError):
        OccurrenceIds(["a"], array("q", [0]))


@given(st.lists(st.integers(-1, 5), max_size=30), st.randoms(use_true_random=False))
def test_tape_needs_counts_the_needs_present(column: list[int], rnd) -> None:
    """``tape_needs`` (both modules): how many entries of three columns are not -1."""
    columns = [array("q", rnd.sample(column, len(column))) for _ in range(3)]
    expected = sum(1 for c in columns for x in c if x != -1)
    for k in (m for m in (kernels._compiled, kernels.pure_kernels) if m is not None):
        assert k.tape_needs(*columns) == expected
        with pytest.raises(TypeError):
            k.tape_needs(columns[0], array("i", [1]), columns[2])


@needs_compiled
def test_occurrences_kernel_checks_its_arrays() -> None:
    k = kernels._compiled
    with pytest.raises(ValueError):
        k.occurrences(array("i", [0, 3]), 2, array("q", [0, 0]))
    with pytest.raises(TypeError):
        k.occurrences(array("q", [0]), 1, array("q", [0]))
    with pytest.raises(TypeError):
        k.occurrences(array("i", [0]), 1, memoryview(array("q", [0])).toreadonly())
    with pytest.raises(ValueError):
        k.occurrences(array("i", [0, 0]), 1, array("q", [0]))  # out too short


def mixed(n: int):
    """Arithmetic with two-need steps, one-need steps and a task with many needs."""
    xs = ss.inputs(range(n))

    @ss.task(cost=3)
    def gather(*values):
        return sum(values)

    acc = xs[0]
    for x in xs[1:]:
        acc = acc * 2 + x
    return gather(acc, *xs[:5], acc + 1)


@pytest.mark.parametrize("fast", [False, True])
def test_traced_graph_matches_networkx_on_the_recorded_steps(fast: bool) -> None:
    if fast and not kernels.available():
        pytest.skip("kernels not built")
    with kernels.accelerated(fast):
        rec = run_traced(mixed, {"n": 12}).recorder
        graph = rec.graph()
    # The oracle: the recorder's raw arrays, read one step at a time into networkx.
    oracle = nx.DiGraph()
    ids = counted_ids([f"{op}@{f}:{line}" if f else op for op, f, line in rec.site_names],
                      list(rec.site))  # fmt: skip
    oracle.add_nodes_from(ids)
    for i in range(len(rec.site)):
        for x in (rec.a[i], rec.b[i], rec.c[i], *rec.more.get(i, [])):
            if x != NO_STEP:
                oracle.add_edge(ids[x], ids[i])
    assert list(graph.ids) == ids
    edges = {(graph.ids[j], graph.ids[i]) for i in range(graph.n) for j in graph.preds(i)}
    assert edges == set(oracle.edges)
    assert graph.costs[-1] == 3 and graph.costs[0] == 1
    cost = {s: (3 if s.startswith("gather") else 1) for s in ids}
    expected = (
        nx.dag_longest_path_length(
            nx.DiGraph([(u, v, {"w": cost[v]}) for u, v in oracle.edges]), weight="w"
        )
        + cost[nx.dag_longest_path(oracle)[0]]
    )
    assert ss.analyze_workload(ss.Workload("t", graph)).depth == expected


def test_graph_keeps_occurrence_ids_and_copies_cost_arrays() -> None:
    ids = OccurrenceIds(["x"], array("i", [0, 0]))
    costs = array("q", [1, 2])
    graph = Graph(ids, costs, [0, 0, 1], [0])
    costs[0] = 99
    assert graph.ids is ids and graph.costs.tolist() == [1, 2]
    assert graph.ids == ("x#1", "x#2")


@pytest.mark.parametrize(
    ("cost", "expected"), [(5, [1, 5]), (0.5, [1.0, 0.5]), (2**70, [1.0, float(2**70)])]
)
def test_task_costs_keep_the_graph_cost_types(cost, expected) -> None:
    def run():
        x = ss.input(1)

        @ss.task(cost=cost)
        def work(v):
            return v

        return work(x + 1)

    graph = run_traced(run, {}).recorder.graph()
    assert graph.costs.tolist() == expected
    assert all(type(c) is type(expected[0]) for c in graph.costs.tolist())
