"""GNU make's printed database: one step per explicit target, its prerequisites as needs.

``make -pnq > db.txt`` (``-p``, ``--print-data-base``: GNU make manual, "Summary of Options",
https://www.gnu.org/software/make/manual/html_node/Options-Summary.html; ``-n`` and ``-q``
run nothing) prints what make knows after reading the makefiles. serialscale reads that
text and never runs ``make`` itself. What is read, in the ``# Files`` section only (the
variables, with their ``define`` bodies, and the implicit rules are skipped):

- each entry starts with a line ``target: prerequisites`` (``target::`` for a double-colon
  rule); prerequisites after `` | `` are order-only, and are needs too (make builds them
  first); pattern rules that make applied appear resolved (``main.o: main.c util.h``);
- an entry after ``# Not a target:`` is a file make only knows about (a source file, a
  built-in suffix rule): not a step, and a prerequisite that is no step is a source file;
- make's special targets (``.PHONY``, ``.SUFFIXES``, ``.DEFAULT``...) are not steps;
- ``#  Also makes: a b`` (grouped targets ``a b &: x``, multi-target pattern rules): the
  targets one recipe makes are one step, named by the first;
- double-colon rules of one target (each printed as an entry) are one step needing the
  prerequisites of all;
- a target-specific variable (``t: CFLAGS += -O2``, after its origin comment) is not a rule;
- ``.WAIT`` in a prerequisite list (make 4.4): the prerequisites after it wait for those
  before it, through a zero-cost connector step ``target .WAIT N``;
- recipe lines (starting with a tab) and make's comments on an entry are skipped.

make translates the database's headings (``# Files``, ``# Not a target:``): the database is
read as make prints it in English (``LC_ALL=C make -pnq``).

Cost 1 per target (unit ``targets``) unless ``--durations`` gives times. ``make -q`` stops
at the first target out of date: the pattern rules of targets it did not reach are not
resolved in the database (their entries say "Implicit rule search has not been done"), so
their prerequisites are missing; a note counts them.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import unit_for
from ..parsing import decode
from ..step_plan import StepPlan

#: make's special built-in target names (GNU make manual, "Special Built-in Target Names").
SPECIAL = frozenset({
    ".PHONY", ".SUFFIXES", ".DEFAULT", ".PRECIOUS", ".INTERMEDIATE", ".NOTINTERMEDIATE",
    ".SECONDARY", ".SECONDEXPANSION", ".DELETE_ON_ERROR", ".IGNORE", ".LOW_RESOLUTION_TIME",
    ".SILENT", ".EXPORT_ALL_VARIABLES", ".NOTPARALLEL", ".ONESHELL", ".POSIX", ".WAIT",
    ".EXTRA_PREREQS", ".DEFAULT_GOAL", ".FEATURES", ".INCLUDE_DIRS", ".VARIABLES",
})  # fmt: skip
#: Lines that end the ``# Files`` section.
_ENDS = ("# files hash-table stats", "# VPATH Search Paths", "# Finished Make data base")
#: The comment before a recipe (make 3.81 said "commands").
_RECIPE = ("#  recipe to execute", "#  commands to execute")
_HEADER = re.compile(r"::?(?=[ \t]|$)")
_ORIGINS = ("# makefile", "# default", "# environment", "# automatic", "# command line",
            "# override", "# 'override'", "# private", "# var")  # fmt: skip


class _Rule:
    __slots__ = ("also", "line", "needs", "order", "searched", "target")

    def __init__(self, target: str, needs: list[str], order: list[str], line: int) -> None:
        self.target, self.needs, self.order, self.line = target, needs, order, line
        self.also: list[str] = []
        self.searched = True


def looks_like_make_database(head: bytes) -> bool:
    """Whether ``head`` is the start of ``make -p`` output: its header line or its sections."""
    return b"# Make data base, printed on" in head or (
        b"\n# Variables\n" in head and b"# GNU Make" in head
    )


def read_database(path: Path, data: bytes,
                  limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The targets of the make database ``data`` (from ``path``) and the notes."""
    text = decode(data, str(path))
    unexamined: set[str] = set()
    patterns = _Patterns()
    rules = _rules(text, path, unexamined, patterns)
    if rules is None:
        raise WorkloadError("make database: no '# Files' section; expected the output of "
                            "'LC_ALL=C make -pnq' (--print-data-base, in English)",
                            Location(str(path)))  # fmt: skip
    plan = StepPlan(limits=limits, source=str(path))
    step_of: dict[str, str] = {}
    order: list[str] = []
    merged: dict[str, list[_Rule]] = {}
    for rule in rules:
        owner = rule.also[0] if rule.also and rule.target in rule.also else rule.target
        for name in rule.also or [rule.target]:
            step_of.setdefault(name, owner)
        if owner not in merged:
            order.append(owner)
        merged.setdefault(owner, []).append(rule)
    plan.check(len(order))
    steps = set(order)
    needs_of: dict[str, list[str]] = {}
    connectors: list[tuple[str, list[str]]] = []
    for step in order:
        group = merged[step]
        needs: list[str] = []
        for rule in group:
            needs.extend(_with_waits(step, rule.needs + rule.order, connectors, needs_of,
                                     step_of))  # fmt: skip
        needs_of.setdefault(step, []).extend(needs)
    for name, before in connectors:
        steps.add(name)
        plan.add(name, 0, [step_of.get(b, b) for b in before if step_of.get(b, b) in steps],
                 connector=True)  # fmt: skip
    for step in order:
        resolved = (step_of.get(n, n) for n in needs_of[step])
        plan.add(step, 1, [n for n in resolved if n in steps and n != step])
    notes: list[str] = []
    unseen = {n for rule in rules for n in rule.needs + rule.order
              if n in unexamined and patterns.matches(n)}  # fmt: skip
    if unseen:
        n = len(unseen)
        notes.append(f"{n} {unit_for(n, 'prerequisites')} {'is' if n == 1 else 'are'} no "
                     "target, and make never looked for a rule that makes them (make -q stops "
                     "at the first target out of date, and examines only the goals asked for): "
                     "a pattern rule's work there is not counted; on a built tree make -q "
                     "examines every goal")  # fmt: skip
    if connectors:
        notes.append(f"{len(connectors)} .WAIT {unit_for(len(connectors), 'markers')}: the "
                     "prerequisites after each wait for those before it (through a zero-cost "
                     "step)")  # fmt: skip
    return plan, notes


