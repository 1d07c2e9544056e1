"""One verdict per document, whichever path or implementation reads it.

A workload document goes through a fast bulk check (for JSON: msgspec's typed decoder, the
compiled repeated-key scan and name resolver; for any document: whole-list checks) and, only
when that check does not accept it, through the step-by-step path that locates the problem.
These tests run random and corrupted documents through every combination and require the same
workload or the same error message from each.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale import accel as kernels
from serialscale.base.errors import WorkloadError
from serialscale.core.workload import Workload
from serialscale.sources import json_fast
from serialscale.sources.workload_file import parse_workload

# Every read runs under kernels.accelerated(False) and (where built) accelerated(True): both
# implementations each time, whatever SERIALSCALE_PURE_PYTHON says, so the pure pass adds
# nothing (as for tests/test_kernels.py).
pytestmark = pytest.mark.slow


def _outcome(read: Callable[[], Workload]) -> tuple[str, Any]:
    try:
        w = read()
    except WorkloadError as exc:
        return "error", str(exc)
    g = w.graph
    preds = [g.preds(i) for i in range(g.n)]
    return "ok", (w.name, w.description, w.unit, g.ids, list(g.costs), g.integral, preds)


def _all_paths(data: bytes) -> dict[str, tuple[str, Any]]:
    """The outcome of reading ``data`` as a JSON workload on every path there is."""
    outcomes = {}
    implementations = [False, True] if kernels.available() else [False]
    for compiled in implementations:
        with kernels.accelerated(compiled):
            name = "compiled" if compiled else "python"
            outcomes[f"{name}, fast path"] = _outcome(
                lambda: parse_workload(data, "w.json", is_json=True)
            )
            original = json_fast.json_columns
            json_fast.json_columns = lambda data, *limits: None  # type: ignore[assignment]
            try:
                outcomes[f"{name}, checked path"] = _outcome(
                    lambda: parse_workload(data, "w.json", is_json=True)
                )
            finally:
                json_fast.json_columns = original
    return outcomes


def _same_everywhere(data: bytes) -> tuple[str, Any]:
    outcomes = _all_paths(data)
    first = next(iter(outcomes.values()))
    for path, outcome in outcomes.items():
        assert outcome == first, (path, data, outcomes)
    return first


# --- random documents, then corrupted ------------------------------------------------------

ids = st.one_of(st.text(min_size=0, max_size=4), st.integers(-3, 40), st.booleans(), st.none())
costs = st.one_of(
    st.integers(-2, 9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(2**70),
    st.text(max_size=2),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A JSON workload: mostly valid, with corruptions drawn from what users get wrong."""
    n = draw(st.integers(1, 8))
    names = [f"s{i}" for i in range(n)]
    steps: list[dict[str, Any]] = []
    for i in range(n):
        step: dict[str, Any] = {"id": names[i], "cost": draw(st.integers(0, 5))}
        earlier = names[:i]
        if earlier and draw(st.booleans()):
            step["needs"] = draw(st.lists(st.sampled_from(earlier), max_size=3))
        steps.append(step)
    doc: dict[str, Any] = {"steps": steps}
    if draw(st.booleans()):
        doc["name"] = draw(st.text(max_size=5))
    corruption = draw(
        st.sampled_from(["none", "id", "cost", "needs", "need", "key", "top", "cycle",
                         "repeat-id", "empty", "escaped-key", "repeated-key", "escaped-value"])
    )  # fmt: skip
    rnd = random.Random(draw(st.integers(0, 2**16)))
    step = rnd.choice(steps)
    text: str | None = None
    if corruption == "id":
        step["id"] = draw(ids)
    elif corruption == "cost":
        step["cost"] = draw(costs)
    elif corruption == "needs":
        mapping = st.dictionaries(st.text(max_size=2), st.integers())
        step["needs"] = draw(st.one_of(st.text(max_size=3), st.integers(), st.none(), mapping))
    elif corruption == "need":
        nested = st.lists(st.integers(), max_size=2)
        mapping = st.dictionaries(st.just("id"), st.text(max_size=2))
        step["needs"] = [draw(st.one_of(ids, nested, mapping))]
    elif corruption == "key":
        step[draw(st.sampled_from(["need", "costs", "ID", "foreach", ""]))] = 1
    elif corruption == "top":
        doc[draw(st.sampled_from(["step", "units", "params", "description"]))] = draw(costs)
    elif corruption == "cycle":
        steps[0]["needs"] = [names[-1]]
    elif corruption == "repeat-id":
        step["id"] = names[0]
    elif corruption == "empty":
        doc["steps"] = []
    text = json.dumps(doc, allow_nan=True)
    if corruption == "escaped-key":  # "id" written as "\u0069d" next to a real "id"
        text = text.replace('{"id": ', '{"\\u0069d": "x", "id": ', 1)
    elif corruption == "repeated-key":
        text = text.replace('"cost": ', '"cost": 1, "cost": ', 1)
    elif corruption == "escaped-value":  # escapes inside values are fine
        text = text.replace('"s0"', '"\\u0073\\u0030"')
    return text.encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_path_gives_the_same_verdict_and_message(data: bytes) -> None:
    _same_everywhere(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"steps": [{"id": "a", "\\u0069d": "b"}]}', "duplicate key 'id'"),
        (b'{"steps": [{"\\u0069d": "a", "id": "b"}]}', "duplicate key 'id'"),
        (b'{"st\\u0065ps": [{"id": "a"}], "steps": []}', "duplicate key 'steps'"),
        (b'{"steps": [{"id": "\\u0061"}, {"id": "b", "needs": ["a"]}]}', None),
        (b'{"steps": [{"\\u0069d": "a"}]}', None),
    ],
)
def test_escaped_keys_are_decoded_before_they_are_compared(text: bytes, expected) -> None:
    verdict, value = _same_everywhere(text)
    if expected is None:
        assert verdict == "ok", value
    else:
        assert verdict == "error" and expected in value, value
