"""The compiled tape (src/serialscale/accel/csrc/tape.c) through its private module: the garbage
collector sees what a tape holds, numbers from Python are checked before they are narrowed
to the tape's int32 sites, and the compiled max/min/sum behave as the builtins outside a
recording run (issue 27's C points; issue 23 part 3)."""

from __future__ import annotations

import gc
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

_tape = pytest.importorskip("serialscale.accel._tape", reason="the compiled tracer was not built")


class Holder:
    """A plain object that can hold a tape and be weakly referenced."""


@pytest.mark.parametrize("field", ["ctl_frame", "quiet_frame"])
@pytest.mark.parametrize("subclass", [False, True])
def test_a_cycle_through_a_tape_is_collected(field: str, subclass: bool) -> None:
    """A frame held by the tape whose locals hold the recorder is a reference cycle: the
    collector must see the tape's references to free it."""
    kind = type("Recorder", (_tape.Tape,), {}) if subclass else _tape.Tape
    tape, holder = kind(), Holder()
    holder.tape = tape
    setattr(tape, field, holder)
    gone = weakref.ref(holder)
    del tape, holder
    gc.collect()
    assert gone() is None


class _SiteRecorder(_tape.Tape):
    """A tape whose recorder names every new call site ``site``."""

    site = 0

    def site_index(self, op: str, frame: object) -> int:
        return self.site

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("site", [2**32 + 5, 2**31, -3])
def test_a_site_index_outside_int32_is_an_error_not_a_wrapped_site(site: int) -> None:
    from serialscale.trace.recorder import COMPILED
    from serialscale.trace.values import Traced, _active

    if not COMPILED:
        pytest.skip("pure Python is forced: traced values have no compiled operators")
    rec = _SiteRecorder()
    rec.site = site
    token = _active.set(rec)
    try:
        with pytest.raises(ValueError, match=r"site_index\(\) returned"):
            Traced(1.0, -1) + 2.0
    finally:
        _active.reset(token)
    assert rec.count == 0 and len(rec.column(0)) == 0


@pytest.mark.parametrize("compiled", [True, False])
def test_zero_costs_are_steps_recorded_and_taken_once(compiled: bool) -> None:
    """Steps of cost 0 (selections) are noted apart from the costs dictionary, by both
    tapes, only for steps recorded, and handed over once, in the order noted."""
    from array import array

    from serialscale.trace.recorder import PyTape

    tape = _SiteRecorder() if compiled else type("Py", (PyTape,), {"flush": lambda s: None})()
    for _ in range(3):
        tape.push(0, -1, -1)
    for bad in (-1, 3, 2**40):
        with pytest.raises(ValueError, match="not one recorded"):
            tape.zero_cost(bad)
    tape.zero_cost(2)
    tape.zero_cost(0)
    assert array("q", tape.take_zero_costs()).tolist() == [2, 0]
    assert tape.take_zero_costs() == b""


def test_push_checks_the_site_and_the_count() -> None:
    tape = _SiteRecorder()
    with pytest.raises(ValueError, match="negative"):
        tape.push(-1, 0, 0)
    with pytest.raises(OverflowError):
        tape.push(2**31, -1, -1)
    assert tape.push(3, -1, -1) == 0 and tape.push(3, 0, 0) == 1
    with pytest.raises(AttributeError):
        tape.count = 7  # the number of steps in the columns: never set from outside
    assert tape.count == 2 and tape.column(1).tolist() == [-1, 0]


def test_selectors_check_their_arguments_and_are_the_builtins_outside_a_run() -> None:
    with pytest.raises(ValueError, match="max, min, sum, heappush or heappop"):
        _tape.selector("median", max, max)
    with pytest.raises(TypeError, match="callable"):
        _tape.selector("max", 1, max)
    biggest = _tape.selector("max", max, lambda *a, **k: pytest.fail("no run: the builtin"))
    total = _tape.selector("sum", sum, lambda *a, **k: pytest.fail("no run: the builtin"))
    assert biggest.__name__ == "max"
    assert biggest([3, 9, 2]) == 9 and biggest(1, 5) == 5 and biggest([], default=7) == 7
    assert total([1, 2, 3], 10) == 16 and total([[1], [2]], start=[]) == [1, 2]
    with pytest.raises(TypeError):
        biggest()
    import math

    root = _tape.passthrough("sqrt", math.sqrt, lambda *a: pytest.fail("no run: the original"))
    assert root.__name__ == "sqrt" and root(16.0) == 4.0
    with pytest.raises(TypeError, match="callable"):
        _tape.passthrough("sqrt", None, math.sqrt)
    gc.collect()  # a selector's references are visible to the collector (no crash)


