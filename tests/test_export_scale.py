"""Exports that scale and survive hostile names: Mermaid within its documented limits (read
back by a small parser of the subset written), DOT read back by pydot, and Chrome traces whose
events never overlap on a lane (whole microseconds in the workload's unit)."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pydot
import pytest
from hypothesis import given
from hypothesis import strategies as st

from serialscale.base.errors import escape_controls
from serialscale.core.analysis import analyze_workload
from serialscale.core.graph import Graph
from serialscale.core.metrics import bottom_levels, step_levels
from serialscale.core.schedule import list_schedule
from serialscale.core.workload import Workload
from serialscale.render.export import to_dot, to_mermaid, to_trace

from .conftest import chain, costs_float, dags, fan

HOSTILE = ['<script>alert("x")</script>', "a\"b'c", "x]y[z", "&amp; & #35;", "tab\there",
           "esc\x1b[31mred", "line\nbreak", "pipe|`tick`", "level 1", "{curly}", "end",
           "back\\slash", "##[warning]"]  # fmt: skip


def _workload(graph: Graph, unit: str | None = None, name: str = "w") -> Workload:
    return Workload(name=name, graph=graph, source="w.yaml", unit=unit)


def _report(graph: Graph, unit: str | None = None, processors: int = 4):
    return analyze_workload(_workload(graph, unit), processors=processors, detail=True)


# ---------------------------------------------------------------- Mermaid, read back


_NODE = re.compile(r'^\s*(\w+)\["(.*)"\]$')
_LINK = re.compile(r"^\s*(\w+) (-->|~~~) (\w+)$")
_SUBGRAPH = re.compile(r'^\s*subgraph (\w+) \["(.*)"\]$')


def _unescape(label: str) -> str:
    assert not re.search(r"[<>\"'`]", label.replace("<br/>", "\n")), label
    text = label.replace("<br/>", "\n").replace("#quot;", '"')
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


def parse_mermaid(text: str) -> dict:
    """The flowchart's nodes (name: label), links (in order), subgraphs, classes, linkStyles;
    any line outside the subset written fails the test."""
    nodes: dict[str, str] = {}
    links: list[tuple[str, str, str]] = []
    subgraphs: dict[str, str] = {}
    marked: list[str] = []
    styled: list[int] = []
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    for line in lines[1:]:
        if m := _NODE.match(line):
            assert m.group(1) not in nodes
            nodes[m.group(1)] = _unescape(m.group(2))
        elif m := _LINK.match(line):
            links.append((m.group(1), m.group(2), m.group(3)))
        elif m := _SUBGRAPH.match(line):
            subgraphs[m.group(1)] = _unescape(m.group(2))
        elif line.strip() == "end" or line.strip().startswith(("%%", "classDef ")):
            pass
        elif line.startswith("  class "):
            marked += line.split()[1].split(",")
        elif line.startswith("  linkStyle "):
            styled += [int(k) for k in line.split()[1].split(",")]
        else:
            raise AssertionError(f"unexpected line {line!r}")
    for a, _, b in links:
        assert a in nodes and b in nodes
    assert all(0 <= k < len(links) for k in styled)
    return {"nodes": nodes, "links": links, "subgraphs": subgraphs, "marked": marked,
            "styled": styled}  # fmt: skip


def _within_mermaid_limits(text: str) -> None:
    assert len(text) <= 50_000  # maxTextSize (mermaid.js.org/config/schema-docs/config.html)
    assert sum(1 for line in text.splitlines() if _LINK.match(line)) <= 500  # maxEdges


def test_mermaid_labels_read_back_as_the_hostile_ids() -> None:
    ids = HOSTILE
    graph = Graph.from_lists(ids, list(range(1, len(ids) + 1)),
                             [[i - 1] if i else [] for i in range(len(ids))])  # fmt: skip
    report = _report(graph)
    parsed = parse_mermaid(to_mermaid(graph, report, step_levels=step_levels(graph)))
    shown = {label.split("\n")[0] for label in parsed["nodes"].values()}
    assert shown == {escape_controls(s) for s in ids}
    # the critical path is the whole chain: every link is styled, every node marked
    assert sorted(parsed["styled"]) == list(range(len(ids) - 1))
    assert len(parsed["marked"]) == len(ids)


@pytest.mark.parametrize(
    "graph",
    [
        fan(598),
        chain(5000),
        Graph.from_lists(
            [f"{'x' * 1000}{i}" for i in range(300)], [1] * 300, [[] for _ in range(300)]
        ),
    ],
    ids=["1196 edges", "5000-step critical path", "300 ids of 1000 characters"],
)
def test_mermaid_collapses_to_fit_its_default_limits(graph: Graph) -> None:
    report = _report(graph)
    text = to_mermaid(graph, report, step_levels=step_levels(graph))
    _within_mermaid_limits(text)
    parsed = parse_mermaid(text)
    assert "collapsed" in text.splitlines()[1]
    # the subgraphs account for every step and the whole work (numbers from networkx)
    counts = [int(re.search(r": ([\d,]+) steps?,", t).group(1).replace(",", ""))
              for t in parsed["subgraphs"].values()]  # fmt: skip
    assert sum(counts) == graph.n
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n))
    g.add_edges_from((j, i) for i in range(graph.n) for j in graph.preds(i))
    levels = nx.dag_longest_path_length(g) + 1  # levels = nodes on the longest chain
    assert len(parsed["subgraphs"]) <= levels
    # the critical links are styled, and they join the path in order
    critical = [parsed["links"][k] for k in parsed["styled"]]
    assert all(kind == "-->" for _, kind, _ in critical)
    assert len(critical) == len(parsed["marked"]) - 1


def test_mermaid_small_graphs_are_not_collapsed() -> None:
    graph = fan(20)
    parsed = parse_mermaid(to_mermaid(graph, _report(graph), step_levels=step_levels(graph)))
    assert len(parsed["nodes"]) == 22 and len(parsed["links"]) == 40


# ---------------------------------------------------------------- DOT, read back by pydot


def _pydot(text: str) -> pydot.Dot:
    graphs = pydot.graph_from_dot_data(text)
    assert graphs and len(graphs) == 1
    return graphs[0]


def _dot_unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"')
    return text[1:-1]


def test_dot_reads_back_with_costs_and_hostile_ids() -> None:
    ids = HOSTILE
    costs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9]
    needs = [[i - 1] if i % 4 else [] for i in range(len(ids))]
    graph = Graph.from_lists(ids, costs, needs)
    report = _report(graph, unit="minutes")
    dot = _pydot(to_dot(graph, report, step_levels=step_levels(graph)))
    nodes = {_dot_unquote(n.get_name()): n for n in dot.get_nodes() if n.get_name() != "node"}
    assert len(nodes) == len(ids)
    assert len(dot.get_edges()) == graph.m
    for i, step in enumerate(ids):
        label = nodes[_dot_id_text(step)].get("label")
        assert label.endswith(f'\\n{costs[i]} {"minute" if costs[i] == 1 else "minutes"}"')
    red = [e for e in dot.get_edges() if e.get("color") == "red"]
    assert len(red) == len(report.critical_path) - 1


def _dot_id_text(step: str) -> str:
    """The escaped text of a DOT id, as written (the test's own transcription of the rules)."""
    text = step.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    text = escape_controls(text)
    return text


def test_collapsed_dot_has_a_cluster_per_level_and_no_name_collision() -> None:
    # a chain named like the collapsed nodes, each link fanned out to side steps
    ids, costs, needs = [], [], []
    for level in range(6):
        before = [4 * (level - 1)] if level else []  # the chain's step one level up
        ids.append(f"level {level}")
        costs.append(10)
        needs.append(before)
        for k in range(3):
            ids.append(f"side {level}.{k}")
            costs.append(1)
            needs.append(before)
    graph = Graph.from_lists(ids, costs, needs)
    report = _report(graph)
    assert report.critical_path == [f"level {k}" for k in range(6)]
    dot = _pydot(to_dot(graph, report, max_nodes=10, step_levels=step_levels(graph)))
    clusters = dot.get_subgraphs()
    assert len(clusters) == 6
    names = [_dot_unquote(n.get_name()) for c in clusters for n in c.get_nodes()]
    assert len(names) == len(set(names)) == 12  # six critical steps, six summaries
    for c in clusters:
        label = _dot_unquote(c.get("label"))
        assert re.match(r"level \d: 4 steps, cost 13$", label), label
        kinds = sorted(_dot_unquote(n.get("label")).split("\\n")[0] for n in c.get_nodes())
        assert kinds[0] == "3 other steps" and kinds[1].startswith("level ")
    red = [e for e in dot.get_edges() if e.get("color") == "red"]
    assert [(_dot_unquote(e.get_source()), _dot_unquote(e.get_destination())) for e in red] == [
        (f"level {k}", f"level {k + 1}") for k in range(5)]  # fmt: skip


def test_collapsed_dot_bands_levels_and_shortens_a_long_path() -> None:
    graph = chain(50)
    report = _report(graph)
    text = to_dot(graph, report, max_nodes=10, step_levels=step_levels(graph))
    dot = _pydot(text)
    assert len(dot.get_subgraphs()) <= 10
    labels = [_dot_unquote(c.get("label")) for c in dot.get_subgraphs()]
    assert sum(int(re.search(r": (\d+) steps?", t).group(1)) for t in labels) == 50
    assert "40 more critical steps" in text


# ---------------------------------------------------------------- Chrome trace

US_PER = {None: 1_000_000, "seconds": 1_000_000, "minutes": 60_000_000, "ms": 1_000,
          "hours": 3_600_000_000, "ops": 1_000_000}  # fmt: skip


@given(dags(max_steps=25, costs=costs_float), st.integers(1, 4),
       st.sampled_from(sorted(US_PER, key=str)))  # fmt: skip
def test_trace_events_never_overlap_on_a_lane(dag, processors: int, unit) -> None:
    graph = dag.graph()
    report = _report(graph, unit, processors)
    schedule = list_schedule(graph, processors, bottom_levels(graph), lanes=True)
    data = json.loads(to_trace(graph, report, schedule, processors))
    events = [e for e in data["traceEvents"] if e["ph"] == "X"]
    lanes: dict[int, list[tuple[int, int]]] = {}
    for e in events:
        assert isinstance(e["ts"], int) and isinstance(e["dur"], int) and e["dur"] >= 0
        lanes.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in lanes.values():  # properly nested per lane: here, one after the other
        spans.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(spans))
    # each event is the schedule's, in the unit's microseconds, to the nearest one
    scale = US_PER[unit]
    index = {s: i for i, s in enumerate(graph.ids)}
    for e in events:
        i = index[e["name"]]
        assert abs(e["ts"] - schedule.start[i] * scale) <= 0.5 + 1e-9 * scale * 100
        assert abs(e["dur"] - graph.costs[i] * scale) <= 1 + 1e-9 * scale * 100
    finish = {e["name"]: e["ts"] + e["dur"] for e in events}
    start = {e["name"]: e["ts"] for e in events}
    for i in range(graph.n):
        for j in graph.preds(i):
            a, b = graph.ids[j], graph.ids[i]
            if a in finish and b in start:
                assert finish[a] <= start[b]


