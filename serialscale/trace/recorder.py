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
from types import CodeType

from ..graph import Cost, Graph

_getframe = sys._getframe

NO_STEP = -1


class Recorder:
    """Collects steps while a traced function runs.

    ``control`` is ``"dataflow"`` (branches add no dependency) or ``"strict"`` (every step
    recorded after a branch on a traced value also needs the step that produced that value).
    """

    def __init__(self, control: str = "dataflow") -> None:
        if control not in ("dataflow", "strict"):
            raise ValueError(f"control must be 'dataflow' or 'strict', got {control!r}")
        self.strict = control == "strict"
        self.control = control
        self.site = array("i")  # site index of each step
        self.a = array("q")  # first predecessor or NO_STEP
        self.b = array("q")  # second predecessor or NO_STEP
        self.more: dict[int, list[int]] = {}  # predecessors beyond two
        self.costs: dict[int, Cost] = {}  # costs other than 1
        self._sites: dict[tuple[str, CodeType | str, int], int] = {}
        self.site_names: list[tuple[str, str, int]] = []  # (operation, file, line)
        self.paused = 0  # > 0 inside a task's body
        self.decision = NO_STEP  # the step behind the most recent branch (strict mode)
        self.control_decisions = 0
        self.escapes = 0

    def __len__(self) -> int:
        return len(self.site)

    def _site(self, op: str, depth: int) -> int:
        frame = _getframe(depth)
        code = frame.f_code
        key = (op, code, frame.f_lineno)
        index = self._sites.get(key)
        if index is None:
            index = len(self.site_names)
            self._sites[key] = index
            self.site_names.append((op, os.path.basename(code.co_filename), frame.f_lineno))
        return index

    def binary(self, op: str, x: int, y: int) -> int:
        """Record one operation on the values made by steps ``x`` and ``y``; its step number."""
        step = len(self.site)
        self.site.append(self._site(op, 3))
        if self.decision >= 0:
            self._add_needs(step, [x, y])
            return step
        if x < 0:
            x, y = y, NO_STEP
        elif x == y:
            y = NO_STEP
        self.a.append(x)
        self.b.append(y)
        return step

    def named(self, name: str, needs: Iterable[int], cost: Cost = 1) -> int:
        """Record one coarse step (a task or an op call) with any number of needs."""
        step = len(self.site)
        key = (name, name, 0)
        index = self._sites.get(key)
        if index is None:
            index = len(self.site_names)
            self._sites[key] = index
            self.site_names.append((name, "", 0))
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
        counts = [0] * len(self.site_names)
        labels = [f"{op}@{file}:{line}" if file else op for op, file, line in self.site_names]
        ids = []
        for s in self.site:
            counts[s] += 1
            ids.append(f"{labels[s]}#{counts[s]}")
        return ids

    def graph(self) -> Graph:
        """The recorded steps as a :class:`Graph` (input order is already topological)."""
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
