"""JSON Schemas (draft 2020-12) of everything serialscale reads or writes as JSON.

``serialscale schema report|batch|jsonl|scale|workload|diff`` prints them. The output schemas are
generated from the declarations in :mod:`serialscale.documents.report` (msgspec derives them),
and the workload schema from those in :mod:`serialscale.documents.workload`,
so they cannot drift from the code; the test suite also validates every JSON document it produces
against them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from .report import BatchReport, ErrorLine, Report, ScaleReport
from .workload import DRAFT, workload_schema


def _generated(kind: Any, title: str) -> dict[str, Any]:
    """The schema msgspec derives from a declaration, with a draft and a title."""
    return {"$schema": DRAFT, "title": title, **msgspec.json.schema(kind)}


def report_schema() -> dict[str, Any]:
    """Schema of ``serialscale analyze FILE --format json`` (one workload)."""
    return _generated(Report, "serialscale report")


def batch_schema() -> dict[str, Any]:
    """Schema of ``serialscale analyze DIR ... --format json`` (a batch)."""
    return _generated(BatchReport, "serialscale batch report")


def jsonl_line_schema() -> dict[str, Any]:
    """Schema of one line of ``--format jsonl``: a report, or an error line."""
    (report, error), defs = msgspec.json.schema_components([Report, ErrorLine])
    return {"$schema": DRAFT, "title": "serialscale jsonl line", "oneOf": [report, error],
            "$defs": defs}  # fmt: skip


def scale_schema() -> dict[str, Any]:
    """Schema of ``serialscale scale --format json``."""
    return _generated(ScaleReport, "serialscale sweep")


def diff_schema() -> dict[str, Any]:
    """Schema of ``serialscale diff OLD NEW --format json``."""
    from .report import DiffReport

    return _generated(DiffReport, "serialscale diff")


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "report": report_schema,
    "batch": batch_schema,
    "jsonl": jsonl_line_schema,
    "scale": scale_schema,
    "workload": workload_schema,
    "diff": diff_schema,
}
