"""Reading the YAML of CircleCI, Azure Pipelines, Buildkite and dvc, safely, and the small
helpers their readers share.

These files lean on anchors and merge keys (``<<: *defaults``) far more than serialscale's own
workloads, so aliases to mappings are allowed (as in the GitLab reader), but a document whose
aliases would expand it by more than :data:`MAX_ALIAS_EXPANSION` nodes ("billion laughs") is
refused before it is built, located at the document. Syntax errors are located; a document
nested past Python's recursion limit is an error, not a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from ...base.errors import Location, WorkloadError
from .yaml_guard import yaml_documents

T = TypeVar("T")

#: Names a note lists before it says "and N more".
SHOWN = 10


def load_yaml(text: str, source: str, what: str) -> Any:
    """The one YAML document in ``text`` (``what`` names the format in errors)."""
    base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        loader = base(text)
    except yaml.YAMLError as exc:  # a character YAML does not allow, found as it is read
        raise WorkloadError(f"YAML error: {short(str(exc))}", Location(source)) from None
    docs = yaml_documents(loader, text, source)
    if len(docs) > 1:
        raise WorkloadError(f"more than one YAML document ('---'); {what} has one",
                            Location(source))  # fmt: skip
    return docs[0] if docs else None


def short(value: Any, limit: int = 160) -> str:
    """``value`` as one printable line of at most ``limit`` characters, for messages."""
    text = value if isinstance(value, str) else repr(value)
    return "".join(c if c.isprintable() else " " for c in text[:limit])


def listed(items: list[str]) -> str:
    """``a, b, c`` (the first :data:`SHOWN`, then "and N more"), each once, in order."""
    items = list(dict.fromkeys(items))
    shown = ", ".join(items[:SHOWN])
    if len(items) > SHOWN:
        shown += f" and {len(items) - SHOWN} more"
    return shown


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: ``None`` is empty, a scalar is one item."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def scalar(value: Any) -> str | None:
    """A YAML scalar as the tools write it in names (``true``, ``1.5``); ``None`` if it is
    not one."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def read_guarded(read: Callable[..., T], path: Any, data: bytes, *args: Any) -> T:
    """``read(path, data, *args)``, with running out of memory or stack turned into a located
    error (the structures are freed before the message is built)."""
    try:
        return read(path, data, *args)
    except MemoryError:
        message = "the input is too large to read in memory"
    except RecursionError:
        message = "the input is nested too deeply"
    except ValueError as exc:  # StepPlan.add: two steps the format allows came out alike
        if "added twice" not in str(exc):
            raise
        message = f"two steps have the same name: {short(str(exc).split(' added')[0], 200)}"
    raise WorkloadError(message, Location(str(path)))
