"""Peak memory per input byte of every reader (issue 30): ``python benchmarks/reader_memory.py``.

Each input format gets a generated chain-shaped input at two sizes; each is analyzed by
``serialscale analyze FILE --format json`` in a fresh process (the command as users run it:
the cyclic garbage collector off, except around third-party parsers), and the process's
peak resident memory (``ru_maxrss``) is read from ``wait4``. A tiny workload gives the
baseline (the interpreter and the imports); the figure reported is (peak - baseline) / input
bytes, for the larger size, and the growth between the two sizes shows whether memory grows
with the input (as it should) or faster. Prints only; asserts nothing. ``--scale K``
multiplies the sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

PY = sys.executable
CLI = [PY, "-m", "serialscale"]


def own_json(n: int) -> tuple[str, str]:
    steps = [{"id": f"s{i}", "cost": 1, **({"needs": [f"s{i - 1}"]} if i else {})}
             for i in range(n)]  # fmt: skip
    return "chain.json", json.dumps({"steps": steps})


def own_yaml(n: int) -> tuple[str, str]:
    lines = ["steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}\n    cost: 1" + (f"\n    needs: [s{i - 1}]" if i else ""))
    return "chain.yaml", "\n".join(lines) + "\n"


def github(n: int) -> tuple[str, str]:
    lines = ["on: push", "jobs:"]
    for i in range(n):
        needs = f"\n    needs: [j{i - 1}]" if i else ""
        lines.append(f"  j{i}:\n    runs-on: ubuntu-latest{needs}\n    steps:\n      - run: make")
    return "workflow.yml", "\n".join(lines) + "\n"


def gitlab(n: int) -> tuple[str, str]:
    lines = ["stages: [build]"]
    for i in range(n):
        lines.append(
            f"j{i}:\n  stage: build\n  script: [make]" + (f"\n  needs: [j{i - 1}]" if i else "")
        )
    return ".gitlab-ci.yml", "\n".join(lines) + "\n"


def ninja(n: int) -> tuple[str, str]:
    lines = ["rule cc\n  command = cc $in -o $out"]
    for i in range(n):
        lines.append(f"build o{i}: cc " + (f"o{i - 1}" if i else "src.c"))
    return "build.ninja", "\n".join(lines) + "\n"


def dot(n: int) -> tuple[str, str]:
    return "chain.dot", "digraph g {\n" + "".join(
        f"  n{i} -> n{i + 1};\n" for i in range(n)
    ) + "}\n"


#: Reader name, input maker, and the two step counts measured (DOT is slow to parse: pydot).
READERS: list[tuple[str, Callable[[int], tuple[str, str]], tuple[int, int]]] = [
    ("serialscale (JSON)", own_json, (20_000, 80_000)),
    ("serialscale (YAML)", own_yaml, (20_000, 80_000)),
    ("github-actions", github, (2_000, 8_000)),
    ("gitlab-ci", gitlab, (2_000, 8_000)),
    ("ninja", ninja, (20_000, 80_000)),
    ("dot", dot, (1_000, 4_000)),
]


def peak_kib(args: list[str], cwd: Path) -> int:
    """The peak resident memory (KiB) of one run of ``args``."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return usage.ru_maxrss  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the input sizes")
    parser.add_argument("--make", nargs=3, help=argparse.SUPPRESS)  # READER STEPS FOLDER
    args = parser.parse_args()
    if args.make:
        index, steps, where = args.make
        name, text = READERS[int(index)][1](int(steps))
        (Path(where) / name).write_text(text)
        return
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        name, text = own_json(2)
        (root / name).write_text(text)
        base = peak_kib([*CLI, "analyze", name, "--format", "json"], root)
        del text
        print(f"baseline (a 2-step workload): {base / 1024:.1f} MiB peak")
        print(f"{'reader':<20} {'steps':>8} {'input':>10} {'peak':>10} {'bytes/input byte':>17}")
        for k, (reader, _make, sizes) in enumerate(READERS):
            for n in sizes:
                n = int(n * args.scale)
                folder = root / f"{k}-{n}"
                folder.mkdir()
                # made in a process of its own: a child's peak memory counts the memory its
                # parent had when it forked, so the parent stays small
                subprocess.run([PY, __file__, "--make", str(k), str(n), str(folder)], check=True)
                path = next(folder.iterdir())
                name = path.name
                peak = peak_kib([*CLI, "analyze", name, "--format", "json"], folder)
                size = path.stat().st_size
                per_byte = (peak - base) * 1024 / size
                print(f"{reader:<20} {n:>8,} {size / 1024:>8.0f} K {peak / 1024:>7.1f} MiB "
                      f"{per_byte:>17.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
