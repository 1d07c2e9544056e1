"""A target analyzed with its schedule chart (:mod:`serialscale.core.gantt`): the chart needs
the graph, which only the run that loaded it holds."""

from __future__ import annotations

import math
from typing import Any

from ..base.errors import Location, WorkloadError
from ..core.gantt import Bar, Gantt, gantt_of
from ..core.whatif import apply_changes
from ..documents.report import Report, well_formed
from ..sources import load_target, looks_like_function
from .batch import Options, read_options, report_of_workload
from .isolation import run_isolated


def analyze_with_gantt(target: str, options: Options) -> tuple[Report, Gantt]:
    """:func:`serialscale.run.batch.analyze_target` (``options`` are its options), and the
    schedule chart of the graph analyzed (the changed one with ``--what-if``). A traced
    function runs in a child process as there; the chart comes back with the report."""

    def here() -> tuple[Report, Gantt]:
        workload = load_target(target, dict(options.params), options.control, options.limits,
                               read_options(options))  # fmt: skip
        report = report_of_workload(workload, options)
        if options.what_if:
            workload = apply_changes(workload, options.what_if, options.limits)[0]
        return report, gantt_of(workload.graph, report)

    if options.isolate and looks_like_function(target):
        # the child's pipe carries only reports and built-in values (isolation._Results):
        # the chart crosses it as tuples
        def child() -> tuple[Report, tuple[Any, ...]]:
            report, chart = here()
            return report, _to_tuples(chart)

        def expected(value: object) -> bool:  # what child() returns, its chart checked below
            return (type(value) is tuple and len(value) == 2 and well_formed(value[0])
                    and type(value[1]) is tuple)  # fmt: skip

        report, sent = run_isolated(child, target, options.limits.timeout, expect=expected)
        try:
            return report, _from_tuples(sent)
        except (TypeError, ValueError, IndexError):  # tuples that are no chart's: forged
            message = "the function's process sent back something that is not a result (chart)"
            raise WorkloadError(message, Location(target)) from None
    return here()


def _to_tuples(chart: Gantt) -> tuple[Any, ...]:
    bars = tuple((b.step, b.lane, b.start, b.finish, b.critical, b.steps) for b in chart.bars)
    return (chart.workload, chart.unit, chart.processors, chart.makespan, bars, chart.steps)


def _from_tuples(sent: tuple[Any, ...]) -> Gantt:
    """The chart of :func:`_to_tuples`; ValueError (or TypeError) where the tuples are not
    one's (they come from the traced function's process: forged, perhaps)."""
    workload, unit, processors, makespan, bars, steps = sent

    def count(x: object, least: int) -> bool:
        return type(x) is int and least <= x < 2**63

    def time(x: object) -> bool:  # (an int too large for a float cannot be drawn)
        if type(x) is int:
            return 0 <= x < 2**1000
        return type(x) is float and 0 <= x < math.inf

    good = (type(workload) is str and (unit is None or type(unit) is str)
            and count(processors, 1) and time(makespan) and count(steps, 0)
            and type(bars) is tuple)  # fmt: skip
    chart = []
    for b in bars if good else ():
        step, lane, start, finish, critical, merged = b
        good = good and (type(step) is str and count(lane, 0) and time(start) and time(finish)
                         and start <= finish <= makespan and type(critical) is bool
                         and count(merged, 1))  # fmt: skip
        chart.append(Bar(step, lane, start, finish, critical, merged))
    if not good:
        raise ValueError("not a chart")
    return Gantt(workload, unit, processors, makespan, tuple(chart), steps)
