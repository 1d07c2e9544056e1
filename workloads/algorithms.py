"""Serial versus parallel algorithms, written as plain Python and traced by serialscale.

Run one with ``serialscale analyze workloads/algorithms.py:pairwise_sum --param n=64``. Each
docstring states the work and depth that tracing must find (every operation costs 1; inputs
are free), and the tests check them at several sizes.
"""

from __future__ import annotations

import serialscale as ss


def running_sum(n: int = 64):
    """Add n numbers left to right. Work n-1, depth n-1, width 1: serial as written (the same
    sum as a tree has depth log2 n: see pairwise_sum)."""
    xs = ss.inputs(range(n))
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def pairwise_sum(n: int = 64):
    """Add n = 2**k numbers as a balanced tree. Work n-1, depth k = log2 n, width n/2."""
    xs = ss.inputs(range(n))
    while len(xs) > 1:
        pairs = [xs[i] + xs[i + 1] for i in range(0, len(xs) - 1, 2)]
        xs = pairs + ([xs[-1]] if len(xs) % 2 else [])
    return xs[0]


def affine(n: int = 64):
    """y = 3x + 1 for each of n inputs. Work 2n, depth 2, width n: embarrassingly parallel."""
    return [3 * x + 1 for x in ss.inputs(range(n))]


def sequential_scan(n: int = 64):
    """Inclusive prefix sums, one after another. Work n-1, depth n-1."""
    xs = ss.inputs(range(n))
    out = [xs[0]]
    for x in xs[1:]:
        out.append(out[-1] + x)
    return out


def blelloch_scan(n: int = 64):
    """Work-efficient exclusive scan (up-sweep, then down-sweep) on n = 2**k inputs.

    Work 2(n-1): n-1 adds going up, n-1 coming down. Depth 2k - 1: logarithmic, against n-1
    for the sequential scan.
    """
    a: list = ss.inputs(range(n))
    k = n.bit_length() - 1
    for d in range(k):
        step = 2 ** (d + 1)
        for i in range(0, n, step):
            a[i + step - 1] = a[i + 2**d - 1] + a[i + step - 1]
    a[n - 1] = 0
    for d in reversed(range(k)):
        step = 2 ** (d + 1)
        for i in range(0, n, step):
            left = a[i + 2**d - 1]
            a[i + 2**d - 1] = a[i + step - 1]
            a[i + step - 1] = left + a[i + step - 1]
    return a


def horner(degree: int = 32):
    """Evaluate a polynomial by Horner's rule: ((c_d x + c_{d-1}) x + ...) + c_0.

    Work 2·degree, depth 2·degree: every multiply waits for the add before it.
    """
    x = ss.input(0.5)
    coefficients = ss.inputs(range(1, degree + 2))
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = acc * x + c
    return acc


def estrin(degree: int = 31):
    """Evaluate a polynomial of degree 2**k - 1 by Estrin's scheme.

    Pairs c_{2i} + c_{2i+1} x, then pairs of pairs with x², x⁴, ... computed by squaring.
    Depth 2k: each level is one multiply and one add, and the powers of x are ready in time.
    Work 2(2**k - 1) + (k - 1): the multiply-adds plus the squarings.
    """
    x = ss.input(0.5)
    terms = ss.inputs(range(1, degree + 2))
    power = x
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] * power for i in range(0, len(terms), 2)]
        if len(terms) > 1:
            power = power * power
    return terms[0]


def tree_sum(values: list):
    """Sum traced values as a balanced tree (depth ceil(log2 len))."""
    while len(values) > 1:
        pairs = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        values = pairs + ([values[-1]] if len(values) % 2 else [])
    return values[0]


def matmul(n: int = 8):
    """C = A·B for n×n matrices, dot products summed as trees.

    Work n²(2n - 1), depth 1 + ceil(log2 n): the multiplies run together, then a tree of adds.
    """
    a = [ss.inputs(range(i * n, (i + 1) * n)) for i in range(n)]
    b = [ss.inputs(range(i * n, (i + 1) * n)) for i in range(n)]
    return [[tree_sum([a[i][k] * b[k][j] for k in range(n)]) for j in range(n)] for i in range(n)]


def bitonic_sort(n: int = 16):
    """Bitonic sorting network on n = 2**k keys; each compare-exchange is a min and a max step.

    Depth k(k+1)/2 (it grows like log² n), work n/2 · k(k+1)/2 · 2 = n·k(k+1)/2.
    """
    keys = ss.inputs((7 * i + 3) % n for i in range(n))
    size = 2
    while size <= n:
        stride = size // 2
        while stride >= 1:
            for i in range(n):
                j = i ^ stride
                if j > i:
                    ascending = (i & size) == 0
                    lo, hi = ss.op(min, keys[i], keys[j]), ss.op(max, keys[i], keys[j])
                    keys[i], keys[j] = (lo, hi) if ascending else (hi, lo)
            stride //= 2
        size *= 2
    return keys


def running_max(n: int = 16):
    """Running maximum written with ``if``: n-1 comparisons, each a step.

    In the data-flow view the comparisons only read inputs: depth 1, width n-1, and n-1
    control decisions are reported as ignored. With ``--control strict`` every comparison
    also needs the previous decision: depth n-1.
    """
    xs = ss.inputs((i * 7) % n for i in range(n))
    best = xs[0]
    for x in xs[1:]:
        if x > best:
            best = x
    return best


