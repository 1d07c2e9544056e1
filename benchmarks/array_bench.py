"""Array tracing: array operations per second, element operations covered per second, and a
traced 2-layer network on 512 x 512 arrays end to end (issue 26).

Usage: ``python benchmarks/array_bench.py [--ops N] [--n 512]``. In this process:

1. ``N`` small elementwise operations (arrays of 64 values) plain and traced: the rate of
   recorded array operations and the overhead per operation.
2. A 2-layer network ``tanh(relu(x W1) W2)`` on ``n x n`` arrays, traced and analyzed
   (``trace_function`` + ``analyze_workload``): seconds, next to the same numpy code plain;
   element operations covered per second = the recorded work / the traced run's seconds.
3. The same through the command line (``serialscale analyze FILE:net``), wall seconds of a
   fresh process (start-up and numpy's import included).

Best of 3 runs each. Prints only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import serialscale as ss
from serialscale.core.analysis import analyze_workload
from serialscale.sources.python_targets import trace_function

NET = """\
import numpy as np
import serialscale as ss


def net(n: int = 512):
    rng = np.random.default_rng(0)
    x = ss.input(rng.standard_normal((n, n)))
    w1 = ss.input(rng.standard_normal((n, n)) / np.sqrt(n))
    w2 = ss.input(rng.standard_normal((n, n)) / np.sqrt(n))
    h = np.maximum(x @ w1, 0.0)
    return np.tanh(h @ w2)
"""


def small_ops(ops: int, traced: bool) -> float:
    """Seconds for ``ops`` elementwise operations on 64-value arrays."""
    a = np.linspace(0.0, 1.0, 64)
    b = np.full(64, 0.5)
    x, y = (ss.input(a), ss.input(b)) if traced else (a, b)

    def loop() -> None:
        z = x
        for _ in range(ops):
            z = z * 0.5 + y

    started = time.perf_counter()
    if traced:
        trace_function(loop, {})
    else:
        loop()
    return time.perf_counter() - started


def best(fn, runs: int = 3) -> float:
    return min(fn() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=512)
    args = parser.parse_args()

    plain = best(lambda: small_ops(args.ops, False))
    traced = best(lambda: small_ops(args.ops, True))
    recorded = 2 * args.ops  # a multiply and an add per iteration
    print(f"{recorded:,} small array operations: plain {plain:.3f} s, traced {traced:.3f} s "
          f"({traced / plain:.1f}x); {recorded / traced:,.0f} array ops/s, "
          f"{(traced - plain) / recorded * 1e6:.1f} us each")  # fmt: skip

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.py"
        path.write_text(NET)
        sys.path.insert(0, folder)
        import net  # type: ignore[import-not-found]

        n = args.n
        rng = np.random.default_rng(0)
        x, w1, w2 = (rng.standard_normal((n, n)) for _ in range(3))

        def plain_net() -> float:
            started = time.perf_counter()
            np.tanh(np.maximum(x @ w1, 0.0) @ w2)
            return time.perf_counter() - started

        holder: dict[str, object] = {}

        def traced_net() -> float:
            started = time.perf_counter()
            workload = trace_function(net.net, {"n": n})
            traced_at = time.perf_counter()
            holder["report"] = analyze_workload(workload)
            holder["trace"] = traced_at - started
            return time.perf_counter() - started

        plain_s = best(plain_net)
        total = best(traced_net)
        report = holder["report"]
        work = report.work  # type: ignore[attr-defined]
        print(f"2-layer network on {n}x{n}: plain numpy {plain_s:.3f} s; traced and analyzed "
              f"{total:.3f} s ({report.steps} array steps, work {work:,}, "  # type: ignore[attr-defined]
              f"depth {report.depth}); {work / total:,.0f} element ops covered/s")  # type: ignore[attr-defined]  # fmt: skip

        def cli() -> float:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "serialscale", "analyze", f"{path}:net",
                            "--param", f"n={n}", "--format", "json"], check=True,
                           capture_output=True)  # fmt: skip
            return time.perf_counter() - started

        print(
            f"serialscale analyze net.py:net --param n={n}: {best(cli):.3f} s wall "
            "(a fresh process: start-up and numpy's import included)"
        )


if __name__ == "__main__":
    main()
