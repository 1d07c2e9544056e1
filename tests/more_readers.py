"""What the tests of the issue-29 readers (Turborepo, Nx, CircleCI, Azure Pipelines, Buildkite,
dvc) share: a workload compared with the graph a test wrote out by hand, every number computed
again by networkx."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from serialscale import analyze_workload
from serialscale.base.limits import Limits
from serialscale.core.workload import Workload
from serialscale.sources.registry import READERS, ReadOptions, detect, reader

from .conftest import nx_depth


def read(path: Path, text: str | bytes, fmt: str | None = None,
         limits: Limits | None = None) -> Workload:  # fmt: skip
    """Write ``text`` at ``path`` and read it (detected, or with ``--from fmt``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(data)
    return read_direct(path, data, fmt, limits)


def read_direct(path: Path, data: bytes, fmt: str | None = None,
                limits: Limits | None = None) -> Workload:  # fmt: skip
    """What ``read_path`` does, less the garbage collection it runs after PyYAML for the CLI
    (a full collection of the test process's heap each time: most of a fuzzer's time)."""
    chosen = reader(fmt) if fmt else READERS[detect(path, data[:65536])]
    return chosen.read(path, data, None, limits or Limits(), ReadOptions(fmt=fmt))


def expected(steps: dict[str, tuple[float, list[str]]]) -> nx.DiGraph:
    """The graph a test expects: step -> (cost, needs)."""
    g = nx.DiGraph()
    for step, (cost, needs) in steps.items():
        g.add_node(step, cost=cost)
        for need in needs:
            g.add_edge(need, step)
    return g


def edges_of(workload: Workload) -> set[tuple[str, str]]:
    g = workload.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def assert_graph(workload: Workload, want: nx.DiGraph) -> None:
    """Same steps, costs and needs as ``want``; work and depth as networkx computes them."""
    g = workload.graph
    assert set(g.ids) == set(want.nodes)
    assert {s: float(c) for s, c in zip(g.ids, g.costs.tolist(), strict=True)} == \
        {s: float(want.nodes[s]["cost"]) for s in want.nodes}  # fmt: skip
    assert edges_of(workload) == set(want.edges)
    order = list(want.nodes)
    index = {s: k for k, s in enumerate(order)}
    costs = [want.nodes[s]["cost"] for s in order]
    needs = [[index[p] for p in want.predecessors(s)] for s in order]
    report = analyze_workload(workload, processors=4)
    assert report.work == sum(costs)
    assert report.depth == nx_depth(costs, needs)
