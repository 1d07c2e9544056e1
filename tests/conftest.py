"""Shared helpers: random DAG strategies, graph builders and a CLI runner."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from serialscale.cli.app import app
from serialscale.core.graph import Graph


def _validate_every_json_document() -> None:
    """Every JSON document the suite renders in this process (analyze, batches, JSON lines,
    sweeps, diffs) is checked against its published JSON Schema as it is made, so the
    schemas cannot drift from the documents. The check wraps the renderers here, in the
    tests: serialscale itself carries no validation. (Subprocesses run the same renderers.)"""
    import functools
    import importlib
    import json

    import jsonschema

    from serialscale.documents.schemas import SCHEMAS

    validators: dict[str, jsonschema.Draft202012Validator] = {}
    # Texts already found valid, per schema: the same text is the same document, so its
    # check has the same outcome. Tests that compare two paths (compiled and pure, fast
    # reader and PyYAML) render the same text twice; it is checked once. (Bounded: texts
    # up to 1 MiB, each kept until the next few hundred.)
    passed: dict[tuple[str, str], None] = {}

    def wrap(module_name: str, name: str, schema: str) -> None:
        module = importlib.import_module(module_name)
        original = getattr(module, name)

        @functools.wraps(original)
        def validated(*args: object, **kwargs: object) -> str:
            text = original(*args, **kwargs)
            if (schema, text) in passed:
                return text
            if schema not in validators:
                published = _refs_inlined(_type_lists(SCHEMAS[schema]()))
                validators[schema] = jsonschema.Draft202012Validator(published)
            lines = text.splitlines() if schema == "jsonl" else [text]
            for line in lines:
                validators[schema].validate(json.loads(line))
            if len(text) <= 1 << 20:  # the large ones are few, and not kept alive here
                if len(passed) >= 512:
                    passed.clear()
                passed[schema, text] = None
            return text

        validated.__wrapped_by_the_tests__ = schema  # type: ignore[attr-defined]
        setattr(module, name, validated)

    wrap("serialscale.render.json_report", "render_json", "report")
    wrap("serialscale.render.batch", "render_batch_json", "batch")
    wrap("serialscale.render.batch", "render_batch_jsonl", "jsonl")
    wrap("serialscale.render.scale", "render_scale_json", "scale")
    wrap("serialscale.render.diff", "render_diff_json", "diff")


def _type_lists(node: object) -> object:
    """The schema ``node`` with each ``anyOf`` of bare types (``[{"type": "integer",
    "minimum": 0}, {"type": "number", "minimum": 0}, {"type": "null"}]``) written as one
    type list (``{"type": ["integer", "number", "null"], "minimum": 0}``), which accepts
    exactly the same documents: the bounds apply to numbers only, and are the same in every
    branch of a number type. jsonschema builds an error for every branch that fails, so the
    anyOf form made checking a report most of the time of the tests that render many."""
    if isinstance(node, list):
        return [_type_lists(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _type_lists(value) for key, value in node.items()}
    branches = out.get("anyOf")
    bare = isinstance(branches, list) and all(
        isinstance(b, dict) and isinstance(b.get("type"), str)
        and set(b) <= {"type", "minimum", "maximum"} for b in branches
    )  # fmt: skip
    if not bare or not set(out).isdisjoint({"type", "minimum", "maximum"}):
        return out
    numeric = {"integer", "number"}
    bounds = [{k: v for k, v in b.items() if k != "type"} for b in branches if b["type"] in numeric]
    others_bare = all(set(b) == {"type"} for b in branches if b["type"] not in numeric)
    if not others_bare or any(b != bounds[0] for b in bounds):
        return out
    del out["anyOf"]
    return {**out, "type": [b["type"] for b in branches], **(bounds[0] if bounds else {})}


#: Keywords that carry no constraint: dropped where a reference is replaced by its target.
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment"})


def _refs_inlined(schema: object) -> object:
    """The schema ``schema`` with each reference ``{"$ref": "#/$defs/Name"}`` replaced by
    the definition it names (and ``$defs`` dropped), which accepts exactly the same
    documents: each reference is a plain pointer into ``$defs`` (no ids, anchors or
    dynamic references), beside annotations only, and no definition refers back to
    itself. Following references made jsonschema build a validator for every reference
    of every row; inlined, a report is checked in about two thirds of the time. A schema
    these do not hold for is returned as it is."""
    if not isinstance(schema, dict):
        return schema
    defs = schema.get("$defs", {})

    def inline(node: object, seen: tuple[str, ...]) -> object:
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if node.keys() & {"$id", "$anchor", "$dynamicRef", "$dynamicAnchor"}:
            raise LookupError(node)
        ref = node.get("$ref")
        if ref is None:
            return {k: inline(v, seen) for k, v in node.items() if k != "$defs"}
        name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
        rest = set(node) - {"$ref", "$defs", "$schema"} - _ANNOTATIONS
        if name is None or name == ref or name not in defs or name in seen or rest:
            raise LookupError(node)
        target = inline(defs[name], (*seen, name))
        assert isinstance(target, dict)
        return {**target, **({"$schema": node["$schema"]} if "$schema" in node else {})}

    try:
        return inline(schema, ())
    except LookupError:
        return schema


_validate_every_json_document()

# No clocks in tests (machines are noisy: a loaded CI runner or a busy laptop is not a bug):
# hypothesis's per-example deadline and its "input generation is slow" check are timings.
settings.register_profile(
    "serialscale", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("serialscale")

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ROOT / "workloads"


@dataclass
class Dag:
    """A random DAG in input order: ``needs[i]`` are indices, ``costs[i]`` step costs."""

    costs: list
    needs: list[list[int]]

    @property
    def ids(self) -> list[str]:
        return [f"s{i}" for i in range(len(self.costs))]

    def graph(self) -> Graph:
        return Graph.from_lists(self.ids, self.costs, self.needs)

    def nx(self) -> nx.DiGraph:
        g = nx.DiGraph()
        for i, c in enumerate(self.costs):
            g.add_node(i, cost=c)
        for i, row in enumerate(self.needs):
            for j in row:
                g.add_edge(j, i)
        return g


costs_int = st.integers(min_value=0, max_value=9)
costs_float = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


@st.composite
def dags(draw, max_steps: int = 14, costs=costs_int, min_steps: int = 1) -> Dag:
    """A random DAG whose input order is a random permutation of a topological order."""
    n = draw(st.integers(min_value=min_steps, max_value=max_steps))
    cost = draw(st.lists(costs, min_size=n, max_size=n))
    density = draw(st.floats(min_value=0.0, max_value=0.6))
    # A seeded random.Random: the edges are the same Bernoulli(density) draws, in the same
    # order. (A shrinkable Random, use_true_random=False, made every one of its ~n**2/2 calls
    # a hypothesis choice: most of the time of the tests built on this strategy.) Shrinking
    # still works through n and density: fewer steps keep the first steps' edges (the same
    # stream, read in order), a lower density keeps a subset of them.
    rnd = draw(st.randoms(use_true_random=True))
    edges = [[j for j in range(i) if rnd.random() < density] for i in range(n)]
    perm = list(range(n))
    rnd.shuffle(perm)  # perm[k] = position in input of topological node k
    needs: list[list[int]] = [[] for _ in range(n)]
    costs_in: list = [0] * n
    for k in range(n):
        needs[perm[k]] = [perm[j] for j in edges[k]]
        costs_in[perm[k]] = cost[k]
    return Dag(costs_in, needs)


def nx_depth(costs, needs) -> float:
    """The costliest path, by networkx: step ``i`` (cost ``costs[i]``, needing the steps
    ``needs[i]``) split into an in-node and an out-node joined by an edge of its cost, since
    networkx weighs edges, not nodes. An independent oracle for depth."""
    g = nx.DiGraph()
    for i, cost in enumerate(costs):
        g.add_edge(("in", i), ("out", i), weight=cost)
        for j in needs[i]:
            g.add_edge(("out", j), ("in", i), weight=0)
    return nx.dag_longest_path_length(g)


def nx_depths_freed(costs, needs) -> tuple[float, list[float]]:
    """:func:`nx_depth`, and for each step ``v`` the costliest path with ``v``'s cost set to
    0 (the depth drag is measured against), by networkx. The graph (and its topological
    order, which no weight changes) is built once; for each ``v`` only the weight of ``v``'s
    in-to-out edge changes, then is put back (rebuilding per step made this oracle the
    slowest part of the drag tests)."""
    g = nx.DiGraph()
    for i, cost in enumerate(costs):
        g.add_edge(("in", i), ("out", i), weight=cost)
        for j in needs[i]:
            g.add_edge(("out", j), ("in", i), weight=0)
    order = list(nx.topological_sort(g))

    def longest() -> float:
        path = nx.dag_longest_path(g, topo_order=order)
        return sum((g[a][b]["weight"] for a, b in pairwise(path)), 0)

    freed = []
    for v, cost in enumerate(costs):
        g[("in", v)][("out", v)]["weight"] = 0
        freed.append(longest())
        g[("in", v)][("out", v)]["weight"] = cost
    return longest(), freed


def chain(n: int, cost=1) -> Graph:
    return Graph.from_lists(
        [f"s{i}" for i in range(n)], [cost] * n, [[i - 1] if i else [] for i in range(n)]
    )


def fan(k: int, cost=1) -> Graph:
    """One step fanning out to ``k`` equal steps and back into one."""
    ids = ["src"] + [f"w{i}" for i in range(k)] + ["sink"]
    needs = [[]] + [[0] for _ in range(k)] + [list(range(1, k + 1))]
    return Graph.from_lists(ids, [cost] * (k + 2), needs)


@pytest.fixture
def run_cli():
    """Run the CLI in-process; returns the click Result (stdout and stderr kept apart)."""
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None):
        return runner.invoke(app, list(args), input=input)

    return run


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> object:
    """Collect with bytecode writing on, whatever ``PYTHONDONTWRITEBYTECODE`` says: pytest
    keeps each test module rewritten for its assertions in ``__pycache__`` only when it may
    write bytecode, and rewriting all of them took each worker about 3 s of CPU in every
    run (twice per ``make test``) where that variable is set. Only collection is affected:
    the tests and the processes they start run with the setting as it was."""
    import sys

    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        return (yield)
    finally:
        sys.dont_write_bytecode = before


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow first, the others after, each in their order: pytest-xdist hands
    tests out in this order, so the long ones start early and the short ones fill in at the
    end. (In file order, the YAML reader's 600 examples came last, and one worker ran them
    alone for several seconds while the other had nothing left.)"""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move everything the worker holds after collection (the test modules, hypothesis,
    the collected items: about a million objects) out of the cyclic collector's reach with
    :func:`gc.freeze`. Readers of third-party formats end in a full ``gc.collect()``
    (serialscale.base.gcpause.gc_collecting), which in a test worker rescanned all of it:
    ~50 ms per file read, most of the time of the reader tests. The code under test runs
    the same; objects made from here on are collected as before."""
    import gc

    gc.freeze()


@pytest.fixture(autouse=True)
def _one_pass_reaches_no_twin(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked ``one_pass`` runs in the compiled pass only (``make test``'s pure pass
    deselects it): it must reach nothing that differs between the passes. Checked here as it
    runs: a call of any kernel (compiled or pure twin), a recorder or tape of the tracer, or a
    process started (which may reach either) fails it, so the mark cannot outlive its reason."""
    if request.node.get_closest_marker("one_pass") is None:
        yield
        return
    import multiprocessing.util
    import os
    import subprocess

    from serialscale.accel import pure_kernels
    from serialscale.trace import recorder

    reached: list[str] = []

    def spy(what: str, original: Callable[..., object]) -> Callable[..., object]:
        def called(*args: object, **kwargs: object) -> object:
            reached.append(what)
            return original(*args, **kwargs)

        return called

    compiled = sys.modules.get("serialscale.accel._kernels")
    with pytest.MonkeyPatch.context() as mp:
        for module in (pure_kernels, compiled) if compiled else (pure_kernels,):
            for name, value in vars(module).copy().items():
                own = module is compiled or getattr(value, "__module__", "") == module.__name__
                if own and callable(value) and not name.startswith("_"):
                    mp.setattr(module, name, spy(f"kernel {name}", value))
        for cls in (recorder.Recorder, recorder.PyTape):
            mp.setattr(cls, "__init__", spy(f"tracer {cls.__name__}", cls.__init__))
        mp.setattr(subprocess.Popen, "__init__", spy("a process", subprocess.Popen.__init__))
        mp.setattr(os, "fork", spy("a process", os.fork))
        mp.setattr(multiprocessing.util, "spawnv_passfds",
                   spy("a process", multiprocessing.util.spawnv_passfds))  # fmt: skip
        yield
    assert not reached, (
        f"marked one_pass, but reached {sorted(set(reached))}: it differs between the passes"
    )
