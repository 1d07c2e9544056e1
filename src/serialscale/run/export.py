"""What ``serialscale export`` renders, computed before any renderer runs: the analysis with
its per-step records, the simulated schedule (Chrome traces) and the levels large graphs are
collapsed by (DOT, Mermaid)."""

from __future__ import annotations

from ..core.analysis import analyze_workload
from ..core.metrics import bottom_levels, step_levels
from ..core.schedule import list_schedule
from ..core.workload import Workload
from ..render import Export
from ..render.choices import ExportFormat

__all__ = ["prepare_export"]


def prepare_export(
    workload: Workload, kind: ExportFormat, processors: int, max_nodes: int
) -> Export:
    """The document ``kind`` renders: the report (``--detail``) on ``processors``, the list
    schedule for ``trace``, and the step levels when DOT or Mermaid collapse the graph."""
    graph = workload.graph
    report = analyze_workload(workload, processors=processors, detail=True)
    schedule = None
    if kind is ExportFormat.trace:
        schedule = list_schedule(graph, processors, bottom_levels(graph), lanes=True)
    levels = None
    if kind in (ExportFormat.dot, ExportFormat.mermaid):  # Mermaid collapses by its own limits too
        levels = step_levels(graph)
    return Export(graph, report, schedule, processors, max_nodes, workload.observed, levels)
