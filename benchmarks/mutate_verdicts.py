"""Mutation check of the verdict rules (``python benchmarks/mutate_verdicts.py``).

Flips, one at a time, every branch that decides a verdict: each ``if``/``elif`` test in
``scaling.decide``, ``scaling.verdict`` and ``sweep.recording`` is negated, and each verdict
that ``decide`` returns is replaced by each of the two others. Each mutant is written to a
copy of the package and the verdict tests are run against it; every mutant must make at
least one test fail. Prints one line per mutant and exits 1 if any survives. Slow (a test run
per mutant): run it once after changing the rules, not in the suite.
"""

from __future__ import annotations

import ast
import copy
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_bounds.py", "tests/test_verdicts.py", "tests/test_scaling.py"]
TARGETS = {
    "src/serialscale/core/growth.py": ("decide", "verdict"),
    "src/serialscale/run/sweep.py": ("recording",),
}
VERDICTS = ("serial", "parallelizable", "inconclusive")


def mutants(source: str, functions: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """``(description, mutated source)`` for every branch of ``functions``."""
    tree = ast.parse(source)
    sites: list[tuple[str, str, int]] = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.name in functions:
            for i, node in enumerate(ast.walk(fn)):
                if isinstance(node, ast.If):
                    sites.append((fn.name, "if", i))
                if (isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
                        and node.value.value in VERDICTS):  # fmt: skip
                    sites.append((fn.name, "return", i))
    for name, kind, index in sites:
        alternatives = [None] if kind == "if" else [v for v in VERDICTS]
        for alternative in alternatives:
            mutated = copy.deepcopy(tree)
            fn = next(f for f in ast.walk(mutated)
                      if isinstance(f, ast.FunctionDef) and f.name == name)  # fmt: skip
            node = list(ast.walk(fn))[index]
            if isinstance(node, ast.If):
                line = node.lineno
                node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
                what = f"{name}: negate the test at line {line}"
            else:
                assert isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
                if node.value.value == alternative:
                    continue
                what = f"{name}: line {node.lineno} returns {alternative!r}, not " \
                       f"{node.value.value!r}"  # fmt: skip
                node.value = ast.Constant(alternative)
            yield what, ast.unparse(ast.fix_missing_locations(mutated))


def main() -> None:
    survivors = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "tree"
        shutil.copytree(ROOT / "src", work / "src",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        shutil.copytree(ROOT / "tests", work / "tests",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        shutil.copytree(ROOT / "workloads", work / "workloads")
        shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")

        def fails() -> bool:
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS],
                cwd=work, capture_output=True, text=True,
                env={"PYTHONPATH": str(work / "src"), "PATH": "/usr/bin:/bin",
                     "PYTHONDONTWRITEBYTECODE": "1"},
            )  # fmt: skip
            return run.returncode != 0

        if fails():
            sys.exit("the tests fail without any mutation: fix them first")
        for relative, functions in TARGETS.items():
            original = (ROOT / relative).read_text()
            for what, source in mutants(original, functions):
                total += 1
                (work / relative).write_text(source)
                killed = fails()
                survivors += not killed
                print(f"{'killed  ' if killed else 'SURVIVED'} {what}", flush=True)
            (work / relative).write_text(original)
    print(f"\n{total} mutants, {total - survivors} killed, {survivors} survived")
    if survivors:
        sys.exit(1)


if __name__ == "__main__":
    main()
