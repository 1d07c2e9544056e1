"""Memory made ready while a traced run records (serialscale/trace/memory.py, csrc/memory.c).

It tunes malloc for a whole process for good, so every case that turns it on runs in a
process of its own. Checked: the kernels and their twins refuse the same arguments; a block
made ready takes (almost) no page fault when written afterwards (page faults are counted by
the kernel, not timed); the thread follows a count, stops when the run does and is invisible
to ``threading``; a run with it gives the same report as one without; and the command's
target process turns it on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from serialscale import accel
from serialscale.accel import pure_kernels
from serialscale.trace import memory


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and "glibc" in os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError, TypeError):
        return False


#: glibc's malloc and the compiled kernels (under `make sanitize`, ASan's malloc takes no
#: tuning: the kernel then says so, and these cases have nothing to check).
needs_glibc = pytest.mark.skipif(
    not (_glibc() and accel.available()) or os.environ.get("SERIALSCALE_EXPECT_SANITIZED") == "1",
    reason="glibc's malloc and the compiled kernels",
)
#: ... and no memory limit here (a container's): prepare_ahead then leaves malloc alone.
needs_tuning = pytest.mark.skipif(
    not (_glibc() and accel.available()) or os.environ.get("SERIALSCALE_EXPECT_SANITIZED") == "1"
    or memory.memory_limited(),
    reason="glibc's malloc, the compiled kernels and no memory limit",
)  # fmt: skip


def _in_process_of_its_own(code: str, *, pure: bool = False) -> str:
    """Run ``code`` in a fresh interpreter; its standard output (its last line is what the
    cases read)."""
    env = {**os.environ, "SERIALSCALE_PURE_PYTHON": "1" if pure else "0"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=env, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _outcome(kernels: Any, name: str, args: list[Any]) -> Any:
    try:
        getattr(kernels, name)(*args)
    except Exception as exc:
        return type(exc).__name__
    return "ok"


@pytest.mark.skipif(not accel.available(), reason="kernels not built")
@pytest.mark.parametrize(
    "args",
    [
        [0, 0, 0],
        [4096, 0, 0],
        [-1, 0, 0],
        [4096, -1, 0],
        [4096, 2**64, 0],
        [4096, 0, -1],
        [2**63, 0, 0],
        [1.5, 0, 0],
        [4096, 1.0, 0],
        [4096, 0, None],
        [4096, 0],
        [4096, "0", 0],
        [-1, 2**64, 0],
        [-1, 0.5, 0],
        [2**63, -1, 0],
        [4096, True, 0],
        [(1 << 30) + 1, 0, 0],
    ],
)
def test_both_prefault_kernels_refuse_the_same_arguments(args: list[Any]) -> None:
    """The compiled kernel makes memory ready and its twin does nothing (both are hints), but
    they take and refuse the same arguments. (keep_freed_memory is called with good arguments
    only in processes of their own: it tunes the whole process.)"""
    assert _outcome(accel._compiled, "prefault", args) == _outcome(pure_kernels, "prefault", args)
    assert _outcome(accel._compiled, "keep_freed_memory", [1]) == _outcome(
        pure_kernels, "keep_freed_memory", [1]
    )


def test_the_twins_make_nothing_ready() -> None:
    """Pure Python has no malloc to tune: nothing is asked, nothing made ready."""
    assert pure_kernels.keep_freed_memory() is False
    assert pure_kernels.prefault(64 << 20, 0, 0) == 0
    out = _in_process_of_its_own(
        """
        from serialscale.trace import memory
        print(memory.prepare_ahead(), memory._most)
        """,
        pure=True,
    )
    assert out.split() == ["False", "0"]


@needs_glibc
def test_a_block_made_ready_is_written_without_page_faults() -> None:
    """64 MiB made ready, given back, then taken by an array written end to end: far fewer
    page faults than its 16,384 pages (the same array without: about one per page)."""
    code = """
        import resource, sys
        from array import array
        from serialscale import accel
        k = accel._compiled
        ready = sys.argv[-1] == "ready"
        if ready:
            assert k.keep_freed_memory()
            base = k.prefault(64 << 20, 0, 0)
            assert base > 0
            assert k.prefault(64 << 20, base, 64 << 20) == base  # nothing more to do
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        values = array("q", [7]) * (8 << 20)  # 64 MiB, every page written
        after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        assert values[-1] == 7
        print(after - before)
    """
    pages = (64 << 20) // 4096
    env = {**os.environ, "SERIALSCALE_PURE_PYTHON": "0"}
    faults = {}
    for mode in ("ready", "not"):
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), mode],
                              capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        faults[mode] = int(done.stdout.split()[-1])
    assert faults["ready"] < pages // 8, faults
    if faults["not"] > pages // 2:  # (a machine whose huge pages fault once per 512 pages:
        assert faults["ready"] < faults["not"] // 4, faults  # nothing to compare)


@needs_tuning
def test_the_thread_follows_the_count_and_stops_with_the_run() -> None:
    """Fed a count of steps, the thread makes BYTES_PER_STEP per step ready, a block of at
    most MOST_AT_ONCE at a time, never past the count; ``threading`` never sees it; once the
    block is left, it has ended."""
    out = _in_process_of_its_own(
        """
        import _thread, threading, time
        from serialscale.trace import memory

        class Counter:
            count = 0

        assert memory.prepare_ahead()
        counter = Counter()
        threads = threading.active_count(), [t.name for t in threading.enumerate()]
        started = _thread._count()
        with memory.ready_while_recording(counter) as follower:
            assert follower is not None
            seen = threading.active_count(), [t.name for t in threading.enumerate()]
            give_up = time.monotonic() + 10
            while _thread._count() == started:  # (counted once it runs)
                assert time.monotonic() < give_up
                time.sleep(0.001)
            counter.count = 1_000_000
            give_up = time.monotonic() + 60
            while follower.ready < memory.BYTES_PER_STEP * counter.count:
                assert time.monotonic() < give_up, follower.ready
                time.sleep(0.001)
            small = follower.ready
        give_up = time.monotonic() + 10
        while _thread._count() > started:  # it released its lock: it is returning
            assert time.monotonic() < give_up
            time.sleep(0.001)
        assert seen == threads, (seen, threads)
        print(small, memory.BYTES_PER_STEP * counter.count)
        """
    )
    ready, wanted = map(int, out.split()[-2:])
    assert ready == wanted


@needs_tuning
def test_a_run_with_memory_made_ready_gives_the_same_report() -> None:
    """The report (JSON, --detail) of a traced function of 249,000 steps, in a process where
    memory is made ready, is byte for byte the one made here without; and the thread did
    make memory ready in that run."""
    from serialscale.core.analysis import analyze_workload
    from serialscale.render.json_report import render_json
    from serialscale.sources.python_targets import trace_function

    source = Path(__file__).resolve().parent.parent / "benchmarks" / "real_functions.py"
    if not source.is_file():
        pytest.skip("benchmarks/real_functions.py is not here")
    code = f"""
        import sys
        sys.path.insert(0, {str(source.parent)!r})
        import real_functions
        from serialscale.trace import memory
        from serialscale.core.analysis import analyze_workload
        from serialscale.render.json_report import render_json
        from serialscale.sources.python_targets import trace_function

        assert memory.prepare_ahead()
        made = []
        original = memory._Follower.run
        def run(self):
            original(self)
            made.append(self.ready)
        memory._Follower.run = run
        workload = trace_function(real_functions.heat_1d, {{"n": 500, "steps": 100}})
        text = render_json(analyze_workload(workload, detail=True))
        assert made and made[0] >= 8 << 20, made
        print(text)
    """
    made_ready = _in_process_of_its_own(code)
    sys.path.insert(0, str(source.parent))
    try:
        import real_functions

        here = trace_function(real_functions.heat_1d, {"n": 500, "steps": 100})
    finally:
        sys.path.remove(str(source.parent))
    # (Unwrapped: tests/conftest.py checks every rendered report against the JSON Schema,
    # 24 s for this one; the schema is not what this case is about.)
    text = getattr(render_json, "__wrapped__", render_json)(analyze_workload(here, detail=True))
    assert json.loads(text)["steps"] == 249_000
    assert made_ready == text + "\n"


@needs_tuning
def test_the_commands_target_makes_memory_ready(tmp_path: Path) -> None:
    """``serialscale analyze FILE.py:FUNC`` runs the function in a process that has turned
    it on (the function reports what it finds, through the error it raises)."""
    (tmp_path / "probe.py").write_text(
        textwrap.dedent(
            """
            import serialscale as ss
            from serialscale.trace import memory


            def probe():
                x = ss.input(1.0) + 1
                raise RuntimeError(f"ready={memory._most > 0} {x > 0}")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "serialscale", "analyze", "probe.py:probe"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "SERIALSCALE_PURE_PYTHON": "0"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "ready=True" in done.stderr, done.stderr


