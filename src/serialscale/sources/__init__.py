"""Sources turn input (files, standard input, traced functions) into a :class:`Workload`.

They own every input error and its location; nothing downstream re-validates input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.targets import looks_like_function
from ..core.workload import Workload
from .read_options import DEFAULT_READ, ReadOptions

if TYPE_CHECKING:
    from .python_targets import is_python_target, trace_function, trace_workload
    from .workload_file import load_workload, parse_workload

_PYTHON_NAMES = ("is_python_target", "trace_function", "trace_workload")
_FILE_NAMES = ("load_workload", "parse_workload")


def __getattr__(name: str) -> object:
    # The tracer is imported only for function targets: YAML users never pay for it; the
    # readers of files only for files (a traced function's process: 7 ms).
    if name in _PYTHON_NAMES:
        from . import python_targets

        return getattr(python_targets, name)
    if name in _FILE_NAMES:
        from . import workload_file

        return getattr(workload_file, name)
    raise AttributeError(name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_PYTHON_NAMES, *_FILE_NAMES})


def load_target(
    target: str,
    params: Mapping[str, str] | None = None,
    control: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    read: ReadOptions | None = DEFAULT_READ,
) -> Workload:
    """A workload file (YAML/JSON, ``-`` for stdin) or a function target (``file.py:f``).

    ``params`` go to a traced function's arguments or a templated workload's ``params``;
    ``read``: how files are read (``None``: as by default).
    """
    if looks_like_function(target):
        from .python_targets import trace_workload

        workload = trace_workload(target, params, control, limits)
        if read is not None and read.durations is not None:
            return workload.with_note("--durations times the steps of a file; a traced "
                                      "function's steps are counted as it runs: not used "
                                      "here")  # fmt: skip
        return workload
    from .workload_file import load_workload

    workload = load_workload(target, params, limits, DEFAULT_READ if read is None else read)
    if control is not None:
        return workload.with_note(f"--control {control} chooses how a traced function's "
                                  "branches count; a file's dependencies are as written: not "
                                  "used here")  # fmt: skip
    return workload


__all__ = [
    "is_python_target",
    "load_target",
    "load_workload",
    "looks_like_function",
    "parse_workload",
    "trace_function",
    "trace_workload",
]
