"""GitHub Actions workflows: one step per job run (per matrix combination), ``needs`` as needs.

Read as GitHub reads them (its documentation, and the matrix builder of ``actions/runner``):

- ``needs``: a job id or a list of them. A job that needs a matrix job needs all of its
  combinations, through a zero-cost join step named like the job.
- ``strategy.matrix``: the product of the axes (in order), minus each ``exclude`` entry that
  partially matches, then each ``include`` entry: it adds its other keys to every *original*
  combination whose values it matches (comparing its keys that are axes, nested values
  leaf by leaf, with GitHub's loose ``==``); an entry that matches none is a new combination
  of its own; later entries never extend combinations that earlier entries created. A matrix
  of ``include`` only is one job per entry. The count is checked against GitHub's 256
  (:data:`MAX_COMBINATIONS`) before any combination is built.
- Step ids: the job id, or ``job (v1, v2)`` for a combination (the values of its original
  axes, as GitHub's display name lists them). Display names, which ``--durations`` matches,
  are GitHub's: the job's ``name`` (its id without one), followed for a combination by
  ``(v1, v2)``; a ``name`` with an expression is evaluated per combination instead
  (``Test ${{ matrix.os }}`` → ``Test ubuntu-latest``), with no values appended.
- ``uses: ./.github/workflows/x.yml`` (a local reusable workflow), with or without a matrix:
  per combination, the called workflow's jobs in place as ``caller/inner`` (displayed as
  ``caller / inner``), between a zero-cost entry ``caller:start`` and a zero-cost exit
  ``caller``; its ``inputs`` are the caller's ``with:`` evaluated for that combination, else
  their defaults. The path is resolved from the repository root (the folder holding
  ``.github``) through :class:`SecondaryReads`; each file is parsed once and each (file,
  inputs) expanded once. A remote reusable workflow counts as one job per combination.
- Expressions ``${{ }}`` in names, matrices, ``with:`` and ``if:`` are evaluated by
  :mod:`.gha_expressions` over ``matrix``, ``strategy`` and ``inputs``; what depends on
  run-time contexts (``github``, ``needs``, ``secrets``, ``vars``, ``env``...) stays opaque
  and is noted once per job. A matrix that is wholly such an expression counts once.
- ``if:``: evaluated as in a run where every job succeeds (``success()`` true, ``failure()``
  false). A job that then cannot run is a zero-cost connector (noted); a condition known
  only at run time is counted as if it runs (noted).
- Cost 1 per job (unit ``jobs``). ``timeout-minutes`` is a limit, never a duration. With
  ``--durations FILE`` (``gh run view RUN --json jobs``, or the REST API's ``jobs`` with
  ``started_at``/``completed_at``), each job costs the seconds between its start and
  completion, matched by display name (unit ``seconds``); a note says how many matched.

YAML 1.1 reads the key ``on`` as ``true``; both spellings are recognised.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError, suggest
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import plural
from ..parsing import Locator, decode, parse_document
from ..secondary import MissingInput, SecondaryReads
from ..step_plan import StepPlan
from .gha_expressions import (
    MAX_DEPTH,
    ExpressionError,
    Opaque,
    budget,
    evaluate,
    has_expression,
    interpolate,
    loose_equal,
    render,
    to_string,
    truthy,
)

#: GitHub's limit on the jobs one matrix makes.
MAX_COMBINATIONS = 256
#: Largest product of a matrix's axes that is scanned (lazily) for what ``exclude`` leaves;
#: beyond it the matrix is refused before anything is built.
MAX_PRODUCT = 65_536
#: GitHub's limit on nested reusable workflows (the caller and nine levels below it).
MAX_LEVELS = 10
#: Calls of reusable workflows one input may expand in all (each combination of a calling
#: matrix is one call): fan-out of nested matrices stops here, whatever the step limits.
MAX_CALLS = 5_000
#: GitHub truncates the display names it builds from matrix values to this many characters.
MAX_NAME = 100

_JOB_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

Path_ = tuple[str | int, ...]


def looks_like_workflow(doc: Any) -> bool:
    """A mapping with ``jobs`` (a mapping) and ``on`` (read as ``True`` by YAML 1.1)."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("jobs"), dict)
        and ("on" in doc or True in doc)
        and "steps" not in doc
    )


