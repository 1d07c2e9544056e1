"""ninja builds: one step per build edge, its needs the edges that make its inputs.

``build.ninja`` is read with ninja's own rules:

- lexical: ``$ `` is a space, ``$:`` a colon, ``$$`` a dollar, ``$`` at the end of a line
  continues it; ``$name`` and ``${name}`` expand variables (the edge's bindings, then the
  file's scope);
- ``include`` reads a file into the current scope; ``subninja`` reads one in a new scope
  that sees the parent's variables but whose own do not leak back (both relative to the build
  folder; a missing one is noted, not fatal);
- paths are canonicalized as ninja's ``CanonicalizePath`` does (``./a.o`` is ``a.o``,
  ``x/../y`` is ``y``, ``a//b`` is ``a/b``; backslashes of Windows paths are slashes), so an
  edge and a log entry written differently still meet;
- an edge's inputs are its explicit inputs, its implicit inputs (after ``|``) and its
  order-only inputs (after ``||``); validations (after ``|@``) are not inputs; inputs no edge
  makes are source files, not steps. ``phony`` edges cost 0 (they are connectors);
- an edge's ``dyndep`` file (C++20 modules, Fortran: written by a scanning edge during the
  build) is read when it exists and adds the implicit inputs and outputs it lists; a missing
  one is noted.

Costs are 1 per edge (unit ``edges``) unless a ``.ninja_log`` lies beside ``build.ninja``:
then each edge costs the seconds its last build took (the log's end minus start times, in
milliseconds), from the *last* build in the log (a new build starts where end times go
backwards); a note says how many edges got a duration, and from which build.

Expanded variables are bounded (a few nested variables can double a value at each level):
their total size may not pass :func:`_expansion_budget` characters.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import plural
from ..parsing import decode
from ..secondary import MissingInput, SecondaryReads
from ..step_plan import StepPlan

_VARIABLE = re.compile(r"\$(\{[a-zA-Z0-9_.-]*\}|[a-zA-Z0-9_-]+|.?)", re.S)
MAX_INCLUDES = 100
#: Largest time a log entry may hold (ms): ninja stores them as 64-bit integers.
_MAX_TIME = 1 << 63


def _expansion_budget(input_bytes: int) -> int:
    """Characters all variable expansions of one build may produce: generous for real files
    (their expansions are about the size of the file), fatal for a doubling chain."""
    return 64 * 1024 * 1024 + 16 * input_bytes


def canonical(path: str) -> str:
    """``path`` as ninja's ``CanonicalizePath`` leaves it (backslashes read as slashes)."""
    path = path.replace("\\", "/")
    if not path:
        return path
    absolute = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
            continue
        parts.append(part)
    out = "/".join(parts)
    if absolute:
        return "/" + out
    return out or "."


class _Scope:
    """Variables and rules of one file scope; a ``subninja`` scope sees its parent's."""

    __slots__ = ("parent", "rules", "variables")

    def __init__(self, parent: _Scope | None = None) -> None:
        self.parent = parent
        self.variables: dict[str, str] = {}
        self.rules: set[str] = set()

    def has_rule(self, name: str) -> bool:
        """Whether rule ``name`` is defined here or in a parent scope (``phony`` always is)."""
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.rules:
                return True
            scope = scope.parent
        return name == "phony"

    def lookup(self, name: str) -> str:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.variables:
                return scope.variables[name]
            scope = scope.parent
        return ""


class _Edge:
    __slots__ = ("dyndep", "inputs", "line", "outputs", "rule", "source")

    def __init__(self, outputs: list[str], rule: str, inputs: list[str], source: str,
                 line: int, dyndep: str | None) -> None:  # fmt: skip
        self.outputs, self.rule, self.inputs = outputs, rule, inputs
        self.source, self.line, self.dyndep = source, line, dyndep


