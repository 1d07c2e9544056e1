"""The command line as users run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from serialscale import SCHEMA_VERSION, __version__

from .conftest import ROOT, WORKLOADS

# Written out again on purpose: the contract named in the issue, not the code's own list.
CONTRACT = [
    "schema_version", "workload", "source", "steps", "dependencies", "work", "depth",
    "depth_steps", "width", "speedup_ceiling", "serial_fraction", "critical_path",
    "near_critical", "speedup", "profile", "classification", "recommendation",
]  # fmt: skip


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"serialscale {__version__} (compiled kernels ")


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "serialscale", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and __version__ in out.stdout


def test_json_contract(run_cli) -> None:
    result = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert list(data)[: len(CONTRACT)] == CONTRACT
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["workload"] == "monorepo-ci"
    assert isinstance(data["steps"], int) and isinstance(data["width"], int)
    assert set(data["recommendation"]) >= {"strategy", "processors", "reason"}
    assert all(
        set(row) >= {"processors", "upper", "guaranteed", "simulated"} for row in data["speedup"]
    )
    assert all(set(item) == {"id", "slack"} for item in data["near_critical"])
    assert len(data["near_critical"]) <= 10
    assert "detail" not in data


def test_detail_records(run_cli) -> None:
    result = run_cli("analyze", str(WORKLOADS / "etl_job.yaml"), "-f", "json", "--detail")
    data = json.loads(result.stdout)
    assert len(data["detail"]) == data["steps"]
    for rec in data["detail"]:
        assert set(rec) == {"id", "cost", "start", "finish", "slack", "drag"}
        assert rec["finish"] == rec["start"] + rec["cost"]
        assert 0 <= rec["drag"] <= rec["cost"]
        assert rec["drag"] == 0 or rec["id"] in data["critical_path"]
    critical = {r["id"] for r in data["detail"] if r["slack"] == 0}
    assert set(data["critical_path"]) <= critical


def test_name_defaults_to_file_stem(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "my-flow.yml"
    path.write_text("steps:\n  - id: 1\n  - id: 2\n    needs: [1]\n")
    data = json.loads(run_cli("analyze", str(path), "-f", "json").stdout)
    assert data["workload"] == "my-flow"
    assert data["critical_path"] == ["1", "2"]


def test_json_workload_file(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"steps": [{"id": "a", "cost": 2.5}, {"id": "b", "needs": ["a"]}]}))
    data = json.loads(run_cli("analyze", str(path), "-f", "json").stdout)
    assert data["depth"] == 3.5 and data["work"] == 3.5


def test_stdin(run_cli) -> None:
    text = (WORKLOADS / "mapreduce.yaml").read_text()
    result = run_cli("analyze", "-", "-f", "json", input=text)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["workload"] == "wordcount-mapreduce"


def test_markdown_and_table(run_cli) -> None:
    md = run_cli("analyze", str(WORKLOADS / "mapreduce.yaml"), "-f", "markdown")
    assert md.exit_code == 0 and md.stdout.startswith("### serialscale")
    table = run_cli("analyze", str(WORKLOADS / "mapreduce.yaml"))
    assert table.exit_code == 0 and "speedup ceiling" in table.stdout


def test_output_file_is_written_whole(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "-f", "json", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["workload"] == "monorepo-ci"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left


def test_bad_input_leaves_existing_output_untouched(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: []\n")
    result = run_cli("analyze", str(bad), "-o", str(out))
    assert result.exit_code == 2
    assert out.read_text() == "previous"


def test_unwritable_output_is_exit_2(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "analyze", str(WORKLOADS / "ci_build.yaml"), "-o", str(tmp_path / "no" / "r.json")
    )
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_json_is_byte_identical_across_processes() -> None:
    """Different hash seeds stand in for different machines."""
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-m", "serialscale", "analyze", "workloads/etl_job.yaml",
             "-f", "json", "--detail"],
            capture_output=True, cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        outputs.add(out.stdout)
    assert len(outputs) == 1


def test_real_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - {id: a, needs: [b]}\n  - {id: b, needs: [a]}\n")
    out = subprocess.run(
        [sys.executable, "-m", "serialscale", "analyze", str(bad)], capture_output=True, text=True
    )
    assert out.returncode == 2 and out.stdout == ""
    assert (
        out.stderr == f"{bad}:2:5: error: dependency cycle: a → b → a; a workload must be "
        "acyclic (step 'a')\n"
    )


@pytest.mark.parametrize(
    ("raised", "said"),
    [
        # a bug: one line naming it, never a traceback
        ("simulated bug",
         "serialscale: internal error: RuntimeError: simulated bug (please report it)"),
        # a capped address space or process count: Python cannot start a thread
        ("can't start new thread",
         "serialscale: error: could not start a thread: out of memory or of processes"),
    ],
)  # fmt: skip
def test_an_unexpected_error_is_one_line_not_a_traceback(
    monkeypatch, capsys, raised: str, said: str
) -> None:
    from serialscale.cli import app as cli
    from serialscale.run import batch

    def broken(target, options):
        raise RuntimeError(raised)

    monkeypatch.setattr(batch, "analyze_target", broken)
    monkeypatch.setattr(sys, "argv", ["serialscale", "analyze", str(WORKLOADS / "ci_build.yaml")])
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == said + "\n"


@pytest.mark.slow
def test_the_command_exits_at_once_with_its_output_whole_and_its_status(tmp_path: Path) -> None:
    """`serialscale` (_command.run) skips the interpreter's teardown: the output must still arrive
    complete (here about 400 kB through a pipe) and the exit status must be kept."""
    steps = [{"id": f"s{i}", "cost": 1 + i % 5, "needs": [f"s{i // 2}"] if i else []}
             for i in range(3000)]  # fmt: skip
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"steps": steps}))
    base = [sys.executable, "-m", "serialscale", "analyze", str(big)]
    out = subprocess.run([*base, "--format", "json", "--detail"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["detail"]) == 3000
    gate = subprocess.run([*base, "--min-speedup", "1e9"], capture_output=True, text=True)
    assert gate.returncode == 1
    written = tmp_path / "report.json"
    done = subprocess.run([*base, "-f", "json", "-o", str(written)], capture_output=True)
    assert done.returncode == 0
    assert json.loads(written.read_text())["steps"] == 3000
