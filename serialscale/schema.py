"""JSON Schemas (draft 2020-12) of everything serialscale reads or writes as JSON.

``serialscale schema report|batch|scale|workload`` prints them. The test suite validates every
JSON output it produces against these, so they cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from .classify import CLASSES
from .report import CONTRACT_KEYS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NUMBER = {"type": "number"}
NONNEG = {"type": "number", "minimum": 0}
COUNT = {"type": "integer", "minimum": 0}
RATIO = {"type": ["number", "null"]}
TEXT_OR_NULL = {"type": ["string", "null"]}


def _report() -> dict[str, Any]:
    row = {
        "type": "object",
        "required": ["processors", "upper", "guaranteed", "simulated"],
        "properties": {
            "processors": {"type": "integer", "minimum": 1},
            "upper": RATIO,
            "guaranteed": RATIO,
            "simulated": RATIO,
            "simulated_burdened": RATIO,
        },
    }
    return {
        "type": "object",
        "required": list(CONTRACT_KEYS),
        "properties": {
            "schema_version": {"const": 1},
            "workload": {"type": "string"},
            "source": TEXT_OR_NULL,
            "steps": COUNT,
            "dependencies": COUNT,
            "work": NONNEG,
            "depth": NONNEG,
            "depth_steps": COUNT,
            "width": COUNT,
            "speedup_ceiling": RATIO,
            "serial_fraction": RATIO,
            "critical_path": {"type": "array", "items": {"type": "string"}},
            "near_critical": {
                "type": "array",
                "maxItems": 10,
                "items": {
                    "type": "object",
                    "required": ["id", "slack"],
                    "properties": {"id": {"type": "string"}, "slack": NONNEG},
                    "additionalProperties": False,
                },
            },
            "speedup": {"type": "array", "items": row},
            "profile": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["start", "end", "running"],
                    "properties": {"start": NONNEG, "end": NONNEG, "running": COUNT},
                },
            },
            "classification": {"enum": list(CLASSES)},
            "recommendation": {
                "type": "object",
                "required": ["strategy", "processors", "reason"],
                "properties": {
                    "strategy": {"enum": ["serial-leaning", "parallel-leaning"]},
                    "processors": {"type": "integer", "minimum": 1},
                    "reason": {"type": "string"},
                    "expected_speedup": RATIO,
                    "focus": {"type": "array", "items": {"type": "string"}},
                },
            },
            "description": TEXT_OR_NULL,
            "unit": TEXT_OR_NULL,
            "processors": {"type": "integer", "minimum": 1},
            "overhead": NONNEG,
            "burdened_depth": NONNEG,
            "burdened_speedup_ceiling": RATIO,
            "params": {"type": "object"},
            "target": {"type": "string"},
            "control": {"enum": ["dataflow", "strict"]},
            "control_decisions": COUNT,
            "escapes": COUNT,
            "notes": {"type": "array", "items": {"type": "string"}},
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "cost", "start", "finish", "slack"],
                    "properties": {
                        "id": {"type": "string"},
                        "cost": NONNEG,
                        "start": NONNEG,
                        "finish": NONNEG,
                        "slack": NONNEG,
                    },
                },
            },
        },
    }


ERROR_ENTRY = {
    "type": "object",
    "required": ["source", "message"],
    "properties": {
        "source": {"type": "string"},
        "message": {"type": "string"},
        "file": {"type": "string"},
        "line": {"type": "integer"},
        "column": {"type": "integer"},
        "step": {"type": "string"},
    },
}


def report_schema() -> dict[str, Any]:
    """Schema of ``serialscale analyze FILE --format json`` (one workload)."""
    return {"$schema": DRAFT, "title": "serialscale report", **_report()}


def batch_schema() -> dict[str, Any]:
    """Schema of ``serialscale analyze DIR ... --format json`` (a batch)."""
    return {
        "$schema": DRAFT,
        "title": "serialscale batch report",
        "type": "object",
        "required": ["schema_version", "results", "errors", "summary"],
        "properties": {
            "schema_version": {"const": 1},
            "results": {"type": "array", "items": _report()},
            "errors": {"type": "array", "items": ERROR_ENTRY},
            "summary": {
                "type": "object",
                "required": ["analyzed", "errors", *CLASSES],
                "properties": {k: COUNT for k in ("analyzed", "errors", *CLASSES)},
            },
        },
    }


def jsonl_line_schema() -> dict[str, Any]:
    """Schema of one line of ``--format jsonl``: a report, or an error entry."""
    error = {**ERROR_ENTRY, "required": ["source", "error"],
             "properties": {**ERROR_ENTRY["properties"], "error": {"type": "string"}}}  # fmt: skip
    return {"$schema": DRAFT, "oneOf": [_report(), error]}


def scale_schema() -> dict[str, Any]:
    """Schema of ``serialscale scale --format json``."""
    growth = {
        "type": "object",
        "required": ["class", "exponent"],
        "properties": {
            "class": {"enum": ["constant", "logarithmic", "polylogarithmic", "polynomial"]},
            "exponent": RATIO,
            "model": {"type": "string"},
            "error": NONNEG,
        },
    }
    point = {
        "type": "object",
        "required": ["value", "work", "depth", "width", "speedup_ceiling"],
        "properties": {
            "value": NUMBER,
            "steps": COUNT,
            "work": NONNEG,
            "depth": NONNEG,
            "width": COUNT,
            "speedup_ceiling": RATIO,
        },
    }
    return {
        "$schema": DRAFT,
        "title": "serialscale sweep",
        "type": "object",
        "required": ["schema_version", "workload", "parameter", "points", "growth", "verdict"],
        "properties": {
            "schema_version": {"const": 1},
            "workload": {"type": "string"},
            "source": TEXT_OR_NULL,
            "parameter": {"type": "string"},
            "params": {"type": "object"},
            "processors": {"type": "integer", "minimum": 1},
            "points": {"type": "array", "minItems": 3, "items": point},
            "growth": {
                "type": "object",
                "required": ["depth", "work", "width"],
                "properties": {"depth": growth, "work": growth, "width": growth},
            },
            "verdict": {"enum": ["parallelizable", "inherently serial"]},
            "complexity": {"enum": ["TC0-like", "NC-like", "P-like (serial)"]},
            "explanation": {"type": "string"},
            "prediction": {"type": "object"},
        },
    }


def workload_schema() -> dict[str, Any]:
    """Schema of a workload file (plain or templated), as YAML or JSON."""
    step_id = {"type": ["string", "integer"]}
    expression = {"type": "string"}
    foreach = {"type": "object", "additionalProperties": {"type": ["string", "integer"]},
               "minProperties": 1}  # fmt: skip
    need = {
        "oneOf": [
            step_id,
            {
                "type": "object",
                "required": ["id"],
                "properties": {"id": step_id, "foreach": foreach},
                "additionalProperties": False,
            },
        ]
    }
    return {
        "$schema": DRAFT,
        "title": "serialscale workload",
        "type": "object",
        "required": ["steps"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "unit": {"type": "string"},
            "params": {"type": "object", "additionalProperties": NUMBER},
            "steps": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "additionalProperties": False,
                    "properties": {
                        "id": step_id,
                        "cost": {"oneOf": [NONNEG, expression]},
                        "needs": {"type": "array", "items": need},
                        "foreach": foreach,
                    },
                },
            },
        },
    }


SCHEMAS = {
    "report": report_schema,
    "batch": batch_schema,
    "jsonl": jsonl_line_schema,
    "scale": scale_schema,
    "workload": workload_schema,
}
