"""A real run beside the model (issue 25): fixtures with known timelines."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

BUILD = """\
rule cc
  command = cc $in
build a.o: cc a.c
build b.o: cc b.c
build app: cc a.o b.o
"""
# ninja log v5: start, end (ms), mtime, output, hash. a and b run side by side from 0; the
# link starts 500 ms after b ends (a slot it waited for).
LOG = "# ninja log v5\n0\t1000\t0\ta.o\t1\n0\t2000\t0\tb.o\t2\n2500\t3000\t0\tapp\t3\n"


def test_a_ninja_log_is_the_observed_run(tmp_path: Path, run_cli) -> None:
    (tmp_path / "build.ninja").write_text(BUILD)
    (tmp_path / ".ninja_log").write_text(LOG)
    result = run_cli("analyze", str(tmp_path / "build.ninja"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["depth"] == 2.5  # b (2 s) then the link (0.5 s)
    o = data["observed"]
    assert o["makespan"] == 3.0 and o["workers"] == 2
    assert o["ideal"] == 2.5  # a and b together on two workers, then the link
    assert o["efficiency"] == pytest.approx(2.5 / 3)
    assert o["critical_path_share"] == pytest.approx(2.5 / 3)
    assert o["gaps"] == [{"before": "app", "after": "b.o", "wait": 0.5}]
    table = run_cli("analyze", str(tmp_path / "build.ninja")).stdout
    assert "Observed run: 3 s on up to 2 workers; the same steps on 2 ideally take 2.5 s " \
        "(efficiency 83%)" in " ".join(table.split())  # however the table wraps it  # fmt: skip


def test_a_ci_run_is_the_observed_run(tmp_path: Path, run_cli) -> None:
    flow = tmp_path / ".github" / "workflows" / "ci.yml"
    flow.parent.mkdir(parents=True)
    flow.write_text("on: push\njobs:\n  lint:\n    runs-on: x\n  test:\n    runs-on: x\n"
                    "  deploy:\n    runs-on: x\n    needs: [lint, test]\n")  # fmt: skip
    run = tmp_path / "run.json"
    day = "2026-01-01T10:"
    spans = {"lint": ("00:00", "01:00"), "test": ("00:30", "05:00"), "deploy": ("07:00", "08:00")}
    run.write_text(json.dumps({"jobs": [
        {"name": name, "startedAt": f"{day}{a}Z", "completedAt": f"{day}{b}Z"}
        for name, (a, b) in spans.items()
    ]}))  # fmt: skip
    data = json.loads(run_cli("analyze", str(flow), "--durations", str(run), "-f", "json").stdout)
    o = data["observed"]
    assert data["depth"] == 270 + 60  # test, then deploy
    assert o["makespan"] == 480 and o["workers"] == 2
    assert o["ideal"] == 330 and o["efficiency"] == pytest.approx(330 / 480)
    # test waited 30 s from the start; deploy 120 s after test ended
    assert o["gaps"] == [{"before": "deploy", "after": "test", "wait": 120.0},
                         {"before": "test", "after": None, "wait": 30.0}]  # fmt: skip


def test_no_times_no_observed_block(run_cli) -> None:
    from .conftest import WORKLOADS

    data = json.loads(run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "-f", "json").stdout)
    assert "observed" not in data


def test_the_trace_shows_the_observed_run_beside_the_simulation(tmp_path: Path, run_cli) -> None:
    (tmp_path / "build.ninja").write_text(BUILD)
    (tmp_path / ".ninja_log").write_text(LOG)
    result = run_cli("export", str(tmp_path / "build.ninja"), "--to", "trace", "-p", "2")
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)["traceEvents"]
    real = {e["name"]: e for e in events if e.get("pid") == 2 and e["ph"] == "X"}
    assert {k: (v["ts"], v["dur"]) for k, v in real.items()} == {
        "a.o": (0, 1_000_000), "b.o": (0, 2_000_000), "app": (2_500_000, 500_000)
    }  # fmt: skip
    lanes = {}  # no two events overlap on one lane
    for e in real.values():
        lanes.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in lanes.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert any(e.get("pid") == 1 and e["ph"] == "X" for e in events)  # the simulation too


def test_times_that_contradict_the_needs_are_said(tmp_path: Path, run_cli) -> None:
    # the link starts at 1.5 s although b.o, which it needs, ends at 2 s: one need not waited
    # for; the run (2.5 s) is then shorter than the model's depth (2.5 s + ...) allows
    (tmp_path / "build.ninja").write_text(BUILD)
    (tmp_path / ".ninja_log").write_text(
        "# ninja log v5\n0\t1000\t0\ta.o\t1\n0\t2000\t0\tb.o\t2\n1500\t2100\t0\tapp\t3\n"
    )
    data = json.loads(run_cli("analyze", str(tmp_path / "build.ninja"), "-f", "json").stdout)
    o = data["observed"]
    assert o["early_starts"] == 1
    assert o["critical_path_share"] > 1  # depth 2.6 s over a 2.1 s run
    table = " ".join(run_cli("analyze", str(tmp_path / "build.ninja")).stdout.split())
    assert "1 need not waited for" in table and "contradict the graph" in table
