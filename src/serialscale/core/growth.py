"""Sweeps: how work, depth and width grow with a size parameter, and what the data can prove.

The depth of one dependency graph is an upper bound on a problem's parallel time: a sweep
measures how an *implementation's* depth grows. Polylogarithmic depth (with polynomial work)
is the NC side; polynomial depth is serial as written. A finite sweep cannot prove
asymptotics, so :func:`fit_growth` says which class fits and whether the data decide it, and
:func:`verdict` answers ``parallelizable``, ``serial`` or ``inconclusive`` by a rule that
cannot contradict what the measurements prove (below).

Growth models (``L = log2(x)``; every model has an offset ``a``):

- ``constant``: ``y = a`` (1 parameter);
- ``logarithmic``: ``y = a + b·L`` (2);
- ``polylogarithmic``: ``y = a + b·L·log2(L)`` (log n · log log n; 2, ``exponent`` null) or
  ``y = a + b·L^k``, ``0 < k <= POLYLOG_MAX`` (3, ``exponent`` = k);
- ``polynomial``: ``y = a + b·x^p``, ``POLY_MIN <= p <= POLY_MAX`` (3, ``exponent`` = p);
- ``exponential``: ``y = a + c·2^(r·x)`` (3, ``exponent`` = r, doublings per unit of x),
  fitted when the log-log slopes keep rising;
- ``decreasing``: the quantity falls as x grows (by more than ``FLAT`` overall).

**Fitting.** Each model is fitted by least squares on relative residuals (weights 1/y²); an
exponent is searched on a grid, then refined by golden-section search, so exact series are
fitted exactly. A model's ``error`` is the root mean square of its relative residuals.

**Choosing a model, in this order:**

1. *An exact fit wins exactly*: when a model with fewer parameters than sizes fits with an
   error under ``EXACT`` (float rounding), the exact model with the fewest parameters is the
   class, decided. An exact parallel-side (non-constant) fit of integers decides only with
   ``INTEGER_EXCESS`` sizes beyond its parameters: rounding can put a few integers exactly on
   a slow curve (⌈20·n^0.1⌉ is 25, 27, 29, 31, 33 at n = 8..128). No error floor lets a
   simpler inexact model win over an exact one (a fixed 40,000-step warm-up plus n is
   linear, not constant).
2. *Integer staircases*: integer depths such as ⌈log2 n⌉ at sizes that are not powers of two
   fit no smooth model exactly. When the series is exactly ``a + b·T`` or ``a + b·T + c·T²``
   (computed in fractions) in the number of levels ``T = ⌈k·log2 x⌉`` (or ``⌊k·log2 x⌋``,
   ``k`` in ``STAIR_TIMES``) of
   integer sizes, with ``b`` (or ``c``) > 0 and ``INTEGER_EXCESS`` sizes more than
   coefficients, it is logarithmic (or polylogarithmic, exponent 2), decided: the staircase
   of a tree.
3. *Otherwise the measured precision decides*: the precision is the smallest error per degree
   of freedom, ``RSS / (m − parameters)``, over all models. A side (parallel: constant,
   logarithmic, polylogarithmic; serial: polynomial, exponential) is **rejected** when even
   its best model's error per degree of freedom exceeds the precision by more than the 99%
   quantile of the F distribution. The class is decided only when the other side is
   rejected. A polylogarithm is accepted only when every power ``a + b·n^ε`` (any
   ``ε >= POLY_MIN``) is rejected **and** the local log-log slopes shrink (their mean over
   the upper half of the sizes is below their mean over the lower half), as they do for
   log^k n (like k / ln n) and do not for n^ε (constant ε). Anything else is *undecided*,
   with a warning. There is no fixed slope cut-off.

The model with the smallest error per degree of freedom on the decided side is reported, and
the best model of another class is its ``runner_up``.

**Exponents are local**: they describe the sizes swept, not the limit.

**The bound rule** (:func:`verdict`). A traced depth is a *lower* bound on the depth of the
computation as written when dependences were cut (branches left out in data-flow mode, values
that escaped through ``float()``, ``int()``, ``str()`` or hashing), an *upper* bound when
control dependence was over-approximated (``--control strict``, with no escapes), both at once
when nothing was cut or added (then it is exact), and neither when it was both cut and
over-approximated, or when the mode can miss dependences as well as add them (``frame``).
Workload files and templates are exact. Then:

- ``serial`` only when a lower bound grows polynomially (or exponentially);
- ``parallelizable`` only when an upper bound stays polylogarithmic, with polynomial work;
- otherwise ``inconclusive``, with a warning naming the missing bound and how to get it.

**Also inconclusive, each with a warning that says what would settle it**: fewer than
``MIN_CONFIDENT_POINTS`` sizes, a span (largest / smallest size) under ``MIN_SPAN``, an
undecided class, a falling depth, a graph that does not change with the swept parameter, an
upper half of the sizes (when it has ``MIN_CONFIDENT_POINTS`` sizes) whose decided class lies
on the other side (the asymptotic regime is not reached), and, for a parallel-looking depth,
exponential work (not NC: NC needs polynomially many steps). Exponential work says nothing
against ``serial``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise

from msgspec import UNSET, UnsetType

from ..documents.report import GrowthEntry, RunnerUp
from .summation import ordered_sum

#: Relative RMS error under which a fit is exact (float rounding in the fit itself).
EXACT = 1e-8
#: Fewest sizes a growth fit needs at all.
MIN_POINTS = 3
#: Fewest sizes for a confident verdict, and for a re-fit on the upper half of the sizes.
MIN_CONFIDENT_POINTS = 5
#: Smallest span (largest size / smallest) for a confident verdict: 16 is four doublings.
MIN_SPAN = 16.0
#: The smallest exponent of the polynomial models: every power n^ε down to it must be
#: rejected before a depth is called polylogarithmic.
POLY_MIN = 0.01
POLY_MAX = 8.0
#: The largest exponent of the polylogarithmic models.
POLYLOG_MAX = 16.0
#: Sizes beyond its parameters that an exact fit of integers needs (rounding can put a few
#: integers exactly on the wrong kind of curve).
INTEGER_EXCESS = 4
#: The staircases ⌈c·log2 n⌉ tried (a tree over n, n², n³, n⁴ leaves).
STAIR_TIMES = (1, 2, 3, 4)
#: Fewest degrees of freedom the richest model must keep for the precision to decide.
MIN_DOF = 3
#: The probability of the F quantile beyond which a side is rejected.
CONFIDENCE = 0.99
#: Relative change under which a series counts as flat (for ``decreasing``).
FLAT = 0.05
CLASSES = ("constant", "logarithmic", "polylogarithmic", "polynomial", "exponential",
           "decreasing")  # fmt: skip
#: Classes of depth on the NC side (with polynomial work).
PARALLEL_CLASSES = frozenset(("constant", "logarithmic", "polylogarithmic"))
SERIAL_CLASSES = frozenset(("polynomial", "exponential"))


@dataclass(frozen=True)
class Growth:
    """How one quantity grows: class, exponent, fitted ``y = a + b·basis(x)``, error, the
    runner-up, the warnings that leave the class undecided, and the number of parameters."""

    cls: str
    exponent: float | None
    a: float
    b: float
    error: float
    runner_up: Growth | None = None
    warnings: tuple[str, ...] = field(default=())
    form: str = ""  # "loglog": a + b·L·log2 L; "exp": a + b·2^(r (x - x0))
    params: int = 1
    x0: float = 0.0  # the exponential model's origin (its smallest size)
    rss: float = math.inf  # sum of squared relative residuals

    @property
    def uncertain(self) -> bool:
        """Whether something about this fit should make a verdict inconclusive."""
        return bool(self.warnings)

    def predict(self, x: float) -> float:
        """The fitted model's value at size ``x`` (``inf`` where it overflows)."""
        try:
            return _basis(self.cls, self.exponent, self.form, self.x0)(x) * self.b + self.a
        except (OverflowError, ValueError):
            return math.inf

    def entry(self, name: str = "n", sizes: Sequence[float] = ()) -> GrowthEntry:
        """The report's record of this fit (``name`` is the swept parameter); with ``sizes``,
        the model sampled at 25 sizes spread (geometrically) over their range."""
        runner = self.runner_up
        curve: list[list[float]] | UnsetType = UNSET
        if len(sizes) >= 2 and min(sizes) > 0:
            lo, hi = math.log(min(sizes)), math.log(max(sizes))
            points = []
            for i in range(25):
                try:
                    x = math.exp(lo + (hi - lo) * i / 24)
                except OverflowError:
                    continue
                points.append((x, self.predict(x)))
            curve = [[x, y] for x, y in points if math.isfinite(x) and math.isfinite(y)]
        return GrowthEntry(
            cls=self.cls,  # type: ignore[arg-type]
            exponent=_exponent(self.exponent),
            model=self.describe(name),
            error=self.error,
            runner_up=None
            if runner is None
            else RunnerUp(
                cls=runner.cls,  # type: ignore[arg-type]
                exponent=_exponent(runner.exponent),
                model=runner.describe(name),
                error=runner.error,
            ),
            curve=curve,
        )

    def describe(self, name: str = "n") -> str:
        """The model as a formula, e.g. ``1·n^1 - 1``."""
        if self.cls == "decreasing":
            return f"falls to {_round(self.a)}"
        a, b = _round(self.a), _round(self.b)
        if self.form == "exp":
            shift = f" - {_round(self.x0)}" if self.x0 else ""
            term = f"{b}·2^({_round(self.exponent or 0)}·({name}{shift}))"
        elif self.form == "loglog":
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


