"""Exporting the step graph and its schedule: DOT, Mermaid, GraphML, node-link JSON, and a
Chrome trace of the simulated list schedule (``serialscale export``).

Every step carries its cost, start, finish and slack (the ASAP schedule of the report); the
critical path is marked (DOT: red, thick nodes and edges; Mermaid: the class ``critical`` and
a red ``linkStyle`` on its edges). Past ``max_nodes`` steps (Mermaid: also past its default
limits of 500 edges and 50,000 characters), DOT and Mermaid keep the critical path and
collapse the other steps into one cluster per ASAP level (its number of steps and total cost)
with one node for the steps off the path, and say so in a comment. When there are more levels
than the budget, consecutive levels share a cluster; a critical path longer than it keeps its
first and last steps, the ones between shown as one node.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..accel import EXACT_INT
from ..base.errors import RUNNER_COMMAND_ANYWHERE, Location, WorkloadError, display, escape_controls
from ..base.words import TIME_UNITS
from ..core.graph import Graph
from ..core.schedule import Schedule
from ..documents.report import Report
from .common import amount, counted, num

DEFAULT_MAX_NODES = 2000


def _steps(graph: Graph, report: Report) -> list[dict[str, Any]]:
    detail = report.detail or []
    steps = [
        {"id": d.id, "cost": d.cost, "start": d.start, "finish": d.finish, "slack": d.slack}
        for d in detail
    ]
    if graph.spans is not None:  # steps with parallelism inside: their spans too
        for step, d, span in zip(steps, detail, graph.spans, strict=True):
            step["span"] = d.span if isinstance(d.span, (int, float)) else span
    return steps


#: Mermaid's documented defaults (mermaid.js.org/config/schema-docs/config.html): a diagram
#: whose text is longer than ``maxTextSize`` characters shows "Maximum text size in diagram
#: exceeded", one with more than ``maxEdges`` links "Too many edges". GitHub, GitLab and the
#: Mermaid CLI render with these defaults, so an export past either is collapsed.
MERMAID_MAX_TEXT = 50_000
MERMAID_MAX_EDGES = 500
#: The first collapsed Mermaid diagram tries this many critical steps and level bands (halved
#: until the text fits); a step name in it is cut to ``LABEL_CHARS`` characters.
MERMAID_PATH_STEPS = 200
MERMAID_BANDS = 100
LABEL_CHARS = 80


@dataclass(frozen=True)
class _Band:
    """Consecutive ASAP levels ``lo..hi`` shown as one cluster: every step of them (``count``,
    total ``cost``), the critical steps kept among them, and the ``others`` collapsed."""

    lo: int
    hi: int
    count: int
    cost: Any
    others: int
    others_cost: Any
    kept: list[int]

    def title(self, unit: str | None) -> str:
        levels = f"level {self.lo}" if self.lo == self.hi else f"levels {self.lo}-{self.hi}"
        return f"{levels}: {counted(self.count, 'steps')}, cost {amount(self.cost, unit)}"


@dataclass(frozen=True)
class _Collapsed:
    """A large graph as the critical path and one cluster per band of levels. A critical path
    longer than the budget keeps its first and last steps (``head`` and ``tail``) and stands
    the ``hidden`` steps between (their number and cost) in for the rest."""

    head: list[int]
    tail: list[int]
    hidden: tuple[int, Any] | None
    bands: list[_Band]

    @property
    def kept(self) -> list[int]:
        return [*self.head, *self.tail]


def _collapse(graph: Graph, report: Report, path_steps: int, bands: int,
              step_levels: Sequence[int] | None) -> _Collapsed:  # fmt: skip
    """The collapsed view of ``graph``: at most ``path_steps`` critical steps, at most
    ``bands`` clusters (consecutive levels share one when there are more levels)."""
    index = {s: i for i, s in enumerate(graph.ids)}
    path = [index[s] for s in report.critical_path if s in index]
    hidden = None
    if len(path) > path_steps:
        first = max(path_steps // 2, 1)
        last = max(path_steps - first, 1)
        middle = path[first:-last]
        hidden = (len(middle), sum((graph.costs[i] for i in middle), 0))
        path = [*path[:first], *path[-last:]]
        head, tail = path[:first], path[first:]
    else:
        head, tail = path, []
    if step_levels is None:  # renderers compute nothing: run.export.prepare_export does
        raise ValueError("a collapsed export needs the step levels (core.metrics.step_levels)")
    level = step_levels
    depth = max(level, default=-1) + 1
    size = max(-(-depth // max(bands, 1)), 1)  # levels per band
    kept = set(path)
    on_path = set(index[s] for s in report.critical_path if s in index)
    count = [0] * -(-depth // size)
    cost: list[Any] = [0] * len(count)
    others = [0] * len(count)
    others_cost: list[Any] = [0] * len(count)
    members: list[list[int]] = [[] for _ in count]
    for i in range(graph.n):
        b = level[i] // size
        count[b] += 1
        cost[b] += graph.costs[i]
        if i in kept:
            members[b].append(i)
        elif i not in on_path:
            others[b] += 1
            others_cost[b] += graph.costs[i]
    return _Collapsed(head, tail, hidden, [
        _Band(b * size, min(depth, (b + 1) * size) - 1, count[b], cost[b], others[b],
              others_cost[b], members[b])
        for b in range(len(count))
    ])  # fmt: skip


def _fresh_prefix(prefix: str, ids: Sequence[str]) -> str:
    """``prefix``, lengthened until no step id starts with it: the names made from it (the
    collapsed nodes) can never be a step's name ("level 3" is a fine name for a step)."""
    while any(s.startswith(prefix) for s in ids):
        prefix = "~" + prefix
    return prefix


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


