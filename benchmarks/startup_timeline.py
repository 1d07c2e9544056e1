"""Timeline of one ``serialscale analyze FILE.py:FUNC`` through the command line: when each
of its three processes (the command, the sentinel, the target) reaches each stage, in ms
from the moment this script starts the command.

    python benchmarks/startup_timeline.py [TARGET] [--format json] [--runs 10] [--all]

TARGET defaults to a trivial traced function (two lines, ten inputs). Nothing in
``src/`` is changed: a ``sitecustomize`` module (written to a temporary folder put on
``PYTHONPATH``) wraps the stages' functions as their modules are imported and appends one
line per stage (``time.perf_counter()``, the same clock in every process on Linux) to a
file. The wrappers cost a few microseconds a stamp. The run with the shortest wall time is
shown (``--all``: every run), then each stage's median over the runs.

Stages: ``site`` (the interpreter has started and imports ``sitecustomize``), ``entry``
(the command's own code starts), ``prestart`` (the early target is forked), ``sentinel``
and ``target`` (their code starts), ``warm N`` (the target has imported the N-th module of
``isolation.WARM``), ``job`` (the target has its job), ``load``/``import``/``analysis``
(the work: the user's module imported, traced, analyzed), ``dumps`` (the result pickled),
``send`` (the frame written), ``sent job``, ``result`` (the frame arrived), ``end``/``ended``
(the sentinel killed and reaped, up to 4b456b4) or ``reap``/``reaped``, ``unpickled``,
``finish``/``emit`` (render and write), ``exit`` (``os._exit`` in each process). Stages a
version of serialscale does not have are left out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIVIAL = """\
import serialscale as ss


def f():
    s = 0
    for i in ss.inputs(list(range(10))):
        s += i
    return s
"""

SITECUSTOMIZE = r"""
import functools, os, sys, time

_LOG = os.environ.get("SERIALSCALE_TIMELINE")


def stamp(what):
    fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{time.perf_counter():.6f} {os.getpid()} {what}\n".encode())
    finally:
        os.close(fd)


def wrap(module, name, before=None, after=None):
    original = getattr(module, name, None)
    if original is None:  # (another version of serialscale: that stage is not shown)
        return

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if before:
            stamp(before)
        try:
            return original(*args, **kwargs)
        finally:
            if after:
                stamp(after)

    setattr(module, name, wrapper)


def _entry(m):
    wrap(m, "_run", "entry")


def _early(m):
    wrap(m, "prestart", "prestart", "prestarted")
    wrap(m, "reap", "reap", "reaped")


def _isolation(m):
    wrap(m, "_sentinel", "sentinel")
    wrap(m, "_die_with_parent", None, "pdeathsig set")
    wrap(m, "_close_all_but", None, "descriptors closed")
    wrap(m, "_target", "target")
    wrap(m, "_await_job", "warm 0")
    wrap(m, "_dumps", "dumps", "dumped")
    wrap(m, "_let_go_of_stdio", None, "send")
    wrap(m, "run_isolated", "run_isolated")
    wrap(m, "_take_prestarted", None, "sent job")
    wrap(m, "_collect", None, "result")
    wrap(m, "_end", "end", "ended")
    wrap(m, "_import_meanwhile", "meanwhile", "meanwhile done")
    m._Results.load = _stamped(m._Results.load, "unpickle", "unpickled")
    names = list(m.WARM)
    warm = []
    for i, name in enumerate(names, 1):
        warm += [name, f"_timeline_warm_{i}"]
    m.WARM = tuple(warm)
    import pickle

    loads = pickle.loads

    def stamped_loads(*a, **k):
        stamp("job")
        return loads(*a, **k)

    pickle.loads = stamped_loads


def _stamped(method, before, after):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        stamp(before)
        try:
            return method(*args, **kwargs)
        finally:
            stamp(after)

    return wrapper


def _quick(m):
    wrap(m, "run", "quick")


def _commands(m):
    wrap(m, "run_analyze", "run_analyze")
    wrap(m, "finish", "finish")
    wrap(m, "emit", "emit", "emitted")


def _batch(m):
    wrap(m, "_analyze_here", "work", "work done")


def _sources(m):
    wrap(m, "load_target", "load", "loaded")


def _targets(m):
    wrap(m, "load_function", "import", "imported")


def _analysis(m):
    wrap(m, "analyze_workload", "analysis", "analyzed")


