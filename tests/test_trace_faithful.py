"""A traced run never changes what the function computes, nor crashes where the plain run
works (issue 23, part 1): attribute access, container probes, three-argument ``pow``, names
bound before the run, truth tests made inside library calls; and every traced target of the
suite gives exactly its untraced result."""

from __future__ import annotations

import collections.abc
import importlib.util
import inspect
import math
import os
import statistics
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import serialscale as ss
from serialscale.trace import Traced, run_traced

from .conftest import WORKLOADS

sys.path.insert(0, str(WORKLOADS))
import algorithms  # the bundled classic algorithms
import pipeline


def plain(value: Any) -> Any:
    """``value`` with every traced value (in lists, tuples and dicts too) unwrapped."""
    if isinstance(value, Traced):
        return plain(value.value)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    """Exactly equal, type for type (1 == 1.0 == True would hide a changed result)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def untraced(fn: Any, **params: Any) -> Any:
    """``fn(**params)`` on plain numbers: ``ss.input``/``ss.inputs`` give their values as
    they are (outside a run they would give traced inputs, whose library calls differ)."""
    saved = ss.input, ss.inputs
    ss.input, ss.inputs = (lambda v: v), list  # type: ignore[assignment]
    try:
        return fn(**params)
    finally:
        ss.input, ss.inputs = saved


def steps_named(rec, name: str) -> list[int]:
    rec.flush()
    return [i for i, s in enumerate(rec.site) if rec.site_names[s][0] == name]


def needs(rec, step: int) -> set[int]:
    rec.flush()
    out = {rec.a[step], rec.b[step], rec.c[step], *rec.more.get(step, [])}
    return {n for n in out if n >= 0}


# --- attribute access: a recorded step or a named escape, never a silent plain value ---

ATTRIBUTES = [
    (2.75, "as_integer_ratio", ()), (12, "bit_length", ()), (2.5, "real", None),
    (2.5, "imag", None), (3 + 4j, "real", None), (3 + 4j, "conjugate", ()),
    (Fraction(3, 4), "numerator", None), (Fraction(3, 4), "denominator", None),
    (7, "numerator", None), (2.0, "is_integer", ()), (2.5, "hex", ()), (5, "to_bytes", (2, "big")),
]  # fmt: skip


@pytest.mark.parametrize(("value", "name", "args"), ATTRIBUTES)
def test_attribute_access_is_a_step_or_an_escape(value: Any, name: str, args: Any) -> None:
    def run(n: int = 1):
        x = ss.input(value) * 1  # made by a step, so that what needs it can be seen
        attribute = getattr(x, name)
        return attribute if args is None else attribute(*args)

    expected = getattr(value * 1, name)
    expected = expected if args is None else expected(*args)
    trace = run_traced(run, {})
    rec, result = trace.recorder, trace.result
    assert same(plain(result), expected)
    made = steps_named(rec, name)
    if made:  # a recorded step needing the value's step, and the result carries it
        assert len(made) == 1 and needs(rec, made[0]) == {0}
        parts = result if isinstance(result, tuple) else (result,)
        assert all(isinstance(p, Traced) and p.node == made[0] for p in parts)
    else:  # an escape, counted and named
        assert rec.escapes == 1 and not isinstance(result, Traced)
        assert any(name in kind for kind, _, _ in rec.escape_sites)


def test_attributes_outside_a_run_are_the_values() -> None:
    x = ss.input(2.75)
    assert x.as_integer_ratio() == (11, 4) and x.real == 2.75


# --- a traced number answers container probes as the number it carries ---


def probes(x: Any) -> tuple:
    abc = collections.abc
    return (hasattr(x, "__iter__"), hasattr(x, "__len__"), hasattr(x, "__getitem__"),
            isinstance(x, abc.Iterable), isinstance(x, abc.Sized), isinstance(x, abc.Sequence),
            isinstance(x, abc.Container))  # fmt: skip


@pytest.mark.parametrize("value", [3, 2.5, 1 + 2j, Fraction(1, 3), True])
def test_a_traced_number_is_no_container(value: Any) -> None:
    def run(n: int = 1):
        x = ss.input(value)
        y = x + 0  # a computed one too
        return probes(x), probes(y)

    assert run_traced(run, {}).result == (probes(value), probes(value + 0))
    with pytest.raises(TypeError):
        len(ss.input(value))
    with pytest.raises(TypeError):
        iter(ss.input(value))


def flatten_sum(data: Any) -> Any:
    """Real code's shape: a list branch chosen by probing for ``__len__``."""
    if hasattr(data, "__len__"):
        total = 0
        for item in data:
            total = total + flatten_sum(item)
        return total
    return data * 2


