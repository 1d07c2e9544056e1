"""Error types and exit codes shared by every stage.

Every error serialscale raises on purpose derives from :class:`SerialscaleError`. Every input
problem becomes a :class:`WorkloadError` that knows where it happened (file, line,
column, step id), so the CLI can print one located line and exit with :attr:`ExitCode.INPUT`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .words import elided


class ExitCode(IntEnum):
    """Process exit codes; one per kind of outcome."""

    OK = 0
    GATE_FAILED = 1  # reserved for CI gates
    INPUT = 2  # any input or usage error, and output that could not be written
    INTERRUPTED = 130  # serialscale itself was interrupted (Ctrl-C), as shells report it


@dataclass(frozen=True)
class Location:
    """Where in an input something is: all parts optional, lines and columns 1-based."""

    source: str | None = None
    line: int | None = None
    column: int | None = None
    step_id: str | None = None

    def prefix(self) -> str:
        """``file:line:column`` as far as it is known (the form editors and CI logs link)."""
        parts = [self.source or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


def byte_location(source: str | None, data: bytes, offset: int) -> Location:
    """The line and column (1-based) of byte ``offset`` of ``data``."""
    line = data.count(b"\n", 0, offset) + 1
    return Location(source, line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1)


class SerialscaleError(Exception):
    """The root of every error serialscale raises on purpose: ``except SerialscaleError``
    catches them all (and lets the user's own exceptions and bugs through)."""


class WorkloadError(SerialscaleError):
    """A workload could not be read: the message says what was expected, the location where."""

    #: Lines shown under the located one (the traceback of a traced function's own code);
    #: each is made safe to print on its own.
    detail: str = ""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __reduce__(self) -> tuple[Any, ...]:
        # The location (and any detail) travels too when an error crosses a process boundary.
        return (type(self), (self.message, self.location), {"detail": self.detail})

    def __str__(self) -> str:
        return "\n".join(_located(self))


def _located(error: WorkloadError) -> list[str]:
    loc = error.location
    step = f" (step '{elided(loc.step_id)}')" if loc.step_id is not None else ""
    first = f"{loc.prefix()}: error: {error.message}{step}"
    return [first, *error.detail.split("\n")] if error.detail else [first]


#: The most errors reported for one input, as compilers do: past it, they are counted ("and
#: 312 more errors"), so a generated file with a mistake on every line stays readable.
MAX_ERRORS = 20


class WorkloadErrors(WorkloadError):
    """Several errors found in one input: ``errors`` (at most :data:`MAX_ERRORS`, in the order
    of the input) and ``more``, how many others were found. As a :class:`WorkloadError` it is
    the first of them (message and location), so code that shows one error still works."""

    def __init__(self, errors: list[WorkloadError], more: int = 0) -> None:
        super().__init__(errors[0].message, errors[0].location)
        self.errors = list(errors)
        self.more = more

    def __reduce__(self) -> tuple[type[WorkloadErrors], tuple[list[WorkloadError], int]]:
        return (type(self), (self.errors, self.more))

    def __str__(self) -> str:
        return "\n".join(error_lines(self))


def error_lines(exc: WorkloadError) -> list[str]:
    """Each error of ``exc`` as its located line, and a last line counting those left out."""
    errors = exc.errors if isinstance(exc, WorkloadErrors) else [exc]
    lines = [line for error in errors for line in _located(error)]
    more = exc.more if isinstance(exc, WorkloadErrors) else 0
    if more:
        from .words import plural

        where = errors[0].location.source or "<input>"
        lines.append(f"{where}: note: and {plural(more, 'more error')} (the first "
                     f"{len(errors)} are shown)")  # fmt: skip
    return lines


class Errors:
    """Collects the errors of one input, to report every one (up to :data:`MAX_ERRORS`)."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self.kept: list[WorkloadError] = []
        self.found = 0
        self.limit = limit

    def __bool__(self) -> bool:
        return self.found > 0

    def add(self, error: WorkloadError) -> None:
        """Record ``error`` (past the limit, only count it)."""
        self.found += 1
        if len(self.kept) < self.limit:
            self.kept.append(error)

    @property
    def full(self) -> bool:
        """Whether another error would only be counted: a caller can skip building it (its
        location, its suggestion) and call :meth:`count` instead."""
        return len(self.kept) >= self.limit

    def count(self) -> None:
        """Count an error past the limit without building it."""
        self.found += 1

    def check(self, last: WorkloadError | None = None) -> None:
        """Raise what was found (with ``last``, an error that stops the reading, after the
        others): one error as itself, several as :class:`WorkloadErrors`, in the order of the
        input (by line and column; errors without a line last)."""
        if last is not None:
            self.add(last)
        if not self.found:
            return
        kept = sorted(self.kept, key=_position)
        if self.found == 1:
            raise kept[0]
        raise WorkloadErrors(kept, self.found - len(kept))


def _position(error: WorkloadError) -> tuple[int, int]:
    loc = error.location
    big = 1 << 62
    return (big if loc.line is None else loc.line, loc.column or 0)


class UsageError(SerialscaleError):
    """The command was used wrongly (bad flag value, impossible combination)."""


#: The most candidates :func:`suggest` compares a word with (the first ones of about its
#: length): a suggestion is a courtesy, and an input with 10**6 ids must not make it slow.
MOST_SUGGESTION_CANDIDATES = 2_000


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string. Only
    choices whose length is within a third of the word's are compared (a closer match is
    impossible otherwise at the 0.6 cutoff), at most :data:`MOST_SUGGESTION_CANDIDATES`."""
    import difflib  # only on the error path
    from itertools import islice

    if not isinstance(word, str) or len(word) > 1_000:
        return ""
    lo, hi = len(word) // 2, 2 * len(word) + 1
    near = islice((c for c in choices if isinstance(c, str) and lo <= len(c) <= hi),
                  MOST_SUGGESTION_CANDIDATES)  # fmt: skip
    candidates = list(near)
    if not word.isascii():  # 'café' typed as e + U+0301 looks like the id spelled with é
        import unicodedata

        same = unicodedata.normalize("NFC", word)
        for choice in candidates:
            if choice != word and unicodedata.normalize("NFC", choice) == same:
                return (f" (did you mean '{choice}'? the two look alike but are written with "
                        f"different characters: {ascii(word)[1:-1]} against "
                        f"{ascii(choice)[1:-1]})")  # fmt: skip
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- Text for people and CI logs ---------------------------------------------------------------

#: What :func:`display` shows by its escape: C0 and C1 control characters and DEL (a newline
#: would start a line of its own, ESC drives the terminal, CR overwrites the line), the line
#: and paragraph separators, and the bidirectional overrides and isolates (they reorder what
#: is shown: "Trojan source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: A GitHub runner acts on a log line whose first non-blank characters are ``::``
#: (``::error::``, ``::add-mask::``, ``::stop-commands::``) and, in its older syntax, on
#: ``##[command]`` anywhere in a line; an Azure Pipelines agent on ``##vso[`` anywhere.
_COMMAND_START = re.compile(r"^([^\S\n]*):(?=:)", re.M)
#: The ``##`` of a runner's command that counts anywhere in a line (exports escape it their
#: own way).
RUNNER_COMMAND_ANYWHERE = re.compile(r"##(?=\[|vso\[)", re.I)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display(text: object, *, lines: bool = False) -> str:
    """``text`` as one line that is safe to print where people and CI runners read it (error
    lines, gate failures, notes, warnings, table cells and titles): every control character
    is shown by its escape (a newline as ``\\n``, ESC as ``\\x1b``), and the line cannot
    be a CI runner's command (a leading ``::`` becomes ``\\x3a:``; ``##[`` and ``##vso[``
    become ``#\\x23[`` and ``#\\x23vso[``). Printable text, including every other Unicode
    character, is kept as it is. With ``lines``, newlines are kept and each line is made
    safe so (for multi-line text such as a usage message).
    """
    if lines:
        return "\n".join(display(part) for part in str(text).split("\n"))
    return neutralize(escape_controls(str(text)))


def display_each(texts: Iterable[str]) -> list[str]:
    """:func:`display` of each text (a table's million ids): one scan of them all, at C
    speed, when none needs a change."""
    texts = list(texts)
    # (joined by a space: no unsafe character, and no '::' or '##' across two texts)
    joined = " ".join(texts)
    if "::" in joined or "##" in joined or _UNSAFE.search(joined) is not None:
        return list(map(display, texts))
    return texts


def escape_controls(text: str) -> str:
    """``text`` with each character :func:`display` shows by its escape so escaped (where a
    format has its own escape for newlines, as GitHub's ``%0A``, apply that first)."""
    return _UNSAFE.sub(_escape_char, text)


def say(text: object) -> None:
    """Print ``text`` on standard error as one safe line (:func:`display`). A standard error
    that is closed or gone is not an error of its own: the exit code still says what
    happened."""
    try:
        if sys.stderr is not None:
            print(display(text), file=sys.stderr)
    except (OSError, ValueError):
        pass


def neutralize(text: str) -> str:
    """Rendered text (many lines, whose user parts went through :func:`display`) with no line
    a GitHub runner would act on, however a table wrapped or folded its cells: only a
    leading ``::``, ``##[`` and ``##vso[`` are rewritten; colour codes and layout are kept."""
    if "::" in text:
        text = _COMMAND_START.sub(r"\1\\x3a", text)
    if "##" in text:
        text = RUNNER_COMMAND_ANYWHERE.sub(r"#\\x23", text)
    return text
