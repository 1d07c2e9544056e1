"""Structure-aware fuzzing of the ninja reader (issue 30): random builds whose paths are
spelled in ninja's equivalent ways read back as the graph written (networkx depth), and
mutated builds end in a workload or a located error, never anything else."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources.importers.ninja import read_build

SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FAST = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=SLOW_OK)
LOW = Limits(max_steps=300, max_dependencies=3_000, max_input_bytes=1 << 16)


@st.composite
def builds(draw):
    """(build.ninja text, edges between outputs): a random DAG of edges over outputs
    ``d/oN``, each mention spelled one of the ways ninja canonicalizes to the same path."""
    n = draw(st.integers(1, 10))
    outputs = [f"d/o{i}" for i in range(n)]
    edges = {(outputs[i], outputs[j]) for i in range(n) for j in range(i + 1, n)
             if draw(st.booleans()) and draw(st.booleans())}  # fmt: skip

    def spell(path: str) -> str:
        same = [path, f"./{path}", path.replace("/", "//"), f"x/../{path}",
                "${dir}/" + path[2:], path.replace("/", "/./")]  # fmt: skip
        return draw(st.sampled_from(same))

    lines = ["dir = d", "rule cc", "  command = cc $in -o $out"]
    for j in draw(st.permutations(range(n))):
        ins = [spell(a) for a, b in sorted(edges) if b == outputs[j]]
        kinds = [draw(st.sampled_from(["", "| ", "|| "])) for _ in ins]
        explicit = [p for p, k in zip(ins, kinds, strict=True) if k == ""]
        implicit = [p for p, k in zip(ins, kinds, strict=True) if k == "| "]
        order = [p for p, k in zip(ins, kinds, strict=True) if k == "|| "]
        text = f"build {spell(outputs[j])}: cc src/s{j}.c {' '.join(explicit)}"
        if implicit:
            text += " | " + " ".join(implicit)
        if order:
            text += " || " + " ".join(order)
        if draw(st.booleans()):
            text = text.replace(" ", " $\n    ", 1)
        lines.append(text)
    return "\n".join(lines) + "\n", outputs, edges


def _depth(nodes: list[str], edges: set[tuple[str, str]]) -> int:
    g = nx.DiGraph()
    for v in nodes:
        g.add_edge(("in", v), ("out", v), weight=1)
    for a, b in edges:
        g.add_edge(("out", a), ("in", b), weight=0)
    return nx.dag_longest_path_length(g)


@FAST
@given(builds())
def test_random_builds_read_back_as_written(tmp_path: Path, case) -> None:
    from serialscale import analyze_workload

    text, outputs, edges = case
    path = tmp_path / "build.ninja"
    plan, _, unit, _ = read_build(path, text.encode())
    w = plan.workload("b", str(path), "ninja", unit)
    got = {(w.graph.ids[j], w.graph.ids[i]) for i in range(w.graph.n) for j in w.graph.preds(i)}
    assert sorted(w.graph.ids) == sorted(outputs) and got == edges
    assert analyze_workload(w).depth == _depth(outputs, edges)


PIECES = ["$", "$$", "$ ", "$:", "${dir}", "${", ":", "|", "||", "|@", "\n", "\n  ", "build ",
          "rule x\n", "include nope.ninja\n", "subninja ../x\n", "a = $a$a\n", "dyndep = d\n",
          "build x: phony x\n", "#", "="]  # fmt: skip


@FAST
@given(builds(), st.lists(st.tuples(st.integers(0, 10_000), st.booleans(),
                                    st.sampled_from(PIECES)), max_size=6))  # fmt: skip
def test_mutated_builds_end_in_a_workload_or_a_located_error(tmp_path: Path, case,
                                                             edits) -> None:  # fmt: skip
    text = case[0]
    for position, insert, piece in edits:
        k = position % (len(text) + 1)
        text = text[:k] + piece + text[k:] if insert else text[:k] + text[k + len(piece) :]
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / "build.ninja"
    try:
        plan, _, unit, _ = read_build(path, text.encode(), LOW)
        plan.workload("b", str(path), "ninja", unit)
    except WorkloadError as exc:
        assert str(exc).startswith(str(tmp_path))
