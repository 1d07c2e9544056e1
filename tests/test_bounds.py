"""Verdicts sound by construction (issue 24): serial only from a lower bound that grows
polynomially, parallelizable only from an upper bound that stays polylogarithmic; exact fits
win exactly; words that match the theory. Each case here was on the wrong side before."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.core import growth as scaling
from serialscale.core.growth import EXACT_RECORDING, Recording, Sweep, assess, decide, fit_growth
from serialscale.documents.report import ScalePoint
from serialscale.run.sweep import recording

POWERS = [float(2**k) for k in range(3, 13)]  # 8 .. 4096
WIDE = [float(2**k) for k in range(2, 21)]

FAMILIES = '''
import serialscale as ss


def newton(n: int = 8):
    x = ss.input(2.0)
    a = ss.input(2.0)
    for _ in range(n):
        x = float(x - (x * x - a) / (2 * x))  # an escape each step: a chain as written
    return x


def int_total(n: int = 8):
    xs = [ss.input(i) for i in range(n)]
    total = 0
    for x in xs:
        total = int(total + x)  # an escape each step: a chain as written
    return total


def bitonic_if(n: int = 8):
    """A sorting network with if and swaps: depth log^2 n as written."""
    a = [ss.input((i * 7919) % n) for i in range(n)]
    k = 2
    while k <= n:
        j = k // 2
        while j > 0:
            for i in range(n):
                p = i ^ j
                if p > i:
                    up = (i & k) == 0
                    if (a[i] > a[p]) == up:
                        a[i], a[p] = a[p], a[i]
            j //= 2
        k *= 2
    return a


def fixed(n: int = 8):
    xs = [ss.input(i) for i in range(4)]
    return xs[0] + xs[1] + xs[2] + xs[3]


def squarings(e: int = 8):
    x = ss.input(1.0)
    for _ in range(e.bit_length()):
        x = x * x
    return x
'''

SUM_STEP = """params: {n: 8}
steps:
  - id: "x{i}"
    foreach: {i: "range(n)"}
  - id: total
    needs:
      - {id: "x{j}", foreach: {j: "range(n)"}}
"""

TREE_SUM = """params: {n: 8}
steps:
  - id: "x{i}"
    foreach: {i: "range(n)"}
  - id: "s{i}"
    foreach: {i: "range(n // 2)"}
    needs: ["x{2 * i}", "x{2 * i + 1}"]
