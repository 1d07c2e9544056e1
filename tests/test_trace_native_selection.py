"""list.sort, and numpy's sort/max/min on object arrays, of traced values: the methods' own
comparisons, chained as they make them, and chosen values that depend on them (issue 13).
Oracles: the real methods on plain objects that log the comparisons made on them, sorted()
and max() on plain values, and closed forms (presorted input, a running maximum)."""

from __future__ import annotations

import contextlib
import cProfile
import json
import random
import subprocess
import sys
from array import array
from typing import ClassVar

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import serialscale as ss
from serialscale import accel as kernels
from serialscale import analyze_workload
from serialscale.sources.python_targets import trace_function
from serialscale.trace import run_traced
from serialscale.trace.recorder import NO_STEP

_COMPARISONS = {"lt", "le", "gt", "ge", "eq", "ne"}


class Logged:
    """A plain number that logs which two list positions each comparison involved."""

    log: ClassVar[list[tuple[int, int]]] = []

    def __init__(self, value: int, position: int) -> None:
        self.value, self.position = value, position

    def __lt__(self, other: Logged) -> bool:
        Logged.log.append((self.position, other.position))
        return self.value < other.value


def real_comparisons(values: list, reverse: bool = False) -> list[tuple[int, int]]:
    """The positions timsort compares, in order, on these values (the real list.sort)."""
    Logged.log = []
    items = [Logged(v, i) for i, v in enumerate(values)]
    items.sort(reverse=reverse)
    return Logged.log


def needs(rec, step: int) -> set[int]:
    rec.flush()
    row = {rec.a[step], rec.b[step], rec.c[step], *rec.more.get(step, [])}
    return row - {NO_STEP}


def steps_named(rec, *ops: str) -> list[int]:
    rec.flush()
    return [i for i, s in enumerate(rec.site) if rec.site_names[s][0] in ops]


def sort_in_place(values: list, reverse: bool = False) -> list:
    xs = ss.inputs(values)
    xs.sort(reverse=reverse)
    return xs


IMPLEMENTATIONS = [
    pytest.param(True, id="compiled"),
    pytest.param(False, id="pure"),
]


@pytest.mark.parametrize("compiled", IMPLEMENTATIONS)
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-20, 20), max_size=70), st.booleans())
def test_each_comparison_needs_the_last_ones_that_involved_its_operands(
    compiled: bool, values: list, reverse: bool
) -> None:
    if compiled and not kernels.available():
        pytest.skip("the compiled kernels were not built")
    with kernels.accelerated(compiled):  # the rechain kernel, or its pure-Python twin
        trace = run_traced(sort_in_place, {"values": values, "reverse": reverse})
    rec = trace.recorder
    assert [x.value for x in trace.result] == sorted(values, reverse=reverse)
    entries = steps_named(rec, "sort-input")
    compared = steps_named(rec, *_COMPARISONS)
    log = real_comparisons(values, reverse)
    assert len(entries) == len(values) and len(compared) == len(log)
    # replay the rule on the real comparisons: each needs, per operand, the last
    # comparison involving it, or the step that brought it into the sort
    last: dict[int, int] = {}
    for step, (i, j) in zip(compared, log, strict=True):
        assert needs(rec, step) == {last.get(i, entries[i]), last.get(j, entries[j])}
        last[i] = last[j] = step
    # each sorted value is selected by the last comparison involving it
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=reverse)
    for position, value in zip(order, trace.result, strict=True):
        if compared:
            assert needs(rec, value.node) == {last.get(position, compared[-1]),
                                              entries[position]}  # fmt: skip
        else:  # nothing compared (0 or 1 values): nothing chosen
            assert value.node == entries[position]


@pytest.mark.parametrize("n", [2, 17, 100, 300])
@pytest.mark.parametrize("presorted", ["ascending", "descending"])
def test_a_presorted_list_is_a_chain_of_n_minus_1_comparisons(n: int, presorted: str) -> None:
    # timsort finds one run: n - 1 comparisons, each sharing a value with the one before
    values = list(range(n)) if presorted == "ascending" else list(range(n, 0, -1))
    report = analyze_workload(trace_function(sort_in_place, {"values": values}))
    assert report.depth == n - 1
    assert report.work == n - 1  # sort-input and select steps cost nothing


