"""The DOT reader, rule by rule from the language's documentation
(graphviz.org/doc/info/lang.html), each checked against the graph written out by hand and
measured with networkx; plus the hostile shapes of issue 30 (they must finish: no clock)."""

from __future__ import annotations

import gc
import itertools
import json
from pathlib import Path

import networkx as nx
import pytest

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources import load_workload
from serialscale.sources.importers.dot import read_dot
from serialscale.sources.registry import ReadOptions


def read(text: str, tmp_path: Path, reverse: bool = False, limits: Limits | None = None):
    path = tmp_path / "g.dot"
    path.write_text(text)
    return load_workload(path, read=ReadOptions(reverse_edges=reverse), limits=limits or Limits())


def edges_of(workload) -> set[tuple[str, str]]:
    g = workload.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def costs_of(workload) -> dict[str, float]:
    return dict(zip(workload.graph.ids, workload.graph.costs, strict=True))


def oracle_depth(costs: dict[str, float], edges: set[tuple[str, str]]) -> float:
    """The longest cost-weighted path, by networkx (node costs moved onto split edges)."""
    h = nx.DiGraph()
    for v, c in costs.items():
        h.add_edge(("in", v), ("out", v), weight=c)
    for a, b in edges:
        h.add_edge(("out", a), ("in", b), weight=0)
    return nx.dag_longest_path_length(h)


def check(text: str, tmp_path: Path, nodes: dict[str, float], edges: set[tuple[str, str]],
          **kw) -> object:  # fmt: skip
    w = read(text, tmp_path, **kw)
    assert costs_of(w) == nodes
    assert edges_of(w) == edges
    assert analyze_workload(w).depth == pytest.approx(oracle_depth(nodes, edges))
    return w


# --- edge statements ---------------------------------------------------------------------------


def test_an_edge_group_is_one_edge_per_node(tmp_path: Path) -> None:
    check("digraph { a -> {b c} }", tmp_path, {"a": 1, "b": 1, "c": 1},
          {("a", "b"), ("a", "c")})  # fmt: skip


def test_a_chain_is_an_edge_per_link(tmp_path: Path) -> None:
    check("digraph { a -> b -> c -> d }", tmp_path, dict.fromkeys("abcd", 1),
          {("a", "b"), ("b", "c"), ("c", "d")})  # fmt: skip


def test_subgraphs_as_endpoints_stand_for_all_their_nodes(tmp_path: Path) -> None:
    text = "digraph { subgraph s1 { a b } -> subgraph s2 { c; subgraph { d } } -> e }"
    edges = {(x, y) for x in "ab" for y in "cd"} | {(x, "e") for x in "cd"}
    check(text, tmp_path, dict.fromkeys("abcde", 1), edges)


def test_an_anonymous_group_on_both_sides_is_every_pair(tmp_path: Path) -> None:
    check("digraph { {a b} -> {c d} }", tmp_path, dict.fromkeys("abcd", 1),
          {(x, y) for x in "ab" for y in "cd"})  # fmt: skip


def test_ports_and_compass_points_name_the_node(tmp_path: Path) -> None:
    check('digraph { a:p1 -> b:n; b:"p 2":sw -> c; c:se -> a2 }', tmp_path,
          {"a": 1, "b": 1, "c": 1, "a2": 1}, {("a", "b"), ("b", "c"), ("c", "a2")})  # fmt: skip


def test_edge_attributes_are_not_nodes(tmp_path: Path) -> None:
    check("digraph { a -> b [label=x, weight=5]; edge [color=red]; b -> c }", tmp_path,
          dict.fromkeys("abc", 1), {("a", "b"), ("b", "c")})  # fmt: skip


def test_reverse_edges_on_a_file_that_is_not_dot_is_said(tmp_path: Path) -> None:
    """The flag turns DOT edges around; another format's needs stay as written, and a note
    says so (found: silently ignored)."""
    path = tmp_path / "w.yaml"
    path.write_text("steps:\n  - {id: a}\n  - {id: b, needs: [a]}\n")
    w = load_workload(path, read=ReadOptions(reverse_edges=True))
    assert list(w.graph.preds(1)) == [0]
    assert w.extra["notes"] == ["--reverse-edges: read as serialscale, not DOT: its "
                                "dependencies are as written"]  # fmt: skip
    assert "notes" not in load_workload(path).extra


def test_reverse_edges_swap_every_edge(tmp_path: Path) -> None:
    check("digraph { a -> {b c}; b -> d }", tmp_path, dict.fromkeys("abcd", 1),
          {("b", "a"), ("c", "a"), ("d", "b")}, reverse=True)  # fmt: skip


# --- ids ----------------------------------------------------------------------------------------


