"""Tracing real-looking code end to end: ``serialscale analyze file.py:function`` per function.

Usage: ``python benchmarks/trace_real.py [--repeat N] [--pure] [--in-process] [--profile NAME]
[--phases] [NAMES...]``. Runs every function of ``benchmarks/real_functions.py``
(arithmetic-heavy: a heat stencil, n-body, matrix product, a statistics pass, Horner's rule;
selection-heavy: value iteration, edit distance, Floyd-Warshall, knapsack, Dijkstra with
heapq) through the command line with ``--format json``, in a fresh process each time, and
prints the steps
recorded and the rate: steps per second of wall-clock time. ``--in-process`` does the
command's work (trace, analysis, JSON) in this process instead and also reports its CPU
time, threads included: on a loaded machine the steadier figure. The best of ``--repeat``
runs is kept. ``--profile NAME`` runs that function in this process under cProfile and
prints the top of the profile. ``--phases`` splits the in-process CPU time of each function
into recording, building the graph, the metrics passes, the speedup table's list schedules,
drag, the rest of the analysis and the JSON (best of ``--repeat`` per phase; the passes
that run side by side in the command are run one after another there). Prints only;
asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import real_functions  # noqa: E402


def run_cli(name: str, pure: bool) -> tuple[int, float, float]:
    """(steps, wall seconds, NaN) of one run: the traced function's process is killed once
    its result is in, never reaped, so no CPU time of the command's tree can be read."""
    env = {**os.environ, "SERIALSCALE_PURE_PYTHON": "1" if pure else "0"}
    cmd = [sys.executable, "-m", "serialscale", "analyze",
           f"{HERE / 'real_functions.py'}:{name}", "--format", "json"]  # fmt: skip
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{name}: exit {done.returncode}\n{done.stderr}")
    return json.loads(done.stdout)["steps"], wall, math.nan


def in_process(name: str) -> tuple[int, float, float]:
    """(steps, wall seconds, CPU seconds of this process, threads included) of the command's
    work done here: trace, analysis, JSON; no process start-up or isolation."""
    from serialscale.core.analysis import analyze_workload
    from serialscale.render.json_report import render_json
    from serialscale.sources.python_targets import trace_function

    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    workload = trace_function(getattr(real_functions, name), {})
    render_json(analyze_workload(workload))
    return workload.graph.n, time.perf_counter() - t, time.process_time() - c


PHASES = ("record", "graph", "metrics", "schedules", "drag", "other", "json")


def phases(name: str) -> tuple[int, dict[str, float]]:
    """The steps recorded and the CPU seconds of each phase of the command's work for one
    function, in this process (the analysis steps timed by wrapping them where
    ``analyze_workload`` calls them)."""
    from serialscale.core import analysis
    from serialscale.core.workload import Workload
    from serialscale.render.json_report import render_json
    from serialscale.trace.api import run_traced

    spent = dict.fromkeys(PHASES, 0.0)
    wrapped = {"compute_metrics": "metrics", "speedup_table": "schedules", "drag": "drag",
               "drag_doubles": "drag"}  # fmt: skip
    wrapped = {attr: phase for attr, phase in wrapped.items() if hasattr(analysis, attr)}
    originals = {attr: getattr(analysis, attr) for attr in wrapped}
    # The passes that run side by side (core/background.py) are timed one after another
    # here: the process's CPU time of a phase would count the other's threads too.
    import importlib.util

    found = importlib.util.find_spec("serialscale.core.background")  # (older trees: none)
    side = [importlib.import_module("serialscale.core.background")] if found else []
    apart = {m: m.SIDE_BY_SIDE_STEPS for m in side}

    def timing(attr: str, phase: str):
        def call(*args, **kwargs):
            c = time.process_time()
            try:
                return originals[attr](*args, **kwargs)
            finally:
                spent[phase] += time.process_time() - c

        return call

    gc.collect()
    try:
        for attr, phase in wrapped.items():
            setattr(analysis, attr, timing(attr, phase))
        for module in apart:
            module.SIDE_BY_SIDE_STEPS = 2**62
        c0 = time.process_time()
        recorder = run_traced(getattr(real_functions, name), {}, "scoped").recorder
        c1 = time.process_time()
        workload = Workload(name, recorder.graph())
        c2 = time.process_time()
        report = analysis.analyze_workload(workload)
        c3 = time.process_time()
        render_json(report)
        c4 = time.process_time()
    finally:
        for attr, original in originals.items():
            setattr(analysis, attr, original)
        for module, steps in apart.items():
            module.SIDE_BY_SIDE_STEPS = steps
    analysed = spent["metrics"] + spent["schedules"] + spent["drag"]
    spent.update(record=c1 - c0, graph=c2 - c1, other=c3 - c2 - analysed, json=c4 - c3)
    return workload.graph.n, spent


