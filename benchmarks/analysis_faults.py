"""The analysis after recording, on its own: page faults and CPU time of one report.

Usage: ``python benchmarks/analysis_faults.py NAME...`` (functions of
``benchmarks/real_functions.py``). Each NAME is traced in a fresh process (this script runs
itself once per name), then ``analyze_workload`` and the JSON are timed: the page faults
(new memory touched: exact, run to run) and the CPU time of that call alone, threads
included. A first run in a process pays for every page it touches, as the command line
does. Prints only; asserts nothing.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(name: str) -> None:
    """Trace ``name``, then print the faults and CPU time of its analysis and JSON."""
    sys.path.insert(0, str(HERE))
    import real_functions

    from serialscale.core.analysis import analyze_workload
    from serialscale.core.workload import Workload
    from serialscale.render.json_report import render_json
    from serialscale.trace.api import run_traced

    recorder = run_traced(getattr(real_functions, name), {}, "scoped").recorder
    workload = Workload(name, recorder.graph())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
    render_json(analyze_workload(workload))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before[0]
    cpu = time.process_time() - before[1]
    print(f"{name:<18}{workload.graph.n:>11,}{faults:>10,}{cpu:>9.3f}", flush=True)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        one(sys.argv[2])
        return
    print(f"{'function':<18}{'steps':>11}{'faults':>10}{'CPU s':>9}")
    for name in sys.argv[1:]:
        subprocess.run([sys.executable, __file__, "--one", name], check=True)


if __name__ == "__main__":
    main()
