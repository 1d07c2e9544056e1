"""Which implementation runs the hot passes: the compiled kernels or the pure-Python ones.

The compiled module ``serialscale._kernels`` is optional (built from ``csrc/*.c`` at install
time when a C compiler is present). Every kernel mirrors a pure-Python function operation for
operation, so both give identical reports; the tests check this on random graphs. Set
``SERIALSCALE_PURE_PYTHON=1`` to force the pure-Python passes.
"""

from __future__ import annotations

import os
from types import ModuleType

try:
    from . import _kernels as _compiled
except ImportError:  # no compiler at install time: pure Python it is
    _compiled = None

PURE_ENV = "SERIALSCALE_PURE_PYTHON"

#: Largest integer a double holds exactly: integer costs are computed in doubles only below it.
EXACT_INT = 2**53


def available() -> bool:
    """Whether the compiled kernels were built."""
    return _compiled is not None


def select(accelerated: bool | None = None) -> ModuleType | None:
    """The compiled kernels, or ``None`` for the pure-Python passes.

    ``accelerated``: ``None`` uses the kernels when built (unless ``SERIALSCALE_PURE_PYTHON=1``),
    ``False`` never does, ``True`` insists (an error when they were not built).
    """
    if accelerated is False:
        return None
    if _compiled is None:
        if accelerated:
            raise RuntimeError("serialscale._kernels was not built (no C compiler at install)")
        return None
    if accelerated is None and os.environ.get(PURE_ENV) == "1":
        return None
    return _compiled