def _exponent(x: float | None) -> float | None:
    """An exponent as reported: 4 significant digits (the fit keeps all of them)."""
    return None if x is None else float(f"{x:.4g}")


def _round(x: float) -> float | int:
    if not math.isfinite(x):
        return x
    r = round(x, 3) if abs(x) < 1e6 else float(f"{x:.4g}")
    return int(r) if float(r).is_integer() and abs(r) < 1e15 else r


def _ln(x: float) -> float:
    """``ln x`` for any positive size, integers of any size included (``float(2**2000)``
    overflows; ``math.log`` of the integer does not)."""
    return math.log(x)


def _basis(cls: str, exponent: float | None, form: str = "", x0: float = 0.0
           ) -> Callable[[float], float]:  # fmt: skip
    """The model's ``f(x)`` in ``a + b·f(x)`` (raises ``OverflowError`` past the floats)."""
    if cls in ("constant", "decreasing"):
        return lambda x: 0.0
    if cls == "logarithmic":
        return lambda x: _ln(x) / math.log(2)
    if form == "loglog":
        return lambda x: _ln(x) / math.log(2) * math.log2(_ln(x) / math.log(2))
    if form == "exp":
        r = exponent or 0.0
        return lambda x: 2.0 ** (r * (x - x0))
    if cls == "polylogarithmic":
        k = exponent or 1.0
        return lambda x: (_ln(x) / math.log(2)) ** k
    p = exponent or 1.0
    return lambda x: math.exp(p * _ln(x))


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
    if not suu > 1e-300 or not math.isfinite(suu):
        return my, 0.0
    b = ordered_sum(w * (u - mu) * (y - my) for w, u, y in zip(ws, us, ys, strict=True)) / suu
    return my - b * mu, b


