"""Expanding templated workloads: ``params``, ``foreach`` loops, ``{expr}`` ids, optional needs.

A workload file is templated when it has a top-level ``params`` mapping or a step with a
``foreach``. Each step template then expands into one step per combination of its loop
variables (nested, first outermost; later ranges may use earlier variables)::

    params: {width: 32, steps: 16}
    steps:
      - id: "c{t}_{i}"
        foreach: {t: "range(1, steps + 1)", i: "range(width)"}
        cost: "1 + i % 2"
        needs: ["c{t-1}_{i-1}?", "c{t-1}_{i}"]          # a trailing ? makes a need optional
      - id: sink
        needs:
          - {id: "c{steps}_{j}", foreach: {j: "range(width)"}}

Expansion is bounded by ``--max-steps`` and ``--max-dependencies`` (need-level ``foreach``
loops count too): a runaway expansion stops with a clear message before memory runs out. Any
arithmetic failure of an expression (an overflow, a NaN, a number too long to write) is a
located error naming the template and its loop values.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..base.errors import SerialscaleError, suggest
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.words import not_a_number, plain_number
from ..documents.workload import DEFAULT_COST, NEED_KEYS, TEMPLATE_KEYS, is_identifier
from .expressions import (
    EVALUATION_ERRORS,
    Compiled,
    ExpressionError,
    Template,
    _show,
    compile_expression,
    explain,
)
from .optional import OptionalNeed


class TemplateFailure(SerialscaleError):
    """An expansion problem: ``message`` and a ``path`` into the document to locate it."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class Loop(NamedTuple):
    """A ``foreach`` variable: its name, its compiled range and the range's text."""

    name: str
    make: Compiled
    spec: str


@dataclass
class _NeedTemplate:
    template: Template
    optional: bool
    loops: list[Loop]


@dataclass
class _StepTemplate:
    index: int
    id: Template
    cost: Compiled | float | int
    cost_text: str | None
    loops: list[Loop]
    needs: list[_NeedTemplate]


@dataclass
class Expansion:
    """Expanded steps, plus where each came from (template index and iteration number)."""

    ids: list[str]
    costs: list[Any]
    needs: list[list[str]]
    template_of: array  # step -> template index
    first_step: list[int]  # template index -> its first step
    templates: list[_StepTemplate]
    params: dict[str, Any]

    def origin(self, step: int) -> tuple[int, dict[str, Any]]:
        """Template index and loop values that produced ``step`` (re-expands one template)."""
        k = self.template_of[step]
        wanted = step - self.first_step[k]
        for count, env in enumerate(_iterate(self.templates[k].loops, dict(self.params))):
            if count == wanted:
                return k, {name: env[name] for name, *_ in self.templates[k].loops}
        return k, {}

    def need_origin(self, step: int, need: int) -> tuple[tuple[str | int, ...], str]:
        """Document path of the need template behind ``needs[step][need]`` and its text."""
        k, values = self.origin(step)
        env = dict(self.params) | values
        count = 0
        for j, nt in enumerate(self.templates[k].needs):
            for _ in _iterate(nt.loops, env):
                if count == need:
                    return ("steps", k, "needs", j), nt.template.text
                count += 1
        return ("steps", k, "needs"), ""


def describe(values: Mapping[str, Any]) -> str:
    """``t=3, i=4`` for an error message."""
    return ", ".join(f"{k}={v}" for k, v in values.items())


def resolve_params(declared: Any, overrides: Mapping[str, str] | None) -> dict[str, int | float]:
    """The file's ``params`` defaults with command-line overrides (numbers only)."""
    if declared is None:
        declared = {}
    if not isinstance(declared, dict):
        raise TemplateFailure("'params' must be a mapping of names to numbers", ("params",))
    params: dict[str, int | float] = {}
    for name, value in declared.items():
        if not is_identifier(name):
            raise TemplateFailure(f"param name {name!r} is not a valid name", ("params", name))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TemplateFailure(
                f"param '{name}' must be a number, got {value!r}", ("params", name)
            )
        params[name] = value
    for name, text in (overrides or {}).items():
        if name not in params:
            known = ", ".join(params) or "none"
            raise TemplateFailure(
                f"unknown parameter '{name}'{suggest(name, params)}; this workload's params: "
                f"{known}",
                ("params",),
            )
        params[name] = parse_number(name, text)
    return params


def parse_number(name: str, text: str) -> int | float:
    """A command-line value as an int when it is one, else a finite float (the numbers
    people type: :func:`serialscale.base.words.plain_number`)."""
    value = plain_number(text)
    if value is None:
        raise TemplateFailure(f"parameter '{name}' expects {not_a_number(text)}, got {text!r}",
                              ())  # fmt: skip
    return value