def escape_id(text: str) -> str:
    """``text`` with control characters (newlines, tabs, escape...) written as ``\\xNN`` or
    ``\\uNNNN``, so no step id carries them raw."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256
                        else f"\\u{ord(m[0]):04x}", text)  # fmt: skip


# --- the pieces a workflow expands into ----------------------------------------------------


@dataclass
class _Step:
    local: str  # id inside its workflow
    cost: float
    needs: list[str]  # local ids
    connector: bool
    display: str | None
    root: bool  # needs the caller's entry step


@dataclass
class _Call:
    local: str  # the calling combination's id; inner ids are ``local/inner``
    fragment: _Fragment
    display: str


@dataclass
class _Fragment:
    """A workflow's jobs, expanded, with ids relative to the workflow (shared by every call
    with the same file and inputs). ``steps``/``deps`` count what flattening will make."""

    items: list[_Step | _Call] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    steps: int = 0
    deps: int = 0


@dataclass
class _Config:
    """One matrix combination: its ``matrix`` context and the values its name lists."""

    matrix: dict[str, Any] | None
    segments: list[str] | None
    hidden: list[str] = field(default_factory=list)  # run-time values it holds


@dataclass
class _Workflow:
    """One workflow file being expanded, with the inputs it was called with."""

    source: str
    text: str
    inputs: dict[str, Any] | None  # None: not called by another workflow (run-time inputs)
    chain: tuple[str, ...]
    label: str  # how notes name the file ("" for the file the user gave)
    locator: Locator = field(init=False)

    def __post_init__(self) -> None:
        self.locator = Locator(self.text, self.source)

    def fail(self, message: str, path: Path_ = (), step: str | None = None,
             key: bool = False) -> WorkloadError:  # fmt: skip
        return WorkloadError(message, self.locator.at(path, step, key))

    def job(self, job_id: str) -> str:
        return f"job '{job_id}'" + (f" of {self.label}" if self.label else "")

    def contexts(self) -> dict[str, Any]:
        return {} if self.inputs is None else {"inputs": self.inputs}


class _Reader:
    def __init__(self, path: Path, text: str, root: Path | None, limits: Limits,
                 reads: SecondaryReads) -> None:  # fmt: skip
        self.path = path
        self.root = root
        self.plan = StepPlan(limits=limits, source=str(path))
        self.reads = reads
        self.events: dict[tuple[str, str], None] = {}  # notes, in order (see note_list)
        self.hidden: dict[str, dict[str, None]] = {}  # job -> run-time values it uses
        self.display: dict[str, str] = {}
        self.files: dict[str, tuple[str, Any]] = {}
        self.expanded: dict[tuple[str, str], _Fragment] = {}
        self.calls = 0
        self.top = _Workflow(str(path), text, None, (str(path.resolve()),), "")

    def note(self, message: str) -> None:
        self.events.setdefault(("note", message), None)

    def note_list(self) -> list[str]:
        """The notes, each once; a job's run-time values are named in one note."""
        out = []
        for kind, text in self.events:
            if kind == "note":
                out.append(text)
                continue
            names = list(self.hidden[text])
            shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
            out.append(f"{text} uses values known only at run time ({shown}); they are kept "
                       "as written (in names, inputs)")  # fmt: skip
        return out

    # --- a workflow ------------------------------------------------------------------

    def workflow(self, wf: _Workflow, doc: Any) -> _Fragment:
        """The jobs of ``doc`` expanded into a fragment."""
        raw = doc.get("jobs")
        if not isinstance(raw, dict) or not raw:
            raise wf.fail("'jobs' must be a mapping of job ids to jobs", ("jobs",))
        jobs: dict[str, Any] = {}
        for key, job in raw.items():
            job_id = key if isinstance(key, str) else to_string(key)
            if not _JOB_ID.match(job_id):
                raise wf.fail(
                    f"job id {escape_id(repr(job_id))} must start with a letter or '_' and "
                    "hold only letters, digits, '-' and '_' (GitHub's rule)",
                    ("jobs", job_id), key=True,
                )  # fmt: skip
            if not isinstance(job, dict):
                raise wf.fail(f"job '{job_id}' must be a mapping", ("jobs", job_id))
            jobs[job_id] = job
        needs = {job_id: self._needs(wf, job, job_id, jobs) for job_id, job in jobs.items()}
        fragment = _Fragment()
        ends: dict[str, str] = {}
        for job_id in self._order(wf, jobs, needs):
            need_steps = [ends[n] for n in needs[job_id]]
            ends[job_id] = self._job(wf, fragment, jobs[job_id], job_id, need_steps)
        needed = {n for row in needs.values() for n in row}
        fragment.ends = [ends[j] for j in jobs if j not in needed]
        return fragment

    def _needs(self, wf: _Workflow, job: dict[str, Any], job_id: str,
               jobs: Mapping[str, Any]) -> list[str]:  # fmt: skip
        raw = job.get("needs")
        needs = _as_list(raw)
        if raw is not None and not all(isinstance(n, str) for n in needs):
            raise wf.fail(f"job '{job_id}': 'needs' must be a job id or a list of job ids",
                          ("jobs", job_id, "needs"), job_id)  # fmt: skip
        for k, n in enumerate(needs):
            if n not in jobs:
                where: Path_ = ("jobs", job_id, "needs")
                if isinstance(raw, list):
                    where = (*where, k)
                raise wf.fail(
                    f"job '{job_id}' needs '{escape_id(n)}', which is not a job of this "
                    f"workflow{suggest(n, list(jobs))}",
                    where, job_id,
                )  # fmt: skip
        return list(dict.fromkeys(needs))

    def _order(self, wf: _Workflow, jobs: Mapping[str, Any],
               needs: Mapping[str, list[str]]) -> list[str]:  # fmt: skip
        """Job ids with every job after the jobs it needs (input order otherwise)."""
        index = {job_id: k for k, job_id in enumerate(jobs)}
        waiting = {job_id: len(row) for job_id, row in needs.items()}
        users: dict[str, list[str]] = {job_id: [] for job_id in jobs}
        for job_id, row in needs.items():
            for n in row:
                users[n].append(job_id)
        ready = [index[j] for j, w in waiting.items() if w == 0]
        heapq.heapify(ready)
        ids = list(jobs)
        order: list[str] = []
        while ready:
            job_id = ids[heapq.heappop(ready)]
            order.append(job_id)
            for user in users[job_id]:
                waiting[user] -= 1
                if waiting[user] == 0:
                    heapq.heappush(ready, index[user])
        if len(order) < len(ids):
            placed = set(order)
            start = next(j for j in ids if j not in placed)
            seen: list[str] = []
            node = start
            while node not in seen:
                seen.append(node)
                node = next(n for n in needs[node] if n not in placed)
            cycle = [*seen[seen.index(node) :], node]
            raise wf.fail(f"the jobs' needs form a cycle: {' → '.join(cycle)}",
                          ("jobs", node, "needs"), node)  # fmt: skip
        return order

    # --- one job ---------------------------------------------------------------------

    def _job(self, wf: _Workflow, fragment: _Fragment, job: dict[str, Any], job_id: str,
             needs: list[str]) -> str:  # fmt: skip
        path: Path_ = ("jobs", job_id)
        root = not needs
        if not self._runs(wf, job, job_id, path):
            self._add(fragment, _Step(job_id, 0, needs, True, None, root))
            return job_id
        configs, fail_fast, max_parallel = self._strategy(wf, job, job_id, path)
        uses = job.get("uses")
        if uses is not None and not isinstance(uses, str):
            raise wf.fail(f"job '{job_id}': 'uses' must be a path or a reference to a "
                          "workflow", (*path, "uses"), job_id)  # fmt: skip
        called = None
        if isinstance(uses, str) and uses.startswith("./"):
            called = self._load(wf, uses, job_id, path)
        elif isinstance(uses, str):
            self.note(f"{wf.job(job_id)} calls the remote workflow {escape_id(uses)}: each "
                      "run counted as one job")  # fmt: skip
        name = job.get("name")
        if name is not None and not isinstance(name, (str, int, float, bool)):
            raise wf.fail(f"job '{job_id}': 'name' must be a string", (*path, "name"), job_id)
        matrix = configs is not None
        runs = configs or [_Config(None, None)]
        total = len(runs)
        labels: dict[str, int] = {}
        made: list[str] = []
        for k, config in enumerate(runs):
            strategy = {"fail-fast": fail_fast, "job-index": k, "job-total": total,
                        "max-parallel": max_parallel or total}  # fmt: skip
            contexts = {**wf.contexts(), "matrix": config.matrix, "strategy": strategy}
            shown = self._display(wf, name, job_id, config, contexts, path)
            local = job_id
            if matrix:
                segments = config.segments or []
                local = f"{job_id} ({', '.join(segments) if segments else k + 1})"
                seen = labels.get(local, 0) + 1
                labels[local] = seen
                if seen > 1:  # two combinations GitHub would list alike
                    local = f"{local} #{seen}"
            if called is not None:
                self._call(wf, fragment, job, job_id, called, local, shown, needs, root,
                           contexts, path)  # fmt: skip
            else:
                self._add(fragment, _Step(local, 1, needs, False, shown, root))
            made.append(local)
        if matrix:
            self._add(fragment, _Step(job_id, 0, made, True, None, False))
        return job_id

    def _add(self, fragment: _Fragment, item: _Step | _Call) -> None:
        if isinstance(item, _Step):
            fragment.steps += 1
            fragment.deps += len(item.needs) + (1 if item.root else 0)
        else:
            fragment.steps += item.fragment.steps
            fragment.deps += item.fragment.deps
        fragment.items.append(item)
        self.plan.check(fragment.steps, fragment.deps)

    def _runs(self, wf: _Workflow, job: dict[str, Any], job_id: str, path: Path_) -> bool:
        """Whether the job runs when every job succeeds (``if:`` is evaluated before the
        matrix, so ``matrix`` is not known there)."""
        condition = job.get("if")
        if condition is None:
            return True
        if isinstance(condition, (bool, int, float)):
            value: Any = condition
        elif isinstance(condition, str):
            try:
                value = interpolate(condition, wf.contexts()) if has_expression(condition) \
                    else evaluate(condition, wf.contexts())  # fmt: skip
            except ExpressionError as exc:
                raise wf.fail(f"job '{job_id}': 'if': {exc}", (*path, "if"), job_id) from None
        else:
            raise wf.fail(f"job '{job_id}': 'if' must be an expression", (*path, "if"), job_id)
        shown = escape_id(str(condition).strip())
        if isinstance(value, Opaque):
            self.note(f"{wf.job(job_id)} runs only if {shown}, known only at run time; it is "
                      "counted as if it runs")  # fmt: skip
            return True
        if not truthy(value):
            self.note(f"{wf.job(job_id)} does not run when every job succeeds (if: {shown}); "
                      "it costs 0")  # fmt: skip
            return False
        return True

    def _display(self, wf: _Workflow, name: Any, job_id: str, config: _Config,
                 contexts: dict[str, Any], path: Path_) -> str:  # fmt: skip
        """The name GitHub displays for this run of the job."""
        if isinstance(name, str) and has_expression(name):
            try:
                text, hidden = render(name, contexts)
            except ExpressionError as exc:
                raise wf.fail(f"job '{job_id}': 'name': {exc}", (*path, "name"),
                              job_id) from None  # fmt: skip
            if hidden:
                self._opaque(wf, job_id, hidden)
            return text.strip()
        base = job_id if name is None or name == "" else to_string(name)
        if config.segments:
            base = f"{base} ({', '.join(config.segments)})"
        return base if len(base) <= MAX_NAME else base[: MAX_NAME - 3] + "..."

    def _opaque(self, wf: _Workflow, job_id: str, sources: list[str]) -> None:
        label = wf.job(job_id)
        self.events.setdefault(("hidden", label), None)
        found = self.hidden.setdefault(label, {})
        for source in sources:
            found.setdefault(escape_id(source[:200]), None)

    # --- matrices --------------------------------------------------------------------

    def _strategy(self, wf: _Workflow, job: dict[str, Any], job_id: str,
                  path: Path_) -> tuple[list[_Config] | None, bool, int]:  # fmt: skip
        strategy = job.get("strategy")
        if strategy is None:
            return None, True, 0
        where: Path_ = (*path, "strategy")
        contexts = wf.contexts()  # the matrix is not known while the strategy is evaluated
        strategy = self._resolve(wf, strategy, contexts, job_id, where)
        if isinstance(strategy, Opaque):
            self.note(f"{wf.job(job_id)} has a matrix given by an expression known only at run "
                      f"time ({escape_id(strategy.source[:200])}); it is counted once")  # fmt: skip
            return None, True, 0
        if not isinstance(strategy, dict):
            raise wf.fail(f"job '{job_id}': 'strategy' must be a mapping", where, job_id)
        for word in strategy:
            if word not in ("matrix", "fail-fast", "max-parallel"):
                raise wf.fail(f"job '{job_id}': unknown strategy key {escape_id(repr(word))}; "
                              "expected matrix, fail-fast or max-parallel", (*where, str(word)),
                              job_id, key=True)  # fmt: skip
        fail_fast = strategy.get("fail-fast", True)
        max_parallel = strategy.get("max-parallel", 0)
        if not isinstance(max_parallel, int) or isinstance(max_parallel, bool):
            max_parallel = 0
        if "matrix" not in strategy or strategy["matrix"] is None:
            return None, fail_fast, max_parallel
        matrix = strategy["matrix"]
        where = (*where, "matrix")
        if isinstance(matrix, Opaque):
            self.note(f"{wf.job(job_id)} has a matrix given by an expression known only at run "
                      f"time ({escape_id(matrix.source[:200])}); it is counted once")  # fmt: skip
            return None, fail_fast, max_parallel
        if not isinstance(matrix, dict):
            raise wf.fail(f"job '{job_id}': 'strategy.matrix' must be a mapping", where, job_id)
        try:
            configs, unknown = build_matrix(matrix, self.plan)
        except _MatrixError as exc:
            raise wf.fail(f"job '{job_id}': {exc.message}", (*where, *exc.path),
                          job_id) from None  # fmt: skip
        if configs is None:
            self.note(f"{wf.job(job_id)} has a matrix given by an expression known only at run "
                      f"time ({escape_id(unknown[0][:200])}); it is counted once")  # fmt: skip
            return None, fail_fast, max_parallel
        if unknown:
            names = ", ".join(dict.fromkeys(escape_id(u[:200]) for u in unknown))
            self.note(f"{wf.job(job_id)}: an include or exclude entry compares values known "
                      f"only at run time ({names}); it is taken as matching nothing")  # fmt: skip
        hidden = [s for c in configs for s in c.hidden]
        if hidden:
            self._opaque(wf, job_id, hidden)
        return configs, fail_fast, max_parallel

    def _resolve(self, wf: _Workflow, value: Any, contexts: dict[str, Any], job_id: str,
                 path: Path_, depth: int = 0) -> Any:  # fmt: skip
        """``value`` with every string holding ``${{ }}`` evaluated."""
        if depth > MAX_DEPTH:
            raise wf.fail(f"job '{job_id}': a value nested more than {MAX_DEPTH} levels deep",
                          path, job_id)  # fmt: skip
        if isinstance(value, str):
            if not has_expression(value):
                return value
            try:
                return interpolate(value, contexts)
            except ExpressionError as exc:
                raise wf.fail(f"job '{job_id}': {exc}", path, job_id) from None
        if isinstance(value, dict):
            return {k: self._resolve(wf, v, contexts, job_id, (*path, str(k)), depth + 1)
                    for k, v in value.items()}  # fmt: skip
        if isinstance(value, list):
            return [self._resolve(wf, v, contexts, job_id, (*path, i), depth + 1)
                    for i, v in enumerate(value)]  # fmt: skip
        return value

    # --- reusable workflows ----------------------------------------------------------

    def _load(self, wf: _Workflow, uses: str, job_id: str, path: Path_) -> tuple[str, str, Any]:
        """The file a local ``uses:`` names: (resolved path, text, document), parsed once."""
        target = uses.split("@", 1)[0]
        where = wf.locator.at((*path, "uses"), job_id)
        if self.root is None:
            raise WorkloadError(f"job '{job_id}' uses {escape_id(uses)}, but the repository "
                                "root (the folder holding .github) cannot be found",
                                where)  # fmt: skip
        file = self.reads.resolve(self.root / target, uses, where)
        key = str(file)
        if key in wf.chain:
            raise wf.fail(f"job '{job_id}' uses {escape_id(uses)}, which calls itself",
                          (*path, "uses"), job_id)  # fmt: skip
        if len(wf.chain) >= MAX_LEVELS:
            raise wf.fail(f"job '{job_id}' uses {escape_id(uses)}: reusable workflows nest more "
                          f"than {MAX_LEVELS} levels deep (GitHub's limit)", (*path, "uses"),
                          job_id)  # fmt: skip
        if key not in self.files:
            try:
                data = self.reads.read(file, uses, where)
            except MissingInput:
                raise wf.fail(f"job '{job_id}' uses {escape_id(uses)}, which does not exist",
                              (*path, "uses"), job_id) from None  # fmt: skip
            text = decode(data, key)
            doc = parse_document(text, key, False)
            if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
                raise WorkloadError("a reusable workflow must have 'jobs'", Location(key))
            self.files[key] = (text, doc)
        text, doc = self.files[key]
        return key, text, doc

    def _call(self, wf: _Workflow, fragment: _Fragment, job: dict[str, Any], job_id: str,
              called: tuple[str, str, Any], local: str, shown: str, needs: list[str],
              root: bool, contexts: dict[str, Any], path: Path_) -> None:  # fmt: skip
        key, text, doc = called
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise wf.fail(f"job '{job_id}': more than {MAX_CALLS:,} calls of reusable workflows "
                          "in all (nested matrices multiply them)", (*path, "uses"),
                          job_id)  # fmt: skip
        inputs = self._inputs(wf, job, job_id, doc, contexts, path)
        memo = (key, json.dumps(inputs, sort_keys=True, default=repr))
        inner = self.expanded.get(memo)
        if inner is None:
            label = key
            if self.root is not None and Path(key).is_relative_to(self.root):
                label = Path(key).relative_to(self.root).as_posix()
            callee = _Workflow(key, text, inputs, (*wf.chain, key), escape_id(label))
            inner = self.workflow(callee, doc)
            self.expanded[memo] = inner
        start = f"{local}:start"
        self._add(fragment, _Step(start, 0, needs, True, None, root))
        self._add(fragment, _Call(local, inner, shown))
        self._add(fragment, _Step(local, 0, [f"{local}/{e}" for e in inner.ends], True, None,
                                  False))  # fmt: skip

    def _inputs(self, wf: _Workflow, job: dict[str, Any], job_id: str, doc: dict[Any, Any],
                contexts: dict[str, Any], path: Path_) -> dict[str, Any]:  # fmt: skip
        """The ``inputs`` context of a call: ``with:`` evaluated, else the defaults."""
        given = job.get("with")
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise wf.fail(f"job '{job_id}': 'with' must be a mapping", (*path, "with"), job_id)
        values = {str(k): v for k, v in
                  self._resolve(wf, given, contexts, job_id, (*path, "with")).items()}  # fmt: skip
        hidden = [v.source for v in values.values() if isinstance(v, Opaque)]
        if hidden:
            self._opaque(wf, job_id, hidden)
        on = doc.get("on", doc.get(True))
        call = on.get("workflow_call") if isinstance(on, dict) else None
        declared = call.get("inputs") if isinstance(call, dict) else None
        inputs: dict[str, Any] = {}
        if isinstance(declared, dict):
            folded = {k.casefold(): v for k, v in values.items()}
            for name, spec in declared.items():
                name = str(name)
                spec = spec if isinstance(spec, dict) else {}
                if name.casefold() in folded:
                    inputs[name] = folded[name.casefold()]
                elif spec.get("default") is not None:
                    default = spec["default"]
                    if has_expression(default):
                        try:
                            default = interpolate(default, {})
                        except ExpressionError:
                            default = Opaque(str(default))
                    inputs[name] = default
                else:
                    inputs[name] = {"boolean": False, "number": 0}.get(str(spec.get("type")), "")
        for name, value in values.items():
            inputs.setdefault(name, value)
        return inputs

    # --- the plan --------------------------------------------------------------------

    def flatten(self, fragment: _Fragment, prefix: str = "", entry: str | None = None,
                shown: str = "") -> None:  # fmt: skip
        """Add the steps of ``fragment`` to the plan, ids under ``prefix``."""
        for item in fragment.items:
            if isinstance(item, _Call):
                local = prefix + item.local
                self.flatten(item.fragment, f"{local}/", f"{local}:start",
                             f"{shown}{item.display} / ")  # fmt: skip
                continue
            step = escape_id(prefix + item.local)
            needs = [escape_id(prefix + n) for n in item.needs]
            if item.root and entry is not None:
                needs.append(escape_id(entry))
            if step in self.plan:
                raise WorkloadError(f"two jobs would both be named {step!r}; rename one",
                                    Location(str(self.path), step_id=step))  # fmt: skip
            self.plan.add(step, item.cost, needs, connector=item.connector)
            if item.display is not None:
                self.display[step] = shown + item.display


