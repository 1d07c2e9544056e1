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

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]

#: Largest magnitude a ``**`` may produce, so ``10**10**10`` fails fast instead of hanging.
POWER_LIMIT = 10**18


class ExpressionError(ValueError):
    """An expression is malformed or cannot be evaluated; the message says why."""


def _floor(x: Any) -> int:
    return math.floor(x)


def _ceil(x: Any) -> int:
    return math.ceil(x)


def _log2(x: Any) -> float:
    if x <= 0:
        raise ExpressionError(f"log2 of {x}: needs a positive number")
    return math.log2(x)


def _sqrt(x: Any) -> float:
    if x < 0:
        raise ExpressionError(f"sqrt of {x}: needs a number >= 0")
    return math.sqrt(x)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min, "max": max, "abs": abs, "floor": _floor, "ceil": _ceil, "log2": _log2,
    "sqrt": _sqrt,
}  # fmt: skip
ARITY = {"min": (1, 99), "max": (1, 99), "abs": (1, 1), "floor": (1, 1), "ceil": (1, 1),
         "log2": (1, 1), "sqrt": (1, 1)}  # fmt: skip


def _pow(a: Any, b: Any) -> Any:
    big = isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1
    if big and b * math.log2(abs(a)) > math.log2(POWER_LIMIT):
        raise ExpressionError(f"{a} ** {b} is too large")
    try:
        result = a**b
    except OverflowError:
        raise ExpressionError(f"{a} ** {b} is too large") from None
    if isinstance(result, complex):
        raise ExpressionError(f"{a} ** {b} is not a real number")
    return result


def _div(fn: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    def divide(a: Any, b: Any) -> Any:
        if b == 0:
            raise ExpressionError(f"division by zero ({a} {symbol} 0)")
        return fn(a, b)

    return divide


BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: _div(operator.truediv, "/"), ast.FloorDiv: _div(operator.floordiv, "//"),
    ast.Mod: _div(operator.mod, "%"), ast.Pow: _pow,
}  # fmt: skip


def compile_expression(text: str, *, allow_range: bool = False) -> Compiled:
    """Compile ``text`` into a function of the variables; raises :class:`ExpressionError`."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg}") from None
    return _compile(tree.body, allow_range)


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
            raise ExpressionError(f"{name} takes {low} argument{'s' if low > 1 else ''}")
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
            raise ExpressionError(f"range needs integers, got {v!r}")
        ints.append(v)
    if len(ints) == 3 and ints[2] == 0:
        raise ExpressionError("range step must not be zero")
    return range(*ints)


class Template:
    """A string with ``{expression}`` holes (``{{`` and ``}}`` stand for braces).

    Values put into the string must be integers (or floats with an integral value).
    """

    __slots__ = ("parts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: list[str | Compiled] = []
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
            value = part(env)
            if type(value) is not int:
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ExpressionError(
                        f"a value inside an id must be an integer, got {value!r} in {self.text!r}"
                    )
            out.append(str(value))
        return "".join(out)
