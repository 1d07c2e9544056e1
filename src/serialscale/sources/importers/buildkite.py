"""Buildkite pipelines (``.buildkite/pipeline.yml``): one step per job (per ``parallelism``
or ``matrix`` job), ``wait`` barriers and ``depends_on`` as needs.

The specification is Buildkite's documentation: "Depends on" (https://buildkite.com/docs/
pipelines/configure/depends-on), the step types (https://buildkite.com/docs/pipelines/
configure/step-types: command, wait, block, input, trigger, group) and "Defining steps"
(``parallelism``, ``matrix``):

- ``steps`` (or the document itself, a list) in order. A ``wait`` (or ``block``) step waits for
  every step before it (since the previous one); every later step without ``depends_on`` waits
  for it. Both are zero-cost connectors; a ``block`` also waits for a person (noted). An
  ``input`` step collects answers and has no implicit dependencies.
- ``depends_on`` (a key, a list of keys or of ``{step: key}``) replaces the implicit
  dependency: such a step runs right after what it names, "without waiting for block or wait
  steps unless those are also explicit dependencies" (Buildkite's words). ``depends_on: ~`` or
  ``[]`` starts at once.
- A ``group`` runs its ``steps`` as a sequence of their own (a ``wait`` inside waits for the
  group's earlier steps), after what the group depends on (its ``depends_on``, else the
  barrier before it); depending on the group, or a later ``wait``, waits for all of it,
  through a zero-cost join named like the group.
- ``parallelism: N`` makes ``name 1/N`` .. ``name N/N``; ``matrix`` (a list, or ``setup`` with
  ``adjustments`` that ``skip``) one job per combination, ``name (v1, v2)``. Depending on
  such a step depends on all its jobs (a zero-cost join named like it).
- Step names: ``key`` (or ``identifier``, ``id``), else ``label`` (or ``name``), else the first
  line of the command, else ``step N``; names repeated without a key get `` #2``, `` #3``. A
  ``trigger`` step counts as one job (the pipeline it triggers is not read; noted). ``if`` and
  ``branches`` are taken as if the step runs (noted).
- Cost 1 per job (unit ``jobs``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError, suggest
from ...base.limits import DEFAULT_LIMITS, Limits
from ..parsing import Locator, decode
from ..step_plan import StepPlan
from .ci_yaml import as_list, listed, load_yaml, read_guarded, scalar, short

#: Buildkite's documented limit on the jobs one matrix makes.
MAX_MATRIX = 12
#: Jobs one ``parallelism`` may make (Buildkite's largest).
MAX_PARALLELISM = 1000
_BARRIERS = {"wait", "waiter", "block"}
Path_ = tuple[str | int, ...]


@dataclass
class _Pending:
    """A step whose needs wait until every key is known."""

    step: str
    cost: float
    implicit: list[str]  # step ids: the barrier, or what a wait waits for
    explicit: list[tuple[str, Path_]]  # keys, resolved once all are known
    connector: bool
    legs: list[str] = field(default_factory=list)


def read_buildkite(path: Path, data: bytes,
                   limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The steps of the Buildkite pipeline in ``path``, and the notes."""
    return read_guarded(_read, path, data, limits)


def _read(path: Path, data: bytes, limits: Limits) -> tuple[StepPlan, list[str]]:
    source = str(path)
    text = decode(data, source)
    doc = load_yaml(text, source, "a Buildkite pipeline")
    steps, base = (doc, ()) if isinstance(doc, list) else \
        (doc.get("steps") if isinstance(doc, dict) else None, ("steps",))  # fmt: skip
    if not isinstance(steps, list):
        raise WorkloadError("a Buildkite pipeline needs 'steps', a list", Location(source, 1))
    reader = _Reader(Locator(text, source), StepPlan(limits=limits, source=source))
    reader.reserved = _keys(steps)
    reader.sequence(steps, base, None)
    reader.finish()
    return reader.plan, reader.notes()