"""


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("families") / "families.py"
    path.write_text(FAMILIES)
    return path


def sweep_json(run_cli, target: str, sweep: str, *extra: str) -> dict:
    result = run_cli("scale", target, "--sweep", sweep, "-f", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# -- the bound rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["newton", "int_total"])
def test_escapes_count_like_left_out_branches(run_cli, families: Path, name: str) -> None:
    """A chain of length n as written, cut at every step by float() or int(): depth 4 or 1 is
    recorded. Before, `parallelizable`."""
    data = sweep_json(run_cli, f"{families}:{name}", "n=8..256")
    assert all(p["escapes"] >= p["value"] for p in data["points"])
    assert data["growth"]["depth"]["class"] == "constant"
    assert data["verdict"] == "inconclusive" and data["bound"] == "lower"
    assert any("escaped" in w and "lower bound" in w for w in data["warnings"])


@pytest.mark.parametrize("control", ["strict", "frame"])
def test_strict_and_frame_never_call_a_sorting_network_serial(run_cli, families: Path,
                                                              control: str) -> None:  # fmt: skip
    """Bitonic sort with if/swap has depth log² n as written; strict and frame chain its
    comparisons far beyond that. Before, `serial`."""
    data = sweep_json(run_cli, f"{families}:bitonic_if", "n=8..128", "--control", control)
    assert data["verdict"] != "serial"
    assert data["bound"] == ("upper" if control == "strict" else "none")
    dataflow = sweep_json(run_cli, f"{families}:bitonic_if", "n=8..128", "--control", "dataflow")
    assert dataflow["verdict"] == "inconclusive" and dataflow["bound"] == "lower"


def _points(decisions: list[int], escapes: list[int]) -> list[ScalePoint]:
    return [ScalePoint(value=2**i, steps=1, work=1, depth=1, width=1, speedup_ceiling=1,
                       control_decisions=d, escapes=e)
            for i, (d, e) in enumerate(zip(decisions, escapes, strict=True))]  # fmt: skip


@pytest.mark.parametrize(
    ("control", "decisions", "escapes", "bound"),
    [
        (None, 5, 5, "exact"),  # workload files and templates (counts are never set there)
        ("dataflow", 0, 0, "exact"),
        ("dataflow", 3, 0, "lower"),
        ("dataflow", 0, 2, "lower"),
        ("strict", 0, 0, "exact"),
        ("strict", 3, 0, "upper"),
        ("strict", 0, 2, "lower"),
        ("strict", 3, 2, "none"),
        ("frame", 0, 0, "exact"),
        ("frame", 3, 0, "none"),
        ("frame", 0, 2, "lower"),
        ("scoped", 3, 0, "exact"),
        ("scoped", 3, 2, "lower"),
    ],
)
def test_which_bound_each_mode_records(control, decisions, escapes, bound) -> None:
    got = recording(_points([decisions] * 5, [escapes] * 5), control)
    assert got.bound == bound
    if not got.upper:
        assert "upper bound" in got.no_upper
    if not got.lower:
        assert "lower bound" in got.no_lower
    # one point without the bound is enough to lose it for the sweep
    mixed = recording(_points([0, 0, 0, 0, decisions], [0, 0, 0, 0, escapes]), control)
    assert mixed.bound == bound


@pytest.mark.parametrize(
    ("side", "lower", "upper", "blocked", "expected"),
    [
        ("serial", True, True, False, "serial"),
        ("serial", True, False, False, "serial"),
        ("serial", False, True, False, "inconclusive"),
        ("serial", False, False, False, "inconclusive"),
        ("parallel", True, True, False, "parallelizable"),
        ("parallel", False, True, False, "parallelizable"),
        ("parallel", True, False, False, "inconclusive"),
        ("parallel", False, False, False, "inconclusive"),
        ("serial", True, True, True, "inconclusive"),
        ("parallel", True, True, True, "inconclusive"),
        ("decreasing", True, True, False, "inconclusive"),
    ],
)
def test_the_decision_table(side, lower, upper, blocked, expected) -> None:
    """Every branch of the bound rule, each pinned (a flipped branch fails a row)."""
    assert decide(side, lower, upper, blocked) == expected


LOWER = Recording(True, False, "", "no upper bound here")
UPPER = Recording(False, True, "no lower bound here", "")


def test_a_lower_bound_shows_serial_and_an_upper_bound_parallel_never_the_reverse() -> None:
    xs = POWERS
    linear, log = [x - 1 for x in xs], [math.log2(x) for x in xs]
    assert assess(xs, linear, xs, "n", LOWER)[2].verdict == "serial"
    assert assess(xs, log, xs, "n", UPPER)[2].verdict == "parallelizable"
    up = assess(xs, linear, xs, "n", UPPER)[2]
    assert up.verdict == "inconclusive" and "no lower bound here" in up.warnings
    low = assess(xs, log, xs, "n", LOWER)[2]
    assert low.verdict == "inconclusive" and "no upper bound here" in low.warnings


# -- model selection --------------------------------------------------------------------------


def test_an_exact_affine_series_is_linear_not_constant() -> None:
    """A fixed 40,000-step warm-up plus n: linear, never "constant because the error is
    small". Before, `constant` and `parallelizable`."""
    for xs in (POWERS[:5], POWERS[:8]):  # n = 8..128 and 8..1024
        ys = [40000 + x for x in xs]
        g = fit_growth(xs, ys)
        assert g.cls == "polynomial" and g.exponent == pytest.approx(1, abs=1e-6)
        assert g.error < 1e-9
        assert assess(xs, ys, ys)[2].verdict == "serial"


