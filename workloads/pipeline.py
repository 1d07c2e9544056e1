"""A data pipeline of ``@serialscale.task`` functions, like ``dask.delayed`` but eager.

``pipeline`` declares its costs (seconds): fetch (4) and a lookup table (2) run side by side;
three shards are cleaned (3 each) in parallel; the model trains (10) on all of them and the
report (1) follows. Depth = 4 + 3 + 10 + 1 = 18, work = 4 + 2 + 3·3 + 10 + 1 = 26.

``measured_pipeline`` does real (small) work and lets serialscale time each call.
"""

from __future__ import annotations

import serialscale as ss


@ss.task(cost=4)
def fetch(day: int) -> list[int]:
    return [(day * 31 + i * 17) % 100 for i in range(300)]


@ss.task(cost=2)
def lookup_table() -> dict[int, str]:
    return {i: f"label-{i % 7}" for i in range(100)}


@ss.task(cost=3)
def clean(rows: list[int], shard: int, shards: int) -> list[int]:
    return [r for i, r in enumerate(rows) if i % shards == shard and r > 5]


@ss.task(cost=10)
def train(shards: list[list[int]], table: dict[int, str]) -> dict[str, float]:
    flat = [r for shard in shards for r in shard]
    return {"mean": sum(flat) / len(flat), "labels": float(len(set(table.values())))}


@ss.task(cost=1)
def report(model: dict[str, float]) -> str:
    return f"mean={model['mean']:.2f}"


def pipeline(day: int = 3, shards: int = 3):
    """fetch ∥ lookup → clean × shards → train → report. Depth 18, work 17 + 3·shards."""
    rows = fetch(day)
    table = lookup_table()
    cleaned = [clean(rows, s, shards) for s in range(shards)]
    return report(train(cleaned, table))


@ss.task(cost="measured")
def crunch(seed: int, size: int) -> int:
    acc = seed
    for i in range(size):
        acc = (acc * 1103515245 + 12345 + i) % 2**31
    return acc


@ss.task(cost="measured")
def combine(values: list[int]) -> int:
    return sum(values) % 1000


def measured_pipeline(width: int = 4, size: int = 20000):
    """``width`` independent crunches, then one combine; costs are measured seconds."""
    return combine([crunch(seed, size) for seed in range(width)])
