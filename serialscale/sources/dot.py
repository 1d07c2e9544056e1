"""Graphviz DOT graphs: one step per node, edges as needs, read with pydot.

An edge ``a -> b`` means ``a`` comes before ``b`` (``b`` needs ``a``), as ``airflow dags
show`` and ``snakemake --dag`` draw them; tools that point from a target to what it depends
on (``bazel query --output graph``, ``cmake --graphviz``, ``terraform graph``) need
``--reverse-edges``. A node's ``cost`` attribute (else ``weight``) is its cost; else 1.
Nodes of subgraphs and clusters count; the graph attributes ``node``, ``edge`` and ``graph``
are not steps. An undirected graph has no order: it is refused.

pydot is the parser: the one networkx itself reads DOT with (``networkx.nx_pydot``), pure
Python, maintained, and it keeps quoted ids, HTML labels and comments right.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from ..errors import Location, WorkloadError
from ..limits import DEFAULT_LIMITS, Limits
from .parsing import decode
from .plan import StepPlan

_RESERVED = {"node", "edge", "graph"}


def _name(raw: str) -> str:
    """A node id as written, without the quotes DOT needs around some ids."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"')
    return raw


def _cost(attributes: dict[str, Any], node: str, source: str) -> float | int:
    for key in ("cost", "weight"):
        if key in attributes:
            raw = _name(str(attributes[key]))
            try:
                value = float(raw)
            except ValueError:
                raise WorkloadError(f"node '{node}': {key} {raw!r} is not a number",
                                    Location(source, step_id=node)) from None  # fmt: skip
            if not 0 <= value < math.inf:
                raise WorkloadError(f"node '{node}': {key} must be a finite number >= 0, got "
                                    f"{raw}", Location(source, step_id=node))  # fmt: skip
            return int(value) if value.is_integer() and "." not in raw else value
    return 1


def read_dot(path: Path, data: bytes, reverse: bool = False,
             limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, str, list[str]]:  # fmt: skip
    """The steps of the DOT graph in ``data``, the graph's name and notes."""
    try:
        with warnings.catch_warnings():  # pydot's grammar uses pyparsing's old names
            warnings.simplefilter("ignore", DeprecationWarning)
            import pydot
    except ImportError:
        raise WorkloadError("reading DOT needs pydot: pip install pydot",
                            Location(str(path))) from None  # fmt: skip
    source = str(path)
    text = decode(data, source)
    try:
        graphs = pydot.graph_from_dot_data(text)
    except Exception as exc:  # pydot raises pyparsing's errors, and others, for bad input
        line = getattr(exc, "lineno", None)
        column = getattr(exc, "col", None)
        message = str(getattr(exc, "msg", None) or exc).splitlines()[0]
        raise WorkloadError(f"not a DOT graph: {message}",
                            Location(source, line, column)) from None  # fmt: skip
    if not graphs:
        raise WorkloadError("not a DOT graph: expected 'digraph NAME { ... }'", Location(source))
    graph = graphs[0]
    notes = [f"the file holds {len(graphs)} graphs; only the first is read"] if len(graphs) > 1 \
        else []  # fmt: skip
    if graph.get_type() != "digraph":
        raise WorkloadError("an undirected graph ('graph') has no order; expected 'digraph'",
                            Location(source))  # fmt: skip
    costs: dict[str, float | int] = {}
    needs: dict[str, list[str]] = {}

    def node(name: str, attributes: dict[str, Any] | None = None) -> None:
        if name in _RESERVED:
            return
        if name not in costs:
            costs[name] = 1
            needs[name] = []
        if attributes:
            costs[name] = _cost(attributes, name, source)

    def walk(g: Any) -> None:
        for n in g.get_nodes():
            node(_name(n.get_name()), n.get_attributes())
        for e in g.get_edges():
            a, b = _name(str(e.get_source())), _name(str(e.get_destination()))
            node(a)
            node(b)
            before, after = (b, a) if reverse else (a, b)
            needs[after].append(before)
        for sub in g.get_subgraphs():
            walk(sub)

    walk(graph)
    plan = StepPlan(limits=limits, source=source)
    for name in costs:
        plan.add(name, costs[name], needs[name])
    return plan, _name(graph.get_name() or ""), notes
