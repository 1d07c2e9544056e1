"""Workload files: YAML (or JSON of the same structure) to a :class:`Workload`.

The format::

    name: nightly-model-refresh   # optional; defaults to the file name without its extension
    description: free text        # optional
    unit: minutes                 # optional label for costs
    steps:                        # required, non-empty list, in any order
      - id: fetch                 # required, unique; a string (an integer is taken as its string)
        cost: 12                  # optional finite number >= 0 or a duration (90s); default 1
        span: 3                   # optional: the step's own parallel depth, 0 < span <= cost
                                  # (default: the cost; a step that runs on several cores)
        needs: [other, ids]       # optional list of ids of steps this step depends on

A step with ``span`` < ``cost`` has parallelism inside (work ``cost``, span ``span``): the
depth is then the longest path of spans and the work the sum of costs (a CI job that runs its
tests on 8 cores for 80 core-minutes: cost 80, span 10). Templated workloads do not take
``span``.

Unknown keys are errors, with a suggestion where one is close. The format is declared once,
in :mod:`serialscale.documents.workload`; the key lists, the default cost and the constraints
checked here come from there (``tests/test_input_format.py`` holds every reader to it).
"""

from __future__ import annotations

import math
import operator
import sys
from array import array
from collections.abc import Mapping
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import accel
from ..base.errors import Errors, Location, WorkloadError, suggest
from ..base.gcpause import gc_paused
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.reading import read_file, read_input
from ..base.words import TIME_UNITS, duration_seconds, elided, encodable
from ..core.named_steps import build_graph
from ..core.workload import Workload
from ..documents.report import SAVED_KEY, SAVED_NOT_A_WORKLOAD, is_saved_document
from ..documents.workload import (
    DEFAULT_COST,
    LARGEST_FLOAT,
    STEP_KEYS,
    TOP_KEYS,
    is_templated,
)
from .optional import OptionalNeed
from .parsing import Locator, decode, parse_document
from .registry import DEFAULT_READ, ReadOptions

if TYPE_CHECKING:
    from .columns import Columns
    from .templates import Expansion

STEP_KEYS_SET = frozenset(STEP_KEYS)
_NAME_TYPES = frozenset((str, OptionalNeed))
_GET_ID = operator.methodcaller("get", "id")
_GET_COST = operator.methodcaller("get", "cost", DEFAULT_COST)
_GET_NEEDS = operator.methodcaller("get", "needs")


def load_workload(
    path: str | Path,
    params: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    read: ReadOptions = DEFAULT_READ,
) -> Workload:
    """Read a workload file (``-`` reads standard input as YAML, or as ``read.fmt``), in
    serialscale's format or a foreign one (see :mod:`serialscale.sources.registry`). Raises
    :class:`WorkloadError`.

    ``params`` override a templated workload's ``params`` (values as strings, as typed on the
    command line); ``limits`` bound the input's size and what it expands to.
    """
    from .registry import read_path

    source = str(path)
    if source == "-":
        data = read_input(sys.stdin.buffer, "<stdin>", limits.max_input_bytes)
        if read.fmt and read.fmt != "serialscale":
            return read_path(Path("<stdin>"), data, params, limits, read)
        return parse_workload(data, "<stdin>", name="stdin", params=params, limits=limits)
    p = Path(path)
    if p.is_dir() and (p / "build.ninja").is_file():  # a ninja build folder
        p = p / "build.ninja"
    data = read_file(p, limits.max_input_bytes)
    return read_path(p, data, params, limits, read)


