"""--control scoped: a branch is in force until its immediate post-dominator, and values
stored meanwhile are selected by it (issue 23, part 2). Post-dominators against networkx's
dominators of the reversed graph; depths against simulations of the algorithms and closed
forms."""

from __future__ import annotations

import sys

import networkx as nx
import pytest

import serialscale as ss
from serialscale import analyze_workload
from serialscale.sources.python_targets import trace_function
from serialscale.trace import run_traced
from serialscale.trace.scopes import EXIT, immediate_post_dominators, successors

from .conftest import WORKLOADS

sys.path.insert(0, str(WORKLOADS))
import algorithms

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] not in ((3, 11), (3, 12)), reason="scoped mode reads 3.11/3.12 frames"
)


def depth(fn, control: str = "scoped", **params) -> int:
    return analyze_workload(trace_function(fn, params, control=control)).depth


def needs(rec, step: int) -> set[int]:
    rec.flush()
    out = {rec.a[step], rec.b[step], rec.c[step], *rec.more.get(step, [])}
    return {n for n in out if n >= 0}


def label(rec, step: int) -> str:
    rec.flush()
    return rec.site_names[rec.site[step]][0]


# --- post-dominators ---


def shapes(a, b, c):  # loops, early return, break, conditional expressions, try
    total = 0
    for x in a:
        if x > b:
            total += x
        elif x < c:
            break
        else:
            continue
    while total > 10:
        total -= 3
        if total == 5:
            return total
    y = a if b else c
    try:
        y = y + 1
    except TypeError:
        y = 0
    return y


@pytest.mark.parametrize("fn", [shapes, algorithms.merge_with_if, algorithms._sift_down,
                                algorithms.bitonic_sort, algorithms.value_iteration])  # fmt: skip
def test_immediate_post_dominators_match_networkx(fn) -> None:
    code = fn.__code__
    graph = nx.DiGraph()
    for node, targets in successors(code).items():
        graph.add_node(node)
        for t in targets:
            graph.add_edge(t, node)  # reversed: dominators of it from EXIT are post-dominators
    expected = nx.immediate_dominators(graph, EXIT)
    ours = immediate_post_dominators(code)
    for node in successors(code):
        assert ours[node] == expected.get(node, EXIT), node


# --- what a scope covers ---


def test_stores_in_force_are_selects_and_the_scope_ends_at_the_join() -> None:
    def run(n: int = 1):
        a, b = ss.inputs([3, 4])
        if a < b:  # step 0  # noqa: SIM108 (the statement form is the point)
            x = a  # stored in the scope: a select needing the decision
        else:
            x = b
        y = a + 1  # after the join: not in the scope, needs nothing
        return x, y

    trace = run_traced(run, {}, control="scoped")
    (x, y), rec = trace.result, trace.recorder
    assert label(rec, 0) == "lt" and label(rec, x.node) == "select"
    assert needs(rec, x.node) == {0} and x.value == 3
    assert label(rec, y.node) == "add" and needs(rec, y.node) == set()
    assert rec.escapes == 0


def test_calls_made_in_a_scope_store_under_it_and_return_ends_the_callees() -> None:
    def store(box, value):
        box[0] = value  # a store in a call made while the caller's decision is in force

    def pick(a, b):
        if a < b:  # in force until pick returns
            return a
        return b

    def run(n: int = 1):
        a, b = ss.inputs([5, 2])
        box = [None]
        if a > b:  # step 0
            store(box, a)
        chosen = pick(a, b)  # its own decision (step 1) ended when it returned
        after = a * 2  # stored after both scopes: no select
        return box[0], chosen, after

    trace = run_traced(run, {}, control="scoped")
    (boxed, chosen, after), rec = trace.result, trace.recorder
    assert label(rec, boxed.node) == "select" and needs(rec, boxed.node) == {0}
    assert label(rec, after.node) == "mul" and needs(rec, after.node) == set()
    assert chosen.value == 2


def test_a_conditional_expression_selects_its_value() -> None:
    def run(n: int = 8):
        xs = ss.inputs([(i * 5) % n for i in range(n)])
        best = xs[0]
        for x in xs[1:]:
            best = x if x > best else best  # stored after the join: the value is selected
        return best

    # each comparison needs the last selection, which needs the comparison before: n - 1
    for n in (4, 8, 16):
        assert depth(run, n=n) == n - 1
        assert depth(run, "dataflow", n=n) == 1


def running_max_oracle(xs: list[int]) -> int:
    """A comparison waits for the last value stored in ``best`` (a select of the comparison
    that chose it); a value not taken leaves ``best`` as it was."""
    best, ready, deepest = xs[0], 0, 0
    for x in xs[1:]:
        done = ready + 1
        deepest = max(deepest, done)
        if x > best:
            best, ready = x, done
    return deepest


@pytest.mark.parametrize("n", [4, 8, 16, 30])
def test_running_max_with_if_chains_the_values_it_takes(n: int) -> None:
    xs = [(i * 7) % n for i in range(n)]
    assert depth(algorithms.running_max, n=n) == running_max_oracle(xs)

    def ascending(n: int = 8):  # every comparison takes: a chain of n - 1
        return _running(ss.inputs(range(n)))

    assert depth(ascending, n=n) == n - 1


def _running(xs: list) -> object:
    best = xs[0]
    for x in xs[1:]:
        if x > best:
            best = x
    return best


# --- the algorithms of the issue, against simulations and closed forms ---


