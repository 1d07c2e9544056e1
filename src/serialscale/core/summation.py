"""Sums that are the same on every Python: left to right, one rounding per addition.

From Python 3.12 the builtin ``sum()`` of floats compensates its rounding (Neumaier), so it
can differ from 3.10's and 3.11's in the last bits, and reports must be byte-identical
whatever Python writes them. Integer sums are exact either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import add
from typing import Any


def ordered_sum(values: Iterable[Any]) -> Any:
    """``values`` added left to right from the integer 0, each float addition rounded (what
    ``sum()`` did before Python 3.12, on every version)."""
    return reduce(add, values, 0)
