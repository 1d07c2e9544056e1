"""serialscale export: the graph with its schedule (DOT, Mermaid, GraphML, node-link JSON) and
the simulated schedule as Chrome trace events."""

from __future__ import annotations

import io
import json
import os
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest

from serialscale import analyze
from serialscale.core.metrics import bottom_levels
from serialscale.core.schedule import list_schedule, list_schedule_makespan
from serialscale.sources import load_workload

from .conftest import WORKLOADS

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SERIALSCALE_UPDATE_GOLDEN") == "1"
ETL = str(WORKLOADS / "etl_job.yaml")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_dot_and_mermaid_golden(fmt: str, run_cli) -> None:
    result = run_cli("export", str(WORKLOADS / "mapreduce.yaml"), "--to", fmt)
    assert result.exit_code == 0
    text = result.stdout.replace(str(WORKLOADS), "workloads")
    check_golden(f"mapreduce.{fmt}", text)
    if fmt == "dot":
        assert "color=red, penwidth=2" in text
    else:
        assert "classDef critical" in text and "class " in text


def test_node_link_json_round_trips_through_networkx(run_cli) -> None:
    data = json.loads(run_cli("export", ETL, "--to", "json").stdout)
    try:
        g = nx.node_link_graph(data, edges="links")
    except TypeError:
        g = nx.node_link_graph(data)
    w = load_workload(ETL)
    assert set(g.nodes) == set(w.graph.ids)
    assert g.number_of_edges() == w.graph.m
    report = analyze(ETL, detail=True)
    for d in report.detail:
        node = g.nodes[d.id]
        assert (node["cost"], node["start"], node["finish"], node["slack"]) == (
            d.cost, d.start, d.finish, d.slack)  # fmt: skip
    critical = [v for v, data in g.nodes(data=True) if data["critical"]]
    assert set(critical) == set(report.critical_path)
    # the depth, independently: the longest path by networkx over node costs
    h = nx.DiGraph()
    for v, data in g.nodes(data=True):
        h.add_edge(("in", v), ("out", v), weight=data["cost"])
    for a, b in g.edges:
        h.add_edge(("out", a), ("in", b), weight=0)
    assert nx.dag_longest_path_length(h) == report.depth


def test_graphml_is_read_back_by_networkx(run_cli) -> None:
    text = run_cli("export", ETL, "--to", "graphml").stdout
    g = nx.read_graphml(io.BytesIO(text.encode()))
    assert g.number_of_nodes() == load_workload(ETL).graph.n
    assert all("slack" in data for _, data in g.nodes(data=True))


@pytest.mark.parametrize("processors", [1, 2, 3, 8])
def test_the_trace_never_runs_more_than_p_steps_and_ends_at_the_makespan(
    processors: int, run_cli
) -> None:
    result = run_cli("export", ETL, "--to", "trace", "-p", str(processors))
    events = [e for e in json.loads(result.stdout)["traceEvents"] if e["ph"] == "X"]
    assert {e["tid"] for e in events} <= set(range(1, processors + 1))
    # no two events on one lane overlap, and at no instant run more than P
    by_lane: dict[int, list[tuple[float, float]]] = {}
    for e in events:
        by_lane.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_lane.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(spans))
    instants = sorted({e["ts"] for e in events})
    for t in instants:
        assert sum(1 for e in events if e["ts"] <= t < e["ts"] + e["dur"]) <= processors
    graph = load_workload(ETL).graph
    makespan = list_schedule_makespan(graph, processors, bottom_levels(graph))
    # etl_job.yaml counts minutes: 60,000,000 µs each (whole microseconds, not seconds)
    assert max(e["ts"] + e["dur"] for e in events) == makespan * 60_000_000
    # the schedule respects the dependencies
    start = {e["name"]: e["ts"] for e in events}
    finish = {e["name"]: e["ts"] + e["dur"] for e in events}
    for i in range(graph.n):
        for j in graph.preds(i):
            a, b = graph.ids[j], graph.ids[i]
            if a in finish and b in start:
                assert finish[a] <= start[b]


def test_list_schedule_lanes_agree_with_the_makespan() -> None:
    graph = load_workload(WORKLOADS / "ci_build.yaml").graph
    levels = bottom_levels(graph)
    for p in (1, 2, 4):
        schedule = list_schedule(graph, p, levels, lanes=True)
        assert schedule.makespan == list_schedule_makespan(graph, p, levels)
        assert all(-1 <= lane < p for lane in schedule.lane)


def test_large_graphs_keep_the_critical_path_and_collapse_the_rest(run_cli) -> None:
    result = run_cli("export", str(WORKLOADS / "mapreduce.yaml"), "--to", "dot",
                     "--max-nodes", "5")  # fmt: skip
    text = result.stdout
    assert "collapsed into one node per level" in text
    report = analyze(WORKLOADS / "mapreduce.yaml")
    for step in report.critical_path:
        assert f'"{step}"' in text
    assert "map-07" not in text  # not on the critical path: collapsed
    mermaid = run_cli("export", str(WORKLOADS / "mapreduce.yaml"), "--to", "mermaid",
                      "--max-nodes", "5").stdout  # fmt: skip
    assert "collapsed" in mermaid and "level 1: 16 steps" in mermaid
