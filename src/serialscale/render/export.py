"""Exporting the step graph and its schedule: DOT, Mermaid, GraphML, node-link JSON, and a
Chrome trace of the simulated list schedule (``serialscale export``).

Every step carries its cost, start, finish and slack (the ASAP schedule of the report); the
critical path is marked (DOT: red, bold nodes and edges; Mermaid: the class ``critical``).
Past ``max_nodes`` steps, DOT and Mermaid keep the critical path and collapse the other steps
into one summary node per ASAP level (the number of steps and their total cost), and say so.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..base.errors import RUNNER_COMMAND_ANYWHERE, Location, WorkloadError, display, escape_controls
from ..core.graph import Graph
from ..core.schedule import Schedule
from ..documents.report import Report
from .common import num

DEFAULT_MAX_NODES = 2000


def _steps(graph: Graph, report: Report) -> list[dict[str, Any]]:
    detail = report.detail or []
    return [
        {"id": d.id, "cost": d.cost, "start": d.start, "finish": d.finish, "slack": d.slack}
        for d in detail
    ]


def _collapsed(
    graph: Graph, report: Report, level: Sequence[int] | None
) -> tuple[list[int], dict[int, int]]:
    """The steps kept as themselves (the critical path), and the level of every other step
    (``level``: :func:`serialscale.core.metrics.step_levels`, computed by the caller)."""
    if level is None:
        raise ValueError("a collapsed export needs the step levels (core.metrics.step_levels)")
    on_path = set(report.critical_path)
    keep = [i for i, s in enumerate(graph.ids) if s in on_path]
    return keep, {i: level[i] for i in range(graph.n) if graph.ids[i] not in on_path}


_DOT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _dot_id(text: str) -> str:
    """A quoted DOT id: a quote or a backslash cannot end it early; a line break is DOT's
    ``\\n`` and another control character its escape with one backslash (``\\x1b``), so
    no line of the file starts with the rest of a hostile name and no terminal escape is
    written; ``##[`` (a CI runner's command, as ``##vso[``) is written ``#\\#[``. A
    backslash of the text is always doubled, so each distinct text stays a distinct id."""
    quoted = RUNNER_COMMAND_ANYWHERE.sub(r"#\\#", escape_controls(text.translate(_DOT_ESCAPES)))
    return '"' + quoted + '"'


def to_dot(
    graph: Graph,
    report: Report,
    max_nodes: int = DEFAULT_MAX_NODES,
    step_levels: Sequence[int] | None = None,
) -> str:
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
        keep, levels = _collapsed(graph, report, step_levels)
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


#: Mermaid entity codes for what could end a quoted label or be read as markup inside it
#: (labels are HTML: ``<`` would open a tag; a backtick starts a Markdown string; ``#`` an
#: entity). Node names are ``s0``, ``s1``...: a label is only shown, so its control
#: characters are shown by their escape.
_MERMAID_ESCAPES = str.maketrans({c: f"#{ord(c)};" for c in '#"<>[]|`&{}'} | {'"': "#quot;"})


def _label(*lines: str) -> str:
    """A quoted Mermaid label: each line escaped, the lines joined by ``<br/>``."""
    return '"' + "<br/>".join(escape_controls(t.translate(_MERMAID_ESCAPES)) for t in lines) + '"'


def to_mermaid(
    graph: Graph,
    report: Report,
    max_nodes: int = DEFAULT_MAX_NODES,
    step_levels: Sequence[int] | None = None,
) -> str:
    """A Mermaid ``flowchart``; critical steps have the class ``critical`` (red in GitHub)."""
    names = {s: f"s{i}" for i, s in enumerate(graph.ids)}
    critical = set(report.critical_path)

    lines = ["flowchart LR"]
    if graph.n <= max_nodes:
        for step in _steps(graph, report):
            text = _label(step["id"], f"cost {num(step['cost'])}, slack {num(step['slack'])}")
            lines.append(f"  {names[step['id']]}[{text}]")
        for i in range(graph.n):
            for j in graph.preds(i):
                lines.append(f"  {names[graph.ids[j]]} --> {names[graph.ids[i]]}")
    else:
        keep, levels = _collapsed(graph, report, step_levels)
        lines.append(_collapsed_note("%%", graph.n, len(keep)))
        for i in keep:
            lines.append(f"  {names[graph.ids[i]]}[{_label(graph.ids[i])}]")
        for a, b in zip(report.critical_path, report.critical_path[1:], strict=False):
            lines.append(f"  {names[a]} --> {names[b]}")
        for level, count, cost in _summaries(graph, levels):
            lines.append(
                f"  level{level}[{_label(f'level {level}: {count} steps, cost {num(cost)}')}]"
            )
    lines.append("  classDef critical fill:#fdd,stroke:#c00,stroke-width:2px")
    marked = [names[s] for s in report.critical_path if s in critical]
    if marked:
        lines.append(f"  class {','.join(marked)} critical")
    return "\n".join(lines) + "\n"


def _networkx(graph: Graph, report: Report, text: Any = str) -> Any:
    """The graph for networkx; ``text`` maps each step id and the name (for GraphML)."""
    import networkx as nx

    critical = set(report.critical_path)
    ids = [text(s) for s in graph.ids]
    g = nx.DiGraph(name=text(report.workload))
    for step, node in zip(_steps(graph, report), ids, strict=True):
        g.add_node(node, **step, critical=step["id"] in critical)
    for i in range(graph.n):
        for j in graph.preds(i):
            g.add_edge(ids[j], ids[i])
    return g


#: What XML 1.0 cannot hold, not even as a character reference: C0 controls but tab, newline
#: and carriage return; U+FFFE and U+FFFF (lone surrogates never reach a report).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """``text`` as XML 1.0 can hold it: each character it cannot is shown by its escape
    (``\\x1b``); the other control characters are escaped by the XML writer."""
    return _NOT_XML.sub(lambda m: escape_controls(m.group()) if m.group() < "\x20" else
                        f"\\u{ord(m.group()):04x}", text)  # fmt: skip


def to_graphml(graph: Graph, report: Report) -> str:
    """GraphML through networkx (node attributes: cost, start, finish, slack, critical).
    Characters XML 1.0 cannot hold are shown by their escape; ids that become equal so are
    an error (the graph would change)."""
    import networkx as nx

    g = _networkx(graph, report, _xml_text)
    if g.number_of_nodes() != graph.n:
        seen: dict[str, str] = {}
        for step in graph.ids:
            other = seen.setdefault(_xml_text(step), step)
            if other != step:
                raise WorkloadError(
                    f"GraphML cannot tell step {other!r} from step {step!r} (XML 1.0 cannot "
                    "hold their control characters); export them as json or dot",
                    Location(report.source, step_id=display(step)),
                )
    g.graph["name"] = escape_controls(report.workload)  # text content: one line
    for _, data in g.nodes(data=True):
        data.pop("id", None)
    # '#' as a character reference where a CI runner would read a command: XML reads it back
    return RUNNER_COMMAND_ANYWHERE.sub("&#35;#", "\n".join(nx.generate_graphml(g))) + "\n"


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


#: The largest time a Chrome trace holds exactly: trace viewers read ``ts`` as a double.
MAX_TRACE_US = 2**53


def to_trace(graph: Graph, report: Report, schedule: Schedule, processors: int,
             observed: Mapping[str, tuple[float, float]] | None = None) -> str:  # fmt: skip
    """Chrome trace events of the list schedule on ``processors`` processors: one complete
    event (``"ph": "X"``) per step with a duration, ``ts``/``dur`` in microseconds of the
    workload's unit (1 unit = 1,000,000 µs), one thread (lane) per processor. Perfetto and
    chrome://tracing open it. With ``observed`` (a real run's times), that run is a second
    process beside the simulation: each step on the first lane free when it started."""
    scale = 1_000_000

    def micro(value: Any, step: str) -> Any:
        """``value`` units in microseconds, where a trace viewer reads it exactly."""
        us = value * scale
        if not math.isfinite(us) or us > MAX_TRACE_US:
            raise WorkloadError(
                f"a Chrome trace cannot hold this schedule: {value:g} {report.unit or 'units'} "
                "is more than the 2**53 microseconds a trace holds exactly; export it as json "
                "or dot, or give the costs in a larger unit",
                Location(report.source, step_id=display(step)),
            )
        return us

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
            "ts": micro(schedule.start[i], step_id), "dur": micro(graph.costs[i], step_id),
            "args": {"cost": graph.costs[i], "critical": step_id in critical},
        })  # fmt: skip
    if observed:
        events += _observed_events(graph, observed, critical, micro)
    text = json.dumps({"traceEvents": events, "displayTimeUnit": "ms",
                       "otherData": {"unit": report.unit or "", "makespan": schedule.makespan,
                                     "processors": processors}},
                      ensure_ascii=False, allow_nan=False)  # fmt: skip
    return text + "\n"


def _observed_events(graph: Graph, observed: Mapping[str, tuple[float, float]],
                     critical: set[str], micro: Any) -> list[dict[str, Any]]:  # fmt: skip
    """The real run as process 2: steps on lanes by when they ran (the first lane free)."""
    timed = sorted((observed[s][0], observed[s][1], s) for s in graph.ids if s in observed)
    origin = timed[0][0] if timed else 0
    free_at: list[float] = []  # when each lane is free again
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": 2, "args": {"name": "observed run"}}
    ]
    for start, end, step in timed:
        lane = next((k for k, t in enumerate(free_at) if t <= start), len(free_at))
        if lane == len(free_at):
            free_at.append(end)
            events.append({"name": "thread_name", "ph": "M", "pid": 2, "tid": lane + 1,
                           "args": {"name": f"worker {lane + 1}"}})  # fmt: skip
        free_at[lane] = end
        events.append({
            "name": step, "ph": "X", "pid": 2, "tid": lane + 1,
            "ts": micro(start - origin, step), "dur": micro(end - start, step),
            "args": {"critical": step in critical},
        })  # fmt: skip
    return events
