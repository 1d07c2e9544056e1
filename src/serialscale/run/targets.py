"""Collecting a batch's targets: files and functions named on the command line, and the
workloads found by scanning folders (what a scan reads, skips and refuses)."""

from __future__ import annotations

import fnmatch
import itertools
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..documents.report import ErrorEntry

__all__ = ["NOT_A_WORKLOAD", "WORKLOAD_SUFFIXES", "Collected", "collect_targets", "is_batch"]

WORKLOAD_SUFFIXES = (".yaml", ".yml", ".json")


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
            from ..documents.report import ErrorEntry

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
