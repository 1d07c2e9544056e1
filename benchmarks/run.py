"""Benchmarks: serialscale against baselines run in the same invocation (``make bench``).

Generates its inputs under ``benchmarks/data/`` (git-ignored): random DAGs of 100,000 and
1,000,000 steps with about 3 dependencies each (integer costs; and 1,000,000 steps with
fractional costs, ``floats-1m``), chains and fan-outs of 1,000,000 and
2,000,000 steps, as JSON and YAML, and rule 110 on 1000 cells for 1000 generations as JSON,
block-style and flow-style YAML (and through the bundled template). Runs every measurement
in a fresh process ``--repeat`` times and prints medians, peak memory (max RSS) and ratios,
each against a baseline measured in the same run. Prints only; asserts nothing. ``--quick``
runs the 100,000-step cases only.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PY = sys.executable
CLI = [PY, "-m", "serialscale"]


def random_dag(n: int, degree: int = 3, seed: int = 1, floats: bool = False) -> dict[str, object]:
    """``n`` steps, each needing up to ``degree`` random earlier steps; integer costs 1..10,
    or with ``floats`` costs from 0.5 to 10 with three decimals (times then rarely coincide,
    so the profile has a segment for nearly every start and finish)."""
    rnd = random.Random(seed)
    steps = []
    for i in range(n):
        needs = sorted({f"s{rnd.randrange(i)}" for _ in range(degree)}) if i else []
        cost = round(rnd.uniform(0.5, 10), 3) if floats else rnd.randint(1, 10)
        step: dict[str, object] = {"id": f"s{i}", "cost": cost}
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


def rule110(width: int, generations: int) -> dict[str, object]:
    """The expansion of workloads/sweeps/rule110.yaml: cell i of generation t needs cells
    i-1, i, i+1 of generation t-1 (no wrap-around), then one sink."""
    steps: list[dict[str, object]] = [{"id": f"c0_{i}", "cost": 0} for i in range(width)]
    for t in range(1, generations + 1):
        for i in range(width):
            needs = [f"c{t - 1}_{j}" for j in (i - 1, i, i + 1) if 0 <= j < width]
            steps.append({"id": f"c{t}_{i}", "cost": 1, "needs": needs})
    last = [f"c{generations}_{j}" for j in range(width)]
    steps.append({"id": "sink", "cost": 0, "needs": last})
    return {"name": "rule-110", "steps": steps}


def write_block_yaml(doc: dict[str, object], path: Path) -> None:
    """Block-style YAML, one key a line (what people and most YAML emitters write)."""
    with path.open("w") as f:
        f.write(f"name: {doc['name']}\nsteps:\n")
        for step in doc["steps"]:  # type: ignore[attr-defined]
            f.write(f"  - id: {step['id']}\n    cost: {step['cost']}\n")
            if step.get("needs"):
                f.write(f"    needs: [{', '.join(step['needs'])}]\n")


def write_yaml(doc: dict[str, object], path: Path) -> None:
    """Flow-style YAML, one step a line (what exporters of job graphs write)."""
    with path.open("w") as f:
        f.write(f"name: {doc['name']}\nsteps:\n")
        for step in doc["steps"]:  # type: ignore[attr-defined]
            f.write("  - " + json.dumps(step, separators=(", ", ": ")) + "\n")


def make_input(name: str, ext: str) -> Path:
    """``benchmarks/data/NAME.EXT``, generated on first use."""
    path = DATA / f"{name}.{ext}"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    kind, size = name.rsplit("-", 1)
    n = int(size.replace("k", "000").replace("m", "000000"))
    make = {"random": random_dag, "chain": chain, "fan": fan_out,
            "floats": lambda n: random_dag(n, floats=True),
            "rule110": lambda n: rule110(1000, n // 1000),
            "rule110block": lambda n: rule110(1000, n // 1000)}[kind]  # fmt: skip
    doc = make(n)
    if ext == "json":
        path.write_text(json.dumps(doc))
    elif kind == "rule110block":
        write_block_yaml(doc, path)
    else:
        write_yaml(doc, path)
    return path


NX = """
import json, sys, networkx as nx
doc = LOAD
g = nx.DiGraph()
cost = {s["id"]: s.get("cost", 1) for s in doc["steps"]}
g.add_node("__sink__")
for s in doc["steps"]:
    g.add_edge(s["id"], "__sink__", w=cost[s["id"]])
    for d in s.get("needs", []):
        g.add_edge(d, s["id"], w=cost[d])
