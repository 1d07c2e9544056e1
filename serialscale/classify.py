"""Classification bands and the recommendation.

Both are deterministic functions of the numbers in the report and of the *target* processor
count ``P`` (``--processors``, default 8; never the machine's own core count, so the same input
gives the same answer everywhere).

Classification bands, checked in this order:

- ``serial``: ``speedup_ceiling < 2`` (or every cost is 0): no number of processors can even
  halve the running time; at least half of the work lies on the critical path.
- ``parallel``: the simulated speedup on ``P`` processors is at least ``P / 2``: the target
  machine would be kept at least half busy.
- ``mixed``: everything else: real parallelism exists, but the critical path or the shape of
  the graph keeps ``P`` processors less than half busy.

Recommendation:

- ``strategy``: ``serial-leaning`` for ``serial``; ``parallel-leaning`` for ``parallel``; for
  ``mixed``, ``parallel-leaning`` when the recommended processor count reaches a simulated
  speedup of at least 2, else ``serial-leaning``.
- ``processors``: the knee of the simulated speedup curve: the smallest P in the speedup table
  whose simulated speedup reaches 90% of the best in the table (the table always reaches
  ``width``, where the simulation meets the ceiling).
- ``reason``: one sentence. Serial-leaning advice names the costliest steps on the critical path
  (``focus``): making them faster shortens the run; more workers do not. Parallel-leaning advice
  names the processor count and the speedup to expect (``expected_speedup``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from operator import itemgetter

from .addition import ordered_sum
from .graph import Cost
from .report import Classification, Recommendation, SpeedupRow, Strategy
from .words import unit_for

SERIAL_CEILING = 2.0
PARALLEL_EFFICIENCY = 0.5
KNEE_FRACTION = 0.9
FOCUS_STEPS = 3


def _simulated(row: SpeedupRow, burdened: bool) -> float | None:
    """The simulated speedup the advice follows: with a per-step overhead (``--overhead``),
    the burdened one, since that is what a real scheduler would achieve."""
    return row.simulated_burdened if burdened else row.simulated


def classify(
    speedup_ceiling: float | None,
    speedup: list[SpeedupRow],
    processors: int,
    burdened: bool = False,
) -> Classification:
    """``classification``: ``serial``, ``mixed`` or ``parallel`` (bands in the module docstring;
    with ``burdened``, the ceiling and the simulation are the burdened ones)."""
    if speedup_ceiling is None or speedup_ceiling < SERIAL_CEILING:
        return "serial"
    at_target = _simulated(_row(speedup, processors), burdened)
    if at_target is not None and at_target >= PARALLEL_EFFICIENCY * processors:
        return "parallel"
    return "mixed"


def knee(speedup: list[SpeedupRow], burdened: bool = False) -> int:
    """The smallest P whose simulated speedup reaches ``KNEE_FRACTION`` of the table's best."""
    values = [(r.processors, _simulated(r, burdened)) for r in speedup]
    best = max((v for _, v in values if v is not None), default=None)
    if best is None:
        return 1
    return next(p for p, v in values if v is not None and v >= KNEE_FRACTION * best)


def recommend(
    classification: Classification,
    speedup_ceiling: float | None,
    speedup: list[SpeedupRow],
    critical_costs: Iterable[tuple[str, Cost]],
    depth: Cost,
    unit: str | None,
    overhead: Cost = 0,
) -> Recommendation:
    """Build the recommendation from the classification, the speedup table and the critical
    path (``(id, cost)`` pairs in path order). Rules are in the module docstring; with an
    ``overhead``, the burdened simulation and ceiling, and the reason says so.
    """
    burdened = bool(overhead)
    procs = knee(speedup, burdened)
    expected = _simulated(_row(speedup, procs), burdened)
    per_step = f"{_fmt(overhead)} {unit_for(overhead, unit)}".rstrip()
    burden = f", counting {per_step} of overhead per step" if burdened else ""
    strategy: Strategy
    if classification == "parallel":
        strategy = "parallel-leaning"
    elif classification == "serial":
        strategy = "serial-leaning"
    else:
        strategy = (
            "parallel-leaning" if expected is not None and expected >= 2 else "serial-leaning"
        )

    if strategy == "parallel-leaning":
        assert expected is not None
        reason = (
            f"Use about {procs} processors for a speedup of about {expected:.2f}x "
            f"(the ceiling is {speedup_ceiling:.2f}x{burden}); more add little."
        )
        return Recommendation(
            strategy=strategy, processors=procs, reason=reason, expected_speedup=expected
        )

    # The costliest steps, ties in path order (nlargest is a stable sort, cut short).
    ranked = heapq.nlargest(FOCUS_STEPS, critical_costs, key=itemgetter(1))
    focus = [step_id for step_id, cost in ranked if cost > 0]
    if not focus:
        reason = "Nothing costs anything: there is no work to speed up."
    else:
        share = ordered_sum(c for _, c in ranked if c > 0)
        pct = f" ({100 * share / depth:.0f}% of the critical path)" if depth else ""
        names = ", ".join(f"'{s}'" for s in focus)
        ceiling = "no" if speedup_ceiling is None else f"at most {speedup_ceiling:.2f}x"
        reason = (
            f"Processors give {ceiling} speedup{burden}; shorten the critical path instead, "
            "starting "
            f"with {names}{pct}, a total of {_fmt(share)}{_unit(share, unit)} of "
            f"{_fmt(depth)}{_unit(depth, unit)}."
        )
    return Recommendation(
        strategy=strategy, processors=procs, reason=reason, expected_speedup=expected, focus=focus
    )


def _unit(value: Cost, unit: str | None) -> str:
    return f" {unit_for(value, unit)}" if unit else ""


def _row(speedup: list[SpeedupRow], processors: int) -> SpeedupRow:
    return next(r for r in speedup if r.processors == processors)


def _fmt(value: Cost) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
