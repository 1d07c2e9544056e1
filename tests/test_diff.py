"""serialscale diff (issue 25) on hand-made pairs: deltas, changed steps and each change's own
effect on depth, checked against networkx on the graphs with one change applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import nx_depth

OLD = """\
unit: minutes
steps:
  - {id: checkout, cost: 1}
  - {id: build, cost: 10, needs: [checkout]}
  - {id: test-unit, cost: 12, needs: [build]}
  - {id: test-e2e, cost: 20, needs: [build]}
  - {id: lint, cost: 3, needs: [checkout]}
  - {id: deploy, cost: 4, needs: [test-unit, test-e2e, lint]}
"""
NEW = """\
unit: minutes
steps:
  - {id: checkout, cost: 1}
  - {id: build, cost: 14, needs: [checkout]}
  - {id: test-unit, cost: 12, needs: [build]}
  - {id: test-e2e, cost: 15, needs: [build]}
  - {id: typecheck, cost: 40, needs: [checkout]}
  - {id: deploy, cost: 4, needs: [test-unit, test-e2e, typecheck]}
"""


def _depth(text: str, change: tuple[str, int | None] | None = None) -> int:
    """The costliest path by networkx; ``change`` sets one step's cost (None: drops it)."""
    import yaml

    steps = yaml.safe_load(text)["steps"]
    index = {s["id"]: i for i, s in enumerate(steps)}
    costs = [s["cost"] for s in steps]
    if change:
        costs[index[change[0]]] = change[1] if change[1] is not None else 0
    return nx_depth(costs, [[index[n] for n in s.get("needs", [])] for s in steps])


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(OLD)
    new.write_text(NEW)
    return old, new


def test_diff_json_names_every_change_with_its_own_effect(pair, run_cli) -> None:
    old, new = pair
    result = run_cli("diff", str(old), str(new), "-f", "json")
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)
    assert d["old"]["depth"] == _depth(OLD) == 35 and d["new"]["depth"] == _depth(NEW) == 45
    assert d["delta"] == {"work": 86 - 50, "depth": 10, "width": 1}
    assert d["old"]["critical_path"] == ["checkout", "build", "test-e2e", "deploy"]
    assert d["new"]["critical_path"] == ["checkout", "typecheck", "deploy"]
    effects = {c["id"]: (c["change"], c["depth_effect"]) for c in d["changed"]}
    assert effects == {
        "build": ("cost", _depth(OLD, ("build", 14)) - _depth(OLD)),  # +4
        "test-e2e": ("cost", _depth(OLD, ("test-e2e", 15)) - _depth(OLD)),  # -5
        "typecheck": ("added", _depth(NEW) - _depth(NEW, ("typecheck", None))),  # 45 - 34
        "lint": ("removed", -(_depth(OLD) - _depth(OLD, ("lint", None)))),  # 0
    }
    assert [c["id"] for c in d["changed"]] == ["typecheck", "test-e2e", "build", "lint"]


def test_diff_table_and_markdown(pair, run_cli) -> None:
    old, new = pair
    table = run_cli("diff", str(old), str(new))
    assert table.exit_code == 0
    assert "depth            35 → 45 minutes  +10" in table.stdout
    assert "+11 minutes  typecheck: added (cost 40 minutes)" in table.stdout
    md = run_cli("diff", str(old), str(new), "-f", "markdown").stdout
    assert md.startswith("### serialscale diff: `old` → `new`")
    assert "| `typecheck` | added (cost 40 minutes) | +11 minutes |" in md


def test_diff_gates_exit_one(pair, run_cli) -> None:
    old, new = pair
    grew = run_cli("diff", str(old), str(new), "--max-depth-increase", "20")
    assert grew.exit_code == 1 and "max-depth-increase: depth 35 → 45 (+28.6%)" in grew.stderr
    assert run_cli("diff", str(old), str(new), "--max-depth-increase", "30").exit_code == 0
    deep = run_cli("diff", str(old), str(new), "--max-depth", "40")
    assert deep.exit_code == 1 and "max-depth" in deep.stderr


def test_diff_against_a_saved_report(pair, tmp_path: Path, run_cli) -> None:
    old, new = pair
    saved = tmp_path / "base.json"
    assert run_cli("analyze", str(old), "-f", "json", "--detail", "-o", str(saved)).exit_code == 0
    d = json.loads(run_cli("diff", str(saved), str(new), "-f", "json").stdout)
    assert d["delta"]["depth"] == 10
    assert {c["id"]: c["depth_effect"] for c in d["changed"]} == {
        "build": None, "test-e2e": None, "typecheck": None, "lint": None
    }  # fmt: skip
    assert "depth_effect needs both graphs" in d["notes"][0]
    plain = tmp_path / "plain.json"
    run_cli("analyze", str(old), "-f", "json", "-o", str(plain))
    d = json.loads(run_cli("diff", str(plain), str(new), "-f", "json").stdout)
    assert d["changed"] == [] and "saved without --detail" in d["notes"][0]


