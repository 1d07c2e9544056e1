"""A comparison's result is a traced bool, which answers truth tests, arithmetic,
``isinstance`` and ``str`` as the bool it carries, but never identity: ``x is True`` and
``match x: case True:`` are False for any proxy object. In code that makes such a test, the
comparisons not consumed by a branch give the plain bool, an escape (issue 23): the function
computes what its plain run computes, in every control mode and in both tracers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import serialscale as ss
from serialscale.trace import Traced, run_traced
from serialscale.trace.recorder import CONTROL_MODES, traced_comparison_offsets

sys.path.insert(0, str(Path(__file__).parent / "data"))
from identity_targets import both, chained, decorated, helper, made_in_c, matched, stored
from plain_bool_targets import branching_only

from .test_trace_faithful import plain, untraced  # the differential test's own helpers

MODES = [m for m in CONTROL_MODES if m != "strict"] + ["strict"]


@pytest.mark.parametrize("control", MODES)
@pytest.mark.parametrize(
    "fn", [matched, stored, both, helper, chained, decorated, made_in_c], ids=lambda f: f.__name__
)
def test_identity_tests_of_comparisons_give_the_plain_result(fn, control: str) -> None:
    expected = untraced(fn)
    trace = run_traced(fn, {}, control=control)
    got = plain(trace.result)
    assert got == expected and type(got) is type(expected)
    if isinstance(expected, list):
        assert all(type(g) is type(e) for g, e in zip(got, expected, strict=True))
    rec = trace.recorder
    assert rec.escapes > 0  # what was done with the plain bools was not seen: said so
    assert any("is True" in kind for kind, _, _ in rec.escape_sites)


def test_the_match_example_counts_one_escape_per_comparison() -> None:
    trace = run_traced(matched, {}, control="scoped")
    assert trace.recorder.escapes == 8
    rec = trace.recorder
    rec.flush()
    assert [rec.site_names[s][0] for s in rec.site].count("gt") == 8  # still recorded steps


def test_code_without_identity_tests_keeps_traced_bools() -> None:
    trace = run_traced(branching_only, {}, control="dataflow")
    t, flags = trace.result
    assert type(t) is Traced and all(type(f) is Traced for f in flags)
    assert [f.value for f in flags] == untraced(branching_only)[1]
    assert trace.recorder.escapes == 0
    assert trace.recorder.control_decisions == 8


def test_branches_in_code_with_identity_tests_are_still_decisions() -> None:
    trace = run_traced(both, {}, control="dataflow")
    # the 8 `if x > 2` are branches; the 8 `(x < 5) is True` comparisons are escapes
    assert trace.recorder.control_decisions == 8
    assert trace.recorder.escapes == 8


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("def f(a, b):\n    return a > b\n", None),  # no identity test: all traced
        ("def f(a, b):\n    return (a > b) is True\n", 0),
        ("def f(a, b):\n    c = a > b\n    return True is c\n", 0),
        ("def f(a, b):\n    if a > b:\n        return 1\n    return (a < b) is False\n", 1),
        ("def f(a, b):\n    c = a == b\n    return type(c) is bool\n", 0),
        ("def f(a, b):\n    c = a == b\n    return bool is type(c)\n", 0),
        ("def f(a, b):\n    return type(a > b) == bool\n", 0),
        ("def f(a, b):\n    import operator\n    return operator.is_(a > b, True)\n", 0),
        ("def f(a, b):\n    match a > b:\n        case True:\n            return 1\n", 0),
        ("def f(a, b):\n    return (a > b) is None\n", None),  # None: no bool is None
        # `and` and a chained comparison leave the comparison as the value: not kept
        ("def f(a, b):\n    return (a > 0 and b > 0) is True\n", 0),
        ("def f(a, b):\n    return (0 <= a < b) is False\n", 0),
        # a while loop's test is compiled twice (before the loop, at its end): both kept
        ("def f(a, b):\n    while a > b:\n        a -= 1\n    return a is True\n", 2),
    ],
)
def test_the_comparisons_that_stay_traced(source: str, kept: int | None) -> None:
    space: dict = {}
    exec(compile(source, "<f>", "exec"), space)
    found = traced_comparison_offsets(space["f"].__code__, module_tests=False)
    assert (None if found is None else len(found)) == kept


def test_an_alias_of_true_in_the_module_counts_as_an_identity_test() -> None:
    from serialscale.trace.recorder import module_tests_bool_identity

    space: dict = {"__name__": "aliases"}
    exec(compile("YES = True\ndef f(c):\n    return c is YES\n", "<a>", "exec"), space)
    assert module_tests_bool_identity(space)
    space = {"__name__": "plain"}
    exec(compile("NONE = None\ndef f(c):\n    return c is NONE\n", "<a>", "exec"), space)
    assert not module_tests_bool_identity(space)


def test_traced_values_print_as_their_values() -> None:
    def run():
        x, y = ss.inputs([3.5, 2])
        c = x > y
        return str(x), repr(y), str(c), "%s %r" % (x, y), str([x, y]), str((c,))  # noqa: UP031

    assert (
        run_traced(run, {}).result
        == untraced(run)
        == ("3.5", "2", "True", "3.5 2", "[3.5, 2]", "(True,)")
    )


TWINS = """
import sys
sys.path.insert(0, {root!r})
from serialscale.trace import run_traced
from tests.test_trace_faithful import plain
sys.path.insert(0, {data!r})
import identity_targets as d
import plain_bool_targets as p
for fn in (d.matched, d.stored, d.both, d.helper, d.chained, d.decorated, d.made_in_c,
           p.branching_only):
    for control in ("dataflow", "scoped", "frame", "strict"):
        trace = run_traced(fn, {{}}, control=control)
        rec = trace.recorder
        rec.flush()
        print(fn.__name__, control, plain(trace.result), rec.escapes,
              rec.control_decisions, [rec.site_names[s] for s in rec.site],
              list(rec.a), list(rec.b), list(rec.c))
"""


@pytest.mark.slow  # runs both tracers itself (SERIALSCALE_PURE_PYTHON per child): once is enough
def test_the_compiled_and_pure_tracers_record_the_same_steps() -> None:
    here = Path(__file__).parent
    code = TWINS.format(root=str(here.parent), data=str(here / "data"))
    outputs = []
    for pure in ("0", "1"):
        env = {**os.environ, "SERIALSCALE_PURE_PYTHON": pure}
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 32


def test_a_module_that_cannot_be_looked_through_gets_plain_bools() -> None:
    from serialscale.trace.recorder import module_tests_bool_identity

    class Odd(type):
        def __getattribute__(cls, name):
            if name == "__module__":
                raise RuntimeError("no")
            return super().__getattribute__(name)

    hostile = Odd("Hostile", (), {})
    assert module_tests_bool_identity({"__name__": "m", "Hostile": hostile}) is True
    assert module_tests_bool_identity({"__name__": "m", "f": lambda a, b: a > b}) is False


def test_deeply_nested_functions_are_scanned_without_recursion() -> None:
    from serialscale.trace.recorder import _codes_within, tests_bool_identity

    source = "def f0():\n"
    for depth in range(1, 60):
        source += "    " * depth + f"def f{depth}():\n"
    source += "    " * 60 + "return flag is True\n"
    space: dict = {"__name__": "deep"}
    exec(compile(source, "<deep>", "exec"), space)
    codes = list(_codes_within(space["f0"].__code__))
    assert len(codes) == 60 and any(tests_bool_identity(c) for c in codes)
