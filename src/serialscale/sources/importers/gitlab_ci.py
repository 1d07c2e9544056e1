"""GitLab CI pipelines (``.gitlab-ci.yml``): one step per job (per ``parallel`` instance).

- Jobs are the top-level mappings that are not keywords; hidden jobs (``.name``) are
  templates, not steps. ``extends`` (a name or a list) merges templates in order, deeply, the
  job's own keys last (at most GitLab's 11 levels); ``!reference [job, key, ...]`` is
  resolved (at most GitLab's 10 levels of nesting).
- ``stage`` (default ``test``) orders jobs by ``stages`` (default ``.pre, build, test,
  deploy, .post``): a job without ``needs`` needs every job of the earlier stages. ``needs``
  (names, or maps with ``job:`` and optionally ``parallel: {matrix: [...]}``) replaces that;
  ``needs: []`` starts at once.
- ``parallel: N`` makes ``job 1/N`` .. ``job N/N``; ``parallel: {matrix: [...]}`` one job per
  combination, named ``job: [v1, v2]`` (at most GitLab's 200 per job, counted before they are
  made). Needing such a job needs all its instances (through a zero-cost join named like the
  job); a need naming one instance (``"job: [v1, v2]"``, or ``parallel: matrix`` in the need)
  needs that instance.
- ``include:`` of local files (``local: path``, or a path string; wildcards ``*`` and ``**``
  as GitLab expands them) is read, relative to the folder of ``.gitlab-ci.yml``, each file
  once, at most GitLab's 150; includes with ``rules`` are taken as if the rules matched (with
  a note). ``remote``, ``project``, ``template`` and ``component`` includes cannot be read
  here: they are noted, and a job that extends or references a template only they can define
  is analyzed with what is known (one note names the includes and the missing names).
- Cost 1 per job (unit ``jobs``).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...base.errors import Location, WorkloadError, suggest
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import plural_of
from ..parsing import Locator, decode
from ..secondary import MissingInput, SecondaryReads, refuse_nul
from ..step_plan import StepPlan
from .yaml_guard import yaml_documents

KEYWORDS = {"stages", "variables", "default", "include", "workflow", "image", "services",
            "before_script", "after_script", "cache", "types", "spec"}  # fmt: skip
DEFAULT_STAGES = [".pre", "build", "test", "deploy", ".post"]
#: GitLab's documented limits.
MAX_INCLUDES = 150
MAX_EXTENDS_DEPTH = 11
MAX_REFERENCE_DEPTH = 10
MAX_PARALLEL = 200
#: Needs one job may list (GitLab's default is 50; self-managed instances may raise it).
MAX_NEEDS = 10_000
#: Files a wildcard include may look at while matching.
MAX_WILDCARD_SCAN = 100_000
#: Steps of work merging included documents may take (each node of each merge is one).
MAX_MERGE_WORK = 5_000_000
_UNREADABLE = ("project", "remote", "template", "component")


class _Reference:
    def __init__(self, path: list[Any]) -> None:
        self.path = path


class _Loader(yaml.SafeLoader):
    """The safe loader, plus GitLab's ``!reference [job, key, ...]`` tag."""


def _reference(loader: _Loader, node: yaml.Node) -> _Reference:
    return _Reference(loader.construct_sequence(node, deep=True))  # type: ignore[arg-type]


_Loader.add_constructor("!reference", _reference)


def _load(text: str, source: str) -> Any:
    """The document in ``text`` (a ``spec:`` header document before ``---`` is skipped)."""
    try:  # the reader checks every character as the loader is made
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise WorkloadError(f"not YAML: character #x{exc.character:04x} is not allowed",
                            Location(source, line, column)) from None  # fmt: skip
    docs = yaml_documents(loader, text, source)
    if len(docs) == 2 and isinstance(docs[0], dict) and set(docs[0]) == {"spec"}:
        return docs[1]
    if len(docs) > 1:
        raise WorkloadError("more than one YAML document ('---'); a GitLab CI file has one (or "
                            "a 'spec:' header, then the configuration)",
                            Location(source))  # fmt: skip
    return docs[0] if docs else None


