"""Sources turn input (files, standard input, traced functions) into a :class:`Workload`.

They own every input error and its location; nothing downstream re-validates input.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import Workload
from .python_source import is_python_target, trace_function, trace_workload
from .templates import DEFAULT_MAX_STEPS
from .yaml_source import load_workload, parse_workload


def load_target(
    target: str,
    params: Mapping[str, str] | None = None,
    control: str = "dataflow",
    max_steps: int = DEFAULT_MAX_STEPS,
) -> Workload:
    """A workload file (YAML/JSON, ``-`` for stdin) or a function target (``file.py:f``).

    ``params`` go to a traced function's arguments or a templated workload's ``params``.
    """
    if is_python_target(target):
        return trace_workload(target, params, control)
    return load_workload(target, params, max_steps)


__all__ = [
    "is_python_target",
    "load_target",
    "load_workload",
    "parse_workload",
    "trace_function",
    "trace_workload",
]
