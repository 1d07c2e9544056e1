"""Azure Pipelines (``azure-pipelines.yml``): one step per job (per matrix or ``parallel``
leg), stages and ``dependsOn`` as needs.

The specification is Microsoft's YAML schema reference (https://learn.microsoft.com/azure/
devops/pipelines/yaml-schema/: ``stages``, ``jobs``, ``jobs.job.strategy``,
``jobs.deployment``, ``template``, ``extends``) and "Specify jobs in your pipeline" / "Add
stages, dependencies, and conditions" (https://learn.microsoft.com/azure/devops/pipelines/
process/stages):

- A pipeline is ``stages``, or ``jobs`` (one stage), or ``steps`` (one job, ``job``);
  ``extends: {template: x.yml}`` takes them from the template.
- A stage without ``dependsOn`` depends on the stage written before it; ``dependsOn: []``
  starts at once; a name or a list names others. A stage waits for every job of the stages it
  depends on, through a zero-cost join named like the stage. Steps are ``stage/job``.
- Inside a stage, a job without ``dependsOn`` starts with the stage (jobs run in parallel by
  default); ``dependsOn`` names jobs of the same stage. ``job`` and ``deployment`` jobs alike.
- ``strategy.matrix`` makes one job per leg, ``job leg``; ``strategy.parallel: N`` makes
  ``job 1/N`` .. ``job N/N``. Depending on such a job depends on every leg (a zero-cost join
  named like the job). A matrix given by a run-time expression counts once (noted);
  ``maxParallel`` caps how many legs run at once and is not modelled (noted).
- ``template:`` entries in ``stages`` and ``jobs`` (and ``extends``) are read from local files,
  relative to the file that names them (``/path`` from the repository root), inside the
  project, each parsed once, at most 100 files (Azure's limit) and 100 levels; their
  ``parameters`` defaults, overridden by the caller's, fill ``${{ parameters.name }}`` in
  names and ``dependsOn`` (the pipeline's own ``parameters`` take their defaults; a
  ``dependsOn`` that is wholly a parameter takes its value, and an empty one is no
  dependency). A template from another repository (``x.yml@repo``) cannot be
  read: its jobs are not counted (noted), and needs of jobs only it could define are left out.
- Template expressions: an entry under ``${{ if ... }}`` (or ``${{ elseif }}``) is taken as if
  the condition holds and ``${{ else }}`` entries are skipped; ``${{ each }}`` entries count
  once; other ``${{ }}`` stay as written (all noted). ``condition:`` is taken as if the job
  runs.
- Cost 1 per job (unit ``jobs``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError, suggest
from ...base.limits import DEFAULT_LIMITS, Limits
from ..parsing import Locator, decode
from ..secondary import MissingInput, SecondaryReads, refuse_nul
from ..step_plan import StepPlan
from .ci_yaml import as_list, listed, load_yaml, read_guarded, scalar, short

#: Azure's documented limits on templates: files included, and levels of nesting.
MAX_TEMPLATE_FILES = 100
MAX_NESTING = 100
#: Template uses one pipeline may expand in all (a template using another twice, and so on,
#: would otherwise double at each level).
MAX_EXPANSIONS = 10_000

_PARAMETER = re.compile(r"\$\{\{\s*parameters\.([A-Za-z0-9_]+)\s*\}\}")
_ELSE = re.compile(r"\$\{\{\s*else\s*\}\}")
_EACH = re.compile(r"\$\{\{\s*each\b")
Path_ = tuple[str | int, ...]


@dataclass
class _File:
    source: str
    locator: Locator
    folder: Path


@dataclass
class _Item:
    """An entry of ``stages`` or ``jobs`` after templates and expressions, where it came from."""

    body: dict[str, Any]
    file: _File
    path: Path_
    params: dict[str, Any]

    def at(self, *more: str | int) -> Location:
        return self.file.locator.at((*self.path, *more))


@dataclass
class _Job:
    name: str
    legs: list[str]
    depends: list[tuple[str, Location]] | None
    item: _Item


@dataclass
class _Stage:
    name: str | None
    depends: list[tuple[str, Location]] | None
    jobs: list[_Job] = field(default_factory=list)
    item: _Item | None = None


def read_azure(path: Path, data: bytes,
               limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The steps of the pipeline in ``path``, and the notes. Templates are read through
    :class:`SecondaryReads` (inside the project, within ``limits``)."""
    return read_guarded(_read, path, data, limits)