class _Budget:
    """What the expansion may still make: steps and dependencies (need entries)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.dependencies = limits.max_dependencies

    def spend_dependencies(self, count: int) -> None:
        self.dependencies -= count
        if self.dependencies < 0:
            raise ExpressionError(
                f"the expansion passes --max-dependencies ({self.limits.max_dependencies:,} "
                "dependencies); raise the limit or use smaller params"
            )


def expand(
    steps: list[Any],
    params: dict[str, Any],
    limits: Limits = DEFAULT_LIMITS,
    *,
    bulk: bool = True,
) -> Expansion:
    """Expand every step template; raises :class:`TemplateFailure` with a document path.

    ``bulk`` runs generated code for each template first (:mod:`.template_codegen`), which
    gives the same expansion faster; whatever it declines or fails on is expanded here, one
    closure call at a time (``bulk=False`` always does: the reference the tests compare with).
    """
    max_steps = limits.max_steps
    budget = _Budget(limits)
    templates = [_compile_step(k, raw, params) for k, raw in enumerate(steps)]
    if bulk:
        from .template_codegen import expand_bulk

        made = expand_bulk(templates, params, max_steps, limits.max_dependencies)
        if made is not None:
            return Expansion(*made, templates, params)
    ids: list[str] = []
    costs: list[Any] = []
    needs: list[list[str]] = []
    template_of = array("i")
    first_step: list[int] = []
    for st in templates:
        first_step.append(len(ids))
        path = ("steps", st.index)
        env: dict[str, Any] = dict(params)
        try:
            for _ in _iterate(st.loops, env, max_steps - len(ids)):  # fills env in place
                if len(ids) >= max_steps:
                    raise TemplateFailure(
                        f"the expansion passes --max-steps ({max_steps:,} steps); raise the "
                        "limit or use smaller params",
                        path,
                    )
                ids.append(st.id.render(env))
                costs.append(_cost(st, env))
                row = _needs(st, env, budget)
                budget.spend_dependencies(len(row))
                needs.append(row)
                template_of.append(st.index)
        except (ExpressionError, *EVALUATION_ERRORS) as exc:  # type: ignore[misc]
            values = {name: env[name] for name, *_ in st.loops if name in env}
            at = f" with {describe(values)}" if values else ""
            raise TemplateFailure(
                f"in step template {st.id.text!r}{at}: {explain(exc)}", path
            ) from None
    return Expansion(ids, costs, needs, template_of, first_step, templates, params)


def _iterate(
    loops: list[Loop], env: dict[str, Any], budget: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every combination of the loop variables, innermost fastest; yields the same dict."""
    if not loops:
        yield env
        return
    stack = [_loop_range(loops[0], env, budget)]
    while stack:
        try:
            value = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        env[loops[len(stack) - 1][0]] = value
        if len(stack) == len(loops):
            yield env
        else:
            stack.append(_loop_range(loops[len(stack)], env, budget))


def _loop_range(loop: Loop, env: dict[str, Any], budget: int | None) -> Iterator:
    name, make, _ = loop
    values = make(env)
    try:
        count = len(values)
    except OverflowError:  # more values than a machine integer counts
        raise ExpressionError(f"range of '{name}' has more than 2**63 values") from None
    if budget is not None and count > max(budget, 0):
        raise ExpressionError(
            f"range of '{name}' has {count:,} values, more than the --max-steps and "
            "--max-dependencies limits allow"
        )
    return iter(values)


def _cost(st: _StepTemplate, env: dict[str, Any]) -> Any:
    return st.cost if not callable(st.cost) else checked_cost(st.cost(env), st.cost_text)


