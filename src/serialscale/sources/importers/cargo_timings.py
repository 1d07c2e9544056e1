"""cargo ``--timings`` reports: one step per compiled unit, in the seconds the build took.

``cargo build --timings`` writes ``target/cargo-timings/cargo-timing.html`` (and a copy named
with a time stamp); the Cargo Book's "Reporting build timings"
(https://doc.rust-lang.org/cargo/reference/timings.html) describes the page, and the page
embeds its data as ``const UNIT_DATA = [...]`` (cargo's ``timings`` module writes it): one
object per compiled unit (a compiler invocation), with

- ``i`` (its index), ``name``, ``version``, ``target`` (`` lib``, `` build script (run)``,
  `` bin "x"``...): the step is ``name vVERSION TARGET``, as the page's table names it
  (``#i`` is added when two units read alike);
- ``start`` and ``duration``: seconds from the start of the build (its observed time);
- ``unblocked_units`` (``unlocked_units`` before Rust 1.94): the units that could start when
  this one *finished*; ``unblocked_rmeta_units`` (``unlocked_rmeta_units``): the units that
  could start when its *metadata* was written (pipelined builds: a library's dependents
  compile against its ``.rmeta`` while it still generates code);
- ``rmeta_time`` (older cargo), or ``sections`` with a ``frontend`` section (newer cargo):
  when, after its start, the metadata was written.

**Metadata.** A unit that some unit waited for only as metadata is two steps: ``X
(metadata)``, costing the time to its metadata, and ``X``, costing the rest and needing
``X (metadata)``. The units it unblocked through its metadata need ``X (metadata)``, the
others need ``X``; so a dependent's wait is what it really was, and the unit's total cost is
unchanged. Other units are one step.

**Taken on trust (noted).** cargo records, for each unit, only the dependency whose end let
it start (the last to finish in that run), not all of its dependencies: each step needs at
most that one, so the graph is the run's chain of binding waits, and its depth is a lower
bound of the depth of the full unit graph with these durations. Units cargo found fresh are
not compiled and not in the page (the page's "Fresh units" count is noted).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import unit_for
from ..json_locate import EntryError, long_number_error
from ..parsing import decode
from ..step_plan import StepPlan

_MARK = "const UNIT_DATA = "
_FRESH = re.compile(r"Fresh units:</td>\s*<td>(\d{1,9})<")
#: Largest time accepted (seconds): a build of 30 years.
_MAX_SECONDS = 1e9


def read_timings(path: Path, data: bytes,
                 limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The units of the cargo timings page ``data`` (from ``path``) and the notes."""
    text = decode(data, str(path))
    at = text.find(_MARK)
    if at < 0:
        raise WorkloadError("cargo timings: this page holds no 'const UNIT_DATA = [...]' "
                            "(the report 'cargo build --timings' writes)",
                            Location(str(path)))  # fmt: skip
    line = text.count("\n", 0, at) + 1
    start = at + len(_MARK)
    try:
        units, _ = json.JSONDecoder().raw_decode(text, start)
    except RecursionError:
        raise WorkloadError("cargo timings: UNIT_DATA is nested too deeply",
                            Location(str(path), line)) from None  # fmt: skip
    except json.JSONDecodeError as exc:
        raise WorkloadError(f"cargo timings: UNIT_DATA is not JSON: {exc.msg}",
                            Location(str(path), exc.lineno, exc.colno)) from None  # fmt: skip
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise long_number_error(exc, text, str(path), "cargo timings: ", start) or exc from None
    where = Location(str(path), line)
    if not isinstance(units, list):
        raise WorkloadError("cargo timings: UNIT_DATA must be a list of units", where)
    try:
        return _read(units, text, path, limits, line)
    except EntryError as exc:  # located at the unit's own line
        raise exc.located(text, start, str(path)) from None


