"""A fast path for plain YAML workloads: the common subset, read line by line.

PyYAML's loaders build a node for every scalar, with marks, before building the data: a
million-step file takes tens of seconds and gigabytes. Workload files almost always use a
small, regular part of YAML: a top-level mapping, a ``steps`` list of mappings (block or
one-line flow style), plain or double-quoted names, decimal numbers and flow or block need
lists. This module reads exactly that subset into columns and *declines* (returns ``None``)
at the first line it does not fully understand; PyYAML then reads the file, and the checked
path locates any problem. So anything unusual costs only the time of the failed attempt.

Declined, because YAML 1.1 (PyYAML) gives such text another meaning or because it is rare:
tabs, anchors and aliases (``&``, ``*``), tags (``!``), block scalars (``|``, ``>``),
directives and document markers, single quotes, escapes, multi-line scalars, merge keys,
plain words that PyYAML reads as booleans or null (``yes``, ``on``, ``off``, ``null``...),
numbers other than plain decimals (``010`` octal, ``1e3`` a string in YAML 1.1, ``1_000``,
``1:30`` sexagesimal, ``.5``, signs), empty ids, repeated or unknown keys, ``params``
(templates have their own path), non-printable characters and Unicode line breaks. The tests
compare this reader with PyYAML on random documents, valid and broken.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import chain
from typing import Any

from ..documents.workload import DEFAULT_COST, STEP_KEYS, TEXT_KEYS
from .columns import Columns

#: The step keys this reader reads (a subset of the declared ones, in the order tools write
#: them); a step with any other key, declared or not, takes the checked path. A key added to
#: the declaration (``span``, issue #26) is declined here until this reader learns it.
_READ_KEYS = ("id", "cost", "needs")
assert set(_READ_KEYS) <= set(STEP_KEYS), "the YAML fast reader reads undeclared keys"

#: Text that makes the whole file take the PyYAML path: tab, anchors, aliases, tags, block
#: scalars, directives, single quotes, escapes, backquotes, ``@``, non-printable characters
#: and the line breaks of YAML 1.1 that are not ``\n``.
_DECLINE = re.compile(
    "[\t&*!|>%'\\\\`@\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)
#: Plain words that YAML 1.1 resolves to booleans or null (PyYAML's implicit resolvers).
_NOT_TEXT = frozenset(
    ("yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
     "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL")
)  # fmt: skip

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-/]*"  # a plain id: never a number, a bool or null by shape
_INT = r"(?:0|[1-9][0-9]{0,17})"  # no leading zero (octal), no sign, no underscore
_FLOAT = r"(?:0|[1-9][0-9]{0,17})\.[0-9]{1,17}"
_QUOTED = r'"[^"\n]*"'  # no escapes (refused above), one line
_SCALAR = rf"(?:{_QUOTED}|{_FLOAT}|{_INT}|{_NAME})"
_FLOW_SEQ = rf"\[[ ]*(?:{_SCALAR}[ ]*(?:,[ ]*{_SCALAR}[ ]*)*)?\]"
_KEY = "(?:" + "|".join([*_READ_KEYS, *(f'"{k}"' for k in _READ_KEYS)]) + ")"
_FLOW_MAP = rf"\{{[ ]*{_KEY}:[ ]+(?:{_FLOW_SEQ}|{_SCALAR})[ ]*(?:,[ ]*{_KEY}:[ ]+(?:{_FLOW_SEQ}|{_SCALAR})[ ]*)*\}}"  # noqa: E501
_COMMENT = r"(?:[ ]+\#[^\n]*)?[ ]*"
#: Plain text: words separated by spaces (each space run followed by a word, so a long run of
#: spaces can be matched one way only: no backtracking that grows with the line).
_TEXT = r"[A-Za-z_][^\n #]*(?:[ ]+[^\n #]+)*"

#: One line of a workload: indent, an optional sequence dash, then a ``key: value``, a
#: ``key:`` that opens a block, a one-line flow mapping, or a bare scalar (a need list item).
_LINE = re.compile(
    rf"(?P<indent>[ ]*)(?P<dash>-[ ]+)?(?:"
    rf"(?P<key>[A-Za-z_]+):(?:[ ]+(?P<value>{_FLOW_SEQ}|{_SCALAR}|{_TEXT}))?"
    rf"|(?P<flow>\{{[^\n]*\}})"  # checked against _FLOW_MAP when one is met
    rf"|(?P<item>{_SCALAR})"
    rf"){_COMMENT}"
)
_BLANK = re.compile(r"[ ]*(?:\#[^\n]*)?")
_SCALARS = re.compile(_SCALAR)


@cache
def _flow_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A one-line flow mapping, and its key: value pairs (compiled when a file has one:
    compiling costs a millisecond of every start-up otherwise)."""
    return re.compile(_FLOW_MAP), re.compile(rf"({_KEY}):[ ]+({_FLOW_SEQ}|{_SCALAR})")


