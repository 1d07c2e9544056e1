"""Analyzing many workloads: one target to an outcome, and a batch's outcomes to its result
(targets are collected by :mod:`.targets`; workers and Dask run in :mod:`.executors`).

Results always come back in target order, so the output is byte-identical whatever the number
of workers. One bad file, an exception or a crashed worker becomes an error entry for that
target; the rest is analyzed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..base.defaults import DEFAULT_PROCESSORS
from ..base.errors import Location, UsageError, WorkloadError
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.targets import looks_like_function

# The readers, the tracer, the analysis and the report's types are imported where they are
# used: for a traced function, the command's process only starts the target (which imports
# them while the command starts, see isolation.prestart), then renders the report.
if TYPE_CHECKING:
    from ..core.whatif import Change
    from ..core.workload import Workload
    from ..documents.report import BatchResult, ErrorEntry, Report
    from ..sources.registry import ReadOptions
    from .targets import Collected, collect_targets, is_batch

    #: What one target gives a batch: a report, or an error entry (plain data that crosses
    #: process boundaries: msgspec records pickle).
    Outcome = tuple[Literal["ok"], Report] | tuple[Literal["error"], list[ErrorEntry]]

Progress = Callable[[int], None]


#: Re-exported on first use (a traced function's process never needs them): the batch's
#: own entry points, which the command line imports from here.
_FROM_TARGETS = ("Collected", "collect_targets", "is_batch")


def __getattr__(name: str) -> Any:
    if name == "BatchResult":  # the batch's result type, named here for the command line
        from ..documents.report import BatchResult

        return BatchResult
    if name in _FROM_TARGETS:
        from . import targets

        return getattr(targets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Options:
    """How each target is analyzed (the same for every target of a batch)."""

    processors: int = DEFAULT_PROCESSORS
    overhead: float = 0
    detail: bool = False
    params: tuple[tuple[str, str], ...] = ()
    control: str | None = None  # None: the default (python_targets.trace_function)
    limits: Limits = DEFAULT_LIMITS
    #: Run traced functions in a child process (the command line does; see
    #: :mod:`serialscale.run.isolation`).
    isolate: bool = False
    #: Runs per target; the median cost of each step is analyzed (``scale --repeat``).
    repeat: int = 1
    #: How files are read: ``--from``, ``--durations``, ``--reverse-edges``; ``None``: the
    #: default (:data:`serialscale.sources.registry.DEFAULT_READ`: detect the format).
    read: ReadOptions | None = None
    #: ``--what-if`` changes (:mod:`serialscale.core.whatif`), applied before the analysis.
    what_if: tuple[Change, ...] = ()
    #: ``--target-depth``: a depth or a change (``-20%``) to plan shortenings for.
    target_depth: str | None = None


def read_options(options: Options) -> ReadOptions:
    """How ``options`` reads files (``None`` is the default)."""
    from ..sources.registry import DEFAULT_READ

    return options.read or DEFAULT_READ


def error_entries(target: str, exc: WorkloadError) -> list[ErrorEntry]:
    """The batch error entries of ``exc``, raised while analyzing ``target``: one per error it
    holds (see :class:`serialscale.base.errors.WorkloadErrors`), and a last one counting those
    left out."""
    from ..base.errors import WorkloadErrors, error_lines
    from ..documents.report import ErrorEntry

    if not isinstance(exc, WorkloadErrors):
        return [error_entry(target, exc)]
    entries = [error_entry(target, error) for error in exc.errors]
    if exc.more:
        note = error_lines(exc)[-1].partition(": note: ")[2]
        entries.append(ErrorEntry(source=target, message=note))
    return entries


def error_entry(target: str, exc: WorkloadError) -> ErrorEntry:
    """The batch error entry of ``exc`` (its first error only: see :func:`error_entries`),
    raised while analyzing ``target``."""
    from msgspec import UNSET

    from ..documents.report import ErrorEntry

    loc = exc.location
    return ErrorEntry(
        source=target,
        message=exc.message,
        line=loc.line if loc.line is not None else UNSET,
        column=loc.column if loc.column is not None else UNSET,
        step=loc.step_id if loc.step_id is not None else UNSET,
        file=loc.source if loc.source not in (None, target) else UNSET,
    )


def analyze_target(target: str, options: Options) -> Report:
    """Load and analyze one target; input problems raise :class:`WorkloadError`.

    With ``options.isolate``, a traced function runs in a child process: whatever it does
    (exit, print, crash, run past ``--timeout``) ends as a :class:`WorkloadError`.
    """
    if options.isolate and looks_like_function(target):
        from .isolation import run_isolated

        args = (target, options, True)
        return run_isolated(lambda: _analyze_here(*args), target, options.limits.timeout,
                            job=(_analyze_here, args), expect=_is_report)  # fmt: skip
    return _analyze_here(target, options)


#: A report with at least this many records (its critical path's step ids, its profile's
#: segments, ``--detail`` rows...) is rendered as JSON where it was computed, by
#: :func:`analyze_function_json`: pickling such a report and unpickling it cost more than
#: importing the renderer there (about 2 ms); a small one crosses as it is.
RENDER_THERE = 10_000


def analyze_function_json(target: str, options: Options) -> Report | bytes:
    """:func:`analyze_target` for a traced function whose report is to be shown as JSON
    (``options.isolate``; a target whose report's ``path`` is ``None``, see
    :func:`with_path`): the report's JSON text
    (:func:`serialscale.render.json_report.render_json`) in UTF-8, rendered in the function's
    process when the report is large (:data:`RENDER_THERE`), else the report itself.

    The text is the same as the report rendered here would give; rendering it there spares
    pickling and unpickling a large report (a critical path of 400,000 step ids: the text
    crosses as it is, see :data:`serialscale.run.isolation.BYTES`). A report that cannot be
    rendered there comes back as it is, to be rendered (and fail) as any other."""
    from .isolation import run_isolated

    args = (target, options, True)
    # what the target sends is not trusted: bytes go to stdout as they are
    return run_isolated(lambda: _rendered_here(*args), target, options.limits.timeout,
                        job=(_rendered_here, args), expect=_report_or_json_text)  # fmt: skip


def _report_or_json_text(value: object) -> bool:
    """Whether ``value`` is what :func:`_rendered_here` returns: a report, or bytes that
    can be a report's JSON text (:func:`_json_text`)."""
    return _is_report(value) or _json_text(value)