def test_depth_agrees_with_networkx_and_grows_linearly() -> None:
    for n in (64, 512):
        values = random.Random(n).sample(range(10 * n), n)
        trace = run_traced(sort_in_place, {"values": values})
        graph = trace.recorder.graph()
        g = nx.DiGraph()
        g.add_nodes_from(range(graph.n))
        g.add_edges_from((p, s) for s in range(graph.n) for p in graph.preds(s))
        cost = dict(enumerate(graph.costs))
        # the longest path by node cost, over networkx's topological order
        finish: dict[int, float] = {}
        for node in nx.topological_sort(g):
            finish[node] = cost[node] + max((finish[p] for p in g.predecessors(node)), default=0)
        depth = max(finish.values())
        assert analyze_workload(trace_function(sort_in_place, {"values": values})).depth == depth
        # the final merge alone is a chain of about n comparisons; all of them, n log n
        assert n - 1 <= depth <= len(real_comparisons(values))
        assert depth >= 1.5 * n


def keyed(values: list) -> list:
    pairs = [(x, i) for i, x in enumerate(ss.inputs(values))]
    pairs.sort(key=lambda p: -p[0])
    return pairs


def test_key_functions_and_tuples_are_followed() -> None:
    values = [5, 3, 9, 1, 7, 3]
    trace = run_traced(keyed, {"values": values})
    assert [(x.value, i) for x, i in trace.result] == sorted(
        [(v, i) for i, v in enumerate(values)], key=lambda p: -p[0]
    )
    rec = trace.recorder
    negations = steps_named(rec, "neg")
    compared = steps_named(rec, *_COMPARISONS)
    assert len(negations) == len(values) and compared
    # the comparisons are on the keys (-x), derived from the values: they chain through them
    assert all(needs(rec, c) & ({*negations} | {*compared}) for c in compared)
    # every sorted value is selected by a comparison
    assert all(needs(rec, x.node) & {*compared} for x, _ in trace.result)


def tuples_by_value(values: list) -> list:
    xs = [(x, x * 2) for x in ss.inputs(values)]
    xs.sort()
    return xs


def test_tuples_compare_element_by_element_and_move_whole() -> None:
    trace = run_traced(tuples_by_value, {"values": [3, 1, 2]})
    assert [(a.value, b.value) for a, b in trace.result] == [(1, 2), (2, 4), (3, 6)]
    rec = trace.recorder
    compared = {*steps_named(rec, *_COMPARISONS)}
    for a, b in trace.result:  # both elements of a tuple selected by the same comparison
        assert needs(rec, a.node) & compared == needs(rec, b.node) & compared != set()


def test_a_failing_sort_raises_as_it_would_and_the_run_goes_on() -> None:
    def run():
        xs = [*ss.inputs([2, 1]), "text"]
        with contextlib.suppress(TypeError):
            xs.sort()
        ys = ss.inputs([2, 1])
        ys.sort()
        return ys

    trace = run_traced(run, {})
    assert [y.value for y in trace.result] == [1, 2]
    assert trace.recorder.native_callers == []


def test_plain_lists_and_task_bodies_are_left_alone() -> None:
    @ss.task
    def inside(xs):
        xs.sort()
        return xs

    def run():
        plain = [3, 1, 2]
        plain.sort()
        return plain, inside(ss.inputs([2, 1]))

    trace = run_traced(run, {})
    assert trace.result[0] == [1, 2, 3]
    assert not steps_named(trace.recorder, "sort-input", "select", *_COMPARISONS)


@pytest.mark.parametrize("control", ["dataflow", "frame", "strict"])
def test_the_sorts_truth_tests_are_not_the_callers_branches(control: str) -> None:
    """timsort tests its comparisons' truth in its caller's name: those are the sort's own
    branches, followed by its chains, as sorted() (which makes none) is; a branch in a key
    function is the user's."""

    def run():
        xs = ss.inputs([4, 2, 3, 1])
        xs.sort()
        a, b = ss.inputs([1, 2])
        return a + b  # after the sort, in the same call, but needing nothing of it

    trace = run_traced(run, {}, control=control)
    rec = trace.recorder
    assert needs(rec, trace.result.node) == set()
    assert rec.control_decisions == 0

    def keyed():
        xs = ss.inputs([4, 2, 3, 1])
        xs.sort(key=lambda v: 0 if v > 2 else 1)  # a branch in user code: 4 of them
        return xs

    assert run_traced(keyed, {}, control=control).recorder.control_decisions == 4


