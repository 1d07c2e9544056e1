"""Expanding step templates in bulk: each template becomes one generated Python function.

:func:`serialscale.sources.templates.expand` evaluates a tree of closures per hole of every
id and need, about forty Python calls a step. Here each step template is written out once as
Python source (nested ``for`` loops over its ranges, f-strings for its ids and needs) and
run: the same expansion at several times the speed.

The source is generated only from expressions that :mod:`.expressions` has already parsed
and checked, node by node, through the same grammar (numbers, names, arithmetic, the allowed
functions); nothing from the file is pasted in as code. Names become ``v_<name>`` locals,
literal text is written as escaped string literals, and every value put into an id goes
through the same checks as :meth:`Template.render` (an integer, at most 200 bits).

This path only ever *succeeds* with exactly what the interpreted expansion gives. Anything
it does not handle (a construct it cannot write, a name it does not know, nested need loops)
makes it decline, and any failure while it runs (a division by zero, a range past a limit)
sends the whole expansion to the interpreted path, which says what is wrong and where.
The tests compare both on random templates.
"""

from __future__ import annotations

import ast
import json
import math
from array import array
from collections.abc import Callable, Mapping
from itertools import repeat
from typing import TYPE_CHECKING, Any

from .expressions import FUNCTIONS, ExpressionError, _pow, _range
from .optional import OptionalNeed

if TYPE_CHECKING:
    from .templates import _NeedTemplate, _StepTemplate

#: Values put into ids must have at most this many bits (as Template.render requires).
_ID_BOUND = 2**200


class Decline(Exception):
    """This template is not one the generated path writes; the interpreted path takes it."""


class _Source:
    """Python source for one checked expression, and whether its value is surely an int."""

    def __init__(self, names: Mapping[str, bool]) -> None:
        self.names = names  # variable -> whether it always holds an int

    def expression(self, text: str) -> tuple[str, bool]:
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, *_ERRORS):
            raise Decline from None
        return self.node(tree.body)

    def node(self, node: ast.AST) -> tuple[str, bool]:
        if isinstance(node, ast.Constant):
            value = node.value
            if type(value) is int:
                return repr(value), True
            if type(value) is float and math.isfinite(value):
                return repr(value), False
            raise Decline
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise Decline  # unknown here: the interpreted path names it in its error
            return f"v_{node.id}", self.names[node.id]
        if isinstance(node, ast.BinOp):
            left, left_int = self.node(node.left)
            right, right_int = self.node(node.right)
            both = left_int and right_int
            op = type(node.op)
            if op in _INFIX:
                return f"({left} {_INFIX[op]} {right})", both
            if op is ast.Div:
                return f"({left} / {right})", False
            if op in (ast.FloorDiv, ast.Mod):
                symbol = "//" if op is ast.FloorDiv else "%"
                return f"({left} {symbol} {right})", both
            if op is ast.Pow:
                return f"_pow({left}, {right})", False
            raise Decline
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand, is_int = self.node(node.operand)
            return (f"(-{operand})" if isinstance(node.op, ast.USub) else operand), is_int
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
        ):
            name = node.func.id
            args = [self.node(a) for a in node.args]
            if not args or (name not in ("min", "max") and len(args) != 1) or len(args) > 99:
                raise Decline
            is_int = name in ("floor", "ceil") or (
                name in ("min", "max", "abs") and all(i for _, i in args)
            )
            return f"_f_{name}({', '.join(s for s, _ in args)})", is_int
        raise Decline

    def loop(self, spec: str, budget: str) -> str:
        """``_loop(_range([...]), budget)`` for a ``range(...)`` spec."""
        try:
            tree = ast.parse(spec.strip(), mode="eval").body
        except (SyntaxError, *_ERRORS):
            raise Decline from None
        if not (
            isinstance(tree, ast.Call)
            and isinstance(tree.func, ast.Name)
            and tree.func.id == "range"
            and not tree.keywords
            and 1 <= len(tree.args) <= 3
        ):
            raise Decline
        args = ", ".join(self.node(a)[0] for a in tree.args)
        return f"_loop(_range([{args}]), {budget})"

    def text(self, literal_and_holes: list[tuple[bool, str]]) -> str:
        """An f-string: literal parts escaped, holes checked as ids require."""
        out = []
        for is_hole, part in literal_and_holes:
            if not is_hole:
                escaped = part.replace("{", "{{").replace("}", "}}")
                out.append(json.dumps(escaped, ensure_ascii=True)[1:-1])
                continue
            source, is_int = self.expression(part)
            if is_int:  # the common case: no call, a bounds check inline
                out.append(f"{{_v if -_B < (_v := {source}) < _B else _too_big(_v)}}")
            else:
                out.append(f"{{_id_value({source})}}")
        return 'f"' + "".join(out) + '"'


_ERRORS = (ValueError, RecursionError, MemoryError, OverflowError)
_INFIX = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


def _template_text(template: Any) -> list[tuple[bool, str]]:
    holes = iter(template.holes)
    return [(False, p) if isinstance(p, str) else (True, next(holes)) for p in template.parts]