def test_setup_selection_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="derive from Value"):
        _tape.setup_selection(int, lambda x: x)
    with pytest.raises(TypeError, match="callable"):
        _tape.setup_selection(_tape.Value, 3)


class _Number(float):
    """A float subclass: not a plain number to the bulk path, so each is one ``input``."""


_ITEMS = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.booleans(),
    st.complex_numbers(allow_nan=False), st.text(max_size=3),
    st.lists(st.integers(0, 3), max_size=2), st.floats(-5, 5).map(_Number), st.none(),
)  # fmt: skip


def _bulk_inputs() -> list:
    """The pure twin of ``inputs``, and the compiled one when the tracer uses it (set up)."""
    from serialscale.trace import api
    from serialscale.trace.recorder import COMPILED

    return [api._pure_inputs, *([_tape.inputs] if COMPILED else [])]


@settings(max_examples=60, deadline=None)
@given(st.lists(_ITEMS, max_size=12), st.booleans())
def test_bulk_inputs_are_what_input_makes_of_each_item(items: list, generator: bool) -> None:
    """The compiled ``inputs`` and its pure twin give, item for item, what ``ss.input``
    gives: the same class, the very value object (not a copy), no step."""
    from serialscale.trace import api

    oracle = [api.input(v) for v in items]
    for bulk in _bulk_inputs():
        got = bulk((v for v in items) if generator else items, api.input)
        assert [type(t) for t in got] == [type(t) for t in oracle]
        assert all(t.value is v and t.node == -1 for t, v in zip(got, items, strict=True))


def test_bulk_inputs_errors_are_the_iterations_and_the_arguments() -> None:
    from serialscale.trace import api

    def broken():
        yield 1.0
        raise KeyError("from the generator")

    for bulk in _bulk_inputs():
        with pytest.raises(TypeError, match="'int' object is not iterable"):
            bulk(5, api.input)
        with pytest.raises(KeyError, match="from the generator"):
            bulk(broken(), api.input)
        with pytest.raises(TypeError, match="callable"):
            bulk([1.0], None)
        with pytest.raises(ZeroDivisionError):
            bulk([1.0, "x"], lambda v: 1 / 0)
        assert bulk([], api.input) == []
    with pytest.raises(TypeError):
        _tape.inputs([1.0])


def test_reused_traced_values_keep_their_class_counted_and_the_collector_informed() -> None:
    """Traced values freed and made again (the compiled tape keeps some for reuse) hold
    exactly one reference to their class each, are seen by the collector again, and carry
    what they were given."""
    import sys

    from serialscale.trace import Traced, api, run_traced

    def run() -> list:
        return [x * 2 + 1 for x in api.inputs(range(2000))]

    run_traced(run, {})  # the first run's lasting references (patched functions, caches)
    gc.collect()
    before = sys.getrefcount(Traced)
    for _ in range(3):
        made = api.inputs([float(i) for i in range(3000)])
        assert sys.getrefcount(Traced) == before + len(made)
        assert all(t.node == -1 for t in made)
        assert [t.value for t in made] == [float(i) for i in range(3000)]
        del made
        assert sys.getrefcount(Traced) == before
        trace = run_traced(run, {})
        assert [t.value for t in trace.result[:3]] == [1, 3, 5] and trace.recorder.count == 4000
        del trace
        gc.collect()
        assert sys.getrefcount(Traced) == before
    holders = [Holder(), Holder()]
    cycles = [api.input(holders[0]), api.input(2.5)]  # a value with items; a number
    cycles[1].value = holders[1]  # a number (left untracked by the compiled tape) no more
    for holder, cycle in zip(holders, cycles, strict=True):
        holder.value = cycle  # a cycle through the traced value
    gone = [weakref.ref(h) for h in holders]
    del holders, cycles, holder, cycle
    gc.collect()
    assert [g() for g in gone] == [None, None]