def test_an_exact_exponential_fits_with_zero_error_and_is_serial() -> None:
    """2^n − 1 fits a + c·2^(r n) exactly (before: error 0.19 and a 'noisy' warning), and
    exponential depth (hence work) can be called serial (before: never)."""
    xs = [float(n) for n in range(4, 68, 4)]
    ys = [2.0**x - 1 for x in xs]
    g = fit_growth(xs, ys)
    assert g.cls == "exponential" and g.error < 1e-9 and g.exponent == pytest.approx(1)
    for x, y in zip(xs, ys, strict=True):
        assert g.predict(x) == pytest.approx(y, rel=1e-9)
    assert assess(xs, ys, ys)[2].verdict == "serial"


def test_exponential_work_rules_out_parallelizable() -> None:
    xs = [float(n) for n in range(4, 68, 4)]
    got = assess(xs, [math.log2(x) for x in xs], [2.0**x for x in xs])[2]
    assert got.verdict == "inconclusive" and any("exponential" in w for w in got.warnings)


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
def test_a_tiny_power_with_scatter_is_not_called_parallel() -> None:
    """n^0.05 with 1% scatter. Before, `parallelizable` (slope under the 0.1 cut-off)."""
    for seed in range(20):
        rnd = random.Random(seed)
        ys = [x**0.05 * (1 + rnd.uniform(-0.01, 0.01)) for x in POWERS]
        assert assess(POWERS, ys, [x * y for x, y in zip(POWERS, ys, strict=True)])[2].verdict \
            != "parallelizable", seed  # fmt: skip
    exact = [x**0.05 for x in POWERS]
    assert assess(POWERS, exact, POWERS)[2].verdict == "serial"  # exact: decided exactly


@pytest.mark.parametrize(
    ("xs", "depth"),
    [
        ([float(3**k) for k in range(1, 10)], lambda n: math.ceil(math.log2(n))),
        ([float(3**k) for k in range(1, 10)], lambda n: 2 * math.ceil(math.log2(n))),
        ([round(10 * 10 ** (i / 2)) for i in range(9)], lambda n: 2 * math.ceil(math.log2(n))),
        ([float(3**k) for k in range(2, 12)], lambda n: math.ceil(math.log2(n)) + 3),
    ],
)
def test_integer_staircases_of_log_n_stay_logarithmic(xs, depth) -> None:
    """A real scan's ⌈log₂ n⌉ and integer depths over 3^k sizes: log n, decided. Before, both
    `inconclusive`."""
    ys = [float(depth(x)) for x in xs]
    g = fit_growth(xs, ys)
    assert g.cls == "logarithmic" and not g.warnings
    assert assess(xs, ys, [x * 2 for x in xs])[2].verdict == "parallelizable"


def test_a_small_integer_staircase_is_not_classified_on_its_steps() -> None:
    # ⌈n^0.1⌉ rises by one step only: no staircase rule, so no confident polylog
    ys = [float(math.ceil(x**0.1)) for x in POWERS]
    assert assess(POWERS, ys, POWERS)[2].verdict != "parallelizable"


def test_upper_half_refits_need_enough_points() -> None:
    """Eight sizes: an upper half of 4 is not re-fitted (before, 3 points chose n^0.17)."""
    xs = POWERS[:8]
    assert scaling.upper_half(xs, [math.log2(x) for x in xs]) is None
    assert scaling.upper_half(POWERS, [math.log2(x) for x in POWERS]) is not None


def test_a_sweep_that_does_not_change_the_graph_is_inconclusive() -> None:
    """Before, `parallelizable` and "processors keep paying off"."""
    xs, same = POWERS, [5.0] * len(POWERS)
    got = assess(xs, same, [9.0] * len(xs), "n", EXACT_RECORDING, Sweep(widths=[3.0] * len(xs)))[2]
    assert got.verdict == "inconclusive"
    assert any("does not change the graph" in w for w in got.warnings)
    assert "paying off" not in got.explanation


