"""Expanding step templates in bulk: each template becomes one generated Python function.

:func:`serialscale.sources.templates.expand` evaluates a tree of closures per hole of every
id and need, about forty Python calls a step. Here each step template is written out once as
Python source (nested ``for`` loops over its ranges, f-strings for its ids and needs) and
run: the same expansion at several times the speed.

The source is generated only from expressions that :mod:`.expressions` has already parsed
and checked, node by node, through the same grammar (numbers, names, arithmetic, the allowed
functions); nothing from the file is pasted in as code. Literal text is written with
``\\U`` escapes for any character outside printable ASCII; names become ASCII locals
(``v_<name>``, or ``w_<hex of its UTF-8>`` for any other name: Python folds identifiers to
NFKC, which would make ``x`` and fullwidth ``ｘ`` one variable); every value put into an id
goes through the same checks as :meth:`Template.render` (an integer, at most 200 bits).

This path only ever *succeeds* with exactly what the interpreted expansion gives. Anything
it does not handle (a construct it cannot write, a name it does not know, nested need loops)
makes it decline, and any failure while it runs (a division by zero, a range past a limit)
sends the whole expansion to the interpreted path, which says what is wrong and where.
The tests compare both on random templates.
"""

from __future__ import annotations

import ast
import math
from array import array
from collections.abc import Callable, Mapping
from functools import lru_cache
from itertools import repeat
from types import CodeType
from typing import TYPE_CHECKING, Any

from .expressions import FUNCTIONS, ID_BITS, Template, _pow, _range, id_integer
from .optional import OptionalNeed
from .templates import checked_cost

if TYPE_CHECKING:
    from .templates import _NeedTemplate, _StepTemplate

#: Ints below this magnitude fit in an id (``expressions.id_integer``) without a check.
_ID_BOUND = 2**ID_BITS


class Decline(Exception):
    """This template is not one the generated path writes; the interpreted path takes it."""


class _Source:
    """Python source for one checked expression, and a bound on its magnitude when its value
    is surely an int (``None``: maybe not an int, or no bound known)."""

    def __init__(self, names: Mapping[str, int | None]) -> None:
        self.names = names  # variable -> bound of the int it always holds, or None

    def expression(self, text: str) -> tuple[str, int | None]:
        return self.node(_parsed(text))

    def node(self, node: ast.AST) -> tuple[str, int | None]:
        if isinstance(node, ast.Constant):
            value = node.value
            if type(value) is int:
                return repr(value), abs(value)
            if type(value) is float and math.isfinite(value):
                return repr(value), None
            raise Decline
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise Decline  # unknown here: the interpreted path names it in its error
            return _var(node.id), self.names[node.id]
        if isinstance(node, ast.BinOp):
            left, a = self.node(node.left)
            right, b = self.node(node.right)
            both = a is not None and b is not None
            op = type(node.op)
            if op is ast.Add or op is ast.Sub:
                symbol = "+" if op is ast.Add else "-"
                return f"({left} {symbol} {right})", (a + b if both else None)  # type: ignore[operator]
            if op is ast.Mult:
                return f"({left} * {right})", (a * b if both else None)  # type: ignore[operator]
            if op is ast.Div:
                return f"({left} / {right})", None
            if op is ast.FloorDiv:  # |a // b| <= |a| for an int b != 0 (0 raises)
                return f"({left} // {right})", (a if both else None)
            if op is ast.Mod:  # |a % b| < |b|
                return f"({left} % {right})", (b if both else None)
            if op is ast.Pow:
                return f"_pow({left}, {right})", None
            raise Decline
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand, size = self.node(node.operand)
            return (f"(-{operand})" if isinstance(node.op, ast.USub) else operand), size
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
            bounds = [b for _, b in args]
            bound: int | None = None
            if name in ("min", "max", "abs", "floor", "ceil") and None not in bounds:
                bound = max(b for b in bounds if b is not None)  # an int in, the same out
            return f"_f_{name}({', '.join(s for s, _ in args)})", bound
        raise Decline

    def loop(self, spec: str, budget: str) -> str:
        """``_loop(_range([...]), budget)`` for a ``range(...)`` spec."""
        tree = _parsed(spec)
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
                out.append(_literal(part))
                continue
            source, bound = self.expression(part)
            if bound is not None and bound < _ID_BOUND:  # an int small enough: as it is
                out.append(f"{{{source}}}")
            else:
                out.append(f"{{_id_value({source})}}")
        return 'f"' + "".join(out) + '"'


_ERRORS = (ValueError, RecursionError, MemoryError, OverflowError)


def _var(name: str) -> str:
    """The generated local for the template name ``name``: ASCII, one per distinct name."""
    if name.isascii():
        return f"v_{name}"
    return "w_" + name.encode("utf-8", "surrogatepass").hex()


def _literal(text: str, braces: bool = True) -> str:
    """``text`` as the inside of a double-quoted (f-)string literal, in printable ASCII:
    every other character as a ``\\U`` escape (JSON's surrogate pairs would be two lone
    surrogates in Python, not the emoji)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif braces and char in "{}":
            out.append(char * 2)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


@lru_cache(maxsize=1024)
def _parsed(text: str) -> ast.expr:
    """The expression tree of ``text`` (already accepted by the template grammar; the same
    few texts, ``{i}`` and ``range(n)``, recur in every template: parsed once). The trees
    are only read, never changed."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, *_ERRORS):
        raise Decline from None


