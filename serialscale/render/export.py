"""Exporting the step graph and its schedule: DOT, Mermaid, GraphML, node-link JSON, and a
Chrome trace of the simulated list schedule (``serialscale export``).

Every step carries its cost, start, finish and slack (the ASAP schedule of the report); the
critical path is marked (DOT: red, bold nodes and edges; Mermaid: the class ``critical``).
Past ``max_nodes`` steps, DOT and Mermaid keep the critical path and collapse the other steps
into one summary node per ASAP level (the number of steps and their total cost), and say so.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ..graph import Graph
from ..report import Report
from ..schedule import Schedule
from .common import num

DEFAULT_MAX_NODES = 2000


def _steps(graph: Graph, report: Report) -> list[dict[str, Any]]:
    detail = report.detail or []
    return [
        {"id": d.id, "cost": d.cost, "start": d.start, "finish": d.finish, "slack": d.slack}
        for d in detail
    ]


def _levels(graph: Graph, report: Report) -> list[int]:
    """The ASAP level of each step (the number of steps on its longest chain of needs)."""
    level = [0] * graph.n
    for v in graph.order:
        preds = graph.preds(v)
        level[v] = max((level[u] + 1 for u in preds), default=0)
    return level


def _collapsed(graph: Graph, report: Report, max_nodes: int) -> tuple[list[int], dict[int, int]]:
    """The steps kept as themselves (the critical path), and the level of every other step."""
    on_path = set(report.critical_path)
    keep = [i for i, s in enumerate(graph.ids) if s in on_path]
    level = _levels(graph, report)
    return keep, {i: level[i] for i in range(graph.n) if graph.ids[i] not in on_path}


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Graph, report: Report, max_nodes: int = DEFAULT_MAX_NODES) -> str:
    """A Graphviz ``digraph``: an edge from each step to the steps that need it."""
    steps = _steps(graph, report)
    critical = set(report.critical_path)
    path_edges = set(zip(report.critical_path, report.critical_path[1:], strict=False))
    lines = [f"digraph {_dot_id(report.workload)} {{", "  rankdir=LR;", "  node [shape=box];"]
    if graph.n <= max_nodes:
        for step in steps:
            attrs = ", ".join(f"{k}={_dot_id(num(step[k]))}"
                              for k in ("cost", "start", "finish", "slack"))  # fmt: skip
            if step["id"] in critical:
                attrs += ", color=red, penwidth=2"
            lines.append(f"  {_dot_id(step['id'])} [{attrs}];")
        for i in range(graph.n):
            for j in graph.preds(i):
                a, b = graph.ids[j], graph.ids[i]
                style = " [color=red, penwidth=2]" if (a, b) in path_edges else ""
                lines.append(f"  {_dot_id(a)} -> {_dot_id(b)}{style};")
    else:
        keep, levels = _collapsed(graph, report, max_nodes)
        lines.append(_collapsed_note("//", graph.n, len(keep)))
        for i in keep:
            lines.append(f"  {_dot_id(graph.ids[i])} [color=red, penwidth=2];")
        for a, b in path_edges:
            lines.append(f"  {_dot_id(a)} -> {_dot_id(b)} [color=red, penwidth=2];")
        for level, count, cost in _summaries(graph, levels):
            label = f"level {level}: {count} steps, cost {num(cost)}"
            lines.append(f'  "level {level}" [label={_dot_id(label)}, style=dashed];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _collapsed_note(comment: str, steps: int, kept: int) -> str:
    return (f"  {comment} {steps} steps: the critical path is kept, the other {steps - kept} "
            "steps are collapsed into one node per level")  # fmt: skip


def _summaries(graph: Graph, levels: dict[int, int]) -> list[tuple[int, int, Any]]:
    count: dict[int, int] = defaultdict(int)
    cost: dict[int, Any] = defaultdict(int)
    for i, level in levels.items():
        count[level] += 1
        cost[level] += graph.costs[i]
    return [(level, count[level], cost[level]) for level in sorted(count)]


def to_mermaid(graph: Graph, report: Report, max_nodes: int = DEFAULT_MAX_NODES) -> str:
    """A Mermaid ``flowchart``; critical steps have the class ``critical`` (red in GitHub)."""
    names = {s: f"s{i}" for i, s in enumerate(graph.ids)}
    critical = set(report.critical_path)

    def label(text: str) -> str:
        return '"' + text.replace('"', "#quot;") + '"'

    lines = ["flowchart LR"]
    if graph.n <= max_nodes:
        for step in _steps(graph, report):
            text = f"{step['id']}<br/>cost {num(step['cost'])}, slack {num(step['slack'])}"
            lines.append(f"  {names[step['id']]}[{label(text)}]")
        for i in range(graph.n):
            for j in graph.preds(i):
                lines.append(f"  {names[graph.ids[j]]} --> {names[graph.ids[i]]}")
    else:
        keep, levels = _collapsed(graph, report, max_nodes)
        lines.append(_collapsed_note("%%", graph.n, len(keep)))
        for i in keep:
            lines.append(f"  {names[graph.ids[i]]}[{label(graph.ids[i])}]")
        for a, b in zip(report.critical_path, report.critical_path[1:], strict=False):
            lines.append(f"  {names[a]} --> {names[b]}")
        for level, count, cost in _summaries(graph, levels):
            lines.append(
                f"  level{level}[{label(f'level {level}: {count} steps, cost {num(cost)}')}]"
            )
    lines.append("  classDef critical fill:#fdd,stroke:#c00,stroke-width:2px")
    marked = [names[s] for s in report.critical_path if s in critical]
    if marked:
        lines.append(f"  class {','.join(marked)} critical")
    return "\n".join(lines) + "\n"


def _networkx(graph: Graph, report: Report) -> Any:
    import networkx as nx

    critical = set(report.critical_path)
    g = nx.DiGraph(name=report.workload)
    for step in _steps(graph, report):
        g.add_node(step["id"], **step, critical=step["id"] in critical)
    for i in range(graph.n):
        for j in graph.preds(i):
            g.add_edge(graph.ids[j], graph.ids[i])
    return g


def to_graphml(graph: Graph, report: Report) -> str:
    """GraphML through networkx (node attributes: cost, start, finish, slack, critical)."""
    import networkx as nx

    g = _networkx(graph, report)
    for _, data in g.nodes(data=True):
        data.pop("id", None)
    return "\n".join(nx.generate_graphml(g)) + "\n"


def to_node_link(graph: Graph, report: Report) -> str:
    """networkx's node-link JSON (``networkx.node_link_graph`` reads it back)."""
    import networkx as nx

    from .json_report import dumps

    g = _networkx(graph, report)
    for _, data in g.nodes(data=True):
        data.pop("id", None)
    try:
        data = nx.node_link_data(g, edges="links")
    except TypeError:  # networkx < 3.4 has no 'edges' argument
        data = nx.node_link_data(g)
    return dumps(data)


