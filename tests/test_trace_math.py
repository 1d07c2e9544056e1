"""Math on traced values is recorded, not escaped; sum() records what it computes; a
function that records nothing says where its values escaped (issue 13, in part)."""

from __future__ import annotations

import fractions
import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import serialscale as ss
from serialscale import accel as kernels
from serialscale.base.errors import WorkloadError
from serialscale.sources.python_targets import trace_function
from serialscale.trace import Traced, run_traced

IMPLEMENTATIONS = [False, True] if kernels.available() else [False]


def _steps(fn, **params):
    w = trace_function(fn, params)
    g = w.graph
    return w, {g.ids[i]: [g.ids[j] for j in g.preds(i)] for i in range(g.n)}


def _depth(w) -> int:
    from serialscale import analyze_workload

    return analyze_workload(w).depth


@pytest.mark.parametrize("compiled", IMPLEMENTATIONS)
def test_sum_is_a_chain_without_its_start_value(compiled: bool) -> None:
    def total(n: int = 16):
        return sum(ss.inputs(range(n)))

    with kernels.accelerated(compiled):
        w, steps = _steps(total, n=16)
    assert w.graph.n == 15 and _depth(w) == 15  # n - 1 additions, one after the other
    assert all(name.startswith("add") for name in steps)


def test_sum_with_a_start_and_of_plain_values() -> None:
    def mixed(n: int = 4):
        xs = ss.inputs(range(n))
        return sum(xs, 10) + sum([1, 2, 3])

    w, _ = _steps(mixed, n=4)
    assert w.graph.n == 4 + 1  # start + 4 items: 4 additions; the plain sum records nothing


def test_math_functions_record_a_step_needing_their_arguments() -> None:
    def norm(n: int = 8):
        xs = ss.inputs(range(1, n + 1))
        return math.sqrt(sum(x * x for x in xs))

    w, steps = _steps(norm, n=8)
    assert w.graph.n == 8 + 7 + 1 and _depth(w) == 1 + 7 + 1
    (root,) = [s for s in steps if s.startswith("sqrt")]
    assert steps[root] and steps[root][0].startswith("add")
    assert w.extra["escapes"] == 0


def test_reductions_of_math_and_statistics() -> None:
    def stats(n: int = 8):
        xs = ss.inputs(range(1, n + 1))
        return statistics.fmean(xs) + math.fsum(xs) + math.hypot(xs[0], xs[1]) + math.prod(xs)

    w, steps = _steps(stats, n=8)
    kinds = sorted({s.split("#")[0].split("@")[0] for s in steps})
    assert kinds == ["add", "fsum", "hypot", "mul", "truediv"]
    assert w.extra["escapes"] == 0
    assert trace_function(stats, {"n": 8}).graph.n == w.graph.n  # deterministic


def test_outside_a_trace_the_functions_are_the_originals() -> None:
    assert math.sqrt is math.sqrt and sum([1, 2, 3]) == 6
    ss.analyze_function(lambda: sum(ss.inputs(range(3))))
    assert sum.__module__ == "builtins" and math.fsum([0.1] * 10) == 1.0
    assert statistics.mean([1, 2, 3]) == 2


def test_no_steps_names_where_values_escaped() -> None:
    def escapes(n: int = 4):
        xs = ss.inputs(range(n))
        return [float(x) for x in xs]

    with pytest.raises(WorkloadError) as info:
        trace_function(escapes, {"n": 4})
    message = str(info.value)
    assert "converted to plain ones 4 times" in message
    assert "float() at test_trace_math.py:" in message and "(4 times)" in message


@pytest.mark.parametrize("compiled", IMPLEMENTATIONS)
def test_max_and_min_are_chains_of_comparisons(compiled: bool) -> None:
    """The value chosen depends on the comparisons: max of n values, n - 1 in a chain."""

    def biggest(n: int = 16):
        xs = ss.inputs([3, 9, 1, 7, 5, 2, 8, 6])
        return max(xs) + min(xs, key=lambda x: -x) + max(1, 2)

    with kernels.accelerated(compiled):
        w, steps = _steps(biggest)
    gt = [s for s in steps if s.startswith("gt")]
    lt = [s for s in steps if s.startswith("lt")]
    assert len(gt) == 7 and len(lt) == 7  # each a chain over the 8 values
    report = ss.analyze_workload(w)
    # the key negations (1, side by side), the chain of 7 comparisons, then the two additions
    assert report.depth == 1 + 7 + 2
    assert w.extra["control_decisions"] == 0  # the builtins' own choices are not branches
    # the result really is the max: the select steps carry the values
    assert trace_function(biggest, {}).graph.n == w.graph.n


