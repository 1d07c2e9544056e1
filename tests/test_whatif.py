"""--what-if (issue 25): the changed graph's report, with before and after, checked against
networkx on the changed graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serialscale.base.errors import UsageError, WorkloadError
from serialscale.core.graph import Graph
from serialscale.core.whatif import apply_changes, parse_change, report_with_what_if
from serialscale.core.workload import Workload

from .conftest import nx_depth

CI = """\
unit: minutes
steps:
  - {id: checkout, cost: 1}
  - {id: build, cost: 10, needs: [checkout]}
  - {id: test-unit, cost: 12, needs: [build]}
  - {id: test-e2e, cost: 20, needs: [build]}
  - {id: lint, cost: 3, needs: [checkout]}
  - {id: deploy, cost: 4, needs: [test-unit, test-e2e, lint]}
"""


def _nx_depth(workload: Workload) -> float:
    g = workload.graph
    needs = [g.pred_idx[g.pred_ptr[i] : g.pred_ptr[i + 1]] for i in range(g.n)]
    return nx_depth(g.costs, needs)


def _workload() -> Workload:
    ids = ["checkout", "build", "test-unit", "test-e2e", "lint", "deploy"]
    costs = [1, 10, 12, 20, 3, 4]
    needs = [[], [0], [1], [1], [0], [2, 3, 4]]
    return Workload("ci", Graph.from_lists(ids, costs, needs), "ci.yaml", unit="minutes")


@pytest.mark.parametrize(
    ("specs", "depth"),
    [
        (["test-e2e=x0.5"], 1 + 10 + 12 + 4),  # e2e 10: unit (12) is critical now
        (["test-e2e=5"], 1 + 10 + 12 + 4),
        (["test-*=x0.5"], 1 + 10 + 10 + 4),
        (["test-e2e=split:4"], 1 + 10 + 12 + 4),  # four parts of 5 beside unit's 12
        (["build=0", "test-e2e=split:2"], 1 + 12 + 4),
        (["deploy=x2", "checkout=x0"], 10 + 20 + 8),
    ],
)
def test_the_report_is_of_the_changed_graph(specs: list[str], depth: int) -> None:
    workload = _workload()
    changes = [parse_change(s) for s in specs]
    changed, _ = apply_changes(workload, changes)
    assert _nx_depth(changed) == depth
    report = report_with_what_if(workload, changes, processors=2)
    assert report.depth == depth
    assert report.what_if.before.depth == 1 + 10 + 20 + 4 == _nx_depth(workload)
    assert report.what_if.after.depth == depth
    row = {r.processors: r for r in report.speedup}[2]
    assert report.what_if.after.makespan == row.makespan
    assert report.what_if.after.speedup_ceiling == report.speedup_ceiling


def test_a_split_step_keeps_its_id_as_a_join_of_its_parts() -> None:
    changed, applied = apply_changes(_workload(), [parse_change("test-e2e=split:4")])
    ids = list(changed.graph.ids)
    assert [i for i in ids if i.startswith("test-e2e#part")] == [f"test-e2e#part{k}" for k in
                                                                  range(1, 5)]  # fmt: skip
    e2e = ids.index("test-e2e")
    assert changed.graph.costs[e2e] == 0 and "test-e2e" in changed.extra["connectors"]
    assert {changed.graph.costs[ids.index(f"test-e2e#part{k}")] for k in range(1, 5)} == {5}
    assert applied[0].steps == ["test-e2e"]


@pytest.mark.parametrize("spec", ["x", "a=", "=3", "a=-1", "a=nan", "a=split:1", "a=split:x",
                                  "a=xinf", "a=split:100000"])  # fmt: skip
def test_bad_changes_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_change(spec)


def test_a_change_that_matches_nothing_names_the_workload() -> None:
    with pytest.raises(WorkloadError, match=r"no step is called or matches 'tset-e2e'.*test-e2e"):
        apply_changes(_workload(), [parse_change("tset-e2e=3")])


def test_what_if_on_the_command_line(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "ci.yaml"
    path.write_text(CI)
    result = run_cli("analyze", str(path), "-f", "json", "-p", "2", "--what-if", "test-e2e=x0.5")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["depth"] == 27
    assert data["what_if"]["changes"] == [{"change": "test-e2e=x0.5", "steps": ["test-e2e"]}]
    assert data["what_if"]["before"]["depth"] == 35 and data["what_if"]["after"]["depth"] == 27
    table = run_cli("analyze", str(path), "-p", "2", "--what-if", "test-e2e=x0.5")
    assert table.exit_code == 0 and "What if" in table.stdout and "35 → 27" in table.stdout
    bad = run_cli("analyze", str(path), "--what-if", "nope=3")
    assert bad.exit_code == 2 and "no step is called or matches 'nope'" in bad.stderr
    usage = run_cli("analyze", str(path), "--what-if", "test-e2e=fast")
    assert usage.exit_code == 2 and "--what-if" in usage.stderr


def test_a_split_past_the_step_limit_is_refused_before_it_is_made() -> None:
    from serialscale.base.limits import Limits

    with pytest.raises(WorkloadError, match=r"would have 6,004 steps .* --max-steps \(1,000\)"):
        apply_changes(_workload(), [parse_change("test-*=split:2999")], Limits(max_steps=1000))


def test_a_split_step_cannot_be_changed_again_but_its_parts_can() -> None:
    changes = [parse_change("test-e2e=split:2"), parse_change("test-e2e=x0.5")]
    with pytest.raises(WorkloadError, match="'test-e2e' was split by an earlier --what-if"):
        apply_changes(_workload(), changes)
    parts = [parse_change("test-e2e=split:2"), parse_change("test-e2e#part*=x0.5")]
    changed, _ = apply_changes(_workload(), parts)
    assert _nx_depth(changed) == 1 + 10 + 12 + 4  # parts of 5: unit (12) is the longest
