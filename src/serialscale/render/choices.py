"""The choices of the command line: output formats and other enums (kept apart from the
renderers, which import rich).

Every format enum is a key of :data:`serialscale.render.REGISTRY`; a test walks every member.
"""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    """Formats of one report: ``--format`` of ``analyze`` with a single target."""

    table = "table"
    json = "json"
    markdown = "markdown"


class BatchFormat(str, Enum):
    """The ``--format`` choices of ``serialscale analyze`` (the first three also for one
    workload; the rest always render a batch).
    """

    table = "table"
    json = "json"
    markdown = "markdown"
    jsonl = "jsonl"
    csv = "csv"
    github = "github"
    concise = "concise"


class ScaleFormat(str, Enum):
    """``serialscale scale --format``."""

    table = "table"
    json = "json"
    markdown = "markdown"


class DiffFormat(str, Enum):
    """``serialscale diff --format``."""

    table = "table"
    json = "json"
    markdown = "markdown"


class ExportFormat(str, Enum):
    """``serialscale export --to``: the step graph, or the simulated schedule (``trace``)."""

    dot = "dot"
    mermaid = "mermaid"
    graphml = "graphml"
    json = "json"
    trace = "trace"


class GateFormat(str, Enum):
    """``serialscale gate --format``: ``text`` writes only the messages on stderr."""

    text = "text"
    github = "github"


class ControlMode(str, Enum):
    """``--control``: how branches on traced values count."""

    dataflow = "dataflow"
    scoped = "scoped"
    frame = "frame"
    strict = "strict"


class FailOn(str, Enum):
    """``--fail-on``: the class at or below which a workload fails the gate."""

    serial = "serial"
    mixed = "mixed"


class SchemaName(str, Enum):
    """``serialscale schema`` choices."""

    report = "report"
    batch = "batch"
    jsonl = "jsonl"
    scale = "scale"
    workload = "workload"
    diff = "diff"


class ColorMode(str, Enum):
    """``--color``: ANSI colour in tables."""

    auto = "auto"
    always = "always"
    never = "never"


class PlotKind(str, Enum):
    """``analyze --plot-kind``: what an .svg or .png ``--plot`` draws (an .html page holds
    both): the speedup and profile panels, or the schedule chart (a Gantt chart)."""

    speedup = "speedup"
    schedule = "schedule"
