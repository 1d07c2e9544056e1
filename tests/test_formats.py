"""Reading the step graphs people already have: each format's fixture is checked against a
graph written out by hand and measured with networkx (work, depth, critical path length)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.sources import load_workload
from serialscale.sources.importers.github_actions import expand_matrix
from serialscale.sources.registry import READERS, ReadOptions, detect

DATA = Path(__file__).parent / "data" / "formats"
WORKFLOW = DATA / "repo" / ".github" / "workflows" / "ci.yml"


def expected(costs: dict[str, float], edges: list[tuple[str, str]]) -> tuple[float, float]:
    """Work and depth of a hand-written graph, by networkx (costs on nodes moved onto edges)."""
    g = nx.DiGraph()
    g.add_nodes_from(costs)
    g.add_edges_from(edges)
    assert nx.is_directed_acyclic_graph(g)
    h = nx.DiGraph()
    for v, c in costs.items():
        h.add_edge(("in", v), ("out", v), weight=c)
    for a, b in edges:
        h.add_edge(("out", a), ("in", b), weight=0)
    return sum(costs.values()), nx.dag_longest_path_length(h)


def edges_of(workload) -> set[tuple[str, str]]:
    g = workload.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


# --- GitHub Actions ------------------------------------------------------------------------

GH_JOBS = {
    "lint": 1,
    "test (ubuntu-latest, 3.11)": 1,
    "test (ubuntu-latest, 3.12)": 1,
    "test (macos-latest, 3.12)": 1,
    "test (windows-latest, 3.12)": 1,
    "test": 0,  # the join of the matrix
    "docs": 1,
    "release:start": 0,
    "release/build": 1,
    "release/publish": 1,
    "release": 0,
    "dyn": 1,
}
GH_EDGES = [
    *[("lint", t) for t in list(GH_JOBS)[1:5]],
    *[(t, "test") for t in list(GH_JOBS)[1:5]],
    ("lint", "docs"),
    ("test", "release:start"),
    ("docs", "release:start"),
    ("release:start", "release/build"),
    ("release/build", "release/publish"),
    ("release/publish", "release"),
    ("lint", "dyn"),
]


def test_a_github_workflow_is_read_job_by_job() -> None:
    w = load_workload(WORKFLOW)
    assert w.format == "github-actions" and w.unit == "jobs"
    assert dict(zip(w.graph.ids, w.graph.costs, strict=True)) == GH_JOBS
    assert edges_of(w) == set(GH_EDGES)
    report = analyze_workload(w)
    work, depth = expected(GH_JOBS, GH_EDGES)
    assert (report.work, report.depth) == (work, depth) == (9, 4)
    assert report.format == "github-actions"
    assert set(report.connectors) == {"test", "release:start", "release"}
    assert not {n.id for n in report.near_critical} & set(report.connectors)
    assert any("runs only if" in n for n in report.notes)
    assert any("matrix given by an expression" in n for n in report.notes)


def test_github_durations_come_from_a_run() -> None:
    w = load_workload(WORKFLOW, read=ReadOptions(durations=str(DATA / "run-jobs.json")))
    costs = dict(zip(w.graph.ids, w.graph.costs, strict=True))
    assert costs["lint"] == 60 and costs["test (macos-latest, 3.12)"] == 600
    assert costs["release/build"] == 120 and costs["dyn"] == 0
    report = analyze_workload(w)
    assert report.unit == "seconds"
    assert report.depth == expected(costs, GH_EDGES)[1] == 60 + 600 + 120 + 30


def test_matrix_expansion_follows_github() -> None:
    # the example of GitHub's documentation ("Expanding or adding matrix configurations")
    matrix = {"fruit": ["apple", "pear"], "animal": ["cat", "dog"],
              "include": [{"color": "green"}, {"color": "pink", "animal": "cat"},
                          {"fruit": "apple", "shape": "circle"}, {"fruit": "banana"},
                          {"fruit": "banana", "animal": "cat"}]}  # fmt: skip
    assert expand_matrix(matrix) == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]
    assert expand_matrix({"os": ["a", "b"], "v": [1, 2], "exclude": [{"os": "b"}]}) == [
        {"os": "a", "v": 1}, {"os": "a", "v": 2},
    ]  # fmt: skip


def test_an_unknown_need_names_both_jobs(tmp_path: Path) -> None:
    path = tmp_path / "wf.yml"
    path.write_text("on: push\njobs:\n  build:\n    runs-on: x\n  test:\n    needs: [biuld]\n")
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    message = str(info.value)
    assert "job 'test' needs 'biuld'" in message and "did you mean 'build'" in message
    assert message.startswith(f"{path}:6:")


def test_workflows_are_recognised_by_content_too(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("name: x\n'on': [push]\njobs:\n  a: {runs-on: x}\n  b: {needs: a}\n")
    assert detect(path, path.read_bytes()) == "github-actions"
    assert analyze_workload(load_workload(path)).depth == 2


# --- GitLab CI ----------------------------------------------------------------------------


def test_a_gitlab_pipeline_follows_stages_needs_and_matrices() -> None:
    w = load_workload(DATA / "gitlab" / ".gitlab-ci.yml")
    assert w.format == "gitlab-ci"
    costs = dict(zip(w.graph.ids, w.graph.costs, strict=True))
    assert costs == {"build": 1, "test: [3.11, linux]": 1, "test: [3.12, linux]": 1, "test": 0,
                     "lint": 1, "docs": 1, "deploy": 1}  # fmt: skip
    edges = [("build", "test: [3.11, linux]"), ("build", "test: [3.12, linux]"),
             ("test: [3.11, linux]", "test"), ("test: [3.12, linux]", "test"),
             ("lint", "docs"), ("test: [3.12, linux]", "deploy"), ("build", "deploy")]  # fmt: skip
    assert edges_of(w) == set(edges)
    assert analyze_workload(w).depth == expected(costs, edges)[1] == 3
    assert any("cannot be fetched" in n for n in w.extra["notes"])


def test_gitlab_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text("build:\n  script: [x]\ntest:\n  script: [y]\n  needs: [biuld]\n")
    with pytest.raises(WorkloadError, match=r"needs 'biuld'.*did you mean 'build'"):
        load_workload(path)


# --- ninja --------------------------------------------------------------------------------

NINJA_EDGES = [("include/config.h", "obj/main.o"), ("include/config.h", "obj/extra.o"),
               ("obj/main.o", "app"), ("obj/util lib.o", "app"), ("obj/extra.o", "app"),
               ("app", "all")]  # fmt: skip


def test_a_ninja_build_with_its_log() -> None:
    for target in (DATA / "ninja", DATA / "ninja" / "build.ninja", DATA / "ninja" / ".ninja_log"):
        w = load_workload(target)
        assert w.format == "ninja" and w.unit == "seconds"
        costs = dict(zip(w.graph.ids, w.graph.costs, strict=True))
        # the last build of the log (end times restart at 40): ms to seconds
        assert costs == {
            "obj/main.o": 1.0,
            "obj/util lib.o": 0.5,
            "include/config.h": 0.04,
            "obj/extra.o": 0.2,
            "app": 0.5,
            "all": 0,
        }
        assert edges_of(w) == set(NINJA_EDGES)
        report = analyze_workload(w)
        assert report.depth == pytest.approx(expected(costs, NINJA_EDGES)[1]) == 1.54
        assert report.connectors == ["all"]
        assert any("missing.ninja is missing" in n for n in report.notes)


def test_a_ninja_build_without_a_log_costs_one_per_edge(tmp_path: Path) -> None:
    (tmp_path / "build.ninja").write_bytes((DATA / "ninja" / "build.ninja").read_bytes())
    w = load_workload(tmp_path)
    assert w.unit == "edges" and sorted(w.graph.costs) == [0, 1, 1, 1, 1, 1]


def test_ninja_errors_are_located(tmp_path: Path) -> None:
    (tmp_path / "build.ninja").write_text("rule cc\n  command = x\nbuild a b c\n")
    with pytest.raises(WorkloadError) as info:
        load_workload(tmp_path / "build.ninja")
    assert str(info.value).startswith(f"{tmp_path / 'build.ninja'}:3:")


# --- DOT ----------------------------------------------------------------------------------


def test_a_dot_graph_with_attributes_and_quoted_ids() -> None:
    w = load_workload(DATA / "pipeline.dot")
    assert w.format == "dot" and w.name == "my pipeline"
    costs = dict(zip(w.graph.ids, w.graph.costs, strict=True))
    assert costs == {"fetch data": 5, "clean": 2.5, "train": 10, "eval": 3, "report": 1}
    edges = [("fetch data", "clean"), ("clean", "train"), ("train", "eval"), ("clean", "report")]
    assert edges_of(w) == set(edges)
    assert analyze_workload(w).depth == expected(costs, edges)[1] == 20.5
    reversed_ = load_workload(DATA / "pipeline.dot", read=ReadOptions(reverse_edges=True))
    assert edges_of(reversed_) == {(b, a) for a, b in edges}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("graph g { a -- b }", "undirected"), ("digraph g { a -> }", "not a DOT graph"),
     ('digraph g { a [cost="x"] }', "cost 'x' is not a number"),
     ("digraph g { a -> b; b -> a }", "cycle")],
)  # fmt: skip
def test_dot_errors_are_located(text: str, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "g.dot"
    path.write_text(text)
    with pytest.raises(WorkloadError, match=fragment):
        load_workload(path)


# --- traced functions that return graphs ---------------------------------------------------


def test_dask_collections_and_airflow_dags(tmp_path: Path, run_cli) -> None:
    pytest.importorskip("dask")
    module = tmp_path / "graphs.py"
    module.write_text("""
