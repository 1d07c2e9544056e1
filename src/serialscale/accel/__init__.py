"""Which implementation runs the hot passes: the compiled kernels or the pure-Python ones.

The compiled module ``serialscale.accel._kernels`` is optional (built from ``csrc/*.c`` at install
time when a C compiler is present). Every kernel mirrors a pure-Python function operation for
operation, so both give identical reports; the tests check this on random graphs. Set
``SERIALSCALE_PURE_PYTHON=1`` (or call :func:`set_accelerated`) to force the pure-Python
passes. There is no per-call switch: one setting for the whole process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

try:
    import serialscale.accel._kernels as _compiled
except ImportError:  # no compiler at install time: pure Python it is
    _compiled = None

PURE_ENV = "SERIALSCALE_PURE_PYTHON"

#: Largest integer a double holds exactly: integer costs are computed in doubles only below it.
EXACT_INT = 2**53


def available() -> bool:
    """Whether the compiled kernels were built."""
    return _compiled is not None


def status() -> str:
    """Which compiled parts are in use, for ``serialscale --version``."""
    import importlib.util

    pure = os.environ.get(PURE_ENV) == "1"

    def state(built: bool) -> str:
        if not built:
            return "not built"
        return f"built, not used ({PURE_ENV}=1)" if pure else "in use"

    tracer = importlib.util.find_spec("serialscale.trace._tape") is not None
    return f"compiled kernels {state(available())}; compiled tracer {state(tracer)}"


#: The module-level switch: ``None`` lets the environment decide (see :func:`select`).
_setting: bool | None = None


def set_accelerated(value: bool | None) -> None:
    """Use the compiled kernels (``True``; an error when they were not built), never
    (``False``), or as the environment says (``None``, the default)."""
    global _setting
    if value and _compiled is None:
        raise RuntimeError("serialscale.accel._kernels was not built (no C compiler at install)")
    _setting = value


@contextmanager
def accelerated(value: bool | None) -> Iterator[None]:
    """:func:`set_accelerated` for the duration of a ``with`` block (tests, comparisons)."""
    before = _setting
    set_accelerated(value)
    try:
        yield
    finally:
        set_accelerated(before)


def select() -> ModuleType | None:
    """The compiled kernels, or ``None`` for the pure-Python passes.

    The kernels run when they were built, unless :func:`set_accelerated` said no, or it was
    not called and ``SERIALSCALE_PURE_PYTHON=1``.
    """
    if _compiled is None or _setting is False:
        return None
    if _setting is None and os.environ.get(PURE_ENV) == "1":
        return None
    return _compiled
