"""The command line: declares commands and options; :mod:`serialscale.commands` runs them."""

# No `from __future__ import annotations`: typer reads the parameter annotations at every run,
# and string annotations would cost an eval each (about 10 ms of start-up).
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.exceptions

from . import __version__, commands
from .defaults import DEFAULT_MAX_DEPENDENCIES, DEFAULT_MAX_OPS, DEFAULT_MAX_STEPS
from .defaults import DEFAULT_PROCESSORS as PROCESSORS
from .errors import ExitCode, display, say
from .formats import (
    BatchFormat,
    ColorMode,
    ControlMode,
    DiffFormat,
    ExportFormat,
    FailOn,
    GateFormat,
    ScaleFormat,
    SchemaName,
)

# What each command does is in commands.py; the engine, the renderers and rich are imported
# there, inside the commands that use them, so that `serialscale --version` starts fast.

app = typer.Typer(
    name="serialscale",
    help="How serial is a workload? Work, depth, width, speedup ceiling and a recommendation.",
    epilog="Examples: serialscale analyze workloads/ci_build.yaml | serialscale analyze "
    "pipelines/ --fail-on serial --format github | serialscale scale "
    "workloads/sweeps/rule110.yaml --sweep steps=8..128 | serialscale formats",
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,  # measured: no start-up cost (within the noise of 21 runs)
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _opt(*names: str, help: str, panel: str | None = None, **kwargs: Any) -> Any:
    """``typer.Option`` in one line: names, help text, and the help panel it is listed in."""
    return typer.Option(*names, help=help, rich_help_panel=panel, **kwargs)


def _version(value: bool) -> None:
    if value:
        from .kernels import status

        print(f"serialscale {__version__} ({status()}; Python {sys.version.split()[0]})")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[bool, _opt("--version", help="Print the version and exit.",
                                  callback=_version, is_eager=True)] = False,
) -> None:  # fmt: skip
    """How serial is a workload?"""


# fmt: off
# Options shared by several commands.
Processors = Annotated[int, _opt("--processors", "-p", min=1,
                                 help="Target processor count for the classification.")]
Control = Annotated[ControlMode | None, _opt("--control", help="Traced functions: scoped "
                                             "(the default) makes values stored while a "
                                             "branch is in force (until its post-dominator) "
                                             "need it (where it cannot run, dataflow, with a "
                                             "note); dataflow ignores branches; frame makes "
                                             "later steps of the same call need its latest "
                                             "one; strict, every later step.")]
Params = Annotated[list[str] | None, _opt("--param", help="NAME=VALUE for a traced function or "
                                          "a templated workload (repeatable).")]
Output = Annotated[Path | None, _opt("--output", "-o", help="Write the result to this file, "
                                     "whole ('-': standard output).")]
# Limits (see serialscale/limits.py).
MaxSteps = Annotated[int, _opt("--max-steps", panel="Limits",
                               help="Most steps a workload may have (templates included).")]
MaxDeps = Annotated[int, _opt("--max-dependencies", panel="Limits",
                              help="Most dependencies a workload may have (after expansion).")]
MaxInput = Annotated[str, _opt("--max-input-size", panel="Limits",
                               help="Largest input read: bytes, or with K, M, G, T.")]
MaxOps = Annotated[int, _opt("--max-ops", panel="Limits",
                             help="Most operations a traced function may record.")]
Timeout = Annotated[float | None, _opt("--timeout", panel="Limits",
                                       help="Stop a traced function after SECONDS.")]
# Gates.
FailOnOpt = Annotated[FailOn | None, _opt("--fail-on", panel="Gates", help="Fail (exit 1) when "
                                          "a workload is classified at or below this class.")]
MinSpeedup = Annotated[float | None, _opt("--min-speedup", panel="Gates",
                                          help="Fail when the speedup ceiling is below X.")]
MaxDepth = Annotated[float | None, _opt("--max-depth", panel="Gates",
                                        help="Fail when depth is above X.")]
MaxSerial = Annotated[float | None, _opt("--max-serial-fraction", panel="Gates",
                                         help="Fail when the serial fraction is above X.")]
Baseline = Annotated[Path | None, _opt("--baseline", panel="Gates", help="A saved JSON report "
                                       "to compare with, by source path.")]
MaxIncrease = Annotated[float | None, _opt("--max-depth-increase", panel="Gates",
                                           help="With --baseline: fail when depth grew by more "
                                           "than PCT percent.")]
Plot = Annotated[Path | None, _opt("--plot", help="Also draw it into FILE: .svg, .png or a "
                                  "self-contained .html (pip install 'serialscale[plot]').")]
Color = Annotated[ColorMode, _opt("--color", help="ANSI colour in tables: auto follows the "
                                  "terminal, NO_COLOR, FORCE_COLOR and TERM=dumb.")]
