"""Words for people: singular and plural (``1 minute``, ``2 minutes``)."""

from __future__ import annotations


def singular(word: str) -> str:
    """``minutes`` to ``minute``, ``GPU-hours`` to ``GPU-hour``, ``dependencies`` to
    ``dependency``; other words unchanged."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        return word[:-1]
    return word


def unit_for(value: object, unit: str | None) -> str:
    """``unit`` as it reads after ``value`` (singular for exactly 1); empty without a unit."""
    if not unit:
        return ""
    return singular(unit) if value == 1 else unit
