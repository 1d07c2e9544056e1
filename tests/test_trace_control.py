"""--control frame: a branch on a traced value is a need of the steps recorded afterwards in
the same call, until it returns (issue 13). Checked against the steps written out by hand,
and against the closed-form depth of a merge written with ``if``."""

from __future__ import annotations

import sys

import pytest

import serialscale as ss
from serialscale import analyze_workload
from serialscale.sources.python_targets import trace_function
from serialscale.trace import run_traced

from .conftest import WORKLOADS

sys.path.insert(0, str(WORKLOADS))
import algorithms  # the bundled classic algorithms


def needs_of(workload) -> list[tuple[str, list[str]]]:
    """Each step in recording order: its operation, and the operations of its needs."""
    g = workload.graph
    op = [step_id.split("@")[0].split("#")[0] for step_id in g.ids]
    return [(op[i], sorted(op[j] for j in g.preds(i))) for i in range(g.n)]


def helper(x):
    if x > 0:  # a decision in the callee
        return x + 1
    return x - 1


def caller(n: int = 1):
    a, b = ss.inputs([1, 2])
    y = helper(a)  # gt#1 decided inside helper: add#1 needs it
    z = b * 2  # the caller has decided nothing yet: mul#1 needs nothing
    if y > z:  # gt#2 (needs add#1 and mul#1), a decision in the caller
        pass
    return b - 1  # sub#1 needs gt#2


@pytest.mark.parametrize(
    ("control", "expected"),
    [
        ("dataflow", [("gt", []), ("add", []), ("mul", []), ("gt", ["add", "mul"]),
                      ("sub", [])]),
        ("frame", [("gt", []), ("add", ["gt"]), ("mul", []), ("gt", ["add", "mul"]),
                   ("sub", ["gt"])]),
        ("strict", [("gt", []), ("add", ["gt"]), ("mul", ["gt"]), ("gt", ["add", "gt", "mul"]),
                    ("sub", ["gt"])]),
    ],
)  # fmt: skip
def test_each_mode_adds_the_control_needs_it_promises(control: str, expected: dict) -> None:
    assert needs_of(trace_function(caller, {}, control=control)) == expected


def merge_with_if(n: int = 16):
    """One merge of two sorted halves written with ``if``: n - 1 comparisons at most."""
    xs = ss.inputs(range(n))
    return algorithms.merge_with_if(xs[0::2], xs[1::2])


@pytest.mark.parametrize("n", [16, 64, 256])
def test_a_merge_written_with_if_is_a_chain_in_frame_mode(n: int) -> None:
    # interleaved halves: the merge compares n - 1 times, each after the last decision
    depths = {c: analyze_workload(trace_function(merge_with_if, {"n": n}, control=c)).depth
              for c in ("dataflow", "frame", "strict")}  # fmt: skip
    assert depths == {"dataflow": 1, "frame": n - 1, "strict": n - 1}


def test_decisions_of_returned_calls_are_forgotten() -> None:
    def many(n: int = 600):
        total = ss.input(0)
        for k in range(n):
            total = total + helper(ss.input(k))
        return total

    trace = run_traced(many, {"n": 600}, control="frame")
    rec = trace.recorder
    assert len(rec.frames) <= 257  # purged as calls return, never one per call
    rec.purge_frames()
    assert rec.frames == {} and rec.decision < 0  # back on the fast path


def test_library_steps_carry_the_decision_of_the_call_they_are_made_in() -> None:
    def run(n: int = 1):
        a, b = ss.inputs([3, 4])
        if a < b:
            return max(a, b)  # max's comparison needs the caller's decision
        return a

    steps = needs_of(trace_function(run, {}, control="frame"))
    assert steps[0] == ("lt", [])  # the caller's decision
    assert steps[1] == ("gt", ["lt"])  # max's comparison, made in the same call
    assert needs_of(trace_function(run, {}, control="dataflow"))[1] == ("gt", [])
