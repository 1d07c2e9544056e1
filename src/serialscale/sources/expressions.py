"""Safe arithmetic expressions for templated workloads.

An expression is parsed with :mod:`ast` (parsing only; nothing is ever passed to ``eval``),
checked against a small grammar and compiled into a tree of closures:

- numbers, names of params and loop variables, parentheses;
- ``+ - * / // % **`` and unary minus or plus;
- the functions ``min max abs floor ceil log2 sqrt``;
- where a loop range is expected, ``range(a)``, ``range(a, b)``, ``range(a, b, step)``.

No attribute access, subscripts, strings, comparisons or other calls are accepted.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from ..base.errors import SerialscaleError
from ..base.words import plural

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]

#: Largest magnitude a ``**`` may produce, so ``10**10**10`` fails fast instead of hanging.
POWER_LIMIT = 10**18
#: Longest expression accepted, in characters (the parser's memory grows with it).
MAX_LENGTH = 10_000
#: Deepest nesting accepted (parentheses, unary signs, calls), well inside the recursion limit.
MAX_DEPTH = 100

#: What evaluating an expression on hostile values can raise, besides ExpressionError: an
#: overflow (``floor(1e308 * 10)``), ``0 ** -1``, a NaN where an integer is needed, an integer
#: too long to write as text, a range too large for a machine integer.
EVALUATION_ERRORS: tuple[type[BaseException], ...] = (
    ArithmeticError, ValueError, TypeError, RecursionError, MemoryError,
)  # fmt: skip


class ExpressionError(SerialscaleError, ValueError):
    """An expression is malformed or cannot be evaluated; the message says why."""


def explain(exc: BaseException) -> str:
    """A failure of evaluation as a message for people."""
    if isinstance(exc, ExpressionError):
        return str(exc)
    if isinstance(exc, ZeroDivisionError):
        return f"division by zero ({exc})"
    if isinstance(exc, OverflowError):
        return f"a number too large ({exc})"
    if isinstance(exc, RecursionError):
        return "the expression is nested too deeply"
    if isinstance(exc, MemoryError):
        return "the expression is too large to evaluate"
    if isinstance(exc, ValueError) and "digits" in str(exc):
        return "an integer too long to write out (more than 4,300 digits)"
    return f"cannot be evaluated ({exc})"


def _integral(name: str, x: Any) -> int:
    if isinstance(x, float) and not math.isfinite(x):
        raise ExpressionError(f"{name} of {x}: needs a finite number")
    return math.floor(x) if name == "floor" else math.ceil(x)


def _floor(x: Any) -> int:
    return _integral("floor", x)


def _ceil(x: Any) -> int:
    return _integral("ceil", x)


def _min(*args: Any) -> Any:
    return min(args)


def _max(*args: Any) -> Any:
    return max(args)


def _log2(x: Any) -> float:
    if x <= 0:
        raise ExpressionError(f"log2 of {x}: needs a positive number")
    return math.log2(x)


def _sqrt(x: Any) -> float:
    if x < 0:
        raise ExpressionError(f"sqrt of {x}: needs a number >= 0")
    return math.sqrt(x)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": _min, "max": _max, "abs": abs, "floor": _floor, "ceil": _ceil, "log2": _log2,
    "sqrt": _sqrt,
}  # fmt: skip
ARITY = {"min": (1, 99), "max": (1, 99), "abs": (1, 1), "floor": (1, 1), "ceil": (1, 1),
         "log2": (1, 1), "sqrt": (1, 1)}  # fmt: skip


def _pow(a: Any, b: Any) -> Any:
    big = isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1
    if big and b * math.log2(abs(a)) > math.log2(POWER_LIMIT):
        raise ExpressionError(f"{_number(a)} ** {_number(b)} is too large")
    try:
        result = a**b
    except OverflowError:
        raise ExpressionError(f"{_number(a)} ** {_number(b)} is too large") from None
    if isinstance(result, complex):
        raise ExpressionError(f"{a} ** {b} is not a real number")
    return result


def _number(x: Any) -> str:
    """A number for a message: huge integers by their size (they may not even be writable)."""
    if isinstance(x, int) and x.bit_length() > 200:
        return f"(an integer of about {int(x.bit_length() * 0.30103):,} digits)"
    return repr(x)


def _div(fn: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    def divide(a: Any, b: Any) -> Any:
        if b == 0:
            raise ExpressionError(f"division by zero ({_number(a)} {symbol} 0)")
        return fn(a, b)

    return divide


BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: _div(operator.truediv, "/"), ast.FloorDiv: _div(operator.floordiv, "//"),
    ast.Mod: _div(operator.mod, "%"), ast.Pow: _pow,
}  # fmt: skip


def compile_expression(text: str, *, allow_range: bool = False) -> Compiled:
    """Compile ``text`` into a function of the variables; raises :class:`ExpressionError`.

    The function raises only :class:`ExpressionError`, whatever values it meets.
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH:,} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {_show(text)}: {exc.msg}") from None
    except (*EVALUATION_ERRORS,) as exc:  # too deep or too long for the parser itself
        raise ExpressionError(f"cannot parse {_show(text)}: {explain(exc)}") from None
    if _depth(tree.body) > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
    inner = _compile(tree.body, allow_range)

    def evaluate(env: Env) -> Any:
        try:
            return inner(env)
        except ExpressionError:
            raise
        except EVALUATION_ERRORS as exc:
            raise ExpressionError(f"{_show(text)}: {explain(exc)}") from None

    return evaluate