class _MatrixError(Exception):
    def __init__(self, message: str, path: Path_ = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """The scalar leaves of a filter (an include/exclude entry's value), with their paths."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise _MatrixError(f"an include or exclude entry is nested more than {MAX_DEPTH} "
                               "levels deep")  # fmt: skip
        if isinstance(item, dict):
            stack.extend((v, (*where, str(k))) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(item))))
        else:
            out.append((where, item))
    return out


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(value, Opaque):
            return value
        if isinstance(value, dict):
            if part in value:
                value = value[part]
                continue
            folded = str(part).casefold()
            value = next((v for k, v in value.items() if str(k).casefold() == folded), None)
        elif isinstance(value, list) and isinstance(part, int):
            value = value[part] if part < len(value) else None
        else:
            return None
    return value


def _matches(leaves: list[tuple[tuple[Any, ...], Any]], combo: Mapping[str, Any],
             unknown: list[str]) -> bool:  # fmt: skip
    """Whether every leaf of a filter equals the combination's value there (GitHub's
    ``matrix.a.b == literal``); a value known only at run time matches nothing."""
    for where, literal in leaves:
        value = _at(combo, where)
        if isinstance(value, Opaque) or isinstance(literal, Opaque):
            unknown.append((value if isinstance(value, Opaque) else literal).source)
            return False
        if not loose_equal(value, literal):
            return False
    return True


def _segments(values: list[Any], hidden: list[str] | None = None) -> list[str]:
    """The values a display name lists: scalars, depth first, empty strings left out (a
    run-time value as written; what it depends on is added to ``hidden``)."""
    out: list[str] = []
    stack: list[tuple[Any, int]] = [(v, 1) for v in reversed(values)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _MatrixError(f"a matrix value is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in reversed(item))
        elif isinstance(item, Opaque):
            out.append(str(item))
            if hidden is not None:
                hidden.append(item.source)
        elif item is not None:
            text = to_string(item)
            if text:
                out.append(text)
    return out


def build_matrix(matrix: Mapping[Any, Any], plan: StepPlan | None = None
                 ) -> tuple[list[_Config] | None, list[str]]:  # fmt: skip
    """The combinations of a (resolved) matrix, as GitHub's matrix builder makes them, and
    the run-time values an include/exclude had to compare. ``None`` when the matrix is not
    known statically (the second item then names why). Counted before anything is built:
    the product of the axes must stay within :data:`MAX_PRODUCT` and what ``exclude`` leaves,
    plus the ``include`` entries, within GitHub's :data:`MAX_COMBINATIONS`."""
    axes: dict[str, list[Any]] = {}
    include: Any = None
    exclude: Any = None
    for key, value in matrix.items():
        name = key if isinstance(key, str) else to_string(key)
        if name == "include":
            include = value
        elif name == "exclude":
            exclude = value
        elif isinstance(value, Opaque):
            return None, [value.source]
        elif not isinstance(value, list):
            raise _MatrixError(f"matrix axis '{escape_id(name)}' must be a list of values",
                               (name,))  # fmt: skip
        elif not value:
            raise _MatrixError(f"matrix axis '{escape_id(name)}' has no values", (name,))
        else:
            axes[name] = value
    entries: dict[str, list[dict[str, Any]]] = {}
    for word, given in (("include", include), ("exclude", exclude)):
        if given is None:
            entries[word] = []
            continue
        if isinstance(given, Opaque):
            return None, [given.source]
        if not isinstance(given, list):
            raise _MatrixError(f"'{word}' must be a list of mappings", (word,))
        for k, entry in enumerate(given):
            if isinstance(entry, Opaque):
                return None, [entry.source]
            if not isinstance(entry, dict) or not entry:
                raise _MatrixError(f"each '{word}' entry must be a mapping of values",
                                   (word, k))  # fmt: skip
            if word == "exclude":
                for name in entry:
                    if str(name) not in axes:
                        raise _MatrixError(f"exclude key '{escape_id(str(name))}' is not an axis "
                                           "of the matrix", (word, k))  # fmt: skip
        entries[word] = [{str(n): v for n, v in e.items()} for e in given]
    includes, excludes = entries["include"], entries["exclude"]
    if not axes and not includes:
        raise _MatrixError("the matrix must have at least one axis or 'include' entry")
    # count before building: the product, then (lazily) what exclude leaves
    product = 1 if axes else 0
    for values in axes.values():
        product *= len(values)
        if product > MAX_PRODUCT:
            raise _MatrixError(
                f"the matrix makes more than GitHub's {MAX_COMBINATIONS} jobs: its axes alone "
                f"make more than {MAX_PRODUCT:,} combinations"
            )
    if plan is not None:
        plan.check(min(product, MAX_COMBINATIONS) + len(includes))
    unknown: list[str] = []
    exclude_leaves = [_leaves(e) for e in excludes]
    survivors: list[dict[str, Any]] = []
    names = list(axes)
    for row in itertools.product(*axes.values()) if axes else ():
        combo = dict(zip(names, row, strict=True))
        if any(_matches(leaves, combo, unknown) for leaves in exclude_leaves):
            continue
        survivors.append(combo)
        if len(survivors) > MAX_COMBINATIONS:
            break
    filters = []
    for entry in includes:
        filt = {k: v for k, v in entry.items() if k in axes}
        extra = {k: v for k, v in entry.items() if k not in axes}
        filters.append((_leaves(filt), filt, extra))
    matched = [False] * len(filters)
    configs: list[_Config] = []
    for combo in survivors:
        hidden: list[str] = []
        segments = _segments(list(combo.values()), hidden)
        full = dict(combo)
        for i, (leaves, _, extra) in enumerate(filters):
            if _matches(leaves, combo, unknown):
                matched[i] = True
                full.update(extra)
        configs.append(_Config(full, segments, hidden))
    for i, (_, filt, extra) in enumerate(filters):
        if not matched[i]:
            combo = {**filt, **extra}
            hidden = []
            configs.append(_Config(combo, _segments(list(combo.values()), hidden), hidden))
    if len(configs) > MAX_COMBINATIONS:
        raise _MatrixError(f"the matrix makes more than {MAX_COMBINATIONS} jobs, GitHub's limit")
    return configs, unknown