@pytest.mark.parametrize("n", [8, 32, 128])
def test_sorted_depends_on_its_comparisons_and_grows_like_its_merges(n: int) -> None:
    def order(n: int = 8):
        xs = ss.inputs(reversed(range(n)))
        out = sorted(xs)
        assert [x.value for x in out] == list(range(n))  # really sorted, stable
        return out[0] + out[-1]

    w, steps = _steps(order, n=n)
    depth = ss.analyze_workload(w).depth
    compares = sum(1 for s in steps if s.startswith("lt"))
    assert compares == n // 2 * int(math.log2(n))  # reversed input: the minimum merges
    # a merge is sequential as written: the depth grows linearly, not like log n
    assert n / 2 <= depth <= 2 * n


def test_sorted_with_a_key_and_plain_values() -> None:
    def keyed(n: int = 6):
        xs = ss.inputs([5, 3, 8, 1, 9, 2])
        ranked = sorted(xs, key=lambda x: -x)
        return ranked[0] + len(sorted([3, 1, 2]))

    w, _ = _steps(keyed)
    assert w.graph.n > 0
    assert sorted([3, 1, 2]) == [1, 2, 3]  # outside a trace: the builtin


def test_fractions_of_traced_numbers_take_the_plain_path() -> None:
    """Fraction(x, y) is one step; Fraction's own operators see a traced int as the int it
    carries (``isinstance(x, int)``), so they take the path the plain run takes: their
    arithmetic is recorded, and the gcd that reads the int is a named escape."""
    import fractions

    before = fractions.Fraction.__dict__["__new__"]

    def run(n: int = 1):
        x, y = ss.inputs([3, 4])
        exact = fractions.Fraction(x, y)  # one step needing both
        mixed = fractions.Fraction(1, 3) + x  # Fraction's own addition, as in the plain run
        return exact + mixed, fractions.Fraction(2, 5) * 2  # plain fractions stay plain

    trace = run_traced(run, {})
    total, plain_product = trace.result
    assert total == fractions.Fraction(3, 4) + fractions.Fraction(10, 3)
    assert type(total.value) is fractions.Fraction and type(plain_product) is fractions.Fraction
    rec = trace.recorder
    rec.flush()
    names = [rec.site_names[s][0] for s in rec.site]
    assert names.count("Fraction") == 2 and "numerator" in names and "denominator" in names
    assert rec.escapes >= 1 and any(where[1] == "fractions.py" for where in rec.escape_sites)
    assert fractions.Fraction.__dict__["__new__"] is before  # restored after the run
    assert fractions.Fraction(1, 2) + 1 == fractions.Fraction(3, 2)


def test_traced_values_answer_isinstance_as_their_values() -> None:
    """isinstance, the numbers ABCs and class patterns see the carried value's class, so a
    traced run dispatches as the plain run does; ``type(x)`` still tells the traced value."""
    import numbers

    def run():
        x, f = ss.inputs([3, 2.5])
        c = x > f
        kinds = (isinstance(x, numbers.Number), isinstance(x, numbers.Real),
                 isinstance(x, numbers.Integral), isinstance(x, int), isinstance(f, float),
                 isinstance(f, int), isinstance(c, bool), isinstance(ss.input([1]), list),
                 isinstance(ss.input([1]), numbers.Number))  # fmt: skip
        match c:
            case bool():
                shape = "bool"
            case _:
                shape = "other"
        return kinds, shape, fractions.Fraction(1, 2) * x + 0.5

    trace = run_traced(run, {})
    kinds, shape, value = trace.result
    assert kinds == (True, True, True, True, True, False, True, True, False)
    assert shape == "bool"
    assert value == 2.0 and type(value) is Traced


