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

    # YAML 1.1 reads 1:30 as the base-60 number 90 (and 1:30.5 as 90.5): a cost written so
    # would be 90 minutes where 1.5 hours was meant. Read as text (as YAML 1.2 does), a cost
    # so written is a located error that names the durations serialscale reads.
    inherited: dict[str | None, list[tuple[str, re.Pattern[str]]]]
    inherited = base.yaml_implicit_resolvers  # type: ignore[attr-defined]
    FastLoader.yaml_implicit_resolvers = {
        first: [(tag, _without_base_60(regexp) if tag in _NUMBER_TAGS else regexp)
                for tag, regexp in resolvers]
        for first, resolvers in inherited.items()
    }  # fmt: skip

    class CheckedLoader(FastLoader):
        """Used only for text that has anchors: also refuses aliases to nested structures."""

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            if node in self.constructed_objects and _is_large(node):
                raise _AliasError(node)
            return super().construct_object(node, deep)

    return base, FastLoader, CheckedLoader


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _without_base_60(regexp: re.Pattern[str]) -> re.Pattern[str]:
    """``regexp`` (a number's implicit resolver) refusing any text with a colon."""
    return re.compile(f"(?!.*:)(?:{regexp.pattern})", regexp.flags)


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


#: Texts up to this many characters are located on a node tree (composed once, every lookup
#: after that is a walk); longer ones by streaming parse events (:class:`_Cursor`), whose
#: memory does not grow with the text: the tree of a 200,000-step file took 600 MB to
#: report one error in it.
TREE_LOCATE_CHARS = 1 << 20


class Locator:
    """Finds the line and column of a path into the document, parsing again only when asked."""

    def __init__(self, text: str | bytes, source: str) -> None:
        self._text = text  # bytes are decoded only if an error has to be located
        self._source = source
        self._root: yaml.Node | None = None
        self._tried = False
        self._cursor: _Cursor | None = None

    def _decoded(self) -> str:
        text = self._text
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig", errors="replace")
            self._text = text
        return text

    def _node(self, path: Sequence[str | int], key: bool) -> yaml.Node | None:
        import yaml

        if not self._tried:
            self._tried = True
            try:
                self._root = self._compose(self._decoded())
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

    def _mark(self, path: Sequence[str | int], key: bool) -> tuple[int, int] | None:
        """(line, column), 0-based, of the node at ``path`` (its key when ``key``)."""
        text = self._decoded()
        if len(text) > TREE_LOCATE_CHARS:
            if self._cursor is None:
                self._cursor = _Cursor(text)
            return self._cursor.find(tuple(path), key)
        node = self._node(path, key)
        return None if node is None else (node.start_mark.line, node.start_mark.column)

    def at(
        self, path: Sequence[str | int], step_id: str | None = None, key: bool = False
    ) -> Location:
        """Location of the value at ``path`` (of its key when ``key``); as near as it finds."""
        mark = self._mark(path, key)
        while mark is None and path:
            path = path[:-1]
            mark = self._mark(path, False)
        if mark is None:
            return Location(self._source, step_id=step_id)
        return Location(self._source, mark[0] + 1, mark[1] + 1, step_id)


_Mark = tuple[int, int]


class _Frame:
    """An open mapping or sequence of :class:`_Cursor`'s walk."""

    __slots__ = ("expect_key", "index", "is_key", "is_map", "key", "key_mark", "mark", "seen")

    def __init__(self, is_map: bool, mark: _Mark, is_key: bool) -> None:
        self.is_map = is_map
        self.is_key = is_key  # a mapping or sequence used as a mapping's key
        self.mark = mark
        self.index = -1  # a sequence: the child last started
        self.expect_key = True  # a mapping: the next node is a key
        self.key: str | None = None  # a mapping: the (scalar) key of the value last started
        self.key_mark: _Mark = mark
        # a mapping: key -> (key's mark, value's mark), first occurrence only (as the tree
        # walk takes the first): what a lookup behind the walk still finds without a restart
        self.seen: dict[str, tuple[_Mark, _Mark]] = {}


#: The keys of one mapping :class:`_Cursor` remembers; a lookup of a key past them starts
#: the walk again (a hostile mapping cannot make the memory grow with the text).
_MOST_SEEN_KEYS = 10_000


