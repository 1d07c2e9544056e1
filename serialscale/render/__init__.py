"""Renderers: a report and presentation settings in, text out. They compute nothing."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from ..report import Report
from .json_report import render_json
from .markdown import render_markdown
from .table import render_table


class OutputFormat(str, Enum):
    """The ``--format`` choices of ``serialscale analyze``."""

    table = "table"
    json = "json"
    markdown = "markdown"


Renderer = Callable[[Report, int, bool], str]

RENDERERS: dict[OutputFormat, Renderer] = {
    OutputFormat.table: lambda report, width, color: render_table(report, width, color),
    OutputFormat.json: lambda report, width, color: render_json(report),
    OutputFormat.markdown: lambda report, width, color: render_markdown(report),
}


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


def render(report: Report, fmt: OutputFormat, width: int = 100, color: bool = False) -> str:
    """Render ``report`` in format ``fmt`` (``width`` and ``color`` only affect the table)."""
    return RENDERERS[fmt](report, width, color)


__all__ = [
    "RENDERERS",
    "BatchFormat",
    "OutputFormat",
    "render",
    "render_json",
    "render_markdown",
    "render_table",
]
