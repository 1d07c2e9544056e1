"""The conventions users bring from ruff, coverage and pytest (issue #16)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serialscale import Workload, analyze_workload
from serialscale.core.graph import Graph
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
    assert "Examples:" in run_cli("-h").stdout and "Examples:" in run_cli("analyze", "-h").stdout
    assert "Examples:" in run_cli("scale", "-h").stdout


def test_batch_forces_the_batch_shape(run_cli) -> None:
    data = json.loads(run_cli("analyze", CI, "--batch", "-f", "json").stdout)
    assert set(data) >= {"results", "errors", "summary"}


def test_markdown_escapes_user_text(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text('name: "a|b <img src=x> `t`"\nsteps:\n  - {id: "x|y", cost: 3}\n'
                    '  - {id: "<b>z</b>", needs: ["x|y"]}\n')  # fmt: skip
    for args in ([str(path)], [str(path), CI]):
        text = run_cli("analyze", *args, "-f", "markdown").stdout
        # inside a code span (a table cell's, or a heading's where `|` needs no escape) the
        # text is shown, not rendered
        spans = ("`` a\\|b <img src=x> `t` ``", "`` a|b <img src=x> `t` ``")
        assert "<img" not in text.replace(spans[0], "").replace(spans[1], "")
        for line in text.splitlines():
            if line.startswith("|") and "\\|" in line:  # a row holding user text
                # every table row has as many unescaped column breaks as the header
                assert line.replace("\\|", "").count("|") in (3, 5, 10), line
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


def test_batch_tables_never_cut_names() -> None:
    for columns in ("60", "80", "100"):
        result = _cli("analyze", str(WORKLOADS), env={"COLUMNS": columns})
        text = result.stdout
        assert "…" not in text
        for name in ("monorepo-ci", "wordcount-mapreduce", "nightly-model-refresh"):
            assert name in text
        assert "workloads/mapreduce.yaml" in text.replace("\n", "")
        assert max(len(line) for line in text.splitlines()) <= int(columns)


def test_the_shipped_hook_only_sees_workloads(tmp_path: Path) -> None:
    """The hook's `files` pattern (as pre-commit applies it, re.search on the path) passes a
    repository whose YAML and JSON are unrelated, and takes workload files."""
    import re

    import yaml

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    pattern = re.compile(hook["files"])
    unrelated = [".pre-commit-config.yaml", "package.json", ".github/workflows/ci.yml",
                 "docs/mkdocs.yml", "config/settings.json", "tsconfig.json"]  # fmt: skip
    workloads = ["workloads/nightly.yaml", "infra/workloads/etl.json", "build.workload.yml",
                 "workloads/sub/serial.yaml", "a/workload/b/c/d.json",
                 "pipelines/train.workload.yaml"]  # fmt: skip
    assert not [p for p in unrelated if pattern.search(p)]
    assert all(pattern.search(p) for p in workloads)
    # the hook's command on a broken and a serial workload: one line each, exit 2
    (tmp_path / "workloads").mkdir()
    broken = tmp_path / "workloads" / "broken.yaml"
    broken.write_text("steps: [{id: a, needs: [zz]}]\n")
    chain = tmp_path / "workloads" / "chain.yaml"
    chain.write_text("steps:\n  - {id: a}\n  - {id: b, needs: [a]}\n")
    entry = hook["entry"].split()[1:] + hook["args"]
    result = _cli(*entry, str(chain), str(broken))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "unknown step 'zz'" in lines[0] and "gate failed" in lines[1]
    passing = tmp_path / "workloads" / "wide.yaml"
    passing.write_text("steps:\n" + "".join(f"  - {{id: s{i}}}\n" for i in range(8)))
    ok = _cli(*entry, str(passing))
    assert ok.returncode == 0 and ok.stdout == "" and ok.stderr == ""


def test_scans_skip_what_git_ignores_unless_asked(tmp_path: Path, run_cli) -> None:
    for folder in ("a", "build", ".venv", "env"):
        (tmp_path / folder).mkdir()
    (tmp_path / "a" / "w.yaml").write_text("steps: [{id: a}]\n")
    (tmp_path / "a" / "x.tmp.yaml").write_text("steps: [{id: a}]\n")
    (tmp_path / "build" / "gen.yaml").write_text("steps: [{id: a}]\n")
    (tmp_path / ".venv" / "site.json").write_text('{"x": 1}')
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "env" / "lib.json").write_text("[]")
    (tmp_path / ".gitignore").write_text("# generated\nbuild/\n*.tmp.yaml\n!keep.tmp.yaml\n")
    (tmp_path / "a" / "keep.tmp.yaml").write_text("steps: [{id: a}]\n")

    def names(*flags: str) -> list[str]:
        out = run_cli("analyze", str(tmp_path), "-f", "csv", *flags).stdout.splitlines()[1:]
        return [str(Path(line.split(",")[0]).relative_to(tmp_path)) for line in out]

    assert names() == ["a/keep.tmp.yaml", "a/w.yaml"]
    assert "build/gen.yaml" in names("--no-ignore", "--exclude", ".venv", "--exclude", "env")
    assert not any(n.startswith(".venv") for n in names("--no-ignore", "--exclude", ".venv"))


def test_gate_reads_stdin_and_jsonl(tmp_path: Path) -> None:
    lines = _cli("analyze", str(WORKLOADS), "-f", "jsonl").stdout
    path = tmp_path / "all.jsonl"
    path.write_text(lines)
    gated = _cli("gate", str(path), "--fail-on", "serial")
    assert gated.returncode == 1 and gated.stderr.count("gate failed") == lines.count(
        '"classification": "serial"'
    )
    piped = subprocess.run(
        [sys.executable, "-m", "serialscale", "gate", "-", "--max-depth", "10"],
        input=_cli("analyze", CI, "-f", "json").stdout, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert piped.returncode == 1 and "depth 34 is above 10" in piped.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines.splitlines()[0] + "\n{oops\n")
    refused = _cli("gate", str(bad))
    assert refused.returncode == 2 and f"{bad}:2:" in refused.stderr


def test_detail_shows_every_step_in_the_table(run_cli) -> None:
    text = run_cli("analyze", str(WORKLOADS / "etl_job.yaml"), "--detail").stdout
    assert "Steps (ASAP schedule)" in text and "extract-customers" in text


def test_measured_tasks_are_labelled_seconds(run_cli) -> None:
    data = json.loads(run_cli("analyze", f"{WORKLOADS / 'pipeline.py'}:measured_pipeline",
                              "--param", "size=2000", "-f", "json").stdout)  # fmt: skip
    assert data["unit"] == "seconds"


def test_version_says_which_compiled_parts_run() -> None:
    out = _cli("--version").stdout
    assert out.startswith("serialscale ") and "compiled kernels" in out
    assert "compiled tracer" in out and "Python" in out
    pure = _cli("--version", env={"SERIALSCALE_PURE_PYTHON": "1"}).stdout
    assert "not used" in pure or "not built" in pure


def test_the_package_ships_its_license_and_its_tests() -> None:
    root = Path(__file__).parent.parent
    assert "MIT License" in (root / "LICENSE").read_text()
    manifest = (root / "MANIFEST.in").read_text()
    assert "graft tests" in manifest and "include LICENSE" in manifest
    pyproject = (root / "pyproject.toml").read_text()
    assert 'license-files = ["LICENSE"]' in pyproject and "[project.urls]" in pyproject
    assert "classifiers" in pyproject


def _in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          text=True, timeout=60, cwd=folder)  # fmt: skip


def test_settings_come_from_pyproject_and_flags_win(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.serialscale]\nprocessors = 16\nfail-on = "mixed"\n'
        'exclude = ["drafts/*"]\nformat = "json"\n\n[tool.serialscale.scale]\nformat = "markdown"\n'
    )
    (tmp_path / ".git").mkdir()  # the repository root: the search goes up to it
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "drafts").mkdir()
    (tmp_path / "w" / "ok.yaml").write_text(
        "steps:\n" + "".join(f"  - {{id: s{i}}}\n" for i in range(4))
    )
    (tmp_path / "w" / "drafts" / "broken.yaml").write_text("steps: [{id: a, needs: [zz]}]\n")
    sub = tmp_path / "w"  # the file is found from a folder below it
    result = _in(sub, "analyze", ".")
    data = json.loads(result.stdout)  # format from the file
    assert [Path(r["source"]).name for r in data["results"]] == ["ok.yaml"]  # exclude
    assert data["results"][0]["processors"] == 16
    assert result.returncode == 1 and "--fail-on mixed" in result.stderr
    flags = _in(sub, "analyze", ".", "-p", "2", "--fail-on", "serial", "-f", "csv")
    assert flags.returncode == 0 and flags.stdout.startswith("source,")
    shutil.copy(WORKLOADS / "sweeps" / "tree_reduction.yaml", sub)
    sweep = _in(sub, "scale", "tree_reduction.yaml", "--sweep", "n=8..128")
    assert sweep.stdout.startswith("### serialscale scale")  # [tool.serialscale.scale]


def test_serialscale_toml_and_located_mistakes(tmp_path: Path) -> None:
    (tmp_path / "serialscale.toml").write_text("processors = 4\nprocesors = 3\n")
    shutil.copy(CI, tmp_path)  # the file is found from the analyzed file's folder
    unknown = _in(tmp_path, "analyze", "ci_build.yaml")
    assert unknown.returncode == 2
    where = f"{tmp_path / 'serialscale.toml'}:2: error: "
    assert unknown.stderr.startswith(
        where + "unknown setting 'procesors' (did you mean 'processors'?)"
    )
    (tmp_path / "serialscale.toml").write_text('processors = "many"\n')
    wrong = _in(tmp_path, "analyze", "ci_build.yaml")
    assert wrong.returncode == 2 and "serialscale.toml:1: error: setting 'processors'" in (
        wrong.stderr
    )
    (tmp_path / "serialscale.toml").write_text("processors = [\n")
    broken = _in(tmp_path, "analyze", "ci_build.yaml")
    assert broken.returncode == 2 and "not valid TOML" in broken.stderr


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("processors = [\n", "2:1", "Invalid value"),  # tomllib: "(at end of document)"
        ("processors = 4\n[x\n", "2:3", "Expected ']' at the end of a table declaration"),
        ("processors = [1,", "1:17", "Invalid value"),
    ],
)
def test_broken_toml_is_located_at_its_line_and_column(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    """tomllib says where in its message (and no line attribute before Python 3.14): the
    place is read from it, and "at end of document" is the end of the last line."""
    from serialscale.base.errors import WorkloadError
    from serialscale.cli.config import load

    path = tmp_path / "serialscale.toml"
    path.write_text(text)
    with pytest.raises(WorkloadError) as info:
        load("analyze", explicit=path)
    assert str(info.value) == f"{path}:{where}: error: not valid TOML: {message}"


def test_render_a_saved_report_again(tmp_path: Path, run_cli) -> None:
    """Analyze once, render many times: the same text as analyzing with that format."""
    single, batch, sweep = tmp_path / "one.json", tmp_path / "all.json", tmp_path / "sweep.json"
    run_cli("analyze", CI, "-f", "json", "-o", str(single))
    run_cli("analyze", str(WORKLOADS), "-f", "json", "-o", str(batch))
    run_cli("scale", str(WORKLOADS / "sweeps" / "tree_reduction.yaml"), "--sweep", "n=8..256",
            "-f", "json", "-o", str(sweep))  # fmt: skip
    for fmt in ("table", "markdown", "json"):
        assert run_cli("render", str(single), "-f", fmt).stdout == run_cli(
            "analyze", CI, "-f", fmt).stdout  # fmt: skip
    for fmt in ("markdown", "csv", "jsonl", "table"):
        assert run_cli("render", str(batch), "-f", fmt).stdout == run_cli(
            "analyze", str(WORKLOADS), "-f", fmt).stdout  # fmt: skip
    md = run_cli("render", str(sweep), "-f", "markdown").stdout
    assert md.startswith("### serialscale scale") and "parallelizable" in md
    bad = run_cli("render", str(tmp_path / "missing.json"))
    assert bad.exit_code == 2 and "cannot read the report" in bad.stderr


def test_a_batch_markdown_error_shows_its_whole_message(tmp_path: Path, run_cli) -> None:
    """An error whose message holds a newline (from an id in the input) is shown whole, the
    newline as \\n as every other format shows it (found: the text after it was dropped)."""
    path = tmp_path / "evil.json"
    path.write_text('{"steps": [{"id": "a", "needs": ["x\\n::error::injected"]}]}')
    text = run_cli("analyze", str(path), "--batch", "-f", "markdown").stdout
    assert "unknown step 'x\\\\n::error::injected'" in text  # (Markdown escapes the backslash)
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
