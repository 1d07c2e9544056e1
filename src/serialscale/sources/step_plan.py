"""The steps an importer has read, by name, before they become a :class:`Workload`.

Readers of foreign formats (CI workflows, build files, graphs) add steps in any order with
the names of the steps they need; :meth:`StepPlan.workload` checks the names and builds the
graph (:func:`serialscale.core.named_steps.build_graph`: unknown needs and cycles are located
errors) and marks the zero-cost *connector* steps an importer adds (matrix
joins, reusable-workflow entries and exits, phony edges), which reports do not list as
near-critical and the table marks on the critical path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..base.errors import Location, WorkloadError
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.words import encodable
from ..core.graph import Cost
from ..core.named_steps import InSource, Places, build_graph
from ..core.workload import Workload


@dataclass
class StepPlan:
    """Steps by name, in the order they were added.

    ``limits`` (``--max-steps``, ``--max-dependencies``) are checked as steps are added, so a
    small file that expands to millions of steps stops early, located at ``source``.
    """

    limits: Limits = DEFAULT_LIMITS
    source: str | None = None
    ids: list[str] = field(default_factory=list)
    costs: list[Cost] = field(default_factory=list)
    needs: list[list[str]] = field(default_factory=list)
    connectors: set[str] = field(default_factory=set)
    _index: dict[str, int] = field(default_factory=dict)
    _dependencies: int = 0
    #: Observed (start, end) of steps in a real run, by id, where the reader has them.
    observed: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Where the steps are written, where the reader knows better than its source (DOT
    #: locates a cycle at the edge that closes it); steps are indexed in the order added.
    places: Places | None = None

    def add(self, step: str, cost: Cost, needs: Iterable[str], connector: bool = False) -> None:
        """Add a step (a repeated name is an error of the reader that adds it)."""
        if step in self._index:
            raise ValueError(f"step {step!r} added twice")
        row = list(dict.fromkeys(needs))
        self.check(len(self.ids) + 1, self._dependencies + len(row))
        self._index[step] = len(self.ids)
        self.ids.append(step)
        self.costs.append(cost)
        self.needs.append(row)
        self._dependencies += len(row)
        if connector:
            self.connectors.add(step)

    def check(self, steps: int, dependencies: int = 0) -> None:
        """Raise the limit's located error if ``steps`` steps with ``dependencies`` needs
        would pass ``--max-steps`` or ``--max-dependencies`` (readers call it before they
        expand a matrix, with the count it will make)."""
        limits = self.limits
        if steps > limits.max_steps:
            raise WorkloadError(
                f"the graph has more than --max-steps ({limits.max_steps:,}) steps; raise the "
                "limit to analyze it",
                Location(self.source),
            )
        if dependencies > limits.max_dependencies:
            raise WorkloadError(
                f"the graph has more than --max-dependencies ({limits.max_dependencies:,}) "
                "dependencies; raise the limit to analyze it",
                Location(self.source),
            )

    def __contains__(self, step: str) -> bool:
        return step in self._index

    def is_connector(self, step: str) -> bool:
        """Whether ``step`` was added by the importer (a join or an entry), not read."""
        return step in self.connectors

    def set_cost(self, step: str, cost: Cost) -> None:
        """Change the cost of ``step``."""
        self.costs[self._index[step]] = cost

    def workload(self, name: str, source: str, fmt: str, unit: str | None,
                 extra: dict[str, Any] | None = None) -> Workload:  # fmt: skip
        """The workload: unknown needs and cycles are errors located at ``source``, naming
        the step."""
        if not self.ids:
            raise WorkloadError("no steps found", Location(source))
        try:  # one pass in the usual case; a name is looked for only when one is bad
            "".join(self.ids).encode("utf-8")
        except UnicodeEncodeError:
            bad = next(s for s in self.ids if not encodable(s))
            raise WorkloadError("a step name contains a lone surrogate (an unpaired "
                                "\\ud800-\\udfff escape), which no UTF-8 text can hold",
                                Location(source, step_id=bad)) from None  # fmt: skip
        graph = build_graph(self.ids, self.costs, self.needs, self.places or InSource(source))
        info = dict(extra or {})
        if self.connectors:
            info["connectors"] = [s for s in self.ids if s in self.connectors]
        return Workload(name=name, graph=graph, source=source, unit=unit, format=fmt, extra=info,
                        observed=dict(self.observed) or None)  # fmt: skip
