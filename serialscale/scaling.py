"""Sweeps: how work, depth and width grow with a size parameter, and what the data can say.

The depth of one dependency graph is an upper bound on a problem's parallel time: a sweep
measures how an *implementation's* depth grows. Polylogarithmic depth (with polynomial work)
is the NC side; polynomial depth is serial as written. A finite sweep cannot prove
asymptotics, so :func:`fit_growth` says which class fits and how sure the data make it, and
:func:`verdict` answers ``parallelizable``, ``serial`` or ``inconclusive``.

Growth classes and their models (``L = log2(x)``):

- ``constant``: ``y = a``;
- ``logarithmic``: ``y = a + b·L``;
- ``polylogarithmic``: ``y = a + b·L^k``, ``k`` from 1.1 to 6 (``exponent`` = k), or a pure
  power ``y = b·L^k`` of any ``k``, or ``y = a + b·L·log2(L)`` (log n · log log n, reported
  with ``exponent`` null);
- ``polynomial``: ``y = a + b·x^p``, ``p`` from 0.05 to 6, or a pure power ``y = b·x^p`` of
  any ``p`` (``exponent`` = p);
- ``exponential``: ``y = c·e^(r·x)`` (``exponent`` = r / ln 2: doublings per unit of x);
- ``decreasing``: the quantity falls as x grows (by more than ``FLAT`` overall).

**Fitting.** Each model is fitted by least squares on relative residuals (weights 1/y²;
exponents by grid search in steps of 0.01); its ``error`` is the root mean square of the
relative residuals. Among the models, the one with the fewest parameters whose error is at
most ``ERROR_SLACK`` times the best error plus ``ERROR_FLOOR`` wins (exact series are
classified exactly; a richer model must earn its parameter), and the best model of another
class is the ``runner_up``.

**The polylogarithm / polynomial boundary** is not left to least squares: log^k n with large
k and n^p with small p look alike over a range. The successive log-log slopes decide:
``s = Δln y / Δln x`` shrinks like ``k / ln x`` for a polylogarithm and levels off at ``p``
for a polynomial. A straight-line fit ``s = α + β / ln x`` estimates the asymptotic slope
``α`` with a standard error; ``α`` clearly above ``POLY_MIN`` means polynomial, clearly
below means polylogarithmic, and anything else is *uncertain*. Exponential growth shows as
slopes that keep rising.

**What makes a verdict inconclusive** (each with a warning that says what would settle it):
fewer than ``MIN_CONFIDENT_POINTS`` sizes, a span (largest / smallest size) under
``MIN_SPAN``, a fit error above ``MAX_ERROR``, an uncertain boundary, an exponent at the edge
of its grid, a falling depth, or a class on the upper half of the sizes that leads to another
verdict than the whole sweep (the asymptotic regime is not reached yet); and, for traced
functions in data-flow mode, a parallel-looking depth while the branches it left out grow
with the size (that depth is then only a lower bound on the depth as written).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from msgspec import UNSET, UnsetType

from .addition import ordered_sum
from .report import GrowthEntry, RunnerUp

ERROR_SLACK = 1.5
ERROR_FLOOR = 0.01
#: Fewest sizes a growth fit needs at all.
MIN_POINTS = 3
#: Fewest sizes for a confident verdict (three points fit any three-parameter model exactly).
MIN_CONFIDENT_POINTS = 5
#: Smallest span (largest size / smallest) for a confident verdict: 16 is four doublings.
MIN_SPAN = 16.0
#: Largest fit error (relative RMS) for a confident verdict: noisier data is inconclusive.
MAX_ERROR = 0.1
#: Asymptotic log-log slope below which growth is sub-polynomial (polylogarithmic side).
POLY_MIN = 0.1
#: Relative change under which a series counts as flat (for ``decreasing``).
FLAT = 0.05
POLYLOG_POWERS = [round(1.1 + i / 100, 2) for i in range(491)]  # 1.10 .. 6.00 (1: logarithmic)
POLY_POWERS = [round(0.05 + i / 100, 2) for i in range(596)]  # 0.05 .. 6.00
CLASSES = ("constant", "logarithmic", "polylogarithmic", "polynomial", "exponential",
           "decreasing")  # fmt: skip
#: Classes of depth on the NC side (with polynomial work).
PARALLEL_CLASSES = frozenset(("constant", "logarithmic", "polylogarithmic"))
SERIAL_CLASSES = frozenset(("polynomial", "exponential"))


@dataclass(frozen=True)
class Growth:
    """How one quantity grows: class, exponent, fitted ``y = a + b·basis(x)``, error, the
    runner-up, and the warnings that make the class uncertain."""

    cls: str
    exponent: float | None
    a: float
    b: float
    error: float
    runner_up: Growth | None = None
    warnings: tuple[str, ...] = field(default=())
    form: str = ""  # "loglog": a + b·L·log2 L; "exp": c·e^(r x); "power": b·u^e, any e

    @property
    def uncertain(self) -> bool:
        """Whether something about this fit should make a verdict inconclusive."""
        return bool(self.warnings)

    def predict(self, x: float) -> float:
        """The fitted model's value at size ``x``."""
        if self.form == "exp":
            try:
                return math.exp(self.a + self.b * x)
            except OverflowError:
                return math.inf
        return _basis(self.cls, self.exponent, self.form)(x) * self.b + self.a

    def entry(self, name: str = "n", sizes: Sequence[float] = ()) -> GrowthEntry:
        """The report's record of this fit (``name`` is the swept parameter); with ``sizes``,
        the model sampled at 25 sizes spread (geometrically) over their range."""
        runner = self.runner_up
        curve: list[list[float]] | UnsetType = UNSET
        if len(sizes) >= 2 and min(sizes) > 0:
            lo, hi = min(sizes), max(sizes)
            xs = [lo * (hi / lo) ** (i / 24) for i in range(25)]
            points = [(x, self.predict(x)) for x in xs]
            curve = [[x, y] for x, y in points if math.isfinite(y)]
        return GrowthEntry(
            cls=self.cls,  # type: ignore[arg-type]
            exponent=self.exponent,
            model=self.describe(name),
            error=self.error,
            runner_up=None
            if runner is None
            else RunnerUp(
                cls=runner.cls,  # type: ignore[arg-type]
                exponent=runner.exponent,
                model=runner.describe(name),
                error=runner.error,
            ),
            curve=curve,
        )

    def describe(self, name: str = "n") -> str:
        """The model as a formula, e.g. ``1·n^1 - 1``."""
        if self.form == "exp":
            return f"{_round(math.exp(self.a))}·2^({_round(self.exponent or 0)}·{name})"
        if self.cls == "decreasing":
            return f"falls to {_round(self.a)}"
        a, b = _round(self.a), _round(self.b)
        if self.form == "loglog":
            term = f"{b}·log2({name})·log2(log2({name}))"
        else:
            term = {
                "constant": "",
                "logarithmic": f"{b}·log2({name})",
                "polylogarithmic": f"{b}·log2({name})^{_round(self.exponent or 0)}",
                "polynomial": f"{b}·{name}^{_round(self.exponent or 0)}",
            }[self.cls]
        if not term:
            return f"{a}"
        if a == 0:
            return term
        return f"{term} {'-' if a < 0 else '+'} {abs(a)}"


