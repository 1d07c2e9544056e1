"""Speedup on P processors: the work/span bounds, Brent's guarantee and a simulated schedule.

Definitions (``W`` = work, ``D`` = depth, ``P`` = processors):

- ``speedup_ceiling = W / D``: no number of processors can beat it (the span law).
  ``serial_fraction = D / W``. Amdahl's law with serial fraction ``f = D / W`` gives
  ``1 / (f + (1 - f) / P) = W / ((W - D) / P + D)``, which is exactly Brent's guarantee below:
  the two views of "how serial" agree.
- ``upper(P) = min(P, W / D)``: the work law and the span law together.
- ``guaranteed(P) = W / ((W - D) / P + D)``: what *any* greedy scheduler achieves (Brent).
- ``simulated(P) = W / makespan`` of the critical-path-first list schedule on ``P`` processors
  (:func:`list_schedule_makespan`). It satisfies ``guaranteed <= simulated <= upper`` and equals
  the ceiling once ``P >= width``.
- ``makespan(P)``: that schedule's length, the simulated wall time in the workload's unit
  (``W`` on one processor, ``D`` once ``P >= width``; 0 when every cost is 0).
- With a per-step overhead ``C`` (``--overhead``), every step run in parallel costs ``cost + C``:
  ``burdened_depth`` is the depth under those costs, ``burdened_speedup_ceiling = W /
  burdened_depth``, and ``simulated_burdened(P) = W / makespan`` of the same list schedule with
  those costs (on one processor no scheduling is needed, so ``simulated_burdened(1) = 1``).

Steps with parallelism inside (a graph with ``spans``): ``W`` is still the sum of costs and
``D`` the longest path of spans; the bounds keep their formulas (Brent's theorem with spans:
``T_P <= (W - D) / P + D``), and the simulation is the greedy malleable schedule of
:mod:`serialscale.core.moldable` (a step of cost ``c`` and span ``s`` runs on up to ``c / s``
processors), or, past :data:`~serialscale.core.moldable.MOLDABLE_STEPS` steps, Brent's guarantee
itself (:func:`schedule_model` says which).
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from .. import accel
from ..documents.report import SpeedupRow
from .graph import Cost, Graph
from .metrics import Metrics, asap_schedule

#: Graphs at least this large simulate their processor counts on several threads at once.
THREADED_STEPS = 20_000


def ratio(numerator: Cost, denominator: Cost) -> float | None:
    """``numerator / denominator`` as a float, or ``None`` when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


def processor_counts(width: int, processors: int) -> list[int]:
    """The P values of the speedup table: 1, 2, 4, ... up to the first power of two at or above
    both ``width`` and ``processors``, plus ``processors`` itself when it is not a power of two.
    """
    top = max(width, processors, 1)
    counts = [1]
    while counts[-1] < top:
        counts.append(counts[-1] * 2)
    if processors not in counts:
        counts.append(processors)
        counts.sort()
    return counts


def list_schedule_makespan(
    graph: Graph, processors: int, priority: Sequence[Cost], extra: Cost = 0
) -> Cost:
    """Makespan of a greedy list schedule on ``processors`` identical processors.

    Policy: whenever a processor is free, start the ready step with the highest ``priority``
    (the critical-path-first policy uses bottom levels), ties to the lower index. A step is
    ready when every step it needs has finished. A step runs ``cost + extra``; a step of
    duration 0 completes the moment it is picked and holds no processor. Steps finishing at
    the same instant all complete before anything new starts.
    """
    return list_schedule(graph, processors, priority, extra).makespan


@dataclass(frozen=True)
class Schedule:
    """A list schedule: when each step starts and on which processor (``lane``, 0-based;
    -1 for steps of duration 0, which hold none), and when the last one finishes."""

    start: list[Cost]
    lane: list[int]
    makespan: Cost


