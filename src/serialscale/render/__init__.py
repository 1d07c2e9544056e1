"""Renderers: a document and presentation settings in, text out. They compute nothing.

:data:`REGISTRY` maps every member of every format enum to its renderer; a renderer takes a
:class:`Rendering` (the document, the gate outcome where there is one, width and colour).
Each format's module is imported only when that format is rendered (the table pulls in rich).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

from .choices import BatchFormat, ExportFormat, GateFormat, OutputFormat, ScaleFormat

if TYPE_CHECKING:
    from ..core.gates import Comparison, Violation
    from ..documents.report import BatchResult, Report, ScaleReport


@dataclass(frozen=True)
class Export:
    """What ``serialscale export`` renders: the graph, its report (with ``--detail``
    records), the list schedule on ``processors`` (for ``trace``) and the node limit, all
    computed before (:func:`serialscale.run.export.prepare_export`): renderers compute nothing."""

    graph: Any
    report: Any
    schedule: Any
    processors: int
    max_nodes: int
    #: A real run's (start, end) per step id, where the reader has one (trace draws it).
    observed: Any = None
    #: Each step's ASAP level (:func:`serialscale.core.metrics.step_levels`), which DOT and
    #: Mermaid collapse graphs of more than ``max_nodes`` steps by; None when not needed.
    levels: Any = None


@dataclass(frozen=True)
class Rendering:
    """What a renderer gets: one document (a report, a batch or a sweep), the gate outcome
    (batch formats), and the presentation settings (console width, ANSI colour)."""

    document: Any
    width: int = 100
    color: bool = False
    violations: list[Violation] = field(default_factory=list)
    comparison: Comparison | None = None
    gated: bool = False  # whether gates ran (the JSON batch then lists failed_gates)


Renderer = Callable[[Rendering], str]


def _report(r: Rendering) -> Report:
    document: Any = r.document
    return document


def _batch(r: Rendering) -> BatchResult:
    document: Any = r.document
    return document


def _sweep(r: Rendering) -> ScaleReport:
    document: Any = r.document
    return document


def _single_table(r: Rendering) -> str:
    from .table import render_table

    return render_table(_report(r), r.width, r.color)


def _single_json(r: Rendering) -> str:
    from .json_report import render_json

    return render_json(_report(r))


def _single_markdown(r: Rendering) -> str:
    from .markdown import render_markdown

    return render_markdown(_report(r))


def _batch_table(r: Rendering) -> str:
    from .batch import render_batch_table

    return render_batch_table(_batch(r), r.width, r.color)


def _batch_json(r: Rendering) -> str:
    from .batch import render_batch_json

    return render_batch_json(_batch(r), r.violations if r.gated else None)


def _batch_markdown(r: Rendering) -> str:
    from .batch import render_batch_markdown

    return render_batch_markdown(_batch(r), r.violations, r.comparison)


def _batch_jsonl(r: Rendering) -> str:
    from .batch import render_batch_jsonl

    return render_batch_jsonl(_batch(r))


def _batch_csv(r: Rendering) -> str:
    from .batch import render_batch_csv

    return render_batch_csv(_batch(r))


def _github(r: Rendering) -> str:
    from .batch import render_github

    return render_github(_batch(r).errors, r.violations, r.comparison)


def _nothing(r: Rendering) -> str:
    # gate --format text and analyze --format concise: the one-line messages on stderr
    # (located errors, failed gates) are the whole output, as ruff's concise format
    return ""


def _scale_table(r: Rendering) -> str:
    from .scale import render_scale_table

    return render_scale_table(_sweep(r), r.width, r.color)


def _scale_json(r: Rendering) -> str:
    from .scale import render_scale_json

    return render_scale_json(_sweep(r))


def _scale_markdown(r: Rendering) -> str:
    from .scale import render_scale_markdown

    return render_scale_markdown(_sweep(r))


def _export(r: Rendering, fmt: ExportFormat) -> str:
    from . import export as ex

    e: Export = r.document
    if fmt is ExportFormat.dot:
        return ex.to_dot(e.graph, e.report, e.max_nodes, e.levels)
    if fmt is ExportFormat.mermaid:
        return ex.to_mermaid(e.graph, e.report, e.max_nodes, e.levels)
    if fmt is ExportFormat.graphml:
        return ex.to_graphml(e.graph, e.report)
    if fmt is ExportFormat.json:
        return ex.to_node_link(e.graph, e.report)
    return ex.to_trace(e.graph, e.report, e.schedule, e.processors, e.observed)


#: Every output format of every command, to its renderer: one table per enum (the enums are
#: ``str`` enums, so ``OutputFormat.json == BatchFormat.json``: one flat dict would merge them).
REGISTRY: dict[type[Enum], dict[Any, Renderer]] = {
    OutputFormat: {
        OutputFormat.table: _single_table,
        OutputFormat.json: _single_json,
        OutputFormat.markdown: _single_markdown,
    },
    BatchFormat: {
        BatchFormat.table: _batch_table,
        BatchFormat.json: _batch_json,
        BatchFormat.markdown: _batch_markdown,
        BatchFormat.jsonl: _batch_jsonl,
        BatchFormat.csv: _batch_csv,
        BatchFormat.github: _github,
        BatchFormat.concise: _nothing,
    },
    ScaleFormat: {
        ScaleFormat.table: _scale_table,
        ScaleFormat.json: _scale_json,
        ScaleFormat.markdown: _scale_markdown,
    },
    GateFormat: {
        GateFormat.text: _nothing,
        GateFormat.github: _github,
    },
    ExportFormat: {member: partial(_export, fmt=member) for member in ExportFormat},
}

#: The enums the registry covers (the tests check it covers every member of each).
FORMAT_ENUMS: tuple[type[Enum], ...] = tuple(REGISTRY)


def render_as(fmt: Enum, rendering: Rendering) -> str:
    """Render ``rendering`` in format ``fmt`` (any member of :data:`FORMAT_ENUMS`)."""
    return REGISTRY[type(fmt)][fmt](rendering)


def render(report: Report, fmt: OutputFormat, width: int = 100, color: bool = False) -> str:
    """Render one report in format ``fmt`` (``width`` and ``color`` only affect the table)."""
    return render_as(fmt, Rendering(report, width, color))


__all__ = [
    "FORMAT_ENUMS",
    "REGISTRY",
    "BatchFormat",
    "Export",
    "ExportFormat",
    "GateFormat",
    "OutputFormat",
    "Rendering",
    "ScaleFormat",
    "render",
    "render_as",
]
