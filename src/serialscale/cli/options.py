"""Parsing the command line's option values that need more than a type: ``--sweep``.

Kept out of the engine: :mod:`serialscale.core.growth` fits curves to numbers and never sees
option text."""

from __future__ import annotations

from ..base.words import not_a_number, plain_number
from ..core.growth import MIN_POINTS

__all__ = ["parse_sweep"]


def _sweep_value(name: str, item: str) -> int | float:
    """A value of the list form: a number a person typed (:func:`plain_number`, as for
    ``--param``), an int when it is whole."""
    number = plain_number(item)
    if number is None:
        raise ValueError(f"--sweep {name}: {item!r} is not {not_a_number(item)}")
    return number


#: The most sizes one sweep analyzes: each is a whole run (a traced call, or a template
#: expanded and analyzed), and a fit needs a handful; ``1..10**4000`` would ask for 13,288.
MAX_SWEEP_POINTS = 64


def parse_sweep(text: str) -> tuple[str, list[int | float]]:
    """``n=8,16,32`` or ``n=8..1024`` (powers of two) into a name and its values."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"--sweep expects NAME=V1,V2,... or NAME=LOW..HIGH, got {text!r}")
    spec = spec.strip()
    if ".." in spec:
        low_text, _, high_text = spec.partition("..")
        low, high = plain_number(low_text), plain_number(high_text)
        if type(low) is not int or type(high) is not int:
            raise ValueError(f"--sweep {name}=LOW..HIGH takes integers, got {spec!r}")
        if low < 1 or high < low:
            raise ValueError(f"--sweep {name}={spec}: needs 1 <= LOW <= HIGH")
        values: list[int | float] = []
        v = 1
        while v <= high:
            if v >= low:
                values.append(v)
            v *= 2
    else:
        values = []
        for item in spec.split(","):
            item = item.strip()
            values.append(_sweep_value(name, item))
    if len(values) > MAX_SWEEP_POINTS:
        raise ValueError(
            f"--sweep {name}={spec} gives {len(values):,} sizes; at most {MAX_SWEEP_POINTS} "
            "are analyzed (each is a whole run): choose a narrower range or fewer values"
        )
    if len(set(values)) < MIN_POINTS:
        raise ValueError(
            f"--sweep {name}={spec} gives {len(set(values))} different values; a growth fit "
            f"needs at least {MIN_POINTS}"
        )
    return name, values