def _need_source(nt: _NeedTemplate, names: dict[str, bool], params: Mapping[str, Any]) -> str:
    inner = dict(names)
    loops = []
    for loop in nt.loops:
        if loop.name in params:
            raise Decline
        loops.append(f"for v_{loop.name} in {_Source(inner).loop(loop.spec, 'D')}")
        inner[loop.name] = True
    text = _Source(inner).text(_template_text(nt.template))
    item = f"_Optional({text})" if nt.optional else text
    if not loops:
        return item
    if len(loops) > 1:
        raise Decline  # nested need loops: the interpreted path bounds their product as it goes
    return f"*[{item} {' '.join(loops)}]"


def _function_source(st: _StepTemplate, params: Mapping[str, Any]) -> str:
    """``def expand_one(ids, costs, needs, M, D)`` for one step template; returns D left."""
    names = {p: type(v) is int for p, v in params.items()}
    lines = ["def expand_one(ids, costs, needs, M, D):"]
    lines += [f"    v_{p} = P[{p!r}]" for p in params if p.isidentifier()]
    lines.append("    ids_append, needs_append = ids.append, needs.append")
    lines.append("    costs_append = costs.append")
    indent = "    "
    for loop in st.loops:
        if loop.name in names:
            raise Decline
        budget = "M - len(ids)"
        lines.append(f"{indent}for v_{loop.name} in {_Source(names).loop(loop.spec, budget)}:")
        names = {**names, loop.name: True}
        indent += "    "
    source = _Source(names)
    lines.append(f"{indent}if len(ids) >= M: raise _Limit")
    lines.append(f"{indent}ids_append({source.text(_template_text(st.id))})")
    if callable(st.cost):
        cost_source, _ = source.expression(st.cost_text or "")
        lines.append(f"{indent}costs_append(_cost({cost_source}))")
    else:
        lines.append(f"{indent}costs_append(C)")
    row = ", ".join(_need_source(nt, names, params) for nt in st.needs)
    lines.append(f"{indent}row = [{row}]")
    lines.append(f"{indent}D -= len(row)")
    lines.append(f"{indent}if D < 0: raise _Limit")
    lines.append(f"{indent}needs_append(row)")
    lines.append("    return D")
    return "\n".join(lines) + "\n"


class _Limit(Exception):
    """A limit was passed: the interpreted path raises the located error."""


def _loop(values: range, budget: int) -> range:
    if len(values) > max(budget, 0):
        raise _Limit
    return values


def _too_big(value: int) -> int:
    raise ExpressionError(f"{value.bit_length()}-bit value inside an id")


def _id_value(value: Any) -> int:
    if type(value) is not int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ExpressionError("a value inside an id must be an integer")
    if value.bit_length() > 200:
        raise ExpressionError("too large inside an id")
    return value


def _cost(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ExpressionError("not a finite number >= 0")
    return value


_HELPERS: dict[str, Any] = {
    "_loop": _loop, "_range": _range, "_pow": _pow, "_too_big": _too_big,
    "_id_value": _id_value, "_cost": _cost, "_Limit": _Limit, "_B": _ID_BOUND,
    "_Optional": OptionalNeed, **{f"_f_{name}": fn for name, fn in FUNCTIONS.items()},
}  # fmt: skip


def compile_template(
    st: _StepTemplate, params: Mapping[str, Any]
) -> Callable[[list[str], list[Any], list[list[str]], int, int], int]:
    """The generated expansion of one step template; raises :class:`Decline`."""
    source = _function_source(st, params)
    scope = {**_HELPERS, "P": dict(params), "C": None if callable(st.cost) else st.cost}
    try:
        code = compile(source, f"<step template {st.index}>", "exec")
    except (SyntaxError, *_ERRORS):
        raise Decline from None
    exec(code, scope)  # our own source, written from checked expression trees (see above)
    function: Callable[[list[str], list[Any], list[list[str]], int, int], int]
    function = scope["expand_one"]
    return function


def expand_bulk(
    templates: list[_StepTemplate], params: Mapping[str, Any], max_steps: int, max_deps: int
) -> tuple[list[str], list[Any], list[list[str]], array, list[int]] | None:
    """Every template expanded by generated code: ids, costs, needs, the template of each
    step and each template's first step. ``None`` when the interpreted path must run
    (a template it declines, or any failure while expanding)."""
    try:
        functions = [compile_template(st, params) for st in templates]
    except Decline:
        return None
    ids: list[str] = []
    costs: list[Any] = []
    needs: list[list[str]] = []
    template_of = array("i")
    first_step: list[int] = []
    budget = max_deps
    for st, function in zip(templates, functions, strict=True):
        first = len(ids)
        first_step.append(first)
        try:
            budget = function(ids, costs, needs, max_steps, budget)
        except Exception:  # the interpreted path explains every failure
            return None
        template_of.extend(repeat(st.index, len(ids) - first))
    return ids, costs, needs, template_of, first_step