# Configuration (see serialscale/config.py).
ConfigOpt = Annotated[Path | None, _opt("--config", panel="Configuration", help="Read the "
                                        "settings from this TOML file (no search).")]
IsolatedOpt = Annotated[bool, _opt("--isolated", panel="Configuration", help="Read no "
                                   "configuration file.")]
# Input formats (see serialscale/sources/readers.py).
FromOpt = Annotated[str | None, _opt("--from", panel="Input", help="Read the files in this "
                                     "format (see 'serialscale formats'); default: detect.")]
DurationsOpt = Annotated[str | None, _opt("--durations", panel="Input", help="GitHub Actions: "
                                          "job times of a run (gh run view RUN --json jobs).")]
ReverseOpt = Annotated[bool, _opt("--reverse-edges", panel="Input", help="DOT: an edge a -> b "
                                  "means a needs b (bazel, cmake, terraform).")]
# fmt: on


@app.command(
    epilog="Examples: serialscale analyze workloads/ci_build.yaml | serialscale "
    "analyze pipelines/ --fail-on serial --format github | serialscale analyze "
    "algos.py:scan --param n=1024 | serialscale analyze .github/workflows/ci.yml"
)
def analyze(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(
        help="Workload files (YAML or JSON; - reads stdin), directories (every *.yaml, *.yml "
        "and *.json under them) or functions: file.py:func, package.module:func.")],
    fmt: Annotated[BatchFormat, _opt("--format", "-f", help="Output format.")] = BatchFormat.table,
    color: Color = ColorMode.auto,
    plot: Plot = None,
    batch: Annotated[bool, _opt("--batch", help="The batch output shape even for one target "
                                "(as when more files are staged).")] = False,
    processors: Processors = PROCESSORS,
    overhead: Annotated[float, _opt("--overhead", min=0.0, help="Per-step scheduling cost "
                                    "when steps run in parallel.")] = 0.0,
    output: Output = None,
    detail: Annotated[bool, _opt("--detail", help="Add per-step start, finish and slack "
                                 "records.")] = False,
    param: Params = None,
    control: Control = None,
    max_steps: MaxSteps = DEFAULT_MAX_STEPS,
    max_dependencies: MaxDeps = DEFAULT_MAX_DEPENDENCIES,
    max_input_size: MaxInput = "1G",
    max_ops: MaxOps = DEFAULT_MAX_OPS,
    timeout: Timeout = None,
    from_: FromOpt = None,
    durations: DurationsOpt = None,
    reverse_edges: ReverseOpt = False,
    include: Annotated[list[str] | None, _opt("--include", panel="Batch", help="Only targets "
                                              "matching this glob (repeatable).")] = None,
    exclude: Annotated[list[str] | None, _opt("--exclude", panel="Batch", help="Skip targets "
                                              "matching this glob (repeatable).")] = None,
    jobs: Annotated[int, _opt("--jobs", "-j", panel="Batch", help="Worker processes.")] = 1,
    no_ignore: Annotated[bool, _opt("--no-ignore", panel="Batch", help="Scan hidden folders, "
                                    "virtual environments and .gitignored files too.")] = False,
    scheduler: Annotated[str | None, _opt(
        "--scheduler", envvar="DASK_SCHEDULER_ADDRESS", panel="Batch",
        help="Run the batch on this Dask scheduler (pip install 'serialscale[dask]').")] = None,
    target_depth: Annotated[str | None, _opt(
        "--target-depth", panel="What if",
        help="A depth to reach, or a change such as -20%: which steps to shorten, by how "
        "much (the fewest where they can be found).")] = None,
    what_if: Annotated[list[str] | None, _opt(
        "--what-if", panel="What if",
        help="STEP=COST, STEP=xFACTOR or STEP=split:K (STEP may be a glob; repeatable): "
        "analyze the changed graph, with before and after.")] = None,
    fail_on: FailOnOpt = None,
    min_speedup: MinSpeedup = None,
    max_depth: MaxDepth = None,
    max_serial_fraction: MaxSerial = None,
    baseline: Baseline = None,
    max_depth_increase: MaxIncrease = None,
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
) -> None:  # fmt: skip
    """Analyze workloads: work, depth, width, speedup, classification, recommendation."""
    given = dict(locals())
    _exit(lambda: commands.run_analyze(commands.configured(ctx, "analyze", given)))


