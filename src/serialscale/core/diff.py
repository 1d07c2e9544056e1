"""``serialscale diff OLD NEW``: what a change did to a workload's depth, and which steps did it.

Each side is a workload (any readable format: the graph is known) or a saved JSON report
(the numbers only; step costs too when it was saved with ``--detail``). Steps are matched by
id. ``changed`` lists every step added, removed, or with another cost or span, each with
``depth_effect``, its own effect on depth, computed on one graph with only that change:

- a step whose cost or span changed: depth of the *old* graph with the new span (the cost
  where the step has none), minus the old depth;
- a step added: its drag in the *new* graph (how much shorter the new depth would be if it
  took no time: :mod:`serialscale.core.drag`), counted positive;
- a step removed: minus its drag in the *old* graph.

Effects of several changes need not add up to the depth delta (paths interact); the delta is
exact, each effect says how much that one change alone moves the depth. ``depth_effect`` is
``null`` where a side is a saved report (no graph). Changed steps are listed by the size of
their effect, the largest first, then by id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from msgspec import UNSET

from ..base.errors import Location, WorkloadError
from ..documents.report import DiffDelta, DiffReport, DiffSide, Report, StepChange
from .analysis import analyze_workload
from .drag import drag
from .graph import Cost, Graph
from .metrics import compute_metrics
from .workload import Workload


class Side:
    """One side of a diff: its report, and its graph when it was read from a workload."""

    def __init__(self, report: Report, graph: Graph | None) -> None:
        self.report = report
        self.graph = graph

    def costs(self) -> dict[str, Cost] | None:
        """Step costs by id, where known."""
        if self.graph is not None:
            return dict(zip(self.graph.ids, self.graph.costs, strict=True))
        if self.report.detail:
            return {d.id: d.cost for d in self.report.detail}
        return None

    def spans(self) -> dict[str, Cost]:
        """Step spans by id, where the side gives steps spans (none: empty)."""
        if self.graph is not None:
            spans = self.graph.spans
            return {} if spans is None else dict(zip(self.graph.ids, spans, strict=True))
        return {d.id: d.span for d in self.report.detail or [] if d.span is not UNSET}


def side_of(workload: Workload, processors: int) -> Side:
    """A side read from a workload."""
    return Side(analyze_workload(workload, processors=processors), workload.graph)


def _summary(report: Report) -> DiffSide:
    return DiffSide(report.workload, report.source, report.work, report.depth, report.width,
                    report.speedup_ceiling, report.critical_path)  # fmt: skip


def _depth(graph: Graph, costs: list[Cost]) -> Cost:
    return compute_metrics(Graph.from_csr(graph.ids, costs, graph.pred_ptr, graph.pred_idx)).depth


def _drags(graph: Graph) -> dict[str, Cost]:
    graph = graph.depth_graph()  # steps with spans: drag in spans, as the report's depth
    m = compute_metrics(graph)
    values = drag(graph, m.critical_path, m.finish, m.bottom_level, m.slack, m.depth)
    return {graph.ids[i]: m.number(values[i]) for i in m.critical_path}


def diff(old: Side, new: Side) -> DiffReport:
    """The :class:`DiffReport` of ``old`` → ``new`` (see the module docstring)."""
    a, b = old.report, new.report
    notes: list[str] = []
    changed: list[StepChange] = []
    if (a.unit or None) != (b.unit or None):
        notes.append(f"the sides are in different units (OLD: {a.unit or 'none'}, NEW: "
                     f"{b.unit or 'none'}): the deltas compare the numbers as written")  # fmt: skip
    old_costs, new_costs = old.costs(), new.costs()
    if old_costs is None or new_costs is None:
        which = "OLD" if old_costs is None else "NEW"
        notes.append(f"{which} is a report saved without --detail: steps added, removed or "
                     "changed cannot be listed (save it with --detail, or give the "
                     "workload)")  # fmt: skip
    else:
        if old.graph is None or new.graph is None:
            notes.append("a side is a saved report: each change's depth_effect needs both "
                         "graphs and is null")  # fmt: skip
        both = old.graph is not None and new.graph is not None
        old_drag = _drags(old.graph) if both and old.graph is not None else {}
        new_drag = _drags(new.graph) if both and new.graph is not None else {}
        index = {s: i for i, s in enumerate(old.graph.ids)} if old.graph is not None else {}
        old_spans, new_spans = old.spans(), new.spans()
        for step, cost in new_costs.items():
            # A step without a span runs its cost serially: its span is its cost.
            old_span = old_spans.get(step, old_costs.get(step))
            new_span = new_spans.get(step, cost)
            if step not in old_costs:
                effect = new_drag.get(step, 0) if both else None
                changed.append(StepChange(step, "added", None, cost, effect))
            elif old_costs[step] != cost or old_span != new_span:
                effect = None
                if both and old.graph is not None and new.graph is not None:
                    # The depth is made of spans where steps have them: the step's new span.
                    costs: list[Cost] = list(old.graph.depth_graph().costs)
                    costs[index[step]] = new_span
                    effect = _depth(old.graph, costs) - a.depth
                kind: Literal["cost", "span"] = "cost" if old_costs[step] != cost else "span"
                spans = ((old_span, new_span) if step in old_spans or step in new_spans
                         else (UNSET, UNSET))  # fmt: skip
                changed.append(StepChange(step, kind, old_costs[step], cost, effect, *spans))
        for step, cost in old_costs.items():
            if step not in new_costs:
                effect = -old_drag.get(step, 0) if both else None
                changed.append(StepChange(step, "removed", cost, None, effect))
        changed.sort(key=lambda c: (-abs(c.depth_effect or 0), c.id))
    delta = DiffDelta(b.work - a.work, b.depth - a.depth, b.width - a.width)
    return DiffReport(old=_summary(a), new=_summary(b), delta=delta, changed=changed,
                      notes=notes or UNSET)  # fmt: skip


def load_side(target: str, load: object, processors: int, max_bytes: int) -> Side:
    """A side from ``target``: a saved report when the file is one (JSON or JSON lines with
    ``schema_version``, whatever the file's name), else a workload read by ``load``
    (``load(target) -> Workload``)."""
    from ..documents.report import is_saved, read_saved

    path = Path(target)
    if path.is_file() and is_saved(path):  # known by its content, whatever its name
        saved = read_saved(target, max_bytes)
        reports, errors = saved.reports, saved.errors
        if errors or len(reports) != 1:
            raise WorkloadError(f"expected one saved report, not a batch (this one has "
                                f"{len(reports) + len(errors)} entries); `diff` compares "
                                "two reports or workloads", Location(target))  # fmt: skip
        return Side(reports[0], None)
    workload = load(target)  # type: ignore[operator]
    return side_of(workload, processors)
