"""The schedule chart's data: the critical-path-first list schedule on the report's target
processor count (the one ``export --to trace`` writes and the speedup table simulates), as
bars on processor lanes.

The chart needs the graph, which a report does not hold:
:func:`serialscale.run.schedule_chart.analyze_with_gantt` analyzes a target and keeps its
schedule; a saved report has none (the HTML page then says how to get
one). :func:`merged` bounds what a chart draws for large graphs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..documents.report import Report
from .graph import Cost, Graph
from .metrics import bottom_levels
from .schedule import list_schedule

#: Past this many bars, a chart merges each lane's steps that nearly touch (critical ones apart)
#: (:func:`merged`): tens of thousands of rectangles make a slow page and an unreadable one.
MAX_BARS = 3000
#: The merged chart's resolution: gaps shorter than the makespan over this are not shown.
MERGE_COLUMNS = 1000


@dataclass(frozen=True)
class Bar:
    """One step on a lane from ``start`` to ``finish``; ``steps`` > 1 for a merged bar."""

    step: str
    lane: int
    start: Cost
    finish: Cost
    critical: bool
    steps: int = 1


@dataclass(frozen=True)
class Gantt:
    """The list schedule of a workload on ``processors`` processors (lanes 0-based; steps of
    cost 0 hold no processor and have no bar), in the workload's ``unit``."""

    workload: str
    unit: str | None
    processors: int
    makespan: Cost
    bars: tuple[Bar, ...]
    steps: int

    @property
    def lanes(self) -> int:
        """The lanes the chart shows: every lane any step ran on (at least one)."""
        return max((b.lane for b in self.bars), default=0) + 1


def gantt_of(graph: Graph, report: Report) -> Gantt:
    """The schedule chart of ``graph`` (analyzed as ``report``) on ``report.processors``."""
    schedule = list_schedule(graph, report.processors, bottom_levels(graph), lanes=True)
    critical = set(report.critical_path)
    bars = tuple(
        Bar(step, schedule.lane[i], schedule.start[i], schedule.start[i] + graph.costs[i],
            step in critical)
        for i, step in enumerate(graph.ids)
        if schedule.lane[i] >= 0
    )  # fmt: skip
    return Gantt(report.workload, report.unit, report.processors, schedule.makespan, bars,
                 graph.n)  # fmt: skip


def merged(gantt: Gantt, limit: int = MAX_BARS, columns: int = MERGE_COLUMNS) -> list[Bar]:
    """The bars to draw: all of them up to ``limit``; past it, each lane's other steps merged
    where the gap between them is under ``makespan / columns`` (a merged bar counts its
    steps), and critical steps as they are while they number at most ``limit // 2``; a longer
    critical path is merged the same way, apart from the other steps (a 100,000-step chain
    would otherwise draw 100,000 bars: a picture of tens of megabytes, slow to write and
    to open)."""
    if len(gantt.bars) <= limit:
        return list(gantt.bars)
    tolerance = gantt.makespan / columns
    critical = [b for b in gantt.bars if b.critical]
    merge_critical = len(critical) > limit // 2
    out: list[Bar] = [] if merge_critical else critical
    by_lane: dict[tuple[bool, int], list[Bar]] = {}
    for b in gantt.bars:
        if merge_critical or not b.critical:
            by_lane.setdefault((b.critical, b.lane), []).append(b)
    for key in sorted(by_lane):
        is_critical, lane = key
        run: Bar | None = None
        for b in sorted(by_lane[key], key=lambda b: (b.start, b.finish)):
            if run is not None and b.start - run.finish <= tolerance:
                run = Bar(run.step, lane, run.start, max(run.finish, b.finish), is_critical,
                          run.steps + b.steps)  # fmt: skip
                continue
            if run is not None:
                out.append(run)
            run = b
        if run is not None:
            out.append(run)
    return out