def _is_report(value: object) -> bool:
    """Whether ``value`` is a well-formed report (what a traced function's process must send
    back): see :func:`serialscale.documents.report.well_formed`."""
    from ..documents.report import well_formed  # (imported where used: see the top)

    return well_formed(value)


#: Every byte but the control characters other than a newline, which no report's JSON text
#: holds (the JSON writer escapes them inside strings, and writes none between values):
#: what is left of a text once these are deleted (bytes.translate, at C speed) is those.
_NOT_CONTROL = bytes(b for b in range(256) if b == 10 or b >= 32)


def _json_text(data: object) -> bool:
    """Whether ``data`` is bytes that can be a report's JSON text: UTF-8, an object, ending
    in a newline (as :func:`serialscale.render.json_report.render_json` writes one), with no
    control character other than newlines (the bytes go to stdout as they are: a forged
    text could carry terminal escapes)."""
    if type(data) is not bytes:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return (data.startswith(b"{") and data.endswith(b"}\n")
            and not data.translate(None, _NOT_CONTROL))  # fmt: skip


def _rendered_here(target: str, options: Options, keep: bool = False) -> Report | bytes:
    """The JSON text of ``target``'s report in UTF-8 when it is large and its source is
    ``target`` (see :func:`analyze_function_json`), else the report."""
    report = _analyze_here(target, options, keep)
    if report.source != target or _records(report) < RENDER_THERE:
        return report
    try:
        from ..render.json_report import render_json

        return render_json(report).encode("utf-8")
    except Exception:  # rendered where it is shown, which says what is wrong
        return report


def _records(report: Report) -> int:
    """How many records (list items) ``report`` holds."""
    return sum(len(value) for value in map(report.__getattribute__, report.__struct_fields__)
               if type(value) is list)  # fmt: skip


def sweep_point(target: str, options: Options) -> tuple[Report, float | None]:
    """:func:`analyze_target` for a sweep: with ``options.repeat`` > 1, the target is loaded
    that many times and the median cost of each step analyzed; the second value is the spread
    of the depth over the runs, ``(largest - smallest) / median`` (``None`` for one run)."""
    if options.isolate and looks_like_function(target):
        from .isolation import run_isolated

        return run_isolated(lambda: _repeated(target, options), target, options.limits.timeout,
                            expect=_report_and_spread)  # fmt: skip
    return _repeated(target, options)


def _report_and_spread(value: object) -> bool:
    """Whether ``value`` is what :func:`_repeated` returns: ``(report, spread or None)``, a
    spread being a finite float >= 0."""
    if type(value) is not tuple or len(value) != 2 or not _is_report(value[0]):
        return False
    spread = value[1]
    return spread is None or (type(spread) is float and math.isfinite(spread) and spread >= 0)


