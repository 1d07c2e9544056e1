"""A small, linear reader of the DOT language (graphviz.org/doc/info/lang.html).

Only what a step graph needs is kept: the graph's kind and name, its nodes in the order they
first appear with their attributes (the ``node [...]`` defaults of their scope at that moment,
then their own), and its edges, each with the offset of the statement that wrote it (to
locate a cycle). Everything else the grammar allows is read and dropped (edge and graph
attributes, ``ID = ID`` statements, ports and compass points).

The grammar, as documented:

- ``[strict] (graph | digraph) [ID] '{' stmt_list '}'``; keywords are case-independent;
- IDs: identifiers (letters, ``_``, digits, any non-ASCII character; not starting with a
  digit), numerals (``[-]?(.[0-9]+ | [0-9]+(.[0-9]*)?)``), double-quoted strings (``\\"`` is a
  quote, a backslash before a newline continues the line, ``"a" + "b"`` concatenates) and
  HTML strings ``<...>`` (balanced angle brackets);
- comments ``//`` and ``/* */``; a line beginning with ``#`` is discarded;
- statements: ``node_id [attr_list]``; ``(node_id | subgraph) (edgeop (node_id | subgraph))+
  [attr_list]`` (an edge chain; a subgraph as an endpoint stands for all its nodes);
  ``(graph | node | edge) attr_list``; ``ID = ID``; ``[subgraph [ID]] { stmt_list }``;
- a node id may carry a port: ``a:p``, ``a:p:n`` (still node ``a``).

The parser keeps an explicit stack of open subgraphs (no recursion: nesting is bounded by
:data:`MAX_NESTING`, not by Python's stack), reads each character a bounded number of times,
and prints nothing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ...base.errors import Location, WorkloadError

#: Deepest nesting of subgraphs read (graphviz's own parser stops at a few thousand).
MAX_NESTING = 1000

KEYWORDS = frozenset({"strict", "graph", "digraph", "node", "edge", "subgraph"})

_SPACE = re.compile(r"(?:[ \t\r\n\f\v]+|//[^\n]*|/\*.*?\*/)+", re.S)
_LINE_COMMENT = re.compile(r"#[^\n]*")
_IDENT = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z_0-9\u0080-\U0010ffff]*")
_NUMERAL = re.compile(r"-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)")
_QUOTED_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.S)

# token kinds
ID, QUOTED, HTML, PUNCT, EDGEOP, END = "id", "quoted", "html", "punct", "edgeop", "end"


@dataclass
class DotGraph:
    """What the file says: kind, name, nodes (first appearance order) and edges."""

    strict: bool
    directed: bool
    name: str
    #: node -> its attributes (defaults at creation, then its own statements')
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    #: (tail, head) -> offset of the first statement that wrote it, in order
    edges: dict[tuple[str, str], int] = field(default_factory=dict)
    #: node -> offset of the statement its cost last came from (a node statement that set
    #: ``cost`` or ``weight``, else its first mention): where a bad cost is shown
    written: dict[str, int] = field(default_factory=dict)
    #: self-edges written (``x -> x``), and the first one
    self_edges: int = 0
    first_self_edge: str | None = None
    #: graphs after the first (read for syntax only)
    more_graphs: int = 0


class _Budget:
    """Counts what the file expands to, so an edge between two large subgraphs cannot make
    more pairs than the limits allow."""

    def __init__(self, max_nodes: int, max_pairs: int) -> None:
        self.max_nodes = max_nodes
        self.max_pairs = max_pairs
        self.pairs = 0


class DotSyntaxError(WorkloadError):
    """A located syntax error (the offset is turned into line and column)."""


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Lexer:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0
        self.peeked: list[tuple[str, str, int]] = []

    def error(self, message: str, offset: int) -> DotSyntaxError:
        line, column = line_column(self.text, offset)
        return DotSyntaxError(f"not a DOT graph: {message}",
                              Location(self.source, line, column))  # fmt: skip

    def _skip(self) -> None:
        text = self.text
        while True:
            m = _SPACE.match(text, self.pos)
            if m:
                self.pos = m.end()
            if (
                self.pos < len(text)
                and text[self.pos] == "#"
                and (self.pos == 0 or text[self.pos - 1] == "\n")
            ):
                self.pos = _LINE_COMMENT.match(text, self.pos).end()  # type: ignore[union-attr]
                continue
            if text.startswith("/*", self.pos):
                raise self.error("a comment '/*' is never closed", self.pos)
            return

    def _quoted(self, start: int) -> tuple[str, int]:
        m = _QUOTED_BODY.match(self.text, start + 1)
        if not m:
            raise self.error("a quoted string is never closed", start)
        raw = self.text[start + 1 : m.end() - 1]
        if "\\" in raw:
            raw = raw.replace("\\\r\n", "").replace("\\\n", "").replace('\\"', '"')
        return raw, m.end()

    def _html(self, start: int) -> tuple[str, int]:
        text = self.text
        depth = 0
        i = start
        while True:
            j = _next_angle(text, i)
            if j < 0:
                raise self.error("an HTML string '<...>' is never closed", start)
            if text[j] == "<":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return text[start + 1 : j], j + 1
            i = j + 1

    def _read(self) -> tuple[str, str, int]:
        self._skip()
        text = self.text
        start = self.pos
        if start >= len(text):
            return END, "", start
        c = text[start]
        if c == '"':
            value, end = self._quoted(start)
            self.pos = end
            # "a" + "b" concatenates
            while True:
                save = self.pos
                self._skip()
                if self.pos < len(text) and text[self.pos] == "+":
                    self.pos += 1
                    self._skip()
                    if self.pos < len(text) and text[self.pos] == '"':
                        more, end = self._quoted(self.pos)
                        value += more
                        self.pos = end
                        continue
                    raise self.error("'+' must join two quoted strings", self.pos)
                self.pos = save
                return QUOTED, value, start
        if c == "<":
            value, self.pos = self._html(start)
            return HTML, value, start
        if c == "-" and start + 1 < len(text) and text[start + 1] in "->":
            self.pos = start + 2
            return EDGEOP, text[start : start + 2], start
        if c in "{}[];,=:":
            self.pos = start + 1
            return PUNCT, c, start
        m = _NUMERAL.match(text, start)
        if m:
            self.pos = m.end()
            return ID, m.group(), start
        m = _IDENT.match(text, start)
        if m:
            self.pos = m.end()
            return ID, m.group(), start
        shown = c if c.isprintable() else f"U+{ord(c):04X}"
        raise self.error(f"unexpected character {shown!r}", start)

    def peek(self, k: int = 0) -> tuple[str, str, int]:
        while len(self.peeked) <= k:
            self.peeked.append(self._read())
        return self.peeked[k]

    def next(self) -> tuple[str, str, int]:
        token = self.peek()
        self.peeked.pop(0)
        return token


def _next_angle(text: str, i: int) -> int:
    a, b = text.find("<", i), text.find(">", i)
    if a < 0:
        return b
    if b < 0:
        return a
    return min(a, b)


def _keyword(token: tuple[str, str, int], word: str) -> bool:
    return token[0] == ID and token[1].lower() == word


def _is_id(token: tuple[str, str, int]) -> bool:
    return token[0] in (QUOTED, HTML) or (token[0] == ID and token[1].lower() not in KEYWORDS)


_START, _WANT, _AFTER = 0, 1, 2


class _Frame:
    """An open graph or subgraph: its node defaults and the nodes seen inside it, and the
    statement being read in it (the endpoint groups of an edge chain so far)."""

    __slots__ = ("chain", "defaults", "edge_offset", "members", "single", "state")

    def __init__(self, defaults: dict[str, str]) -> None:
        self.state = _START
        self.defaults = defaults
        self.members: dict[str, None] = {}
        self.chain: list[dict[str, None]] | None = None
        self.single: str | None = None  # the node of a statement that is just one node id
        self.edge_offset = 0


class _Parser:
    def __init__(self, text: str, source: str, budget: _Budget) -> None:
        self.lex = _Lexer(text, source)
        self.budget = budget

    def expect(self, value: str, what: str) -> tuple[str, str, int]:
        token = self.lex.next()
        if token[0] not in (PUNCT, EDGEOP) or token[1] != value:
            raise self.unexpected(token, what)
        return token

    def unexpected(self, token: tuple[str, str, int], what: str) -> DotSyntaxError:
        found = "the end of the file" if token[0] == END else repr(_short(token[1]))
        return self.lex.error(f"expected {what}, found {found}", token[2])

    def graphs(self) -> DotGraph:
        first = self.graph(build=True)
        while self.lex.peek()[0] != END:
            self.graph(build=False)
            first.more_graphs += 1
        return first

    def graph(self, build: bool) -> DotGraph:
        lex = self.lex
        token = lex.next()
        strict = _keyword(token, "strict")
        if strict:
            token = lex.next()
        if not (_keyword(token, "digraph") or _keyword(token, "graph")):
            raise self.unexpected(token, "'digraph NAME { ... }'")
        directed = token[1].lower() == "digraph"
        if not directed and build:
            raise WorkloadError("an undirected graph ('graph') has no order; expected 'digraph'",
                                lex.error("", token[2]).location)  # fmt: skip
        name = ""
        if _is_id(lex.peek()):
            name = lex.next()[1]
        self.expect("{", "'{' after the graph's name")
        out = DotGraph(strict, directed, name)
        self.body(out, build)
        return out

    def node(self, out: DotGraph, frame: _Frame, build: bool) -> str:
        """Read a node id (and its port); create the node with the scope's defaults."""
        lex = self.lex
        token_offset = lex.peek()[2]
        name = lex.next()[1]
        if lex.peek()[0] == PUNCT and lex.peek()[1] == ":":  # port, then compass point
            lex.next()
            if not _is_id(lex.peek()):
                raise self.unexpected(lex.peek(), "a port name after ':'")
            lex.next()
            if lex.peek()[0] == PUNCT and lex.peek()[1] == ":":
                lex.next()
                if not _is_id(lex.peek()):
                    raise self.unexpected(lex.peek(), "a compass point after ':'")
                lex.next()
        if build and name not in out.nodes:
            if len(out.nodes) >= self.budget.max_nodes:
                raise _TooMany("steps")
            out.nodes[name] = dict(frame.defaults)
            out.written[name] = token_offset
        frame.members[name] = None
        return name

    def attributes(self) -> dict[str, str]:
        """``[a=b, c=d; ...] [...]``: zero or more lists, read into one mapping."""
        lex = self.lex
        attrs: dict[str, str] = {}
        while lex.peek()[0] == PUNCT and lex.peek()[1] == "[":
            lex.next()
            while True:
                token = lex.peek()
                if token[0] == PUNCT and token[1] == "]":
                    lex.next()
                    break
                if not _is_id(token):
                    raise self.unexpected(token, "an attribute name or ']'")
                key = lex.next()[1]
                self.expect("=", f"'=' after the attribute '{_short(key)}'")
                if not _is_id(lex.peek()):
                    raise self.unexpected(lex.peek(), f"a value for the attribute '{_short(key)}'")
                attrs[key] = lex.next()[1]
                if lex.peek()[0] == PUNCT and lex.peek()[1] in ",;":
                    lex.next()
        return attrs

    def body(self, out: DotGraph, build: bool) -> None:
        """The statements of the graph, up to its closing brace: a loop over an explicit
        stack of open subgraphs, each in one of three states (at a statement's start,
        wanting an endpoint after an edge operator, after an endpoint)."""
        lex = self.lex
        stack = [_Frame({})]
        while True:
            frame = stack[-1]
            token = lex.peek()
            kind, value, offset = token
            if frame.state == _START:
                if kind == PUNCT and value == ";":
                    lex.next()
                elif kind == PUNCT and value == "}":
                    lex.next()
                    stack.pop()
                    if not stack:
                        return
                    parent = stack[-1]
                    _merge_members(parent, frame)
                    assert parent.chain is not None
                    parent.chain.append(frame.members)
                    parent.state = _AFTER
                elif kind == END:
                    raise self.unexpected(token, "'}' to close the graph")
                elif (_keyword(token, "graph") or _keyword(token, "node")
                        or _keyword(token, "edge")):  # fmt: skip
                    lex.next()
                    if not (lex.peek()[0] == PUNCT and lex.peek()[1] == "["):
                        raise self.unexpected(lex.peek(), f"'[' after '{value}'")
                    attrs = self.attributes()
                    if value.lower() == "node":
                        frame.defaults.update(attrs)
                elif _is_id(token) and lex.peek(1)[0] == PUNCT and lex.peek(1)[1] == "=":
                    lex.next()
                    lex.next()
                    if not _is_id(lex.peek()):
                        raise self.unexpected(lex.peek(), "a value after '='")
                    lex.next()
                else:
                    frame.chain = []
                    frame.single = None
                    frame.edge_offset = offset
                    frame.state = _WANT
            elif frame.state == _WANT:
                chain = frame.chain
                assert chain is not None
                if _keyword(token, "subgraph") or (kind == PUNCT and value == "{"):
                    if kind == ID:
                        lex.next()
                        if _is_id(lex.peek()):
                            lex.next()
                    self.expect("{", "'{' to open the subgraph")
                    if len(stack) > MAX_NESTING:
                        raise lex.error(f"subgraphs nested deeper than {MAX_NESTING:,}", offset)
                    stack.append(_Frame(dict(frame.defaults)))
                elif _is_id(token):
                    name = self.node(out, frame, build)
                    frame.single = name if not chain else None
                    chain.append({name: None})
                    frame.state = _AFTER
                else:
                    raise self.unexpected(token, "a node, a subgraph or a statement")
            else:  # after an endpoint: another edge operator, or the statement's end
                chain = frame.chain
                assert chain is not None
                if kind == EDGEOP:
                    if (value == "->") != out.directed:
                        want = "'->' in a digraph" if out.directed else "'--' in a graph"
                        raise lex.error(f"expected {want}, found {value!r}", offset)
                    lex.next()
                    frame.single = None
                    frame.state = _WANT
                    continue
                attrs = self.attributes()
                if len(chain) == 1:
                    if frame.single is not None and build and attrs:
                        out.nodes[frame.single].update(attrs)
                        if "cost" in attrs or "weight" in attrs:
                            out.written[frame.single] = frame.edge_offset
                elif build:
                    self.connect(out, chain, frame.edge_offset)
                frame.chain = None
                frame.single = None
                frame.state = _START

    def connect(self, out: DotGraph, chain: list[dict[str, None]], offset: int) -> None:
        budget = self.budget
        for tails, heads in itertools.pairwise(chain):
            budget.pairs += len(tails) * len(heads)
            if budget.pairs > budget.max_pairs:  # counted before any pair is made
                raise _TooMany("dependencies")
            edges = out.edges
            for tail in tails:
                for head in heads:
                    if tail == head:
                        out.self_edges += 1
                        if out.first_self_edge is None:
                            out.first_self_edge = tail
                    elif (tail, head) not in edges:
                        edges[(tail, head)] = offset


