"""Bazel action graphs: one step per action of ``bazel aquery --output=jsonproto``.

The form is Bazel's ``ActionGraphContainer`` (``analysis_v2.proto``; the "Action Graph Query
(aquery)" page, https://bazel.build/query/aquery) written as JSON:

- ``artifacts``: ``{id, pathFragmentId}`` (``execPath`` in Bazel before 5), a file's exec path
  being its path fragment's ``label`` under its parents' (``parentId``), joined with ``/``;
- ``actions``: ``{mnemonic, inputDepSetIds, outputIds, primaryOutputId, ...}``;
- ``depSetOfFiles``: ``{id, directArtifactIds, transitiveDepSetIds}``: nested sets of inputs.

An action needs the actions that make its inputs (an input no action makes is a source
file), as in ninja. The step is the action's primary output (its exec path, as Bazel's
profile names it; the first output without one; ``MNEMONIC #k`` for an action without
outputs). Dep sets are read as Bazel builds them, without flattening (a flattened set can
be quadratic in the file's size): a dep set holding two or more items that actions make is
a zero-cost connector step ``depset N`` needing them; one holding one such item is that item.

Cost 1 per action (unit ``actions``). ``--durations PROFILE`` (the JSON trace ``bazel build
--profile=PROFILE --experimental_profile_include_primary_output`` writes, gzipped or not)
gives each action the seconds of its profile event, matched by primary output
(``args.out``); see :mod:`.run_times`. ``bazel query --output=graph`` stays read as DOT.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import unit_for
from ..json_locate import EntryError, long_number_error
from ..parsing import decode
from ..step_plan import StepPlan

#: Longest exec path (Linux's PATH_MAX): a chain of path fragments builds no longer one.
_PATH_MAX = 4096


def looks_like_aquery(head: bytes) -> bool:
    """Whether ``head`` reads like the JSON of ``aquery --output=jsonproto``."""
    return b'"depSetOfFiles"' in head or (b'"actions"' in head and b'"actionKey"' in head)


def read_aquery(path: Path, data: bytes,
                limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The actions of the aquery JSON ``data`` (from ``path``) and the notes; an entry's
    error is located at its line."""
    text = decode(data, str(path))
    try:
        return _read(text, path, limits)
    except EntryError as exc:
        raise exc.located(text, 0, str(path)) from None


