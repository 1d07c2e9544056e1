"""Traced-target isolation (issue #30): a target two forks away, in its own session.

Each case runs the real command in a subprocess with a generous ``timeout`` (a wait that does
not end fails the test instead of hanging the suite); none asserts a duration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import WORKLOADS


def anything(value: object) -> bool:
    """run_isolated's ``expect`` for the tests of its mechanics: any result is one."""
    return True


pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="isolation needs fork")

HOSTILE = r'''
import os, pickle, signal, sys, time
import serialscale as ss

MARK = {mark!r}

def _work(n):
    xs = ss.inputs(range(n))
    return sum(xs[1:], xs[0])

def lingers(n: int = 4):
    """A grandchild that holds every inherited descriptor (the result pipe too) for 60 s."""
    child = os.fork()
    if child == 0:
        time.sleep(60)
        os._exit(0)
    with open(MARK, "w") as f:
        f.write(str(child))
    return _work(n)

def kills_parent(n: int = 4):
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(5)
    return _work(n)

def terms_parent(n: int = 4):
    os.kill(os.getppid(), signal.SIGTERM)
    time.sleep(5)
    return _work(n)

def kills_own_group(n: int = 4):
    os.killpg(0, signal.SIGTERM)
    return _work(n)

def kills_parents_group(n: int = 4):
    os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
    return _work(n)

def kills_group_zero(n: int = 4):
    os.kill(0, signal.SIGKILL)
    return _work(n)

def writes_fd1(n: int = 4):
    os.write(1, b"RAW ON FD 1\n")
    print("PRINTED")
    return _work(n)

def writes_parents_stdout(n: int = 4):
    with open(f"/proc/{{os.getppid()}}/fd/1", "w") as f:
        f.write("VIA PROC\n")
    return _work(n)

def marks(n: int = 4):
    with open(MARK, "w") as f:
        f.write(str(os.getpid()))
    return _work(n)

def prints_no_newline(n: int = 4):
    print("NO NEWLINE", end="")
    sys.stderr.write("STDERR TAIL")
    print("TO THE REAL STDOUT", file=sys.__stdout__)  # block-buffered: fd 1 is a pipe
    return _work(n)

def reads_stdin(n: int = 4):
    return _work(len(sys.stdin.read()) + 2)

class _Evil:
    def __reduce__(self):
        return (os.system, ("touch " + MARK,))

def _pipes():
    for fd in range(3, 256):
        try:
            if os.readlink(f"/proc/self/fd/{{fd}}").startswith("pipe:"):
                yield fd
        except OSError:
            pass

def forges_a_report(n: int = 4):
    """Writes a report's frame (MessagePack) that holds no report, on every pipe."""
    for fd in _pipes():
        try:
            os.write(fd, b"M" + (5).to_bytes(8, "big") + b"\x81\xa1a\xc1\x00")
        except OSError:
            pass
    os._exit(0)

def forges_a_pickle(n: int = 4):
    """Writes a pickle that runs a command when loaded, raw and framed, on every pipe."""
    data = pickle.dumps(("ok", _Evil()))
    for fd in _pipes():
        try:
            os.write(fd, data)
            os.write(fd, b"R" + len(data).to_bytes(8, "big") + data)
        except OSError:
            pass
    os._exit(0)
'''


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """The hostile module, and a file its functions write (a pid, or a marker)."""
    mark = tmp_path / "mark"
    path = tmp_path / "hostile.py"
    path.write_text(HOSTILE.format(mark=str(mark)))
    return path, mark


