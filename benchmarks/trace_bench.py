"""Tracing overhead: recorded operations per second and bytes per operation.

Usage: ``python benchmarks/trace_bench.py [--ops N]``. Times a loop of additions on plain
floats and the same loop on traced values, in this process, and prints the ratio, the rate
and the memory the recorder keeps per operation (tracemalloc). When the compiled tracer is
in use, it also runs itself once with ``SERIALSCALE_PURE_PYTHON=1`` to show the fallback's
rate. Prints only.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
import tracemalloc

import serialscale as ss
from serialscale.trace import run_traced
from serialscale.trace.recorder import COMPILED


def plain_loop(ops: int) -> float:
    x, y = 1.0, 0.5
    for _ in range(ops):
        x = x + y
    return x


def traced_loop(ops: int):
    x, y = ss.inputs([1.0, 0.5])
    for _ in range(ops):
        x = x + y
    return x


def branchy_loop(ops: int):
    """A loop with an ``if`` on traced values: what ``--control scoped`` watches."""
    x, y = ss.inputs([1.0, 0.5])
    for _ in range(ops):
        if x > y:  # noqa: SIM108 (a statement, as loops are written)
            x = x - y
        else:
            x = x + 2 * y
    return x


def best_of(repeat: int, fn, *args) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=0, help="also trace this many ops once")
    args = parser.parse_args()
    n = args.ops
    plain = best_of(3, plain_loop, n)
    traced = best_of(3, lambda: run_traced(traced_loop, {"ops": n}))
    tracemalloc.start()
    trace = run_traced(traced_loop, {"ops": n})
    retained, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(trace.recorder) == n
    kind = "compiled" if COMPILED else "pure Python"
    print(f"plain float loop     {n / plain / 1e6:8.2f} M ops/s")
    print(f"traced loop          {n / traced / 1e6:8.2f} M ops/s   ({traced / plain:.1f}x plain, "
          f"{kind} operators)")  # fmt: skip
    print(f"retained per op      {retained / n:8.1f} bytes")
    if COMPILED:
        env = {**os.environ, "SERIALSCALE_PURE_PYTHON": "1"}
        subprocess.run([sys.executable, __file__, "--ops", str(n)], env=env, check=True)
    # End to end: record and build the graph (the step ids are spelled when read).
    from serialscale.sources.python_targets import trace_function

    gc.collect()
    t = time.perf_counter()
    workload = trace_function(traced_loop, {"ops": 2 * n})
    end_to_end = time.perf_counter() - t
    assert workload.graph.n == 2 * n
    print(f"trace_function       {2 * n / end_to_end / 1e6:8.2f} M ops/s   ({2 * n:,} additions: "
          f"record and build the graph)")  # fmt: skip
    # Control modes on a loop with a branch (scoped watches opcode by opcode inside scopes).
    if COMPILED:
        loops = max(n // 20, 1)
        for control in ("dataflow", "scoped", "frame"):
            spent = best_of(1, lambda c=control: run_traced(branchy_loop, {"ops": loops},
                                                            control=c))  # fmt: skip
            print(f"branchy loop {control:<8}{loops / spent / 1e6:8.3f} M iterations/s")
    if args.big:
        t = time.perf_counter()
        big = run_traced(traced_loop, {"ops": args.big})
        print(f"{args.big:,} ops traced in {time.perf_counter() - t:.1f} s ({len(big.recorder):,})")


if __name__ == "__main__":
    main()
