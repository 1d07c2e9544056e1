"""The top-level functions of the library: analyze a file, a workload object or a function."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base.defaults import DEFAULT_PROCESSORS
from .core.analysis import analyze_workload
from .core.workload import Workload
from .documents.report import Report
from .sources import load_workload


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
    from .sources.python_targets import trace_function  # the tracer only when it is used

    return analyze_workload(trace_function(fn, params))
