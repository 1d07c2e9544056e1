"""``analyze()``: workload in, :class:`~serialscale.documents.report.Report` out. Pure; no I/O."""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from msgspec import UNSET, UnsetType

from .. import accel
from ..base.defaults import DEFAULT_PROCESSORS
from ..base.errors import Location, UsageError, WorkloadError
from ..base.gcpause import gc_paused
from ..documents.report import (
    NEAR_CRITICAL,
    TOP_DRAG,
    DragStep,
    NearCritical,
    Observed,
    Report,
    StepDetail,
)
from .background import beside
from .classify import classify, recommend
from .drag import drag, drag_doubles
from .graph import Cost, Graph
from .metrics import Metrics, compute_metrics, work
from .schedule import burdened_depth, ratio, schedule_model, speedup_table
from .step_ids import OccurrenceIds
from .workload import Workload


def near_critical(slack: Sequence[Cost], count: int) -> list[int]:
    """The ``count`` steps with the least positive slack (slack is never negative), the least
    first, ties by index: the steps that turn critical first when they grow.
    """
    # doubles in one compiled pass (no float object per step); exact slacks (a list of
    # Python numbers, past 2**53) by the pure twin, which takes them as they are
    doubles = isinstance(slack, array) and slack.typecode == "d"
    return accel.kernels(exact=not doubles).near_critical(slack, count)


def _finite_total(costs: Sequence[Cost], extra: float) -> bool:
    """Whether ``sum(costs) + extra`` is a finite float (``fsum`` raises on overflow)."""
    try:
        return math.isfinite(math.fsum((math.fsum(costs), extra)))
    except OverflowError:
        return False


def analyze_workload(
    workload: Workload,
    *,
    processors: int = DEFAULT_PROCESSORS,
    overhead: Cost = 0,
    detail: bool = False,
    target_depth: str | None = None,
) -> Report:
    """Analyze ``workload`` for a target of ``processors`` processors.

    ``overhead`` is the per-step scheduling cost of the burdened span; ``detail`` adds the
    per-step ``{id, cost, start, finish, slack, drag}`` records; ``target_depth`` (a depth, or
    a change such as ``-20%``) adds the ``compression_plan`` that reaches it.
    """
    if processors < 1:
        raise UsageError(f"processors must be at least 1, got {processors}")
    if not overhead >= 0 or overhead != overhead or overhead == float("inf"):
        raise UsageError(f"overhead must be a finite number >= 0, got {overhead}")
    graph = workload.graph
    # Every time in the report is at most work + steps * overhead: when that is finite, no
    # sum of floats can overflow to infinity (integers are exact and never overflow).
    exact = graph.integral and isinstance(overhead, int)
    if not exact and not _finite_total(graph.costs, graph.n * float(overhead)):
        what = "the costs" if not overhead else "the costs and --overhead"
        raise WorkloadError(
            f"{what} add up to more than the largest float (about 1.8e308); use smaller units",
            Location(workload.source),
        )
    with gc_paused():  # the report's per-step and per-segment records: no cycles among them
        report = _analyze(workload, processors, overhead, detail)
    if target_depth is None:
        return report
    from msgspec import structs

    from .compress import parse_target, plan

    try:
        target = parse_target(target_depth, report.depth)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    connectors = frozenset(workload.extra.get("connectors") or ())
    # With spans, the plan shortens spans (the depth is made of them).
    return structs.replace(report, compression_plan=plan(graph.depth_graph(), target, connectors))


def _analyze(workload: Workload, processors: int, overhead: Cost, detail: bool) -> Report:
    graph = workload.graph
    # Every depth pass runs on the spans (the graph itself when no step has one); the work
    # is the sum of the costs.
    spans = graph.depth_graph()
    m = compute_metrics(spans)
    if spans is not graph:
        m = replace(m, work=work(graph))
    ids = graph.ids
    connectors = set(workload.extra.get("connectors") or ())
    slack = m.slack
    if connectors:  # an importer's zero-cost joins are never worth a look
        slack = list(slack)
        for i, step_id in enumerate(ids):
            if step_id in connectors:
                slack[i] = 0
    near = near_critical(slack, NEAR_CRITICAL)
    path = m.critical_path
    ceiling = ratio(m.work, m.depth)
    # The table's list schedules (the longest pass of a large graph) run on threads of
    # their own while the ids are spelled and drag and the rest are found here (the
    # kernels release the GIL).
    table = beside(graph.n, speedup_table, graph, m, processors, overhead)
    try:
        spelled: Sequence[str] = ids  # a traced graph's ids are spelled when read: in bulk
        if isinstance(spelled, OccurrenceIds):  # the path's and the near-critical ones at once
            both = spelled.take([*path, *near])
            path_ids, near_ids = both[: len(path)], both[len(path) :]
        else:
            path_ids = list(map(ids.__getitem__, path))
            near_ids = list(map(ids.__getitem__, near))
        b_depth = burdened_depth(spans, overhead) if overhead else m.depth
        # in one kernel call where the metrics are doubles; exact metrics by drag(). Every
        # step's drag only where it is read (--detail, connectors): else the path's
        found = drag_doubles(spans, m.critical_path, m.finish, m.bottom_level, m.slack,
                             m.depth, every=detail or bool(connectors))  # fmt: skip
        drags: Sequence[Cost] | None
        if found is None:
            drags, on_path = drag(spans, m.critical_path, m.finish, m.bottom_level, m.slack,
                                  m.depth), None  # fmt: skip
        else:
            drags, on_path = found
        worth = top_drag(graph, m, drags, connectors, spans, on_path, path_ids)
    except BaseException:
        table()  # the table's own error first, as when it ran first
        raise
    rows = table()
    # With a per-step overhead, the advice follows what a real scheduler pays for (the
    # burdened span and simulation), not the free-scheduling ideal.
    advised_ceiling = ratio(m.work, b_depth) if overhead else ceiling
    classification = classify(advised_ceiling, rows, processors, burdened=bool(overhead))
    recommendation = recommend(
        classification,
        advised_ceiling,
        rows,
        processors,
        [(step.id, step.drag) for step in worth],
        m.depth,
        workload.unit,
        overhead,
    )
    number = m.number
    return Report(
        workload=workload.name,
        source=workload.source,
        steps=graph.n,
        dependencies=graph.m,
        work=m.work,
        depth=m.depth,
        depth_steps=len(m.critical_path),
        width=m.width,
        speedup_ceiling=ceiling,
        serial_fraction=ratio(m.depth, m.work),
        critical_path=path_ids,
        near_critical=[
            NearCritical(name, number(m.slack[i])) for i, name in zip(near, near_ids, strict=True)
        ],
        speedup=rows,
        profile=m.profile,
        classification=classification,
        recommendation=recommendation,
        processors=processors,
        overhead=overhead,
        burdened_depth=b_depth,
        burdened_speedup_ceiling=ratio(m.work, b_depth),
        description=workload.description,
        unit=workload.unit,
        format=workload.format,
        detail=_detail(graph, m, drags) if detail and drags is not None else UNSET,
        schedule_model=UNSET if spans is graph else _moldable_or_bounds(graph),
        top_drag=worth,
        observed=_observed(workload, m),
        **workload.extra,
    )


