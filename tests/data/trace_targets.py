"""Traced functions that exercise every path of the tracing hot path (compiled and pure)."""
# ruff: noqa: SIM300, SIM105  (reflected comparisons and a caught error are the point here)

import serialscale as ss


def operators(n: int = 3):
    """Every binary operator and comparison, forward, reflected, on the same value twice."""
    a, b = ss.inputs([7, 3])
    out = []
    for _ in range(n):
        out += [a + b, a - b, a * b, a / b, a // b, a % b, a**b, a & b, a | b, a ^ b,
                a << b, a >> b, a < b, a <= b, a == b, a != b, a > b, a >= b]  # fmt: skip
        out += [2 + a, 2 - a, 2 * a, 2 / a, 2 // a, 2 % a, 2**b, 2 & a, 2 | a, 2 ^ a,
                2 << b, 64 >> b, 2 < a, 2 <= a, 2 == a, 2 != a, 2 > a, 2 >= a]  # fmt: skip
        out += [a + a, b * b, -a, abs(b), ~a, +a, round(a / b, 2)]
        q, r = divmod(a, b)
        a = q + r + sum([a, b, q])  # sum() calls the operators from C
        b = b + 1
    return out


def long_loop(ops: int = 70_000):
    """More steps than one pending buffer holds (65,536): exercises the flush."""
    x, y = ss.inputs([1.0, 0.5])
    for _ in range(ops):
        x = x + y
    return x


def branches(n: int = 40):
    """Branches on traced values: strict mode turns them into dependencies."""
    best = ss.input(0)
    values = ss.inputs(range(n))
    for v in values:
        if v * 3 % 7 > best:
            best = v * 3 % 7
        try:
            best = best + 1 / (v - v)
        except ZeroDivisionError:
            pass
    return best


@ss.task(cost=5)
def heavy(x, y):
    return x * y + 1


def tasks_and_ops(n: int = 6):
    """Tasks, op() calls and plain operators mixed."""
    import math

    xs = ss.inputs(range(1, n + 1))
    acc = xs[0]
    for x in xs[1:]:
        acc = heavy(acc, x) + ss.op(math.sqrt, x * x)
    return acc


