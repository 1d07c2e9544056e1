"""GitHub's expression language, each rule from its documentation ("Evaluate expressions in
workflows and actions"): literals, operators, loose comparison and coercion, functions,
object filters; run-time contexts stay opaque; hostile expressions are bounded."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.sources.importers.gha_expressions import (
    MAX_DEPTH,
    ExpressionError,
    Opaque,
    budget,
    evaluate,
    interpolate,
    loose_equal,
    render,
    to_number,
    to_string,
    truthy,
)

# GitHub's expressions only: no kernel, tracer or process, so the pure pass
# would repeat these exactly (conftest fails a one_pass test that reaches any).
pytestmark = pytest.mark.one_pass


def ev(text: str, **contexts):
    return evaluate(text, contexts)


def test_literals() -> None:
    # the documentation's "Example of literals"
    assert ev("null") is None
    assert ev("false") is False
    assert ev("711") == 711
    assert ev("-9.2") == -9.2
    assert ev("0xff") == 255
    assert ev("-2.99e-2") == pytest.approx(-0.0299)
    assert ev("'It''s open source!'") == "It's open source!"
    with pytest.raises(ExpressionError):  # "Wrapping with double quotes (") will throw"
        ev('"text"')


def test_falsy_values_in_conditionals() -> None:
    # "falsy values (false, 0, -0, "", '', null) are coerced to false"
    for value in (False, 0, -0.0, "", None):
        assert truthy(value) is False
    for value in (True, 1, "false", "0", [], {}):
        assert truthy(value) is True


def test_operators_and_precedence() -> None:
    assert ev("(1 == 1) && !(2 < 1)") is True
    assert ev("1 < 2 == true") is True  # comparison binds tighter than equality
    assert ev("false || 'x'") == "x"  # || and && return an operand, as in JavaScript
    assert ev("'' && 'x'") == ""
    assert ev("true && false || 'fallback'") == "fallback"
    assert ev("!0") is True and ev("!'a'") is False
    assert ev("2 >= 2 && 3 > 2 && 1 <= 1 && 2 != 3") is True


def test_loose_equality_table() -> None:
    # "If the types do not match, GitHub coerces the type to a number": null 0, true 1,
    # false 0, a string parsed as a JSON number ('' is 0) else NaN, arrays and objects NaN
    assert ev("null == 0") and ev("null == ''") and ev("'' == 0") and ev("false == 0")
    assert ev("true == 1") and ev("'1' == 1") and ev("'0x10' == 16") and ev("' 2 ' == 2")
    assert not ev("'abc' == 0") and not ev("'abc' == 'abd'")
    assert ev("'Hello' == 'hELLO'")  # "GitHub ignores case when comparing strings"
    # "When NaN is one of the operands of any relational comparison, the result is false"
    assert not ev("'abc' < 1") and not ev("'abc' >= 1")
    # "Objects and arrays are only considered equal when they are the same instance"
    assert not ev("fromJSON('[1]') == fromJSON('[1]')")
    value = [1]
    assert ev("matrix.a == matrix.a", matrix={"a": value})
    assert to_number([1]) != to_number([1])  # NaN


def test_string_conversion_table() -> None:
    assert to_string(None) == "" and to_string(True) == "true" and to_string(False) == "false"
    assert to_string(3.0) == "3" and to_string(3.14) == "3.14" and to_string(-0.5) == "-0.5"
    assert to_string(1e21) == "1E+21"
    assert ev("format('{0}-{1}-{2}', null, true, 711)") == "-true-711"


def test_contains_startswith_endswith() -> None:
    assert ev("contains('Hello world', 'llo')") is True  # the documentation's examples
    assert ev("startsWith('Hello world', 'He')") is True
    assert ev("endsWith('Hello world', 'ld')") is True
    assert ev("contains('Hello world', 'LLO')") is True  # "not case sensitive"
    assert ev("contains(fromJSON('[\"push\", \"pull_request\"]'), 'PUSH')") is True
    assert ev("contains(fromJSON('[1, 2]'), '2')") is True  # loose equality on elements
    assert ev("contains(fromJSON('[\"push\"]'), github.event_name)") == Opaque("github.event_name")


def test_format() -> None:
    assert ev("format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')") == "Hello Mona the Octocat"
    assert ev("format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')") == (
        "{Hello Mona the Octocat!}"
    )
    for bad in ("format('{1}', 'a')", "format('{x}', 'a')", "format('}', 'a')"):
        with pytest.raises(ExpressionError):
            ev(bad)


def test_join_tojson_fromjson_case() -> None:
    labels = {"event": {"issue": {"labels": [{"name": "bug"}, {"name": "help wanted"}]}}}
    # "join(github.event.issue.labels.*.name, ', ') may return 'bug, help wanted'"
    assert ev("join(matrix.event.issue.labels.*.name, ', ')", matrix=labels) == "bug, help wanted"
    assert ev("join(fromJSON('[1, true, \"a\"]'))") == "1,true,a"
    assert json.loads(ev("toJSON(matrix)", matrix={"status": "success"})) == {"status": "success"}
    assert ev("toJSON(matrix)", matrix={"a": 1}) == '{\n  "a": 1\n}'
    assert ev('fromJSON(\'{"include": [{"project": "foo"}]}\')') == {
        "include": [{"project": "foo"}]
    }
    assert ev("fromJSON('true')") is True and ev("fromJSON('3')") == 3
    assert ev("case(1 == 2, 'a', 2 == 2, 'b', 'c')") == "b"
    assert ev("case(false, 'a', 'default')") == "default"


def test_object_filters() -> None:
    fruits = [{"name": "apple", "quantity": 1}, {"name": "orange", "quantity": 2},
              {"name": "pear", "quantity": 1}]  # fmt: skip
    assert ev("matrix.fruits.*.name", matrix={"fruits": fruits}) == ["apple", "orange", "pear"]
    veg = {"scallions": {"colors": ["green"]}, "beets": {"colors": ["purple", "red"]}}
    assert ev("matrix.veg.*.colors", matrix={"veg": veg}) == [["green"], ["purple", "red"]]


def test_property_and_index_access() -> None:
    matrix = {"os": "linux", "cfg": {"Name": "x", "list": [10, 20]}}
    assert ev("matrix.OS", matrix=matrix) == "linux"  # property names ignore case
    assert ev("matrix['cfg'].name", matrix=matrix) == "x"
    assert ev("matrix.cfg.list[1]", matrix=matrix) == 20
    assert ev("matrix.cfg.list[5]", matrix=matrix) is None
    assert ev("matrix.missing.deeper", matrix=matrix) is None
    assert ev("matrix.runner-vm-os", matrix={"runner-vm-os": "ubuntu"}) == "ubuntu"


def test_status_functions_describe_a_successful_run() -> None:
    assert ev("always()") is True and ev("success()") is True
    assert ev("failure()") is False and ev("cancelled()") is False
    assert ev("!cancelled() && !failure()") is True


def test_run_time_contexts_are_opaque_but_short_circuits_still_decide() -> None:
    assert ev("github.event_name == 'push'") == Opaque("github.event_name")
    assert ev("secrets.TOKEN") == Opaque("secrets.TOKEN")
    assert ev("needs.build.outputs.matrix") == Opaque("needs.build.outputs.matrix")
    assert ev("hashFiles('**/lock')") == Opaque("hashFiles(...)")
    assert ev("false && github.ref") is False
    assert ev("'x' || github.ref") == "x"
    assert ev("inputs.flag") == Opaque("inputs.flag")  # a workflow not called by another
    assert ev("inputs.flag", inputs={"flag": True}) is True
    with pytest.raises(ExpressionError, match="unrecognized named-value"):
        ev("unknown.thing")
    with pytest.raises(ExpressionError, match="unrecognized function"):
        ev("eval('1')")


def test_interpolation() -> None:
    assert interpolate("${{ 1 == 1 }}", {}) is True  # one expression keeps its type
    assert interpolate("  ${{ 3 }}", {}) == "  3"
    assert interpolate("Test ${{ matrix.os }}", {"matrix": {"os": "ubuntu-latest"}}) == (
        "Test ubuntu-latest"
    )
    assert interpolate("a ${{ '}}' }} b", {}) == "a }} b"  # '}}' in a string does not close
    hidden = interpolate("v${{ github.sha }}", {})
    assert isinstance(hidden, Opaque) and hidden.source == "github.sha"
    assert str(hidden) == "v${{ github.sha }}"
    assert render("x ${{ needs.a.outputs.b }} ${{ 1 }}", {}) == (
        "x ${{ needs.a.outputs.b }} 1",
        ["needs.a.outputs.b"],
    )
    with pytest.raises(ExpressionError, match="not closed"):
        interpolate("${{ 1 ", {})


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5),
        "!" * (MAX_DEPTH + 5) + "true",
        "fromJSON('" + "[" * 200 + "]" * 200 + "')",
        "toJSON(fromJSON('" + "[" * 45 + "]" * 45 + "').a)" + " && " + "1" * 30000,
        "format('" + "{0}" * 5000 + "', format('" + "{0}" * 5000 + "', 'abc'))",
        "join(fromJSON('[\"" + "x" * 1000 + "\"]'), '" + "y" * 100 + "') == " + "'a'" * 9000,
    ],
)
def test_hostile_expressions_are_bounded(text: str) -> None:
    with pytest.raises(ExpressionError):
        ev(text)


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(
    ["", "0", "1", "a", "A", "0x1", " 2 ", "1e1"]))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(_JSON_SCALARS, _JSON_SCALARS)
def test_equality_is_symmetric_and_follows_the_number_rule(a, b) -> None:
    assert loose_equal(a, b) == loose_equal(b, a)
    both_numbers = isinstance(a, int) and isinstance(b, int)
    if type(a) is not type(b) and not both_numbers:  # different types: compared as numbers
        x, y = to_number(a), to_number(b)
        assert loose_equal(a, b) == (not math.isnan(x) and x == y)
    expr = f"fromJSON('{json.dumps([a, b])}')"
    assert ev(f"{expr}[0] == {expr}[1]") == loose_equal(a, b)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="()!&|=<>'. abcmatrixgithub01,[]*-", max_size=60))
def test_any_text_evaluates_or_is_an_expression_error(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        ev(text, matrix={"a": [1, {"b": 2}]})


def test_tojson_of_a_value_holding_run_time_values_is_opaque() -> None:
    # a fuzzer finding: toJSON(matrix) with a run-time value inside was a TypeError
    hidden = Opaque("needs.a.outputs.v")
    assert ev("toJSON(matrix)", matrix={"v": [hidden]}) == hidden


def test_all_expressions_of_an_input_share_a_budget() -> None:
    text = "format('" + "{0}" * 1000 + "', 'abcdefghij')"  # 10,000 characters each time
    with budget(50_000):
        for _ in range(5):
            ev(text)
        with pytest.raises(ExpressionError, match="in all"):
            ev(text)
    ev(text)  # outside a budget, only each value is bounded
