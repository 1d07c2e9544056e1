"""The conventions users bring from ruff, coverage and pytest (issue #16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from serialscale import Workload, analyze_workload
from serialscale.graph import Graph
from serialscale.render.common import md_code, md_text

from .conftest import WORKLOADS

CI = str(WORKLOADS / "ci_build.yaml")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "env", "colored"),
    [
        ([], {}, False),  # piped: no colour
        (["--color", "always"], {}, True),
        (["--color", "always"], {"NO_COLOR": "1"}, True),  # the flag wins
        ([], {"FORCE_COLOR": "1"}, True),
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR first
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        ([], {"FORCE_COLOR": "0"}, False),
    ],
)
def test_colour_follows_the_flag_and_the_conventions(flags, env, colored: bool) -> None:
    result = _cli("analyze", CI, *flags, env={"NO_COLOR": "", "FORCE_COLOR": "", **env})
    assert result.returncode == 0
    assert ("\x1b[" in result.stdout) is colored


def test_piped_tables_honour_columns() -> None:
    narrow = _cli("analyze", CI, env={"COLUMNS": "60"})
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    wide = _cli("analyze", CI, env={"COLUMNS": "140"})
    assert max(len(line) for line in wide.stdout.splitlines()) > 100


def test_dash_h_is_help_everywhere(run_cli) -> None:
    for args in (["-h"], ["analyze", "-h"], ["scale", "-h"], ["gate", "-h"]):
        result = run_cli(*args)
        assert result.exit_code == 0 and "Usage:" in result.stdout
    assert "Examples:" in run_cli("-h").stdout


def test_batch_forces_the_batch_shape(run_cli) -> None:
    data = json.loads(run_cli("analyze", CI, "--batch", "-f", "json").stdout)
    assert set(data) >= {"results", "errors", "summary"}


def test_markdown_escapes_user_text(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text('name: "a|b <img src=x> `t`"\nsteps:\n  - {id: "x|y", cost: 3}\n'
                    '  - {id: "<b>z</b>", needs: ["x|y"]}\n')  # fmt: skip
    for args in ([str(path)], [str(path), CI]):
        text = run_cli("analyze", *args, "-f", "markdown").stdout
        assert "<img" not in text.replace("`` a\\|b <img src=x> `t` ``", "")
        for line in text.splitlines():
            if line.startswith("|") and "\\|" in line:  # a row holding user text
                # every table row has as many unescaped column breaks as the header
                assert line.replace("\\|", "").count("|") in (3, 10), line
    assert md_text("<img src=x> *a* | b") == "&lt;img src=x&gt; \\*a\\* \\| b"
    assert md_code("a`b") == "``a`b``" and md_code("`x`") == "`` `x` ``"


def test_a_batch_markdown_comment_is_complete(tmp_path: Path, run_cli) -> None:
    base = tmp_path / "base.json"
    run_cli("analyze", CI, str(WORKLOADS / "etl_job.yaml"), "-f", "json", "-o", str(base))
    result = run_cli("analyze", CI, str(WORKLOADS / "mapreduce.yaml"), "-f", "markdown",
                     "--baseline", str(base), "--fail-on", "mixed")  # fmt: skip
    text = result.stdout
    assert result.exit_code == 1
    assert text.startswith("### serialscale\n") and "2 workloads analyzed" in text
    assert "**Changes against the baseline**" in text and ": new" in text and ": removed" in text
    assert "**Failed gates**" in text and "`fail-on`" in text


def test_failed_gates_appear_in_the_json_batch(run_cli) -> None:
    gated = json.loads(run_cli("analyze", CI, "--batch", "-f", "json", "--fail-on",
                               "mixed").stdout)  # fmt: skip
    assert gated["failed_gates"] == [{"source": CI, "workload": "monorepo-ci", "gate": "fail-on",
                                      "message": "classified mixed (--fail-on mixed)"}]  # fmt: skip
    plain = json.loads(run_cli("analyze", CI, "--batch", "-f", "json").stdout)
    assert "failed_gates" not in plain


def test_overhead_changes_the_advice() -> None:
    """Eight independent steps of cost 1 and a join: free scheduling is 4.5x on 8 processors;
    with an overhead of 8 per step, two processors are slower than one."""
    ids = [f"s{i}" for i in range(8)] + ["join"]
    graph = Graph.from_lists(ids, [1] * 8 + [0], [[]] * 8 + [list(range(8))])
    free = analyze_workload(Workload("w", graph), processors=8)
    assert free.classification == "parallel" and free.recommendation.strategy == "parallel-leaning"
    burdened = analyze_workload(Workload("w", graph), processors=8, overhead=8)
    rows = {r.processors: r for r in burdened.speedup}
    assert rows[2].simulated_burdened < 1  # slower than one processor
    assert burdened.classification == "serial"
    assert burdened.recommendation.strategy == "serial-leaning"
    assert "overhead per step" in burdened.recommendation.reason


def test_singular_units_and_counts(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("unit: minutes\nsteps:\n  - {id: a, cost: 1}\n")
    text = run_cli("analyze", str(path), "-p", "1").stdout
    assert "1 minute " in text and "1 minutes" not in text
    assert "(for 1 processor)" in text and "0 dependencies" in text
