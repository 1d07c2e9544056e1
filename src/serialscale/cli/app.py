"""The command line: declares commands and options; :mod:`serialscale.cli.commands` runs them."""

# No `from __future__ import annotations`: typer reads the parameter annotations at every run,
# and string annotations would cost an eval each (about 10 ms of start-up).
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core
import typer.exceptions
import typer.main

from .. import __version__
from ..base.defaults import DEFAULT_MAX_DEPENDENCIES, DEFAULT_MAX_OPS, DEFAULT_MAX_STEPS
from ..base.defaults import DEFAULT_PROCESSORS as PROCESSORS
from ..base.errors import ExitCode, display, say
from ..render.choices import (
    BatchFormat,
    ColorMode,
    ControlMode,
    DiffFormat,
    ExportFormat,
    FailOn,
    GateFormat,
    PlotKind,
    ScaleFormat,
    SchemaName,
)
from . import commands
from .quick import interrupted, outcome

# What each command does is in commands.py; the engine, the renderers and rich are imported
# there, inside the commands that use them, so that `serialscale --version` starts fast.

#: The widest the help is drawn, as the tables are read (a wider terminal gets this width).
HELP_WIDTH = 80


def _examples(*lines: str) -> str:
    """An epilog of examples, one per line (rich keeps single newlines)."""
    return "Examples:\n" + "\n".join("  " + _plain(line) for line in lines)


def _plain(text: str) -> str:
    """``text`` shown as written in rich help (``serialscale[plot]`` is not a style tag)."""
    return text.replace("[", "\\[")


