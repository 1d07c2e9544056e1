"""Reading YAML and JSON documents safely, and finding where a node sits in the text.

The fast path parses with libyaml (``CSafeLoader``) or :mod:`json` and keeps no positions.
Only when something is wrong does :class:`Locator` parse the text again, keeping marks, to turn
a path such as ``("steps", 3, "needs", 1)`` into a line and column. Valid input pays nothing
for located errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from json.decoder import scanstring  # type: ignore[attr-defined]  # (untyped in typeshed)
from typing import TYPE_CHECKING, Any

from ..base.errors import Location, WorkloadError, byte_location

if TYPE_CHECKING:
    import yaml

#: Largest sequence an alias may point at; bigger shared structures are rejected, so a small
#: file cannot expand into a huge one ("billion laughs").
ALIAS_LIMIT = 10_000


class _AliasError(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


@cache
def _loaders() -> tuple[type, type, type]:
    """(libyaml's safe loader or PyYAML's, the same refusing duplicate keys, and that one
    also refusing aliases to nested structures). PyYAML is imported here, when a file needs
    it: workloads the fast reader takes (yaml_fast) never load it."""
    import yaml

    base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class FastLoader(base):
        """libyaml's safe loader, refusing duplicate keys."""

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
            mapping = super().construct_mapping(node, deep)
            if len(mapping) != len(node.value):
                _raise_duplicate_key(self, node)
            return mapping

    class CheckedLoader(FastLoader):
        """Used only for text that has anchors: also refuses aliases to nested structures."""

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            if node in self.constructed_objects and _is_large(node):
                raise _AliasError(node)
            return super().construct_object(node, deep)

    return base, FastLoader, CheckedLoader


def _is_large(node: yaml.Node) -> bool:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return True
    if isinstance(node, yaml.SequenceNode):
        return len(node.value) > ALIAS_LIMIT or any(
            not isinstance(child, yaml.ScalarNode) for child in node.value
        )
    return False


def _raise_duplicate_key(loader: Any, node: yaml.MappingNode) -> None:
    import yaml

    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            first = seen[key].start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key '{key}' in one mapping (first at line {first})",
                key_node.start_mark,
            )
        seen[key] = key_node
    # Lengths differ without a repeated key only when a merge key (<<) overrode one.


def decode(data: bytes, source: str) -> str:
    """UTF-8 text of ``data`` (a BOM is dropped), or a located error for binary or bad bytes."""
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise WorkloadError(
            "this is a binary file (NUL byte found); expected YAML or JSON text",
            Location(source, line),
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkloadError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            byte_location(source, data, exc.start),
        ) from None


def parse_document(text: str, source: str, is_json: bool) -> Any:
    """Parse ``text`` as JSON or YAML into plain Python data; syntax errors are located."""
    try:
        return _parse(text, source, is_json)
    except ValueError as exc:  # an integer literal too long for Python to convert
        if "digits" not in str(exc):
            raise
        found = _LONG_NUMBER.search(text)
        line, column = _line_column(text, found.start()) if found else (None, None)
        raise WorkloadError(
            "a number with more than 4,300 digits; expected a number of sensible size",
            Location(source, line, column),
        ) from None
    except MemoryError:
        raise WorkloadError("the input is too large to parse in memory", Location(source)) from None


_LONG_NUMBER = re.compile(r"\d{4300,}")