def expand_matrix(matrix: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The combinations of a GitHub Actions matrix (the ``matrix`` context of each job), in
    GitHub's order. Raises ``ValueError`` for a matrix GitHub refuses."""
    try:
        configs, unknown = build_matrix(matrix)
    except _MatrixError as exc:
        raise ValueError(exc.message) from None
    if configs is None:
        raise ValueError(f"the matrix depends on run-time values ({unknown[0]})")
    return [c.matrix or {} for c in configs]


def read_workflow(path: Path, data: bytes, durations: str | None = None,
                  limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str], str]:  # fmt: skip
    """The steps of the workflow in ``path``, the notes, and the unit. Files the workflow
    names are read through :class:`SecondaryReads` (inside the project, within ``limits``)."""
    text = decode(data, str(path))
    doc = parse_document(text, str(path), False)
    if not looks_like_workflow(doc):
        raise WorkloadError("not a GitHub Actions workflow: expected 'on' and 'jobs'",
                            Location(str(path)))  # fmt: skip
    root = _repository_root(path)
    reader = _Reader(path, text, root, limits, SecondaryReads.for_input(path, limits, root))
    try:
        with budget():
            fragment = reader.workflow(reader.top, doc)
        reader.flatten(fragment)
    except RecursionError:
        raise WorkloadError("the workflow is nested too deeply", Location(str(path))) from None
    unit = "jobs"
    if durations is not None:
        _apply_durations(reader, durations, limits)
        unit = "seconds"
    return reader.plan, reader.note_list(), unit


