"""Sweeps: how work, depth and width grow with a size parameter.

A problem is *parallelizable* when its depth stays constant or grows like a (poly)logarithm of
its size, and *inherently serial* when its depth grows polynomially. :func:`fit_growth` decides
which, from the measured points of a sweep.

Growth classes and their models (``L = log2(x)``), from simplest to richest:

- ``constant``: ``y = a``;
- ``logarithmic``: ``y = a + b·L``;
- ``polylogarithmic``: ``y = a + b·L^k`` with ``k`` between 1.5 and 4 (``exponent`` = k);
- ``polynomial``: ``y = a + b·x^p`` with ``p`` between 0.05 and 4 (``exponent`` = p, the
  log-log slope).

Each model is fitted by least squares on the relative residuals (weights 1/y²; ``k`` and ``p``
by a grid search in steps of 0.01, with linear ``a, b``); its error is the root mean square of
the relative residuals. The constant
model fits one number, the logarithmic two, the other two three; between the last two the lower
error wins. Then the model with the fewest numbers whose error is at most ``ERROR_SLACK`` times
the best error plus ``ERROR_FLOOR`` is chosen: exact series (``depth = n − 1``, ``log2 n``,
``2``) are classified exactly, and a richer model must earn its extra number on noisy ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .report import GrowthEntry

CLASSES = ("constant", "logarithmic", "polylogarithmic", "polynomial")
ERROR_SLACK = 1.5
ERROR_FLOOR = 0.01
MIN_POINTS = 3
POLYLOG_POWERS = [round(1.5 + i / 100, 2) for i in range(251)]  # 1.50 .. 4.00
POLY_POWERS = [round(0.05 + i / 100, 2) for i in range(396)]  # 0.05 .. 4.00

VERDICTS = {
    "constant": ("parallelizable", "TC0-like"),
    "logarithmic": ("parallelizable", "NC-like"),
    "polylogarithmic": ("parallelizable", "NC-like"),
    "polynomial": ("inherently serial", "P-like (serial)"),
}
EXPLANATIONS = {
    "constant": "Depth does not grow with {p}: like constant-depth (TC0) circuits, every size "
    "finishes in the same number of rounds given enough processors.",
    "logarithmic": "Depth grows like log {p}: like NC problems, doubling {p} adds only a "
    "constant number of rounds, so processors keep paying off.",
    "polylogarithmic": "Depth grows like a power of log {p}: polylogarithmic depth (NC), so the "
    "problem stays parallelizable, if less cheaply than logarithmic depth.",
    "polynomial": "Depth grows like {p}^{e}: like P-complete problems, each step needs the one "
    "before, so more processors cannot keep up as {p} grows.",
}


@dataclass(frozen=True)
class Growth:
    """How one quantity grows: class, exponent (polynomial p or polylog k), model, error."""

    cls: str
    exponent: float | None
    a: float
    b: float
    error: float

    def predict(self, x: float) -> float:
        """The fitted model's value at size ``x``."""
        return _basis(self.cls, self.exponent)(x) * self.b + self.a

    def entry(self, name: str = "n") -> GrowthEntry:
        """The report's record of this fit (``name`` is the swept parameter)."""
        return GrowthEntry(
            cls=self.cls,  # type: ignore[arg-type]
            exponent=self.exponent,
            model=self.describe(name),
            error=self.error,
        )

    def describe(self, name: str = "n") -> str:
        """The model as a formula, e.g. ``1·n^1 − 1``."""
        a, b = _round(self.a), _round(self.b)
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
    r = round(x, 3)
    return int(r) if float(r).is_integer() else r


def _basis(cls: str, exponent: float | None) -> Callable[[float], float]:
    if cls == "constant":
        return lambda x: 0.0
    if cls == "logarithmic":
        return lambda x: math.log2(x)
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
    total = sum(ws)
    mu = sum(w * u for w, u in zip(ws, us, strict=True)) / total
    my = sum(w * y for w, y in zip(ws, ys, strict=True)) / total
    suu = sum(w * (u - mu) ** 2 for w, u in zip(ws, us, strict=True))
    if suu <= 1e-300:
        return my, 0.0
    b = sum(w * (u - mu) * (y - my) for w, u, y in zip(ws, us, ys, strict=True)) / suu
    return my - b * mu, b


def _error(pred: Sequence[float], ys: Sequence[float]) -> float:
    scale = max(abs(y) for y in ys) or 1.0
    total = 0.0
    for p, y in zip(pred, ys, strict=True):
        total += ((p - y) / max(abs(y), 1e-12 * scale, 1e-300)) ** 2
    return math.sqrt(total / len(ys))


def _fit(cls: str, xs: Sequence[float], ys: Sequence[float], exponent: float | None) -> Growth:
    basis = _basis(cls, exponent)
    us = [basis(x) for x in xs]
    ws = _weights(ys)
    if cls == "constant":
        a, b = sum(w * y for w, y in zip(ws, ys, strict=True)) / sum(ws), 0.0
    else:
        a, b = _linear(us, ys, ws)
    err = _error([a + b * u for u in us], ys)
    return Growth(cls, exponent, a, b, err)


def _best(cls: str, xs: Sequence[float], ys: Sequence[float], powers: list[float]) -> Growth:
    return min((_fit(cls, xs, ys, k) for k in powers), key=lambda g: g.error)


def fit_growth(xs: Sequence[float], ys: Sequence[float]) -> Growth:
    """Classify how ``ys`` grows with ``xs`` (sizes > 1 for the logarithmic models)."""
    if len(xs) < MIN_POINTS or len(set(xs)) < MIN_POINTS:
        raise ValueError(f"a growth fit needs at least {MIN_POINTS} different sizes")
    if all(y == ys[0] for y in ys):
        return Growth("constant", None, float(ys[0]), 0.0, 0.0)
    # Models grouped by how many parameters they fit; within a group the lower error wins.
    groups = [[_fit("constant", xs, ys, None)]]
    if min(xs) > 0:
        groups.append([_fit("logarithmic", xs, ys, None)])
        rich = [_best("polynomial", xs, ys, POLY_POWERS)]
        if min(xs) > 1:
            rich.insert(0, _best("polylogarithmic", xs, ys, POLYLOG_POWERS))
        groups.append(rich)
    candidates = [min(group, key=lambda g: g.error) for group in groups]
    best = min(f.error for f in candidates)
    limit = best * ERROR_SLACK + ERROR_FLOOR
    return next(f for f in candidates if f.error <= limit)


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
            try:
                values.append(int(item))
            except ValueError:
                try:
                    values.append(float(item))
                except ValueError:
                    raise ValueError(f"--sweep {name}: {item!r} is not a number") from None
    if len(set(values)) < MIN_POINTS:
        raise ValueError(
            f"--sweep {name}={spec} gives {len(set(values))} different values; a growth fit "
            f"needs at least {MIN_POINTS}"
        )
    return name, values
