"""The seed's contrasts as numpy programs, traced at array level (README: Array programs).

Each function builds its data from a fixed seed, marks it with ``serialscale.input`` and then
computes with plain numpy: every array operation is one step with the work and span of the
cost table (serialscale/trace/arrays.py). Sweep one parameter with ``serialscale scale``:

- ``rnn`` over ``T`` (sequence length): ``h_t = tanh(W h_{t-1} + U x_t)`` must step through
  the sequence, depth grows linearly in ``T``: serial as written.
- ``attention`` over ``T``: every position attends to all positions at once (matrix
  products and a softmax: reductions over ``T``), depth grows like ``log T``: parallelizable.
- ``diffusion`` over ``size`` (image side) and ``steps``: a fixed number of denoising steps,
  each a local stencil (``np.roll``) and elementwise updates: depth constant in ``size``
  (parallelizable in the image size), linear in ``steps`` (serial in the number of steps).
- ``rule110`` over ``generations``: each generation reads the previous one (neighbours by
  ``np.roll``); predicting rule 110 is P-complete, so, if NC != P, no program does much
  better: serial.
- ``prefix_sum`` over ``n``: Hillis and Steele's scan, ``⌈log₂ n⌉`` rounds of shifted
  adds: polylogarithmic depth.

No function converts an array value to a Python number or branches on one, and every
operation is in the cost table: each recording is exact, so verdicts have both bounds.
"""

from __future__ import annotations

import numpy as np

import serialscale as ss


def rnn(T: int = 32, d: int = 16):
    """An Elman recurrent network over ``T`` steps: ``h = tanh(W h + U x_t)``."""
    rng = np.random.default_rng(0)
    w = ss.input(rng.standard_normal((d, d)) / np.sqrt(d))
    u = ss.input(rng.standard_normal((d, d)) / np.sqrt(d))
    xs = ss.input(rng.standard_normal((T, d)))
    h = np.zeros(d)
    for t in range(T):
        h = np.tanh(w @ h + u @ xs[t])
    return h


def attention(T: int = 32, d: int = 16):
    """One head of self-attention over ``T`` positions: ``softmax(Q Kᵀ / √d) V``."""
    rng = np.random.default_rng(0)
    x = ss.input(rng.standard_normal((T, d)))
    wq, wk, wv = (ss.input(rng.standard_normal((d, d)) / np.sqrt(d)) for _ in range(3))
    q, k, v = x @ wq, x @ wk, x @ wv
    scores = q @ k.T / np.sqrt(d)
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=1, keepdims=True)
    return weights @ v


def diffusion(size: int = 16, steps: int = 8):
    """A fixed-step sampler on a ``size`` x ``size`` image: each step predicts the noise with
    a local stencil (the four neighbours, by ``np.roll``) and takes a deterministic update."""
    rng = np.random.default_rng(0)
    x = ss.input(rng.standard_normal((size, size)))
    for t in range(steps, 0, -1):
        alpha = 1.0 - 0.5 * t / (steps + 1)
        neighbours = (np.roll(x, 1, axis=0) + np.roll(x, -1, axis=0)
                      + np.roll(x, 1, axis=1) + np.roll(x, -1, axis=1))  # fmt: skip
        noise = np.tanh(x - 0.25 * neighbours)
        x = (x - (1.0 - alpha) * noise) / np.sqrt(alpha)
    return x


def rule110(generations: int = 16, width: int = 64):
    """Rule 110 for ``generations`` steps on a ring of ``width`` cells: new = (C or R) and
    not (L and C and R)."""
    cells = np.zeros(width, dtype=bool)
    cells[width // 2] = True
    row = ss.input(cells)
    for _ in range(generations):
        left, right = np.roll(row, 1), np.roll(row, -1)
        row = (row | right) & ~(left & row & right)
    return row


def prefix_sum(n: int = 64):
    """Inclusive prefix sums by Hillis and Steele's scan: ``⌈log₂ n⌉`` rounds, in each every
    element adds the one ``2^k`` places before it."""
    x = ss.input(np.arange(1, n + 1, dtype=np.int64))
    shift = 1
    while shift < n:
        x = x + np.concatenate([np.zeros(shift, dtype=np.int64), x[:-shift]])
        shift *= 2
    return x