print(nx.dag_longest_path_length(g, weight="w"))
"""
RX = """
import json, sys, rustworkx as rx
doc = LOAD
steps = doc["steps"]
index = {s["id"]: i for i, s in enumerate(steps)}
cost = [s.get("cost", 1) for s in steps]
g = rx.PyDiGraph()
g.add_nodes_from(cost)
sink = g.add_node(0)
edges = [(i, sink, cost[i]) for i in range(len(steps))]
edges += [(index[d], i, cost[index[d]]) for i, s in enumerate(steps) for d in s.get("needs", [])]
g.add_edges_from(edges)
print(rx.dag_weighted_longest_path_length(g, lambda a, b, w: float(w)))
"""
JSON_LOAD = "json.load(open(sys.argv[1]))"
YAML_LOAD = "__import__('yaml').safe_load(open(sys.argv[1]))"
BARE_YAML = (
    "import gc, sys, yaml\ngc.disable()\nyaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"
)

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def measure(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median wall seconds and peak RSS (MiB) of ``cmd`` over ``repeat`` fresh processes."""
    times, peaks = [], []
    for _ in range(repeat):
        out = subprocess.run([PY, "-c", WRAPPER, *cmd], capture_output=True, text=True, check=True)
        seconds, peak_kib = out.stdout.split()
        times.append(float(seconds))
        peaks.append(float(peak_kib) / 1024)
    return statistics.median(times), max(peaks)


class Table:
    """Prints rows as they are measured: label, median, peak memory, comment."""

    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        print(f"{'measurement':<52} {'median s':>9} {'peak MiB':>9}  comparison")

    def row(self, label: str, cmd: list[str], note: str = "") -> tuple[float, float]:
        t, mem = measure(cmd, self.repeat)
        print(f"{label:<52} {t:9.3f} {mem:9.0f}  {note}", flush=True)
        return t, mem

    def compare(self, label: str, cmd: list[str], base: tuple[float, float], name: str) -> tuple:
        t, mem = measure(cmd, self.repeat)
        note = f"{base[0] / t:5.2f}x faster than {name}, memory {mem / base[1]:.2f}x"
        print(f"{label:<52} {t:9.3f} {mem:9.0f}  {note}", flush=True)
        return t, mem


