"""Scheduling steps with parallelism inside (work–span steps) on ``P`` processors.

A step with cost (work) ``c`` and span ``s < c`` is a parallel computation of its own (a
reduction over ``n`` values: ``c = n``, ``s = ⌈log₂ n⌉``). The model, for the speedup table
of a graph with spans (:func:`serialscale.core.schedule.speedup_table`):

- **Malleable steps, shared as a fluid.** A step may run on up to ``c / s`` processors at
  once (its parallelism); on ``a`` processors it progresses at rate ``min(a, c / s)``, so
  alone on enough processors it takes exactly ``s``, and on one processor ``c``. Processors
  are shared as a fluid: a step may hold a fraction of one (a step of cost 3 and span 2 uses
  1.5 processors at full speed).
- **Greedy, critical-path first.** Whenever a step finishes or becomes ready, the free
  processors go first to the running steps below their parallelism, then to the ready steps,
  each in order of priority (bottom level in spans: the longest path of spans a step
  starts), ties to the lower index; a running step never gives processors back (no
  preemption). A step of cost 0 completes the moment it is ready.
- Steps whose span equals their cost have parallelism 1: with only such steps this is the
  plain list schedule of :func:`serialscale.core.schedule.list_schedule` (whole processors, one
  step each), which the graphs without spans keep using.

Greedy in this sense keeps Brent's guarantee with spans: while a processor is idle, every
step on the frontier runs at its full parallelism, so the longest remaining path of spans
shrinks at rate 1; otherwise the work shrinks at rate ``P``. Hence ``makespan <= (W - D) / P
+ D`` (``W`` work, ``D`` depth in spans), and ``makespan >= max(W / P, D)`` holds for any
schedule: the table's columns keep their order ``guaranteed <= simulated <= upper``.

Graphs with more than :data:`MOLDABLE_STEPS` steps are not simulated (the simulation is
``O((steps + events) log steps)`` per processor count, in Python: about 0.3 s for 25,000
steps on the loaded project machine): the table then gives Brent's guarantee as its
simulated column, and the report says ``schedule_model: bounds``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from .graph import Cost, Graph

#: The largest graph with spans whose schedule is simulated; larger ones get the bounds.
MOLDABLE_STEPS = 50_000
#: Free processors below this are rounding: none are free.
_DONE = 1e-9


def parallelism(cost: Cost, span: Cost) -> float:
    """How many processors a step can use at once: ``cost / span`` (1 for a step of cost 0)."""
    return cost / span if span else 1.0


def peak_demand(graph: Graph, start: Sequence[Cost], finish: Sequence[Cost]) -> int:
    """The most processors the as-soon-as-possible schedule of spans asks for at one instant
    (each running step its :func:`parallelism`), rounded up: from this many processors on,
    the simulated schedule is the ASAP schedule and its makespan the depth. ``start`` and
    ``finish`` are that schedule's, in spans."""
    spans = graph.spans if graph.spans is not None else graph.costs
    events: list[tuple[Cost, int, float]] = []
    for i, cost in enumerate(graph.costs):
        if spans[i] > 0:
            rate = parallelism(cost, spans[i])
            events.append((start[i], 1, rate))
            events.append((finish[i], 0, -rate))  # ends sort before starts at one instant
    events.sort()
    running = peak = 0.0
    for _, _, rate in events:
        running += rate
        peak = max(peak, running)
    return max(1, math.ceil(peak - 1e-9))


def moldable_makespan(
    graph: Graph, processors: int, priority: Sequence[Cost], extra: Cost = 0
) -> float:
    """The makespan of the greedy malleable schedule (module docstring) on ``processors``.

    ``priority``: bottom levels in spans. ``extra``: a per-step overhead (``--overhead``),
    serial, so it adds to both the cost and the span of every step.

    Event-driven in ``O((steps + events) log steps)``: a running step's finish time is fixed
    while its share is, so finish times sit in a heap (entries made stale by a larger share
    are skipped), and the running steps below their parallelism in another, by priority.
    Steps finishing within a relative 1e-12 of each other finish together.
    """
    n = graph.n
    costs = graph.costs
    spans = graph.spans if graph.spans is not None else costs
    succ_ptr, succ_idx, pred_ptr = graph.succ_ptr, graph.succ_idx, graph.pred_ptr
    work = [costs[i] + extra for i in range(n)]
    cap = [parallelism(work[i], spans[i] + extra) for i in range(n)]
    waiting = [pred_ptr[i + 1] - pred_ptr[i] for i in range(n)]
    key = [-p for p in priority]
    ready = [(key[i], i) for i in range(n) if waiting[i] == 0]
    heapq.heapify(ready)
    alloc: dict[int, float] = {}  # running step -> processors held
    finish_at: dict[int, float] = {}  # running step -> when it ends at its present share
    version = [0] * n  # which finishing entry of a step is current
    finishing: list[tuple[float, int, int]] = []  # (finish, version, step)
    hungry: list[tuple[Cost, int]] = []  # running steps below their parallelism, by priority
    free = float(processors)
    now = 0.0
    push, pop = heapq.heappush, heapq.heappop

    def release(v: int) -> None:
        for w in succ_idx[succ_ptr[v] : succ_ptr[v + 1]]:
            waiting[w] -= 1
            if not waiting[w]:
                push(ready, (key[w], w))

    def run(v: int, share: float, left: float) -> None:
        """Step ``v`` holds ``share`` processors from now on, with ``left`` work to do."""
        alloc[v] = share
        finish_at[v] = now + left / share
        version[v] += 1
        push(finishing, (finish_at[v], version[v], v))

    while True:
        # Free processors go to running steps below their parallelism first, then to the
        # ready steps, each by priority.
        while free > _DONE and hungry:
            v = hungry[0][1]
            if v not in alloc or alloc[v] >= cap[v]:
                pop(hungry)
                continue
            share = alloc[v]
            more = cap[v] - share if cap[v] - share < free else free
            run(v, share + more, (finish_at[v] - now) * share)
            free -= more
            if alloc[v] >= cap[v]:
                pop(hungry)
        while ready and free > _DONE:
            v = pop(ready)[1]
            if work[v] <= 0:
                release(v)  # completes at once: its successors may be ready right now
                continue
            share = cap[v] if cap[v] < free else free
            run(v, share, float(work[v]))
            free -= share
            if share < cap[v]:
                push(hungry, (key[v], v))
        if not alloc:
            return now
        while version[finishing[0][2]] != finishing[0][1] or finishing[0][2] not in alloc:
            pop(finishing)  # an entry made stale by a larger share
        now = finishing[0][0]
        limit = now + 1e-12 * (now if now > 1.0 else 1.0)
        done = []
        while finishing and finishing[0][0] <= limit:
            _, current, v = pop(finishing)
            if v in alloc and version[v] == current:
                done.append(v)
        for v in sorted(done):
            free += alloc.pop(v)
            del finish_at[v]
            release(v)
        if not alloc:
            free = float(processors)  # no rounding left over once nothing runs