def _read(text: str, path: Path, limits: Limits) -> tuple[StepPlan, list[str]]:
    where = Location(str(path))
    try:
        doc = json.loads(text)
    except RecursionError:
        raise WorkloadError("bazel aquery: JSON nested too deeply", where) from None
    except json.JSONDecodeError as exc:
        raise WorkloadError(f"bazel aquery: not JSON: {exc.msg}",
                            Location(str(path), exc.lineno, exc.colno)) from None  # fmt: skip
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise long_number_error(exc, text, str(path), "bazel aquery: ") or exc from None
    if not isinstance(doc, dict) or not isinstance(doc.get("actions", []), list):
        raise WorkloadError("bazel aquery: expected the JSON of 'bazel aquery "
                            "--output=jsonproto' (an object with 'actions')", where)  # fmt: skip
    actions = doc.get("actions") or []
    paths = _paths(doc, path)
    sets = _depsets(doc, path)
    plan = StepPlan(limits=limits, source=str(path))
    plan.check(len(actions))
    made_by: dict[int, str] = {}
    steps: list[tuple[str, list[int]]] = []
    names: set[str] = set()
    primaries: set[int] = set()
    shared = 0
    for k, action in enumerate(actions):
        if not isinstance(action, dict):
            raise EntryError(f"bazel aquery: action {k + 1} is not an object", ["actions", k])
        at: list[str | int] = ["actions", k]
        outputs = _ids(action.get("outputIds"), f"action {k + 1}: 'outputIds'", at)
        primary = action.get("primaryOutputId", outputs[0] if outputs else None)
        if primary is not None and (isinstance(primary, bool) or not isinstance(primary, int)):
            raise EntryError(f"bazel aquery: action {k + 1}: 'primaryOutputId' must be an "
                             "artifact id", at)  # fmt: skip
        mnemonic = action.get("mnemonic") if isinstance(action.get("mnemonic"), str) else "Action"
        if primary is None:
            name = f"{mnemonic} #{k + 1}"
        else:
            if primary not in paths:
                raise EntryError(f"bazel aquery: action {k + 1} ({mnemonic}) names output "
                                 f"artifact {str(primary)[:20]}, which is not in 'artifacts'",
                                 at)  # fmt: skip
            name = paths[primary]
        if primary is not None:
            shared += primary in primaries
            primaries.add(primary)
        if name in names:
            name = f"{name} #{k + 1}"
            while name in names:  # an output path that already reads 'x #k'
                name += "'"
        names.add(name)
        for out in outputs:
            made_by.setdefault(out, name)
        inputs = _ids(action.get("inputDepSetIds"), f"action {k + 1}: 'inputDepSetIds'", at)
        for d in inputs:
            if d not in sets:
                raise EntryError(f"bazel aquery: action {k + 1} ({mnemonic}) names dep set {d}, "
                                 "which is not in 'depSetOfFiles'", at)  # fmt: skip
        steps.append((name, inputs))
    resolved = _resolve(sets, made_by, path, names)
    joins = 0
    for _, (kind, value) in sorted(resolved.items()):
        if kind == "join":
            plan.add(value[0], 0, value[1], connector=True)
            joins += 1
    for name, inputs in steps:
        needs = [resolved[d][1][0] if resolved[d][0] == "join" else resolved[d][1]
                 for d in inputs if resolved[d][0] != "none"]  # fmt: skip
        plan.add(name, 1, [n for n in needs if isinstance(n, str) and n != name])
    notes = []
    if joins:
        notes.append(f"{joins} {unit_for(joins, 'dep sets')} {'groups' if joins == 1 else 'group'} "
                     "inputs that several actions make: each is a zero-cost step 'depset N' "
                     "(as Bazel nests them)")  # fmt: skip
    if shared:
        verb = "makes" if shared == 1 else "make"
        notes.append(f"{shared} {unit_for(shared, 'actions')} {verb} an output another action "
                     "also makes (shared actions): each is a step of its own, named "
                     "'OUTPUT #k'")  # fmt: skip
    return plan, notes


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    """``doc[key]``, a list (absent: empty)."""
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise EntryError(f"bazel aquery: '{key}' must be a list", [key])
    return value


def _ids(value: Any, what: str, at: list[str | int]) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise EntryError(f"bazel aquery: {what} must be a list of ids", at)
    return value


