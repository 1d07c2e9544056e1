"""Every shape is declared once, and saved reports are read in one place (issue 27).

The report's rows are :class:`msgspec.Struct` declarations in :mod:`serialscale.documents`;
the engine builds those rows, it does not keep look-alikes of them. These tests parse the
source tree (no import), so a second declaration fails here whatever module it is in.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

# Source-tree analysis: the same whichever kernels and tracer are in use, so it runs in the
# compiled pass only (seconds per test).
pytestmark = pytest.mark.slow

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "serialscale"
DOCUMENTS = PACKAGE / "documents"


@functools.cache
def _parsed() -> tuple[tuple[Path, ast.Module], ...]:
    """Every module of the package, parsed once for the tests of this file (which only read
    the trees)."""
    return tuple(
        (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted(PACKAGE.rglob("*.py"))
    )


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    yield from _parsed()


def _bases(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


def _is_record(node: ast.ClassDef) -> bool:
    """A class that declares named fields: a Struct, NamedTuple, TypedDict or dataclass."""
    if _bases(node) & {"Struct", "NamedTuple", "TypedDict"}:
        return True
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return False


def _fields(node: ast.ClassDef) -> frozenset[str]:
    return frozenset(
        item.target.id
        for item in node.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
    )


def _records(inside: bool) -> Iterator[tuple[str, ast.ClassDef]]:
    for path, tree in _modules():
        if path.is_relative_to(DOCUMENTS) != inside:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and _is_record(node):
                yield f"{path.relative_to(PACKAGE)}:{node.lineno}", node


def test_the_tree_is_parsed_and_the_documents_are_found() -> None:
    """The check below sees the documents (it would pass vacuously on an empty list)."""
    names = {node.name for _, node in _records(inside=True)}
    assert {"Report", "Segment", "SpeedupRow", "ErrorEntry", "FailedGate"} <= names
    assert any(True for _ in _records(inside=False))


def test_no_report_row_is_declared_a_second_time_outside_documents() -> None:
    """No record outside ``documents/`` has the name or the fields of a declared document
    (``core.metrics.Segment`` was a NamedTuple twin of ``documents.report.Segment``)."""
    declared = {node.name: _fields(node) for _, node in _records(inside=True)}
    by_fields = {fields: name for name, fields in declared.items() if len(fields) >= 2}
    twins = []
    for where, node in _records(inside=False):
        if node.name in declared:
            twins.append(f"{where}: {node.name} is declared in documents/")
        same = by_fields.get(_fields(node))
        if same is not None:
            twins.append(f"{where}: {node.name} has the fields of documents' {same}")
    assert not twins, "\n".join(twins)


#: The module that reads saved documents back (decode, ``schema_version``, validation).
READER = DOCUMENTS / "report.py"
#: The documents a saved file holds.
SAVED_KINDS = {"Report", "BatchReport", "ScaleReport", "ErrorLine", "ErrorEntry"}


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of ``tree`` (module, classes, functions)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _names(node: ast.AST) -> set[str]:
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node)
            if isinstance(n, (ast.Name, ast.Attribute))}  # fmt: skip


def test_saved_documents_are_decoded_and_sniffed_in_one_place() -> None:
    """Outside :mod:`serialscale.documents.report`, no module decodes or converts JSON into a
    saved document, nor looks for ``schema_version`` itself: every reader (``gate``,
    ``--baseline``, ``render``, ``diff``) goes through ``read_saved`` (``render`` converted
    sweeps itself and ``diff`` sniffed ``"schema_version"`` in a file's head)."""
    found = []
    for path, tree in _modules():
        if path == READER:
            continue
        docstrings = _docstrings(tree)
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                args = set().union(*map(_names, [*node.args, *node.keywords]))
                if name in ("convert", "decode", "Decoder") and args & SAVED_KINDS:
                    found.append(f"{where}:{node.lineno}: {name}() into {args & SAVED_KINDS}")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, (str, bytes))
                and id(node) not in docstrings
                and (b"schema_version" if isinstance(node.value, bytes) else "schema_version")
                in node.value  # type: ignore[operator]
            ):
                found.append(f"{where}:{node.lineno}: looks for schema_version")
    assert not found, "\n".join(found)


def test_a_saved_sweep_is_read_with_its_version_checked_and_located(
    tmp_path: Path, run_cli
) -> None:
    """``render`` reads a sweep through the one reader: its ``schema_version`` is checked
    (it was converted without), a bad field is located by its path, and the commands that
    take reports only (``gate``) say it is not a report."""
    import json

    from serialscale.documents.report import SCALE_SCHEMA_VERSION

    saved = tmp_path / "sweep.json"
    made = run_cli("scale", "workloads/sweeps/tree_reduction.yaml", "--sweep", "n=8..64",
                   "-f", "json", "-o", str(saved))  # fmt: skip
    assert made.exit_code == 0, made.output
    again = run_cli("render", str(saved), "-f", "json")
    assert again.exit_code == 0 and again.stdout == saved.read_text()
    document = json.loads(saved.read_text())
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**document, "schema_version": SCALE_SCHEMA_VERSION - 1}))
    result = run_cli("render", str(old), "-f", "table")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"{old}: error: $.schema_version: unsupported sweep version {SCALE_SCHEMA_VERSION - 1}; "
        f"this serialscale reads version {SCALE_SCHEMA_VERSION} (re-create the sweep with "
        "this version)"
    )
    bad = tmp_path / "bad.json"
    document["points"][1]["depth"] = "deep"
    bad.write_text(json.dumps(document))
    result = run_cli("render", str(bad), "-f", "table")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(
        f"{bad}: error: not a valid serialscale sweep: $.points[1].depth: expected"
    )
    result = run_cli("gate", str(saved), "--fail-on", "serial")
    assert result.exit_code == 2 and "not a serialscale report" in result.stderr


