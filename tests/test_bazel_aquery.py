"""Bazel aquery JSON (issue 29, item 3): an action needs the actions that make its inputs,
through nested dep sets (never flattened: a set of several made inputs is a zero-cost
connector); durations from a --profile JSON trace matched by primary output. Checked
against networkx on the action graph written."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources.registry import ReadOptions, detect, read_path

from .conftest import nx_depth

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def container(actions: list[dict], artifacts: dict[int, str], depsets: list[dict],
              fragments: bool = True) -> dict:  # fmt: skip
    """An ActionGraphContainer: artifacts by path fragments (Bazel 5+) or by execPath."""
    doc: dict = {"actions": actions, "depSetOfFiles": depsets,
                 "targets": [{"id": 1, "label": "//x:y"}]}  # fmt: skip
    if not fragments:
        doc["artifacts"] = [{"id": a, "execPath": p} for a, p in artifacts.items()]
        return doc
    ids: dict[str, int] = {}
    pieces = []
    out = []
    for a, p in artifacts.items():
        parent = 0
        prefix = ""
        for label in p.split("/"):
            prefix = f"{prefix}/{label}" if prefix else label
            if prefix not in ids:
                ids[prefix] = len(ids) + 1
                piece = {"id": ids[prefix], "label": label}
                if parent:
                    piece["parentId"] = parent
                pieces.append(piece)
            parent = ids[prefix]
        out.append({"id": a, "pathFragmentId": parent})
    doc["artifacts"] = out
    doc["pathFragments"] = list(reversed(pieces))  # children before parents: order is free
    return doc


def action(mnemonic: str, inputs: list[int], outputs: list[int], k: int) -> dict:
    return {"targetId": 1, "actionKey": f"key{k}", "mnemonic": mnemonic, "configurationId": 1,
            "arguments": ["tool"], "inputDepSetIds": inputs, "outputIds": outputs,
            "primaryOutputId": outputs[0]}  # fmt: skip


#: gen makes a.h; cc_a and cc_b compile (both need a.h, through nested sets); link needs both
#: objects through one set of two (a connector) and the sources through a set of none.
ARTIFACTS = {1: "src/gen.py", 2: "bazel-out/bin/a.h", 3: "src/a.cc", 4: "src/b.cc",
             5: "bazel-out/bin/a.o", 6: "bazel-out/bin/b.o", 7: "bazel-out/bin/app"}  # fmt: skip
DEPSETS = [
    {"id": 1, "directArtifactIds": [1]},
    {"id": 2, "directArtifactIds": [2]},
    {"id": 3, "directArtifactIds": [3], "transitiveDepSetIds": [2]},
    {"id": 4, "directArtifactIds": [4], "transitiveDepSetIds": [2, 1]},
    {"id": 5, "directArtifactIds": [5]},
    {"id": 6, "directArtifactIds": [6], "transitiveDepSetIds": [5, 1]},
]
ACTIONS = [
    action("CppLink", [6], [7], 4),
    action("Genrule", [1], [2], 1),
    action("CppCompile", [3], [5], 2),
    action("CppCompile", [4], [6], 3),
]


def read(doc: dict, name: str = "aquery.json", folder: Path | None = None, **options):
    path = (folder or Path("/nonexistent")) / name
    data = json.dumps(doc).encode()
    if folder is not None:
        path.write_bytes(data)
    return read_path(path, data, options=ReadOptions(**options))


def edges(w) -> set[tuple[str, str]]:
    g = w.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


@pytest.mark.parametrize("fragments", [True, False])
def test_actions_need_the_actions_that_make_their_inputs(fragments: bool) -> None:
    w = read(container(ACTIONS, ARTIFACTS, DEPSETS, fragments))
    assert w.format == "bazel" and w.unit == "actions"
    assert sorted(w.graph.ids) == sorted(["bazel-out/bin/app", "bazel-out/bin/a.h",
                                          "bazel-out/bin/a.o", "bazel-out/bin/b.o",
                                          "depset 6"])  # fmt: skip
    assert edges(w) == {
        ("bazel-out/bin/a.h", "bazel-out/bin/a.o"), ("bazel-out/bin/a.h", "bazel-out/bin/b.o"),
        ("bazel-out/bin/a.o", "depset 6"), ("bazel-out/bin/b.o", "depset 6"),
        ("depset 6", "bazel-out/bin/app"),
    }  # fmt: skip
    assert w.extra["connectors"] == ["depset 6"]
    report = analyze_workload(w)
    assert report.work == 4 and report.depth == 3


def test_a_profile_gives_each_action_its_time(tmp_path: Path) -> None:
    events = [
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "main"}},
        {"cat": "action processing", "name": "Executing genrule //x:gen", "ph": "X",
         "ts": 1_000_000, "dur": 2_000_000, "pid": 1, "tid": 2,
         "args": {"mnemonic": "Genrule", "out": "bazel-out/bin/a.h"}},
        {"cat": "action processing", "name": "Compiling src/a.cc", "ph": "X",
         "ts": 3_000_000, "dur": 4_000_000, "pid": 1, "tid": 2,
         "args": {"out": "bazel-out/bin/a.o"}},
        {"cat": "action processing", "name": "Compiling src/b.cc", "ph": "X",
         "ts": 3_000_000, "dur": 1_500_000, "pid": 1, "tid": 3,
         "args": {"out": "bazel-out/bin/b.o"}},
        {"cat": "action processing", "name": "Linking app", "ph": "B", "ts": 7_000_000,
         "pid": 1, "tid": 2, "args": {"out": "bazel-out/bin/app"}},
        {"ph": "E", "ts": 7_500_000, "pid": 1, "tid": 2},
        {"name": "runAnalysisPhase", "ph": "X", "ts": 0, "dur": 5, "pid": 1, "tid": 9},
        {"cat": "action processing", "name": "Compiling src/gone.cc", "ph": "X", "ts": 0,
         "dur": 5, "pid": 1, "tid": 9, "args": {"out": "bazel-out/bin/gone.o"}},
    ]  # fmt: skip
    profile = tmp_path / "command.profile.gz"
    profile.write_bytes(gzip.compress(json.dumps({"traceEvents": events}).encode()))
    w = read(container(ACTIONS, ARTIFACTS, DEPSETS), folder=tmp_path, durations=str(profile))
    assert w.unit == "seconds"
    costs = dict(zip(w.graph.ids, w.graph.costs, strict=True))
    assert costs == {"bazel-out/bin/app": 0.5, "bazel-out/bin/a.h": 2.0,
                     "bazel-out/bin/a.o": 4.0, "bazel-out/bin/b.o": 1.5,
                     "depset 6": 0.0}  # fmt: skip
    report = analyze_workload(w)
    assert report.depth == pytest.approx(2.0 + 4.0 + 0.5)
    assert report.observed is not None and report.observed.makespan == pytest.approx(6.5)
    note = w.extra["notes"][-1]
    assert "4 of 4 steps matched" in note and "'Compiling src/gone.cc'" in note
    assert "runAnalysisPhase" not in note  # Bazel's own phases are not unmatched actions


def test_a_profile_without_outputs_says_which_flag_is_missing(tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps([{"name": "Compiling src/a.cc", "ph": "X", "ts": 0,
                                    "dur": 5}]))  # fmt: skip
    w = read(container(ACTIONS, ARTIFACTS, DEPSETS), folder=tmp_path, durations=str(profile))
    assert "--experimental_profile_include_primary_output" in " ".join(w.extra["notes"])


def test_detected_by_content() -> None:
    data = json.dumps(container(ACTIONS, ARTIFACTS, DEPSETS)).encode()
    assert detect(Path("out.json"), data) == "bazel"
    assert detect(Path("workload.json"), b'{"steps": []}') == "serialscale"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"actions": "x"}, "an object with 'actions'"),
        (container([action("X", [9], [7], 1)], ARTIFACTS, DEPSETS), "dep set 9"),
        (container([action("X", [], [99], 1)], ARTIFACTS, DEPSETS), "output artifact 99"),
        (container([action("X", [1], [7], 1)], ARTIFACTS,
                   [{"id": 1, "transitiveDepSetIds": [1]}]), "includes itself"),
        ({"actions": [], "artifacts": [{"id": 1, "pathFragmentId": 1}],
          "pathFragments": [{"id": 1, "label": "a", "parentId": 2},
                            {"id": 2, "label": "b", "parentId": 1}]}, "cycle of 'parentId'"),
        ({"actions": [action("X", [2], [1], 1), action("Y", [1], [2], 2)],
          "artifacts": [{"id": 1, "execPath": "a"}, {"id": 2, "execPath": "b"}],
          "depSetOfFiles": [{"id": 1, "directArtifactIds": [1]},
                            {"id": 2, "directArtifactIds": [2]}]}, "dependency cycle"),
    ],
)  # fmt: skip
def test_broken_graphs_are_located_errors(doc: dict, message: str, run_cli,
                                          tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "aquery.json"
    path.write_text(json.dumps(doc))
    result = run_cli("analyze", str(path), "--from", "bazel")
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr


def test_not_json_is_located_at_its_line(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "aquery.json"
    path.write_text('{\n  "actions": [\n    {,\n')
    result = run_cli("analyze", str(path), "--from", "bazel")
    assert result.exit_code == 2 and "aquery.json:3:6: error: bazel aquery: not JSON" in \
        result.stderr  # fmt: skip


@st.composite
def graphs(draw):
    """A random action DAG; each action's inputs are its needed actions' outputs and a
    source file, spread over a random tree of nested dep sets."""
    n = draw(st.integers(1, 10))
    needs = {j: sorted(i for i in range(j) if draw(st.booleans()) and draw(st.booleans()))
             for j in range(n)}  # fmt: skip
    artifacts = {100 + i: f"bazel-out/bin/o{i}" for i in range(n)}
    artifacts.update({200 + i: f"src/s{i}.c" for i in range(n)})
    depsets: list[dict] = []
    actions = []
    for j in draw(st.permutations(range(n))):
        items = [100 + i for i in needs[j]] + [200 + j]
        items = draw(st.permutations(items))
        # split the items into a chain of nested sets, at random cuts
        cuts = sorted(draw(st.sets(st.integers(0, len(items)), max_size=3)))
        parts = [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)]
        below: list[int] = []
        for part in parts:
            d = len(depsets) + 1
            depsets.append({"id": d, "directArtifactIds": part, "transitiveDepSetIds": below})
            below = [d]
        actions.append(action("Cc", below, [100 + j], j))
    return container(actions, artifacts, depsets, draw(st.booleans())), needs


@FAST
@given(graphs())
def test_random_action_graphs_match_networkx(case) -> None:
    doc, needs = case
    w = read(doc)
    g = nx.DiGraph()
    g.add_nodes_from(w.graph.ids)
    g.add_edges_from(edges(w))
    connectors = set(w.extra.get("connectors", []))
    name = {i: f"bazel-out/bin/o{i}" for i in needs}
    for j, wanted in needs.items():
        # the actions reached through connectors only are the ones its inputs come from
        reached = set()
        stack = list(g.predecessors(name[j]))
        while stack:
            v = stack.pop()
            if v in connectors:
                stack.extend(g.predecessors(v))
            else:
                reached.add(v)
        assert reached == {name[i] for i in wanted}
    rows = [needs[j] for j in range(len(needs))]
    report = analyze_workload(w)
    assert report.work == len(needs)
    assert report.depth == nx_depth([1] * len(needs), rows)


@FAST
@given(st.binary(max_size=200), st.integers(0, 2000))
def test_mutated_graphs_end_in_a_workload_or_a_located_error(junk: bytes, at: int) -> None:
    data = json.dumps(container(ACTIONS, ARTIFACTS, DEPSETS), indent=1).encode()
    try:
        read_path(Path("/nonexistent/aquery.json"), data[:at] + junk + data[at:],
                  limits=Limits(max_steps=100, max_dependencies=1000),
                  options=ReadOptions(fmt="bazel"))  # fmt: skip
    except WorkloadError as exc:
        assert str(exc).split(": error: ", 1)[1]


def test_shared_outputs_and_look_alike_names_stay_apart() -> None:
    artifacts = {1: "out/a", 2: "out/a #2", 3: "depset 1"}
    actions = [action("A", [], [1], 1), action("B", [], [1], 2), action("C", [], [2], 3),
               action("D", [1], [3], 4)]  # fmt: skip
    depsets = [{"id": 1, "directArtifactIds": [1, 2]}]
    w = read(container(actions, artifacts, depsets, fragments=False))
    assert len(set(w.graph.ids)) == w.graph.n == 5  # four actions and the connector
    assert "1 action makes an output" in " ".join(w.extra["notes"])


SMALL = st.integers(-2, 6)
LEAF = st.none() | st.booleans() | SMALL | st.floats() | st.sampled_from(["", "a", "depset 1"])
VALUE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(["id", "label"]), inner, max_size=2),
                     max_leaves=6)  # fmt: skip


def objects(keys: list[str]):
    """Objects with the format's keys and values of any JSON type (ids mostly small)."""
    return st.dictionaries(st.sampled_from(keys), VALUE | st.lists(SMALL, max_size=4),
                           max_size=len(keys)) | VALUE  # fmt: skip