_IS_INT = re.compile(_INT)
_IS_FLOAT = re.compile(_FLOAT)

TOP_TEXT = TEXT_KEYS

# Runs of steps in the two layouts that tools write (one key per line in the order id, cost,
# needs; or one flow mapping per line), read many at a time by one regular expression. Names
# here are plain or quoted names or decimal integers, so a need list splits at its commas.
_ITEM = rf'(?:{_NAME}|"{_NAME}"|{_INT})'
_LIST = rf"\[[ ]*(?:{_ITEM}[ ]*(?:,[ ]*{_ITEM}[ ]*)*)?\]"
_NUM = rf"{_FLOAT}|{_INT}"


@cache
def _runs(indent: str) -> tuple[re.Pattern[str], ...]:
    """The patterns of one regular step (block, flow) whose dash is at ``indent``."""
    block = (
        rf"{indent}- id: ({_ITEM})\n(?:{indent}  cost: ({_NUM})\n)?"
        rf"(?:{indent}  needs: ({_LIST})\n)?"
    )
    flow = (
        rf'{indent}- \{{(?:id|"id"): ({_ITEM})(?:, (?:cost|"cost"): ({_NUM}))?'
        rf'(?:, (?:needs|"needs"): ({_LIST}))?\}}\n'
    )
    return re.compile(block), re.compile(flow)


class _Decline(Exception):
    """Not the subset this reader understands: PyYAML reads the file."""


def yaml_columns(text: str) -> Columns | None:
    """The columns of a plain YAML workload in the common subset, or ``None``."""
    if _DECLINE.search(text) or "\r" in text.replace("\r\n", "\n"):
        return None
    try:
        return _Reader(text.replace("\r\n", "\n")).document()
    except _Decline:
        return None


def _name(token: str) -> str:
    """A step id or need from a scalar token: quoted text, a decimal int as its text, or a
    plain name (never one that YAML 1.1 reads as a boolean or null)."""
    if token[0] == '"':
        if len(token) == 2:
            raise _Decline  # an empty id: the checked path says so
        return token[1:-1]
    if _IS_FLOAT.fullmatch(token) or token in _NOT_TEXT:
        raise _Decline  # a float id, or a bool or null
    return token


def _cost(token: str) -> int | float:
    if _IS_INT.fullmatch(token):
        return int(token)
    if _IS_FLOAT.fullmatch(token):
        return float(token)
    raise _Decline  # text where a number belongs: the checked path says so


def _need(token: str) -> str | int:
    """A need as YAML types it: a plain decimal is an int (the checked path turns it into
    the id's text, with its own order of checks), anything else a name."""
    return int(token) if _IS_INT.fullmatch(token) else _name(token)


