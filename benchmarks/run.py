"""Benchmarks: serialscale against baselines run in the same invocation.

Usage: ``python benchmarks/run.py [--quick] [--repeat N]`` (``make bench``). Generates inputs
under ``benchmarks/data/`` (git-ignored), runs every measurement in a fresh process ``N``
times, and prints medians, peak memory (max RSS) and ratios against the baselines. Prints
only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PY = sys.executable


def random_dag(n: int, degree: int, seed: int = 1) -> dict[str, object]:
    """``n`` steps, each needing up to ``degree`` random earlier steps; integer costs 1..10."""
    rnd = random.Random(seed)
    steps = []
    for i in range(n):
        needs = sorted({f"s{rnd.randrange(i)}" for _ in range(degree)}) if i else []
        step: dict[str, object] = {"id": f"s{i}", "cost": rnd.randint(1, 10)}
        if needs:
            step["needs"] = needs
        steps.append(step)
    return {"name": f"random-{n}", "steps": steps}


def chain(n: int) -> dict[str, object]:
    steps = [{"id": f"s{i}", "needs": [f"s{i - 1}"]} if i else {"id": "s0"} for i in range(n)]
    return {"name": f"chain-{n}", "steps": steps}


def fan_out(n: int) -> dict[str, object]:
    steps = [{"id": "root"}] + [{"id": f"w{i}", "needs": ["root"]} for i in range(n - 1)]
    return {"name": f"fan-{n}", "steps": steps}


def write_yaml(doc: dict[str, object], path: Path) -> None:
    """Flow-style YAML, one step a line (what exporters of job graphs write)."""
    with path.open("w") as f:
        f.write(f"name: {doc['name']}\nsteps:\n")
        for step in doc["steps"]:  # type: ignore[attr-defined]
            f.write("  - " + json.dumps(step, separators=(", ", ": ")) + "\n")


def inputs(quick: bool) -> dict[str, Path]:
    DATA.mkdir(exist_ok=True)
    sizes = {"random-100k": (random_dag, 100_000)}
    if not quick:
        sizes |= {
            "random-1m": (random_dag, 1_000_000),
            "chain-1m": (chain, 1_000_000),
            "fan-1m": (fan_out, 1_000_000),
        }
    files: dict[str, Path] = {}
    for name, (make, n) in sizes.items():
        doc = None
        for ext in ("json", "yaml"):
            path = DATA / f"{name}.{ext}"
            files[f"{name}.{ext}"] = path
            if path.exists():
                continue
            doc = doc or (make(n, 3) if make is random_dag else make(n))  # type: ignore[operator]
            if ext == "json":
                path.write_text(json.dumps(doc))
            else:
                write_yaml(doc, path)
    return files


NX_PIPELINE = """
import json, sys, networkx as nx
doc = json.load(open(sys.argv[1]))
g = nx.DiGraph()
cost = {s["id"]: s.get("cost", 1) for s in doc["steps"]}
g.add_node("__sink__")
for s in doc["steps"]:
    g.add_edge(s["id"], "__sink__", w=cost[s["id"]])
    for d in s.get("needs", []):
        g.add_edge(d, s["id"], w=cost[d])
print(nx.dag_longest_path_length(g, weight="w"))
"""

YAML_NX_PIPELINE = NX_PIPELINE.replace(
    "doc = json.load(open(sys.argv[1]))",
    "import yaml\ndoc = yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)",
)

BARE_YAML = """
import gc, sys, yaml
gc.disable()
yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)
"""


def measure(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median wall seconds and peak RSS (MiB) of ``cmd`` over ``repeat`` fresh processes."""
    times, peaks = [], []
    wrapper = [
        PY, "-c",
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)",
    ]  # fmt: skip
    for _ in range(repeat):
        out = subprocess.run([*wrapper, *cmd], capture_output=True, text=True, check=True)
        seconds, peak = out.stdout.split()
        times.append(float(seconds))
        peaks.append(float(peak))
    return statistics.median(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the 100k-step inputs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = inputs(args.quick)
    cli = [PY, "-m", "serialscale", "analyze", "--format", "json"]
    print(f"{'measurement':<42} {'median s':>9} {'peak MiB':>9} {'ratio':>8}")

    def row(label: str, cmd: list[str], base: tuple[float, float] | None = None) -> tuple:
        t, mem = measure(cmd, args.repeat)
        ratio = f"{base[0] / t:7.2f}x" if base else ""
        print(f"{label:<42} {t:9.3f} {mem:9.0f} {ratio:>8}", flush=True)
        return t, mem

    for name in sorted(files):
        path = str(files[name])
        if name.endswith(".json"):
            base = row(f"networkx pipeline {name}", [PY, "-c", NX_PIPELINE, path])
        else:
            base = row(f"yaml.safe_load + networkx {name}", [PY, "-c", YAML_NX_PIPELINE, path])
            row(f"bare CSafeLoader, gc paused {name}", [PY, "-c", BARE_YAML, path])
        row(f"serialscale analyze {name}", [*cli, path], base)
    print("ratio = baseline time / serialscale time (above 1: serialscale is faster)")
    print(f"measured {time.strftime('%Y-%m-%d')} with Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
