"""Drag (issue 25): depth minus the depth with one step's cost set to 0, checked against the
depth networkx computes on the changed graph, for every step of random graphs."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.core.drag import drag
from serialscale.core.graph import Graph
from serialscale.core.metrics import asap_schedule, bottom_levels, critical_path, depth, slack

from .conftest import Dag, costs_float, dags, nx_depths_freed


def _nx_drags(dag: Dag) -> tuple[float, list]:
    """The depth, and each step's drag (the depth minus the depth with that step's cost set to
    0), by networkx on the changed graphs."""
    total, freed = nx_depths_freed(dag.costs, dag.needs)
    return total, [total - d for d in freed]


def _drag_of(dag: Dag) -> tuple[list, object]:
    graph = dag.graph()
    return _drag(graph), depth(asap_schedule(graph)[1])


def _drag(graph: Graph) -> list:
    start, finish = asap_schedule(graph)
    total = depth(finish)
    path = critical_path(graph, start, finish)
    levels = bottom_levels(graph)
    return drag(graph, path, finish, levels, slack(start, levels, total), total)


@settings(max_examples=400, deadline=None)
@given(dags(max_steps=14))
def test_drag_is_the_depth_saved_by_a_free_step(dag: Dag) -> None:
    got, total = _drag_of(dag)
    nx_total, expected = _nx_drags(dag)
    assert total == nx_total
    for v in range(len(dag.costs)):
        assert got[v] == expected[v], (v, dag)


@settings(max_examples=150, deadline=None)
@given(dags(max_steps=10, costs=costs_float))
def test_drag_with_float_costs_is_within_rounding(dag: Dag) -> None:
    got, total = _drag_of(dag)
    _, freed = nx_depths_freed(dag.costs, dag.needs)
    for v in range(len(dag.costs)):
        expected = total - freed[v]
        assert abs(got[v] - expected) <= 1e-9 * max(total, 1)
        assert 0 <= got[v] <= dag.costs[v]


def test_a_chain_drags_by_every_cost_and_parallel_paths_by_their_slack() -> None:
    chain = Graph.from_lists(["a", "b", "c"], [3, 5, 2], [[], [0], [1]])
    assert _drag(chain) == [3, 5, 2]
    # a(1) -> b(10) -> d(1), and a -> c(7) -> d: b can lose only 3 before c is critical
    diamond = Graph.from_lists(["a", "b", "c", "d"], [1, 10, 7, 1], [[], [0], [0], [1, 2]])
    assert _drag(diamond) == [1, 3, 0, 1]
    # a dependency that bypasses b limits b's drag as a parallel step does
    bypass = Graph.from_lists(["a", "b", "c"], [2, 4, 2], [[], [0], [0, 1]])
    assert _drag(bypass) == [2, 4, 2]
    twin = Graph.from_lists(["a", "b", "b2", "c"], [2, 4, 4, 2], [[], [0], [0], [1, 2]])
    assert _drag(twin) == [2, 0, 0, 2]


@settings(max_examples=100, deadline=None)
@given(dags(max_steps=12))
def test_the_report_lists_the_steps_with_the_most_drag(dag: Dag) -> None:
    from serialscale.core.analysis import analyze_workload
    from serialscale.core.workload import Workload

    report = analyze_workload(Workload("w", dag.graph()), detail=True)
    total = report.depth
    _, freed = nx_depths_freed(dag.costs, dag.needs)
    oracle = {dag.ids[v]: total - freed[v] for v in range(len(dag.costs))}
    assert {d.id: d.drag for d in report.detail} == oracle
    listed = [(s.id, s.drag) for s in report.top_drag]
    assert [d for _, d in listed] == sorted((d for _, d in listed), reverse=True)
    at = {step: k for k, step in enumerate(report.critical_path)}  # ties: in path order
    assert all(at[a] < at[b] for (a, x), (b, y) in pairwise(listed) if x == y)
    assert len(listed) == min(5, sum(1 for v in oracle.values() if v))
    if listed:  # no step left out has more drag than the last one listed
        assert max((v for k, v in oracle.items() if k not in dict(listed)), default=0) <= \
            listed[-1][1]  # fmt: skip
    for s in report.top_drag:
        cost = dag.costs[dag.ids.index(s.id)]
        assert s.halving_saves == min(cost / 2, s.drag)


def _metrics_drag(dag: Dag, compiled: bool) -> tuple[list, object]:
    """Drag from the metrics as the report computes them: doubles from the compiled passes
    (then the ``drag_limits`` kernel sweeps), or the pure-Python passes and sweep."""
    from serialscale import accel as kernels
    from serialscale.core.metrics import compute_metrics

    graph = dag.graph()
    with kernels.accelerated(compiled):
        m = compute_metrics(graph)
        return drag(graph, m.critical_path, m.finish, m.bottom_level, m.slack, m.depth), m.depth


@settings(max_examples=300, deadline=None)
@given(dags(max_steps=24), st.booleans())
def test_drag_from_either_implementation_is_the_depth_saved(dag: Dag, compiled: bool) -> None:
    from serialscale import accel as kernels

    if compiled and not kernels.compiled_kernels_in_use():
        pytest.skip("the compiled kernels were not built, or pure Python is forced")
    got, total = _metrics_drag(dag, compiled)
    nx_total, expected = _nx_drags(dag)
    assert total == nx_total
    for v in range(len(dag.costs)):
        assert got[v] == expected[v], (v, dag)


@settings(max_examples=100, deadline=None)
@given(dags(max_steps=16, costs=costs_float), st.booleans())
def test_drag_from_either_implementation_with_float_costs(dag: Dag, compiled: bool) -> None:
    from serialscale import accel as kernels

    if compiled and not kernels.compiled_kernels_in_use():
        pytest.skip("the compiled kernels were not built, or pure Python is forced")
    got, total = _metrics_drag(dag, compiled)
    _, freed = nx_depths_freed(dag.costs, dag.needs)
    for v in range(len(dag.costs)):
        assert abs(got[v] - (total - freed[v])) <= 1e-9 * max(total, 1)


@pytest.mark.parametrize("compiled", [True, False])
def test_the_drag_kernel_checks_its_arrays(compiled: bool) -> None:
    """The compiled ``drag_limits`` and its pure twin: the same limits, the same refusals."""
    from array import array

    from serialscale import accel as kernels

    fast = kernels._compiled if compiled else kernels.pure_kernels
    if fast is None:
        pytest.skip("the compiled kernels were not built")
    d = lambda *xs: array("d", xs)  # noqa: E731
    q = lambda *xs: array("q", xs)  # noqa: E731
    ptr, idx, path = q(0, 0, 1), q(0), q(0, 1)
    ok = (ptr, idx, path, d(1, 2), d(2, 1), d(0, 0), d(1, 2), d(2, 1), 2.0, 1.0)
    out = d(0, 0)
    fast.drag_limits(*ok, out)
    assert list(out) == [math.inf, math.inf]  # a chain: nothing bypasses its steps
    with pytest.raises(ValueError, match="alpha and below"):
        fast.drag_limits(*ok[:6], d(1, 7), *ok[7:], out)  # a position past the path's end
    with pytest.raises(ValueError, match="path: index 5"):
        fast.drag_limits(ptr, idx, q(0, 5), *ok[3:], out)
    with pytest.raises(ValueError, match="pred_idx"):
        fast.drag_limits(ptr, q(9), *ok[2:], out)
    with pytest.raises(TypeError):
        fast.drag_limits(*ok, memoryview(bytes(16)).cast("d"))  # read-only: never written


def _doubles_drag(dag: Dag, compiled: bool) -> tuple[list, list, object, list]:
    """Drag as the report computes it from the kernels' metrics: the ``drag_values`` kernel
    (compiled, or its pure twin), per step and per path position."""
    from serialscale import accel as kernels
    from serialscale.core.drag import drag_doubles
    from serialscale.core.metrics import compute_metrics

    graph = dag.graph()
    with kernels.accelerated(compiled):
        m = compute_metrics(graph)
        found = drag_doubles(graph, m.critical_path, m.finish, m.bottom_level, m.slack, m.depth)
    assert found is not None
    out, on_path = found
    return list(out), list(on_path), m.depth, m.critical_path


@settings(max_examples=300, deadline=None)
@given(dags(max_steps=24), st.booleans())
def test_the_drag_values_kernel_is_the_depth_saved(dag: Dag, compiled: bool) -> None:
    from serialscale import accel as kernels

    if compiled and not kernels.available():
        pytest.skip("the compiled kernels were not built")
    got, on_path, total, path = _doubles_drag(dag, compiled)
    nx_total, expected = _nx_drags(dag)
    assert total == nx_total
    for v in range(len(dag.costs)):
        assert got[v] == expected[v], (v, dag)
    assert on_path == [got[v] for v in path]
    # without every step's drag (a report without --detail): the same path drags
    assert _path_only_drag(dag, compiled) == on_path


def _path_only_drag(dag: Dag, compiled: bool) -> list:
    """``drag_doubles(..., every=False)``'s drags by path position (no per-step array)."""
    from serialscale import accel as kernels
    from serialscale.core.drag import drag_doubles
    from serialscale.core.metrics import compute_metrics

    graph = dag.graph()
    with kernels.accelerated(compiled):
        m = compute_metrics(graph)
        found = drag_doubles(graph, m.critical_path, m.finish, m.bottom_level, m.slack, m.depth,
                             every=False)  # fmt: skip
    assert found is not None and found[0] is None
    return list(found[1])