def to_trace(graph: Graph, report: Report, schedule: Schedule, processors: int) -> str:
    """Chrome trace events of the list schedule on ``processors`` processors: one complete
    event (``"ph": "X"``) per step with a duration, ``ts``/``dur`` in microseconds of the
    workload's unit (1 unit = 1,000,000 µs), one thread (lane) per processor. Perfetto and
    chrome://tracing open it."""
    scale = 1_000_000
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": 1, "args": {"name": report.workload}},
    ]
    for lane in range(processors):
        events.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": lane + 1,
                       "args": {"name": f"processor {lane + 1}"}})  # fmt: skip
    critical = set(report.critical_path)
    for i, step_id in enumerate(graph.ids):
        if schedule.lane[i] < 0:
            continue  # a zero-cost step holds no processor
        events.append({
            "name": step_id, "ph": "X", "pid": 1, "tid": schedule.lane[i] + 1,
            "ts": schedule.start[i] * scale, "dur": graph.costs[i] * scale,
            "args": {"cost": graph.costs[i], "critical": step_id in critical},
        })  # fmt: skip
    text = json.dumps({"traceEvents": events, "displayTimeUnit": "ms",
                       "otherData": {"unit": report.unit or "", "makespan": schedule.makespan,
                                     "processors": processors}},
                      ensure_ascii=False, allow_nan=False)  # fmt: skip
    return text + "\n"