def odd_even_transposition_sort(n: int = 16):
    """Odd-even transposition sort: n rounds of compare-exchanges of neighbours, written
    with ``if`` and swaps (a sorting network). Depth as written: at most n comparisons in a
    chain, one per round (the exchanges of a round are independent); the data-flow view
    sees 1 (a swap moves values, it computes nothing), ``--control scoped`` the rounds."""
    return odd_even_in_place(ss.inputs((i * 7919) % 10007 for i in range(n)))


def odd_even_in_place(a: list) -> list:
    """The rounds of odd-even transposition sort on ``a``, in place (returns ``a``)."""
    n = len(a)
    for round_ in range(n):
        for i in range(round_ % 2, n - 1, 2):
            if a[i] > a[i + 1]:
                a[i], a[i + 1] = a[i + 1], a[i]
    return a


def _swap(a: list, i: int, j: int) -> None:
    a[i], a[j] = a[j], a[i]


def _sift_down(a: list, root: int, end: int) -> None:
    """Move a[root] down the max-heap a[:end + 1], swapping in a helper."""
    while 2 * root + 1 <= end:
        child = 2 * root + 1
        if child + 1 <= end and a[child] < a[child + 1]:
            child += 1
        if a[root] < a[child]:
            _swap(a, root, child)
            root = child
        else:
            return


def heap_sort_with_swaps(n: int = 16):
    """Heap sort as textbooks write it: build a max-heap, then n - 1 times swap the root to
    the end and sift the new root down, the swaps made in a helper function. Depth as
    written Θ(n) (each sift's first step waits for the last sift's first steps; the index
    arithmetic chosen by each comparison is part of the chain)."""
    return heap_sort_in_place(ss.inputs((i * 7919) % 10007 for i in range(n)))


def heap_sort_in_place(a: list) -> list:
    """Heap sort of ``a`` in place, the swaps made in a helper (returns ``a``)."""
    n = len(a)
    for start in range((n - 2) // 2, -1, -1):
        _sift_down(a, start, n - 1)
    for end in range(n - 1, 0, -1):
        _swap(a, 0, end)
        _sift_down(a, 0, end - 1)
    return a


def merge_with_if(a: list, b: list) -> list:
    """One merge of two sorted lists written with ``if``: at most len(a) + len(b) - 1
    comparisons, each choosing the heads the next one compares. That chain runs only through
    control: depth 1 in the data-flow view; with ``--control frame`` the comparisons chain
    (one merge of n values: depth n - 1 on interleaved halves)."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out + a[i:] + b[j:]


def _rule110(left: int, center: int, right: int) -> int:
    return (110 >> (left * 4 + center * 2 + right)) & 1


def rule110(width: int = 32, generations: int = 16):
    """Elementary cellular automaton rule 110 on a ring, one update step per cell per generation.

    Work width·generations, depth generations: however wide the ring, each generation waits for
    the one before: serial as written (predicting rule 110 is P-complete: no polylogarithmic
    depth with polynomial work unless NC = P).
    """
    cells = ss.inputs([0] * (width - 1) + [1])
    for _ in range(generations):
        cells = [
            ss.op(_rule110, cells[i - 1], cells[i], cells[(i + 1) % width]) for i in range(width)
        ]
    return cells


def _collide(x, v, x_left, v_left, x_right, v_right, radius=0.5, box=10.0):
    """New velocity of a ball after touching a neighbour (elastic exchange) or a wall."""
    if x_left is not None and x - x_left < 2 * radius and v < v_left:
        return v_left
    if x_right is not None and x_right - x < 2 * radius and v > v_right:
        return v_right
    if x < radius or x > box - radius:
        return -v
    return v


def billiards(balls: int = 6, steps: int = 20):
    """Balls on a line in a box, stepped in time: each step a ball's velocity depends on its
    neighbours (one collide step), then its position moves (one multiply, one add).

    Work 3·balls·steps, depth 3·steps: the bodies interact every step, so time is serial.
    """
    dt = 0.1
    xs = ss.inputs(1.0 + 1.5 * i for i in range(balls))
    vs = ss.inputs((-1.0) ** i * (1 + i % 3) for i in range(balls))
    for _ in range(steps):
        new_v = []
        for i in range(balls):
            left = (xs[i - 1], vs[i - 1]) if i > 0 else (None, None)
            right = (xs[i + 1], vs[i + 1]) if i + 1 < balls else (None, None)
            new_v.append(ss.op(_collide, xs[i], vs[i], *left, *right))
        vs = new_v
        xs = [x + v * dt for x, v in zip(xs, vs, strict=True)]
    return xs


def value_iteration(states: int = 4, actions: int = 2, sweeps: int = 10, gamma: float = 0.9):
    """Value iteration on a small MDP with ``states`` = 2**k states.

    Each sweep: for every state and action, q = R + gamma · Σ P·V (multiplies, a tree sum,
    a multiply, an add), then V = max over actions (one step). Depth sweeps·(k + 4): each
    sweep reads every value of the previous one, so the sweeps are serial.
    """
    transition = [
        [[((s + a + t) % states + 1) / (states * (states + 1) / 2) for t in range(states)]
         for a in range(actions)]
        for s in range(states)
    ]  # fmt: skip
    reward = [[float((s * 3 + a) % 5) for a in range(actions)] for s in range(states)]
    values = ss.inputs([0.0] * states)
    for _ in range(sweeps):
        values = [
            ss.op(
                max,
                *[
                    reward[s][a]
                    + gamma * tree_sum([transition[s][a][t] * values[t] for t in range(states)])
                    for a in range(actions)
                ],
            )
            for s in range(states)
        ]
    return values