def test_another_profiler_keeps_its_place_and_the_originals_are_back() -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    other = sys.getprofile()  # cProfile's, up to Python 3.11; from 3.12 it uses sys.monitoring
    try:
        trace = run_traced(sort_in_place, {"values": [3, 1, 2]})
        assert sys.getprofile() is other
    finally:
        profiler.disable()
    assert [x.value for x in trace.result] == [1, 2, 3]
    # watched unless that took the profile function's place
    assert bool(steps_named(trace.recorder, "sort-input")) == (other is None)
    run_traced(sort_in_place, {"values": [3, 1, 2]})
    assert sys.getprofile() is None


# --- numpy object arrays ---


def test_numpy_max_and_min_are_chains_and_only_what_they_return_is_selected() -> None:
    np = pytest.importorskip("numpy")

    def run(n: int):
        xs = np.array(ss.inputs(random.Random(n).sample(range(100), n)), dtype=object)
        before = list(xs)
        picked = (xs.max(), np.max(xs), xs.min(), np.amin(xs))
        kept = all(a is b for a, b in zip(xs, before, strict=True))
        return picked, kept

    for n in (1, 5, 40):
        trace = run_traced(run, {"n": n})
        (biggest, biggest_too, least, least_too), kept = trace.result
        values = random.Random(n).sample(range(100), n)
        assert kept  # the array has its own values back
        assert biggest.value == biggest_too.value == max(values)
        assert least.value == least_too.value == min(values)
        rec = trace.recorder
        assert len(steps_named(rec, "select")) == (4 if n > 1 else 0)
        depth = analyze_workload(trace_function(lambda n: run(n)[0][0], {"n": n})).depth
        assert depth == n - 1  # numpy's reduction compares left to right: a chain


def test_numpy_max_along_an_axis_selects_each_result() -> None:
    np = pytest.importorskip("numpy")

    def run():
        grid = np.array(ss.inputs([[1, 9, 3], [7, 2, 8]]), dtype=object)
        return grid.max(axis=0)

    trace = run_traced(run, {})
    assert [x.value for x in trace.result] == [7, 9, 8]
    rec = trace.recorder
    compared = {*steps_named(rec, *_COMPARISONS)}
    assert all(needs(rec, x.node) & compared for x in trace.result)
    assert len(steps_named(rec, "select")) == 3


def test_numpy_sort_chains_numpys_own_comparisons() -> None:
    np = pytest.importorskip("numpy")
    values = random.Random(7).sample(range(1000), 40)

    def run():
        return np.sort(np.array(ss.inputs(values), dtype=object))

    trace = run_traced(run, {})
    assert [x.value for x in trace.result] == sorted(values)
    Logged.log = []
    np.sort(np.array([Logged(v, i) for i, v in enumerate(values)], dtype=object))
    rec = trace.recorder
    entries, compared = steps_named(rec, "sort-input"), steps_named(rec, *_COMPARISONS)
    assert len(compared) == len(Logged.log)
    last: dict[int, int] = {}
    for step, (i, j) in zip(compared, Logged.log, strict=True):
        assert needs(rec, step) == {last.get(i, entries[i]), last.get(j, entries[j])}
        last[i] = last[j] = step


def test_read_only_arrays_are_not_written() -> None:
    np = pytest.importorskip("numpy")

    def run():
        xs = np.array(ss.inputs([3, 1, 2]), dtype=object)
        xs.flags.writeable = False
        return xs.max(), list(xs)

    trace = run_traced(run, {})
    biggest, after = trace.result
    assert biggest.value == 3 and all(x.node == NO_STEP for x in after)
    assert not steps_named(trace.recorder, "sort-input", "select")


