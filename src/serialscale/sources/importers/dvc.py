"""dvc pipelines (``dvc.yaml``): one step per stage (per ``foreach`` item or ``matrix``
combination); a stage needs the stages whose outputs it reads.

The specification is dvc's "dvc.yaml" reference (https://dvc.org/doc/user-guide/
project-structure/dvcyaml-files: stages, ``deps``, ``outs``, ``metrics``, ``plots``,
``wdir``, ``foreach``/``do``, ``matrix``, templating with ``${}``):

- ``stages`` maps names to stages. A stage's outputs are its ``outs``, ``metrics`` and
  ``plots`` (each a path or ``{path: options}``); its inputs are its ``deps``. Paths are
  relative to ``wdir`` (default: the folder of ``dvc.yaml``) and compared normalized.
- A stage needs every stage whose output it reads: the same path, a file inside an output
  folder, or a folder holding an output (what ``dvc dag`` draws). Two stages writing the same
  path is an error, as in dvc; a stage reading its own output is left out (noted).
- ``foreach`` over a list makes ``name@value`` per value (``name@0``, ``name@1``.. when the
  list holds mappings or lists), over a mapping ``name@key``; ``do`` is the stage, with
  ``${item}``, ``${item.field}`` and ``${key}`` filled in. ``matrix`` makes one stage per
  combination, ``name@v1-v2`` (a mapping or list value is named ``variable`` + its index),
  ``${item.variable}`` filled in. Values from ``vars`` mappings written in the file fill
  ``${name}``; others (``params.yaml``, files named by ``vars``) are not read: a ``foreach``
  over one counts once and other ``${}`` stay as written (noted).
- ``frozen: true`` stages are not run by ``dvc repro``: cost 0 (noted).
- Cost 1 per stage (unit ``stages``).
"""

from __future__ import annotations

import itertools
import posixpath
import re
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ..parsing import Locator, decode
from ..step_plan import StepPlan
from .ci_yaml import as_list, listed, load_yaml, read_guarded, scalar, short

_REF = re.compile(r"\$\{\s*([A-Za-z0-9_.@-]+)\s*\}")
_OUTPUTS = ("outs", "metrics", "plots")
Path_ = tuple[str | int, ...]


def read_dvc(path: Path, data: bytes,
             limits: Limits = DEFAULT_LIMITS) -> tuple[StepPlan, list[str]]:  # fmt: skip
    """The steps of the dvc pipeline in ``path``, and the notes."""
    return read_guarded(_read, path, data, limits)


class _Stage:
    def __init__(self, name: str, body: dict[str, Any], where: Path_,
                 context: dict[str, Any]) -> None:  # fmt: skip
        self.name = name
        self.body = body
        self.where = where
        self.context = context
        self.outs: list[str] = []
        self.deps: list[str] = []


def _read(path: Path, data: bytes, limits: Limits) -> tuple[StepPlan, list[str]]:
    source = str(path)
    text = decode(data, source)
    locator = Locator(text, source)
    doc = load_yaml(text, source, "a dvc.yaml")
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), dict):
        raise WorkloadError("a dvc.yaml needs 'stages', a mapping of stage names to stages",
                            Location(source, 1))  # fmt: skip
    plan = StepPlan(limits=limits, source=source)
    variables: dict[str, Any] = {}
    for entry in as_list(doc.get("vars")):
        if isinstance(entry, dict):
            variables.update({str(k): v for k, v in entry.items()})
    opaque: list[str] = []
    stages: list[_Stage] = []
    for raw_name, body in doc["stages"].items():
        name = str(raw_name)
        where: Path_ = ("stages", name)
        if not isinstance(body, dict):
            raise WorkloadError(f"stage '{short(name)}' must be a mapping", locator.at(where))
        for stage in _expand(name, body, where, variables, locator, opaque):
            stages.append(stage)
            plan.check(len(stages))
    producer: dict[str, _Stage] = {}
    under: dict[str, list[_Stage]] = {}
    for stage in stages:
        wdir = _fill(stage.body.get("wdir", "."), stage, opaque, locator, ("wdir",))
        for key in (*_OUTPUTS, "deps"):
            entries = stage.body.get(key)
            if entries is None:
                continue
            if not isinstance(entries, list):
                raise WorkloadError(f"stage '{short(stage.name)}': '{key}' must be a list of "
                                    "paths", locator.at((*stage.where, key)))  # fmt: skip
            for k, entry in enumerate(entries):
                where = (*stage.where, key, k)
                raw = next(iter(entry)) if isinstance(entry, dict) and len(entry) == 1 else entry
                if not isinstance(raw, str) or not raw:
                    raise WorkloadError(
                        f"stage '{short(stage.name)}': each entry of '{key}' is "
                        "a path (or {path: options})",
                        locator.at(where),
                    )
                filled = _fill(raw, stage, opaque, locator, (key, k))
                normal = posixpath.normpath(posixpath.join(str(wdir), filled))
                if key == "deps":
                    stage.deps.append(normal)
                    continue
                other = producer.get(normal)
                if other is not None and other is not stage:
                    raise WorkloadError(f"stage '{short(stage.name)}' writes '{short(normal)}', "
                                        f"which stage '{short(other.name)}' writes too",
                                        locator.at(where))  # fmt: skip
                producer[normal] = stage
                stage.outs.append(normal)
                for folder in _parents(normal):
                    under.setdefault(folder, []).append(stage)
    own: list[str] = []
    frozen: list[str] = []
    for stage in stages:
        needs: list[str] = []
        for dep in stage.deps:
            found = [producer[p] for p in (dep, *_parents(dep)) if p in producer]
            found.extend(under.get(dep, []))
            for other in found:
                if other is stage:
                    own.append(repr(short(stage.name)))
                else:
                    needs.append(other.name)
        cost = 1
        if stage.body.get("frozen") is True:
            frozen.append(repr(short(stage.name)))
            cost = 0
        plan.add(stage.name, cost, needs)
    notes = []
    if frozen:
        notes.append(f"frozen stages, which dvc repro does not run, cost 0: {listed(frozen)}")
    if own:
        notes.append(f"stages reading their own output (not a need): {listed(own)}")
    if opaque:
        notes.append(
            "values from params.yaml or files named by 'vars' are not read: "
            f"{listed(opaque)} stay as written (a foreach over one counts once)"
        )
    return plan, notes


