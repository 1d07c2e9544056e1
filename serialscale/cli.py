"""The command line: parse arguments, call the library, render, write, exit. No analysis here."""

# No `from __future__ import annotations`: typer reads the parameter annotations at every run,
# and string annotations would cost an eval each (about 10 ms of start-up).
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from . import __version__
from .defaults import DEFAULT_MAX_STEPS, DEFAULT_PROCESSORS
from .errors import ExitCode, UsageError, WorkloadError
from .formats import BatchFormat, OutputFormat

if TYPE_CHECKING:
    from .batch import BatchResult
    from .gates import Comparison, Thresholds

# The engine, the renderers and rich are imported inside the commands that use them, so that
# `serialscale --version` and small analyses start fast.

PROGRESS_MIN = 10

app = typer.Typer(
    name="serialscale",
    help="How serial is a workload? Work, depth, width, speedup ceiling and a recommendation.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"serialscale {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """How serial is a workload?"""


def _fail(message: str, code: ExitCode = ExitCode.INPUT) -> NoReturn:
    print(message, file=sys.stderr)
    raise typer.Exit(code)


def _emit(text: str, output: Path | None) -> None:
    from .output import write_atomically

    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_atomically(output, text)
    except OSError as exc:
        _fail(f"{output}: error: cannot write the output: {exc.strerror or exc}")


class ControlMode(str, Enum):
    """``--control``: how branches on traced values count."""

    dataflow = "dataflow"
    strict = "strict"


def parse_params(items: list[str]) -> dict[str, str]:
    """``["n=8", "x=1.5"]`` to ``{"n": "8", "x": "1.5"}``; a malformed item is a usage error."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _fail(f"error: --param expects NAME=VALUE, got {item!r}")
        params[name.strip()] = value
    return params


def _console_width() -> int:
    return shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100


class FailOn(str, Enum):
    """``--fail-on``: the class at or below which a workload fails the gate."""

    serial = "serial"
    mixed = "mixed"


class GateFormat(str, Enum):
    """``serialscale gate --format``."""

    text = "text"
    github = "github"


ProcessorsOption = Annotated[
    int,
    typer.Option("--processors", "-p", min=1,
                 help="Target processor count for the classification (default 8)."),
]  # fmt: skip
ControlOption = Annotated[
    ControlMode,
    typer.Option("--control", help="Traced functions: dataflow ignores branches; strict makes "
                 "later steps need the latest branch."),
]  # fmt: skip
MaxStepsOption = Annotated[
    int, typer.Option("--max-steps", min=1, help="Largest expansion of a template.")
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", help="NAME=VALUE for a traced function or a templated workload "
                 "(repeatable)."),
]  # fmt: skip
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file, whole.")
]


FailOnOption = Annotated[
    FailOn | None,
    typer.Option("--fail-on", help="Fail (exit 1) when a workload is classified at or below "
                 "this class.", rich_help_panel="Gates"),
]  # fmt: skip
MinSpeedupOption = Annotated[
    float | None,
    typer.Option("--min-speedup", help="Fail when the speedup ceiling is below X.",
                 rich_help_panel="Gates"),
]  # fmt: skip
MaxDepthOption = Annotated[
    float | None,
    typer.Option("--max-depth", help="Fail when depth is above X.", rich_help_panel="Gates"),
]
MaxSerialOption = Annotated[
    float | None,
    typer.Option("--max-serial-fraction", help="Fail when the serial fraction is above X.",
                 rich_help_panel="Gates"),
]  # fmt: skip
BaselineOption = Annotated[
    Path | None,
    typer.Option("--baseline", help="A saved JSON report to compare with, by source path.",
                 rich_help_panel="Gates"),
]  # fmt: skip
MaxIncreaseOption = Annotated[
    float | None,
    typer.Option("--max-depth-increase", help="With --baseline: fail when depth grew by more "
                 "than PCT percent.", rich_help_panel="Gates"),
]  # fmt: skip


@app.command()
def analyze(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Workload files (YAML or JSON; - reads stdin), directories (every *.yaml, "
            "*.yml and *.json under them) or functions: file.py:func, package.module:func."
        ),
    ],
    fmt: Annotated[
        BatchFormat, typer.Option("--format", "-f", help="Output format.")
    ] = BatchFormat.table,
    processors: ProcessorsOption = DEFAULT_PROCESSORS,
    overhead: Annotated[
        float,
        typer.Option(
            "--overhead", min=0.0, help="Per-step scheduling cost when steps run in parallel."
        ),
    ] = 0.0,
    output: OutputOption = None,
    detail: Annotated[
        bool, typer.Option("--detail", help="Add per-step start, finish and slack records.")
    ] = False,
    param: ParamOption = None,
    control: ControlOption = ControlMode.dataflow,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include",
            help="Only targets matching this glob (repeatable).",
            rich_help_panel="Batch",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Skip targets matching this glob (repeatable).",
            rich_help_panel="Batch",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=1, help="Worker processes.", rich_help_panel="Batch"),
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar="DASK_SCHEDULER_ADDRESS",
            help="Run the batch on this Dask scheduler (pip install 'serialscale[dask]').",
            rich_help_panel="Batch",
        ),
    ] = None,
    fail_on: FailOnOption = None,
    min_speedup: MinSpeedupOption = None,
    max_depth: MaxDepthOption = None,
    max_serial_fraction: MaxSerialOption = None,
    baseline: BaselineOption = None,
    max_depth_increase: MaxIncreaseOption = None,
) -> None:
    """Analyze workloads: work, depth, width, speedup, classification, recommendation."""
    from .batch import (
        BatchResult,
        Options,
        analyze_batch,
        analyze_target,
        collect_targets,
        is_batch,
    )
    from .render import render

    thresholds = _thresholds(
        fail_on, min_speedup, max_depth, max_serial_fraction, baseline, max_depth_increase
    )
    options = Options(
        processors=processors,
        overhead=int(overhead) if float(overhead).is_integer() else overhead,
        detail=detail,
        params=tuple(parse_params(param or []).items()),
        control=control.value,
        max_steps=max_steps,
    )
    targets = collect_targets(files, include or [], exclude or [])
    if not targets:
        _fail("error: no workloads found (directories are searched for *.yaml, *.yml, *.json)")
    color = output is None and fmt is BatchFormat.table and sys.stdout.isatty()
    single = not is_batch(files) and fmt.value in OutputFormat.__members__
    if overhead == float("inf"):
        _fail(f"error: --overhead must be a finite number >= 0, got {overhead}")
    if single:
        try:  # one target: no worker, no round trip through a dict
            report = analyze_target(targets[0], options)
        except WorkloadError as exc:
            _fail(str(exc))
        except UsageError as exc:
            _fail(f"error: {exc}")
        result = BatchResult(results=[report])
        text: str | None = render(
            report, OutputFormat(fmt.value), width=_console_width(), color=color
        )
    else:
        try:
            with _progress(len(targets)) as advance:
                result = analyze_batch(
                    targets, options, jobs=jobs, scheduler=scheduler, progress=advance
                )
        except UsageError as exc:
            _fail(f"error: {exc}")
        text = None
    _finish(result, thresholds, fmt, text, output, color)


def _thresholds(
    fail_on: FailOn | None,
    min_speedup: float | None,
    max_depth: float | None,
    max_serial_fraction: float | None,
    baseline: Path | None,
    max_depth_increase: float | None,
) -> "tuple[Thresholds | None, Path | None]":
    """Check the gate flags; ``None`` when no gate is asked for (gates are then not loaded)."""
    if max_depth_increase is not None and baseline is None:
        _fail("error: --max-depth-increase needs --baseline")
    for name, value in (("--min-speedup", min_speedup), ("--max-depth", max_depth),
                        ("--max-serial-fraction", max_serial_fraction),
                        ("--max-depth-increase", max_depth_increase)):  # fmt: skip
        if value is not None and not 0 <= value < float("inf"):
            _fail(f"error: {name} must be a finite number >= 0, got {value}")
    if (
        fail_on is None
        and baseline is None
        and all(v is None for v in (min_speedup, max_depth, max_serial_fraction))
    ):
        return None, None
    from .gates import Thresholds

    gates = Thresholds(
        fail_on=fail_on.value if fail_on else None,
        min_speedup=min_speedup,
        max_depth=max_depth,
        max_serial_fraction=max_serial_fraction,
        max_depth_increase=max_depth_increase,
    )
    return gates, baseline


def _finish(
    result: "BatchResult",
    thresholds: "tuple[Thresholds | None, Path | None]",
    fmt: BatchFormat,
    text: str | None,
    output: Path | None,
    color: bool,
) -> None:
    """Gate, render (unless ``text`` is given), write, and exit: 2 if any input failed, else 1
    if a gate failed, else 0.
    """
    from .batch import located

    gates, baseline_path = thresholds
    violations = []
    comparison = None
    if gates is not None:  # some gate or a baseline was asked for
        from .gates import check, check_baseline, compare, load_reports

        violations = check(result.results, gates)
        if baseline_path is not None:
            try:
                old, _ = load_reports(baseline_path)
            except WorkloadError as exc:
                _fail(str(exc))
            comparison = compare(result.results, old)
            violations += check_baseline(comparison, gates.max_depth_increase)
    if text is None:
        from .render import batch as renderers

        if fmt is BatchFormat.table:
            text = renderers.render_batch_table(result, _console_width(), color)
        elif fmt is BatchFormat.github:
            text = renderers.render_github(result.errors, violations, comparison)
        else:
            text = getattr(renderers, f"render_batch_{fmt.value}")(result)
    _emit(text, output)
    for error in located(result.errors):
        print(str(error), file=sys.stderr)
    if comparison is not None:
        _print_comparison(comparison)
    for v in violations:
        print(f"{v.source}: gate failed: {v.gate}: {v.workload}: {v.message}", file=sys.stderr)
    if result.errors:
        raise typer.Exit(ExitCode.INPUT)
    if violations:
        raise typer.Exit(ExitCode.GATE_FAILED)


def _print_comparison(comparison: "Comparison") -> None:
    for c in comparison.changes:
        if c.before != c.after:
            print(f"{c.source}: changed: {c.describe()}", file=sys.stderr)
    for src in comparison.new:
        print(f"{src}: new workload (not in the baseline)", file=sys.stderr)
    for src in comparison.removed:
        print(f"{src}: removed (in the baseline only)", file=sys.stderr)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal and the batch is long enough."""
    if total < PROGRESS_MIN or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("analyzing", total=total)
        yield lambda n: bar.advance(task, n)


@app.command()
def gate(
    report: Annotated[Path, typer.Argument(help="A saved JSON report (single or batch).")],
    fail_on: FailOnOption = None,
    min_speedup: MinSpeedupOption = None,
    max_depth: MaxDepthOption = None,
    max_serial_fraction: MaxSerialOption = None,
    baseline: BaselineOption = None,
    max_depth_increase: MaxIncreaseOption = None,
    fmt: Annotated[
        GateFormat, typer.Option("--format", "-f", help="text, or github annotations.")
    ] = GateFormat.text,
) -> None:
    """Gate a saved report without analyzing again (exit 1 when a gate fails)."""
    from .batch import BatchResult
    from .gates import load_reports

    thresholds = _thresholds(
        fail_on, min_speedup, max_depth, max_serial_fraction, baseline, max_depth_increase
    )
    try:
        reports, errors = load_reports(report)
    except WorkloadError as exc:
        _fail(str(exc))
    result = BatchResult(results=reports, errors=errors)
    if fmt is GateFormat.github:
        _finish(result, thresholds, BatchFormat.github, None, None, False)
    else:  # text: everything goes to stderr, as for analyze
        _finish(result, thresholds, BatchFormat.table, "", None, False)


class SchemaName(str, Enum):
    """``serialscale schema`` choices."""

    report = "report"
    batch = "batch"
    jsonl = "jsonl"
    scale = "scale"
    workload = "workload"


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which JSON Schema to print.")],
) -> None:
    """Print a JSON Schema (draft 2020-12): report, batch, jsonl, scale or workload."""
    from .render.json_report import dumps
    from .schema import SCHEMAS

    sys.stdout.write(dumps(SCHEMAS[name.value]()))


@app.command()
def scale(
    target: Annotated[
        str, typer.Argument(help="Templated workload file (with params) or file.py:function.")
    ],
    sweep: Annotated[
        str,
        typer.Option("--sweep", help="NAME=V1,V2,... or NAME=LOW..HIGH (powers of two)."),
    ],
    param: ParamOption = None,
    predict: Annotated[
        str | None,
        typer.Option("--predict", help="NAME=VALUE: extrapolate to a size too large to run."),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
    processors: ProcessorsOption = DEFAULT_PROCESSORS,
    control: ControlOption = ControlMode.dataflow,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
    output: OutputOption = None,
) -> None:
    """Sweep a size parameter: does depth grow like a constant, a log, or a polynomial?"""
    from .render.scale import render_scale_json, render_scale_markdown, render_scale_table
    from .scaling import parse_sweep
    from .sweep import run_sweep

    try:
        name, values = parse_sweep(sweep)
    except ValueError as exc:
        _fail(f"error: {exc}")
    at = None
    if predict is not None:
        pname, sep, pvalue = predict.partition("=")
        try:
            at = float(pvalue)
        except ValueError:
            at = None
        if not sep or pname.strip() != name or at is None or not at > 0:
            _fail(f"error: --predict expects {name}=VALUE (a positive number), got {predict!r}")
    try:
        result = run_sweep(
            target, name, values, params=parse_params(param or []), control=control.value,
            max_steps=max_steps, processors=processors, predict=at,
        )  # fmt: skip
    except WorkloadError as exc:
        _fail(str(exc))
    except UsageError as exc:
        _fail(f"error: {exc}")
    color = output is None and fmt is OutputFormat.table and sys.stdout.isatty()
    renderers = {
        OutputFormat.table: lambda: render_scale_table(result, _console_width(), color),
        OutputFormat.json: lambda: render_scale_json(result),
        OutputFormat.markdown: lambda: render_scale_markdown(result),
    }
    _emit(renderers[fmt](), output)


def main() -> None:
    """Run the command line. A bug never shows users a traceback: one line, exit 2."""
    try:
        app(standalone_mode=True)
    except Exception as exc:  # typer.Exit and click's own errors never get here
        name = type(exc).__name__
        print(f"serialscale: internal error: {name}: {exc} (please report it)", file=sys.stderr)
        sys.exit(ExitCode.INPUT)


def run() -> NoReturn:
    """The ``serialscale`` command: :func:`main`, then end the process at once.

    The interpreter's usual teardown (freeing every module and object) takes 10-25 ms, a fifth
    of a small analysis; nothing needs it here: by then every output file is written and
    closed, and worker pools and Dask clients were shut down by the commands. Only standard
    streams need flushing. In-process callers use :func:`main`, which exits normally.
    """
    import os

    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # sys.exit("message"), as the interpreter would print it
        print(code, file=sys.stderr)
        code = 1
    status = code if isinstance(code, int) else 0
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # e.g. a closed pipe: the interpreter would also report failure
        status = status or 120
    os._exit(status)