def _round(x: float) -> float | int:
    if not math.isfinite(x):
        return x
    r = round(x, 3) if abs(x) < 1e6 else float(f"{x:.4g}")
    return int(r) if float(r).is_integer() and abs(r) < 1e15 else r


def _basis(cls: str, exponent: float | None, form: str = "") -> Callable[[float], float]:
    if cls in ("constant", "decreasing"):
        return lambda x: 0.0
    if cls == "logarithmic":
        return lambda x: math.log2(x)
    if form == "loglog":
        return lambda x: math.log2(x) * math.log2(max(math.log2(x), 1e-300))
    if cls == "polylogarithmic":
        k = exponent or 1.0
        return lambda x: math.log2(x) ** k
    p = exponent or 1.0
    return lambda x: x**p


def _weights(ys: Sequence[float]) -> list[float]:
    """Least-squares weights ``1/y²``, so the fit minimizes the relative residuals."""
    scale = max(abs(y) for y in ys) or 1.0
    return [1.0 / max(abs(y), 1e-12 * scale, 1e-300) ** 2 for y in ys]


def _linear(us: Sequence[float], ys: Sequence[float], ws: Sequence[float]) -> tuple[float, float]:
    """Weighted least squares ``y = a + b·u``; ``b = 0`` when ``u`` does not vary."""
    total = ordered_sum(ws)
    mu = ordered_sum(w * u for w, u in zip(ws, us, strict=True)) / total
    my = ordered_sum(w * y for w, y in zip(ws, ys, strict=True)) / total
    suu = ordered_sum(w * (u - mu) ** 2 for w, u in zip(ws, us, strict=True))
    if suu <= 1e-300:
        return my, 0.0
    b = ordered_sum(w * (u - mu) * (y - my) for w, u, y in zip(ws, us, ys, strict=True)) / suu
    return my - b * mu, b


