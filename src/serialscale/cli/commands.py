"""What each command does, from parsed options to an exit code; the CLI only declares options.

One place decides single versus batch, runs the gates and the baseline comparison, prints the
messages on stderr, renders through :data:`serialscale.render.REGISTRY`, writes the result
whole, and picks the exit code: 2 when any input could not be analyzed or the command was
used wrongly, else 1 when a gate failed, else 0.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..base.defaults import DEFAULT_MAX_INPUT_BYTES
from ..base.errors import ExitCode, SerialscaleError, UsageError, WorkloadError, say
from ..base.words import elided
from ..render.choices import BatchFormat, GateFormat, OutputFormat, ScaleFormat

if TYPE_CHECKING:
    from ..base.limits import Limits
    from ..core.gates import Comparison, Thresholds, Violation
    from ..run.batch import BatchResult, Options
    from ..sources.registry import ReadOptions

# The engine, the renderers and rich are imported inside the functions that use them, so
# that `serialscale --version` and small analyses start fast.

#: Batches at least this long show a progress bar (on a terminal's stderr).
PROGRESS_MIN = 10
#: Console width when standard output is not a terminal.
PIPE_WIDTH = 100


class CommandError(SerialscaleError):
    """The command cannot go on: the message is printed as it is (each of ``lines``, when
    there are several errors), and the exit code is 2."""

    def __init__(self, message: str, *more: str) -> None:
        super().__init__(message)
        self.lines = (message, *more)


def input_error(exc: WorkloadError) -> CommandError:
    """The :class:`CommandError` of an input error: every error it holds, one per line (see
    :class:`serialscale.base.errors.WorkloadErrors`)."""
    from ..base.errors import error_lines

    return CommandError(*error_lines(exc))


def set_chatter(quiet: bool, verbose: bool) -> None:
    """``--quiet`` and ``--verbose`` (see :mod:`serialscale.base.chatter`)."""
    from ..base import chatter

    if quiet and verbose:
        raise fail("--quiet and --verbose exclude each other")
    chatter.set_level(quiet, verbose)


def fail(message: str) -> CommandError:
    """A :class:`CommandError` for a misused flag or an impossible combination."""
    return CommandError(f"error: {message}")


@dataclass(frozen=True)
class Gates:
    """The gate flags of ``analyze`` and ``gate``, checked: ``thresholds`` is ``None`` when no
    gate and no baseline is asked for (gates are then not even imported)."""

    thresholds: Thresholds | None = None
    baseline: Path | None = None
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES  # of the baseline (--max-input-size)


def run_analyze(v: dict[str, Any]) -> ExitCode:
    """``serialscale analyze`` from its parameters (by name, after the configuration file)."""
    from ..render.choices import ColorMode, PlotKind
    from ..run.batch import Options

    gates = _gates(v)
    options = Options(
        processors=v["processors"], overhead=finite_overhead(v["overhead"]), detail=v["detail"],
        params=tuple(parse_params(v["param"] or []).items()),
        control=_control(v), limits=_limits(v), isolate=True,
        read=(None if v["from_"] is None and v["durations"] is None and not v["reverse_edges"]
              else make_read(v["from_"], v["durations"], v["reverse_edges"])),
        what_if=_what_if(v.get("what_if") or []),
        target_depth=_target_depth(v.get("target_depth")),
    )  # fmt: skip
    return analyze(v["files"], options, BatchFormat(v["fmt"]), include=v["include"] or [],
                   exclude=v["exclude"] or [], jobs=v["jobs"], scheduler=v["scheduler"],
                   gates=gates, output=v["output"], color=ColorMode(v["color"]).value,
                   batch=v["batch"], no_ignore=v["no_ignore"], plot=v["plot"],
                   plot_kind=PlotKind(v.get("plot_kind") or "speedup").value)  # fmt: skip


def _target_depth(text: str | None) -> str | None:
    """``--target-depth``, checked before anything is read (its value needs the depth)."""
    if text is None:
        return None
    from ..core.compress import parse_target

    try:
        parse_target(text, 1)
    except ValueError as exc:
        raise fail(str(exc)) from None
    return text


def _what_if(specs: list[str]) -> tuple[Any, ...]:
    """``--what-if`` specs parsed (a bad one is a usage error before anything is read)."""
    if not specs:
        return ()
    from ..base.errors import UsageError
    from ..core.whatif import parse_change

    try:
        return tuple(parse_change(spec) for spec in specs)
    except UsageError as exc:
        raise fail(str(exc)) from None


def run_gate(v: dict[str, Any]) -> ExitCode:
    """``serialscale gate`` from its parameters."""
    gates = _gates(v)
    return gate(v["report"], gates, GateFormat(v["fmt"]), gates.max_input_bytes)


def run_scale(v: dict[str, Any]) -> ExitCode:
    """``serialscale scale`` from its parameters."""
    from ..render.choices import ColorMode

    return scale(v["target"], v["sweep"], params=v["param"] or [], predict=v["predict"],
                 fmt=ScaleFormat(v["fmt"]), processors=v["processors"], repeat=v["repeat"],
                 color=ColorMode(v["color"]).value, control=_control(v),
                 output=v["output"], limits=_limits(v), plot=v["plot"])  # fmt: skip


def _control(v: dict[str, Any]) -> str | None:
    """``--control`` as given (command line or configuration file); None: the default
    (``scoped``, or ``dataflow`` with a note where it cannot run)."""
    from ..render.choices import ControlMode

    return None if v["control"] is None else ControlMode(v["control"]).value


def _gates(v: dict[str, Any]) -> Gates:
    gates = make_gates(_choice(v["fail_on"]), v["min_speedup"], v["max_depth"],
                       v["max_serial_fraction"], v["baseline"],
                       v["max_depth_increase"])  # fmt: skip
    return replace(gates, max_input_bytes=parse_size(v.get("max_input_size") or "1G"))


def _limits(v: dict[str, Any]) -> Limits:
    return make_limits(v["max_steps"], v["max_dependencies"], v["max_input_size"], v["max_ops"],
                       v["timeout"])  # fmt: skip


def _choice(choice: Any) -> str | None:
    return None if choice is None else str(getattr(choice, "value", choice))


def configured(ctx: Any, command: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (the command's parameters by name) with the configuration file's settings
    for the options not given on the command line (see :mod:`serialscale.cli.config`): the file
    found from the folder of what the command reads (its first target), unless ``--config``
    or ``--isolated`` says otherwise. Sets the level of ``--quiet`` and ``--verbose`` first."""
    from ..base import chatter
    from . import config

    set_chatter(bool(values.get("quiet")), bool(values.get("verbose")))
    explicit, isolated = values.get("config"), bool(values.get("isolated"))
    if explicit is not None and isolated:
        raise fail("--config and --isolated exclude each other (--isolated reads no file)")
    try:
        targets = [
            str(t)
            for t in values.get("files") or [values.get("report") or values.get("target") or "-"]
        ]
        start = None if explicit is not None or isolated else _config_start(targets)
        cfg = config.load(command, start, explicit=explicit, isolated=isolated)
        if cfg.path is None:
            chatter.detail("serialscale: no configuration file" + (" (--isolated)" if isolated
                           else ""))  # fmt: skip
            return values
        chatter.detail(f"serialscale: configuration: {config.shown(str(cfg.path))}")
        params = _keyed(ctx.command)
        # one file serves every command: a key of any command is known
        others = [_keyed(c) for c in _commands(ctx) if c is not ctx.command]
        everywhere = set(params).union(*others)
        config.check_keys(cfg, sorted(everywhere))
        out = dict(values)
        applied: dict[str, Any] = {}
        for key, raw in cfg.values.items():
            if key not in params:
                if key in cfg.own:  # in this command's own table: surely meant for it
                    chatter.note(f"{cfg.where(key)}: note: serialscale {command} has no "
                                 f"--{key}; the setting is ignored")  # fmt: skip
                else:  # a top-level setting of other commands: theirs
                    chatter.detail(f"{cfg.where(key)}: note: '{key}' is not a setting of "
                                   f"serialscale {command} (left to the commands that have "
                                   "it)")  # fmt: skip
                continue
            param = params[key]
            source = ctx.get_parameter_source(param.name)
            if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
                chatter.detail(f"{cfg.where(key)}: note: '{key}' is given on the command line, "
                               "which wins")  # fmt: skip
                continue
            try:
                value = _setting(ctx, param, raw, command, values.get(param.name))
            except Exception as exc:  # click's BadParameter, and any conversion error
                detail = (getattr(exc, "message", None) or str(exc)).rstrip(".")
                if key not in cfg.own and any(_takes(ctx, c.get(key), raw) for c in others):
                    # a top-level value meant for another command (format = "markdown"
                    # serves analyze; gate writes text or github)
                    chatter.note(f"{cfg.where(key)}: note: serialscale {command} cannot take "
                                 f"{key} = {config.shown(repr(raw))} ({detail}); the setting "
                                 f"is ignored here (put it in {_table(cfg, command)} to set "
                                 "it for one command)")  # fmt: skip
                    continue
                raise cfg.error(key, f"setting '{key}': {detail}") from None
            out[param.name] = value
            applied[key] = value
            chatter.detail(f"{cfg.where(key)}: note: {key} = {config.shown(repr(raw))}")
        for note in config.notes(cfg, applied, params):
            say(note)  # what the file makes the command write: said even with --quiet
        return out
    except WorkloadError as exc:
        raise input_error(exc) from None


