"""Everyday use (issue #28): configuration per command, found from the analyzed file; --quiet
and --verbose; every error of a file; help in panels; counted nouns."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serialscale.base.words import plural, plural_of

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "workloads" / "ci_build.yaml"


def _run(folder: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          text=True, timeout=60, cwd=folder,
                          env={**os.environ, "HOME": "/", **(env or {})})  # fmt: skip


def _readme_configuration() -> str:
    """The TOML example of the README's Configuration section, as documented."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Configuration") :]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def _repo(tmp_path: Path, pyproject: str) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(pyproject)
    (repo / "w").mkdir()
    shutil.copy(CI, repo / "w" / "ci.yaml")
    return repo


def test_the_readme_configuration_example_works_for_every_command(tmp_path: Path) -> None:
    repo = _repo(tmp_path, _readme_configuration())
    analyzed = _run(repo, "analyze", "w/ci.yaml")
    assert analyzed.stdout.startswith("### serialscale")  # format = "markdown"
    saved = _run(repo, "analyze", "w/ci.yaml", "-f", "json", "-o", "w/report.json")
    assert saved.returncode in (0, 1), saved.stderr
    gate = _run(repo, "gate", "w/report.json")
    assert gate.returncode in (0, 1), gate.stderr  # was 2: gate has no --format markdown
    assert "pyproject.toml:" in gate.stderr and "cannot take format = 'markdown'" in gate.stderr
    quiet = _run(repo, "gate", "w/report.json", "-q")
    assert quiet.returncode == gate.returncode and "note" not in quiet.stderr


def test_a_command_table_wins_and_others_are_left_alone(tmp_path: Path) -> None:
    repo = _repo(tmp_path, '[tool.serialscale]\nprocessors = 4\n\n[tool.serialscale.analyze]\n'
                 'processors = 3\nformat = "json"\n\n[tool.serialscale.gate]\nprocessors = 5\n'
                 'format = "github"\n')  # fmt: skip
    report = json.loads(_run(repo, "analyze", "w/ci.yaml").stdout)
    assert report["processors"] == 3  # the command's table over the top level
    _run(repo, "analyze", "w/ci.yaml", "-o", "w/r.json")
    gate = _run(repo, "gate", "w/r.json", "--max-depth", "1")
    assert gate.returncode == 1
    assert "::error" in gate.stdout  # format = "github" from [tool.serialscale.gate]
    line = "pyproject.toml:9: note: serialscale gate has no --processors"  # line 9: gate's
    assert line in gate.stderr
    typo = _repo(tmp_path / "t", "[tool.serialscale.gat]\nformat = 'github'\n")
    wrong = _run(typo, "analyze", "w/ci.yaml")
    assert wrong.returncode == 2 and "unknown setting 'gat' (did you mean 'gate'?)" in (
        wrong.stderr
    )


def test_the_configuration_is_found_from_the_analyzed_file(tmp_path: Path) -> None:
    """Like ruff: the file beside the workload, not the one of the working directory."""
    here = _repo(tmp_path / "here", "[tool.serialscale]\nprocessors = 3\n")
    there = _repo(tmp_path / "there", "[tool.serialscale]\nprocessors = 5\nformat = 'json'\n")
    report = json.loads(_run(here, "analyze", str(there / "w" / "ci.yaml")).stdout)
    assert report["processors"] == 5
    both = _run(here, "analyze", str(there / "w" / "ci.yaml"), "w/ci.yaml")
    assert "different configuration files" in both.stderr
    isolated = _run(here, "analyze", str(there / "w" / "ci.yaml"), "--isolated", "-f", "json")
    assert json.loads(isolated.stdout)["processors"] == 8


def test_quiet_and_verbose(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "[tool.serialscale]\nprocessors = 4\n")
    for name in ("package.json", "mkdocs.yml"):
        (repo / "w" / name).write_text('{"name": "x"}\n')
    normal = _run(repo, "analyze", "w", "-f", "json")
    assert normal.returncode == 0 and "skipped 2 YAML/JSON files" in normal.stderr
    quiet = _run(repo, "analyze", "w", "-f", "json", "-q")
    assert quiet.stdout == normal.stdout and quiet.stderr == ""
    verbose = _run(repo, "analyze", "w", "-f", "json", "--verbose")
    assert verbose.stdout == normal.stdout
    for said in ("configuration: ", "pyproject.toml:2: note: processors = 4",
                 "w/package.json: skipped", "w/mkdocs.yml: skipped", "read as serialscale",
                 "analyzed (1 process) after"):  # fmt: skip
        assert said in verbose.stderr, verbose.stderr
    both = _run(repo, "analyze", "w", "-q", "-v")
    assert both.returncode == 2 and "exclude each other" in both.stderr
    for command in (["formats"], ["schema", "report"]):
        assert _run(repo, *command, "-q").returncode == 0


def _bad_costs(count: int) -> tuple[str, list[int]]:
    """A workload whose steps 2, 4, 6... have a negative cost, and the lines they are on."""
    lines = ["steps:"]
    bad = []
    for i in range(2 * count):
        if i % 2:
            bad.append(len(lines) + 1)
            lines.append(f"  - {{id: s{i}, cost: -{i}}}")
        else:
            lines.append(f"  - {{id: s{i}}}")
    return "\n".join(lines) + "\n", bad