@app.command()
def gate(
    ctx: typer.Context,
    report: Annotated[Path, typer.Argument(help="A saved JSON report (single or batch).")],
    fail_on: FailOnOpt = None,
    min_speedup: MinSpeedup = None,
    max_depth: MaxDepth = None,
    max_serial_fraction: MaxSerial = None,
    baseline: Baseline = None,
    max_depth_increase: MaxIncrease = None,
    fmt: Annotated[GateFormat, _opt("--format", "-f", help="text, or github annotations.")] = (
        GateFormat.text),
    max_input_size: MaxInput = "1G",
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
) -> None:  # fmt: skip
    """Gate a saved report without analyzing again (exit 1 when a gate fails)."""
    given = dict(locals())
    _exit(lambda: commands.run_gate(commands.configured(ctx, "gate", given)))


@app.command()
def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which JSON Schema to print.")],
) -> None:
    """Print a JSON Schema (draft 2020-12): report, batch, jsonl, scale or workload."""
    _exit(lambda: commands.schema(name.value))


@app.command(
    epilog="Examples: serialscale scale workloads/sweeps/rule110.yaml --sweep "
    "steps=8..128 | serialscale scale algos.py:pairwise_sum --sweep n=8..4096 "
    "--predict n=1000000"
)
def scale(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="Templated workload file (with params) or "
                                          "file.py:function.")],
    sweep: Annotated[str, _opt("--sweep", help="NAME=V1,V2,... or NAME=LOW..HIGH (powers of "
                               "two).")],
    param: Params = None,
    predict: Annotated[str | None, _opt("--predict", help="NAME=VALUE: extrapolate to a size "
                                        "too large to run.")] = None,
    fmt: Annotated[ScaleFormat, _opt("--format", "-f", help="Output format.")] = ScaleFormat.table,
    color: Color = ColorMode.auto,
    plot: Plot = None,
    repeat: Annotated[int, _opt("--repeat", help="Run each size N times and use the median "
                                "cost of each step (for measured costs).")] = 1,
    processors: Processors = PROCESSORS,
    control: Control = None,
    max_steps: MaxSteps = DEFAULT_MAX_STEPS,
    max_dependencies: MaxDeps = DEFAULT_MAX_DEPENDENCIES,
    max_input_size: MaxInput = "1G",
    max_ops: MaxOps = DEFAULT_MAX_OPS,
    timeout: Timeout = None,
    output: Output = None,
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
) -> None:  # fmt: skip
    """Sweep a size parameter: does depth grow like a constant, a log, or a polynomial?"""
    given = dict(locals())
    _exit(lambda: commands.run_scale(commands.configured(ctx, "scale", given)))


@app.command()
def render(
    report: Annotated[Path, typer.Argument(help="A saved JSON report, batch, JSON lines or "
                                           "sweep ('-': standard input).")],
    fmt: Annotated[str, _opt("--format", "-f", help="table, json, markdown, jsonl, csv, "
                             "github, concise, or html (one report or a sweep).")] = "table",
    output: Output = None,
    color: Color = ColorMode.auto,
    max_input_size: MaxInput = "1G",
) -> None:  # fmt: skip
    """Render a saved report again, in any format, without analyzing (analyze once in CI,
    render many times)."""
    _exit(lambda: commands.render_saved(report, fmt, output, color.value, max_input_size))


@app.command()
def export(
    target: Annotated[str, typer.Argument(help="A workload file, another format, or "
                                          "file.py:function.")],
    to: Annotated[ExportFormat, _opt("--to", help="dot, mermaid, graphml, json (networkx "
                                     "node-link) or trace (Chrome trace events).")],
    output: Output = None,
    processors: Processors = PROCESSORS,
    max_nodes: Annotated[int, _opt("--max-nodes", help="DOT and Mermaid past this many steps: "
                                   "the critical path, the rest one node per level.")] = 2000,
    param: Params = None,
    control: Control = None,
    from_: FromOpt = None,
    durations: DurationsOpt = None,
    reverse_edges: ReverseOpt = False,
    max_steps: MaxSteps = DEFAULT_MAX_STEPS,
    max_dependencies: MaxDeps = DEFAULT_MAX_DEPENDENCIES,
    max_input_size: MaxInput = "1G",
    max_ops: MaxOps = DEFAULT_MAX_OPS,
    timeout: Timeout = None,
) -> None:  # fmt: skip
    """Export the step graph (critical path marked) or the simulated schedule."""
    _exit(lambda: commands.export(
        target, to.value, processors=processors, max_nodes=max_nodes, output=output,
        params=param or [], control=control.value if control else None,
        limits=commands.make_limits(max_steps, max_dependencies, max_input_size, max_ops,
                                    timeout),
        read=commands.make_read(from_, durations, reverse_edges)))  # fmt: skip