def _rss(pred: Sequence[float], ys: Sequence[float]) -> float:
    """The sum of squared relative residuals (``inf`` when a prediction is not finite)."""
    scale = max(abs(y) for y in ys) or 1.0
    total = 0.0
    for p, y in zip(pred, ys, strict=True):
        if not math.isfinite(p):
            return math.inf
        total += ((p - y) / max(abs(y), 1e-12 * scale, 1e-300)) ** 2
    return total


_PARAMS = {"constant": 1, "logarithmic": 2, "loglog": 2, "polylogarithmic": 3,
           "polynomial": 3, "exp": 3}  # fmt: skip


def _fit(cls: str, xs: Sequence[float], ys: Sequence[float], exponent: float | None,
         form: str = "") -> Growth:  # fmt: skip
    """The least-squares ``a + b·f(x)`` of one model at a fixed exponent."""
    params = _PARAMS[form or cls]
    x0 = float(min(xs)) if form == "exp" else 0.0
    basis = _basis(cls, exponent, form, x0)
    try:
        us = [basis(x) for x in xs]
    except (OverflowError, ValueError):
        return Growth(cls, exponent, 0.0, 0.0, math.inf, form=form, params=params, x0=x0)
    if not all(math.isfinite(u) for u in us):
        return Growth(cls, exponent, 0.0, 0.0, math.inf, form=form, params=params, x0=x0)
    ws = _weights(ys)
    try:
        if cls == "constant":
            a = ordered_sum(w * y for w, y in zip(ws, ys, strict=True)) / ordered_sum(ws)
            b = 0.0
        else:
            a, b = _linear(us, ys, ws)
        rss = _rss([a + b * u for u in us], ys)
    except OverflowError:  # sizes so large that the model leaves the floats: it cannot fit
        return Growth(cls, exponent, 0.0, 0.0, math.inf, form=form, params=params, x0=x0)
    error = math.sqrt(rss / len(ys)) if math.isfinite(rss) else math.inf
    return Growth(cls, exponent, a, b, error, form=form, params=params, x0=x0, rss=rss)


_GOLDEN = (math.sqrt(5) - 1) / 2


def _best(cls: str, xs: Sequence[float], ys: Sequence[float], grid: Sequence[float],
          form: str = "") -> Growth:  # fmt: skip
    """The best exponent of one model: the best on ``grid``, refined by golden-section search
    between its neighbours (so that an exact series is fitted exactly)."""
    fits = [_fit(cls, xs, ys, k, form) for k in grid]
    i = min(range(len(fits)), key=lambda j: (fits[j].error, j))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    best = fits[i]
    c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    fc, fd = _fit(cls, xs, ys, c, form), _fit(cls, xs, ys, d, form)
    for _ in range(80):
        if hi - lo <= 1e-13 * max(abs(hi), 1e-300):
            break
        if fc.error < fd.error:
            hi, d, fd = d, c, fc
            c = hi - _GOLDEN * (hi - lo)
            fc = _fit(cls, xs, ys, c, form)
        else:
            lo, c, fc = c, d, fd
            d = lo + _GOLDEN * (hi - lo)
            fd = _fit(cls, xs, ys, d, form)
    for g in (fc, fd):
        if g.error < best.error:
            best = g
    exponent = best.exponent
    if exponent is not None:  # reported with 2 decimals; refit there if that is as good
        rounded = _fit(cls, xs, ys, round(exponent, 2), form)
        if rounded.error <= best.error * (1 + 1e-9) or rounded.error <= EXACT * 1e-3:
            best = rounded
    return best


