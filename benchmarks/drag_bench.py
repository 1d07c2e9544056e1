"""Drag of every step at scale (issue 25): ``python benchmarks/drag_bench.py``.

Random layered graphs of 10^5 and 10^6 steps (each step needs up to three of the previous
thousand, costs 1..9) and chains of the same sizes. For each: the time of the metrics
(``compute_metrics``, the analysis every report runs), of ``drag`` for every step, and, as a
baseline in the same run, of one longest-path computation by networkx on the same graph
(``dag_longest_path_length`` with the costs on edges): drag answers "depth without this
step" for every step at once, networkx answers "depth" once. Prints only; asserts nothing.
"""

from __future__ import annotations

import random
import time
from array import array

from serialscale.core.drag import drag
from serialscale.core.graph import Graph
from serialscale.core.metrics import compute_metrics


def layered(n: int, seed: int = 1) -> Graph:
    rnd = random.Random(seed)
    costs = [rnd.randint(1, 9) for _ in range(n)]
    ptr, idx = array("q", [0]), array("q")
    for i in range(n):
        idx.extend(sorted({rnd.randrange(max(0, i - 1000), i) for _ in range(min(i, 3))}))
        ptr.append(len(idx))
    return Graph.from_csr([f"s{i}" for i in range(n)], costs, ptr, idx)


def chain(n: int) -> Graph:
    ptr = array("q", [0, *range(0, n)])
    idx = array("q", range(n - 1))
    return Graph.from_csr([f"s{i}" for i in range(n)], [1] * n, ptr, idx)


def networkx_depth(graph: Graph) -> float:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n + 1))
    for v in range(graph.n):
        for u in graph.pred_idx[graph.pred_ptr[v] : graph.pred_ptr[v + 1]]:
            g.add_edge(u, v, weight=graph.costs[u])
        g.add_edge(v, graph.n, weight=graph.costs[v])
    start = time.perf_counter()
    nx.dag_longest_path_length(g)
    return time.perf_counter() - start


def main() -> None:
    print("| graph | steps | dependencies | metrics s | drag s | networkx one depth s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, make in (("layered", layered), ("chain", chain)):
        for n in (100_000, 1_000_000):
            graph = make(n)
            start = time.perf_counter()
            m = compute_metrics(graph)
            metrics_s = time.perf_counter() - start
            start = time.perf_counter()
            drag(graph, m.critical_path, m.finish, m.bottom_level, m.slack, m.depth)
            drag_s = time.perf_counter() - start
            nx_s = networkx_depth(graph) if n <= 100_000 else float("nan")
            print(f"| {name} | {n:,} | {graph.m:,} | {metrics_s:.2f} | {drag_s:.2f} | "
                  f"{nx_s:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
