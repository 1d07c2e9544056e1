"""CircleCI configurations (``.circleci/config.yml``): one step per job of each workflow (per
matrix combination), ``requires`` as needs.

The specification is CircleCI's configuration reference (https://circleci.com/docs/
configuration-reference/, sections ``workflows``, ``requires``, ``matrix``) and "Using matrix
jobs" (https://circleci.com/docs/using-matrix-jobs/):

- ``workflows``: each workflow (every key but ``version``) lists its jobs, a name or a
  mapping ``{job: {requires, name, matrix, type, ...}}``. With one workflow a step is named
  like its job; with several, ``workflow/job``. A file without ``workflows`` runs its job
  ``build`` (CircleCI 2.0).
- ``requires``: names of jobs of the same workflow (or ``{job: status}`` maps, the newer form
  that also names the statuses to wait for: the job is needed either way). A name two jobs
  share is an error, as CircleCI makes it.
- ``matrix.parameters``: one job per combination of the values, minus the ``exclude``
  entries (an entry removes the combinations that have all its values). A combination is
  named ``job-v1-v2``, its values in the order of the parameter names sorted, as CircleCI
  expands them, or by the job's ``name`` with ``<< matrix.p >>`` filled in. Requiring the
  matrix's ``alias`` (by default the job's name) requires every combination, through a
  zero-cost join named like it; ``<< matrix.p >>`` in ``requires`` is filled in per
  combination.
- Jobs that orbs define (``node/test``, from ``orbs: {node: circleci/node@5}``) cannot be read
  here: each counts as one job, noted like an include that cannot be fetched. A job defined
  nowhere is an error (with a suggestion).
- ``type: approval`` waits for a person: a zero-cost connector (noted). ``filters``,
  ``when``/``unless`` and ``triggers`` are taken as if every job runs (noted); ``setup: true``
  (dynamic configuration) reads only this file (noted). ``parallelism: N`` splits one job
  over N machines at once: it counts once (noted).
- Cost 1 per job (unit ``jobs``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError, suggest
from ...base.limits import DEFAULT_LIMITS, Limits
from ..parsing import Locator, decode
from ..step_plan import StepPlan
from .ci_yaml import as_list, listed, load_yaml, read_guarded, scalar, short

_MATRIX_REF = re.compile(r"<<\s*matrix\.([A-Za-z0-9_-]+)\s*>>")
Path_ = tuple[str | int, ...]


@dataclass
class _Leg:
    """One job run of a workflow: its step id and where it was written."""

    step: str
    name: str
    requires: list[tuple[str, Path_]]
    where: Path_
    cost: float
    connector: bool


@dataclass
class _Workflow:
    name: str
    legs: list[_Leg] = field(default_factory=list)
    by_name: dict[str, list[str]] = field(default_factory=dict)  # name -> step ids
    aliases: dict[str, list[str]] = field(default_factory=dict)  # matrix alias -> step ids


def read_circleci(path: Path, data: bytes,
                  limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The steps of the CircleCI configuration in ``path``, and the notes."""
    return read_guarded(_read, path, data, limits)


def _read(path: Path, data: bytes, limits: Limits) -> tuple[StepPlan, list[str]]:
    source = str(path)
    text = decode(data, source)
    locator = Locator(text, source)
    doc = load_yaml(text, source, "a CircleCI configuration")
    if not isinstance(doc, dict):
        raise WorkloadError("a CircleCI configuration must be a mapping with 'workflows' or "
                            "'jobs'", Location(source, 1))  # fmt: skip
    defined = doc.get("jobs") or {}
    if not isinstance(defined, dict):
        raise WorkloadError("'jobs' must be a mapping of job names to jobs",
                            locator.at(("jobs",)))  # fmt: skip
    orbs = doc.get("orbs") or {}
    if not isinstance(orbs, dict):
        raise WorkloadError("'orbs' must be a mapping", locator.at(("orbs",)))
    notes: list[str] = []
    plan = StepPlan(limits=limits, source=source)
    workflows = doc.get("workflows")
    if workflows is None:
        if "build" not in defined:
            raise WorkloadError("no 'workflows', and no job 'build' (what CircleCI runs "
                                "without workflows)", Location(source, 1))  # fmt: skip
        plan.add("build", 1, [])
        notes.append("no 'workflows': CircleCI runs the job 'build' alone")
        return plan, notes
    if not isinstance(workflows, dict):
        raise WorkloadError("'workflows' must be a mapping of workflow names to workflows",
                            locator.at(("workflows",)))  # fmt: skip
    names = [str(k) for k in workflows if str(k) != "version"]
    if not names:
        raise WorkloadError("'workflows' holds no workflow", locator.at(("workflows",)))
    reader = _Reader(locator, plan, defined, orbs, len(names) > 1)
    for key, body in workflows.items():
        if str(key) != "version":
            reader.workflow(str(key), body)
    if doc.get("setup") is True:
        notes.append("a setup configuration ('setup: true'): only this file is read, not the "
                     "configuration it continues with")  # fmt: skip
    if reader.orb_jobs:
        notes.append(
            "jobs from orbs cannot be fetched here (serialscale reads only local "
            f"files); each counts as one job: {listed(sorted(reader.orb_jobs))}"
        )
    if reader.approvals:
        notes.append(f"approval jobs wait for a person and cost 0: {listed(reader.approvals)}")
    if reader.conditional:
        notes.append(
            "jobs and workflows with 'filters', 'when', 'unless' or 'triggers' are "
            f"counted as if they run: {listed(reader.conditional)}"
        )
    if reader.parallel:
        notes.append("jobs with 'parallelism' count once (one job split over machines running "
                     f"at once): {listed(reader.parallel)}")  # fmt: skip
    return plan, notes


