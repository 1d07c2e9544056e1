"""``--what-if``: the same workload with some steps changed, and what that does.

A change is ``STEP=COST`` (the step costs COST), ``STEP=xFACTOR`` (its cost times FACTOR,
e.g. ``x0.5``) or ``STEP=split:K`` (the step becomes K parallel parts of cost/K: parts
``STEP#part1`` ... ``STEP#partK`` need what the step needed, and ``STEP`` itself becomes a
zero-cost join of them, so its dependents and its id stay). ``STEP`` is an id, or a glob
(``test-*``, ``build?``, ``[ab]*``) when no step has that exact id. Changes apply in the order
given; a pattern that matches no step is an error. The report is of the changed graph; its
``what_if`` says what was applied and the depth, speedup ceiling and simulated wall time
(``makespan`` at the target processor count) before and after.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..base.errors import Location, UsageError, WorkloadError, suggest
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.words import plain_number
from ..documents.report import Report, WhatIf, WhatIfChange, WhatIfSide
from .graph import Cost, Graph
from .workload import Workload

#: The most parts one step may be split into.
MAX_SPLIT = 10_000


@dataclass(frozen=True)
class Change:
    """One ``--what-if`` as typed: which steps, and what happens to their cost."""

    spec: str
    pattern: str
    kind: str  # "cost", "factor" or "split"
    value: Cost


def parse_change(spec: str) -> Change:
    """``STEP=COST``, ``STEP=xFACTOR`` or ``STEP=split:K``; a usage error otherwise."""
    pattern, sep, what = spec.rpartition("=")
    if not sep or not pattern or not what:
        raise UsageError(f"--what-if expects STEP=COST, STEP=xFACTOR or STEP=split:K, got "
                         f"{spec!r}")  # fmt: skip
    what = what.strip()
    if what.startswith("split:"):
        count = what[len("split:") :]
        if not count.isdigit() or not 2 <= int(count) <= MAX_SPLIT:
            raise UsageError(f"--what-if {spec!r}: split:K needs a whole K from 2 to "
                             f"{MAX_SPLIT:,}")  # fmt: skip
        return Change(spec, pattern, "split", int(count))
    kind = "factor" if what[:1] in ("x", "X", "*") else "cost"
    number = _number(what[1:] if kind == "factor" else what, spec)
    return Change(spec, pattern, kind, number)


def _number(text: str, spec: str) -> Cost:
    value = plain_number(text)
    if value is None or value < 0:
        raise UsageError(f"--what-if {spec!r}: expected a finite number >= 0 after '='")
    return value


def _matches(ids: Sequence[str], pattern: str) -> list[int]:
    try:
        return [ids.index(pattern)]
    except ValueError:
        pass
    if not any(c in pattern for c in "*?["):
        return []
    return [i for i, step in enumerate(ids) if fnmatch.fnmatchcase(step, pattern)]


def apply_changes(
    workload: Workload, changes: Sequence[Change], limits: Limits = DEFAULT_LIMITS
) -> tuple[Workload, list[WhatIfChange]]:
    """The workload with ``changes`` applied, and what each one touched. A split that would
    pass ``--max-steps`` or ``--max-dependencies`` is refused before it is made, and a step
    an earlier change split cannot be changed again (its parts can)."""
    graph = workload.graph
    if graph.spans is not None:
        raise WorkloadError("--what-if does not yet change workloads whose steps have a "
                            "'span' (parallelism inside)", Location(workload.source))  # fmt: skip
    ids = list(graph.ids)
    costs: list[Cost] = list(graph.costs)
    needs: list[list[int]] = [
        list(graph.pred_idx[graph.pred_ptr[i] : graph.pred_ptr[i + 1]]) for i in range(graph.n)
    ]
    applied: list[WhatIfChange] = []
    connectors = list(workload.extra.get("connectors") or ())
    split: set[int] = set()
    where = Location(workload.source)
    for change in changes:
        hits = _matches(ids, change.pattern)
        if not hits:
            raise WorkloadError(f"--what-if {change.spec!r}: no step is called or matches "
                                f"{change.pattern!r}{suggest(change.pattern, ids)}",
                                where)  # fmt: skip
        again = [ids[i] for i in hits if i in split]
        if again:
            raise WorkloadError(f"--what-if {change.spec!r}: {again[0]!r} was split by an "
                                f"earlier --what-if; change its parts ('{again[0]}#part*')",
                                where)  # fmt: skip
        if change.kind == "split":
            k = int(change.value)
            steps = len(ids) + k * len(hits)
            deps = sum(map(len, needs)) + sum(k * len(needs[i]) + k for i in hits)
            if steps > limits.max_steps or deps > limits.max_dependencies:
                raise WorkloadError(
                    f"--what-if {change.spec!r}: the changed graph would have {steps:,} steps "
                    f"and {deps:,} dependencies, more than --max-steps ({limits.max_steps:,}) "
                    f"or --max-dependencies ({limits.max_dependencies:,})", where)  # fmt: skip
            split.update(hits)
        applied.append(WhatIfChange(change.spec, [ids[i] for i in hits]))
        for i in hits:
            if change.kind == "cost":
                costs[i] = change.value
            elif change.kind == "factor":
                costs[i] = _times(costs[i], change.value, where)
        if change.kind == "split":
            ids, costs, needs = _split(ids, costs, needs, hits, int(change.value), change.spec,
                                       where)  # fmt: skip
            connectors += [ids_i for ids_i in (ids[i] for i in hits)]
    changed = Graph.from_lists(ids, costs, needs)
    extra = dict(workload.extra)
    if connectors:
        extra["connectors"] = list(dict.fromkeys(c for c in connectors if c in set(ids)))
    return replace(workload, graph=changed, extra=extra), applied


def _times(cost: Cost, factor: Cost, where: Location) -> Cost:
    value = cost * factor
    if not math.isfinite(value):
        raise WorkloadError("--what-if: a cost times its factor passes the largest float",
                            where)  # fmt: skip
    if isinstance(value, float) and value.is_integer() and isinstance(cost, int):
        return int(value)
    return value


def _split(ids: list[str], costs: list[Cost], needs: list[list[int]], hits: list[int],
           k: int, spec: str, where: Location
           ) -> tuple[list[str], list[Cost], list[list[int]]]:  # fmt: skip
    """Each step in ``hits`` becomes ``k`` parts (appended after the steps) and a zero-cost
    join keeping its index and id."""
    taken = set(ids)
    new_ids, new_costs, new_needs = list(ids), list(costs), [list(row) for row in needs]
    for i in hits:
        part_cost: Cost = costs[i] // k if isinstance(costs[i], int) and costs[i] % k == 0 \
            else costs[i] / k  # fmt: skip
        parts = []
        for j in range(1, k + 1):
            name = f"{ids[i]}#part{j}"
            if name in taken:
                raise WorkloadError(f"--what-if {spec!r}: a step called {name!r} already "
                                    "exists", where)  # fmt: skip
            taken.add(name)
            parts.append(len(new_ids))
            new_ids.append(name)
            new_costs.append(part_cost)
            new_needs.append(list(needs[i]))
        new_costs[i] = 0
        new_needs[i] = parts
    return new_ids, new_costs, new_needs


def side(report: Report) -> WhatIfSide:
    """Depth, speedup ceiling and makespan at the report's target processor count."""
    row = next(r for r in report.speedup if r.processors == report.processors)
    return WhatIfSide(report.depth, report.speedup_ceiling, row.makespan)


def report_with_what_if(workload: Workload, changes: Sequence[Change], *, processors: int,
                    overhead: Cost = 0, detail: bool = False,
                    target_depth: str | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> Report:  # fmt: skip
    """The report of ``workload`` with ``changes`` applied, with its ``what_if`` block (the
    numbers of the unchanged workload beside the changed one's)."""
    from msgspec import structs

    from .analysis import analyze_workload

    changed, applied = apply_changes(workload, changes, limits)
    before = analyze_workload(workload, processors=processors, overhead=overhead)
    after = analyze_workload(changed, processors=processors, overhead=overhead, detail=detail,
                             target_depth=target_depth)  # fmt: skip
    return structs.replace(after, what_if=WhatIf(applied, side(before), side(after)))