class _Reader:
    def __init__(self, locator: Locator, plan: StepPlan) -> None:
        self.locator = locator
        self.plan = plan
        self.pending: list[_Pending] = []
        self.keys: dict[str, str] = {}  # key -> the step (or join) it names
        self.names: dict[str, int] = {}
        self.used: set[str] = set()
        self.reserved: set[str] = set()  # every key of the pipeline: labels avoid them
        self.ordinal = 0
        self.count = 0
        self.blocks: list[str] = []
        self.triggers: list[str] = []
        self.conditional: list[str] = []

    def at(self, path: Path_, step: str | None = None) -> Location:
        return self.locator.at(path, step)

    def notes(self) -> list[str]:
        notes = []
        if self.blocks:
            notes.append(f"block steps wait for a person and cost 0: {listed(self.blocks)}")
        if self.triggers:
            notes.append(
                "trigger steps count as one job each (the pipelines they trigger are "
                f"not read): {listed(self.triggers)}"
            )
        if self.conditional:
            notes.append(
                "steps with 'if' or 'branches' are counted as if they run: "
                f"{listed(self.conditional)}"
            )
        return notes

    def name(self, step: dict[str, Any], fallback: str, where: Path_) -> tuple[str, str | None]:
        """(step id, key) of a step."""
        key = next((step[k] for k in ("key", "identifier", "id") if k in step), None)
        if key is not None:
            if not isinstance(key, str) or not key:
                raise WorkloadError("a step's 'key' must be a name", self.at(where))
            if key in self.keys:
                raise WorkloadError(f"the key '{short(key)}' is used twice", self.at(where))
            self.used.add(key)
            return key, key
        label = next(
            (
                step[k]
                for k in ("label", "name", "group", "block", "input", "wait", "trigger")
                if k in step
            ),
            None,
        )
        if not isinstance(label, str) or not label.strip():
            command = step.get("command", step.get("commands"))
            command = command[0] if isinstance(command, list) and command else command
            label = command.strip().split("\n")[0][:60] if isinstance(command, str) else None
        base = short(label.strip(), 80) if isinstance(label, str) and label.strip() else fallback
        while True:  # a name no key and no earlier step has
            seen = self.names.get(base, 0) + 1
            self.names[base] = seen
            ident = base if seen == 1 else f"{base} #{seen}"
            if ident not in self.reserved and ident not in self.used:
                self.used.add(ident)
                return ident, None

    def sequence(self, steps: list[Any], base: Path_, barrier: str | None) -> list[str]:
        """Read ``steps`` in order, starting behind ``barrier``; returns what a later wait
        waits for (the steps since the last barrier, and that barrier)."""
        since: list[str] = []
        for k, raw in enumerate(steps):
            where = (*base, k)
            self.ordinal += 1
            step: Any = {raw: None} if isinstance(raw, str) else raw
            if isinstance(step, dict) and step.get("type") in (
                "wait",
                "waiter",
                "block",
                "input",
                "trigger",
                "command",
            ):
                step = {**step, str(step["type"]): step.get(str(step["type"]))}
            if not isinstance(step, dict):
                raise WorkloadError("each step must be a mapping, or 'wait' / 'block'",
                                    self.at(where))  # fmt: skip
            kind = next((k for k in ("wait", "waiter", "block", "input", "trigger", "group")
                         if k in step), "command")  # fmt: skip
            if "if" in step or "branches" in step:
                self.conditional.append(repr(short(step.get("label", kind), 40)))
            depends = self.depends(step, where)
            if kind in _BARRIERS:
                ident, key = self.name(step, f"{kind} {self.ordinal}", where)
                if kind == "block":
                    self.blocks.append(repr(ident))
                implicit = since + ([barrier] if barrier else [])
                self.add(_Pending(ident, 0, implicit, depends or [], True), key)
                barrier, since = ident, []
            elif kind == "input":
                ident, key = self.name(step, f"input {self.ordinal}", where)
                self.add(_Pending(ident, 0, [], depends or [], True), key)
            elif kind == "group":
                since.append(self.group(step, where, barrier, depends))
            else:
                if isinstance(raw, str):
                    raise WorkloadError(f"'{short(raw)}' is not a step; a step is a mapping "
                                        "(command, label, ...), or 'wait' / 'block'",
                                        self.at(where))  # fmt: skip
                if kind == "trigger":
                    self.triggers.append(repr(short(step["trigger"], 60)))
                ident, key = self.name(step, f"step {self.ordinal}", where)
                implicit = [barrier] if barrier and depends is None else []
                pending = _Pending(ident, 1, implicit, depends or [], False)
                pending.legs = self.legs(ident, step, where)
                self.add(pending, key)
                since.append(ident)
        return since + ([barrier] if barrier else [])

    def group(self, step: dict[str, Any], where: Path_, barrier: str | None,
              depends: list[tuple[str, Path_]] | None) -> str:  # fmt: skip
        inner = step.get("steps")
        if not isinstance(inner, list) or not inner:
            raise WorkloadError("a group needs 'steps', a list", self.at(where))
        ident, key = self.name(step, f"group {self.ordinal}", where)
        start = barrier
        if depends is not None:
            start = f"{ident}:start"
            while start in self.used or start in self.reserved:
                start += "'"
            self.used.add(start)
            self.add(_Pending(start, 0, [], depends, True), None)
        if key is not None:
            self.keys[key] = ident  # taken: the steps inside may not reuse it
        last = self.sequence(inner, (*where, "steps"), start)
        self.add(_Pending(ident, 0, last, [], True), None)
        return ident

    def depends(self, step: dict[str, Any], where: Path_) -> list[tuple[str, Path_]] | None:
        if "depends_on" not in step:
            return None
        out = []
        for j, entry in enumerate(as_list(step["depends_on"])):
            target = entry.get("step") if isinstance(entry, dict) else entry
            if not isinstance(target, str):
                raise WorkloadError(
                    "'depends_on' names steps by key (a key, a list of keys, or of {step: key})",
                    self.at((*where, "depends_on")),
                )
            spot = (*where, "depends_on", j) if isinstance(step["depends_on"], list) else \
                (*where, "depends_on")  # fmt: skip
            out.append((target, spot))
        return out

    def legs(self, ident: str, step: dict[str, Any], where: Path_) -> list[str]:
        parallelism = step.get("parallelism")
        matrix = step.get("matrix")
        if parallelism is not None:
            if not isinstance(parallelism, int) or isinstance(parallelism, bool) or \
                    not 1 <= parallelism <= MAX_PARALLELISM:  # fmt: skip
                raise WorkloadError(f"'parallelism' must be 1 to {MAX_PARALLELISM}",
                                    self.at((*where, "parallelism")))  # fmt: skip
            self.plan.check(self.count + parallelism)
            legs = [f"{ident} {i}/{parallelism}" for i in range(1, parallelism + 1)] \
                if parallelism > 1 else [ident]  # fmt: skip
        elif matrix is not None:
            legs = [f"{ident} ({', '.join(c)})" for c in self.matrix(matrix, (*where, "matrix"))]
        else:
            legs = [ident]
        self.count += len(legs)
        return legs

    def matrix(self, matrix: Any, where: Path_) -> list[list[str]]:
        adjustments: list[Any] = []
        if isinstance(matrix, list):
            axes = [matrix]
        elif isinstance(matrix, dict) and "setup" in matrix:
            setup = matrix["setup"]
            axes = [as_list(v) for v in setup.values()] if isinstance(setup, dict) else \
                [as_list(setup)]  # fmt: skip
            adjustments = as_list(matrix.get("adjustments"))
        else:
            raise WorkloadError("'matrix' must be a list of values or {setup: ...}",
                                self.at(where))  # fmt: skip
        texts = [[t for t in (scalar(v) for v in axis) if t is not None] for axis in axes]
        if any(len(t) != len(a) or not a for t, a in zip(texts, axes, strict=True)):
            raise WorkloadError("matrix values must be values (strings, numbers, booleans)",
                                self.at(where))  # fmt: skip
        size = 1
        for axis in texts:
            size *= len(axis)
            if size > MAX_MATRIX * 100:
                break
        if size > MAX_MATRIX * 100:
            raise WorkloadError(f"the matrix makes more than {MAX_MATRIX * 100} combinations",
                                self.at(where))  # fmt: skip
        combos: list[list[str]] = [list(c) for c in itertools.product(*texts)]
        keys = list(matrix["setup"]) if isinstance(matrix, dict) and \
            isinstance(matrix["setup"], dict) else None  # fmt: skip
        for adjustment in adjustments:
            given = adjustment.get("with") if isinstance(adjustment, dict) else None
            if adjustment.get("skip") if isinstance(adjustment, dict) else False:
                values = [scalar(given[k]) if isinstance(given, dict) and k in given else None
                          for k in keys] if keys else [scalar(given)]  # fmt: skip
                combos = [c for c in combos if c != values]
            elif given is not None:
                values = [scalar(given.get(k)) if isinstance(given, dict) else scalar(given)
                          for k in (keys or [None])]  # fmt: skip
                if None not in values and values not in combos:
                    combos.append([v for v in values if v is not None])
        if len(combos) > MAX_MATRIX:
            raise WorkloadError(f"the matrix makes {len(combos)} jobs, more than Buildkite's "
                                f"{MAX_MATRIX}", self.at(where))  # fmt: skip
        self.plan.check(self.count + len(combos))
        return combos

    def add(self, pending: _Pending, key: str | None) -> None:
        self.pending.append(pending)
        self.plan.check(len(self.pending) + self.count)
        if key is not None:
            self.keys[key] = pending.step

    def finish(self) -> None:
        """Add the steps, their needs resolved now that every key is known."""
        for item in self.pending:
            needs = list(item.implicit)
            for target, where in item.explicit:
                if target not in self.keys:
                    raise WorkloadError(f"step '{item.step}' depends on '{short(target)}', which "
                                        f"is the key of no step{suggest(target, self.keys)}",
                                        self.at(where, item.step))  # fmt: skip
                needs.append(self.keys[target])
            if item.legs and item.legs != [item.step]:
                for leg in item.legs:
                    self.plan.add(leg, item.cost, needs)
                self.plan.add(item.step, 0, item.legs, connector=True)
            else:
                self.plan.add(item.step, item.cost, needs, connector=item.connector)


def _keys(steps: list[Any]) -> set[str]:
    """Every ``key`` (``identifier``, ``id``) of the pipeline, groups' steps included."""
    out: set[str] = set()
    stack = [steps]
    while stack:
        for step in stack.pop():
            if isinstance(step, dict):
                key = next((step[k] for k in ("key", "identifier", "id") if k in step), None)
                if isinstance(key, str):
                    out.add(key)
                if isinstance(step.get("steps"), list):
                    stack.append(step["steps"])
    return out