def test_diff_of_unreadable_input_is_a_located_error(pair, tmp_path: Path, run_cli) -> None:
    old, _ = pair
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - id: a\n    needs: [zz]\n")
    result = run_cli("diff", str(old), str(bad))
    assert result.exit_code == 2 and "bad.yaml" in result.stderr and result.stdout == ""


def test_a_saved_batch_is_refused_at_its_own_file(pair, tmp_path: Path, run_cli) -> None:
    old, new = pair
    batch = tmp_path / "batch.json"
    assert run_cli("analyze", str(old.parent), "-f", "json", "-o", str(batch)).exit_code == 0
    entries = len(json.loads(batch.read_text())["results"])
    result = run_cli("diff", str(new), str(batch))
    # it was "<input>: error: .../batch.json: ..." (the file named inside the message)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{batch}: error: expected one saved report, not a batch")
    assert f"has {entries} entries" in result.stderr


def test_a_saved_report_is_known_by_its_content(pair, tmp_path: Path, run_cli) -> None:
    old, new = pair
    saved = tmp_path / "baseline-report"  # no .json
    run_cli("analyze", str(old), "-f", "json", "-o", str(saved))
    result = run_cli("diff", str(saved), str(new), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["delta"]["depth"] == 10


def test_sides_in_different_units_are_flagged(pair, tmp_path: Path, run_cli) -> None:
    old, _ = pair
    seconds = tmp_path / "seconds.yaml"
    seconds.write_text(NEW.replace("unit: minutes", "unit: seconds"))
    d = json.loads(run_cli("diff", str(old), str(seconds), "-f", "json").stdout)
    assert any("different units" in n and "minutes" in n and "seconds" in n for n in d["notes"])
    same = json.loads(run_cli("diff", *map(str, pair), "-f", "json").stdout)
    assert "notes" not in same


def test_markdown_outside_tables_keeps_pipes_plain(tmp_path: Path, run_cli) -> None:
    # a `\|` inside a heading's code span shows its backslash on GitHub; in a table it is needed
    old, new = tmp_path / "a|b.yaml", tmp_path / "c.yaml"
    old.write_text(OLD.replace("build", "bu|ild"))
    new.write_text(NEW.replace("build", "bu|ild"))
    md = run_cli("diff", str(old), str(new), "-f", "markdown").stdout
    assert md.startswith("### serialscale diff: `a|b` → `c`")
    assert "`bu|ild`" in md.split("**Critical path before:**")[1].splitlines()[0]
    assert "| `bu\\|ild` | cost 10 → 14 minutes |" in md


def test_sides_in_different_units_show_each_number_in_its_own(tmp_path: Path, run_cli) -> None:
    """A removed step's cost and effect, and the old work and depth, are the old side's, in
    its unit (found: 'removed (cost 1 second)' for a step of 1 minute)."""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text("unit: minutes\nsteps:\n  - {id: checkout, cost: 1}\n"
                   "  - {id: b, cost: 2, needs: [checkout]}\n")  # fmt: skip
    new.write_text("unit: seconds\nsteps:\n  - {id: b, cost: 2}\n  - {id: c, cost: 3}\n")
    for fmt in ("table", "markdown"):
        text = run_cli("diff", str(old), str(new), "-f", fmt).stdout
        assert "checkout" in text and "removed (cost 1 minute)" in text
        assert "−1 minute" in text and "added (cost 3 seconds)" in text
        assert "3 minutes → 5 seconds" in text and "3 minutes → 3 seconds" in text
    same = run_cli("diff", str(new), str(new)).stdout
    assert "5 → 5 seconds" in same  # one unit: the old number bare, as before


def test_markdown_wall_times_escape_a_unit_once(tmp_path: Path, run_cli) -> None:
    """The wall-time cells escape the unit as the other cells do (they escaped it twice)."""
    path = tmp_path / "w.yaml"
    path.write_text('unit: "\\u202eevil"\nsteps:\n  - {id: a, cost: 9}\n')
    text = run_cli("analyze", str(path), "-f", "markdown").stdout
    assert "\u202e" not in text and "\\\\\\\\u202e" not in text
    assert text.count("9 \\\\u202eevil |") >= 5  # work, depth and the wall time of each row