_DOT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _dot_text(text: str) -> str:
    # '##[' split by DOT's string concatenation ("a#" + "#[b]" is the id a##[b]): exact when
    # read back, and no line a CI runner acts on
    return RUNNER_COMMAND_ANYWHERE.sub('#" + "#', escape_controls(text.translate(_DOT_ESCAPES)))


def _dot_id(text: str) -> str:
    """A quoted DOT id: a quote or a backslash cannot end it early; a line break is DOT's
    ``\\n`` and another control character its escape with one backslash (``\\x1b``), so
    no line of the file starts with the rest of a hostile name and no terminal escape is
    written; ``##[`` (a CI runner's command, as ``##vso[``) is written ``#" + "#[`` (DOT
    joins the two strings: the same id). A backslash of the text is always doubled, so each
    distinct text stays a distinct id."""
    return '"' + _dot_text(text) + '"'


def _dot_label(*lines: str) -> str:
    """A quoted DOT label of several lines (DOT's ``\\n`` between them), each escaped."""
    return '"' + "\\n".join(_dot_text(t) for t in lines) + '"'


CRITICAL_DOT = "color=red, penwidth=2"
_DOT_KEYS = ("cost", "start", "finish", "slack")


def _cost_text(step: dict[str, Any], unit: str | None) -> str:
    """A step's cost for a label, and its span where it has one (parallelism inside)."""
    if step.get("span", step["cost"]) == step["cost"]:  # no span, or no parallelism inside
        return amount(step["cost"], unit)
    return f"{amount(step['cost'], unit)}, span {amount(step['span'], unit)}"