#: Packages only the test extra installs: the package must not import them, even lazily.
TEST_ONLY = {"pytest", "xdist", "hypothesis", "jsonschema", "mypy", "pydot", "ruff"}


def test_the_package_carries_no_test_only_code() -> None:
    """No module imports a test-only package or reads a switch the suite sets (the JSON
    writer validated every document with ``jsonschema`` under ``SERIALSCALE_VALIDATE_JSON``;
    that check is now the suite's own, in ``tests/conftest.py``)."""
    found = []
    for path, tree in _modules():
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = {(node.module or "").partition(".")[0]}
            else:
                roots = set()
            found += [f"{where}:{node.lineno}: imports {r}" for r in sorted(roots & TEST_ONLY)]
        if "SERIALSCALE_VALIDATE" in path.read_text(encoding="utf-8"):
            found.append(f"{where}: reads the suite's SERIALSCALE_VALIDATE_JSON switch")
    assert not found, "\n".join(found)


def test_the_suite_checks_every_rendered_json_document_against_its_schema() -> None:
    """The suite's own check (conftest) is in place: a report the schema refuses (a negative
    depth) fails as it is rendered, through the renderer every command uses."""
    import jsonschema
    import msgspec
    import pytest

    from serialscale import analyze
    from serialscale.render import OutputFormat, render

    report = analyze("workloads/ci_build.yaml")
    render(report, OutputFormat.json)  # a valid one passes
    with pytest.raises(jsonschema.ValidationError):
        render(msgspec.structs.replace(report, depth=-1), OutputFormat.json)


def test_the_suites_form_of_a_schema_decides_as_the_published_one() -> None:
    """The suite checks against a faster form of each schema (conftest: type lists for
    anyOf of bare types, references inlined): a detailed report and each one-value change of
    it (a value made negative, fractional, a string or null; a field removed) is
    accepted by the one exactly when by the other."""
    import json

    import jsonschema

    from serialscale import analyze
    from serialscale.documents.schemas import SCHEMAS
    from serialscale.render.json_report import render_json

    from .conftest import _refs_inlined, _type_lists

    for name in SCHEMAS:  # every reference is inlined: none is left to follow
        assert "$ref" not in json.dumps(_refs_inlined(_type_lists(SCHEMAS[name]())))
    published = SCHEMAS["report"]()
    ours = jsonschema.Draft202012Validator(_refs_inlined(_type_lists(published)))
    theirs = jsonschema.Draft202012Validator(published)
    document = json.loads(render_json(analyze("workloads/ci_build.yaml", detail=True)))

    decided = {True: 0, False: 0}

    def check(node: dict | list) -> None:
        """Each one-value change under ``node``, made in place and undone (in a list, of its
        first item only: the items of a list share one schema)."""
        keys = list(node) if isinstance(node, dict) else range(min(len(node), 1))
        for key in keys:
            value = node[key]  # type: ignore[index]
            if isinstance(value, (dict, list)):
                check(value)
            for new in (-1, 0.5, "x", None, check):  # check: the marker to remove the key
                if new is check and isinstance(node, list):
                    continue
                if new is check:
                    del node[key]  # type: ignore[arg-type]
                else:
                    node[key] = new  # type: ignore[index]
                verdict = theirs.is_valid(document)
                assert ours.is_valid(document) == verdict, (key, new)
                decided[verdict] += 1
                node[key] = value  # type: ignore[index]

    check(document)
    assert ours.is_valid(document) and theirs.is_valid(document)
    assert decided[True] and decided[False]


# --- named steps to a graph: one builder ----------------------------------------------------

#: The modules allowed to turn a cycle into an error: the graph finds it, the builder says it.
CYCLE_SAYERS = {PACKAGE / "core" / "graph.py", PACKAGE / "core" / "named_steps.py"}


