"""Words for people: singular and plural (``1 minute``, ``2 minutes``)."""

from __future__ import annotations

import math


def singular(word: str) -> str:
    """``minutes`` to ``minute``, ``GPU-hours`` to ``GPU-hour``, ``dependencies`` to
    ``dependency``; other words unchanged."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        return word[:-1]
    return word


def plural(count: int | float, noun: str) -> str:
    """``1 error``, ``2 errors``, ``1,234 files``, ``0 steps``: a count, its thousands
    separated, and ``noun`` (given in the singular, made plural by :func:`plural_of`) as it
    reads after it. The one helper for counts in messages."""
    whole = isinstance(count, int) or float(count).is_integer()
    shown = f"{int(count):,}" if whole else f"{count:g}"
    return f"{shown} {noun if count == 1 else plural_of(noun)}"


def plural_of(noun: str) -> str:
    """The plural of a singular noun or phrase (its last word): ``error`` to ``errors``,
    ``dependency`` to ``dependencies``, ``more error`` to ``more errors``, ``process`` to
    ``processes``."""
    head, sep, word = noun.rpartition(" ")
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        word = word[:-1] + "ies"
    elif word.endswith(("s", "x", "ch", "sh")):
        word += "es"
    else:
        word += "s"
    return head + sep + word


def unit_for(value: object, unit: str | None) -> str:
    """``unit`` as it reads after ``value`` (singular for exactly 1); empty without a unit."""
    if not unit:
        return ""
    return singular(unit) if value == 1 else unit


#: Units whose amounts are times, in seconds per unit (a workload's ``unit`` as written,
#: lowercased): what the table shows as a wall time and what duration costs convert to.
TIME_UNITS: dict[str, float] = {
    "ms": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "min": 60, "mins": 60, "minute": 60, "minutes": 60, "m": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip

#: The characters of a number typed by a person: ASCII digits and a point only. ``str.isdigit``
#: also takes ``²`` (which ``float`` rejects) and full-width digits (which ``float`` accepts).
_DECIMAL_CHARS = frozenset("0123456789.")


#: The longest number :func:`plain_number` reads: Python's default limit on the digits of an
#: int read from text (a sweep of sizes up to 2**3840 is 1,157 digits).
_MOST_DIGITS = 4300


def plain_number(text: str) -> int | float | None:
    """The number a person typed (``27``, ``+3``, ``-20``, ``27.5``, ``1e3``): ASCII digits,
    an optional sign, point and exponent; ``None`` for anything else, including ``1_000``,
    full-width digits, ``inf`` and ``nan``. Whole numbers without a point or exponent stay
    ``int``; the rest become finite floats (an overflowing ``1e999`` is ``None``)."""
    raw = text.strip()
    if not raw or len(raw) > _MOST_DIGITS or not raw.isascii() or "_" in raw:
        return None
    body = raw[1:] if raw[0] in "+-" else raw
    if body.isdigit():
        try:
            return int(raw)
        except ValueError:  # past the interpreter's own limit on digits read (4300)
            return None
    mantissa, _, exponent = body.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    if not (whole or fraction) or not (whole + fraction).isdigit():
        return None
    if exponent and not exponent.lstrip("+-").isdigit():
        return None
    if "e" in body.lower() and not exponent:
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def not_a_number(text: str) -> str:
    """What :func:`plain_number` refused ``text`` as, for messages: ``"a number written with
    ASCII digits and no underscores"`` when the spelling is the fault (``1_000``, ``٣``,
    full-width digits, which Python's ``float`` would take), ``"a finite number"`` when
    ``float`` reads it as one that is not (``inf``, ``nan``, ``1e999``), else
    ``"a number"``."""
    try:
        value = float(text)
    except ValueError:
        return "a number"
    if not text.strip().isascii() or "_" in text:
        return "a number written with ASCII digits and no underscores"
    return "a number" if math.isfinite(value) else "a finite number"


#: The parts of a duration cost: ``1h30m``, ``90s``, ``1.5h``, ``250ms``, ``2d``.
_DURATION_PARTS = {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def duration_seconds(text: str) -> float | None:
    """The seconds a duration such as ``1h30m``, ``90s``, ``1.5h`` or ``250ms`` stands for
    (parts in the order d, h, m, s, ms, each at most once, numbers >= 0); ``None`` when
    ``text`` is not one. A hand-written scanner: linear in ``text``, whatever it holds."""
    if not text or len(text) > 64:
        return None
    total, i, order = 0.0, 0, list(_DURATION_PARTS)
    last = -1
    while i < len(text):
        j = i
        while j < len(text) and text[j] in _DECIMAL_CHARS:
            j += 1
        number = text[i:j]
        k = j
        while k < len(text) and text[k].isalpha():
            k += 1
        part = text[j:k]
        if not number or number.count(".") > 1 or number.startswith(".") or part not in order:
            return None
        place = order.index(part)
        if place <= last:
            return None
        last = place
        total += float(number) * _DURATION_PARTS[part]
        i = k
    return total


#: From here on a speedup is written with three significant digits and an exponent
#: (``1.72e+10x``): two decimals of a 300-digit number are no help to anyone.
TIMES_EXPONENT_FROM = 1e6


def times(value: float | None) -> str:
    """A speedup such as ``3.20x`` (``1.72e+10x`` from :data:`TIMES_EXPONENT_FROM` on; ``—``
    for none): the one spelling of speedups in reports, headlines and recommendations."""
    if value is None:
        return "—"
    if abs(value) >= TIMES_EXPONENT_FROM:
        return f"{value:.3g}x"
    return f"{value:.2f}x"


def encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (a lone surrogate such as a JSON ``\\ud800``
    escape cannot: a report naming it could not be written)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: The longest name or value an error message repeats whole: past it, the start and the end
#: are kept around an ellipsis, so a hostile 5 MB id cannot make a 5 MB error line.
MOST_ECHOED = 200


def elided(text: str, most: int = MOST_ECHOED) -> str:
    """``text`` as an error message repeats it: whole up to ``most`` characters, else its
    start and end around ``…(N characters)…``."""
    if len(text) <= most:
        return text
    keep = most // 2
    return f"{text[:keep]}…({len(text) - 2 * keep:,} characters)…{text[-keep:]}"
