"""Settings from a configuration file, as ruff, coverage and pytest read theirs.

The file is the first of ``serialscale.toml`` (top-level keys) or ``pyproject.toml`` (the
``[tool.serialscale]`` table) found in the working directory or a folder above it, up to the
repository root: the first folder holding ``.git`` (a folder, or the file of a git worktree).
Outside any repository the search goes up to the home folder when it starts below it, and
reads only the starting folder otherwise (a ``/tmp/pyproject.toml`` someone else wrote is
never read). ``--config FILE`` names the file instead (``pyproject.toml``: its
``[tool.serialscale]`` table; any other name: top-level keys); ``--isolated`` reads none.

The search starts in the folder of what the command reads (the first file or folder named;
the working directory for standard input or a module), as ruff's does, not in the working
directory: ``serialscale analyze ../other/ci.yaml`` takes ``../other``'s settings.

Keys are the long flag names without their dashes (``processors = 16``, ``fail-on =
"serial"``, ``max-serial-fraction = 0.8``, ``exclude = ["drafts/*"]``). The top-level table
holds settings for every command; a table named after a command (``[tool.serialscale.gate]``,
or ``[gate]`` in serialscale.toml: see :data:`COMMANDS`) holds settings for that command only,
and wins over the top-level table. A flag given on the command line wins over both. A
top-level setting a command does not have is left to the commands that have it; one whose
value this command cannot take (``format = "markdown"`` for ``gate``, which writes text or
github) is ignored with a note, as is a setting in a command's table that the command does
not have. Unknown keys, and values no command can take, are located errors
(``pyproject.toml:12: error: unknown setting 'procesors' (did you mean 'processors'?)``).

Trust: file names in the file (``output``, ``plot``, ``baseline``, ``durations``) are relative
to the file's folder, not to where serialscale runs; a file found by the search writes
(``output``, ``plot``) only below its folder, symlinks resolved; settings that send data to
another machine (``scheduler``) are taken only from a file named with ``--config`` (a file
found by the search is ignored for them, with a note); and a file that sets where results are
written is named on standard error, so a checkout cannot write files unseen.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.errors import Location, WorkloadError, suggest

if TYPE_CHECKING:
    from types import ModuleType

NAMES = ("serialscale.toml", "pyproject.toml")
#: What marks a repository root: the upward search stops at the first folder holding it.
REPOSITORY_MARK = ".git"
#: Settings that name files: relative ones are resolved against the configuration file's
#: folder (``-`` stays standard input or output).
PATH_SETTINGS = ("output", "plot", "baseline", "durations")
#: Settings that write files: a configuration file that sets one is named on stderr.
OUTPUT_SETTINGS = ("output", "plot")
#: Settings that send workloads to another machine: only from ``--config FILE`` or the
#: command line, never from a file found by the search.
REMOTE_SETTINGS = ("scheduler",)
#: Options that choose the configuration itself, or how much is said: the command line only.
COMMAND_LINE_ONLY = ("config", "isolated", "quiet", "verbose")
#: The commands that read a configuration file: each may have a table of its own.
COMMANDS = ("analyze", "gate", "scale")
#: A configuration file larger than this is an error (a TOML file of settings is a few KB;
#: the cap keeps ``--config /dev/zero`` from exhausting memory).
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Config:
    """The settings of one command, read from ``path`` (``None``: no file found).

    ``explicit``: the file was named with ``--config``. ``refused``: settings the file holds
    that were not taken (see :data:`REMOTE_SETTINGS`). ``command``: the command it was read
    for; ``own``: the keys of ``values`` that come from that command's table (the others come
    from the top-level table).
    """

    values: dict[str, Any]
    path: Path | None
    text: str = ""
    explicit: bool = False
    refused: tuple[str, ...] = ()
    command: str = ""
    own: frozenset[str] = frozenset()

    def line_of(self, key: str) -> int | None:
        """The line that sets ``key`` (for messages), in the command's table when the value
        comes from there, else in the top-level table."""
        top = "tool.serialscale" if self.path is not None and self.path.name == NAMES[1] else ""
        want = ".".join(part for part in (top, self.table(key)) if part)
        table = ""  # the table of the lines read so far, as written ("" at the top)
        for number, line in enumerate(self.text.splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith("["):
                table = stripped.lstrip("[").split("]")[0].replace('"', "").replace(" ", "")
            elif table == want and stripped.startswith((key, f'"{key}"')) and "=" in stripped:
                return number
        return None

    def table(self, key: str) -> str:
        """Which table ``key``'s value comes from: the command's name, or ``""`` (top level)."""
        return self.command if key in self.own else ""

    def error(self, key: str, message: str) -> WorkloadError:
        """A located error about ``key``."""
        return WorkloadError(message, Location(str(self.path), self.line_of(key)))

    def where(self, key: str) -> str:
        """``file:line`` of ``key``, for notes."""
        return Location(_shown(str(self.path)), self.line_of(key)).prefix()


def _toml() -> ModuleType:
    """The TOML reader, imported when a file is read (most runs find none)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def search_folders(start: Path | None = None) -> list[Path]:
    """The folders searched for a configuration file, nearest first: from ``start`` (default:
    the working directory; see :func:`start_of`) up to the repository root (the first folder
    holding ``.git``); without one, up to the home folder when ``start`` is below it, else
    ``start`` alone."""
    try:
        folder = (start or Path.cwd()).resolve()
    except OSError:  # the working directory was removed: there is nothing to search
        return []
    chain = [folder, *folder.parents]
    for i, candidate in enumerate(chain):
        if _present(candidate / REPOSITORY_MARK):
            return chain[: i + 1]
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no password entry
        return [folder]
    if home in chain and home != Path(home.anchor):
        return chain[: chain.index(home) + 1]
    return [folder]


