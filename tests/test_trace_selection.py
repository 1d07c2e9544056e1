"""heapq and bisect on traced values: the same comparisons as the real modules, and values
that depend on them (issue 13). Oracles: the real (C) heapq and bisect on plain values that
count their comparisons, and sorted() on plain values."""

from __future__ import annotations

import bisect
import heapq
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import serialscale as ss
from serialscale import analyze_workload
from serialscale.sources.python_targets import trace_function
from serialscale.trace import run_traced


class Counted:
    """A plain number that counts the comparisons made on it (the oracle's instrument)."""

    count = 0

    def __init__(self, value) -> None:
        self.value = value

    def __lt__(self, other: Counted) -> bool:
        Counted.count += 1
        return self.value < other.value


def heapsort_plain(values: list) -> tuple[list, int]:
    Counted.count = 0
    heap: list = []
    for v in values:
        heapq.heappush(heap, Counted(v))
    out = [heapq.heappop(heap).value for _ in range(len(values))]
    return out, Counted.count


def heapsort(values: list):
    heap: list = []
    for x in ss.inputs(values):
        heapq.heappush(heap, x)
    return [heapq.heappop(heap) for _ in range(len(values))]


def comparisons(recorder) -> int:
    return sum(1 for op, _, _ in (recorder.site_names[s] for s in recorder.site) if op == "lt")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5, 5), max_size=30))
def test_heapsort_makes_the_real_heapqs_comparisons_and_sorts(values: list) -> None:
    trace = run_traced(heapsort, {"values": values})
    expected, count = heapsort_plain(values)
    assert [x.value for x in trace.result] == expected == sorted(values)
    assert comparisons(trace.recorder) == count


def test_each_pop_depends_on_the_sifts_before_it() -> None:
    for n in (16, 64):
        values = random.Random(n).sample(range(1000), n)
        w = trace_function(heapsort, {"values": values})
        report = analyze_workload(w)
        # n pops, each needing the last: at least linear; no more than every comparison
        assert n - 1 <= report.depth <= report.work


def test_heapify_heapreplace_pushpop_and_tuples() -> None:
    def run():
        xs = ss.inputs([5, 1, 4, 2, 3])
        heap = [(x, f"job{i}") for i, x in enumerate(xs)]
        heapq.heapify(heap)
        first = heapq.heappop(heap)
        swapped = heapq.heapreplace(heap, (ss.input(0), "new"))
        kept = heapq.heappushpop(heap, (ss.input(9), "late"))
        return first, swapped, kept, sorted(heap)

    first, swapped, kept, rest = run_traced(run, {}).result
    assert (first[0].value, first[1]) == (1, "job1")
    assert (swapped[0].value, swapped[1]) == (2, "job3")
    assert (kept[0].value, kept[1]) == (0, "new")
    assert [(p.value, name) for p, name in rest] == [(3, "job4"), (4, "job2"), (5, "job0"),
                                                      (9, "late")]  # fmt: skip
    assert first[0].node >= 0  # chosen by comparisons: a select step, not the input


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=12))
def test_heap_of_nested_tuples_and_lists(pairs: list) -> None:
    # Entries whose traced numbers sit inside tuples and lists (the compiled tracer reads
    # exact tuples and lists itself): the same order as the real heapq on the plain entries.
    def run():
        heap: list = []
        for i, (a, b) in enumerate(pairs):
            heapq.heappush(heap, (ss.input(a), [ss.input(b), (i, "tag")]))
        return [heapq.heappop(heap) for _ in range(len(pairs))]

    heap: list = []
    for i, (a, b) in enumerate(pairs):
        heapq.heappush(heap, (a, [b, (i, "tag")]))
    expected = [heapq.heappop(heap) for _ in range(len(pairs))]
    got = run_traced(run, {}).result
    assert [(x.value, [y.value, rest]) for x, [y, rest] in got] == expected


def test_nsmallest_nlargest_and_merge_agree_with_the_real_functions() -> None:
    values = [7, 3, 9, 1, 3, 8]

    def run():
        xs = ss.inputs(values)
        return (heapq.nsmallest(3, xs), heapq.nlargest(2, xs, key=lambda x: x % 4),
                list(heapq.merge(sorted(xs[:3]), sorted(xs[3:]))))  # fmt: skip

    small, large, merged = run_traced(run, {}).result
    assert [x.value for x in small] == heapq.nsmallest(3, values)
    assert [x.value for x in large] == heapq.nlargest(2, values, key=lambda x: x % 4)
    assert [x.value for x in merged] == list(heapq.merge(sorted(values[:3]),
                                                          sorted(values[3:])))  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=25), st.integers(0, 20))
