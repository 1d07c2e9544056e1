"""The command line: declares commands and options; :mod:`serialscale.commands` runs them."""

# No `from __future__ import annotations`: typer reads the parameter annotations at every run,
# and string annotations would cost an eval each (about 10 ms of start-up).
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import typer.exceptions

from . import __version__, commands
from .defaults import (
    DEFAULT_MAX_DEPENDENCIES,
    DEFAULT_MAX_OPS,
    DEFAULT_MAX_STEPS,
    DEFAULT_PROCESSORS,
)
from .errors import ExitCode
from .formats import BatchFormat, GateFormat, ScaleFormat

# What each command does is in commands.py; the engine, the renderers and rich are imported
# there, inside the commands that use them, so that `serialscale --version` starts fast.

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


class ControlMode(str, Enum):
    """``--control``: how branches on traced values count."""

    dataflow = "dataflow"
    strict = "strict"


class FailOn(str, Enum):
    """``--fail-on``: the class at or below which a workload fails the gate."""

    serial = "serial"
    mixed = "mixed"


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
MaxStepsOption = Annotated[int, typer.Option(
    "--max-steps", help="Most steps a workload may have (templates included).",
    rich_help_panel="Limits")]  # fmt: skip
MaxDepsOption = Annotated[int, typer.Option(
    "--max-dependencies", help="Most dependencies a workload may have (after expansion).",
    rich_help_panel="Limits")]  # fmt: skip
MaxInputOption = Annotated[str, typer.Option(
    "--max-input-size", help="Largest input read: bytes, or with K, M, G (default 1G).",
    rich_help_panel="Limits")]  # fmt: skip
MaxOpsOption = Annotated[int, typer.Option(
    "--max-ops", help="Most operations a traced function may record.",
    rich_help_panel="Limits")]  # fmt: skip
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout", help="Stop a traced function after SECONDS.", rich_help_panel="Limits"
    ),
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
    max_dependencies: MaxDepsOption = DEFAULT_MAX_DEPENDENCIES,
    max_input_size: MaxInputOption = "1G",
    max_ops: MaxOpsOption = DEFAULT_MAX_OPS,
    timeout: TimeoutOption = None,
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
        typer.Option("--jobs", "-j", help="Worker processes.", rich_help_panel="Batch"),
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
    from .batch import Options

    def run() -> ExitCode:
        gates = commands.make_gates(_value(fail_on), min_speedup, max_depth,
                                    max_serial_fraction, baseline, max_depth_increase)  # fmt: skip
        limits = commands.make_limits(max_steps, max_dependencies, max_input_size, max_ops,
                                      timeout)  # fmt: skip
        options = Options(
            processors=processors,
            overhead=commands.finite_overhead(overhead),
            detail=detail,
            params=tuple(commands.parse_params(param or []).items()),
            control=control.value,
            limits=limits,
            isolate=True,
        )
        return commands.analyze(files, options, fmt, include=include or [],
                                exclude=exclude or [], jobs=jobs, scheduler=scheduler,
                                gates=gates, output=output)  # fmt: skip

    _exit(run)


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
    _exit(lambda: commands.gate(report, commands.make_gates(
        _value(fail_on), min_speedup, max_depth, max_serial_fraction, baseline,
        max_depth_increase), fmt))  # fmt: skip


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
    _exit(lambda: commands.schema(name.value))


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
        ScaleFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ScaleFormat.table,
    processors: ProcessorsOption = DEFAULT_PROCESSORS,
    control: ControlOption = ControlMode.dataflow,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
    max_dependencies: MaxDepsOption = DEFAULT_MAX_DEPENDENCIES,
    max_input_size: MaxInputOption = "1G",
    max_ops: MaxOpsOption = DEFAULT_MAX_OPS,
    timeout: TimeoutOption = None,
    output: OutputOption = None,
) -> None:
    """Sweep a size parameter: does depth grow like a constant, a log, or a polynomial?"""
    _exit(lambda: commands.scale(
        target, sweep, params=param or [], predict=predict, fmt=fmt, processors=processors,
        control=control.value, output=output, limits=commands.make_limits(
            max_steps, max_dependencies, max_input_size, max_ops, timeout)))  # fmt: skip


def _value(choice: Enum | None) -> str | None:
    return None if choice is None else str(choice.value)


def _exit(command: Callable[[], ExitCode]) -> NoReturn:
    """Run a command of :mod:`serialscale.commands`; its :class:`CommandError` is one line on
    stderr and exit code 2."""
    try:
        code = command()
    except commands.CommandError as exc:
        print(str(exc), file=sys.stderr)
        code = ExitCode.INPUT
    raise typer.Exit(code)


def main() -> None:
    """Run the command line. A bug never shows users a traceback: one line, exit 2. Ctrl-C
    ends it with exit code 130, as shells expect."""
    try:
        code = app(standalone_mode=False)
    except typer.exceptions.TyperException as exc:  # a usage error: click's message, exit 2
        exc.show()  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", ExitCode.INPUT))
    except (typer.Abort, KeyboardInterrupt):
        print("serialscale: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except MemoryError:
        print("serialscale: error: ran out of memory", file=sys.stderr)
        sys.exit(ExitCode.INPUT)
    except Exception as exc:
        name = type(exc).__name__
        print(f"serialscale: internal error: {name}: {exc} (please report it)", file=sys.stderr)
        sys.exit(ExitCode.INPUT)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


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
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: the result did not arrive
            status = status or ExitCode.INPUT
    os._exit(status)
