"""Verdicts never land on the wrong side: over synthetic series whose asymptotic class is known
(closed forms, with and without noise, over several sweep shapes), each verdict is right or
``inconclusive``. The fraction classified right is measured in benchmarks/verdicts.py; the
bound rule and each case that was once wrong are in tests/test_bounds.py."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale.core.growth import assess, fit_growth, slope_trend

# Verdicts from series (core.growth) only: no kernel, tracer or process, so the pure pass
# would repeat these exactly (conftest fails a one_pass test that reaches any).
pytestmark = pytest.mark.one_pass

Series = Callable[[float], float]


def judge(xs: list[float], depth: Series, work: Series | None = None, noise: float = 0.0,
          seed: int = 0) -> tuple[str, list[str]]:  # fmt: skip
    """The verdict a sweep over ``xs`` would give (the same steps as sweep.run_sweep)."""
    rnd = random.Random(seed)
    ys = [depth(x) * (1 + rnd.uniform(-noise, noise)) for x in xs]
    ws = [(work or (lambda n: n * max(depth(n), 1)))(x) for x in xs]
    v = assess(xs, ys, ws)[2]
    return v.verdict, v.warnings


def powers(lo: int, hi: int) -> list[float]:
    return [float(2**k) for k in range(lo, hi + 1)]


def geometric(lo: float, hi: float, count: int) -> list[float]:
    ratio = (hi / lo) ** (1 / (count - 1))
    return [round(lo * ratio**i) for i in range(count)]


SHAPES = {
    "2^3..2^12": powers(3, 12),
    "2^2..2^20": powers(2, 20),
    "10..1e5 (9 sizes)": geometric(10, 1e5, 9),
    "2^4..2^16 (odd steps)": [float(2**k + 3) for k in range(4, 17, 2)],
}

PARALLEL: dict[str, Series] = {
    "constant 7": lambda n: 7.0,
    "log n": lambda n: math.log2(n),
    "3 log n + 2": lambda n: 3 * math.log2(n) + 2,
    "log^2 n": lambda n: math.log2(n) ** 2,
    "log n (log n + 1) / 2": lambda n: math.log2(n) * (math.log2(n) + 1) / 2,
    "log^3 n": lambda n: math.log2(n) ** 3,
    "log^5 n": lambda n: math.log2(n) ** 5,
    "log^6 n": lambda n: math.log2(n) ** 6,
    "log n · log log n": lambda n: math.log2(n) * math.log2(math.log2(n)),
    "2 log^1.5 n": lambda n: 2 * math.log2(n) ** 1.5,
}
SERIAL: dict[str, Series] = {
    "n": lambda n: n,
    "n - 1": lambda n: n - 1,
    "n^0.25": lambda n: n**0.25,
    "3 n^0.33": lambda n: 3 * n ** (1 / 3),
    "n^0.5": lambda n: n**0.5,
    "n log n": lambda n: n * math.log2(n),
    "n^2 + n": lambda n: n * n + n,
    "n^1.5": lambda n: n**1.5,
}


def _check(expected: str, got: str, warnings: list[str], what: str) -> None:
    assert got in (expected, "inconclusive"), (what, got, warnings)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("name", sorted(PARALLEL))
def test_polylogarithmic_depths_are_never_called_serial(name: str, shape: str) -> None:
    got, warnings = judge(SHAPES[shape], PARALLEL[name])
    _check("parallelizable", got, warnings, (name, shape))


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("name", sorted(SERIAL))
def test_polynomial_depths_are_never_called_parallel(name: str, shape: str) -> None:
    got, warnings = judge(SHAPES[shape], SERIAL[name])
    _check("serial", got, warnings, (name, shape))


@pytest.mark.parametrize("name", ["n", "n^2 + n", "n log n", "n^0.5"])
def test_clear_polynomials_over_a_wide_sweep_are_confidently_serial(name: str) -> None:
    assert judge(SHAPES["2^2..2^20"], SERIAL[name])[0] == "serial"


@pytest.mark.parametrize("name", ["log n", "log^2 n", "log^5 n", "constant 7",
                                  "log n · log log n"])  # fmt: skip
def test_clear_polylogarithms_over_a_wide_sweep_are_confidently_parallel(name: str) -> None:
    assert judge(SHAPES["2^2..2^20"], PARALLEL[name])[0] == "parallelizable"


def test_small_powers_are_told_from_large_polylogs_by_their_slopes() -> None:
    xs = SHAPES["2^2..2^20"]
    small_power = slope_trend(xs, [x**0.25 for x in xs])
    big_polylog = slope_trend(xs, [math.log2(x) ** 5 for x in xs])
    assert small_power is not None and big_polylog is not None
    assert small_power.alpha == pytest.approx(0.25, abs=0.01)
    assert abs(big_polylog.alpha) < 0.1


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(SHAPES)),
    st.sampled_from(["polylog", "poly"]),
    st.floats(min_value=0.1, max_value=50),  # scale a
    st.floats(min_value=1.0, max_value=6.0),  # k
    st.floats(min_value=0.2, max_value=3.0),  # p
    st.floats(min_value=0.0, max_value=0.3),  # noise
    st.integers(0, 1000),
)
def test_random_series_are_right_or_inconclusive(shape, family, a, k, p, noise, seed) -> None:
    if family == "polylog":
        series: Series = lambda n: a * math.log2(n) ** k  # noqa: E731
        expected = "parallelizable"
    else:
        series = lambda n: a * n**p  # noqa: E731
        expected = "serial"
    got, warnings = judge(SHAPES[shape], series, noise=noise, seed=seed)
    _check(expected, got, warnings, (family, a, k, p, noise))


def test_a_falling_depth_is_never_serial() -> None:
    xs = SHAPES["2^3..2^12"]
    got, warnings = judge(xs, lambda n: 1000 / n + 5)
    assert got == "inconclusive" and any("falls" in w for w in warnings)
    assert fit_growth(xs, [1000 / x + 5 for x in xs]).cls == "decreasing"


def test_a_saturating_depth_is_never_serial() -> None:
    got, _ = judge(SHAPES["2^3..2^12"], lambda n: min(n, 100.0))
    assert got in ("parallelizable", "inconclusive")


def test_a_transient_is_not_classified_by_whichever_regime_dominates() -> None:
    # linear up to 256, logarithmic after: the upper half disagrees with the whole
    depth = lambda n: n if n <= 256 else 256 + 20 * math.log2(n / 256)  # noqa: E731
    got, warnings = judge(SHAPES["2^3..2^12"], depth)
    assert got == "inconclusive" and warnings, warnings


def test_three_points_fitted_exactly_are_inconclusive() -> None:
    # a tree reduction at sizes that are not powers of two: ceil(log2 n)
    got, warnings = judge([10.0, 100.0, 1000.0], lambda n: math.ceil(math.log2(n)))
    assert got == "inconclusive" and any("only 3 sizes" in w for w in warnings)


def test_a_narrow_span_is_inconclusive() -> None:
    got, warnings = judge([100.0, 120.0, 140.0, 160.0, 180.0], lambda n: n)
    assert got == "inconclusive" and any("span" in w for w in warnings)


def test_noisy_measurements_are_inconclusive() -> None:
    xs = SHAPES["2^3..2^12"]
    got, _ = judge(xs, lambda n: n, noise=0.6, seed=3)
    assert got in ("serial", "inconclusive")
    noisy = [x * (1 + random.Random(1).uniform(-0.8, 0.8)) for x in xs]
    assert fit_growth(xs, noisy).error > 0.1 or got == "inconclusive"


def test_exponential_work_is_named_and_not_called_nc() -> None:
    xs = [float(n) for n in range(4, 25, 2)]
    work = fit_growth(xs, [2.0**x for x in xs])
    assert work.cls == "exponential" and work.exponent == pytest.approx(1.0, abs=0.01)
    got, warnings = judge(xs, lambda n: math.log2(n), work=lambda n: 2.0**n)
    assert got == "inconclusive" and any("exponential" in w for w in warnings)


def test_an_exponential_depth_is_serial() -> None:
    xs = [float(n) for n in range(4, 25, 2)]
    assert fit_growth(xs, [3 * 2.0**x for x in xs]).cls == "exponential"
    wide = [float(n) for n in range(4, 68, 4)]  # a 16x span
    depth = [3 * 2.0**x for x in wide]
    got = assess(wide, depth, [x * d for x, d in zip(wide, depth, strict=True)])[2]
    assert got.verdict == "serial" and got.complexity == "exponential depth", got.warnings


@pytest.mark.slow  # classification only (no kernel, no tracer): the compiled pass runs it
@settings(max_examples=20, deadline=None)
@given(
    rate=st.floats(min_value=0.25, max_value=2.0),
    scale=st.floats(min_value=0.5, max_value=100.0),
    start=st.integers(min_value=2, max_value=8),
)
def test_an_exponential_depth_is_never_called_parallelizable(
    rate: float, scale: float, start: int
) -> None:
    """Whatever its rate, scale or first size, a depth of c·2^(r·n) over a 16x span is serial:
    never ``parallelizable`` (the verdict is what users act on), nor set aside as unsure."""
    xs = [float(n) for n in range(start, 16 * start + 1, start)]
    depth = [scale * 2.0 ** (rate * x) for x in xs]
    work = [x * d for x, d in zip(xs, depth, strict=True)]
    depth_fit, _, got = assess(xs, depth, work)
    assert depth_fit.cls == "exponential"
    assert got.verdict != "parallelizable"
    assert got.verdict == "serial", got.warnings


def test_polylogarithms_beyond_the_grid_are_still_polylogarithms() -> None:
    xs = SHAPES["2^2..2^20"]
    g = fit_growth(xs, [math.log2(x) ** 9 for x in xs])
    assert g.cls == "polylogarithmic" and g.exponent == pytest.approx(9, abs=0.05)
    assert judge(xs, lambda n: math.log2(n) ** 9)[0] in ("parallelizable", "inconclusive")


def test_every_entry_names_its_runner_up() -> None:
    xs = SHAPES["2^3..2^12"]
    entry = fit_growth(xs, [x**0.5 for x in xs]).entry("n")
    assert entry.cls == "polynomial" and entry.runner_up is not None
    assert entry.runner_up.cls != "polynomial" and entry.runner_up.error >= entry.error


def test_an_undecided_fit_is_not_called_the_best_when_another_fits_closer() -> None:
    """Binary search's staircase of depths (9, 9, 17, 17, ... at n = 8..512): the sweep is
    undecided and shows the simplest model not ruled out (a constant), while a
    polylogarithm fits closer; it said the constant fitted best, beside a 'runner-up' with a
    smaller error."""
    from serialscale.core.growth import fit_growth, verdict

    xs = [8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]
    ys = [9.0, 9.0, 17.0, 17.0, 25.0, 25.0, 33.0]
    depth = fit_growth(xs, ys)
    assert depth.runner_up is not None and depth.runner_up.error < depth.error  # the premise
    said = verdict(xs, depth, fit_growth(xs, [y * 2 for y in ys]), None)
    assert said.verdict == "inconclusive"
    assert "best" not in said.explanation and "fits closer" in said.explanation
