"""The compact graph: CSR lists, topological order, cycles."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialscale.core.graph import CycleError, Graph

from .conftest import Dag, chain, dags


@given(dags())
def test_order_is_topological_and_complete(dag: Dag) -> None:
    g = dag.graph()
    assert sorted(g.order) == list(range(g.n))
    position = {v: k for k, v in enumerate(g.order)}
    for i in range(g.n):
        for j in g.preds(i):
            assert position[j] < position[i]
            assert i in g.succs(j)
    assert g.m == dag.nx().number_of_edges()


def test_duplicate_needs_are_kept_once() -> None:
    g = Graph.from_lists(["a", "b"], [1, 1], [[], [0, 0]])
    assert g.preds(1) == [0]
    assert g.m == 1


@given(dags(min_steps=2))
def test_cycle_is_found_and_is_a_real_cycle(dag: Dag) -> None:
    # Close a cycle: the first step in topological order needs the last one, which
    # depends on it if there is a path; otherwise add that path's edge as well.
    g = dag.graph()
    first, last = g.order[0], g.order[-1]
    needs = [list(row) for row in dag.needs]
    needs[first].append(last)
    if not nx.has_path(dag.nx(), first, last):
        needs[last].append(first)
    with pytest.raises(CycleError) as info:
        Graph.from_lists(dag.ids, dag.costs, needs)
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1
    for a, b in itertools.pairwise(cycle):
        assert a in needs[b]  # each step is needed by the next one
    assert cycle[0] == min(cycle)


def test_self_cycle_pair() -> None:
    with pytest.raises(CycleError) as info:
        Graph.from_lists(["a", "b", "c"], [1, 1, 1], [[], [2], [1]])
    assert info.value.cycle == [1, 2, 1]


def test_long_chain_needs_no_recursion() -> None:
    # 100 times Python's recursion limit and deeper than any C stack of frames would go (a
    # million steps took 25 s in the pure-Python pass for no more evidence)
    g = chain(100_000)
    assert g.order[:3].tolist() == [0, 1, 2]
    assert g.order[-1] == 99_999


# --- The Graph validates what it is given and cannot be changed afterwards. ---

from array import array  # noqa: E402

from serialscale import accel as kernels  # noqa: E402
from serialscale.core.graph import GraphError  # noqa: E402


@pytest.mark.parametrize(
    ("ptr", "idx", "message"),
    [
        ([0, 2, 1], [0], "never decrease"),  # offsets go backwards
        ([0, 0, 2], [0], "run from 0 to 1"),  # ends past the indices
        ([1, 1, 1], [0], "run from 0"),  # does not start at 0
        ([0, 0], [], "offsets"),  # too few offsets
        ([0, 0, 1], [5], "name a step"),  # index out of range
        ([0, 0, 1], [-1], "name a step"),
        ([0, 0, 1], [2**63], "64 bits"),
    ],
)
@pytest.mark.parametrize("fast", [False, True])
def test_inconsistent_csr_arrays_are_refused(ptr, idx, message: str, fast: bool) -> None:
    if fast and not kernels.available():
        pytest.skip("kernels not built")
    with kernels.accelerated(fast), pytest.raises(GraphError, match=message):
        Graph.from_csr(["a", "b"], [1, 1], ptr, idx)


@pytest.mark.parametrize(
    "costs",
    [[1], [1, 2, 3], [-1, 1], [float("nan"), 1], [1, float("inf")], [0.5, -1e-300],
     array("q", [3, -2]), array("d", [1.0, float("-inf")])],
)  # fmt: skip
@pytest.mark.parametrize("fast", [False, True])
def test_bad_costs_are_refused(costs, fast: bool) -> None:
    if fast and not kernels.available():
        pytest.skip("kernels not built")
    with kernels.accelerated(fast), pytest.raises(GraphError):
        Graph.from_lists(["a", "b"], costs, [[], [0]])


@pytest.mark.parametrize("costs", [[0, 2**62], [0.0, -0.0], array("d", [0.5, 1e308])])
@pytest.mark.parametrize("fast", [False, True])
def test_good_costs_are_kept(costs, fast: bool) -> None:
    if fast and not kernels.available():
        pytest.skip("kernels not built")
    with kernels.accelerated(fast):
        assert Graph.from_lists(["a", "b"], costs, [[], [0]]).costs.tolist() == list(costs)


def test_graph_arrays_are_read_only_and_copied() -> None:
    ptr, idx = array("q", [0, 0, 1]), array("q", [0])
    graph = Graph.from_csr(["a", "b"], [1, 2], ptr, idx)
    idx[0] = 99  # the caller's array is not the graph's
    assert graph.preds(1) == [0]
    for name in ("costs", "pred_ptr", "pred_idx", "succ_ptr", "succ_idx", "order"):
        view = getattr(graph, name)
        assert view.readonly, name
        with pytest.raises(TypeError):
            view[0] = 5
    with pytest.raises(AttributeError):
        graph.pred_idx = array("q", [7])  # type: ignore[misc]
    assert isinstance(graph.ids, tuple)


@given(st.lists(st.lists(st.integers(0, 7), max_size=9), min_size=8, max_size=12))
def test_count_duplicates_in_short_and_long_rows(rows: list[list[int]]) -> None:
    """Rows of up to 4 needs are compared in place, longer ones with a mark per step
    (csrc/graph.c): both, in both kernel modules, against counting with a set."""
    from itertools import accumulate

    expected = sum(len(r) - len(set(r)) for r in rows)
    ptr = array("q", [0, *accumulate(map(len, rows))])
    idx = array("q", [x for r in rows for x in r])
    for k in (m for m in (kernels._compiled, kernels.pure_kernels) if m is not None):
        assert k.count_duplicates(ptr, idx) == expected


@given(dags(max_steps=30), st.booleans())
def test_a_graph_in_input_order_keeps_it_as_its_order(dag: Dag, sort: bool) -> None:
    """Where every step needs only earlier ones (a traced run), the order is input order;
    elsewhere a topological order all the same (networkx checks it)."""
    if sort:  # renumber the steps in a topological order of networkx's
        rank = {v: r for r, v in enumerate(nx.lexicographical_topological_sort(dag.nx()))}
        needs: list[list[int]] = [[] for _ in dag.needs]
        for i, row in enumerate(dag.needs):
            needs[rank[i]] = [rank[j] for j in row]
        dag = Dag([dag.costs[v] for v in sorted(rank, key=rank.__getitem__)], needs)
    in_order = all(j < i for i, row in enumerate(dag.needs) for j in row)
    for fast in [False, True] if kernels.available() else [False]:
        with kernels.accelerated(fast):
            g = dag.graph()
        if in_order:
            assert g.order.tolist() == list(range(g.n))
        position = {v: k for k, v in enumerate(g.order.tolist())}
        assert sorted(position) == list(range(g.n))
        assert all(position[a] < position[b] for a, b in dag.nx().edges)


def test_owned_costs_are_taken_not_copied() -> None:
    """Costs handed over (``owned``) become the graph's own, as the need arrays do (a traced
    run's 2 M costs are not copied); build_graph, whose callers keep theirs, copies them."""
    from array import array

    from serialscale.core.named_steps import InSource, build_graph

    costs = array("q", [1, 2, 3])
    graph = Graph(["a", "b", "c"], costs, array("q", [0, 0, 1, 2]), array("q", [0, 1]),
                  owned=True)  # fmt: skip
    assert graph.costs.obj is costs and graph.costs.readonly
    assert Graph(["a"], array("d", [1.5]), [0, 0], []).costs.tolist() == [1.5]
    kept = array("q", [4, 5])
    built = build_graph(["a", "b"], kept, [[], ["a"]], InSource("t"))
    assert built.costs.obj is not kept and built.costs.tolist() == [4, 5]
    kept[0] = 9
    assert built.costs.tolist() == [4, 5]