def _config_start(targets: Sequence[str]) -> Path | None:
    """Where the configuration search starts: the folder of the first target. When targets in
    other folders would find another file, a note says which one is used."""
    from ..base import chatter
    from . import config

    start = config.start_of(targets[0]) if targets else None
    if len(targets) > 1 and not chatter.quiet():
        folders = list(dict.fromkeys(config.start_of(t) for t in targets))[:1000]
        found = list(dict.fromkeys(config.find(folder) for folder in folders))
        if len(found) > 1:
            names = ", ".join(config.shown(str(f)) if f else "none" for f in found[:4])
            first = config.find(start)
            chatter.note(
                f"note: the targets are in folders with different configuration files "
                f"({names}{', ...' if len(found) > 4 else ''}); the first target's is used "
                f"({config.shown(str(first)) if first else 'none'}): analyze each folder on its "
                "own, or give --config FILE"
            )
    return start


def _keyed(command: Any) -> dict[str, Any]:
    """A command's options by their long name without dashes (the configuration's keys)."""
    return {max(p.opts, key=len).lstrip("-"): p for p in command.params
            if getattr(p, "opts", None) and p.name not in ("help", "version")}  # fmt: skip


def _setting(ctx: Any, param: Any, raw: Any, command: str, current: Any) -> Any:
    """A configuration value converted as the option's own value would be."""
    value = param.type_cast_value(ctx, raw)
    if value is not None and type(param.type).__name__.endswith("Path"):
        value = Path(value)  # as typer gives a Path option (plot, output, baseline)
    kind = _enum_types().get(param.name)
    if kind is not None and value is not None:
        value = (kind[command] if isinstance(kind, dict) else kind)(value)
    elif isinstance(current, Enum):
        value = type(current)(value)
    return list(value) if isinstance(value, tuple) else value


