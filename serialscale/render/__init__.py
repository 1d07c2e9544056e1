"""Renderers: a report and presentation settings in, text out. They compute nothing.

Each format's module is imported only when that format is rendered (the table pulls in rich).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..formats import BatchFormat, OutputFormat
from ..report import Report

Renderer = Callable[[Report, int, bool], str]

#: Format -> (module, function); the function takes (report, width, color) or just (report).
RENDERERS: dict[OutputFormat, tuple[str, str]] = {
    OutputFormat.table: ("table", "render_table"),
    OutputFormat.json: ("json_report", "render_json"),
    OutputFormat.markdown: ("markdown", "render_markdown"),
}


def render(report: Report, fmt: OutputFormat, width: int = 100, color: bool = False) -> str:
    """Render ``report`` in format ``fmt`` (``width`` and ``color`` only affect the table)."""
    module, name = RENDERERS[fmt]
    fn = getattr(importlib.import_module(f".{module}", __name__), name)
    return fn(report, width, color) if fmt is OutputFormat.table else fn(report)


__all__ = ["RENDERERS", "BatchFormat", "OutputFormat", "render"]
