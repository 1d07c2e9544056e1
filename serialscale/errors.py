"""Error types and exit codes shared by every stage.

Every input problem becomes a :class:`WorkloadError` that knows where it happened (file, line,
column, step id), so the CLI can print one located line and exit with :attr:`ExitCode.INPUT`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


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


class WorkloadError(Exception):
    """A workload could not be read: the message says what was expected, the location where."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __reduce__(self) -> tuple[type[WorkloadError], tuple[str, Location]]:
        # The location travels too when an error crosses a process boundary.
        return (type(self), (self.message, self.location))

    def __str__(self) -> str:
        loc = self.location
        step = f" (step '{loc.step_id}')" if loc.step_id is not None else ""
        return f"{loc.prefix()}: error: {self.message}{step}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record of the error (used by batch output)."""
        loc = self.location
        record: dict[str, object] = {"source": loc.source, "message": self.message}
        if loc.line is not None:
            record["line"] = loc.line
        if loc.column is not None:
            record["column"] = loc.column
        if loc.step_id is not None:
            record["step"] = loc.step_id
        return record


class UsageError(Exception):
    """The command was used wrongly (bad flag value, impossible combination)."""


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    import difflib  # only on the error path

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