def test_the_graph_unchanged_through_the_cli(run_cli, families: Path) -> None:
    data = sweep_json(run_cli, f"{families}:fixed", "n=8..256")
    assert data["verdict"] == "inconclusive"
    assert any("does not change the graph" in w for w in data["warnings"])


def test_huge_sweep_values_are_never_an_internal_error(run_cli, families: Path) -> None:
    """Sizes 2^120 .. 2^3840 (far past the floats). Before, `internal error: OverflowError`."""
    values = ",".join(str(2**k) for k in (120, 240, 480, 960, 1920, 3840))
    data = sweep_json(run_cli, f"{families}:squarings", f"e={values}", "--predict", "e=1e300")
    assert [p["value"] for p in data["points"]] == [2**k for k in (120, 240, 480, 960, 1920, 3840)]
    assert [p["depth"] for p in data["points"]] == [k + 1 for k in (120, 240, 480, 960, 1920, 3840)]
    assert data["growth"]["depth"]["class"] == "logarithmic"
    assert data["prediction"]["depth"] == pytest.approx(math.log2(1e300) + 1)
    table = run_cli("scale", f"{families}:squarings", "--sweep", f"e={values}")
    assert table.exit_code == 0 and "internal error" not in table.output
    assert "2^120..2^3840" in table.stdout


# -- words ------------------------------------------------------------------------------------


def test_processors_pay_off_only_when_work_over_depth_grows() -> None:
    xs = POWERS
    log = [math.log2(x) for x in xs]
    growing = assess(xs, log, [x - 1 for x in xs])[2]
    assert growing.verdict == "parallelizable" and "keep paying off" in growing.explanation
    flat = assess(xs, log, [2 * y for y in log])[2]  # work/depth stays 2
    assert flat.verdict == "parallelizable" and "keep paying off" not in flat.explanation
    assert "does not grow" in flat.explanation


def test_scale_says_why_it_differs_from_analyze_at_one_size() -> None:
    xs = POWERS
    chain = [x for x in xs]
    sweep = Sweep(ceilings=[32.0] * len(xs))  # analyze sees a wide graph at one size
    serial = assess(xs, chain, [32 * x for x in xs], "n", EXACT_RECORDING, sweep)[2]
    assert serial.verdict == "serial" and "one size" in serial.explanation


def test_serial_words_condition_on_the_theory_exactly() -> None:
    got = assess(POWERS, list(POWERS), POWERS)[2]
    assert got.verdict == "serial"
    assert "much better" not in got.explanation
    assert "P-complete" in got.explanation and "NC ≠ P" in got.explanation
    assert "√n" in got.explanation  # what NC ≠ P does not say


def test_constant_depth_with_a_growing_fan_in_is_not_nc0(run_cli, tmp_path: Path) -> None:
    """One step that sums n values: constant depth with unbounded fan-in (AC⁰/TC⁰-like); with
    bounded fan-in (pairs), NC⁰-like. Before, both `NC⁰-like`."""
    wide, pairs = tmp_path / "sum.yaml", tmp_path / "pairs.yaml"
    wide.write_text(SUM_STEP)
    pairs.write_text(TREE_SUM)
    data = sweep_json(run_cli, str(wide), "n=8..1024")
    assert [p["fan_in"] for p in data["points"]] == [2**k for k in range(3, 11)]
    assert data["complexity"] == "constant depth with unbounded fan-in (AC⁰/TC⁰-like)"
    assert data["verdict"] == "parallelizable"
    bounded = sweep_json(run_cli, str(pairs), "n=8..1024")
    assert bounded["complexity"] == "constant depth with bounded fan-in (NC⁰-like)"