def _geometric(lo: float, hi: float, count: int) -> list[float]:
    return [lo * (hi / lo) ** (i / (count - 1)) for i in range(count)]


POLY_GRID = _geometric(POLY_MIN, POLY_MAX, 61)
POLYLOG_GRID = _geometric(0.05, POLYLOG_MAX, 61)


@dataclass(frozen=True)
class SlopeTrend:
    """The successive log-log slopes fitted as ``s = alpha + beta / ln x``: ``alpha`` is the
    asymptotic slope (the polynomial exponent; 0 for a polylogarithm), with its standard
    error (``inf`` when there are too few slopes to estimate it), whether the slopes keep
    rising (exponential growth), and whether they shrink (the mean over the upper half of
    the sizes below the mean over the lower half, as for log^k n)."""

    alpha: float
    stderr: float
    rising: bool
    dof: int = 0  # degrees of freedom of the estimate (slopes - 2)
    shrinking: bool = False


def _slopes(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    pts = [(_ln(x), y) for x, y in zip(xs, ys, strict=True) if x > 1 and y > 0]
    slopes, inv = [], []
    for (u0, y0), (u1, y1) in pairwise(pts):
        if u1 > u0:
            slopes.append(math.log(y1 / y0) / (u1 - u0))
            inv.append(2.0 / (u0 + u1))
    return slopes, inv


def slope_trend(xs: Sequence[float], ys: Sequence[float]) -> SlopeTrend | None:
    """The trend of the successive log-log slopes; ``None`` without enough positive points."""
    slopes, inv = _slopes(xs, ys)
    m = len(slopes)
    if m < 2:
        return None
    a, b = _linear(inv, slopes, [1.0] * m)
    half = m // 2
    lower, upper = slopes[: m - half], slopes[half:]
    shrinking = ordered_sum(upper) / len(upper) < ordered_sum(lower) / len(lower)
    rising = (
        m >= 3
        and all(s1 > s0 for s0, s1 in pairwise(slopes))
        and slopes[-1] > 1.5 * max(slopes[0], 1.0)
    )
    if m < 3:
        return SlopeTrend(a, math.inf, rising, 0, shrinking)
    residuals = [s - (a + b * u) for s, u in zip(slopes, inv, strict=True)]
    sigma2 = ordered_sum(r * r for r in residuals) / (m - 2)
    mean_u = ordered_sum(inv) / m
    suu = ordered_sum((u - mean_u) ** 2 for u in inv)
    if suu <= 1e-300:
        return SlopeTrend(ordered_sum(slopes) / m, math.inf, rising, 0, shrinking)
    stderr = math.sqrt(sigma2 * (1 / m + mean_u**2 / suu))
    # A noise-free series leaves no residual at all; allow for rounding in the slopes.
    stderr = max(stderr, 1e-9 * max(abs(s) for s in slopes[half:]))
    return SlopeTrend(a, stderr, rising, m - 2, shrinking)


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)``."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    ln_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x)
                + b * math.log1p(-x))  # fmt: skip
    front = math.exp(ln_front)
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def f_quantile(p: float, d1: int, d2: int) -> float:
    """The ``p`` quantile of the F distribution with ``d1`` and ``d2`` degrees of freedom
    (bisection on its distribution function; ``inf`` without degrees of freedom)."""
    if d1 <= 0 or d2 <= 0:
        return math.inf

    def cdf(f: float) -> float:
        return _beta_cdf(d1 * f / (d1 * f + d2), d1 / 2, d2 / 2)

    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        hi *= 2
        if hi > 1e12:
            return math.inf
    for _ in range(200):
        mid = (lo + hi) / 2
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return hi


def _side(cls: str) -> str:
    if cls in PARALLEL_CLASSES:
        return "parallel"
    if cls in SERIAL_CLASSES:
        return "serial"
    return cls