def test_code_that_probes_for_a_list_takes_the_number_branch() -> None:
    def run(n: int = 4):
        return flatten_sum([ss.inputs(range(n)), ss.input(1.5)])

    trace = run_traced(run, {"n": 4})
    assert same(plain(trace.result), flatten_sum([list(range(4)), 1.5]))
    assert len(trace.recorder) > 0


def test_task_results_still_index_and_iterate() -> None:
    @ss.task
    def pair(x):
        return [x, x + 1]

    def run(n: int = 1):
        a, b = pair(ss.input(1))
        return a + b, len(pair(ss.input(2)))

    (total, length) = run_traced(run, {}).result
    assert total.value == 3 and total.node == 1 and length == 2


def test_attributes_of_a_task_result_are_traced_numbers_or_named_escapes() -> None:
    @ss.task
    def make(x):
        return Fraction(x, 7)  # a number: the task's result is a traced number

    @ss.task
    def record(x):
        return {"total": x * 2, "items": [x]}

    def run(n: int = 1):
        r = record(ss.input(3))
        return r.get("total"), r.keys(), make(ss.input(2)).denominator

    trace = run_traced(run, {})
    (total, keys, denominator), rec = trace.result, trace.recorder
    assert isinstance(total, Traced) and (total.value, total.node) == (6, 0)
    assert list(keys) == ["total", "items"] and not isinstance(keys, Traced)
    assert isinstance(denominator, Traced) and denominator.value == 7  # a number's: a step
    assert rec.escapes == 1 and ".keys()" in {k for k, _, _ in rec.escape_sites}


# --- pow(b, e, m) ---


POW_TARGET = """
import serialscale as ss

def run(n: int = 3):
    b, e, m = ss.inputs([7, 5, 13])
    x = b * 1
    return [pow(x, 5, 13), pow(3, e * 1, 13), pow(x, e, m * 1), pow(x, 2)]
"""


@pytest.mark.slow  # runs both tracers itself (SERIALSCALE_PURE_PYTHON per child): once is enough
@pytest.mark.parametrize("pure", ["0", "1"])
def test_three_argument_pow_is_one_step(tmp_path: Path, pure: str) -> None:
    path = tmp_path / "powers.py"
    path.write_text(POW_TARGET)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from serialscale.trace import run_traced
        import powers
        trace = run_traced(powers.run, {{}})
        rec = trace.recorder
        rec.flush()
        print(([r.value for r in trace.result], [r.node for r in trace.result]))
        print([rec.site_names[s][0] for s in rec.site])
        print([sorted(n for n in (rec.a[i], rec.b[i], rec.c[i]) if n >= 0)
               for i in range(len(rec.site))])
    """)
    env = {**os.environ, "SERIALSCALE_PURE_PYTHON": pure}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    values, names, step_needs = (eval(line) for line in done.stdout.splitlines())
    assert values[0] == [pow(7, 5, 13), pow(3, 5, 13), pow(7, 5, 13), 49]
    # mul, pow, mul, pow, mul, pow, pow: each pow one step needing its traced operands' steps
    assert names == ["mul", "pow", "mul", "pow", "mul", "pow", "pow"]
    assert values[1] == [1, 3, 5, 6]
    assert step_needs[1] == [0] and step_needs[3] == [2] and step_needs[5] == [0, 4]
    assert step_needs[6] == [0]


# --- names bound before the run ---

BOUND = """
import statistics
from heapq import heappush, heappop
from math import sqrt
from statistics import mean
import serialscale as ss

def build(values, func=max):
    return func(values)

def keyed(values, *, order=sorted):
    return order(values)

def make_closure():
    pick = min
    def inner(values):
        return pick(values)
    return inner

smallest = make_closure()

def run(n: int = 8):
    xs = ss.inputs([(7 * i + 3) % n + 0.5 for i in range(n)])
    heap = []
    for x in xs:
        heappush(heap, x)
    popped = [heappop(heap) for _ in range(n)]
    return {"mean": mean(xs), "sqrt": sqrt(xs[0]), "max": build(xs), "sorted": keyed(xs),
            "min": smallest(xs), "popped": popped}

def fails(n: int = 8):
    xs = ss.inputs(range(n))
    heappush([], xs[0])
    raise RuntimeError("boom")