def test_only_the_builder_turns_named_steps_into_a_graph_with_located_errors() -> None:
    """``CycleError`` and ``cycle_message`` are used by the graph and the builder only: the
    workload format, the importers' StepPlan, DOT and networkx targets each caught the cycle
    and worded it themselves."""
    found = []
    for path, tree in _modules():
        if path in CYCLE_SAYERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(
                alias.name in ("CycleError", "cycle_message") for alias in node.names
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    # the package's public names re-export CycleError (serialscale.CycleError) lazily
    assert [f for f in found if not f.startswith("__init__.py")] == []


def _own(tmp_path: Path, steps: list[dict]) -> str:
    import json

    from serialscale import WorkloadError, load_workload

    path = tmp_path / "w.json"
    path.write_text(json.dumps({"steps": steps}))
    try:
        load_workload(path)
    except WorkloadError as exc:
        return exc.message
    raise AssertionError("no error")


def _plan(steps: list[dict]) -> str:
    from serialscale import WorkloadError
    from serialscale.sources.step_plan import StepPlan

    plan = StepPlan()
    for step in steps:
        plan.add(step["id"], 1, step.get("needs", []))
    try:
        plan.workload("w", "w.txt", "test", None)
    except WorkloadError as exc:
        return exc.message
    raise AssertionError("no error")


def _networkx(steps: list[dict]) -> str:
    import networkx as nx

    from serialscale import WorkloadError
    from serialscale.sources.python_targets import _graph_from_networkx

    g = nx.DiGraph()
    g.add_nodes_from(step["id"] for step in steps)
    g.add_edges_from((need, step["id"]) for step in steps for need in step.get("needs", []))
    try:
        _graph_from_networkx(g, "t.py:f")
    except WorkloadError as exc:
        return exc.message
    raise AssertionError("no error")


def test_every_reader_of_named_steps_words_an_error_the_same(tmp_path: Path) -> None:
    """The same steps give the same message through the workload format, an importer's
    StepPlan and a returned networkx graph (each said it its own way)."""
    cycle = [{"id": "a", "needs": ["c"]}, {"id": "b", "needs": ["a"]}, {"id": "c", "needs": ["b"]}]
    said = {_own(tmp_path, cycle), _plan(cycle), _networkx(cycle)}
    assert len(said) == 1, said
    [message] = said
    names = message.removeprefix("dependency cycle: ").split(";")[0].split(" → ")
    assert message.endswith("; a workload must be acyclic")
    assert names[0] == names[-1] and sorted(names[:-1]) == ["a", "b", "c"]
    unknown = [{"id": "build"}, {"id": "test", "needs": ["biuld"]}]
    assert (
        _own(tmp_path, unknown)
        == _plan(unknown)
        == ("'needs' names an unknown step 'biuld' (did you mean 'build'?)")
    )
    itself = [{"id": "a", "needs": ["a"]}]
    assert _own(tmp_path, itself) == _plan(itself) == "step 'a' needs itself"


def test_networkx_nodes_of_one_id_are_a_repeated_step_id() -> None:
    import networkx as nx

    from serialscale import WorkloadError
    from serialscale.sources.python_targets import _graph_from_networkx

    g = nx.DiGraph([(1, "x"), ("1", "x")])
    try:
        _graph_from_networkx(g, "t.py:f")
    except WorkloadError as exc:
        assert exc.message == "duplicate step id '1'" and exc.location.step_id == "1"
    else:
        raise AssertionError("two nodes named '1' were taken")


_NAMES = ["a", "b", "c", "d", "e", "f"]


def _steps_strategy():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    return st.lists(
        st.tuples(st.sampled_from(_NAMES), st.lists(st.sampled_from([*_NAMES, "zz"]), max_size=3)),
        min_size=1,
        max_size=6,
    )


def test_the_builder_against_networkx() -> None:
    """Random named steps (repeats, unknown names, self-needs and cycles included): the
    builder's graph has networkx's edges, or its errors are the ones networkx's view of the
    same steps predicts, each naming its step."""
    import networkx as nx
    from hypothesis import given

    from serialscale.base.errors import WorkloadError, WorkloadErrors
    from serialscale.core.named_steps import InSource, build_graph

    @given(_steps_strategy())
    def check(steps: list[tuple[str, list[str]]]) -> None:
        ids = [s for s, _ in steps]
        needs = [list(dict.fromkeys(row)) for _, row in steps]
        try:
            graph = build_graph(ids, [1] * len(ids), needs, InSource("x"))
        except WorkloadError as exc:
            errors = exc.errors if isinstance(exc, WorkloadErrors) else [exc]
            messages = [e.message for e in errors]
            assert all(e.location.source == "x" and e.location.step_id for e in errors)
            repeats = len(ids) - len(set(ids))
            if repeats:
                assert sum(m.startswith("duplicate step id") for m in messages) == repeats
                return
            unknown = sum(n not in ids for row in needs for n in row)
            assert sum(m.startswith("'needs' names an unknown") for m in messages) == unknown
            g = nx.DiGraph()
            g.add_nodes_from(ids)
            g.add_edges_from((n, s) for s, row in zip(ids, needs, strict=True) for n in row
                             if n in ids)  # fmt: skip
            assert unknown or not nx.is_directed_acyclic_graph(g), messages
            return
        assert len(set(ids)) == len(ids)
        g = nx.DiGraph()
        g.add_nodes_from(ids)
        g.add_edges_from((n, s) for s, row in zip(ids, needs, strict=True) for n in row)
        assert nx.is_directed_acyclic_graph(g) and set(g.nodes) == set(ids)
        edges = {(graph.ids[p], graph.ids[i]) for i in range(graph.n) for p in graph.preds(i)}
        assert edges == set(g.edges)

    check()