def fit_growth(xs: Sequence[float], ys: Sequence[float]) -> Growth:
    """Classify how ``ys`` grows with ``xs`` (the rules are in the module docstring)."""
    if len(xs) < MIN_POINTS or len(set(xs)) < MIN_POINTS:
        raise ValueError(f"a growth fit needs at least {MIN_POINTS} different sizes")
    pairs = sorted(zip(xs, ys, strict=True))
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    if all(y == ys[0] for y in ys):
        return Growth("constant", None, float(ys[0]), 0.0, 0.0, params=1, rss=0.0)
    if _falls(ys):
        return Growth("decreasing", None, float(ys[-1]), 0.0, 0.0, warnings=(
            "the quantity falls as the size grows: the sweep shows no growth to classify; "
            "larger sizes would show where it levels off",
        ))  # fmt: skip
    candidates = _candidates(xs, ys)
    chosen, warnings = _choose(xs, ys, candidates)
    if chosen.form != "exp" and chosen.exponent is not None:
        edge = POLY_MAX if chosen.cls == "polynomial" else POLYLOG_MAX
        if chosen.exponent >= edge * (1 - 1e-9):
            warnings.append(
                f"the {chosen.cls} exponent is at the edge of the fitted range ({edge:g}); the "
                "true growth may lie outside it"
            )
    runner = min((g for g in candidates if g.cls != chosen.cls and math.isfinite(g.error)),
                 key=lambda g: (g.error, g.params),
                 default=None)  # fmt: skip
    return Growth(chosen.cls, chosen.exponent, chosen.a, chosen.b, chosen.error, runner,
                  tuple(warnings), chosen.form, chosen.params, chosen.x0,
                  chosen.rss)  # fmt: skip


def _falls(ys: Sequence[float]) -> bool:
    """Whether the series falls overall (by more than FLAT) and never rises much."""
    top = max(abs(y) for y in ys) or 1.0
    return ys[-1] < ys[0] - FLAT * top and max(ys) <= ys[0] + FLAT * top


def _candidates(xs: Sequence[float], ys: Sequence[float]) -> list[Growth]:
    """The best fit of each model that applies to these sizes."""
    out = [_fit("constant", xs, ys, None)]
    if min(xs) > 0:
        out.append(_fit("logarithmic", xs, ys, None))
        if min(xs) > 1:
            out.append(_best("polylogarithmic", xs, ys, POLYLOG_GRID))
            if min(xs) > 2:
                out.append(_fit("polylogarithmic", xs, ys, None, "loglog"))
        out.append(_best("polynomial", xs, ys, POLY_GRID))
    trend = slope_trend(xs, ys)
    if trend is not None and trend.rising and max(xs) - min(xs) < 1e6:
        span = float(max(xs) - min(xs))
        out.append(_best("exponential", xs, ys, _geometric(0.5 / span, 1000 / span, 61), "exp"))
    return out


def _per_dof(g: Growth, m: int) -> float:
    """The error per degree of freedom ``RSS / (m - parameters)`` (``inf`` without any)."""
    return g.rss / (m - g.params) if m > g.params and math.isfinite(g.rss) else math.inf


def _choose(xs: Sequence[float], ys: Sequence[float], candidates: Sequence[Growth]
            ) -> tuple[Growth, list[str]]:  # fmt: skip
    """The model and the warnings that leave its side undecided (module docstring)."""
    m = len(ys)
    usable = [g for g in candidates if m > g.params and math.isfinite(g.rss)]
    exact = [g for g in usable if g.error <= EXACT]
    if exact:
        chosen = min(exact, key=lambda g: (g.params, g.error))
        # Integers can fall on a slow curve by rounding alone (⌈20·n^0.1⌉ at n = 8..128 is
        # 25, 27, 29, 31, 33, exactly logarithmic): such a fit decides only with
        # INTEGER_EXCESS sizes beyond its parameters.
        if (_side(chosen.cls) == "parallel" and chosen.cls != "constant"
                and all(float(y).is_integer() for y in ys)
                and m < chosen.params + INTEGER_EXCESS):  # fmt: skip
            return chosen, [
                f"only {m} sizes of integer depths: rounding alone can put that few integers "
                f"exactly on a {chosen.cls} curve (⌈20·n^0.1⌉ is 25, 27, 29, 31, 33 at "
                f"n = 8..128); sweep at least {chosen.params + INTEGER_EXCESS} sizes"
            ]
        return chosen, []
    stair = _staircase(xs, ys)
    if stair is not None:
        return stair, []
    if not usable:  # too few sizes for any model but the constant
        best = min(candidates, key=lambda g: (g.error, g.params))
        return best, ["too few sizes to tell any two growth models apart"]
    per_dof = {id(g): _per_dof(g, m) for g in usable}
    best = min(usable, key=lambda g: (per_dof[id(g)], g.params))
    # Integers carry their rounding (up to one unit each): no fit is more precise than that,
    # however closely a flexible model of the wrong kind passes through the rounded points.
    precision = max(per_dof[id(best)], _quantization(ys))
    dof = m - best.params

    def side_best(side: str) -> Growth | None:
        fits = [g for g in usable if _side(g.cls) == side]
        return min(fits, key=lambda g: (per_dof[id(g)], g.params), default=None)

    def rejected(g: Growth | None) -> bool:
        if g is None:
            return True
        error = per_dof.get(id(g), _per_dof(g, m))
        if precision <= 0:
            return error > 0
        return error / precision > f_quantile(CONFIDENCE, m - g.params, dof)

    def simplest(side: str | None) -> Growth:
        """The fewest-parameter model (of ``side``) that the precision does not reject."""
        fits = [g for g in usable if (side is None or _side(g.cls) == side) and not rejected(g)]
        return min(fits or usable, key=lambda g: (g.params, per_dof[id(g)]))

    parallel, serial = side_best("parallel"), side_best("serial")
    if m - max(g.params for g in usable) < MIN_DOF:
        return simplest(None), [
            f"only {m} sizes: too few to tell polylogarithmic from polynomial growth at the "
            f"measured precision (the three-parameter models need {MIN_DOF + 3}); sweep more sizes"
        ]
    trend = slope_trend(xs, ys)
    shrinking = trend is not None and trend.shrinking
    if rejected(parallel) and serial is not None and not rejected(serial):
        return simplest("serial"), []
    if rejected(serial) and parallel is not None and not rejected(parallel):
        chosen = simplest("parallel")
        if chosen.cls == "constant" or shrinking:
            return chosen, []
        return chosen, [
            "the log-log slopes do not shrink as a polylogarithm's do (like k / ln n): the "
            "sweep cannot tell this growth from a small power n^ε; larger sizes would settle it"
        ]
    powers = [p for p in POLY_GRID if not rejected(_fit("polynomial", xs, ys, p))]
    fitting = f" (powers n^p fit for p from {powers[0]:.2g} to {powers[-1]:.2g})" if powers else ""
    return simplest(None), [
        "polylogarithmic and polynomial growth cannot be told apart at the measured precision "
        f"(relative error {math.sqrt(precision):.2g} per degree of freedom){fitting}: more "
        "sizes over a wider range, or less noise (--repeat), would settle it"
    ]