def test_steps_set_aside_in_buffers_reach_the_arrays_in_order() -> None:
    """More steps than several pending buffers hold (each set aside when full, appended to
    the arrays at once by flush), with flushes in between: every step is where it was
    recorded, needing the one before (a chain), with the select steps' zero costs."""
    from serialscale.trace import api, run_traced
    from serialscale.trace.recorder import FLUSH_STEPS

    n = 3 * FLUSH_STEPS + 5

    def chain() -> object:
        x, y = api.inputs([0, 1])
        for k in range(n):
            x = x + y
            if k == FLUSH_STEPS + 7:
                x = max(x, y)  # a comparison and a select of cost 0
        return x

    rec = run_traced(chain, {}).recorder
    rec.flush()
    assert len(rec.site) == len(rec.a) == len(rec.c) == rec.count == n + 2
    assert rec.a.tolist() == [-1, *range(n + 1)]  # the select needs the comparison first
    assert {k: b for k, b in enumerate(rec.b) if b >= 0} == {FLUSH_STEPS + 9: FLUSH_STEPS + 7}
    assert rec.zero_steps.tolist() == [FLUSH_STEPS + 9]
    costs = rec.cost_array(rec.count)
    assert costs.count(0) == 1 and costs[FLUSH_STEPS + 9] == 0


def test_columns_are_lent_as_buffers_that_pin_them() -> None:
    """The compiled tape keeps its steps in int32 columns it lends as memoryviews: sites
    read-only, needs writable (a watched sort's comparisons are rewritten). While a view is
    held the columns cannot move: a step that needs them to grow is refused (BufferError),
    and recorded once the view is released."""
    from serialscale.trace.recorder import FLUSH_STEPS

    tape = _tape.Tape()
    for k in range(FLUSH_STEPS):  # exactly the first room: the next step needs more
        assert tape.push(k % 5, k - 1, -1) == k
    sites, needs = tape.column(0), tape.column(1)
    assert (sites.format, sites.itemsize, sites.readonly) == ("i", 4, True)
    assert (needs.format, needs.itemsize, needs.readonly) == ("i", 4, False)
    assert len(sites) == len(needs) == FLUSH_STEPS
    assert sites[FLUSH_STEPS - 1] == (FLUSH_STEPS - 1) % 5 and needs[0] == -1
    with pytest.raises(TypeError):
        sites[0] = 3  # sites name labels: never rewritten
    with pytest.raises(BufferError, match="lent"):
        tape.push(0, 1, -1)
    assert tape.count == FLUSH_STEPS
    needs[1] = 7  # written through the view: the tape's own memory
    del sites, needs
    assert tape.push(0, 1, -1) == FLUSH_STEPS  # released: the columns grow (and keep all)
    assert tape.column(1)[1] == 7 and tape.column(1).tolist()[-2:] == [FLUSH_STEPS - 2, 1]
    assert tape.column(0).tolist() == [k % 5 for k in range(FLUSH_STEPS)] + [0]
    for bad in (-1, 4, 2**70):
        with pytest.raises((ValueError, OverflowError)):
            tape.column(bad)


def test_a_spill_override_must_restart_the_pending_count() -> None:
    """Every FLUSH_STEPS steps the tape calls spill(); an override that does not call the
    tape's own would let the count run on unchecked: the step is refused instead."""
    from serialscale.trace.recorder import FLUSH_STEPS

    class Forgetful(_tape.Tape):
        def spill(self) -> None:
            pass

    class Checking(_tape.Tape):
        spills = 0

        def spill(self) -> None:
            type(self).spills += 1
            super().spill()

    forgetful, checking = Forgetful(), Checking()
    for _ in range(FLUSH_STEPS):
        forgetful.push(0, -1, -1)
    with pytest.raises(RuntimeError, match="spill"):
        forgetful.push(0, -1, -1)
    for _ in range(2 * FLUSH_STEPS + 1):
        checking.push(0, -1, -1)
    assert Checking.spills == 2 and checking.count == 2 * FLUSH_STEPS + 1