import dask
from types import SimpleNamespace as NS

def tree(n: int = 8):
    load = dask.delayed(lambda i: i, name="load")
    add = dask.delayed(lambda a, b: a + b)
    xs = [load(i, dask_key_name=f"load-{i}") for i in range(n)]
    level = 0
    while len(xs) > 1:
        level += 1
        xs = [add(xs[i], xs[i + 1], dask_key_name=f"add-{level}-{i}") for i in range(0, len(xs), 2)]
    return xs[0]

def dag():
    t = lambda name, *up: NS(task_id=name, upstream_task_ids=set(up))
    return NS(tasks=[t("extract"), t("transform", "extract"), t("load", "transform"),
                     t("notify", "extract")])
""")
    tree = json.loads(run_cli("analyze", f"{module}:tree", "--param", "n=16", "-f", "json").stdout)
    assert (tree["format"], tree["unit"], tree["work"], tree["depth"]) == ("python", "tasks", 31, 5)
    dag = json.loads(run_cli("analyze", f"{module}:dag", "-f", "json").stdout)
    assert dag["critical_path"] == ["extract", "transform", "load"] and dag["work"] == 4


# --- the command line ------------------------------------------------------------------------


def test_formats_lists_every_reader(run_cli) -> None:
    out = run_cli("formats").stdout
    for name in READERS:
        assert name in out
    assert "recognised:" in out


def test_from_overrides_detection(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "graph.txt"
    path.write_text("digraph { a -> b -> c }")
    result = run_cli("analyze", str(path), "--from", "dot", "-f", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["depth"] == 3
    bad = run_cli("analyze", str(path), "--from", "dott")
    assert bad.exit_code == 2 and "did you mean 'dot'" in bad.stderr


def test_our_own_yaml_stays_strict(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("steps: [{id: a}]\njobs: {}\n")
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2 and "unknown key 'jobs'" in result.stderr


def test_scans_take_foreign_files_only_when_asked(tmp_path: Path, run_cli) -> None:
    (tmp_path / "w.yaml").write_text("steps: [{id: a}]\n")
    (tmp_path / "flow.yml").write_text("on: push\njobs:\n  a: {runs-on: x}\n")
    (tmp_path / "g.dot").write_text("digraph { a -> b }\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {a: {}}\n")
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "venv" / "data.json").write_text("[1, 2]")
    plain = run_cli("analyze", str(tmp_path), "-f", "json")
    assert plain.exit_code == 0, plain.stderr
    assert [Path(r["source"]).name for r in json.loads(plain.stdout)["results"]] == ["w.yaml"]
    assert "flow.yml: skipped: a github-actions file" in plain.stderr
    asked = run_cli("analyze", str(tmp_path), "--include", "*.yml", "--include", "*.dot",
                    "-f", "json")  # fmt: skip
    names = [Path(r["source"]).name for r in json.loads(asked.stdout)["results"]]
    assert names == ["flow.yml", "g.dot"]
