"""Running a sweep: analyze one target at several sizes, fit how it grows, and say what the
data support (see :mod:`serialscale.core.growth` for the rules).

Which bound a traced depth is comes from what each point's report carries: the ``control``
mode, the ``control_decisions`` (branches on traced values) and the ``escapes`` (values
turned into plain ones). :func:`recording` states the rule; workload files and templates are
exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

from msgspec import UNSET

from ..base.defaults import DEFAULT_PROCESSORS
from ..base.errors import UsageError, WorkloadError
from ..base.limits import DEFAULT_LIMITS, Limits
from ..core.analysis import analyze_workload
from ..core.graph import Graph
from ..core.growth import Growth, Recording, Sweep, assess, fit_growth
from ..documents.report import GrowthSet, Prediction, Report, ScalePoint, ScaleReport, well_formed
from ..sources import load_target, looks_like_function
from .batch import Options, read_options, sweep_point


def run_sweep(
    target: str,
    parameter: str,
    values: Sequence[int | float],
    *,
    params: Mapping[str, str] | None = None,
    control: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    processors: int = DEFAULT_PROCESSORS,
    predict: float | None = None,
    isolate: bool = False,
    repeat: int = 1,
    progress: Callable[[int], None] | None = None,
) -> ScaleReport:
    """Analyze ``target`` with ``parameter`` set to each of ``values`` and fit the growth.

    ``repeat`` > 1 runs each size that many times and analyzes the median cost of each step
    (for measured costs); each point then reports the spread of the depth over the runs.
    ``progress`` is called with 1 after each size.
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
    mode: str | None = None
    for value in sorted(set(values)):
        options = Options(
            processors=processors, params=tuple({**others, parameter: str(value)}.items()),
            control=control, limits=limits, isolate=isolate, repeat=repeat,
        )  # fmt: skip
        try:
            report, spread, fan_in = _measure(target, options)
        except WorkloadError as exc:
            exc.message = f"at {parameter}={value}: {exc.message}"
            raise
        name, source = report.workload, report.source
        if report.control is not UNSET:
            traced, mode = True, report.control
        # the caveats of the largest size (the counts of every size are in its point)
        notes = [f"at {parameter}={value}: {note}" for note in report.notes or []]
        points.append(_point(value, report, spread, fan_in))
        if progress:
            progress(1)
    xs = [p.value for p in points]
    depths, works = [float(p.depth) for p in points], [float(p.work) for p in points]
    widths = [float(p.width) for p in points]
    sweep = Sweep(widths=widths, ceilings=[_ratio(p.speedup_ceiling) for p in points],
                  fan_ins=[None if p.fan_in is UNSET else p.fan_in for p in points])  # fmt: skip
    bounds = recording(points, mode, parameter)
    depth, work, judged = assess(xs, depths, works, parameter, bounds, sweep)
    width = fit_growth(xs, widths)
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
        control=mode if mode is not None else UNSET,  # type: ignore[arg-type]
        bound=bounds.bound,  # type: ignore[arg-type]
    )


