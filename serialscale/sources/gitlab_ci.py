"""GitLab CI pipelines (``.gitlab-ci.yml``): one step per job (per ``parallel`` instance).

- Jobs are the top-level mappings that are not keywords; hidden jobs (``.name``) are
  templates, not steps. ``extends`` (a name or a list) merges templates in order, deeply, the
  job's own keys last; the ``!reference [job, key]`` tag is resolved.
- ``stage`` (default ``test``) orders jobs by ``stages`` (default ``.pre, build, test,
  deploy, .post``): a job without ``needs`` needs every job of the earlier stages. ``needs``
  (names, or maps with ``job:`` and optionally ``parallel: {matrix: [...]}``) replaces that;
  ``needs: []`` starts at once.
- ``parallel: N`` makes ``job 1/N`` .. ``job N/N``; ``parallel: {matrix: [...]}`` one job per
  combination, named ``job: [v1, v2]``. Needing such a job needs all its instances (through a
  zero-cost join named like the job), unless the need names a matrix instance.
- ``include:`` of local files (``local: path`` or a path string) is read, relative to the
  folder of ``.gitlab-ci.yml``; remote, project and template includes cannot be fetched: they
  are noted, and the rest is analyzed.
- Cost 1 per job (unit ``jobs``).
"""

from __future__ import annotations

import itertools
from copy import deepcopy
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, WorkloadError, suggest
from ..limits import DEFAULT_LIMITS, Limits
from .parsing import Locator, decode
from .plan import StepPlan
from .secondary import MissingInput, SecondaryReads

KEYWORDS = {"stages", "variables", "default", "include", "workflow", "image", "services",
            "before_script", "after_script", "cache", "types"}  # fmt: skip
DEFAULT_STAGES = [".pre", "build", "test", "deploy", ".post"]
MAX_INCLUDES = 50


class _Reference:
    def __init__(self, path: list[Any]) -> None:
        self.path = path


class _Loader(yaml.SafeLoader):
    """The safe loader, plus GitLab's ``!reference [job, key, ...]`` tag."""


def _reference(loader: _Loader, node: yaml.Node) -> _Reference:
    return _Reference(loader.construct_sequence(node, deep=True))  # type: ignore[arg-type]


_Loader.add_constructor("!reference", _reference)