def test_a_minute_is_sixty_million_microseconds() -> None:
    graph = chain(3, cost=1)
    report = _report(graph, "minutes", 1)
    schedule = list_schedule(graph, 1, bottom_levels(graph), lanes=True)
    events = [e for e in json.loads(to_trace(graph, report, schedule, 1))["traceEvents"]
              if e["ph"] == "X"]  # fmt: skip
    assert [(e["ts"], e["dur"]) for e in events] == [
        (0, 60_000_000), (60_000_000, 60_000_000), (120_000_000, 60_000_000)]  # fmt: skip


def test_float_times_that_used_to_overlap_by_rounding() -> None:
    # 0.1 + 0.2 units: as floats, ts + dur of the first two events passes the third's ts
    graph = Graph.from_lists(["a", "b", "c", "d"], [0.1, 0.2, 0.7, 0.3],
                             [[], [0], [1], [2]])  # fmt: skip
    report = _report(graph, None, 1)
    schedule = list_schedule(graph, 1, bottom_levels(graph), lanes=True)
    events = [e for e in json.loads(to_trace(graph, report, schedule, 1))["traceEvents"]
              if e["ph"] == "X"]  # fmt: skip
    assert [(e["ts"], e["dur"]) for e in events] == [
        (0, 100_000), (100_000, 200_000), (300_000, 700_000), (1_000_000, 300_000)]  # fmt: skip


def test_dot_ids_holding_a_runners_command_read_back_exactly(tmp_path: Path) -> None:
    """``##[`` and ``##vso[`` are split by DOT's string concatenation: no line holds them,
    and the DOT reader (and Graphviz) joins the strings back into the same ids (found: they
    were written ``#\\#[``, another id)."""
    from serialscale.sources import load_workload

    ids = ["##[warning]x", "a ##vso[task.setvariable]b", "###[", "plain"]
    graph = Graph.from_lists(ids, [1, 2, 3, 4], [[], [0], [1], [2]])
    text = to_dot(graph, _report(graph))
    assert "##[" not in text and "##vso[" not in text.lower()
    path = tmp_path / "g.dot"
    path.write_text(text)
    back = load_workload(path)
    assert sorted(back.graph.ids) == sorted(ids)
