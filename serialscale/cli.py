"""The command line: parse arguments, call the library, render, write, exit. No analysis here."""

from __future__ import annotations

import shutil
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from . import __version__
from .analysis import DEFAULT_PROCESSORS, analyze_workload
from .errors import ExitCode, UsageError, WorkloadError
from .output import write_atomically
from .render import OutputFormat, render
from .render.scale import render_scale_json, render_scale_markdown, render_scale_table
from .scaling import parse_sweep
from .sources import load_target
from .sources.templates import DEFAULT_MAX_STEPS
from .sweep import run_sweep

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


@app.command()
def analyze(
    file: Annotated[
        str,
        typer.Argument(
            help="Workload file (YAML or JSON; - reads stdin) or a function: file.py:func, "
            "package.module:func."
        ),
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
    processors: Annotated[
        int,
        typer.Option(
            "--processors", "-p", min=1, help="Target processor count for the classification."
        ),
    ] = DEFAULT_PROCESSORS,
    overhead: Annotated[
        float,
        typer.Option(
            "--overhead", min=0.0, help="Per-step scheduling cost when steps run in parallel."
        ),
    ] = 0.0,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result to this file.")
    ] = None,
    detail: Annotated[
        bool, typer.Option("--detail", help="Add per-step start, finish and slack records.")
    ] = False,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="NAME=VALUE argument of a traced function (repeatable)."),
    ] = None,
    control: Annotated[
        ControlMode,
        typer.Option(
            "--control",
            help="Traced functions: dataflow ignores branches; strict "
            "makes later steps need the latest branch.",
        ),
    ] = ControlMode.dataflow,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="Largest expansion of a template.")
    ] = DEFAULT_MAX_STEPS,
) -> None:
    """Analyze a workload: work, depth, width, speedup, classification, recommendation."""
    try:
        workload = load_target(file, parse_params(param or []), control.value, max_steps)
        report = analyze_workload(
            workload,
            processors=processors,
            overhead=int(overhead) if float(overhead).is_integer() else overhead,
            detail=detail,
        )
    except WorkloadError as exc:
        _fail(str(exc))
    except UsageError as exc:
        _fail(f"error: {exc}")
    color = output is None and fmt is OutputFormat.table and sys.stdout.isatty()
    _emit(render(report, fmt, width=_console_width(), color=color), output)


@app.command()
def scale(
    target: Annotated[
        str, typer.Argument(help="Templated workload file (with params) or file.py:function.")
    ],
    sweep: Annotated[
        str,
        typer.Option("--sweep", help="NAME=V1,V2,... or NAME=LOW..HIGH (powers of two)."),
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Other NAME=VALUE parameters.")
    ] = None,
    predict: Annotated[
        str | None,
        typer.Option("--predict", help="NAME=VALUE: extrapolate to a size too large to run."),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
    processors: Annotated[
        int, typer.Option("--processors", "-p", min=1, help="Target processor count.")
    ] = DEFAULT_PROCESSORS,
    control: Annotated[
        ControlMode, typer.Option("--control", help="Traced functions: dataflow or strict.")
    ] = ControlMode.dataflow,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="Largest expansion of a template.")
    ] = DEFAULT_MAX_STEPS,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result to this file.")
    ] = None,
) -> None:
    """Sweep a size parameter: does depth grow like a constant, a log, or a polynomial?"""
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
    """Console-script entry point."""
    app()
