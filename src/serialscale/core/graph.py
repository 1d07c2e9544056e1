"""The compact step graph every algorithm runs on.

Steps are integers ``0..n-1`` in input order. Dependencies are stored twice, as predecessor and
successor lists in compressed-sparse-row form (one flat list of indices plus an offset list), and
a topological order is computed once. All functions here are iterative: a 1,000,000-step chain
does not touch the recursion limit.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, chain

from .. import accel
from ..base.errors import SerialscaleError
from ..base.words import elided
from .step_ids import OccurrenceIds

Cost = float | int


class CycleError(SerialscaleError, ValueError):
    """The dependencies contain a cycle; :attr:`cycle` lists it in dependency order.

    ``cycle[0]`` is needed by ``cycle[1]``, and so on; the last entry repeats the first.
    """

    def __init__(self, cycle: list[int]) -> None:
        super().__init__(f"dependency cycle through {len(cycle) - 1} steps")
        self.cycle = cycle


#: The most steps a cycle's message names: the first and last half of them, around a count.
MOST_CYCLE_NAMES = 20


def cycle_message(names: Iterable[str]) -> str:
    """The one sentence every reader gives a cycle: ``dependency cycle: a → b → a``. A long
    cycle shows its first and last steps around ``… (N more steps) …``; long names are
    elided (:func:`~serialscale.base.words.elided`)."""
    shown = [elided(str(n)) for n in names]
    if len(shown) > MOST_CYCLE_NAMES:
        half = MOST_CYCLE_NAMES // 2
        hidden = len(shown) - 2 * half
        shown = [*shown[:half], f"… ({hidden:,} more steps) …", *shown[-half:]]
    return "dependency cycle: " + " → ".join(shown)


class GraphError(SerialscaleError, ValueError):
    """Arrays handed to :class:`Graph` do not describe a graph of ``len(ids)`` steps."""


def _readonly(values: array) -> memoryview:
    """A read-only view of ``values``: the kernels can read it; nobody can write it."""
    return memoryview(values).toreadonly()


@dataclass(frozen=True, eq=False, init=False)
class Graph:
    """An immutable DAG of weighted steps, validated when it is built.

    Attributes:
        ids: step ids, index ``i`` names step ``i``.
        costs: step costs (finite, >= 0), same indexing: 64-bit integers (format ``q``) when
            every cost is an integer, else doubles (``d``; one mixed float makes every cost a
            float, so numbers have one type throughout a report).
        pred_ptr, pred_idx: step ``i`` needs ``pred_idx[pred_ptr[i]:pred_ptr[i+1]]``.
        succ_ptr, succ_idx: step ``i`` is needed by ``succ_idx[succ_ptr[i]:succ_ptr[i+1]]``.
        order: a topological order (every step after all the steps it needs).
        spans: each step's own parallel depth where a step has parallelism inside (work–span
            model: a reduction over n values has cost n and span ⌈log₂ n⌉), ``None`` when
            every step's span is its cost (the default). ``0 < span <= cost`` for every step
            with cost > 0 (a step of cost 0 has span 0). The depth is then the longest path
            of spans and the work the sum of costs (:meth:`depth_graph`).

    Every array is a read-only ``memoryview`` of 8-byte items (no Python object per step or
    edge). The constructor checks the predecessor arrays (offsets start at 0, never
    decrease and end at the number of indices; every index names a step) and derives the
    rest itself, so the compiled kernels only ever see consistent, in-range arrays.
    """

    ids: tuple[str, ...]
    costs: memoryview
    pred_ptr: memoryview
    pred_idx: memoryview
    succ_ptr: memoryview
    succ_idx: memoryview
    order: memoryview
    spans: memoryview | None

    def __init__(
        self,
        ids: Sequence[str],
        costs: Sequence[Cost],
        pred_ptr: Sequence[int],
        pred_idx: Sequence[int],
        *,
        owned: bool = False,
        spans: Sequence[Cost] | None = None,
    ) -> None:
        """Build a graph from predecessor lists in CSR form. Raises :class:`GraphError` for
        inconsistent arrays and :class:`CycleError` for a cycle (a step that needs itself is
        a cycle of one). Duplicate needs of one step are kept once, in first-seen order.

        The arrays are copied, unless ``owned``: then ``array('q')`` predecessor arrays
        and ``array('q')`` or ``array('d')`` costs become the graph's own, and the caller
        must never change them (loaders that made them for this graph hand them over; a
        million-step graph saves 40 MB).

        ``spans`` (optional) gives each step's span; spans equal to the costs everywhere are
        the same as none (so a graph without parallelism inside is the same graph however it
        was written).
        """
        n = len(ids)
        cost_array = _cost_array(costs, owned)
        if len(cost_array) != n:
            raise GraphError(f"{len(cost_array)} costs for {n} steps")
        k = accel.kernels()
        if not k.costs_ok(cost_array):
            raise GraphError("every cost must be a finite number >= 0")
        ptr, idx = (
            _index_array(pred_ptr, "pred_ptr", owned),
            _index_array(pred_idx, "pred_idx", owned),
        )
        if len(ptr) != n + 1:
            raise GraphError(f"pred_ptr has {len(ptr)} offsets; {n} steps need {n + 1}")
        try:
            k.check_graph_csr(ptr, idx)
        except ValueError as exc:
            raise GraphError(str(exc)) from None
        if k.count_duplicates(ptr, idx):
            ptr, idx = _dedupe(n, ptr, idx)
        zero = array("q", [0])  # arrays made by repetition: cheaper than from bytes
        succ_ptr = zero * (n + 1)
        succ_idx = zero * len(idx)
        k.successors(ptr, idx, succ_ptr, succ_idx)
        order = zero * n
        count = k.topological_order(ptr, succ_ptr, succ_idx, order)
        if count < n:
            raise CycleError(_find_cycle(n, order[:count].tolist(), ptr, idx))
        setter = object.__setattr__
        # Ids made on demand stay so (a traced run's); any other sequence becomes a tuple.
        setter(self, "ids", ids if isinstance(ids, OccurrenceIds) else tuple(ids))
        setter(self, "costs", _readonly(cost_array))
        setter(self, "spans", None if spans is None else _span_array(spans, cost_array))
        for name, values in (("pred_ptr", ptr), ("pred_idx", idx), ("succ_ptr", succ_ptr),
                             ("succ_idx", succ_idx), ("order", order)):  # fmt: skip
            setter(self, name, _readonly(values))

    @property
    def integral(self) -> bool:
        """Whether every cost is an integer (reports then carry integers)."""
        return self.costs.format == "q"

    @property
    def zero(self) -> Cost:
        """0 in the type of this graph's costs."""
        return 0 if self.integral else 0.0

    @cached_property
    def costs_f64(self) -> memoryview:
        """The costs as doubles, for the compiled kernels."""
        if not self.integral:
            return self.costs
        # by repetition: array('d', bytes(...)) touched the memory twice (bytes, copy)
        out = array("d", [0.0]) * len(self.costs)
        # float(int) for each, without a float object each (compiled)
        accel.kernels().as_doubles(self.costs, out)
        return _readonly(out)

    def depth_graph(self) -> Graph:
        """The graph whose costs are this graph's spans: every depth pass (ASAP schedule,
        bottom levels, slack, critical path, drag) runs on it unchanged, so the depth is the
        longest path of spans. The graph itself when no step has a span of its own.
        """
        if self.spans is None:
            return self
        found = self.__dict__.get("_depth_graph")
        if found is None:
            found = object.__new__(Graph)
            setter = object.__setattr__
            for name in ("ids", "pred_ptr", "pred_idx", "succ_ptr", "succ_idx", "order"):
                setter(found, name, getattr(self, name))
            setter(found, "costs", self.spans)
            setter(found, "spans", None)
            self.__dict__["_depth_graph"] = found
        return found

    @property
    def n(self) -> int:
        """Number of steps."""
        return len(self.ids)

    @property
    def m(self) -> int:
        """Number of dependencies (edges)."""
        return len(self.pred_idx)

    def preds(self, i: int) -> list[int]:
        """The steps that step ``i`` needs."""
        return self.pred_idx[self.pred_ptr[i] : self.pred_ptr[i + 1]].tolist()

    def succs(self, i: int) -> list[int]:
        """The steps that need step ``i``."""
        return self.succ_idx[self.succ_ptr[i] : self.succ_ptr[i + 1]].tolist()

    @classmethod
    def from_lists(
        cls, ids: Sequence[str], costs: Sequence[Cost], needs: Sequence[Sequence[int]]
    ) -> Graph:
        """Build a graph from per-step need lists (indices). Raises :class:`CycleError`.

        Duplicate needs of one step are kept once, in first-seen order.
        """
        if len(needs) != len(ids):
            raise GraphError(f"{len(needs)} need lists for {len(ids)} steps")
        pred_ptr = array("q", [0])
        pred_ptr.extend(accumulate(map(len, needs)))
        pred_idx = array("q", chain.from_iterable(needs))
        return cls(ids, costs, pred_ptr, pred_idx)

    @classmethod
    def from_csr(
        cls, ids: Sequence[str], costs: Sequence[Cost], pred_ptr: Sequence[int],
        pred_idx: Sequence[int],
    ) -> Graph:  # fmt: skip
        """Build a graph from predecessor lists in CSR form: step ``i`` needs
        ``pred_idx[pred_ptr[i]:pred_ptr[i+1]]`` (the same as calling :class:`Graph`).
        """
        return cls(ids, costs, pred_ptr, pred_idx)