def _present(path: Path, regular: bool = False) -> bool:
    """Whether ``path`` exists (a regular file, with ``regular``); a folder that cannot be
    searched (permission denied) holds nothing."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(mode) if regular else True


def start_of(target: str) -> Path | None:
    """Where the search starts for a command that reads ``target``: the folder it names, the
    folder of the file it names (``file.py`` for ``file.py:function``); ``None`` (the working
    directory) for standard input, a module (``package.module:function``) or a path whose
    folder does not exist."""
    if not target or target == "-":
        return None
    path = Path(target)
    file, sep, _ = target.rpartition(":")
    if sep and file and not _present(path) and (file.endswith(".py") or _present(Path(file))):
        path = Path(file)  # file.py:function
    elif sep and file and not _present(path):
        return None  # package.module:function, imported from the working directory
    try:
        folder = path if path.is_dir() else path.parent
        return folder if folder.is_dir() else None
    except (OSError, ValueError):
        return None


def find(start: Path | None = None) -> Path | None:
    """The configuration file for a run in ``start`` (default: the working directory): the
    nearest ``serialscale.toml``, or ``pyproject.toml`` with a ``[tool.serialscale]`` table, in
    :func:`search_folders`. Only regular files count (not a FIFO or a device)."""
    for candidate in search_folders(start):
        for name in NAMES:
            path = candidate / name
            if not _present(path, regular=True):
                continue
            if name == "pyproject.toml":
                try:
                    text = _read(path)
                except WorkloadError:
                    continue
                if "serialscale" not in text:
                    continue
                tomllib = _toml()
                try:
                    if "serialscale" not in tomllib.loads(text).get("tool", {}):
                        continue
                except tomllib.TOMLDecodeError:
                    if "[tool.serialscale" not in text:
                        continue  # someone else's broken pyproject.toml: not ours to report
            return path
    return None


def load(
    command: str,
    start: Path | None = None,
    *,
    explicit: Path | None = None,
    isolated: bool = False,
) -> Config:
    """The settings for ``command`` (one of :data:`COMMANDS`): the top-level table and the
    command's own table over it; from ``explicit`` (``--config FILE``) when given, none when
    ``isolated``, else from :func:`find` (from ``start``: see :func:`start_of`)."""
    if isolated:
        return Config({}, None)
    path = explicit if explicit is not None else find(start)
    if path is None:
        return Config({}, None)
    text = _read(path)
    tomllib = _toml()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, where = _toml_place(str(exc), text)
        raise WorkloadError(f"not valid TOML: {message}", Location(str(path), *where)) from None
    table: Any = data
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("serialscale", {})
    if not isinstance(table, dict):
        raise WorkloadError("[tool.serialscale] must be a table", Location(str(path)))
    values = {k: v for k, v in table.items() if k not in COMMANDS}
    config = Config(values, path, text, explicit is not None)
    for name in COMMANDS:
        if name in table and not isinstance(table[name], dict):
            raise config.error(name, f"'{name}' must be a table of settings for serialscale "
                               f"{name}")  # fmt: skip
    own = table.get(command, {})
    values.update(own)
    config = Config(values, path, text, config.explicit, (), command, frozenset(own))
    for key in PATH_SETTINGS:
        if key in values:
            values[key] = _path_setting(config, key, values[key])
            if key in OUTPUT_SETTINGS and not config.explicit:
                _check_inside(config, key, values[key])
    refused = () if config.explicit else tuple(k for k in REMOTE_SETTINGS if k in values)
    for key in refused:
        del values[key]
    return Config(values, path, text, config.explicit, refused, command, config.own)


def _toml_place(message: str, text: str) -> tuple[str, tuple[int | None, int | None]]:
    """tomllib's message without the place it appends, and that place as (line, column):
    ``(at line 3, column 7)``, or ``(at end of document)``: the last line, past its end."""
    import re

    found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if found:
        return found[1], (int(found[2]), int(found[3]))
    if message.endswith(" (at end of document)"):
        lines = text.split("\n")
        return message.removesuffix(" (at end of document)"), (len(lines), len(lines[-1]) + 1)
    return message, (None, None)


def _read(path: Path) -> str:
    """The text of a configuration file, at most :data:`MAX_CONFIG_BYTES`; never blocks on a
    FIFO (opened without waiting for a writer)."""
    where = Location(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise WorkloadError(_cannot_read(exc), where) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise WorkloadError("the configuration must be a regular file", where)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise WorkloadError(_cannot_read(exc), where) from None
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise WorkloadError(f"the configuration is larger than {MAX_CONFIG_BYTES >> 20} MiB", where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkloadError(f"the configuration is not UTF-8 ({exc.reason})", where) from None


def _cannot_read(exc: OSError) -> str:
    return f"cannot read the configuration: {exc.strerror or exc}"


def _path_setting(config: Config, key: str, value: Any) -> Path:
    """A file-name setting, checked, relative to the configuration file's folder."""
    if not isinstance(value, str) or not value or "\0" in value:
        raise config.error(key, f"setting '{key}' must be a file name (a non-empty string)")
    if value == "-":
        return Path(value)
    assert config.path is not None
    return config.path.resolve().parent / value  # an absolute value stays itself