def _needs(flow: str) -> list[str | int]:
    return [_need(t) for t in _SCALARS.findall(flow[1:-1])]


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0  # where the next line starts
        self.line_start = 0  # where the line last returned by next_line starts
        self.ids: list[str] = []
        self.costs: list[Any] = []
        self.needs: list[list[Any]] = []

    def next_line(self) -> re.Match[str] | None:
        """The next line that is not blank or a comment, parsed; ``None`` at the end."""
        text = self.text
        while self.pos < len(text):
            start = self.pos
            end = text.find("\n", start)
            if end < 0:
                end = len(text)
            self.pos = end + 1
            match = _LINE.fullmatch(text, start, end)
            if match is None:
                if _BLANK.fullmatch(text, start, end):
                    continue
                raise _Decline
            self.line_start = start
            return match
        return None

    def document(self) -> Columns:
        top: dict[str, str] = {}
        seen_steps = False
        line = self.next_line()
        while line is not None:
            key, value = line["key"], line["value"]
            if line["indent"] or line["dash"] or key is None or key in top:
                raise _Decline
            if key == "steps":
                if value is not None or seen_steps:
                    raise _Decline
                seen_steps = True
                line = self.steps()
                continue
            if key not in TOP_TEXT or value is None:
                raise _Decline
            top[key] = _text(value)
            line = self.next_line()
        if not seen_steps or not self.ids:
            raise _Decline
        return Columns(top.get("name"), top.get("description"), top.get("unit"), self.ids,
                       self.costs, self.needs)  # fmt: skip

    def steps(self) -> re.Match[str] | None:
        """Read the step list; returns the first line after it."""
        line = self.next_line()
        if line is None or line["dash"] is None:
            raise _Decline  # `steps:` with no list: the checked path says what is wrong
        indent = line["indent"]
        while line is not None and line["dash"] is not None and line["indent"] == indent:
            if self.bulk(indent):
                line = self.next_line()
            elif line["flow"] is not None:
                self.flow_step(line["flow"])
                line = self.next_line()
            elif line["key"] is not None:
                line = self.block_step(line, len(indent) + len(line["dash"]))
            else:
                raise _Decline
        if line is not None and (line["indent"] or line["dash"]):
            raise _Decline  # indented text after the list that belongs to nothing we read
        return line

    def bulk(self, indent: str) -> bool:
        """Read the run of regular steps that starts at the current line, if there is one."""
        text, start = self.text, self.line_start
        for one in _runs(indent):
            at = start
            steps: list[tuple[str, ...]] = []
            keep = steps.append
            for match in one.finditer(text, start):
                if match.start() != at:  # something else comes between: a run ends there
                    break
                keep(match.groups(""))
                at = match.end()
            if steps:
                self.add_run(steps)
                self.pos = at
                return True
        return False

    def add_run(self, steps: list[tuple[str, ...]]) -> None:
        ids = [s[0] for s in steps]
        if not _NOT_TEXT.isdisjoint(ids):
            raise _Decline
        self.ids += [x[1:-1] if x[0] == '"' else x for x in ids]
        self.costs += [
            (float(c) if "." in c else int(c)) if c else DEFAULT_COST for _, c, _ in steps
        ]
        rows = [n[1:-1].replace(" ", "").replace('"', "") for _, _, n in steps]
        needs: list[list[Any]] = [row.split(",") if row else [] for row in rows]
        if any(map(str.isdigit, chain.from_iterable(needs))):  # integer names: typed one
            # by one (a quoted "3" is text, a plain 3 an int, as PyYAML reads them)
            needs = [_needs(n) if n else [] for _, _, n in steps]
        if not _NOT_TEXT.isdisjoint(chain.from_iterable(needs)):
            raise _Decline
        self.needs += needs

    def add(self, fields: dict[str, Any]) -> None:
        if "id" not in fields:
            raise _Decline
        self.ids.append(fields["id"])
        self.costs.append(fields.get("cost", DEFAULT_COST))
        self.needs.append(fields.get("needs") or [])

    def flow_step(self, flow: str) -> None:
        whole, pairs = _flow_patterns()
        if not whole.fullmatch(flow):
            raise _Decline
        fields: dict[str, Any] = {}
        for key, value in pairs.findall(flow):
            key = key.strip('"')
            if key in fields:
                raise _Decline
            fields[key] = _field(key, value)
        self.add(fields)

    def block_step(self, line: re.Match[str], column: int) -> re.Match[str] | None:
        """A step written as a block mapping whose keys start at ``column``."""
        fields: dict[str, Any] = {}
        current: re.Match[str] | None = line
        while current is not None:
            key, value = current["key"], current["value"]
            if key not in _READ_KEYS or key in fields:
                raise _Decline
            if value is None:
                if key != "needs":
                    raise _Decline
                current, fields["needs"] = self.block_needs(column)
            else:
                fields[key] = _field(key, value)
                current = self.next_line()
            if current is None or current["dash"] is not None or len(current["indent"]) != column:
                break
        self.add(fields)
        if current is not None and current["dash"] is None and len(current["indent"]) > column:
            raise _Decline
        return current

    def block_needs(self, column: int) -> tuple[re.Match[str] | None, list[str | int]]:
        """``needs:`` followed by ``- name`` lines indented at least to ``column``."""
        names: list[str | int] = []
        line = self.next_line()
        indent = None if line is None else line["indent"]
        while (
            line is not None
            and line["dash"] is not None
            and line["item"] is not None
            and line["indent"] == indent
            and len(line["indent"]) >= column
        ):
            names.append(_need(line["item"]))
            line = self.next_line()
        if line is not None and len(line["indent"]) > column and line["dash"] is None:
            raise _Decline
        if line is not None and line["dash"] is not None and len(line["indent"]) >= column:
            raise _Decline  # a list item we could not read as a name, or a deeper list
        return line, names


def _field(key: str, token: str) -> Any:
    if key == "id":
        if not _SCALARS.fullmatch(token):
            raise _Decline  # plain text beyond the names we read (spaces, brackets...)
        return _name(token)
    if key == "cost":
        return _cost(token)
    if token[0] != "[":
        raise _Decline  # needs that are not a list: the checked path says so
    return _needs(token)


def _text(value: str) -> str:
    """A top-level text field: a quoted string, or plain text that YAML 1.1 reads as text
    (it starts with a letter, is no boolean or null, holds no ``: `` and no comment)."""
    value = value.rstrip(" ")
    if value[0] == '"':
        if not re.fullmatch(_QUOTED, value):
            raise _Decline
        return value[1:-1]
    if value in _NOT_TEXT or ": " in value or value.endswith(":") or value[0] in "[{":
        raise _Decline
    if _IS_FLOAT.fullmatch(value):  # a number, taken as its text the way PyYAML types it
        return str(float(value))  # (1.50 is the float 1.5, whose text is "1.5")
    return value