def _error(pred: Sequence[float], ys: Sequence[float]) -> float:
    scale = max(abs(y) for y in ys) or 1.0
    total = 0.0
    for p, y in zip(pred, ys, strict=True):
        if not math.isfinite(p):
            return math.inf
        total += ((p - y) / max(abs(y), 1e-12 * scale, 1e-300)) ** 2
    return math.sqrt(total / len(ys))


def _fit(
    cls: str, xs: Sequence[float], ys: Sequence[float], exponent: float | None, form: str = ""
) -> Growth:
    basis = _basis(cls, exponent, form)
    try:
        us = [basis(x) for x in xs]
    except OverflowError:
        return Growth(cls, exponent, 0.0, 0.0, math.inf, form=form)
    ws = _weights(ys)
    if cls == "constant":
        a, b = ordered_sum(w * y for w, y in zip(ws, ys, strict=True)) / ordered_sum(ws), 0.0
    else:
        a, b = _linear(us, ys, ws)
    err = _error([a + b * u for u in us], ys)
    return Growth(cls, exponent, a, b, err, form=form)


def _fit_exponential(xs: Sequence[float], ys: Sequence[float]) -> Growth:
    """``y = c·e^(r x)`` by least squares on ``ln y`` (positive ys only)."""
    if min(ys) <= 0:
        return Growth("exponential", None, 0.0, 0.0, math.inf, form="exp")
    logs = [math.log(y) for y in ys]
    a, r = _linear(xs, logs, [1.0] * len(xs))
    pred = []
    for x in xs:
        try:
            pred.append(math.exp(a + r * x))
        except OverflowError:
            pred.append(math.inf)
    return Growth("exponential", r / math.log(2), a, r, _error(pred, ys), form="exp")


def _fit_power(cls: str, xs: Sequence[float], ys: Sequence[float]) -> Growth:
    """``y = b·u^e`` with ``u = x`` (polynomial) or ``u = log2 x`` (polylogarithmic), by a
    straight line through ``(ln u, ln y)``: any exponent, not only those of the grid (no
    offset ``a``; positive ys only)."""
    us = [x if cls == "polynomial" else math.log2(x) for x in xs]
    if min(ys) <= 0 or min(us) <= 0 or len(set(us)) < 2:
        return Growth(cls, None, 0.0, 0.0, math.inf, form="power")
    ln_b, e = _linear([math.log(u) for u in us], [math.log(y) for y in ys], [1.0] * len(xs))
    if e <= 0:
        return Growth(cls, None, 0.0, 0.0, math.inf, form="power")
    try:
        b = math.exp(ln_b)
        pred = [b * u**e for u in us]
    except OverflowError:
        return Growth(cls, None, 0.0, 0.0, math.inf, form="power")
    return Growth(cls, round(e, 2), 0.0, b, _error(pred, ys), form="power")