def has(module: str) -> bool:
    return subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the 100,000-step cases")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"serialscale benchmarks, {time.strftime('%Y-%m-%d')}, Python "
          f"{platform.python_version()}, {platform.machine()}, repeat {args.repeat}")  # fmt: skip
    table = Table(args.repeat)
    analyze = [*CLI, "analyze", "--format", "json"]

    print("\n1. JSON workloads end to end (every default metric) against graph libraries")
    for name in ["random-100k"] + ([] if args.quick else ["random-1m", "floats-1m"]):
        path = str(make_input(name, "json"))
        nx_base = table.row(f"networkx pipeline {name}.json", [PY, "-c", NX.replace(
            "LOAD", JSON_LOAD), path])  # fmt: skip
        rx_base = None
        if has("rustworkx"):
            rx_base = table.row(f"rustworkx pipeline {name}.json", [PY, "-c", RX.replace(
                "LOAD", JSON_LOAD), path])  # fmt: skip
        ours = table.compare(f"serialscale analyze {name}.json", [*analyze, path],
                             nx_base, "networkx")  # fmt: skip
        if rx_base:
            print(f"{'':<52} {'':>9} {'':>9}  {rx_base[0] / ours[0]:5.2f}x the speed of rustworkx")

    print("\n2. YAML workloads end to end")
    path = str(make_input("random-100k", "yaml"))
    base = table.row("yaml.safe_load + networkx random-100k.yaml", [PY, "-c", NX.replace(
        "LOAD", YAML_LOAD), path])  # fmt: skip
    bare = table.row("bare CSafeLoader, gc paused random-100k.yaml", [PY, "-c", BARE_YAML, path])
    ours = table.compare("serialscale analyze random-100k.yaml", [*analyze, path], base,
                         "safe_load + networkx")  # fmt: skip
    print(f"{'':<52} {'':>9} {'':>9}  {ours[0] / bare[0]:5.2f}x the time of the bare parse")

    print("\n3. Start-up (interleaved runs, medians of 21)")
    small = str(HERE.parent / "workloads" / "reasoning_chain.yaml")
    script = str(Path(PY).parent / "serialscale")  # the console script people run
    startup = {
        "python -c 'import typer'": [PY, "-c", "import typer"],
        "serialscale --version": [script, "--version"],
        "serialscale analyze (14-step file, json)": [script, "analyze", "-f", "json", small],
    }
    # Interleaving the three commands keeps a busy moment of the machine from landing on
    # one of them only.
    samples: dict[str, list[float]] = {label: [] for label in startup}
    for _ in range(21):
        for label, cmd in startup.items():
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            samples[label].append(time.perf_counter() - t)
    medians = {label: statistics.median(v) for label, v in samples.items()}
    base = medians["python -c 'import typer'"]
    for label, t in medians.items():
        print(f"{label:<52} {t:9.3f} {'':>9}  {t / base:.2f}x the time of import typer")

    if not args.quick:
        print("\n4. Linear scaling: 2,000,000 steps against 1,000,000")
        for kind in ("chain", "fan"):
            one = table.row(f"serialscale analyze {kind}-1m.json",
                            [*analyze, str(make_input(f"{kind}-1m", "json"))])  # fmt: skip
            two = table.row(f"serialscale analyze {kind}-2m.json",
                            [*analyze, str(make_input(f"{kind}-2m", "json"))])  # fmt: skip
            print(f"{'':<52} {'':>9} {'':>9}  2m / 1m = {two[0] / one[0]:.2f}x")

    if not args.quick:
        print("\n5. One graph given four ways: rule 110, 1000 cells x 1000 generations (1,001,001 "
              "steps)")  # fmt: skip
        path = str(make_input("rule110-1m", "json"))
        nx_base = table.row("networkx pipeline rule110-1m.json", [PY, "-c", NX.replace(
            "LOAD", JSON_LOAD), path])  # fmt: skip
        if has("rustworkx"):
            table.row("rustworkx pipeline rule110-1m.json", [PY, "-c", RX.replace(
                "LOAD", JSON_LOAD), path])  # fmt: skip
        json_path = table.compare("serialscale analyze rule110-1m.json", [*analyze, path],
                                  nx_base, "networkx")  # fmt: skip
        template = str(HERE.parent / "workloads" / "sweeps" / "rule110.yaml")
        inputs = {
            "templated YAML (sweeps/rule110.yaml)": [*analyze, template, "--param", "width=1000",
                                                     "--param", "steps=1000"],
            "plain YAML, block style": [*analyze, str(make_input("rule110block-1m", "yaml"))],
            "plain YAML, flow style": [*analyze, str(make_input("rule110-1m", "yaml"))],
        }  # fmt: skip
        for label, cmd in inputs.items():
            t, mem = table.row(f"serialscale analyze, {label}", cmd)
            print(f"{'':<52} {'':>9} {'':>9}  {t / json_path[0]:5.2f}x the JSON path's time, "
                  f"{mem / json_path[1]:.2f}x its memory")  # fmt: skip

    print("\n6. Tracing (benchmarks/trace_bench.py)")
    big = [] if args.quick else ["--big", "10000000"]
    subprocess.run([PY, str(HERE / "trace_bench.py"), *big], check=True)


if __name__ == "__main__":
    main()