def _read(units: list[Any], text: str, path: Path, limits: Limits,
          line: int) -> tuple[StepPlan, list[str]]:  # fmt: skip
    at = text.find(_MARK)
    plan = StepPlan(limits=limits, source=str(path))
    plan.check(len(units))
    parsed = [_unit(u, k) for k, u in enumerate(units)]
    by_index: dict[int, _Unit] = {}
    for k, unit in enumerate(parsed):
        if unit.i in by_index:
            raise EntryError(f"cargo timings: two units have the index {unit.i}", [k],
                             unit.label)  # fmt: skip
        by_index[unit.i] = unit
    labels: dict[str, int] = {}
    for unit in parsed:
        labels[unit.label] = labels.get(unit.label, 0) + 1
    _name_steps(parsed, labels)
    waits: dict[int, list[str]] = {}  # unit index -> the steps it needs
    split = 0
    for k, unit in enumerate(parsed):
        for targets, rmeta in ((unit.unblocked, False), (unit.unblocked_rmeta, True)):
            for j in targets:
                if j not in by_index:
                    raise EntryError(f"cargo timings: unit {unit.i} ({unit.label!r}) unblocks "
                                     f"unit {j}, which is not in UNIT_DATA", [k],
                                     unit.step)  # fmt: skip
                waits.setdefault(j, []).append(unit.meta if rmeta else unit.step)
        if unit.unblocked_rmeta:
            split += 1
    for unit in parsed:
        needs = waits.get(unit.i, [])
        if unit.unblocked_rmeta:
            meta = min(unit.duration, unit.rmeta if unit.rmeta is not None else unit.duration)
            plan.add(unit.meta, round(meta, 6), needs)
            plan.add(unit.step, round(unit.duration - meta, 6), [unit.meta])
            plan.observed[unit.meta] = _span(unit.start, meta)
            plan.observed[unit.step] = _span(unit.start + meta, unit.duration - meta)
        else:
            plan.add(unit.step, unit.duration, needs)
            plan.observed[unit.step] = _span(unit.start, unit.duration)
    notes = ["cargo timings record, for each unit, only the dependency whose end let it start "
             "(the last to finish in this build): each step needs that one, so the depth is a "
             "lower bound of the full unit graph's with these durations"]  # fmt: skip
    if split:
        notes.append(f"{split} {unit_for(split, 'units')} {'was' if split == 1 else 'were'} "
                     "waited for as metadata (pipelining): each is a step 'X (metadata)' up to "
                     "its .rmeta and a step 'X' for the rest")  # fmt: skip
    fresh = _FRESH.search(text, 0, at)
    if fresh and int(fresh.group(1)):
        count = int(fresh.group(1))
        notes.append(f"{count} fresh {unit_for(count, 'units')} (not compiled in this build) "
                     "not counted")  # fmt: skip
    return plan, notes


def _name_steps(units: list[_Unit], labels: dict[str, int]) -> None:
    """Give each unit its step name (its label; ``label #i`` when two read alike) and, when
    it is split, the name of its metadata step; no two names alike, whatever the page says."""
    used: set[str] = set()

    def claim(name: str, i: int) -> str:
        if name in used:
            name = f"{name} #{i}"
        while name in used:  # a page whose labels already read 'x #1'
            name += "'"
        used.add(name)
        return name

    for unit in units:
        if labels[unit.label] == 1:
            unit.step = claim(unit.label, unit.i)
    for unit in units:
        if labels[unit.label] > 1:
            unit.step = claim(f"{unit.label} #{unit.i}", unit.i)
    for unit in units:
        if unit.unblocked_rmeta:
            unit.meta = claim(f"{unit.step} (metadata)", unit.i)


def _span(start: float, duration: float) -> tuple[float, float]:
    """An observed (start, end), rounded to microseconds: cargo writes centiseconds, and sums
    of them must meet exactly (1.2 + 1.4 is not 2.6 in floats: a wait of 4e-16 s)."""
    return round(start, 6), round(start + duration, 6)


class _Unit:
    __slots__ = ("duration", "i", "label", "meta", "rmeta", "start", "step", "unblocked",
                 "unblocked_rmeta")  # fmt: skip

    def __init__(self, i: int, label: str, start: float, duration: float, rmeta: float | None,
                 unblocked: list[int], unblocked_rmeta: list[int]) -> None:  # fmt: skip
        self.i, self.label, self.start, self.duration = i, label, start, duration
        self.rmeta, self.unblocked, self.unblocked_rmeta = rmeta, unblocked, unblocked_rmeta
        self.step = label
        self.meta = f"{label} (metadata)"


def _unit(raw: Any, k: int) -> _Unit:
    """One entry of UNIT_DATA, checked."""

    def fail(message: str, step: str | None = None) -> EntryError:
        return EntryError(f"cargo timings: unit {k + 1}: {message}", [k], step)

    if not isinstance(raw, dict):
        raise fail("expected an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise fail("needs a 'name'")
    version = raw.get("version")
    target = raw.get("target", "")
    label = name + (f" v{version}" if isinstance(version, str) and version else "")
    label += target if isinstance(target, str) else ""
    i = raw.get("i", k)
    if isinstance(i, bool) or not isinstance(i, int):
        raise fail("'i' must be an integer", label)
    start = _number(raw.get("start", 0), "start", fail, label)
    duration = _number(raw.get("duration"), "duration", fail, label)
    rmeta: float | None = None
    if raw.get("rmeta_time") is not None:
        rmeta = _number(raw.get("rmeta_time"), "rmeta_time", fail, label)
    elif isinstance(raw.get("sections"), list):
        for section in raw["sections"]:
            if (isinstance(section, list) and len(section) == 2 and section[0] == "frontend"
                    and isinstance(section[1], dict)):  # fmt: skip
                rmeta = _number(section[1].get("end"), "sections", fail, label)
                break
    lists = []
    for new, old in (("unblocked_units", "unlocked_units"),
                     ("unblocked_rmeta_units", "unlocked_rmeta_units")):  # fmt: skip
        value = raw.get(new, raw.get(old, []))
        if not isinstance(value, list) or not all(
            isinstance(j, int) and not isinstance(j, bool) for j in value
        ):
            raise fail(f"'{new}' must be a list of unit indices", label)
        lists.append(value)
    return _Unit(i, label, start, duration, rmeta, lists[0], lists[1])


def _number(value: Any, key: str, fail: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        0 <= value <= _MAX_SECONDS
    ):  # fmt: skip
        raise fail(f"'{key}' must be a number of seconds >= 0", label)
    return float(value)
