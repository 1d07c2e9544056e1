"""What people and CI runners read cannot be steered by what a workload holds (issue 30).

Every human-readable line (errors, gate failures, notes, warnings, table titles and cells)
goes through one sanitiser: no raw control character, no line a GitHub runner acts on
(``::error::`` at the start of a line, ``##[`` anywhere). Table cells are never rich markup.
Each export escapes its own way: CSV formulas, Mermaid labels, GraphML (valid XML 1.0), DOT
ids, Markdown, matplotlib titles, Chrome trace times.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialscale.base.errors import display, neutralize

from .conftest import ROOT

#: What must never reach a person's terminal or a runner's log raw (newline splits lines).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
EVIL = (
    "\n::error file=x::evil\r\n::add-mask::y \x1b]8;;https://evil\x07link\x1b[0m ##[error]z"
    " ##vso[task.setvariable variable=x]1"
)


def assert_safe(text: str) -> None:
    """No line a GitHub runner acts on, no raw control character."""
    for line in text.split("\n"):
        assert not line.lstrip().startswith("::"), repr(line)
        assert "##[" not in line and "##vso[" not in line.lower(), repr(line)
        assert not UNSAFE.search(line), repr(line)


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """The command as users run it (its stdout and stderr as a runner's log gets them)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, input=stdin and stdin.decode(),
                          env=environment)  # fmt: skip


def hostile_workload(tmp_path: Path, name: str = "hostile.json") -> Path:
    """A workload whose name, description and step ids carry runner commands, control
    characters and rich markup."""
    doc = {
        "name": f"::error::name{EVIL} [link=https://evil]x[/link] [/]",
        "description": f"about{EVIL}",
        "unit": "s\x1b[31m",
        "steps": [
            {"id": "[/]", "cost": 2},
            {"id": f"::warning::step{EVIL}", "cost": 3, "needs": ["[/]"]},
            {"id": "[link=https://evil]click[/link]", "cost": 1, "needs": ["[/]"]},
            {"id": "test: [linux, amd64]", "cost": 1},
            {"id": '=HYPERLINK("http://evil")', "cost": 1},
        ],
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


# --- the sanitiser -------------------------------------------------------------------------


@given(st.text())
def test_display_is_one_safe_line(text: str) -> None:
    shown = display(text)
    assert "\n" not in shown
    assert_safe(shown)
    assert display(shown) == shown  # applying it again changes nothing


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"),
                                      blacklist_characters="\u2028\u2029\u202a\u202b\u202c"
                                      "\u202d\u202e\u2066\u2067\u2068\u2069#:")))  # fmt: skip
def test_display_keeps_printable_text(text: str) -> None:
    assert display(text) == text


def test_display_shows_what_it_escaped() -> None:
    assert display("a\nb\x1bc\u202e") == "a\\nb\\x1bc\\u202e"
    assert display("  ::error::x") == "  \\x3a:error::x"
    assert display("x ##[error]y") == "x #\\x23[error]y"
    assert display("x ##VSO[task]y ## z") == "x #\\x23VSO[task]y ## z"
    assert display("a\n::b", lines=True) == "a\n\\x3a:b"
    assert neutralize(" ::x\ny::z\n\x1b[1m::w") == " \\x3a:x\ny::z\n\x1b[1m::w"


# --- lines on standard error ---------------------------------------------------------------


def test_error_lines_cannot_be_runner_commands(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"steps": [{"id": "a", "needs": [f"gone{EVIL}"]}]}))
    out = cli("analyze", str(path))
    assert out.returncode == 2 and "internal error" not in out.stderr
    assert_safe(out.stderr)
    assert len(out.stderr.splitlines()) == 1 and "gone\\n\\x3a:error" not in out.stderr
    assert "gone\\n::error file=x::evil" in out.stderr  # shown, escaped, on one line


def test_a_hostile_file_name_in_an_error_line(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "::error::x\n::error::y.json").write_text("{")
    out = cli("analyze", str(folder), "--format", "concise")
    assert out.returncode == 2
    assert_safe(out.stderr)
    assert "::error::y.json" in out.stderr


def test_gate_failures_and_baseline_changes_are_safe(tmp_path: Path) -> None:
    path = hostile_workload(tmp_path)
    saved = tmp_path / "saved.json"
    out = cli("analyze", str(path), "--format", "json", "--output", str(saved))
    assert out.returncode == 0, out.stderr
    data = json.loads(saved.read_text())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**data, "depth": 1}))
    out = cli("gate", str(saved), "--fail-on", "mixed", "--max-depth", "0",
              "--baseline", str(old))  # fmt: skip
    assert out.returncode == 1
    assert_safe(out.stderr)
    assert out.stderr.count("gate failed") == 2 and "changed: depth 1 → 5" in out.stderr


