"""The names of the output formats (kept apart from the renderers, which import rich)."""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    """Formats of one report or one sweep: ``--format`` of ``scale``."""

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
