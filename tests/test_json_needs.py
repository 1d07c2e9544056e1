"""The JSON fast path resolves needs from the undecoded text (issue 17: memory).

``json_needs`` reads each step's ``needs`` as raw JSON and looks names up by their UTF-8
bytes, so no Python string is made per need. The oracle: the same document decoded by the
standard library, names looked up in a dict. Anything the kernel cannot read exactly (an
escape, a number, an unknown name, a repeated id) must make it decline, never guess.
"""

from __future__ import annotations

import json
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import accel as kernels
from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.render.json_report import render_json
from serialscale.sources import json_fast, workload_file

pytestmark = pytest.mark.skipif(not kernels.available(), reason="kernels not built")

POOL = ["a", "b", "é", "日本", "x" * 30, "a b", "3", "A", "a\\u0062"]


def raws_of(data: bytes) -> tuple[list[str], list]:
    raw_decoder, _, _ = json_fast._decoders()
    steps = raw_decoder.decode(data).steps
    return [str(s.id) for s in steps], [s.needs for s in steps]


def run_kernel(ids: list[str], raws: list) -> list[list[int]] | None:
    k = kernels._compiled
    ptr = array("q", bytes(8 * (len(ids) + 1)))
    m = k.json_needs(ids, raws, ptr, None)
    if m < 0:
        return None
    idx = array("q", bytes(8 * m))
    if k.json_needs(ids, raws, ptr, idx) != m:
        return None
    return [idx[ptr[i] : ptr[i + 1]].tolist() for i in range(len(ids))]


@st.composite
def documents(draw) -> bytes:
    ids = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=6))
    steps = []
    for step_id in ids:
        step: dict = {"id": step_id}
        if draw(st.booleans()):
            names = st.one_of(st.sampled_from([*POOL, "missing"]), st.integers(0, 3),
                              st.just({"id": "a"}), st.none())  # fmt: skip
            step["needs"] = draw(st.lists(names, max_size=4))
        steps.append(step)
    spaced = draw(st.booleans())
    text = json.dumps({"steps": steps}, ensure_ascii=draw(st.booleans()),
                      indent=2 if spaced else None)  # fmt: skip
    return text.replace("\\\\u0062", "\\u0062").encode()  # some names escaped in the text


@pytest.mark.slow  # the compiled kernel itself (run_kernel), in either pass: once is enough
@settings(max_examples=300, deadline=None)
@given(documents())
def test_json_needs_is_a_dict_lookup_or_declines(data: bytes) -> None:
    ids, raws = raws_of(data)
    got = run_kernel(ids, raws)
    doc = json.loads(data)
    where: dict[str, int] = {}
    for i, step_id in enumerate(ids):
        where.setdefault(step_id, i)
    rows = [s.get("needs", []) for s in doc["steps"]]
    readable = (
        len(where) == len(ids)  # no repeated id
        and all(type(n) is str and n in where for row in rows for n in row)
        and b"\\" not in data  # no escape anywhere (ids included): nothing to decode
    )
    if readable:
        assert got == [[where[n] for n in row] for row in rows]
    elif got is not None:
        # Declining is always allowed; answering only when the answer is the oracle's.
        assert len(where) == len(ids)
        assert got == [[where[str(n)] for n in row] for row in rows]
        assert all(type(n) is str for row in rows for n in row)


@settings(max_examples=100, deadline=None)
@given(documents())
def test_the_fast_path_gives_the_checked_paths_workload_or_the_same_error(data: bytes) -> None:
    def load(fast: bool):
        original = json_fast.json_columns
        if not fast:
            json_fast.json_columns = lambda data, *limits: None
        try:
            workload = workload_file.parse_workload(data, "w.json", is_json=True)
            return render_json(analyze_workload(workload, detail=True))
        except WorkloadError as exc:
            return str(exc)
        finally:
            json_fast.json_columns = original

    assert load(True) == load(False)


@pytest.mark.parametrize(
    "args",
    [
        lambda q: (["a"], [b"[]"], bytes(16), None),  # read-only offsets
        lambda q: (["a"], [b"[]"], q([0]), None),  # offsets too short
        lambda q: (["a"], [b"[]"], q([0, 0]), memoryview(q([0])).toreadonly()),
        lambda q: (["a"], [b"[]", b"[]"], q([0, 0]), None),  # lists of different lengths
        lambda q: (["a"], [3], q([0, 0]), None),  # not bytes-like: declined, not read
    ],
)
def test_json_needs_checks_its_arguments(args) -> None:
    def q(values):
        return array("q", values)

    k = kernels._compiled
    try:
        result = k.json_needs(*args(q))
    except (TypeError, ValueError):
        return
    assert result == -1


@pytest.mark.parametrize(
    "raw",
    [b'["a"', b'["a",]', b"[1]", b'["a" "a"]', b"null", b'{"a": 1}', b'["\\u0061"]', b'["a"] x'],
)
def test_json_needs_declines_what_is_not_a_plain_list_of_names(raw: bytes) -> None:
    assert run_kernel(["a"], [raw]) is None


@kernels.accelerated(True)  # the compiled fast path, also when the suite forces pure Python
def test_json_needs_counts_before_it_allocates_past_the_limit() -> None:
    steps = [{"id": "a"}] + [{"id": f"s{i}", "needs": ["a"] * 5} for i in range(10)]
    data = json.dumps({"steps": steps}).encode()
    past = json_fast.json_columns(data, max_dependencies=49)
    assert past is not None and past.resolved is None  # names decoded: the limit's error
    with pytest.raises(WorkloadError, match="--max-dependencies"):
        workload_file.parse_workload(data, "w.json", is_json=True,
                                     limits=Limits(max_dependencies=49))  # fmt: skip
    columns = json_fast.json_columns(data, max_dependencies=50)
    assert columns is not None and columns.resolved is not None and columns.needs is None


@kernels.accelerated(True)
def test_a_step_that_needs_itself_is_located_on_the_resolved_path() -> None:
    data = b'{"steps": [{"id": "a"}, {"id": "b", "needs": ["a", "b"]}]}'
    assert json_fast.json_columns(data).resolved is not None
    with pytest.raises(WorkloadError, match="needs itself") as info:
        workload_file.parse_workload(data, "w.json", is_json=True)
    assert info.value.location.line == 1 and info.value.location.column is not None


def test_json_needs_across_many_batches_with_short_long_and_non_ascii_ids() -> None:
    import random

    rnd = random.Random(7)
    ids = [rnd.choice(["s{}", "a-much-longer-step-id-{}", "é{}", "日本{}"]).format(i)
           for i in range(3000)]  # fmt: skip
    steps = [{"id": ids[0]}] + [
        {"id": ids[i], "needs": [ids[rnd.randrange(i)] for _ in range(rnd.randint(0, 5))]}
        for i in range(1, len(ids))
    ]
    data = json.dumps({"steps": steps}, ensure_ascii=False).encode()
    got = run_kernel(*raws_of(data))
    where = {step_id: i for i, step_id in enumerate(ids)}
    assert got == [[where[n] for n in s.get("needs", [])] for s in steps]
    # one unknown name far into the file: declined, whatever batch it falls in
    steps[2500]["needs"] = ["nobody"]
    assert run_kernel(*raws_of(json.dumps({"steps": steps}).encode())) is None
