"""serialscale: how serial is a workload?

Library use::

    import serialscale
    report = serialscale.analyze("workloads/ci_build.yaml", processors=8)
    print(report.depth, report.speedup_ceiling, report.classification)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .analysis import DEFAULT_PROCESSORS, analyze_workload
from .errors import ExitCode, Location, UsageError, WorkloadError
from .graph import CycleError, Graph
from .model import Workload
from .report import SCHEMA_VERSION, Report
from .sources import load_target, load_workload, parse_workload, trace_function
from .trace import Traced, input, inputs, op, task

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


def analyze_function(fn: Callable[..., Any], /, **params: Any) -> Report:
    """Run ``fn(**params)`` once with tracing on and analyze what it recorded (the same report
    the CLI renders for ``serialscale analyze file.py:fn``). For ``--control strict`` or other
    processor counts, use :func:`trace_function` and :func:`analyze_workload`.
    """
    return analyze_workload(trace_function(fn, params))


__all__ = [
    "SCHEMA_VERSION",
    "CycleError",
    "ExitCode",
    "Graph",
    "Location",
    "Report",
    "Traced",
    "UsageError",
    "Workload",
    "WorkloadError",
    "__version__",
    "analyze",
    "analyze_function",
    "analyze_workload",
    "input",
    "inputs",
    "load_target",
    "load_workload",
    "op",
    "parse_workload",
    "task",
    "trace_function",
]