def checked_cost(value: Any, text: str | None = None) -> Any:
    """``value``, the value of cost expression ``text``, if it is a finite number >= 0;
    :class:`ExpressionError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"cost {text!r} gave {value!r}, not a number")
    if not 0 <= value < math.inf:
        raise ExpressionError(f"cost {text!r} gave {value}; expected a finite number >= 0")
    return value


def _needs(st: _StepTemplate, env: dict[str, Any], budget: _Budget) -> list[str]:
    row: list[str] = []
    for nt in st.needs:
        if nt.loops:
            for inner in _iterate(nt.loops, dict(env), budget.dependencies - len(row)):
                row.append(_need_name(nt, inner))
                if len(row) > budget.dependencies:  # nested loops: their product counts
                    budget.spend_dependencies(len(row))
        else:
            row.append(_need_name(nt, env))
    return row


def _need_name(nt: _NeedTemplate, env: Mapping[str, Any]) -> str:
    name = nt.template.render(env)
    return OptionalNeed(name) if nt.optional else name


def _compile_step(k: int, raw: Any, params: Mapping[str, Any]) -> _StepTemplate:
    path: tuple[str | int, ...] = ("steps", k)
    if not isinstance(raw, dict):
        raise TemplateFailure(f"step {k + 1} must be a mapping with an 'id'", path)
    for key in raw:
        if key not in TEMPLATE_KEYS:
            raise TemplateFailure(
                f"unknown key '{key}' in a step{suggest(str(key), TEMPLATE_KEYS)}; expected: "
                f"{', '.join(TEMPLATE_KEYS)}",
                (*path, key),
            )
    if "id" not in raw:
        raise TemplateFailure(f"step {k + 1} has no 'id'", path)
    loops = _compile_loops(raw.get("foreach"), (*path, "foreach"), params)
    raw_id = raw["id"]
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or raw_id == "":
        raise TemplateFailure("a step id must be a non-empty string or an integer", (*path, "id"))
    step_id = _template(str(raw_id), (*path, "id"))
    if len(loops) and step_id.constant:
        raise TemplateFailure(
            f"step id {raw_id!r} has a foreach but no {{variable}}: every step would have the "
            "same id",
            (*path, "id"),
        )
    cost_raw = raw.get("cost", DEFAULT_COST)
    cost: Compiled | float | int
    cost_text = None
    if isinstance(cost_raw, str):
        cost_text = cost_raw
        try:
            cost = compile_expression(cost_raw)
        except ExpressionError as exc:
            from ..base.words import duration_seconds

            if duration_seconds(cost_raw.strip()) is not None:  # 5m: a plain file's duration
                raise TemplateFailure(
                    f"cost {_show(cost_raw)} is a duration: templated workloads take numbers "
                    "or expressions in the workload's unit (durations: plain workload files)",
                    (*path, "cost"),
                ) from None
            raise TemplateFailure(f"cost {_show(cost_raw)}: {exc}", (*path, "cost")) from None
    elif isinstance(cost_raw, bool) or not isinstance(cost_raw, (int, float)):
        raise TemplateFailure(
            f"'cost' must be a number >= 0 or an expression string, got {cost_raw!r}",
            (*path, "cost"),
        )
    elif not 0 <= cost_raw < math.inf:
        raise TemplateFailure(
            f"'cost' must be a finite number >= 0, got {cost_raw}", (*path, "cost")
        )
    else:
        cost = cost_raw
    raw_needs = raw.get("needs")
    if raw_needs is None:
        raw_needs = []
    elif not isinstance(raw_needs, list):
        raise TemplateFailure("'needs' must be a list of step ids", (*path, "needs"))
    needs = [_compile_need(item, (*path, "needs", j), params) for j, item in enumerate(raw_needs)]
    return _StepTemplate(k, step_id, cost, cost_text, loops, needs)


def _compile_need(
    item: Any, path: tuple[str | int, ...], params: Mapping[str, Any]
) -> _NeedTemplate:
    loops: list[Loop] = []
    if isinstance(item, dict):
        for key in item:
            if key not in NEED_KEYS:
                raise TemplateFailure(
                    f"unknown key '{key}' in a need{suggest(str(key), NEED_KEYS)}; "
                    f"expected: {', '.join(NEED_KEYS)}",
                    (*path, key),
                )
        if "id" not in item:
            raise TemplateFailure("a need mapping must have an 'id'", path)
        loops = _compile_loops(item.get("foreach"), (*path, "foreach"), params)
        item = item["id"]
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        raise TemplateFailure(f"a need must be a step id, got {item!r}", path)
    text = str(item)
    optional = text.endswith("?")
    return _NeedTemplate(_template(text[:-1] if optional else text, path), optional, loops)


def _compile_loops(raw: Any, path: tuple[str | int, ...], params: Mapping[str, Any]) -> list[Loop]:
    if raw is None:
        return []
    if not isinstance(raw, dict) or not raw:
        raise TemplateFailure(
            "'foreach' must map loop variables to ranges, e.g. {i: \"range(n)\"}", path
        )
    loops: list[Loop] = []
    for name, spec in raw.items():
        if not is_identifier(name):
            raise TemplateFailure(f"loop variable {name!r} is not a valid name", path)
        if name in params:
            raise TemplateFailure(f"loop variable '{name}' hides the param of the same name", path)
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = f"range({spec})"
        if not isinstance(spec, str):
            raise TemplateFailure(f"the range of '{name}' must be a string like \"range(n)\"", path)
        try:
            make = compile_expression(spec, allow_range=True)
        except ExpressionError as exc:
            raise TemplateFailure(f"foreach {name}: {exc}", (*path, name)) from None
        loops.append(Loop(name, _as_range(name, spec, make), spec))
    return loops


def _as_range(name: str, spec: str, make: Compiled) -> Compiled:
    def values(env: Mapping[str, Any]) -> range:
        result = make(env)
        if not isinstance(result, range):
            raise ExpressionError(f"foreach {name}: {spec!r} must be a range(...)")
        return result

    return values


def _template(text: str, path: tuple[str | int, ...]) -> Template:
    try:
        return Template(text)
    except ExpressionError as exc:
        raise TemplateFailure(str(exc), path) from None
