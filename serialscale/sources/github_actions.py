"""GitHub Actions workflows: one step per job (per matrix combination), ``needs`` as needs.

- ``needs``: a job id or a list of them. A job that needs a matrix job needs all of its
  combinations, through a zero-cost join step named like the job.
- ``strategy.matrix``: expanded as GitHub does (the product of the lists, ``exclude`` removed
  by partial match, each ``include`` added to every combination it does not contradict or
  else as a combination of its own). Step ids are the display names GitHub gives the jobs:
  ``test (ubuntu-latest, 3.12)`` (the job's ``name:`` or id, then the values in order). A
  matrix given by an expression (``${{ fromJSON(...) }}``) cannot be expanded: the job counts
  once, with a note.
- ``uses: ./.github/workflows/x.yml`` (a local reusable workflow): its jobs are expanded in
  place, as ``caller/inner``, between a zero-cost entry step ``caller:start`` and a zero-cost
  exit step ``caller``; the path is resolved from the repository root (the folder holding
  ``.github``). A remote reusable workflow counts as one job, with a note.
- ``if:``: the job is kept (it may run) and named in a note.
- Cost 1 per job (unit ``jobs``). ``timeout-minutes`` is a limit, never a duration. With
  ``--durations FILE`` (``gh run view RUN --json jobs``), each job costs the seconds between
  its ``startedAt`` and ``completedAt``, matched by display name (unit ``seconds``).

YAML 1.1 reads the key ``on`` as ``true``; both spellings are recognised.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import Location, WorkloadError, suggest
from ..limits import DEFAULT_LIMITS, Limits
from .parsing import Locator, decode, parse_document
from .plan import StepPlan
from .secondary import MissingInput, SecondaryReads

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)
MAX_COMBINATIONS = 256  # GitHub's own limit per matrix


def looks_like_workflow(doc: Any) -> bool:
    """A mapping with ``jobs`` (a mapping) and ``on`` (read as ``True`` by YAML 1.1)."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("jobs"), dict)
        and ("on" in doc or True in doc)
        and "steps" not in doc
    )


