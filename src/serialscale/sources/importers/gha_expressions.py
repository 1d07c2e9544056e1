"""GitHub Actions expressions (``${{ ... }}``), evaluated safely over what is known statically.

The language is GitHub's, as its documentation ("Evaluate expressions in workflows and
actions") describes it; nothing is ever passed to Python's ``eval``:

- literals: ``true false null``, numbers (JSON numbers, ``0xff``, ``-2.99e-2``), strings in
  single quotes (``''`` is a quote);
- operators, loosest first: ``||``, ``&&``, ``== !=``, ``< <= > >=``, ``!``, then
  property access ``a.b``, index ``a['b']`` / ``a[0]``, object filters ``a.*.b``, calls;
- GitHub's loose comparison: values of different types are compared as numbers (``null`` is
  0, ``true`` 1, a string is parsed as a JSON number, ``''`` is 0, anything else NaN, and NaN
  compares false), strings compare ignoring case, arrays and objects equal only themselves;
- functions ``contains startsWith endsWith format join toJSON fromJSON case hashFiles
  always success failure cancelled`` (names ignore case).

Contexts that exist only while a workflow runs (``github``, ``needs``, ``secrets``, ``vars``,
``env``, ``steps``, ``job``, ``runner``, and ``inputs`` of a workflow not called by another)
evaluate to :class:`Opaque`, which propagates (``false && x`` is still ``false``). The status
functions describe a run in which every job succeeds: ``success()`` and ``always()`` are true,
``failure()`` and ``cancelled()`` false. ``hashFiles`` is opaque.

Hostile input is bounded: expressions are at most :data:`MAX_EXPRESSION` characters, nesting
at most :data:`MAX_DEPTH`, and any string or JSON value an expression builds at most
:data:`MAX_VALUE` characters; beyond that, :class:`ExpressionError`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NoReturn

from ...base.errors import SerialscaleError

#: Longest expression accepted (characters between ``${{`` and ``}}``).
MAX_EXPRESSION = 20_000
#: Deepest nesting of an expression (parentheses, operators, calls) or of a value.
MAX_DEPTH = 50
#: Longest string (or JSON text) an expression may build.
MAX_VALUE = 200_000
#: Characters all the expressions of one input may build together (see :func:`budget`):
#: an expression evaluated per combination and per call cannot multiply its cost unbounded.
MAX_TOTAL = 20_000_000

_REMAINING: ContextVar[list[int] | None] = ContextVar("gha_expression_budget", default=None)

#: Contexts GitHub knows; those not given to :func:`evaluate` are opaque.
CONTEXTS = frozenset(
    {"github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy",
     "matrix", "needs", "inputs"}
)  # fmt: skip


class ExpressionError(SerialscaleError, ValueError):
    """A malformed expression, or one that cannot be evaluated; the message says why."""


@dataclass(frozen=True)
class Opaque:
    """A value known only when the workflow runs: ``source`` names the context it depends on
    (``github.event_name``), ``text`` is the workflow text that holds it, if any."""

    source: str
    text: str | None = None

    def __str__(self) -> str:
        return self.text if self.text is not None else "${{ " + self.source + " }}"


class _Filtered(list[Any]):
    """The result of an object filter (``a.*``): property access maps over its items."""


def is_opaque(value: Any) -> bool:
    """Whether ``value`` is known only at run time."""
    return isinstance(value, Opaque)


# --- lexing -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>[+-]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
    | (?P<str>'(?:[^']|'')*')
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\].,*])
    )""",
    re.X,
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # num str name op end
    text: str
    pos: int


def _lex(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    end = len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        found = _TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos + 1}")
        kind = found.lastgroup or "op"
        value = found.group(kind)
        # a sign belongs to a number only where an operand is expected ("a -1" is an error)
        if kind == "num" and value[0] in "+-" and tokens and tokens[-1].kind != "op":
            raise ExpressionError(f"unexpected {value[0]!r} at position {pos + 1}")
        if kind == "num" and value[0] in "+-" and tokens and tokens[-1].text in (")", "]"):
            raise ExpressionError(f"unexpected {value[0]!r} at position {pos + 1}")
        tokens.append(_Tok(kind, value, pos))
        pos = found.end()
    tokens.append(_Tok("end", "", end))
    return tokens


# --- parsing into closures ----------------------------------------------------------------

