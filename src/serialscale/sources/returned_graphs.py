"""Step graphs that a traced function returns instead of computing with traced values.

- A **dask** collection (anything with ``__dask_graph__``): each task is one step of cost 1,
  each key that only holds data (a literal, an alias of another key) costs 0; a task needs
  the keys it reads. The unit is ``tasks``.
- An **Airflow**-style DAG (``.tasks`` whose items have ``task_id`` and
  ``upstream_task_ids``): each task one step of cost 1, needing its upstream tasks; no
  Airflow import is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base.errors import Location, WorkloadError
from .step_plan import StepPlan


def _key_name(key: Any) -> str:
    if isinstance(key, tuple):
        return f"{key[0]}[{', '.join(str(k) for k in key[1:])}]"
    return str(key)


def _is_task(value: Any) -> bool:
    """A computation (a dask Task, or a tuple led by a callable), not plain data."""
    cls = type(value).__name__
    if cls in ("Task", "Alias", "DataNode", "List", "Dict", "Tuple", "Set"):
        return cls == "Task"
    return isinstance(value, tuple) and bool(value) and callable(value[0])


def plan_from_dask(collection: Any, label: str) -> StepPlan:
    """The steps of a dask collection's task graph."""
    try:
        graph = collection.__dask_graph__()
        dsk: Mapping[Any, Any] = dict(graph)
        from dask.core import get_dependencies
    except Exception as exc:  # dask is there (the collection came from it), but guard anyway
        raise WorkloadError(f"cannot read the dask graph the function returned: {exc}",
                            Location(label)) from None  # fmt: skip
    plan = StepPlan()
    names = {key: _key_name(key) for key in dsk}
    if len(set(names.values())) != len(names):
        names = {key: repr(key) for key in dsk}
    for key in _order(dsk, get_dependencies):
        deps = [names[d] for d in sorted(get_dependencies(dsk, key), key=repr) if d in names]
        plan.add(names[key], 1 if _is_task(dsk[key]) else 0, deps)
    return plan


def _order(dsk: Mapping[Any, Any], get_dependencies: Any) -> list[Any]:
    """Keys in a deterministic order (sorted by name), each after the keys it reads."""
    order: list[Any] = []
    state: dict[Any, int] = {}
    for root in sorted(dsk, key=repr):
        stack = [(root, False)]
        while stack:
            key, done = stack.pop()
            if done:
                state[key] = 2
                order.append(key)
                continue
            if state.get(key):
                continue
            state[key] = 1
            stack.append((key, True))
            for dep in sorted(get_dependencies(dsk, key), key=repr, reverse=True):
                if dep in dsk and not state.get(dep):
                    stack.append((dep, False))
    return order


def plan_from_airflow(dag: Any, label: str) -> StepPlan:
    """The steps of an Airflow-style DAG, in the order of its tasks."""
    plan = StepPlan()
    ids = [str(t.task_id) for t in dag.tasks]
    known = set(ids)
    for task, task_id in zip(dag.tasks, ids, strict=True):
        upstream = sorted(str(u) for u in task.upstream_task_ids)
        missing = [u for u in upstream if u not in known]
        if missing:
            raise WorkloadError(f"task '{task_id}' has the upstream task '{missing[0]}', which is "
                                "not in the DAG", Location(label, step_id=task_id))  # fmt: skip
        plan.add(task_id, 1, upstream)
    return plan