@settings(max_examples=100, deadline=None)
@given(dags(max_steps=16, costs=costs_float), st.booleans())
def test_the_drag_values_kernel_with_float_costs(dag: Dag, compiled: bool) -> None:
    from serialscale import accel as kernels

    if compiled and not kernels.available():
        pytest.skip("the compiled kernels were not built")
    got, on_path, total, path = _doubles_drag(dag, compiled)
    assert isinstance(total, float)
    _, freed = nx_depths_freed(dag.costs, dag.needs)
    for v in range(len(dag.costs)):
        assert abs(got[v] - (total - freed[v])) <= 1e-9 * max(total, 1)
    assert on_path == [got[v] for v in path]


@pytest.mark.parametrize("compiled", [True, False])
def test_the_drag_values_kernel_checks_its_arrays(compiled: bool) -> None:
    from array import array

    from serialscale import accel as kernels

    fast = kernels._compiled if compiled else kernels.pure_kernels
    if fast is None:
        pytest.skip("the compiled kernels were not built")
    d = lambda *xs: array("d", xs)  # noqa: E731
    q = lambda *xs: array("q", xs)  # noqa: E731
    # a chain a(1) -> b(2): each step drags by its whole cost
    order, ptr, idx, sptr, sidx = q(0, 1), q(0, 0, 1), q(0), q(0, 1, 1), q(1)
    ok = (order, ptr, idx, sptr, sidx, d(1, 2), q(0, 1), d(1, 3), d(3, 2), d(0, 0), 3.0, 0.0)
    out, on_path = d(9, 9), d(9, 9)
    fast.drag_values(*ok, out, on_path)
    assert list(out) == [1, 2] and list(on_path) == [1, 2]
    on_path = d(9, 9)
    fast.drag_values(*ok, None, on_path)  # only the path's drags wanted
    assert list(on_path) == [1, 2]
    with pytest.raises(ValueError, match="path: index 5"):
        fast.drag_values(*ok[:6], q(0, 5), *ok[7:], None, on_path)
    with pytest.raises(ValueError, match="path: index 5"):
        fast.drag_values(*ok[:6], q(0, 5), *ok[7:], out, on_path)
    with pytest.raises(ValueError, match="succ_idx"):
        fast.drag_values(*ok[:4], q(7), *ok[5:], out, on_path)
    with pytest.raises(ValueError, match="depth"):
        fast.drag_values(*ok[:10], math.inf, 0.0, out, on_path)
    with pytest.raises(TypeError):
        fast.drag_values(*ok, memoryview(bytes(16)).cast("d"), on_path)  # read-only
    with pytest.raises(ValueError):
        fast.drag_values(*ok, out, d(0))  # on_path shorter than the path