def recording(points: Sequence[ScalePoint], control: str | None, name: str = "n") -> Recording:
    """Which bound on the depth as written the sweep's depths are: the bound rule.

    Per point: a workload file or template (no ``control``) is exact. Escapes cut
    dependences (and leave the operations on the plain values unrecorded): no upper bound.
    Branches on traced values (``control_decisions``) add nothing in ``dataflow`` mode (a
    lower bound), chain every later step to them in ``strict`` mode (an upper bound), and in
    ``frame`` mode both add too much and can miss what helper calls decide (neither). A
    point without branches and escapes is exact in every mode; a mode that scopes control
    dependence as written (``scoped``) is exact without escapes. The sweep has a bound when
    every point has it; a missing bound is explained at the largest size that lacks it.

    Traced array programs (trace/arrays.py) follow the same rule: each array operation is one
    step whose span is the cost table's, so without escapes and branches (or in ``scoped``
    mode) the recording is the exact depth of the program as written under that table. An
    operation outside the table (``unmodelled``) gets work = span = its size, a guess that
    can be too deep or too shallow: no bound either way.
    """
    lower, upper = True, True
    no_lower = no_upper = ""
    for p in reversed(points):  # the largest size first: its counts are the ones to quote
        if control is None:
            continue
        decisions = p.control_decisions if isinstance(p.control_decisions, int) else 0
        escapes = p.escapes if isinstance(p.escapes, int) else 0
        at = f"at {name}={p.value}"
        unknown = p.unmodelled if isinstance(p.unmodelled, int) else 0
        if unknown and (upper or lower):
            upper = lower = False
            no_upper = no_lower = (
                f"{unknown} kinds of array operations {at} are not in the cost table (the "
                "notes name them): each got work = span = its size, a guess that may be too "
                "deep or too shallow, so this depth is no bound on the depth as written; "
                "express them with operations in the table (README: Array programs)"
            )
        if escapes and upper:
            upper = False
            no_upper = (
                f"{escapes:,} traced values escaped to plain Python values {at} (float(), "
                "int(), str(), hashing, indexing: the notes say where): the dependences "
                "through them are cut and the operations on the plain values are not "
                "recorded, so this depth is only a lower bound on the depth as written and "
                "cannot show that the implementation is parallel; keep those values traced "
                "for an upper bound (no --control mode restores them)"
            )
        if not decisions or control == "scoped":
            continue
        if control == "dataflow" and upper:
            upper = False
            no_upper = (
                f"{decisions:,} branches on traced values {at} were left out (data-flow "
                "mode): this depth is only a lower bound on the depth as written, so it "
                "cannot show that the implementation is parallel; run with --control strict "
                "for an upper bound"
            )
        elif control == "strict" and lower:
            lower = False
            no_lower = (
                f"--control strict chains every later step to each of the {decisions:,} "
                f"branches on traced values {at}: this depth is only an upper bound on the "
                "depth as written, so it cannot show that the implementation is serial; run "
                "in data-flow mode (--control dataflow) for a lower bound"
            )
        elif control not in ("dataflow", "strict"):
            if lower:
                lower = False
                no_lower = (
                    f"--control {control} chains later steps to the {decisions:,} branches "
                    f"on traced values {at} beyond what they decide: this depth is no lower "
                    "bound on the depth as written, so it cannot show that the "
                    "implementation is serial; run in data-flow mode (--control dataflow) for "
                    "a lower bound"
                )
            if upper:
                upper = False
                no_upper = (
                    f"--control {control} can also miss what the {decisions:,} branches on "
                    f"traced values {at} decide (a swap made in a helper call: heap sort "
                    "gets depth 2): this depth is no upper bound on the depth as written, so "
                    "it cannot show that the implementation is parallel; run with --control "
                    "strict for an upper bound"
                )
    return Recording(lower, upper, no_lower, no_upper)


def max_fan_in(graph: Graph) -> int:
    """The most steps one step needs (its fan-in); 0 for a graph without dependencies."""
    ptr = graph.pred_ptr
    return max((b - a for a, b in pairwise(ptr)), default=0)


def _measure(target: str, options: Options) -> tuple[Report, float | None, int | None]:
    """The report of one size, the spread of its depth over ``--repeat`` runs, and its
    largest fan-in (``None`` with ``--repeat``, which analyzes a median graph elsewhere)."""
    if options.repeat > 1:
        report, spread = sweep_point(target, options)
        return report, spread, None

    def work() -> tuple[Report, float | None, int | None]:
        workload = load_target(target, dict(options.params), options.control,
                               options.limits, read_options(options))  # fmt: skip
        report = analyze_workload(workload, processors=options.processors,
                                  overhead=options.overhead, detail=options.detail)  # fmt: skip
        return report, None, max_fan_in(workload.graph)

    if options.isolate and looks_like_function(target):
        from .isolation import run_isolated

        def expected(value: object) -> bool:  # what work() returns
            return (type(value) is tuple and len(value) == 3 and well_formed(value[0])
                    and value[1] is None
                    and (value[2] is None or (type(value[2]) is int
                                              and 0 <= value[2] < 2**63)))  # fmt: skip

        return run_isolated(work, target, options.limits.timeout, expect=expected)
    return work()


def _ratio(value: float | None) -> float | None:
    return None if value is None else float(value)


def _point(value: int | float, report: Report, spread: float | None,
           fan_in: int | None) -> ScalePoint:  # fmt: skip
    return ScalePoint(
        value=value,
        steps=report.steps,
        work=report.work,
        depth=report.depth,
        width=report.width,
        speedup_ceiling=report.speedup_ceiling,
        control_decisions=report.control_decisions,
        escapes=report.escapes,
        unmodelled=UNSET if report.unmodelled is UNSET else len(report.unmodelled),
        spread=UNSET if spread is None else spread,
        fan_in=UNSET if fan_in is None else fan_in,
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
