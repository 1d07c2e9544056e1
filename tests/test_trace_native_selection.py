"""list.sort, and numpy's sort/max/min on object arrays, of traced values: the methods' own
comparisons, chained as they make them, and chosen values that depend on them (issue 13).
Oracles: the real methods on plain objects that log the comparisons made on them, sorted()
and max() on plain values, and closed forms (presorted input, a running maximum)."""

from __future__ import annotations

import contextlib
import cProfile
import ctypes
import gc
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


def test_another_profiler_keeps_its_place_and_the_sort_is_watched_all_the_same() -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    other = sys.getprofile()  # cProfile's, up to Python 3.11; from 3.12 it uses sys.monitoring
    try:
        trace = run_traced(sort_in_place, {"values": [3, 1, 2]})
        assert sys.getprofile() is other
    finally:
        profiler.disable()
    assert [x.value for x in trace.result] == [1, 2, 3]
    assert len(steps_named(trace.recorder, "sort-input")) == 3  # watched: no profile function
    run_traced(sort_in_place, {"values": [3, 1, 2]})
    assert sys.getprofile() is None


def test_a_python_profile_function_installed_before_keeps_its_events() -> None:
    seen: list[str] = []

    def some_fn(frame, event, arg):
        if event == "call" and frame.f_code is sort_in_place.__code__:
            seen.append(event)

    sys.setprofile(some_fn)
    try:
        trace = run_traced(sort_in_place, {"values": [3, 1, 2, 5]})
        assert sys.getprofile() is some_fn
    finally:
        sys.setprofile(None)
    assert [x.value for x in trace.result] == [1, 2, 3, 5]
    assert len(steps_named(trace.recorder, "sort-input")) == 4
    assert seen == ["call"]  # it still has its events


def test_no_profile_function_is_installed_during_a_run() -> None:
    """A profile function sends every instruction of the traced code through the
    interpreter's tracing mode (CPython 3.11): the methods are watched without one."""

    def run():
        xs = ss.inputs([3, 1, 2])
        xs.sort()
        return sys.getprofile(), xs

    trace = run_traced(run, {})
    assert trace.result[0] is None
    assert steps_named(trace.recorder, "sort-input")


ORIGINAL_SORT = list.__dict__["sort"]


def _originals_are_back() -> None:
    assert list.__dict__["sort"] is ORIGINAL_SORT and type([]).__dict__["sort"] is ORIGINAL_SORT
    assert list.sort is ORIGINAL_SORT
    assert type(ORIGINAL_SORT).__name__ == "method_descriptor"
    np = sys.modules.get("numpy")
    if np is not None:
        for name in ("sort", "max", "min"):
            assert type(np.ndarray.__dict__[name]).__name__ == "method_descriptor"


def test_the_methods_are_the_originals_again_after_a_run_however_it_ends() -> None:
    np = sys.modules.get("numpy")
    numpy_originals = {n: np.ndarray.__dict__[n] for n in ("sort", "max", "min")} if np else {}

    def swapped_during():
        assert list.__dict__["sort"] is not ORIGINAL_SORT  # the wrapper
        if np is not None:
            assert all(np.ndarray.__dict__[n] is not m for n, m in numpy_originals.items())
        return sort_in_place([2, 1])

    run_traced(swapped_during, {})
    _originals_are_back()

    def raising():
        sort_in_place([2, 1])
        raise ValueError("the traced code's own")

    with pytest.raises(ValueError, match="own"):
        run_traced(raising, {})
    _originals_are_back()

    def interrupted():
        xs = ss.inputs([3, 2, 1])
        xs.sort(key=lambda x: (_ for _ in ()).throw(KeyboardInterrupt))
        return xs

    with pytest.raises(KeyboardInterrupt):
        run_traced(interrupted, {})
    _originals_are_back()
    assert all(np.ndarray.__dict__[n] is m for n, m in numpy_originals.items())
    values = [5, 2, 4]
    values.sort()  # and they work
    assert values == [2, 4, 5]


def test_introspection_during_a_run_sees_the_original() -> None:
    import inspect

    from serialscale.trace.recorder import COMPILED

    def look(method):
        return (method.__name__, method.__qualname__, method.__doc__,
                method.__text_signature__, str(inspect.signature(method)),
                # the pure twin's wrapper is a Python function: its repr says so
                repr(method) if COMPILED else None)  # fmt: skip

    assert run_traced(lambda: look(list.sort), {}).result == look(ORIGINAL_SORT)


