"""The cost of ``--control scoped`` (issue 23): the compiled watcher against the Python one.

Usage: ``python benchmarks/scoped_bench.py [--ops N] [--n N]``. In this process, best of
three:

- the plain arithmetic loop (no branch on traced values: never watched) in data flow and in
  scoped mode, recorded operations per second (the issue's floor: 5M ops/s);
- the same loop after one branch in the same call (the call stays watched opcode by opcode:
  reads at traced positions are selected there);
- branchy code: odd-even transposition sort, heap sort with its swaps in a helper, merge sort
  with the merge written with ``if`` (the bundled algorithms), in data flow, scoped with the
  Python watcher (the state before the compiled twin) and scoped with the compiled watcher.

Prints only.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import serialscale as ss
from serialscale.trace import run_traced, scopes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workloads"))
from algorithms import heap_sort_in_place, merge_with_if, odd_even_in_place


def arithmetic_loop(ops: int) -> Any:
    x, y = ss.inputs([1.0, 0.5])
    for _ in range(ops):
        x = x + y
    return x


def arithmetic_after_a_branch(ops: int) -> Any:
    x, y = ss.inputs([1.0, 0.5])
    if x > y:  # one decision: this call is watched until it returns
        x = x + y
    for _ in range(ops):
        x = x + y
    return x


def merge_sort(xs: list[Any]) -> list[Any]:
    if len(xs) <= 1:
        return xs
    half = len(xs) // 2
    return merge_with_if(merge_sort(xs[:half]), merge_sort(xs[half:]))


def best_of(repeat: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def modes() -> list[tuple[str, str, bool]]:
    """(label, control, compiled watcher) to measure."""
    out = [("dataflow", "dataflow", False), ("scoped, Python watcher", "scoped", False)]
    if scopes._scoped is not None and scopes._scoped.AVAILABLE:
        out.append(("scoped, compiled watcher", "scoped", True))
    return out


def timed(fn: Callable[..., Any], params: dict[str, Any], control: str, compiled: bool,
          repeat: int = 3) -> float:  # fmt: skip
    scopes.COMPILED_WATCH = compiled
    return best_of(repeat, lambda: run_traced(fn, params, control=control))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=256, help="values to sort")
    args = parser.parse_args()
    print("loops (recorded operations per second)")
    for name, fn in (("arithmetic loop", arithmetic_loop),
                     ("arithmetic loop after a branch", arithmetic_after_a_branch)):  # fmt: skip
        for label, control, compiled in modes():
            spent = timed(fn, {"ops": args.ops}, control, compiled)
            print(f"  {name:<32} {label:<26} {args.ops / spent / 1e6:8.2f} M ops/s")
    values = random.Random(args.n).sample(range(10 * args.n), args.n)
    sorts: dict[str, Callable[[list[Any]], Any]] = {
        "odd-even transposition sort": lambda xs: odd_even_in_place(list(xs)),
        "heap sort, swaps in a helper": lambda xs: heap_sort_in_place(list(xs)),
        "merge sort, merge with if": merge_sort,
    }
    print(f"branchy code, n = {args.n} (seconds, recorded steps)")
    for name, sort in sorts.items():

        def run(n: int, sort: Callable[[list[Any]], Any] = sort) -> Any:
            return sort(ss.inputs(values))

        for label, control, compiled in modes():
            spent = timed(run, {"n": args.n}, control, compiled)
            steps = len(run_traced(run, {"n": args.n}, control=control).recorder)
            print(f"  {name:<32} {label:<26} {spent:8.3f} s  {steps:>8,} steps")


if __name__ == "__main__":
    main()