Env = Mapping[str, Any]
Node = Callable[[Env], Any]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.tokens[self.i]

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text or tok.kind not in ("op",):
            shown = tok.text or "the end"
            raise ExpressionError(f"expected {text!r} at position {tok.pos + 1}, found {shown!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")

    def parse(self) -> Node:
        node = self.or_()
        tok = self.peek()
        if tok.kind != "end":
            raise ExpressionError(f"unexpected {tok.text!r} at position {tok.pos + 1}")
        return node

    def or_(self) -> Node:
        self.enter()
        left = self.and_()
        while self.peek().text == "||" and self.peek().kind == "op":
            self.take()
            right = self.and_()
            left = _or(left, right)
        self.depth -= 1
        return left

    def and_(self) -> Node:
        left = self.equality()
        while self.peek().text == "&&" and self.peek().kind == "op":
            self.take()
            right = self.equality()
            left = _and(left, right)
        return left

    def equality(self) -> Node:
        left = self.comparison()
        while self.peek().kind == "op" and self.peek().text in ("==", "!="):
            op = self.take().text
            right = self.comparison()
            left = _compare(op, left, right)
        return left

    def comparison(self) -> Node:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("<", "<=", ">", ">="):
            op = self.take().text
            right = self.unary()
            left = _compare(op, left, right)
        return left

    def unary(self) -> Node:
        if self.peek().kind == "op" and self.peek().text == "!":
            self.take()
            self.enter()
            inner = self.unary()
            self.depth -= 1
            return _not(inner)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            tok = self.peek()
            if tok.kind != "op" or tok.text not in (".", "["):
                return node
            self.take()
            if tok.text == ".":
                nxt = self.take()
                if nxt.kind == "op" and nxt.text == "*":
                    node = _star(node)
                elif nxt.kind == "name":
                    node = _prop(node, nxt.text)
                else:
                    raise ExpressionError(f"expected a property name at position {nxt.pos + 1}")
            else:
                self.enter()
                if self.peek().kind == "op" and self.peek().text == "*":
                    self.take()
                    node = _star(node)
                else:
                    node = _index(node, self.or_())
                self.expect("]")
                self.depth -= 1

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            value = _parse_number(tok.text)
            if value is None:
                raise ExpressionError(f"invalid number {tok.text!r}")
            return _constant(value)
        if tok.kind == "str":
            return _constant(tok.text[1:-1].replace("''", "'"))
        if tok.kind == "op" and tok.text == "(":
            self.enter()
            node = self.or_()
            self.expect(")")
            self.depth -= 1
            return node
        if tok.kind == "name":
            word = tok.text
            low = word.lower()
            if self.peek().kind == "op" and self.peek().text == "(":
                self.take()
                self.enter()
                args: list[Node] = []
                if not (self.peek().kind == "op" and self.peek().text == ")"):
                    args.append(self.or_())
                    while self.peek().kind == "op" and self.peek().text == ",":
                        self.take()
                        args.append(self.or_())
                self.expect(")")
                self.depth -= 1
                return _call(low, args, tok.pos)
            if low == "true":
                return lambda env: True
            if low == "false":
                return lambda env: False
            if low == "null":
                return lambda env: None
            if low in ("nan",):
                return lambda env: math.nan
            if low == "infinity":
                return lambda env: math.inf
            if low not in CONTEXTS:
                raise ExpressionError(f"unrecognized named-value: '{word}'")
            return _context(low)
        shown = tok.text or "the end"
        raise ExpressionError(f"unexpected {shown!r} at position {tok.pos + 1}")


def _constant(value: Any) -> Node:
    return lambda env: value


def _context(name: str) -> Node:
    return lambda env: env[name] if name in env else Opaque(name)


def _parse_number(text: str) -> float | int | None:
    text = text.strip()
    try:
        sign = -1 if text.startswith("-") else 1
        body = text.lstrip("+-")
        if body[:2].lower() == "0x":
            return sign * int(body[2:], 16)
        value = float(text)
    except (ValueError, IndexError):
        return None
    return value


# --- values -------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """GitHub's truthiness: ``false 0 -0 '' null`` (and NaN) are false."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def to_number(value: Any) -> float:
    """GitHub's conversion to a number (NaN where there is none)."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped == "":
            return 0.0
        if not re.fullmatch(r"[+-]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)",
                            stripped):  # fmt: skip
            return math.nan
        number = _parse_number(stripped)
        return math.nan if number is None else float(number)
    return math.nan


def to_string(value: Any) -> str:
    """GitHub's conversion to a string (``null`` is ``''``, numbers as JavaScript writes
    them; arrays and objects as ``Array`` and ``Object``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Opaque):
        return str(value)
    if isinstance(value, list):
        return "Array"
    return "Object"