def test_unbound_bound_and_from_c_calls_are_watched_as_lst_sort_is() -> None:
    values = [4, 1, 3, 2, 6, 5]

    def plain_call(values):
        xs = ss.inputs(values)
        xs.sort()
        return xs

    def unbound(values):
        xs = ss.inputs(values)
        list.sort(xs)
        return xs

    def bound(values):
        xs = ss.inputs(values)
        f = xs.sort
        f()
        return xs

    def from_c(values):  # called by map, in C: no Python frame of its own
        xs = ss.inputs(values)
        list(map(list.sort, [xs]))
        return xs

    def shape(fn):
        trace = run_traced(fn, {"values": values})
        rec = trace.recorder
        rec.flush()
        kinds = [rec.site_names[s][0] for s in rec.site]
        return [x.value for x in trace.result], kinds, [needs(rec, i) for i in range(len(kinds))]

    expected = shape(plain_call)
    assert expected[0] == sorted(values) and "select" in expected[1]
    for fn in (unbound, bound, from_c):
        assert shape(fn) == expected, fn.__name__


def test_a_sort_in_another_thread_is_not_recorded_and_works() -> None:
    import threading

    out: list = []

    def other_thread():
        xs = [Logged(v, i) for i, v in enumerate([3, 1, 2])]
        xs.sort()
        ys = ss.inputs([9, 8, 7])  # no recorder in this thread: plain values
        ys.sort()
        out.append(([x.value for x in xs], ys))

    def run():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        return sort_in_place([2, 1])

    trace = run_traced(run, {})
    assert out == [([1, 2, 3], [7, 8, 9])]
    assert len(steps_named(trace.recorder, "sort-input")) == 2  # the run's own sort only


def test_runs_in_two_threads_at_once_are_each_watched() -> None:
    import threading

    started = threading.Barrier(2)
    results: dict[str, int] = {}

    def one(name: str, values: list) -> None:
        def run():
            started.wait(timeout=30)  # both runs are on now
            xs = ss.inputs(values)
            xs.sort()
            started.wait(timeout=30)
            return xs

        trace = run_traced(run, {})
        results[name] = len(steps_named(trace.recorder, "sort-input"))

    threads = [threading.Thread(target=one, args=("a", [3, 1, 2])),
               threading.Thread(target=one, args=("b", [9, 8, 7, 6]))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": 3, "b": 4}
    _originals_are_back()


def test_a_run_inside_a_run_keeps_the_outer_watch() -> None:
    def inner():
        return sort_in_place([2, 1, 3])

    def outer():
        done = run_traced(inner, {})
        assert list.__dict__["sort"] is not ORIGINAL_SORT  # still swapped: the outer run is on
        xs = ss.inputs([5, 4])
        xs.sort()
        return len(steps_named(done.recorder, "sort-input")), xs

    trace = run_traced(outer, {})
    assert trace.result[0] == 3
    assert len(steps_named(trace.recorder, "sort-input")) == 2  # the outer sort, watched
    _originals_are_back()


def test_an_entry_replaced_during_the_run_is_left_as_it_is() -> None:
    """Only what the watch put in the type's dict is restored: an entry replaced or deleted
    meanwhile (builtin types refuse setattr: here through their real dict) stays so."""
    from serialscale.trace.native_selection import _swap_method

    def mine(self, *args, **kwargs):
        return ORIGINAL_SORT(self, *args, **kwargs)

    def run():
        _swap_method(list, "sort", mine)
        return sort_in_place([2, 1])

    try:
        run_traced(run, {})
        assert list.__dict__["sort"] is mine
    finally:
        _swap_method(list, "sort", ORIGINAL_SORT)
    _originals_are_back()

    own = gc.get_referents(list.__dict__)[0]  # the dict behind the read-only proxy

    def deleting():
        del own["sort"]
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(list))
        return 1

    try:
        assert run_traced(deleting, {}).result == 1
        assert "sort" not in list.__dict__  # not put back: the watch put nothing there
    finally:
        own["sort"] = ORIGINAL_SORT
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(list))
    _originals_are_back()


TWINS = """
import sys
sys.path.insert(0, {data!r})
from serialscale.trace import run_traced
import native_sort_targets as t
import native_sort_identity as i
targets = [t.sorts_under_decisions, i.identity_sort]
try:
    import numpy
    targets.append(t.numpy_methods)
except ImportError:
    pass
for fn in targets:
    for control in ("dataflow", "scoped", "frame", "strict"):
        trace = run_traced(fn, {{}}, control=control)
        rec = trace.recorder
        rec.flush()
        print(fn.__name__, control, trace.result.value, rec.escapes, rec.control_decisions,
              [rec.site_names[s] for s in rec.site], list(rec.a), list(rec.b), list(rec.c))
"""


