"""Workload files: YAML (or JSON of the same structure) to a :class:`Workload`.

The format::

    name: nightly-model-refresh   # optional; defaults to the file name without its extension
    description: free text        # optional
    unit: minutes                 # optional label for costs
    steps:                        # required, non-empty list, in any order
      - id: fetch                 # required, unique; a string (an integer is taken as its string)
        cost: 12                  # optional finite number >= 0 or a duration (90s); default 1
        needs: [other, ids]       # optional list of ids of steps this step depends on

Unknown keys are errors, with a suggestion where one is close. The format is declared once,
in :mod:`serialscale.documents.workload`; the key lists, the default cost and the constraints
checked here come from there (``tests/test_input_format.py`` holds every reader to it).
"""

from __future__ import annotations

import math
import operator
import os
import stat
import sys
from array import array
from collections.abc import Iterable, Mapping
from itertools import accumulate, chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .. import accel
from ..base.errors import Location, WorkloadError, suggest
from ..base.gcpause import gc_paused
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.words import TIME_UNITS, duration_seconds
from ..core.graph import CycleError, Graph, cycle_message
from ..core.workload import Workload
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


def read_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, at most ``max_bytes`` of them; every problem a located error.

    Regular files are checked by size before they are read; anything else (a FIFO, a device
    such as ``/dev/zero``) is read up to the limit, so it cannot run forever or fill memory.
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if stat.S_ISREG(info.st_mode):
                if info.st_size > max_bytes:
                    raise _too_large(source, max_bytes)
                data = handle.read()  # one allocation of the file's size
                if len(data) > max_bytes:  # it grew while we read it
                    raise _too_large(source, max_bytes)
                return data
            return read_input(handle, source, max_bytes)
    except FileNotFoundError:
        message = "no such file" if not path.is_symlink() else "a symlink to a missing file"
        raise WorkloadError(message, Location(source)) from None
    except IsADirectoryError:
        raise WorkloadError("is a directory, expected a workload file", Location(source)) from None
    except PermissionError:
        raise WorkloadError("permission denied: cannot read the file", Location(source)) from None
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        raise WorkloadError(message, Location(source)) from None


#: Bytes read at a time from a stream of unknown length.
READ_CHUNK = 1 << 20


