"""Bulk template expansion (generated code) gives exactly the interpreted expansion.

The interpreted expansion (``expand(..., bulk=False)``) is the reference: one closure call per
expression, written and tested first. Random templates, valid and broken, go through both;
either both give the same ids, costs, need lists (optional needs included) and origins, or
both fail with the same located message. The bundled sweeps are checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.base.limits import Limits
from serialscale.sources import template_codegen
from serialscale.sources.optional import OptionalNeed
from serialscale.sources.templates import TemplateFailure, expand, resolve_params

from .conftest import WORKLOADS

# Template expansion (sources.templates) only: no kernel, tracer or process, so the pure pass
# would repeat these exactly (conftest fails a one_pass test that reaches any). Not the tests
# of the compiled resolve_names: they call a kernel (the compiled one in both passes).
one_pass = pytest.mark.one_pass

LEAVES = ["n", "k", "0", "1", "2", "3", "2.0"]
ODD_LEAVES = ["j", "0.5", "unknown", "2**70", "1e999", "(2**200)", "True"]  # often errors
OPS = ["+", "-", "*", "+", "-", "*", "//", "%", "/", "**"]
CALLS = ["min", "max", "abs", "floor", "ceil", "log2", "sqrt"]


@st.composite
def expressions(draw, names: tuple[str, ...] = (), depth: int = 2) -> str:
    """An expression over the params, the loop variables ``names`` and numbers."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        odd = draw(st.integers(0, 24)) == 0
        return draw(st.sampled_from(ODD_LEAVES if odd else LEAVES + list(names) * 2))
    kind = draw(st.integers(0, 2))
    inner = expressions(names, depth - 1)
    if kind == 0:
        return f"({draw(inner)} {draw(st.sampled_from(OPS))} {draw(inner)})"
    if kind == 1:
        return f"-{draw(inner)}"
    name = draw(st.sampled_from(CALLS))
    count = draw(st.integers(1, 2)) if name in ("min", "max") else 1
    return f"{name}({', '.join(draw(inner) for _ in range(count))})"


@st.composite
def templates(draw) -> list[dict]:
    steps = []
    for k in range(draw(st.integers(1, 3))):
        loops = {}
        if draw(st.booleans()):
            loops["i"] = draw(
                st.sampled_from(
                    [
                        "range(n)",
                        "range(1, n + 1)",
                        "range(0, n, 2)",
                        "range(k)",
                        3,
                        "range(n // 2)",
                        "range(2)",
                        "range(n / 2)",
                        "range(j)",
                    ]
                )
            )
            if draw(st.booleans()):
                loops["j"] = draw(st.sampled_from(["range(i)", "range(2)", "range(i, n)"]))
        names = tuple(loops)
        holes = "".join(f"_{{{draw(expressions(names))}}}" for _ in range(draw(st.integers(0, 2))))
        if loops:
            holes += "".join(f"_{{{v}}}" for v in loops)
        step: dict = {"id": f"s{k}{holes}"}
        if loops:
            step["foreach"] = loops
        if draw(st.booleans()):
            step["cost"] = draw(
                st.sampled_from(
                    [0, 2, 1.5, "k * k", "0.5 * n", "n - 3", "1 + n", draw(expressions(names))]
                )
            )
        needs = []
        for _ in range(draw(st.integers(0, 3))):
            looped = draw(st.integers(0, 3)) == 0
            hole = draw(expressions((*names, "m") if looped else names, 1))
            text = f"s{draw(st.integers(0, 2))}_{{{hole}}}" + (
                "?" if draw(st.booleans()) else "")  # fmt: skip
            if looped:
                needs.append({"id": text, "foreach": {"m": "range(2)"}})
            else:
                needs.append(text)
        if needs:
            step["needs"] = needs
        steps.append(step)
    return steps


def outcome(steps: list[dict], params: dict, bulk: bool, limits: Limits):
    try:
        x = expand(steps, params, limits, bulk=bulk)
    except TemplateFailure as exc:
        return ("failure", exc.message, exc.path)
    kinds = [[type(n) is OptionalNeed for n in row] for row in x.needs]
    return (x.ids, x.costs, [type(c) for c in x.costs], x.needs, kinds, list(x.template_of),
            x.first_step)  # fmt: skip


@one_pass
@settings(max_examples=300, deadline=None)
@given(templates(), st.sampled_from([{"n": 3, "k": 2}, {"n": 4.0, "k": 0}, {"n": 2, "k": -1}]))
def test_bulk_expansion_is_the_interpreted_expansion(steps, params) -> None:
    limits = Limits(max_steps=200, max_dependencies=400)
    expected = outcome(steps, params, False, limits)
    assert outcome(steps, params, True, limits) == expected


SWEEPS = sorted((WORKLOADS / "sweeps").glob("*.yaml"))


@one_pass
@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_bundled_sweeps_take_the_bulk_path_and_agree(path: Path, monkeypatch) -> None:
    doc = yaml.safe_load(path.read_text())
    params = resolve_params(doc.get("params"), None)
    declined = []
    original = template_codegen.expand_bulk

    def spy(*args):
        made = original(*args)
        declined.append(made is None)
        return made

    monkeypatch.setattr(template_codegen, "expand_bulk", spy)
    bulk = outcome(doc["steps"], params, True, Limits())
    assert declined == [False], "the bundled sweeps should not need the interpreted path"
    assert bulk == outcome(doc["steps"], params, False, Limits())


