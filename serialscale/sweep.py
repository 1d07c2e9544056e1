"""Running a sweep: analyze one target at several sizes and fit how it grows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from msgspec import UNSET

from .batch import Options, analyze_target
from .defaults import DEFAULT_PROCESSORS
from .errors import UsageError, WorkloadError
from .limits import DEFAULT_LIMITS, Limits
from .report import GrowthSet, Prediction, ScalePoint, ScaleReport
from .scaling import EXPLANATIONS, VERDICTS, fit_growth


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
) -> ScaleReport:
    """Analyze ``target`` with ``parameter`` set to each of ``values`` and fit the growth."""
    others = dict(params or {})
    if parameter in others:
        raise UsageError(f"'{parameter}' is swept; do not also pass it with --param")
    points: list[ScalePoint] = []
    name: str = target
    source: str | None = target
    for value in sorted(set(values)):
        try:
            report = analyze_target(target, Options(
                processors=processors, params=tuple({**others, parameter: str(value)}.items()),
                control=control, limits=limits, isolate=isolate,
            ))  # fmt: skip
        except WorkloadError as exc:
            exc.message = f"at {parameter}={value}: {exc.message}"
            raise
        name, source = report.workload, report.source
        points.append(ScalePoint(value, report.steps, report.work, report.depth, report.width,
                                 report.speedup_ceiling))  # fmt: skip
    xs = [float(p.value) for p in points]
    depth, work, width = (
        fit_growth(xs, [float(getattr(p, key)) for p in points])
        for key in ("depth", "work", "width")
    )
    prediction = None
    if predict is not None:
        at_work, at_depth = work.predict(predict), depth.predict(predict)
        prediction = Prediction(
            value=predict,
            work=at_work,
            depth=at_depth,
            width=width.predict(predict),
            speedup_ceiling=at_work / at_depth if at_depth > 0 else None,
        )
    verdict, complexity = VERDICTS[depth.cls]
    exponent = f"{depth.exponent:g}" if depth.exponent is not None else ""
    return ScaleReport(
        workload=name,
        source=source,
        parameter=parameter,
        params={k: v for k, v in sorted(others.items())},
        processors=processors,
        points=points,
        growth=GrowthSet(
            depth=depth.entry(parameter), work=work.entry(parameter), width=width.entry(parameter)
        ),
        verdict=verdict,  # type: ignore[arg-type]
        complexity=complexity,  # type: ignore[arg-type]
        explanation=EXPLANATIONS[depth.cls].format(p=parameter, e=exponent),
        prediction=prediction if prediction is not None else UNSET,
    )
