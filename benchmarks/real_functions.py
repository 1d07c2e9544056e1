"""Functions written the way everyday Python code is written, for ``trace_real.py``.

Nothing here is tuned for the tracer: plain lists, ``for`` loops, ``sum`` over generator
expressions, ``max``/``min`` over small lists, ``math.sqrt``, ``abs``, ``heapq``. Each takes
its size as parameters and makes its inputs traced with ``serialscale.inputs``; the
arithmetic-heavy ones record additions, multiplications and math calls, the selection-heavy
ones mostly ``max``/``min``/``sum`` over short lists (the shape of value iteration, dynamic
programming and shortest paths).
"""

from __future__ import annotations

import heapq
import math

import serialscale as ss

# --- arithmetic-heavy ---


def heat_1d(n: int = 2000, steps: int = 200, alpha: float = 0.25):
    """Explicit finite differences for the heat equation on a rod (fixed ends)."""
    u = ss.inputs([math.sin(math.pi * i / (n - 1)) for i in range(n)])
    for _ in range(steps):
        new = [u[0]]
        for i in range(1, n - 1):
            new.append(u[i] + alpha * (u[i - 1] - 2 * u[i] + u[i + 1]))
        new.append(u[-1])
        u = new
    return u


def nbody(bodies: int = 24, steps: int = 80, dt: float = 0.01):
    """Leapfrog-free Euler steps of a gravitational n-body system (softened)."""
    xs = ss.inputs([math.cos(i) * (1 + i % 5) for i in range(bodies)])
    ys = ss.inputs([math.sin(i) * (1 + i % 7) for i in range(bodies)])
    vx = [0.0] * bodies
    vy = [0.0] * bodies
    mass = [1.0 + (i % 3) for i in range(bodies)]
    for _ in range(steps):
        for i in range(bodies):
            ax = ay = 0.0
            for j in range(bodies):
                if i == j:
                    continue
                dx = xs[j] - xs[i]
                dy = ys[j] - ys[i]
                r2 = dx * dx + dy * dy + 0.01
                inv = mass[j] / (r2 * math.sqrt(r2))
                ax += dx * inv
                ay += dy * inv
            vx[i] += ax * dt
            vy[i] += ay * dt
        xs = [x + v * dt for x, v in zip(xs, vx, strict=True)]
        ys = [y + v * dt for y, v in zip(ys, vy, strict=True)]
    return xs, ys


def matmul(n: int = 90):
    """Square matrix product, the textbook triple loop with a running total."""
    a = [ss.inputs([(i * n + j) % 7 / 7 for j in range(n)]) for i in range(n)]
    b = [ss.inputs([(i + 2 * j) % 5 / 5 for j in range(n)]) for i in range(n)]
    c = []
    for i in range(n):
        row = []
        for j in range(n):
            total = 0.0
            for k in range(n):
                total += a[i][k] * b[k][j]
            row.append(total)
        c.append(row)
    return c


def statistics_pass(n: int = 200_000):
    """Mean, variance and a normalised copy of a sample, as a notebook would write them."""
    xs = ss.inputs([math.sin(i) * 3 + 1 for i in range(n)])
    mean = sum(xs) / n
    variance = sum((x - mean) ** 2 for x in xs) / (n - 1)
    std = math.sqrt(variance)
    return [abs(x - mean) / std for x in xs]


def polynomials(points: int = 20_000, degree: int = 30):
    """Horner's rule at many points."""
    coefficients = ss.inputs([1 / (k + 1) for k in range(degree + 1)])
    out = []
    for p in range(points):
        x = p / points
        acc = coefficients[-1]
        for c in reversed(coefficients[:-1]):
            acc = acc * x + c
        out.append(acc)
    return out


# --- selection-heavy ---


def value_iteration(states: int = 300, actions: int = 4, successors: int = 3, sweeps: int = 40,
                    gamma: float = 0.95):  # fmt: skip
    """Value iteration on a random-looking MDP: each state's new value is the best action's
    expected return, a ``max`` over a short list of ``sum``s over a few successors."""
    transitions = [
        [[((s * 7 + a * 13 + k * 29) % states, (k + 1) / (successors * (successors + 1) / 2))
          for k in range(successors)] for a in range(actions)]
        for s in range(states)
    ]  # fmt: skip
    rewards = ss.inputs([float((s * 3) % 11) / 10 for s in range(states * actions)])
    values = ss.inputs([0.0] * states)
    for _ in range(sweeps):
        values = [
            max(sum(p * (rewards[s * actions + a] + gamma * values[t])
                    for t, p in transitions[s][a]) for a in range(actions))
            for s in range(states)
        ]  # fmt: skip
    return values


def edit_distance(n: int = 500):
    """Levenshtein distance by dynamic programming with traced substitution costs."""
    costs = ss.inputs([float((i * 7) % 3 > 0) for i in range(n * n)])
    previous = list(range(n + 1))
    for i in range(1, n + 1):
        current = [i]
        for j in range(1, n + 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + costs[(i - 1) * n + j - 1]))  # fmt: skip
        previous = current
    return previous[-1]


def floyd_warshall(n: int = 70):
    """All-pairs shortest paths on a dense graph with traced weights."""
    weights = ss.inputs([1.0 + (i * 17 + j * 31) % 23 for i in range(n) for j in range(n)])
    d = [[0.0 if i == j else weights[i * n + j] for j in range(n)] for i in range(n)]
    for k in range(n):
        dk = d[k]
        for i in range(n):
            di = d[i]
            dik = di[k]
            for j in range(n):
                di[j] = min(di[j], dik + dk[j])
    return d


def knapsack(items: int = 120, capacity: int = 1000):
    """0/1 knapsack, one row of the table kept."""
    values = ss.inputs([float((i * 37) % 19 + 1) for i in range(items)])
    weights = [(i * 13) % 29 + 1 for i in range(items)]
    best = [0.0] * (capacity + 1)
    for i in range(items):
        w = weights[i]
        for c in range(capacity, w - 1, -1):
            best[c] = max(best[c], best[c - w] + values[i])
    return best[capacity]


def dijkstra(n: int = 3000, degree: int = 6):
    """Shortest paths from node 0 with a binary heap of (distance, node) pairs."""
    weights = ss.inputs([1.0 + (i * 7) % 10 for i in range(n * degree)])
    edges = [[((u * 31 + k * 97 + 1) % n, weights[u * degree + k]) for k in range(degree)]
             for u in range(n)]  # fmt: skip
    dist = [math.inf] * n
    dist[0] = 0.0
    heap = [(0.0, 0)]
    done = [False] * n
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for v, w in edges[u]:
            nd = d + w
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


ARITHMETIC = ("heat_1d", "nbody", "matmul", "statistics_pass", "polynomials")
SELECTION = ("value_iteration", "edit_distance", "floyd_warshall", "knapsack", "dijkstra")
