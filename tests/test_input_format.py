"""The workload input format is declared once (serialscale.documents.workload): the JSON Schema
generated from it and every reader give the same answer on the same document.

Random documents, valid and broken in the ways people break them, go through the schema
(a jsonschema validator, independent of msgspec) and through every reader: the checked
parser on JSON and on YAML, the JSON fast path (msgspec and the compiled need scanner,
csrc/needs.h), the YAML fast reader, and the template expander for templated documents. A
fast reader may decline (hand the file to the checked parser); every other answer must be the
schema's, and every accepted document must give the graph an oracle computes from the
document itself. The documents keep what no schema can say true (unique ids, needs naming
earlier steps, valid expressions), so the schema's answer is the whole answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import accel
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import DEFAULT_LIMITS
from serialscale.base.words import TIME_UNITS, duration_seconds
from serialscale.core.workload import Workload
from serialscale.documents.schemas import SCHEMAS
from serialscale.documents.workload import DURATION
from serialscale.sources.json_fast import json_columns
from serialscale.sources.parsing import parse_document
from serialscale.sources.workload_file import _Validator, parse_workload
from serialscale.sources.yaml_fast import yaml_columns

VALIDATOR = jsonschema.Draft202012Validator(SCHEMAS["workload"]())
SOURCE = "w"

# --- documents --------------------------------------------------------------------------------

#: What a broken value may be: each is wrong somewhere (the schema says where).
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.just(2**80), st.just(10**400),
    st.floats(-5, 5), st.just(float("inf")), st.sampled_from(["", "x", "5m", "90s", "1h30m",
    "abc", "-1", "1 + 1", "5m\n", "s0"]), st.just([]), st.just(["s0"]), st.just({}),
    st.just({"id": "s0"}), st.just({"i": "range(2)"}), st.just({"i": 2}), st.just({"1i": 1}),
)  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A workload document and whether it may be compared with the oracle (no defect that
    the oracle does not model)."""
    templated = draw(st.booleans())
    unit = draw(st.sampled_from([None, "seconds", "minutes", "widgets"]))
    n = draw(st.integers(1, 5))
    ids: list[str | int] = [draw(st.sampled_from([f"s{i}", 100 + i])) for i in range(n)]
    steps: list[Any] = []
    for i in range(n):
        step: dict[str, Any] = {"id": ids[i]}
        if draw(st.booleans()):
            durations = unit in (None, "seconds", "minutes") and not templated
            step["cost"] = draw(st.one_of(
                st.integers(0, 10**6), st.floats(0, 1e6), st.just(2**70),
                st.sampled_from(["90s", "5m", "1h30m", "250ms"] if durations else [0]),
                st.sampled_from(["1 + 2", "n * 2"] if templated else [1]),
            ))  # fmt: skip
        if i and draw(st.booleans()):
            picked = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3))
            step["needs"] = [draw(st.sampled_from([ids[j], str(ids[j])])) for j in picked]
            if templated and picked and draw(st.booleans()):
                step["needs"][0] = {"id": step["needs"][0]}
        elif draw(st.integers(0, 5)) == 0:
            step["needs"] = None
        steps.append(step)
    doc: dict[str, Any] = {"steps": steps}
    if unit is not None:
        doc["unit"] = unit
    for key in ("name", "description"):
        if draw(st.integers(0, 3)) == 0:
            doc[key] = draw(st.one_of(st.text("ab 5", max_size=4), st.integers(0, 99),
                                      st.sampled_from([1.5, 2.0, None])))  # fmt: skip
    if templated:
        if draw(st.booleans()):
            doc["params"] = {"n": draw(st.integers(0, 3))}
            if draw(st.booleans()):
                doc["params"]["k"] = 1.5
        if "params" not in doc or draw(st.booleans()):
            loop = draw(st.sampled_from(["range(2)", 2, "range(n)"]))
            if loop == "range(n)" and "params" not in doc:
                loop = 3
            steps.append({"id": "t{i}", "foreach": {"i": loop}, "cost": "1 + i",
                          "needs": [ids[0]]})  # fmt: skip
        for step in steps:
            if step.get("cost") == "n * 2" and "params" not in doc:
                step["cost"] = 2
    comparable = True
    defect = draw(st.sampled_from(
        ["none", "none", "none", "step value", "step key", "top value", "top key", "need",
         "step", "steps", "document"]
    ))  # fmt: skip
    k = draw(st.integers(0, len(steps) - 1))
    if defect == "step value":
        steps[k][draw(st.sampled_from(["id", "cost", "needs", "foreach"]))] = draw(ODD)
        comparable = False
    elif defect == "step key":
        steps[k][draw(st.sampled_from(["kost", "need", "ID", "span"]))] = 1
    elif defect == "top value":
        doc[draw(st.sampled_from(["name", "description", "unit", "params", "steps"]))] = draw(ODD)
        comparable = False
    elif defect == "top key":
        doc[draw(st.sampled_from(["nmae", "step", "units"]))] = 1
    elif defect == "need" and isinstance(steps[k].get("needs"), list) and steps[k]["needs"]:
        steps[k]["needs"][0] = draw(ODD)
        comparable = False
    elif defect == "step":
        steps[k] = draw(ODD)
        comparable = False
    elif defect == "steps":
        doc["steps"] = draw(ODD)
        comparable = False
    elif defect == "document":
        return draw(ODD), False
    return doc, comparable