def _parse(text: str, source: str, is_json: bool) -> Any:
    if is_json:
        return _parse_json(text, source)
    import yaml

    _, fast_loader, checked_loader = _loaders()
    loader = checked_loader if "&" in text else fast_loader
    try:
        return yaml.load(text, Loader=loader)
    except _AliasError as exc:
        mark = exc.node.start_mark
        raise WorkloadError(
            "this anchored structure is reused through an alias (*name), but it is nested or "
            f"large; only scalars and flat lists of up to {ALIAS_LIMIT} items may be reused",
            Location(source, mark.line + 1, mark.column + 1),
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context and "nesting depth" not in problem:
            problem = f"{exc.context}: {problem}"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise WorkloadError(
            f"YAML syntax error: {problem}", Location(source, line, column)
        ) from None
    except yaml.YAMLError as exc:
        raise WorkloadError(f"YAML error: {exc}", Location(source)) from None
    except RecursionError:
        raise WorkloadError("input is nested too deeply", Location(source)) from None


def _parse_json(text: str, source: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _DuplicateJsonKey(key)
                seen.add(key)
        return result

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise WorkloadError(
            f"JSON syntax error: {exc.msg}", Location(source, exc.lineno, exc.colno)
        ) from None
    except _DuplicateJsonKey as exc:
        found = _repeated_json_key(text)
        if found is None:  # cannot happen: json saw the repeat
            message = f"duplicate key '{exc.key}' in one object"
            raise WorkloadError(message, Location(source)) from None
        second, first = found
        line, column = _line_column(text, second)
        raise WorkloadError(
            f"duplicate key '{exc.key}' in one object (first at line "
            f"{_line_column(text, first)[0]})",
            Location(source, line, column),
        ) from None
    except RecursionError:
        raise WorkloadError("input is nested too deeply", Location(source)) from None


class _DuplicateJsonKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


_JSON_STRUCTURE = re.compile(r'[{}\[\],"]')


def _repeated_json_key(text: str) -> tuple[int, int] | None:
    """Offsets of the first key repeated within one object, and of its first occurrence.

    Keys are compared decoded (``"\\u0069d"`` is ``"id"``), in the object they belong to.
    Runs only on the error path, on text that already parsed.
    """
    keys: list[dict[str, int] | None] = []  # per open container: an object's keys, or None
    expect_key: list[bool] = []
    match = _JSON_STRUCTURE.search(text)
    while match:
        i = match.start()
        c = text[i]
        end = i + 1
        if c in "{[":
            keys.append({} if c == "{" else None)
            expect_key.append(c == "{")
        elif c in "}]":
            keys.pop()
            expect_key.pop()
        elif c == ",":
            expect_key[-1] = keys[-1] is not None
        else:  # a string: a key when an object expects one
            value, end = scanstring(text, i + 1)
            seen = keys[-1] if keys else None
            if seen is not None and expect_key[-1]:
                if value in seen:
                    return i, seen[value]
                seen[value] = i
                expect_key[-1] = False
        match = _JSON_STRUCTURE.search(text, end)
    return None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class Locator:
    """Finds the line and column of a path into the document, parsing again only when asked."""

    def __init__(self, text: str | bytes, source: str) -> None:
        self._text = text  # bytes are decoded only if an error has to be located
        self._source = source
        self._root: yaml.Node | None = None
        self._tried = False

    def _node(self, path: Sequence[str | int], key: bool) -> yaml.Node | None:
        import yaml

        if not self._tried:
            self._tried = True
            try:
                text = self._text
                if isinstance(text, bytes):
                    text = text.decode("utf-8-sig", errors="replace")
                self._root = self._compose(text)
            except (yaml.YAMLError, RecursionError, ValueError):
                self._root = None
        node = self._root
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                found = None
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        found = k if (last and key) else v
                        break
                node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if 0 <= part < len(node.value) else None
            else:
                return node
            if node is None:
                return None
        return node

    @staticmethod
    def _compose(text: str) -> yaml.Node | None:
        import yaml

        base = _loaders()[0]
        try:
            return yaml.compose(text, Loader=base)
        except yaml.YAMLError:
            # libyaml refuses some escapes that are valid JSON (a lone "\ud800"), which the
            # pure-Python loader reads: locating an error in such a file is worth its time.
            if base is yaml.SafeLoader:
                raise
            return yaml.compose(text, Loader=yaml.SafeLoader)

    def at(
        self, path: Sequence[str | int], step_id: str | None = None, key: bool = False
    ) -> Location:
        """Location of the value at ``path`` (of its key when ``key``); as near as it finds."""
        node = self._node(path, key)
        while node is None and path:
            path = path[:-1]
            node = self._node(path, False)
        if node is None:
            return Location(self._source, step_id=step_id)
        mark = node.start_mark
        return Location(self._source, mark.line + 1, mark.column + 1, step_id)
