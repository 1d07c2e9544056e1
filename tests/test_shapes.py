"""Every shape is declared once, and saved reports are read in one place (issue 27).

The report's rows are :class:`msgspec.Struct` declarations in :mod:`serialscale.documents`;
the engine builds those rows, it does not keep look-alikes of them. These tests parse the
source tree (no import), so a second declaration fails here whatever module it is in.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "serialscale"
DOCUMENTS = PACKAGE / "documents"


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


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
