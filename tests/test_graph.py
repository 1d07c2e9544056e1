"""The compact graph: CSR lists, topological order, cycles."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given

from serialscale.graph import CycleError, Graph

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


def test_million_step_chain_needs_no_recursion() -> None:
    g = chain(1_000_000)
    assert g.order[:3].tolist() == [0, 1, 2]
    assert g.order[-1] == 999_999
