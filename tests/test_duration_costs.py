"""Costs written with units of time (issue 25): 90s, 5m, 1h30m, in the workload's unit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serialscale.base.words import duration_seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25), ("2d", 172800),
     ("1h0m5s", 3605), ("0s", 0)],
)  # fmt: skip
def test_durations_are_read(text: str, seconds: float) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "5m1h", "1h1h", "-5m", "1..5h", ".5h",
                                  "5 m", "1e3s", "9" * 70 + "s"])  # fmt: skip
def test_anything_else_is_not_a_duration(text: str) -> None:
    assert duration_seconds(text) is None


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_duration_costs_take_the_workloads_unit(tmp_path: Path, suffix: str, run_cli) -> None:
    doc = {"unit": "minutes", "steps": [{"id": "a", "cost": "90s"},
                                        {"id": "b", "cost": 2, "needs": ["a"]},
                                        {"id": "c", "cost": "1h30m", "needs": ["a"]}]}  # fmt: skip
    path = tmp_path / f"w{suffix}"
    path.write_text(json.dumps(doc))  # JSON is YAML too
    data = json.loads(run_cli("analyze", str(path), "-f", "json", "--detail").stdout)
    assert data["unit"] == "minutes"
    assert {d["id"]: d["cost"] for d in data["detail"]} == {"a": 1.5, "b": 2, "c": 90}
    assert data["depth"] == 91.5


def test_without_a_unit_durations_are_seconds(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("steps:\n  - {id: a, cost: 5m}\n  - {id: b, cost: 1h30m, needs: [a]}\n")
    data = json.loads(run_cli("analyze", str(path), "-f", "json").stdout)
    assert data["unit"] == "seconds" and data["depth"] == 300 + 5400


def test_durations_need_a_unit_of_time(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("unit: ops\nsteps:\n  - {id: a, cost: 5m}\n")
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2 and "w.yaml:3:" in result.stderr
    assert "'5m' is a duration, but the workload's unit 'ops' is not a unit of time" in (
        result.stderr
    )
    path.write_text("steps:\n  - {id: a, cost: 5x}\n")
    other = run_cli("analyze", str(path))
    assert other.exit_code == 2 and "or a duration such as 90s, 5m or 1h30m" in other.stderr


def test_a_duration_in_a_templated_workload_says_so(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("unit: minutes\nparams: {n: 3}\nsteps:\n  - id: s{i}\n"
                    "    foreach: {i: range(n)}\n    cost: 5m\n")  # fmt: skip
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2 and "t.yaml:6:" in result.stderr
    assert "cost '5m' is a duration: templated workloads take numbers or expressions" in (
        result.stderr
    )
