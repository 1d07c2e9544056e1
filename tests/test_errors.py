"""Every kind of bad input: a located message on stderr, exit code 2, nothing on stdout."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

GOOD = "steps:\n  - id: a\n  - id: b\n    needs: [a]\n"

CASES = {
    # name: (file text, expected fragments of the message, expected "file:line" prefix or None)
    "yaml-syntax": ("steps:\n  - id: a\n    needs: [a\n", ["YAML syntax error"], 4),
    "top-not-mapping": ("- id: a\n", ["top level must be a mapping", "got a list"], None),
    "empty-document": ("", ["got an empty document"], None),
    "steps-missing": ("name: x\n", ["missing 'steps'"], None),
    "steps-not-list": ("steps: 3\n", ["'steps' must be a list", "number"], 1),
    "steps-empty": ("steps: []\n", ["'steps' is empty"], 1),
    "unknown-top-key": ("stepz:\n  - id: a\n", ["unknown key 'stepz'", "did you mean 'steps'?"], 1),
    "unknown-step-key": (
        "steps:\n  - id: a\n  - id: b\n    need: [a]\n",
        ["unknown key 'need'", "did you mean 'needs'?", "step 'b'"],
        4,
    ),
    "step-not-mapping": ("steps:\n  - a\n", ["step 1 must be a mapping"], 2),
    "step-without-id": ("steps:\n  - id: a\n  - cost: 3\n", ["step 2 has no 'id'"], 3),
    "id-wrong-type": ("steps:\n  - id: [1, 2]\n", ["must be a string or an integer"], 2),
    "id-boolean": ("steps:\n  - id: true\n", ["must be a string or an integer", "boolean"], 2),
    "duplicate-ids": (
        "steps:\n  - id: a\n  - id: b\n  - id: a\n",
        ["duplicate step id 'a'", "first defined at line 2"],
        4,
    ),
    "cost-not-number": ("steps:\n  - id: a\n    cost: fast\n", ["'cost' must be a number"], 3),
    "cost-negative": ("steps:\n  - id: a\n    cost: -1\n", ["must be >= 0, got -1"], 3),
    "cost-nan": ("steps:\n  - id: a\n    cost: .nan\n", ["finite", "NaN"], 3),
    "cost-inf": ("steps:\n  - id: a\n    cost: .inf\n", ["finite", "inf"], 3),
    "cost-base-60": ("steps:\n  - id: a\n    cost: 1:30\n", ["'1:30'", "1h30m"], 3),
    "cost-base-60-float": ("steps:\n  - id: a\n    cost: 1:30.5\n", ["got string '1:30.5'"], 3),
    "cost-boolean": ("steps:\n  - id: a\n    cost: yes\n", ["'cost' must be a number"], 3),
    "needs-not-list": (
        "steps:\n  - id: a\n  - id: b\n    needs: a\n",
        ["'needs' must be a list"],
        4,
    ),
    "unknown-need": (
        "steps:\n  - id: fetch\n  - id: b\n    needs: [fecth]\n",
        ["unknown step 'fecth'", "did you mean 'fetch'?", "step 'b'"],
        4,
    ),
    "self-need": ("steps:\n  - id: a\n    needs: [a]\n", ["'a' needs itself"], 3),
    "cycle": (
        "steps:\n"
        "  - {id: fetch, needs: [publish]}\n"
        "  - {id: build, needs: [fetch]}\n"
        "  - {id: test, needs: [build]}\n"
        "  - {id: publish, needs: [test]}\n",
        ["dependency cycle: fetch → build → test → publish → fetch"],
        2,
    ),
    "duplicate-keys": (
        "steps:\n  - id: a\n    cost: 1\n    cost: 2\n",
        ["duplicate key 'cost'", "first at line 3"],
        4,
    ),
    "alias-bomb": (
        'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "steps: [*d]\n",
        ["reused through an alias"],
        2,
    ),
    "deep-nesting": ("steps: " + "[" * 20000 + "]" * 20000 + "\n", ["nesting depth"], 1),
    "deep-block-nesting": ("steps:\n  " + "- " * 20000 + "x\n", ["nesting depth"], 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_yaml_is_a_located_error(case: str, tmp_path: Path, run_cli) -> None:
    text, fragments, line = CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("analyze", str(path), "--format", "json")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    err = result.stderr
    assert "Traceback" not in err
    assert err.startswith(str(path)), err
    if line is not None:
        assert err.startswith(f"{path}:{line}:"), err
    for fragment in fragments:
        assert fragment in err, err
    assert len(err.strip().splitlines()) == 1


def test_aliases_of_short_flat_lists_are_allowed(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "steps:\n  - {id: a}\n  - {id: b}\n  - {id: c, needs: &both [a, b]}\n"
        "  - {id: d, needs: *both}\n"
    )
    result = run_cli("analyze", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr


def test_missing_file(run_cli, tmp_path: Path) -> None:
    result = run_cli("analyze", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "no such file" in result.stderr and result.stdout == ""


def test_empty_directory_has_no_workloads(run_cli, tmp_path: Path) -> None:
    result = run_cli("analyze", str(tmp_path))
    assert result.exit_code == 2
    assert "no workloads found" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(GOOD)
    path.chmod(0)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2 and "permission denied" in result.stderr


def test_unreadable_file_as_root_too(run_cli, tmp_path: Path, monkeypatch) -> None:
    """Root can read anything, so simulate the permission error where the file is read."""

    from serialscale.base import reading

    def deny(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(reading, "open", deny, raising=False)
    path = tmp_path / "secret.yaml"
    path.write_text("steps: [{id: a}]\n")
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2 and "permission denied" in result.stderr


def test_non_utf8(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("steps:\n  - id: caf\xe9\n".encode("latin-1"))
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:2:12:")
    assert "not valid UTF-8" in result.stderr


def test_binary_garbage(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2
    assert "binary file" in result.stderr and "Traceback" not in result.stderr


def test_binary_garbage_without_nul(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(1, 256)) * 4)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2
    assert "UTF-8" in result.stderr


JSON_CASES = {
    "syntax": ('{"steps": [{"id": "a"},]}', ["JSON syntax error"], 1),
    "duplicate-key": ('{"steps": [\n {"id": "a", "id": "b"}\n]}', ["duplicate key 'id'"], 2),
    "unknown-need": (
        '{"steps": [\n {"id": "a"},\n {"id": "b", "needs": ["c"]}\n]}',
        ["unknown step 'c'"],
        3,
    ),
    "deep": ('{"steps": ' + "[" * 100000 + "]" * 100000 + "}", ["nested too deeply"], None),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_bad_json_is_a_located_error(case: str, tmp_path: Path, run_cli) -> None:
    text, fragments, line = JSON_CASES[case]
    path = tmp_path / "bad.json"
    path.write_text(text)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    if line is not None:
        assert result.stderr.startswith(f"{path}:{line}"), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--processors", "0"],
        ["--overhead", "-1"],
        ["--overhead", "inf"],
        ["--format", "xml"],
        ["--max-serial-fraction", "2"],  # depth / work: never above 1 (was accepted)
        ["--plot-kind", "schedule"],  # without --plot: nothing to choose (was ignored)
    ],
)
def test_bad_flags_exit_2(args: list[str], tmp_path: Path, run_cli) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(GOOD)
    result = run_cli("analyze", str(path), *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


_BAD_STEPS = ["{id: null}", "{id: [1]}", "{cost: 3}", "7", "{id: ''}", "{id: true}"]
_GOOD_STEPS = ["{{id: {0}}}", "{{id: {0}, needs: [zz]}}", "{{id: {0}, cost: fast}}",
               "{{id: {0}, needs: [true]}}", "{{id: {0}, cost: -2}}", "{{id: {0}, spam: 1}}",
               "{{id: {0}, needs: [{0}]}}"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_BAD_STEPS), st.sampled_from(_GOOD_STEPS)), min_size=1,
                max_size=12), st.booleans())  # fmt: skip
def test_each_error_is_on_the_line_of_its_step(steps: list[str], as_json: bool) -> None:
    """A step left out (no usable id) does not move the errors of the steps after it: each
    error is on its own step's line (found: a need of the step after a bad id was shown on
    the line before it). The oracle: the file is written one step a line."""
    from serialscale.base.errors import WorkloadError
    from serialscale.sources import load_workload

    lines = [t.format(f"s{i}") if t in _GOOD_STEPS else t for i, t in enumerate(steps)]
    if as_json:  # the same steps as JSON, a step a line (YAML flow style is JSON-like)
        import yaml

        text = '{"steps": [\n' + ",\n".join(
            json.dumps(yaml.safe_load(line)) for line in lines) + "\n]}\n"  # fmt: skip
    else:
        text = "steps:\n" + "".join(f"  - {line}\n" for line in lines)
    first = 2  # the line of the first step
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("w.json" if as_json else "w.yaml")
        path.write_text(text)
        try:
            load_workload(path)
        except WorkloadError as exc:
            errors = getattr(exc, "errors", [exc])
        else:
            errors = []
    assert bool(errors) == any(s != _GOOD_STEPS[0] for s in steps)
    for error in errors:
        assert error.location.line is not None, error.message
        at = error.location.line - first
        assert at in range(len(lines)), (error.message, text)
        if error.location.step_id is not None:  # the step it names is on that line
            assert f"{{id: {error.location.step_id}" in lines[at], (error.message, text)
        else:  # a step without a usable id
            assert steps[at] in _BAD_STEPS, (error.message, text)


def test_an_id_written_like_a_time_is_text(tmp_path: Path) -> None:
    """``1:30`` is the id "1:30", not YAML 1.1's base-60 number 90 (the oracle: the text)."""
    from serialscale.sources import load_workload

    path = tmp_path / "w.yaml"
    path.write_text("steps:\n  - id: 1:30\n  - {id: b, needs: [1:30]}\n  - {id: c, cost: 1:2:3}\n")
    with pytest.raises(Exception, match="got string '1:2:3'"):
        load_workload(path)
    path.write_text("steps:\n  - id: 1:30\n  - {id: b, needs: [1:30]}\n")
    assert list(load_workload(path).graph.ids) == ["1:30", "b"]


def test_a_missing_choice_lists_the_choices_without_escaped_tabs() -> None:
    """click indents the choices of a missing option with tabs, which the safe display of
    usage errors showed as a literal \\t (new-user trial)."""
    import subprocess
    import sys

    from .conftest import WORKLOADS

    done = subprocess.run([sys.executable, "-m", "serialscale", "export",
                           str(WORKLOADS / "ci_build.yaml")], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2 and "Missing option '--to'" in done.stderr
    assert "\\t" not in done.stderr and "\n    dot," in done.stderr