class _Parser:
    def __init__(self, folder: Path, reads: SecondaryReads, budget: int) -> None:
        self.folder = folder
        self.reads = reads
        self.edges: list[_Edge] = []
        self.notes: list[str] = []
        self.files = 0
        self.budget = budget
        self.expanded = 0
        #: An included file was missing: the rules it defined are unknown here.
        self.missing = False

    def parse_file(self, path: Path, text: str, scope: _Scope) -> None:
        self.files += 1
        if self.files > MAX_INCLUDES:
            raise WorkloadError(f"more than {MAX_INCLUDES} included files", Location(str(path)))
        lines = _logical_lines(text)
        i = 0
        while i < len(lines):
            number, line = lines[i]
            i += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            indented = line[0] in " \t"
            word = line.split(None, 1)[0]
            if indented:
                continue  # a binding of a rule or pool block we do not need
            where = Location(str(path), number)
            if word == "build":
                bindings: dict[str, str] = {}
                while i < len(lines) and lines[i][1][:1] in (" ", "\t") and lines[i][1].strip():
                    key, _, value = lines[i][1].strip().partition("=")
                    bindings[key.strip()] = self._expand(value.strip(), None, scope, where)
                    i += 1
                self._edge(line[len("build") :], bindings, scope, path, number)
            elif word in ("include", "subninja"):
                rest = line.split(None, 1)[1].strip() if " " in line.strip() else ""
                target = canonical(self._expand(rest, None, scope, where))
                self._include(target, path, number, scope if word == "include" else _Scope(scope))
            elif word == "rule":
                scope.rules.add(line.split(None, 1)[1].strip() if " " in line.strip() else "")
            elif word in ("pool", "default"):
                continue
            elif "=" in line:
                key, _, value = line.partition("=")
                scope.variables[key.strip()] = self._expand(value.strip(), None, scope, where)
            else:
                raise WorkloadError(f"ninja: cannot read this line: {_shown(line.strip())}",
                                    where)  # fmt: skip

    def _include(self, target: str, path: Path, number: int, scope: _Scope) -> None:
        file = (self.folder / target) if not Path(target).is_absolute() else Path(target)
        try:
            data = self.reads.read(file, target, Location(str(path), number))
        except MissingInput:
            self.missing = True
            self.notes.append(f"{path}:{number}: included file {_shown(target, quote=False)} "
                              "is missing; its edges are not counted")  # fmt: skip
            return
        self.parse_file(file, decode(data, str(file)), scope)

    def _edge(self, rest: str, bindings: dict[str, str], scope: _Scope, path: Path,
              number: int) -> None:  # fmt: skip
        where = Location(str(path), number)
        head, colon, tail = _split_unescaped(rest, ":")
        if not colon:
            raise WorkloadError("ninja: a build line needs 'outputs: rule inputs'", where)
        outputs = [canonical(self._expand(p, bindings, scope, where)) for p in _paths(head)
                   if p != "|"]  # fmt: skip
        words = _paths(tail)
        if not words:
            raise WorkloadError("ninja: a build line needs a rule after ':'", where)
        if not scope.has_rule(words[0]) and not self.missing:  # as ninja says, before building
            raise WorkloadError(f"ninja: unknown build rule {_shown(words[0])} (a rule is "
                                "defined by a 'rule' block before its first use)",
                                where)  # fmt: skip
        inputs: list[str] = []
        for word in words[1:]:
            if word == "|@":
                break  # validations: built with the edge, not before it
            if word not in ("|", "||"):
                inputs.append(canonical(self._expand(word, bindings, scope, where)))
        if not outputs:
            raise WorkloadError("ninja: a build line needs at least one output", where)
        dyndep = bindings.get("dyndep") if "dyndep" in bindings else scope.lookup("dyndep")
        self.edges.append(_Edge(outputs, words[0], inputs, str(path), number,
                                canonical(dyndep) if dyndep else None))  # fmt: skip

    def _expand(self, text: str, bindings: dict[str, str] | None, scope: _Scope,
                where: Location) -> str:  # fmt: skip
        """``text`` with its variables and escapes expanded; the size is counted before the
        value is made."""
        if "$" not in text:
            return text
        pieces: list[str] = []
        size = 0
        position = 0
        for match in _VARIABLE.finditer(text):
            pieces.append(text[position : match.start()])
            position = match.end()
            token = match.group(1)
            if token in (" ", ":", "$", "\n", ""):
                value = token if token != "\n" else ""
            else:
                name = token[1:-1] if token.startswith("{") else token
                if bindings is not None and name in bindings:
                    value = bindings[name]
                else:
                    value = scope.lookup(name)
            pieces.append(value)
            size += len(value)
            if self.expanded + size > self.budget:
                raise WorkloadError(
                    f"ninja: variables expand to more than {self.budget:,} characters; a chain "
                    "of variables doubles its value at each step",
                    where,
                )
        pieces.append(text[position:])
        out = "".join(pieces)
        self.expanded += len(out)
        return out


def _shown(text: str, quote: bool = True) -> str:
    """A piece of the user's own file in a message: short, printable, quoted."""
    text = "".join(c if c.isprintable() else " " for c in text[:40]) + (
        "…" if len(text) > 40 else ""
    )
    return repr(text) if quote else text


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``$``-continuations joined, each with its first line number."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        stripped = raw.rstrip("\r")
        dollars = len(stripped) - len(stripped.rstrip("$"))
        if dollars % 2 == 1:  # an odd run of $ at the end: the last one continues the line
            pending.append(stripped[:-1])
            continue
        pending.append(stripped if not pending else stripped.lstrip())
        out.append((start, "".join(pending)))
        pending = []
    if pending:
        out.append((start, "".join(pending)))
    return out


