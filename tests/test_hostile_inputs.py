"""Regressions from a hostile-input pass over spans, array tracing, plots and the CLI: each
test failed before its fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

from serialscale.base.words import times


def test_huge_speedups_are_written_with_an_exponent_not_hundreds_of_digits(
    tmp_path: Path, run_cli
) -> None:
    # A step of work 1e300 and span 1e-300 gives a ceiling of 1e300 / 50 = 2e298: before, the
    # headline and the table wrote all 299 digits of it with two decimals.
    path = tmp_path / "w.yaml"
    path.write_text("unit: minutes\nsteps:\n  - {id: a, cost: 80, span: 10}\n"
                    "  - {id: b, cost: 40, needs: [a]}\n"
                    "  - {id: d, cost: 1.0e+300, span: 1.0e-300, needs: [b]}\n")  # fmt: skip
    result = run_cli("analyze", str(path), "--color", "never")
    assert result.exit_code == 0, result.stderr
    assert not re.search(r"\d{20}", result.stdout), result.stdout
    assert "2e+298x" in result.stdout
    document = json.loads(run_cli("analyze", str(path), "--format", "json").stdout)
    ceiling = 1e300 / (10 + 40 + 1e-300)
    assert f"the ceiling is {ceiling:.3g}x" in document["recommendation"]["reason"]


def test_times_keeps_two_decimals_below_a_million() -> None:
    assert times(3.0) == "3.00x" and times(999_999.0) == "999999.00x"
    assert times(17_179_869_184.0) == "1.72e+10x"


def test_diff_lists_a_step_whose_span_alone_changed(tmp_path: Path, run_cli) -> None:
    # Only a's span changes (10 -> 80, cost 80 both times): the depth grows by 70 (path
    # a -> b: 10 + 40 becomes 80 + 40), and diff used to say "no step was added, removed or
    # changed".
    base = ("unit: minutes\nsteps:\n  - {{id: a, cost: 80, span: {}}}\n"
            "  - {{id: b, cost: 40, needs: [a]}}\n")  # fmt: skip
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(base.format(10))
    new.write_text(base.format(80))
    result = run_cli("diff", str(old), str(new), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["delta"]["depth"] == (80 + 40) - (10 + 40)
    [change] = document["changed"]
    assert change["id"] == "a" and change["change"] == "span"
    assert change["old_cost"] == change["new_cost"] == 80
    assert (change["old_span"], change["new_span"]) == (10, 80)
    assert change["depth_effect"] == 70
    text = run_cli("diff", str(old), str(new)).stdout
    assert "no step was added" not in text and "span 10 → 80" in text


def test_diff_without_spans_writes_no_span_fields(tmp_path: Path, run_cli) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text("steps:\n  - {id: a, cost: 3}\n")
    new.write_text("steps:\n  - {id: a, cost: 5}\n")
    [change] = json.loads(run_cli("diff", str(old), str(new), "--format", "json").stdout)["changed"]
    assert change == {"id": "a", "change": "cost", "old_cost": 3, "new_cost": 5, "depth_effect": 2}


def test_one_escape_and_one_branch_are_counted_in_the_singular(tmp_path: Path, run_cli) -> None:
    source = tmp_path / "one.py"
    source.write_text(
        "import serialscale as ss\n\n"
        "def f():\n"
        "    x = ss.input(3.0)\n"
        "    y = x * 2\n"
        "    if y > 1:\n"  # one branch on a traced value
        "        y = y + 1\n"
        "    return float(y) + 0\n"  # one escape
    )
    result = run_cli("analyze", f"{source}:f", "--control", "dataflow", "--format", "json")
    assert result.exit_code == 0, result.stderr
    notes = " ".join(json.loads(result.stdout)["notes"])
    assert "1 traced value was converted" in notes, notes
    assert "1 branch on traced values" in notes, notes
    assert "1 traced values" not in notes and "1 branches" not in notes


def test_a_very_long_step_id_is_cut_in_the_headline_but_kept_in_focus(
    tmp_path: Path, run_cli
) -> None:
    long_id = "L" * 5000
    path = tmp_path / "w.json"
    steps = [{"id": "a", "cost": 3}, {"id": long_id, "cost": 4, "needs": ["a"]}]
    path.write_text(json.dumps({"steps": steps}))
    document = json.loads(run_cli("analyze", str(path), "--format", "json").stdout)
    reason = document["recommendation"]["reason"]
    assert long_id not in reason and "L" * 59 + "…" in reason
    assert long_id in document["recommendation"]["focus"]
    table = run_cli("analyze", str(path), "--color", "never").stdout
    assert len(table.splitlines()) < 80, table


def test_target_depth_plans_carry_no_bisection_residues() -> None:
    # A chain 10.0 -> 40.0 -> 0.5 (float costs) to depth 5: the fewest steps are the 40 and
    # the 10, and 40 -> 4.5, 10 -> 0 reaches 5 exactly (0 + 4.5 + 0.5). The float bisection
    # used to give 4.49999999997 and 2.7e-11.
    from serialscale.core.compress import plan
    from serialscale.core.graph import Graph

    graph = Graph.from_lists(["a", "b", "d"], [10.0, 40.0, 0.5], [[], [0], [1]])
    result = plan(graph, 5.0)
    assert result.reached and result.depth == 5.0
    new = {s.id: s.new_cost for s in result.steps}
    assert new == {"b": 4.5, "a": 0}


def test_one_processor_is_written_in_the_singular(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("steps:\n" + "".join(f"  - {{id: s{i}, cost: 1}}\n" for i in range(8)))
    result = run_cli("analyze", str(path), "-p", "1", "--format", "json")
    reason = json.loads(result.stdout)["recommendation"]["reason"]
    assert reason.startswith("1 processor gives 1.00x"), reason
    assert "1 processors" not in reason
