"""Steps with parallelism inside (issue 26): ``span`` beside ``cost``.

Oracles: networkx's longest path with the spans as weights (depth), the sum of costs (work),
closed forms for one malleable step, Brent's theorem with spans (every simulated makespan
lies between ``max(W / P, D)`` and ``(W - D) / P + D``), and the plain list schedule (a
malleable schedule of steps without parallelism inside is that list schedule).
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialscale.core.analysis import analyze_workload
from serialscale.core.graph import Graph, GraphError
from serialscale.core.metrics import compute_metrics
from serialscale.core.moldable import moldable_makespan, peak_demand
from serialscale.core.schedule import list_schedule_makespan
from serialscale.core.workload import Workload
from serialscale.sources.workload_file import parse_workload

from .conftest import Dag, dags, nx_depth


@st.composite
def span_dags(draw, max_steps: int = 12) -> tuple[Dag, list[int]]:
    """A random DAG with integer costs and a span for each step in ``[1, cost]`` (0 for a
    cost of 0)."""
    dag = draw(dags(max_steps=max_steps, costs=st.integers(min_value=0, max_value=40)))
    spans = [draw(st.integers(min_value=1, max_value=c)) if c else 0 for c in dag.costs]
    return dag, spans


def _workload(dag: Dag, spans: list[int]) -> Workload:
    graph = Graph.from_csr(dag.ids, dag.costs, *_csr(dag.needs))
    graph = Graph(dag.ids, dag.costs, graph.pred_ptr, graph.pred_idx, spans=spans)
    return Workload("w", graph)


def _csr(needs: list[list[int]]) -> tuple[list[int], list[int]]:
    ptr = [0]
    for row in needs:
        ptr.append(ptr[-1] + len(row))
    return ptr, [j for row in needs for j in row]


@given(span_dags())
def test_depth_is_the_longest_path_of_spans_and_work_the_sum_of_costs(case):
    dag, spans = case
    report = analyze_workload(_workload(dag, spans), processors=4)
    assert report.depth == nx_depth(spans, dag.needs)
    assert report.work == sum(dag.costs)
    if report.depth:
        assert report.speedup_ceiling == pytest.approx(sum(dag.costs) / report.depth)


@given(span_dags(), st.integers(min_value=1, max_value=9))
def test_the_simulated_schedule_keeps_brents_bounds_with_spans(case, processors):
    dag, spans = case
    w = workload = _workload(dag, spans)
    work, depth = sum(dag.costs), nx_depth(spans, dag.needs)
    graph = workload.graph
    m = compute_metrics(graph.depth_graph())
    makespan = moldable_makespan(graph, processors, m.bottom_level)
    tol = 1e-9 * max(work, 1)
    assert makespan >= max(work / processors, depth) - tol
    assert makespan <= (work - depth) / processors + depth + tol
    report = analyze_workload(w, processors=processors)
    for row in report.speedup:
        if row.upper is not None:
            assert row.guaranteed <= row.simulated * (1 + 1e-9)
            assert row.simulated <= row.upper * (1 + 1e-9)


@given(dags(costs=st.integers(min_value=0, max_value=9)), st.integers(min_value=1, max_value=6))
def test_steps_without_parallelism_inside_give_the_list_schedule(dag, processors):
    graph = dag.graph()
    levels = compute_metrics(graph).bottom_level
    assert moldable_makespan(graph, processors, levels) == pytest.approx(
        list_schedule_makespan(graph, processors, levels)
    )


@given(span_dags())
def test_from_the_peak_demand_on_the_makespan_is_the_depth(case):
    dag, spans = case
    graph = _workload(dag, spans).graph
    m = compute_metrics(graph.depth_graph())
    peak = peak_demand(graph, m.start, m.finish)
    assert moldable_makespan(graph, peak, m.bottom_level) == pytest.approx(m.depth)


def test_one_malleable_step_in_closed_form():
    # 80 core-minutes of tests that can use 8 cores: cost 80, span 10.
    graph = Graph(["tests"], [80], [0, 0], [], spans=[10])
    levels = [10]
    for p, expected in [(1, 80), (2, 40), (4, 20), (8, 10), (16, 10)]:
        assert moldable_makespan(graph, p, levels) == pytest.approx(expected)
    report = analyze_workload(Workload("w", graph), processors=8)
    assert (report.work, report.depth, report.speedup_ceiling) == (80, 10, 8.0)
    assert [row.makespan for row in report.speedup] == [80, 40, 20, 10]
    assert report.schedule_model == "moldable"


def test_spans_equal_to_costs_change_nothing():
    dag = Dag([3, 1, 4, 1, 5], [[], [0], [0], [1, 2], [3]])
    plain = analyze_workload(Workload("w", dag.graph()), processors=2, detail=True)
    graph = Graph(dag.ids, dag.costs, *_csr(dag.needs), spans=list(dag.costs))
    assert graph.spans is None
    same = analyze_workload(Workload("w", graph), processors=2, detail=True)
    assert same == plain


@pytest.mark.parametrize(
    ("costs", "spans"), [([4], [5]), ([4], [0]), ([0], [1]), ([2], [float("nan")]), ([1], [])]
)
def test_the_graph_refuses_impossible_spans(costs, spans):
    with pytest.raises(GraphError):
        Graph(["a"], costs, [0, 0], [], spans=spans)


YAML = """\
name: ci
unit: minutes
steps:
  - id: build
    cost: 10
  - id: tests
    cost: 80
    span: 10
    needs: [build]
  - id: lint
    cost: 5
    needs: [build]
  - id: deploy
    cost: 2
    needs: [tests, lint]