def _cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in a session of its own: were isolation broken, a target signalling its
    process group would end serialscale, not the test run."""
    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          text=True, timeout=30, input=stdin, start_new_session=True,
                          env=env)  # fmt: skip


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie nobody reaped has ended too)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_lingering_grandchild_does_not_hold_serialscale(hostile) -> None:
    path, mark = hostile
    result = _cli("analyze", f"{path}:lingers", "-f", "json")  # 30 s, the grandchild 60 s
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"] == 3  # n - 1 additions
    # and it is not left behind: the group's SIGKILL is sent before serialscale returns, but
    # the kernel may take a moment to carry it out on a loaded machine (seen in CI: the
    # process was still listed right after), so wait for it, within bounds
    pid = int(mark.read_text())
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)


@pytest.mark.parametrize(
    ("function", "signal_name"),
    [
        ("kills_parent", "SIGKILL"),
        ("terms_parent", "SIGTERM"),
        ("kills_own_group", "SIGTERM"),
        ("kills_parents_group", "SIGKILL"),
        ("kills_group_zero", "SIGKILL"),
    ],
)
def test_a_target_signalling_its_parent_or_group_does_not_reach_serialscale(
    hostile, function: str, signal_name: str
) -> None:
    path, _ = hostile
    target = f"{path}:{function}"
    result = _cli("analyze", target, str(WORKLOADS / "ci_build.yaml"), "-f", "json")
    assert result.returncode == 2, result.stderr  # not killed: it reports, exit 2
    data = json.loads(result.stdout)
    assert data["summary"]["analyzed"] == 1 and [e["source"] for e in data["errors"]] == [target]
    assert f"parent process was killed by {signal_name}" in data["errors"][0]["message"]


def test_writes_to_fd_1_and_to_the_parents_stdout_go_to_stderr(hostile) -> None:
    path, _ = hostile
    for function, text in (("writes_fd1", "RAW ON FD 1"), ("writes_fd1", "PRINTED"),
                           ("writes_parents_stdout", "VIA PROC")):  # fmt: skip
        result = _cli("analyze", f"{path}:{function}", "-f", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["steps"] == 3  # standard output is pure JSON
        assert text not in result.stdout and text in result.stderr


def test_what_a_target_printed_without_a_newline_is_not_lost(hostile) -> None:
    """The target flushes every standard stream before it sends its result (it then ends
    with ``os._exit``, which flushes nothing)."""
    path, _ = hostile
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    result = _cli("analyze", f"{path}:prints_no_newline", "-f", "json", env=buffered)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"] == 3
    assert "NO NEWLINE" in result.stderr and "STDERR TAIL" in result.stderr
    assert "TO THE REAL STDOUT" in result.stderr


def test_the_target_keeps_what_it_built_and_freezes_what_it_inherited() -> None:
    """In the target, the collector is on but walks none of the parent's objects (frozen: a
    walk would copy every page of them), and :func:`keep_until_exit` holds what it is given
    (the process ends without freeing it); in this process it holds nothing."""
    import gc

    from serialscale.run import isolation

    def inside() -> tuple[bool, bool, int]:
        isolation.keep_until_exit(object())
        isolation.keep_until_exit(object())
        return gc.isenabled(), gc.get_freeze_count() > 0, len(isolation._kept or ())

    assert isolation.run_isolated(inside, "x", expect=anything) == (True, True, 2)
    isolation.keep_until_exit(object())
    assert isolation._kept is None


def test_an_isolated_analysis_keeps_its_workload(tmp_path: Path) -> None:
    """``analyze_target`` in a target process hands its workload to ``keep_until_exit``."""
    from serialscale.run import batch, isolation

    source = tmp_path / "t.py"
    source.write_text(
        "import serialscale as ss\n"
        "def f():\n    x = ss.inputs([1.0, 2.0, 3.0])\n    return x[0] + x[1] + x[2]\n"
    )
    options = batch.Options()

    def inside() -> tuple[int, str, int]:
        report = batch._analyze_here(f"{source}:f", options, keep=True)
        kept = isolation._kept or []
        return report.steps, type(kept[0]).__name__, kept[0].graph.n

    assert isolation.run_isolated(inside, "x", expect=anything) == (2, "Workload", 2)


def test_a_target_does_not_read_serialscales_standard_input(hostile) -> None:
    path, _ = hostile
    result = _cli("analyze", f"{path}:reads_stdin", "-f", "json", stdin="a workload on stdin")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"] == 1  # it read nothing: n = 0 + 2


def test_a_forged_result_is_refused_not_run(hostile) -> None:
    path, mark = hostile
    result = _cli("analyze", f"{path}:forges_a_pickle", "-f", "json")
    assert result.returncode == 2
    assert not mark.exists()  # the command in the pickle never ran
    assert result.stdout == ""
    assert "not a result" in result.stderr or "ended its process" in result.stderr


def test_a_forged_report_frame_is_refused(hostile) -> None:
    path, _ = hostile
    result = _cli("analyze", f"{path}:forges_a_report", "-f", "json")
    assert result.returncode == 2 and result.stdout == ""
    assert "not a result (Report)" in result.stderr


def test_a_report_crosses_as_messagepack_and_comes_back_equal() -> None:
    """A report crosses as MessagePack, read back as a Report equal to the one sent (the
    oracle: the report made here); one MessagePack cannot hold (an id that is not UTF-8,
    a lone surrogate) is pickled, as before."""
    from serialscale import analyze
    from serialscale.run import isolation

    from .conftest import WORKLOADS

    for name in ("ci_build", "ml_training", "rule110_small"):
        report = analyze(WORKLOADS / f"{name}.yaml", detail=True)
        assert isolation._frame(("ok", report), "x")[0] == isolation.REPORT
        assert isolation.run_isolated(lambda r=report: r, "x", expect=anything) == report
    odd = _chain_report(["a", "\ud800"])
    assert isolation._frame(("ok", odd), "x")[0] == isolation.RESULT
    assert isolation.run_isolated(lambda: odd, "x", expect=anything) == odd
    assert isolation._frame(("ok", (odd, 0.5)), "x")[0] == isolation.RESULT


def _forgeries() -> list[object]:
    """Reports as an analysis writes them, and each changed as traced code could forge it."""
    from msgspec import structs

    from serialscale import analyze

    from .conftest import WORKLOADS

    report = analyze(WORKLOADS / "ci_build.yaml", detail=True)
    first = report.detail[0]
    nan, inf = float("nan"), float("inf")
    changes = [
        {}, {"params": {"n": (1, 2)}}, {"params": {"x": nan}}, {"params": {"x": [1, inf]}},
        {"detail": [structs.replace(first, cost=nan), *report.detail[1:]]},
        {"detail": [structs.replace(first, slack=inf), *report.detail[1:]]},
        {"detail": [structs.replace(first, start=-1), *report.detail[1:]]},
        {"detail": [structs.replace(first, id=3), *report.detail[1:]]},
        {"detail": (first,)}, {"profile": [1, 2, nan]}, {"depth": True}, {"steps": 2**70},
        {"speedup_ceiling": inf}, {"speedup_ceiling": None}, {"workload": "\ud800"},
        {"critical_path": ["a", 3]}, {"critical_path": "ab"},
    ]  # fmt: skip
    return [report, analyze(WORKLOADS / "rule110_small.yaml")] + [
        structs.replace(report, **change) for change in changes
    ]


def test_well_formed_is_its_definition_read_back_or_walked() -> None:
    """The quick test (written as JSON and read back the same) accepts only what the
    definition (converted to plain values and back, every float finite) accepts, and
    accepts a report as an analysis writes it (so the quick test is the one that runs)."""
    from serialscale.documents.report import _read_back_the_same, _walked, well_formed

    forged = _forgeries()
    for report in forged:
        assert not _read_back_the_same(report) or _walked(report), report
        assert well_formed(report) == _walked(report)
    assert _read_back_the_same(forged[0]) and _read_back_the_same(forged[1])
    assert sum(map(well_formed, forged)) >= 4 and sum(map(well_formed, forged)) < len(forged) - 8


def test_isolation_in_process_calls(hostile) -> None:
    """The library call the command uses (signals to the parent are tested through the
    command, in a session of its own: here they would reach the test run)."""
    from serialscale.base.errors import WorkloadError
    from serialscale.run.isolation import run_isolated

    assert run_isolated(lambda: 6 * 7, "x", expect=anything) == 42
    with pytest.raises(WorkloadError, match="exit code 3"):
        run_isolated(lambda: os._exit(3), "x", expect=anything)
    with pytest.raises(WorkloadError, match="is not part of a result"):
        run_isolated(lambda: Path("."), "x", expect=anything)  # only reports and errors come back


def _chain_report(ids: list[str]):
    """The report of a chain of unit steps named ``ids`` (its critical path: all of them)."""
    from serialscale.core.analysis import analyze_workload
    from serialscale.core.graph import Graph
    from serialscale.core.workload import Workload

    needs = [[i - 1] if i else [] for i in range(len(ids))]
    return analyze_workload(Workload("chain", Graph.from_lists(ids, [1] * len(ids), needs)))


@pytest.mark.parametrize("odd", ["", "a\nb", "é\ud800"])
def test_a_long_critical_path_comes_back_whole(odd: str) -> None:
    """A long critical path crosses the pipe as one string (newline-joined) and is split back
    in the parent; an id holding a newline sends the list as it is."""
    from serialscale.run import isolation

    ids = [f"s{i}" for i in range(isolation.LONG_PATH + 5)] + ([odd] if odd else [])
    report = _chain_report(ids)
    assert report.critical_path == ids  # the oracle: a chain's path is every step, in order
    sent = isolation._compact(report).critical_path  # type: ignore[attr-defined]
    assert isinstance(sent, isolation._Lines) == ("\n" not in odd)
    back = isolation.run_isolated(lambda: report, "chain", expect=anything)
    assert back == report and back.critical_path == ids
    assert isolation.run_isolated(lambda: (report, 0.5), "chain", expect=anything) == (report, 0.5)


def test_a_forged_list_of_lines_calls_nothing_but_a_split() -> None:
    """The one function a result may name splits a string, and refuses anything else."""
    import io
    import pickle

    from serialscale.run.isolation import _Lines, _Results, _split_lines

    data = pickle.dumps(("ok", _Lines("a\nb")))
    assert _Results(io.BytesIO(data)).load() == ("ok", ["a", "b"])

    class Forged:
        def __reduce__(self):
            return _split_lines, (b"a\nb",)

    with pytest.raises(pickle.UnpicklingError, match="not a string"):
        _Results(io.BytesIO(pickle.dumps(("ok", Forged())))).load()


def test_errors_come_back_past_reducers_registered_for_everyone() -> None:
    """A library may register its own reducer for exceptions (``tblib.pickling_support``,
    which distributed installs, does for every one): the target still sends serialscale's
    error as serialscale's error, which the parent accepts."""
    import copyreg

    from serialscale.base.errors import Location, WorkloadError
    from serialscale.run.isolation import run_isolated

    def fails():
        raise WorkloadError("parameter 'n' expects int", Location("t.py:f"))

    copyreg.pickle(WorkloadError, lambda e: (print, (str(e),)))
    try:
        with pytest.raises(WorkloadError, match="parameter 'n' expects int"):
            run_isolated(fails, "t.py:f", expect=anything)
    finally:
        del copyreg.dispatch_table[WorkloadError]