def format_number(value: float) -> str:
    """A number as GitHub writes it: ``3`` not ``3.0``, ``3.14``, exponents for large ones."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**15 else format_number(float(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = exponent[0] if exponent[0] in "+-" else "+"
        return f"{mantissa}E{sign}{exponent.lstrip('+-')}"
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def loose_equal(a: Any, b: Any) -> bool:
    """GitHub's ``==`` on known values."""
    ka, kb = _kind(a), _kind(b)
    if ka == kb:
        if ka == "string":
            return bool(a.casefold() == b.casefold())
        if ka == "object":
            return a is b
        if ka == "number":
            return bool(float(a) == float(b))
        return bool(a == b)
    if ka == "object" or kb == "object":
        return False
    x, y = to_number(a), to_number(b)
    return x == y  # NaN is never equal


def _relational(op: str, a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka == kb == "string":
        x: Any = a.casefold()
        y: Any = b.casefold()
    else:
        x, y = to_number(a), to_number(b)
        if math.isnan(x) or math.isnan(y):
            return False
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def _first_opaque(*values: Any) -> Opaque | None:
    for v in values:
        if isinstance(v, Opaque):
            return v
    return None


def _or(left: Node, right: Node) -> Node:
    def run(env: Env) -> Any:
        a = left(env)
        if isinstance(a, Opaque):
            return a
        return a if truthy(a) else right(env)

    return run


def _and(left: Node, right: Node) -> Node:
    def run(env: Env) -> Any:
        a = left(env)
        if isinstance(a, Opaque):
            return a
        return right(env) if truthy(a) else a

    return run


def _not(inner: Node) -> Node:
    def run(env: Env) -> Any:
        a = inner(env)
        return a if isinstance(a, Opaque) else not truthy(a)

    return run


def _compare(op: str, left: Node, right: Node) -> Node:
    def run(env: Env) -> Any:
        a, b = left(env), right(env)
        hidden = _first_opaque(a, b)
        if hidden is not None:
            return hidden
        if op == "==":
            return loose_equal(a, b)
        if op == "!=":
            return not loose_equal(a, b)
        return _relational(op, a, b)

    return run


def _lookup(container: Any, key: Any) -> Any:
    if isinstance(container, Opaque):
        return container
    if isinstance(container, _Filtered):
        out = _Filtered()
        for item in container:
            found = _lookup(item, key)
            if isinstance(item, (dict, list)) and found is not None:
                out.append(found)
        return out
    if isinstance(container, dict):
        if not isinstance(key, str):
            key = to_string(key)
        if key in container:
            return container[key]
        folded = key.casefold()
        for k, v in container.items():
            if isinstance(k, str) and k.casefold() == folded:
                return v
        return None
    if isinstance(container, list):
        number = to_number(key)
        if math.isnan(number) or number < 0 or number != int(number):
            return None
        index = int(number)
        return container[index] if index < len(container) else None
    return None


def _prop(node: Node, name: str) -> Node:
    def run(env: Env) -> Any:
        base = node(env)
        if isinstance(base, Opaque):
            return Opaque(f"{base.source}.{name}")
        return _lookup(base, name)

    return run


def _index(node: Node, key: Node) -> Node:
    def run(env: Env) -> Any:
        base, k = node(env), key(env)
        hidden = _first_opaque(base, k)
        if hidden is not None:
            return hidden
        return _lookup(base, k)

    return run


def _star(node: Node) -> Node:
    def run(env: Env) -> Any:
        base = node(env)
        if isinstance(base, Opaque):
            return base
        if isinstance(base, _Filtered):
            out = _Filtered()
            for item in base:
                if isinstance(item, list):
                    out.extend(item)
                elif isinstance(item, dict):
                    out.extend(item.values())
            return out
        if isinstance(base, list):
            return _Filtered(base)
        if isinstance(base, dict):
            return _Filtered(base.values())
        return _Filtered()

    return run


@contextmanager
def budget(total: int = MAX_TOTAL) -> Iterator[None]:
    """Within this block, the expressions evaluated build at most ``total`` characters in
    all (strings, JSON); beyond that, :class:`ExpressionError`."""
    token = _REMAINING.set([total])
    try:
        yield
    finally:
        _REMAINING.reset(token)


def _spend(size: int) -> None:
    remaining = _REMAINING.get()
    if remaining is not None:
        remaining[0] -= size
        if remaining[0] < 0:
            raise ExpressionError(f"the expressions of this input build more than "
                                  f"{MAX_TOTAL:,} characters in all")  # fmt: skip


def _too_long() -> NoReturn:
    raise ExpressionError(f"the expression builds a value longer than {MAX_VALUE:,} characters")


def _bounded(text: str) -> str:
    if len(text) > MAX_VALUE:
        _too_long()
    _spend(len(text))
    return text


def _format(fmt: Any, *args: Any) -> str:
    template = to_string(fmt)
    out: list[str] = []
    size = 0
    i = 0
    n = len(template)
    while i < n:
        ch = template[i]
        if ch == "{":
            if template.startswith("{{", i):
                out.append("{")
                i += 2
                size += 1
                continue
            close = template.find("}", i)
            index_text = template[i + 1 : close] if close > 0 else ""
            if close < 0 or not index_text.isdigit() or len(index_text) > 6:
                raise ExpressionError(f"format: invalid placeholder in {template[:60]!r}")
            index = int(index_text)
            if index >= len(args):
                raise ExpressionError(f"format: no argument {{{index}}} (given {len(args)})")
            piece = to_string(args[index])
            out.append(piece)
            size += len(piece)
            i = close + 1
        elif ch == "}":
            if template.startswith("}}", i):
                out.append("}")
                i += 2
                size += 1
                continue
            raise ExpressionError(f"format: unmatched '}}' in {template[:60]!r}")
        else:
            nxt = min((p for p in (template.find("{", i), template.find("}", i)) if p >= 0),
                      default=n)  # fmt: skip
            out.append(template[i:nxt])
            size += nxt - i
            i = nxt
        if size > MAX_VALUE:
            _too_long()
    return _bounded("".join(out))


def _to_json(value: Any) -> Any:
    hidden = _check_depth(value)
    if hidden is not None:
        return hidden
    text = json.dumps(_plain(value), indent=2, ensure_ascii=False, allow_nan=True)
    return _bounded(text)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _from_json(text: Any) -> Any:
    source = to_string(text)
    _bounded(source)
    depth = 0
    deepest = 0
    in_string = False
    escaped = False
    for ch in source:  # refuse deep nesting before the recursive decoder sees it
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ExpressionError(f"fromJSON: the value is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(source)
    except (ValueError, RecursionError) as exc:
        raise ExpressionError(f"fromJSON: not JSON ({str(exc)[:80]})") from None


def _check_depth(value: Any) -> Opaque | None:
    """Refuse values nested too deeply; the first run-time value inside, if any."""
    hidden = None
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"a value is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, Opaque):
            hidden = hidden or item
        elif isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return hidden


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(loose_equal(x, item) for x in search)
    if isinstance(search, dict):
        return False
    return to_string(item).casefold() in to_string(search).casefold()


def _starts(a: Any, b: Any) -> bool:
    if _kind(a) == "object" or _kind(b) == "object":
        return False
    return to_string(a).casefold().startswith(to_string(b).casefold())


def _ends(a: Any, b: Any) -> bool:
    if _kind(a) == "object" or _kind(b) == "object":
        return False
    return to_string(a).casefold().endswith(to_string(b).casefold())


def _join(items: Any, sep: Any = ",") -> str:
    separator = to_string(sep)
    if isinstance(items, list):
        parts = [to_string(x) if _kind(x) != "object" else "" for x in items]
        total = sum(len(p) for p in parts) + len(separator) * max(0, len(parts) - 1)
        if total > MAX_VALUE:
            _too_long()
        return _bounded(separator.join(parts))
    return to_string(items) if _kind(items) != "object" else ""


_STATUS = {"always": True, "success": True, "failure": False, "cancelled": False}
_ARITY: dict[str, tuple[int, int]] = {
    "contains": (2, 2), "startswith": (2, 2), "endswith": (2, 2), "format": (1, 1_000),
    "join": (1, 2), "tojson": (1, 1), "fromjson": (1, 1), "hashfiles": (1, 1_000),
    "case": (3, 1_001), "always": (0, 0), "success": (0, 0), "failure": (0, 0),
    "cancelled": (0, 0),
}  # fmt: skip


def _call(name: str, args: list[Node], pos: int) -> Node:
    if name not in _ARITY:
        raise ExpressionError(f"unrecognized function: '{name}'")
    low, high = _ARITY[name]
    if not low <= len(args) <= high:
        raise ExpressionError(f"{name}() takes {low}{'' if low == high else '+'} arguments, "
                              f"given {len(args)}")  # fmt: skip
    if name == "case" and len(args) % 2 == 0:
        raise ExpressionError("case() takes pairs of condition and value, then a default")
    if name in _STATUS:
        result = _STATUS[name]
        return lambda env: result
    if name == "hashfiles":
        return lambda env: Opaque("hashFiles(...)")
    if name == "case":

        def run_case(env: Env) -> Any:
            for k in range(0, len(args) - 1, 2):
                condition = args[k](env)
                if isinstance(condition, Opaque):
                    return condition
                if truthy(condition):
                    return args[k + 1](env)
            return args[-1](env)

        return run_case

    functions: dict[str, Callable[..., Any]] = {
        "contains": _contains, "startswith": _starts, "endswith": _ends, "format": _format,
        "join": _join, "tojson": _to_json, "fromjson": _from_json,
    }  # fmt: skip
    impl = functions[name]

    def run(env: Env) -> Any:
        values = [a(env) for a in args]
        hidden = _first_opaque(*values)
        if hidden is not None:
            return hidden
        return impl(*values)

    return run


# --- public API ---------------------------------------------------------------------------

_COMPILED: dict[str, Node] = {}


def compile_expression(text: str) -> Node:
    """The expression ``text`` (without ``${{ }}``) compiled into a function of the contexts."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION:,} characters")
    found = _COMPILED.get(text)
    if found is None:
        found = _Parser(text).parse()
        if len(_COMPILED) < 4096:
            _COMPILED[text] = found
    return found


def evaluate(text: str, contexts: Env) -> Any:
    """The value of the expression ``text`` over ``contexts`` (an :class:`Opaque` where it
    depends on a context known only at run time)."""
    try:
        return compile_expression(text)(contexts)
    except RecursionError:
        raise ExpressionError(
            f"the expression is nested more than {MAX_DEPTH} levels deep"
        ) from None


def split_template(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into literal parts ``(False, text)`` and expressions ``(True, expr)``.
    A ``}}`` inside a quoted string does not close an expression."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    n = len(text)
    while pos < n:
        start = text.find("${{", pos)
        if start < 0:
            parts.append((False, text[pos:]))
            break
        if start > pos:
            parts.append((False, text[pos:start]))
        i = start + 3
        in_string = False
        while i < n:
            ch = text[i]
            if ch == "'":
                in_string = not in_string
            elif not in_string and text.startswith("}}", i):
                break
            i += 1
        if i >= n:
            raise ExpressionError("an expression '${{' is not closed by '}}'")
        parts.append((True, text[start + 3 : i]))
        pos = i + 2
    return parts


def has_expression(value: Any) -> bool:
    """Whether ``value`` is a string holding ``${{``."""
    return isinstance(value, str) and "${{" in value


def interpolate(text: str, contexts: Env) -> Any:
    """The value of a workflow string: a string that is one ``${{ expr }}`` is the value of
    ``expr`` (of any type); otherwise the parts are joined as strings. The result is an
    :class:`Opaque` (naming the original text) if any part is known only at run time."""
    parts = split_template(text)
    expressions = [p for p in parts if p[0]]
    if len(parts) == 1 and expressions:
        value = evaluate(expressions[0][1], contexts)
        return Opaque(value.source, text) if isinstance(value, Opaque) else value
    out: list[str] = []
    hidden: Opaque | None = None
    for is_expr, part in parts:
        if not is_expr:
            out.append(part)
            continue
        value = evaluate(part, contexts)
        if isinstance(value, Opaque):
            hidden = hidden or value
            out.append("${{" + part + "}}")
        else:
            out.append(to_string(value))
    joined = _bounded("".join(out))
    return Opaque(hidden.source, joined) if hidden is not None else joined


def render(text: str, contexts: Env) -> tuple[str, list[str]]:
    """``text`` with each expression replaced by its value as a string; an expression known
    only at run time is left as written. Returns the text and what was left opaque."""
    out: list[str] = []
    hidden: list[str] = []
    for is_expr, part in split_template(text):
        if not is_expr:
            out.append(part)
            continue
        value = evaluate(part, contexts)
        if isinstance(value, Opaque):
            hidden.append(value.source)
            out.append("${{" + part + "}}")
        else:
            out.append(to_string(value))
    return _bounded("".join(out)), hidden
