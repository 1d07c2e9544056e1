"""The declared report model: JSON, schemas and the validating reader all come from it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import analyze
from serialscale.base.errors import WorkloadError
from serialscale.documents.report import (
    BatchReport,
    ErrorEntry,
    Report,
    ScaleReport,
    parse_saved,
    read_saved,
    to_builtins,
)
from serialscale.documents.schemas import SCHEMAS
from serialscale.render import OutputFormat, render
from serialscale.render.batch import render_batch_json
from serialscale.run.batch import BatchResult

from .conftest import WORKLOADS, Dag, dags


def saved(name: str = "mapreduce", **options: object) -> dict:
    report = analyze(WORKLOADS / f"{name}.yaml", **options)  # type: ignore[arg-type]
    return json.loads(render(report, OutputFormat.json))


def test_json_keys_follow_the_declaration_order() -> None:
    data = saved(detail=True)
    fields = [f for f in Report.__struct_fields__ if f in data]
    assert list(data) == fields
    assert list(data)[:3] == ["schema_version", "workload", "source"]
    assert "target" not in data and "detail" in data  # unset fields are left out


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
def test_schemas_are_generated_from_the_declarations() -> None:
    report = SCHEMAS["report"]()
    definition = report["$defs"]["Report"]
    assert set(definition["properties"]) == set(Report.__struct_fields__)
    assert set(definition["properties"]["classification"]["enum"]) == {"serial", "mixed",
                                                                        "parallel"}  # fmt: skip
    assert set(SCHEMAS["batch"]()["$defs"]["BatchReport"]["properties"]) == set(
        BatchReport.__struct_fields__
    )
    assert "class" in SCHEMAS["scale"]()["$defs"]["GrowthEntry"]["properties"]
    assert set(SCHEMAS["scale"]()["$defs"]["ScaleReport"]["properties"]) == set(
        ScaleReport.__struct_encode_fields__
    )
    for build in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(build())


def test_schema_rejects_what_the_reader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS["report"]())
    data = saved()
    validator.validate(data)
    for key, value in (("depth", "12"), ("classification", "sequential"), ("steps", -1)):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate({**data, key: value})


@settings(max_examples=40, deadline=None)
@given(dags(max_steps=20), st.booleans(), st.sampled_from([0, 1, 0.5]))
def test_reports_round_trip_through_their_json(dag: Dag, detail: bool, overhead) -> None:
    from serialscale import Workload, analyze_workload

    report = analyze_workload(Workload("w", dag.graph(), source="w.yaml"), detail=detail,
                              overhead=overhead)  # fmt: skip
    text = render(report, OutputFormat.json)
    read = parse_saved(text.encode(), "saved.json")
    [again], errors = read.reports, read.errors
    assert again == report and errors == [] and not read.batch
    assert render(again, OutputFormat.json) == text


def test_batch_documents_round_trip_with_their_errors() -> None:
    reports = [analyze(WORKLOADS / "ci_build.yaml"), analyze(WORKLOADS / "etl_job.yaml")]
    errors = [ErrorEntry(source="x.yaml", message="bad", line=2, column=5, step="a"),
              ErrorEntry(source="y.py:f", message="boom", file="y.py")]  # fmt: skip
    text = render_batch_json(BatchResult(reports, errors))
    read = parse_saved(text.encode(), "batch.json")
    again, again_errors = read.reports, read.errors
    assert read.batch
    assert again == reports and again_errors == errors
    assert str(again_errors[0]) == "x.yaml:2:5: error: bad (step 'a')"
    assert str(again_errors[1]) == "y.py: error: boom"


def _error(data: object, tmp_path: Path) -> str:
    path = tmp_path / "saved.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(WorkloadError) as info:
        read_saved(path)
    return str(info.value)


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: _without(d, "work"), "$: object missing required field 'work'"),
        (lambda d: {**d, "depth": "57"}, "$.depth: expected 'int | float', got 'str'"),
        (lambda d: {**d, "depth": None}, "$.depth: expected 'int | float', got 'null'"),
        (lambda d: {**d, "depth": -1}, "$.depth"),
        (lambda d: {**d, "classification": "sequential"}, "$.classification: invalid enum"),
        (lambda d: {**d, "classification": ["serial"]}, "$.classification: expected 'str'"),
        (lambda d: {**d, "critical_path": "a"}, "$.critical_path: expected 'array'"),
        (lambda d: {**d, "schema_version": 2}, "unsupported report version 2"),
        (
            lambda d: _without(d, "schema_version"),
            "no 'schema_version' key: not a report written by serialscale",
        ),
        (lambda d: {**d, "speedup": [{"processors": 0}]}, "$.speedup[0]"),
        (lambda d: {**d, "recommendation": {"strategy": "x"}}, "$.recommendation"),
        (
            lambda d: {
                "results": [d],
                "errors": [{"source": 1}],
                "summary": {},
                "schema_version": 1,
            },
            "$.errors[0].source",
        ),
        (
            lambda d: {"results": [{**d, "width": 1.5}], "errors": [], "schema_version": 1},
            "$.results[0].width: expected 'int'",
        ),
        (lambda d: [d], "not a serialscale report"),
    ],
)
def test_a_bad_saved_report_is_one_located_error(change, expected: str, tmp_path: Path) -> None:
    message = _error(change(saved()), tmp_path)
    assert message.startswith(str(tmp_path / "saved.json") + ":"), message
    assert expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "where", "expected"),
    [
        ('{\n  "depth": NaN\n}', ":2:12:", "NaN and infinities are not JSON numbers"),
        ('{"depth": Infinity}', ":1:11:", "NaN and infinities"),
        ('{"depth": 1e400}', ":1:11:", "too large"),
        ('{"id": "9e999",\n "x": [1, 2.5e-3,\n   -1.5E+308, -2e308]}', ":3:15:", "too large"),
        ('{"depth": 1,\n\n  oops}', ":3:3:", "not a JSON report"),
        ("", ":", "not a JSON report"),
    ],
)
def test_json_that_does_not_parse_is_located(text: str, where: str, expected: str,
                                             tmp_path: Path) -> None:  # fmt: skip
    message = _error(text, tmp_path)
    assert f"saved.json{where}" in message and expected in message, message


def test_a_saved_report_with_a_byte_order_mark_is_read(tmp_path: Path, run_cli) -> None:
    # an editor on Windows saves with a BOM; it was "1:1: error: invalid character"
    report = analyze(WORKLOADS / "ci_build.yaml")
    text = render(report, OutputFormat.json)
    for body in (text, text.replace("\n", " ").strip() + "\n"):  # a report, a JSON line
        read = parse_saved(b"\xef\xbb\xbf" + body.encode(), "saved.json")
        assert read.reports == [report] and read.errors == []
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = run_cli("gate", str(path), "--max-depth", str(report.depth))
    assert result.exit_code == 0, result.stderr
    # a BOM anywhere else is still not JSON, and says where
    message = _error("{\ufeff}", tmp_path)
    assert "saved.json:1:" in message and "not a JSON report" in message, message


def test_gate_and_baseline_reject_a_bad_report_on_one_line(tmp_path: Path, run_cli) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**saved(), "depth": "deep"}))
    analyze_args = ["analyze", str(WORKLOADS / "ci_build.yaml"), "--baseline", str(bad)]
    for args in (["gate", str(bad)], analyze_args):
        result = run_cli(*args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and "$.depth" in result.stderr
        assert "internal error" not in result.stderr


def test_batch_output_is_identical_whatever_the_jobs(tmp_path: Path, run_cli) -> None:
    files = [str(WORKLOADS / n) for n in ("ci_build.yaml", "mapreduce.yaml", "etl_job.yaml")]
    one = run_cli("analyze", *files, "-f", "json", "--jobs", "1")
    two = run_cli("analyze", *files, "-f", "json", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout
    batch = msgspec.json.decode(one.stdout, type=BatchReport)
    classes = [r.classification for r in batch.results]
    assert to_builtins(batch.summary) == {"analyzed": 3, "errors": 0, **{
        c: classes.count(c) for c in ("serial", "mixed", "parallel")}}  # fmt: skip


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_mutation_of_a_saved_report_is_read_or_refused_with_a_located_error(data) -> None:
    """Replace, drop or add one field anywhere in a saved report (single or batch): the reader
    gives reports or one WorkloadError, never another exception."""
    document: object = saved("ci_build")
    if data.draw(st.booleans()):
        document = {"schema_version": 1, "results": [document], "errors": [],
                    "summary": {"analyzed": 1, "errors": 0, "serial": 0, "mixed": 1,
                                "parallel": 0}}  # fmt: skip
    # walk to a random container and change one thing in it
    node = document
    for _ in range(data.draw(st.integers(0, 4))):
        children = list(node.values()) if isinstance(node, dict) else node
        containers = [c for c in children if isinstance(c, (dict, list)) and c]
        if not containers:
            break
        node = data.draw(st.sampled_from(containers))
    action = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if isinstance(node, dict) and node:
        key = data.draw(st.sampled_from(sorted(node)))
        if action == "drop":
            del node[key]
        elif action == "replace":
            node[key] = data.draw(_json_values)
        else:
            node[data.draw(st.text(max_size=6))] = data.draw(_json_values)
    elif isinstance(node, list) and node:
        index = data.draw(st.integers(0, len(node) - 1))
        if action == "drop":
            del node[index]
        else:
            node[index] = data.draw(_json_values)
    text = json.dumps(document).encode()
    try:
        read = parse_saved(text, "saved.json")
        reports, errors = read.reports, read.errors
    except WorkloadError as exc:
        assert str(exc).startswith("saved.json") and "\n" not in str(exc)
    else:
        assert all(isinstance(r, Report) for r in reports)
        assert all(isinstance(e, ErrorEntry) for e in errors)


@pytest.mark.parametrize(
    ("key", "literal"),
    [("speedup_ceiling", "NaN"), ("serial_fraction", "Infinity"), ("depth", "1e999"),
     ("work", "-Infinity")],
)  # fmt: skip
def test_gates_refuse_non_finite_numbers(key: str, literal: str, tmp_path: Path,
                                         run_cli) -> None:  # fmt: skip
    text = json.dumps(saved()).replace(f'"{key}": ', f'"{key}": {literal}, "_was": ', 1)
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    gate = run_cli("gate", str(bad), "--min-speedup", "1", "--max-serial-fraction", "0.9")
    assert gate.exit_code == 2 and gate.stdout == "" and "bad.json:" in gate.stderr
    baseline = run_cli("analyze", str(WORKLOADS / "mapreduce.yaml"), "--baseline", str(bad),
                       "--max-depth-increase", "10")  # fmt: skip
    assert baseline.exit_code == 2 and "nan" not in baseline.stderr.lower().replace("nan and", "")