def _with_waits(step: str, prerequisites: list[str], connectors: list[tuple[str, list[str]]],
                needs_of: dict[str, list[str]], step_of: dict[str, str]) -> list[str]:  # fmt: skip
    """``prerequisites`` without ``.WAIT``; each ``.WAIT`` becomes a connector (added to
    ``connectors``) needing the prerequisites before it, and needed by those after it."""
    if ".WAIT" not in prerequisites:
        return prerequisites
    out: list[str] = []
    before: list[str] = []
    connector: str | None = None
    for name in prerequisites:
        if name == ".WAIT":
            if before:
                connector = f"{step} .WAIT {len(connectors) + 1}"
                connectors.append((connector, before))
                before = [connector]
            continue
        before.append(name)
        out.append(name)
        if connector is not None:
            needs_of.setdefault(step_of.get(name, name), []).append(connector)
    return out


class _Patterns:
    """The target patterns of make's implicit rules (``%.o``, ``lib%.a``), but the
    match-anything ``%``: which names a pattern rule could make. Matched by what follows the
    ``%`` (a superset of the names the full patterns match, so the note errs on the side of
    saying), and only through suffixes of at most :data:`LONGEST` characters: a bounded
    number of lookups per name, whatever the database holds."""

    LONGEST = 64

    def __init__(self) -> None:
        self.suffixes: set[str] = set()

    def add(self, pattern: str) -> None:
        """Record ``pattern`` (a word without ``%``, or with a long tail, is left out)."""
        if "%" in pattern and pattern != "%":
            suffix = pattern.rpartition("%")[2]
            if len(suffix) <= self.LONGEST:
                self.suffixes.add(suffix)

    def matches(self, name: str) -> bool:
        """Whether the tail of some pattern ends ``name`` (with a non-empty stem before it)."""
        return any(name[len(name) - n :] in self.suffixes
                   for n in range(min(len(name) - 1, self.LONGEST) + 1))  # fmt: skip


