"""`export` takes analyze's reading options (--from, --durations, --reverse-edges) and limits
(issue 22, "Across readers")."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from .conftest import ROOT

DATA = ROOT / "tests" / "data" / "formats"


def _edges(stdout: str) -> set[tuple[str, str]]:
    doc = json.loads(stdout)
    graph = nx.node_link_graph(doc, directed=True, edges="links" if "links" in doc else "edges")
    return {(str(a), str(b)) for a, b in graph.edges}


def test_export_reverses_dot_edges_as_analyze_does(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "deps.dot"
    path.write_text('digraph { "//app" -> "//lib"; "//lib" -> "//base"; }\n')
    plain = run_cli("export", str(path), "--to", "json")
    reversed_ = run_cli("export", str(path), "--to", "json", "--reverse-edges")
    assert plain.exit_code == 0 and reversed_.exit_code == 0, reversed_.stderr
    assert _edges(plain.stdout) == {("//app", "//lib"), ("//lib", "//base")}
    assert _edges(reversed_.stdout) == {("//lib", "//app"), ("//base", "//lib")}
    depth = json.loads(run_cli("analyze", str(path), "--reverse-edges", "-f", "json").stdout)
    assert depth["critical_path"] == ["//base", "//lib", "//app"]


def test_export_takes_durations(run_cli) -> None:
    workflow = DATA / "repo" / ".github" / "workflows" / "ci.yml"
    run = DATA / "run-jobs.json"
    result = run_cli("export", str(workflow), "--to", "trace", "--durations", str(run))
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)
    events = events["traceEvents"] if isinstance(events, dict) else events
    lint = [e for e in events if e.get("name") == "lint" and e.get("ph") == "X"]
    assert lint and lint[0]["dur"] == 60 * 1_000_000  # 60 seconds, in microseconds


def test_export_takes_from_and_limits(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "pipeline.txt"
    path.write_text("".join(f"j{i}:\n  script: x\n" for i in range(30)))
    assert run_cli("export", str(path), "--to", "json").exit_code == 2  # not our format
    ok = run_cli("export", str(path), "--to", "json", "--from", "gitlab-ci")
    assert ok.exit_code == 0 and len(json.loads(ok.stdout)["nodes"]) == 30
    capped = run_cli("export", str(path), "--to", "json", "--from", "gitlab-ci", "--max-steps", "9")
    assert capped.exit_code == 2 and "--max-steps (9)" in capped.stderr


def test_flags_that_do_not_apply_to_a_target_are_said(tmp_path) -> None:
    """--control on a workload file, --durations on a traced function: each a note, not
    silently ignored (new-user trial)."""
    from serialscale.sources import load_target
    from serialscale.sources.read_options import ReadOptions

    path = tmp_path / "w.yaml"
    path.write_text("steps:\n  - {id: a}\n  - {id: b, needs: [a]}\n")
    noted = load_target(str(path), control="strict").extra["notes"]
    assert noted == ["--control strict chooses how a traced function's branches count; a "
                     "file's dependencies are as written: not used here"]  # fmt: skip
    assert "notes" not in load_target(str(path)).extra
    (tmp_path / "f.py").write_text("import serialscale as ss\n\ndef f():\n"
                                   "    return ss.input(1) + 1\n")  # fmt: skip
    traced = load_target(f"{tmp_path / 'f.py'}:f", read=ReadOptions(durations="t.json"))
    assert any(n.startswith("--durations times the steps of a file") for n in
               traced.extra["notes"])  # fmt: skip
