"""Traced depth of classic algorithms as written, against their textbook depth (issue 13).

Usage: ``python benchmarks/classic_depths.py``. Each algorithm is written the ordinary way
(library calls, loops, ``if``) on traced inputs, traced at three sizes in each control mode
(dataflow, scoped, frame, strict),
and its depth printed beside the depth of the algorithm *as written* (the longest chain of
dependent operations a textbook analysis gives; for a sequential program that is not its
parallel complexity). The ratio shows where the tracer matches, and where it does not (the
control dependence of an ``if`` in user code, which data-flow mode leaves out). Prints only.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import serialscale as ss
from serialscale.sources.python_targets import trace_function

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workloads"))
from algorithms import (  # the bundled classic algorithms
    heap_sort_in_place,
    merge_with_if,
    odd_even_in_place,
)


def running_max(xs: list[Any]) -> Any:
    return max(xs)


def library_sort(xs: list[Any]) -> Any:
    return sorted(xs)


def list_sort(xs: list[Any]) -> Any:
    xs = list(xs)
    xs.sort()
    return xs


def numpy_max(xs: list[Any]) -> Any:
    import numpy as np

    return np.array(xs, dtype=object).max()


def heap_sort(xs: list[Any]) -> Any:
    heap: list[Any] = []
    for x in xs:
        heapq.heappush(heap, x)
    return [heapq.heappop(heap) for _ in xs]


def binary_search(xs: list[Any]) -> Any:
    ordered = sorted(xs)
    return bisect.bisect_left(ordered, xs[0])


def insertion_by_bisect(xs: list[Any]) -> Any:
    out: list[Any] = []
    for x in xs:
        bisect.insort(out, x)
    return out


def merge_sort_with_if(xs: list[Any]) -> Any:
    """Top-down merge sort, the merge written with ``if`` (the bundled algorithms' own)."""
    if len(xs) <= 1:
        return xs
    half = len(xs) // 2
    return merge_with_if(merge_sort_with_if(xs[:half]), merge_sort_with_if(xs[half:]))


def odd_even_transposition(xs: list[Any]) -> Any:
    """n rounds of neighbour compare-exchanges written with ``if`` and swaps."""
    return odd_even_in_place(list(xs))


def heap_sort_with_swaps(xs: list[Any]) -> Any:
    """Heap sort with the swaps in a helper (the bundled algorithms' own)."""
    return heap_sort_in_place(list(xs))


def running_max_with_if(xs: list[Any]) -> Any:
    best = xs[0]
    for x in xs[1:]:
        if x > best:
            best = x
    return best


def prefix_sum(xs: list[Any]) -> Any:
    total, out = xs[0], [xs[0]]
    for x in xs[1:]:
        total = total + x
        out.append(total)
    return out


def edit_distance(xs: list[Any]) -> Any:
    """Levenshtein distance between the two halves, with min() for the choice."""
    a, b = xs[: len(xs) // 2], xs[len(xs) // 2 :]
    prev = [ss.input(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        row = [ss.input(i)]
        for j in range(1, len(b) + 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])))
        prev = row
    return prev[-1]


def lcs_with_if(xs: list[Any]) -> Any:
    """Longest common subsequence of the two halves, the choice a conditional expression."""
    a, b = xs[: len(xs) // 2], xs[len(xs) // 2 :]
    prev = [ss.input(0)] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        row = [ss.input(0)]
        for j in range(1, len(b) + 1):
            row.append(prev[j - 1] + 1 if a[i - 1] == b[j - 1] else max(prev[j], row[j - 1]))
        prev = row
    return prev[-1]


def greedy_intervals(xs: list[Any]) -> Any:
    """Activity selection: sort by end, take each interval that starts after the last end."""
    intervals = [(x, x + 3) for x in xs]
    last_end, taken = ss.input(-1), []
    for start, end in sorted(intervals, key=lambda iv: iv[1]):
        if start >= last_end:
            taken.append(end)
            last_end = end
    return taken


def _log(n: int) -> int:
    return math.ceil(math.log2(n))


#: name -> (function, textbook depth as written for n inputs, what that depth is)
ALGORITHMS: dict[str, tuple[Callable[[list[Any]], Any], Callable[[int], float], str]] = {
    "max()": (running_max, lambda n: n - 1, "n - 1 comparisons in a chain"),
    "sorted() (merge sort)": (library_sort, lambda n: 2 * n, "Θ(n): the last merge is a chain"),
    "list.sort() (timsort)": (list_sort, lambda n: 2 * n,
                              "Θ(n): runs merged, the last merge a chain"),
    "numpy object array .max()": (numpy_max, lambda n: n - 1, "n - 1 comparisons in a chain"),
    "heapq push/pop sort": (heap_sort, lambda n: 2 * n,
                            "Θ(n): each pop's root needs only the top of the last sift"),
    "bisect_left (after sorted)": (binary_search, lambda n: 2 * n + _log(n),
                                   "sort Θ(n) + ⌈log2 n⌉ probes"),
    "bisect.insort n times": (insertion_by_bisect, lambda n: n * _log(n),
                              "at most n⌈log2 n⌉ (input-dependent; random input: far less)"),
    "merge sort, merge with if": (merge_sort_with_if, lambda n: 2 * n,
                                  "Θ(n): the last merge is a chain"),
    "odd-even transposition, if": (odd_even_transposition, lambda n: n,
                                    "n rounds; a round's exchanges are independent"),
    "heap sort, swaps in helper": (heap_sort_with_swaps, lambda n: 2 * n,
                                   "Θ(n): each sift waits for the last one's first levels"),
    "running max with if": (running_max_with_if, lambda n: math.log(n) + 0.58,
                            "a chain of the values taken: H(n) ~ ln n on random input"),
    "prefix sum loop": (prefix_sum, lambda n: n - 1, "n - 1 additions in a chain"),
    "edit distance, min()": (edit_distance, lambda n: n, "n/2 + n/2: the anti-diagonals"),
    "LCS, conditional expression": (lcs_with_if, lambda n: n, "n/2 + n/2: the anti-diagonals"),
    "greedy intervals with if": (greedy_intervals, lambda n: 3 * n, "sort Θ(n) + scan Θ(n)"),
}  # fmt: skip


def traced_depth(fn: Callable[[list[Any]], Any], n: int, control: str) -> int:
    values = random.Random(n).sample(range(10 * n), n)

    def run(n: int) -> Any:
        return fn(ss.inputs(values))

    run.__name__ = fn.__name__
    return ss.analyze_workload(trace_function(run, {"n": n}, control=control)).depth


def main() -> None:
    sizes = (16, 64, 256)
    modes = ("dataflow", "scoped", "frame", "strict")
    print(
        f"{'algorithm':<28} {'n':>4} {'textbook':>9}"
        + "".join(f" {m:>9} {'ratio':>6}" for m in modes)
        + "  textbook depth as written"
    )
    for name, (fn, textbook, what) in ALGORITHMS.items():
        for n in sizes:
            book = textbook(n)
            depths = [traced_depth(fn, n, mode) for mode in modes]
            print(f"{name:<28} {n:>4} {book:>9.0f}"
                  + "".join(f" {d:>9} {d / book:>6.2f}" for d in depths)
                  + f"  {what if n == sizes[0] else ''}")  # fmt: skip


if __name__ == "__main__":
    main()