def _load(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise WorkloadError(f"YAML syntax error: {exc.problem}",
                            Location(source, mark.line + 1 if mark else None,
                                     mark.column + 1 if mark else None)) from None  # fmt: skip
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise WorkloadError(f"YAML error: {exc}", Location(source)) from None


def _merge(base: Any, over: Any) -> Any:
    """GitLab's deep merge of ``extends``: mappings merge, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return deepcopy(over)


def read_pipeline(path: Path, data: bytes,
                  limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The steps of the pipeline in ``path`` and the notes. Included files are read through
    :class:`SecondaryReads` (inside the project, within ``limits``)."""
    source = str(path)
    text = decode(data, source)
    locator = Locator(text, source)
    doc = _load(text, source)
    if not isinstance(doc, dict):
        raise WorkloadError("a GitLab CI file must be a mapping of jobs", Location(source, 1))
    notes: list[str] = []
    reads = SecondaryReads.for_input(path, limits, path.parent)
    doc = _includes(doc, path.parent, source, notes, 0, reads, locator)
    stages = doc.get("stages", DEFAULT_STAGES)
    if not isinstance(stages, list) or not all(isinstance(s, str) for s in stages):
        raise WorkloadError("'stages' must be a list of names", locator.at(("stages",)))
    stages = [s for s in DEFAULT_STAGES[:1] if s not in stages] + stages + \
        [s for s in DEFAULT_STAGES[-1:] if s not in stages]  # fmt: skip
    raw_jobs = {str(k): v for k, v in doc.items() if str(k) not in KEYWORDS}
    jobs: dict[str, dict[str, Any]] = {}
    for name, job in raw_jobs.items():
        if name.startswith("."):
            continue
        if not isinstance(job, dict):
            raise WorkloadError(f"job '{name}' must be a mapping", locator.at((name,), name))
        resolved = _resolve(name, job, raw_jobs, locator, set())
        jobs[name] = _references(resolved, raw_jobs, locator, name)
    if not jobs:
        raise WorkloadError("no jobs found (hidden jobs, starting with '.', are templates)",
                            Location(source))  # fmt: skip
    plan = StepPlan(limits=limits, source=source)
    instances = {name: _instances(name, job, locator) for name, job in jobs.items()}
    by_stage: dict[str, list[str]] = {}
    for name, job in jobs.items():
        stage = job.get("stage", "test")
        if stage not in stages:
            raise WorkloadError(
                f"job '{name}': stage '{stage}' is not in 'stages'{suggest(str(stage), stages)}",
                locator.at((name, "stage"), name),
            )
        by_stage.setdefault(stage, []).append(name)
    order = sorted(jobs, key=lambda n: stages.index(jobs[n].get("stage", "test")))
    for name in order:
        job = jobs[name]
        if "needs" in job:
            needs = _needs(name, job["needs"], jobs, instances, locator)
        else:
            position = stages.index(job.get("stage", "test"))
            needs = [n for s in stages[:position] for n in by_stage.get(s, [])]
        labels = instances[name]
        for label in labels:
            plan.add(label, 1, needs)
        if labels != [name]:
            plan.add(name, 0, labels, connector=True)
    return plan, notes


def _includes(doc: dict[str, Any], folder: Path, source: str, notes: list[str],
              depth: int, reads: SecondaryReads, locator: Locator) -> dict[str, Any]:  # fmt: skip
    include = doc.get("include")
    if include is None:
        return doc
    if depth > MAX_INCLUDES:
        raise WorkloadError(f"includes nested deeper than {MAX_INCLUDES}", Location(source))
    merged: dict[str, Any] = {}
    for item in include if isinstance(include, list) else [include]:
        local = item if isinstance(item, str) else (item or {}).get("local") \
            if isinstance(item, dict) else None  # fmt: skip
        if not isinstance(local, str) or "://" in local:
            notes.append(f"include {item!r} cannot be fetched here; its jobs are not counted")
            continue
        file = folder / local.lstrip("/")
        try:
            data = reads.read(file, local, locator.at(("include",)))
        except MissingInput:
            notes.append(f"included file {local} is missing; its jobs are not counted")
            continue
        text = decode(data, str(file))
        inner = _load(text, str(file))
        if isinstance(inner, dict):
            merged = _merge(merged, _includes(inner, folder, str(file), notes, depth + 1, reads,
                                              Locator(text, str(file))))  # fmt: skip
    return _merge(merged, {k: v for k, v in doc.items() if k != "include"})


def _resolve(name: str, job: dict[str, Any], raw: dict[str, Any], locator: Locator,
             seen: set[str]) -> dict[str, Any]:  # fmt: skip
    extends = job.get("extends")
    if extends is None:
        return job
    parents = extends if isinstance(extends, list) else [extends]
    merged: dict[str, Any] = {}
    for parent in parents:
        if parent not in raw:
            raise WorkloadError(
                f"job '{name}' extends '{parent}', which is not defined{suggest(str(parent), raw)}",
                locator.at((name, "extends"), name),
            )
        if parent in seen:
            raise WorkloadError(f"job '{name}': 'extends' loops through '{parent}'",
                                locator.at((name, "extends"), name))  # fmt: skip
        base = raw[parent] if isinstance(raw[parent], dict) else {}
        merged = _merge(merged, _resolve(parent, base, raw, locator, seen | {parent}))
    own = {k: v for k, v in job.items() if k != "extends"}
    return _merge(merged, own)


def _references(value: Any, raw: dict[str, Any], locator: Locator, job: str) -> Any:
    if isinstance(value, _Reference):
        target: Any = raw
        for part in value.path:
            if not isinstance(target, dict) or part not in target:
                raise WorkloadError(f"job '{job}': !reference {value.path} names nothing",
                                    locator.at((job,), job))  # fmt: skip
            target = target[part]
        return _references(target, raw, locator, job)
    if isinstance(value, dict):
        return {k: _references(v, raw, locator, job) for k, v in value.items()}
    if isinstance(value, list):
        return [_references(v, raw, locator, job) for v in value]
    return value


def _combinations(matrix: Any, name: str, locator: Locator) -> list[list[Any]]:
    if not isinstance(matrix, list):
        raise WorkloadError(f"job '{name}': 'parallel: matrix' must be a list",
                            locator.at((name, "parallel"), name))  # fmt: skip
    combos: list[list[Any]] = []
    for entry in matrix:
        if not isinstance(entry, dict):
            continue
        values = [v if isinstance(v, list) else [v] for v in entry.values()]
        combos.extend(list(c) for c in itertools.product(*values))
    return combos


def _instances(name: str, job: dict[str, Any], locator: Locator) -> list[str]:
    parallel = job.get("parallel")
    if parallel is None:
        return [name]
    if isinstance(parallel, int) and not isinstance(parallel, bool):
        if not 1 <= parallel <= 200:
            raise WorkloadError(f"job '{name}': parallel must be 1 to 200",
                                locator.at((name, "parallel"), name))  # fmt: skip
        return [f"{name} {i}/{parallel}" for i in range(1, parallel + 1)]
    if isinstance(parallel, dict) and "matrix" in parallel:
        combos = _combinations(parallel["matrix"], name, locator)
        return [f"{name}: [{', '.join(str(v) for v in c)}]" for c in combos] or [name]
    raise WorkloadError(f"job '{name}': parallel must be a number or {{matrix: [...]}}",
                        locator.at((name, "parallel"), name))  # fmt: skip


def _needs(name: str, raw: Any, jobs: dict[str, Any], instances: dict[str, list[str]],
           locator: Locator) -> list[str]:  # fmt: skip
    if not isinstance(raw, list):
        raise WorkloadError(f"job '{name}': 'needs' must be a list",
                            locator.at((name, "needs"), name))  # fmt: skip
    out: list[str] = []
    for k, need in enumerate(raw):
        target = need.get("job") if isinstance(need, dict) else need
        if not isinstance(target, str):
            raise WorkloadError(f"job '{name}': each need must be a job name or {{job: name}}",
                                locator.at((name, "needs", k), name))  # fmt: skip
        if target not in jobs:
            if isinstance(need, dict) and need.get("optional"):
                continue
            raise WorkloadError(
                f"job '{name}' needs '{target}', which is not a job{suggest(target, jobs)}",
                locator.at((name, "needs", k), name),
            )
        matrix = need.get("parallel", {}).get("matrix") if isinstance(need, dict) and \
            isinstance(need.get("parallel"), dict) else None  # fmt: skip
        if matrix is not None:
            for combo in _combinations(matrix, name, locator):
                label = f"{target}: [{', '.join(str(v) for v in combo)}]"
                if label not in instances[target]:
                    raise WorkloadError(f"job '{name}' needs {label!r}, which the matrix of "
                                        f"'{target}' does not make",
                                        locator.at((name, "needs", k), name))  # fmt: skip
                out.append(label)
        else:
            out.append(target)  # the job, or the join of its instances
    return out
