"""Baselines match workloads by their path in the project, wherever serialscale runs from;
a baseline that matches nothing is an error (issue 25)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FAST = "steps:\n  - {id: a, cost: 10}\n  - {id: b, cost: 7, needs: [a]}\n"
SLOW = "steps:\n  - {id: a, cost: 10}\n  - {id: b, cost: 8, needs: [a]}\n"  # depth +5.9%


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "serialscale", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "ci.yaml").write_text(FAST)
    return tmp_path


def test_a_baseline_saved_at_the_root_matches_from_a_subfolder(repo: Path) -> None:
    saved = cli("analyze", "pipelines/ci.yaml", "-f", "json", "-o", "base.json", cwd=repo)
    assert saved.returncode == 0, saved.stderr
    assert json.loads((repo / "base.json").read_text())["path"] == "pipelines/ci.yaml"
    (repo / "pipelines" / "ci.yaml").write_text(SLOW)
    here = cli("analyze", "ci.yaml", "--baseline", "../base.json", "--max-depth-increase", "1",
               cwd=repo / "pipelines")  # fmt: skip
    assert here.returncode == 1, here.stderr  # the 5.9% growth is caught, not "new workload"
    assert "depth 17 → 18 (+5.9%)" in here.stderr
    assert cli("analyze", "pipelines/ci.yaml", "--baseline", "base.json", "--max-depth-increase",
               "10", cwd=repo).returncode == 0  # fmt: skip


def test_a_baseline_that_matches_nothing_is_an_error(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "x.yaml").write_text(FAST)
    base = repo / "base.json"
    assert cli("analyze", "x.yaml", "-f", "json", "-o", str(base), cwd=other).returncode == 0
    result = cli("analyze", "pipelines/ci.yaml", "--baseline", str(base),
                 "--max-depth-increase", "1", cwd=repo)  # fmt: skip
    assert result.returncode == 2
    assert "--baseline: the baseline does not match the workload analyzed" in result.stderr


def test_reports_saved_before_paths_still_match_by_source(repo: Path) -> None:
    saved = cli("analyze", "pipelines/ci.yaml", "-f", "json", cwd=repo)
    old = json.loads(saved.stdout)
    del old["path"]  # as written before reports had one
    (repo / "old.json").write_text(json.dumps(old))
    result = cli("analyze", "pipelines/ci.yaml", "--baseline", "old.json", "--max-depth-increase",
                 "1", cwd=repo)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_files_with_paths_never_match_by_workload_name_alone(repo: Path) -> None:
    """Two different files whose workloads share a name are not one workload (found: a
    baseline of a/w.yaml gated b/w.yaml, both named 'ci'); a baseline entry saved before
    reports had paths still matches by name."""
    (repo / "a").mkdir()
    (repo / "b").mkdir()
    (repo / "a" / "w.yaml").write_text("name: ci\n" + FAST)
    (repo / "b" / "w.yaml").write_text("name: ci\n" + SLOW)
    assert cli("analyze", "a/w.yaml", "-f", "json", "-o", "base.json", cwd=repo).returncode == 0
    result = cli("analyze", "b/w.yaml", "--baseline", "base.json", "--max-depth-increase", "1",
                 cwd=repo)  # fmt: skip
    assert result.returncode == 2 and "does not match the workload analyzed" in result.stderr
    old = json.loads((repo / "base.json").read_text())
    del old["path"]
    (repo / "old.json").write_text(json.dumps(old))
    result = cli("analyze", "b/w.yaml", "--baseline", "old.json", "--max-depth-increase", "1",
                 cwd=repo)  # fmt: skip
    assert result.returncode == 1
    assert "depth grew more than 1%: depth 17 → 18 (+5.9%)" in result.stderr


def test_files_with_paths_never_match_by_source_either(repo: Path) -> None:
    """Run from their own folders, a/w.yaml and b/w.yaml both have the source 'w.yaml': they
    are still two files (their paths differ), so the baseline matches nothing (exit 2)."""
    (repo / "a").mkdir()
    (repo / "b").mkdir()
    (repo / "a" / "w.yaml").write_text(FAST)
    (repo / "b" / "w.yaml").write_text(SLOW)
    assert cli("analyze", "w.yaml", "-f", "json", "-o", "../base.json",
               cwd=repo / "a").returncode == 0  # fmt: skip
    result = cli("analyze", "w.yaml", "--baseline", "../base.json", "--max-depth-increase", "1",
                 cwd=repo / "b")  # fmt: skip
    assert result.returncode == 2 and "does not match the workload analyzed" in result.stderr
