"""Analyzing many workloads: collecting targets, worker processes, Dask, and batch results.

Results always come back in target order, so the output is byte-identical whatever the number
of workers. One bad file, an exception or a crashed worker becomes an error entry for that
target; the rest is analyzed.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import stat
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from msgspec import UNSET

from ..base.defaults import DEFAULT_PROCESSORS
from ..base.errors import Location, UsageError, WorkloadError
from ..base.limits import DEFAULT_LIMITS, Limits
from ..core.analysis import analyze_workload
from ..documents.report import CLASSES, BatchReport, ErrorEntry, FailedGate, Report, Summary
from ..sources import load_target, looks_like_function
from ..sources.registry import DEFAULT_READ, ReadOptions
from .stopping import in_worker, stop_workers, worker_started

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from ..core.whatif import Change
    from ..core.workload import Workload

WORKLOAD_SUFFIXES = (".yaml", ".yml", ".json")

Progress = Callable[[int], None]
DASK_CONNECT_TIMEOUT = "5s"


@dataclass(frozen=True)
class Options:
    """How each target is analyzed (the same for every target of a batch)."""

    processors: int = DEFAULT_PROCESSORS
    overhead: float = 0
    detail: bool = False
    params: tuple[tuple[str, str], ...] = ()
    control: str | None = None  # None: the default (python_source.trace_function)
    limits: Limits = DEFAULT_LIMITS
    #: Run traced functions in a child process (the command line does; see
    #: :mod:`serialscale.run.isolation`).
    isolate: bool = False
    #: Runs per target; the median cost of each step is analyzed (``scale --repeat``).
    repeat: int = 1
    #: How files are read: ``--from``, ``--durations``, ``--reverse-edges``.
    read: ReadOptions = DEFAULT_READ
    #: ``--what-if`` changes (:mod:`serialscale.core.whatif`), applied before the analysis.
    what_if: tuple[Change, ...] = ()
    #: ``--target-depth``: a depth or a change (``-20%``) to plan shortenings for.
    target_depth: str | None = None


@dataclass
class BatchResult:
    """Reports and errors of a batch, each in target order."""

    results: list[Report] = field(default_factory=list)
    errors: list[ErrorEntry] = field(default_factory=list)

    def summary(self) -> Summary:
        """Counts: workloads analyzed, errors, and workloads per classification."""
        counts = dict.fromkeys(CLASSES, 0)
        for r in self.results:
            counts[r.classification] += 1
        return Summary(analyzed=len(self.results), errors=len(self.errors), **counts)

    def document(self, failed_gates: list[FailedGate] | None = None) -> BatchReport:
        """The batch as its JSON document (``failed_gates`` when gates were run)."""
        failed = UNSET if failed_gates is None else failed_gates
        return BatchReport(
            results=self.results, errors=self.errors, summary=self.summary(), failed_gates=failed
        )


#: What one target gives a batch: a report, or its error entries (plain data that crosses
#: process boundaries: msgspec records pickle).
Outcome = tuple[Literal["ok"], Report] | tuple[Literal["error"], list[ErrorEntry]]


def error_entries(target: str, exc: WorkloadError) -> list[ErrorEntry]:
    """The batch error entries of ``exc``, raised while analyzing ``target``: one per error it
    holds (see :class:`serialscale.base.errors.WorkloadErrors`), and a last one counting those
    left out."""
    from ..base.errors import WorkloadErrors, error_lines

    if not isinstance(exc, WorkloadErrors):
        return [error_entry(target, exc)]
    entries = [error_entry(target, error) for error in exc.errors]
    if exc.more:
        note = error_lines(exc)[-1].partition(": note: ")[2]
        entries.append(ErrorEntry(source=target, message=note))
    return entries


def error_entry(target: str, exc: WorkloadError) -> ErrorEntry:
    """The batch error entry of ``exc`` (its first error only: see :func:`error_entries`),
    raised while analyzing ``target``."""
    loc = exc.location
    return ErrorEntry(
        source=target,
        message=exc.message,
        line=loc.line if loc.line is not None else UNSET,
        column=loc.column if loc.column is not None else UNSET,
        step=loc.step_id if loc.step_id is not None else UNSET,
        file=loc.source if loc.source not in (None, target) else UNSET,
    )


@dataclass
class Collected:
    """What the arguments name: targets in order, paths that could not be read (as error
    entries), notes on what was skipped, and every YAML or JSON file skipped as not a
    workload (the notes summarize them; ``--verbose`` lists them)."""

    targets: list[str] = field(default_factory=list)
    errors: list[ErrorEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_workloads: list[str] = field(default_factory=list)


def collect_targets(
    arguments: Sequence[str],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    foreign: bool = False,
    respect_ignores: bool = True,
) -> Collected:
    """Expand directories into their ``*.yaml``, ``*.yml`` and ``*.json`` files, recursively, in
    sorted path order; keep other arguments as given. ``include`` / ``exclude`` are glob
    patterns (see :func:`_selected`).

    Nothing is skipped silently: a directory that cannot be listed is an error entry, a
    workload file that cannot be read (or a symlink to a missing file) becomes a target whose
    loading reports why, and a FIFO or device among the files is skipped with a note (only
    what is named explicitly is read from such files). Symlinks are followed inside the
    scanned folder, each folder and file once (see :func:`_walk`). A directory whose name ends in
    ``.yaml``, ``.yml`` or ``.json`` named explicitly is a target, reported as a directory.

    Scans skip hidden files and folders (``.github``, ``.git``), virtual environments (a
    folder holding ``pyvenv.cfg``), ``node_modules`` and what ``.gitignore`` files ignore,
    unless ``respect_ignores`` is false (``--no-ignore``); an ``exclude`` pattern that names a
    folder (``.venv``, ``build/*``) leaves the whole folder out. Files of another tool's format
    (CI workflows, ninja, DOT) are taken only when asked: ``foreign`` (``--from``) or an
    ``--include`` pattern that matches them, or a scanned folder that is obviously theirs
    (``.github/workflows``); else they are skipped with a note. Other YAML and JSON files
    (``mkdocs.yml``, ``package.json``, saved reports, a run's durations) are taken only when
    they are workloads (a top-level ``steps`` list): the rest are skipped with one summary
    note. A file named explicitly is always read.
    """
    found = Collected()
    not_workloads = found.not_workloads
    for arg in arguments:
        path = Path(arg)
        if _scanned(arg):
            theirs = foreign or _workflows_folder(path)
            for p in _walk(path, found, bool(include), exclude, respect_ignores):
                relative = p.relative_to(path).as_posix()
                if not _selected(str(p), relative, include, exclude):
                    continue
                kind = _kind(p)
                if kind == NOT_A_WORKLOAD and not include:
                    not_workloads.append(str(p))
                    continue
                if kind not in (None, NOT_A_WORKLOAD) and not (theirs or include):
                    found.notes.append(f"{p}: skipped: a {kind} file (--include or --from to "
                                       "analyze it)")  # fmt: skip
                    continue
                found.targets.append(str(p))
        elif _selected(arg, arg, include, exclude):
            found.targets.append(arg)
    if not_workloads:
        from ..base.words import plural

        shown = ", ".join(not_workloads[:5]) + (" ..." if len(not_workloads) > 5 else "")
        found.notes.append(f"skipped {plural(len(not_workloads), 'YAML/JSON file')} with no "
                           f"top-level 'steps' list (not workloads): {shown}; name a file, use "
                           "--include to read it anyway, or --verbose to list them")  # fmt: skip
    return found


#: What :func:`_kind` says of a YAML or JSON file that is not a workload.
NOT_A_WORKLOAD = "not-a-workload"

#: JSON files up to this size are parsed to see whether they are workloads; larger ones are
#: taken (a saved report or a durations file is small; a generated workload may be large).
_SNIFF_JSON_BYTES = 4 << 20


def _workflows_folder(path: Path) -> bool:
    """Whether ``path`` is a ``.github/workflows`` folder (or one inside it), or a CI tool's
    own folder: ``.circleci``, ``.buildkite`` (issue 29)."""
    parts = path.resolve().parts
    if any(part in (".circleci", ".buildkite") for part in parts):
        return True
    return any(pair == (".github", "workflows") for pair in itertools.pairwise(parts))


def _kind(path: Path) -> str | None:
    """A scanned file's format: a foreign reader's name, :data:`NOT_A_WORKLOAD`, or ``None``
    for a workload (or a file whose loading will say why it cannot be read)."""
    from ..sources.registry import _patterns, detect

    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return None
    name = detect(path, head)
    if name != "serialscale":
        return name
    if path.suffix.lower() != ".json":
        return None if _patterns()["steps"].search(head) else NOT_A_WORKLOAD
    if size > _SNIFF_JSON_BYTES:
        return None
    import json

    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read(_SNIFF_JSON_BYTES + 1))
    except (OSError, ValueError, RecursionError):
        return None  # loading it will say what is wrong
    return None if isinstance(doc, dict) and isinstance(doc.get("steps"), list) else \
        NOT_A_WORKLOAD  # fmt: skip


def _walk(
    root: Path,
    found: Collected,
    any_suffix: bool = False,
    exclude: Sequence[str] = (),
    respect_ignores: bool = True,
) -> list[Path]:
    """Workload files under ``root`` (any file when ``any_suffix``: ``--include`` picks),
    sorted; problems go to ``found``. Folders an ``exclude`` pattern names are not entered;
    with ``respect_ignores``, neither are hidden ones, virtual environments and what
    ``.gitignore`` files ignore (see :mod:`serialscale.run.ignore`). Iterative.

    Symlinks are followed while they stay inside ``root`` (one that leads out of it is
    skipped with a note), and each folder and file is taken once, by its device and inode:
    a symlink loop ends where it comes back, a folder or file reached again through a symlink
    is skipped with a note. Which path stands for it does not depend on the order the system
    lists folders in: folders are entered real paths first (not through a symlink), then in
    sorted path order, and a file keeps its real path (or, reached only through symlinks, its
    first path in sorted order).
    """
    import heapq

    from .ignore import Rule, ignored, read_rules, skipped_folder

    # (through a symlink, path, tie-breaker, folder, the rules of the folders above it)
    queue: list[tuple[bool, str, int, Path, list[Rule]]] = [(False, str(root), 0, root, [])]
    entered: dict[tuple[int, int], Path] = {}
    candidates: list[tuple[Path, bool, tuple[int, int] | None]] = []
    pushed = 1
    inside = os.path.realpath(root)
    while queue:
        linked, _, _, folder, above = heapq.heappop(queue)
        try:
            info = os.stat(folder)
        except OSError:
            pass  # listing it says why it cannot be read
        else:
            key = (info.st_dev, info.st_ino)
            if key in entered:
                first = entered[key]
                what = ("a symlink loop back to" if first in folder.parents
                        else "the same folder as")  # fmt: skip
                found.notes.append(f"{folder}: skipped: {what} {first}")
                continue
            entered[key] = folder
        rules = above + read_rules(folder, found.notes) if respect_ignores else []
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            found.errors.append(ErrorEntry(
                source=str(folder), message=f"cannot read the directory: {exc.strerror or exc}"
            ))  # fmt: skip
            continue
        for entry in listed:
            p = Path(entry.path)
            through = linked or _is_symlink(entry)
            try:
                if entry.is_dir():  # follows symlinks, like the rest of the scan
                    relative = p.relative_to(root).as_posix()
                    if any(fnmatch.fnmatch(n, pat) for n in (entry.name, relative)
                           for pat in exclude):  # fmt: skip
                        continue  # --exclude .venv: the folder
                    if respect_ignores and (skipped_folder(entry) or ignored(p, True, rules)):
                        continue
                    if through and not _inside(p, inside):
                        found.notes.append(f"{p}: skipped: {_OUTSIDE}")
                        continue
                    heapq.heappush(queue, (through, str(p), pushed, p, rules))
                    pushed += 1
                    continue
            except OSError:
                pass
            if respect_ignores and (entry.name.startswith(".") or ignored(p, False, rules)):
                continue
            if p.suffix.lower() not in WORKLOAD_SUFFIXES and not any_suffix:
                continue
            if through and not _inside(p, inside):
                found.notes.append(f"{p}: skipped: {_OUTSIDE}")
                continue
            try:
                info = os.stat(p)
            except OSError:  # a dangling symlink, or unreadable: loading it says which
                candidates.append((p, through, None))
                continue
            if stat.S_ISREG(info.st_mode):
                candidates.append((p, through, (info.st_dev, info.st_ino)))
            else:
                found.notes.append(f"{p}: skipped: not a regular file (a FIFO or a device)")
    files = _once(candidates, found)
    files.sort()
    found.errors.sort(key=lambda e: e.source)
    found.notes.sort()
    return files


_OUTSIDE = "a symlink out of the scanned folder (name its target to analyze it)"


def _is_symlink(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:  # cannot tell: treat it as one (it is then checked to stay inside)
        return True


def _inside(path: Path, folder: str) -> bool:
    """Whether ``path``, symlinks resolved, is ``folder`` (a real path) or below it."""
    real = os.path.realpath(path)
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def _once(candidates: list[tuple[Path, bool, tuple[int, int] | None]], found: Collected
          ) -> list[Path]:  # fmt: skip
    """Each file once: of the paths to one file (device and inode), those not through a
    symlink (hard links are files of their own), else the first in sorted order; the others
    are skipped with a note."""
    by_file: dict[tuple[int, int], list[tuple[bool, str, Path]]] = {}
    files = []
    for path, through, key in candidates:
        if key is None:
            files.append(path)
        else:
            by_file.setdefault(key, []).append((through, str(path), path))
    for paths in by_file.values():
        paths.sort()
        kept = [p for through, _, p in paths if not through] or [paths[0][2]]
        files.extend(kept)
        for _, _, p in paths:
            if p not in kept:
                found.notes.append(f"{p}: skipped: the same file as {kept[0]} (a symlink)")
    return files


def _selected(target: str, relative: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether a pattern list selects ``target``: matched against the path as given, the path
    below the directory it was found in, and the file name.
    """

    def hit(patterns: Sequence[str]) -> bool:
        names = (target, relative, os.path.basename(target))
        return any(fnmatch.fnmatch(n, p) for n in names for p in patterns)

    if include and not hit(include):
        return False
    return not (exclude and hit(exclude))


def analyze_target(target: str, options: Options) -> Report:
    """Load and analyze one target; input problems raise :class:`WorkloadError`.

    With ``options.isolate``, a traced function runs in a child process: whatever it does
    (exit, print, crash, run past ``--timeout``) ends as a :class:`WorkloadError`.
    """
    if options.isolate and looks_like_function(target):
        from .isolation import run_isolated

        return run_isolated(lambda: _analyze_here(target, options), target, options.limits.timeout)
    return _analyze_here(target, options)


def analyze_point(target: str, options: Options) -> tuple[Report, float | None]:
    """:func:`analyze_target` for a sweep: with ``options.repeat`` > 1, the target is loaded
    that many times and the median cost of each step analyzed; the second value is the spread
    of the depth over the runs, ``(largest - smallest) / median`` (``None`` for one run)."""
    if options.isolate and looks_like_function(target):
        from .isolation import run_isolated

        return run_isolated(lambda: _repeated(target, options), target, options.limits.timeout)
    return _repeated(target, options)


def _repeated(target: str, options: Options) -> tuple[Report, float | None]:
    if options.repeat <= 1:
        return _analyze_here(target, options), None
    import statistics

    from ..core.graph import Graph
    from ..core.metrics import compute_metrics
    from ..core.workload import Workload

    runs = [load_target(target, dict(options.params), options.control, options.limits,
                        options.read)
            for _ in range(options.repeat)]  # fmt: skip
    first = runs[0].graph
    for run in runs[1:]:
        g = run.graph
        if (
            g.ids != first.ids
            or bytes(g.pred_ptr) != bytes(first.pred_ptr)
            or bytes(g.pred_idx) != bytes(first.pred_idx)
        ):
            raise WorkloadError(
                "the runs made different graphs: --repeat needs the same steps and "
                "dependencies in every run (only costs may vary)",
                Location(target),
            )
    columns = zip(*(r.graph.costs for r in runs), strict=True)
    costs = [statistics.median(column) for column in columns]
    spans = None  # steps with parallelism inside (array operations): their spans too
    if first.spans is not None:
        spans = [statistics.median(c) for c in zip(*(r.graph.depth_graph().costs for r in runs),
                                                    strict=True)]  # fmt: skip
    graph = Graph(first.ids, costs, first.pred_ptr, first.pred_idx, spans=spans)
    median = Workload(runs[0].name, graph, runs[0].source, runs[0].description, runs[0].unit,
                      runs[0].format, runs[0].extra)  # fmt: skip
    depths = [compute_metrics(r.graph.depth_graph()).depth for r in runs]
    middle = statistics.median(depths)
    spread = (max(depths) - min(depths)) / middle if middle > 0 else 0.0
    report = analyze_workload(median, processors=options.processors, overhead=options.overhead,
                              detail=options.detail)  # fmt: skip
    return report, float(spread)


def _analyze_here(target: str, options: Options) -> Report:
    workload = load_target(
        target, dict(options.params), options.control, options.limits, options.read
    )
    return analyze_with(workload, options)


def analyze_with(workload: Workload, options: Options) -> Report:
    """The report of ``workload`` under ``options`` (``--what-if`` changes applied)."""
    if options.what_if:
        from ..core.whatif import analyze_what_if

        return analyze_what_if(workload, options.what_if, processors=options.processors,
                               overhead=options.overhead, detail=options.detail,
                               target_depth=options.target_depth,
                               limits=options.limits)  # fmt: skip
    return analyze_workload(workload, processors=options.processors, overhead=options.overhead,
                            detail=options.detail, target_depth=options.target_depth)  # fmt: skip


def with_path(report: Report) -> Report:
    """``report`` with its file's path in the project (:func:`project_path`), found where the
    batch was asked for (a Dask worker or a child process may run in another folder)."""
    where = project_path(report.source)
    if where is None:
        return report
    from msgspec import structs

    return structs.replace(report, path=where)


def project_path(source: str | None) -> str | None:
    """``source``'s path relative to its project root, in '/' form: the nearest folder at or
    above it holding ``.git``, else the current folder (then only when the file lies inside
    it). ``None`` for standard input, traced functions and files outside the current folder
    with no repository."""
    if not source or source == "-" or source.startswith("<"):
        return None
    from ..sources.secondary import project_root

    file = Path(source)
    try:
        if not file.is_file():
            return None
        root = project_root(file, fallback=Path.cwd())  # the root secondary reads keep to
        return file.resolve().relative_to(root).as_posix()
    except (OSError, ValueError, RuntimeError):
        return None


def analyze_one(target: str, options: Options) -> Outcome:
    """Analyze one target for a batch: ``("ok", report)`` or ``("error", entry)``. Never
    raises for a problem of the target itself, so a batch can go on.
    """
    try:
        return "ok", analyze_target(target, options)
    except WorkloadError as exc:
        return "error", error_entries(target, exc)
    except UsageError:
        raise
    except MemoryError:
        return "error", [ErrorEntry(source=target, message="ran out of memory")]
    except Exception as exc:  # a bug or an unexpected failure: report it, keep going
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return "error", [ErrorEntry(source=target, message=f"internal error: {detail}")]


def analyze_batch(
    targets: Sequence[str],
    options: Options,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Analyze every target, locally (``jobs`` processes) or on a Dask cluster."""
    if scheduler:
        outcomes = _run_dask(targets, options, scheduler)
    elif jobs <= 1 or len(targets) <= 1:
        outcomes = []
        for t in targets:
            outcomes.append(analyze_one(t, options))
            if progress:
                progress(1)
    else:
        outcomes = _run_processes(targets, options, jobs, progress)
    result = BatchResult()
    for outcome in outcomes:
        if outcome[0] == "ok":
            result.results.append(with_path(outcome[1]))
        else:
            result.errors.extend(outcome[1])
    return result


def _crash(target: str, detail: str) -> Outcome:
    message = f"the worker analyzing it crashed ({detail})"
    return "error", [ErrorEntry(source=target, message=message)]


def _run_processes(
    targets: Sequence[str], options: Options, jobs: int, progress: Progress | None
) -> list[Outcome]:
    """A process pool; when a worker dies, the targets it took down are retried one per fresh
    process, so the crash is pinned on the target that caused it. Ctrl-C stops the workers at
    once (see :mod:`serialscale.run.stopping`).
    """
    from concurrent.futures.process import BrokenProcessPool

    outcomes: list[Outcome | None] = [None] * len(targets)
    broken: list[int] = []
    try:
        with _pool(jobs) as pool:
            futures = [pool.submit(in_worker, analyze_one, t, options) for t in targets]
            for i, future in enumerate(futures):
                try:
                    outcomes[i] = future.result()
                    if progress:
                        progress(1)
                except BrokenProcessPool:
                    broken.append(i)
        for i in broken:
            with _pool(1) as pool:
                try:
                    outcomes[i] = pool.submit(in_worker, analyze_one, targets[i], options).result()
                except BrokenProcessPool:
                    outcomes[i] = _crash(targets[i], "it was killed or exited")
            if progress:
                progress(1)
    except (OSError, RuntimeError):
        # No worker process or thread could start (a process limit, no memory left for a
        # stack): what is left is analyzed here, one target after another, as --jobs 1 does
        # (not a target whose worker died: that could take this process down too).
        for i, outcome in enumerate(outcomes):
            if outcome is None:
                outcomes[i] = (_crash(targets[i], "it was killed or exited") if i in broken
                               else analyze_one(targets[i], options))  # fmt: skip
                if progress:
                    progress(1)
    return [o for o in outcomes if o is not None]


@contextmanager
def _pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``jobs`` workers that ignore Ctrl-C; on ``KeyboardInterrupt`` (or any other
    way out but the end of the work) its workers are stopped at once, not waited for."""
    from concurrent.futures import ProcessPoolExecutor  # only batches with --jobs need it

    pool = ProcessPoolExecutor(max_workers=jobs, initializer=worker_started)
    try:
        yield pool
    except BaseException as exc:
        stop_workers(pool, interrupted=isinstance(exc, KeyboardInterrupt))
        raise
    pool.shutdown(wait=True)


def _run_dask(targets: Sequence[str], options: Options, address: str) -> list[Outcome]:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'serialscale[dask]'") from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
        raise UsageError(
            f"--scheduler: cannot reach a Dask scheduler at {address!r}: {exc}"
        ) from None
    try:
        payloads = [_payload(t, options) for t in targets]
        futures = client.map(analyze_shipped, payloads, options=options, pure=False, retries=0)
        outcomes = []
        for target, future in zip(targets, futures, strict=True):
            try:
                outcomes.append(future.result())
            except Exception as exc:  # KilledWorker and friends: this target's worker died
                outcomes.append(_crash(target, type(exc).__name__))
        return outcomes
    finally:
        client.close()


#: A target as sent to a Dask worker: its name, and the bytes of a file (``None`` for a
#: function target, sent as an absolute path, which the workers must be able to import).
Payload = tuple[str, bytes | None]


def _payload(target: str, options: Options) -> Payload | Outcome:
    """What a worker needs to analyze ``target`` exactly as here: the file's bytes (so
    relative paths and standard input work on any worker), or a function target with its
    file made absolute (for workers that share this file system)."""
    from ..sources.workload_file import read_file, read_input

    if target == "-":
        import sys

        data = read_input(sys.stdin.buffer, "<stdin>", options.limits.max_input_bytes)
        return target, data
    if looks_like_function(target):
        file, sep, func = target.rpartition(":")
        if sep and file.endswith(".py"):
            return str(Path(file).resolve()) + ":" + func, None
        return target, None
    try:
        path = Path(target)
        if path.is_dir() and (path / "build.ninja").is_file():
            return target, None  # a ninja build reads files beside it: a shared file system
        return target, read_file(path, options.limits.max_input_bytes)
    except WorkloadError as exc:
        return "error", error_entries(target, exc)


def analyze_shipped(payload: Payload | Outcome, options: Options) -> Outcome:
    """:func:`analyze_one` on a Dask worker, from what :func:`_payload` sent."""
    if payload[0] == "error":
        return payload  # type: ignore[return-value]
    target, data = str(payload[0]), payload[1]
    if not isinstance(data, bytes):
        return analyze_one(target, options)
    try:
        from ..sources.registry import read_path
        from ..sources.workload_file import parse_workload

        params = dict(options.params)
        if target == "-":
            workload = parse_workload(
                data, "<stdin>", name="stdin", params=params, limits=options.limits
            )
        else:
            workload = read_path(Path(target), data, params, options.limits, options.read)
        return "ok", analyze_with(workload, options)
    except WorkloadError as exc:
        return "error", error_entries(target, exc)
    except MemoryError:
        return "error", [ErrorEntry(source=target, message="ran out of memory")]


def is_batch(arguments: Sequence[str]) -> bool:
    """A batch: several targets, or any directory. One file keeps the single-report output."""
    return len(arguments) != 1 or _scanned(arguments[0])


def _scanned(arg: str) -> bool:
    """Whether ``arg`` is a folder to scan for workloads: not ``-``, not a folder named like a
    workload file (an error to report), not a ninja build folder (one target)."""
    path = Path(arg)
    return (
        arg != "-"
        and path.is_dir()
        and path.suffix.lower() not in WORKLOAD_SUFFIXES
        and not (path / "build.ninja").is_file()
    )


__all__ = [
    "BatchResult",
    "Collected",
    "Options",
    "analyze_batch",
    "analyze_one",
    "analyze_target",
    "collect_targets",
    "error_entries",
    "error_entry",
    "is_batch",
]