def _index_array(values: Sequence[int], name: str, owned: bool = False) -> array:
    """``values`` as ``array('q')``: a copy, so later writes by the caller cannot reach the
    graph, unless the caller hands over (``owned``) an array that already is one."""
    if owned and isinstance(values, array) and values.typecode == "q":
        return values
    try:
        return array("q", values)
    except (TypeError, OverflowError) as exc:
        raise GraphError(f"{name}: expected integers that fit in 64 bits ({exc})") from None


def _dedupe(n: int, pred_ptr: array, pred_idx: array) -> tuple[array, array]:
    """Drop repeated needs within each step's list, keeping the first (pure Python)."""
    slices = [pred_idx[pred_ptr[i] : pred_ptr[i + 1]] for i in range(n)]
    if all(len(set(r)) == len(r) for r in slices):
        return pred_ptr, pred_idx
    rows = [list(dict.fromkeys(r)) for r in slices]
    ptr = array("q", [0])
    ptr.extend(accumulate(map(len, rows)))
    return ptr, array("q", chain.from_iterable(rows))


def _span_array(spans: Sequence[Cost], costs: array) -> memoryview | None:
    """The spans as a read-only array (typed as :func:`_cost_array` types costs), or
    ``None`` when every span equals its cost; :class:`GraphError` unless ``0 < span <=
    cost`` for every step of cost > 0 and ``span == 0`` for every step of cost 0."""
    values = _cost_array(spans)
    if len(values) != len(costs):
        raise GraphError(f"{len(values)} spans for {len(costs)} steps")
    if values.typecode == "d" and not all(map(math.isfinite, values)):
        raise GraphError("every span must be a finite number")
    if values.tolist() == costs.tolist():
        return None
    for i, (s, c) in enumerate(zip(values, costs, strict=True)):
        if not (0 < s <= c or s == c == 0):
            raise GraphError(
                f"step {i}: span {s} must be > 0 and at most the cost {c} (0 for a cost of 0)"
            )
    return _readonly(values)


