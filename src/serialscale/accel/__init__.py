"""The seam between compiled and pure-Python code: the one place that picks an implementation.

Two kinds of compiled parts exist, both optional (built from ``csrc/*.c`` at install time when
a C compiler is present):

- the kernels, ``serialscale.accel._kernels``: whole-graph passes. Each has a pure-Python twin
  of the same name and signature in :mod:`serialscale.accel.pure_kernels`; :func:`kernels`
  hands out one module or the other, per call (tests switch with :func:`accelerated`).
- the tracer's hot path, ``serialscale.accel._tape`` and ``serialscale.accel._scoped``: the
  tracer's classes derive from them, so the choice is made once, at import. Their pure twins
  are the tracer's own Python classes (trace/), which pass themselves to :func:`tracer_part`
  and get back the part to use (the twin pairs are recorded in :data:`TRACER_TWINS`).

Set ``SERIALSCALE_PURE_PYTHON=1`` to run every pure twin. No module outside this package reads
that variable or imports a compiled module (``tests/test_seam.py`` checks it on the sources).

Integer costs are exact in Python integers and in doubles only below 2**53: one rule,
:func:`beyond_doubles`, sends every pass whose integer sums reach it to the exact passes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TypeVar

from . import pure_kernels

try:
    import serialscale.accel._kernels as _compiled
except ImportError:  # no compiler at install time: pure Python it is
    _compiled = None

PURE_ENV = "SERIALSCALE_PURE_PYTHON"

#: Largest integer a double holds exactly: integer costs are computed in doubles only below it.
EXACT_INT = 2**53


def beyond_doubles(integral: bool, total: Any) -> bool:
    """The exactness rule, for every pass that may compute in doubles: whether integer costs
    whose largest sum is ``total`` (the work, plus any per-step overhead) must take the exact
    integer passes. Doubles hold every integer below :data:`EXACT_INT` exactly, so the sums
    of such costs (ASAP times, bottom levels, makespans: each at most ``total``) come out
    exact in the kernels; at or past it they may round, and a report must not. ``integral``:
    whether the costs (and the overhead) are integers at all (floats are doubles anyway)."""
    return integral and total >= EXACT_INT


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

    tracer = importlib.util.find_spec("serialscale.accel._tape") is not None
    return f"compiled kernels {state(available())}; compiled tracer {state(tracer)}"


#: The module-level switch: ``None`` lets the environment decide (see :func:`kernels`).
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


def kernels(exact: bool = False) -> ModuleType:
    """The kernels to run: the compiled module, or :mod:`~serialscale.accel.pure_kernels`
    (same names, same signatures, same results).

    The compiled kernels run when they were built, unless :func:`set_accelerated` said no,
    or it was not called and ``SERIALSCALE_PURE_PYTHON=1``. ``exact``: the caller hands
    Python integers in lists (a pass :func:`beyond_doubles` sent to exact arithmetic), which
    only the pure twins take. Called once per pass, never per element.
    """
    if exact or _compiled is None or _setting is False:
        return pure_kernels
    if _setting is None and os.environ.get(PURE_ENV) == "1":
        return pure_kernels
    return _compiled


def compiled_kernels_in_use() -> bool:
    """Whether :func:`kernels` gives the compiled module now (tests, benchmarks)."""
    return kernels() is not pure_kernels


# --- the tracer's compiled parts: chosen once, at import ---

_TRACER_MODULES = {"tape": "serialscale.accel._tape", "scoped": "serialscale.accel._scoped"}
_tracer_chosen: dict[str, ModuleType | None] = {}

#: Every tracer part asked for: (module, name) -> the pure twin given (tests/test_seam.py).
TRACER_TWINS: dict[tuple[str, str], Any] = {}

_T = TypeVar("_T")


def tracer_built(module: str) -> ModuleType | None:
    """The compiled tracer module ``module`` (``"tape"``, ``"scoped"``) when it was built
    (``scoped``: and its opcode watcher compiled on this Python), used or not; else None.
    For the tests that run both implementations."""
    import importlib

    try:
        found = importlib.import_module(_TRACER_MODULES[module])
    except ImportError:  # no compiler at install time
        return None
    return found if getattr(found, "AVAILABLE", 1) else None


def tracer_in_use(module: str) -> bool:
    """Whether the compiled tracer module ``module`` runs: it was built, and
    ``SERIALSCALE_PURE_PYTHON`` was not 1 when the tracer first asked (then fixed for the
    process: the tracer's classes derive from its parts)."""
    if module not in _tracer_chosen:
        pure = os.environ.get(PURE_ENV) == "1"
        _tracer_chosen[module] = None if pure else tracer_built(module)
    return _tracer_chosen[module] is not None


def tracer_part(module: str, name: str, pure: _T) -> _T:
    """``name`` of the compiled tracer module ``module`` when it is in use
    (:func:`tracer_in_use`), else ``pure``, its pure-Python twin (same signature, same
    behaviour), recorded in :data:`TRACER_TWINS`. The tracer binds each part once, at
    import."""
    TRACER_TWINS[module, name] = pure
    if not tracer_in_use(module):
        return pure
    part: _T = getattr(_tracer_chosen[module], name)
    return part