@one_pass
def test_limits_and_errors_in_bulk_come_from_the_interpreted_path() -> None:
    steps = [{"id": "c{i}", "foreach": {"i": "range(n)"}, "needs": ["c{i // (i - 2)}?"]}]
    bulk = outcome(steps, {"n": 5}, True, Limits())
    assert bulk[0] == "failure" and "division by zero" in bulk[1]
    assert bulk == outcome(steps, {"n": 5}, False, Limits())
    many = outcome([{"id": "c{i}", "foreach": {"i": "range(n)"}}], {"n": 50}, True,
                   Limits(max_steps=10))  # fmt: skip
    assert many[0] == "failure" and "--max-steps" in many[1]


@one_pass
def test_literal_text_with_braces_quotes_and_unicode_survives() -> None:
    steps = [{"id": "a\"\\{{x}}é\n'{i}", "foreach": {"i": "range(2)"}}]
    made = outcome(steps, {}, True, Limits())
    assert made[0] == ["a\"\\{x}é\n'0", "a\"\\{x}é\n'1"]
    assert made == outcome(steps, {}, False, Limits())


# --- The compiled name resolution drops optional needs that name no step. ---


@st.composite
def named_rows(draw):
    pool = ["a", "bb", "é", "y" * 20, "y" * 19 + "z", "c" * 17, "x"]
    ids = draw(st.lists(st.sampled_from(pool), unique=True, min_size=1))
    names = st.sampled_from([*pool, "missing"])
    rows = []
    for _ in ids:
        row = draw(st.lists(st.tuples(names, st.booleans()), max_size=4))
        # a plain need must name a step (else the checked path takes over: not tested here)
        rows.append([OptionalNeed(n) if opt else n for n, opt in row if opt or n in ids])
    return ids, rows


@pytest.mark.skipif(not __import__("serialscale.accel").accel.available(), reason="not built")
@settings(max_examples=200, deadline=None)
@given(named_rows())
def test_resolve_names_drops_optional_needs_that_name_no_step(ids_rows) -> None:
    from array import array

    from serialscale.accel import _kernels

    ids, rows = ids_rows
    m = sum(map(len, rows))
    ptr, idx = array("q", bytes(8 * (len(ids) + 1))), array("q", bytes(8 * m))
    assert _kernels.resolve_names(ids, rows, ptr, idx, OptionalNeed) == 0
    # The oracle: a dict lookup, row by row, keeping what names a step.
    where = {name: i for i, name in enumerate(ids)}
    expected = [[where[str(n)] for n in row if str(n) in where] for row in rows]
    assert [idx[ptr[i] : ptr[i + 1]].tolist() for i in range(len(ids))] == expected
    # Without the optional type, an optional need is not a plain str: the checked path.
    if any(type(n) is OptionalNeed for row in rows for n in row):
        assert _kernels.resolve_names(ids, rows, ptr, idx) == 1


def test_resolve_names_refuses_an_optional_type_that_is_not_a_str() -> None:
    from array import array

    from serialscale import accel as kernels

    if not kernels.available():  # before the import: a pure-Python install has no _kernels
        pytest.skip("not built")
    from serialscale.accel import _kernels

    with pytest.raises(TypeError):
        _kernels.resolve_names(["a"], [[]], array("q", [0, 0]), array("q"), int)


@one_pass
@pytest.mark.parametrize("big", [2**199 - 1, 2**199, 2**200 - 1, 2**200, -(2**200)])
@pytest.mark.parametrize("expression", ["n", "n + i", "n * (i + 1)", "n // (i + 1)", "i % n"])
def test_ids_at_the_edge_of_the_size_limit_agree(big: int, expression: str) -> None:
    steps = [{"id": f"s{{{expression}}}", "foreach": {"i": "range(3)"}}]
    params = {"n": big}
    assert outcome(steps, params, True, Limits()) == outcome(steps, params, False, Limits())


@one_pass
def test_ranges_with_huge_bounds_are_left_to_the_interpreted_path() -> None:
    steps = [{"id": "s{i}", "foreach": {"i": "range(n, n + 2)"}}]
    params = {"n": 2**70}
    made = outcome(steps, params, True, Limits())
    assert made == outcome(steps, params, False, Limits())
    assert made[0] == [f"s{2**70}", f"s{2**70 + 1}"]


@one_pass
def test_names_that_python_folds_together_stay_apart() -> None:
    """Python reads identifiers in NFKC: a generated ``v_ｘ`` would be ``v_x`` (issue 30)."""
    steps = [{"id": "s{x}-{i}", "foreach": {"i": "range(2)"}}]
    params = {"x": 1, "ｘ": 2}
    made = outcome(steps, params, True, Limits())
    assert made[0] == ["s1-0", "s1-1"]  # the hole {x} names x; ｘ is another param
    assert made == outcome(steps, params, False, Limits())
    loops = [{"id": "t{ｘ}", "foreach": {"ｘ": "range(2)"}}, {"id": "u", "needs": ["t{x}"]}]
    assert outcome(loops, {"x": 1}, True, Limits()) == outcome(loops, {"x": 1}, False, Limits())


@one_pass
@pytest.mark.parametrize("text", ["🚀{i}", "a\U0001f600b{i}", "\u2028{i}\x7f", "\x00{i}"])
def test_any_character_in_a_templated_id_takes_the_bulk_path(text: str, monkeypatch) -> None:
    steps = [{"id": text, "foreach": {"i": "range(2)"}}]
    declined = []
    original = template_codegen.expand_bulk
    monkeypatch.setattr(template_codegen, "expand_bulk",
                        lambda *a: declined.append(r := original(*a)) or r)  # fmt: skip
    made = outcome(steps, {}, True, Limits())
    assert made == outcome(steps, {}, False, Limits())
    if made[0] != "failure":
        assert made[0] == [text.replace("{i}", "0"), text.replace("{i}", "1")]
        assert declined and declined[0] is not None, "the bulk path declined"