PATCHES = {
    "serialscale.cli.entry": _entry,
    "serialscale.run.early": _early,
    "serialscale.run.isolation": _isolation,
    "serialscale.cli.quick": _quick,
    "serialscale.cli.commands": _commands,
    "serialscale.run.batch": _batch,
    "serialscale.sources": _sources,
    "serialscale.sources.python_targets": _targets,
    "serialscale.core.analysis": _analysis,
}


class _Hook:
    def find_spec(self, name, path=None, target=None):
        if name not in PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            PATCHES[name](module)

        spec.loader.exec_module = exec_module
        return spec


if _LOG:
    stamp("site")
    sys.meta_path.insert(0, _Hook())
    _exit = os._exit

    def stamped_exit(code):
        stamp("exit")
        _exit(code)

    os._exit = stamped_exit
    _fork = os.fork

    def stamped_fork():
        stamp("fork")
        pid = _fork()
        stamp("forked" if pid else "forked (child)")
        return pid

    os.fork = stamped_fork
"""


def one_run(python: str, args: list[str], env: dict[str, str], log: Path) -> tuple[float, list]:
    log.unlink(missing_ok=True)
    t0 = time.perf_counter()
    done = subprocess.run([python, "-m", "serialscale", *args], env=env,
                          stdout=subprocess.DEVNULL)  # fmt: skip
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"the command failed (exit code {done.returncode})")
    rows = []
    for line in log.read_text().splitlines():
        t, pid, what = line.split(" ", 2)
        rows.append(((float(t) - t0) * 1000, int(pid), what))
    rows.sort()
    roles: dict[int, str] = {}
    for _, pid, what in rows:
        if what == "entry":
            roles.setdefault(pid, "command")
        elif what in ("sentinel", "target"):
            roles[pid] = what
    return wall * 1000, [(t, roles.get(pid, "command"), what) for t, pid, what in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("target", nargs="?")
    ap.add_argument("--format", default="json")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--span", nargs=2, metavar=("FROM", "TO"),
                    help="also each run's time from stage FROM to stage TO (their first "
                         "times; ROLE:STAGE for one process's), e.g. --span 'work done' "
                         "command:exit")  # fmt: skip
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
        for i in range(1, 20):
            (folder / f"_timeline_warm_{i}.py").write_text(
                f"import sitecustomize\nsitecustomize.stamp('warm {i}')\n"
            )
        target = opts.target
        if target is None:
            (folder / "trivial.py").write_text(TRIVIAL)
            target = f"{folder / 'trivial.py'}:f"
        log = folder / "timeline.txt"
        env = dict(os.environ, SERIALSCALE_TIMELINE=str(log))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder),
                                                          env.get("PYTHONPATH")]))  # fmt: skip
        args = ["analyze", target, "--format", opts.format]
        runs = [one_run(opts.python, args, env, log) for _ in range(opts.runs)]
    print(f"load average {os.getloadavg()[0]:.2f}; wall ms: "
          + " ".join(f"{w:.0f}" for w, _ in runs))  # fmt: skip
    shown = runs if opts.all else [min(runs, key=lambda r: r[0])]
    for wall, rows in shown:
        print(f"\nrun of {wall:.1f} ms (ms from the start)")
        for t, role, what in rows:
            print(f"{t:8.1f}  {role:8}  {what}")
    stages: dict[tuple[str, str], list[float]] = {}
    for _, rows in runs:
        seen: set[tuple[str, str]] = set()
        for t, role, what in rows:
            if (role, what) not in seen:
                seen.add((role, what))
                stages.setdefault((role, what), []).append(t)
    print("\nmedian over the runs (first time each stage is reached)")
    order = sorted(stages, key=lambda k: statistics.median(stages[k]))
    for key in order:
        print(f"{statistics.median(stages[key]):8.1f}  {key[0]:8}  {key[1]}")
    print(f"{statistics.median(w for w, _ in runs):8.1f}  (wall)")
    if opts.span:
        spans = []
        for _, rows in runs:
            first: dict[str, float] = {}
            for t, role, what in rows:
                first.setdefault(what, t)
                first.setdefault(f"{role}:{what}", t)
            if all(stage in first for stage in opts.span):
                spans.append(first[opts.span[1]] - first[opts.span[0]])
        print(f"\n{opts.span[0]} -> {opts.span[1]}, ms: " + " ".join(f"{x:.1f}" for x in spans))
        if spans:
            print(f"best {min(spans):.1f}, median {statistics.median(spans):.1f}")


if __name__ == "__main__":
    main()