def _best(cls: str, xs: Sequence[float], ys: Sequence[float], powers: list[float]) -> Growth:
    return min((_fit(cls, xs, ys, k) for k in powers), key=lambda g: g.error)


@dataclass(frozen=True)
class SlopeTrend:
    """The successive log-log slopes fitted as ``s = alpha + beta / ln x``: ``alpha`` is the
    asymptotic slope (the polynomial exponent; 0 for a polylogarithm), with its standard
    error (``inf`` when there are too few slopes to estimate it), and whether the slopes keep
    rising (exponential growth)."""

    alpha: float
    stderr: float
    rising: bool
    dof: int = 0  # degrees of freedom of the estimate (slopes - 2)


def slope_trend(xs: Sequence[float], ys: Sequence[float]) -> SlopeTrend | None:
    """The trend of the successive log-log slopes; ``None`` without enough positive points."""
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if x > 1 and y > 0]
    if len(pts) < 3:
        return None
    slopes, inv = [], []
    for (x0, y0), (x1, y1) in pairwise(pts):
        slopes.append(math.log(y1 / y0) / math.log(x1 / x0))
        inv.append(1.0 / math.log(math.sqrt(x0 * x1)))
    m = len(slopes)
    a, b = _linear(inv, slopes, [1.0] * m)
    half = m // 2
    rising = (
        m >= 3
        and all(s1 > s0 for s0, s1 in pairwise(slopes))
        and slopes[-1] > 1.5 * max(slopes[0], 1.0)
    )
    if m < 3:
        return SlopeTrend(a, math.inf, rising, 0)
    residuals = [s - (a + b * u) for s, u in zip(slopes, inv, strict=True)]
    sigma2 = ordered_sum(r * r for r in residuals) / (m - 2)
    mean_u = ordered_sum(inv) / m
    suu = ordered_sum((u - mean_u) ** 2 for u in inv)
    if suu <= 1e-300:
        return SlopeTrend(statistics.fmean(slopes), math.inf, rising, 0)
    stderr = math.sqrt(sigma2 * (1 / m + mean_u**2 / suu))
    # A noise-free series leaves no residual at all; allow for rounding in the slopes.
    stderr = max(stderr, 1e-9 * max(abs(s) for s in slopes[half:]))
    return SlopeTrend(a, stderr, rising, m - 2)


#: Two-sided 95% quantiles of Student's t by degrees of freedom (few slopes make wide
#: intervals: two standard errors would be far too sure with one or two degrees of freedom).
_T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
        10: 2.23, 12: 2.18, 15: 2.13, 20: 2.09, 30: 2.04}  # fmt: skip


def _t_quantile(dof: int) -> float:
    """The 95% two-sided t quantile for ``dof`` degrees of freedom (a table; 1.96 beyond)."""
    if dof <= 0:
        return math.inf
    return next((q for d, q in sorted(_T95.items()) if dof <= d), 1.96)


