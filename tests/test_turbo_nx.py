"""The Turborepo and Nx readers, from their documented JSON (turbo.build/repo/docs/reference/run
--dry=json and --summarize; nx.dev/docs/reference/devkit/GraphJson): fixtures written here,
graphs written out by hand, work and depth computed by networkx; random task graphs written in
each form read back as themselves; errors located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from serialscale.base.errors import WorkloadError
from serialscale.sources.registry import detect

from .conftest import dags
from .more_readers import assert_graph, expected, read

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def _task(task_id: str, deps: list[str], command: str = "tsc", **more: object) -> dict:
    package, _, task = task_id.partition("#")
    return {"taskId": task_id, "task": task, "package": package, "hash": "0" * 16,
            "command": command, "dependencies": deps, "dependents": [], **more}  # fmt: skip


def dry_run(tasks: list[dict], **more: object) -> str:
    return json.dumps({"id": "2x", "version": "1", "turboVersion": "2.0.6", "monorepo": True,
                       "packages": [], "tasks": tasks, **more}, indent=2)  # fmt: skip


def test_a_dry_run_is_its_task_graph_and_a_script_less_task_costs_nothing(tmp_path: Path) -> None:
    text = dry_run([
        _task("ui#build", []),
        _task("config#build", [], "<NONEXISTENT>"),
        _task("web#build", ["ui#build", "config#build"], "next build"),
        _task("web#test", ["web#build"], "vitest"),
        _task("docs#build", ["ui#build"], "astro build"),
    ])  # fmt: skip
    workload = read(tmp_path / "dry.json", text)
    assert workload.format == "turbo" and workload.unit == "tasks"
    assert_graph(workload, expected({
        "ui#build": (1, []), "config#build": (0, []),
        "web#build": (1, ["ui#build", "config#build"]), "web#test": (1, ["web#build"]),
        "docs#build": (1, ["ui#build"]),
    }))  # fmt: skip
    assert "connectors" in workload.extra and workload.extra["connectors"] == ["config#build"]
    assert any("config#build" in n and "NONEXISTENT" in n for n in workload.extra["notes"])


def test_a_run_summary_costs_the_seconds_each_task_ran(tmp_path: Path) -> None:
    t0 = 1_700_000_000_000
    text = dry_run([
        _task("a#build", [], execution={"startTime": t0, "endTime": t0 + 2500, "exitCode": 0}),
        _task("b#build", ["a#build"], execution={"startTime": t0 + 2600, "endTime": t0 + 4600,
                                                 "exitCode": 0},
              cache={"status": "HIT", "local": True}),
        _task("c#build", ["a#build"]),  # not run: an earlier failure stopped the run
    ], execution={"command": "turbo run build", "startTime": t0, "endTime": t0 + 5000,
                  "exitCode": 1})  # fmt: skip
    workload = read(tmp_path / ".turbo" / "runs" / "2x.json", text)
    assert workload.unit == "seconds"
    assert_graph(workload, expected({"a#build": (2.5, []), "b#build": (2.0, ["a#build"]),
                                     "c#build": (0, ["a#build"])}))  # fmt: skip
    assert workload.observed == {"a#build": (t0 / 1000, t0 / 1000 + 2.5),
                                 "b#build": (t0 / 1000 + 2.6, t0 / 1000 + 4.6)}  # fmt: skip
    notes = " ".join(workload.extra["notes"])
    assert "c#build" in notes and "b#build" in notes and "cache" in notes


@pytest.mark.parametrize(("text", "where", "message"), [
    ('{"turboVersion": "2", "tasks": [\n  {"taskId": "a", "dependencies": ["b"]}\n]}', ":2:",
     "depends on 'b', which is not a task"),
    ('{"turboVersion": "2", "tasks": [\n  {"taskId": "a"},\n  {"taskId": "a"}\n]}', ":3:",
     "listed twice"),
    ('{"turboVersion": "2", "tasks": {}}', ":1", "expected a top-level 'tasks' list"),
    ('{"turboVersion": "2", "tasks": [{"taskId": "a", "dependencies": []}, '
     '{"taskId": "b", "dependencies": ["a"]}], "execution": {},\n "x": 1}', "", ""),
])  # fmt: skip
def test_turbo_errors_are_located(tmp_path: Path, text: str, where: str, message: str) -> None:
    if not message:  # a summary whose tasks lack 'execution' reads, every task at 0
        assert read(tmp_path / "s.json", text, "turbo").graph.n == 2
        return
    with pytest.raises(WorkloadError) as info:
        read(tmp_path / "t.json", text, "turbo")
    assert where in str(info.value) and message in str(info.value)


def test_a_turbo_dependency_cycle_is_an_error(tmp_path: Path) -> None:
    text = dry_run([_task("a#x", ["b#x"]), _task("b#x", ["a#x"])])
    with pytest.raises(WorkloadError, match="dependency cycle"):
        read(tmp_path / "dry.json", text)


@FAST
@given(dag=dags(max_steps=12))
def test_random_task_graphs_read_back_from_a_dry_run_and_from_nx(dag, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("g")
    names = [f"p{i}#build" for i in range(len(dag.costs))]
    want = expected({names[i]: (1, [names[j] for j in dag.needs[i]])
                     for i in range(len(dag.costs))})  # fmt: skip
    tasks = [_task(names[i], [names[j] for j in dag.needs[i]]) for i in range(len(dag.costs))]
    assert_graph(read(folder / "dry.json", dry_run(tasks)), want)
    graph = {"graph": {"nodes": {f"p{i}": {"name": f"p{i}", "type": "lib", "data": {}}
                                 for i in range(len(dag.costs))}, "dependencies": {}},
             "tasks": {"roots": [], "tasks": {n: {"id": n} for n in names},
                       "dependencies": {names[i]: [names[j] for j in dag.needs[i]]
                                        for i in range(len(dag.costs))}}}  # fmt: skip
    assert_graph(read(folder / "graph.json", json.dumps(graph, indent=2)), want)


NX_PROJECTS = {
    "graph": {
        "nodes": {name: {"name": name, "type": kind, "data": {"root": f"libs/{name}"}}
                  for name, kind in [("app", "app"), ("ui", "lib"), ("util", "lib"),
                                     ("app-e2e", "e2e")]},
        "dependencies": {
            "app": [{"source": "app", "target": "ui", "type": "static"},
                    {"source": "app", "target": "npm:react", "type": "static"}],
            "ui": [{"source": "ui", "target": "util", "type": "dynamic"}],
            "util": [],
            "app-e2e": [{"source": "app-e2e", "target": "app", "type": "implicit"}],
        },
    }
}  # fmt: skip


def test_an_nx_project_graph_is_one_step_per_project(tmp_path: Path) -> None:
    workload = read(tmp_path / "graph.json", json.dumps(NX_PROJECTS, indent=2))
    assert workload.format == "nx" and workload.unit == "projects"
    assert_graph(workload, expected({"util": (1, []), "ui": (1, ["util"]), "app": (1, ["ui"]),
                                     "app-e2e": (1, ["app"])}))  # fmt: skip
    notes = " ".join(workload.extra["notes"])
    assert "npm:react" in notes and "project graph" in notes


def test_an_nx_task_graph_wins_and_continuous_tasks_are_not_waited_for(tmp_path: Path) -> None:
    doc = {**NX_PROJECTS, "tasks": {
        "roots": ["util:build"],
        "tasks": {t: {"id": t, "target": {"project": t.split(":")[0], "target": t.split(":")[1]}}
                  for t in ["util:build", "ui:build", "app:build", "app:serve", "app-e2e:e2e"]},
        "dependencies": {"util:build": [], "ui:build": ["util:build"], "app:build": ["ui:build"],
                         "app:serve": ["app:build"], "app-e2e:e2e": []},
        "continuousDependencies": {"app-e2e:e2e": ["app:serve"]},
    }, "taskPlans": {}}  # fmt: skip
    workload = read(tmp_path / "graph.json", json.dumps(doc, indent=2))
    assert workload.unit == "tasks"
    assert_graph(
        workload,
        expected(
            {
                "util:build": (1, []),
                "ui:build": (1, ["util:build"]),
                "app:build": (1, ["ui:build"]),
                "app:serve": (1, ["app:build"]),
                "app-e2e:e2e": (1, []),
            }
        ),
    )
    assert any("app:serve" in n and "continuous" in n for n in workload.extra["notes"])


def test_nx_errors_are_located(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(NX_PROJECTS))
    doc["graph"]["dependencies"]["ui"] = [{"source": "ui", "target": "utill", "type": "static"}]
    with pytest.raises(WorkloadError) as info:
        read(tmp_path / "graph.json", json.dumps(doc, indent=2))
    text = str(info.value)
    assert "graph.json:" in text and "'utill', which is not a project" in text
    line = int(text.split(":")[1])
    assert '"target": "utill"' in json.dumps(doc, indent=2).splitlines()[line - 1]


def test_detection_by_content_and_name() -> None:
    assert detect(Path("dry.json"), b'{\n  "id": "x",\n  "turboVersion": "2.0.6",\n') == "turbo"
    assert detect(Path("x/.turbo/runs/abc.json"), b'{"id": "x"}') == "turbo"
    minified = b'{"id":"x","version":"1","turboVersion":"2.0.6","tasks":[]}'
    assert detect(Path("dry.json"), minified) == "turbo"  # `turbo ... --dry=json | jq -c`
    assert detect(Path("graph.json"), b'{\n  "graph": {\n    "nodes": {') == "nx"
    assert detect(Path("other.json"), b'{"steps": []}') == "serialscale"


def test_the_cli_reads_them_and_names_the_format(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "dry.json"
    path.write_text(dry_run([_task("a#b", [])]))
    result = run_cli("analyze", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["format"] == "turbo"
    result = run_cli("analyze", str(path), "--from", "nx")
    assert result.exit_code == 2 and "not an Nx graph" in result.stderr


def test_nx_dependencies_of_an_unknown_project_are_an_error(tmp_path: Path) -> None:
    """Before: the project graph read only the nodes' own entries, and dependencies listed
    under a name that is no project were dropped without a word."""
    doc = json.loads(json.dumps(NX_PROJECTS))
    doc["graph"]["dependencies"]["ghost"] = [{"source": "ghost", "target": "ui", "type": "static"}]
    text = json.dumps(doc, indent=2)
    with pytest.raises(WorkloadError) as info:
        read(tmp_path / "graph.json", text)
    message = str(info.value)
    assert "'ghost', which is not a project" in message
    line = int(message.split(":")[1])
    assert '"ghost":' in text.splitlines()[line - 1]
