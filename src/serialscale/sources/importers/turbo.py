"""Turborepo task graphs: ``turbo run TASK --dry=json`` and the run summary of ``--summarize``.

The specification is Turborepo's documentation of ``turbo run`` (https://turbo.build/repo/docs/
reference/run, options ``--dry`` / ``--dry-run`` and ``--summarize``): both print the same
JSON document, a top-level ``tasks`` list whose entries carry ``taskId`` (``package#task``,
or ``task`` in a single-package repository), ``command`` and ``dependencies`` (the ids of the
tasks it waits for; ``dependents`` is the same graph the other way round, not read). The run
summary (``.turbo/runs/<id>.json``) adds ``execution`` to the run and to each task, with
``startTime`` and ``endTime`` in milliseconds since the epoch.

- One step per task. A dry run costs 1 per task (unit ``tasks``); a run summary costs the
  seconds each task ran, its start and end kept as the observed run (unit ``seconds``).
- A task whose package has no such script (``command`` ``<NONEXISTENT>``) runs nothing: it
  costs 0 and is a connector, as Turborepo still orders tasks through it (noted).
- In a summary, a task without ``execution`` (not started: an earlier task failed, or it runs
  nothing) costs 0; tasks restored from the cache cost the time the restore took (both
  noted).
- A dependency on a task the document does not list is an error located at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ..parsing import Locator, decode, parse_document
from ..step_plan import StepPlan
from .ci_yaml import listed, short

#: What ``turbo`` writes as the command of a task whose package has no such script.
NO_SCRIPT = "<NONEXISTENT>"


def read_turbo(path: Path, data: bytes,
               limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str], str]:  # fmt: skip
    """The steps of the dry run or run summary in ``path``, the notes, and the unit."""
    source = str(path)
    text = decode(data, source)
    doc = parse_document(text, source, True)
    locator = Locator(text, source)
    tasks = doc.get("tasks") if isinstance(doc, dict) else None
    if not isinstance(tasks, list):
        raise WorkloadError("not a Turborepo dry run or run summary: expected a top-level "
                            "'tasks' list (turbo run TASK --dry=json, or .turbo/runs/*.json "
                            "from --summarize)", Location(source, 1))  # fmt: skip
    summary = isinstance(doc.get("execution"), dict)
    plan = StepPlan(limits=limits, source=source)
    plan.check(len(tasks))
    ids: list[str] = []
    for k, task in enumerate(tasks):
        task_id = task.get("taskId") if isinstance(task, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise WorkloadError("each task needs a 'taskId' (a name)", locator.at(("tasks", k)))
        ids.append(task_id)
    known: dict[str, int] = {}
    for k, task_id in enumerate(ids):
        if task_id in known:
            raise WorkloadError(
                f"task '{short(task_id)}' is listed twice (first as task {known[task_id] + 1})",
                locator.at(("tasks", k, "taskId")),
            )
        known[task_id] = k
    no_script: list[str] = []
    not_run: list[str] = []
    cached: list[str] = []
    for k, task in enumerate(tasks):
        task_id = ids[k]
        deps = task.get("dependencies")
        deps = [] if deps is None else deps
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise WorkloadError(f"task '{short(task_id)}': 'dependencies' must be a list of "
                                "task ids", locator.at(("tasks", k, "dependencies")))  # fmt: skip
        for j, dep in enumerate(deps):
            if dep not in known:
                raise WorkloadError(f"task '{short(task_id)}' depends on '{short(dep)}', which "
                                    "is not a task of this run",
                                    locator.at(("tasks", k, "dependencies", j)))  # fmt: skip
        idle = task.get("command") == NO_SCRIPT
        if idle:
            no_script.append(task_id)
        cost: float = 0 if idle else 1
        if summary and not idle:  # (a script-less task is a connector, whatever it took)
            cost = 0
            span = _span(task.get("execution"), task_id, locator, k)
            if span is None:
                not_run.append(task_id)
            else:
                cost = (span[1] - span[0]) / 1000
                plan.observed[task_id] = (span[0] / 1000, span[1] / 1000)
                cache = task.get("cache")
                if isinstance(cache, dict) and cache.get("status") == "HIT":
                    cached.append(task_id)
        plan.add(task_id, cost, deps, connector=idle)
    notes = []
    if no_script:
        notes.append(
            "tasks that run nothing (no such script in their package: command "
            f"<NONEXISTENT>) cost 0, kept for the order they impose: {listed(no_script)}"
        )
    if not_run:
        notes.append(f"tasks that did not run (no 'execution') cost 0: {listed(not_run)}")
    if cached:
        notes.append("tasks restored from the cache cost the seconds of the restore, not of a "
                     f"build: {listed(cached)}")  # fmt: skip
    return plan, notes, "seconds" if summary else "tasks"


def _span(execution: Any, task_id: str, locator: Locator, k: int) -> tuple[float, float] | None:
    """(start, end) in milliseconds of a task's ``execution``, or ``None`` without one."""
    if execution is None:
        return None
    start = execution.get("startTime") if isinstance(execution, dict) else None
    end = execution.get("endTime") if isinstance(execution, dict) else None
    numbers = all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in (start, end))
    if not numbers or not 0 <= start <= end < 1e15:  # type: ignore[operator]
        raise WorkloadError(f"task '{short(task_id)}': 'execution' needs 'startTime' and "
                            "'endTime' in milliseconds, the end not before the start",
                            locator.at(("tasks", k, "execution")))  # fmt: skip
    return float(start), float(end)  # type: ignore[arg-type]