# --- what no schema says -----------------------------------------------------------------------

_EXPRESSIONS = {"1 + 2", "n * 2"}


def semantics_ok(doc: Any) -> bool:
    """Whether ``doc`` keeps what the schema cannot check (unique ids, needs naming earlier
    steps, known expressions, a unit of time for durations), for the shapes generated here.
    ``False`` also where this function does not know: then only "refused by the schema,
    refused by every reader" is required."""
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        return True  # refused by the schema, whatever else holds
    params = doc.get("params") if isinstance(doc.get("params"), dict) else {}
    templated = "params" in doc or any(isinstance(s, dict) and "foreach" in s
                                       for s in doc["steps"])  # fmt: skip
    seen: list[str] = []
    durations = False
    for step in doc["steps"]:
        if not isinstance(step, dict):
            return True
        step_id, loop = step.get("id"), step.get("foreach")
        if isinstance(step_id, float):
            # JSON Schema counts 1.0 an integer (draft 2020-12: a zero fractional part);
            # the readers take only ids spelled as a string or an integer
            return False
        needs = step.get("needs") if isinstance(step.get("needs"), list) else []
        names = [need.get("id") if isinstance(need, dict) else need for need in needs]
        if any(not isinstance(x, (str, int)) or str(x) not in seen
               or (templated and "{" in str(x)) for x in names):  # fmt: skip
            return False
        cost = step.get("cost")
        span = step.get("span")
        if span is not None:  # 0 < span <= cost (0 for a cost of 0): no schema says that
            whole = step.get("cost", 1)
            numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool)
                          for x in (span, whole))  # fmt: skip
            if not numbers or not (0 < span <= whole or span == whole == 0):
                return False
        if isinstance(cost, str):
            if templated and cost not in _EXPRESSIONS | ({"1 + i"} if loop else set()):
                return False
            if cost == "n * 2" and not isinstance(params.get("n"), int):
                return False
            durations = durations or duration_seconds(cost) is not None
        if loop is not None or step_id == "t{i}":
            if step_id != "t{i}" or not isinstance(loop, dict) or list(loop) != ["i"]:
                return False
            if "i" in params or loop["i"] not in (2, 3, "range(2)", "range(n)"):
                return False
            if loop["i"] == "range(n)" and not isinstance(params.get("n"), int):
                return False
            count = (
                params["n"]
                if loop["i"] == "range(n)"
                else {"range(2)": 2}.get(loop["i"], loop["i"])
            )
            made = [f"t{i}" for i in range(count)]
        elif templated and "{" in str(step_id):
            return False
        else:
            made = [str(step_id)]
        if set(made) & set(seen):
            return False
        seen += made
    unit = doc.get("unit")
    unknown_unit = unit is not None and TIME_UNITS.get(str(unit).strip().lower()) is None
    return not (durations and not templated and unknown_unit)