def test_a_target_started_early_runs_the_job_of_its_label_only() -> None:
    """:func:`prestart` starts a sentinel and its target before the options are parsed; the
    run for its label is done there (the target's parent is that sentinel); a run for another
    label, or whose job cannot be pickled, ends it unused and runs in a new target."""
    from serialscale.run import early, isolation

    isolation.prestart("t.py:f")
    sentinel = early.started()
    assert sentinel is not None
    assert (
        isolation.run_isolated(os.getppid, "t.py:f", job=(os.getppid, ()), expect=anything)
        == sentinel
    )
    assert early.started() is None and _gone(sentinel)

    isolation.prestart("t.py:f")
    sentinel = early.started()
    assert sentinel is not None
    assert (
        isolation.run_isolated(os.getppid, "t.py:g", job=(os.getppid, ()), expect=anything)
        != sentinel
    )
    assert early.started() is None and _gone(sentinel)

    isolation.prestart("t.py:f")
    sentinel = early.started()
    assert sentinel is not None
    assert (
        isolation.run_isolated(lambda: 7, "t.py:f", job=(lambda: 7, ()), expect=anything) == 7
    )  # by name: no
    assert early.started() is None and _gone(sentinel)


def test_a_target_started_early_runs_nothing_before_the_options_are_checked(
    hostile, tmp_path: Path
) -> None:
    """The command starts the target of ``analyze FILE.py:FUNC`` before it parses its
    options; given a bad option, it imports and runs nothing of the user's, and leaves no
    process behind."""
    path, mark = hostile
    (tmp_path / "top.py").write_text(f"open({str(mark)!r}, 'w').close()\ndef f():\n    pass\n")
    tag = f"{uuid.uuid4().hex}"
    env = {**os.environ, "SERIALSCALE_TEST_RUN": tag}
    for target in (f"{path}:marks", f"{tmp_path / 'top.py'}:f"):
        for bad in (["--no-such-option"], ["--processors", "0"], ["--param", "nonsense"]):
            result = _cli("analyze", target, "-f", "json", *bad, env=env)
            assert result.returncode == 2, result.stderr
            assert not mark.exists()
    deadline = time.monotonic() + 10
    while _run_by(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _run_by(tag)
    result = _cli("analyze", f"{path}:marks", "-f", "json", env=env)  # and a good one runs
    assert result.returncode == 0 and json.loads(result.stdout)["steps"] == 3
    assert mark.exists()


def test_a_target_started_early_imports_nothing_from_the_working_folder(tmp_path: Path) -> None:
    """Under ``python -m`` the working folder is first on sys.path: the early target's own
    imports (the tracer's struct, ctypes, array) ran a 'struct.py' there before the
    options were checked (review of the early target, F1)."""
    mark = tmp_path / "MARK"
    (tmp_path / "t.py").write_text("def f():\n    return 1\n")
    for name in ("struct", "ctypes", "array"):
        (tmp_path / f"{name}.py").write_text(f"open({str(mark)!r}, 'a').write('{name}\\n')\n")
    result = subprocess.run([sys.executable, "-m", "serialscale", "analyze", "t.py:f",
                             "--no-such-option"], capture_output=True, text=True, timeout=30,
                            cwd=tmp_path, start_new_session=True)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert not mark.exists(), mark.read_text()


def test_a_target_started_early_has_the_modules_a_late_one_inherited(tmp_path: Path) -> None:
    """A target started late inherits difflib and others from the command (typer imports
    them); one started early imported them only when used, after the function's folder was
    on sys.path, so a 'difflib.py' there broke serialscale's own 'did you mean' (F2)."""
    (tmp_path / "t.py").write_text("def f():\n    return 1\n")
    (tmp_path / "difflib.py").write_text("import sys\nsys.stderr.write('LOCAL difflib\\n')\n")
    # the console script ('python -m' puts the folder first for the command itself too,
    # where typer's own 'import difflib' would take the user's, as it always did)
    script = str(Path(sys.executable).parent / "serialscale")
    result = subprocess.run([script, "analyze", "t.py:ff"], capture_output=True, text=True,
                            timeout=30, cwd=tmp_path, start_new_session=True)  # fmt: skip
    assert result.returncode == 2
    assert "LOCAL difflib" not in result.stderr
    assert "no function 'ff'" in result.stderr and "did you mean 'f'?" in result.stderr


def test_every_target_finds_the_inherited_modules_where_the_standard_library_is(
    tmp_path: Path,
) -> None:
    """A target started late, too, takes difflib (and the rest of INHERITED) from the standard
    library once the function's folder is first on sys.path; other modules there are found."""
    from serialscale.base.errors import Location, WorkloadError
    from serialscale.run.isolation import INHERITED, run_isolated

    names = ("difflib", "json", "_compression", "mine")  # json: a target had it imported
    for name in names:
        (tmp_path / f"{name}.py").write_text("WHERE = 'user'\n")

    def imports() -> None:
        import importlib

        sys.path.insert(0, str(tmp_path))
        for name in names:
            sys.modules.pop(name, None)
        found = [getattr(importlib.import_module(n), "WHERE", "std") for n in names]
        raise WorkloadError(" ".join(found), Location("t"))

    assert INHERITED.issuperset(names[:-1]) and "mine" not in INHERITED
    with pytest.raises(WorkloadError) as info:
        run_isolated(imports, "t", expect=anything)
    assert info.value.message == "std std std user"


def test_what_shows_the_result_is_imported_while_the_target_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """:func:`import_meanwhile`: modules imported by the command's process while it waits for
    the target (one that fails to import is left to whoever uses it)."""
    from serialscale.run import isolation

    (tmp_path / "shown_meanwhile.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(isolation, "_meanwhile", list(isolation._meanwhile))
    isolation.import_meanwhile("shown_meanwhile", "no_such_module_here")
    assert "shown_meanwhile" not in sys.modules
    try:
        assert isolation.run_isolated(lambda: 6 * 7, "x", expect=anything) == 42
        assert "shown_meanwhile" in sys.modules
    finally:
        sys.modules.pop("shown_meanwhile", None)


def test_the_timeout_is_not_stretched_by_the_imports_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The imports made while the target works run beside the wait: a function slower than
    ``--timeout`` is stopped even when they take longer than it (they ran before the wait
    and its clock, and a 15 ms function beat a 5 ms timeout)."""
    import time

    from serialscale.base.errors import WorkloadError
    from serialscale.run import isolation

    monkeypatch.setattr(isolation, "_import_meanwhile", lambda: time.sleep(0.8))
    with pytest.raises(WorkloadError, match="--timeout"):
        isolation.run_isolated(lambda: time.sleep(0.3), "x", timeout=0.05, expect=anything)


def test_nothing_in_the_working_folder_is_imported_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'python -m' puts the working folder first on sys.path: what shows a result, imported
    while the target works, is never a module of the working folder (a run that fails shows
    nothing, and a 'rich.py' there must not run for it)."""
    from serialscale.run import isolation

    (tmp_path / "shown_from_the_cwd.py").write_text("raise SystemExit('ran')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(isolation, "_meanwhile", ["shown_from_the_cwd"])
    try:
        assert isolation.run_isolated(lambda: 6 * 7, "x", expect=anything) == 42
        assert "shown_from_the_cwd" not in sys.modules
        assert str(tmp_path) in sys.path  # put back
    finally:
        sys.modules.pop("shown_from_the_cwd", None)


def _run_by(tag: str) -> list[int]:
    """Live processes whose environment holds ``SERIALSCALE_TEST_RUN=tag``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    environ = handle.read().split(b"\0")
            except OSError:
                continue
            if f"SERIALSCALE_TEST_RUN={tag}".encode() in environ and not _gone(int(entry)):
                found.append(int(entry))
    return found


@pytest.mark.parametrize("module", [False, True])
def test_a_working_folder_removed_before_the_command_starts_is_no_error(
    tmp_path: Path, module: bool
) -> None:
    """The command takes the working folder off sys.path for its early imports; one that was
    removed (a build directory cleaned under a shell) gave a Python traceback from
    os.getcwd()."""
    (tmp_path / "f.py").write_text("import serialscale as ss\n"
                                   "def f():\n    x = ss.inputs([1.0, 2.0])\n"
                                   "    return x[0] + x[1]\n")  # fmt: skip
    gone = tmp_path / "gone"
    gone.mkdir()
    command = [sys.executable, "-m", "serialscale"] if module else [
        str(Path(sys.executable).with_name("serialscale"))]  # fmt: skip
    script = 'cd "$1" && rmdir "$1" && shift && exec "$@"'
    result = subprocess.run(
        ["sh", "-c", script, "sh", str(gone), *command, "analyze", f"{tmp_path / 'f.py'}:f",
         "-f", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["steps"] == 1


@pytest.mark.parametrize("closed", [">&-", "<&-", "2>&-"])
def test_a_standard_descriptor_closed_as_the_command_starts(tmp_path: Path, closed: str) -> None:
    """A closed descriptor 0-2 took the number of a pipe opened later, which the function's
    process then pointed elsewhere: "could not start a process" (stdin closed), or an
    internal error (stdout closed). Now the report is written where it was asked for, and a
    report for a closed standard output is a failure that says so."""
    (tmp_path / "f.py").write_text("import serialscale as ss\n"
                                   "def f():\n    x = ss.inputs([1.0, 2.0])\n"
                                   "    return x[0] + x[1]\n")  # fmt: skip
    out = tmp_path / "out.json"

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", f'exec "$@" {closed}', "sh", sys.executable, "-m", "serialscale",
             "analyze", f"{tmp_path / 'f.py'}:f", "-f", "json", *extra],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    written = run("-o", str(out))
    assert written.returncode == 0, written.stderr
    assert json.loads(out.read_text())["steps"] == 1
    shown = run()
    if closed == ">&-":
        assert shown.returncode == 2
        assert "standard output is closed" in shown.stderr
    else:
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["steps"] == 1
    assert "internal error" not in shown.stderr + written.stderr


def test_ctrl_c_before_the_handlers_are_in_place_is_one_line_and_130() -> None:
    """Ctrl-C during the command's first imports (before its own handlers) gave a Python
    traceback: ``cli.entry.run`` ends it as the handlers do. (Simulated: the first thing
    ``run`` does raises KeyboardInterrupt, as a signal at that moment would.)"""
    code = ("import sys; from serialscale.cli import entry\n"
            "def interrupted():\n    raise KeyboardInterrupt\n"
            "entry._hold_closed_standard_descriptors = interrupted\n"
            "sys.argv = ['serialscale', 'analyze', 'x.py:f']\nentry.run()\n")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 130
    assert result.stderr == "serialscale: interrupted\n"


@pytest.mark.parametrize("size", [0, 1, 9, 3 * (1 << 20) + 7])
def test_bytes_come_back_as_they_are(size: int) -> None:
    """Bytes a function returns cross in a frame of their own, unpickled (a large report's
    JSON text): exactly what it returned, whatever their size (several pipe reads)."""
    from serialscale.run.isolation import run_isolated

    data = os.urandom(size)
    back = run_isolated(lambda: data, "x", expect=anything)
    assert type(back) is bytes and back == data
    assert run_isolated(lambda: bytearray(data), "x", expect=anything) == bytearray(
        data
    )  # pickled, as before


def test_a_frame_is_its_declared_length_and_nothing_after() -> None:
    """What the pipe holds after a whole frame (a grandchild's write) is not part of it; a
    header of an unknown kind, or announcing more than LONGEST bytes, is bad at once: what
    follows it is not read (forged by the traced code, it could go on until memory ran out)."""
    from serialscale.run.isolation import LONGEST, _Incoming

    cases = [(b"B", 3, ("bytes", b"abc")), (b"R", 3, ("result", b"abc")),
             (b"M", 3, ("report", b"abc")), (b"?", 3, ("bad", b"?" + (3).to_bytes(8, "big"))),
             (b"R", LONGEST + 1, ("bad", b"R" + (LONGEST + 1).to_bytes(8, "big")))]  # fmt: skip
    for kind, size, expected in cases:
        read, write = os.pipe()
        try:
            os.write(write, kind + size.to_bytes(8, "big") + b"abc" + b"after")
            frame = _Incoming()
            while not frame.whole() and frame.read(read):
                pass
            assert frame.whole() and frame.outcome() == expected
            assert frame.size == (0 if expected[0] == "bad" else 8)  # nothing read past a bad one
        finally:
            os.close(read)
            os.close(write)


CHAIN = """
import serialscale as ss

def chain(n: int = {n}):
    total = ss.input(0)
    for x in ss.inputs(list(range(n))):
        total = total + x
    return total
"""


def _rendered_in_process(path: Path) -> str:
    """The oracle: the report of ``path:chain`` traced, analyzed and rendered here."""
    from serialscale.core.analysis import analyze_workload
    from serialscale.render.json_report import render_json
    from serialscale.sources.python_targets import trace_workload

    return render_json(analyze_workload(trace_workload(f"{path}:chain")))


def test_a_large_report_comes_rendered_and_as_the_command_renders_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """analyze_function_json renders a large report where it is computed (the JSON text in
    UTF-8), a small one comes back as a report; a report whose rendering fails there comes
    back too (rendered, and failing, where it is shown)."""
    from serialscale.render import json_report
    from serialscale.run import batch
    from serialscale.run.batch import Options, analyze_function_json

    path = tmp_path / "chained.py"
    path.write_text(CHAIN.format(n=40))
    target = f"{path}:chain"
    expected = _rendered_in_process(path)
    options = Options(isolate=True)
    small = analyze_function_json(target, options)
    assert not isinstance(small, bytes) and json_report.render_json(small) == expected
    monkeypatch.setattr(batch, "RENDER_THERE", 10)  # read in the function's process
    large = analyze_function_json(target, options)
    assert isinstance(large, bytes) and large.decode("utf-8") == expected
    assert json.loads(large)["depth"] == 40  # the chain: 40 additions, one after another

    def fails(report: object) -> str:
        raise ValueError("no")

    monkeypatch.setattr(json_report, "render_json", fails)
    back = analyze_function_json(target, options)
    assert not isinstance(back, bytes) and back.critical_path[-1] == small.critical_path[-1]


def test_the_command_shows_a_large_report_as_it_always_did(tmp_path: Path) -> None:
    """Through the command line (the report rendered in the function's process, written
    here as it came): the same bytes on standard output, in an -o file, through an ASCII
    standard output; a closed standard output is still a failure."""
    from serialscale.run.batch import RENDER_THERE

    path = tmp_path / "chained.py"
    path.write_text(CHAIN.format(n=RENDER_THERE))
    expected = _rendered_in_process(path)
    assert len(json.loads(expected)["critical_path"]) == RENDER_THERE  # every addition
    command = [sys.executable, "-m", "serialscale", "analyze", f"{path}:chain", "-f", "json"]
    shown = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.decode("utf-8") == expected
    ascii_env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    shown = subprocess.run(command, capture_output=True, timeout=60, env=ascii_env, check=False)
    assert shown.returncode == 0 and shown.stdout.decode("ascii") == expected
    out = tmp_path / "report.json"
    written = subprocess.run([*command, "-o", str(out)], capture_output=True, timeout=60,
                             check=False)  # fmt: skip
    assert written.returncode == 0 and out.read_text(encoding="utf-8") == expected
    closed = subprocess.run(["sh", "-c", " ".join(f"'{a}'" for a in command) + " >&-"],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert closed.returncode == 2
    assert "standard output" in closed.stderr and "Traceback" not in closed.stderr


def test_the_command_does_not_wait_for_a_killed_sentinel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the result came, the command kills the sentinel and goes on (reap_at_exit): it is
    gone all the same, and reaped once it has ended; a library caller's is reaped at once."""
    from serialscale.run import isolation

    assert isolation._dying is None  # the default: waited for
    assert isolation.run_isolated(lambda: 6 * 7, "x", expect=anything) == 42
    monkeypatch.setattr(isolation, "_dying", [])
    assert isolation.run_isolated(lambda: 6 * 7, "x", expect=anything) == 42
    (pid,) = isolation._dying
    deadline = time.monotonic() + 10
    while isolation._dying and time.monotonic() < deadline:
        isolation.reap_dying()
        time.sleep(0.01)
    assert isolation._dying == [] and _gone(pid)
    with pytest.raises(ChildProcessError):  # reaped
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize(
    "forged", [b"\xff\xfe{}\n", b"oops\n", b'{"a": 1}', b"\x1b[2J{}\n", b'{"a": "\x1b]0;x\x07"}\n']
)
def test_bytes_that_are_not_a_report_s_json_text_are_refused(forged: bytes) -> None:
    """The bytes of a large report go to stdout as they came: bytes that cannot be a report's
    JSON text (a frame the traced code forged on its result pipe) are a located error."""
    from serialscale.base.errors import WorkloadError
    from serialscale.run import batch, isolation

    expect = batch._report_or_json_text  # what analyze_function_json expects
    with pytest.raises(WorkloadError, match="not a result") as caught:
        isolation.run_isolated(lambda: forged, "f.py:f", expect=expect)
    assert caught.value.location.source == "f.py:f"
    text = b'{"steps": 1}\n'
    assert isolation.run_isolated(lambda: text, "f.py:f", expect=expect) == text


@pytest.mark.parametrize("sent", [42, ("ok", None), b'{"a": 1}\n', (None, 0.5)])
def test_a_value_of_another_kind_than_the_caller_s_result_is_refused(sent) -> None:
    """What comes back from the traced function's process is the caller's kind of result or
    a located error: a forged value (bytes where a report is expected, a tuple of the wrong
    shape) gave an internal error (AttributeError) where the command used it."""
    from serialscale.base.errors import WorkloadError
    from serialscale.run import batch, isolation

    for expect in (batch._is_report, batch._report_and_spread):
        with pytest.raises(WorkloadError, match="not a result") as caught:
            isolation.run_isolated(lambda: sent, "f.py:f", expect=expect)
        assert caught.value.location.source == "f.py:f"


def _small_report():
    from serialscale.core.analysis import analyze_workload
    from serialscale.core.graph import Graph
    from serialscale.core.workload import Workload

    graph = Graph.from_lists(["a", "b", "c"], [1, 2, 3], [[], [0], [0, 1]])
    return analyze_workload(Workload(name="w", graph=graph, source="f.py:f"))


@pytest.mark.parametrize(
    "change",
    [
        {"steps": "junk"},
        {"critical_path": 7},
        {"depth": float("nan")},
        {"speedup_ceiling": float("inf")},
    ],
    ids=["str steps", "int path", "nan depth", "inf ceiling"],
)
def test_a_forged_report_of_the_wrong_shape_is_refused(change) -> None:
    """A report unpickled from the pipe is built without its fields checked: one the traced
    code forged with a field of the wrong type, or a number that is not finite, gave an
    internal error where it was shown (and ended a whole batch), or JSON outside the schema."""
    from msgspec import structs

    from serialscale.base.errors import WorkloadError
    from serialscale.run import batch, isolation

    report = _small_report()
    assert isolation.run_isolated(lambda: report, "f.py:f", expect=batch._is_report) == report
    forged = structs.replace(report, **change)
    with pytest.raises(WorkloadError, match=r"not a result \(Report\)"):
        isolation.run_isolated(lambda: forged, "f.py:f", expect=batch._is_report)
    for spread in (float("nan"), float("inf"), -1.0):
        assert not batch._report_and_spread((report, spread))
    assert batch._report_and_spread((report, 0.25)) and batch._report_and_spread((report, None))


def test_forged_chart_tuples_are_refused_not_drawn() -> None:
    """The schedule chart crosses the pipe as tuples: numbers a chart cannot hold (NaN,
    infinity, an int too large for a float, a bar ending before it starts) are refused."""
    from serialscale.run.schedule_chart import _from_tuples

    bar = ("a", 0, 0, 1, True, 1)
    good = ("w", None, 2, 1, (bar,), 1)
    assert _from_tuples(good).makespan == 1
    for bad in [("w", None, 2, float("nan"), (bar,), 1), ("w", None, 2, float("inf"), (bar,), 1),
                ("w", None, 2, 10**400, (bar,), 1), ("w", None, 0, 1, (bar,), 1),
                ("w", None, 2, 1, (("a", 0, 1, 0, True, 1),), 1),
                ("w", None, 2, 1, (("a", -1, 0, 1, True, 1),), 1)]:  # fmt: skip
        with pytest.raises(ValueError):
            _from_tuples(bad)


def test_a_parameter_whose_default_is_not_finite_is_shown_as_its_repr(tmp_path: Path) -> None:
    """A default of float("inf") went into the report's params as a float: the JSON report
    was an internal error (JSON has no infinity), and once reports from the function's
    process were checked, every format said it was not a result. It is shown as "inf"."""
    (tmp_path / "f.py").write_text("import serialscale as ss\n"
                                   "def f(limit: float = float('inf'), tag='\\ud800'):\n"
                                   "    return ss.input(2.0) * 2 + 1\n")  # fmt: skip
    for form in ("json", "table"):
        done = subprocess.run([sys.executable, "-m", "serialscale", "analyze",
                               str(tmp_path / "f.py") + ":f", "--format", form],
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        if form == "json":
            # (a lone surrogate in a string: its repr, as no UTF-8 output can hold it; it
            # failed unlocated as the result was written)
            assert json.loads(done.stdout)["params"] == {"limit": "inf", "tag": "'\\ud800'"}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_bytes_in_a_report_frame_are_a_report_or_none(data) -> None:
    """The traced code can write any bytes in a report's frame: from_messagepack returns a
    report or None, never raises (the bytes: random, or a real report's, cut or changed)."""
    from serialscale.documents.report import Report, from_messagepack, to_messagepack

    real = to_messagepack(_small_report())
    if data.draw(st.booleans()):
        payload = data.draw(st.binary(max_size=200))
    else:
        start = data.draw(st.integers(0, len(real) - 1))
        cut = data.draw(st.integers(start, len(real)))
        payload = real[:start] + data.draw(st.binary(max_size=8)) + real[cut:]
    back = from_messagepack(payload)
    assert back is None or type(back) is Report


def test_a_report_nested_past_the_recursion_limit_is_refused_not_a_crash() -> None:
    """``params`` holds anything: a forged frame (or pickle) nesting a million lists in it
    gave an internal error (RecursionError) where it is read or checked."""
    from msgspec import structs

    from serialscale.documents.report import _walked, from_messagepack, well_formed

    deep = b"\x81\xa6params\x81\xa1a" + b"\x91" * 1_000_000 + b"\xc0"
    frame = b"\x8f" + deep[1:]  # (a map of 15 entries, cut short: refused either way)
    assert from_messagepack(deep) is None and from_messagepack(frame) is None
    nested: list[object] = []
    for _ in range(100_000):
        nested = [nested]
    forged = structs.replace(_small_report(), params={"a": nested})
    assert not _walked(forged) and not well_formed(forged)
