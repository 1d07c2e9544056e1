"""What a directory scan leaves out: hidden entries, virtual environments, ``node_modules``,
and what ``.gitignore`` files ignore (as ruff and ripgrep do), unless ``--no-ignore``.

The ``.gitignore`` rules supported are git's common ones: blank lines and ``#`` comments,
``!`` to re-include, a trailing ``/`` for folders only, a ``/`` at the start or inside to
anchor the pattern to the ``.gitignore``'s folder (else it matches a name at any depth), and
``*``, ``?``, ``[...]`` and ``**`` wildcards, and ``\\`` before a literal character. Each
``.gitignore`` applies below its folder.

A scanned repository may be hostile: matching goes back only to the last ``*`` of a name and
carries a set of positions along a path (no regular expression to backtrack exponentially),
and a ``.gitignore`` is read only when it is a regular file, up to :data:`MAX_IGNORE_BYTES`.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

#: A ``.gitignore`` larger than this is read only this far (with a note): the rules are
#: checked for every scanned path, so a hostile file must not make a scan quadratic.
MAX_IGNORE_BYTES = 1 << 20
#: A line longer than this is left out (no useful rule is that long).
MAX_RULE_CHARS = 4096

#: The tokens of a glob within one path segment: ``STAR`` (any run of characters), ``ANY``
#: (one character), a literal character, or a class ``(negated, ranges)``.
STAR = "*"
ANY = "?"
Token = str | tuple[bool, tuple[tuple[str, str], ...]]
#: A pattern segment that is ``**``: any number of folders.
DEEP = ("**",)


@dataclass(frozen=True)
class Rule:
    """One line of a ``.gitignore``: its ``/``-separated segments (each a token tuple, or
    :data:`DEEP`), relative to ``base``."""

    base: Path
    segments: tuple[tuple[Token, ...], ...]
    negated: bool
    folders_only: bool
    anchored: bool


def _tokens(glob: str) -> tuple[Token, ...]:
    """One segment of a gitignore glob: ``*``, ``?``, ``[...]`` (``!`` or ``^`` negates,
    ``a-z`` ranges, a ``]`` first is literal) and ``\\x`` for a literal ``x``."""
    out: list[Token] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if not out or out[-1] != STAR:  # ** inside a segment is *, as in git
                out.append(STAR)
        elif c == "?":
            out.append(ANY)
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(glob[i])
        elif c == "[":
            parsed = _class(glob, i + 1)
            if parsed is None:
                out.append(c)
            else:
                token, i = parsed
                out.append(token)
                continue
        else:
            out.append(c)
        i += 1
    return tuple(out)


def _class(glob: str, i: int) -> tuple[Token, int] | None:
    """The class starting after a ``[`` at ``i``, and the index after its ``]``; ``None``
    when it is not closed (the ``[`` is then a literal)."""
    negated = i < len(glob) and glob[i] in "!^"
    i += negated
    chars: list[str] = []
    first = True
    while i < len(glob) and (glob[i] != "]" or first):
        if glob[i] == "\\" and i + 1 < len(glob):
            i += 1
        chars.append(glob[i])
        first = False
        i += 1
    if i >= len(glob):
        return None
    ranges = []
    k = 0
    while k < len(chars):
        if k + 2 < len(chars) and chars[k + 1] == "-":
            ranges.append((chars[k], chars[k + 2]))
            k += 3
        else:
            ranges.append((chars[k], chars[k]))
            k += 1
    return (negated, tuple(ranges)), i + 1


def _one(token: Token, char: str) -> bool:
    if token == ANY:
        return char != "/"
    if isinstance(token, str):
        return token == char
    negated, ranges = token
    return any(low <= char <= high for low, high in ranges) != negated


def segment_match(tokens: tuple[Token, ...], name: str) -> bool:
    """Whether a segment glob matches all of ``name``: greedy, going back only to the last
    ``*``, so at most ``len(tokens) * len(name)`` steps whatever the pattern (a regular
    expression of many ``*`` backtracks exponentially on a long name)."""
    p = t = 0
    star = -1
    mark = 0
    while t < len(name):
        if p < len(tokens) and tokens[p] == STAR:
            star, mark = p, t
            p += 1
        elif p < len(tokens) and _one(tokens[p], name[t]):
            p += 1
            t += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(tokens) and tokens[p] == STAR:
        p += 1
    return p == len(tokens)


def path_match(segments: tuple[tuple[Token, ...], ...], parts: list[str]) -> bool:
    """Whether pattern ``segments`` match the path ``parts``: ``**`` is any number of folders
    (one or more when it ends the pattern: ``build/**`` is what is inside ``build``). A set
    of pattern positions is carried along the path: linear in each."""
    last = len(segments) - 1

    def closure(states: set[int]) -> set[int]:
        out = set(states)
        for i in sorted(states):
            j = i
            while j < last and segments[j] == DEEP:  # zero folders
                j += 1
                out.add(j)
        return out

    states = closure({0})
    for part in parts:
        after: set[int] = set()
        for i in states:
            if i > last:
                continue
            if segments[i] == DEEP:
                after.add(i)
                if i == last:
                    after.add(i + 1)
            elif segment_match(segments[i], part):
                after.add(i + 1)
        states = closure(after)
        if not states:
            return False
    return len(segments) in states


def read_rules(folder: Path, notes: list[str] | None = None) -> list[Rule]:
    """The rules of ``folder/.gitignore`` (none when there is no such file). Only a regular
    file is read (a FIFO would wait forever, a device never end), up to
    :data:`MAX_IGNORE_BYTES`; what is left out is said in ``notes``."""
    path = folder / ".gitignore"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return []
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            if notes is not None:
                notes.append(f"{path}: skipped: not a regular file (a FIFO or a device)")
            return []
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_IGNORE_BYTES + 1)
    except OSError:
        return []
    finally:
        os.close(fd)
    if len(data) > MAX_IGNORE_BYTES:
        data = data[: data.rfind(b"\n", 0, MAX_IGNORE_BYTES) + 1]
        if notes is not None:
            notes.append(f"{path}: only its first {MAX_IGNORE_BYTES >> 20} MiB of rules apply")
    rules = []
    for raw in data.decode("utf-8", errors="replace").splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#") or len(line) > MAX_RULE_CHARS:
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        folders_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        line = line.lstrip("/")
        if not line:
            continue
        segments = tuple(DEEP if part == "**" else _tokens(part) for part in line.split("/"))
        rules.append(Rule(folder, segments, negated, folders_only, anchored))
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
        if rule.anchored:
            hit = path_match(rule.segments, relative.split("/"))
        else:
            hit = len(rule.segments) == 1 and path_match(rule.segments, [path.name])
        if hit:
            verdict = not rule.negated
    return verdict


def skipped_folder(entry: os.DirEntry[str]) -> bool:
    """Hidden folders, virtual environments (a ``pyvenv.cfg`` inside) and ``node_modules``."""
    return (
        entry.name.startswith(".")
        or entry.name == "node_modules"
        or os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))
    )
