"""numpy stays optional (issue 26): with numpy unimportable, workload files, traced Python
functions and the array tracer's absence all behave (a subprocess, where ``import numpy``
fails)."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT, WORKLOADS

BLOCK = "import sys; sys.modules['numpy'] = None; "


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    code = BLOCK + (
        f"from serialscale.cli.entry import run; sys.argv = ['serialscale', *{list(args)!r}]; run()"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)  # fmt: skip


def test_workload_files_and_traced_functions_run_without_numpy():
    for target in (str(WORKLOADS / "ci_build.yaml"), f"{WORKLOADS / 'pipeline.py'}:pipeline"):
        done = _run("analyze", target, "--format", "json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["work"] > 0


def test_the_library_imports_without_numpy():
    code = BLOCK + (
        "import serialscale as ss; from serialscale.trace import run_traced; "
        "t = run_traced(lambda: ss.input(2) * 3, {}); "
        "assert len(t.recorder) == 1; assert 'serialscale.trace.arrays' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