def test_traced_values_drop_their_class_reference_exactly_once() -> None:
    """The registered traced classes free their instances with the tape's own dealloc (not
    CPython's generic one); a Python subclass keeps the generic one, which calls the tape's
    as its base's. Each instance's reference to its class is dropped once either way: a
    double drop or a leak shows in the classes' reference counts."""
    import sys

    from serialscale.trace import api, run_traced
    from serialscale.trace.values import Traced, TracedItems

    class Sub(Traced):
        __slots__ = ()

    def loop() -> object:
        x, y = api.inputs([1.5, 2.5])
        for _ in range(3000):  # more values than the tape keeps for reuse
            x = x * y - x
        return x

    def counts() -> list[int]:
        gc.collect()
        return [sys.getrefcount(t) for t in (Traced, TracedItems, Sub)]

    def rounds(n: int) -> None:
        for _ in range(n):
            kept = [Traced(float(k)) for k in range(2000)]
            kept += [Traced([k]) for k in range(2000)]  # TracedItems
            kept += [Sub(float(k)) for k in range(2000)]
            del kept
            run_traced(loop, {})

    rounds(1)  # what a first run caches (types remembered by the tape, ...) is kept once
    before = counts()
    rounds(3)
    assert counts() == before


def test_a_finalizer_added_to_a_registered_class_still_runs() -> None:
    """A class registered with the tape gets the tape's dealloc only when it has nothing to
    finalize; a __del__ given to it later is still called."""
    from serialscale.trace.recorder import COMPILED
    from serialscale.trace.values import Traced, _active, kind_of

    if not COMPILED:
        pytest.skip("pure Python is forced: Traced does not derive from the compiled Value")

    class Late(_tape.Value):
        __slots__ = ()

    finalized: list[object] = []
    _tape.setup(Late, _active, kind_of)
    try:
        Late.__del__ = lambda self: finalized.append(self.value)  # type: ignore[attr-defined]
        value = Late()
        value.value = 3.5
        del value
    finally:
        _tape.setup(Traced, _active, kind_of)
    assert finalized == [3.5]


def test_needs_outside_int32_are_refused_not_narrowed() -> None:
    """Needs are kept as int32: a need past 2**31 - 1 is an error, never a wrapped number
    naming another step (a negative need is none, as normalise() has it)."""
    tape = _tape.Tape()
    tape.push(0, -1, -1)
    for bad in ((2**31, -1), (0, 2**32 + 1), (2**40, 0)):
        with pytest.raises(ValueError, match="step number or -1"):
            tape.push(0, *bad)
    assert tape.count == 1 and tape.push(0, 0, -1) == 1


def _csr_oracle(rows: list[list[int]]) -> tuple[list[int], list[int]]:
    """Predecessor CSR of per-step need lists, spelled out."""
    ptr, idx = [0], []
    for row in rows:
        idx += row
        ptr.append(len(idx))
    return ptr, idx


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_tapes_csr_is_each_steps_needs_then_its_needs_beyond_three(data: st.DataObject) -> None:
    """csr() writes every step's needs (a, b, c as pushed, normalised: distinct, in order),
    then the needs beyond three given for it, as predecessor CSR: compared with the rows
    spelled out, and with the pure tape's arrays through the tape_csr kernel."""
    from array import array

    from serialscale.trace.recorder import PyTape

    n = data.draw(st.integers(1, 40))
    tape, twin = _tape.Tape(), type("Py", (PyTape,), {})()
    rows: list[list[int]] = []
    more: dict[int, list[int]] = {}
    for i in range(n):
        earlier = st.integers(-1, i - 1)
        a, b, c = data.draw(earlier), data.draw(earlier), data.draw(earlier)
        tape.push(0, a, b, c)
        twin.push(0, a, b, c)
        row = [x for x in dict.fromkeys((a, b, c)) if x >= 0]
        if i > 0 and data.draw(st.booleans()):
            more[i] = data.draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=4))
        rows.append(row + more.get(i, []))
    twin.flush()
    steps = sorted(more)
    more_steps = array("q", steps)
    more_ptr = array("q", [0])
    for s in steps:
        more_ptr.append(more_ptr[-1] + len(more[s]))
    more_idx = array("q", [x for s in steps for x in more[s]])
    ptr, idx = _csr_oracle(rows)
    m = tape.count_needs() + len(more_idx)
    assert m == twin.count_needs() + len(more_idx) == len(idx)
    for t in (tape, twin):
        pred_ptr, pred_idx = array("q", [0]) * (n + 1), array("q", [0]) * m
        assert t.csr(more_steps, more_ptr, more_idx, pred_ptr, pred_idx) == m
        assert pred_ptr.tolist() == ptr and pred_idx.tolist() == idx