class _Narrow:
    """Help drawn at most :data:`HELP_WIDTH` columns wide (typer draws it as wide as the
    terminal; rich is imported only here, when help is asked for)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        import io
        import shutil

        from typer import rich_utils

        columns = shutil.get_terminal_size((HELP_WIDTH, 24)).columns
        rich_utils.MAX_WIDTH = max(40, min(HELP_WIDTH, columns))
        # rich pads every line to the width: the help is drawn into a buffer and written
        # without the trailing spaces (as the tables are)
        drawn = io.StringIO()
        make = rich_utils._get_rich_console

        def console(stderr: bool = False) -> Any:
            made = make(stderr)
            made._force_terminal = made.is_terminal  # colour as for the real stream
            made.file = drawn
            return made

        rich_utils._get_rich_console = console
        try:
            super().format_help(ctx, formatter)  # type: ignore[misc]
        finally:
            rich_utils._get_rich_console = make
        sys.stdout.write("\n".join(line.rstrip(" ") for line in drawn.getvalue().split("\n")))


class _Group(_Narrow, typer.core.TyperGroup):
    pass


class _Command(_Narrow, typer.core.TyperCommand):
    pass


app = typer.Typer(
    name="serialscale",
    cls=_Group,
    help="How serial is a workload? Work, depth, width, speedup ceiling and a recommendation.",
    epilog=_examples(
        "serialscale analyze workloads/ci_build.yaml",
        "serialscale analyze pipelines/ --fail-on serial --format github",
        "serialscale scale workloads/sweeps/rule110.yaml --sweep steps=8..128",
        "serialscale formats",
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,  # measured: no start-up cost (within the noise of 21 runs)
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",  # the option panels (help only: rich is imported then)
)


def _opt(*names: str, help: str, panel: str | None = None, **kwargs: Any) -> Any:
    """``typer.Option`` in one line: names, help text, and the help panel it is listed in."""
    return typer.Option(*names, help=_plain(help), rich_help_panel=panel, **kwargs)


def _version(value: bool) -> None:
    if value:
        from ..accel import status

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
Processors = Annotated[int, _opt("--processors", "-p", min=1, panel="Analysis",
                                 help="Target processor count for the classification.")]
Control = Annotated[ControlMode | None, _opt("--control", panel="Input",
                                             help="Traced functions: scoped "
                                             "(the default) makes values stored while a "
                                             "branch is in force (until its post-dominator) "
                                             "need it (where it cannot run, dataflow, with a "
                                             "note); dataflow ignores branches; frame makes "
                                             "later steps of the same call need its latest "
                                             "one; strict, every later step.")]
Params = Annotated[list[str] | None, _opt("--param", panel="Input",
                                          help="NAME=VALUE for a traced function or "
                                          "a templated workload (repeatable).")]
Output = Annotated[Path | None, _opt("--output", "-o", panel="Output",
                                     help="Write the result to this file, "
                                     "whole ('-': standard output).")]
# Limits (see src/serialscale/base/limits.py).
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
Plot = Annotated[Path | None, _opt("--plot", panel="Output",
                                   help="Also draw it into FILE: .svg, .png or a "
                                  "self-contained .html (pip install 'serialscale[plot]').")]
PlotKindOpt = Annotated[PlotKind, _opt("--plot-kind", panel="Output",
                                       help="What an .svg or .png --plot draws: speedup "
                                       "(and the profile) or schedule (a Gantt chart of the "
                                       "list schedule); an .html page holds both.")]
Color = Annotated[ColorMode, _opt("--color", panel="Output",
                                  help="ANSI colour in tables: auto follows the "
                                  "terminal, NO_COLOR, FORCE_COLOR and TERM=dumb.")]
# How much is said on stderr (see src/serialscale/base/chatter.py).
Quiet = Annotated[bool, _opt("--quiet", "-q", panel="Output", help="Only errors and the "
                             "requested output: no notes, no progress.")]
Verbose = Annotated[bool, _opt("--verbose", "-v", panel="Output", help="Say more: each "
                               "skipped file, the configuration read, readers, timings.")]
# Configuration (see src/serialscale/cli/config.py).
ConfigOpt = Annotated[Path | None, _opt("--config", panel="Configuration", help="Read the "
                                        "settings from this TOML file (no search).")]
IsolatedOpt = Annotated[bool, _opt("--isolated", panel="Configuration", help="Read no "
                                   "configuration file.")]
# Input formats (see src/serialscale/sources/registry.py).
FromOpt = Annotated[str | None, _opt("--from", panel="Input", help="Read the files in this "
                                     "format (see 'serialscale formats'); default: detect.")]
DurationsOpt = Annotated[str | None, _opt("--durations", panel="Input", help="Times of a real "
                                          "run: GitHub Actions jobs (gh run view RUN --json "
                                          "jobs); for other graphs a Chrome/Perfetto trace or "
                                          "a Nextflow trace, matched by step name.")]
ReverseOpt = Annotated[bool, _opt("--reverse-edges", panel="Input", help="DOT: an edge a -> b "
                                  "means a needs b (bazel, cmake, terraform).")]
# fmt: on


@app.command(
    cls=_Command,
    epilog=_examples(
        "serialscale analyze workloads/ci_build.yaml",
        "serialscale analyze pipelines/ --fail-on serial --format github",
        "serialscale analyze algos.py:scan --param n=1024",
        "serialscale analyze .github/workflows/ci.yml",
    ),
)
def analyze(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(
        help="Workload files (YAML or JSON; - reads stdin), directories (every *.yaml, *.yml "
        "and *.json under them) or functions: file.py:func, package.module:func.")],
    fmt: Annotated[BatchFormat, _opt("--format", "-f", panel="Output",
                                     help="Output format.")] = BatchFormat.table,
    color: Color = ColorMode.auto,
    plot: Plot = None,
    plot_kind: PlotKindOpt = PlotKind.speedup,
    batch: Annotated[bool, _opt("--batch", panel="Output",
                                help="The batch output shape even for one target "
                                "(as when more files are staged).")] = False,
    processors: Processors = PROCESSORS,
    overhead: Annotated[float, _opt("--overhead", min=0.0, panel="Analysis",
                                    help="Per-step scheduling cost "
                                    "when steps run in parallel.")] = 0.0,
    output: Output = None,
    detail: Annotated[bool, _opt("--detail", panel="Output",
                                 help="Add per-step start, finish and slack "
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
    quiet: Quiet = False,
    verbose: Verbose = False,
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
) -> None:  # fmt: skip
    """Analyze workloads: work, depth, width, speedup, classification, recommendation."""
    given = dict(locals())
    _exit(lambda: commands.run_analyze(commands.configured(ctx, "analyze", given)))


@app.command(cls=_Command)
def gate(
    ctx: typer.Context,
    report: Annotated[Path, typer.Argument(help="A saved JSON report (single or batch).")],
    fail_on: FailOnOpt = None,
    min_speedup: MinSpeedup = None,
    max_depth: MaxDepth = None,
    max_serial_fraction: MaxSerial = None,
    baseline: Baseline = None,
    max_depth_increase: MaxIncrease = None,
    fmt: Annotated[GateFormat, _opt("--format", "-f", panel="Output",
                                    help="text, or github annotations.")] = (
        GateFormat.text),
    max_input_size: MaxInput = "1G",
    quiet: Quiet = False,
    verbose: Verbose = False,
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
) -> None:  # fmt: skip
    """Gate a saved report without analyzing again (exit 1 when a gate fails)."""
    given = dict(locals())
    _exit(lambda: commands.run_gate(commands.configured(ctx, "gate", given)))


@app.command(cls=_Command)
def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which JSON Schema to print.")],
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Print a JSON Schema (draft 2020-12): report, batch, jsonl, scale or workload."""
    _exit(lambda: commands.schema(name.value), quiet, verbose)