@FAST
@given(st.fixed_dictionaries({}, optional={
    "actions": st.lists(objects(["mnemonic", "inputDepSetIds", "outputIds", "primaryOutputId"]),
                        max_size=5),
    "artifacts": st.lists(objects(["id", "pathFragmentId", "execPath"]), max_size=5),
    "depSetOfFiles": st.lists(objects(["id", "directArtifactIds", "transitiveDepSetIds"]),
                              max_size=5),
    "pathFragments": st.lists(objects(["id", "label", "parentId"]), max_size=5) | VALUE,
}))  # fmt: skip
@example({"actions": [{"mnemonic": [], "outputIds": None, "primaryOutputId": []}]})
@example({"actions": [], "artifacts": "abc"})
def test_any_json_shape_ends_in_a_workload_or_a_located_error(doc: dict) -> None:
    # found: a list as 'primaryOutputId' (TypeError), a string as 'artifacts' (read by char)
    try:
        read_path(Path("/nonexistent/aquery.json"), json.dumps(doc).encode(),
                  limits=Limits(max_steps=100, max_dependencies=1000),
                  options=ReadOptions(fmt="bazel"))  # fmt: skip
    except WorkloadError as exc:
        assert str(exc).split(": error: ", 1)[1]


def test_a_wrong_entry_is_located_at_its_line(run_cli, tmp_path: Path) -> None:
    doc = container([*ACTIONS, action("X", [77], [7], 9)], ARTIFACTS, DEPSETS)
    path = tmp_path / "aquery.json"
    text = json.dumps(doc, indent=2)
    path.write_text(text)
    result = run_cli("analyze", str(path), "--from", "bazel")
    assert result.exit_code == 2 and "names dep set 77" in result.stderr
    # the fifth action's opening brace: the last '{' before its action key
    brace = text.rfind("{", 0, text.index('"actionKey": "key9"'))
    line = text.count("\n", 0, brace) + 1
    assert f"aquery.json:{line}: error:" in result.stderr
