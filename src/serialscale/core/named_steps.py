"""Named steps to a :class:`Graph`, with located errors: the one builder every reader uses.

A reader gives each step's id, cost and the ids of the steps it needs, plus a
:class:`Places` that says where a step or one of its needs is written. :func:`build_graph`
maps the names to indices, builds the graph, and turns each problem into one located
:class:`WorkloadError`, worded the same whatever the input format:

- a repeated id: ``duplicate step id 'a' (first defined at line 2)``;
- a need that names no step: ``'needs' names an unknown step 'b' (did you mean 'bb'?)``;
- a step that needs itself: ``step 'a' needs itself``;
- a cycle: ``dependency cycle: a → b → a; a workload must be acyclic``
  (:func:`~serialscale.core.graph.cycle_message`).

Every problem is reported (up to :data:`~serialscale.base.errors.MAX_ERRORS`), each with the
place the reader gives and the step's id. The workload format, the importers
(:class:`~serialscale.sources.step_plan.StepPlan`) and the graphs traced functions return
(networkx) build their graphs here. The tracer's recorder does not: its steps have no names
(indices on a tape, each needing earlier ones: no unknown need, no repeat, no cycle can be
written), and it builds its arrays in C.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import accumulate, chain
from typing import Protocol

from ..base.errors import Errors, Location, WorkloadError, suggest
from ..base.words import elided
from .graph import Cost, CycleError, Graph, cycle_message


class Places(Protocol):
    """Where a reader's steps are written, for the messages of :func:`build_graph`. Each
    place is a :class:`Location` (the step id is filled in by the builder) and an *origin*:
    text added to the message (a template's loop values), often empty. Only called on the
    way to an error."""

    def step(self, i: int, key: str | None = None) -> tuple[Location, str]:
        """Where step ``i`` is (its ``key``, such as ``"id"``, when given)."""
        ...

    def need(self, i: int, k: int) -> tuple[Location, str]:
        """Where need ``k`` of step ``i`` is."""
        ...

    def cycle(self, first: int, second: int) -> tuple[Location, str]:
        """Where to show a cycle that goes from step ``first`` to step ``second`` (which
        needs it): the workload format shows the first step, DOT the edge."""
        ...


class InSource:
    """The places of steps known only by their source (a file, a target): every error is
    located at ``source`` and names its step."""

    def __init__(self, source: str | None) -> None:
        self.source = source

    def step(self, i: int, key: str | None = None) -> tuple[Location, str]:
        """``source``, for any step."""
        return Location(self.source), ""

    def need(self, i: int, k: int) -> tuple[Location, str]:
        """``source``, for any need."""
        return Location(self.source), ""

    def cycle(self, first: int, second: int) -> tuple[Location, str]:
        """``source``, for any cycle."""
        return Location(self.source), ""


def build_graph(
    ids: Sequence[str],
    costs: Sequence[Cost],
    needs: Sequence[Sequence[str]] | None,
    places: Places,
    *,
    resolved: tuple[array[int], array[int]] | None = None,
    spans: Sequence[Cost] | None = None,
    errors: Errors | None = None,
    optional: type[str] | None = None,
) -> Graph:
    """The graph of steps ``ids`` with ``costs``, step ``i`` needing the steps named in
    ``needs[i]``; or the located errors (every one found, as :class:`WorkloadError` or
    :class:`~serialscale.base.errors.WorkloadErrors`).

    ``resolved``: the needs already as CSR index arrays ``(pred_ptr, pred_idx)`` (a reader's
    compiled path, which has checked the names), handed over to the graph; ``needs`` is then
    only used to locate a step that needs itself. ``errors``: the reader's own collector,
    holding what it found before (those are raised with these; a repeated id stops before
    the graph is built, anything else is checked for cycles as well). ``optional``: needs of
    this ``str`` subclass that name no step are dropped (templates' ``needs: [a?]``).
    ``spans`` as for :class:`Graph`.
    """
    found = Errors() if errors is None else errors
    if resolved is None:
        pred_ptr, pred_idx, repeated = _resolve(ids, needs or [], places, found, optional)
        if repeated:
            found.check()  # repeated ids: no graph to look for cycles in
    else:
        pred_ptr, pred_idx = resolved
    if isinstance(costs, array):  # only the need arrays are handed over: costs are copied
        costs = array(costs.typecode, costs)
    try:
        graph = Graph(ids, costs, pred_ptr, pred_idx, owned=True, spans=spans)
    except CycleError as exc:
        found.check(_cycle_error(exc, ids, needs, pred_ptr, pred_idx, places))
        raise AssertionError("unreachable") from None
    found.check()
    return graph


def _located(place: tuple[Location, str], step_id: str) -> Location:
    return replace(place[0], step_id=step_id)


def _resolve(
    ids: Sequence[str],
    needs: Sequence[Sequence[str]],
    places: Places,
    errors: Errors,
    optional: type[str] | None,
) -> tuple[array[int], array[int], bool]:
    """Need names to CSR index arrays, recording the located error of each repeated id,
    unknown need and self-need (those needs are left out); and whether an id repeats."""
    index = dict(zip(ids, range(len(ids)), strict=True))
    repeated = len(index) != len(ids)
    if repeated:
        index = _repeats(ids, places, errors)
    flat = list(chain.from_iterable(needs))
    # The common case in bulk (C-level passes); when a name is unknown, the rows are walked
    # need by need to say which. (A step that needs itself is then a cycle of one, found by
    # the graph and located by :func:`_cycle_error`.)
    resolved: list[int | None] = list(map(index.get, flat))
    lengths: Iterable[int] = map(len, needs)
    if None in resolved:
        rows = [_row(ids, index, i, row, places, errors, optional) for i, row in enumerate(needs)]
        resolved = list(chain.from_iterable(rows))
        lengths = map(len, rows)
    pred_ptr = array("q", [0])
    pred_ptr.extend(accumulate(lengths))
    return pred_ptr, array("q", resolved), repeated  # type: ignore[arg-type]


def _repeats(ids: Sequence[str], places: Places, errors: Errors) -> dict[str, int]:
    """Record the located error of each repeated id; the index of each id's first step."""
    index: dict[str, int] = {}
    for i, step_id in enumerate(ids):
        j = index.setdefault(step_id, i)
        if j != i:
            first, first_origin = places.step(j)
            where = f" (first defined at line {first.line}{first_origin})" if first.line else ""
            place = places.step(i, "id")
            errors.add(WorkloadError(f"duplicate step id '{elided(step_id)}'{where}{place[1]}",
                                     _located(place, step_id)))  # fmt: skip
    return index


def _row(
    ids: Sequence[str],
    index: dict[str, int],
    i: int,
    row: Sequence[str],
    places: Places,
    errors: Errors,
    optional: type[str] | None,
) -> list[int]:
    """The indices of one need list, recording the located errors (those needs left out)."""
    out: list[int] = []
    for k, name in enumerate(row):
        j = index.get(name)
        if j is None:
            if optional is not None and type(name) is optional:
                continue  # an optional need that names no step is dropped
            if errors.full:  # counted only: no location, no suggestion to look for
                errors.count()
                continue
            place = places.need(i, k)
            errors.add(WorkloadError(
                f"'needs' names an unknown step '{elided(name)}'{suggest(name, index)}{place[1]}",
                _located(place, ids[i]),
            ))  # fmt: skip
            continue
        if j == i:
            if errors.full:
                errors.count()
                continue
            place = places.need(i, k)
            errors.add(WorkloadError(f"step '{elided(ids[i])}' needs itself{place[1]}",
                                     _located(place, ids[i])))  # fmt: skip
            continue
        out.append(j)
    return out


def _cycle_error(
    exc: CycleError,
    ids: Sequence[str],
    needs: Sequence[Sequence[str]] | None,
    pred_ptr: array[int],
    pred_idx: array[int],
    places: Places,
) -> WorkloadError:
    """The located error of a dependency cycle (a step that needs itself, or a loop)."""
    first = exc.cycle[0]
    if len(exc.cycle) == 2:  # a step that needs itself (resolved already: locate the need)
        if needs is not None:
            k = next(k for k, name in enumerate(needs[first]) if str(name) == ids[first])
        else:  # resolved in the order written: the position of the step in its own row
            k = pred_idx[pred_ptr[first] : pred_ptr[first + 1]].tolist().index(first)
        place = places.need(first, k)
        return WorkloadError(f"step '{ids[first]}' needs itself{place[1]}",
                             _located(place, ids[first]))  # fmt: skip
    place = places.cycle(first, exc.cycle[1])
    return WorkloadError(
        f"{cycle_message(ids[i] for i in exc.cycle)}; a workload must be acyclic{place[1]}",
        _located(place, ids[first]),
    )
