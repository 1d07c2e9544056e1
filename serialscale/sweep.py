"""Running a sweep: analyze one target at several sizes, fit how it grows, and say what the
data support (see :mod:`serialscale.scaling` for the rules)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from msgspec import UNSET

from .batch import Options, analyze_point
from .defaults import DEFAULT_PROCESSORS
from .errors import UsageError, WorkloadError
from .limits import DEFAULT_LIMITS, Limits
from .report import GrowthSet, Prediction, Report, ScalePoint, ScaleReport
from .scaling import Growth, assess, fit_growth


def run_sweep(
    target: str,
    parameter: str,
    values: Sequence[int | float],
    *,
    params: Mapping[str, str] | None = None,
    control: str = "dataflow",
    limits: Limits = DEFAULT_LIMITS,
    processors: int = DEFAULT_PROCESSORS,
    predict: float | None = None,
    isolate: bool = False,
    repeat: int = 1,
) -> ScaleReport:
    """Analyze ``target`` with ``parameter`` set to each of ``values`` and fit the growth.

    ``repeat`` > 1 runs each size that many times and analyzes the median cost of each step
    (for measured costs); each point then reports the spread of the depth over the runs.
    """
    others = dict(params or {})
    if parameter in others:
        raise UsageError(f"'{parameter}' is swept; do not also pass it with --param")
    if repeat < 1:
        raise UsageError(f"--repeat must be at least 1, got {repeat}")
    points: list[ScalePoint] = []
    notes: list[str] = []
    traced = False
    name: str = target
    source: str | None = target
    for value in sorted(set(values)):
        options = Options(
            processors=processors, params=tuple({**others, parameter: str(value)}.items()),
            control=control, limits=limits, isolate=isolate, repeat=repeat,
        )  # fmt: skip
        try:
            report, spread = analyze_point(target, options)
        except WorkloadError as exc:
            exc.message = f"at {parameter}={value}: {exc.message}"
            raise
        name, source = report.workload, report.source
        traced = traced or report.control is not UNSET
        # the caveats of the largest size (the counts of every size are in its point)
        notes = [f"at {parameter}={value}: {note}" for note in report.notes or []]
        points.append(_point(value, report, spread))
    xs = [float(p.value) for p in points]
    # the branches data-flow mode left out: its depth is then a lower bound (scaling.verdict)
    ignored = [p.control_decisions or 0 for p in points] if control == "dataflow" else []
    depths, works = [float(p.depth) for p in points], [float(p.work) for p in points]
    depth, work, judged = assess(xs, depths, works, parameter, ignored)
    width = fit_growth(xs, [float(p.width) for p in points])
    prediction = UNSET if predict is None else _predict(predict, depth, work, width)
    return ScaleReport(
        workload=name,
        source=source,
        parameter=parameter,
        params={k: v for k, v in sorted(others.items())},
        processors=processors,
        points=points,
        growth=GrowthSet(
            depth=depth.entry(parameter, xs),
            work=work.entry(parameter, xs),
            width=width.entry(parameter, xs),
        ),
        verdict=judged.verdict,  # type: ignore[arg-type]
        complexity=judged.complexity,
        explanation=judged.explanation,
        warnings=judged.warnings,
        prediction=prediction,
        notes=notes if traced else UNSET,
        repeat=repeat if repeat > 1 else UNSET,
    )


def _point(value: int | float, report: Report, spread: float | None) -> ScalePoint:
    return ScalePoint(
        value=value,
        steps=report.steps,
        work=report.work,
        depth=report.depth,
        width=report.width,
        speedup_ceiling=report.speedup_ceiling,
        control_decisions=report.control_decisions,
        escapes=report.escapes,
        spread=UNSET if spread is None else spread,
    )


def _predict(at: float, depth: Growth, work: Growth, width: Growth) -> Prediction:
    at_work, at_depth = work.predict(at), depth.predict(at)
    return Prediction(
        value=at,
        work=at_work,
        depth=at_depth,
        width=width.predict(at),
        speedup_ceiling=at_work / at_depth if at_depth > 0 else None,
    )
