"""How often a sweep's verdict is right, inconclusive or wrong, per family
(``python benchmarks/verdicts.py``).

Synthetic depth series with a known asymptotic class over five sweep shapes, with 0%, 1%, 5%
and 20% noise: polylogarithms a·log^k n + c (k from 1 to 6), powers a·n^p + c (p from 0.05
to 3), exact affine series with a large fixed part (c + n), exponentials 2^(r n) − 1, integer
staircases ⌈k·log2 n⌉, and constants. ``right`` is the verdict the class calls for
(``parallelizable`` for polylogarithms, staircases and constants; ``serial`` for the rest);
``inconclusive`` is never wrong; ``wrong`` is the other side and must stay 0. The test suite
(tests/test_verdicts.py, tests/test_bounds.py) requires right-or-inconclusive on its own
series; this script measures how often the verdict is actually decided.

Every series is judged as an exact recording (a workload file); the bound rule that makes
traced lower and upper bounds inconclusive is tested in tests/test_bounds.py.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from serialscale.core.growth import assess

SHAPES = {
    "2^3..2^12 (10)": [float(2**k) for k in range(3, 13)],
    "2^2..2^20 (19)": [float(2**k) for k in range(2, 21)],
    "10..1e5 (9)": [float(round(10 * 10 ** (i / 2))) for i in range(9)],
    "3^1..3^9 (9)": [float(3**k) for k in range(1, 10)],
    "2^3..2^7 (5)": [float(2**k) for k in range(3, 8)],
}
EXPONENTIAL_SIZES = [float(n) for n in range(4, 68, 4)]
NOISE = [0.0, 0.01, 0.05, 0.2]
Series = Callable[[float], float]


def families() -> dict[str, tuple[str, list[Series], bool]]:
    """Family name: (the right verdict, its series, whether they are integers)."""
    polylog = [lambda n, a=a, k=k, c=c: c + a * math.log2(n) ** k
               for k in (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0) for a in (0.5, 3.0, 40.0)
               for c in (0.0, 10.0)]  # fmt: skip
    power = [lambda n, a=a, p=p, c=c: c + a * n**p
             for p in (0.05, 0.25, 0.33, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0) for a in (0.5, 3.0, 40.0)
             for c in (0.0, 10.0)]  # fmt: skip
    affine = [lambda n, c=c: c + n for c in (100.0, 40000.0, 1e6)]
    stair = [lambda n, k=k, c=c: float(c + math.ceil(k * math.log2(n)))
             for k in (1, 2, 3) for c in (0, 5)]  # fmt: skip
    constant = [lambda n, c=c: c for c in (1.0, 7.0, 300.0)]
    return {
        "polylog": ("parallelizable", polylog, False),
        "power": ("serial", power, False),
        "affine c+n": ("serial", affine, False),
        "staircase": ("parallelizable", stair, True),
        "constant": ("parallelizable", constant, False),
    }


def exponentials() -> list[Series]:
    return [lambda n, r=r: 2.0 ** (r * n) - 1 for r in (0.25, 0.5, 1.0, 2.0)]


def judge(xs: list[float], f: Series, noise: float, integer: bool, rnd: random.Random) -> str:
    ys = [f(x) * (1 + rnd.uniform(-noise, noise)) for x in xs]
    if integer:
        ys = [float(round(y)) for y in ys]
    works = [x * max(y, 1.0) for x, y in zip(xs, ys, strict=True)]
    return assess(xs, ys, works)[2].verdict


def main() -> None:
    rnd = random.Random(2026)
    header = f"{'family':12} {'sweep':16} {'noise':>6} {'series':>7} {'right':>7} " \
             f"{'inconclusive':>13} {'wrong':>6}"  # fmt: skip
    print(header)
    totals: dict[str, list[int]] = {}
    rows: list[tuple[str, str, float, list[Series], str, bool]] = []
    for family, (expected, series, integer) in families().items():
        for shape in SHAPES:
            for noise in NOISE:
                rows.append((family, shape, noise, series, expected, integer))
    for noise in NOISE:
        rows.append(("exponential", "n=4..64 (16)", noise, exponentials(), "serial", False))
    for family, shape, noise, series, expected, integer in rows:
        xs = EXPONENTIAL_SIZES if family == "exponential" else SHAPES[shape]
        got = [judge(xs, f, noise, integer, rnd) for f in series]
        right = sum(v == expected for v in got)
        wrong = sum(v not in (expected, "inconclusive") for v in got)
        count = len(got)
        total = totals.setdefault(family, [0, 0, 0, 0])
        for i, value in enumerate((count, right, count - right - wrong, wrong)):
            total[i] += value
        print(f"{family:12} {shape:16} {noise:>6.0%} {count:>7} {right / count:>7.0%} "
              f"{(count - right - wrong) / count:>13.0%} {wrong:>6}")  # fmt: skip
    print(f"\n{'family':12} {'series':>7} {'right':>7} {'inconclusive':>13} {'wrong':>6}")
    for family, (count, right, undecided, wrong) in totals.items():
        print(f"{family:12} {count:>7} {right / count:>7.0%} {undecided / count:>13.0%} "
              f"{wrong:>6}")  # fmt: skip
    count = sum(t[0] for t in totals.values())
    right = sum(t[1] for t in totals.values())
    wrong = sum(t[3] for t in totals.values())
    print(f"\nall: {count} series, {right / count:.0%} right, {wrong} wrong")
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
