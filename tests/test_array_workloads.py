"""The numpy workloads of the seed's contrasts (workloads/arrays.py) and their verdicts.

Depths are checked against hand counts from the cost table (README: Array programs); verdicts
follow the bound rule (an exact recording: no escapes, no branches, every operation in the
table).
"""

from __future__ import annotations

import pytest

pytest.importorskip("numpy")

from serialscale.core.analysis import analyze_workload
from serialscale.run.sweep import run_sweep
from serialscale.sources.python_targets import trace_workload

from .conftest import WORKLOADS

TARGET = str(WORKLOADS / "arrays.py")


def _depth(function: str, **params: int) -> int:
    workload = trace_workload(f"{TARGET}:{function}", {k: str(v) for k, v in params.items()})
    return analyze_workload(workload).depth


def test_depths_by_hand():
    # rnn, d = 16: a matmul is ⌈log₂ 16⌉ + 1 = 5 rounds; per step matmul, add, tanh (7),
    # the first step's x_t read (1) beside W h; so 7T + 1.
    assert [_depth("rnn", T=t) for t in (1, 2, 5)] == [8, 15, 36]
    # prefix sum: ⌈log₂ n⌉ rounds of (slice, concatenate, add).
    assert [_depth("prefix_sum", n=n) for n in (2, 8, 9, 64)] == [3, 9, 12, 18]
    # rule 110: per generation a roll, two ands, an invert and an and (the or runs beside).
    assert [_depth("rule110", generations=g) for g in (1, 3)] == [5, 15]
    # attention, d = 16: x @ Wk (5), kᵀ (1), q @ kᵀ (5), / √d (1), max over T (⌈log₂ T⌉),
    # subtract (1), exp (1), sum over T (⌈log₂ T⌉), divide (1), @ v (⌈log₂ T⌉ + 1).
    for t in (8, 64):
        k = (t - 1).bit_length()
        assert _depth("attention", T=t) == 5 + 1 + 5 + 1 + k + 1 + 1 + k + 1 + k + 1


@pytest.mark.parametrize(
    ("function", "sweep", "verdict", "complexity"),
    [
        ("rnn", ("T", [4, 8, 16, 32, 64]), "serial", "polynomial depth"),
        ("attention", ("T", [8, 16, 32, 64, 128, 256]), "parallelizable",
         "polylogarithmic depth (NC-like)"),
        ("diffusion", ("size", [4, 8, 16, 32, 64]), "parallelizable",
         "constant depth with bounded fan-in (NC⁰-like)"),
        ("diffusion", ("steps", [2, 4, 8, 16, 32]), "serial", "polynomial depth"),
        ("rule110", ("generations", [4, 8, 16, 32, 64]), "serial", "polynomial depth"),
        ("prefix_sum", ("n", [8, 16, 32, 64, 128, 256, 512]), "parallelizable",
         "polylogarithmic depth (NC-like)"),
    ],
)  # fmt: skip
def test_the_seeds_contrasts_get_their_verdicts(function, sweep, verdict, complexity):
    name, values = sweep
    report = run_sweep(f"{TARGET}:{function}", name, values)
    assert report.bound == "exact"
    assert report.verdict == verdict, report.explanation
    assert report.complexity == complexity


def test_operations_outside_the_table_leave_no_bound(tmp_path):
    (tmp_path / "odd.py").write_text(
        "import numpy as np\nimport serialscale as ss\n\n"
        "def odd(n: int = 8):\n"
        "    x = ss.input(np.arange(float(n)))\n"
        "    for _ in range(n):\n"
        "        x = np.diff(np.concatenate([x, x[:1]]))\n"
        "    return x\n"
    )
    report = run_sweep(f"{tmp_path / 'odd.py'}:odd", "n", [4, 8, 16, 32, 64])
    assert report.bound == "none"
    assert report.verdict == "inconclusive"
    assert all(p.unmodelled == 1 for p in report.points)
    assert any("not in the cost table" in w for w in report.warnings)