def _template_text(template: Template) -> list[tuple[bool, str]]:
    holes = iter(template.holes)
    return [(False, p) if isinstance(p, str) else (True, next(holes)) for p in template.parts]


def _need_source(nt: _NeedTemplate, names: dict[str, int | None], params: Mapping[str, Any]) -> str:
    inner = dict(names)
    loops = []
    for loop in nt.loops:
        if loop.name in params:
            raise Decline
        loops.append(f"for {_var(loop.name)} in {_Source(inner).loop(loop.spec, 'D')}")
        inner[loop.name] = _LOOP_BOUND
    text = _Source(inner).text(_template_text(nt.template))
    item = f"_O({text})" if nt.optional else text
    if not loops:
        return item
    if len(loops) > 1:
        raise Decline  # nested need loops: the interpreted path bounds their product as it goes
    return f"*[{item} {' '.join(loops)}]"


def _function_source(st: _StepTemplate, params: Mapping[str, Any]) -> str:
    """``def expand_one(ids, costs, needs, M, D)`` for one step template; returns D left.

    Limits are checked where a range is entered (its length against the steps left; a
    fixed number of needs a step, times that length, against the dependencies left), so
    the innermost loop does nothing but make steps.
    """
    names: dict[str, int | None] = {
        p: (abs(v) if type(v) is int else None) for p, v in params.items()
    }
    lines = ["def expand_one(ids, costs, needs, M, D):"]
    lines += [f'    {_var(p)} = P["{_literal(p, False)}"]' for p in params if p.isidentifier()]
    lines.append("    ids_append, needs_append, _O = ids.append, needs.append, _Optional")
    lines.append("    costs_append, first = costs.append, len(ids)")
    looped = any(nt.loops for nt in st.needs)
    fixed = len(st.needs)  # needs a step, when no need has a loop
    indent = "    "
    for k, loop in enumerate(st.loops):
        if loop.name in names:
            raise Decline
        values = _Source(names).loop(loop.spec, "M - len(ids)")
        if k == len(st.loops) - 1 and not looped:
            lines.append(f"{indent}_r = {values}")
            lines.append(f"{indent}D -= {fixed} * len(_r)")
            lines.append(f"{indent}if D < 0: raise _Limit")
            values = "_r"
        lines.append(f"{indent}for {_var(loop.name)} in {values}:")
        names = {**names, loop.name: _LOOP_BOUND}
        indent += "    "
    source = _Source(names)
    if not st.loops:
        lines.append(f"{indent}if len(ids) >= M: raise _Limit")
    lines.append(f"{indent}ids_append({source.text(_template_text(st.id))})")
    if callable(st.cost):
        cost_source, _ = source.expression(st.cost_text or "")
        lines.append(f"{indent}costs_append(_cost({cost_source}))")
    row = ", ".join(_need_source(nt, names, params) for nt in st.needs)
    if looped or not st.loops:
        lines.append(f"{indent}row = [{row}]")
        lines.append(f"{indent}D -= len(row)")
        lines.append(f"{indent}if D < 0: raise _Limit")
        lines.append(f"{indent}needs_append(row)")
    else:
        lines.append(f"{indent}needs_append([{row}])")
    if not callable(st.cost):
        lines.append("    costs.extend([C] * (len(ids) - first))")
    lines.append("    return D")
    return "\n".join(lines) + "\n"


class _Limit(Exception):
    """A limit was passed: the interpreted path raises the located error."""


#: Loop variables lie within this magnitude (``_loop`` checks), so ids made of them need no
#: check of their size.
_LOOP_BOUND = 2**62


def _loop(values: range, budget: int) -> range:
    """A foreach range, if it fits what is left of a limit and its values are not huge."""
    if len(values) > max(budget, 0) or not (
        -_LOOP_BOUND <= values.start <= _LOOP_BOUND and -_LOOP_BOUND <= values.stop <= _LOOP_BOUND
    ):
        raise _Limit
    return values


@lru_cache(maxsize=256)
def _compiled(source: str, index: int) -> CodeType:
    """The code of a generated function. A sweep expands the same templates at every size,
    and their source does not change with the params' values: compiled once."""
    return compile(source, f"<step template {index}>", "exec")


_HELPERS: dict[str, Any] = {
    "_loop": _loop, "_range": _range, "_pow": _pow, "_id_value": id_integer,
    "_cost": checked_cost,
    "_Limit": _Limit,
    "_Optional": OptionalNeed, **{f"_f_{name}": fn for name, fn in FUNCTIONS.items()},
}  # fmt: skip


def compile_template(
    st: _StepTemplate, params: Mapping[str, Any]
) -> Callable[[list[str], list[Any], list[list[str]], int, int], int]:
    """The generated expansion of one step template; raises :class:`Decline`."""
    source = _function_source(st, params)
    scope = {**_HELPERS, "P": dict(params), "C": None if callable(st.cost) else st.cost}
    try:
        code = _compiled(source, st.index)
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