def test_ids_quoted_numeral_html_and_concatenated(tmp_path: Path) -> None:
    text = (
        'digraph "my graph" {\n'
        '  "a \\"quoted\\" id" -> -3.5 -> .5 -> <<b>html <i>nested</i></b>>;\n'
        '  "con" + "cat" + "ed" -> "line\\\ncontinued";\n'
        '  "graph" -> "node" -> "edge";\n'  # quoted keywords are ids
        "  ünïcödé_1 -> _x\n"
        "}"
    )
    nodes = ['a "quoted" id', "-3.5", ".5", "<b>html <i>nested</i></b>", "concated",
             "linecontinued", "graph", "node", "edge", "ünïcödé_1", "_x"]  # fmt: skip
    w = read(text, tmp_path)
    assert list(w.graph.ids) == nodes
    assert w.name == "my graph"
    assert ("concated", "linecontinued") in edges_of(w)


def test_keywords_are_case_independent(tmp_path: Path) -> None:
    w = read("STRICT DiGraph G { NODE [cost=2]; a; SubGraph { b } -> c }", tmp_path)
    assert costs_of(w) == {"a": 2, "b": 2, "c": 2}
    assert edges_of(w) == {("b", "c")}


def test_comments_and_preprocessor_lines_are_skipped(tmp_path: Path) -> None:
    text = "# a line for cpp\n/* a -> x */ digraph { // b -> y\n a -> b /* -> z */ }\n#x -> w\n"
    check(text, tmp_path, dict.fromkeys("ab", 1), {("a", "b")})


# --- attributes and defaults ----------------------------------------------------------------------


def test_node_defaults_apply_to_later_nodes_of_their_scope(tmp_path: Path) -> None:
    text = """digraph {
      a;
      node [cost=3];
      b;
      subgraph s { node [cost=7]; c; b }   // b exists: keeps its cost
      d;                                    // the subgraph's default does not leak out
      e [cost=2.5];
      f [weight=4];
      node [cost=""];                       // an empty value is no value
      g;
    }"""
    nodes = {"a": 1, "b": 3, "c": 7, "d": 3, "e": 2.5, "f": 3, "g": 1}
    check(text, tmp_path, nodes, set())


def test_weight_is_the_cost_when_there_is_no_cost(tmp_path: Path) -> None:
    check("digraph { a [weight=4]; b [cost=2, weight=9] }", tmp_path, {"a": 4, "b": 2}, set())


def test_graph_attributes_and_assignments_are_not_nodes(tmp_path: Path) -> None:
    check('digraph { rankdir=LR; graph [label="x"]; label = "y"; a -> b }', tmp_path,
          dict.fromkeys("ab", 1), {("a", "b")})  # fmt: skip


# --- what is not an order ------------------------------------------------------------------------


def test_a_self_edge_is_dropped_with_one_note(tmp_path: Path) -> None:
    w = check("digraph { x -> x; x -> y; y -> y }", tmp_path, dict.fromkeys("xy", 1),
              {("x", "y")})  # fmt: skip
    notes = w.extra["notes"]
    assert len(notes) == 1 and "2 self-edges" in notes[0] and "'x'" in notes[0]


def test_a_cycle_of_two_nodes_is_located_at_the_edge_that_closes_it(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError) as info:
        read("digraph {\n a -> b;\n c -> a;\n b -> c;\n}\n", tmp_path)
    message = str(info.value)
    cycle = message.split("dependency cycle: ")[1].split(";")[0].split(" → ")
    lines = {("a", "b"): 2, ("c", "a"): 3, ("b", "c"): 4}
    assert cycle[0] == cycle[-1] and len(cycle) == 4
    assert all((x, y) in lines for x, y in itertools.pairwise(cycle))
    assert message.startswith(f"{tmp_path / 'g.dot'}:{lines[(cycle[0], cycle[1])]}:")


def test_an_undirected_graph_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match=r"undirected.*expected 'digraph'"):
        read("graph { a -- b }", tmp_path)


def test_only_the_first_graph_is_read(tmp_path: Path) -> None:
    w = read("digraph one { a -> b } digraph two { c -> d }", tmp_path)
    assert set(w.graph.ids) == {"a", "b"} and "holds 2 graphs" in w.extra["notes"][0]


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("digraph g { a -> }", "1:18", "expected a node"),
        ("digraph g {\n  a -> b\n  c -- d\n}", "3:5", "'->' in a digraph"),
        ('digraph { a [label="x]\n}', "1:20", "never closed"),
        ("digraph { a /* b }", "1:13", "never closed"),
        ("digraph { a [cost=] }", "1:19", "a value for the attribute 'cost'"),
        ("digraph { a @ b }", "1:13", "unexpected character '@'"),
        ("digraph { a", "1:12", "'}' to close the graph"),
        ("digraph { <a <b> }", "1:11", "HTML string"),
        ("node { a }", "1:1", "'digraph NAME"),
    ],
)
def test_syntax_errors_are_located(text: str, where: str, fragment: str, tmp_path: Path) -> None:
    with pytest.raises(WorkloadError) as info:
        read(text, tmp_path)
    assert f"g.dot:{where}: error: not a DOT graph" in str(info.value)
    assert fragment in str(info.value)