def test_bisect_makes_the_real_comparisons_and_finds_the_same_place(values, probe) -> None:
    ordered = sorted(values)

    def run():
        xs = ss.inputs(ordered)
        return bisect.bisect_left(xs, ss.input(probe)), bisect.bisect_right(xs, ss.input(probe))

    trace = run_traced(run, {})
    left, right = trace.result
    assert int(left) == bisect.bisect_left(ordered, probe)
    assert int(right) == bisect.bisect_right(ordered, probe)
    Counted.count = 0
    cs = [Counted(v) for v in ordered]
    bisect.bisect_left(cs, Counted(probe))
    bisect.bisect_right(cs, Counted(probe))
    assert comparisons(trace.recorder) == Counted.count


def test_insort_builds_a_sorted_list_whose_values_depend_on_the_search() -> None:
    values = random.Random(3).sample(range(100), 40)

    def run():
        out: list = []
        for x in ss.inputs(values):
            bisect.insort(out, x)
        return out

    trace = run_traced(run, {})
    assert [x.value for x in trace.result] == sorted(values)
    # each value but the first one inserted was placed by a chain of comparisons
    assert sum(x.node < 0 for x in trace.result) == 1

    def keyed_insort():
        xs = ss.inputs([1, 5])
        bisect.insort_left(xs, ss.input(3), key=lambda v: v)
        return xs

    keyed = run_traced(keyed_insort, {})
    assert [x.value for x in keyed.result] == [1, 3, 5]


def test_the_originals_are_back_after_a_run_and_serve_plain_values() -> None:
    before = (heapq.heappush, bisect.insort, heapq.nsmallest)
    run_traced(heapsort, {"values": [3, 1, 2]})
    assert (heapq.heappush, bisect.insort, heapq.nsmallest) == before

    def plain_only():
        heap = [3, 1, 2]
        heapq.heapify(heap)
        return heapq.heappop(heap), bisect.bisect([1, 2, 4], 3), heapq.nsmallest(1, [4, 2])

    assert run_traced(plain_only, {}).result == (1, 2, [2])


@pytest.mark.parametrize("n", [8, 32])
def test_sorting_by_heap_is_serial_as_written(n: int) -> None:
    values = list(range(n, 0, -1))
    report = analyze_workload(trace_function(heapsort, {"values": values}))
    assert report.depth >= n - 1  # not constant depth, as the unpatched heapq would give


# --- numpy object arrays of traced values (issue 13, item 3) ---


def test_numpy_ufuncs_on_object_arrays_record_one_step_per_element() -> None:
    np = pytest.importorskip("numpy")
    values = [1.0, 4.0, 9.0, 0.5]

    def run():
        xs = np.array(ss.inputs(values), dtype=object)
        return np.sqrt(xs), np.arctan2(xs, xs + 1), np.log(xs).sum()

    trace = run_traced(run, {})
    roots, angles, total = trace.result
    assert [r.value for r in roots] == list(np.sqrt(np.array(values)))
    assert [a.value for a in angles] == pytest.approx(
        list(np.arctan2(np.array(values), np.array(values) + 1)))  # fmt: skip
    assert total.value == pytest.approx(float(np.log(np.array(values)).sum()))
    ops = [trace.recorder.site_names[s][0] for s in trace.recorder.site]
    assert ops.count("sqrt") == 4 and ops.count("atan2") == 4 and ops.count("log") == 4
    assert trace.recorder.escapes == 0


def test_a_float_array_built_from_traced_values_is_an_escape() -> None:
    np = pytest.importorskip("numpy")

    def run():
        return np.array(ss.inputs([1.0, 2.0]), dtype=float).sum()

    trace = run_traced(run, {})
    assert trace.recorder.escapes == 2 and len(trace.recorder) == 0


def test_a_values_own_method_of_a_numpy_name_still_runs() -> None:
    from decimal import Decimal

    def run():
        return ss.input(Decimal(2)).sqrt()

    result = run_traced(run, {}).result
    assert isinstance(result.value, Decimal) and result.value == Decimal(2).sqrt()
