"""Every DOT entry of the public corpus analyzes (exit 0) with the nodes and edges the DOT
language implies: nodes counted by hand, edges read here independently, line by line (these
generated files write one ``a -> b`` per line, without groups or ports), depth by networkx.
Skipped when the corpus is not on this machine."""

from __future__ import annotations

import re

import networkx as nx
import pytest

from serialscale import analyze_workload
from serialscale.sources import load_workload
from serialscale.sources.registry import ReadOptions

from .foreign_corpus import entries, entry_path

#: Nodes of each file, counted by hand (terraform's graph has 3 resources alone in their
#: module's cluster; cmake's legend has 8 nodes, linked by 7 edges).
NODES = {
    "real/airflow_example_complex.dot": 37,
    "real2/dot/indel_snakemake/dag.dot": 37,
    "real2/dot/reprohackaton/dag.dot": 28,
    "real3/dot/mmatrix-bazel/deps.dot": 74,
    "real3/dot/eks-terraform/graph.dot": 177 + 3,
    "real3/dot/simplepiano-cmake/dependencies.dot": 6 + 8,
    "real3/dot/bookdata-dvc/pipeline.dot": 79,
}
_ID = r'("(?:[^"\\]|\\.)*"|[A-Za-z_0-9.]+)'
_EDGE = re.compile(rf"^\s*{_ID}\s*->\s*{_ID}", re.M)


@pytest.mark.parametrize(("entry", "options"), entries(".dot"))
def test_corpus_dot_files_analyze_with_the_graph_they_draw(entry: str, options: list[str],
                                                          run_cli) -> None:  # fmt: skip
    path = entry_path(entry)
    result = run_cli("analyze", str(path), *options, "-f", "json")
    assert result.exit_code == 0, result.stderr
    reverse = "--reverse-edges" in options
    w = load_workload(path, read=ReadOptions(reverse_edges=reverse))
    assert w.graph.n == NODES[entry]
    written = {(a.strip('"'), b.strip('"')) for a, b in _EDGE.findall(path.read_text())}
    loops = {(a, b) for a, b in written if a == b}
    expected = {(b, a) if reverse else (a, b) for a, b in written - loops}
    g = w.graph
    assert {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)} == expected
    assert any("self-edge" in n for n in w.extra.get("notes", [])) == bool(loops)
    oracle = nx.DiGraph(expected)
    oracle.add_nodes_from(g.ids)
    assert analyze_workload(w).depth == nx.dag_longest_path_length(oracle) + 1