def _cgroups(tmp_path: Path, proc: str, files: dict[str, str]) -> bool:
    """cgroup_limited on a made-up /proc/self/cgroup and cgroup tree."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cgroup").write_text(proc)
    root = tmp_path / "fs"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return memory.cgroup_limited(str(tmp_path / "cgroup"), str(root))


def test_a_memory_limit_of_this_process_s_cgroup_or_one_above_is_seen(tmp_path: Path) -> None:
    """The cgroup named in /proc/self/cgroup, and those above it (found: only the root of
    the mount was read, where a v2 host has no memory.max and a limit is never set)."""
    v2 = "0::/user.slice/run-1.scope\n"
    assert _cgroups(tmp_path / "a", v2, {"user.slice/run-1.scope/memory.max": "1073741824"})
    assert _cgroups(tmp_path / "b", v2, {"user.slice/memory.max": "2147483648",
                                         "user.slice/run-1.scope/memory.max": "max"})  # fmt: skip
    assert not _cgroups(tmp_path / "c", v2, {"user.slice/run-1.scope/memory.max": "max"})
    assert not _cgroups(tmp_path / "d", v2, {})  # the true root has none
    v1 = "5:devices:/\n4:memory:/process_api/x\n0::/\n"
    assert not _cgroups(tmp_path / "e", v1,
                        {"memory/process_api/x/memory.limit_in_bytes": "9223372036854771712",
                         "memory/memory.limit_in_bytes": "9223372036854771712"})  # fmt: skip
    assert _cgroups(tmp_path / "f", v1,
                    {"memory/process_api/x/memory.limit_in_bytes": "536870912"})  # fmt: skip
    assert not _cgroups(tmp_path / "g", "4:memory:/../../etc\n", {})  # (no way out of root)


def _limited_run(limit: str) -> list[str]:
    return _in_process_of_its_own(
        f"""
        import resource
        from serialscale.trace import memory
        if {limit!r} == "as":
            resource.setrlimit(resource.RLIMIT_AS, (1 << 40, resource.RLIM_INFINITY))
        elif {limit!r} == "data":
            resource.setrlimit(resource.RLIMIT_DATA, (1 << 40, resource.RLIM_INFINITY))
        print(memory.prepare_ahead(), memory._most)
        """
    ).split()


@needs_tuning
def test_under_a_memory_limit_malloc_is_left_alone() -> None:
    """``ulimit -v`` or ``-d``: prepare_ahead does nothing (found: a traced function whose
    frees kept their memory failed under a data limit it passed untraced); without one, at
    most MOST_IN_A_RUN is made ready in a run, whatever the machine."""
    assert _limited_run("as") == ["False", "0"]
    assert _limited_run("data") == ["False", "0"]
    took, most = _limited_run("none")
    assert took == "True" and 0 < int(most) <= memory.MOST_IN_A_RUN == 512 << 20


@needs_tuning
def test_a_traced_function_that_forks_ends(tmp_path: Path) -> None:
    """A fork of the traced code has no thread to wait for: its run ends (found: it waited
    for good for a lock only that thread releases, and the command hung)."""
    (tmp_path / "forky.py").write_text(textwrap.dedent(
        """
        import os
        import serialscale as ss


        def f():
            x = ss.input(1.0) + 1
            pid = os.fork()
            if pid == 0:
                os._exit(0) if x > 100 else None
                return x  # the child's run ends here, as the parent's does
            os.waitpid(pid, 0)
            return x + 1
        """
    ))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "serialscale", "analyze", "forky.py:f", "--timeout", "60"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "SERIALSCALE_PURE_PYTHON": "0"},
    )  # fmt: skip
    assert "--timeout" not in done.stderr, done.stderr
