"""Which reader reads a file: serialscale's own workloads, or a step graph in another format.

Each input format is one reader: a name (``--from NAME``), how it is recognised, and a
function from a path and its bytes to a :class:`Workload`. Detection looks at the file name
first, then at the content; ``--from`` overrides it. ``serialscale formats`` prints
:data:`READERS`. A file recognised as a foreign format that is broken gets that format's
located error; serialscale's own YAML stays strict (unknown keys are errors).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import Location, UsageError, WorkloadError, suggest
from ..base.limits import DEFAULT_LIMITS, Limits
from ..core.workload import Workload
from .read_options import DEFAULT_READ, ReadOptions

Read = Callable[[Path, bytes, Mapping[str, str] | None, Limits, ReadOptions], Workload]


@dataclass(frozen=True)
class Reader:
    """One input format."""

    name: str
    description: str
    recognised: str
    read: Read


def _read_serialscale(path: Path, data: bytes, params: Mapping[str, str] | None,
                      limits: Limits, options: ReadOptions) -> Workload:  # fmt: skip
    from .workload_file import parse_workload

    is_json = path.suffix.lower() == ".json"
    return parse_workload(data, str(path), name=path.stem, is_json=is_json, params=params,
                          limits=limits)  # fmt: skip


def _read_github(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                 options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.github_actions import read_workflow

    _no_params(params, path)
    plan, notes, unit = read_workflow(path, data, options.durations, limits)
    return plan.workload(path.stem, str(path), "github-actions", unit, {"notes": notes})


def _read_gitlab(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                 options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.gitlab_ci import read_pipeline

    _no_params(params, path)
    plan, notes = read_pipeline(path, data, limits)
    return plan.workload(path.stem.lstrip(".") or "gitlab-ci", str(path), "gitlab-ci", "jobs",
                         {"notes": notes})  # fmt: skip


def _read_ninja(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.ninja import read_build

    _no_params(params, path)
    plan, notes, unit, source = read_build(path, data, limits)
    return plan.workload(source.parent.name or "build", str(source), "ninja", unit,
                         {"notes": notes})  # fmt: skip


def _read_dot(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
              options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.dot import read_dot

    _no_params(params, path)
    plan, name, notes = read_dot(path, data, options.reverse_edges, limits)
    return plan.workload(name or path.stem, str(path), "dot", None,
                         {"notes": notes} if notes else None)  # fmt: skip


# Readers of issue 29, items 1-3 (cargo timings, make database, Bazel aquery).
def _read_cargo(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.cargo_timings import read_timings

    _no_params(params, path)
    plan, notes = read_timings(path, data, limits)
    return plan.workload("cargo", str(path), "cargo-timings", "seconds", {"notes": notes})


def _read_make(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
               options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.make_database import read_database

    _no_params(params, path)
    plan, notes = read_database(path, data, limits)
    return plan.workload(path.stem or "make", str(path), "make", "targets",
                         {"notes": notes} if notes else None)  # fmt: skip


def _read_bazel(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.bazel_aquery import read_aquery

    _no_params(params, path)
    plan, notes = read_aquery(path, data, limits)
    return plan.workload(path.stem or "bazel", str(path), "bazel", "actions",
                         {"notes": notes} if notes else None)  # fmt: skip


# --- readers of issue 29 (Turborepo, Nx, CircleCI, Azure Pipelines, Buildkite, dvc) ----------


def _read_turbo(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.turbo import read_turbo

    _no_params(params, path)
    plan, notes, unit = read_turbo(path, data, limits)
    return plan.workload(path.stem, str(path), "turbo", unit, {"notes": notes})


def _read_nx(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
             options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.nx import read_nx

    _no_params(params, path)
    plan, notes, unit = read_nx(path, data, limits)
    return plan.workload(path.stem, str(path), "nx", unit, {"notes": notes})


def _read_circleci(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                   options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.circleci import read_circleci

    _no_params(params, path)
    plan, notes = read_circleci(path, data, limits)
    name = path.parent.name.lstrip(".") if path.stem == "config" else path.stem
    return plan.workload(name or "circleci", str(path), "circleci", "jobs", {"notes": notes})


def _read_azure(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.azure_pipelines import read_azure

    _no_params(params, path)
    plan, notes = read_azure(path, data, limits)
    return plan.workload(path.stem.lstrip(".") or "azure-pipelines", str(path),
                         "azure-pipelines", "jobs", {"notes": notes})  # fmt: skip


def _read_buildkite(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
                    options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.buildkite import read_buildkite

    _no_params(params, path)
    plan, notes = read_buildkite(path, data, limits)
    return plan.workload(path.stem.lstrip(".") or "buildkite", str(path), "buildkite", "jobs",
                         {"notes": notes})  # fmt: skip


def _read_dvc(path: Path, data: bytes, params: Mapping[str, str] | None, limits: Limits,
              options: ReadOptions) -> Workload:  # fmt: skip
    from .importers.dvc import read_dvc

    _no_params(params, path)
    plan, notes = read_dvc(path, data, limits)
    return plan.workload(path.parent.name or "dvc", str(path), "dvc", "stages",
                         {"notes": notes} if notes else None)  # fmt: skip


MORE_READERS = (
    Reader("turbo", "Turborepo task graphs: one step per task; a run summary gives seconds",
           "JSON with 'turboVersion' (turbo run TASK --dry=json; .turbo/runs/*.json from "
           "--summarize)", _read_turbo),
    Reader("nx", "Nx graphs: one step per task of the task graph, else per project",
           "JSON starting with {\"graph\": {\"nodes\" (nx graph --file=graph.json)", _read_nx),
    Reader("circleci", "CircleCI workflows: jobs, requires, matrix (with exclude)",
           ".circleci/config.yml, or YAML with 'version: 2.x' and 'workflows:'",
           _read_circleci),
    Reader("azure-pipelines", "Azure Pipelines: stages, jobs, dependsOn, matrix and parallel "
           "legs, local templates", "azure-pipelines*.yml, or YAML with '- stage:' items or "
           "'jobs:' of '- job:' items", _read_azure),
    Reader("buildkite", "Buildkite pipelines: steps, depends_on, wait, group, parallelism",
           ".buildkite/pipeline*.yml, buildkite.yml, or YAML whose 'steps:' hold 'command:', "
           "'label:' or '- wait'", _read_buildkite),
    Reader("dvc", "dvc pipelines: one step per stage (and foreach item); a stage needs the "
           "stages whose outputs it reads", "dvc.yaml, or YAML with 'stages:' holding 'cmd:'",
           _read_dvc),
)  # fmt: skip


@functools.cache
def _more_patterns() -> dict[str, re.Pattern[bytes]]:
    """The content signatures of the readers above, compiled on first use; each anchored at
    a line start and led by a literal, so a search is linear."""
    return {
        "turbo": re.compile(rb'"turboVersion"[ \t]*:'),  # minified too: a literal first
        "nx": re.compile(rb'\A\s*\{\s*"graph"\s*:\s*\{\s*"nodes"\s*:'),
        "buildkite": re.compile(rb"^[ \t]*-[ \t]+(?:wait|block|input|\"wait\"|'wait')"
                                rb"[ \t]*(?:$|:|#)|^[ \t]+-?[ \t]*(?:command|commands|label|"
                                rb"trigger|group|depends_on|plugins|agents)[ \t]*:", re.M),
        "circleci": re.compile(rb"^version[ \t]*:[ \t]*[\"']?2", re.M),
        "workflows": re.compile(rb"^workflows[ \t]*:", re.M),
        "stage_item": re.compile(rb"^[ \t]*-[ \t]+stage[ \t]*:", re.M),
        "job_item": re.compile(rb"^[ \t]*-[ \t]+(?:job|deployment)[ \t]*:", re.M),
        "cmd": re.compile(rb"^[ \t]+cmd[ \t]*:", re.M),
    }  # fmt: skip


def _detect_more(path: Path, name: str, suffix: str, head: bytes) -> str | None:
    """The reader above for ``path`` (by name, then by content), or ``None``."""
    found = _more_patterns()
    if suffix == ".json":
        if found["turbo"].search(head) or (path.parent.name == "runs" and
                                           path.parent.parent.name == ".turbo"):  # fmt: skip
            return "turbo"
        return "nx" if found["nx"].match(head) else None
    if suffix not in (".yml", ".yaml"):
        return None
    parts = path.resolve().parts
    folder = parts[-2] if len(parts) > 1 else ""
    if ".github" in parts and "workflows" in parts:
        return None
    if folder == ".circleci" and path.stem == "config":
        return "circleci"
    if name.lstrip(".").startswith("azure-pipelines"):
        return "azure-pipelines"
    if name in ("buildkite.yml", "buildkite.yaml", ".buildkite.yml", ".buildkite.yaml") or (
            folder == ".buildkite" and path.stem.startswith("pipeline")):  # fmt: skip
        return "buildkite"
    if name == "dvc.yaml":
        return "dvc"
    top = _patterns()
    if top["steps"].search(head) and found["buildkite"].search(head):
        return "buildkite"
    if found["circleci"].search(head) and found["workflows"].search(head):
        return "circleci"
    if top["stages"].search(head):
        if found["cmd"].search(head):
            return "dvc"
        if found["stage_item"].search(head):
            return "azure-pipelines"
    if top["jobs"].search(head) and found["job_item"].search(head) and \
            not top["github"].search(head):  # fmt: skip
        return "azure-pipelines"
    return None


READERS: dict[str, Reader] = {
    r.name: r
    for r in (
        Reader("serialscale", "serialscale's own workload files (plain or templated)",
               "*.yaml, *.yml, *.json with 'steps'; '-' (standard input)", _read_serialscale),
        Reader("github-actions", "GitHub Actions workflows: one step per job (and matrix "
               "combination)", ".github/workflows/*.yml|yaml, or YAML with 'on:' and 'jobs:'",
               _read_github),
        Reader("gitlab-ci", "GitLab CI pipelines: jobs, stages, needs, parallel:matrix, "
               "extends", ".gitlab-ci.yml, or YAML with 'stages:' or jobs with 'script:'",
               _read_gitlab),
        Reader("ninja", "ninja builds: one step per build edge, durations from .ninja_log",
               "build.ninja, *.ninja, .ninja_log, or a folder holding build.ninja",
               _read_ninja),
        Reader("dot", "Graphviz DOT graphs: one step per node, edges as needs",
               "*.dot, *.gv, or text starting with 'digraph' / 'graph'", _read_dot),
        Reader("cargo-timings", "cargo --timings reports: one step per compiled unit, in "
               "seconds; a unit waited for as metadata is two steps",
               "cargo-timing*.html, or HTML holding 'const UNIT_DATA = '", _read_cargo),
        Reader("make", "GNU make's printed database (make -pnq): one step per explicit "
               "target, prerequisites (order-only too) as needs", "text starting with make's "
               "'# GNU Make' / '# Make data base' header", _read_make),
        Reader("bazel", "Bazel action graphs (bazel aquery --output=jsonproto): one step per "
               "action, needing the actions that make its inputs", "JSON with "
               "'depSetOfFiles' or 'actionKey'", _read_bazel),
        *MORE_READERS,
    )
}  # fmt: skip


@functools.cache
def _patterns() -> dict[str, re.Pattern[bytes]]:
    """The one-line content signatures, compiled on first use (not at start-up). Each is
    anchored at a line start and matches a literal word first, so a search is linear."""
    return {
        "github": re.compile(rb"^(?:on|\"on\"|'on'|true)[ \t]*:", re.M),
        "jobs": re.compile(rb"^jobs[ \t]*:", re.M),
        "steps": re.compile(rb"^steps[ \t]*:", re.M),
        "stages": re.compile(rb"^stages[ \t]*:", re.M),
        "script": re.compile(rb"^[ \t]+(?:- )?script[ \t]*:"),
    }  # fmt: skip


def looks_like_dot(head: bytes) -> bool:
    """Whether ``head`` starts, after blank space and comments, with ``[strict] [di]graph``.

    A scanner, not a regular expression: each byte is looked at a bounded number of times,
    whatever the comments hold (a regex with a lazy ``/* ... */`` inside a repeat backtracks
    exponentially on a run of ``/**/``).
    """
    i, n = 0, len(head)
    while i < n:
        if head[i : i + 1].isspace():
            i += 1
        elif head.startswith((b"//", b"#"), i):
            end = head.find(b"\n", i)
            i = n if end < 0 else end + 1
        elif head.startswith(b"/*", i):
            end = head.find(b"*/", i + 2)
            if end < 0:
                return False
            i = end + 2
        else:
            break
    words = head[i : i + 64].split(None, 2)
    if words and words[0].lower() == b"strict":
        words = words[1:]
    if not words:
        return False
    first = words[0].lower()
    for keyword in (b"digraph", b"graph"):
        if first.startswith(keyword):
            rest = first[len(keyword) :]
            return not rest or not (rest[:1].isalnum() or rest[:1] == b"_")
    return False


def looks_like_gitlab(head: bytes) -> bool:
    """Whether ``head`` has a top-level ``stages:``, or a top-level key whose indented block
    holds a ``script:`` key: one pass over the lines."""
    found = _patterns()
    if found["stages"].search(head):
        return True
    in_block = False
    for line in head.split(b"\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith(b"#"):
            continue
        if line[:1] in (b" ", b"\t"):
            if in_block and found["script"].match(line):
                return True
            continue
        in_block = stripped.endswith(b":") or b": #" in stripped
    return False


def detect_more(name: str, suffix: str, head: bytes) -> str | None:
    """The readers of issue 29, items 1-3 (cargo timings, make database, Bazel aquery), by
    name and content; ``None`` when none of them."""
    from .importers.bazel_aquery import looks_like_aquery
    from .importers.make_database import looks_like_make_database

    if suffix in (".html", ".htm") and (name.startswith("cargo-timing")
                                        or b"const UNIT_DATA = " in head):  # fmt: skip
        return "cargo-timings"
    if suffix == ".json" and looks_like_aquery(head):
        return "bazel"
    if suffix not in (".json", ".yaml", ".yml") and looks_like_make_database(head):
        return "make"
    return None


def detect(path: Path, head: bytes) -> str:
    """The name of the reader for ``path`` whose first bytes are ``head``."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    more = detect_more(name, suffix, head)
    if more is not None:
        return more
    if name in ("build.ninja", ".ninja_log") or suffix == ".ninja":
        return "ninja"
    if suffix in (".dot", ".gv"):
        return "dot"
    if name in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        return "gitlab-ci"
    more = _detect_more(path, name, suffix, head)
    if more is not None:
        return more
    if suffix in (".yml", ".yaml"):
        parts = path.resolve().parts
        if ".github" in parts and "workflows" in parts:
            return "github-actions"
        found = _patterns()
        if found["steps"].search(head):  # serialscale's own, however else it looks
            return "serialscale"
        if found["jobs"].search(head) and found["github"].search(head):
            return "github-actions"
        if looks_like_gitlab(head):
            return "gitlab-ci"
    if suffix not in (".json", ".yaml", ".yml") and looks_like_dot(head):
        return "dot"
    return "serialscale"


