"""The compiled scope watcher (csrc/scoped.c) against the pure-Python one (trace/scopes.py)
and both against independent oracles (issue 23, part 2): the same steps, needs, costs and
escapes on every target; depths of functions as public repositories write them against
simulations of the scoped rule on plain values and closed forms; the untraced results."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest

import serialscale as ss
from serialscale import analyze_workload
from serialscale.sources.python_targets import trace_function
from serialscale.trace import run_traced, scopes

from .conftest import WORKLOADS, nx_depth

sys.path.insert(0, str(WORKLOADS))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import classic_depths
import real_code

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] not in ((3, 11), (3, 12)), reason="scoped mode reads 3.11/3.12 frames"
)
BUILT = scopes._scoped is not None and bool(scopes._scoped.AVAILABLE)
needs_compiled = pytest.mark.skipif(not BUILT, reason="the compiled scope watcher was not built")
WATCHERS = [pytest.param(True, id="compiled", marks=needs_compiled),
            pytest.param(False, id="python")]  # fmt: skip


@pytest.fixture(params=WATCHERS)
def watcher(request, monkeypatch) -> bool:
    monkeypatch.setattr(scopes, "COMPILED_WATCH", request.param)
    return request.param


def record(rec) -> tuple:
    """Everything a run recorded, step by step."""
    rec.flush()
    return (list(rec.site), list(rec.a), list(rec.b), list(rec.c), dict(rec.more),
            dict(rec.costs), list(rec.zero_steps), rec.escapes, dict(rec.escape_sites),
            list(rec.site_names), rec.control_decisions)  # fmt: skip


def plain(value):
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return getattr(value, "value", value)


def classic(name: str, n: int):
    fn = classic_depths.ALGORITHMS[name][0]
    values = random.Random(n).sample(range(10 * n), n)

    def run(n: int = n):
        return fn(ss.inputs(values))

    return run


# --- shapes the watcher handles, beyond the algorithms ---


def shapes(n: int = 6):
    xs = ss.inputs([(i * 5) % 7 for i in range(n)])
    lo, hi = ss.inputs([1, 4])
    out: list = []
    picked = xs[0] if xs[1] > xs[2] else xs[3]  # a conditional expression: selected
    for x in xs:
        if x > lo:
            out.append(x)
            out.insert(0, x * 2)
        elif x < hi:
            out.append(x)
            out.pop()  # moves values without a store: an escape
        try:
            if x > hi:
                raise ValueError  # an exception ends the scope
        except ValueError:
            out.append(-x)
    k = ss.input(1)
    if xs[0] < xs[1]:
        k = k + 1
    window = xs[k : k + 3]  # a slice with a traced bound: its items selected
    item = xs[k]  # a read at a traced index: selected
    squares = [x * x for x in xs if x > lo]  # comprehension appends
    box = {"best": lo}
    if picked > box["best"]:
        box["best"] = picked  # an item stored
    return out, window, item, squares, box["best"], _gen_total(xs)


def _gen_total(xs):
    total = 0
    for v in _evens(xs):
        total = total + v
    return total


def _evens(xs):
    for x in xs:
        if x % 2 == 0:
            yield x


TARGETS = {
    **{f"classic:{name}": (lambda name=name: classic(name, 16))
       for name in classic_depths.ALGORITHMS},
    **{f"real:{name}": (lambda name=name: getattr(real_code, name))
       for name in dir(real_code) if name.startswith("run_")},
    "shapes": lambda: shapes,
}  # fmt: skip


@needs_compiled
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_compiled_and_python_watchers_record_the_same_steps(target: str, monkeypatch) -> None:
    fn = TARGETS[target]()
    params = {"n": 16}
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(scopes, "COMPILED_WATCH", compiled)
        trace = run_traced(fn, params, control="scoped")
        assert sys.gettrace() is None
        runs.append((record(trace.recorder), plain(trace.result)))
    assert runs[0] == runs[1]
    # and the traced run computes what the plain run does
    untraced = real_code if target.startswith("real") else None
    if untraced is not None:
        name = target.split(":", 1)[1]
        original = getattr(real_code, name)
        with monkeypatch.context() as m:  # the same function on plain numbers
            m.setattr(real_code.ss, "inputs", list)
            m.setattr(real_code.ss, "input", lambda v: v)
            assert plain(original(**params)) == runs[0][1]


@pytest.mark.parametrize("target", ["real:run_heap_sort", "real:run_knapsack", "shapes",
                                    "classic:merge sort, merge with if"])  # fmt: skip
def test_depth_is_the_longest_path_of_the_recorded_graph(target: str, watcher: bool) -> None:
    fn = TARGETS[target]()
    trace = run_traced(fn, {"n": 16}, control="scoped")
    rec = trace.recorder
    rec.flush()
    zeros = set(rec.zero_steps)
    costs = [0.0 if i in zeros else float(rec.costs.get(i, 1)) for i in range(len(rec.site))]
    needs = [[p for p in (rec.a[i], rec.b[i], rec.c[i], *rec.more.get(i, [])) if p >= 0]
             for i in range(len(rec.site))]  # fmt: skip
    assert analyze_workload(trace_function(fn, {"n": 16}, control="scoped")).depth == \
        nx_depth(costs, needs)  # fmt: skip


# --- depths against simulations of the scoped rule on plain values ---


def depth(fn, n: int, control: str = "scoped") -> float:
    return analyze_workload(trace_function(fn, {"n": n}, control=control)).depth


def network_oracle(values: list[int], comparators: list[tuple[int, int, bool]]) -> int:
    """A compare-exchange network under scoped control: a comparison (cost 1) waits for both
    values; an exchange makes both wait for it (zero-cost selects); values not exchanged
    keep their time. ``(i, j, up)``: exchange when a[i] > a[j] (up) or a[i] < a[j]."""
    a, ready, deepest = list(values), [0] * len(values), 0
    for i, j, up in comparators:
        done = max(ready[i], ready[j]) + 1
        deepest = max(deepest, done)
        if (a[i] > a[j]) if up else (a[i] < a[j]):
            a[i], a[j] = a[j], a[i]
            ready[i] = ready[j] = done
    return deepest


def bitonic_comparators(low: int, cnt: int, up: bool, out: list) -> list:
    def merge(low: int, cnt: int, up: bool) -> None:
        if cnt > 1:
            k = cnt // 2
            out.extend((i, i + k, up) for i in range(low, low + k))
            merge(low, k, up)
            merge(low + k, k, up)

    if cnt > 1:
        k = cnt // 2
        bitonic_comparators(low, k, True, out)
        bitonic_comparators(low + k, k, False, out)
        merge(low, cnt, up)
    return out


@pytest.mark.parametrize("n", [4, 16, 32])
def test_a_sorting_network_written_with_if_has_its_depth(n: int, watcher: bool) -> None:
    k = int(math.log2(n))
    simulated = network_oracle(real_code.shuffled(n), bitonic_comparators(0, n, True, []))
    assert depth(real_code.run_bitonic, n) == simulated <= k * (k + 1) // 2
    assert depth(real_code.run_bitonic, n, "dataflow") == 1  # the swaps move values only


@pytest.mark.parametrize("n", [8, 32])
def test_odd_even_sort_as_written_elsewhere_has_the_depth_of_its_rounds(n: int, watcher) -> None:
    comparators = [(i + 1, i, False) for r in range(n) for i in range(r % 2, n - 1, 2)]
    # `if a[i + 1] < a[i]`: exchange when the right one is smaller, written (i + 1, i, up=False)
    values = real_code.shuffled(n)
    assert depth(real_code.run_odd_even, n) == network_oracle(values, comparators) <= n


def test_a_greedy_scan_chains_the_choices_it_takes(watcher: bool) -> None:
    n = 32
    start = [i + (i * 37 + 11) % 3 for i in range(n)]
    finish = [s + 2 for s in start]
    last, ready, deepest = 0, 0, 0  # each test waits for the finish of the last one taken
    for j in range(1, n):
        done = ready + 1
        deepest = max(deepest, done)
        if start[j] >= finish[last]:
            last, ready = j, done
    assert depth(real_code.run_activity_selection, n) == deepest
    assert depth(real_code.run_activity_selection, n, "dataflow") == 1


def test_kadane_with_if_chains_its_running_sum(watcher: bool) -> None:
    n = 32
    xs = [(i * 37 + 11) % n - n // 2 for i in range(n)]
    curr, best = 0, xs[0]
    t_curr = t_best = deepest = 0
    for x in xs:
        curr, t_curr = curr + x, t_curr + 1
        compared = max(t_curr, t_best) + 1
        if curr > best:
            best, t_best = curr, compared
        tested = t_curr + 1
        if curr < 0:
            curr, t_curr = 0, tested  # the plain 0 stored in the branch is selected by it
        deepest = max(deepest, compared, tested)
    assert depth(real_code.run_max_subarray, n) == deepest


# --- the watcher's reach and life ---


def test_a_loop_without_branches_is_never_watched(watcher: bool) -> None:
    def run(n: int = 200):
        x, y = ss.inputs([1.0, 0.5])
        for _ in range(n):
            x = x + y
        return x, sys.gettrace() is None

    trace = run_traced(run, {"n": 200}, control="scoped")
    assert trace.result[1] is True and len(trace.recorder) == 200


def test_the_watcher_stops_when_the_run_is_stopped(watcher: bool) -> None:
    from serialscale.base.errors import WorkloadError

    with pytest.raises(WorkloadError, match="max-ops"):
        trace_function(real_code.run_bubble, {"n": 32}, control="scoped", max_ops=300)
    assert sys.gettrace() is None


def test_the_compiled_watcher_is_the_default_where_built() -> None:
    import os

    from serialscale.accel import PURE_ENV

    expected = BUILT and os.environ.get(PURE_ENV) != "1"
    assert scopes.COMPILED_WATCH is expected


# --- sweeps decide from a scoped, escape-free recording (the bound rule: exact) ---

MERGE = """
import serialscale as ss


