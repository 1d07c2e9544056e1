"""Structure-aware fuzzing of the GitLab CI reader (issue 30): random pipelines read back as
the graph GitLab's stage and needs rules imply (computed here independently, depth by
networkx), and mutated pipelines end in a workload or a located error, never anything else."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources.importers.gitlab_ci import read_pipeline

SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FAST = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=SLOW_OK)
LOW = Limits(max_steps=300, max_dependencies=3_000, max_input_bytes=1 << 16)
STAGES = ["build", "test", "deploy"]


@st.composite
def pipelines(draw):
    """(YAML text, jobs: name -> (stage, needs or None, parallel))."""
    n = draw(st.integers(1, 8))
    jobs: dict[str, tuple[str, list[str] | None, int]] = {}
    lines = [f"stages: [{', '.join(STAGES)}]"]
    for i in range(n):
        name = f"j{i}"
        stage = draw(st.sampled_from(STAGES))
        needs = None
        earlier = [k for k, (s, _, _) in jobs.items() if STAGES.index(s) <= STAGES.index(stage)]
        if draw(st.booleans()) and earlier:  # (needing a later stage's job is a cycle)
            needs = sorted(draw(st.sets(st.sampled_from(earlier))))
        parallel = draw(st.sampled_from([1, 1, 2, 3]))
        jobs[name] = (stage, needs, parallel)
        template = draw(st.booleans())
        if template:  # the stage comes from a template through extends
            lines.append(f".t{i}:\n  stage: {stage}")
            lines.append(f"{name}:\n  extends: .t{i}\n  script: [x]")
        else:
            lines.append(f"{name}:\n  stage: {stage}\n  script: [x]")
        if needs is not None:
            lines.append(f"  needs: [{', '.join(needs)}]")
        if parallel > 1:
            lines.append(f"  parallel: {parallel}")
    return "\n".join(lines) + "\n", jobs


def expected(jobs: dict[str, tuple[str, list[str] | None, int]]) -> nx.DiGraph:
    """GitLab's rules, written out again: a job without needs waits for every job of the
    earlier stages; a parallel job is its instances joined by a zero-cost step."""
    g = nx.DiGraph()
    for name, (stage, needs, parallel) in jobs.items():
        labels = [name] if parallel == 1 else [f"{name} {k}/{parallel}" for k in
                                               range(1, parallel + 1)]  # fmt: skip
        before = (
            needs
            if needs is not None
            else [
                other for other, (s, _, _) in jobs.items() if STAGES.index(s) < STAGES.index(stage)
            ]
        )
        for label in labels:
            g.add_node(label, cost=1)
            for b in before:
                g.add_edge(b, label)
        if parallel > 1:
            g.add_node(name, cost=0)
            for label in labels:
                g.add_edge(label, name)
    return g


def depth(g: nx.DiGraph) -> float:
    h = nx.DiGraph()
    for v, data in g.nodes(data=True):
        h.add_edge(("in", v), ("out", v), weight=data["cost"])
    for a, b in g.edges:
        h.add_edge(("out", a), ("in", b), weight=0)
    return nx.dag_longest_path_length(h)


@FAST
@given(pipelines())
def test_random_pipelines_follow_stages_and_needs(tmp_path: Path, case) -> None:
    from serialscale import analyze_workload

    text, jobs = case
    path = tmp_path / ".gitlab-ci.yml"
    plan, _ = read_pipeline(path, text.encode())
    w = plan.workload("p", str(path), "gitlab-ci", "jobs")
    g = expected(jobs)
    got = {(w.graph.ids[j], w.graph.ids[i]) for i in range(w.graph.n) for j in w.graph.preds(i)}
    assert got == set(g.edges)
    assert dict(zip(w.graph.ids, w.graph.costs, strict=True)) == dict(g.nodes(data="cost"))
    assert analyze_workload(w).depth == depth(g)


PIECES = ["extends: .t0", "extends: {a: 1}", "!reference [.t0, stage]", "needs: [j0]",
          "needs: ['j0: [a]']", "parallel: 201", "parallel: {matrix: [{A: [a, b]}]}",
          "include: 5", "include: 'x/*.yml'", "&a [1, 2]", "*a", "<<: *a", "stage: .pre",
          "- ", ": ", "\n  ", "[", "{", "}", "]", "\t", "!reference", "'", '"']  # fmt: skip


@FAST
@given(pipelines(), st.lists(st.tuples(st.integers(0, 10_000), st.booleans(),
                                       st.sampled_from(PIECES)), max_size=5))  # fmt: skip
def test_mutated_pipelines_end_in_a_workload_or_a_located_error(tmp_path: Path, case,
                                                                edits) -> None:  # fmt: skip
    text = case[0]
    for position, insert, piece in edits:
        k = position % (len(text) + 1)
        text = text[:k] + piece + text[k:] if insert else text[:k] + text[k + len(piece) :]
    path = tmp_path / ".gitlab-ci.yml"
    (tmp_path / ".git").mkdir(exist_ok=True)
    try:
        plan, _ = read_pipeline(path, text.encode(), LOW)
        plan.workload("p", str(path), "gitlab-ci", "jobs")
    except WorkloadError as exc:
        assert str(exc).startswith(str(tmp_path))