def test_every_error_of_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        "steps:\n"
        "  - {id: a, cost: 2}\n"
        "  - {id: b, cost: -1, needs: [zz]}\n"
        "  - {id: c, needs: [d]}\n"
        "  - {id: d, needs: [c], costt: 1}\n"
        "  - {id: a}\n"
    )
    result = _run(tmp_path, "analyze", "w.yaml")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(": error: ")[0] for line in lines] == [
        "w.yaml:3:19", "w.yaml:3:31", "w.yaml:5:25", "w.yaml:6:10"]  # fmt: skip
    assert "'cost' must be >= 0" in lines[0] and "unknown step 'zz'" in lines[1]
    assert "unknown key 'costt'" in lines[2] and "duplicate step id 'a'" in lines[3]
    # without the repeated id, the cycle is found too, with the other errors
    text = (tmp_path / "w.yaml").read_text().replace("  - {id: a}\n", "")
    (tmp_path / "w.yaml").write_text(text)
    cycle = _run(tmp_path, "analyze", "w.yaml").stderr
    assert "dependency cycle" in cycle and len(cycle.splitlines()) == 4


def test_errors_past_the_limit_are_counted_and_json_lists_them(tmp_path: Path) -> None:
    text, bad = _bad_costs(27)
    (tmp_path / "many.yaml").write_text(text)
    result = _run(tmp_path, "analyze", "many.yaml")
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 21
    assert [int(line.split(":")[1]) for line in lines[:20]] == bad[:20]
    assert lines[20] == "many.yaml: note: and 7 more errors (the first 20 are shown)"
    (tmp_path / "d").mkdir()
    shutil.move(tmp_path / "many.yaml", tmp_path / "d" / "many.yaml")
    batch = _run(tmp_path, "analyze", "d", "-f", "json")
    errors = json.loads(batch.stdout)["errors"]
    assert [e.get("line") for e in errors[:20]] == bad[:20]
    assert errors[20]["message"] == "and 7 more errors (the first 20 are shown)"
    assert batch.returncode == 2


def test_help_is_grouped_narrow_and_has_one_example_per_line(tmp_path: Path) -> None:
    for command in ("analyze", "gate", "scale", "export", "diff", "render"):
        text = _run(tmp_path, command, "--help", env={"COLUMNS": "200"}).stdout
        assert max(map(len, text.splitlines())) <= 80, command
        assert not [line for line in text.splitlines() if line.endswith(" ")], command
        for panel in ("Output", "Input") if command in ("analyze", "scale") else ("Output",):
            assert f"─ {panel} ─" in text, (command, panel)
    analyze = _run(tmp_path, "analyze", "--help").stdout
    assert "─ Gates ─" in analyze and "─ Limits ─" in analyze
    examples = [line.strip() for line in analyze.splitlines() if "serialscale analyze " in line]
    assert "serialscale analyze workloads/ci_build.yaml" in examples
    assert "serialscale[plot]" in analyze  # not read as a style tag


@pytest.mark.parametrize(("count", "noun", "expected"), [
    (1, "error", "1 error"), (2, "error", "2 errors"), (0, "step", "0 steps"),
    (1234, "file", "1,234 files"), (2, "dependency", "2 dependencies"),
    (3, "process", "3 processes"), (7, "more error", "7 more errors"), (2, "day", "2 days"),
    (1.0, "minute", "1 minute"), (2.5, "minute", "2.5 minutes"),
])  # fmt: skip
def test_plural(count: float, noun: str, expected: str) -> None:
    assert plural(count, noun) == expected
    assert plural_of(noun) == expected.split(" ", 1)[1] or count == 1


def test_a_traced_functions_caveat_is_in_the_headline(run_cli) -> None:
    """15 comparisons of running_max are branches the data-flow view leaves out (an
    independent count: n - 1 comparisons for n = 16); pairwise_sum branches on nothing."""
    target = str(ROOT / "workloads" / "algorithms.py") + ":running_max"
    table = run_cli("analyze", target, "--param", "n=16", "--control", "dataflow").stdout
    head = table[: table.index("Speedup by processor count")]
    assert "≥ 1 op" in head and "≤ 15.00x" in head
    assert "caveat: depth is a lower bound (15 branches on traced values left out)" in " ".join(
        line.strip("│ ") for line in head.splitlines()
    )
    markdown = run_cli(
        "analyze", target, "--param", "n=16", "--control", "dataflow", "-f", "markdown"
    ).stdout
    first = markdown.splitlines()[0]
    assert first.endswith("**parallel** (optimistic: depth is a lower bound)")
    assert "> **Caveat:** depth is a lower bound (15 branches" in markdown
    scoped = run_cli("analyze", target, "--param", "n=16").stdout  # scoped, the default
    assert "lower bound" not in scoped  # branches counted as written: no caveat left
    plain = run_cli("analyze", str(ROOT / "workloads" / "algorithms.py") + ":pairwise_sum")
    assert "lower bound" not in plain.stdout and "≥" not in plain.stdout


def _stderr_on_a_terminal(*args: str) -> str:
    """What ``serialscale ARGS`` writes on standard error when it is a terminal (a pty)."""
    import pty
    import select

    main, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "serialscale", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=secondary)  # fmt: skip
    os.close(secondary)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other end is closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    process.communicate(timeout=60)
    os.close(main)
    return seen.decode("utf-8", "replace")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal")
def test_a_sweep_shows_progress_on_a_terminal_only() -> None:
    args = ["scale", "workloads/sweeps/tree_reduction.yaml", "--sweep", "n=8..64"]
    assert "sweeping n" in _stderr_on_a_terminal(*args)
    assert "sweeping" not in _stderr_on_a_terminal(*args, "-q")
    piped = subprocess.run([sys.executable, "-m", "serialscale", *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert piped.returncode == 0 and piped.stderr == ""