def to_dot(graph: Graph, report: Report, max_nodes: int = DEFAULT_MAX_NODES,
           step_levels: Sequence[int] | None = None) -> str:  # fmt: skip
    """A Graphviz ``digraph``: an edge from each step to the steps that need it. Each node's
    label is its id and cost; critical steps and edges are red and thick. Past ``max_nodes``
    steps: one cluster per ASAP level (its number of steps and cost), holding the critical
    steps of that level and one node for the others."""
    unit = report.unit
    critical = set(report.critical_path)
    path_edges = set(zip(report.critical_path, report.critical_path[1:], strict=False))
    lines = [f"digraph {_dot_id(report.workload)} {{", "  rankdir=LR;", "  node [shape=box];"]
    if graph.n <= max_nodes:
        for step in _steps(graph, report):
            keys = ("cost", "span", "start", "finish", "slack") if "span" in step else _DOT_KEYS
            attrs = ", ".join(f"{k}={_dot_id(num(step[k]))}" for k in keys)
            attrs += f", label={_dot_label(step['id'], _cost_text(step, unit))}"
            if step["id"] in critical:
                attrs += ", " + CRITICAL_DOT
            lines.append(f"  {_dot_id(step['id'])} [{attrs}];")
        for i in range(graph.n):
            for j in graph.preds(i):
                a, b = graph.ids[j], graph.ids[i]
                style = f" [{CRITICAL_DOT}]" if (a, b) in path_edges else ""
                lines.append(f"  {_dot_id(a)} -> {_dot_id(b)}{style};")
        lines.append("}")
        return "\n".join(lines) + "\n"
    view = _collapse(graph, report, max_nodes, max_nodes, step_levels)
    prefix = _fresh_prefix("level ", graph.ids)
    lines.append(_collapsed_note("//", graph.n, len(view.kept), view.hidden))
    names = {i: _dot_id(graph.ids[i]) for i in view.kept}
    summaries: list[str] = []
    for k, band in enumerate(view.bands):
        lines.append(f'  subgraph "cluster {k}" {{')
        lines.append(f"    label={_dot_label(band.title(unit))}; style=rounded;")
        for i in band.kept:
            label = _dot_label(graph.ids[i], amount(graph.costs[i], unit))
            lines.append(f"    {names[i]} [label={label}, {CRITICAL_DOT}];")
        if band.others:
            name = _dot_id(f"{prefix}{band.lo}")
            summaries.append(name)
            label = _dot_label(f"{counted(band.others, 'other steps')}",
                               f"cost {amount(band.others_cost, unit)}")  # fmt: skip
            lines.append(f"    {name} [label={label}, style=dashed];")
        lines.append("  }")
    chain = _path_chain(view, names, _dot_id(f"{prefix}critical"))
    if view.hidden:
        count, cost = view.hidden
        label = _dot_label(f"{counted(count, 'more critical steps')}",
                           f"cost {amount(cost, unit)}")  # fmt: skip
        lines.append(f"  {_dot_id(prefix + 'critical')} [label={label}, {CRITICAL_DOT}, "
                     "style=dashed];")  # fmt: skip
    for a, b in pairwise(chain):
        lines.append(f"  {a} -> {b} [{CRITICAL_DOT}];")
    for a, b in pairwise(summaries):  # keeps the clusters in level order
        lines.append(f"  {a} -> {b} [style=invis];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _path_chain(view: _Collapsed, names: Mapping[int, str], hidden: str) -> list[str]:
    """The names along the kept critical path, the hidden middle's node between head and tail."""
    return [*(names[i] for i in view.head), *([hidden] if view.hidden else []),
            *(names[i] for i in view.tail)]  # fmt: skip


def _collapsed_note(comment: str, steps: int, kept: int, hidden: tuple[int, Any] | None,
                    why: str = "") -> str:  # fmt: skip
    path = (f"{kept} steps of the critical path are kept ({hidden[0]} more between them as one "
            "node)" if hidden else "the critical path is kept")  # fmt: skip
    return (f"  {comment} {steps} steps{why}: {path}, the other steps are collapsed into one "
            "node per level")  # fmt: skip


#: Mermaid entity codes for what could end a quoted label or be read as markup inside it
#: (labels are HTML: ``<`` would open a tag; a backtick starts a Markdown string; ``#`` an
#: entity). Node names are ``s0``, ``s1``...: a label is only shown, so its control
#: characters are shown by their escape.
_MERMAID_ESCAPES = str.maketrans({c: f"#{ord(c)};" for c in "#\"'<>[]|`&{}()"} | {'"': "#quot;"})


def _label(*lines: str) -> str:
    """A quoted Mermaid label: each line escaped, the lines joined by ``<br/>``."""
    return '"' + "<br/>".join(escape_controls(t.translate(_MERMAID_ESCAPES)) for t in lines) + '"'


CRITICAL_LINK = "stroke:#c00,stroke-width:3px"


def to_mermaid(graph: Graph, report: Report, max_nodes: int = DEFAULT_MAX_NODES,
               step_levels: Sequence[int] | None = None) -> str:  # fmt: skip
    """A Mermaid ``flowchart``; critical steps have the class ``critical`` and the critical
    edges a red ``linkStyle``. A graph past ``max_nodes`` steps or Mermaid's default limits
    (:data:`MERMAID_MAX_EDGES` edges, :data:`MERMAID_MAX_TEXT` characters) is collapsed: the
    critical path (its middle as one node when it is long) in one subgraph per band of ASAP
    levels, each with its number of steps and cost, and one node for the other steps."""
    unit = report.unit
    why = ""
    if graph.n <= max_nodes and graph.m <= MERMAID_MAX_EDGES:
        text = _mermaid_full(graph, report)
        if len(text) <= MERMAID_MAX_TEXT:
            return text
        why = f" (more than Mermaid's {MERMAID_MAX_TEXT:,} characters)"
    elif graph.n <= max_nodes:
        why = f" (more than Mermaid's {MERMAID_MAX_EDGES} edges)"
    path_steps, bands = min(max_nodes, MERMAID_PATH_STEPS), min(max_nodes, MERMAID_BANDS)
    while True:
        text = _mermaid_collapsed(graph, report, path_steps, bands, why, unit, step_levels)
        if len(text) <= MERMAID_MAX_TEXT or (path_steps <= 2 and bands <= 1):
            return text
        path_steps, bands = max(path_steps // 2, 2), max(bands // 2, 1)


def _mermaid_full(graph: Graph, report: Report) -> str:
    names = {s: f"s{i}" for i, s in enumerate(graph.ids)}
    path_edges = set(zip(report.critical_path, report.critical_path[1:], strict=False))
    lines = ["flowchart LR"]
    for step in _steps(graph, report):
        span = step.get("span", step["cost"])
        span = f", span {num(span)}" if span != step["cost"] else ""
        text = _label(step["id"], f"cost {num(step['cost'])}{span}, slack {num(step['slack'])}")
        lines.append(f"  {names[step['id']]}[{text}]")
    critical_links: list[int] = []
    for i in range(graph.n):
        for j in graph.preds(i):
            if (graph.ids[j], graph.ids[i]) in path_edges:
                critical_links.append(len(lines) - graph.n - 1)
            lines.append(f"  {names[graph.ids[j]]} --> {names[graph.ids[i]]}")
    marked = [names[s] for s in report.critical_path if s in names]
    return _mermaid_end(lines, marked, critical_links)


def _mermaid_end(lines: list[str], marked: list[str], links: list[int]) -> str:
    lines.append("  classDef critical fill:#fdd,stroke:#c00,stroke-width:2px")
    if marked:
        lines.append(f"  class {','.join(marked)} critical")
    if links:
        lines.append(f"  linkStyle {','.join(map(str, links))} {CRITICAL_LINK}")
    return "\n".join(lines) + "\n"


def _mermaid_collapsed(graph: Graph, report: Report, path_steps: int, bands: int, why: str,
                       unit: str | None, step_levels: Sequence[int] | None) -> str:  # fmt: skip
    view = _collapse(graph, report, path_steps, bands, step_levels)
    names = {i: f"s{i}" for i in view.kept}
    lines = ["flowchart LR", _collapsed_note("%%", graph.n, len(view.kept), view.hidden, why)]
    summaries: list[str] = []
    for k, band in enumerate(view.bands):
        lines.append(f"  subgraph L{k} [{_label(band.title(unit))}]")
        for i in band.kept:
            lines.append(
                f"    {names[i]}[{_label(_short(graph.ids[i]), amount(graph.costs[i], unit))}]"
            )
        if band.others:
            summaries.append(f"o{k}")
            text = _label(
                counted(band.others, "other steps"), f"cost {amount(band.others_cost, unit)}"
            )
            lines.append(f"    o{k}[{text}]")
        lines.append("  end")
    if view.hidden:
        count, cost = view.hidden
        text = _label(counted(count, "more critical steps"), f"cost {amount(cost, unit)}")
        lines.append(f"  gap[{text}]")
    chain = _path_chain(view, names, "gap")
    links = list(range(len(chain) - 1))
    lines += [f"  {a} --> {b}" for a, b in pairwise(chain)]
    lines += [f"  {a} ~~~ {b}" for a, b in pairwise(summaries)]  # level order, not drawn
    return _mermaid_end(lines, [*names.values(), *(["gap"] if view.hidden else [])], links)


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
MAX_TRACE_US = EXACT_INT
#: Microseconds drawn for one unit of a workload whose unit is not a time (or that has none):
#: a second, as before units were read.
UNITLESS_US = 1_000_000


def trace_scale(unit: str | None) -> int:
    """Microseconds per unit of the workload: a unit of time as it is (a minute is 60,000,000
    µs, a millisecond 1,000), any other unit :data:`UNITLESS_US`."""
    seconds = TIME_UNITS.get((unit or "").strip().lower())
    return UNITLESS_US if seconds is None else round(seconds * 1_000_000)


def to_trace(graph: Graph, report: Report, schedule: Schedule, processors: int,
             observed: Mapping[str, tuple[float, float]] | None = None) -> str:  # fmt: skip
    """Chrome trace events of the list schedule on ``processors`` processors: one complete
    event (``"ph": "X"``) per step with a duration, one thread (lane) per processor. Perfetto
    and chrome://tracing open it. ``ts`` and ``dur`` are whole microseconds
    (:func:`trace_scale`): the start and the end of each event are rounded, and ``dur`` is
    their difference, so an event that ends when the next one on its lane starts never
    overlaps it (viewers reject overlapping events on one lane as badly nested). With
    ``observed`` (a real run's times), that run is a second process beside the simulation:
    each step on the first lane free when it started."""
    if graph.spans is not None:  # a lane per processor cannot draw a step on several
        raise WorkloadError(
            "a Chrome trace draws each step on one processor; steps with a 'span' run on "
            "several at once (serialscale.core.moldable): export json or dot instead",
            Location(report.source),
        )
    scale = trace_scale(report.unit)

    def micro(value: Any, step: str) -> int:
        """``value`` units in whole microseconds, where a trace viewer reads it exactly."""
        us = value * scale
        if not math.isfinite(us) or us > MAX_TRACE_US:
            raise WorkloadError(
                f"a Chrome trace cannot hold this schedule: {value:g} {report.unit or 'units'} "
                "is more than the 2**53 microseconds a trace holds exactly; export it as json "
                "or dot, or give the costs in a larger unit",
                Location(report.source, step_id=display(step)),
            )
        return us if isinstance(us, int) else round(us)

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
        ts = micro(schedule.start[i], step_id)
        end = micro(schedule.start[i] + graph.costs[i], step_id)  # the scheduler's own sum
        events.append({
            "name": step_id, "ph": "X", "pid": 1, "tid": schedule.lane[i] + 1,
            "ts": ts, "dur": end - ts,
            "args": {"cost": graph.costs[i], "critical": step_id in critical},
        })  # fmt: skip
    if observed:
        events += _observed_events(graph, observed, critical, micro)
    text = json.dumps({"traceEvents": events, "displayTimeUnit": "ms",
                       "otherData": {"unit": report.unit or "", "makespan": schedule.makespan,
                                     "processors": processors,
                                     "microseconds_per_unit": scale}},
                      ensure_ascii=False, allow_nan=False)  # fmt: skip
    from .json_report import surrogates_as_text

    return surrogates_as_text(text + "\n")


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
        ts = micro(start - origin, step)
        events.append({
            "name": step, "ph": "X", "pid": 2, "tid": lane + 1,
            "ts": ts, "dur": micro(end - origin, step) - ts,
            "args": {"critical": step in critical},
        })  # fmt: skip
    return events