def test_exponents_say_over_which_sizes_and_predict_from_where_to_where(run_cli) -> None:
    from .conftest import WORKLOADS

    target = str(WORKLOADS / "sweeps" / "scan_sequential.yaml")
    table = run_cli("scale", target, "--sweep", "n=8..256", "--predict", "n=65536")
    assert table.exit_code == 0, table.stderr
    assert "over n = 8..256" in table.stdout
    assert (
        "Extrapolating the fits over n = 8..256" in table.stdout
        and "8..256" in table.stdout
        and "65,536" in table.stdout
    )
    md = run_cli("scale", target, "--sweep", "n=8..256", "--predict", "n=65536", "-f", "markdown")
    assert "Extrapolating" in md.stdout and "8..256" in md.stdout


# -- properties -------------------------------------------------------------------------------

SHAPES = [POWERS, WIDE, [round(10 * 10 ** (i / 2)) for i in range(9)],
          [float(3**k) for k in range(1, 10)],
          [float(2**k + 3) for k in range(4, 17, 2)]]  # fmt: skip


@pytest.mark.slow  # classification only (no kernel, no tracer): the compiled pass runs it
@settings(max_examples=60, deadline=None)
@given(st.sampled_from(range(len(SHAPES))), st.floats(0.5, 4.0), st.floats(0.01, 100.0),
       st.floats(0.0, 1000.0))  # fmt: skip
def test_exact_polynomials_of_degree_half_or_more_are_never_parallelizable(shape, p, b, a) -> None:
    xs = SHAPES[shape]
    ys = [a + b * x**p for x in xs]
    assert assess(xs, ys, [x * y for x, y in zip(xs, ys, strict=True)])[2].verdict \
        != "parallelizable"  # fmt: skip


@pytest.mark.slow  # classification only (no kernel, no tracer): the compiled pass runs it
@settings(max_examples=60, deadline=None)
@given(st.sampled_from(range(len(SHAPES))), st.floats(0.2, 4.0), st.floats(0.01, 100.0),
       st.floats(0.0, 1000.0))  # fmt: skip
def test_polylogarithms_up_to_the_fourth_power_are_never_serial(shape, k, b, a) -> None:
    xs = SHAPES[shape]
    ys = [a + b * math.log2(x) ** k for x in xs]
    assert assess(xs, ys, [x * y for x, y in zip(xs, ys, strict=True)])[2].verdict != "serial"


def test_a_few_rounded_integers_on_a_log_line_are_not_called_parallel() -> None:
    """⌈20·n^0.1⌉ at n = 8..128 is 25, 27, 29, 31, 33: exactly logarithmic by rounding alone.
    Five integer sizes cannot decide that; six can (the staircase test below)."""
    xs = [float(2**k) for k in range(3, 8)]
    ys = [float(math.ceil(20 * x**0.1)) for x in xs]
    assert ys == [25, 27, 29, 31, 33]
    got = assess(xs, ys, [x * y for x, y in zip(xs, ys, strict=True)])[2]
    assert got.verdict == "inconclusive" and any("rounding" in w for w in got.warnings)


@pytest.mark.slow  # classification only (no kernel, no tracer): the compiled pass runs it
@pytest.mark.parametrize("shape", range(len(SHAPES)))
def test_rounded_powers_are_never_parallel_and_rounded_polylogs_never_serial(shape) -> None:
    xs = SHAPES[shape]
    for c in (5.0, 20.0, 100.0):
        for p in (0.15, 0.3, 0.5):
            ys = [float(math.ceil(c * x**p)) for x in xs]
            if len(set(ys)) > 1:  # a power that rounds to one value over the sweep is flat
                got = assess(xs, ys, [x * y for x, y in zip(xs, ys, strict=True)])[2]
                assert got.verdict != "parallelizable", (c, p, ys)
        for k in (1.0, 2.0, 4.0):
            ys = [float(math.ceil(c * math.log2(x) ** k)) for x in xs]
            got = assess(xs, ys, [x * y for x, y in zip(xs, ys, strict=True)])[2]
            assert got.verdict != "serial", (c, k, ys)
