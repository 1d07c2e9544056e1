"""The names of the output formats (kept apart from the renderers, which import rich).

Every enum here is a key of :data:`serialscale.render.REGISTRY`; a test walks every member.
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


class ScaleFormat(str, Enum):
    """``serialscale scale --format``."""

    table = "table"
    json = "json"
    markdown = "markdown"


class GateFormat(str, Enum):
    """``serialscale gate --format``: ``text`` writes only the messages on stderr."""

    text = "text"
    github = "github"