def _quantization(ys: Sequence[float]) -> float:
    """The relative error per point that rounding to integers alone can make (mean square of
    one unit over y, as for ceilings); 0 for a series that is not all integers."""
    if not all(float(y).is_integer() and y != 0 for y in ys):
        return 0.0
    return ordered_sum((1.0 / y) ** 2 for y in ys) / len(ys) / 3


def _levels(x: float, up: bool, times: int = 1) -> int | None:
    """``⌈times·log2 x⌉`` (``up``) or ``⌊times·log2 x⌋`` of an integer size >= 1, exactly
    (from the bit length of ``x**times``); else None."""
    if not float(x).is_integer() or x < 1:
        return None
    n = int(x) ** times
    return (n - 1).bit_length() if up else n.bit_length() - 1


def _exact_polynomial(ts: Sequence[int], ys: Sequence[int], degree: int) -> list[Fraction] | None:
    """The coefficients ``c0 + c1·t + ... `` of the least-squares polynomial of ``degree`` in
    ``t``, computed exactly (fractions), when it passes through every point; else None."""
    size = degree + 1
    rows = [[Fraction(sum(t ** (i + j) for t in ts)) for j in range(size)]
            + [Fraction(sum(y * t**i for t, y in zip(ts, ys, strict=True)))]
            for i in range(size)]  # fmt: skip
    for col in range(size):  # Gauss-Jordan elimination, exact
        pivot = next((r for r in range(col, size) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    coefficients = [rows[i][size] / rows[i][i] for i in range(size)]
    for t, y in zip(ts, ys, strict=True):
        if sum(c * t**i for i, c in enumerate(coefficients)) != y:
            return None
    return coefficients


def _staircase(xs: Sequence[float], ys: Sequence[float]) -> Growth | None:
    """Integer depths that are exactly ``a + b·T`` or ``a + b·T + c·T²`` in the number of
    levels ``T = ⌈k·log2 x⌉`` (or ``⌊k·log2 x⌋``) of integer sizes, with ``INTEGER_EXCESS`` sizes
    more than the coefficients: a tree's staircase, decided (module docstring)."""
    if not all(float(y).is_integer() for y in ys) or len(set(ys)) < 2:
        return None
    ints = [int(y) for y in ys]
    for degree, params in ((1, 2), (2, 3)):
        if len(xs) < params + INTEGER_EXCESS:
            continue
        for times, up in ((t, u) for t in STAIR_TIMES for u in (True, False)):
            levels = [_levels(x, up, times) for x in xs]
            if any(t is None or t < 1 for t in levels):
                continue
            ts = [int(t) for t in levels if t is not None]
            coefficients = _exact_polynomial(ts, ints, degree)
            if coefficients is None or coefficients[-1] <= 0:
                continue
            if degree == 1:
                fitted = _fit("logarithmic", xs, ys, None)
            else:
                fitted = _fit("polylogarithmic", xs, ys, 2.0)
            return Growth(fitted.cls, fitted.exponent, fitted.a, fitted.b, fitted.error,
                          params=params, rss=fitted.rss)  # fmt: skip
    return None


@dataclass(frozen=True)
class Recording:
    """What the measured depths are with respect to the depth of the computation as written:
    a lower bound, an upper bound, both (exact), or neither; with the reason each missing
    bound is missing and how to get it."""

    lower: bool = True
    upper: bool = True
    no_lower: str = ""
    no_upper: str = ""

    @property
    def bound(self) -> str:
        """``exact``, ``lower``, ``upper`` or ``none``."""
        if self.lower and self.upper:
            return "exact"
        if self.lower:
            return "lower"
        return "upper" if self.upper else "none"


EXACT_RECORDING = Recording()


@dataclass(frozen=True)
class Verdict:
    """What a sweep's depth (with its work) says, in words that match the theory."""

    verdict: str  # parallelizable | serial | inconclusive
    complexity: str
    explanation: str
    warnings: list[str]


def decide(side: str, lower: bool, upper: bool, blocked: bool) -> str:
    """The bound rule: ``serial`` only from a lower bound on the serial side, ``parallelizable``
    only from an upper bound on the parallel side, ``inconclusive`` whenever a warning
    (``blocked``) stands or the side is neither."""
    if blocked:
        return "inconclusive"
    if side == "serial" and lower:
        return "serial"
    if side == "parallel" and upper:
        return "parallelizable"
    return "inconclusive"


def complexity_words(cls: str, fan_in_grows: bool | None = None) -> str:
    """The depth class in the theory's words. Constant depth is NC⁰-like only with bounded
    fan-in; one step that reads a growing number of values (a sum of n values) is
    AC⁰/TC⁰-like (bounded fan-in would need log n depth for it); ``None``: not known."""
    if cls == "constant":
        if fan_in_grows is None:
            return ("constant depth (NC⁰-like with bounded fan-in, AC⁰/TC⁰-like if a step "
                    "reads a growing number of values)")  # fmt: skip
        if fan_in_grows:
            return "constant depth with unbounded fan-in (AC⁰/TC⁰-like)"
        return "constant depth with bounded fan-in (NC⁰-like)"
    return {
        "logarithmic": "polylogarithmic depth (NC-like)",
        "polylogarithmic": "polylogarithmic depth (NC-like)",
        "polynomial": "polynomial depth",
        "exponential": "exponential depth",
        "decreasing": "falling depth",
    }[cls]


@dataclass(frozen=True)
class Sweep:
    """The other measurements of a sweep that words and warnings need (all optional)."""

    widths: Sequence[float] = ()
    ceilings: Sequence[float | None] = ()
    fan_ins: Sequence[int | None] = ()


def verdict(
    xs: Sequence[float],
    depth: Growth,
    work: Growth,
    upper_depth: Growth | None,
    name: str = "n",
    recording: Recording = EXACT_RECORDING,
    *,
    depths: Sequence[float] = (),
    works: Sequence[float] = (),
    sweep: Sweep = Sweep(),
) -> Verdict:
    """``parallelizable``, ``serial`` or ``inconclusive``, with the warnings behind it.

    ``upper_depth`` is the depth's class fitted on the upper half of the sizes (``None`` when
    that half has fewer than ``MIN_CONFIDENT_POINTS`` sizes): where it is decided and on the
    other side, the asymptotic regime is not reached and the verdict is inconclusive.
    ``recording`` says which bound the depths are (the bound rule, module docstring).
    """
    warnings = list(depth.warnings)
    side = _side(depth.cls)
    unchanged = (
        len(depths) == len(xs) == len(works)
        and len(set(depths)) == 1
        and len(set(works)) == 1
        and len(set(sweep.widths)) <= 1
    )
    if unchanged:
        warnings = [
            f"the swept parameter does not change the graph (the same work, depth and width at "
            f"every {name}): sweep a parameter that sets the problem's size"
        ]
    if side == "serial" and not recording.lower:
        warnings.append(recording.no_lower)
    if side == "parallel" and not recording.upper:
        warnings.append(recording.no_upper)
    span = _span(xs)
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
    if (upper_depth is not None and not upper_depth.uncertain
            and _side(upper_depth.cls) in ("parallel", "serial")
            and _side(upper_depth.cls) != side):  # fmt: skip
        warnings.append(
            f"on the upper half of the sizes the depth grows like a {upper_depth.cls} "
            f"({upper_depth.describe(name)}), not {depth.cls}: the sweep has not reached its "
            "asymptotic regime; larger sizes would settle it"
        )
    if work.cls == "exponential" and side == "parallel":
        warnings.append(
            "the work grows exponentially: a graph of exponential size is not NC-like whatever "
            "its depth (NC needs polynomially many steps)"
        )
    fan_in_grows = _grows(sweep.fan_ins)
    complexity = complexity_words(depth.cls, fan_in_grows)
    growth = f"{_growth_words(depth, name)} over {name} = {_range(xs)}"
    outcome = decide(side, recording.lower, recording.upper, bool(warnings))
    if outcome == "inconclusive":
        missing = [w for w in warnings if w in (recording.no_lower, recording.no_upper)]
        if missing and len(missing) == len(warnings):  # the growth is clear; the bound is not
            which = {"lower": "only a lower bound on", "upper": "only an upper bound on",
                     "none": "no bound on"}[recording.bound]  # fmt: skip
            shows = "parallel" if side == "parallel" else "serial"
            text = (f"The recorded depth grows like {growth}, but it is {which} the depth of "
                    f"the computation as written: it cannot show that the implementation is "
                    f"{shows} (see the warning).")  # fmt: skip
        else:
            runner = depth.runner_up
            how = (f"the simplest model the data do not rule out is {growth}; a "
                   f"{runner.cls} one fits closer" if runner is not None
                   and runner.error < depth.error else f"it fits {growth} best")  # fmt: skip
            text = (f"The sweep cannot say how the depth of this dependency graph grows "
                    f"({how}, but see the warnings).")  # fmt: skip
        return Verdict("inconclusive", complexity, text, warnings)
    if outcome == "serial":
        text = (
            f"The depth of this dependency graph grows like {growth}: as written it is serial, "
            "and more processors cannot keep up as the size grows. This is about this "
            "implementation: another algorithm for the same problem may have polylogarithmic "
            "depth. Only for a P-complete problem, and assuming NC ≠ P, does no algorithm "
            "reach polylogarithmic depth with polynomial work; that says nothing about "
            "cutting the depth by a smaller factor (from n to √n, say)."
        )
        return Verdict("serial", complexity, text + _one_size(sweep, name, xs, "serial"),
                       warnings)  # fmt: skip
    ratios = [w / d for w, d in zip(works, depths, strict=True) if d > 0] if depths else []
    pays = len(ratios) >= 2 and ratios[-1] > ratios[0] * (1 + FLAT)
    if pays:
        tail = "so processors keep paying off as the size grows."
    else:
        tail = ("but work / depth does not grow over the sweep: more processors do not pay "
                "off more at larger sizes.")  # fmt: skip
    text = (f"The depth of this dependency graph grows like {growth} with polynomial work: as "
            f"written it is parallel (NC-like), {tail}")  # fmt: skip
    return Verdict("parallelizable", complexity,
                   text + _one_size(sweep, name, xs, "parallelizable"), warnings)  # fmt: skip


def _one_size(sweep: Sweep, name: str, xs: Sequence[float], outcome: str) -> str:
    """Where ``analyze`` at the largest size would say otherwise: why both are right."""
    if not sweep.ceilings or sweep.ceilings[-1] is None:
        return ""
    ceiling, at = sweep.ceilings[-1], _num(xs[-1])
    if outcome == "serial" and ceiling >= 2:
        return (f" At {name}={at} alone the speedup ceiling is {ceiling:.3g}x (analyze speaks "
                "of one size; this verdict of how the depth grows with it).")  # fmt: skip
    if outcome == "parallelizable" and ceiling < 2:
        return (
            f" At {name}={at} alone the speedup ceiling is only {ceiling:.3g}x, so analyze "
            "calls that size serial (it speaks of one size; this verdict of growth)."
        )
    return ""


def _grows(values: Sequence[int | None]) -> bool | None:
    known = [v for v in values if v is not None]
    if len(known) < 2 or len(known) != len(values):
        return None
    return known[-1] > known[0]


def _span(xs: Sequence[float]) -> float:
    """Largest size / smallest (``inf`` from a size <= 0, or beyond the floats)."""
    if min(xs) <= 0:
        return math.inf
    try:
        return float(max(xs) / min(xs))
    except OverflowError:
        return math.inf


def _num(x: float) -> str:
    if isinstance(x, int) and abs(x) >= 10**15:
        return f"2^{math.log2(x):.4g}" if x > 0 else str(x)
    return f"{x:g}" if isinstance(x, float) else str(x)


def _range(xs: Sequence[float]) -> str:
    return f"{_num(min(xs))}..{_num(max(xs))}"


def upper_half(xs: Sequence[float], ys: Sequence[float]) -> Growth | None:
    """The fit on the upper half of the sizes (``None`` with fewer than
    ``MIN_CONFIDENT_POINTS`` sizes there: a re-fit on fewer means nothing)."""
    half = len(xs) // 2
    if len(xs) - half < MIN_CONFIDENT_POINTS:
        return None
    return fit_growth(xs[half:], ys[half:])


def assess(
    xs: Sequence[float],
    depths: Sequence[float],
    works: Sequence[float],
    name: str = "n",
    recording: Recording = EXACT_RECORDING,
    sweep: Sweep = Sweep(),
) -> tuple[Growth, Growth, Verdict]:
    """Fit depth and work over the sizes ``xs`` (sorted) and judge them: the steps of a sweep
    (``recording``: which bound the depths are, see :func:`verdict`)."""
    depth, work = fit_growth(xs, depths), fit_growth(xs, works)
    judged = verdict(xs, depth, work, upper_half(xs, depths), name, recording,
                     depths=depths, works=works, sweep=sweep)  # fmt: skip
    return depth, work, judged


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