# --- the oracle --------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def oracle(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The graph of a valid generated document, read straight from its shape: steps in
    order, a ``foreach`` step expanded by hand (its shapes are the generator's)."""
    params = doc.get("params") or {}
    unit = _text(doc.get("unit"))
    scale = TIME_UNITS.get(unit or "seconds")
    ids: list[str] = []
    costs: list[Any] = []
    needs: list[list[str]] = []
    durations = False
    for step in doc["steps"]:
        loop = (step.get("foreach") or {}).get("i")
        names = [str(need["id"] if isinstance(need, dict) else need)
                 for need in step.get("needs") or []]  # fmt: skip
        cost = step.get("cost", 1)
        if loop is None:
            if isinstance(cost, str) and duration_seconds(cost) is not None:
                durations = True
                assert scale is not None
                value = duration_seconds(cost) / scale  # type: ignore[operator]
                cost = int(value) if value.is_integer() else value
            elif cost == "1 + 2":
                cost = 3
            elif cost == "n * 2":
                cost = params["n"] * 2
            ids.append(str(step["id"]))
            costs.append(cost)
            needs.append(names)
            continue
        count = loop if isinstance(loop, int) else 2 if loop == "range(2)" else params["n"]
        for i in range(count):
            ids.append(f"t{i}")
            costs.append(1 + i)
            needs.append(names)
    if durations and unit is None:
        unit = "seconds"
    preds = [sorted(ids.index(x) for x in row) for row in needs]
    return (_text(doc.get("name")) or "workload", _text(doc.get("description")), unit,
            tuple(ids), costs, preds)  # fmt: skip


def outcome(workload: Workload) -> tuple[Any, ...]:
    g = workload.graph
    costs = list(g.costs)
    return (workload.name, workload.description, workload.unit, g.ids, costs,
            [sorted(g.preds(i)) for i in range(g.n)])  # fmt: skip


# --- the readers -------------------------------------------------------------------------------

DECLINED = "declined"


def _answer(read: Any) -> Any:
    try:
        result = read()
    except WorkloadError:
        return False
    return DECLINED if result is None else outcome(result)


def readers(doc: Any) -> dict[str, Any]:
    """What each reader makes of ``doc``: ``False`` (refused with a WorkloadError),
    ``DECLINED`` (a fast reader hands it on) or the workload's outcome."""
    as_json = json.dumps(doc, allow_nan=True)
    as_yaml = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    data = as_json.encode()

    def checked(text: str, is_json: bool) -> Workload:
        validator = _Validator(text, SOURCE, None, DEFAULT_LIMITS)
        return validator.workload(parse_document(text, SOURCE, is_json), "workload")

    def fast_json() -> Workload | None:
        columns = json_columns(data)
        return None if columns is None else _from(columns, data)

    def fast_yaml() -> Workload | None:
        columns = yaml_columns(as_yaml)
        return None if columns is None else _from(columns, as_yaml)

    return {
        "checked parser, JSON": _answer(lambda: checked(as_json, True)),
        "checked parser, YAML": _answer(lambda: checked(as_yaml, False)),
        "JSON fast path": _answer(fast_json),
        "YAML fast reader": _answer(fast_yaml),
        "parse_workload, JSON": _answer(lambda: parse_workload(data, SOURCE, is_json=True)),
        "parse_workload, YAML": _answer(lambda: parse_workload(as_yaml, SOURCE)),
    }


def _from(columns: Any, text: str | bytes) -> Workload:
    return _Validator(text, SOURCE, None, DEFAULT_LIMITS).from_columns(columns, "workload")


# --- the tests ---------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(documents())
def test_the_schema_and_every_reader_agree(case: tuple[Any, bool]) -> None:
    doc, comparable = case
    valid = VALIDATOR.is_valid(doc)
    whole = semantics_ok(doc)
    answers = readers(doc)
    for reader, answer in answers.items():
        if answer == DECLINED:
            continue
        if answer is not False:
            assert valid, ("the reader takes what the schema refuses", reader, doc, answers)
        elif whole:
            assert not valid, ("the schema takes what the reader refuses", reader, doc, answers)
        if answer is not False and comparable and whole:
            assert answer == oracle(doc), (reader, doc)


@pytest.mark.parametrize(
    "doc",
    [
        {"steps": [{"id": "a", "cost": "abc"}]},  # a string cost that is no duration
        {"steps": [{"id": "a"}, {"id": "b", "needs": [{"id": "a"}]}]},  # an object need
        {"steps": [{"id": ""}]},  # an empty id
        {"steps": [{"id": "a", "cost": 10**400}]},  # past the largest float
        {"params": {"n": 1}, "steps": [{"id": "a", "needs": 0}]},  # needs that is no list
        {"params": {"1n": 1}, "steps": [{"id": "a"}]},  # a param that is no name
    ],
)
def test_what_the_tool_refuses_the_schema_refuses(doc: dict[str, Any]) -> None:
    assert not VALIDATOR.is_valid(doc)
    answers = readers(doc)
    assert all(a is False or a == DECLINED for a in answers.values()), answers


@pytest.mark.parametrize(
    "doc",
    [
        {"name": 5, "steps": [{"id": "a"}]},
        {"name": None, "unit": 1.5, "steps": [{"id": "a", "needs": None}]},
        {"steps": [{"id": "a", "cost": "1h30m"}]},
        {"params": {"n": 2}, "steps": [{"id": "a"}, {"id": "b", "needs": [{"id": "a"}]}]},
    ],
)
def test_what_the_tool_takes_the_schema_takes(doc: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(doc)
    answers = readers(doc)
    assert all(a is not False for a in answers.values()), answers


def test_an_id_written_as_a_float_is_refused_where_json_schema_cannot_see_it() -> None:
    # Found by the property test above: JSON Schema's "integer" takes 0.0 (a zero fractional
    # part), so the schema cannot refuse it; every reader does, with a located error.
    doc = {"steps": [{"id": 0.0}, {"id": "b"}]}
    assert VALIDATOR.is_valid(doc)
    assert not semantics_ok(doc)
    answers = readers(doc)
    assert all(a is False or a == DECLINED for a in answers.values()), answers
    assert False in answers.values()


def test_the_compiled_need_scanner_is_part_of_the_comparison() -> None:
    """csrc/needs.h resolves the needs of plain JSON documents: the random documents reach
    it (it accepts, not only declines), so the comparison above covers its grammar."""
    if not accel.compiled_kernels_in_use():
        pytest.skip("compiled kernels not built, or SERIALSCALE_PURE_PYTHON=1")
    data = json.dumps({"steps": [{"id": "a"}, {"id": "b", "needs": ["a"]}]}).encode()
    columns = json_columns(data)
    assert columns is not None and columns.resolved is not None


@settings(max_examples=300, deadline=None)
@given(st.text("0123456789.dhms \nx", max_size=12))
def test_the_declared_duration_is_the_scanner_s(text: str) -> None:
    """The pattern the schema gives durations and the scanner that reads them agree."""
    assert (re.search(DURATION, text) is not None) == (duration_seconds(text) is not None)