@app.command(
    cls=_Command,
    epilog=_examples(
        "serialscale scale workloads/sweeps/rule110.yaml --sweep steps=8..128",
        "serialscale scale algos.py:pairwise_sum --sweep n=8..4096 --predict n=1000000",
    ),
)
def scale(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="Templated workload file (with params) or "
                                          "file.py:function.")],
    sweep: Annotated[str, _opt("--sweep", panel="Input",
                               help="NAME=V1,V2,... or NAME=LOW..HIGH (powers of "
                               "two).")],
    param: Params = None,
    predict: Annotated[str | None, _opt("--predict", panel="Analysis",
                                        help="NAME=VALUE: extrapolate to a size "
                                        "too large to run.")] = None,
    fmt: Annotated[ScaleFormat, _opt("--format", "-f", panel="Output",
                                     help="Output format.")] = ScaleFormat.table,
    color: Color = ColorMode.auto,
    plot: Plot = None,
    repeat: Annotated[int, _opt("--repeat", panel="Analysis",
                                help="Run each size N times and use the median "
                                "cost of each step (for measured costs).")] = 1,
    processors: Processors = PROCESSORS,
    control: Control = None,
    max_steps: MaxSteps = DEFAULT_MAX_STEPS,
    max_dependencies: MaxDeps = DEFAULT_MAX_DEPENDENCIES,
    max_input_size: MaxInput = "1G",
    max_ops: MaxOps = DEFAULT_MAX_OPS,
    timeout: Timeout = None,
    output: Output = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    config: ConfigOpt = None,
    isolated: IsolatedOpt = False,
) -> None:  # fmt: skip
    """Sweep a size parameter: does depth grow like a constant, a log, or a polynomial?"""
    given = dict(locals())
    _exit(lambda: commands.run_scale(commands.configured(ctx, "scale", given)))