"""


def test_yaml_and_json_read_span():
    from_yaml = parse_workload(YAML, "ci.yaml")
    doc = {"name": "ci", "unit": "minutes", "steps": [
        {"id": "build", "cost": 10}, {"id": "tests", "cost": 80, "span": 10, "needs": ["build"]},
        {"id": "lint", "cost": 5, "needs": ["build"]},
        {"id": "deploy", "cost": 2, "needs": ["tests", "lint"]},
    ]}  # fmt: skip
    from_json = parse_workload(json.dumps(doc).encode(), "ci.json", is_json=True)
    for workload in (from_yaml, from_json):
        assert list(workload.graph.spans) == [10, 10, 5, 2]
        report = analyze_workload(workload, processors=8, detail=True)
        assert (report.work, report.depth) == (97, 10 + 10 + 2)
        assert [d.span for d in report.detail] == [10, 10, 5, 2]


def test_durations_as_spans():
    text = "unit: minutes\nsteps:\n  - id: t\n    cost: 1h20m\n    span: 10m\n"
    graph = parse_workload(text, "d.yaml").graph
    assert list(graph.costs) == [80] and list(graph.spans) == [10]


@pytest.mark.parametrize(
    ("span", "message"),
    [
        ("90", "'span' 90 is larger than the step's cost 80"),
        ("0", "'span' must be > 0 for a step of cost 80"),
        ("fast", "'span' must be a number > 0 (0 for a step of cost 0) or a duration"),
        ("-1", "'span' must be > 0 (0 for a step of cost 0), got -1"),
    ],
)
def test_bad_spans_are_located_errors(run_cli, tmp_path, span, message):
    path = tmp_path / "bad.yaml"
    path.write_text(YAML.replace("span: 10", f"span: {span}"))
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2
    assert f"{path}:8:11: error: {message}" in result.stderr
    assert "(step 'tests')" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_reports_carry_the_model_and_detail_spans(run_cli, tmp_path):
    path = tmp_path / "ci.yaml"
    path.write_text(YAML)
    result = run_cli("analyze", str(path), "--format", "json", "--detail")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schedule_model"] == "moldable"
    assert {d["id"]: d["span"] for d in report["detail"]} == {
        "build": 10, "tests": 10, "lint": 5, "deploy": 2,
    }  # fmt: skip
    assert report["work"] == 97 and report["depth"] == 22
    plain = run_cli("analyze", str(tmp_path / "ci.yaml"), "--format", "json")
    assert "span" not in json.loads(plain.stdout).get("detail", [{}])[0]


def test_large_graphs_with_spans_fall_back_to_bounds(monkeypatch):
    from serialscale.core import moldable, schedule

    monkeypatch.setattr(moldable, "MOLDABLE_STEPS", 2)
    dag = Dag([4, 4, 4], [[], [0], [0]])
    graph = Graph(dag.ids, dag.costs, *_csr(dag.needs), spans=[2, 1, 4])
    assert schedule.schedule_model(graph) == "bounds"
    report = analyze_workload(Workload("w", graph), processors=2)
    assert report.schedule_model == "bounds"
    w, d = 12, 2 + 4
    row = report.speedup[1]
    assert row.processors == 2 and row.simulated == pytest.approx(w / ((w - d) / 2 + d))
    assert math.isclose(row.guaranteed, row.simulated)


def test_what_if_refuses_workloads_with_spans(run_cli, tmp_path):
    path = tmp_path / "ci.yaml"
    path.write_text(YAML)
    result = run_cli("analyze", str(path), "--what-if", "lint=1")
    assert result.exit_code == 2
    assert "--what-if does not yet change workloads whose steps have a 'span'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_table_names_the_model_and_the_depth_of_spans(run_cli, tmp_path):
    path = tmp_path / "ci.yaml"
    path.write_text(YAML)
    result = run_cli("analyze", str(path), "--color", "never")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "longest path of spans, 3 steps" in text
    assert "steps with spans run on up to cost/span processors each" in text


def test_diff_measures_changes_in_spans(run_cli, tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(YAML)
    new.write_text(YAML.replace("cost: 80\n    span: 10", "cost: 40\n    span: 5"))
    result = run_cli("diff", str(old), str(new), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["delta"]["depth"] == -5 and report["delta"]["work"] == -40
    (change,) = report["changed"]
    assert (change["id"], change["depth_effect"]) == ("tests", -5)


def test_exports_carry_spans_and_the_trace_refuses_them(run_cli, tmp_path):
    path = tmp_path / "ci.yaml"
    path.write_text(YAML)
    result = run_cli("export", str(path), "--to", "json")
    assert result.exit_code == 0, result.stderr
    nodes = {n["id"]: n for n in json.loads(result.stdout)["nodes"]}
    assert (nodes["tests"]["cost"], nodes["tests"]["span"]) == (80, 10)
    trace = run_cli("export", str(path), "--to", "trace")
    assert trace.exit_code == 2
    assert "steps with a 'span' run on several at once" in trace.stderr


def test_the_json_fast_path_leaves_spans_to_the_checked_reader():
    # the fast path decodes the declared Step (span included): it must not drop the spans
    from serialscale.core.metrics import compute_metrics
    from serialscale.sources.json_fast import json_columns
    from serialscale.sources.workload_file import parse_workload

    doc = {"steps": [{"id": "a", "cost": 80, "span": 10}, {"id": "b", "cost": 4, "needs": ["a"]}]}
    data = json.dumps(doc).encode()
    assert json_columns(data) is None
    workload = parse_workload(data, "w.json", is_json=True)
    assert compute_metrics(workload.graph.depth_graph()).depth == 14  # 10 + 4, by hand


def test_dot_and_mermaid_show_the_spans(run_cli, tmp_path):
    path = tmp_path / "ci.yaml"
    path.write_text(YAML)
    dot = run_cli("export", str(path), "--to", "dot")
    assert dot.exit_code == 0, dot.stderr
    line = next(x for x in dot.stdout.splitlines() if x.strip().startswith('"tests" ['))
    assert 'cost="80"' in line and 'span="10"' in line and "80 minutes, span 10 minutes" in line
    plain = next(x for x in dot.stdout.splitlines() if x.strip().startswith('"lint" ['))
    assert 'span="5"' in plain and "span 5" not in plain  # the span is the cost: not shown
    mermaid = run_cli("export", str(path), "--to", "mermaid")
    assert mermaid.exit_code == 0, mermaid.stderr
    assert "cost 80, span 10, slack" in mermaid.stdout and "cost 5, slack" in mermaid.stdout
