"""The recorder: the graph of a traced run, kept in compact arrays.

Each recorded step stores a site index (4 bytes: which operation at which source line) and up
to two predecessor step numbers (8 bytes each); costs other than 1 and needs beyond two live in
small side tables. Traced values themselves are not kept: only these integers are.
"""

from __future__ import annotations

import os
import sys
from array import array
from collections.abc import Iterable
from types import CodeType, FrameType

from ..graph import Cost, Graph

_getframe = sys._getframe

NO_STEP = -1
FLUSH_STEPS = 65_536


class Recorder:
    """Collects steps while a traced function runs.

    :meth:`binary` is the hot path of tracing (one call per recorded operation): it is kept
    flat, with slotted attributes, one dictionary lookup to identify the call site, and three
    appends to typed arrays.

    ``control`` is ``"dataflow"`` (branches add no dependency) or ``"strict"`` (every step
    recorded after a branch on a traced value also needs the step that produced that value).
    """

    __slots__ = (
        "_codes", "_labels", "a", "b", "control", "control_decisions", "costs", "count",
        "decision", "escapes", "more", "paused", "pending", "site", "site_names", "sites",
        "strict",
    )  # fmt: skip

    def __init__(self, control: str = "dataflow") -> None:
        if control not in ("dataflow", "strict"):
            raise ValueError(f"control must be 'dataflow' or 'strict', got {control!r}")
        self.strict = control == "strict"
        self.control = control
        self.site = array("i")  # site index of each step
        self.a = array("q")  # first predecessor or NO_STEP
        self.b = array("q")  # second predecessor or NO_STEP
        # Recent steps as flat (site, a, b) triples: list appends are cheaper than array
        # appends, and :meth:`flush` moves them into the arrays every FLUSH_STEPS steps.
        self.pending: list[int] = []
        self.count = 0  # steps recorded
        self.more: dict[int, list[int]] = {}  # predecessors beyond two
        self.costs: dict[int, Cost] = {}  # costs other than 1
        # (operation, id(code), instruction offset) -> label index. The instruction offset is
        # cheap to read, unlike the line number, which is looked up once per new site.
        self.sites: dict[tuple[str, int, int], int] = {}
        self._codes: list[CodeType] = []  # keeps every code object seen alive: ids stay unique
        self._labels: dict[tuple[str, str, int], int] = {}
        self.site_names: list[tuple[str, str, int]] = []  # (operation, file, line)
        self.paused = 0  # > 0 inside a task's body
        self.decision = NO_STEP  # the step behind the most recent branch (strict mode)
        self.control_decisions = 0
        self.escapes = 0

    def __len__(self) -> int:
        return self.count

    def flush(self) -> None:
        """Move the pending triples into the arrays."""
        pending = self.pending
        if pending:
            self.site.extend(pending[0::3])
            self.a.extend(pending[1::3])
            self.b.extend(pending[2::3])
            pending.clear()

    def binary(self, op: str, x: int, y: int, frame: FrameType | None = None) -> int:
        """Record one operation on the values made by steps ``x`` and ``y``; its step number.

        ``frame`` is the user's frame (the call site that names the step); by default, the
        caller of the operator method that called this one. Traced values' arithmetic
        operators inline the common case of this method (see ``values._binary``).
        """
        if frame is None:
            frame = _getframe(2)
        key = (op, id(frame.f_code), frame.f_lasti)
        site = self.sites.get(key)
        if site is None:
            site = self._new_site(key, frame)
        step = self.count
        self.count = step + 1
        if self.decision >= 0:
            self.flush()
            self.site.append(site)
            self._add_needs(step, [x, y])
            return step
        if x < 0:
            x, y = y, NO_STEP
        elif x == y:
            y = NO_STEP
        self.pending += (site, x, y)
        if len(self.pending) >= FLUSH_STEPS * 3:
            self.flush()
        return step

    def _new_site(self, key: tuple[str, int, int], frame: FrameType) -> int:
        """The label index of a call site seen for the first time (one per op, file, line)."""
        code = frame.f_code
        self._codes.append(code)
        label = (key[0], os.path.basename(code.co_filename), frame.f_lineno)
        index = self._labels.get(label)
        if index is None:
            index = self._labels[label] = len(self.site_names)
            self.site_names.append(label)
        self.sites[key] = index
        return index

    def named(self, name: str, needs: Iterable[int], cost: Cost = 1) -> int:
        """Record one coarse step (a task or an op call) with any number of needs."""
        self.flush()
        step = self.count
        self.count = step + 1
        label = (name, "", 0)
        index = self._labels.get(label)
        if index is None:
            index = self._labels[label] = len(self.site_names)
            self.site_names.append(label)
        self.site.append(index)
        self._add_needs(step, list(needs))
        if cost != 1:
            self.costs[step] = cost
        return step

    def _add_needs(self, step: int, needs: list[int]) -> None:
        if self.strict and self.decision >= 0:
            needs.append(self.decision)
        unique = [n for n in dict.fromkeys(needs) if n >= 0]
        self.a.append(unique[0] if unique else NO_STEP)
        self.b.append(unique[1] if len(unique) > 1 else NO_STEP)
        if len(unique) > 2:
            self.more[step] = unique[2:]

    def decide(self, step: int) -> None:
        """A branch was taken on the value made by ``step``."""
        self.control_decisions += 1
        if self.strict and step >= 0:
            self.decision = step

    def step_ids(self) -> list[str]:
        """Readable unique ids: ``add@algos.py:12#3`` for operations, ``fetch#2`` for tasks."""
        self.flush()
        counts = [0] * len(self.site_names)
        labels = [f"{op}@{file}:{line}" if file else op for op, file, line in self.site_names]
        ids = []
        for s in self.site:
            counts[s] += 1
            ids.append(f"{labels[s]}#{counts[s]}")
        return ids

    def graph(self) -> Graph:
        """The recorded steps as a :class:`Graph` (input order is already topological)."""
        self.flush()
        n = len(self.site)
        a, b, more = self.a, self.b, self.more
        needs: list[list[int]] = []
        for i in range(n):
            x, y = a[i], b[i]
            row = [] if x < 0 else ([x] if y < 0 else [x, y])
            if i in more:
                row.extend(more[i])
            needs.append(row)
        costs: list[Cost] = [1] * n
        for i, c in self.costs.items():
            costs[i] = c
        return Graph.from_lists(self.step_ids(), costs, needs)