def _merge_members(parent: _Frame, child: _Frame) -> None:
    """Add the child's nodes to the parent's (the smaller set into the larger, so deep
    nesting stays n log n)."""
    if len(child.members) > len(parent.members):
        merged = dict(child.members)
        merged.update(parent.members)
        parent.members = merged
    else:
        parent.members.update(child.members)


class _TooMany(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


def _short(text: str) -> str:
    """A token as an error message shows it: short, one line, printable."""
    text = "".join(c if c.isprintable() else " " for c in text[:40])
    return text + ("…" if len(text) >= 40 else "")


def parse_dot(text: str, source: str, max_nodes: int, max_pairs: int) -> DotGraph:
    """The first graph in ``text`` (later graphs are checked for syntax and counted).

    ``max_nodes`` and ``max_pairs`` bound the nodes made and the edge pairs written (a
    subgraph endpoint writes one pair per node): passing them raises ``_TooMany``'s
    :class:`WorkloadError` (``--max-steps``/``--max-dependencies``)."""
    parser = _Parser(text, source, _Budget(max_nodes, max_pairs))
    try:
        return parser.graphs()
    except _TooMany as exc:
        flag = "--max-steps" if exc.what == "steps" else "--max-dependencies"
        limit = max_nodes if exc.what == "steps" else max_pairs
        line, column = line_column(text, parser.lex.pos)
        raise WorkloadError(
            f"the graph has more than {flag} ({limit:,}) {exc.what}; raise the limit to analyze it",
            Location(source, line, column),
        ) from None
