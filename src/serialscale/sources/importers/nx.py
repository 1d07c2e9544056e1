"""Nx graphs: ``nx graph --file=graph.json`` (the project graph) and the task graph that
``nx graph --targets=build --file=graph.json`` or ``nx run-many -t build --graph=graph.json``
add.

The specification is Nx's ``GraphJson`` type (https://nx.dev/docs/reference/devkit/GraphJson,
with ``ProjectGraph`` and ``TaskGraph`` on the same site): ``graph`` holds ``nodes`` (projects
by name) and ``dependencies`` (per project, a list of ``{source, target, type}``); the
optional ``tasks`` holds ``tasks`` (by id, ``project:target``), ``dependencies`` (per task,
the ids it waits for) and ``continuousDependencies`` (tasks that start with it and never
finish, such as a server a test needs).

- With a task graph: one step per task, cost 1, needing its ``dependencies`` (unit
  ``tasks``). Continuous dependencies are not waited for: they are left out (noted).
- Without one: one step per project, cost 1, needing the projects it depends on, whatever the
  kind of dependency (``static``, ``dynamic``, ``implicit``) (unit ``projects``; noted, since
  the task graph is what runs).
- Dependencies on nodes that are not projects (``npm:react``, external packages) are left out
  (noted, with how many); a dependency naming nothing else is an error located at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ..parsing import Locator, decode, parse_document
from ..step_plan import StepPlan
from .ci_yaml import listed, short


def read_nx(path: Path, data: bytes,
            limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str], str]:  # fmt: skip
    """The steps of the Nx graph in ``path``, the notes, and the unit."""
    source = str(path)
    text = decode(data, source)
    doc = parse_document(text, source, True)
    locator = Locator(text, source)
    graph = doc.get("graph") if isinstance(doc, dict) else None
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), dict):
        raise WorkloadError("not an Nx graph: expected 'graph' with 'nodes' (nx graph "
                            "--file=graph.json)", Location(source, 1))  # fmt: skip
    tasks = doc.get("tasks")
    if tasks is not None:
        if not isinstance(tasks, dict) or not isinstance(tasks.get("tasks"), dict):
            raise WorkloadError("'tasks' must be Nx's task graph, with 'tasks' by id",
                                locator.at(("tasks",)))  # fmt: skip
        if tasks["tasks"]:
            return _tasks(tasks, source, locator, limits)
    return _projects(graph, source, locator, limits)


def _edges(table: Any, where: tuple[str, ...], locator: Locator) -> dict[str, Any]:
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise WorkloadError("dependencies must be a mapping from names to lists",
                            locator.at(where))  # fmt: skip
    return table


def _tasks(tasks: dict[str, Any], source: str, locator: Locator,
           limits: Limits) -> tuple[StepPlan, list[str], str]:  # fmt: skip
    table = tasks["tasks"]
    plan = StepPlan(limits=limits, source=source)
    plan.check(len(table))
    deps = _edges(tasks.get("dependencies"), ("tasks", "dependencies"), locator)
    continuous = _edges(tasks.get("continuousDependencies"),
                        ("tasks", "continuousDependencies"), locator)  # fmt: skip
    for name in deps:
        if name not in table:
            raise WorkloadError(
                f"dependencies are given for '{short(name)}', which is not a task",
                locator.at(("tasks", "dependencies", name), key=True),
            )
    for task_id in table:
        needs = deps.get(task_id, [])
        where = ("tasks", "dependencies", task_id)
        if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
            raise WorkloadError(f"task '{short(task_id)}': its dependencies must be a list of "
                                "task ids", locator.at(where))  # fmt: skip
        for j, need in enumerate(needs):
            if need not in table:
                raise WorkloadError(f"task '{short(task_id)}' depends on '{short(need)}', "
                                    "which is not a task", locator.at((*where, j)))  # fmt: skip
        plan.add(task_id, 1, needs)
    notes = []
    started = sorted({str(n) for v in continuous.values() if isinstance(v, list) for n in v})
    if started:
        notes.append("continuous tasks start alongside the tasks that need them and never "
                     f"finish, so they are not waited for: {listed(started)}")  # fmt: skip
    return plan, notes, "tasks"


def _projects(graph: dict[str, Any], source: str, locator: Locator,
              limits: Limits) -> tuple[StepPlan, list[str], str]:  # fmt: skip
    nodes = graph["nodes"]
    plan = StepPlan(limits=limits, source=source)
    plan.check(len(nodes))
    deps = _edges(graph.get("dependencies"), ("graph", "dependencies"), locator)
    for name in deps:
        if name not in nodes:
            raise WorkloadError(
                f"dependencies are given for '{short(name)}', which is not a project",
                locator.at(("graph", "dependencies", name), key=True),
            )
    external: set[str] = set()
    for name in nodes:
        rows = deps.get(name, [])
        where = ("graph", "dependencies", name)
        if not isinstance(rows, list):
            raise WorkloadError(f"project '{short(name)}': its dependencies must be a list",
                                locator.at(where))  # fmt: skip
        needs = []
        for j, row in enumerate(rows):
            target = row.get("target") if isinstance(row, dict) else None
            if not isinstance(target, str):
                raise WorkloadError(
                    f"project '{short(name)}': each dependency needs a 'target' (a project name)",
                    locator.at((*where, j)),
                )
            if target in nodes:
                needs.append(target)
            elif ":" in target:  # npm:react, an external node
                external.add(target)
            else:
                raise WorkloadError(
                    f"project '{short(name)}' depends on '{short(target)}', which is not a project",
                    locator.at((*where, j, "target")),
                )
        plan.add(name, 1, needs)
    notes = [
        "the project graph: one step per project, needing the projects it depends on "
        "(nx graph --targets=TARGET --file=graph.json gives the task graph that runs)"
    ]
    if external:
        notes.append(f"dependencies on external nodes are left out: {listed(sorted(external))}")
    return plan, notes, "projects"