"""


def load(tmp_path: Path, name: str, text: str) -> Any:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_names_bound_before_the_run_are_recorded_and_restored(tmp_path: Path) -> None:
    import heapq

    module = load(tmp_path, "bound_names", BOUND)
    before = dict(module.__dict__)
    plain_result = untraced(module.run, n=8)
    trace = run_traced(module.run, {"n": 8})
    result, rec = trace.result, trace.recorder
    assert same(plain(result), plain_result)
    # the plain float statistics.mean returns, exactly (not a Fraction, not sum / n)
    assert type(result["mean"].value) is float
    assert result["mean"].value == statistics.mean([(7 * i + 3) % 8 + 0.5 for i in range(8)])
    for key in ("mean", "sqrt", "max"):  # recorded: a traced value made by a step
        assert result[key].node >= 0, key
    for key in ("sorted", "popped"):  # placed by recorded comparisons (a run's tail: not)
        assert sum(v.node >= 0 for v in result[key]) >= 6, key
    assert result["min"].node >= 0
    assert rec.escapes == 0
    # heappush/heappop recorded: the pops' comparisons chain (a heap sort of 8: depth > 1)
    assert ss.analyze_workload(ss.trace_function(module.run, {"n": 8})).depth > 4
    # restored after the run: module globals, defaults, keyword defaults, closures
    assert module.heappush is heapq.heappush and module.mean is statistics.mean
    assert module.sqrt is math.sqrt and module.build.__defaults__ == (max,)
    assert module.keyed.__kwdefaults__ == {"order": sorted}
    assert module.smallest.__closure__[0].cell_contents is min
    assert {k: v for k, v in module.__dict__.items() if k in before} == before
    with pytest.raises(RuntimeError, match="boom"):
        run_traced(module.fails, {"n": 4})
    assert module.heappush is heapq.heappush  # also after an exception


THREADED = """
from heapq import heappush, heappop

def run(n: int = 8, middle=lambda: None):
    import serialscale as ss
    xs = ss.inputs([(7 * i + 3) % 8 for i in range(n)])
    heap = []
    middle()  # another thread's run starts or ends here
    for x in xs:
        heappush(heap, x)
    return [heappop(heap) for _ in range(n)]
"""


def test_a_run_in_another_thread_ending_first_leaves_the_swapped_names_in_place(
    tmp_path: Path,
) -> None:
    """Two overlapping runs in threads trace one module's `from heapq import heappush`:
    the first to finish must not put the original back under the second (before: it did,
    and the second recorded its pushes as unselected data flow, a shallower graph)."""
    import heapq
    import threading

    module = load(tmp_path, "threaded_names", THREADED)
    alone = ss.analyze_workload(ss.trace_function(module.run, {"n": 8}))
    second_started, first_done = threading.Event(), threading.Event()
    depths: dict[str, int] = {}

    def first() -> None:
        def middle() -> None:
            assert second_started.wait(30)

        trace = ss.trace_function(module.run, {"n": 8, "middle": middle})
        depths["first"] = ss.analyze_workload(trace).depth

    def second() -> None:
        def middle() -> None:
            second_started.set()
            assert first_done.wait(30)  # the first run is over: its swaps are undone

        trace = ss.trace_function(module.run, {"n": 8, "middle": middle})
        depths["second"] = ss.analyze_workload(trace).depth

    a = threading.Thread(target=first)
    a.start()
    b = threading.Thread(target=second)
    b.start()
    a.join(60)
    first_done.set()
    b.join(60)
    assert depths == {"first": alone.depth, "second": alone.depth}
    assert module.heappush is heapq.heappush and module.heappop is heapq.heappop


NESTED = """
import _heapq
from heapq import heappush
import serialscale as ss

def inner(n: int = 4):
    h = []
    for x in ss.inputs(range(n)):
        heappush(h, x)
    return h

def outer(n: int = 4):
    global heappush
    heappush = _heapq.heappush  # the run rebinds the swapped name itself
    from serialscale.trace import run_traced
    return run_traced(inner, {}).result
"""


def test_a_nested_run_after_the_outer_one_rebound_a_swapped_name(tmp_path: Path) -> None:
    """Before: the nested run made a second record of the same name, the first give-back
    dropped it and the second raised KeyError."""
    import heapq

    from serialscale.trace.api import _slots

    module = load(tmp_path, "nested_names", NESTED)
    assert plain(run_traced(module.outer, {}).result) == [0, 1, 2, 3]
    assert module.heappush is _heapq_push() and not _slots
    assert heapq.heappush is _heapq_push()


def _heapq_push() -> object:
    import _heapq

    return _heapq.heappush


def test_mean_gives_what_the_original_gives() -> None:
    # sum(data) / len(data) is 79.97011531144231: mean and fmean round once, to ...230
    data = [87.1861196488308, 0.0066598519100601996, 0.004371264563382527,
            0.00010937714999728176, 0.07215940044356582, 0.01755790777168651,
            472.5038297294266]  # fmt: skip

    def run(n: int = 1):
        xs = ss.inputs(data)
        return statistics.mean(xs), statistics.fmean(xs)

    mean, fmean = run_traced(run, {}).result
    assert same(mean.value, statistics.mean(data)) and same(fmean.value, statistics.fmean(data))


# --- truth tests made inside library calls ---


LIBRARY_TRUTH = """
import serialscale as ss

