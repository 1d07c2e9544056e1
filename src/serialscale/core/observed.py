"""How far a real run was from the ideal: a reader's observed times beside the model.

Where a reader has real start and end times (a ``.ninja_log``'s last build; a CI run's jobs
given with ``--durations``), the report gains ``observed``, in the workload's unit:

- ``makespan``: the observed run, from the first start to the last end of the steps timed;
- ``workers``: the most steps the run had going at once (ninja's ``-j`` as used; runners);
- ``critical_path_share``: ``depth / makespan``: how much of the run the model's critical
  path (with the observed durations as costs) accounts for; 1 means the run was as short as
  its dependencies allow;
- ``efficiency``: ``ideal / makespan``, where ``ideal`` is the critical-path-first list
  schedule of the same steps and durations on ``workers`` processors: how close the run came
  to what the same number of workers could have done (1: no better schedule exists in that
  model);
- ``early_starts``: present when the run's times contradict the graph: how many needs had
  their step start before the step it needs ended (a log from another build, a job that did
  not really wait). The ratios above can then exceed 1;
- ``gaps``: the largest waits on the critical path (at most :data:`GAPS`), each
  ``{before, after, wait}``: step ``before`` started ``wait`` after ``after`` ended (a job
  that waited for a runner, an edge started late); the first step's wait is counted from
  the run's start, with ``after`` null.

Steps without an observed time (not run, or a connector) are left out of the run's span and
of the gaps; the model still counts them with their costs.
"""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import UNSET

from ..documents.report import Observed, ObservedGap
from .graph import Cost, Graph
from .metrics import Metrics, bottom_levels
from .schedule import list_schedule_makespan

#: The most gaps listed.
GAPS = 5


def observe(graph: Graph, m: Metrics, times: Mapping[str, tuple[float, float]],
            path: list[int]) -> Observed | None:  # fmt: skip
    """The ``observed`` block (module docstring), or ``None`` when nothing was timed."""
    spans = [times[s] for s in graph.ids if s in times]
    if not spans:
        return None
    origin = min(start for start, _ in spans)
    makespan = max(end for _, end in spans) - origin
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = workers = 0
    for _, change in events:  # an end at t comes before a start at t
        running += change
        workers = max(workers, running)
    workers = max(workers, 1)
    ideal = list_schedule_makespan(graph, workers, bottom_levels(graph))
    gaps: list[ObservedGap] = []
    previous: str | None = None
    for v in path:
        step = graph.ids[v]
        if step not in times:
            continue
        began = times[step][0]
        ended_before = times[previous][1] if previous is not None else origin
        wait = began - ended_before
        if wait > 0:
            gaps.append(ObservedGap(before=step, after=previous, wait=_round(wait)))
        previous = step
    gaps.sort(key=lambda g: -g.wait)
    early = _early_starts(graph, times)
    return Observed(
        makespan=_round(makespan),
        workers=workers,
        critical_path_share=_ratio(m.number(m.depth), makespan),
        efficiency=_ratio(ideal, makespan),
        ideal=_round(ideal),
        gaps=gaps[:GAPS],
        early_starts=early or UNSET,
    )


def _early_starts(graph: Graph, times: Mapping[str, tuple[float, float]]) -> int:
    """Needs whose step started before the step it needs ended, both timed (a microsecond's
    tolerance: logs round)."""
    ids, pred_ptr, pred_idx, count = graph.ids, graph.pred_ptr, graph.pred_idx, 0
    for v in range(len(ids)):
        if ids[v] not in times:
            continue
        start = times[ids[v]][0]
        for u in pred_idx[pred_ptr[v] : pred_ptr[v + 1]]:
            if ids[u] in times and start < times[ids[u]][1] - 1e-6:
                count += 1
    return count


def _ratio(a: Cost, b: float) -> float | None:
    """``a / b`` to 9 significant digits (times from logs are not more precise; 1.0000000000000002
    is float noise). Above 1 only when the run's times contradict the graph's needs."""
    return float(f"{a / b:.9g}") if b > 0 else None


def _round(value: float) -> float:
    """Times from logs in milliseconds or seconds: rounded to microseconds, so sums of
    floats do not show 12.000000000000002."""
    return round(float(value), 6)