def fit_growth(xs: Sequence[float], ys: Sequence[float]) -> Growth:
    """Classify how ``ys`` grows with ``xs`` (see the module docstring)."""
    if len(xs) < MIN_POINTS or len(set(xs)) < MIN_POINTS:
        raise ValueError(f"a growth fit needs at least {MIN_POINTS} different sizes")
    pairs = sorted(zip(xs, ys, strict=True))
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    if all(y == ys[0] for y in ys):
        return Growth("constant", None, float(ys[0]), 0.0, 0.0)
    if _falls(ys):
        return Growth("decreasing", None, float(ys[-1]), 0.0, 0.0, warnings=(
            "the quantity falls as the size grows: the sweep shows no growth to classify; "
            "larger sizes would show where it levels off",
        ))  # fmt: skip
    candidates = _candidates(xs, ys)
    chosen = _simplest(candidates)
    warnings: list[str] = []
    trend = slope_trend(xs, ys) if chosen.cls != "constant" and chosen.error > 1e-9 else None
    if trend is not None and chosen.cls != "exponential":
        chosen, warnings = _settle_boundary(chosen, candidates, trend, warnings)
    on_grid = not chosen.form  # pure powers take any exponent
    if (
        on_grid
        and chosen.cls == "polylogarithmic"
        and chosen.exponent in (POLYLOG_POWERS[0], POLYLOG_POWERS[-1])
    ):
        warnings.append(
            f"the polylogarithm's exponent {chosen.exponent:g} is at the edge of the fitted "
            f"range ({POLYLOG_POWERS[0]:g} to {POLYLOG_POWERS[-1]:g}); the true growth may lie "
            "outside it"
        )
    if on_grid and chosen.cls == "polynomial" and chosen.exponent == POLY_POWERS[-1]:
        warnings.append(
            f"the polynomial exponent is at the edge of the fitted range ({POLY_POWERS[-1]:g})"
        )
    runner = min((g for g in candidates if g.cls != chosen.cls and math.isfinite(g.error)),
                 key=lambda g: g.error,
                 default=None)  # fmt: skip
    return Growth(chosen.cls, chosen.exponent, chosen.a, chosen.b, chosen.error, runner,
                  tuple(warnings), chosen.form)  # fmt: skip


def _falls(ys: Sequence[float]) -> bool:
    """Whether the series falls overall (by more than FLAT) and never rises much."""
    top = max(abs(y) for y in ys) or 1.0
    return ys[-1] < ys[0] - FLAT * top and max(ys) <= ys[0] + FLAT * top


def _candidates(xs: Sequence[float], ys: Sequence[float]) -> list[Growth]:
    """The best model of each class (and form) that applies to these sizes."""
    out = [_fit("constant", xs, ys, None)]
    if min(xs) > 0:
        out.append(_fit("logarithmic", xs, ys, None))
        if min(xs) > 1:
            out.append(_best("polylogarithmic", xs, ys, POLYLOG_POWERS))
            out.append(_fit_power("polylogarithmic", xs, ys))
            if min(xs) > 2:
                out.append(_fit("polylogarithmic", xs, ys, None, "loglog"))
        out.append(_best("polynomial", xs, ys, POLY_POWERS))
        out.append(_fit_power("polynomial", xs, ys))
    trend = slope_trend(xs, ys)
    if trend is not None and trend.rising:
        out.append(_fit_exponential(xs, ys))
    return out


#: Parameters each model fits (a richer model must earn each extra one); the pure powers
#: ``b·u^e`` fit two like the logarithm, but rank after it.
_PARAMETERS = {"constant": 1, "logarithmic": 2, "exponential": 2, "polylogarithmic": 3,
               "polynomial": 3}  # fmt: skip


def _parameters(g: Growth) -> float:
    if g.form == "power":
        return 2.5  # a pure power b·u^e
    return _PARAMETERS[g.cls]


def _simplest(candidates: Sequence[Growth]) -> Growth:
    """The model with the fewest parameters within reach of the best error."""
    best = min(g.error for g in candidates)
    limit = best * ERROR_SLACK + ERROR_FLOOR
    fits = [g for g in candidates if g.error <= limit]
    return min(fits, key=lambda g: (_parameters(g), g.error))


def _settle_boundary(
    chosen: Growth, candidates: Sequence[Growth], trend: SlopeTrend, warnings: list[str]
) -> tuple[Growth, list[str]]:
    """Move a fit to the side of the polylog / polynomial boundary its slopes point to."""
    margin = _t_quantile(trend.dof) * trend.stderr
    low, high = trend.alpha - margin, trend.alpha + margin
    sub_polynomial = [g for g in candidates if g.cls in ("logarithmic", "polylogarithmic")]
    polynomial = [g for g in candidates if g.cls == "polynomial"]
    if low > POLY_MIN and chosen.cls != "polynomial" and polynomial:
        return polynomial[0], warnings  # the slopes level off well above zero
    if high < POLY_MIN and chosen.cls == "polynomial" and sub_polynomial:
        return min(sub_polynomial, key=lambda g: g.error), warnings  # the slopes shrink
    if chosen.cls in ("polynomial", "polylogarithmic", "logarithmic") and not (
        low > POLY_MIN or high < POLY_MIN
    ):
        spread = "cannot be estimated from so few sizes" if math.isinf(trend.stderr) else (
            f"is {trend.alpha:.2g} ± {margin:.2g}")  # fmt: skip
        warnings.append(
            "the log-log slopes neither level off nor shrink clearly (the asymptotic slope "
            f"{spread}): polylogarithmic and polynomial growth cannot be told apart here; more "
            "sizes over a wider range would settle it"
        )
    return chosen, warnings


