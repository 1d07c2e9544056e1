"""JSON rendering: one object, byte-identical for the same input on any machine."""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any

from .. import accel
from ..base.gcpause import gc_paused
from ..base.words import encodable
from ..documents.report import Report, to_builtins


def dumps(data: Any) -> str:
    """Stable JSON text: fixed key order (as built), two-space indent, UTF-8, no NaN.

    The text is exactly ``json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)``
    plus a newline (the tests check this on random documents), but for a lone surrogate in a
    string, which no UTF-8 text can hold: it is written as the text ``\\udcff`` (a backslash
    and five characters), as the other formats show it. json's indented output is
    pure Python; :func:`_write` leaves lists of records to the compiled kernels, which
    matters for reports with a million records (5× faster for a 1M ``--detail`` report).
    (The test suite checks every document written against its published schema.)
    """
    out: list[str] = []
    _write(data, "\n", out, accel.kernels())
    out.append("\n")
    return surrogates_as_text("".join(out))


def surrogates_as_text(text: str) -> str:
    """JSON ``text`` with each lone surrogate written as the text ``\\udcff`` (see
    :func:`dumps`): every JSON writer of serialscale's ends with this."""
    if text.isascii() or encodable(text):
        return text
    return _SURROGATE.sub(_shown_surrogate, text)


#: A lone surrogate: no UTF-8 text holds one (a file name that is not UTF-8 decodes to them).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown_surrogate(match: re.Match[str]) -> str:
    # The text backslash-u-XXXX, as the table shows it: JSON's own \udcff escape would be
    # refused by strict readers (msgspec, serialscale's own), an unpaired surrogate
    return f"\\\\u{ord(match.group()):04x}"


_string = json.encoder.encode_basestring  # the C encoder, as json uses with ensure_ascii=False
_INFINITY = float("inf")


def _scalar(value: Any) -> str | None:
    """A scalar's JSON text, as json writes it (same tests, same order); None otherwise."""
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value == _INFINITY or value == -_INFINITY:
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return float.__repr__(value)
    return None


#: The ASCII characters json escapes (ensure_ascii=False): control characters, quote,
#: backslash.
_ESCAPED = bytes(range(32)) + b'"\\'


def _strings(value: list[Any] | tuple[Any, ...], separator: str) -> str | None:
    """The JSON strings of ``value`` joined by ``separator``; ``None`` unless every item is a
    string. ASCII strings with nothing to escape (step ids, as a rule) are joined in one go,
    the check made once on all of them: a critical path of 400,000 step ids took 40 ms
    escaped one string at a time."""
    try:
        text = "".join(value)
    except TypeError:
        return None
    if text.isascii() and len(text.encode("ascii").translate(None, _ESCAPED)) == len(text):
        return '"' + ('"' + separator + '"').join(value) + '"'
    return separator.join(map(_string, value))


def _write(value: Any, newline: str, out: list[str], fast: ModuleType) -> None:
    """Append ``value``'s JSON text to ``out``; ``newline`` is a newline and the indent of
    the line ``value`` starts on. Containers open and close like json's indented output.
    ``fast``: the kernels, whose ``records`` writes lists of flat records (or declines)."""
    text = _scalar(value)
    if text is not None:
        out.append(text)
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        if type(value) is list:  # records in C when they are plain
            text = fast.records(value, newline, _string)
            if text is not None:
                out.append(text)
                return
        inner = newline + "  "
        strings = _strings(value, "," + inner)
        if strings is not None:  # step ids (a critical path): in one go
            out.append(f"[{inner}{strings}{newline}]")
            return
        separator = "[" + inner
        for item in value:
            out.append(separator)
            separator = "," + inner
            _write(item, inner, out, fast)
        out.append(newline + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        if not all(type(key) is str for key in value):  # keys json converts: let it
            text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
            out.append(text.replace("\n", newline))
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            text = _scalar(item)
            if text is not None:  # the common case, without a call
                out.append(f"{separator}{_string(key)}: {text}")
            else:
                out.append(f"{separator}{_string(key)}: ")
                _write(item, inner, out, fast)
            separator = "," + inner
        out.append(newline + "}")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def render_json(report: Report) -> str:
    """The report as the JSON object documented in the README."""
    with gc_paused():  # a big report is millions of fresh, acyclic containers
        return dumps(to_builtins(report))
