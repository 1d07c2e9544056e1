"""Graphviz DOT graphs: one step per node, edges as needs.

An edge ``a -> b`` means ``a`` comes before ``b`` (``b`` needs ``a``), as ``airflow dags
show`` and ``snakemake --dag`` draw them; tools that point from a target to what it depends
on (``bazel query --output graph``, ``cmake --graphviz``, ``terraform graph``) need
``--reverse-edges``. The DOT language is read as documented (:mod:`.dot_parser`):

- edge chains ``a -> b -> c`` and groups ``a -> {b c}``; a subgraph as an endpoint stands for
  every node in it;
- ports (``a:p``, ``a:p:n``) name node ``a``;
- a node's ``cost`` attribute (else ``weight``) is its cost, else 1; ``node [cost=...]``
  gives later nodes of its scope (the graph or subgraph) that default; an empty value is no
  value;
- a self-edge ``x -> x`` (``bazel query`` and ``cmake --graphviz`` write them) is not an
  order: it is dropped with a note. A cycle of two or more nodes is a located error;
- an undirected graph has no order: it is refused. Only the first graph of a file is read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import plural
from ...core.named_steps import InSource
from ..parsing import decode
from ..step_plan import StepPlan
from .dot_parser import DotGraph, line_column, parse_dot


def _cost(attributes: dict[str, str], node: str, where: Callable[[], Location]) -> float | int:
    """The node's ``cost`` (else ``weight``, else 1); a bad one is an error at ``where()``
    (the statement that gave the node its attributes)."""
    for key in ("cost", "weight"):
        raw = attributes.get(key, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise WorkloadError(f"node '{node}': {key} {_shown(raw)!r} is not a number",
                                where()) from None  # fmt: skip
        if not 0 <= value < math.inf:
            raise WorkloadError(f"node '{node}': {key} must be a finite number >= 0, got "
                                f"{_shown(raw)}", where())  # fmt: skip
        return int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() \
            else value  # fmt: skip
    return 1


def _shown(raw: str) -> str:
    return raw if len(raw) <= 40 else raw[:40] + "…"


def read_dot(path: Path, data: bytes, reverse: bool = False,
             limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, str, list[str]]:  # fmt: skip
    """The steps of the DOT graph in ``data``, the graph's name and notes."""
    source = str(path)
    text = decode(data, source)
    try:
        graph = parse_dot(text, source, limits.max_steps, limits.max_dependencies)
        return _plan(graph, text, source, reverse, limits)
    except MemoryError:
        pass  # raised below, once the frames holding what was built are gone
    raise WorkloadError("the graph is too large to read in memory", Location(source))


def _plan(graph: DotGraph, text: str, source: str, reverse: bool,
          limits: Limits) -> tuple[StepPlan, str, list[str]]:  # fmt: skip
    notes: list[str] = []
    if graph.more_graphs:
        notes.append(f"the file holds {graph.more_graphs + 1} graphs; only the first is read")
    if graph.self_edges:
        what = "a self-edge" if graph.self_edges == 1 else f"{graph.self_edges} self-edges"
        notes.append(f"{what} (x -> x, first on '{graph.first_self_edge}') dropped: a step "
                     "does not wait for itself")  # fmt: skip
    needs: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for tail, head in graph.edges:
        before, after = (head, tail) if reverse else (tail, head)
        needs[after].append(before)
    plan = StepPlan(limits=limits, source=source, places=_Edges(graph, text, source, reverse))
    spans = 0
    for name, attributes in graph.nodes.items():
        plan.add(name, _cost(attributes, name, partial(_node_at, graph, text, source, name)),
                 needs[name])  # fmt: skip
        spans += "span" in attributes
    if spans:  # (serialscale export writes them: a step's own parallel depth)
        notes.append(f"{plural(spans, 'node')} {'has' if spans == 1 else 'have'} a 'span', "
                     "which the DOT reader does not take: each step runs its cost serially "
                     "here (analyze the workload itself for the depth with spans)")  # fmt: skip
    return plan, graph.name, notes


def _node_at(graph: DotGraph, text: str, source: str, name: str) -> Location:
    """Where node ``name`` got its attributes (see :attr:`DotGraph.written`)."""
    line, column = line_column(text, graph.written.get(name, 0))
    return Location(source, line, column, step_id=name)


class _Edges(InSource):
    """A DOT graph's places: a cycle is located at the edge statement that closes it."""

    def __init__(self, graph: DotGraph, text: str, source: str, reverse: bool) -> None:
        super().__init__(source)
        self.names, self.edges, self.text = list(graph.nodes), graph.edges, text
        self.reverse = reverse

    def cycle(self, first: int, second: int) -> tuple[Location, str]:
        """The edge by which ``second`` needs ``first``."""
        a, b = self.names[first], self.names[second]
        line, column = line_column(self.text, self.edges[(b, a) if self.reverse else (a, b)])
        return Location(self.source, line, column), ""
