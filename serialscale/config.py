"""Settings from a configuration file, as ruff, coverage and pytest read theirs.

The file is the first of ``serialscale.toml`` (top-level keys) or ``pyproject.toml`` (the
``[tool.serialscale]`` table) found in the working directory or a folder above it. Keys are
the long flag names without their dashes (``processors = 16``, ``fail-on = "serial"``,
``max-serial-fraction = 0.8``, ``exclude = ["drafts/*"]``); ``[tool.serialscale.scale]`` (or
``[scale]`` in serialscale.toml) holds settings for ``serialscale scale`` only. A flag given on
the command line wins. Unknown keys, and values of the wrong type, are located errors
(``pyproject.toml:12: error: unknown setting 'procesors' (did you mean 'processors'?)``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Location, WorkloadError, suggest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

NAMES = ("serialscale.toml", "pyproject.toml")


@dataclass(frozen=True)
class Config:
    """The settings of one command, read from ``path`` (``None``: no file found)."""

    values: dict[str, Any]
    path: Path | None
    text: str = ""

    def line_of(self, key: str) -> int | None:
        """The line that sets ``key`` (for messages)."""
        for number, line in enumerate(self.text.splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith((key, f'"{key}"')) and "=" in stripped:
                return number
        return None

    def error(self, key: str, message: str) -> WorkloadError:
        """A located error about ``key``."""
        return WorkloadError(message, Location(str(self.path), self.line_of(key)))


def find(start: Path | None = None) -> Path | None:
    """The configuration file for a run in ``start`` (default: the working directory)."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        for name in NAMES:
            path = candidate / name
            if not path.is_file():
                continue
            if name == "pyproject.toml":
                try:
                    if "[tool.serialscale" not in path.read_text(encoding="utf-8"):
                        continue
                except (OSError, UnicodeDecodeError):
                    continue
            return path
    return None


def load(command: str, start: Path | None = None) -> Config:
    """The settings for ``command`` (``analyze``, ``gate`` or ``scale``)."""
    path = find(start)
    if path is None:
        return Config({}, None)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"cannot read the configuration: {exc}", Location(str(path))) from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        message = str(exc).split(" (at line")[0]
        raise WorkloadError(f"not valid TOML: {message}", Location(str(path), line)) from None
    table: Any = data if path.name == "serialscale.toml" else data.get("tool", {}).get(
        "serialscale", {}
    )  # fmt: skip
    if not isinstance(table, dict):
        raise WorkloadError("[tool.serialscale] must be a table", Location(str(path)))
    values = {k: v for k, v in table.items() if k != "scale"}
    if command == "scale" and isinstance(table.get("scale"), dict):
        values.update(table["scale"])
    return Config(values, path, text)


def apply(config: Config, options: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """``options`` (flag name without dashes -> parameter) with the file's settings for the
    flags not ``given`` on the command line. Each option's converter checks the value."""
    return {k: v for k, v in config.values.items() if k in options and k not in given}


def check_keys(config: Config, known: list[str]) -> None:
    """Unknown keys are errors, with the closest known one suggested."""
    for key in config.values:
        if key not in known:
            raise config.error(
                key,
                f"unknown setting '{key}'{suggest(key, known)}; settings are the long flag "
                "names without dashes: " + ", ".join(sorted(known)),
            )