def test_the_tapes_csr_checks_what_it_is_given() -> None:
    """Bad arguments to csr() are errors, never reads or writes out of bounds: outputs too
    short or read-only, more_* out of order or out of range, a need of a later step."""
    from array import array

    q = lambda *v: array("q", v)  # noqa: E731
    tape = _tape.Tape()
    for need in (-1, 0, 1):
        tape.push(0, need, -1)  # 3 steps, 2 needs
    ok = (q(), q(0), q(), q(0, 0, 0, 0), q(0, 0))
    assert tape.csr(*ok) == 2
    bad = {
        "more_ptr": (q(), q(), q(), q(0, 0, 0, 0), q(0, 0)),  # no first offset
        "more_steps must increase": (q(2, 1), q(0, 1, 2), q(0, 0), q(0, 0, 0, 0), q(0, 0, 0, 0)),
        "within the steps": (q(3), q(0, 1), q(0), q(0, 0, 0, 0), q(0, 0, 0)),
        "at most": (q(2), q(0, 5), q(0), q(0, 0, 0, 0), q(0, 0, 0)),
        "never decrease": (q(1, 2), q(0, 1, 0), q(0), q(0, 0, 0, 0), q(0, 0, 0)),
        "no earlier step": (q(1), q(0, 1), q(1), q(0, 0, 0, 0), q(0, 0, 0)),
        "too short": (q(), q(0), q(), q(0, 0, 0), q(0, 0)),
    }
    for message, args in bad.items():
        with pytest.raises(ValueError, match=message):
            tape.csr(*args)
    with pytest.raises(ValueError, match="too short for the needs"):
        tape.csr(q(), q(0), q(), q(0, 0, 0, 0), q(0))
    with pytest.raises(TypeError, match="writable"):
        tape.csr(q(), q(0), q(), memoryview(q(0, 0, 0, 0)).toreadonly(), q(0, 0))
    with pytest.raises(TypeError, match="type 'q'"):
        tape.csr(q(), array("i", [0]), q(), q(0, 0, 0, 0), q(0, 0))
    later = _tape.Tape()
    later.push(0, -1, -1)
    later.push(0, 5, -1)  # a need of a step not (yet) recorded
    with pytest.raises(ValueError, match="no earlier step"):
        later.csr(q(), q(0), q(), q(0, 0, 0), q(0))


def test_tracemalloc_sees_the_columns() -> None:
    """The columns are memory the tape maps itself (not Python's allocator): it shows them
    to tracemalloc, which measures what a trace retains (benchmarks/trace_bench.py), and
    forgets them when they move or are freed."""
    import tracemalloc

    from serialscale.trace.recorder import FLUSH_STEPS

    def column_bytes() -> int:
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.DomainFilter(True, 0x7ACE)]
        )
        return sum(stat.size for stat in snapshot.statistics("filename"))

    tracemalloc.start()
    try:
        tape = _tape.Tape()  # made while tracing: its first room is seen
        assert column_bytes() == 16 * FLUSH_STEPS
        for _ in range(FLUSH_STEPS + 1):  # grown once: the moved columns, not the old ones
            tape.push(0, -1, -1)
        assert column_bytes() == 32 * FLUSH_STEPS
        del tape
        assert column_bytes() == 0
    finally:
        tracemalloc.stop()


def test_the_operation_limit_stays_below_what_int32_steps_can_number() -> None:
    """The compiled tape numbers steps in int32: a larger --max-ops is capped below 2**31
    by both tapes (the run stops with the usual TooManyOperations, before the tape would
    have to refuse a step); smaller limits are kept as given."""
    from serialscale.trace.recorder import FLUSH_STEPS, MOST_OPS, Recorder

    assert MOST_OPS + FLUSH_STEPS < 2**31 - 1
    assert Recorder(max_ops=2**62).max_ops == MOST_OPS
    assert Recorder(max_ops=1000).max_ops == 1000


def test_a_cycle_through_a_lent_column_is_collected() -> None:
    """A column's view kept where the recorder reaches it (here: an attribute of a tape
    subclass) is a reference cycle through the tape: the collector must see the column's
    reference to free them."""
    kind = type("Recorder", (_tape.Tape,), {})
    tape = kind()
    tape.push(0, -1, -1)
    tape.kept = tape.column(1)
    gone = weakref.ref(tape)
    del tape
    gc.collect()
    assert gone() is None