@pytest.mark.slow  # runs both tracers itself (SERIALSCALE_PURE_PYTHON per child): once is enough
def test_the_compiled_and_pure_wrappers_record_the_same_steps() -> None:
    """The compiled wrapper makes no frame; the pure one calls the original through a
    function compiled at the caller's line: every step, site, need, escape and decision
    the same, in every control mode."""
    import os
    from pathlib import Path

    code = TWINS.format(data=str(Path(__file__).parent / "data"))
    outputs = []
    for pure in ("0", "1"):
        env = {**os.environ, "SERIALSCALE_PURE_PYTHON": pure}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    lines = outputs[0].splitlines()
    assert len(lines) >= 8 and all("'select'" in line or "select" in line for line in lines)


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


LATE_IMPORT = """
import sys
import serialscale as ss
from serialscale.trace import run_traced
assert "numpy" not in sys.modules
def late(n=20):
    import numpy as np  # first imported here: its methods are swapped once it has run
    return np.array(ss.inputs(list(range(n))), dtype=object).max()
trace = run_traced(late, {})
rec = trace.recorder
rec.flush()
import numpy as np
print(trace.result.value, [rec.site_names[s][0] for s in rec.site].count("select"),
      sorted({type(np.ndarray.__dict__[n]).__name__ for n in ("sort", "max", "min")}),
      [type(f).__name__ for f in sys.meta_path if "serialscale" in type(f).__module__],
      np.__spec__.loader is np.__loader__ and type(np.__loader__).__module__)
"""


@pytest.mark.slow  # runs both tracers itself (SERIALSCALE_PURE_PYTHON per child): once is enough
@pytest.mark.parametrize("pure", ["0", "1"])
def test_numpy_imported_in_the_run_is_watched_then_given_back(pure: str) -> None:
    import os

    pytest.importorskip("numpy")
    env = {**os.environ, "SERIALSCALE_PURE_PYTHON": pure}
    done = subprocess.run([sys.executable, "-c", LATE_IMPORT], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # the maximum selected (watched); the originals and numpy's own loader back; no finder
    assert done.stdout.split() == ["19", "1", "['method_descriptor']", "[]",
                                   "_frozen_importlib_external"]  # fmt: skip


def test_the_operation_limit_stops_a_run_inside_a_sort() -> None:
    from serialscale.trace.recorder import TooManyOperations

    values = random.Random(3).sample(range(10_000), 2_000)
    with pytest.raises(TooManyOperations):
        run_traced(sort_in_place, {"values": values}, max_ops=500)
    assert sys.getprofile() is None
    _originals_are_back()  # the watcher is gone with the run


@pytest.mark.parametrize("compiled", [True, False])
def test_the_compiled_watcher_checks_its_arguments(compiled: bool) -> None:
    """The compiled ``watch_methods`` and its pure twin refuse the same arguments."""
    from serialscale.trace.native_selection import _py_method_watch, _py_watch_methods

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
    calls = []
    wrapper = (tape.method_watch if compiled else _py_method_watch)(ORIGINAL_SORT, "sort")
    watch_methods(lambda *a: calls.append(a[:3]), ("max", "sort"))
    try:
        xs = [2, 1]
        wrapper(xs)
    finally:
        watch_methods(None, ())
    assert calls == [(0, 1, xs), (1, 1, xs)] and xs == [1, 2]
    wrapper(xs)  # no watch: the original only
    assert len(calls) == 2 and sys.getprofile() is None


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


def test_max_and_min_whose_out_is_a_view_of_the_array_keep_what_they_wrote() -> None:
    # out= a view of the array itself: the call writes its results into the array, and
    # the array's values put back after the call must not overwrite them (they did: the
    # traced run's array was the plain run's before the call).
    np = pytest.importorskip("numpy")

    def run(make):
        grid = np.array(make([[3, 1, 2], [0, 5, -1]]), dtype=object)
        grid.max(axis=0, out=grid[0])
        grid.min(axis=1, out=grid[:, 0])
        flat = np.array(make([4, 9, 2]), dtype=object)
        np.max(flat, out=flat[0:1].reshape(()))
        return [*grid.ravel(), *flat]

    plain = run(lambda rows: rows)
    traced = run_traced(lambda: run(ss.inputs), {}).result
    assert [getattr(x, "value", x) for x in traced] == plain == [2, 5, 2, -1, 5, -1, 9, 9, 2]