def _check_inside(config: Config, key: str, path: Path) -> None:
    """A file found by the search writes only inside its own folder: ``../../.bashrc``, an
    absolute path elsewhere, or a symlink committed in the repository that leads out of it
    (the write would replace the link's target) are errors."""
    if str(path) == "-":
        return
    assert config.path is not None
    folder = os.path.realpath(config.path.parent)
    real = os.path.realpath(path)
    if real != folder and not real.startswith(folder.rstrip(os.sep) + os.sep):
        raise config.error(
            key,
            f"setting '{key}' writes outside {_shown(folder)} ({_shown(real)}); a configuration "
            f"file found by the search writes only below its folder (give --{key} or "
            "--config FILE)",
        )


def notes(config: Config, applied: Mapping[str, Any], takes: Collection[str]) -> list[str]:
    """What to say on standard error about ``config``: the settings it holds that were refused
    (for a command that ``takes`` them), and the files it makes the command write
    (``applied``: the settings taken from it)."""
    said = []
    for key in config.refused:
        if key in takes:
            said.append(
                f"{config.where(key)}: note: '{key}' is ignored in a configuration file found "
                f"by the search (it sends workloads to another machine); give --{key} or "
                "--config FILE"
            )
    written = [f"{key} = {_shown(str(applied[key]))}" for key in OUTPUT_SETTINGS if key in applied]
    if written:
        shown = _shown(str(config.path))
        said.append(f"{shown}: note: settings from this file: " + ", ".join(written))
    return said


def shown(text: str) -> str:
    """``text`` safe for a line on standard error (see :func:`_shown`)."""
    return _shown(text)


def _shown(text: str) -> str:
    """``text`` with control characters escaped, for a line on standard error (a folder name
    must not start a line of its own)."""
    return "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in text)


def check_keys(config: Config, known: list[str]) -> None:
    """Unknown keys are errors, with the closest known one suggested; so are the options that
    choose the configuration (``config``, ``isolated``)."""
    allowed = [k for k in known if k not in COMMAND_LINE_ONLY]
    for key in [*config.values, *config.refused]:
        if key in COMMAND_LINE_ONLY:
            raise config.error(key, f"'{key}' is a command-line option only (--{key})")
        if key not in allowed:
            tables = ", ".join(f"[{table_prefix(config)}{c}]" for c in COMMANDS)
            raise config.error(
                key,
                f"unknown setting '{key}'{suggest(key, [*allowed, *COMMANDS])}; settings are "
                "the long flag names without dashes: " + ", ".join(sorted(allowed)) + "; "
                f"tables of one command's settings: {tables}",
            )


def table_prefix(config: Config) -> str:
    return "tool.serialscale." if config.path is not None and config.path.name == NAMES[1] else ""