def parse_workload(
    data: bytes | str,
    source: str,
    *,
    name: str | None = None,
    is_json: bool = False,
    params: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Workload:
    """Parse workload text (YAML, or JSON when ``is_json``) into a :class:`Workload`."""
    default_name = name or "workload"
    with gc_paused():
        if is_json and isinstance(data, bytes) and not params:
            from .json_fast import json_columns

            columns = json_columns(data, limits.max_dependencies)
            if columns is not None:  # valid JSON, checked in C; the rest as for any workload
                return _Validator(data, source, params, limits).from_columns(columns, default_name)
        text = decode(data, source) if isinstance(data, bytes) else data
        if not is_json and not params:
            from .yaml_fast import yaml_columns

            columns = yaml_columns(text)
            if columns is not None:  # the common subset of YAML, read line by line
                return _Validator(text, source, params, limits).from_columns(columns, default_name)
        doc = parse_document(text, source, is_json)
        return _Validator(text, source, params, limits).workload(doc, default_name)


class _Validator:
    """Checks the plain document and builds the graph; locates errors only when they happen.
    Every error found is reported (up to :data:`serialscale.base.errors.MAX_ERRORS`), not only the
    first: a step with a bad cost is still checked for duplicate ids, unknown needs and
    cycles; only what stops the reading (no 'steps' list, a template that cannot expand, a
    size limit) ends it at once, with the errors found before.
    """

    def __init__(
        self, text: str | bytes, source: str, params: Mapping[str, str] | None, limits: Limits
    ) -> None:
        self.source = source
        # (column, step in the document, id) of each cost given as a duration
        self.durations: list[tuple[int, int, str]] = []
        self.span_durations: list[tuple[int, int, str]] = []  # the same for spans
        #: Where in the file's ``steps`` each step read is, where some were left out (an
        #: error each): a step's index among those read is not its index in the file then.
        self.kept: list[int] | None = None
        self.spans: list[Any] | None = None  # each step's span, where one step gives one
        self.locator = Locator(text, source)
        self.overrides = params
        self.limits = limits
        self.expansion: Expansion | None = None  # set for templated workloads
        self.errors = Errors()

    def fail(
        self,
        message: str,
        path: tuple[str | int, ...] = (),
        step_id: str | None = None,
        key: bool = False,
    ) -> WorkloadError:
        return WorkloadError(message, self.locator.at(path, step_id, key))

    def workload(self, doc: Any, default_name: str) -> Workload:
        if not isinstance(doc, dict):
            got = "an empty document" if doc is None else f"a {_kind(doc)}"
            raise self.fail(f"the top level must be a mapping with a 'steps' list, got {got}")
        if is_saved_document(doc):  # a saved report handed over as a workload
            raise self.fail(SAVED_NOT_A_WORKLOAD, (SAVED_KEY,), key=True)
        for key in doc:
            if key not in TOP_KEYS:
                self.errors.add(self.fail(
                    f"unknown key '{elided(str(key))}' at the top level"
                    f"{suggest(str(key), TOP_KEYS)}; "
                    f"expected one of: {', '.join(TOP_KEYS)}",
                    (key,),
                    key=True,
                ))  # fmt: skip
        name = self.text_field(doc, "name") or default_name
        description, unit = self.text_field(doc, "description"), self.text_field(doc, "unit")
        steps = doc.get("steps")
        if "steps" not in doc:  # (after an unknown key, which says more: 'stepz')
            self.errors.check(
                None
                if self.errors
                else self.fail("missing 'steps': expected a non-empty list of steps")
            )
        if not isinstance(steps, list):
            self.errors.check(self.fail(f"'steps' must be a list of steps, got a "
                                        f"{_kind(steps)}", ("steps",)))  # fmt: skip
        if not steps:
            self.errors.check(self.fail("'steps' is empty: expected at least one step",
                                        ("steps",)))  # fmt: skip
        assert isinstance(steps, list)
        extra: dict[str, Any] = {}
        if is_templated(doc):
            from .templates import TemplateFailure, expand, resolve_params

            try:
                params = resolve_params(doc.get("params"), self.overrides)
                self.expansion = expand(steps, params, self.limits)
            except TemplateFailure as exc:
                self.errors.check(self.fail(exc.message, exc.path))
                raise AssertionError("unreachable") from None
            ids, costs, raw_needs = self.expansion.ids, self.expansion.costs, self.expansion.needs
            extra["params"] = params
        else:
            if self.overrides:
                self.errors.check(self.fail(
                    "--param needs a templated workload (one with 'params') or a traced "
                    "function (file.py:function)"
                ))  # fmt: skip
            ids, costs, raw_needs = self.steps(steps)
            if self.durations or self.span_durations:
                unit = self.durations_in(costs, unit)
            if self.spans is not None:
                self.spans = [c if s is None else s for s, c in zip(self.spans, costs, strict=True)]
                self.check_spans(ids, costs, self.spans)
                self.errors.check()  # a bad span leaves nothing to build
        return self.build(name, description, unit, ids, costs, raw_needs, extra)

    def check_spans(self, ids: list[str], costs: list[Any], spans: list[Any]) -> None:
        """Every span lies in ``(0, cost]`` (0 only for a cost of 0): a step's own parallel
        depth cannot exceed its work, and work done takes some time."""
        for i, (span, cost) in enumerate(zip(spans, costs, strict=True)):
            if not (0 < span <= cost or span == cost == 0):
                problem = (f"'span' {span} is larger than the step's cost {cost}: a step's span "
                           "(its own parallel depth) is at most its work" if span > cost else
                           f"'span' must be > 0 for a step of cost {cost}: work takes some "
                           "time")  # fmt: skip
                self.errors.add(self.fail(problem, ("steps", self.at(i), "span"), ids[i]))

    def durations_in(self, costs: list[Any], unit: str | None) -> str:
        """Costs written as durations (``5m``, ``90s``, ``1h30m``) in the workload's unit,
        which must be a unit of time; without a ``unit``, the workload's unit is seconds."""
        scale = TIME_UNITS.get(unit.strip().lower()) if unit else 1
        if scale is None:
            key, values, (i, at, step_id) = (
                ("cost", costs, self.durations[0]) if self.durations
                else ("span", self.spans or [], self.span_durations[0])
            )  # fmt: skip
            self.errors.add(self.fail(f"'{key}' {values[i]!r} is a duration, but the workload's "
                                      f"unit {unit!r} is not a unit of time (seconds, minutes, "
                                      "hours...)", ("steps", at, key), step_id))  # fmt: skip
            for i, _, _ in self.durations:
                costs[i] = 0  # to go on checking the rest
            for i, _, _ in self.span_durations:
                if self.spans is not None:
                    self.spans[i] = None  # the cost, to go on checking the rest
            return unit or "seconds"
        for i, _, _ in self.durations:
            value = (duration_seconds(costs[i]) or 0.0) / scale
            costs[i] = int(value) if value.is_integer() else value
        spans = self.spans if self.spans is not None else []
        for i, _, _ in self.span_durations:
            value = (duration_seconds(spans[i]) or 0.0) / scale
            spans[i] = int(value) if value.is_integer() else value
        return unit or "seconds"

    def from_columns(self, columns: Columns, default_name: str) -> Workload:
        """The workload of a fast reader's columns (their types already checked there)."""
        return self.build(
            columns.name or default_name, columns.description, columns.unit, columns.ids,
            columns.costs, columns.needs, {}, columns.resolved,
        )  # fmt: skip

    def build(
        self,
        name: str,
        description: str | None,
        unit: str | None,
        ids: list[str],
        costs: list[Any],
        raw_needs: list[list[Any]] | None,
        extra: dict[str, Any],
        resolved: tuple[array, array] | None = None,
    ) -> Workload:
        """Resolve the needs and build the graph from checked columns (the step ids, costs
        and need lists, or needs ``resolved`` already as CSR arrays by the JSON fast path),
        raising located errors for unknown needs, duplicates and cycles.
        """
        dependencies = len(resolved[1]) if resolved else sum(map(len, raw_needs or []))
        try:
            self.check_size(len(ids), dependencies)
        except WorkloadError as exc:
            self.errors.check(exc)
        if costs and max(costs) > LARGEST_FLOAT:  # an int past what any ratio can hold
            for i in (i for i, c in enumerate(costs) if c > LARGEST_FLOAT):
                self.errors.add(self.fail("'cost' is larger than the largest float (about "
                                          "1.8e308); use smaller units",
                                          ("steps", self.at(i), "cost") if self.expansion is None
                                          else (), str(ids[i])))  # fmt: skip
                costs[i] = 0  # to go on checking the rest
        elif float in set(map(type, costs)) and not _finite_sum(costs):
            self.errors.add(self.fail(
                "the costs add up to more than the largest float (about 1.8e308); a workload's "
                "total cost must be finite: use smaller units"
            ))  # fmt: skip
        try:
            self.check_text(name, description, unit, ids)
        except WorkloadError as exc:
            self.errors.add(exc)
        if resolved is None:
            resolved = self.resolve_fast(ids, raw_needs or [], dependencies)
        if resolved is None and raw_needs:
            raw_needs = self.need_names(raw_needs, ids)
        graph = build_graph(
            ids, costs, raw_needs, _Places(self), resolved=resolved, spans=self.spans,
            errors=self.errors, optional=OptionalNeed,
        )  # fmt: skip
        return Workload(
            name=name,
            graph=graph,
            source=self.source,
            description=description,
            unit=unit,
            extra=extra,
        )

    def check_size(self, steps: int, dependencies: int) -> None:
        """``--max-steps`` and ``--max-dependencies``, for every kind of workload (YAML
        aliases can make a small file name a shared need list millions of times)."""
        limits = self.limits
        if steps > limits.max_steps:
            raise self.fail(
                f"the workload has {steps:,} steps, more than --max-steps "
                f"({limits.max_steps:,}); raise the limit to analyze it"
            )
        if dependencies > limits.max_dependencies:
            raise self.fail(
                f"the workload has {dependencies:,} dependencies, more than --max-dependencies "
                f"({limits.max_dependencies:,}); raise the limit to analyze it"
            )

    def check_text(self, *texts: str | list[str] | None) -> None:
        """Every text (the name, description, unit, then the step ids) must be writable as
        UTF-8: a lone surrogate (``"\\ud800"`` in JSON) is refused here, where it can be
        located, not when a report is written."""
        for key, text in zip(("name", "description", "unit", None), texts, strict=False):
            joined = "".join(text) if isinstance(text, list) else text or ""
            try:
                joined.encode("utf-8")
            except UnicodeEncodeError:
                if isinstance(text, list):
                    i = next(i for i, x in enumerate(text) if not encodable(x))
                    path, origin = self.step_where(i)
                    raise self.fail(
                        f"step id {text[i]!r} contains a lone surrogate (an unpaired \\ud800-"
                        f"\\udfff escape), which no UTF-8 text can hold{origin}",
                        (*path, "id"),
                    ) from None
                raise self.fail(
                    f"{text!r} contains a lone surrogate (an unpaired \\ud800-\\udfff "
                    "escape), which no UTF-8 text can hold",
                    (key,) if key is not None else (),  # (where the file has it: its key)
                ) from None

    def step_where(self, i: int) -> tuple[tuple[str | int, ...], str]:
        """Document path of step ``i`` and, for templates, which template and loop values."""
        if self.expansion is None:
            return ("steps", self.at(i)), ""
        from .templates import describe

        k, values = self.expansion.origin(i)
        template = self.expansion.templates[k].id.text
        at = f" with {describe(values)}" if values else ""
        return ("steps", k), f", made by step template {template!r}{at}"

    def need_where(self, i: int, k: int) -> tuple[tuple[str | int, ...], str]:
        """Document path of need ``k`` of step ``i``, with its template origin."""
        if self.expansion is None:
            return ("steps", self.at(i), "needs", k), ""
        from .templates import describe

        path, text = self.expansion.need_origin(i, k)
        t, values = self.expansion.origin(i)
        template = self.expansion.templates[t].id.text
        at = f" with {describe(values)}" if values else ""
        return path, f" (from need {text!r} of step template {template!r}{at})"

    def text_field(self, doc: dict[str, Any], key: str) -> str | None:
        value = doc.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.errors.add(self.fail(f"'{key}' must be text, got a {_kind(value)}", (key,)))
            return None
        return str(value)

    def steps(self, steps: list[Any]) -> tuple[list[str], list[Any], list[list[Any]]]:
        """Ids, costs and raw need lists of every step.

        Valid input is checked with whole-list operations that run in C; only when one of them
        finds a problem does :meth:`steps_one_by_one` walk the steps to locate it.
        """
        if set(map(type, steps)) != {dict}:
            return self.steps_one_by_one(steps)
        keys = set().union(*map(dict.keys, steps))
        if not keys <= STEP_KEYS_SET or "span" in keys:  # spans: read step by step
            return self.steps_one_by_one(steps)
        ids = list(map(_GET_ID, steps))
        id_types = set(map(type, ids))
        costs = list(map(_GET_COST, steps))
        cost_types = set(map(type, costs))
        needs = list(map(_GET_NEEDS, steps))
        need_types = set(map(type, needs))
        if (
            not id_types <= {str, int}
            or not cost_types <= {int, float}
            or not need_types <= {list, type(None)}
            or (costs and min(costs) < 0)
            or (float in cost_types and not _all_finite(costs))
        ):
            return self.steps_one_by_one(steps)
        if int in id_types:
            ids = list(map(str, ids))
        if "" in ids:
            return self.steps_one_by_one(steps)
        if type(None) in need_types:
            needs = [row if row is not None else [] for row in needs]
        return ids, costs, needs

    def steps_one_by_one(self, steps: list[Any]) -> tuple[list[str], list[Any], list[list[Any]]]:
        """The same as :meth:`steps`, a step at a time, recording a located error for each
        problem: a step without a usable id is left out, a bad cost counts as 0 and bad needs
        as none, so the other steps are checked as well.
        """
        ids: list[str] = []
        costs: list[Any] = []
        needs: list[list[Any]] = []
        add = self.errors.add
        spans: list[Any] = []
        kept: list[int] = []
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                add(self.fail(f"step {i + 1} must be a mapping with an 'id', got a "
                              f"{_kind(step)}", ("steps", i)))  # fmt: skip
                continue
            if "id" not in step:
                add(self.fail(f"step {i + 1} has no 'id'", ("steps", i)))
                continue
            try:
                step_id = self.step_id(step["id"], ("steps", i, "id"))
            except WorkloadError as exc:
                add(exc)
                continue
            if len(step) > 1 and not step.keys() <= STEP_KEYS_SET:
                for bad in (k for k in step if k not in STEP_KEYS_SET):
                    add(self.fail(
                        f"unknown key '{bad}' in a step{suggest(str(bad), STEP_KEYS)}; "
                        f"expected: {', '.join(STEP_KEYS)}",
                        ("steps", i, bad),
                        step_id,
                        key=True,
                    ))  # fmt: skip
            cost = step.get("cost", DEFAULT_COST)
            if isinstance(cost, str) and duration_seconds(cost) is not None:
                self.durations.append((len(ids), i, step_id))  # converted once the unit is known
            elif not _valid_cost(cost):
                add(self.fail(_cost_problem(cost), ("steps", i, "cost"), step_id))
                cost = 0
            need = step.get("needs")
            if need is None:
                need = []
            elif not isinstance(need, list):
                add(self.fail(f"'needs' must be a list of step ids, got a {_kind(need)}",
                              ("steps", i, "needs"), step_id))  # fmt: skip
                need = []
            span = step.get("span")  # None: the cost, once durations are converted
            if span is not None:
                if isinstance(span, str) and duration_seconds(span) is not None:
                    self.span_durations.append((len(ids), i, step_id))
                elif not _valid_cost(span):
                    problem = _span_problem(span)
                    add(self.fail(problem, ("steps", i, "span"), step_id))
                    span = None
            ids.append(step_id)
            costs.append(cost)
            needs.append(need)
            spans.append(span)
            kept.append(i)
        if any(s is not None for s in spans):
            self.spans = spans
        if len(kept) < len(steps):
            self.kept = kept
        return ids, costs, needs

    def at(self, i: int) -> int:
        """Where step ``i`` of those read is in the file's ``steps`` (see :attr:`kept`)."""
        return i if self.kept is None else self.kept[i]

    def step_id(self, value: Any, path: tuple[str | int, ...], what: str = "a step id",
                step: str | None = None) -> str:  # fmt: skip
        """``value`` as a step id (``what`` says where it was: a step's id, or a need of
        ``step``)."""
        if isinstance(value, str):
            if value:
                return value
            raise self.fail(f"{what} must not be empty", path, step)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self.fail(f"{what} must be a string or an integer, got a {_kind(value)}", path,
                        step)  # fmt: skip

    def resolve_fast(
        self, ids: list[str], raw_needs: list[list[Any]], dependencies: int
    ) -> tuple[array, array] | None:
        """Need names to step indices as CSR arrays ``(pred_ptr, pred_idx)``, in the kernels,
        for the common case (optional needs that name no step dropped); ``dependencies`` is
        how many names ``raw_needs`` holds in all. ``None`` for anything unusual (a repeated
        id, an unknown need, an integer id): :func:`~serialscale.core.named_steps.build_graph`
        resolves those and says what is wrong, where."""
        pred_ptr = array("q", bytes(8 * (len(ids) + 1)))
        pred_idx = array("q", bytes(8 * dependencies))
        if accel.kernels().resolve_names(ids, raw_needs, pred_ptr, pred_idx, OptionalNeed) == 0:
            del pred_idx[pred_ptr[-1] :]
            return pred_ptr, pred_idx
        return None

    def need_names(self, raw_needs: list[list[Any]], ids: list[str]) -> list[list[Any]]:
        """The need lists with every need as a name: an integer id as its string; a need
        that is no id at all (a list, a mapping, a boolean) is a located error, left out."""
        if set(map(type, chain.from_iterable(raw_needs))) <= _NAME_TYPES:
            return raw_needs
        rows = []
        for i, row in enumerate(raw_needs):
            names = []
            for k, raw in enumerate(row):
                if type(raw) in _NAME_TYPES:
                    names.append(raw)
                    continue
                try:  # located only when there is an error (slow for templates)
                    names.append(self.step_id(raw, self.need_where(i, k)[0],
                                              "a need (the id of a step)", ids[i]))  # fmt: skip
                except WorkloadError as exc:
                    self.errors.add(exc)
            rows.append(names)
        return rows


class _Places:
    """Where the steps of a workload file are (their template's origin, for templates)."""

    def __init__(self, validator: _Validator) -> None:
        self.validator = validator

    def step(self, i: int, key: str | None = None) -> tuple[Location, str]:
        """Step ``i`` in the document (its ``key`` when given), with its template origin."""
        path, origin = self.validator.step_where(i)
        return self.validator.locator.at((*path, key) if key else path), origin

    def need(self, i: int, k: int) -> tuple[Location, str]:
        """Need ``k`` of step ``i`` in the document, with its template origin."""
        path, origin = self.validator.need_where(i, k)
        return self.validator.locator.at(path), origin

    def cycle(self, first: int, second: int) -> tuple[Location, str]:
        """A cycle is shown at its first step."""
        return self.step(first)


def _finite_sum(costs: list[Any]) -> bool:
    try:
        return math.isfinite(math.fsum(costs))
    except OverflowError:  # fsum's intermediate sums overflowed
        return False


def _all_finite(costs: list[Any]) -> bool:
    # only the floats can be NaN or infinite (math.isnan of an int past the floats raises)
    floats = [c for c in costs if type(c) is float]
    return not floats or (not any(map(math.isnan, floats)) and max(floats) < math.inf)


def _valid_cost(cost: Any) -> bool:
    kind = type(cost)
    return (kind is int and cost >= 0) or (kind is float and 0 <= cost < math.inf)


def _cost_problem(cost: Any) -> str:
    if isinstance(cost, str):
        return (f"'cost' must be a number >= 0 or a duration such as 90s, 5m or 1h30m, got "
                f"{_kind(cost)} {cost!r}")  # fmt: skip
    if isinstance(cost, bool) or not isinstance(cost, (int, float)):
        return f"'cost' must be a number >= 0, got {_kind(cost)} {cost!r}"
    if cost != cost:
        return "'cost' must be a finite number >= 0, got NaN"
    if cost in (float("inf"), float("-inf")):
        return f"'cost' must be a finite number >= 0, got {cost}"
    return f"'cost' must be >= 0, got {cost}"


def _span_problem(span: Any) -> str:
    """What is wrong with a ``span`` that is not a number >= 0, in the words of the span's
    own rule: greater than 0, and 0 only for a step of cost 0."""
    return (
        _cost_problem(span)
        .replace("'cost'", "'span'")
        .replace(">= 0", "> 0 (0 for a step of cost 0)")
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__
