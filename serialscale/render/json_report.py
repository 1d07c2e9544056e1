"""JSON rendering: one object, byte-identical for the same input on any machine."""

from __future__ import annotations

import json
from typing import Any

from ..report import Report


def dumps(data: Any) -> str:
    """Stable JSON text: fixed key order (as built), two-space indent, UTF-8, no NaN."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_json(report: Report) -> str:
    """The report as the JSON object documented in the README."""
    return dumps(report.to_dict())