def _cost_array(costs: Sequence[Cost], owned: bool = False) -> array:
    """``array('q')`` when every cost is an int that fits, else ``array('d')`` of floats;
    ``costs`` itself when it is one of those and ``owned`` (handed over by the caller)."""
    if isinstance(costs, array) and costs.typecode in "qd":
        # a copy, so the caller keeps theirs, unless they handed it over
        return costs if owned else array(costs.typecode, costs)
    if set(map(type, costs)) <= {int}:  # exact ints only: bool and int subclasses are not
        try:
            return array("q", costs)
        except OverflowError:
            pass
    return array("d", map(float, costs))


def _find_cycle(
    n: int, done: list[int], pred_ptr: Sequence[int], pred_idx: Sequence[int]
) -> list[int]:
    """One cycle among the steps Kahn's algorithm could not order, in dependency order.

    Every unordered step has an unordered predecessor, so walking predecessors from the first
    unordered step (in input order) must revisit a step. The cycle is rotated to start at its
    step that comes first in the input, so the message is the same however it was found.
    """
    ordered = bytearray(n)
    for v in done:
        ordered[v] = 1
    start = next(i for i in range(n) if not ordered[i])
    seen: dict[int, int] = {}
    walk: list[int] = []
    v = start
    while v not in seen:
        seen[v] = len(walk)
        walk.append(v)
        v = next(u for u in pred_idx[pred_ptr[v] : pred_ptr[v + 1]] if not ordered[u])
    loop = walk[seen[v] :]  # each entry needs the next one
    loop.reverse()  # now each entry is needed by the next one
    first = loop.index(min(loop))
    loop = loop[first:] + loop[:first]
    return [*loop, loop[0]]