def _rules(text: str, path: Path, unexamined: set[str],
           patterns: _Patterns) -> list[_Rule] | None:  # fmt: skip
    """The target entries of the ``# Files`` section, or None when there is none; the files
    that are no target and whose implicit rules make did not search go to ``unexamined``,
    the target patterns of the ``# Implicit Rules`` section to ``patterns``."""
    lines = text.split("\n")
    k = 0
    depth = 0  # inside define ... endef of the variables section
    implicit = False
    pending: list[str] = []  # the target patterns of an implicit rule, until its recipe
    while k < len(lines):
        line = lines[k].rstrip("\r")
        k += 1
        if depth:
            word = line.strip().split(None, 1)[:1]
            if word == ["endef"]:
                depth -= 1
            elif word == ["define"]:
                depth += 1
            continue
        if line == "# Files":
            break
        if line == "# Implicit Rules":
            implicit = True
        elif implicit and line[:1] not in ("", "#", "\t"):
            match = _HEADER.search(line)
            pending = line[: match.start()].split() if match else []
        elif implicit and (line.startswith("\t") or line.startswith(_RECIPE)):
            for pattern in pending:  # a rule with a recipe (one without makes nothing)
                patterns.add(pattern)
            pending = []
        elif implicit and not line:
            pending = []
        elif line.startswith(("define ", "override define ")):
            depth = 1
    else:
        return None
    rules: list[_Rule] = []
    outside: str | None = None  # the name of a '# Not a target' entry
    skip_next = False
    previous = ""
    current: _Rule | None = None
    for number in range(k + 1, len(lines) + 1):
        line = lines[number - 1].rstrip("\r")
        if line.startswith("# Not a target"):
            skip_next = True
            previous = line
            continue
        if line.startswith(_ENDS):
            break
        if not line.strip():
            current = None
            outside = None
            previous = ""
            continue
        if line.startswith("\t"):
            continue  # a recipe line
        if line.startswith("#"):
            unsearched = line.startswith("#  Implicit rule search has not been done")
            if current is not None:
                if line.startswith("#  Also makes:"):
                    current.also = line[len("#  Also makes:") :].split()
                elif unsearched:
                    current.searched = False
            elif unsearched and outside is not None:
                unexamined.add(outside)
            previous = line
            continue
        if previous.startswith(_ORIGINS):
            previous = line  # a target-specific variable, printed after its origin
            continue
        previous = line
        match = _HEADER.search(line)
        if match is None:
            raise WorkloadError("make database: expected 'target: prerequisites' in the "
                                f"# Files section, found {_shown(line)}",
                                Location(str(path), number))  # fmt: skip
        target = line[: match.start()].strip()
        if len(target.split()) > 1:  # make prints one file per entry; names hold no blanks
            raise WorkloadError(f"make database: an entry names one target, found "
                                f"{_shown(target)}", Location(str(path), number))  # fmt: skip
        if skip_next or not target or target in SPECIAL:
            if skip_next:
                outside = target
            skip_next = False
            current = None
            continue
        outside = None
        words = line[match.end() :].split()
        needs, order = (words[: words.index("|")], words[words.index("|") + 1 :]) \
            if "|" in words else (words, [])  # fmt: skip
        current = _Rule(target, needs, order, number)
        rules.append(current)
    return rules


def _shown(text: str) -> str:
    text = "".join(c if c.isprintable() else " " for c in text[:40]) + (
        "…" if len(text) > 40 else ""
    )
    return repr(text)
