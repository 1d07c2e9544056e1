"""A scan takes only workloads (issue 28): other YAML and JSON files are skipped with one
summary note; a named file is always read; a workflows folder is a request for workflows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKLOAD = "steps:\n  - {id: a, cost: 2}\n  - {id: b, needs: [a]}\n"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "serialscale", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_an_ordinary_repository_scans_without_errors(tmp_path: Path, run_cli) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "scripts": {"test": "jest"}}')
    (tmp_path / "mkdocs.yml").write_text("site_name: Docs\nnav:\n  - Home: index.md\n")
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    image: nginx\n    ports:\n      - '80:80'\n"
    )
    (tmp_path / "run.json").write_text(json.dumps(
        {"jobs": [{"name": "t", "steps": [{"name": "s"}], "startedAt": "x"}]}))  # fmt: skip
    (tmp_path / "pipeline.yaml").write_text(WORKLOAD)
    (tmp_path / "pipeline.json").write_text(json.dumps({"steps": [{"id": "x"}]}))
    saved = run_cli("analyze", str(tmp_path / "pipeline.yaml"), "-f", "json")
    (tmp_path / "report.json").write_text(saved.stdout)  # a saved report: "steps" is a count
    result = cli("analyze", ".", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    batch = json.loads(result.stdout)
    assert sorted(r["source"] for r in batch["results"]) == ["pipeline.json", "pipeline.yaml"]
    notes = [line for line in result.stderr.splitlines() if "not workloads" in line]
    assert len(notes) == 1 and "skipped 5 YAML/JSON files" in notes[0]
    for name in ("package.json", "mkdocs.yml", "docker-compose.yml", "run.json", "report.json"):
        assert name in notes[0]
    named = cli("analyze", "mkdocs.yml", cwd=tmp_path)
    assert named.returncode == 2 and "site_name" in named.stderr  # named: read, and refused


def test_a_workflows_folder_is_a_request_for_workflows(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "ci.yml").write_text("on: push\njobs:\n  a:\n    runs-on: x\n")
    result = cli("analyze", ".github/workflows", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["format"] for r in json.loads(result.stdout)["results"]] == ["github-actions"]
    root = cli("analyze", ".", "-f", "json", cwd=tmp_path)  # hidden folders stay out of scans
    assert root.returncode == 2 and "no workloads found" in root.stderr


def test_gate_says_in_one_line_that_everything_passed(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD)
    saved = tmp_path / "r.json"
    run_cli("analyze", str(path), "-f", "json", "-o", str(saved))
    passed = run_cli("gate", str(saved), "--max-depth", "10")
    assert passed.exit_code == 0 and passed.stderr == f"{saved}: 1 report passed every gate\n"
    nothing = run_cli("gate", str(saved))
    assert nothing.exit_code == 0 and "no gate was given" in nothing.stderr
    failed = run_cli("gate", str(saved), "--max-depth", "1")
    assert failed.exit_code == 1 and "passed" not in failed.stderr