def _parents(path: str) -> list[str]:
    out: list[str] = []
    while True:
        parent = posixpath.dirname(path)
        if not parent or parent == path:
            return out
        out.append(parent)
        path = parent


def _expand(name: str, body: dict[str, Any], where: Path_, variables: dict[str, Any],
            locator: Locator, opaque: list[str]) -> list[_Stage]:  # fmt: skip
    """The stages ``body`` makes: itself, or one per ``foreach`` item or ``matrix``
    combination."""
    if "foreach" in body:
        items = body["foreach"]
        do = body.get("do")
        if not isinstance(do, dict):
            raise WorkloadError(f"stage '{short(name)}': 'foreach' needs 'do', a stage",
                                locator.at((*where, "foreach")))  # fmt: skip
        if isinstance(items, str):
            found = _REF.fullmatch(items.strip())
            items = variables.get(found[1]) if found else None
            if items is None:
                opaque.append(repr(short(body["foreach"], 60)))
                return [_Stage(name, do, (*where, "do"), dict(variables))]
        if isinstance(items, dict):
            pairs = [(str(k), v) for k, v in items.items()]
        elif isinstance(items, list):
            composite = any(isinstance(v, (dict, list)) for v in items)
            pairs = [(str(k) if composite else (scalar(v) or str(v)), v)
                     for k, v in enumerate(items)]  # fmt: skip
        else:
            raise WorkloadError(f"stage '{short(name)}': 'foreach' must be a list or a mapping",
                                locator.at((*where, "foreach")))  # fmt: skip
        return [
            _Stage(f"{name}@{key}", do, (*where, "do"), {**variables, "item": value, "key": key})
            for key, value in pairs
        ]
    if "matrix" in body:
        matrix = body["matrix"]
        if not isinstance(matrix, dict) or not matrix:
            raise WorkloadError(f"stage '{short(name)}': 'matrix' must map variables to lists",
                                locator.at((*where, "matrix")))  # fmt: skip
        axes: list[list[tuple[str, Any]]] = []
        for variable, values in matrix.items():
            if isinstance(values, str) and _REF.fullmatch(values.strip()):
                values = variables.get(_REF.fullmatch(values.strip())[1])  # type: ignore[index]
            if not isinstance(values, list) or not values:
                raise WorkloadError(f"stage '{short(name)}': matrix variable "
                                    f"'{short(variable)}' must be a list of values",
                                    locator.at((*where, "matrix", str(variable))))  # fmt: skip
            axes.append([(scalar(v) or f"{variable}{k}", v) for k, v in enumerate(values)])
        body = {k: v for k, v in body.items() if k != "matrix"}
        keys = [str(k) for k in matrix]
        out = []
        for combo in itertools.product(*axes):
            label = "-".join(str(part) for part, _ in combo)
            item = {k: value for k, (_, value) in zip(keys, combo, strict=True)}
            out.append(_Stage(f"{name}@{label}", body, where, {**variables, "item": item}))
        return out
    return [_Stage(name, body, where, dict(variables))]


def _fill(text: Any, stage: _Stage, opaque: list[str], locator: Locator, part: Path_) -> str:
    """``text`` with ``${name}`` / ``${item.field}`` filled from the stage's context."""
    if not isinstance(text, str):
        raise WorkloadError(f"stage '{short(stage.name)}': expected a path",
                            locator.at((*stage.where, *part)))  # fmt: skip
    if "${" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        found: Any = stage.context
        for piece in match[1].split("."):
            if isinstance(found, dict) and piece in found:
                found = found[piece]
            elif isinstance(found, list) and piece.isdigit() and int(piece) < len(found):
                found = found[int(piece)]
            else:
                opaque.append(repr(match[0]))
                return match[0]
        text = scalar(found)
        if text is None:
            opaque.append(repr(match[0]))
            return match[0]
        return text

    return _REF.sub(value, text)