@dataclass(frozen=True)
class Verdict:
    """What a sweep's depth (with its work) says, in words that match the theory."""

    verdict: str  # parallelizable | serial | inconclusive
    complexity: str
    explanation: str
    warnings: list[str]


COMPLEXITY = {
    "constant": "constant depth (NC⁰-like)",
    "logarithmic": "polylogarithmic depth (NC-like)",
    "polylogarithmic": "polylogarithmic depth (NC-like)",
    "polynomial": "polynomial depth",
    "exponential": "exponential depth",
    "decreasing": "falling depth",
}


def verdict(
    xs: Sequence[float],
    depth: Growth,
    work: Growth,
    upper_depth: Growth | None,
    name: str = "n",
    ignored_branches: Sequence[int] = (),
) -> Verdict:
    """``parallelizable``, ``serial`` or ``inconclusive``, with the warnings behind it.

    ``upper_depth`` is the depth's class fitted on the upper half of the sizes (``None`` when
    there are too few): where it leads to another verdict, the asymptotic regime is not
    reached and the verdict is inconclusive.

    ``ignored_branches`` are the branches on traced values that data-flow mode left out, per
    size. When they grow with the size, that graph's depth is only a lower bound on the
    depth as written (a sort written with ``if`` and swaps has depth 1): it can show that an
    implementation is serial, never that it is parallel, so a parallel-looking depth is
    inconclusive.
    """
    warnings = list(depth.warnings)
    if (len(ignored_branches) >= 2 and ignored_branches[-1] > ignored_branches[0]
            and depth.cls not in SERIAL_CLASSES):  # fmt: skip
        warnings.append(
            f"{ignored_branches[-1]:,} branches on traced values at the largest size, more as "
            f"{name} grows, were left out (data-flow mode): this depth is a lower bound on the "
            "depth as written, so it cannot show that the implementation is parallel; "
            "--control strict gives the upper bound, frame a middle one"
        )
    span = max(xs) / min(xs) if min(xs) > 0 else math.inf
    sizes = len(set(xs))
    if sizes < MIN_CONFIDENT_POINTS:
        warnings.append(
            f"only {sizes} sizes: a three-parameter model fits so few points almost exactly; "
            f"sweep at least {MIN_CONFIDENT_POINTS} sizes"
        )
    if span < MIN_SPAN:
        warnings.append(
            f"the sizes span only {span:.3g}x; sweep over at least {MIN_SPAN:g}x (e.g. "
            f"{name}=8..128) so that growth classes separate"
        )
    if depth.error > MAX_ERROR:
        warnings.append(
            f"the depth fits its model with a relative error of {depth.error:.2g}, above "
            f"{MAX_ERROR:g}: the measurements are noisy; repeat each size (--repeat) or use "
            "larger sizes"
        )
    if upper_depth is not None and _side(upper_depth.cls) != _side(depth.cls):
        warnings.append(
            f"on the upper half of the sizes the depth grows like a {upper_depth.cls} "
            f"({upper_depth.describe(name)}), not {depth.cls}: the sweep has not reached its "
            "asymptotic regime; larger sizes would settle it"
        )
    if work.cls == "exponential":
        warnings.append(
            "the work grows exponentially: a graph of exponential size is not NC-like whatever "
            "its depth (NC needs polynomially many steps)"
        )
    complexity = COMPLEXITY[depth.cls]
    growth = _growth_words(depth, name)
    if warnings:
        return Verdict(
            "inconclusive", complexity,
            f"The sweep cannot say how the depth of this dependency graph grows (it fits "
            f"{growth} best, but see the warnings).",
            warnings,
        )  # fmt: skip
    if depth.cls in SERIAL_CLASSES:
        return Verdict(
            "serial", complexity,
            f"The depth of this dependency graph grows like {growth}: as written it is serial, "
            "and more processors cannot keep up as the size grows; another algorithm for the "
            "same problem may be parallel. If the problem itself is P-complete, and assuming "
            "NC ≠ P, no algorithm does much better.",
            warnings,
        )  # fmt: skip
    return Verdict(
        "parallelizable", complexity,
        f"The depth of this dependency graph grows like {growth} with polynomial work: as "
        "written it is parallel (NC-like), so processors keep paying off as the size grows.",
        warnings,
    )  # fmt: skip


