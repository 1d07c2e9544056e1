"""serialscale: how serial is a workload?

Library use::

    import serialscale
    report = serialscale.analyze("workloads/ci_build.yaml", processors=8)
    print(report.depth, report.speedup_ceiling, report.classification)
"""

from __future__ import annotations

from pathlib import Path

from .analysis import DEFAULT_PROCESSORS, analyze_workload
from .errors import ExitCode, Location, UsageError, WorkloadError
from .graph import CycleError, Graph
from .model import Workload
from .report import SCHEMA_VERSION, Report
from .sources import load_workload, parse_workload

__version__ = "0.1.0"


def analyze(
    target: Workload | str | Path,
    *,
    processors: int = DEFAULT_PROCESSORS,
    overhead: float = 0,
    detail: bool = False,
) -> Report:
    """Analyze a workload object or a workload file; see :func:`analyze_workload`."""
    workload = target if isinstance(target, Workload) else load_workload(target)
    return analyze_workload(workload, processors=processors, overhead=overhead, detail=detail)


__all__ = [
    "SCHEMA_VERSION",
    "CycleError",
    "ExitCode",
    "Graph",
    "Location",
    "Report",
    "UsageError",
    "Workload",
    "WorkloadError",
    "__version__",
    "analyze",
    "analyze_workload",
    "load_workload",
    "parse_workload",
]
