"""JSON rendering: one object, byte-identical for the same input on any machine."""

from __future__ import annotations

import json
import os
from typing import Any

from ..report import Report

#: When this environment variable is 1 (the test suite sets it), every JSON document written
#: is first validated against its published schema, so the schemas cannot drift.
VALIDATE_ENV = "SERIALSCALE_VALIDATE_JSON"


def dumps(data: Any, schema: str | None = None) -> str:
    """Stable JSON text: fixed key order (as built), two-space indent, UTF-8, no NaN.

    ``schema`` names the document's schema (see :mod:`serialscale.schema`) for validation.
    """
    check(data, schema)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def check(data: Any, schema: str | None) -> None:
    """Validate ``data`` against the schema named ``schema`` when validation is switched on."""
    if schema is None or os.environ.get(VALIDATE_ENV) != "1":
        return
    import jsonschema

    from ..schema import SCHEMAS

    jsonschema.Draft202012Validator(SCHEMAS[schema]()).validate(data)


def render_json(report: Report) -> str:
    """The report as the JSON object documented in the README."""
    return dumps(report.to_dict(), "report")