class _Cursor:
    """Locates paths as :meth:`Locator._node` does on a composed tree, by a walk over the
    parse events that keeps only the open containers: memory grows with the nesting, not
    the text. The walk goes on from where the last lookup stopped, and starts again only
    for a path behind it (errors come mostly in document order). A repeated key is found
    at its first occurrence, as by the tree walk: a forward walk stops there, and a lookup
    behind the walk answers from the mapping's first keys. One difference: an alias is a
    leaf here (located at its anchor), where the tree walk can step into it."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pure = False  # set after libyaml refused the text (see Locator._compose)
        self._start()

    def _start(self) -> None:
        import yaml

        loader = yaml.SafeLoader if self._pure else _loaders()[0]
        self._events = iter(yaml.parse(self._text, Loader=loader))
        self._stack: list[_Frame] = []
        self._anchors: dict[str, _Mark] = {}
        self._root: _Mark | None = None
        self._ended = False

    def find(self, path: tuple[str | int, ...], key: bool) -> _Mark | None:
        """(line, column), 0-based, of the node at ``path`` (its key's when ``key``), or of
        the node where the tree walk would stop; ``None`` when there is none."""
        import yaml

        for _ in range(3):  # from here; from the start; from the start in pure Python
            state, mark = self._seen(path, key)
            if state == "found":
                return mark
            if state == "missing":
                return None
            if state == "ahead":
                try:
                    return self._forward(path, key)
                except yaml.YAMLError:
                    if self._pure or _loaders()[0] is yaml.SafeLoader:
                        return None
                    self._pure = True
            self._start()
        return None

    def _seen(self, path: tuple[str | int, ...], key: bool) -> tuple[str, _Mark | None]:
        """Whether what the walk has seen answers ``path`` ("found", "missing"), or the node
        is still "ahead", or behind and forgotten ("restart")."""
        if self._root is None:
            return ("missing", None) if self._ended else ("ahead", None)
        if not path:
            return "found", self._root
        stack = self._stack
        for d, part in enumerate(path):
            if d >= len(stack):  # the node at path[:d] is a leaf, or ended
                return "restart", None
            frame, last = stack[d], d == len(path) - 1
            child = stack[d + 1] if d + 1 < len(stack) else None
            if frame.is_map:
                name = str(part)
                first = frame.seen.get(name)
                if first is None:
                    full = len(frame.seen) >= _MOST_SEEN_KEYS
                    return ("restart" if full else "ahead"), None
                if last:
                    return "found", first[0] if key else first[1]
                if child is None or frame.key != name or child.mark != first[1]:
                    return "restart", None
            elif isinstance(part, int):
                if part > frame.index:
                    return "ahead", None
                if part < frame.index or child is None:
                    return "restart", None
                if last:
                    return "found", child.mark
            else:
                return "found", frame.mark  # as the tree walk: a sequence takes no key
        return "restart", None

    def _forward(self, path: tuple[str | int, ...], key: bool) -> _Mark | None:
        """Walks on until the node at ``path`` starts (its mark), or the container that
        should hold it ends (``None``)."""
        import yaml

        stack = self._stack
        for event in self._events:
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                ended = stack.pop()
                if not ended.is_key:
                    self._value_ended()
                if len(stack) < len(path) and self._on_path(path, len(stack)):
                    return None  # the container the path goes through ended without it
                continue
            if isinstance(event, (yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                self._ended = True
                return None
            if not isinstance(event, yaml.NodeEvent):
                continue
            start = event.start_mark
            mark: _Mark = (start.line, start.column) if start is not None else (0, 0)
            if isinstance(event, yaml.AliasEvent):
                mark = self._anchors.get(event.anchor or "", mark)
            elif event.anchor is not None:
                self._anchors[event.anchor] = mark
            opens = isinstance(event, yaml.CollectionStartEvent)
            parent = stack[-1] if stack else None
            if parent is not None and parent.is_map and parent.expect_key:
                # a key: kept until its value starts; only a scalar key is a path part
                parent.key = event.value if isinstance(event, yaml.ScalarEvent) else None
                parent.key_mark = mark
                parent.expect_key = False
                if opens:
                    stack.append(_Frame(isinstance(event, yaml.MappingStartEvent), mark, True))
                continue
            found = self._started(event, mark, path, key)
            if opens:
                stack.append(_Frame(isinstance(event, yaml.MappingStartEvent), mark, False))
            else:
                self._value_ended()
            if found is not None:
                return found
        self._ended = True
        return None

    def _started(self, event: object, mark: _Mark, path: tuple[str | int, ...],
                 key: bool) -> _Mark | None:  # fmt: skip
        """Records the node that starts at ``mark`` in its parent; its mark (its key's, for
        ``key``) when it is the node at ``path`` or where the tree walk stops on the way."""
        import yaml

        stack = self._stack
        depth = len(stack)
        if not stack:
            self._root = mark
        elif stack[-1].is_map:
            parent = stack[-1]
            if parent.key is not None and parent.key not in parent.seen:
                if len(parent.seen) < _MOST_SEEN_KEYS:
                    parent.seen[parent.key] = (parent.key_mark, mark)
                elif depth <= len(path) and self._on_path(path, depth):
                    return None  # cannot tell a first key from a repeat: stop here
        else:
            stack[-1].index += 1
        if depth > len(path) or not self._on_path(path, depth):
            return None
        if depth == len(path):
            return stack[-1].key_mark if key and stack and stack[-1].is_map else mark
        # parts remain: the tree walk stops at a leaf, or at a sequence asked for a key
        if not isinstance(event, yaml.CollectionStartEvent):
            return mark
        if isinstance(event, yaml.SequenceStartEvent) and not isinstance(path[depth], int):
            return mark
        return None

    def _on_path(self, path: tuple[str | int, ...], depth: int) -> bool:
        """Whether the child last started in each of the first ``depth`` open containers
        follows ``path``: the node at that depth lies on it."""
        for d in range(depth):
            frame = self._stack[d]
            if frame.is_map:
                if frame.key is None or frame.key != str(path[d]):
                    return False
            elif not isinstance(path[d], int) or frame.index != path[d]:
                return False
        return True

    def _value_ended(self) -> None:
        """A value ended: its mapping expects a key next."""
        if self._stack and self._stack[-1].is_map:
            self._stack[-1].expect_key = True
