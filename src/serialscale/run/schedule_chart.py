"""A target analyzed with its schedule chart (:mod:`serialscale.core.gantt`): the chart needs
the graph, which only the run that loaded it holds."""

from __future__ import annotations

from typing import Any

from ..core.gantt import Bar, Gantt, gantt_of
from ..core.whatif import apply_changes
from ..documents.report import Report
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

        report, sent = run_isolated(child, target, options.limits.timeout)
        return report, _from_tuples(sent)
    return here()


def _to_tuples(chart: Gantt) -> tuple[Any, ...]:
    bars = tuple((b.step, b.lane, b.start, b.finish, b.critical, b.steps) for b in chart.bars)
    return (chart.workload, chart.unit, chart.processors, chart.makespan, bars, chart.steps)


def _from_tuples(sent: tuple[Any, ...]) -> Gantt:
    workload, unit, processors, makespan, bars, steps = sent
    return Gantt(workload, unit, processors, makespan, tuple(Bar(*b) for b in bars), steps)
