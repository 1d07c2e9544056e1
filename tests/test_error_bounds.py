"""Errors stay cheap however many there are: past the 20 shown, an error is only counted
(no location, no suggestion looked for), and a suggestion compares a word with a bounded
number of candidates (before: 16,000 unknown needs took 502 s, each searching every id)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serialscale.base.errors import MAX_ERRORS, WorkloadError, WorkloadErrors, suggest
from serialscale.sources import load_workload

from .conftest import WORKLOADS

TREE = str(WORKLOADS / "sweeps" / "tree_reduction.yaml")


def test_unknown_needs_past_the_shown_ones_are_counted(tmp_path: Path) -> None:
    n = 3_000
    doc = {"steps": [{"id": f"step{i}", "needs": [f"stap{i}"]} for i in range(n)]}
    path = tmp_path / "u.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(WorkloadErrors) as info:
        load_workload(path)
    assert len(info.value.errors) == MAX_ERRORS and info.value.more == n - MAX_ERRORS
    first = str(info.value.errors[0])
    assert "unknown step 'stap0'" in first and "(did you mean 'step0'?)" in first


def test_self_needs_past_the_shown_ones_are_counted(tmp_path: Path) -> None:
    # an unknown need in each row sends the rows to the checked path, which finds both
    doc = {"steps": [{"id": f"s{i}", "needs": [f"s{i}", f"t{i}"]} for i in range(100)]}
    path = tmp_path / "self.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(WorkloadErrors) as info:
        load_workload(path)
    assert info.value.more == 200 - MAX_ERRORS and "needs itself" in str(info.value.errors[0])


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
def test_a_suggestion_looks_at_names_of_about_the_same_length() -> None:
    assert suggest("biuld", ["b" * 200, "build", "test"]) == " (did you mean 'build'?)"
    assert suggest("x" * 5_000, ["x" * 5_000]) == ""  # an absurd word: no search at all
    # one id in two Unicode normalization forms: "did you mean 'café'" alone showed the same
    # text twice; the message says where they differ
    decomposed, composed = "cafe\u0301", "caf\u00e9"
    assert suggest(decomposed, ["cake", composed]) == (
        f" (did you mean '{composed}'? the two look alike but are written with different "
        "characters: cafe\\u0301 against caf\\xe9)"
    )
    # only the first candidates of a near length are compared: bounded work
    many = [f"step{i:07d}" for i in range(1_000_000)]
    assert suggest("step0000001", many) == " (did you mean 'step0000001'?)"


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
def test_a_sweep_range_of_more_than_64_sizes_is_refused(run_cli) -> None:
    from serialscale.cli.options import MAX_SWEEP_POINTS, parse_sweep

    name, values = parse_sweep("n=1..2**63".replace("2**63", str(2**63)))
    assert name == "n" and len(values) == MAX_SWEEP_POINTS  # 2**0 .. 2**63: the most taken
    with pytest.raises(ValueError, match="gives 65 sizes; at most 64"):
        parse_sweep(f"n=1..{2**64}")
    result = run_cli("scale", TREE, "--sweep", f"n=1..{10**400}")
    assert result.exit_code == 2 and "at most 64 are analyzed" in result.stderr


def test_a_prediction_past_the_largest_float_is_a_usage_error(run_cli) -> None:
    result = run_cli("scale", TREE, "--sweep", "n=2,4,8", "--predict", f"n={10**400}")
    assert result.exit_code == 2 and "--predict expects n=VALUE" in result.stderr
    assert "internal error" not in result.stderr


def test_long_ids_and_long_cycles_are_elided_in_messages(tmp_path: Path) -> None:
    from serialscale.base.words import MOST_ECHOED
    from serialscale.core.graph import MOST_CYCLE_NAMES, cycle_message

    long_id = "a" * 100_000
    doc = {"steps": [{"id": long_id}, {"id": long_id}]}
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    text = str(info.value)
    assert "duplicate step id" in text and len(text) < 4 * MOST_ECHOED + len(str(path)) + 200
    assert "99,800 characters" in text  # what was left out, counted
    names = [f"s{i}" for i in range(1_000)] + ["s0"]
    message = cycle_message(names)
    assert message.startswith("dependency cycle: s0 → s1 →") and message.endswith("→ s999 → s0")
    assert f"({len(names) - MOST_CYCLE_NAMES:,} more steps)" in message
    assert message.count("→") == MOST_CYCLE_NAMES  # 10 names, the count, 10 names
    assert cycle_message(["a", "b", "a"]) == "dependency cycle: a → b → a"  # short: whole


def test_a_saved_report_with_values_no_analysis_gives_is_a_located_error(run_cli, tmp_path):
    made = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--format", "json")
    assert made.exit_code == 0
    doc = json.loads(made.stdout)
    doc["profile"][1]["end"] = 10**400  # passes validation (a number), renders as nothing
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out.txt"
    result = run_cli("render", str(path), "--format", "table", "-o", str(out))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"{path}: error: the saved document holds values")
    assert "internal error" not in result.stderr and not out.exists()  # nothing written


def test_a_saved_report_where_a_workload_is_read_says_what_it_is(run_cli, tmp_path):
    made = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--format", "json")
    saved = tmp_path / "r.json"
    saved.write_text(made.stdout)
    result = run_cli("diff", str(saved), "-", input=made.stdout)  # stdin: read as a workload
    assert result.exit_code == 2
    assert "this is a saved serialscale report, not a workload" in result.stderr
    assert result.stderr.count("error:") == 1  # one error, not one per report key


def test_diff_knows_a_saved_report_with_a_long_description_first(run_cli, tmp_path):
    made = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--format", "json")
    doc = json.loads(made.stdout)
    edited = {"description": "x" * 5_000, **doc}  # schema_version past the first 4 KB
    path = tmp_path / "late.json"
    path.write_text(json.dumps(edited, indent=2))
    result = run_cli("diff", str(path), str(WORKLOADS / "ci_build.yaml"))
    assert result.exit_code == 0, result.stderr


def test_an_integer_cost_past_the_floats_beside_a_float_cost_is_a_located_error() -> None:
    # found by the input-format differential: the whole-list check took math.isnan of the
    # integer, which raises OverflowError (an internal error) instead of a located one
    from serialscale import parse_workload

    text = b'{"steps": [{"id": "a", "cost": ' + str(10**400).encode() + b"},\n"
    text += b'{"id": "b", "cost": 0.5}]}'
    with pytest.raises(WorkloadError, match="larger than the largest float") as info:
        parse_workload(text, "x.json")
    assert info.value.location.line == 1 and info.value.location.step_id == "a"
