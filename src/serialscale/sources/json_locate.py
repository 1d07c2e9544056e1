"""Where a value sits in JSON text that was already parsed: the line of ``actions[3]``.

Readers parse JSON with :mod:`json`, which keeps no positions; when an entry is wrong they
call :func:`line_of` to point at it. One pass over the text up to the entry, skipping
strings and nested values without building them (linear; run only for an error).
"""

from __future__ import annotations

import re

from ..base.errors import Location, SerialscaleError, WorkloadError

_CLOSE = {"{": "}", "[": "]"}
_LONG_NUMBER = re.compile(r"\d{4300,}")


def line_of(text: str, start: int, path: list[str | int]) -> int | None:
    """The 1-based line of the value at ``path`` (object keys and array indices) in the JSON
    value that starts at offset ``start`` of ``text``; ``None`` if it is not there."""
    try:
        at = _find(text, _blank(text, start), path)
    except IndexError:
        return None
    return None if at is None else text.count("\n", 0, at) + 1


def long_number_error(exc: ValueError, text: str, source: str, what: str,
                      start: int = 0) -> WorkloadError | None:  # fmt: skip
    """The located error for ``json``'s refusal of an integer of more than 4,300 digits
    (a ``ValueError`` that is no ``JSONDecodeError``), or ``None`` for any other ``exc``."""
    if "digits" not in str(exc):
        return None
    found = _LONG_NUMBER.search(text, start)
    at = found.start() if found else None
    line = None if at is None else text.count("\n", 0, at) + 1
    column = None if at is None else at - text.rfind("\n", 0, at)
    return WorkloadError(f"{what}a number with more than 4,300 digits; expected a number of "
                         "sensible size", Location(source, line, column))  # fmt: skip


def _find(text: str, at: int, path: list[str | int]) -> int | None:
    for step in path:
        if text[at] == "[" and isinstance(step, int):
            at = _blank(text, at + 1)
            for _ in range(step):
                if text[at] == "]":
                    return None
                at = _blank(text, _skip(text, at))
                if text[at] != ",":
                    return None
                at = _blank(text, at + 1)
            if text[at] == "]":
                return None
        elif text[at] == "{" and isinstance(step, str):
            at = _blank(text, at + 1)
            while True:
                if text[at] != '"':
                    return None
                end = _skip(text, at)
                key = text[at + 1 : end - 1]
                at = _blank(text, end)
                if text[at] != ":":
                    return None
                at = _blank(text, at + 1)
                if key == step:
                    break
                at = _blank(text, _skip(text, at))
                if text[at] != ",":
                    return None
                at = _blank(text, at + 1)
        else:
            return None
    return at


def _blank(text: str, at: int) -> int:
    while text[at] in " \t\r\n":
        at += 1
    return at


def _skip(text: str, at: int) -> int:
    """The offset just after the value that starts at ``at``."""
    first = text[at]
    if first == '"':
        at += 1
        while text[at] != '"':
            at += 2 if text[at] == "\\" else 1
        return at + 1
    if first in _CLOSE:
        depth = 0
        while True:
            c = text[at]
            if c == '"':
                at = _skip(text, at)
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return at + 1
            at += 1
    while text[at] not in ",]} \t\r\n":
        at += 1
    return at


class EntryError(SerialscaleError):
    """An entry of a JSON input is wrong: ``at`` is its path (keys and indices), for
    :meth:`located` to turn into a line once the reader knows the text."""

    def __init__(self, message: str, at: list[str | int], step_id: str | None = None) -> None:
        super().__init__(message)
        self.message, self.at, self.step_id = message, at, step_id

    def located(self, text: str, start: int, source: str) -> WorkloadError:
        """The located error: the entry's line in ``text`` (the JSON value at ``start``)."""
        return WorkloadError(self.message, Location(source, line_of(text, start, self.at),
                                                    step_id=self.step_id))  # fmt: skip
