"""The workload model every source produces: metadata plus the compact step graph."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .graph import Graph


@dataclass(frozen=True, eq=False)
class Workload:
    """A named set of steps with costs and dependencies, ready to analyze.

    Attributes:
        name: the workload's name (defaults to the file name without its extension).
        graph: the steps and their dependencies.
        source: where it came from (a path, ``-`` for standard input, or a target).
        description: free text from the file.
        unit: label for costs (``minutes``, ``ops``), shown in reports.
        format: the input format it was read from (``serialscale``, ``github-actions``...).
        extra: source-specific facts added to the report: keyword arguments of
            :class:`~serialscale.documents.report.Report` (``params``, ``target``, ``notes``,
            ``connectors``...).
        observed: when a reader has the times of a real run (a ``.ninja_log``, a CI run's
            jobs): each step's observed ``(start, end)`` in the workload's unit, by id.
    """

    name: str
    graph: Graph
    source: str | None = None
    description: str | None = None
    unit: str | None = None
    format: str = "serialscale"
    extra: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, tuple[float, float]] | None = None

    def with_note(self, note: str) -> Workload:
        """This workload with ``note`` after its own notes (what the report says of it)."""
        return replace(self, extra={**self.extra, "notes": [*(self.extra.get("notes") or []),
                                                            note]})  # fmt: skip