@app.command(
    epilog="Examples: serialscale diff old/ci.yaml ci.yaml | serialscale diff base.json "
    ".github/workflows/ci.yml --format markdown --max-depth-increase 5"
)
def diff(
    old: Annotated[str, typer.Argument(help="The workload before (any readable format) or a "
                                       "saved JSON report.")],
    new: Annotated[str, typer.Argument(help="The workload after, or a saved JSON report.")],
    fmt: Annotated[DiffFormat, _opt("--format", "-f", help="Output format.")] = DiffFormat.table,
    output: Output = None,
    processors: Processors = PROCESSORS,
    param: Params = None,
    control: Control = None,
    from_: FromOpt = None,
    durations: DurationsOpt = None,
    reverse_edges: ReverseOpt = False,
    fail_on: FailOnOpt = None,
    min_speedup: MinSpeedup = None,
    max_depth: MaxDepth = None,
    max_serial_fraction: MaxSerial = None,
    max_depth_increase: Annotated[float | None, _opt(
        "--max-depth-increase", panel="Gates",
        help="Fail when NEW's depth is more than PCT percent above OLD's.")] = None,
    max_steps: MaxSteps = DEFAULT_MAX_STEPS,
    max_dependencies: MaxDeps = DEFAULT_MAX_DEPENDENCIES,
    max_input_size: MaxInput = "1G",
    max_ops: MaxOps = DEFAULT_MAX_OPS,
    timeout: Timeout = None,
) -> None:  # fmt: skip
    """What a change did to the depth: work, depth, width and ceiling before and after, the
    critical paths, and each added, removed or re-costed step's own effect on depth."""

    def run() -> ExitCode:
        gates = commands.make_gates(fail_on.value if fail_on else None, min_speedup, max_depth,
                                    max_serial_fraction, Path(old) if max_depth_increase
                                    is not None else None, max_depth_increase)  # fmt: skip
        return commands.diff(
            old, new, fmt=fmt.value, processors=processors, output=output,
            thresholds=gates.thresholds, params=param or [],
            control=control.value if control else None,
            limits=commands.make_limits(max_steps, max_dependencies, max_input_size, max_ops,
                                        timeout),
            read=commands.make_read(from_, durations, reverse_edges))  # fmt: skip

    _exit(run)


@app.command()
def formats() -> None:
    """List the input formats serialscale reads and how each is recognised."""
    _exit(commands.formats)


def _exit(command: Callable[[], ExitCode]) -> NoReturn:
    """Run a command of :mod:`serialscale.commands`; its :class:`CommandError` is one line on
    stderr and exit code 2."""
    try:
        code = command()
    except commands.CommandError as exc:
        say(exc)
        code = ExitCode.INPUT
    raise typer.Exit(code)


#: The message for memory that ran out, made in advance: its handler must not need any.
OUT_OF_MEMORY = b"serialscale: error: ran out of memory\n"


def main() -> None:
    """Run the command line. A bug never shows users a traceback: one line, exit 2. Ctrl-C
    ends it with exit code 130, as shells expect. Memory that ran out is exit 2 too."""
    out_of_memory = False
    try:
        code = app(standalone_mode=False)
    except typer.exceptions.TyperException as exc:  # a usage error: click's message, exit 2
        import io

        shown = io.StringIO()  # click's message quotes what was typed: shown safely
        exc.show(file=shown)  # type: ignore[attr-defined]
        sys.stderr.write(display(shown.getvalue(), lines=True))
        sys.exit(getattr(exc, "exit_code", ExitCode.INPUT))
    except (typer.Abort, KeyboardInterrupt):
        print("serialscale: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except MemoryError:
        # Handled below, once this block has let go of the exception: its traceback holds
        # every frame of the work, and with them all that was built.
        out_of_memory = True
    except RuntimeError as exc:
        if "can't start new thread" not in str(exc):  # the interpreter's words, 3.10 to 3.13
            _internal(exc)
        print("serialscale: error: could not start a thread: out of memory or of processes",
              file=sys.stderr)  # fmt: skip
        sys.exit(ExitCode.INPUT)
    except Exception as exc:
        _internal(exc)
    if out_of_memory:
        ran_out_of_memory()
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


def ran_out_of_memory() -> NoReturn:
    """Say that memory ran out and exit 2, needing no memory to say it: what the work built
    is freed first (the collector may be off), the message was made in advance and is
    written straight to the descriptor."""
    import gc
    import os

    gc.collect()
    try:  # noqa: SIM105 (no context manager to allocate here)
        os.write(2, OUT_OF_MEMORY)
    except OSError:
        pass
    sys.exit(ExitCode.INPUT)


def _internal(exc: Exception) -> NoReturn:
    """A bug: one line naming it, exit 2, never a traceback."""
    name = type(exc).__name__
    say(f"serialscale: internal error: {name}: {exc} (please report it)")
    sys.exit(ExitCode.INPUT)