def read_input(handle: BinaryIO, source: str, max_bytes: int) -> bytes:
    """Read ``handle`` to its end, refusing more than ``max_bytes`` (read in chunks: asking
    for ``max_bytes`` at once would reserve that much memory for every small file)."""
    chunks: list[bytes] = []
    total = 0
    while chunk := handle.read(min(READ_CHUNK, max_bytes + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(source, max_bytes)
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def _too_large(source: str, max_bytes: int) -> WorkloadError:
    return WorkloadError(
        f"the input is larger than --max-input-size ({max_bytes:,} bytes); raise the limit "
        "to read it",
        Location(source),
    )


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
    """Checks the plain document and builds the graph; locates errors only when they happen."""

    def __init__(
        self, text: str | bytes, source: str, params: Mapping[str, str] | None, limits: Limits
    ) -> None:
        self.source = source
        self.durations: list[tuple[int, str]] = []  # (index, id) of costs given as durations
        self.locator = Locator(text, source)
        self.overrides = params
        self.limits = limits
        self.expansion: Expansion | None = None  # set for templated workloads

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
        for key in doc:
            if key not in TOP_KEYS:
                raise self.fail(
                    f"unknown key '{key}' at the top level{suggest(str(key), TOP_KEYS)}; "
                    f"expected one of: {', '.join(TOP_KEYS)}",
                    (key,),
                    key=True,
                )
        name = self.text_field(doc, "name") or default_name
        description, unit = self.text_field(doc, "description"), self.text_field(doc, "unit")
        steps = doc.get("steps")
        if "steps" not in doc:
            raise self.fail("missing 'steps': expected a non-empty list of steps")
        if not isinstance(steps, list):
            raise self.fail(f"'steps' must be a list of steps, got a {_kind(steps)}", ("steps",))
        if not steps:
            raise self.fail("'steps' is empty: expected at least one step", ("steps",))
        extra: dict[str, Any] = {}
        if is_templated(doc):
            from .templates import TemplateFailure, expand, resolve_params

            try:
                params = resolve_params(doc.get("params"), self.overrides)
                self.expansion = expand(steps, params, self.limits)
            except TemplateFailure as exc:
                raise self.fail(exc.message, exc.path) from None
            ids, costs, raw_needs = self.expansion.ids, self.expansion.costs, self.expansion.needs
            extra["params"] = params
        else:
            if self.overrides:
                raise self.fail(
                    "--param needs a templated workload (one with 'params') or a traced "
                    "function (file.py:function)"
                )
            ids, costs, raw_needs = self.steps(steps)
            if self.durations:
                unit = self.durations_in(costs, unit)
        return self.build(name, description, unit, ids, costs, raw_needs, extra)

    def durations_in(self, costs: list[Any], unit: str | None) -> str:
        """Costs written as durations (``5m``, ``90s``, ``1h30m``) in the workload's unit,
        which must be a unit of time; without a ``unit``, the workload's unit is seconds."""
        scale = TIME_UNITS.get(unit.strip().lower()) if unit else 1
        if scale is None:
            i, step_id = self.durations[0]
            raise self.fail(f"'cost' {costs[i]!r} is a duration, but the workload's unit "
                            f"{unit!r} is not a unit of time (seconds, minutes, hours...)",
                            ("steps", i, "cost"), step_id)  # fmt: skip
        for i, _ in self.durations:
            value = (duration_seconds(costs[i]) or 0.0) / scale
            costs[i] = int(value) if value.is_integer() else value
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
        self.check_size(len(ids), dependencies)
        if costs and max(costs) > LARGEST_FLOAT:  # an int past what any ratio can hold
            i = next(i for i, c in enumerate(costs) if c > LARGEST_FLOAT)
            raise self.fail("'cost' is larger than the largest float (about 1.8e308); use "
                            "smaller units", step_id=str(ids[i]))  # fmt: skip
        if float in set(map(type, costs)) and not _finite_sum(costs):
            raise self.fail(
                "the costs add up to more than the largest float (about 1.8e308); a workload's "
                "total cost must be finite: use smaller units"
            )
        self.check_text(name, description, unit, ids)
        if resolved is not None:
            pred_ptr, pred_idx = resolved
        else:
            pred_ptr, pred_idx = self.resolve(ids, raw_needs or [], dependencies)
        try:
            graph = Graph(ids, costs, pred_ptr, pred_idx, owned=True)  # arrays made here
        except CycleError as exc:
            if len(exc.cycle) == 2:  # a step that needs itself
                i = exc.cycle[0]
                if raw_needs is not None:
                    k = next(k for k, x in enumerate(raw_needs[i]) if str(x) == ids[i])
                else:  # resolved in C, in the order written: the position of i in its row
                    k = pred_idx[pred_ptr[i] : pred_ptr[i + 1]].tolist().index(i)
                path, origin = self.need_where(i, k)
                raise self.fail(f"step '{ids[i]}' needs itself{origin}", path, ids[i]) from None
            path, origin = self.step_where(exc.cycle[0])
            raise self.fail(
                f"{cycle_message(ids[i] for i in exc.cycle)}; a workload must be acyclic{origin}",
                path,
                ids[exc.cycle[0]],
            ) from None
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
        """Every text must be writable as UTF-8: a lone surrogate (``"\\ud800"`` in JSON)
        is refused here, where it can be located, not when a report is written."""
        for text in texts:
            joined = "".join(text) if isinstance(text, list) else text or ""
            try:
                joined.encode("utf-8")
            except UnicodeEncodeError:
                if isinstance(text, list):
                    i = next(i for i, x in enumerate(text) if not _encodable(x))
                    path, origin = self.step_where(i)
                    raise self.fail(
                        f"step id {text[i]!r} contains a lone surrogate (an unpaired \\ud800-"
                        f"\\udfff escape), which no UTF-8 text can hold{origin}",
                        (*path, "id"),
                    ) from None
                raise self.fail(
                    f"{text!r} contains a lone surrogate (an unpaired \\ud800-\\udfff "
                    "escape), which no UTF-8 text can hold"
                ) from None

    def step_where(self, i: int) -> tuple[tuple[str | int, ...], str]:
        """Document path of step ``i`` and, for templates, which template and loop values."""
        if self.expansion is None:
            return ("steps", i), ""
        from .templates import describe

        k, values = self.expansion.origin(i)
        template = self.expansion.templates[k].id.text
        at = f" with {describe(values)}" if values else ""
        return ("steps", k), f", made by step template {template!r}{at}"

    def need_where(self, i: int, k: int) -> tuple[tuple[str | int, ...], str]:
        """Document path of need ``k`` of step ``i``, with its template origin."""
        if self.expansion is None:
            return ("steps", i, "needs", k), ""
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
            raise self.fail(f"'{key}' must be text, got a {_kind(value)}", (key,))
        return str(value)

    def steps(self, steps: list[Any]) -> tuple[list[str], list[Any], list[list[Any]]]:
        """Ids, costs and raw need lists of every step.

        Valid input is checked with whole-list operations that run in C; only when one of them
        finds a problem does :meth:`steps_one_by_one` walk the steps to locate it.
        """
        if set(map(type, steps)) != {dict}:
            return self.steps_one_by_one(steps)
        if not set().union(*map(dict.keys, steps)) <= STEP_KEYS_SET:
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
        """The same as :meth:`steps`, a step at a time, raising a located error at the first
        problem.
        """
        ids: list[str] = []
        costs: list[Any] = []
        needs: list[list[Any]] = []
        for i, step in enumerate(steps):
            if not isinstance(step, dict):
                raise self.fail(
                    f"step {i + 1} must be a mapping with an 'id', got a {_kind(step)}",
                    ("steps", i),
                )
            if "id" not in step:
                raise self.fail(f"step {i + 1} has no 'id'", ("steps", i))
            step_id = self.step_id(step["id"], ("steps", i, "id"))
            if len(step) > 1 and not step.keys() <= STEP_KEYS_SET:
                bad = next(k for k in step if k not in STEP_KEYS_SET)
                raise self.fail(
                    f"unknown key '{bad}' in a step{suggest(str(bad), STEP_KEYS)}; "
                    f"expected: {', '.join(STEP_KEYS)}",
                    ("steps", i, bad),
                    step_id,
                    key=True,
                )
            cost = step.get("cost", DEFAULT_COST)
            if isinstance(cost, str) and duration_seconds(cost) is not None:
                self.durations.append((i, step_id))  # converted once the unit is known
            elif not _valid_cost(cost):
                raise self.fail(_cost_problem(cost), ("steps", i, "cost"), step_id)
            need = step.get("needs")
            if need is None:
                need = []
            elif not isinstance(need, list):
                raise self.fail(
                    f"'needs' must be a list of step ids, got a {_kind(need)}",
                    ("steps", i, "needs"),
                    step_id,
                )
            ids.append(step_id)
            costs.append(cost)
            needs.append(need)
        return ids, costs, needs

    def step_id(self, value: Any, path: tuple[str | int, ...]) -> str:
        if isinstance(value, str):
            if value:
                return value
            raise self.fail("a step id must not be empty", path)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self.fail(f"a step id must be a string or an integer, got a {_kind(value)}", path)

    def resolve(
        self, ids: list[str], raw_needs: list[list[Any]], dependencies: int
    ) -> tuple[array, array]:
        """Need names to step indices, as CSR arrays ``(pred_ptr, pred_idx)``;
        ``dependencies`` is how many names ``raw_needs`` holds in all.

        The common case runs as whole-list operations in C; a row with an integer id, an
        optional need or an error is resolved item by item.
        """
        fast = accel.select()
        if fast is not None:
            # The common case in C (optional needs that name no step dropped); anything
            # unusual (status 1) takes the checked path below.
            pred_ptr = array("q", bytes(8 * (len(ids) + 1)))
            pred_idx = array("q", bytes(8 * dependencies))
            if fast.resolve_names(ids, raw_needs, pred_ptr, pred_idx, OptionalNeed) == 0:
                del pred_idx[pred_ptr[-1] :]
                return pred_ptr, pred_idx
        index = dict(zip(ids, range(len(ids)), strict=True))
        if len(index) != len(ids):
            self.duplicate_id(ids)
        flat = list(chain.from_iterable(raw_needs))
        # Only names can be looked up in bulk (a list or a mapping is not even hashable); any
        # other need sends the rows to the step-by-step path, which says what is wrong.
        resolved: list[int | None] = (
            list(map(index.get, flat)) if set(map(type, flat)) <= _NAME_TYPES else [None]
        )
        lengths: Iterable[int] = map(len, raw_needs)
        if None in resolved:
            rows = [
                [index[x] for x in row] if all(type(x) is str and x in index for x in row)
                else self.resolve_slowly(ids, index, i, row)
                for i, row in enumerate(raw_needs)
            ]  # fmt: skip
            resolved = list(chain.from_iterable(rows))
            lengths = map(len, rows)
        pred_ptr = array("q", [0])
        pred_ptr.extend(accumulate(lengths))
        return pred_ptr, array("q", resolved)

    def duplicate_id(self, ids: list[str]) -> None:
        """Raise the located error for the first repeated id."""
        seen: dict[str, int] = {}
        for i, step_id in enumerate(ids):
            j = seen.setdefault(step_id, i)
            if j != i:
                first_path, first_origin = self.step_where(j)
                first = self.locator.at(first_path).line
                where = f" (first defined at line {first}{first_origin})" if first else ""
                path, origin = self.step_where(i)
                raise self.fail(
                    f"duplicate step id '{step_id}'{where}{origin}", (*path, "id"), step_id
                )

    def resolve_slowly(
        self, ids: list[str], index: dict[str, int], i: int, row: list[Any]
    ) -> list[int]:
        """Resolve one need list item by item: integer ids, and the located errors."""
        out: list[int] = []
        for k, raw in enumerate(row):
            if isinstance(raw, OptionalNeed):
                j = index.get(raw)
                if j is None:
                    continue  # an optional need that names no step is dropped
            else:
                # Locating is slow for templates: only done when there is an error to report.
                name = raw if type(raw) is str else self.step_id(raw, self.need_where(i, k)[0])
                j = index.get(name)
                if j is None:
                    path, origin = self.need_where(i, k)
                    raise self.fail(
                        f"'needs' names an unknown step '{name}'{suggest(name, index)}{origin}",
                        path,
                        ids[i],
                    )
            if j == i:
                path, origin = self.need_where(i, k)
                raise self.fail(f"step '{ids[i]}' needs itself{origin}", path, ids[i])
            out.append(j)
        return out


def _finite_sum(costs: list[Any]) -> bool:
    try:
        return math.isfinite(math.fsum(costs))
    except OverflowError:  # fsum's intermediate sums overflowed
        return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_finite(costs: list[Any]) -> bool:
    return not any(map(math.isnan, costs)) and max(costs) < math.inf


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