def _split_unescaped(text: str, sep: str) -> tuple[str, str, str]:
    i = 0
    while i < len(text):
        if text[i] == "$":
            i += 2
            continue
        if text[i] == sep:
            return text[:i], sep, text[i + 1 :]
        i += 1
    return text, "", ""


def _paths(text: str) -> list[str]:
    """Words split at unescaped spaces (``$ `` stays inside a path, unexpanded)."""
    words: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "$" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if c in " \t":
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(c)
        i += 1
    if current:
        words.append("".join(current))
    return words


def _milliseconds(text: str) -> bool:
    """Whether a log field is a time as ninja writes it: ASCII digits, short."""
    return text.isascii() and text.isdigit() and len(text) < 20


class _Log:
    """The last build recorded in a ``.ninja_log``: seconds per output, and where it is."""

    def __init__(self, text: str) -> None:
        entries: list[tuple[int, int, str, int]] = []
        self.skipped = 0
        for number, line in enumerate(text.splitlines(), 1):
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 4:
                self.skipped += 1
                continue
            # ninja writes ASCII digits; int() would also take 1_000 and other scripts' digits
            if not (_milliseconds(parts[0]) and _milliseconds(parts[1])):
                self.skipped += 1
                continue
            start, end = int(parts[0]), int(parts[1])
            if not (0 <= start < _MAX_TIME and 0 <= end < _MAX_TIME):
                self.skipped += 1
                continue
            entries.append((start, end, parts[3], number))
        last = 0
        self.builds = 1 if entries else 0
        for k in range(1, len(entries)):
            if entries[k][1] < entries[k - 1][1]:  # end times go backwards: a new build began
                last = k
                self.builds += 1
        chosen = entries[last:]
        #: Entries of that build that end before they start (taken as taking no time).
        self.backwards = sum(1 for start, end, _, _ in chosen if end < start)
        self.lines = (chosen[0][3], chosen[-1][3]) if chosen else (0, 0)
        self.entries = len(entries)
        self.seconds = {canonical(out): max(0, end - start) / 1000 for start, end, out, _ in chosen}
        #: When each output was built in that build: (start, end) in seconds.
        self.times = {canonical(out): (start / 1000, max(start, end) / 1000)
                      for start, end, out, _ in chosen}  # fmt: skip


def read_log(text: str) -> dict[str, float]:
    """Seconds per output in the last build recorded in a ``.ninja_log``."""
    return _Log(text).seconds


def read_build(
    path: Path, data: bytes, limits: Limits = DEFAULT_LIMITS
) -> tuple[StepPlan, list[str], str, Path]:
    """The steps of a ninja build; ``path`` is ``build.ninja`` or ``.ninja_log`` (read with
    the ``build.ninja`` beside it). Returns the plan, notes, unit and the build file read.
    Other files (includes, dyndep files, the log beside the build file) are read through
    :class:`SecondaryReads`: inside the project, within ``limits``."""
    try:
        return _read_build(path, data, limits)
    except MemoryError:
        pass  # raised below, once what was built is freed
    raise WorkloadError("the build is too large to read in memory", Location(str(path)))


def _read_build(path: Path, data: bytes,
                limits: Limits) -> tuple[StepPlan, list[str], str, Path]:  # fmt: skip
    reads = SecondaryReads.for_input(path, limits, path.parent)
    log_text: str | None = None
    log_path: Path | None = None
    if path.name == ".ninja_log":
        log_text = decode(data, str(path))
        log_path = path
        build = path.with_name("build.ninja")
        try:
            data = reads.read(build, "build.ninja", Location(str(path)))
        except MissingInput:
            raise WorkloadError("a .ninja_log needs the build.ninja beside it",
                                Location(str(build))) from None  # fmt: skip
        path = build
    else:
        beside = path.with_name(".ninja_log")
        if reads.exists(beside):
            log_text = decode(reads.read(beside, ".ninja_log", Location(str(path))), str(beside))
            log_path = beside
    parser = _Parser(path.parent, reads, _expansion_budget(len(data)))
    parser.parse_file(path, decode(data, str(path)), _Scope())
    made_by: dict[str, str] = {}
    plan = StepPlan(limits=limits, source=str(path))
    plan.check(len(parser.edges))
    for edge in parser.edges:
        for out in edge.outputs:
            if out in made_by:
                raise WorkloadError(f"ninja: {_shown(out)} is made by two build edges",
                                    Location(edge.source, edge.line, step_id=out))  # fmt: skip
            made_by[out] = edge.outputs[0]
    notes = list(parser.notes)
    _dyndeps(parser, made_by, reads, path, notes)
    log = _Log(log_text) if log_text is not None else None
    durations = log.seconds if log is not None else None
    for edge in parser.edges:
        step = edge.outputs[0]
        needs = [made_by[i] for i in edge.inputs if i in made_by]
        phony = edge.rule == "phony"
        if phony:
            cost: float = 0
        elif durations is None:
            cost = 1
        else:
            cost = max((durations.get(o, 0.0) for o in edge.outputs), default=0.0)
        plan.add(step, cost, [n for n in needs if n != step], connector=phony)
        if log is not None and not phony:
            spans = [log.times[o] for o in edge.outputs if o in log.times]
            if spans:
                plan.observed[step] = (min(s for s, _ in spans), max(e for _, e in spans))
    if log is not None and durations is not None:
        notes.extend(_log_notes(log, parser.edges, log_path or path))
    return plan, notes, "seconds" if durations is not None else "edges", path