def test_notes_are_safe(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "a.json").write_text('{"steps": [{"id": "a"}]}')
    os.mkfifo(folder / "::error::fifo\n::error::x.yaml")
    out = cli("analyze", str(folder), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert "note:" in out.stderr and "skipped" in out.stderr
    assert_safe(out.stderr)


def test_usage_errors_are_safe() -> None:
    out = cli("analyze", "x.yaml", "--processors", f"3{EVIL}")
    assert out.returncode == 2
    assert_safe(out.stderr)


def test_github_annotations_escape_the_rest_of_the_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"steps": [{"id": "a", "needs": [f"gone{EVIL}"]}]}))
    out = cli("analyze", str(path), "--format", "github")
    assert out.returncode == 2
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error file=")
    assert "\x1b" not in out.stdout and "%0A::error file=x::evil" in out.stdout


# --- tables: never markup, always safe -----------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "markdown"])
@pytest.mark.parametrize("batch", [False, True])
def test_tables_show_names_as_written(tmp_path: Path, fmt: str, batch: bool) -> None:
    path = hostile_workload(tmp_path)
    flags = ["--batch"] if batch else []
    out = cli("analyze", str(path), "--format", fmt, "--detail", "--color", "always", *flags,
              env={"COLUMNS": "400"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "\x1b]8;" not in out.stdout  # no terminal hyperlink
    plain = re.sub("\x1b\\[[0-9;]*m", "", out.stdout)  # the colours asked for
    assert_safe(plain)
    assert ":error::name" in plain  # shown, not dropped
    if fmt == "table" and not batch:
        assert "test: [linux, amd64]" in plain and "[link=https://evil]click[/link]" in plain
        assert re.search(r"^\s*\[/\]\s+2\s", plain, re.M)  # the step named [/], with its cost


def test_a_matrix_job_is_shown_whole_in_the_table(tmp_path: Path) -> None:
    ci = tmp_path / ".gitlab-ci.yml"
    ci.write_text("stages: [build, test]\nbuild:\n  stage: build\n  script: [make]\n"
                  "test:\n  stage: test\n  script: [make test]\n  parallel:\n    matrix:\n"
                  "      - OS: [linux]\n        ARCH: [amd64]\n")  # fmt: skip
    out = cli("analyze", str(ci), "--detail", env={"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert re.search(r"^\s*test: \[linux, amd64\]\s+1\s+1\s+2\s+0\s*$", out.stdout, re.M)


def test_a_table_folded_at_the_width_starts_no_runner_command(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = "x" * 30 + "::error::folded"
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"name": step, "steps": [{"id": step}, {"id": "b"}]}))
    folded = 0
    for width in range(20, 50):
        monkeypatch.setenv("COLUMNS", str(width))
        out = run_cli("analyze", str(path), "--detail")
        assert out.exit_code == 0
        assert_safe(out.stdout)
        folded += "\n\\x3a:error::folded" in out.stdout  # a fold put it at a line start
    assert folded  # the case this test is about happened


def test_scale_table_and_markdown_are_safe(tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "name: '[/] ::error::sweep | <img src=x>'\nparams: {n: 4}\nsteps:\n"
        "  - id: s0\n  - id: 's{i}'\n    foreach: {i: 'range(1, n)'}\n    needs: ['s{i-1}']\n"
    )
    for fmt in ("table", "markdown"):
        out = cli("scale", str(path), "--sweep", "n=4..32", "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert_safe(out.stdout)
        if fmt == "markdown":
            assert "<img" not in out.stdout.replace("`[/] ::error::sweep \\| <img src=x>`", "")
            heading = out.stdout.splitlines()[0]
            assert "`[/] ::error::sweep | <img src=x>`".replace("|", "\\|") in heading
        else:
            assert "[/] ::error::sweep" in out.stdout


# --- CSV -----------------------------------------------------------------------------------


def test_csv_cells_are_never_formulas(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    names = ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok"]
    for k, name in enumerate(names):
        (folder / f"{k}.json").write_text(json.dumps({"name": name, "steps": [{"id": "a"}]}))
    (folder / "=bad.json").write_text("{")
    out = cli("analyze", str(folder), "--format", "csv")
    assert out.returncode == 2
    assert_safe(out.stdout)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    shown = {row["workload"] for row in rows if row["workload"]}
    assert shown == {"'=1+2", "'+cmd", "'-2+3", "'@SUM(A1)", "\\tx", "\\rx", "ok"}
    errors = [row for row in rows if row["error"]]
    assert errors and errors[0]["source"].endswith("=bad.json")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    numbers = next(row for row in rows if row["workload"] == "ok")
    assert numbers["steps"] == "1" and numbers["depth"] == "1"  # numbers are left alone


# --- exports -------------------------------------------------------------------------------

CONTROL_IDS = ["a\x01b", "c\x1bd", "e\nf", 'g"h<i>j]k|l#m&n`o', "p\ufffeq", "[/]"]


def export(tmp_path: Path, to: str, ids: list[str] = CONTROL_IDS,
           name: str = f"graph{EVIL}") -> subprocess.CompletedProcess[str]:  # fmt: skip
    steps = [{"id": s, "cost": 1, **({"needs": [ids[k - 1]]} if k else {})}
             for k, s in enumerate(ids)]  # fmt: skip
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"name": name, "steps": steps}))
    return cli("export", str(path), "--to", to)


def test_graphml_is_valid_xml_whatever_the_ids(tmp_path: Path) -> None:
    out = export(tmp_path, "graphml")
    assert out.returncode == 0, out.stderr
    assert_safe(out.stdout)
    root = ET.fromstring(out.stdout)
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    ids = [node.get("id") for node in root.iter(f"{ns}node")]
    assert ids == ["a\\x01b", "c\\x1bd", "e\nf", 'g"h<i>j]k|l#m&n`o', "p\\ufffeq", "[/]"]
    assert len(list(root.iter(f"{ns}edge"))) == len(CONTROL_IDS) - 1


def test_graphml_refuses_ids_it_would_merge(tmp_path: Path) -> None:
    out = export(tmp_path, "graphml", ["a\x01", "a\\x01"])
    assert out.returncode == 2 and "internal error" not in out.stderr
    assert "g.json: error: GraphML cannot tell step" in out.stderr


def test_mermaid_labels_stay_in_their_node(tmp_path: Path) -> None:
    out = export(tmp_path, "mermaid")
    assert out.returncode == 0, out.stderr
    assert_safe(out.stdout)
    nodes = [line for line in out.stdout.splitlines() if re.match(r"\s+s\d+\[", line)]
    assert len(nodes) == len(CONTROL_IDS)
    for line in nodes:
        match = re.fullmatch(r'\s+s\d+\["([^"\[\]<>|`\n]*)"\]', line.replace("<br/>", ""))
        assert match, line
        label = match.group(1)
        assert re.fullmatch(r"([^#&]|#(\d+|quot);)*", label), label  # '#' only in entities
    assert "g#quot;h#60;i#62;j#93;k#124;l#35;m#38;n#96;o" in out.stdout


def test_dot_ids_cannot_break_out(tmp_path: Path) -> None:
    pydot = pytest.importorskip("pydot")
    ids = ['a"b', "c\\", "d\ne", "f\\ng", "::error::h", "i\r"]
    out = export(tmp_path, "dot", ids)
    assert out.returncode == 0, out.stderr
    assert_safe(out.stdout)
    [graph] = pydot.graph_from_dot_data(out.stdout)
    names = {n.get_name() for n in graph.get_nodes()} - {"node", "edge", "graph"}
    edges = graph.get_edges()
    assert len(names) == len(ids) and len(edges) == len(ids) - 1  # each id its own node


def test_a_trace_past_what_it_can_hold_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"steps": [{"id": "a", "cost": 1e305}, {"id": "b", "cost": 1e305, '
                    '"needs": ["a"]}]}')  # fmt: skip
    out = cli("export", str(path), "--to", "trace")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(f"{path}: error: a Chrome trace cannot hold")
    path.write_text('{"steps": [{"id": "a", "cost": 9e9}, {"id": "b", "cost": 1, "needs": ["a"]}]}')
    out = cli("export", str(path), "--to", "trace")
    assert out.returncode == 0, out.stderr
    events = [e for e in json.loads(out.stdout)["traceEvents"] if e["ph"] == "X"]
    assert [(e["ts"], e["dur"]) for e in events] == [(0, 9e15), (9e15, 1e6)]


def test_a_dollar_in_a_name_does_not_break_a_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"name": "cost $\\undefined{$ and $x_", "unit": "$\\frac$",
                                "steps": [{"id": "a", "cost": 2}]}))  # fmt: skip
    svg = tmp_path / "p.svg"
    out = cli("analyze", str(path), "--plot", str(svg), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert "cost $\\undefined{$ and $x_" in svg.read_text()  # the title as written


# --- Markdown ------------------------------------------------------------------------------


def test_markdown_escapes_control_characters_and_pipes(tmp_path: Path) -> None:
    path = hostile_workload(tmp_path)
    out = cli("analyze", str(path), "--format", "markdown")
    assert out.returncode == 0, out.stderr
    assert_safe(out.stdout)
    table = [line for line in out.stdout.splitlines() if line.startswith("| `")]
    # two columns each (near-critical steps), four in the steps-worth-shortening table
    assert table and all(line.count(" | ") in (1, 3) for line in table)