def _read(path: Path, data: bytes, limits: Limits) -> tuple[StepPlan, list[str]]:
    reader = _Reader(path, limits)
    source = str(path)
    text = decode(data, source)
    top = _File(source, Locator(text, source), path.parent)
    doc = load_yaml(text, source, "an Azure Pipelines file")
    if not isinstance(doc, dict):
        raise WorkloadError("an Azure Pipelines file must be a mapping with 'stages', 'jobs' "
                            "or 'steps'", Location(source, 1))  # fmt: skip
    item = _Item(doc, top, (), _defaults(doc.get("parameters")))  # run-time: their defaults
    extends = doc.get("extends")
    if extends is not None and not any(k in doc for k in ("stages", "jobs", "steps")):
        if not isinstance(extends, dict) or not isinstance(extends.get("template"), str):
            raise WorkloadError("'extends' needs 'template', a file", top.locator.at(("extends",)))
        loaded = reader.template(_Item(extends, top, ("extends",), {}), 0)
        if loaded is None:
            raise WorkloadError(f"the pipeline extends {short(extends['template'])}, in another "
                                "repository, which cannot be read here",
                                top.locator.at(("extends",)))  # fmt: skip
        item = loaded
    stages = reader.stages(item)
    reader.build(stages, explicit="stages" in item.body)
    return reader.plan, reader.note_list()