@dataclass
class _Origin:
    """The file a top-level key was read from, to locate errors there."""

    source: str
    locator: Locator


@dataclass
class _Context:
    source: str
    root: Path
    reads: SecondaryReads
    notes: list[str]
    included: set[str] = field(default_factory=set)
    unreadable: list[str] = field(default_factory=list)
    with_rules: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    merge_work: int = 0


def _merge(base: Any, over: Any, context: _Context | None = None) -> Any:
    """GitLab's deep merge: mappings merge, anything else is replaced (values are shared,
    never mutated)."""
    if isinstance(base, dict) and isinstance(over, dict):
        if context is not None:
            context.merge_work += len(over)
            if context.merge_work > MAX_MERGE_WORK:
                raise WorkloadError(f"merging the included files takes more than "
                                    f"{MAX_MERGE_WORK:,} steps",
                                    Location(context.source))  # fmt: skip
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v, context) if k in base else v
        return out
    return over


def read_pipeline(path: Path, data: bytes,
                  limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The steps of the pipeline in ``path`` and the notes. Included files are read through
    :class:`SecondaryReads` (inside the project, within ``limits``)."""
    try:
        return _read(path, data, limits)
    except MemoryError:
        message = "the pipeline is too large to read in memory"  # raised once it is freed
    except RecursionError:
        message = "the pipeline is nested too deeply"
    raise WorkloadError(message, Location(str(path)))


def _read(path: Path, data: bytes, limits: Limits) -> tuple[StepPlan, list[str]]:
    source = str(path)
    text = decode(data, source)
    locator = Locator(text, source)
    doc = _load(text, source)
    if not isinstance(doc, dict):
        raise WorkloadError("a GitLab CI file must be a mapping of jobs", Location(source, 1))
    notes: list[str] = []
    context = _Context(source, path.parent, SecondaryReads.for_input(path, limits, path.parent),
                       notes)  # fmt: skip
    context.included.add(os.path.realpath(path))
    origins: dict[str, _Origin] = {}
    doc = _includes(doc, _Origin(source, locator), context, origins, 0)
    if context.with_rules:
        notes.append(f"{_listed(context.with_rules)} included as if their rules matched")
    if context.missing_files:
        notes.append(f"included {_listed(context.missing_files)} missing; their jobs are not "
                     "counted")  # fmt: skip
    main = _Origin(source, locator)
    stages = doc.get("stages", DEFAULT_STAGES)
    if not isinstance(stages, list) or not all(isinstance(s, str) for s in stages):
        where = origins.get("stages", main)
        raise WorkloadError("'stages' must be a list of names", where.locator.at(("stages",)))
    stages = [s for s in DEFAULT_STAGES[:1] if s not in stages] + stages + \
        [s for s in DEFAULT_STAGES[-1:] if s not in stages]  # fmt: skip
    raw_jobs = {str(k): v for k, v in doc.items() if str(k) not in KEYWORDS}
    jobs = _Jobs(raw_jobs, origins, main, bool(context.unreadable))
    if context.unreadable:
        _missing_references(raw_jobs, jobs.missing)
    names = [n for n in raw_jobs if not n.startswith(".")]
    resolved: dict[str, dict[str, Any]] = {}
    for name in names:
        if not isinstance(raw_jobs[name], dict):
            raise WorkloadError(f"job '{name}' must be a mapping", jobs.at(name, (), key=True))
        resolved[name] = {key: jobs.value(name, key) for key in ("stage", "needs", "parallel")}
    if not resolved:
        raise WorkloadError("no jobs found (hidden jobs, starting with '.', are templates)",
                            Location(source))  # fmt: skip
    plan = StepPlan(limits=limits, source=source)
    instances: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    total = 0
    for name, job in resolved.items():
        labels = _instances(name, job.get("parallel"), jobs)
        total += len(labels) + (len(labels) > 1)
        plan.check(total)
        for label in labels:
            if label in owner or (label != name and label in resolved):
                raise WorkloadError(f"job '{name}' makes the job '{label}', which is already "
                                    "a job", jobs.at(name, ("parallel",)))  # fmt: skip
            owner[label] = name
        instances[name] = labels
    by_stage: dict[str, list[str]] = {}
    guessed: list[str] = []
    for name, job in resolved.items():
        stage = job.get("stage")
        stage = "test" if stage is None else stage
        if stage not in stages and job.get("stage") is None and jobs.incomplete(name):
            guessed.append(name)  # a template we cannot read may set it
            stage = stages[-2]
        if not isinstance(stage, str) or stage not in stages:
            shown = _short(stage)
            raise WorkloadError(
                f"job '{name}': stage '{shown}' is not in 'stages'{suggest(shown, stages)}",
                jobs.at(name, ("stage",)),
            )
        job["stage"] = stage
        by_stage.setdefault(stage, []).append(name)
    order = sorted(resolved, key=lambda n: stages.index(resolved[n]["stage"]))
    external: list[str] = []
    dropped: list[str] = []
    for name in order:
        job = resolved[name]
        if job.get("needs") is not None:
            needs = _needs(name, job["needs"], resolved, instances, owner, jobs, limits,
                           external, dropped)  # fmt: skip
        else:
            position = stages.index(job["stage"])
            needs = [n for s in stages[:position] for n in by_stage.get(s, [])]
        labels = instances[name]
        for label in labels:
            plan.add(label, 1, needs)
        if labels != [name]:
            plan.add(name, 0, labels, connector=True)
    if context.unreadable:
        note = (f"the includes {_listed(context.unreadable)} cannot be fetched here "
                "(serialscale reads only local files): the jobs they define are not "
                "counted")  # fmt: skip
        if jobs.missing:
            note += (f", and {_listed([repr(m) for m in sorted(jobs.missing)], 'template')} "
                     "that jobs extend or reference, defined in none of the files read, are "
                     "taken as empty")  # fmt: skip
        if guessed:
            note += (f"; the stage of {_listed([repr(g) for g in guessed])} (not 'test') is "
                     f"taken as the last stage, '{stages[-2]}'")  # fmt: skip
        notes.insert(0, note)
    if dropped:
        notes.append("needs of jobs defined in none of the files read are left out (presumably "
                     "defined by the includes that cannot be fetched): "
                     f"{', '.join(repr(d) for d in sorted(set(dropped)))}")  # fmt: skip
    if external:
        notes.append(f"needs on other pipelines or projects are left out: "
                     f"{', '.join(sorted(set(external)))}")  # fmt: skip
    return plan, notes


def _listed(items: list[str], noun: str = "") -> str:
    items = list(dict.fromkeys(items))
    shown = ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
    if noun:
        return f"the {noun if len(items) == 1 else plural_of(noun)} {shown}"
    return shown


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = "".join(c if c.isprintable() else " " for c in text[:160])
    return text


# --- includes --------------------------------------------------------------------------------


def _describe(item: dict[str, Any]) -> str:
    for key in _UNREADABLE:
        if key in item:
            what = f"{key} {_short(item[key])}"
            file = item.get("file")
            if key == "project" and file is not None:
                files = file if isinstance(file, list) else [file]
                what += f" ({', '.join(_short(f) for f in files)})"
            return what
    return f"include {_short(item)}"


def _includes(doc: dict[str, Any], origin: _Origin, context: _Context,
              origins: dict[str, _Origin], depth: int) -> dict[str, Any]:  # fmt: skip
    """``doc`` with the files it includes merged under it (recorded: which file each
    top-level key came from, for locating errors)."""
    include = doc.get("include")
    mine = {k: v for k, v in doc.items() if k != "include"}
    if include is None:
        for key in mine:
            origins[str(key)] = origin
        return mine
    merged: dict[str, Any] = {}
    items = include if isinstance(include, list) else [include]
    for k, item in enumerate(items):
        where = origin.locator.at(("include", k) if isinstance(include, list) else ("include",))
        if isinstance(item, str):
            local: Any = None if "://" in item else item
            if local is None:
                context.unreadable.append(f"remote {_short(item)}")
                continue
        elif isinstance(item, dict):
            if any(key in item for key in _UNREADABLE):
                context.unreadable.append(_describe(item))
                continue
            local = item.get("local")
            if not isinstance(local, str):
                raise WorkloadError("an include needs 'local', 'project', 'remote', 'template' "
                                    "or 'component'", where)  # fmt: skip
            if "rules" in item:
                context.with_rules.append(f"include {_short(local)}")
        else:
            raise WorkloadError("each include must be a file name or a mapping "
                                "(local, project, remote, template, component)",
                                where)  # fmt: skip
        refuse_nul(local, local, where)
        for file, written in _local_files(local, context, where):
            real = os.path.realpath(file)
            if real in context.included:
                continue  # GitLab reads a file once, however often it is included
            context.included.add(real)
            if len(context.included) - 1 > MAX_INCLUDES:
                raise WorkloadError(f"more than {MAX_INCLUDES} included files (GitLab's limit)",
                                    where)  # fmt: skip
            try:
                data = context.reads.read(file, written, where)
            except MissingInput:
                context.missing_files.append(_short(written))
                continue
            text = decode(data, str(file))
            inner = _load(text, str(file))
            if inner is None:
                continue
            if not isinstance(inner, dict):
                raise WorkloadError("an included file must be a mapping of jobs",
                                    Location(str(file), 1))  # fmt: skip
            sub = _includes(inner, _Origin(str(file), Locator(text, str(file))), context,
                            origins, depth + 1)  # fmt: skip
            merged = _merge(merged, sub, context)
    for key in mine:
        origins[str(key)] = origin
    return _merge(merged, mine, context)


def _local_files(written: str, context: _Context, where: Location) -> list[tuple[Path, str]]:
    """The files a local include names: itself, or what its wildcards match (sorted, YAML
    files only, as GitLab expands them: ``*`` within a folder, ``**`` across folders)."""
    relative = written.lstrip("/")
    if "*" not in relative:
        return [(context.root / relative, written)]
    parts = relative.split("/")
    fixed = list(itertools.takewhile(lambda p: "*" not in p, parts))
    base = context.root.joinpath(*fixed) if fixed else context.root
    base = context.reads.resolve(base, written, where)  # outside the project: an error
    if not base.is_dir():
        return []
    pattern = _compile_glob(relative)
    found: list[str] = []
    seen = 0
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in files:
            seen += 1
            if seen > MAX_WILDCARD_SCAN:
                raise WorkloadError(f"the wildcard include {written!r} would look at more than "
                                    f"{MAX_WILDCARD_SCAN:,} files", where)  # fmt: skip
            if not name.endswith((".yml", ".yaml")):
                continue
            rel = os.path.relpath(os.path.join(folder, name), context.root).replace(os.sep, "/")
            if _glob_match(pattern, rel):
                found.append(rel)
    return [(context.root / rel, "/" + rel) for rel in sorted(found)]


_STAR, _DSTAR = -1, -2


def _compile_glob(pattern: str) -> list[int | str]:
    """Tokens of a GitLab wildcard: literal characters, ``*`` (not across ``/``) and ``**``
    (across ``/``); runs of stars collapse (``***`` is ``**`` followed by ``*``: ``**``)."""
    tokens: list[int | str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "*":
            j = i
            while j < len(pattern) and pattern[j] == "*":
                j += 1
            star = _DSTAR if j - i >= 2 else _STAR
            if tokens and tokens[-1] in (_STAR, _DSTAR):
                tokens[-1] = _DSTAR if _DSTAR in (star, tokens[-1]) else _STAR
            else:
                tokens.append(star)
            i = j
        else:
            tokens.append(pattern[i])
            i += 1
    return tokens


def _glob_match(tokens: list[int | str], path: str) -> bool:
    """Whether ``path`` matches: a set of pattern positions advanced one character at a time
    (time proportional to pattern length times path length, whatever the stars)."""
    n = len(tokens)

    def closure(states: set[int]) -> set[int]:
        out = set(states)
        for i in sorted(states):
            j = i
            while j < n and tokens[j] in (_STAR, _DSTAR):
                j += 1
                out.add(j)
        return out

    states = closure({0})
    for c in path:
        step: set[int] = set()
        for i in states:
            if i >= n:
                continue
            token = tokens[i]
            if token == _DSTAR or (token == _STAR and c != "/"):
                step.add(i)
            elif token == c:
                step.add(i + 1)
        if not step:
            return False
        states = closure(step)
    return n in states


# --- jobs, extends and !reference ------------------------------------------------------------


class _Jobs:
    """The top-level entries, with ``extends`` and ``!reference`` resolved key by key and
    memoised (each (job, key) once), so chains and doubling cost what they write."""

    def __init__(self, raw: dict[str, Any], origins: dict[str, _Origin], main: _Origin,
                 tolerant: bool) -> None:  # fmt: skip
        self.raw = raw
        self.origins = origins
        self.main = main
        self.tolerant = tolerant  # unreadable includes may define missing templates
        self.missing: set[str] = set()
        self._values: dict[tuple[str, str], Any] = {}
        self._busy: set[tuple[str, str]] = set()
        self._depth = 0  # !reference tags being resolved, one inside another
        self._incomplete: dict[str, bool] = {}

    def at(self, job: str, path: tuple[str | int, ...], key: bool = False) -> Location:
        origin = self.origins.get(job, self.main)
        return origin.locator.at((job, *path), job, key=key)

    def _parents(self, name: str) -> list[str]:
        job = self.raw.get(name)
        extends = job.get("extends") if isinstance(job, dict) else None
        if extends is None:
            return []
        parents = extends if isinstance(extends, list) else [extends]
        if not all(isinstance(p, str) for p in parents):
            raise WorkloadError(f"job '{name}': 'extends' must be a name or a list of names",
                                self.at(name, ("extends",)))  # fmt: skip
        known = []
        for parent in parents:
            if parent in self.raw:
                known.append(parent)
            elif self.tolerant:
                self.missing.add(parent)
            else:
                raise WorkloadError(
                    f"job '{name}' extends '{parent}', which is not defined"
                    f"{suggest(parent, self.raw)}",
                    self.at(name, ("extends",)),
                )
        return known

    def incomplete(self, name: str) -> bool:
        """Whether job ``name`` extends (through any chain) a template that is missing."""
        if name not in self._incomplete:
            self._incomplete[name] = False  # (extends loops are errors, found elsewhere)
            parents = self.raw[name].get("extends") if isinstance(self.raw.get(name), dict) \
                else None  # fmt: skip
            parents = parents if isinstance(parents, list) else [parents] if parents else []
            self._incomplete[name] = any(
                isinstance(p, str) and (p not in self.raw or self.incomplete(p)) for p in parents
            )
        return self._incomplete[name]

    def value(self, name: str, key: str, depth: int = 0) -> Any:
        """The value of ``key`` in job ``name`` after ``extends`` and ``!reference``."""
        memo = (name, key)
        if memo in self._values:
            return self._values[memo]
        if memo in self._busy:
            job = self.raw.get(name)
            part = ("extends",) if isinstance(job, dict) and "extends" in job else (key,)
            raise WorkloadError(f"job '{name}': 'extends' or '!reference' loops back to "
                                f"'{name}' ('{key}')", self.at(name, part))  # fmt: skip
        if depth > MAX_EXTENDS_DEPTH:
            raise WorkloadError(f"job '{name}': 'extends' nests deeper than GitLab's "
                                f"{MAX_EXTENDS_DEPTH} levels",
                                self.at(name, ("extends",)))  # fmt: skip
        self._busy.add(memo)
        found: Any = None
        for parent in self._parents(name):
            inherited = self.value(parent, key, depth + 1)
            if inherited is not None:
                found = _merge(found, inherited)
        job = self.raw.get(name)
        if isinstance(job, dict) and key in job:
            own = self.resolve(job[key], name)
            found = own if found is None else _merge(found, own)
        self._busy.discard(memo)
        self._values[memo] = found
        return found

    def resolve(self, value: Any, job: str) -> Any:
        """``value`` with its ``!reference`` tags replaced by what they name."""
        if isinstance(value, _Reference):
            return self.reference(value, job)
        if isinstance(value, list) and any(isinstance(v, (_Reference, list, dict))
                                           for v in value):  # fmt: skip
            return [self.resolve(v, job) for v in value]
        if isinstance(value, dict) and any(isinstance(v, (_Reference, list, dict))
                                           for v in value.values()):  # fmt: skip
            return {k: self.resolve(v, job) for k, v in value.items()}
        return value

    def reference(self, ref: _Reference, job: str) -> Any:
        """What ``!reference [name, key, ...]`` names (``None`` when a template that an
        unreadable include may define is missing)."""
        path = ref.path
        if len(path) < 2 or not all(isinstance(p, str) for p in path):
            raise WorkloadError(f"job '{job}': !reference needs [job, key, ...] names",
                                self.at(job, ()))  # fmt: skip
        if path[0] not in self.raw:
            if self.tolerant:
                self.missing.add(path[0])
                return None
            raise WorkloadError(f"job '{job}': !reference {_short(path)} names nothing"
                                f"{suggest(path[0], self.raw)}", self.at(job, ()))  # fmt: skip
        self._depth += 1
        try:
            if self._depth > MAX_REFERENCE_DEPTH:
                raise WorkloadError(f"job '{job}': !reference tags nest deeper than GitLab's "
                                    f"{MAX_REFERENCE_DEPTH} levels", self.at(job, ()))  # fmt: skip
            target = self.value(path[0], path[1])
        finally:
            self._depth -= 1
        for part in path[2:]:
            target = target.get(part) if isinstance(target, dict) else None
        if target is None and not self.tolerant:
            raise WorkloadError(f"job '{job}': !reference {_short(path)} names nothing",
                                self.at(job, ()))  # fmt: skip
        return target


def _missing_references(raw: dict[str, Any], missing: set[str]) -> None:
    """Add to ``missing`` the templates that ``!reference`` tags anywhere in the jobs name
    and no file read defines (each shared structure visited once)."""
    seen: set[int] = set()
    stack: list[Any] = list(raw.values())
    while stack:
        value = stack.pop()
        if isinstance(value, _Reference):
            if value.path and isinstance(value.path[0], str) and value.path[0] not in raw:
                missing.add(value.path[0])
        elif isinstance(value, (dict, list)) and id(value) not in seen:
            seen.add(id(value))
            stack.extend(value.values() if isinstance(value, dict) else value)


# --- instances and needs ---------------------------------------------------------------------


def _scalar(value: Any) -> str | None:
    """A matrix value as GitLab writes it in a job name (None: not a scalar)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _combinations(matrix: Any, name: str, jobs: _Jobs, path: tuple[str | int, ...],
                  plan_name: str) -> list[list[str]]:  # fmt: skip
    """The value lists of a ``parallel: matrix``, counted (at most 200) before made."""
    where = jobs.at(name, path)
    if not isinstance(matrix, list):
        raise WorkloadError(f"job '{name}': 'parallel: matrix' must be a list", where)
    axes: list[list[list[str]]] = []
    count = 0
    for entry in matrix:
        if not isinstance(entry, dict):
            raise WorkloadError(f"job '{name}': each 'parallel: matrix' entry must be a mapping "
                                "of variables to values", where)  # fmt: skip
        values: list[list[str]] = []
        for raw in entry.values():
            items = raw if isinstance(raw, list) else [raw]
            texts = [_scalar(v) for v in items]
            if any(t is None for t in texts) or not texts:
                raise WorkloadError(f"job '{name}': a 'parallel: matrix' value must be a value "
                                    "or a list of values", where)  # fmt: skip
            values.append([t for t in texts if t is not None])
        size = 1
        for v in values:
            size *= len(v)
            if size > MAX_PARALLEL:
                break
        count += size if values else 0
        if count > MAX_PARALLEL:
            raise WorkloadError(f"job '{plan_name}': 'parallel: matrix' makes more than "
                                f"{MAX_PARALLEL} jobs (GitLab's limit)", where)  # fmt: skip
        if values:
            axes.append(values)
    return [list(c) for values in axes for c in itertools.product(*values)]


def _instances(name: str, parallel: Any, jobs: _Jobs) -> list[str]:
    if parallel is None:
        return [name]
    if isinstance(parallel, int) and not isinstance(parallel, bool):
        if not 1 <= parallel <= MAX_PARALLEL:
            raise WorkloadError(f"job '{name}': parallel must be 1 to {MAX_PARALLEL}",
                                jobs.at(name, ("parallel",)))  # fmt: skip
        return [f"{name} {i}/{parallel}" for i in range(1, parallel + 1)]
    if isinstance(parallel, dict) and "matrix" in parallel:
        combos = _combinations(parallel["matrix"], name, jobs, ("parallel", "matrix"), name)
        return [f"{name}: [{', '.join(c)}]" for c in combos] or [name]
    raise WorkloadError(f"job '{name}': parallel must be a number or {{matrix: [...]}}",
                        jobs.at(name, ("parallel",)))  # fmt: skip


def _flat(raw: list[Any], limit: int, name: str, jobs: _Jobs) -> list[Any]:
    """``needs`` with nested lists (from ``!reference``) flattened, at most ``limit`` (and
    :data:`MAX_NEEDS`): counted as they are made, so doubled references stop early."""
    if limit > MAX_NEEDS:
        limit = MAX_NEEDS
    out: list[Any] = []
    stack = [iter(raw)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
            if len(out) > limit:
                what = "--max-dependencies" if limit < MAX_NEEDS else "GitLab's limit"
                raise WorkloadError(f"job '{name}' has more than {what} ({limit:,}) needs",
                                    jobs.at(name, ("needs",)))  # fmt: skip
        else:
            stack.pop()
    return out


def _needs(name: str, raw: Any, resolved: dict[str, Any], instances: dict[str, list[str]],
           owner: dict[str, str], jobs: _Jobs, limits: Limits, external: list[str],
           dropped: list[str]) -> list[str]:  # fmt: skip
    if not isinstance(raw, list):
        raise WorkloadError(f"job '{name}': 'needs' must be a list", jobs.at(name, ("needs",)))
    out: list[str] = []
    for k, need in enumerate(_flat(raw, limits.max_dependencies, name, jobs)):
        where = jobs.at(name, ("needs", k))
        if isinstance(need, dict) and ("pipeline" in need or "project" in need):
            external.append(_short(need.get("job", "?")))
            continue
        target = need.get("job") if isinstance(need, dict) else need
        if not isinstance(target, str):
            raise WorkloadError(f"job '{name}': each need must be a job name or {{job: name}}",
                                where)  # fmt: skip
        if target not in resolved:
            if target in owner:  # one instance of a matrix, by its name: "job: [a, b]"
                out.append(target)
                continue
            if isinstance(need, dict) and need.get("optional"):
                continue
            if jobs.tolerant and target not in jobs.raw:
                dropped.append(_short(target))
                continue
            raise WorkloadError(
                f"job '{name}' needs '{_short(target)}', which is not a job"
                f"{suggest(target, resolved)}",
                where,
            )
        parallel = need.get("parallel") if isinstance(need, dict) else None
        matrix = parallel.get("matrix") if isinstance(parallel, dict) else None
        if matrix is not None:
            for combo in _combinations(matrix, name, jobs, ("needs", k), name):
                label = f"{target}: [{', '.join(combo)}]"
                if label not in instances[target]:
                    raise WorkloadError(f"job '{name}' needs {label!r}, which the matrix of "
                                        f"'{target}' does not make", where)  # fmt: skip
                out.append(label)
        else:
            out.append(target)  # the job, or the join of its instances
        if len(out) > limits.max_dependencies:
            raise WorkloadError(f"job '{name}' has more than --max-dependencies "
                                f"({limits.max_dependencies:,}) needs", where)  # fmt: skip
    return out
