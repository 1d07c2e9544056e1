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

Recommendation (it answers for the target ``P``: what ``P`` processors give, and whether
fewer do as well):

- ``strategy``: ``serial-leaning`` for ``serial``; ``parallel-leaning`` for ``parallel``; for
  ``mixed``, ``parallel-leaning`` when ``processors`` reach a simulated speedup of at least 2,
  else ``serial-leaning``.
- ``processors``: the fewest processors, at most ``P``, whose simulated speedup reaches 90% of
  what ``P`` processors give (``P`` itself when no fewer do); ``expected_speedup`` is their
  simulated speedup.
- ``focus``: the (up to 3) critical steps with the most drag (:mod:`serialscale.core.drag`): the
  steps whose shortening shortens the run, named whatever the strategy.
- ``reason``: one sentence: the speedup and wall time on ``P`` processors, whether fewer do as
  well (or more would help), and which steps to shorten. Serial-leaning advice says
  processors give at most the ceiling and starts with the steps to shorten.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..base.words import plural, times, unit_for
from ..documents.report import Classification, Recommendation, SpeedupRow, Strategy
from .graph import Cost

SERIAL_CEILING = 2.0
PARALLEL_EFFICIENCY = 0.5
KNEE_FRACTION = 0.9
FOCUS_STEPS = 3
#: A step id longer than this is cut, with an ellipsis, in the sentence of the recommendation
#: (``focus`` keeps it whole): a 5,000-character id filled 50 lines of the headline.
LONGEST_ID_IN_REASON = 60


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
    target: int,
    drags: Iterable[tuple[str, Cost]],
    depth: Cost,
    unit: str | None,
    overhead: Cost = 0,
) -> Recommendation:
    """Build the recommendation for ``target`` processors from the classification, the speedup
    table and the critical steps' drag (``(id, drag)`` pairs, the most first). Rules are in
    the module docstring; with an ``overhead``, the burdened simulation and ceiling, and the
    reason says so.
    """
    burdened = bool(overhead)
    at_target = _simulated(_row(speedup, target), burdened)
    procs = fewest(speedup, target, burdened)
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
    listed = [(step, d) for step, d in drags if d > 0][:FOCUS_STEPS]
    focus = [step for step, _ in listed]
    shorten = ""
    if listed:
        names = ", ".join(f"'{_short_id(step)}' (drag {_fmt(d)}{_unit(d, unit)})"
                          for step, d in listed)  # fmt: skip
        shorten = f"shorten the critical path starting with {names}"
    if at_target is None or expected is None:
        reason = "Nothing costs anything: there is no work to speed up."
        return Recommendation(strategy=strategy, processors=procs, reason=reason, focus=focus)
    ceiling = "no" if speedup_ceiling is None else f"at most {times(speedup_ceiling)}"
    wall = _wall(speedup, target, unit)
    if strategy == "serial-leaning":
        first = f"Processors give {ceiling} speedup{burden} ({target}: {times(at_target)}{wall})"
        reason = f"{first}; {shorten}." if shorten else (
            f"{first}; no single step shortens the critical path (parallel paths are as long)."
        )  # fmt: skip
        return Recommendation(strategy=strategy, processors=procs, reason=reason,
                              expected_speedup=expected, focus=focus)  # fmt: skip
    give = "gives" if target == 1 else "give"
    head = (f"{plural(target, 'processor')} {give} {times(at_target)}{wall} (the ceiling is "
            f"{times(speedup_ceiling)}{burden})")  # fmt: skip
    if procs < target:
        head += f"; {procs} {'does' if procs == 1 else 'do'} as well ({times(expected)})"
    more = [
        r
        for r in speedup
        if r.processors > target
        and (_simulated(r, burdened) or 0) >= at_target * (1 + (1 - KNEE_FRACTION))
    ]
    if more:
        best = more[0]
        head += (f"; more would help: {best.processors} give "
                 f"{times(_simulated(best, burdened) or 0)}")  # fmt: skip
    reason = f"{head}; then {shorten}." if shorten else f"{head}."
    return Recommendation(strategy=strategy, processors=procs, reason=reason,
                          expected_speedup=expected, focus=focus)  # fmt: skip


def fewest(speedup: list[SpeedupRow], target: int, burdened: bool = False) -> int:
    """The fewest processors in the table, at most ``target``, whose simulated speedup
    reaches ``KNEE_FRACTION`` of what ``target`` processors give."""
    goal = _simulated(_row(speedup, target), burdened)
    if goal is None:
        return 1
    return next(r.processors for r in speedup if r.processors <= target
                and (_simulated(r, burdened) or 0) >= KNEE_FRACTION * goal)  # fmt: skip


def _wall(speedup: list[SpeedupRow], target: int, unit: str | None) -> str:
    """``, 34 minutes instead of 93`` (the simulated wall time on ``target`` and on one)."""
    row, one = _row(speedup, target), _row(speedup, 1)
    if not isinstance(row.makespan, (int, float)) or not isinstance(one.makespan, (int, float)):
        return ""
    return f", {_fmt(row.makespan)}{_unit(row.makespan, unit)} instead of {_fmt(one.makespan)}"


def _unit(value: Cost, unit: str | None) -> str:
    return f" {unit_for(value, unit)}" if unit else ""


def _row(speedup: list[SpeedupRow], processors: int) -> SpeedupRow:
    return next(r for r in speedup if r.processors == processors)


def _short_id(step: str) -> str:
    if len(step) <= LONGEST_ID_IN_REASON:
        return step
    return step[: LONGEST_ID_IN_REASON - 1] + "…"


def _fmt(value: Cost) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
