"""Traced functions: closed forms of known algorithms, the API's semantics, and errors."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import networkx as nx
import pytest

import serialscale as ss
from serialscale import analyze_function, analyze_workload, trace_function

from .conftest import WORKLOADS

sys.path.insert(0, str(WORKLOADS))
import algorithms
import pipeline

ALGOS = str(WORKLOADS / "algorithms.py")


def numbers(fn, **params):
    r = analyze_function(fn, **params)
    return r.work, r.depth, r.width


@pytest.mark.parametrize("n", [2, 5, 16, 100])
def test_running_sum(n: int) -> None:
    assert numbers(algorithms.running_sum, n=n) == (n - 1, n - 1, 1)


@pytest.mark.parametrize("k", [1, 3, 6, 8])
def test_pairwise_sum(k: int) -> None:
    n = 2**k
    assert numbers(algorithms.pairwise_sum, n=n) == (n - 1, k, n // 2)


@pytest.mark.parametrize("n", [1, 7, 64])
def test_affine(n: int) -> None:
    assert numbers(algorithms.affine, n=n) == (2 * n, 2, n)


@pytest.mark.parametrize("k", [2, 4, 6])
def test_scans(k: int) -> None:
    n = 2**k
    assert numbers(algorithms.sequential_scan, n=n)[:2] == (n - 1, n - 1)
    work, depth, _ = numbers(algorithms.blelloch_scan, n=n)
    assert (work, depth) == (2 * (n - 1), 2 * k - 1)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_horner_versus_estrin(k: int) -> None:
    degree = 2**k - 1
    assert numbers(algorithms.horner, degree=degree)[:2] == (2 * degree, 2 * degree)
    work, depth, _ = numbers(algorithms.estrin, degree=degree)
    assert (work, depth) == (2 * degree + k - 1, 2 * k)


@pytest.mark.parametrize("n", [2, 4, 5, 8])
def test_matmul(n: int) -> None:
    work, depth, _ = numbers(algorithms.matmul, n=n)
    assert work == n * n * (2 * n - 1)
    assert depth == 1 + math.ceil(math.log2(n))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_bitonic_depth_grows_like_log_squared(k: int) -> None:
    n = 2**k
    work, depth, _ = numbers(algorithms.bitonic_sort, n=n)
    assert depth == k * (k + 1) // 2
    assert work == n * k * (k + 1) // 2
    keys = ss.trace.run_traced(algorithms.bitonic_sort, {"n": n}).result
    assert [key.value for key in keys] == sorted((7 * i + 3) % n for i in range(n))


@pytest.mark.parametrize(("width", "generations"), [(4, 3), (16, 10), (32, 16)])
def test_rule110(width: int, generations: int) -> None:
    work, depth, w = numbers(algorithms.rule110, width=width, generations=generations)
    assert (work, depth, w) == (width * generations, generations, width)


def test_rule110_really_runs_the_automaton() -> None:
    cells = ss.trace.run_traced(algorithms.rule110, {"width": 8, "generations": 1}).result
    assert [c.value for c in cells] == [0, 0, 0, 0, 0, 0, 1, 1]


@pytest.mark.parametrize(("balls", "steps"), [(2, 3), (6, 20)])
def test_billiards(balls: int, steps: int) -> None:
    assert numbers(algorithms.billiards, balls=balls, steps=steps)[:2] == (
        3 * balls * steps,
        3 * steps,
    )


@pytest.mark.parametrize(("states", "k", "sweeps"), [(2, 1, 3), (4, 2, 10), (8, 3, 5)])
def test_value_iteration(states: int, k: int, sweeps: int) -> None:
    assert numbers(algorithms.value_iteration, states=states, sweeps=sweeps)[1] == sweeps * (k + 4)


def test_task_pipeline_depth_from_declared_costs() -> None:
    r = analyze_function(pipeline.pipeline, shards=3)
    assert (r.work, r.depth) == (26, 18)
    assert r.critical_path == ["fetch#1", "clean#1", "train#1", "report#1"]
    r = analyze_function(pipeline.pipeline, shards=5)
    assert (r.work, r.depth, r.width) == (17 + 15, 18, 5)


def test_measured_costs_are_wall_clock_seconds() -> None:
    r = analyze_function(pipeline.measured_pipeline, width=3, size=2000)
    assert r.steps == 4
    assert 0 < r.depth < r.work < 10


def test_running_max_dataflow_and_strict() -> None:
    n = 12
    wl = trace_function(algorithms.running_max, {"n": n}, control="dataflow")
    r = analyze_workload(wl)
    assert (r.work, r.depth, r.width) == (n - 1, 1, n - 1)
    assert r.control_decisions == n - 1
    assert "control dependence was ignored" in r.notes[0]
    strict = analyze_workload(trace_function(algorithms.running_max, {"n": n}, control="strict"))
    assert (strict.work, strict.depth, strict.width) == (n - 1, n - 1, 1)


def test_ids_name_the_operation_and_the_line() -> None:
    def f():
        a, b = ss.inputs([1, 2])
        c = a + b
        return c * 2 - a

    wl = trace_function(f, {})
    line = f.__code__.co_firstlineno + 2
    assert list(wl.graph.ids) == [
        f"add@test_trace.py:{line}#1",
        f"mul@test_trace.py:{line + 1}#1",
        f"sub@test_trace.py:{line + 1}#1",
    ]


def test_every_operator_is_one_step() -> None:
    def f():
        a, b = ss.inputs([7, 3])
        results = [
            a + b, a - b, a * b, a / b, a // b, a % b, a**b, -a, +a, abs(a), ~a,
            a & b, a | b, a ^ b, a << b, a >> b, a < b, a <= b, a > b, a >= b,
            a == b, a != b, round(a), math.floor(a), math.ceil(a), math.trunc(a),
            1 + a, 1 - a, 2 * a, 1 / a, 1 // a, 1 % a, 2**a, 1 & a, 1 | a, 1 ^ a,
            1 << a, 1 >> a,
        ]  # fmt: skip
        q, r = divmod(a, b)
        assert (q.value, r.value) == (2, 1)
        assert [x.value for x in results[:4]] == [10, 4, 21, 7 / 3]
        return results

    r = analyze_function(f)
    assert r.steps == 39 and r.depth == 1


def test_plain_operations_are_not_recorded_and_escapes_are_counted() -> None:
    def f():
        xs = ss.inputs([1, 2, 3])
        plain = 5 * 4  # not traced
        total = xs[0] + plain
        items = list(range(10))
        picked = items[xs[1]]  # index: escape
        return total + int(xs[2]) + picked

    wl = trace_function(f, {})
    r = analyze_workload(wl)
    assert r.steps == 3
    assert r.escapes == 2
    assert "dependencies through them are lost" in " ".join(r.notes)


def test_task_needs_come_from_nested_containers_and_results_index() -> None:
    @ss.task(cost=2)
    def split(values):
        return values[0], values[1][0]

    @ss.task
    def join(parts):
        return sum(parts["a"]) + sum(parts["b"])

    def f():
        x, y, z = ss.inputs([1, 2, 3])
        a = x + y  # step
        first, second = split([a, (z,)])  # needs a; results depend on the split step
        joined = join({"a": [first], "b": (second,)})
        assert joined.value == 3 + 3
        return joined, a

    wl = trace_function(f, {})
    ids = wl.graph.ids
    assert [ids[j] for j in wl.graph.preds(ids.index("split#1"))] == [ids[0]]
    assert [ids[j] for j in wl.graph.preds(ids.index("join#1"))] == ["split#1"]
    r = analyze_workload(wl)
    assert (r.work, r.depth) == (4, 4)


def test_task_body_is_not_recorded_and_task_works_untraced() -> None:
    @ss.task
    def inner(v):
        return v * 2 + 1  # plain values inside

    assert inner(3) == 7  # outside tracing: a plain function

    def f():
        return inner(ss.input(3))

    r = analyze_function(f)
    assert r.steps == 1


def test_op_records_any_function() -> None:
    def f():
        x = ss.input(16.0)
        root = ss.op(math.sqrt, x, cost=3)
        assert root.value == 4.0
        return root + 1

    r = analyze_function(f)
    assert (r.work, r.depth) == (4, 4)


def test_function_returning_a_digraph() -> None:
    def build():
        g = nx.DiGraph()
        g.add_node("a", cost=2)
        g.add_node("b", cost=3)
        g.add_edge("a", "b")
        g.add_node("c")
        return g

    r = analyze_function(build)
    assert (r.work, r.depth, r.steps) == (6, 5, 3)


def test_inputs_are_not_steps() -> None:
    def f():
        return ss.inputs(range(5))

    with pytest.raises(ss.WorkloadError, match="recorded no steps"):
        trace_function(f, {})


# Through the CLI ------------------------------------------------------------------------


def test_cli_file_target_with_params(run_cli) -> None:
    result = run_cli("analyze", f"{ALGOS}:pairwise_sum", "--param", "n=32", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["work"], data["depth"], data["width"]) == (31, 5, 16)
    assert data["params"] == {"n": 32}
    assert data["target"] == f"{ALGOS}:pairwise_sum"
    assert data["control"] == "scoped" and data["escapes"] == 0  # the default


def test_cli_module_target(run_cli, monkeypatch) -> None:
    monkeypatch.chdir(WORKLOADS)
    result = run_cli("analyze", "algorithms:running_sum", "--param", "n=10", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["depth"] == 9


@pytest.mark.parametrize(("control", "depth"), [("dataflow", 1), ("frame", 8), ("strict", 8)])
def test_cli_control_modes(run_cli, control: str, depth: int) -> None:
    # running_max: n - 1 comparisons in one call, each after the last decision
    result = run_cli(
        "analyze", f"{ALGOS}:running_max", "--param", "n=9", "--control", control, "-f", "json"
    )
    report = json.loads(result.stdout)
    got = (report["depth"], report["control"], report["control_decisions"])
    assert got == (depth, control, 8)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "user_code.py"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("source", "target_suffix", "params", "fragments"),
    [
        ("def f(n: int):\n    return n\n", ":f", ["n=x"], ["parameter 'n' expects int, got 'x'"]),
        ("def f(n: int):\n    return n\n", ":f", [], ["missing required parameter", "n=VALUE"]),
        ("def f(n: int = 2):\n    return n\n", ":f", ["m=3"], ["unknown parameter 'm'"]),
        ("def f(x: float = 1.0):\n    return x\n", ":f", ["x=nan"], ["expects float"]),
        ("def f(flag: bool = False):\n    return flag\n", ":f", ["flag=maybe"], ["expects bool"]),
        ("def f():\n    return 1\n", ":g", [], ["no function 'g'"]),
        ("def fun():\n    return 1\n", ":funn", [], ["did you mean 'fun'?"]),
        ("X = 3\n", ":X", [], ["not a function"]),
        ("def f():\n    return 1\n", ":f", [], ["recorded no steps", "serialscale.inputs"]),
        # a call that runs none of the body: said so (it said "recorded no steps")
        (
            "import serialscale as ss\nasync def f():\n    return ss.input(1) + 1\n",
            ":f",
            [],
            ["an async function: calling it runs none of its body", "asyncio.run"],
        ),
        (
            "import serialscale as ss\ndef f():\n    yield ss.input(1) + 1\n",
            ":f",
            [],
            ["a generator function", "list(gen())"],
        ),
        ("async def f():\n    yield 1\n", ":f", [], ["an async generator", "asyncio.run"]),
        (
            "class G:\n    def __call__(self):\n        yield 1\ng = G()\n",
            ":g",
            [],
            ["a generator function"],
        ),
        ("import nonexistent_pkg_xyz\n", ":f", [], ["No module named 'nonexistent_pkg_xyz'"]),
        ("def f(:\n", ":f", [], ["SyntaxError"]),
        ("def f():\n    return 1\n", "", [], ["name the function to trace"]),
    ],
)
def test_cli_target_errors(tmp_path, run_cli, source, target_suffix, params, fragments) -> None:
    target = write(tmp_path, source) + target_suffix
    args = ["analyze", target]
    for p in params:
        args += ["--param", p]
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "serialscale/" not in result.stderr


def test_cli_user_exception_shows_only_user_frames(tmp_path, run_cli) -> None:
    target = write(
        tmp_path,
        "import serialscale as ss\n"
        "def helper(x):\n"
        "    return x / 0\n"
        "def f():\n"
        "    x = ss.input(1)\n"
        "    return helper(x + 1)\n",
    )
    result = run_cli("analyze", f"{target}:f")
    assert result.exit_code == 2
    err = result.stderr
    assert err.startswith(f"{target}:3: error:")
    assert "ZeroDivisionError: division by zero" in err
    assert "line 6, in f" in err and "line 3, in helper" in err
    assert "serialscale/" not in err and "site-packages" not in err


def test_cli_missing_module_and_file(run_cli) -> None:
    result = run_cli("analyze", "no_such_module_abc:f")
    assert result.exit_code == 2 and "no module named 'no_such_module_abc'" in result.stderr
    result = run_cli("analyze", "missing/file.py:f")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_param_with_a_yaml_file_is_an_error(run_cli) -> None:
    result = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--param", "n=3")
    assert result.exit_code == 2 and "--param" in result.stderr


def test_malformed_param(run_cli) -> None:
    result = run_cli("analyze", f"{ALGOS}:affine", "--param", "n")
    assert result.exit_code == 2 and "NAME=VALUE" in result.stderr


TRACE_TARGETS = ("operators", "branches", "tasks_and_ops", "selection", "faithful", "reductions",
                 "math_calls", "heaps", "algorithms.py:bitonic_sort")  # fmt: skip


@pytest.mark.parametrize(
    ("targets", "control"),
    [pytest.param(TRACE_TARGETS, c, id=c) for c in ("dataflow", "scoped", "frame", "strict")]
    + [pytest.param(("long_loop",), "dataflow", id="long_loop-dataflow")],
)
def test_compiled_and_pure_tracing_record_the_same_steps(
    targets: tuple[str, ...], control: str
) -> None:
    """The compiled hot path (``_tape``) and the pure-Python operators give the same report,
    step by step (``--detail`` lists every step's id, cost, start and finish), for each
    target. The targets of one control are one batch: one start of the command per
    implementation (each target is still traced in a process of its own)."""
    import os
    import subprocess

    from serialscale.trace.recorder import COMPILED

    if not COMPILED:
        pytest.skip("the compiled tracer was not built (or pure Python is forced)")
    paths = [
        str(WORKLOADS / target) if target.startswith("algorithms")
        else f"{Path(__file__).parent / 'data' / 'trace_targets.py'}:{target}"
        for target in targets
    ]  # fmt: skip
    cmd = [sys.executable, "-m", "serialscale", "analyze", *paths, "--format", "json", "--detail",
           "--control", control]  # fmt: skip
    outputs = []
    for pure in ("0", "1"):
        env = {**os.environ, "SERIALSCALE_PURE_PYTHON": pure}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    documents = [json.loads(output) for output in outputs]
    reports = [d["results"] if len(targets) > 1 else [d] for d in documents]
    assert [len(r) for r in reports] == [len(targets)] * 2 and not documents[0].get("errors")
    for target, compiled, pure in zip(targets, *reports, strict=True):
        assert compiled == pure, target
        assert compiled["steps"] >= 20, target
    assert outputs[0] == outputs[1]


def test_traced_values_pickle_and_copy_with_their_step() -> None:
    import copy
    import pickle

    from serialscale.trace import Traced

    for value in ([1, 2], 2.5):  # a value with items (TracedItems) and a number (Traced)
        t = Traced(value, 5)
        for twin in (pickle.loads(pickle.dumps(t)), copy.copy(t), copy.deepcopy(t)):
            assert type(twin) is type(t) and isinstance(twin, Traced)
            assert (twin.value, twin.node) == (value, 5)


def test_traces_in_two_threads_do_not_cross() -> None:
    """The active recorder is a ContextVar: each thread records only its own operations."""
    import threading

    import serialscale as ss

    def chain(n: int = 1):
        x = ss.input(1)
        for _ in range(n):
            x = x + 1
        return x

    barrier = threading.Barrier(2)
    results: dict[int, int] = {}

    def worker(n: int) -> None:
        def f(n: int = n):
            x = ss.input(0)
            barrier.wait()  # both traces are active at once from here on
            for _ in range(n):
                x = x + 1
            return x

        results[n] = ss.analyze_function(f).steps

    threads = [threading.Thread(target=worker, args=(n,)) for n in (300, 700)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {300: 300, 700: 700}
    assert chain(5) == 6  # outside a trace: plain values


_ANNOTATED = """
from __future__ import annotations
from typing import TYPE_CHECKING, Literal, Optional
if TYPE_CHECKING:
    from collections.abc import Sequence


def f(n: int = 4, weights: Sequence[float] | None = None, o: Optional[int] = None,
      mode: Literal["a", "b"] = "a", fn=max, x: float | None = None):
    return n
"""


def test_params_are_converted_by_annotations_type_checkers_alone_can_read(tmp_path) -> None:
    """A module with ``from __future__ import annotations`` naming a type only type checkers
    import: get_type_hints fails, and every value was passed as text (found: ``n: int`` got
    '8' and the run crashed). Optional values take none; a function or a list cannot come
    from --param (it gave them text, which failed later)."""
    from serialscale.base.errors import WorkloadError
    from serialscale.sources.python_targets import convert_params

    namespace: dict[str, object] = {}
    exec(compile(_ANNOTATED, "annotated.py", "exec"), namespace)
    f = namespace["f"]
    got = convert_params(f, {"n": "8", "o": "3", "mode": "b", "x": "2.5"}, "a.py:f")
    assert (got["n"], got["o"], got["mode"], got["x"]) == (8, 3, "b", 2.5)
    assert type(got["n"]) is int and type(got["x"]) is float
    assert convert_params(f, {"o": "none", "x": "null"}, "a.py:f")["o"] is None
    for name, value, says in (("fn", "min", "takes a function"),
                              ("weights", "1", "numbers, booleans and text only"),
                              ("o", "three", r"expects Optional\[int\]")):  # fmt: skip
        with pytest.raises(WorkloadError, match=says):
            convert_params(f, {name: value}, "a.py:f")


def test_resolved_optional_and_literal_params() -> None:
    from serialscale.base.errors import WorkloadError
    from serialscale.sources.python_targets import convert_params

    namespace: dict[str, object] = {}
    exec("import typing\ndef g(a: typing.Optional[int] = None, b: int | None = 2,\n"
         "      c: typing.Literal['x', 3] = 'x'):\n    return None\n", namespace)  # fmt: skip
    g = namespace["g"]
    assert convert_params(g, {"a": "5", "b": "none", "c": "3"}, "g") == {"a": 5, "b": None, "c": 3}
    with pytest.raises(WorkloadError, match="expects one of 'x', 3"):
        convert_params(g, {"c": "y"}, "g")


def test_a_file_target_inside_a_package_takes_its_relative_imports(tmp_path) -> None:
    """mypkg/kernels.py:scan with ``from .util import helper`` failed ("attempted relative
    import with no known parent package") where mypkg.kernels:scan worked; now both give
    the same graph (a chain of n steps: the oracle)."""
    import json
    import subprocess
    import sys

    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "util.py").write_text("def helper(x):\n    return x + 1\n")
    (package / "kernels.py").write_text(
        "import serialscale as ss\nfrom .util import helper\n\n\ndef scan(n=4):\n"
        "    x = ss.input(0)\n    for _ in range(n):\n        x = helper(x)\n    return x\n"
    )
    reports = []
    for target in ("mypkg/kernels.py:scan", "mypkg.kernels:scan"):
        done = subprocess.run([sys.executable, "-m", "serialscale", "analyze", target, "--param",
                               "n=6", "-f", "json"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        reports.append(json.loads(done.stdout))
    for report in reports:
        assert (report["steps"], report["depth"], report["width"]) == (6, 6, 1)
    assert reports[0]["critical_path"] == reports[1]["critical_path"]


def test_param_kinds_each_convert_or_say_why() -> None:
    """The hostile review's forms: Literal of booleans and None, Union tried member by member
    (text last), NewType, Annotated, Enum by name, complex, object and Any as text, numpy-like
    subclasses of float; each the same whether get_type_hints works for the whole function or
    not (a parameter whose annotation only type checkers resolve)."""
    import enum

    from serialscale.base.errors import WorkloadError
    from serialscale.sources.python_targets import convert_params

    class Color(enum.Enum):
        RED = 1
        BLUE = 2

    class Money(float):
        pass

    source = """
import typing
from typing import Annotated, Literal, NewType, Optional, Union
UserId = NewType("UserId", int)
def f(a: Literal[True, False] = True, b: Literal['a', None] = 'a', c: Union[int, str] = 1,
      d: Union[int, str, None] = None, e: UserId = UserId(1), g: Annotated[int, 'x'] = 0,
      h: Color = Color.RED, i: complex = 0j, j: object = None, k: typing.Any = None,
      m: Money = Money(0), n: Optional[Literal['x', 'y']] = None{extra}):
    return None
"""
    cases = {"a": ("false", False), "b": ("null", None), "c": ("7", 7), "d": ("word", "word"),
             "e": ("5", 5), "g": ("3", 3), "h": ("BLUE", Color.BLUE), "i": ("1+2j", 1 + 2j),
             "j": ("text", "text"), "k": ("2", "2"), "m": ("2.5", Money(2.5)),
             "n": ("y", "y")}  # fmt: skip
    for extra in ("", ", z: 'NotImportedAnywhere' = None"):  # hints resolve / fail
        namespace: dict[str, object] = {"Color": Color, "Money": Money}
        exec(source.replace("{extra}", extra), namespace)
        f = namespace["f"]
        for name, (text, expected) in cases.items():
            got = convert_params(f, {name: text}, "t.py:f")[name]
            assert got == expected and type(got) is type(expected), (extra, name, got)
        assert type(convert_params(f, {"m": "2.5"}, "t.py:f")["m"]) is Money
        for name, text in (("a", "maybe"), ("h", "GREEN"), ("e", "x"), ("n", "z")):
            with pytest.raises(WorkloadError, match=f"parameter '{name}' expects"):
                convert_params(f, {name: text}, "t.py:f")