class _Reader:
    def __init__(self, path: Path, limits: Limits) -> None:
        self.plan = StepPlan(limits=limits, source=str(path))
        self.reads = SecondaryReads.for_input(path, limits, path.parent)
        self.root = self.reads.root
        self.parsed: dict[str, tuple[_File, Any]] = {}
        self.expansions = 0
        self.remote: list[str] = []
        self.if_taken = 0
        self.else_skipped = 0
        self.each = 0
        self.opaque: list[str] = []
        self.runtime_matrix: list[str] = []
        self.max_parallel: list[str] = []
        self.dropped: list[str] = []
        self.count = 0

    def note_list(self) -> list[str]:
        notes = []
        if self.remote:
            notes.append("templates from other repositories cannot be read here (serialscale "
                         "reads only local files), so the jobs they define are not counted: "
                         f"{listed(self.remote)}")  # fmt: skip
        if self.dropped:
            notes.append(
                f"dependsOn naming nothing the files read define is left out "
                f"(presumably defined by those templates): {listed(self.dropped)}"
            )
        if self.if_taken or self.else_skipped:
            notes.append(f"template conditions are taken as if they hold: {self.if_taken} "
                         f"'${{{{ if }}}}' entries counted, {self.else_skipped} '${{{{ else }}}}'"
                         " entries skipped")  # fmt: skip
        if self.each:
            notes.append(f"{self.each} '${{{{ each }}}}' loop(s) counted once")
        if self.opaque:
            notes.append(f"template expressions kept as written: {listed(self.opaque)}")
        if self.runtime_matrix:
            notes.append(
                f"jobs whose matrix is given at run time count once: {listed(self.runtime_matrix)}"
            )
        if self.max_parallel:
            notes.append(
                "'maxParallel' caps how many legs run at once, which is not modelled "
                f"(every leg may run at once): {listed(self.max_parallel)}"
            )
        return notes

    # --- templates and expressions -----------------------------------------------------

    def expand(self, entries: Any, kind: str, file: _File, path: Path_,
               params: dict[str, Any], depth: int) -> list[_Item]:  # fmt: skip
        """The entries of ``stages`` or ``jobs`` with templates read and ``${{ }}`` keys
        resolved as the notes say."""
        if entries is None:
            return []
        if not isinstance(entries, list):
            raise WorkloadError(f"'{kind}' must be a list", file.locator.at(path))
        out: list[_Item] = []
        for k, entry in enumerate(entries):
            where = (*path, k)
            if not isinstance(entry, dict):
                raise WorkloadError(f"each entry of '{kind}' must be a mapping",
                                    file.locator.at(where))  # fmt: skip
            key = next(iter(entry), None)
            if len(entry) == 1 and isinstance(key, str) and key.lstrip().startswith("${{"):
                if _ELSE.search(key):
                    self.else_skipped += 1
                    continue
                if _EACH.search(key):
                    self.each += 1
                else:
                    self.if_taken += 1
                inner = entry[key]
                inner = [inner] if isinstance(inner, dict) else inner
                out.extend(self.expand(inner, kind, file, (*where, key), params, depth))
                continue
            item = _Item(entry, file, where, params)
            single = "stage" if kind == "stages" else None
            if "template" in entry and not (single and single in entry) and \
                    "job" not in entry and "deployment" not in entry:  # fmt: skip
                loaded = self.template(item, depth)
                if loaded is not None:
                    out.extend(self.expand(loaded.body.get(kind), kind, loaded.file, (kind,),
                                           loaded.params, depth + 1))  # fmt: skip
                    self.check_kind(loaded, kind)
                continue
            out.append(item)
        return out

    def check_kind(self, loaded: _Item, kind: str) -> None:
        if kind not in loaded.body:
            other = next((k for k in ("stages", "jobs", "steps") if k in loaded.body), None)
            what = f"it holds '{other}'" if other else "it holds none"
            raise WorkloadError(f"a template used in '{kind}' must hold '{kind}'; {what}",
                                Location(loaded.file.source, 1))  # fmt: skip

    def template(self, item: _Item, depth: int) -> _Item | None:
        """The template ``item`` names, with its parameters; ``None`` for one in another
        repository."""
        ref = item.body.get("template")
        where = item.at("template")
        if not isinstance(ref, str) or not ref:
            raise WorkloadError("'template' must be a file path", where)
        ref = self.fill(ref, item.params)
        if "@" in ref:
            self.remote.append(short(ref))
            return None
        self.expansions += 1
        if self.expansions > MAX_EXPANSIONS:
            raise WorkloadError(f"templates are used more than {MAX_EXPANSIONS:,} times in one "
                                "pipeline", where)  # fmt: skip
        if depth >= MAX_NESTING:
            raise WorkloadError(f"templates nest deeper than Azure's {MAX_NESTING} levels", where)
        refuse_nul(ref, ref, where)
        target = self.root / ref.lstrip("/") if ref.startswith("/") else item.file.folder / ref
        key = os.path.realpath(target)
        if key not in self.parsed:
            if len(self.parsed) >= MAX_TEMPLATE_FILES:
                raise WorkloadError(f"more than Azure's {MAX_TEMPLATE_FILES} template files",
                                    where)  # fmt: skip
            try:
                data = self.reads.read(target, ref, where)
            except MissingInput:
                raise WorkloadError(f"template {short(ref)!r} does not exist", where) from None
            source = os.path.relpath(key)
            text = decode(data, source)
            file = _File(source, Locator(text, source), Path(key).parent)
            self.parsed[key] = (file, load_yaml(text, source, "a template"))
        file, doc = self.parsed[key]
        if not isinstance(doc, dict):
            raise WorkloadError("a template must be a mapping", Location(file.source, 1))
        params = _defaults(doc.get("parameters"))
        given = item.body.get("parameters")
        if isinstance(given, dict):
            params.update({str(k): v for k, v in given.items()})
        return _Item(doc, file, (), params)

    def fill(self, text: str, params: dict[str, Any]) -> str:
        """``text`` with ``${{ parameters.name }}`` replaced by scalar values it has; other
        expressions stay (noted)."""
        if "${{" not in text:
            return text

        def value(match: re.Match[str]) -> str:
            found = scalar(params.get(match[1]))
            return match[0] if found is None else found

        filled = _PARAMETER.sub(value, text)
        if "${{" in filled:
            self.opaque.append(repr(short(filled, 80)))
        return filled

    def names(self, raw: Any, item: _Item, what: str) -> list[tuple[str, Location]] | None:
        """``dependsOn`` as (name, where) pairs; ``None`` when it is absent. A whole
        ``${{ parameters.x }}`` takes the parameter's value (a name or a list); entries under
        ``${{ if }}`` are taken and ``${{ else }}`` ones skipped, as in :meth:`expand`; a name
        that still holds an expression is left out (noted)."""
        if raw is None:
            return None
        where = item.at("dependsOn")
        out: list[tuple[str, Location]] = []
        stack: list[tuple[Any, Location]] = [(raw, where)]
        while stack:
            value, spot = stack.pop()
            if isinstance(value, str):
                whole = _PARAMETER.fullmatch(value.strip())
                if whole and whole[1] in item.params and not isinstance(
                        item.params[whole[1]], str):  # fmt: skip
                    stack.append((item.params[whole[1]] or [], spot))
                    continue
                name = self.fill(value, item.params).strip()
                if name and "${{" not in name:
                    out.append((name, spot))
            elif isinstance(value, list):
                stack.extend((v, item.at("dependsOn", k)) for k, v in reversed(list(
                    enumerate(value))))  # fmt: skip
            elif isinstance(value, dict) and len(value) == 1 and \
                    str(next(iter(value))).lstrip().startswith("${{"):  # fmt: skip
                key = str(next(iter(value)))
                if _ELSE.search(key):
                    self.else_skipped += 1
                else:
                    self.if_taken += 1
                    stack.append((value[key], spot))
            else:
                raise WorkloadError(f"{what}: 'dependsOn' must be a name or a list of names",
                                    spot)  # fmt: skip
        return out

    # --- stages and jobs ---------------------------------------------------------------

    def stages(self, top: _Item) -> list[_Stage]:
        body = top.body
        if "stages" in body:
            out = []
            seen: dict[str, _Item] = {}
            for item in self.expand(body["stages"], "stages", top.file, (*top.path, "stages"),
                                    top.params, 0):  # fmt: skip
                raw = item.body.get("stage")
                name = self.fill(raw, item.params) if isinstance(raw, str) else None
                if not name:
                    raise WorkloadError("each stage needs 'stage', its name", item.at())
                if name in seen:
                    raise WorkloadError(f"stage '{short(name)}' is defined twice",
                                        item.at("stage"))  # fmt: skip
                seen[name] = item
                stage = _Stage(name, self.names(item.body.get("dependsOn"), item,
                                                f"stage '{short(name)}'"), item=item)  # fmt: skip
                stage.jobs = self.jobs(item.body.get("jobs"), item, (*item.path, "jobs"))
                out.append(stage)
            return out
        if "jobs" in body:
            return [_Stage(None, None, self.jobs(body["jobs"], top, (*top.path, "jobs")))]
        if "steps" in body:
            return [_Stage(None, None, [_Job("job", self.legs("job", top, True), None, top)])]
        raise WorkloadError("not an Azure pipeline: expected 'stages', 'jobs' or 'steps'",
                            Location(top.file.source, 1))  # fmt: skip

    def jobs(self, entries: Any, owner: _Item, path: Path_) -> list[_Job]:
        out: list[_Job] = []
        seen: set[str] = set()
        for item in self.expand(entries, "jobs", owner.file, path, owner.params, 0):
            raw = item.body.get("job", item.body.get("deployment"))
            name = self.fill(raw, item.params) if isinstance(raw, str) else None
            if not name:
                raise WorkloadError("each job needs 'job' (or 'deployment'), its name",
                                    item.at())  # fmt: skip
            if name in seen:
                raise WorkloadError(
                    f"job '{short(name)}' is defined twice in one stage",
                    item.at("job" if "job" in item.body else "deployment"),
                )
            seen.add(name)
            legs = self.legs(name, item)
            out.append(_Job(name, legs, self.names(item.body.get("dependsOn"), item,
                                                   f"job '{short(name)}'"), item))  # fmt: skip
        return out

    def legs(self, name: str, item: _Item, top: bool = False) -> list[str]:
        strategy = item.body.get("strategy")
        if not isinstance(strategy, dict) or not (top or "job" in item.body):
            self.count += 1
            self.plan.check(self.count)
            return [name]
        if "maxParallel" in strategy:
            self.max_parallel.append(repr(short(name)))
        matrix = strategy.get("matrix")
        parallel = strategy.get("parallel")
        if matrix is not None:
            if isinstance(matrix, str):
                self.runtime_matrix.append(repr(short(name)))
                legs = [name]
            elif isinstance(matrix, dict) and matrix:
                self.plan.check(self.count + len(matrix))
                legs = [f"{name} {short(str(leg))}" for leg in matrix]
            else:
                raise WorkloadError(f"job '{short(name)}': 'strategy.matrix' must map leg names "
                                    "to variables", item.at("strategy", "matrix"))  # fmt: skip
        elif parallel is not None:
            if isinstance(parallel, str):
                parallel = self.fill(parallel, item.params)
                parallel = int(parallel) if parallel.isdigit() else None
            if not isinstance(parallel, int) or isinstance(parallel, bool) or parallel < 1:
                raise WorkloadError(
                    f"job '{short(name)}': 'strategy.parallel' must be a number of at least 1",
                    item.at("strategy", "parallel"),
                )
            self.plan.check(self.count + parallel)
            legs = [f"{name} {i}/{parallel}" for i in range(1, parallel + 1)] \
                if parallel > 1 else [name]  # fmt: skip
        else:
            legs = [name]
        self.count += len(legs)
        return legs

    def build(self, stages: list[_Stage], explicit: bool) -> None:
        """Add the steps: jobs, the joins of matrices and of stages others wait for."""
        by_name = {s.name: s for s in stages if s.name is not None}
        needed: set[str] = set()
        upstream: list[list[str]] = []
        for k, stage in enumerate(stages):
            before: list[str] = []
            if stage.depends is None:
                previous = stages[k - 1].name if k else None
                before = [previous] if previous else []
            else:
                for target, where in stage.depends:
                    if target in by_name:
                        before.append(target)
                    elif self.remote:
                        self.dropped.append(repr(short(target)))
                    else:
                        raise WorkloadError(f"stage '{short(stage.name)}' depends on "
                                            f"'{short(target)}', which is not a stage"
                                            f"{suggest(target, by_name)}", where)  # fmt: skip
            upstream.append(before)
            needed.update(upstream[-1])
        for stage, before in zip(stages, upstream, strict=True):
            prefix = f"{stage.name}/" if explicit else ""
            jobs = {j.name: j for j in stage.jobs}
            joins: set[str] = set()
            for job in stage.jobs:
                needs: list[str] = []
                for target, where in job.depends or []:
                    other = jobs.get(target)
                    if other is None:
                        if self.remote:
                            self.dropped.append(repr(short(target)))
                            continue
                        raise WorkloadError(f"job '{short(job.name)}' depends on "
                                            f"'{short(target)}', which is not a job of its stage"
                                            f"{suggest(target, jobs)}", where)  # fmt: skip
                    if len(other.legs) == 1:
                        needs.append(prefix + other.legs[0])
                    else:
                        needs.append(prefix + other.name)
                        joins.add(other.name)
                if not needs:  # a job that waits for none of its stage waits for the stage's
                    needs.extend(before)  # upstream (others do through what they wait for)
                for leg in job.legs:
                    self.plan.add(prefix + leg, 1, needs)
            for name in sorted(joins):
                self.plan.add(prefix + name, 0, [prefix + leg for leg in jobs[name].legs],
                              connector=True)  # fmt: skip
            if stage.name is not None and stage.name in needed:
                legs = [prefix + leg for job in stage.jobs for leg in job.legs]
                self.plan.add(stage.name, 0, legs, connector=True)


def _defaults(raw: Any) -> dict[str, Any]:
    """A template's parameter defaults: ``[{name, default}, ...]`` or ``{name: default}``."""
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    out: dict[str, Any] = {}
    for entry in as_list(raw):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            out[entry["name"]] = entry.get("default")
    return out