def list_schedule(
    graph: Graph, processors: int, priority: Sequence[Cost], extra: Cost = 0,
    lanes: bool = False,
) -> Schedule:  # fmt: skip
    """The schedule of :func:`list_schedule_makespan`; with ``lanes``, the start and the
    processor of every step too (a processor that frees up is reused lowest-numbered first)."""
    n = graph.n
    costs, succ_ptr, succ_idx = graph.costs, graph.succ_ptr, graph.succ_idx
    pred_ptr = graph.pred_ptr
    waiting = [pred_ptr[i + 1] - pred_ptr[i] for i in range(n)]
    key = [-p for p in priority]
    ready = [(key[i], i) for i in range(n) if waiting[i] == 0]
    heapq.heapify(ready)
    running: list[tuple[Cost, int]] = []
    free = processors
    now: Cost = 0
    push, pop = heapq.heappush, heapq.heappop
    start: list[Cost] = [0] * n if lanes else []
    lane: list[int] = [-1] * n if lanes else []
    idle = list(range(processors)) if lanes else []

    while True:
        while ready and free:
            v = pop(ready)[1]
            duration = costs[v] + extra
            if lanes:
                start[v] = now
            if duration:
                push(running, (now + duration, v))
                free -= 1
                if lanes:
                    lane[v] = pop(idle)
            else:  # completes at once: its successors may be ready right now
                for w in succ_idx[succ_ptr[v] : succ_ptr[v + 1]]:
                    waiting[w] -= 1
                    if not waiting[w]:
                        push(ready, (key[w], w))
        if not running:
            return Schedule(start, lane, now)
        now = running[0][0]
        while running and running[0][0] == now:
            v = pop(running)[1]
            free += 1
            if lanes:
                push(idle, lane[v])
            for w in succ_idx[succ_ptr[v] : succ_ptr[v + 1]]:
                waiting[w] -= 1
                if not waiting[w]:
                    push(ready, (key[w], w))


def burdened_depth(graph: Graph, overhead: Cost) -> Cost:
    """``burdened_depth``: the depth when every step costs ``cost + overhead`` (a burdened span,
    as Cilkscale reports it): the span a real scheduler pays for running steps in parallel.
    """
    exact = isinstance(overhead, int) and graph.integral
    if exact and accel.beyond_doubles(exact, sum(graph.costs) + graph.n * overhead):
        return max(asap_schedule(graph, overhead)[1], default=0)
    n = graph.n
    start, finish = array("d", bytes(8 * n)), array("d", bytes(8 * n))
    # asap gives max(finish, default=0.0)
    total = accel.kernels().asap(graph.order, graph.pred_ptr, graph.pred_idx, graph.costs_f64,
                                 float(overhead), start, finish)  # fmt: skip
    return int(total) if exact else total


def speedup_table(
    graph: Graph,
    metrics: Metrics,
    processors: int,
    overhead: Cost = 0,
) -> list[SpeedupRow]:
    """The speedup table for :func:`processor_counts` (columns defined in the module docstring).

    Two rows are exact without simulating: on one processor a greedy schedule never idles
    (makespan = work), and once ``P >= width`` it reproduces the ASAP schedule (makespan =
    depth), because no more than ``width`` steps ever want to run at once. Tests check both
    facts against the simulation itself.
    """
    if graph.spans is not None:
        return _work_span_table(graph, metrics, processors, overhead)
    w, d = metrics.work, metrics.depth
    counts = processor_counts(metrics.width, processors)
    # Every (P, overhead) pair that needs a simulation, run at once (threads for the kernels).
    wanted: list[tuple[int, Cost]] = [(p, 0) for p in counts if 1 < p < metrics.width]
    if overhead:
        wanted += [(p, overhead) for p in counts if p > 1]
    # Integer costs past 2**53 are not exact in doubles: simulate in Python integers (None).
    integral = graph.integral and isinstance(overhead, int)
    exact = accel.beyond_doubles(integral, w + graph.n * overhead)
    simulated = _simulate(graph, metrics, wanted, None if exact else accel.kernels()) if d else {}
    rows: list[SpeedupRow] = []
    for p in counts:
        if d == 0:
            rows.append(SpeedupRow(p, None, None, None, None, d))
            continue
        if p == 1:
            makespan: Cost = w
        elif p >= metrics.width:
            makespan = d
        else:
            makespan = simulated[p, 0]
        if overhead == 0:
            burdened = w / makespan
        elif p == 1:
            burdened = 1.0
        else:
            burdened = w / simulated[p, overhead]
        rows.append(
            SpeedupRow(
                processors=p,
                upper=min(p, w / d),
                guaranteed=w / ((w - d) / p + d),
                simulated=w / makespan,
                simulated_burdened=burdened,
                # the kernels simulate integer costs in doubles (exact below 2**53)
                makespan=int(makespan) if graph.integral else makespan,
            )
        )
    return rows