def _repeated(target: str, options: Options) -> tuple[Report, float | None]:
    if options.repeat <= 1:
        return _analyze_here(target, options), None
    import statistics

    from ..core.analysis import analyze_workload
    from ..core.graph import Graph
    from ..core.metrics import compute_metrics
    from ..core.workload import Workload
    from ..sources import load_target

    runs = [load_target(target, dict(options.params), options.control, options.limits,
                        read_options(options))
            for _ in range(options.repeat)]  # fmt: skip
    first = runs[0].graph
    for run in runs[1:]:
        g = run.graph
        if (
            g.ids != first.ids
            or bytes(g.pred_ptr) != bytes(first.pred_ptr)
            or bytes(g.pred_idx) != bytes(first.pred_idx)
        ):
            raise WorkloadError(
                "the runs made different graphs: --repeat needs the same steps and "
                "dependencies in every run (only costs may vary)",
                Location(target),
            )
    columns = zip(*(r.graph.costs for r in runs), strict=True)
    costs = [statistics.median(column) for column in columns]
    spans = None  # steps with parallelism inside (array operations): their spans too
    if first.spans is not None:
        spans = [statistics.median(c) for c in zip(*(r.graph.depth_graph().costs for r in runs),
                                                    strict=True)]  # fmt: skip
    graph = Graph(first.ids, costs, first.pred_ptr, first.pred_idx, spans=spans)
    median = Workload(runs[0].name, graph, runs[0].source, runs[0].description, runs[0].unit,
                      runs[0].format, runs[0].extra)  # fmt: skip
    depths = [compute_metrics(r.graph.depth_graph()).depth for r in runs]
    middle = statistics.median(depths)
    spread = (max(depths) - min(depths)) / middle if middle > 0 else 0.0
    report = analyze_workload(median, processors=options.processors, overhead=options.overhead,
                              detail=options.detail)  # fmt: skip
    return report, float(spread)


def _analyze_here(target: str, options: Options, keep: bool = False) -> Report:
    """The report of ``target``; with ``keep``, in a target process of
    :func:`run_isolated`, its workload is never freed (the process ends without)."""
    from ..sources import load_target

    workload = load_target(  # (options.read: None reads files the default way)
        target, dict(options.params), options.control, options.limits, options.read
    )
    if keep:
        from .isolation import keep_until_exit

        keep_until_exit(workload)
    return report_of_workload(workload, options)


def report_of_workload(workload: Workload, options: Options) -> Report:
    """The report of ``workload`` under ``options`` (``--what-if`` changes applied)."""
    from ..core.analysis import analyze_workload

    if options.what_if:
        from ..core.whatif import report_with_what_if

        return report_with_what_if(workload, options.what_if, processors=options.processors,
                               overhead=options.overhead, detail=options.detail,
                               target_depth=options.target_depth,
                               limits=options.limits)  # fmt: skip
    return analyze_workload(workload, processors=options.processors, overhead=options.overhead,
                            detail=options.detail, target_depth=options.target_depth)  # fmt: skip


def with_path(report: Report) -> Report:
    """``report`` with its file's path in the project (:func:`project_path`), found where the
    batch was asked for (a Dask worker or a child process may run in another folder)."""
    where = project_path(report.source)
    if where is None:
        return report
    from msgspec import structs

    return structs.replace(report, path=where)


def project_path(source: str | None) -> str | None:
    """``source``'s path relative to its project root, in '/' form: the nearest folder at or
    above it holding ``.git``, else the current folder (then only when the file lies inside
    it). ``None`` for standard input, traced functions and files outside the current folder
    with no repository."""
    if not source or source == "-" or source.startswith("<"):
        return None
    file = Path(source)
    try:
        if not file.is_file():  # a traced function's source names no file: nothing imported
            return None
        from ..sources.secondary import project_root

        root = project_root(file, fallback=Path.cwd())  # the root secondary reads keep to
        return file.resolve().relative_to(root).as_posix()
    except (OSError, ValueError, RuntimeError):
        return None


def outcome_of(target: str, options: Options) -> Outcome:
    """Analyze one target for a batch: ``("ok", report)`` or ``("error", entry)``. Never
    raises for a problem of the target itself, so a batch can go on.
    """
    from ..documents.report import ErrorEntry  # here: not when memory ran out

    try:
        return "ok", analyze_target(target, options)
    except WorkloadError as exc:
        return "error", error_entries(target, exc)
    except UsageError:
        raise
    except MemoryError:
        return "error", [ErrorEntry(source=target, message="ran out of memory")]
    except Exception as exc:  # a bug or an unexpected failure: report it, keep going
        import traceback

        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return "error", [ErrorEntry(source=target, message=f"internal error: {detail}")]


def analyze_batch(
    targets: Sequence[str],
    options: Options,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Analyze every target, locally (``jobs`` processes) or on a Dask cluster."""
    from .executors import run_dask, run_processes  # workers and Dask only when asked for
    from .isolation import cancel_prestarted

    cancel_prestarted()  # a target started for one function: workers must not inherit it
    if scheduler:
        outcomes = run_dask(targets, options, scheduler)
    elif jobs <= 1 or len(targets) <= 1:
        outcomes = []
        for t in targets:
            outcomes.append(outcome_of(t, options))
            if progress:
                progress(1)
    else:
        outcomes = run_processes(targets, options, jobs, progress)
    from ..documents.report import BatchResult

    result = BatchResult()
    for outcome in outcomes:
        if outcome[0] == "ok":
            result.results.append(with_path(outcome[1]))
        else:
            result.errors.extend(outcome[1])
    return result


__all__ = [
    "BatchResult",
    "Collected",
    "Options",
    "analyze_batch",
    "analyze_target",
    "collect_targets",
    "error_entries",
    "error_entry",
    "is_batch",
    "outcome_of",
]