@pytest.mark.parametrize(
    ("name", "depth"),
    [  # closed forms for n values: a sum is a chain of n - 1 additions
        ("variance", lambda n: (n - 1) + 1 + 1 + 1 + (n - 1) + 1),  # mean, sub, mul, sum, div
        ("pvariance", lambda n: 2 * n + 2),
        ("stdev", lambda n: 2 * n + 3),  # and the square root
        ("pstdev", lambda n: 2 * n + 3),
        ("geometric_mean", lambda n: 1 + (n - 1) + 1 + 1),  # log, sum, divide, exp
        ("harmonic_mean", lambda n: 1 + (n - 1) + 1),  # reciprocal, sum, divide
    ],
)
def test_statistics_spreads_and_means_record_their_formula_and_keep_the_value(name, depth):
    """The value is exactly what statistics computes on plain values (a float for floats:
    the unpatched functions returned a traced Fraction built by calling type(x)), and the
    steps are those of the formula."""
    values = [1.0, 4.0, 2.0, 8.0, 5.0, 3.5, 9.25]
    function = getattr(statistics, name)

    def run():
        return getattr(statistics, name)(ss.inputs(values))

    trace = run_traced(run, {})
    expected = function(values)
    assert type(trace.result) is Traced and type(trace.result.value) is type(expected)
    assert trace.result.value == expected and trace.recorder.escapes == 0
    assert _depth(trace_function(run, {})) == depth(len(values))


def test_variance_with_a_given_mean_and_too_few_values() -> None:
    def given_mean():
        xs = ss.inputs([1.0, 3.0])
        return statistics.variance(xs, ss.input(2.0))

    trace = run_traced(given_mean, {})
    assert trace.result.value == statistics.variance([1.0, 3.0], 2.0)
    assert _depth(trace_function(given_mean, {})) == 1 + 1 + 1 + 1  # sub, mul, add, div

    def one_value():
        return statistics.stdev(ss.inputs([1.0]))

    with pytest.raises(statistics.StatisticsError):
        run_traced(one_value, {})


class _Compared:
    """A plain number that counts the comparisons made on it (the builtins' instrument)."""

    count = 0

    def __init__(self, value: int) -> None:
        self.value = value

    def __gt__(self, other: _Compared) -> bool:
        _Compared.count += 1
        return self.value > other.value

    def __lt__(self, other: _Compared) -> bool:
        _Compared.count += 1
        return self.value < other.value


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=2, max_size=16), st.sampled_from(["max", "min"]),
       st.booleans())  # fmt: skip
def test_max_min_and_sum_against_the_builtins_and_networkx(values, which, generator) -> None:
    """Whichever tracer runs (compiled or pure): the value and the element the builtin picks
    (the first extreme on ties), as many comparisons as the builtin makes, every one of them
    behind the chosen value, and a depth networkx confirms (compare 1, select 0, add 1)."""
    import builtins

    import networkx as nx

    from .conftest import nx_depth

    def target():
        xs = ss.inputs(values)
        pick = getattr(builtins, which)  # the recorded one during the run
        chosen = pick(x for x in xs) if generator else pick(*xs)
        return xs, chosen, sum(x for x in xs) if generator else sum(xs)

    trace = run_traced(target, {})
    xs, chosen, total = trace.result
    _Compared.count = 0
    wrapped = [_Compared(v) for v in values]
    expected = getattr(builtins, which)(wrapped)
    assert chosen.value == expected.value and total.value == sum(values)
    graph = trace.recorder.graph()
    names = [graph.ids[i].split("#")[0] for i in range(graph.n)]
    compares = [i for i, name in enumerate(names) if name in ("gt", "lt")]
    assert len(compares) == _Compared.count == len(values) - 1
    assert names.count("add") == len(values) - 1
    needs = [
        list(graph.pred_idx[graph.pred_ptr[i] : graph.pred_ptr[i + 1]]) for i in range(graph.n)
    ]
    dag = nx.DiGraph((j, i) for i in range(graph.n) for j in needs[i])
    dag.add_nodes_from(range(graph.n))
    assert set(compares) <= nx.ancestors(dag, chosen.node)
    # the chosen value is a copy selected by the last comparison, never the input itself
    assert chosen.node != xs[wrapped.index(expected)].node
    assert nx_depth(list(graph.costs), needs) == len(values) - 1


def test_overlapping_runs_in_threads_leave_the_originals() -> None:
    """Two traced runs in threads, the first ending before the second: each patching and
    restoring on its own left the first run's replacements in place for good (the second saved
    them as its "originals")."""
    import builtins
    import statistics
    import threading

    from serialscale.trace.mathlib import recording_math

    originals = (builtins.sum, builtins.pow, math.sqrt, statistics.mean)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with recording_math():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with recording_math():
            second_in.set()
            first_out.wait(5)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert (builtins.sum, builtins.pow, math.sqrt, statistics.mean) == originals
