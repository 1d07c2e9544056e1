"""json_locate.line_of: the line of an entry of JSON text, checked against the lines json.dumps
gives each entry when it writes them one per line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.sources.json_locate import line_of

# JSON line lookup only: no kernel, tracer or process, so the pure pass
# would repeat these exactly (conftest fails a one_pass test that reaches any).
pytestmark = pytest.mark.one_pass

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(VALUES, min_size=1, max_size=6), st.data())
def test_the_line_of_each_entry(entries: list, data) -> None:
    pieces = [json.dumps(e) for e in entries]  # one entry per line, with strings like '"]"'
    text = '{"x": 1, "k": [\n' + ",\n".join(pieces) + "\n]}"
    k = data.draw(st.integers(0, len(entries) - 1))
    assert line_of(text, 0, ["k", k]) == 2 + k
    assert line_of(text, 0, ["k", len(entries)]) is None
    assert line_of(text, 0, ["missing"]) is None
    assert line_of(text[:-3], 0, ["k", len(entries) + 2]) is None  # cut short: no error
