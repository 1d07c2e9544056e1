"""Locating a path in a long document by streaming parse events (``parsing._Cursor``): the
same line and column as the walk over a composed node tree, in any order of lookups, with
memory that does not grow with the text."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.base.errors import Location
from serialscale.sources import parsing
from serialscale.sources.parsing import Locator

# The parsing locator (sources.parsing) only: no kernel, tracer or process, so the pure pass
# would repeat these exactly (conftest fails a one_pass test that reaches any).
pytestmark = pytest.mark.one_pass

_keys = st.sampled_from(["id", "needs", "cost", "steps", "a", "b", "3", "0"])
_scalars = st.one_of(st.integers(-5, 99), st.sampled_from(["x", "y z", "", "1.5"]), st.none(),
                     st.booleans())  # fmt: skip
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=40,
)


def _paths(doc: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into ``doc``, and one step past each (a missing key or index)."""
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
        found.append((*prefix, "missing"))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
        found += [(*prefix, len(doc)), (*prefix, "key")]
    else:
        found.append((*prefix, 0))
    return found


def _both(text: str, lookups: list[tuple[tuple[str | int, ...], bool]],
          monkeypatch: pytest.MonkeyPatch) -> tuple[list[Location], list[Location]]:  # fmt: skip
    monkeypatch.setattr(parsing, "TREE_LOCATE_CHARS", 1 << 40)
    tree = Locator(text, "w.yaml")
    expected = [tree.at(path, "s", key) for path, key in lookups]
    monkeypatch.setattr(parsing, "TREE_LOCATE_CHARS", -1)
    stream = Locator(text, "w.yaml")
    return expected, [stream.at(path, "s", key) for path, key in lookups]


@settings(max_examples=150, deadline=None)
@given(_documents, st.booleans(), st.data())
def test_streaming_finds_what_the_tree_walk_finds(doc: Any, as_json: bool, data: Any) -> None:
    text = json.dumps(doc, indent=1) if as_json else yaml.safe_dump(doc, sort_keys=False)
    paths = _paths(doc)
    # lookups in any order (forward, backward, repeated) on one locator
    lookups = data.draw(st.lists(st.tuples(st.sampled_from(paths), st.booleans()), max_size=12))
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected, got = _both(text, lookups, monkeypatch)
    assert got == expected, (text, lookups)


def test_a_repeated_key_and_a_complex_key_are_located_as_the_tree_walk_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "top:\n  ? [k, 1]\n  : 5\n  a: 1\n  a: 2\n  b: [1, {c: 3}]\n"
    lookups = [((("top", "a")), False), (("top", "a"), True), (("top", "b", 1, "c"), False),
               (("top", "k"), False), (("top",), True), (("top", "b", 0), False)]  # fmt: skip
    expected, got = _both(text, lookups, monkeypatch)
    assert got == expected
    assert [(loc.line, loc.column) for loc in got[:3]] == [(4, 6), (4, 3), (6, 14)]


def test_broken_text_is_located_up_to_where_it_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "TREE_LOCATE_CHARS", -1)
    locator = Locator("steps:\n  - id: a\n  - id: b\n  - [unclosed\n", "w.yaml")
    assert locator.at(("steps", 1, "id")) == Location("w.yaml", 3, 9)
    assert locator.at(("steps", 5)) == Location("w.yaml", 2, 3)  # not read: the list itself
    assert locator.at(("steps", 0)) == Location("w.yaml", 2, 5)


def _chain(n: int) -> str:
    steps = [{"id": f"s{i}", "cost": 1, "needs": [f"s{i - 1}"] if i else []} for i in range(n)]
    return json.dumps({"steps": steps})


def test_locating_in_a_long_file_takes_memory_of_its_nesting_not_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The node tree of a 200,000-step file took 600 MB to point at one step (100 times the
    text); the walk keeps the open containers only. (A lower threshold than the real one
    keeps the file small: the ratio to the text is what is checked.)"""
    monkeypatch.setattr(parsing, "TREE_LOCATE_CHARS", 1 << 16)
    text = _chain(6_000)
    assert len(text) > parsing.TREE_LOCATE_CHARS
    locator = Locator(text.encode(), "w.json")
    tracemalloc.start()
    try:
        far = locator.at(("steps", 5_990, "needs", 0))
        near = locator.at(("steps", 10))  # behind: the walk starts again
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert far.line == 1 and far.column == text.index('"s5989"]') + 1
    assert near.column == text.index('{"id": "s10"') + 1
    # the decoded text (the only copy of it kept) and the parser's buffers
    assert peak < 6 * len(text), peak