@dataclass
class _Reader:
    source: str
    text: str
    root: Path | None
    notes: list[str] = field(default_factory=list)
    plan: StepPlan = field(default_factory=StepPlan)
    display: dict[str, str] = field(default_factory=dict)  # step id -> display name
    seen_files: tuple[str, ...] = ()
    reads: SecondaryReads | None = None

    def fail(self, message: str, path: tuple[str | int, ...] = (), step: str | None = None,
             key: bool = False) -> WorkloadError:  # fmt: skip
        return WorkloadError(message, Locator(self.text, self.source).at(path, step, key))

    def workflow(self, doc: Any, prefix: str = "", entry: str | None = None) -> list[str]:
        """Add the jobs of ``doc``; ids get ``prefix``; jobs without needs need ``entry``.
        Returns the ids every job of the workflow ends in (for a caller's exit join)."""
        jobs = doc.get("jobs")
        if not isinstance(jobs, dict) or not jobs:
            raise self.fail("'jobs' must be a mapping of job ids to jobs", ("jobs",))
        ends: dict[str, str] = {}  # job id -> the step its dependents need
        order = self._order(jobs)
        for job_id in order:
            job = jobs[job_id]
            path: tuple[str | int, ...] = ("jobs", job_id)
            if not isinstance(job, dict):
                raise self.fail(f"job '{job_id}' must be a mapping", path)
            needs = self._needs(job, job_id, jobs)
            need_steps = [ends[n] for n in needs] or ([entry] if entry else [])
            if job.get("if") is not None:
                self.notes.append(f"job '{prefix}{job_id}' runs only if {job['if']!s}; it is "
                                  "counted as if it runs")  # fmt: skip
            uses = job.get("uses")
            if isinstance(uses, str) and uses.startswith("./"):
                ends[job_id] = self._reusable(uses, f"{prefix}{job_id}", need_steps, path)
                continue
            if isinstance(uses, str):
                self.notes.append(f"job '{prefix}{job_id}' calls the remote workflow {uses}: "
                                  "counted as one job")  # fmt: skip
            ends[job_id] = self._job(job, f"{prefix}{job_id}", need_steps, path)
        needed = {n for job in jobs.values() if isinstance(job, dict)
                  for n in _as_list(job.get("needs"))}  # fmt: skip
        return [ends[j] for j in order if j not in needed]

    def _order(self, jobs: dict[Any, Any]) -> list[str]:
        """Job ids with every job after the jobs it needs (input order otherwise)."""
        ids = [str(j) for j in jobs]
        done: list[str] = []
        placed: set[str] = set()
        remaining = list(ids)
        while remaining:
            progress = False
            for job_id in list(remaining):
                job = jobs[job_id]
                needs = (
                    [str(n) for n in _as_list(job.get("needs"))] if isinstance(job, dict) else []
                )
                if all(n in placed or n not in jobs for n in needs):
                    done.append(job_id)
                    placed.add(job_id)
                    remaining.remove(job_id)
                    progress = True
            if not progress:
                cycle = " → ".join([*remaining, remaining[0]])
                raise self.fail(f"the jobs' needs form a cycle: {cycle}", ("jobs", remaining[0]))
        return done

    def _needs(self, job: dict[str, Any], job_id: str, jobs: dict[str, Any]) -> list[str]:
        raw = job.get("needs")
        needs = _as_list(raw)
        if raw is not None and not all(isinstance(n, str) for n in needs):
            raise self.fail(f"job '{job_id}': 'needs' must be a job id or a list of job ids",
                            ("jobs", job_id, "needs"), job_id)  # fmt: skip
        for k, n in enumerate(needs):
            if n not in jobs:
                where: tuple[str | int, ...] = ("jobs", job_id, "needs")
                if isinstance(raw, list):
                    where = (*where, k)
                raise self.fail(
                    f"job '{job_id}' needs '{n}', which is not a job of this workflow"
                    f"{suggest(n, [str(j) for j in jobs])}",
                    where, job_id,
                )  # fmt: skip
        return needs

    def _job(self, job: dict[str, Any], job_id: str, needs: list[str],
             path: tuple[str | int, ...]) -> str:  # fmt: skip
        name = str(job.get("name") or job_id.rsplit("/", 1)[-1])
        combos = self._matrix(job, job_id, path)
        if combos is None:
            self.plan.add(job_id, 1, needs)
            self.display[job_id] = _display_prefix(job_id, name)
            return job_id
        steps = []
        for combo in combos:
            label = f"{job_id} ({', '.join(_scalar(v) for v in combo.values())})"
            self.plan.add(label, 1, needs)
            self.display[label] = _display_prefix(
                job_id, f"{name} ({', '.join(_scalar(v) for v in combo.values())})"
            )
            steps.append(label)
        self.plan.add(job_id, 0, steps, connector=True)  # the join of the combinations
        return job_id

    def _matrix(self, job: dict[str, Any], job_id: str,
                path: tuple[str | int, ...]) -> list[dict[str, Any]] | None:  # fmt: skip
        strategy = job.get("strategy")
        if not isinstance(strategy, dict) or "matrix" not in strategy:
            return None
        matrix = strategy["matrix"]
        expression = isinstance(matrix, str) or (
            isinstance(matrix, dict)
            and any(isinstance(v, str) and _EXPRESSION.search(v) for v in matrix.values())
        )
        if expression:
            self.notes.append(f"job '{job_id}' has a matrix given by an expression; it cannot "
                              "be expanded here and is counted once")  # fmt: skip
            return None
        if not isinstance(matrix, dict):
            raise self.fail(f"job '{job_id}': 'strategy.matrix' must be a mapping",
                            (*path, "strategy", "matrix"), job_id)  # fmt: skip
        combos = expand_matrix(matrix)
        if len(combos) > MAX_COMBINATIONS:
            raise self.fail(
                f"job '{job_id}': the matrix makes {len(combos)} jobs, more than "
                f"GitHub's {MAX_COMBINATIONS}",
                (*path, "strategy", "matrix"),
                job_id,
            )
        return combos or None

    def _reusable(self, uses: str, job_id: str, needs: list[str],
                  path: tuple[str | int, ...]) -> str:  # fmt: skip
        target = uses.split("@", 1)[0]
        if self.root is None:
            raise self.fail(
                f"job '{job_id}' uses {uses}, but the repository root (the folder "
                "holding .github) cannot be found",
                (*path, "uses"),
                job_id,
            )
        reads = self.reads or SecondaryReads.for_input(Path(self.source), self.plan.limits,
                                                       self.root)  # fmt: skip
        where = Locator(self.text, self.source).at((*path, "uses"), job_id)
        file = reads.resolve(self.root / target, uses, where)
        if str(file) in self.seen_files:
            raise self.fail(f"job '{job_id}' uses {uses}, which calls itself", (*path, "uses"))
        try:
            data = reads.read(file, uses, where)
        except MissingInput:
            raise self.fail(f"job '{job_id}' uses {uses}, which does not exist",
                            (*path, "uses"), job_id) from None  # fmt: skip
        text = decode(data, str(file))
        inner = _Reader(str(file), text, self.root, self.notes, self.plan, self.display,
                        (*self.seen_files, str(file)), reads)  # fmt: skip
        doc = parse_document(text, str(file), False)
        if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
            raise inner.fail("a reusable workflow must have 'jobs'", ())
        start = f"{job_id}:start"
        self.plan.add(start, 0, needs, connector=True)
        ends = inner.workflow(doc, prefix=f"{job_id}/", entry=start)
        self.plan.add(job_id, 0, ends, connector=True)
        return job_id


