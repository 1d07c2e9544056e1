"""The analysis report: a plain, serialisable record that renderers and gates read.

``SCHEMA_VERSION`` changes only when a key changes meaning or disappears; adding keys does not
change it. History:

- 1: first version (``schema_version``, ``workload``, ``source``, ``steps``, ``dependencies``,
  ``work``, ``depth``, ``depth_steps``, ``width``, ``speedup_ceiling``, ``serial_fraction``,
  ``critical_path``, ``near_critical``, ``speedup``, ``profile``, ``classification``,
  ``recommendation``; plus ``description``, ``unit``, ``processors``, ``overhead``,
  ``burdened_depth``, ``burdened_speedup_ceiling`` and, with ``--detail``, ``detail``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .classify import Recommendation
from .graph import Cost

SCHEMA_VERSION = 1

#: The top-level keys of the stable JSON contract, in output order (others may follow).
CONTRACT_KEYS = (
    "schema_version", "workload", "source", "steps", "dependencies", "work", "depth",
    "depth_steps", "width", "speedup_ceiling", "serial_fraction", "critical_path",
    "near_critical", "speedup", "profile", "classification", "recommendation",
)  # fmt: skip

#: Every key :class:`Report` writes itself; any other key of a saved report is kept in
#: ``extra`` (``params``, ``target`` and the like).
REPORT_KEYS = frozenset(
    (*CONTRACT_KEYS, "description", "unit", "processors", "overhead", "burdened_depth",
     "burdened_speedup_ceiling", "detail")
)  # fmt: skip


@dataclass(frozen=True)
class Report:
    """Everything one analysis found; see :mod:`serialscale.metrics` and
    :mod:`serialscale.schedule` for the definition of each number.

    ``speedup`` rows and ``profile`` segments are kept as plain dicts, exactly as they appear
    in JSON, so a saved report loads back into an equal object.
    """

    workload: str
    source: str | None
    steps: int
    dependencies: int
    work: Cost
    depth: Cost
    depth_steps: int
    width: int
    speedup_ceiling: float | None
    serial_fraction: float | None
    critical_path: list[str]
    near_critical: list[dict[str, Any]]
    speedup: list[dict[str, Any]]
    profile: list[dict[str, Any]]
    classification: str
    recommendation: Recommendation
    processors: int
    overhead: Cost = 0
    burdened_depth: Cost = 0
    burdened_speedup_ceiling: float | None = None
    description: str | None = None
    unit: str | None = None
    detail: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in a fixed order (the stable contract comes first)."""
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "workload": self.workload,
            "source": self.source,
            "steps": self.steps,
            "dependencies": self.dependencies,
            "work": self.work,
            "depth": self.depth,
            "depth_steps": self.depth_steps,
            "width": self.width,
            "speedup_ceiling": self.speedup_ceiling,
            "serial_fraction": self.serial_fraction,
            "critical_path": list(self.critical_path),
            "near_critical": [dict(x) for x in self.near_critical],
            "speedup": [dict(x) for x in self.speedup],
            "profile": [dict(x) for x in self.profile],
            "classification": self.classification,
            "recommendation": self.recommendation.to_dict(),
            "description": self.description,
            "unit": self.unit,
            "processors": self.processors,
            "overhead": self.overhead,
            "burdened_depth": self.burdened_depth,
            "burdened_speedup_ceiling": self.burdened_speedup_ceiling,
        }
        data.update(self.extra)
        if self.detail is not None:
            data["detail"] = [dict(x) for x in self.detail]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Load a report saved by :meth:`to_dict` (keys it does not know go to ``extra``)."""
        return cls(
            schema_version=data["schema_version"],
            workload=data["workload"],
            source=data.get("source"),
            steps=data["steps"],
            dependencies=data["dependencies"],
            work=data["work"],
            depth=data["depth"],
            depth_steps=data["depth_steps"],
            width=data["width"],
            speedup_ceiling=data["speedup_ceiling"],
            serial_fraction=data["serial_fraction"],
            critical_path=list(data["critical_path"]),
            near_critical=list(data["near_critical"]),
            speedup=list(data["speedup"]),
            profile=list(data["profile"]),
            classification=data["classification"],
            recommendation=Recommendation.from_dict(data["recommendation"]),
            description=data.get("description"),
            unit=data.get("unit"),
            processors=data["processors"],
            overhead=data.get("overhead", 0),
            burdened_depth=data.get("burdened_depth", data["depth"]),
            burdened_speedup_ceiling=data.get("burdened_speedup_ceiling"),
            detail=data.get("detail"),
            extra={k: v for k, v in data.items() if k not in REPORT_KEYS},
        )