def _log_notes(log: _Log, edges: list[_Edge], where: Path) -> list[str]:
    """What the durations rest on: how many edges got one, from which build of the log."""
    notes = []
    if log.skipped:
        what = f"{plural(log.skipped, 'line')} that {'is' if log.skipped == 1 else 'are'} not " \
            f"{'an entry' if log.skipped == 1 else 'entries'}"  # fmt: skip
        notes.append(f"{where.name}: {what} (or holds a time out of range) skipped")
    if log.backwards:
        what = plural(log.backwards, "entry") + (" ends" if log.backwards == 1 else " end")
        notes.append(f"{where.name}: {what} before it starts; taken as taking no time")
    real = [e for e in edges if e.rule != "phony"]
    timed = sum(1 for e in real if any(o in log.seconds for o in e.outputs))
    if not log.entries:
        notes.append(f"{where.name} holds no entry: every edge costs 0")
    elif timed < len(real):
        which = "the last build" if log.builds > 1 else "the only build"
        notes.append(
            f"{where.name}: {timed} of {len(real)} edges have a duration, from {which} it "
            f"records (lines {log.lines[0]}–{log.lines[1]}); the other {len(real) - timed} did "
            "not run in that build: cost 0"
        )
    return notes


def _dyndeps(parser: _Parser, made_by: dict[str, str], reads: SecondaryReads, path: Path,
             notes: list[str]) -> None:  # fmt: skip
    """Read the dyndep files edges name (relative to the build folder) and add what they
    list: implicit inputs to their edges, implicit outputs to what the edges make."""
    named: dict[str, list[_Edge]] = {}
    for edge in parser.edges:
        if edge.dyndep:
            named.setdefault(edge.dyndep, []).append(edge)
    if not named:
        return
    by_step = {edge.outputs[0]: edge for edge in parser.edges}
    missing: list[str] = []
    for file, users in named.items():
        target = parser.folder / file
        where = Location(users[0].source, users[0].line)
        try:
            data = reads.read(target, file, where)
        except MissingInput:
            missing.append(file)
            continue
        text = decode(data, str(target))
        for number, line in _logical_lines(text):
            if not line.strip() or line.lstrip().startswith("#") or line[0] in " \t":
                continue
            if not line.startswith("build"):
                continue  # ninja_dyndep_version = 1
            at = Location(str(target), number)
            head, colon, tail = _split_unescaped(line[len("build") :], ":")
            words = _paths(tail)
            if not colon or not words or words[0] != "dyndep":
                raise WorkloadError("ninja: a dyndep file's build line needs ': dyndep'", at)
            outs = [canonical(parser._expand(p, None, _Scope(), at)) for p in _paths(head)]
            explicit = outs[: outs.index("|")] if "|" in outs else outs
            implicit_outs = outs[len(explicit) + 1 :] if "|" in outs else []
            if len(explicit) != 1 or explicit[0] not in made_by:
                raise WorkloadError("ninja: a dyndep build line must name one output of an "
                                    "edge of the build", at)  # fmt: skip
            edge = by_step[made_by[explicit[0]]]
            ins = [canonical(parser._expand(p, None, _Scope(), at)) for p in words[1:]
                   if p != "|"]  # fmt: skip
            edge.inputs.extend(ins)
            for out in implicit_outs:
                if out in made_by and made_by[out] != edge.outputs[0]:
                    raise WorkloadError(f"ninja: {_shown(out)} is made by two build edges", at)
                made_by[out] = edge.outputs[0]
    if missing:
        files = ", ".join(_shown(m, quote=False) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        notes.append(f"dyndep files named by edges do not exist yet (ninja writes them during "
                     f"the build): {files}{more}; the dependencies they add are not "
                     "counted")  # fmt: skip
