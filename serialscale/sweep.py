"""Running a sweep: analyze one target at several sizes and fit how it grows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .analysis import analyze_workload
from .defaults import DEFAULT_MAX_STEPS, DEFAULT_PROCESSORS
from .errors import UsageError, WorkloadError
from .report import SCHEMA_VERSION
from .scaling import EXPLANATIONS, VERDICTS, Growth, fit_growth
from .sources import load_target


@dataclass(frozen=True)
class ScaleReport:
    """The result of ``serialscale scale``: points, growth classes, verdict, prediction."""

    workload: str
    source: str | None
    parameter: str
    params: dict[str, Any]
    points: list[dict[str, Any]]
    growth: dict[str, Growth]
    processors: int
    prediction: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``parallelizable`` (constant or (poly)logarithmic depth) or ``inherently serial``."""
        return VERDICTS[self.growth["depth"].cls][0]

    @property
    def complexity(self) -> str:
        """``TC0-like``, ``NC-like`` or ``P-like (serial)``, from the depth's growth."""
        return VERDICTS[self.growth["depth"].cls][1]

    @property
    def explanation(self) -> str:
        """One sentence on what the depth's growth means."""
        depth = self.growth["depth"]
        exponent = f"{depth.exponent:g}" if depth.exponent is not None else ""
        return EXPLANATIONS[depth.cls].format(p=self.parameter, e=exponent)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``serialscale scale --format json``."""
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "workload": self.workload,
            "source": self.source,
            "parameter": self.parameter,
            "params": dict(self.params),
            "processors": self.processors,
            "points": [dict(p) for p in self.points],
            "growth": {k: g.to_dict(self.parameter) for k, g in self.growth.items()},
            "verdict": self.verdict,
            "complexity": self.complexity,
            "explanation": self.explanation,
        }
        if self.prediction is not None:
            data["prediction"] = dict(self.prediction)
        data.update(self.extra)
        return data


def run_sweep(
    target: str,
    parameter: str,
    values: Sequence[int | float],
    *,
    params: Mapping[str, str] | None = None,
    control: str = "dataflow",
    max_steps: int = DEFAULT_MAX_STEPS,
    processors: int = DEFAULT_PROCESSORS,
    predict: float | None = None,
) -> ScaleReport:
    """Analyze ``target`` with ``parameter`` set to each of ``values`` and fit the growth."""
    others = dict(params or {})
    if parameter in others:
        raise UsageError(f"'{parameter}' is swept; do not also pass it with --param")
    points: list[dict[str, Any]] = []
    name, source = target, target
    for value in sorted(set(values)):
        try:
            workload = load_target(target, {**others, parameter: str(value)}, control, max_steps)
        except WorkloadError as exc:
            exc.message = f"at {parameter}={value}: {exc.message}"
            raise
        report = analyze_workload(workload, processors=processors)
        name, source = report.workload, report.source
        points.append(
            {
                "value": value,
                "steps": report.steps,
                "work": report.work,
                "depth": report.depth,
                "width": report.width,
                "speedup_ceiling": report.speedup_ceiling,
            }
        )
    xs = [float(p["value"]) for p in points]
    growth = {
        key: fit_growth(xs, [float(p[key]) for p in points]) for key in ("depth", "work", "width")
    }
    prediction = None
    if predict is not None:
        work = growth["work"].predict(predict)
        depth = growth["depth"].predict(predict)
        prediction = {
            "value": predict,
            "work": work,
            "depth": depth,
            "width": growth["width"].predict(predict),
            "speedup_ceiling": work / depth if depth > 0 else None,
        }
    return ScaleReport(
        workload=name,
        source=source,
        parameter=parameter,
        params={k: v for k, v in sorted(others.items())},
        points=points,
        growth=growth,
        processors=processors,
        prediction=prediction,
    )