def _moldable_or_bounds(graph: Graph) -> Literal["moldable", "bounds"]:
    model = schedule_model(graph)
    return "bounds" if model == "bounds" else "moldable"


def _observed(workload: Workload, m: Metrics) -> Observed | UnsetType:
    """The real run beside the model, where the reader timed one (:mod:`.observed`)."""
    if not workload.observed:
        return UNSET
    from .observed import observe

    found = observe(workload.graph, m, workload.observed, m.critical_path)
    return UNSET if found is None else found


def top_drag(graph: Graph, m: Metrics, drags: Sequence[Cost] | None, connectors: set[str],
             spans: Graph | None = None, on_path: array | None = None,
             path_ids: Sequence[str] | None = None) -> list[DragStep]:  # fmt: skip
    """``top_drag``: the (at most :data:`TOP_DRAG`) critical steps with the most drag, the most
    first, ties in path order; connectors and steps with no drag are left out. Each says what
    halving its cost would save: ``min(cost / 2, drag)`` (the paths that limit the drag limit
    any shortening the same way). With spans (``spans``, the :meth:`Graph.depth_graph`),
    drag is in spans and halving a step halves its span: ``min(span / 2, drag)``.
    ``on_path`` (optional): the drags of the critical path's steps by position, doubles,
    ranked in one kernel call; ``drags`` may then be None (without connectors).
    ``path_ids`` (optional): the critical path's ids, spelled already."""
    ids, costs, number = graph.ids, graph.costs, m.number
    halved = (spans or graph).costs
    path = m.critical_path
    ranked: list[tuple[int, Cost]]
    names: list[str] | None = None
    if on_path is not None and not connectors:
        # the same ranking as below, on the doubles by position (a path can be 10**5 steps)
        positions = accel.kernels().most(on_path, TOP_DRAG)
        ranked = [(path[j], on_path[j]) for j in positions]
        if path_ids is not None:
            names = [path_ids[j] for j in positions]
    else:
        if drags is None:
            raise ValueError("top_drag: every step's drag is needed with connectors")
        # sorted() is stable: steps with equal drag stay in path order
        # an id is spelled when read (a traced graph's): look only when there are connectors
        candidates = [i for i in path if drags[i]]
        if connectors:
            candidates = [i for i in candidates if ids[i] not in connectors]
        # = sorted(candidates, key=drag, reverse=True)[:k]: the most drag first, ties in
        # path order (a stable sort keeps them so, reversed or not)
        top = heapq.nlargest(TOP_DRAG, candidates, key=drags.__getitem__)
        ranked = [(i, drags[i]) for i in top]
    if names is None:
        names = [ids[i] for i, _ in ranked]
    out = []
    for (i, found), name in zip(ranked, names, strict=True):
        half = halved[i] / 2
        if isinstance(halved[i], int) and halved[i] % 2 == 0:
            half = halved[i] // 2
        value = number(found)
        out.append(DragStep(name, costs[i], value, half if half < value else value))
    return out


def _detail(graph: Graph, m: Metrics, drags: Sequence[Cost]) -> list[StepDetail]:
    """``--detail``: every step's ``{id, cost, start, finish, slack, drag}``, in input order,
    and its ``span`` when the graph has spans (times are then in spans)."""
    number = m.number
    costs = graph.costs
    start, finish, slack = m.start, m.finish, m.slack
    if graph.spans is not None:
        spans = graph.spans
        return [
            StepDetail(step_id, costs[i], number(start[i]), number(finish[i]),
                       number(slack[i]), number(drags[i]), spans[i])
            for i, step_id in enumerate(graph.ids)
        ]  # fmt: skip
    return [
        StepDetail(step_id, costs[i], number(start[i]), number(finish[i]), number(slack[i]),
                   number(drags[i]))
        for i, step_id in enumerate(graph.ids)
    ]  # fmt: skip