def _takes(ctx: Any, param: Any, raw: Any) -> bool:
    """Whether ``param`` (another command's option, or ``None``) takes the value ``raw``."""
    if param is None:
        return False
    try:
        param.type_cast_value(ctx, raw)
    except Exception:
        return False
    return True


def _table(cfg: Any, command: str) -> str:
    from .config import table_prefix

    return f"[{table_prefix(cfg)}{command}]"


def _commands(ctx: Any) -> list[Any]:
    root = ctx.find_root().command
    return list(getattr(root, "commands", {}).values()) or [ctx.command]


def _enum_types() -> dict[str, Any]:
    from ..render.choices import ColorMode, ControlMode, FailOn

    return {"fail_on": FailOn, "control": ControlMode, "color": ColorMode,
            "fmt": {"analyze": BatchFormat, "scale": ScaleFormat, "gate": GateFormat}}  # fmt: skip


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """``["n=8", "x=1.5"]`` to ``{"n": "8", "x": "1.5"}``; a malformed item is a usage error."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise fail(f"--param expects NAME=VALUE, got {item!r}")
        params[name.strip()] = value
    return params


#: ``--repeat`` above this is surely a typo.
MAX_REPEAT = 1000
#: ``--jobs`` above this is surely a typo (and would ask the system for that many processes).
MAX_JOBS = 1024
_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """``--max-input-size``: bytes, or a number with K, M, G or T (powers of 1024)."""
    raw = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = raw[-1:] if raw[-1:] in _SIZE_UNITS else ""
    from ..base.words import plain_number

    number = plain_number(raw[: len(raw) - len(unit)])
    value = math.nan if number is None else number * _SIZE_UNITS[unit]
    if not 1 <= value < 2**62:
        raise fail(f"--max-input-size expects a size such as 1G, 500M or 1000000, got {text!r}")
    return int(value)


def make_limits(
    max_steps: int, max_dependencies: int, max_input_size: str, max_ops: int,
    timeout: float | None,
) -> Limits:  # fmt: skip
    """Check the limit flags and bundle them."""
    from ..base.limits import Limits

    for name, value in (("--max-steps", max_steps), ("--max-dependencies", max_dependencies),
                        ("--max-ops", max_ops)):  # fmt: skip
        if not 1 <= value < 2**62:
            raise fail(f"{name} must be a positive integer, got {value}")
    if timeout is not None and not 0 < timeout < math.inf:
        raise fail(f"--timeout must be a positive number of seconds, got {timeout}")
    return Limits(max_steps, max_dependencies, parse_size(max_input_size), max_ops, timeout)


def finite_overhead(overhead: float) -> float | int:
    """``--overhead``: finite and >= 0; an int when it is whole (reports keep integer costs)."""
    if not 0 <= overhead < math.inf:
        raise fail(f"--overhead must be a finite number >= 0, got {overhead}")
    return int(overhead) if float(overhead).is_integer() else overhead


def make_gates(
    fail_on: str | None,
    min_speedup: float | None,
    max_depth: float | None,
    max_serial_fraction: float | None,
    baseline: Path | None,
    max_depth_increase: float | None,
) -> Gates:
    """Check the gate flags and bundle them."""
    if max_depth_increase is not None and baseline is None:
        raise fail("--max-depth-increase needs --baseline")
    for name, value in (("--min-speedup", min_speedup), ("--max-depth", max_depth),
                        ("--max-serial-fraction", max_serial_fraction),
                        ("--max-depth-increase", max_depth_increase)):  # fmt: skip
        if value is not None and not 0 <= value < math.inf:
            raise fail(f"{name} must be a finite number >= 0, got {value}")
    if max_serial_fraction is not None and max_serial_fraction > 1:
        raise fail(f"--max-serial-fraction is depth / work, between 0 and 1: got "
                   f"{max_serial_fraction:g}, a gate that can never fail")  # fmt: skip
    if fail_on is None and baseline is None and (min_speedup, max_depth, max_serial_fraction) == (
        None, None, None
    ):  # fmt: skip
        return Gates()
    from ..core.gates import Thresholds

    thresholds = Thresholds(
        fail_on=fail_on,
        min_speedup=min_speedup,
        max_depth=max_depth,
        max_serial_fraction=max_serial_fraction,
        max_depth_increase=max_depth_increase,
    )
    return Gates(thresholds, baseline)


def console_width() -> int:
    """The terminal's width when standard output is one; else ``COLUMNS`` when it is set (as
    CI systems and ``COLUMNS=80 cmd | less`` do), else :data:`PIPE_WIDTH`."""
    if _tty(sys.stdout):
        try:
            return os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):
            return PIPE_WIDTH
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return PIPE_WIDTH
    return columns if 20 <= columns <= 1000 else PIPE_WIDTH


def wants_color(fmt: Enum, output: Path | None, mode: str = "auto") -> bool:
    """ANSI colour, for tables only. ``--color always`` or ``never`` decide; ``auto`` follows
    the conventions (https://no-color.org, force-color.org): ``NO_COLOR`` set turns colour
    off, ``FORCE_COLOR`` set (not ``0``) turns it on, ``TERM=dumb`` off; else colour when
    standard output is a terminal and no ``--output`` file is written."""
    if fmt.value != "table" or mode == "never":
        return False
    if mode == "always":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "0") not in ("", "0"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return (output is None or str(output) == "-") and _tty(sys.stdout)


def _tty(stream: TextIO | None) -> bool:
    """Whether ``stream`` is an open terminal (a closed standard stream is ``None``)."""
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def emit(text: str | bytes, output: Path | None) -> None:
    """Write the result (text, or text in UTF-8) to standard output, or to ``output`` whole
    (or not at all)."""
    if output is None or str(output) == "-":
        from .output import write_stdout

        try:
            write_stdout(text)
        except (OSError, ValueError) as exc:
            _silence_stdout()
            reason = getattr(exc, "strerror", None) or str(exc)
            message = f"error: cannot write the result to standard output: {reason}"
            raise CommandError(message) from None
        return
    from .output import write_atomically

    try:
        write_atomically(output, text)
    except OSError as exc:
        raise CommandError(
            f"{output}: error: cannot write the output: {exc.strerror or exc}"
        ) from None


def _remember_traced_files(targets: Sequence[str]) -> None:
    """The files of traced functions (``x.py:f``) are inputs too: an output never replaces
    them (they are read in the function's process, not here)."""
    from ..base.reading import remember_input
    from ..base.targets import looks_like_function

    for target in targets:
        where = target.rpartition(":")[0]
        if not where or not looks_like_function(target):
            continue
        if where.endswith(".py"):
            files = [Path(where)]
        elif all(part.isidentifier() for part in where.split(".")):
            # a module (pkg.mod:f), as it would be found from here, without importing it
            parts = where.split(".")
            files = [Path(*parts).with_suffix(".py"), Path(*parts, "__init__.py")]
        else:
            continue
        for file in files:
            with contextlib.suppress(OSError, ValueError):
                remember_input(os.stat(file))


def _silence_stdout() -> None:
    """After a failed write to stdout (a closed pipe), send what is left to /dev/null, so the
    interpreter's last flush does not fail again with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def analyze(
    files: Sequence[str],
    options: Options,
    fmt: BatchFormat,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    jobs: int = 1,
    scheduler: str | None = None,
    gates: Gates = Gates(),
    output: Path | None = None,
    color: str = "auto",
    batch: bool = False,
    no_ignore: bool = False,
    plot: Path | None = None,
    plot_kind: str = "speedup",
) -> ExitCode:
    """``serialscale analyze``: one target gives one report (table, json, markdown); several
    targets, a directory, a batch-only format or ``batch`` give a batch."""
    from ..run.batch import (
        analyze_batch,
        analyze_function_json,
        analyze_target,
        collect_targets,
        is_batch,
        with_path,
    )

    if not 1 <= jobs <= MAX_JOBS:
        raise fail(f"--jobs must be between 1 and {MAX_JOBS}, got {jobs}")
    found = collect_targets(files, include, exclude, foreign=options.read is not None
                            and options.read.fmt is not None,
                            respect_ignores=not no_ignore)  # fmt: skip
    from ..base import chatter

    for note in found.notes:
        chatter.note(f"note: {note}")
    for path in found.not_workloads:
        chatter.detail(f"{path}: skipped: not a workload (no top-level 'steps' list)")
    targets = found.targets
    _remember_traced_files(targets)
    if not targets and not found.errors:
        raise fail("no workloads found (directories are searched for *.yaml, *.yml, *.json)")
    colored = wants_color(fmt, output, color)
    single = not batch and not is_batch(files) and fmt.value in OutputFormat.__members__
    if plot is None and plot_kind != "speedup":
        raise fail(f"--plot-kind {plot_kind} chooses the chart of --plot FILE: give --plot")
    if plot is not None:
        check_plot(plot, output)
        if not single:
            raise fail("--plot draws one report: give one target (without --batch)")
    if single:
        _render_meanwhile(targets[0], OutputFormat(fmt.value))
        out_of_memory = False
        chart = None  # the schedule chart of --plot (it needs the graph: analyzed here)
        rendered = None  # the report's JSON text in UTF-8, when it came so (_rendered_there)
        charted = plot is not None and (plot_kind == "schedule" or plot.suffix.lower() == ".html")
        try:  # one target: no worker, no round trip
            if charted:
                from ..run.schedule_chart import analyze_with_gantt

                report, chart = analyze_with_gantt(targets[0], options)
                report = with_path(report)
            elif _rendered_there(targets[0], options, fmt, gates, plot):
                came = analyze_function_json(targets[0], options)
                if isinstance(came, bytes):
                    rendered = came
                else:
                    report = with_path(came)
            else:
                report = with_path(analyze_target(targets[0], options))
        except WorkloadError as exc:
            raise input_error(exc) from None
        except MemoryError:  # said below, once the exception (and all it holds) is gone
            out_of_memory = True
        except UsageError as exc:
            raise fail(str(exc)) from None
        if out_of_memory:
            gc.collect()
            raise CommandError(f"{targets[0]}: error: ran out of memory analyzing it")
        if rendered is not None:  # what finish() writes of one report with no gate
            emit(rendered, output)
            return ExitCode.OK
        from ..documents.report import BatchResult

        _say_read(BatchResult(results=[report]), 1)
        code = finish(BatchResult(results=[report]), gates, OutputFormat(fmt.value), output,
                      colored)  # fmt: skip
        if plot is not None:  # after the result: where it cannot be written, no plot is either
            write_plot(report, plot, plot_kind, chart)
        return code
    gc.enable()  # a batch runs long: collect cycles again (the command starts without)
    try:
        with _progress(len(targets)) as advance:
            result = analyze_batch(
                targets, options, jobs=jobs, scheduler=scheduler, progress=advance
            )
    except UsageError as exc:
        raise fail(str(exc)) from None
    if found.errors:  # directories that could not be listed, in path order with the rest
        result.errors = sorted([*found.errors, *result.errors], key=lambda e: e.source)
    _say_read(result, len(targets), jobs, scheduler)
    return finish(result, gates, fmt, output, colored)


def _rendered_there(target: str, options: Options, fmt: BatchFormat, gates: Gates,
                    plot: Path | None) -> bool:  # fmt: skip
    """Whether the one report of ``target`` may come rendered as JSON from the process that
    computes it (:func:`serialscale.run.batch.analyze_function_json`): a traced function run
    in a process of its own, shown as JSON, with nothing else done with the report here
    (no gate, no plot, no ``--verbose`` line, no ``path`` to add: :func:`with_path`)."""
    from ..base import chatter
    from ..base.targets import looks_like_function
    from ..run.batch import project_path

    return (fmt.value == OutputFormat.json.value and options.isolate and gates.thresholds is None
            and plot is None and not chatter.verbose() and looks_like_function(target)
            and project_path(target) is None)  # fmt: skip


#: The module of each single report's renderer (see :data:`serialscale.render.REGISTRY`).
_RENDERERS = {OutputFormat.table: "table", OutputFormat.json: "json_report",
              OutputFormat.markdown: "markdown"}  # fmt: skip


def _render_meanwhile(target: str, fmt: OutputFormat) -> None:
    """Import what renders and writes a report of ``fmt`` while ``target``, a traced
    function, runs in a process of its own (:func:`serialscale.run.isolation.import_meanwhile`):
    after its result, they were 10-15 ms of a small function's run through the command line."""
    from ..base.targets import looks_like_function

    if not looks_like_function(target):
        return
    from ..run.isolation import import_meanwhile

    import_meanwhile(f"serialscale.render.{_RENDERERS[fmt]}", "serialscale.cli.output")


def _say_read(result: BatchResult, targets: int, jobs: int = 1, scheduler: str | None = None
              ) -> None:  # fmt: skip
    """``--verbose``: the reader of each workload, its size, and the time taken."""
    from ..base import chatter

    if not chatter.verbose():
        return
    from ..base.words import plural

    for r in result.results:
        chatter.detail(f"{r.source or r.workload}: read as {r.format}: {plural(r.steps, 'step')},"
                       f" {plural(r.dependencies, 'dependency')}")  # fmt: skip
    where = f"on {scheduler}" if scheduler else plural(max(1, min(jobs, targets)), "process")
    chatter.timing(f"{plural(targets, 'target')} analyzed ({where})")


def gate(
    path: Path, gates: Gates, fmt: GateFormat, max_bytes: int = DEFAULT_MAX_INPUT_BYTES
) -> ExitCode:
    """``serialscale gate``: gate a saved report (validated as it is read, at most
    ``max_bytes`` of it) without analyzing; ``-`` is a report piped from ``analyze``."""
    from ..documents.report import read_saved
    from ..run.batch import BatchResult

    try:
        saved = read_saved(path, max_bytes)
    except WorkloadError as exc:
        raise input_error(exc) from None
    reports, errors = saved.reports, saved.errors
    from ..base.chatter import timing

    timing(f"{path}: read")
    code = finish(BatchResult(results=reports, errors=errors), gates, fmt, None, False)
    if code == ExitCode.OK and fmt is GateFormat.text:  # one line, so a pass is seen
        from ..base.words import plural

        n = len(reports)
        from ..base.chatter import note

        if gates.thresholds is None:
            note(f"{path}: no gate was given (--fail-on, --min-speedup, --max-depth, "
                 "--max-serial-fraction, --baseline): nothing was checked")  # fmt: skip
        else:
            note(f"{path}: {plural(n, 'report')} passed every gate")
    return code


def finish(
    result: BatchResult, gates: Gates, fmt: Enum, output: Path | None, color: bool
) -> ExitCode:
    """Gate, render, write, report on stderr, and pick the exit code."""
    from ..render import Rendering, render_as

    violations, comparison = _run_gates(result, gates)
    document = result.results[0] if isinstance(fmt, OutputFormat) else result
    gated = gates.thresholds is not None
    rendering = Rendering(document, console_width(), color, violations, comparison, gated)
    emit(render_as(fmt, rendering), output)
    for error in result.errors:
        say(error)
    if comparison is not None:
        _print_comparison(comparison)
    for v in violations:
        say(f"{v.source}: gate failed: {v.gate}: {v.workload}: {v.message}")
    if result.errors:
        return ExitCode.INPUT
    return ExitCode.GATE_FAILED if violations else ExitCode.OK


def _run_gates(result: BatchResult, gates: Gates) -> tuple[list[Violation], Comparison | None]:
    if gates.thresholds is None:
        return [], None
    from ..core.gates import check, check_baseline, compare
    from ..documents.report import read_saved

    violations = check(result.results, gates.thresholds)
    if gates.baseline is None:
        return violations, None
    try:
        old = read_saved(gates.baseline, gates.max_input_bytes).reports
    except WorkloadError as exc:
        raise input_error(exc) from None
    from ..base.reading import forget_input

    forget_input(gates.baseline)  # (-o may update the baseline in place: it was read whole)
    from ..core.gates import BaselineMismatch

    try:
        comparison = compare(result.results, old)
    except BaselineMismatch as exc:
        raise CommandError(f"{gates.baseline}: error: --baseline: {exc}") from None
    violations += check_baseline(comparison, gates.thresholds.max_depth_increase)
    return violations, comparison


def _print_comparison(comparison: Comparison) -> None:
    from ..base.chatter import note

    for c in comparison.changes:
        if c.before != c.after:
            note(f"{c.source}: changed: {c.describe()}")
    for src in comparison.new:
        note(f"{src}: new workload (not in the baseline)")
    for src in comparison.removed:
        note(f"{src}: removed (in the baseline only)")


@contextmanager
def _progress(total: int, least: int = PROGRESS_MIN, what: str = "analyzing"
              ) -> Iterator[Callable[[int], None] | None]:  # fmt: skip
    """A progress bar on stderr when it is a terminal, there are at least ``least`` things to
    do and ``--quiet`` is not given; nothing when stderr is piped (a CI log)."""
    from ..base.chatter import quiet

    if total < least or not _tty(sys.stderr) or quiet():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def parse_predict(predict: str | None, parameter: str) -> float | None:
    """``--predict NAME=VALUE`` for the swept ``parameter``: a finite positive size."""
    if predict is None:
        return None
    from ..base.words import plain_number

    name, sep, text = predict.partition("=")
    number = plain_number(text)
    try:
        at = math.nan if number is None else float(number)
    except OverflowError:  # an integer past the largest float: no size to predict at
        at = math.inf
    if not sep or name.strip() != parameter or not 0 < at < math.inf:
        raise fail(f"--predict expects {parameter}=VALUE (a positive number), got {predict!r}")
    return at


def scale(
    target: str,
    sweep: str,
    *,
    params: Sequence[str] = (),
    predict: str | None = None,
    fmt: ScaleFormat = ScaleFormat.table,
    processors: int,
    control: str | None,
    limits: Limits,
    output: Path | None = None,
    repeat: int = 1,
    color: str = "auto",
    plot: Path | None = None,
) -> ExitCode:
    """``serialscale scale``: sweep a size parameter and fit how the graph grows."""
    from ..render import Rendering, render_as
    from ..run.sweep import run_sweep
    from .options import parse_sweep

    gc.enable()  # a sweep runs long: collect cycles again (the command starts without)
    _remember_traced_files([target])
    try:
        name, values = parse_sweep(sweep)
    except ValueError as exc:
        raise fail(str(exc)) from None
    at = parse_predict(predict, name)
    if plot is not None:
        check_plot(plot, output)
    if not 1 <= repeat <= MAX_REPEAT:
        raise fail(f"--repeat must be between 1 and {MAX_REPEAT}, got {repeat}")
    try:
        with _progress(len(set(values)), 2, f"sweeping {name}") as advance:
            result = run_sweep(
                target, name, values, params=parse_params(params), control=control,
                limits=limits, processors=processors, predict=at, isolate=True, repeat=repeat,
                progress=advance,
            )  # fmt: skip
    except WorkloadError as exc:
        raise input_error(exc) from None
    except UsageError as exc:
        raise fail(str(exc)) from None
    if plot is not None:
        write_plot(result, plot)
    from ..base.chatter import timing
    from ..base.words import plural

    timing(f"{plural(len(result.points), 'size')} of {name} analyzed")
    rendering = Rendering(result, console_width(), wants_color(fmt, output, color))
    emit(render_as(fmt, rendering), output)
    return ExitCode.OK


PLOT_SUFFIXES = (".svg", ".png", ".html")


def check_plot(path: Path, output: Path | None = None) -> None:
    """``--plot FILE``: a known suffix, not the ``--output`` file (one would overwrite the
    other), and matplotlib installed (the ``plot`` extra)."""
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise fail(f"--plot {path}: the file must end in .svg, .png or .html")
    if output is not None and str(output) != "-" and _same_file(path, output):
        raise fail(f"--plot {path} and --output {output} name the same file: give each its own")
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        from ..render.plots import EXTRA_MESSAGE

        raise fail(EXTRA_MESSAGE.removeprefix("--plot "))


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (the same path, or both existing as one)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def write_plot(document: Any, path: Path, kind: str = "speedup", gantt: Any = None) -> None:
    """Draw ``document`` (a report or a sweep) into ``path``, whole or not at all (``kind``
    and ``gantt``, the schedule chart: see :func:`serialscale.render.plots.plot`)."""
    from ..render.plots import PlotUnavailable, plot
    from .output import write_atomically

    try:
        data = plot(document, path.suffix.lower(), kind, gantt)
    except PlotUnavailable as exc:
        raise fail(str(exc).removeprefix("--plot ")) from None
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise CommandError(f"{path}: error: cannot write the plot: {exc.strerror or exc}") from None


def _render_html(document: Any, output: Path | None) -> ExitCode:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        from ..render.plots import EXTRA_MESSAGE

        raise fail(EXTRA_MESSAGE.replace("--plot", "--format html"))
    from ..render.plots import plot

    emit(plot(document, ".html").decode("utf-8"), output)
    return ExitCode.OK


@contextmanager
def _drawable(path: Path) -> Iterator[None]:
    """Rendering a saved document that passed validation but holds values no analysis
    gives (a size past the largest float, a denormal bound, a curve point of one number:
    a file edited or made elsewhere): a located error, exit 2, nothing written."""
    try:
        yield
    except (ArithmeticError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise CommandError(
            f"{path}: error: the saved document holds values serialscale cannot "
            f"render ({type(exc).__name__}: {elided(str(exc))}); re-create it with "
            "`serialscale analyze` or `scale`"
        ) from None


def render_saved(
    path: Path, fmt: str, output: Path | None, color: str = "auto", max_input_size: str = "1G"
) -> ExitCode:
    """``serialscale render``: a saved report, batch or sweep (JSON or JSON lines) rendered
    again in any format, without analyzing (as ``coverage report`` renders saved data)."""
    with _drawable(path):
        return _render_saved(path, fmt, output, color, max_input_size)


def _render_saved(
    path: Path, fmt: str, output: Path | None, color: str, max_input_size: str
) -> ExitCode:
    from ..documents.report import read_saved
    from ..run.batch import BatchResult

    if fmt != "html" and fmt not in BatchFormat.__members__:
        raise fail(f"--format {fmt}: expected one of {', '.join(BatchFormat.__members__)}, html")
    try:
        saved = read_saved(path, parse_size(max_input_size), sweeps=True)
    except WorkloadError as exc:
        raise input_error(exc) from None
    sweep = saved.sweep
    if sweep is not None:
        if fmt == "html":
            return _render_html(sweep, output)
        if fmt not in ScaleFormat.__members__:
            raise fail(f"--format {fmt}: a sweep renders as table, json, markdown or html")
        scale_fmt = ScaleFormat(fmt)
        from ..render import Rendering, render_as

        emit(
            render_as(
                scale_fmt, Rendering(sweep, console_width(), wants_color(scale_fmt, output, color))
            ),
            output,
        )
        return ExitCode.OK
    reports, errors, batch = saved.reports, saved.errors, saved.batch
    if fmt == "html":
        if batch:
            raise fail("--format html renders one report or a sweep, not a batch")
        return _render_html(reports[0], output)
    if not batch and fmt in OutputFormat.__members__:
        chosen: Enum = OutputFormat(fmt)
    else:
        chosen = BatchFormat(fmt)
    result = BatchResult(results=reports, errors=errors)
    from ..render import Rendering, render_as

    document = result.results[0] if isinstance(chosen, OutputFormat) else result
    emit(
        render_as(chosen, Rendering(document, console_width(), wants_color(chosen, output, color))),
        output,
    )
    return ExitCode.OK


def export(
    target: str,
    fmt: str,
    *,
    processors: int,
    max_nodes: int,
    output: Path | None,
    params: Sequence[str] = (),
    control: str | None = None,
    limits: Limits | None = None,
    read: ReadOptions | None = None,
) -> ExitCode:
    """``serialscale export``: the step graph with its schedule, or the simulated schedule on
    ``processors`` processors as Chrome trace events."""
    _remember_traced_files([target])
    from ..base.limits import DEFAULT_LIMITS
    from ..render import Rendering, render_as
    from ..render.choices import ExportFormat
    from ..run.export import prepare_export
    from ..sources import load_target
    from ..sources.registry import DEFAULT_READ

    if processors < 1 or max_nodes < 1:
        raise fail("--processors and --max-nodes must be at least 1")
    try:
        workload = load_target(target, parse_params(params), control, limits or DEFAULT_LIMITS,
                               read or DEFAULT_READ)  # fmt: skip
        document = prepare_export(workload, ExportFormat(fmt), processors, max_nodes)
    except WorkloadError as exc:
        raise input_error(exc) from None
    kind = ExportFormat(fmt)
    try:  # a graph the format cannot hold (a trace past 2**53 µs) is the input's problem
        text = render_as(kind, Rendering(document))
    except WorkloadError as exc:
        raise input_error(exc) from None
    emit(text, output)
    return ExitCode.OK


def make_read(fmt: str | None, durations: str | None, reverse_edges: bool) -> ReadOptions:
    """Check ``--from`` (a known format) and bundle the input flags."""
    from ..sources.registry import READERS, ReadOptions

    if fmt is not None and fmt not in READERS:
        from ..base.errors import suggest

        raise fail(f"--from: unknown format '{fmt}'{suggest(fmt, READERS)}; known: "
                   f"{', '.join(READERS)}")  # fmt: skip
    return ReadOptions(fmt, durations, reverse_edges)


def formats() -> ExitCode:
    """``serialscale formats``: the input formats and how each is recognised."""
    from ..sources.registry import READERS

    lines = []
    for reader in READERS.values():
        lines.append(f"{reader.name}\n  {reader.description}\n  recognised: {reader.recognised}")
    lines.append("python\n  traced functions (file.py:function, package.module:function); a "
                 "function may return a networkx.DiGraph, a dask collection or an Airflow-style "
                 "DAG\n  recognised: TARGET:FUNCTION")  # fmt: skip
    emit("\n\n".join(lines) + "\n", None)
    return ExitCode.OK


def schema(name: str) -> ExitCode:
    """``serialscale schema NAME``: print a JSON Schema."""
    from ..documents.schemas import SCHEMAS
    from ..render.json_report import dumps

    emit(dumps(SCHEMAS[name]()), None)
    return ExitCode.OK


def diff(old: str, new: str, *, fmt: str, processors: int, output: Path | None,
         thresholds: Thresholds | None, params: Sequence[str] = (), control: str | None = None,
         limits: Limits | None = None, read: ReadOptions | None = None) -> ExitCode:  # fmt: skip
    """``serialscale diff OLD NEW``: what changed between two workloads or saved reports, and
    which changed steps moved the depth; gates on the new side and on the depth's growth."""
    from ..base.limits import DEFAULT_LIMITS
    from ..core import diff as diffing
    from ..core.gates import Change, check
    from ..render.choices import DiffFormat
    from ..render.diff import render_diff_json, render_diff_markdown, render_diff_table
    from ..sources import load_target
    from ..sources.registry import DEFAULT_READ

    _remember_traced_files([old, new])
    lim = limits or DEFAULT_LIMITS
    given = parse_params(params)

    def load(target: str) -> Any:
        return load_target(target, given, control, lim, read or DEFAULT_READ)

    try:
        before = diffing.load_side(old, load, processors, lim.max_input_bytes)
        after = diffing.load_side(new, load, processors, lim.max_input_bytes)
        document = diffing.diff(before, after)
    except WorkloadError as exc:
        raise input_error(exc) from None
    unit, old_unit = after.report.unit, before.report.unit
    kind = DiffFormat(fmt)
    if kind is DiffFormat.json:
        text = render_diff_json(document)
    elif kind is DiffFormat.markdown:
        text = render_diff_markdown(document, unit, old_unit)
    else:
        text = render_diff_table(document, unit, old_unit)
    emit(text, output)
    if thresholds is None:
        return ExitCode.OK
    failed = [f"{v.gate}: {v.message}" for v in check([after.report], thresholds)]
    limit = thresholds.max_depth_increase
    if limit is not None:
        change = Change(new, after.report.workload,
                        {"depth": before.report.depth, "work": before.report.work},
                        {"depth": after.report.depth, "work": after.report.work})  # fmt: skip
        grew = change.depth_increase
        if grew is not None and grew > limit:
            failed.append(f"max-depth-increase: {change.describe()}, more than {limit:g}%")
    from ..base.errors import display

    for message in failed:
        say(display(f"{new}: gate failed: {message}"))
    return ExitCode.GATE_FAILED if failed else ExitCode.OK