def expand_matrix(matrix: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The combinations of a GitHub Actions matrix, in GitHub's order."""
    keys = [k for k in matrix if k not in ("include", "exclude")]
    values = [v if isinstance(v, list) else [v] for v in (matrix[k] for k in keys)]
    combos = [dict(zip(keys, c, strict=True)) for c in itertools.product(*values)] if keys else []
    for rule in matrix.get("exclude") or []:
        if isinstance(rule, dict):
            combos = [c for c in combos if not all(c.get(k) == v for k, v in rule.items())]
    originals = set(keys)
    for rule in matrix.get("include") or []:
        if not isinstance(rule, dict):
            continue
        # each include extends the combinations it does not contradict (earlier includes'
        # combinations too), or else is a combination of its own
        fits = [c for c in combos
                if all(c.get(k) == v for k, v in rule.items() if k in originals)]  # fmt: skip
        if fits and (any(k in originals for k in rule) or combos):
            for c in fits:
                c.update({k: v for k, v in rule.items() if k not in originals})
        else:
            combos.append(dict(rule))
    return combos


def read_workflow(path: Path, data: bytes, durations: str | None = None,
                  limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str], str]:  # fmt: skip
    """The steps of the workflow in ``path``, the notes, and the unit. Files the workflow
    names are read through :class:`SecondaryReads` (inside the project, within ``limits``)."""
    text = decode(data, str(path))
    doc = parse_document(text, str(path), False)
    root = _repository_root(path)
    reader = _Reader(str(path), text, root, seen_files=(str(path.resolve()),),
                     plan=StepPlan(limits=limits, source=str(path)),
                     reads=SecondaryReads.for_input(path, limits, root))  # fmt: skip
    if not looks_like_workflow(doc):
        raise WorkloadError("not a GitHub Actions workflow: expected 'on' and 'jobs'",
                            Location(str(path)))  # fmt: skip
    reader.workflow(doc)
    unit = "jobs"
    if durations is not None:
        _apply_durations(reader, durations, limits)
        unit = "seconds"
    return reader.plan, reader.notes, unit


def _apply_durations(reader: _Reader, path: str, limits: Limits) -> None:
    """Costs from ``gh run view RUN --json jobs``: seconds from startedAt to completedAt."""
    from .workload_file import read_file

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
        raise WorkloadError("--durations: expected the output of 'gh run view RUN --json jobs'"
                            " ({\"jobs\": [{\"name\", \"startedAt\", \"completedAt\"}, ...]})",
                            where)  # fmt: skip
    seconds: dict[str, float] = {}
    for k, job in enumerate(jobs):
        try:
            start = _time(job["startedAt"])
            end = _time(job["completedAt"])
            seconds[str(job["name"])] = max(0.0, (end - start).total_seconds())
        except (KeyError, TypeError, ValueError):
            raise WorkloadError(f"--durations: job {k + 1} needs 'name', 'startedAt' and "
                                "'completedAt' (ISO 8601 times)", where) from None  # fmt: skip
    missing = []
    for step in reader.plan.ids:
        if reader.plan.is_connector(step):
            continue
        name = reader.display.get(step, step)
        if name in seconds:
            reader.plan.set_cost(step, seconds[name])
        else:
            reader.plan.set_cost(step, 0)
            missing.append(name)
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        have = "job has" if len(missing) == 1 else "jobs have"
        reader.notes.append(f"{len(missing)} {have} no duration in {path} and cost 0: {shown}")


def _time(text: Any) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _repository_root(path: Path) -> Path | None:
    for folder in path.resolve().parents:
        if (folder / ".github").is_dir():
            return folder
    return None


def _display_prefix(job_id: str, name: str) -> str:
    """A reusable workflow's jobs show as ``caller / inner`` in GitHub's job list."""
    if "/" in job_id:
        caller = job_id.rsplit("/", 1)[0]
        return f"{caller.replace('/', ' / ')} / {name}"
    return name


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ", ".join(_scalar(v) for v in value.values())
    return str(value)
