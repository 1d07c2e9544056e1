"""ninja builds: one step per build edge, its needs the edges that make its inputs.

``build.ninja`` is read with ninja's own lexical rules: ``$ `` is a space, ``$:`` a colon,
``$$`` a dollar, ``$`` at the end of a line continues it; ``$name`` and ``${name}`` expand
variables (the edge's bindings, then the file's); ``include`` and ``subninja`` read other
files relative to the build folder (a missing one is noted, not fatal). An edge's inputs are
its explicit inputs, its implicit inputs (after ``|``) and its order-only inputs (after
``||``); inputs no edge makes are source files, not steps. ``phony`` edges cost 0 (they are
connectors).

Costs are 1 per edge (unit ``edges``) unless a ``.ninja_log`` lies beside ``build.ninja``:
then each edge costs the seconds its last build took (the log's end minus start times, in
milliseconds), from the *last* build in the log (a new build starts where end times go
backwards). Logs written on Windows use backslash paths; they match either way.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Location, WorkloadError
from ..limits import DEFAULT_LIMITS, Limits
from .parsing import decode
from .plan import StepPlan
from .secondary import MissingInput, SecondaryReads

_VARIABLE = re.compile(r"\$(\{[a-zA-Z0-9_.-]+\}|[a-zA-Z0-9_-]+|.)")
MAX_INCLUDES = 100


class _Edge:
    __slots__ = ("inputs", "line", "outputs", "rule", "source")

    def __init__(self, outputs: list[str], rule: str, inputs: list[str], source: str,
                 line: int) -> None:  # fmt: skip
        self.outputs, self.rule, self.inputs = outputs, rule, inputs
        self.source, self.line = source, line


class _Parser:
    def __init__(self, folder: Path, reads: SecondaryReads) -> None:
        self.folder = folder
        self.reads = reads
        self.edges: list[_Edge] = []
        self.variables: dict[str, str] = {}
        self.notes: list[str] = []
        self.files = 0

    def parse_file(self, path: Path, text: str) -> None:
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
            if word == "build":
                bindings: dict[str, str] = {}
                while i < len(lines) and lines[i][1][:1] in (" ", "\t") and lines[i][1].strip():
                    key, _, value = lines[i][1].strip().partition("=")
                    bindings[key.strip()] = value.strip()
                    i += 1
                self._edge(line[len("build") :], bindings, path, number)
            elif word in ("include", "subninja"):
                target = self._expand(line.split(None, 1)[1].strip() if " " in line.strip()
                                      else "", {})  # fmt: skip
                self._include(target, path, number)
            elif word in ("rule", "pool", "default"):
                continue
            elif "=" in line:
                key, _, value = line.partition("=")
                self.variables[key.strip()] = self._expand(value.strip(), {})
            else:
                raise WorkloadError(f"ninja: cannot read this line: {line.strip()[:60]!r}",
                                    Location(str(path), number))  # fmt: skip

    def _include(self, target: str, path: Path, number: int) -> None:
        file = (self.folder / target) if not Path(target).is_absolute() else Path(target)
        try:
            data = self.reads.read(file, target, Location(str(path), number))
        except MissingInput:
            self.notes.append(f"{path}:{number}: included file {target} is missing; its edges "
                              "are not counted")  # fmt: skip
            return
        self.parse_file(file, decode(data, str(file)))

    def _edge(self, rest: str, bindings: dict[str, str], path: Path, number: int) -> None:
        head, colon, tail = _split_unescaped(rest, ":")
        if not colon:
            raise WorkloadError("ninja: a build line needs 'outputs: rule inputs'",
                                Location(str(path), number))  # fmt: skip
        outputs = [self._expand(p, bindings) for p in _paths(head) if p != "|"]
        words = _paths(tail)
        if not words:
            raise WorkloadError("ninja: a build line needs a rule after ':'",
                                Location(str(path), number))  # fmt: skip
        rule, inputs = words[0], [self._expand(p, bindings) for p in words[1:]
                                   if p not in ("|", "||", "|@")]  # fmt: skip
        if not outputs:
            raise WorkloadError("ninja: a build line needs at least one output",
                                Location(str(path), number))  # fmt: skip
        self.edges.append(_Edge(outputs, rule, inputs, str(path), number))

    def _expand(self, text: str, bindings: dict[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in (" ", ":", "$"):
                return token
            name = token.strip("{}")
            return bindings.get(name, self.variables.get(name, ""))

        return _VARIABLE.sub(value, text)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``$``-continuations joined, each with its first line number."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        stripped = raw.rstrip("\r")
        if stripped.endswith("$") and not stripped.endswith("$$"):
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


def _normal(path: str) -> str:
    return path.replace("\\", "/")


def read_log(text: str) -> dict[str, float]:
    """Seconds per output in the last build recorded in a ``.ninja_log``."""
    entries: list[tuple[int, int, str]] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 4:
            continue
        try:
            entries.append((int(parts[0]), int(parts[1]), parts[3]))
        except ValueError:
            continue
    last = 0
    for k in range(1, len(entries)):
        if entries[k][1] < entries[k - 1][1]:  # end times go backwards: a new build began
            last = k
    return {_normal(out): max(0, end - start) / 1000 for start, end, out in entries[last:]}


def read_build(
    path: Path, data: bytes, limits: Limits = DEFAULT_LIMITS
) -> tuple[StepPlan, list[str], str, Path]:
    """The steps of a ninja build; ``path`` is ``build.ninja`` or ``.ninja_log`` (read with
    the ``build.ninja`` beside it). Returns the plan, notes, unit and the build file read.
    Other files (includes, the log beside the build file) are read through
    :class:`SecondaryReads`: inside the project, within ``limits``."""
    reads = SecondaryReads.for_input(path, limits, path.parent)
    log_text: str | None = None
    if path.name == ".ninja_log":
        log_text = decode(data, str(path))
        build = path.with_name("build.ninja")
        try:
            data = reads.read(build, "build.ninja", Location(str(path)))
        except MissingInput:
            raise WorkloadError("a .ninja_log needs the build.ninja beside it",
                                Location(str(build))) from None  # fmt: skip
        path = build
    else:
        log = path.with_name(".ninja_log")
        if reads.exists(log):
            log_text = decode(reads.read(log, ".ninja_log", Location(str(path))), str(log))
    parser = _Parser(path.parent, reads)
    parser.parse_file(path, decode(data, str(path)))
    made_by: dict[str, str] = {}
    for edge in parser.edges:
        for out in edge.outputs:
            if _normal(out) in made_by:
                raise WorkloadError(f"ninja: '{out}' is made by two build edges",
                                    Location(edge.source, edge.line, step_id=out))  # fmt: skip
            made_by[_normal(out)] = _normal(edge.outputs[0])
    durations = read_log(log_text) if log_text is not None else None
    plan = StepPlan(limits=limits, source=str(path))
    for edge in parser.edges:
        step = _normal(edge.outputs[0])
        needs = [made_by[_normal(i)] for i in edge.inputs if _normal(i) in made_by]
        phony = edge.rule == "phony"
        if phony:
            cost: float = 0
        elif durations is None:
            cost = 1
        else:
            cost = max((durations.get(_normal(o), 0.0) for o in edge.outputs), default=0.0)
        plan.add(step, cost, [n for n in needs if n != step], connector=phony)
    notes = list(parser.notes)
    if durations is not None:
        unrun = sum(1 for e in parser.edges if e.rule != "phony"
                    and not any(_normal(o) in durations for o in e.outputs))  # fmt: skip
        if unrun:
            edges = "edge" if unrun == 1 else "edges"
            notes.append(f"{unrun} {edges} did not run in the last build of .ninja_log: cost 0")
    return plan, notes, "seconds" if durations is not None else "edges", path
