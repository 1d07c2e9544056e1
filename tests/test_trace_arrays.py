"""Tracing numpy programs at array level (issue 26): serialscale/trace/arrays.py.

Oracles: the plain numpy result of the same code (bitwise, same dtype), hand counts of the
cost table, networkx's longest path over the recorded graph with the spans as weights.
"""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from msgspec import UNSET  # noqa: E402

import serialscale as ss  # noqa: E402
from serialscale.core.analysis import analyze_workload  # noqa: E402
from serialscale.sources.python_targets import trace_function  # noqa: E402
from serialscale.trace import run_traced  # noqa: E402
from serialscale.trace.arrays import TracedArray, log2_up  # noqa: E402

from .conftest import nx_depth  # noqa: E402


def _plain(x):
    """The plain value of a traced result (arrays, numpy scalars, tuples of them)."""
    if isinstance(x, TracedArray):
        return x.value
    if isinstance(x, (tuple, list)):
        return tuple(_plain(v) for v in x)
    return x


def _same(a, b) -> bool:
    """Bitwise equal with the same dtype and shape (NaNs included)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


RNG = np.random.default_rng(7)
A = RNG.standard_normal((5, 4))
B = RNG.standard_normal((4, 3))
V = RNG.standard_normal(6)
SPD = A.T @ A + 4 * np.eye(4)
I32 = RNG.integers(-50, 50, size=(3, 7)).astype(np.int32)


def _in_place(a, b, v, s, i):
    """In-place operators on arrays (mutated) and numpy scalars (rebound, aliases kept)."""
    total = a.sum()
    alias = total
    total += 1.0
    w = v.copy()
    w *= 2.0
    w[1:3] = w[:2] + 1
    c = (a + 1j * a).real
    return total, alias, w, c


#: (name, function of the inputs); each runs once plain and once on traced inputs.
PROGRAMS = [
    ("elementwise", lambda a, b, v, s, i: np.tanh(a) * 2 + np.exp(-a) - a / 3),
    ("broadcast", lambda a, b, v, s, i: a + a[0] - a[:, :1]),
    ("comparison", lambda a, b, v, s, i: np.where(a > 0, a, -a)),
    ("sum axis", lambda a, b, v, s, i: a.sum(axis=0)),
    ("mean max", lambda a, b, v, s, i: (np.mean(a), a.max(axis=1), np.min(a))),
    ("std var", lambda a, b, v, s, i: (a.std(), np.var(a, axis=1))),
    ("argmax", lambda a, b, v, s, i: np.argmax(a, axis=1)),
    ("cumsum", lambda a, b, v, s, i: (np.cumsum(v), a.cumprod(axis=1))),
    ("matmul", lambda a, b, v, s, i: a @ b),
    ("dot", lambda a, b, v, s, i: (np.dot(a, b), v.dot(v), np.inner(v, v))),
    ("einsum", lambda a, b, v, s, i: np.einsum("ij,jk->ik", a, b)),
    ("outer", lambda a, b, v, s, i: np.outer(v, v)),
    ("sort", lambda a, b, v, s, i: (np.sort(a, axis=1), np.argsort(v))),
    ("moves", lambda a, b, v, s, i: (a.T, a.reshape(2, 10), np.concatenate([a, a]),
                                     np.stack([v, v]), np.roll(v, 2), a.ravel())),
    ("index", lambda a, b, v, s, i: (a[1], a[1:3, ::2], v[[0, 2, 4]], a[a > 0])),
    ("linalg", lambda a, b, v, s, i: (np.linalg.cholesky(s), np.linalg.solve(s, s[0]),
                                      np.linalg.inv(s), np.linalg.det(s))),
    ("qr", lambda a, b, v, s, i: np.linalg.qr(a)),
    ("integers", lambda a, b, v, s, i: (i // 3, i % 7, i << 2, np.abs(i), i.sum(),
                                        i.astype(np.float32))),
    ("unknown", lambda a, b, v, s, i: np.polyval(v, 0.5) + np.trapezoid(v)
     if hasattr(np, "trapezoid") else np.polyval(v, 0.5)),
    ("in place", _in_place),
    ("reflected", lambda a, b, v, s, i: (2.0 - a, 1 / (1 + np.exp(-a)), 2 ** (i % 3))),
]  # fmt: skip


@pytest.mark.parametrize(("name", "program"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_traced_results_equal_plain_numpy_bitwise(name, program):
    inputs = (A, B, V, SPD, I32)
    expected = program(*(x.copy() for x in inputs))
    expected = tuple(expected) if isinstance(expected, tuple) else expected

    def traced():
        return program(*(ss.input(x.copy()) for x in inputs))

    trace = run_traced(traced, {})
    got = _plain(trace.result)
    flat_expected = expected if isinstance(expected, tuple) else (expected,)
    flat_got = got if isinstance(got, tuple) else (got,)
    assert len(flat_expected) == len(flat_got)
    for e, g in zip(flat_expected, flat_got, strict=True):
        assert _same(e, g), name
    assert len(trace.recorder) > 0


def _report(fn, **params):
    return analyze_workload(trace_function(fn, params), processors=4, detail=True)


def _cost_and_span(fn, **params):
    report = _report(fn, **params)
    return [(d.cost, d.span if isinstance(d.span, (int, float)) else d.cost)
            for d in report.detail]  # fmt: skip


def _one(op):
    """A traced run of ``op`` on fresh traced inputs: (cost, span) of its one step."""
    steps = _cost_and_span(op)
    assert len(steps) == 1, steps
    return steps[0]


def _in(x):
    return ss.input(np.array(x))


def test_cost_table_by_hand():
    m = np.ones((8, 16))
    n = np.ones((16, 4))
    v = np.arange(100.0)
    # elementwise: work = output size, span 1
    assert _one(lambda: np.exp(_in(m))) == (128, 1)
    assert _one(lambda: _in(m) + _in(np.ones(16))) == (128, 1)  # broadcast: the output
    # reductions: work n, span ⌈log₂ k⌉
    assert _one(lambda: _in(v).sum()) == (100, 7)
    assert _one(lambda: _in(m).sum(axis=0)) == (128, 3)  # 8 values into each of 16
    assert _one(lambda: np.max(_in(m), axis=1)) == (128, 4)
    # scans: work 2n, span 2⌈log₂ n⌉
    assert _one(lambda: np.cumsum(_in(v))) == (200, 14)
    # matmul: multiply-adds, span ⌈log₂ k⌉ + 1
    assert _one(lambda: _in(m) @ _in(n)) == (8 * 4 * 16, 5)
    assert _one(lambda: np.dot(_in(v), _in(v))) == (100, 8)
    assert _one(lambda: np.einsum("ij,jk->ik", _in(m), _in(n))) == (8 * 4 * 16, 5)
    # sort: n⌈log₂ n⌉, ⌈log₂ n⌉²
    assert _one(lambda: np.sort(_in(v))) == (700, 49)
    # moves: elements moved, span 1
    assert _one(lambda: _in(m).T) == (128, 1)
    assert _one(lambda: _in(m)[2:4]) == (32, 1)
    assert _one(lambda: np.concatenate([_in(m), _in(m)])) == (256, 1)
    # linalg (LAPACK blocked): cholesky n³/3, n(⌈log₂ n⌉ + 2)
    assert _one(lambda: np.linalg.cholesky(_in(SPD))) == (math.ceil(64 / 3), 4 * (2 + 2))
    assert _one(lambda: np.linalg.inv(_in(SPD))) == (128, 2 * 4 * 4)
    # not in the table: work = span = size
    assert _one(lambda: np.polyval(_in(v), 2.0)) == (1, 1)


def test_unknown_operations_are_named_in_the_report():
    def program():
        x = ss.input(np.arange(10.0))
        return np.diff(np.polyval(x, x))

    report = _report(program)
    assert report.unmodelled == ["diff", "polyval"]
    assert any("not in the cost table" in note and "polyval" in note for note in report.notes)


def test_escapes_are_named_and_branches_counted():
    def program():
        x = ss.input(np.arange(6.0))
        y = x * 2
        first = float(y[0])
        second = y.item(1)
        if y.max() > 3:
            y = y + first + second
        return y

    report = _report(program)
    assert report.escapes == 2
    assert report.control_decisions == 1
    text = " ".join(report.notes)
    assert "float()" in text and ".item()" in text


def test_a_traced_number_times_a_traced_array_is_one_array_step():
    def program():
        s = ss.input(2.0)
        x = ss.input(np.arange(4.0))
        return s * x, x * s

    trace = run_traced(program, {})
    left, right = trace.result
    assert type(left) is TracedArray and type(right) is TracedArray
    graph = trace.recorder.graph()
    assert graph.n == 2 and graph.m == 0  # the inputs are not steps


def test_in_place_operations_move_the_array_to_their_step():
    def program():
        x = ss.input(np.zeros(4))
        x += 1
        x[1:3] = x[0:2] * 5
        return x.sum()

    report = _report(program)
    ids = [d.id.split("@")[0] for d in report.detail]
    assert ids == ["add", "getitem", "multiply", "setitem", "sum"]
    assert report.depth == 1 + 1 + 1 + 1 + 2  # a chain through x


@st.composite
def array_programs(draw):
    """A random straight-line program over a few traced arrays of one shape."""
    ops = draw(st.lists(st.tuples(st.sampled_from(["add", "mul", "tanh", "sum", "cumsum",
                                                   "matmul", "sort", "roll"]),
                                  st.integers(0, 9), st.integers(0, 9)),
                        min_size=1, max_size=12))  # fmt: skip
    size = draw(st.integers(1, 6))
    return ops, size


@given(array_programs())
def test_recorded_depth_and_work_agree_with_networkx(case):
    ops, size = case

    def program():
        rng = np.random.default_rng(0)
        values = [ss.input(rng.standard_normal((size, size))) for _ in range(3)]
        for op, i, j in ops:
            x, y = values[i % len(values)], values[j % len(values)]
            if op == "add":
                values.append(x + y)
            elif op == "mul":
                values.append(x * y)
            elif op == "tanh":
                values.append(np.tanh(x))
            elif op == "sum":
                values.append(x.sum(axis=0) + y)
            elif op == "cumsum":
                values.append(np.cumsum(x, axis=1))
            elif op == "matmul":
                values.append(x @ y)
            elif op == "sort":
                values.append(np.sort(x, axis=0))
            else:
                values.append(np.roll(x, 1))
        return values[-1]

    workload = trace_function(program, {})
    graph = workload.graph
    spans = list(graph.spans) if graph.spans is not None else list(graph.costs)
    needs = [graph.preds(i) for i in range(graph.n)]
    report = analyze_workload(workload, processors=2)
    assert report.depth == nx_depth(spans, needs)
    assert report.work == sum(graph.costs)
    k = log2_up(size)
    for cost, span in zip(graph.costs, spans, strict=True):
        assert 1 <= span <= cost
        assert span <= max(1, 2 * k, k * k, k + 1)


def test_the_cli_traces_an_array_program(run_cli, tmp_path):
    (tmp_path / "prog.py").write_text(
        "import numpy as np\nimport serialscale as ss\n\n"
        "def layer(n: int = 8):\n"
        "    x = ss.input(np.ones((n, n)))\n"
        "    return np.tanh(x @ x).sum()\n"
    )
    result = run_cli("analyze", f"{tmp_path / 'prog.py'}:layer", "--param", "n=16",
                     "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    assert report["work"] == 16**3 + 16 * 16 + 16 * 16
    assert report["depth"] == (4 + 1) + 1 + 8
    assert report["schedule_model"] == "moldable"


def test_methods_in_place_and_attributes():
    def program():
        x = ss.input(np.arange(4.0))
        x.fill(2.0)  # a write of every element: one step, x's new value
        r = (x + 1j).real  # a view of values: a recorded move
        _ = x.flat  # an iterator over the values, handed out plain: an escape
        return x.sum() + r.sum(), x.shape, x.dtype

    trace = run_traced(program, {})
    total, shape, dtype = trace.result
    assert _same(_plain(total), np.float64(16.0)) and shape == (4,) and dtype == np.float64
    report = _report(program)
    names = [d.id.split("@")[0] for d in report.detail]
    assert names == ["ndarray.fill", "add", "ndarray.real", "sum", "sum", "add"]
    assert report.escapes == 1 and ".flat" in " ".join(report.notes)
    assert report.unmodelled is UNSET