def merge_interleaved(n: int = 8):
    xs = ss.inputs(range(n))
    a, b = xs[0::2], xs[1::2]
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out + a[i:] + b[j:]
"""


def test_a_sweep_traced_scoped_calls_a_serial_merge_serial(run_cli, tmp_path: Path) -> None:
    """A merge written with `if` on interleaved halves: each comparison reads at the index
    the last one moved, a chain of n - 1 comparisons as written. Scoped and escape-free, the
    depths are exact (the bound rule), so the sweep decides `serial`; data flow gives depth 1
    (a lower bound) and cannot decide."""
    import json

    path = tmp_path / "merge.py"
    path.write_text(MERGE)

    def sweep(control: str) -> dict:
        result = run_cli("scale", f"{path}:merge_interleaved", "--sweep", "n=8..512",
                         "-f", "json", "--control", control)  # fmt: skip
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    data = sweep("scoped")
    assert all(p["escapes"] == 0 and p["control_decisions"] > 0 for p in data["points"])
    assert all(p["value"] - 1 <= p["depth"] <= 2 * p["value"] for p in data["points"])
    assert data["control"] == "scoped"
    assert data["bound"] == "exact" and data["verdict"] == "serial"
    dataflow = sweep("dataflow")
    assert dataflow["bound"] == "lower" and dataflow["verdict"] == "inconclusive"


# --- scoped is the default; where it cannot run, data flow with a note (never an error) ---


def test_scoped_is_the_default_on_the_command_line(run_cli) -> None:
    import json

    target = f"{WORKLOADS / 'real_code.py'}:run_odd_even"
    result = run_cli("analyze", target, "--param", "n=16", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    values = real_code.shuffled(16)
    comparators = [(i + 1, i, False) for r in range(16) for i in range(r % 2, 15, 2)]
    assert data["control"] == "scoped" and data["depth"] == network_oracle(values, comparators)
    asked = json.loads(run_cli("analyze", target, "--param", "n=16", "-f", "json",
                               "--control", "dataflow").stdout)  # fmt: skip
    assert asked["control"] == "dataflow" and asked["depth"] == 1


def test_the_default_falls_back_to_dataflow_with_a_note_where_scoped_cannot_run(
    monkeypatch,
) -> None:
    from serialscale.base.errors import WorkloadError

    def run(n: int = 8):
        return real_code.odd_even_sort(ss.inputs(real_code.shuffled(n)))

    monkeypatch.setattr(scopes, "_OFFSETS", {})  # as on an interpreter it does not know
    workload = trace_function(run, {"n": 8})
    assert workload.extra["control"] == "dataflow"
    assert "--control scoped (the default) cannot run here" in workload.extra["notes"][0]
    assert "CPython 3.11 or 3.12" in workload.extra["notes"][0]
    assert analyze_workload(workload).depth == 1
    assert [v.value for v in run_traced(run, {"n": 8}).result] == list(range(8))
    with pytest.raises(WorkloadError, match=r"needs CPython 3\.11 or 3\.12"):  # asked: an error
        trace_function(run, {"n": 8}, control="scoped")


def test_the_default_under_another_trace_function_is_dataflow_with_a_note() -> None:
    def run(n: int = 4):
        return real_code.odd_even_sort(ss.inputs(real_code.shuffled(n)))

    sys.settrace(lambda frame, event, arg: None)
    try:
        workload = trace_function(run, {"n": 4})
    finally:
        sys.settrace(None)
    assert workload.extra["control"] == "dataflow"
    assert "another trace function" in workload.extra["notes"][0]