def odd_even_oracle(n: int) -> int:
    """Odd-even transposition sort's depth under scoped control, simulated on plain values:
    a comparison (cost 1) waits for both values; an exchange makes both values wait for it
    (zero-cost selects); values not exchanged keep their time."""
    a = [(i * 7919) % 10007 for i in range(n)]
    ready = [0] * n
    deepest = 0
    for round_ in range(n):
        for i in range(round_ % 2, n - 1, 2):
            done = max(ready[i], ready[i + 1]) + 1
            deepest = max(deepest, done)
            if a[i] > a[i + 1]:
                a[i], a[i + 1] = a[i + 1], a[i]
                ready[i] = ready[i + 1] = done
    return deepest


@pytest.mark.parametrize("n", [2, 5, 16, 33])
def test_odd_even_transposition_sort_has_the_depth_of_its_rounds(n: int) -> None:
    trace = run_traced(algorithms.odd_even_transposition_sort, {"n": n}, control="scoped")
    assert [v.value for v in trace.result] == sorted((i * 7919) % 10007 for i in range(n))
    assert trace.recorder.escapes == 0
    assert depth(algorithms.odd_even_transposition_sort, n=n) == odd_even_oracle(n) <= n
    assert depth(algorithms.odd_even_transposition_sort, "dataflow", n=n) == (n > 1)


def test_heap_sort_with_swaps_in_a_helper_grows_linearly() -> None:
    trace = run_traced(algorithms.heap_sort_with_swaps, {"n": 32}, control="scoped")
    assert [v.value for v in trace.result] == sorted((i * 7919) % 10007 for i in range(32))
    assert trace.recorder.escapes == 0  # indices chosen by comparisons are read, not escaped
    # a constant number of steps per element (a sift's first levels wait for the last
    # sift's first levels, and the index arithmetic each comparison chose is in the chain);
    # the frame mode sees 2 log2 n (the swaps' decisions end in the helper)
    for n in (64, 128):
        assert 3 * n <= depth(algorithms.heap_sort_with_swaps, n=n) <= 6 * n
        assert depth(algorithms.heap_sort_with_swaps, "frame", n=n) < n / 4


@pytest.mark.parametrize("n", [16, 64])
def test_a_merge_written_with_if_is_a_chain(n: int) -> None:
    def merge(n: int = 16):
        xs = ss.inputs(range(n))
        return algorithms.merge_with_if(xs[0::2], xs[1::2])

    trace = run_traced(merge, {"n": n}, control="scoped")
    assert [v.value for v in trace.result] == list(range(n)) and trace.recorder.escapes == 0
    # interleaved halves: n - 1 comparisons, each chosen by the one before (through the
    # index it moved): at least that chain, and one index comparison per step at most
    assert n - 1 <= depth(merge, n=n) <= 2 * n


def test_scopes_are_watched_only_while_in_force() -> None:
    def run(n: int = 50):
        a, b = ss.inputs([1, 2])
        if a < b:
            c = a
        total = ss.input(0)
        for k in range(n):
            total = total + k  # after the scope: no selects, no watching of new calls
        return c, total

    trace = run_traced(run, {"n": 50}, control="scoped")
    assert sys.gettrace() is None  # stopped with the run
    rec = trace.recorder
    rec.flush()
    assert [label(rec, i) for i in range(len(rec.site))].count("select") == 1


def test_scoped_refuses_to_run_under_another_trace_function() -> None:
    from serialscale.trace.scopes import ScopedUnavailable

    def run(n: int = 1):
        return ss.input(1) + 1

    def other(frame, event, arg):
        return None

    sys.settrace(other)
    try:
        with pytest.raises(ScopedUnavailable, match="another trace function"):
            run_traced(run, {}, control="scoped")
    finally:
        sys.settrace(None)


def test_appends_in_a_scope_are_stores_and_flags_stay_plain() -> None:
    def run(n: int = 6):
        xs = ss.inputs([3, 5, 1, 4, 2, 0])
        pivot = xs[0]
        low = [x for x in xs[1:] if x < pivot]  # LIST_APPEND under each test
        high: list = []
        swapped = False
        for x in xs[1:]:
            if x >= pivot:
                high.append(x)  # list.append under the test
                swapped = True  # a flag: stays the singleton (code tests it with `is`)
        return low, high, swapped is True

    trace = run_traced(run, {"n": 6}, control="scoped")
    (low, high, flag), rec = trace.result, trace.recorder
    assert [v.value for v in low] == [1, 2, 0] and [v.value for v in high] == [5, 4]
    assert flag is True
    for v in low + high:  # each a select needing the comparison that let it in
        assert label(rec, v.node) == "select"
        (comparison,) = needs(rec, v.node)
        assert label(rec, comparison) in ("lt", "ge")


def test_a_flag_loop_tested_with_is_gives_the_plain_result() -> None:
    def run(n: int = 8):  # TheAlgorithms' odd-even sort's shape: `while flag is False`
        a = ss.inputs([(i * 3) % n for i in range(n)])
        done = False
        while done is False:
            done = True
            for i in range(n - 1):
                if a[i] > a[i + 1]:
                    a[i], a[i + 1] = a[i + 1], a[i]
                    done = False
        return a

    result = run_traced(run, {"n": 8}, control="scoped").result
    assert [v.value for v in result] == sorted((i * 3) % 8 for i in range(8))


def test_scoped_refused_is_a_located_error_not_a_traceback() -> None:
    from serialscale.base.errors import WorkloadError

    def run(n: int = 1):
        return ss.input(1) + 1

    sys.settrace(lambda frame, event, arg: None)
    try:
        with pytest.raises(WorkloadError, match="cannot run under another trace function"):
            trace_function(run, {}, control="scoped")
    finally:
        sys.settrace(None)