@app.command(
    cls=_Command,
    help="Render a saved report again, in any format, without "
    "analyzing (analyze once in CI, render many times).",
)
def render(
    report: Annotated[Path, typer.Argument(help="A saved JSON report, batch, JSON lines or "
                                           "sweep ('-': standard input).")],
    fmt: Annotated[str, _opt("--format", "-f", panel="Output",
                             help="table, json, markdown, jsonl, csv, "
                             "github, concise, or html (one report or a sweep).")] = "table",
    output: Output = None,
    color: Color = ColorMode.auto,
    max_input_size: MaxInput = "1G",
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:  # fmt: skip
    """Render a saved report again, in any format, without analyzing (analyze once in CI,
    render many times)."""
    _exit(lambda: commands.render_saved(report, fmt, output, color.value, max_input_size),
          quiet, verbose)  # fmt: skip


@app.command(cls=_Command)
def export(
    target: Annotated[str, typer.Argument(help="A workload file, another format, or "
                                          "file.py:function.")],
    to: Annotated[ExportFormat, _opt("--to", panel="Output",
                                     help="dot, mermaid, graphml, json (networkx "
                                     "node-link) or trace (Chrome trace events).")],
    output: Output = None,
    processors: Processors = PROCESSORS,
    max_nodes: Annotated[int, _opt("--max-nodes", panel="Output",
                                   help="DOT and Mermaid past this many steps: "
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
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:  # fmt: skip
    """Export the step graph (critical path marked) or the simulated schedule."""
    _exit(lambda: commands.export(
        target, to.value, processors=processors, max_nodes=max_nodes, output=output,
        params=param or [], control=control.value if control else None,
        limits=commands.make_limits(max_steps, max_dependencies, max_input_size, max_ops,
                                    timeout),
        read=commands.make_read(from_, durations, reverse_edges)), quiet, verbose)  # fmt: skip


@app.command(
    cls=_Command,
    help="What a change did to the depth: work, depth, width and ceiling before and after, "
    "the critical paths, and each added, removed or re-costed step's own effect on depth.",
    epilog=_examples(
        "serialscale diff old/ci.yaml ci.yaml",
        "serialscale diff base.json .github/workflows/ci.yml --format markdown "
        "--max-depth-increase 5",
    ),
)
def diff(
    old: Annotated[str, typer.Argument(help="The workload before (any readable format) or a "
                                       "saved JSON report.")],
    new: Annotated[str, typer.Argument(help="The workload after, or a saved JSON report.")],
    fmt: Annotated[DiffFormat, _opt("--format", "-f", panel="Output",
                                    help="Output format.")] = DiffFormat.table,
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
    quiet: Quiet = False,
    verbose: Verbose = False,
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

    _exit(run, quiet, verbose)


@app.command(cls=_Command)
def formats(quiet: Quiet = False, verbose: Verbose = False) -> None:
    """List the input formats serialscale reads and how each is recognised."""
    _exit(commands.formats, quiet, verbose)


def _exit(command: Callable[[], ExitCode], quiet: bool | None = None,
          verbose: bool = False) -> NoReturn:  # fmt: skip
    """Run a command of :mod:`serialscale.cli.commands` (setting ``--quiet`` or ``--verbose``
    first, unless the command does it itself: ``quiet`` is ``None``); its
    :class:`CommandError` is one line on stderr per error, and exit code 2."""
    try:
        if quiet is not None:
            commands.set_chatter(quiet, verbose)
        code = command()
    except commands.CommandError as exc:
        for line in exc.lines:
            say(line)
        code = ExitCode.INPUT
    raise typer.Exit(code)


class _Later:
    """A command whose parser is built when first looked at: typer builds every command's
    parser (signatures, type hints, dozens of options) as the command line starts, and a run
    uses one (the others are looked at only to check a configuration file's keys)."""

    def __init__(self, name: str, build: Callable[[], Any]) -> None:
        self.name = name
        self._build = build
        self._built: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, attr)


def _only(argv: list[str]) -> str | None:
    """The command a run of ``argv`` invokes, when its parser is the only one needed now: the
    first argument names a command, and no help or shell completion is asked for (they
    list every command: all are built then)."""
    if not isinstance(app, typer.Typer):  # (replaced, as in tests)
        return None
    names = {typer.main.get_command_name(c.callback.__name__) for c in app.registered_commands
             if c.callback is not None}  # fmt: skip
    if not argv or argv[0] not in names or "-h" in argv or "--help" in argv:
        return None
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return None
    return argv[0]


@contextmanager
def _built_when_used() -> Iterator[None]:
    """While :data:`app` runs, typer builds only the invoked command's parser as it starts,
    the others' when first looked at (see :class:`_Later`)."""
    only = _only(sys.argv[1:])
    build = typer.main.get_command_from_info
    if only is None:
        yield
        return

    def later(command_info: Any, **kwargs: Any) -> Any:
        assert command_info.callback is not None
        name = command_info.name or typer.main.get_command_name(command_info.callback.__name__)
        if name == only:
            return build(command_info, **kwargs)
        return _Later(name, lambda: build(command_info, **kwargs))

    typer.main.get_command_from_info = later  # read by typer.main.get_group_from_info
    try:
        yield
    finally:
        typer.main.get_command_from_info = build


def main() -> None:
    """Run the command line (see :func:`serialscale.cli.quick.outcome`: a bug is one line and
    exit 2, Ctrl-C exit 130, memory that ran out exit 2)."""

    def run() -> int | None:
        try:
            with _built_when_used():
                code: int | None = app(standalone_mode=False)
                return code
        except typer.exceptions.TyperException as exc:  # a usage error: click's message, exit 2
            import io

            shown = io.StringIO()  # click's message quotes what was typed: shown safely
            exc.show(file=shown)  # type: ignore[attr-defined]
            # (click indents its list of choices with tabs: spaces, not a shown \t)
            sys.stderr.write(display(shown.getvalue().replace("\n\t", "\n    "), lines=True))
            sys.exit(getattr(exc, "exit_code", ExitCode.INPUT))
        except typer.Abort:
            interrupted()

    outcome(run)