def _apply_durations(reader: _Reader, path: str, limits: Limits) -> None:
    """Costs from a run's jobs (``gh run view RUN --json jobs``: ``name``, ``startedAt``,
    ``completedAt``; or the REST API's ``name``, ``started_at``, ``completed_at``), matched
    to the jobs by display name (jobs GitHub lists alike are matched in order)."""
    from ...base.reading import read_file

    where = Location(path)
    try:
        raw = read_file(Path(path), limits.max_input_bytes)
    except WorkloadError as exc:
        raise WorkloadError(f"--durations: {exc.message}", where) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise WorkloadError("--durations: JSON nested too deeply", where) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"--durations: not JSON: {exc}", where) from None
    jobs = data.get("jobs") if isinstance(data, dict) else data
    if not isinstance(jobs, list):
        raise WorkloadError("--durations: expected the jobs of a run: the output of 'gh run "
                            "view RUN --json jobs' ({\"jobs\": [{\"name\", \"startedAt\", "
                            "\"completedAt\"}, ...]}) or of the REST API (\"started_at\", "
                            "\"completed_at\")", where)  # fmt: skip
    seconds: dict[str, list[float]] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    timeless = 0
    for k, job in enumerate(jobs):
        if not isinstance(job, dict) or not isinstance(job.get("name"), str):
            raise WorkloadError(f"--durations: job {k + 1} needs a 'name'", where)
        start = job.get("startedAt", job.get("started_at"))
        end = job.get("completedAt", job.get("completed_at"))
        if start is None or end is None:  # queued, running or skipped: no duration
            timeless += 1
            continue
        try:
            began, ended = _time(start), _time(end)
            if began.year < 1971 or ended.year < 1971:  # gh writes Go's zero time for "never"
                timeless += 1
                continue
            duration = max(0.0, (ended - began).total_seconds())
        except (TypeError, ValueError, OverflowError):
            raise WorkloadError(f"--durations: job {k + 1} ({job['name'][:80]!r}) needs "
                                "'startedAt' and 'completedAt' (or 'started_at' and "
                                "'completed_at') as ISO 8601 times", where) from None  # fmt: skip
        seconds.setdefault(job["name"], []).append(duration)
        began_at = began.timestamp()
        spans.setdefault(job["name"], []).append((began_at, began_at + duration))
    missing: list[str] = []
    matched = 0
    for step in reader.plan.ids:
        if reader.plan.is_connector(step):
            continue
        name = reader.display.get(step, step)
        queue = seconds.get(name)
        if queue:
            reader.plan.set_cost(step, queue.pop(0))
            reader.plan.observed[step] = spans[name].pop(0)
            matched += 1
        else:
            reader.plan.set_cost(step, 0)
            missing.append(name)
    unused = [name for name, left in seconds.items() for _ in left]
    total = matched + len(missing)
    message = f"--durations: {matched} of {total} jobs matched a job of the run in {path}"
    if missing:
        message += f"; {len(missing)} cost 0 (no duration): {_shown(missing)}"
    if unused:
        message += (f"; {plural(len(unused), 'job')} of the run "
                    f"{'matches' if len(unused) == 1 else 'match'} no job of the workflow: "
                    f"{_shown(unused)}")  # fmt: skip
    if timeless:
        message += (f"; {plural(timeless, 'job')} of the run "
                    f"{'has' if timeless == 1 else 'have'} no start or end time")  # fmt: skip
    reader.note(message)


def _shown(names: list[str]) -> str:
    return ", ".join(escape_id(repr(m)) for m in names[:5]) + (" ..." if len(names) > 5 else "")


def _time(text: Any) -> datetime:
    if not isinstance(text, str) or len(text) > 64:
        raise ValueError("not a time")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _repository_root(path: Path) -> Path | None:
    for folder in path.resolve().parents:
        if (folder / ".github").is_dir():
            return folder
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