def print_phases(names: list[str], repeat: int) -> None:
    """The table of :func:`phases`, best of ``repeat`` runs per phase."""
    print(f"{'function':<18}{'steps':>11}" + "".join(f"{p:>10}" for p in PHASES)
          + f"{'total':>8}{'M/s':>7}")  # fmt: skip
    for name in names:
        runs = [phases(name) for _ in range(max(repeat, 1))]
        steps = runs[0][0]
        best = {p: min(r[1][p] for r in runs) for p in PHASES}
        total = sum(best.values())
        print(f"{name:<18}{steps:>11,}" + "".join(f"{best[p]:>10.3f}" for p in PHASES)
              + f"{total:>8.2f}{steps / total / 1e6:>7.2f}", flush=True)  # fmt: skip


def profile(name: str) -> None:
    """The command's work for one function in this process, under cProfile."""
    import cProfile
    import pstats

    from serialscale.core.analysis import analyze_workload
    from serialscale.render.json_report import render_json
    from serialscale.sources.python_targets import trace_function

    def work() -> None:
        workload = trace_function(getattr(real_functions, name), {})
        render_json(analyze_workload(workload))

    profiler = cProfile.Profile()
    profiler.runcall(work)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pure", action="store_true", help="SERIALSCALE_PURE_PYTHON=1")
    parser.add_argument("--profile", metavar="NAME")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="trace, analyze and render here: CPU time without start-up",
    )
    parser.add_argument("--phases", action="store_true", help="CPU time of each phase")
    parser.add_argument("names", nargs="*", help="only these functions")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return
    if args.phases:
        every = real_functions.ARITHMETIC + real_functions.SELECTION
        print_phases([n for n in every if not args.names or n in args.names], args.repeat)
        return
    groups = {"arithmetic": real_functions.ARITHMETIC, "selection": real_functions.SELECTION}
    print(f"{'function':<18}{'steps':>11}{'wall s':>9}{'M steps/s':>11}{'CPU s':>8}"
          f"{'M steps/s CPU':>15}")  # fmt: skip
    for group, names in groups.items():
        totals = [0, 0.0, 0.0]
        for name in names:
            if args.names and name not in args.names:
                continue
            measure = in_process if args.in_process else lambda n: run_cli(n, args.pure)
            runs = [measure(name) for _ in range(max(args.repeat, 1))]
            steps = runs[0][0]
            wall = min(r[1] for r in runs)
            cpu = min(r[2] for r in runs)
            totals = [totals[0] + steps, totals[1] + wall, totals[2] + cpu]
            print(f"{name:<18}{steps:>11,}{wall:>9.2f}{steps / wall / 1e6:>11.2f}{cpu:>8.2f}"
                  f"{steps / cpu / 1e6:>15.2f}", flush=True)  # fmt: skip
        if totals[1]:
            print(f"{'  ' + group + ' (all)':<18}{totals[0]:>11,}{totals[1]:>9.2f}"
                  f"{totals[0] / totals[1] / 1e6:>11.2f}{totals[2]:>8.2f}"
                  f"{totals[0] / totals[2] / 1e6:>15.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