def upper_half(xs: Sequence[float], ys: Sequence[float]) -> Growth | None:
    """The fit on the upper half of the sizes (``None`` without ``MIN_POINTS`` there)."""
    half = len(xs) // 2
    if len(xs) - half < MIN_POINTS or half < 2:
        return None
    return fit_growth(xs[half:], ys[half:])


def assess(
    xs: Sequence[float],
    depths: Sequence[float],
    works: Sequence[float],
    name: str = "n",
    ignored_branches: Sequence[int] = (),
) -> tuple[Growth, Growth, Verdict]:
    """Fit depth and work over the sizes ``xs`` (sorted) and judge them: the steps of a sweep
    (``ignored_branches``: see :func:`verdict`)."""
    depth, work = fit_growth(xs, depths), fit_growth(xs, works)
    judged = verdict(xs, depth, work, upper_half(xs, depths), name, ignored_branches)
    return depth, work, judged


def _side(cls: str) -> str:
    if cls in PARALLEL_CLASSES:
        return "parallel"
    if cls in SERIAL_CLASSES:
        return "serial"
    return cls


def _growth_words(g: Growth, name: str) -> str:
    if g.cls == "constant":
        return "a constant"
    if g.cls == "logarithmic":
        return f"log {name}"
    if g.form == "loglog":
        return f"log {name} · log log {name}"
    if g.cls == "polylogarithmic":
        return f"log^{g.exponent:g} {name}"
    if g.cls == "polynomial":
        return f"{name}^{g.exponent:g}"
    if g.cls == "exponential":
        return f"2^({g.exponent:.3g}·{name})"
    return "a falling curve"


def _sweep_value(name: str, item: str) -> int | float:
    try:
        return int(item)
    except ValueError:
        pass
    try:
        number = float(item)
    except ValueError:
        raise ValueError(f"--sweep {name}: {item!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"--sweep {name}: {item!r} is not a finite number")
    return number


def parse_sweep(text: str) -> tuple[str, list[int | float]]:
    """``n=8,16,32`` or ``n=8..1024`` (powers of two) into a name and its values."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"--sweep expects NAME=V1,V2,... or NAME=LOW..HIGH, got {text!r}")
    spec = spec.strip()
    if ".." in spec:
        low_text, _, high_text = spec.partition("..")
        try:
            low, high = int(low_text), int(high_text)
        except ValueError:
            raise ValueError(f"--sweep {name}=LOW..HIGH takes integers, got {spec!r}") from None
        if low < 1 or high < low:
            raise ValueError(f"--sweep {name}={spec}: needs 1 <= LOW <= HIGH")
        values: list[int | float] = []
        v = 1
        while v <= high:
            if v >= low:
                values.append(v)
            v *= 2
    else:
        values = []
        for item in spec.split(","):
            item = item.strip()
            values.append(_sweep_value(name, item))
    if len(set(values)) < MIN_POINTS:
        raise ValueError(
            f"--sweep {name}={spec} gives {len(set(values))} different values; a growth fit "
            f"needs at least {MIN_POINTS}"
        )
    return name, values
