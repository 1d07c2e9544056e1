"""Work, depth, critical path, slack, width and the parallelism profile.

Every number here is defined on the *as-soon-as-possible schedule on unlimited processors*:
``start(s)`` is the largest ``finish`` of the steps ``s`` needs (0 if none) and
``finish(s) = start(s) + cost(s)``. Costs sit on steps, not on edges.

Each public function defines one user-visible number in its docstring; the report and the
renderers only copy these values.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, starmap
from types import ModuleType

from .. import accel
from ..documents.report import Segment
from .background import beside
from .graph import Cost, Graph
from .summation import ordered_sum

#: Slack closer to zero than this fraction of the depth is float rounding, reported as 0.
SLACK_TOLERANCE = 1e-9


def work(graph: Graph) -> Cost:
    """``work``: the sum of all step costs (added in input order, one rounding per addition,
    so it is reproducible on every Python)."""
    # integers: exact in any order; summed by a kernel (no Python int per step)
    return accel.kernels().int_sum(graph.costs) if graph.integral else ordered_sum(graph.costs)


def asap_schedule(graph: Graph, extra: Cost = 0) -> tuple[list[Cost], list[Cost]]:
    """``start`` and ``finish`` of every step in the as-soon-as-possible schedule.

    ``start(s) = max(finish(p) for p in needs(s))`` (0 if none) and
    ``finish(s) = start(s) + cost(s) + extra``. ``extra`` is a per-step overhead used for the
    burdened span (see :func:`serialscale.core.schedule.burdened_depth`); it is 0 for the plain one.
    """
    n = graph.n
    costs, pred_ptr, pred_idx = graph.costs, graph.pred_ptr, graph.pred_idx
    zero = graph.zero
    start: list[Cost] = [zero] * n
    finish: list[Cost] = [zero] * n
    fget = finish.__getitem__
    for v in graph.order:
        lo, hi = pred_ptr[v], pred_ptr[v + 1]
        s = max(map(fget, pred_idx[lo:hi])) if hi > lo else zero
        start[v] = s
        finish[v] = s + costs[v] + extra if extra else s + costs[v]
    return start, finish


def depth(finish: Sequence[Cost]) -> Cost:
    """``depth``: the largest ``finish``, the cost of the critical path (the span).

    Zero for an empty graph or when every cost is 0.
    """
    return max(finish, default=0)  # an empty graph; otherwise the type of the costs


def step_levels(graph: Graph) -> list[int]:
    """The ASAP level of each step: the number of steps on its longest chain of needs before
    it (0 for a step without needs), what the graph exports collapse large graphs by."""
    level = [0] * graph.n
    for v in graph.order:
        preds = graph.preds(v)
        level[v] = max((level[u] + 1 for u in preds), default=0)
    return level


def bottom_levels(graph: Graph) -> list[Cost]:
    """``bottom_level(s)``: the cost of the costliest path that starts with ``s`` (``s`` included).

    ``bottom_level(s) = cost(s) + max(bottom_level(t) for t needing s)``. It is the priority of
    the critical-path-first list schedule and gives the latest start: ``depth - bottom_level``.
    """
    n = graph.n
    costs, succ_ptr, succ_idx = graph.costs, graph.succ_ptr, graph.succ_idx
    zero = graph.zero
    level: list[Cost] = [zero] * n
    lget = level.__getitem__
    for v in reversed(graph.order):
        lo, hi = succ_ptr[v], succ_ptr[v + 1]
        level[v] = costs[v] + (max(map(lget, succ_idx[lo:hi])) if hi > lo else zero)
    return level


def slack(start: Sequence[Cost], levels: Sequence[Cost], total_depth: Cost) -> list[Cost]:
    """``slack(s)``: how much later ``s`` could start without making ``depth`` longer.

    ``slack(s) = (depth - bottom_level(s)) - start(s)``: latest start minus earliest start.
    Critical steps have slack 0. With float costs, a slack within ``SLACK_TOLERANCE * depth`` of
    zero is rounding noise and is reported as exactly 0.
    """
    is_float = isinstance(total_depth, float)
    tol = SLACK_TOLERANCE * total_depth if is_float else 0
    zero = 0.0 if is_float else 0
    out: list[Cost] = []
    append = out.append
    for s, lv in zip(start, levels, strict=True):
        x = total_depth - lv - s
        append(zero if x <= tol else x)
    return out


def critical_path(graph: Graph, start: Sequence[Cost], finish: Sequence[Cost]) -> list[int]:
    """``critical_path``: one chain of steps whose costs add up to ``depth``.

    It runs from a step with no needs to a step finishing at ``depth``. Where several qualify,
    the choice is deterministic: the last step is the first in input order that finishes at
    ``depth``; walking back, each step's predecessor is the lowest-indexed step it needs whose
    ``finish`` equals its ``start``. ``depth_steps`` is the length of this list.
    """
    if graph.n == 0:
        return []
    total = depth(finish)
    succ_ptr = graph.succ_ptr
    v = next((i for i, f in enumerate(finish) if f == total and succ_ptr[i] == succ_ptr[i + 1]),
             -1)  # fmt: skip
    if v < 0:  # the compiled twin raises the same
        raise ValueError("critical_path: no step without successors finishes at depth")
    path = [v]
    pred_ptr, pred_idx = graph.pred_ptr, graph.pred_idx
    while True:
        lo, hi = pred_ptr[v], pred_ptr[v + 1]
        if lo == hi:
            break
        s = start[v]
        if hi == lo + 1:
            v = pred_idx[lo] if finish[pred_idx[lo]] == s else -1
        else:
            v = min((u for u in pred_idx[lo:hi] if finish[u] == s), default=-1)
        if v < 0:
            raise ValueError("critical_path: start and finish are not an ASAP schedule of "
                             "this graph")  # fmt: skip
        path.append(v)
    path.reverse()
    return path


def profile(graph: Graph, start: Sequence[Cost], finish: Sequence[Cost]) -> list[Segment]:
    """The parallelism profile: how many steps run at each instant of the ASAP schedule.

    A step with cost > 0 runs over ``[start, finish)``: one ending at ``t`` and one starting at
    ``t`` do not overlap. Zero-cost steps take no time and never count. The result is a list of
    maximal segments with a constant count, covering ``[0, depth)`` in order: the report's
    own rows (:class:`~serialscale.documents.report.Segment`, declared once there).
    """
    positive = [c > 0 for c in graph.costs]
    delta = Counter(compress(start, positive))
    delta.subtract(Counter(compress(finish, positive)))
    times = sorted(delta)
    segments: list[Segment] = []
    running = 0
    seg_start: Cost = 0
    seg_running = -1
    for k in range(len(times) - 1):
        running += delta[times[k]]
        if running != seg_running:
            if seg_running >= 0:
                segments.append(Segment(seg_start, times[k], seg_running))
            seg_start, seg_running = times[k], running
    if seg_running >= 0:
        segments.append(Segment(seg_start, times[-1], seg_running))
    return segments


def width(segments: Sequence[Segment]) -> int:
    """``width``: the largest number of steps with cost > 0 running at one instant of the ASAP
    schedule (the peak of :func:`profile`); 0 when every cost is 0.
    """
    return max((seg.running for seg in segments), default=0)


@dataclass(frozen=True)
class Metrics:
    """All per-graph numbers of one analysis (see the functions above for each definition).

    Per-step sequences are lists (pure-Python passes) or ``array('d')`` (compiled kernels).
    When the costs are integers but the kernels computed in doubles, ``doubles_for_ints`` is
    set and :meth:`number` turns a per-step value back into the integer it stands for.
    """

    work: Cost
    depth: Cost
    start: Sequence[Cost]
    finish: Sequence[Cost]
    bottom_level: Sequence[Cost]
    slack: Sequence[Cost]
    critical_path: list[int]
    profile: list[Segment]
    width: int
    doubles_for_ints: bool = False

    def number(self, value: Cost) -> Cost:
        """A per-step value as reported: an int when the costs are ints."""
        return int(value) if self.doubles_for_ints else value


def compute_metrics(graph: Graph) -> Metrics:
    """Run every pass over ``graph`` once and bundle the results.

    The kernels (compiled or their pure twins, :func:`serialscale.accel.kernels`) compute
    in doubles; integer costs whose sum reaches 2**53 (:func:`serialscale.accel.beyond_doubles`)
    take the passes above, in Python integers, which stay exact.
    """
    total_work = work(graph)
    if not accel.beyond_doubles(graph.integral, total_work):
        return _compiled_metrics(graph, accel.kernels(), total_work)
    start, finish = asap_schedule(graph)
    total = depth(finish)
    levels = bottom_levels(graph)
    segments = profile(graph, start, finish)
    return Metrics(
        work=total_work,
        depth=total,
        start=start,
        finish=finish,
        bottom_level=levels,
        slack=slack(start, levels, total),
        critical_path=critical_path(graph, start, finish),
        profile=segments,
        width=width(segments),
    )


def _compiled_metrics(graph: Graph, fast: ModuleType, total_work: Cost) -> Metrics:
    """The same passes as :func:`compute_metrics`, in the kernels ``fast`` (doubles)."""
    n = graph.n
    costs = graph.costs_f64
    zeros = array("d", [0.0]) * n  # copied: cheaper than from bytes
    start, finish, levels, slacks = zeros, array("d", zeros), array("d", zeros), array("d", zeros)
    # the two passes are independent: side by side on a large graph (kernels release the GIL)
    levels_done = beside(
        n, fast.bottom_levels, graph.order, graph.succ_ptr, graph.succ_idx, costs, levels
    )
    try:
        total = fast.asap(graph.order, graph.pred_ptr, graph.pred_idx, costs, 0.0, start, finish)
    finally:
        levels_done()  # its own error, if any, after asap's
    as_cost = int if graph.integral else float
    fast.slack(start, levels, total, 0.0 if graph.integral else SLACK_TOLERANCE * total, slacks)
    path = fast.critical_path(graph.pred_ptr, graph.pred_idx, graph.succ_ptr, start, finish, total)
    # The kernel gives (start, end, running) tuples, times as ints when the costs are: the
    # report's rows made from them straight (one C-level call each).
    rows = fast.profile(start, finish, costs, graph.integral)
    segments: list[Segment] = list(starmap(Segment, rows))
    return Metrics(
        work=total_work,
        depth=as_cost(total) if n else 0,
        start=start,
        finish=finish,
        bottom_level=levels,
        slack=slacks,
        critical_path=path,
        profile=segments,
        width=width(segments),
        doubles_for_ints=graph.integral,
    )