def run(n: int = 4):
    xs = ss.inputs(range(n))
    probe = xs[2] * 1
    found = probe in xs  # list.__contains__ tests its comparisons' truth in C
    either = any(x > 5 for x in xs)  # any() tests them, from C
    y = xs[0] + 1  # no branch of this call has been taken
    return found, either, y
"""


def test_truth_tests_inside_a_library_call_are_not_the_callers_branches(tmp_path: Path) -> None:
    # a module of its own: this one tests bools by identity, so its comparisons are plain
    run = load(tmp_path, "library_truth", LIBRARY_TRUTH).run
    for control in ("dataflow", "frame"):
        trace = run_traced(run, {}, control=control)
        found, either, y = trace.result
        assert (found, either, y.value) == (True, False, 1)
        assert needs(trace.recorder, y.node) == set()
        assert trace.recorder.control_decisions == 0
        # the dependency is lost there: counted and named as escapes
        assert trace.recorder.escapes > 0
        assert any("truth" in kind for kind, _, _ in trace.recorder.escape_sites)


def test_branches_the_caller_writes_still_count() -> None:
    def run(n: int = 4):
        xs = ss.inputs(range(n))
        hits = 0
        for x in xs:
            if x > 1:
                hits += 1
            while x > 2:
                x = x - 1
        flag = not xs[0]  # a plain bool made from a traced value: an escape
        return hits, flag, xs[1] and xs[2], xs[0] if xs[1] else xs[2]

    trace = run_traced(run, {})
    assert trace.result[0] == 2 and trace.result[1] is True
    # 4 ifs, 4 + 1 whiles' tests, one and, one conditional expression
    assert trace.recorder.control_decisions == 4 + 5 + 1 + 1
    assert trace.recorder.escapes == 1


# --- every traced target of the suite: plain and traced give exactly the same result ---


def _suite_targets() -> list[tuple[str, Any, dict]]:
    out: list[tuple[str, Any, dict]] = []
    for module in (algorithms, pipeline):
        for name, fn in vars(module).items():
            if not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            if name.startswith("_") or getattr(fn, "__serialscale_task__", False):
                continue
            params = inspect.signature(fn).parameters.values()
            if all(p.default is not p.empty for p in params):
                out.append((f"{module.__name__}:{name}", fn, {}))
    data = Path(__file__).parent / "data" / "trace_targets.py"
    spec = importlib.util.spec_from_file_location("trace_targets_differential", data)
    assert spec is not None and spec.loader is not None
    targets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(targets)
    for name in ("operators", "branches", "tasks_and_ops", "selection", "faithful"):
        out.append((f"trace_targets:{name}", getattr(targets, name), {}))
    data = Path(__file__).parent / "data" / "identity_targets.py"
    spec = importlib.util.spec_from_file_location("identity_targets_differential", data)
    assert spec is not None and spec.loader is not None
    identity = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(identity)
    for name in ("matched", "stored", "both", "helper", "identity"):
        out.append((f"identity_targets:{name}", getattr(identity, name), {}))
    classic = Path(__file__).resolve().parent.parent / "benchmarks" / "classic_depths.py"
    spec = importlib.util.spec_from_file_location("classic_depths_differential", classic)
    assert spec is not None and spec.loader is not None
    depths = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(depths)
    for name, (fn, _, _) in depths.ALGORITHMS.items():
        out.append((f"classic:{name}", _on_values(fn), {"n": 32}))
    return out


def _on_values(fn: Any) -> Any:
    def run(n: int = 32):
        import random

        return fn(ss.inputs(random.Random(n).sample(range(10 * n), n)))

    return run


@pytest.mark.parametrize(("name", "fn", "params"), _suite_targets(), ids=lambda v: v
                         if isinstance(v, str) else "")  # fmt: skip
@pytest.mark.parametrize("control", ["dataflow", "scoped", "frame"])
def test_every_traced_target_gives_its_untraced_result(name: str, fn: Any, params: dict,
                                                       control: str) -> None:  # fmt: skip
    expected = plain(untraced(fn, **params))
    traced = plain(run_traced(fn, params, control=control).result)
    assert same(traced, expected), name