#: The most processors the speedup table of a graph with spans lists (unless asked for more).
WORK_SPAN_ROWS_UP_TO = 65_536


def schedule_model(graph: Graph) -> Literal["list", "moldable", "bounds"]:
    """How the ``simulated`` column was found: ``list`` (the list schedule: no step has a
    span of its own), ``moldable`` (the malleable schedule of :mod:`serialscale.core.moldable`)
    or ``bounds`` (a graph with spans too large to simulate: Brent's guarantee)."""
    from .moldable import MOLDABLE_STEPS

    if graph.spans is None:
        return "list"
    return "moldable" if graph.n <= MOLDABLE_STEPS else "bounds"


def _work_span_table(
    graph: Graph, metrics: Metrics, processors: int, overhead: Cost
) -> list[SpeedupRow]:
    """The speedup table of a graph with spans (module docstring); ``metrics`` are those of
    :meth:`Graph.depth_graph` with the work of ``graph``."""
    from .moldable import moldable_makespan, peak_demand

    w, d = metrics.work, metrics.depth
    demand = peak_demand(graph, metrics.start, metrics.finish)
    # Array programs ask for millions of processors at once: the table stops at
    # WORK_SPAN_ROWS_UP_TO (or the processors asked for), not at the peak demand.
    counts = processor_counts(min(demand, WORK_SPAN_ROWS_UP_TO), processors)
    simulate = schedule_model(graph) == "moldable"
    priority = metrics.bottom_level
    rows: list[SpeedupRow] = []
    for p in counts:
        if d == 0:
            rows.append(SpeedupRow(p, None, None, None, None, d))
            continue
        brent = (w - d) / p + d
        if p == 1:
            makespan: Cost = w  # one processor never idles: every step runs at rate 1
        elif p >= demand:
            makespan = d  # every step at its full parallelism from the moment it is ready
        else:
            makespan = moldable_makespan(graph, p, priority) if simulate else brent
        if overhead == 0:
            burdened = w / makespan
        elif p == 1:
            burdened = 1.0
        else:
            burdened_span = (
                moldable_makespan(graph, p, priority, overhead)
                if simulate
                else (w + graph.n * overhead - d) / p + d
            )
            burdened = w / burdened_span
        rows.append(
            SpeedupRow(
                processors=p,
                upper=min(p, w / d),
                guaranteed=w / brent,
                simulated=w / makespan,
                simulated_burdened=burdened,
                makespan=_whole(makespan) if graph.integral else makespan,
            )
        )
    return rows


def _whole(value: Cost) -> Cost:
    """An integral amount as an int (integer costs report integer times where exact)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _simulate(
    graph: Graph,
    metrics: Metrics,
    wanted: list[tuple[int, Cost]],
    fast: ModuleType | None,
) -> dict[tuple[int, Cost], Cost]:
    """Makespans of the list schedule for each ``(processors, overhead)`` pair, in the
    kernels ``fast`` (doubles), or, when None, in Python numbers (exact integers)."""
    if fast is None:
        return {
            (p, c): list_schedule_makespan(graph, p, metrics.bottom_level, c) for p, c in wanted
        }
    priority = metrics.bottom_level
    if not isinstance(priority, array) or priority.typecode != "d":
        priority = array("d", priority)  # integer levels from the pure-Python passes
    # The steps renumbered by priority, once for every processor count (see csrc/schedule.c).
    plan = fast.schedule_plan(
        priority, graph.costs_f64, graph.pred_ptr, graph.succ_ptr, graph.succ_idx
    )

    def one(job: tuple[int, Cost]) -> Cost:
        p, c = job
        span = fast.makespan(plan, p, float(c))
        # Integer costs and overhead: the double is an exact integer; report it as one.
        return int(span) if graph.integral and isinstance(c, int) else span

    if graph.n < THREADED_STEPS or len(wanted) < 2:
        return {job: one(job) for job in wanted}
    import os
    from concurrent.futures import ThreadPoolExecutor

    # The kernel releases the GIL, so the processor counts run side by side.
    with ThreadPoolExecutor(max_workers=min(len(wanted), os.cpu_count() or 1)) as pool:
        try:
            futures = [pool.submit(one, job) for job in wanted]
        except RuntimeError:  # no thread could start (address space capped): one at a time
            futures = []
        if futures:
            return {job: future.result() for job, future in zip(wanted, futures, strict=True)}
    return {job: one(job) for job in wanted}