def _paths(doc: dict[str, Any], path: Path) -> dict[int, str]:
    """Exec path of each artifact id, from ``execPath`` or the path fragments (built
    iteratively, each fragment once; a cycle of parents is an error)."""
    where = Location(str(path))
    fragments: dict[int, tuple[str, int]] = {}
    for k, fragment in enumerate(_list(doc, "pathFragments")):
        if not isinstance(fragment, dict) or not isinstance(fragment.get("id"), int) or \
                not isinstance(fragment.get("label", ""), str):  # fmt: skip
            raise EntryError(f"bazel aquery: path fragment {k + 1} needs an 'id' and a 'label'",
                             ["pathFragments", k])  # fmt: skip
        parent = fragment.get("parentId", 0)
        fragments[fragment["id"]] = (fragment.get("label", ""),
                                     parent if isinstance(parent, int) else 0)  # fmt: skip
    full: dict[int, str] = {}

    def fragment_path(start: int) -> str:
        chain: list[int] = []
        seen: set[int] = set()
        node = start
        while node and node not in full and node in fragments:
            if node in seen:
                raise WorkloadError(f"bazel aquery: path fragment {node} is its own parent "
                                    "(a cycle of 'parentId')", where)  # fmt: skip
            seen.add(node)
            chain.append(node)
            node = fragments[node][1]
        prefix = full.get(node, "")
        for n in reversed(chain):
            label = fragments[n][0]
            prefix = f"{prefix}/{label}" if prefix else label
            if len(prefix) > _PATH_MAX:  # each fragment keeps its path: bounded, not quadratic
                raise WorkloadError(f"bazel aquery: the path of path fragment {n} is longer "
                                    f"than {_PATH_MAX:,} characters (PATH_MAX); 'parentId' "
                                    "chains that deep are no exec path", where)  # fmt: skip
            full[n] = prefix
        return full.get(start, "")

    out: dict[int, str] = {}
    for k, artifact in enumerate(_list(doc, "artifacts")):
        if not isinstance(artifact, dict) or not isinstance(artifact.get("id"), int):
            raise EntryError(f"bazel aquery: artifact {k + 1} needs an 'id'", ["artifacts", k])
        if isinstance(artifact.get("execPath"), str):
            out[artifact["id"]] = artifact["execPath"]
        elif isinstance(artifact.get("pathFragmentId"), int):
            out[artifact["id"]] = fragment_path(artifact["pathFragmentId"]) or \
                f"artifact {artifact['id']}"  # fmt: skip
        else:
            out[artifact["id"]] = f"artifact {artifact['id']}"
    return out


def _depsets(doc: dict[str, Any], path: Path) -> dict[int, tuple[list[int], list[int]]]:
    sets: dict[int, tuple[list[int], list[int]]] = {}
    for k, d in enumerate(_list(doc, "depSetOfFiles")):
        if not isinstance(d, dict) or not isinstance(d.get("id"), int):
            raise EntryError(f"bazel aquery: dep set {k + 1} needs an 'id'",
                             ["depSetOfFiles", k])  # fmt: skip
        what = f"dep set {d['id']}"
        at: list[str | int] = ["depSetOfFiles", k]
        sets[d["id"]] = (_ids(d.get("directArtifactIds"), what, at),
                         _ids(d.get("transitiveDepSetIds"), what, at))  # fmt: skip
    return sets


def _resolve(sets: dict[int, tuple[list[int], list[int]]], made_by: dict[int, str],
             path: Path, taken: set[str]) -> dict[int, tuple[str, Any]]:  # fmt: skip
    """What each dep set stands for: ``("none", None)`` (only source files),
    ``("one", step)`` (one item an action makes), or ``("join", (name, needs))`` (a
    connector). Post-order without recursion; a dep set that contains itself is an error."""
    out: dict[int, tuple[str, Any]] = {}
    state: dict[int, int] = {}  # 1: on the stack, 2: done
    for root in sets:
        if root in out:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            d, child = stack[-1]
            nested = sets[d][1]
            if child < len(nested):
                stack[-1] = (d, child + 1)
                t = nested[child]
                if t not in sets:
                    raise WorkloadError(f"bazel aquery: dep set {d} includes dep set {t}, "
                                        "which is not in 'depSetOfFiles'",
                                        Location(str(path)))  # fmt: skip
                if state.get(t) == 1:
                    raise WorkloadError(f"bazel aquery: dep set {t} includes itself",
                                        Location(str(path)))  # fmt: skip
                if t not in out:
                    state[t] = 1
                    stack.append((t, 0))
                continue
            stack.pop()
            state[d] = 2
            items = list(dict.fromkeys(
                [made_by[a] for a in sets[d][0] if a in made_by]
                + [out[t][1] if out[t][0] == "one" else out[t][1][0]
                   for t in nested if out[t][0] != "none"]
            ))  # fmt: skip
            if not items:
                out[d] = ("none", None)
            elif len(items) == 1:
                out[d] = ("one", items[0])
            else:
                name = f"depset {d}"
                while name in taken:  # an output path that reads like a dep set
                    name += "'"
                out[d] = ("join", (name, items))
    return out