def selection(n: int = 24):
    """max, sorted, heapq, bisect, list.sort and numpy's sort/max/min on traced values, with
    arithmetic between."""
    import bisect
    import heapq
    import math

    xs = ss.inputs([(i * 7919) % 101 for i in range(n)])
    heap: list = []
    for x in xs:
        heapq.heappush(heap, (x * 2, "t"))
    popped = [heapq.heappop(heap)[0] for _ in range(n // 2)]
    ordered: list = []
    for x in popped:
        bisect.insort(ordered, x + 1)
    where = bisect.bisect_left(ordered, xs[3])
    pairs = [(x - 1, i) for i, x in enumerate(xs)]
    pairs.sort(key=lambda p: -p[0])  # list.sort and numpy: watched builtin methods
    import numpy as np

    grid = np.array(xs[:12], dtype=object).reshape(3, 4)
    grid.sort(axis=1)
    extremes = grid.max(axis=0).sum() + np.min(grid)
    return max(ordered) + sorted(xs)[-1] + math.sqrt(popped[0] + 1) + where + pairs[0][0] + extremes


def faithful(n: int = 6):
    """Attributes and methods of traced numbers, pow with a modulus, truth tests inside
    calls, a traced Fraction, and scoped stores (issue 23)."""
    from fractions import Fraction

    xs = ss.inputs([(i * 7) % 11 + 0.5 for i in range(n)])
    out = []
    for x in xs:
        y = x * 2
        num, den = y.as_integer_ratio()
        out += [y.real, y.is_integer(), num + den, pow(int(y) * 1, 3, 7), y.hex()]
        k = ss.input(5) + int(y)
        out.append(k.bit_length() + pow(k, 2, 9))
    out.append(any(x > 3 for x in xs))
    out.append(xs[1] in xs)
    f = Fraction(1, 3) + ss.input(2) * 1
    best = xs[0]
    for x in xs:
        best = x if x > best else best
        if x < best:
            out.append(x)
    return out, f.numerator, best


def reductions(n: int = 12):
    """max, min and sum in every form the compiled selection takes or hands to its twin:
    several arguments, one iterable, generators, default=, key=, tuples, plain values mixed
    in, a start value, sums of traced lists; unary operators; a branch in between (strict and
    frame modes add a decision to every step after it)."""
    from math import fsum

    xs = ss.inputs([((i * 37) % 11) - 5.0 for i in range(n)])
    best = max(xs[0], xs[1], 3.0)
    worst = min(x * 2 for x in xs)
    if best > worst:  # a branch on traced values: strict and frame modes decide here
        best = best + 1
    total = sum(xs) + sum((abs(x) for x in xs), 10) + sum(xs[:3], start=-xs[4])
    empty = max([], default=0.5) + min((x for x in []), default=-1)
    keyed = max(xs, key=lambda x: -x) + min(xs[2], xs[5], key=abs)
    pairs = max((x, i) for i, x in enumerate(xs))[0] + min([(xs[1], 1), (xs[1], 0)])[0]
    plain = max([1, 2, 3]) + sum([1.5, 2.5]) + min(4, 2)
    lists = sum([[x] for x in xs[:3]], [])  # noqa: RUF017 (a sum of lists, as written)
    signs = -xs[0] + (+xs[1]) + abs(xs[2]) + ~ss.input(6)
    nested = max(min(xs[i], xs[i + 1]) for i in range(0, n - 1, 2))
    return (best + worst + total + empty + keyed + pairs + plain + lists[2] + signs + nested
            + fsum(xs))  # fmt: skip


def math_calls(n: int = 8):
    """math functions as the compiled tracer records them and as it hands them to the Python
    twin, and bulk inputs of every kind: one or two traced arguments, the same one twice,
    more than three (hypot), plain arguments, lists (dist), an input with no step, an error
    caught (no step), and a branch in between (strict and frame modes add its decision)."""
    import math
    from math import sqrt  # bound before the run: swapped for the recorded one

    xs = ss.inputs([i * 0.75 + 0.5 for i in range(n)] + [2, True])
    mixed = ss.inputs(["ab", (1, 2), 3 + 1j, 4, 1.5])
    ys = [x * 1.5 for x in xs]
    out = [math.sqrt(xs[0]), sqrt(ys[1]), math.atan2(ys[2], ys[3]), math.atan2(ys[4], 2.0),
           math.pow(ys[5], ys[5]), math.hypot(ys[0], ys[1], ys[2], ys[3], xs[4]),
           math.exp(1.0), math.dist(ys[:2], [0.0, 1.0]), math.copysign(xs[n], -1)]  # fmt: skip
    if out[0] < ys[1]:  # a branch on traced values: strict and frame modes decide here
        out.append(math.log(ys[6]) + math.cos(ys[7]))
    try:
        out.append(math.sqrt(ys[0] - 100))
    except ValueError:
        out.append(math.fabs(ys[1] - 100))
    out += [mixed[3] * 2, mixed[4] + xs[n + 1], abs(mixed[2])]
    return [o for o in out if not isinstance(o, str)], len(mixed[0])


def heaps(n: int = 16):
    """heapq.heappush and heappop as the compiled tracer records them and as it hands them
    to the Python twin: (traced, int) pairs pushed under a branch (scoped mode selects what
    is stored there), bare traced numbers, plain values, a list subclass, keywords, an
    empty heap's error caught."""
    import heapq
    from heapq import heappop, heappush  # bound before the run: swapped too

    class Heap(list):
        pass

    xs = ss.inputs([(i * 7919) % 23 - 4.0 for i in range(n)])
    pairs: list = [(0.0, 0)]
    best = [99.0] * n
    order = []
    while pairs and len(order) < 3 * n:
        d, u = heappop(pairs)
        order.append(d)
        for v in (u * 3 + 1) % n, (u * 5 + 2) % n:
            nd = d + abs(xs[v])
            if nd < best[v]:
                best[v] = nd
                heapq.heappush(pairs, (nd, v))
    bare, plain, sub = [], [], Heap()
    for x in xs:
        heappush(bare, x * 2)
        heapq.heappush(plain, int(x.value) % 5)
        heapq.heappush(sub, x - 1)
    for call in (lambda: heapq.heappush(heap=bare, item=xs[0]), lambda: heappop([])):
        try:  # keywords: the twin's TypeError, as heapq's; an empty heap: IndexError
            call()
        except (TypeError, IndexError) as error:
            plain.append(type(error).__name__)
    drained = [heappop(bare) for _ in range(n // 2)] + [heapq.heappop(sub) for _ in range(3)]
    return order, best, drained, plain