def _show(text: str) -> str:
    """``text`` quoted for a message, shortened when it is long."""
    return repr(text) if len(text) <= 80 else repr(text[:60] + "…") + f" ({len(text):,} chars)"


def _depth(node: ast.AST) -> int:
    """How deeply ``node`` nests (iteratively: the tree may be deeper than the stack)."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


def _compile(node: ast.AST, allow_range: bool) -> Compiled:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"only numbers are allowed, not {value!r}")
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id

        def lookup(env: Env) -> Any:
            try:
                return env[name]
            except KeyError:
                known = ", ".join(sorted(env)) or "none"
                raise ExpressionError(f"unknown name '{name}' (known: {known})") from None

        return lookup
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        fn = BINARY[type(node.op)]
        left, right = _compile(node.left, False), _compile(node.right, False)
        if isinstance(node.right, ast.Constant) and fn in (operator.add, operator.sub):
            constant = node.right.value
            return lambda env: fn(left(env), constant)
        return lambda env: fn(left(env), right(env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _compile(node.operand, False)
        if isinstance(node.op, ast.USub):
            return lambda env: -operand(env)
        return operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name != "range" and name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function '{name}' (allowed: {allowed}, range)")
        args = [_compile(arg, False) for arg in node.args]
        if name == "range":
            if not allow_range:
                raise ExpressionError("range(...) is only allowed as a foreach loop")
            if not 1 <= len(args) <= 3:
                raise ExpressionError("range takes 1 to 3 integers")
            return lambda env: _range([a(env) for a in args])
        low, high = ARITY[name]
        if not low <= len(args) <= high:
            raise ExpressionError(f"{name} takes {plural(low, 'argument')}")
        fn = FUNCTIONS[name]
        return lambda env: fn(*[a(env) for a in args])
    what = type(node).__name__
    raise ExpressionError(f"{what} is not allowed: only numbers, names, arithmetic and "
                          f"{', '.join(sorted(FUNCTIONS))}")  # fmt: skip


def _range(values: list[Any]) -> range:
    ints = []
    for v in values:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            raise ExpressionError(f"range needs integers, got {_number(v)}")
        ints.append(v)
    if len(ints) == 3 and ints[2] == 0:
        raise ExpressionError("range step must not be zero")
    return range(*ints)


class Template:
    """A string with ``{expression}`` holes (``{{`` and ``}}`` stand for braces).

    Values put into the string must be integers (or floats with an integral value).
    """

    __slots__ = ("holes", "parts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: list[str | Compiled] = []
        self.holes: list[str] = []  # the text of each expression in parts, in order
        literal: list[str] = []
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "{" and text.startswith("{{", i):
                literal.append("{")
                i += 2
            elif ch == "}" and text.startswith("}}", i):
                literal.append("}")
                i += 2
            elif ch == "{":
                end = text.find("}", i)
                if end < 0:
                    raise ExpressionError(f"unclosed '{{' in {text!r}")
                if literal:
                    self.parts.append("".join(literal))
                    literal = []
                self.parts.append(compile_expression(text[i + 1 : end]))
                self.holes.append(text[i + 1 : end])
                i = end + 1
            elif ch == "}":
                raise ExpressionError(f"unmatched '}}' in {text!r} (write '}}}}' for a brace)")
            else:
                literal.append(ch)
                i += 1
        if literal:
            self.parts.append("".join(literal))

    @property
    def constant(self) -> bool:
        """Whether the template has no holes."""
        return all(isinstance(p, str) for p in self.parts)

    def render(self, env: Env) -> str:
        """The string with every hole filled from ``env``."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            out.append(str(id_integer(part(env), self.text)))
        return "".join(out)


#: Largest size, in bits, of an integer written into an id (ids of hundreds of digits help
#: nobody).
ID_BITS = 200


def id_integer(value: Any, text: str = "") -> int:
    """``value`` as the integer written into an id (an int, or a float with an integral
    value, of at most ``ID_BITS`` bits); :class:`ExpressionError` otherwise. ``text`` is the
    template, for the message."""
    if type(value) is not int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ExpressionError(
                f"a value inside an id must be an integer, got {_number(value)} in {text!r}"
            )
    if value.bit_length() > ID_BITS:
        raise ExpressionError(f"{_number(value)} inside an id is too large")
    return value
