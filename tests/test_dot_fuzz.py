"""Structure-aware fuzzing of the DOT reader (issue 30): random graphs written in random
spellings of the documented syntax read back as the same graph (networkx is the oracle), and
mutated documents end in a workload or a located error, never anything else."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources.importers.dot import read_dot

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
LOW = Limits(max_steps=200, max_dependencies=2_000, max_input_bytes=1 << 16)


@st.composite
def spelled_graphs(draw):
    """(DOT text, costs, edges): a random DAG, each id and edge spelled one of the ways the
    language allows."""
    n = draw(st.integers(1, 12))
    costs = {f"n{i}": draw(st.integers(0, 9)) for i in range(n)}
    edges = {(f"n{i}", f"n{j}") for i in range(n) for j in range(i + 1, n)
             if draw(st.booleans()) and draw(st.booleans())}  # fmt: skip

    def ref(name: str) -> str:
        form = draw(st.integers(0, 4))
        if form == 1:
            return f'"{name}"'
        if form == 2:
            return f'"{name[:1]}" + "{name[1:]}"'
        if form == 3:
            return f"{name}:port"
        if form == 4:
            return f'{name}:"p q":ne'
        return name

    def gap() -> str:
        return draw(st.sampled_from([" ", "\n", " /* c */ ", " // c\n", "\n# cpp\n", "\t"]))

    statements = []
    for name, cost in costs.items():
        statements.append(f"{ref(name)} [cost={cost}]" if cost != 1 or draw(st.booleans())
                          else ref(name))  # fmt: skip
    by_tail: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        by_tail.setdefault(a, []).append(b)
    for a, heads in by_tail.items():
        if len(heads) > 1 and draw(st.booleans()):
            group = " ".join(ref(h) for h in heads)
            opener = draw(st.sampled_from(["{", "subgraph {", "subgraph s {"]))
            statements.append(f"{ref(a)} -> {opener} {group} }}")
        else:
            statements.extend(f"{ref(a)} -> {ref(h)}" for h in heads)
    order = draw(st.permutations(range(len(statements))))
    # node statements must come before edges mention their nodes (else defaults differ):
    # costs here are explicit, so any order gives the same graph
    body = "".join(statements[k] + draw(st.sampled_from([";", "", " ;"])) + gap()
                   for k in order)  # fmt: skip
    if draw(st.booleans()):
        body = f"subgraph cluster_x {{{gap()}{body}}}"
    head = draw(st.sampled_from(["digraph", "strict digraph", "DIGRAPH", 'digraph "g"']))
    return f"{head} {{{gap()}{body}}}", costs, edges


def _depth(costs: dict[str, int], edges: set[tuple[str, str]]) -> int:
    g = nx.DiGraph()
    for v, c in costs.items():
        g.add_edge(("in", v), ("out", v), weight=c)
    for a, b in edges:
        g.add_edge(("out", a), ("in", b), weight=0)
    return nx.dag_longest_path_length(g)


@FAST
@given(spelled_graphs())
def test_any_spelling_reads_back_as_the_graph(case) -> None:
    text, costs, edges = case
    plan, _, _ = read_dot(Path("g.dot"), text.encode())
    w = plan.workload("g", "g.dot", "dot", None)
    got = {(w.graph.ids[j], w.graph.ids[i]) for i in range(w.graph.n) for j in w.graph.preds(i)}
    assert dict(zip(w.graph.ids, w.graph.costs, strict=True)) == costs
    assert got == edges
    from serialscale import analyze_workload

    assert analyze_workload(w).depth == _depth(costs, edges)


ALPHABET = [
    *list('{}[];,=:->"<>/*#\n +\\'),
    "digraph",
    "subgraph",
    "node",
    "edge",
    "graph",
    "strict",
    "a",
    "b",
    "cost=1",
    "/*",
    "*/",
    "//",
]


@FAST
@given(spelled_graphs(), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3),
                                            st.sampled_from(ALPHABET)), max_size=6))  # fmt: skip
def test_mutated_documents_end_in_a_workload_or_a_located_error(case, edits) -> None:
    text = case[0]
    for position, kind, piece in edits:
        k = position % (len(text) + 1)
        if kind == 0:
            text = text[:k] + piece + text[k:]
        elif kind == 1:
            text = text[:k] + text[k + len(piece) :]
        elif kind == 2:
            text = text[:k] + text[k:] * 3  # repeat a tail: long and deep shapes
        else:
            text = text[:k] + "{" * 50 + piece + "}" * 50 + text[k:]
    try:
        plan, _, _ = read_dot(Path("g.dot"), text.encode(), limits=LOW)
        plan.workload("g", "g.dot", "dot", None)
    except WorkloadError as exc:
        assert str(exc).startswith("g.dot")
