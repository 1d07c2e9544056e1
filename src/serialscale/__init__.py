"""serialscale: how serial is a workload?

Library use::

    import serialscale
    report = serialscale.analyze("workloads/ci_build.yaml", processors=8)
    print(report.depth, report.speedup_ceiling, report.classification)

Public names are imported on first use, so ``serialscale --version`` starts fast.

The public API is :data:`__all__` (pinned by ``tests/test_public_api.py``) and the
``serialscale`` command. The layer packages below (``cli``, ``run``, ``sources``,
``render``, ``trace``, ``core``, ``documents``, ``accel``, ``base``) are internal: their
modules and names may change in any release.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "analyze": "api",
    "analyze_function": "api",
    "analyze_workload": "core.analysis",
    "CycleError": "core.graph",
    "ExitCode": "base.errors",
    "Graph": "core.graph",
    "input": "trace",
    "inputs": "trace",
    "load_target": "sources",
    "load_workload": "sources",
    "Location": "base.errors",
    "op": "trace",
    "parse_workload": "sources",
    "Report": "documents.report",
    "SCHEMA_VERSION": "documents.report",
    "SerialscaleError": "base.errors",
    "task": "trace",
    "trace_function": "sources",
    "Traced": "trace",
    "UsageError": "base.errors",
    "Workload": "core.workload",
    "WorkloadError": "base.errors",
    "read_saved": "documents.report",
    "parse_saved": "documents.report",
    "to_builtins": "documents.report",
    "set_accelerated": "accel",
    "accelerated": "accel",
}

if TYPE_CHECKING:
    from .accel import accelerated, set_accelerated
    from .api import analyze, analyze_function
    from .base.errors import ExitCode, Location, SerialscaleError, UsageError, WorkloadError
    from .core.analysis import analyze_workload
    from .core.graph import CycleError, Graph
    from .core.workload import Workload
    from .documents.report import SCHEMA_VERSION, Report, parse_saved, read_saved, to_builtins
    from .sources import load_target, load_workload, parse_workload, trace_function
    from .trace import Traced, input, inputs, op, task


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'serialscale' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "SCHEMA_VERSION",
    "CycleError",
    "ExitCode",
    "Graph",
    "Location",
    "Report",
    "SerialscaleError",
    "Traced",
    "UsageError",
    "Workload",
    "WorkloadError",
    "__version__",
    "accelerated",
    "analyze",
    "analyze_function",
    "analyze_workload",
    "input",
    "inputs",
    "load_target",
    "load_workload",
    "op",
    "parse_saved",
    "parse_workload",
    "read_saved",
    "set_accelerated",
    "task",
    "to_builtins",
    "trace_function",
]