def reader(name: str) -> Reader:
    """The reader called ``name`` (``--from``); an unknown name is a usage error."""
    try:
        return READERS[name]
    except KeyError:
        known = ", ".join(READERS)
        raise UsageError(f"--from: unknown format '{name}'{suggest(name, READERS)}; "
                         f"known: {known}") from None  # fmt: skip


def read_path(
    path: Path,
    data: bytes,
    params: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    options: ReadOptions = DEFAULT_READ,
) -> Workload:
    """Read ``data`` (the bytes of ``path``) with the reader ``--from`` names or detection
    picks."""
    chosen = reader(options.fmt) if options.fmt else READERS[detect(path, data[:65536])]
    if chosen.name in THIRD_PARTY_PARSERS:
        from ..base.gcpause import gc_collecting

        with gc_collecting():  # their parsers leave reference cycles (see gcpause)
            workload = chosen.read(path, data, params, limits, options)
    else:
        workload = chosen.read(path, data, params, limits, options)
    if options.reverse_edges and chosen.name != "dot":  # said, not silently ignored
        workload = workload.with_note(f"--reverse-edges: read as {chosen.name}, not DOT: its "
                                      "dependencies are as written")  # fmt: skip
    if options.durations is not None and chosen.name != "github-actions":
        from .importers.run_times import apply_run_times, dot_labels

        # A run's trace (Chrome/Perfetto JSON, Nextflow TSV) gives any other graph its times
        aliases = dot_labels(path, data, limits) if chosen.name == "dot" else None
        workload = apply_run_times(workload, options.durations, limits, aliases)
    return workload


#: The readers whose parsing is done by third-party code that leaves reference cycles
#: (PyYAML for the CI formats): they run with the collector on. DOT is read by serialscale's
#: own parser (sources/dot_parser.py), which makes none.
THIRD_PARTY_PARSERS = frozenset({"github-actions", "gitlab-ci"})
#: The YAML readers of issue 29 parse with PyYAML too.
THIRD_PARTY_PARSERS |= {"circleci", "azure-pipelines", "buildkite", "dvc"}


def _no_params(params: Mapping[str, str] | None, path: Path) -> None:
    if params:
        raise WorkloadError("--param applies to templated workloads and traced functions, not "
                            "to imported graphs", Location(str(path)))  # fmt: skip
