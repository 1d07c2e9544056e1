"""What a directory scan leaves out: hidden entries, virtual environments, ``node_modules``,
and what ``.gitignore`` files ignore (as ruff and ripgrep do), unless ``--no-ignore``.

The ``.gitignore`` rules supported are git's common ones: blank lines and ``#`` comments,
``!`` to re-include, a trailing ``/`` for folders only, a ``/`` at the start or inside to
anchor the pattern to the ``.gitignore``'s folder (else it matches a name at any depth), and
``*``, ``?``, ``[...]`` and ``**`` wildcards. Each ``.gitignore`` applies below its folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """One line of a ``.gitignore``: a compiled pattern, relative to ``base``."""

    base: Path
    pattern: re.Pattern[str]
    negated: bool
    folders_only: bool
    anchored: bool


def _translate(glob: str) -> str:
    """A gitignore glob as a regular expression over ``/``-separated paths."""
    out = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                out.append("[" + glob[i + 1 : end].replace("!", "^", 1) + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def read_rules(folder: Path) -> list[Rule]:
    """The rules of ``folder/.gitignore`` (none when there is no such file)."""
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        folders_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        line = line.lstrip("/")
        if not line:
            continue
        try:
            pattern = re.compile(_translate(line) + "$")
        except re.error:
            continue
        rules.append(Rule(folder, pattern, negated, folders_only, anchored))
    return rules


def ignored(path: Path, is_dir: bool, rules: list[Rule]) -> bool:
    """Whether the last rule that matches ``path`` ignores it (git's order: later wins)."""
    verdict = False
    for rule in rules:
        if rule.folders_only and not is_dir:
            continue
        try:
            relative = path.relative_to(rule.base).as_posix()
        except ValueError:
            continue
        subject = relative if rule.anchored else path.name
        if rule.pattern.match(subject):
            verdict = not rule.negated
    return verdict


def skipped_folder(entry: os.DirEntry[str]) -> bool:
    """Hidden folders, virtual environments (a ``pyvenv.cfg`` inside) and ``node_modules``."""
    return (
        entry.name.startswith(".")
        or entry.name == "node_modules"
        or os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))
    )