def test_a_bad_cost_is_located_at_its_node(tmp_path: Path) -> None:
    """At the node statement that set it, else where the node first appears (a default);
    found: the message had no line or column."""
    with pytest.raises(WorkloadError, match=r"g.dot:1:11: error: node 'a': cost 'x' is not"):
        read('digraph { a [cost="x"] }', tmp_path)
    with pytest.raises(WorkloadError, match=r"g.dot:1:27: error: .*finite number"):
        read("digraph { node [cost=-1]; a }", tmp_path)
    with pytest.raises(WorkloadError, match=r"g.dot:4:3: error: node 'b': cost must be"):
        read('digraph {\n  a -> b\n  c\n  b [label="B",\n     cost=-2]\n}\n', tmp_path)
    with pytest.raises(WorkloadError, match=r"g.dot:2:3: error: node 'a': cost"):
        read("digraph {\n  a [cost=-1]\n  b\n  a [color=red]\n}\n", tmp_path)


# --- the command line -------------------------------------------------------------------------


def test_nothing_but_the_report_reaches_standard_output(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "g.dot"
    path.write_text("digraph { a -> {b c}; c:p -> d }")
    result = run_cli("analyze", str(path), "-f", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)  # all of stdout is one JSON document
    assert (report["steps"], report["depth"]) == (4, 3)
    bad = tmp_path / "bad.dot"
    bad.write_text("digraph {\n  a -> ;\n}")
    result = run_cli("analyze", str(bad), "-f", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == f"{bad}:2:8: error: not a DOT graph: expected a node, a " \
        "subgraph or a statement, found ';'"  # fmt: skip


# --- hostile shapes (issue 30): each finishes; none is timed -------------------------------------


def test_reading_leaves_no_reference_cycles(tmp_path: Path) -> None:
    """The process runs with the collector off: a reader must free everything by counting."""
    text = "digraph {\n" + "".join(f" n{i} -> n{i + 1} [label=x];\n" for i in range(2000)) + "}"
    path = tmp_path / "g.dot"
    path.write_text(text)
    data = path.read_bytes()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        plan, _, _ = read_dot(path, data)
        assert len(plan.ids) == 2001
        del plan
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_deep_nesting_is_read_without_recursion_and_bounded(tmp_path: Path) -> None:
    w = read("digraph { " + "{" * 900 + " a b " + "}" * 900 + " -> c }", tmp_path)
    assert edges_of(w) == {("a", "c"), ("b", "c")}
    with pytest.raises(WorkloadError, match="nested deeper than 1,000"):
        read("digraph { " + "{" * 5000 + "}" * 5000 + " }", tmp_path)


def test_long_chains_lines_and_comments_finish(tmp_path: Path) -> None:
    n = 20_000
    w = read("digraph { " + " -> ".join(f"n{i}" for i in range(n)) + " }", tmp_path)
    assert analyze_workload(w).depth == n
    w = read("digraph { /**/" + "/**/" * 50_000 + " a -> b }", tmp_path)
    assert w.graph.n == 2
    with pytest.raises(WorkloadError, match="never closed"):
        read("digraph { a /*" + " /*/" * 50_000, tmp_path)
    with pytest.raises(WorkloadError, match="never closed"):
        read('digraph { "' + "\\\\" * 50_000, tmp_path)
    with pytest.raises(WorkloadError, match="never closed"):
        read("digraph { " + "<" * 50_000, tmp_path)


def test_edge_groups_are_counted_before_they_are_made(tmp_path: Path) -> None:
    group = " ".join(f"n{i}" for i in range(300))
    text = f"digraph {{ {{{group}}} -> {{{group.replace('n', 'm')}}} }}"
    w = read(text, tmp_path)
    assert len(edges_of(w)) == 300 * 300
    with pytest.raises(WorkloadError, match="--max-dependencies"):
        read(text, tmp_path, limits=Limits(max_dependencies=80_000))
    with pytest.raises(WorkloadError, match="--max-steps"):
        read(text, tmp_path, limits=Limits(max_steps=500))


def test_running_out_of_memory_is_a_located_error(tmp_path: Path, monkeypatch) -> None:
    import serialscale.sources.importers.dot as dot

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(dot, "parse_dot", exhausted)
    with pytest.raises(WorkloadError, match="too large to read in memory"):
        read("digraph { a }", tmp_path)


def test_span_attributes_are_said_not_silently_dropped(tmp_path: Path) -> None:
    """serialscale export writes span= on steps with parallelism inside; the DOT reader
    takes costs only, and says so (found: depth 225 analyzed, 9,232 from its own export)."""
    w = read("digraph { a [cost=256, span=5]; b [cost=3]; a -> b }", tmp_path)
    assert list(w.graph.costs) == [256, 3]
    assert w.extra["notes"] == ["1 node has a 'span', which the DOT reader does not take: each "
                                "step runs its cost serially here (analyze the workload itself "
                                "for the depth with spans)"]  # fmt: skip
