"""How often a sweep's verdict is right, not merely not wrong (``python benchmarks/verdicts.py``).

Synthetic depth series with a known asymptotic class (polylogarithms a·log^k n and powers
a·n^p over grids of parameters, with 0%, 5% and 20% noise) over four sweep shapes. The test
suite (tests/test_verdicts.py) requires every verdict to be right or ``inconclusive``; this
script measures the fraction that is right, which should stay high, and counts wrong ones
(which must be 0).
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serialscale.scaling import assess

SHAPES = {
    "2^3..2^12 (10 sizes)": [float(2**k) for k in range(3, 13)],
    "2^2..2^20 (19 sizes)": [float(2**k) for k in range(2, 21)],
    "10..1e5 (9 sizes)": [round(10 * 10 ** (i / 2)) for i in range(9)],
    "2^3..2^7 (5 sizes)": [float(2**k) for k in range(3, 8)],
}
POLYLOG_K = [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0]
POWER_P = [0.25, 0.33, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
SCALES = [0.5, 3.0, 40.0]
NOISE = [0.0, 0.05, 0.2]


def main() -> None:
    rnd = random.Random(2026)
    print(f"{'sweep':24} {'family':10} {'noise':>6} {'right':>7} {'inconclusive':>13} {'wrong':>6}")
    total_right = total = total_wrong = 0
    for shape, xs in SHAPES.items():
        for family, params, expected in (("polylog", POLYLOG_K, "parallelizable"),
                                         ("power", POWER_P, "serial")):  # fmt: skip
            for noise in NOISE:
                right = wrong = count = 0
                for e in params:
                    for a in SCALES:
                        f = (lambda n, a=a, e=e: a * math.log2(n) ** e) if family == "polylog" \
                            else (lambda n, a=a, e=e: a * n**e)  # fmt: skip
                        ys = [f(x) * (1 + rnd.uniform(-noise, noise)) for x in xs]
                        got = assess(xs, ys, [x * y for x, y in zip(xs, ys, strict=True)])[2]
                        count += 1
                        right += got.verdict == expected
                        wrong += got.verdict not in (expected, "inconclusive")
                total, total_right, total_wrong = total + count, total_right + right, \
                    total_wrong + wrong  # fmt: skip
                print(f"{shape:24} {family:10} {noise:>6.0%} {right / count:>7.0%} "
                      f"{(count - right - wrong) / count:>13.0%} {wrong:>6}")  # fmt: skip
    print(f"\nall: {total_right / total:.0%} right, {total_wrong} wrong, of {total} series")


if __name__ == "__main__":
    main()