def test_numpy_imported_during_the_run_is_watched_too(tmp_path) -> None:
    pytest.importorskip("numpy")
    target = tmp_path / "late.py"
    target.write_text(
        "import serialscale as ss\n"
        "def late(n=20):\n"
        "    import numpy as np  # first imported here, after the run started\n"
        "    return np.array(ss.inputs(list(range(n))), dtype=object).max() + 0\n"
    )
    # a fresh interpreter: numpy is not imported before the run starts
    cmd = [sys.executable, "-m", "serialscale", "analyze", f"{target}:late", "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["depth"] == 20  # 19 comparisons in a chain, then + 0


def test_the_operation_limit_stops_a_run_inside_a_sort() -> None:
    from serialscale.trace.recorder import TooManyOperations

    values = random.Random(3).sample(range(10_000), 2_000)
    with pytest.raises(TooManyOperations):
        run_traced(sort_in_place, {"values": values}, max_ops=500)
    assert sys.getprofile() is None  # the watcher is gone with the run


@pytest.mark.parametrize("compiled", [True, False])
def test_the_compiled_watcher_checks_its_arguments(compiled: bool) -> None:
    """The compiled ``watch_methods`` and its pure twin refuse the same arguments."""
    from serialscale.trace.native_selection import _py_watch_methods

    tape = kernels.tracer_built("tape")
    if compiled and tape is None:
        pytest.skip("the compiled tracer was not built")
    watch_methods = tape.watch_methods if compiled else _py_watch_methods

    def callback(*args):
        return None

    bad = [
        ((callback, ["sort"]), TypeError),  # not a tuple
        ((callback, (b"sort",)), TypeError),
        ((callback, ("",)), ValueError),
        ((callback, ("x" * 16,)), ValueError),
        ((callback, ("a\x00b",)), ValueError),
        ((callback, ("m",) * 9), ValueError),
        ((42, ("sort",)), TypeError),
    ]
    for args, error in bad:
        with pytest.raises(error):
            watch_methods(*args)
        assert sys.getprofile() is None
    watch_methods(callback, ("sort",))
    installed = sys.getprofile()
    assert installed is callback if compiled else installed is not None
    watch_methods(None, ())
    assert sys.getprofile() is None


# --- the rechain kernel and its pure-Python twin ---


def _region(draw_values: list[int], n: int, lo: int, start: int, labels: int):
    """Needs, sites and owners of a random call region (the arguments of rechain)."""
    rnd = random.Random(sum(draw_values) + n)
    a, b, c = (array("q", [-1]) * n for _ in range(3))
    for i in range(n):
        row = [rnd.randrange(-1, i) if i else -1 for _ in range(3)]
        a[i], b[i], c[i] = row[0], row[1], (row[2] if rnd.random() < 0.2 else -1)
    site = array("i", [rnd.randrange(labels) for _ in range(n)])
    comparing = array("q", [rnd.random() < 0.6 for _ in range(labels)])
    owner = array("q", [-1]) * (n - lo)
    for entry in range(lo, start):
        owner[entry - lo] = entry
    return a, b, c, site, comparing, owner, array("q", [-1]) * (n - lo)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=4), st.integers(1, 300),
       st.integers(0, 40), st.integers(0, 40), st.integers(1, 6))  # fmt: skip
def test_the_rechain_kernel_and_its_twin_agree(seed, n, before, entries, labels) -> None:
    if not kernels.available():
        pytest.skip("the compiled kernels were not built")
    from serialscale.accel import _compiled

    rechain = kernels.pure_kernels.rechain

    lo = min(before, n)
    start = min(lo + entries, n)
    pure = _region(seed, n, lo, start, labels)
    fast = tuple(array(x.typecode, x) for x in pure)
    args = (lo, start)
    last_pure = rechain(*pure[:5], *args, *pure[5:])
    last_fast = _compiled.rechain(*fast[:5], *args, *fast[5:])
    assert last_pure == last_fast
    assert all(x == y for x, y in zip(pure, fast, strict=True))


def test_the_rechain_kernel_checks_its_arrays() -> None:
    if not kernels.available():
        pytest.skip("the compiled kernels were not built")
    from serialscale.accel import _compiled

    rechain = kernels.pure_kernels.rechain

    def good():
        a = array("q", [-1, 0, 0])
        b = array("q", [-1, 1, -1])
        c = array("q", [-1, -1, -1])
        return [a, b, c, array("i", [0, 0, 0]), array("q", [1]), 0, 2,
                array("q", [0, 1, -1]), array("q", [-1, -1, -1])]  # fmt: skip

    for implementation in (_compiled.rechain, rechain):
        assert implementation(*good()) == 2
        cases = [
            (3, array("q", [0, 0, 0]), TypeError),  # site must be int32
            (0, b"\x00" * 24, (TypeError, ValueError)),  # read-only: never written
            (4, array("q", []), ValueError),  # site 0 names no label
            (5, -1, ValueError),
            (6, 4, ValueError),  # start past the end
            (7, array("q", [9, 1, -1]), ValueError),  # an owner out of range
            (8, array("q", [-1]), ValueError),  # too short
        ]
        for index, value, error in cases:
            args = good()
            args[index] = value
            with pytest.raises(error):
                implementation(*args)