class _Reader:
    def __init__(self, locator: Locator, plan: StepPlan, defined: dict[Any, Any],
                 orbs: dict[Any, Any], prefixed: bool) -> None:  # fmt: skip
        self.locator = locator
        self.plan = plan
        self.defined = {str(k): v for k, v in defined.items()}
        self.orbs = {str(k) for k in orbs}
        self.prefixed = prefixed
        self.orb_jobs: set[str] = set()
        self.approvals: list[str] = []
        self.conditional: list[str] = []
        self.parallel: list[str] = []
        self.count = 0

    def at(self, path: Path_, step: str | None = None) -> Location:
        return self.locator.at(path, step)

    def workflow(self, name: str, body: Any) -> None:
        base: Path_ = ("workflows", name)
        if not isinstance(body, dict) or not isinstance(body.get("jobs"), list):
            raise WorkloadError(f"workflow '{short(name)}' needs 'jobs', a list",
                                self.at(base))  # fmt: skip
        if any(k in body for k in ("when", "unless", "triggers")):
            self.conditional.append(f"workflow {short(name)!r}")
        wf = _Workflow(name)
        for k, item in enumerate(body["jobs"]):
            self.item(wf, item, (*base, "jobs", k))
        for leg in wf.legs:
            needs = [self.required(wf, leg, target, where) for target, where in leg.requires]
            self.plan.add(leg.step, leg.cost, needs, connector=leg.connector)

    def item(self, wf: _Workflow, item: Any, where: Path_) -> None:
        config: dict[Any, Any]
        if isinstance(item, str):
            job, config = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            key, given = next(iter(item.items()))
            job = str(key)
            config = {} if given is None else given
            if not isinstance(config, dict):
                raise WorkloadError(f"job '{short(job)}': its settings must be a mapping",
                                    self.at((*where, job)))  # fmt: skip
            where = (*where, job)
        else:
            raise WorkloadError("each job of a workflow is a name or a mapping {job: "
                                "{requires: ..., ...}}", self.at(where))  # fmt: skip
        self.check_defined(job, config, where)
        name = config.get("name", job)
        if not isinstance(name, str) or not name:
            raise WorkloadError(f"job '{short(job)}': 'name' must be a name",
                                self.at((*where, "name")))  # fmt: skip
        requires = as_list(config.get("requires"))
        if not isinstance(config.get("requires", []), (list, type(None))):
            raise WorkloadError(f"job '{short(name)}': 'requires' must be a list of job names",
                                self.at((*where, "requires")))  # fmt: skip
        approval = config.get("type") == "approval"
        definition = self.defined.get(job)
        if "filters" in config:
            self.conditional.append(repr(short(name)))
        if isinstance(definition, dict) and isinstance(definition.get("parallelism"), int) \
                and definition["parallelism"] > 1:  # fmt: skip
            self.parallel.append(repr(short(job)))
        matrix = config.get("matrix")
        combos: list[dict[str, str]] = [{}]
        if matrix is not None:
            combos = self.combinations(name, matrix, (*where, "matrix"))
        legs: list[str] = []
        for combo in combos:
            leg_name = name
            if matrix is not None:
                if _MATRIX_REF.search(name):
                    leg_name = self.fill(name, combo, name, (*where, "name"))
                else:
                    leg_name = "-".join([name, *(combo[p] for p in sorted(combo))])
            step = f"{wf.name}/{leg_name}" if self.prefixed else leg_name
            if leg_name in wf.by_name and matrix is None:
                raise WorkloadError(f"workflow '{short(wf.name)}' runs two jobs named "
                                    f"'{short(leg_name)}'; give one a 'name'",
                                    self.at(where))  # fmt: skip
            if leg_name in wf.by_name:
                raise WorkloadError(f"the matrix of job '{short(name)}' makes the job "
                                    f"'{short(leg_name)}', which is already a job",
                                    self.at(where))  # fmt: skip
            targets = []
            for j, raw in enumerate(requires):
                for target in self.requirement(name, raw, (*where, "requires", j)):
                    filled = self.fill(target, combo, name, (*where, "requires", j))
                    targets.append((filled, (*where, "requires", j)))
            wf.legs.append(_Leg(step, leg_name, targets, where, 0 if approval else 1,
                                approval))  # fmt: skip
            wf.by_name.setdefault(leg_name, []).append(step)
            legs.append(step)
            if approval:
                self.approvals.append(repr(short(leg_name)))
        if matrix is not None:
            alias = matrix.get("alias", job)
            if not isinstance(alias, str):
                raise WorkloadError(f"job '{short(name)}': 'matrix.alias' must be a name",
                                    self.at((*where, "matrix", "alias")))  # fmt: skip
            wf.aliases.setdefault(alias, []).extend(legs)

    def check_defined(self, job: str, config: dict[Any, Any], where: Path_) -> None:
        if job in self.defined or config.get("type") == "approval":
            return
        prefix = job.split("/", 1)[0]
        if "/" in job and prefix in self.orbs:
            self.orb_jobs.add(job)
            return
        hint = suggest(job, self.defined)
        if "/" in job:
            hint += f" (and '{short(prefix)}' is not an orb of 'orbs')"
        raise WorkloadError(f"the workflow runs the job '{short(job)}', which 'jobs' does not "
                            f"define{hint}", self.at(where))  # fmt: skip

    def requirement(self, name: str, raw: Any, where: Path_) -> list[str]:
        if isinstance(raw, str):
            return [raw]
        if isinstance(raw, dict) and raw and all(isinstance(k, str) for k in raw):
            return list(raw)  # {job: status}: needed whatever the status it waits for
        raise WorkloadError(f"job '{short(name)}': each entry of 'requires' is a job name (or "
                            "{job: status})", self.at(where))  # fmt: skip

    def fill(self, text: str, combo: dict[str, str], name: str, where: Path_) -> str:
        def value(match: re.Match[str]) -> str:
            key = match[1]
            if key not in combo:
                raise WorkloadError(f"job '{short(name)}': << matrix.{key} >> names no "
                                    "parameter of its matrix", self.at(where))  # fmt: skip
            return combo[key]

        return _MATRIX_REF.sub(value, text) if "<<" in text else text

    def combinations(self, name: str, matrix: Any, where: Path_) -> list[dict[str, str]]:
        params = matrix.get("parameters") if isinstance(matrix, dict) else None
        if not isinstance(params, dict) or not params:
            raise WorkloadError(
                f"job '{short(name)}': 'matrix' needs 'parameters', a mapping "
                "of parameter names to lists of values",
                self.at(where),
            )
        axes: list[tuple[str, list[str]]] = []
        size = 1
        for key in sorted(params, key=str):
            values = [t for t in (scalar(v) for v in as_list(params[key])) if t is not None]
            if not values or len(values) != len(as_list(params[key])):
                raise WorkloadError(f"job '{short(name)}': matrix parameter '{short(key)}' "
                                    "must be a list of values",
                                    self.at((*where, "parameters", key)))  # fmt: skip
            axes.append((str(key), values))
            size *= len(values)
            self.plan.check(self.count + size)
        excludes = matrix.get("exclude") or []
        if not isinstance(excludes, list) or not all(isinstance(e, dict) for e in excludes):
            raise WorkloadError(f"job '{short(name)}': 'matrix.exclude' must be a list of "
                                "parameter maps", self.at((*where, "exclude")))  # fmt: skip
        dropped = [{str(k): scalar(v) for k, v in e.items()} for e in excludes]
        keys = [k for k, _ in axes]
        # An entry naming every parameter (CircleCI's form) is one combination: a set finds it
        # at once; only partial entries are compared one by one.
        whole = {tuple(e[k] for k in keys) for e in dropped if set(e) == set(keys)}
        partial = [e for e in dropped if set(e) != set(keys)]
        out = []
        for chosen in itertools.product(*(v for _, v in axes)):
            if chosen in whole:
                continue
            combo = dict(zip(keys, chosen, strict=True))
            if not any(all(combo.get(k) == v for k, v in e.items()) for e in partial):
                out.append(combo)
        self.count += len(out)
        return out

    def required(self, wf: _Workflow, leg: _Leg, target: str, where: Path_) -> str:
        steps = wf.by_name.get(target)
        if steps is not None and len(steps) == 1:
            return steps[0]
        if steps is not None:
            raise WorkloadError(f"job '{short(leg.name)}' requires '{short(target)}', which is "
                                f"the name of {len(steps)} jobs in workflow '{short(wf.name)}'",
                                self.at(where, leg.step))  # fmt: skip
        legs = wf.aliases.get(target)
        if legs is None:
            raise WorkloadError(
                f"job '{short(leg.name)}' requires '{short(target)}', which is not a job of "
                f"workflow '{short(wf.name)}'{suggest(target, [*wf.by_name, *wf.aliases])}",
                self.at(where, leg.step),
            )
        join = f"{wf.name}/{target}" if self.prefixed else target
        if join not in self.plan:
            self.plan.add(join, 0, legs, connector=True)
        return join
