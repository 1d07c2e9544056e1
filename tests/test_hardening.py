"""Hostile input, hostile code and hostile surroundings: a located error (exit 2, nothing on
stdout), never an internal error, a traceback, a silent success or a replaced file."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.sources.expressions import ExpressionError, compile_expression

from .conftest import WORKLOADS

DIGITS = "9" * 5000

# --- 1. input errors that used to be internal errors ------------------------------------------

HOSTILE_FILES = {
    "need_mapping.yaml": ("steps:\n  - id: a\n  - id: b\n    needs: [{x: 1}]\n", "mapping"),
    "need_nested.yaml": ("steps:\n  - id: a\n  - id: b\n    needs: [[a]]\n", "list"),
    "need_mapping.json": ('{"steps": [{"id": "a"}, {"id": "b", "needs": [{"x": 1}]}]}', "mapping"),
    "need_nested.json": ('{"steps": [{"id": "s0", "cost": 0, "needs": [[]]}]}', "list"),
    "float_too_big.json": ('{"steps": [{"id": "a", "cost": 1e400}]}', "finite"),
    "float_written_out.json": ('{"steps": [{"id": "a", "cost": ' + "9" * 400 + ".0}]}", "finite"),
    "int_digits.json": ('{"steps": [{"id": "a", "cost": ' + DIGITS + "}]}", "4,300 digits"),
    "int_digits.yaml": ("steps:\n  - id: a\n    cost: " + DIGITS + "\n", "4,300 digits"),
    "int_digits_id.json": ('{"steps": [{"id": ' + DIGITS + "}]}", "4,300 digits"),
    "float_sum.yaml": (
        "steps:\n  - {id: a, cost: 1.0e+308}\n  - {id: b, cost: 1.0e+308, needs: [a]}\n",
        "largest float",
    ),
    "surrogate.json": ('{"steps": [{"id": "\\ud800"}]}', "lone surrogate"),
    "floor_inf.yaml": (
        "params: {n: 2}\nsteps:\n  - {id: a, cost: 'floor(1e308 * 10)'}\n",
        "finite",
    ),
    "ceil_nan.yaml": (
        "params: {n: 2}\nsteps:\n  - {id: a, cost: 'ceil(1e308 * 10 - 1e308 * 10)'}\n",
        "finite",
    ),
    "zero_power.yaml": (
        "params: {n: 2}\nsteps:\n  - {id: a, cost: '0 ** -1'}\n",
        "division by zero",
    ),
    "range_too_big.yaml": (
        "params: {n: 2}\nsteps:\n  - id: 'a{i}'\n    foreach: {i: 'range(10**30, 10**30 + 2)'}\n",
        "too large",
    ),
    "range_huge_int.yaml": (
        "params: {n: 2}\nsteps:\n  - id: 'a{i}'\n"
        "    foreach: {i: 'range(n * 99999999999999999999)'}\n",
        "range of 'i' has more than 2**63 values",
    ),
    "expression_digits.yaml": (
        "params: {n: 2}\nsteps:\n  - id: 'a'\n    cost: '" + DIGITS + "'\n",
        "digits",
    ),
    "expression_long.yaml": (
        "params: {n: 2}\nsteps:\n  - id: a\n    cost: '" + "+".join(["n"] * 20000) + "'\n",
        "longer than",
    ),
    "expression_deep.yaml": (
        "params: {n: 2}\nsteps:\n  - id: a\n    cost: '" + "(" * 3000 + "n" + ")" * 3000 + "'\n",
        "cannot parse",
    ),
    "expression_signs.yaml": (
        "params: {n: 2}\nsteps:\n  - id: a\n    cost: '" + "-" * 5000 + "n'\n",
        "nested",
    ),
    "id_huge_value.yaml": (
        "params: {n: 9}\nsteps:\n  - id: 'a{n ** 18 * n ** 18 * n ** 18 * n ** 18}'\n",
        "too large",
    ),
    "need_foreach_runaway.yaml": (
        "params: {n: 2}\nsteps:\n  - id: a\n  - id: b\n"
        "    needs: [{id: a, foreach: {j: 'range(10**12)'}}]\n",
        "--max-dependencies",
    ),
    "need_foreach_nested.yaml": (
        "params: {n: 2}\nsteps:\n  - id: a\n  - id: b\n"
        "    needs: [{id: a, foreach: {j: 'range(100000)', k: 'range(100000)'}}]\n",
        "--max-dependencies",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_input_is_a_located_error(name: str, tmp_path: Path, run_cli) -> None:
    text, expected = HOSTILE_FILES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = run_cli("analyze", str(path), "-f", "json", "--max-dependencies", "1000000")
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{path}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr, result.stderr


def test_min_and_max_take_one_argument_or_more() -> None:
    assert compile_expression("min(n)")({"n": 3}) == 3
    assert compile_expression("max(n, 2 * n, 1)")({"n": 3}) == 6


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.sampled_from(["n", "x", "0", "1", "-1", "1e308", "0.5", "10**18", DIGITS[:30]]),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from([*list("+-*/%"), "**", "//"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(
                st.sampled_from(["floor", "ceil", "abs", "log2", "sqrt", "min", "max"]),
                st.lists(inner, min_size=1, max_size=3),
            ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            inner.map(lambda e: f"-{e}"),
        ),
        max_leaves=12,
    ),
    st.sampled_from([0, 1, 7, -3, 0.5, 1e308, 2**62]),
)
def test_any_expression_gives_a_number_or_an_expression_error(text: str, n) -> None:
    try:
        value = compile_expression(text)({"n": n, "x": 2.5})
    except ExpressionError:
        return
    assert isinstance(value, (int, float))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.text(max_size=12))
def test_any_param_or_sweep_value_is_handled(value: str, sweep: str) -> None:
    from serialscale.cli.commands import CommandError, parse_predict
    from serialscale.cli.options import parse_sweep
    from serialscale.sources.templates import TemplateFailure, parse_number

    with contextlib.suppress(TemplateFailure):
        parse_number("n", value)
    with contextlib.suppress(ValueError):
        parse_sweep(f"n={sweep}")
    with contextlib.suppress(CommandError):
        parse_predict(f"n={value}", "n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["text", "params"]), st.text(max_size=20))
def test_any_param_override_of_a_template_is_handled(kind: str, value: str) -> None:
    from serialscale.sources.workload_file import parse_workload

    text = "params: {n: 4}\nsteps:\n  - id: 'a{i}'\n    foreach: {i: 'range(n)'}\n"
    with contextlib.suppress(WorkloadError):
        parse_workload(text, "t.yaml", params={"n": value})


# --- 2. traced code that exits, interrupts or prints -----------------------------------------

HOSTILE_CODE = """
import os, signal, sys
import serialscale as ss

def exits(n: int = 3):
    sys.exit(3)

def exits_zero():
    raise SystemExit

def hard_exit():
    os._exit(0)

def interrupt():
    raise KeyboardInterrupt

def odd_base():
    raise GeneratorExit("odd")

def killed():
    os.kill(os.getpid(), signal.SIGKILL)

def forever():
    x = ss.input(0)
    while True:
        x = x + 1

def spins():
    while True:
        pass

def prints(n: int = 4):
    print("hello from the traced function")
    sys.stdout.flush()
    os.write(1, b"raw write to fd 1\\n")
    xs = ss.inputs(range(n))
    return sum(xs[1:], xs[0])
"""


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.py"
    path.write_text(HOSTILE_CODE)
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess: what exits and signals do needs a real process."""
    return subprocess.run(
        [sys.executable, "-m", "serialscale", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("exits", "called sys.exit(3)"),
        ("exits_zero", "called sys.exit()"),
        ("hard_exit", "ended its process (exit code 0)"),
        ("interrupt", "raised KeyboardInterrupt"),
        ("odd_base", "GeneratorExit: odd"),
        ("killed", "killed by SIGKILL"),
    ],
)
def test_traced_code_cannot_end_serialscale(function: str, expected: str, hostile: Path) -> None:
    result = _cli("analyze", f"{hostile}:{function}", "-f", "json")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert expected in result.stderr


def test_a_batch_goes_on_past_hostile_code(hostile: Path) -> None:
    targets = [f"{hostile}:exits", str(WORKLOADS / "ci_build.yaml"), f"{hostile}:killed",
               f"{hostile}:hard_exit", f"{hostile}:prints"]  # fmt: skip
    outputs = []
    for jobs in ("1", "2"):
        result = _cli("analyze", *targets, "-f", "json", "--jobs", jobs)
        assert result.returncode == 2
        data = json.loads(result.stdout)
        assert data["summary"]["analyzed"] == 2 and data["summary"]["errors"] == 3
        assert [e["source"] for e in data["errors"]] == [targets[0], targets[2], targets[3]]
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


def test_prints_of_traced_code_go_to_stderr(hostile: Path) -> None:
    result = _cli("analyze", f"{hostile}:prints", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"] == 3
    assert "hello from the traced function" in result.stderr
    assert "raw write to fd 1" in result.stderr


def test_runaway_functions_are_stopped_by_the_limits(hostile: Path) -> None:
    ops = _cli("analyze", f"{hostile}:forever", "--max-ops", "20000")
    assert ops.returncode == 2 and "--max-ops (20,000)" in ops.stderr
    slow = _cli("analyze", f"{hostile}:spins", "--timeout", "0.5")
    assert slow.returncode == 2 and "--timeout 0.5 seconds" in slow.stderr


def test_error_messages_are_the_same_on_every_run(hostile: Path) -> None:
    messages = {_cli("analyze", f"{hostile}:odd_base").stderr for _ in range(2)}
    assert len(messages) == 1


def test_sweeps_of_traced_code_are_isolated_too(hostile: Path) -> None:
    result = _cli("scale", f"{hostile}:exits", "--sweep", "n=1,2,3")
    assert result.returncode == 2 and "at n=1: the function called sys.exit(3)" in result.stderr


# --- 3. limits that cannot be walked around -----------------------------------------------------


def test_aliases_count_against_the_dependency_limit(tmp_path: Path, run_cli) -> None:
    shared = "[" + ", ".join(f"s{i}" for i in range(200)) + "]"
    lines = ["steps:"] + [f"  - id: s{i}" for i in range(200)]
    lines.append(f"  - {{id: t0, needs: &shared {shared}}}")
    lines += [f"  - {{id: t{i}, needs: *shared}}" for i in range(1, 300)]
    path = tmp_path / "aliases.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = run_cli("analyze", str(path), "--max-dependencies", "50000")
    assert result.exit_code == 2 and "60,000 dependencies, more than --max-dependencies" in (
        result.stderr
    )
    assert run_cli("analyze", str(path), "--max-steps", "400").exit_code == 2
    assert run_cli("analyze", str(path)).exit_code == 0


def test_inputs_are_read_up_to_the_size_limit(tmp_path: Path, run_cli) -> None:
    big = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--max-input-size", "100")
    assert big.exit_code == 2 and "larger than --max-input-size (100 bytes)" in big.stderr
    endless = run_cli("analyze", "/dev/zero", "--max-input-size", "64K")
    assert endless.exit_code == 2 and "65,536 bytes" in endless.stderr
    assert (
        run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--max-input-size", "1.5M").exit_code
        == 0
    )
    bad = run_cli("analyze", str(WORKLOADS / "ci_build.yaml"), "--max-input-size", "lots")
    assert bad.exit_code == 2 and "--max-input-size expects a size" in bad.stderr


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--jobs", "99999999999"], "--jobs must be between 1 and 1024"),
        (["--jobs", "0"], "--jobs must be between"),
        (["--timeout", "-1"], "--timeout must be a positive"),
        (["--max-ops", "0"], "--max-ops must be a positive"),
        (["--overhead", "inf"], "--overhead must be a finite"),
        (["--scheduler", "not a::address//"], "--scheduler"),
    ],
)
def test_flags_out_of_range_are_usage_errors(flags: list[str], expected: str, run_cli) -> None:
    files = [str(WORKLOADS / "ci_build.yaml"), str(WORKLOADS / "etl_job.yaml")]
    result = run_cli("analyze", *files, *flags)
    assert result.exit_code == 2 and result.stdout == ""
    assert expected in result.stderr and "internal error" not in result.stderr


def test_an_overhead_that_overflows_is_an_error(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "halves.yaml"
    path.write_text("steps:\n  - {id: a, cost: 0.5}\n  - {id: b, cost: 0.5, needs: [a]}\n")
    result = run_cli("analyze", str(path), "--overhead", "1e308", "-f", "json")
    assert result.exit_code == 2 and "largest float" in result.stderr and result.stdout == ""


def test_predict_must_be_finite(run_cli) -> None:
    sweep = str(WORKLOADS / "sweeps" / "tree_reduction.yaml")
    for value in ("inf", "nan", "-1", "0", "x"):
        result = run_cli("scale", sweep, "--sweep", "n=4..64", "--predict", f"n={value}")
        assert result.exit_code == 2 and "--predict expects" in result.stderr


# --- 4. output that must not replace what is not ours ------------------------------------------


def _analyze_to(target: str) -> subprocess.CompletedProcess[str]:
    return _cli("analyze", str(WORKLOADS / "ci_build.yaml"), "-f", "json", "-o", target)


def test_output_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real.name)
    assert _analyze_to(str(link)).returncode == 0
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert json.loads(real.read_text())["workload"] == "monorepo-ci"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # an existing file keeps its mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_new_files_get_the_mode_the_umask_gives(tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    result = subprocess.run(
        ["sh", "-c", f'umask 027 && "{sys.executable}" -m serialscale analyze '
         f'"{WORKLOADS / "ci_build.yaml"}" -f json -o "{target}"'],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_devices_are_written_not_replaced(tmp_path: Path) -> None:
    assert _analyze_to("/dev/null").returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if os.path.exists("/dev/full"):
        full = _analyze_to("/dev/full")
        assert full.returncode == 2 and "No space left on device" in full.stderr
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_output_to_dev_stdout_writes_to_standard_output_as_it_is_open(tmp_path: Path) -> None:
    """``-o /dev/stdout`` (or ``/proc/self/fd/1``) writes to the pipe or the file standard
    output is: a pipe has no path to replace (it was an error), and a file opened to append
    to is appended to (it was replaced)."""
    command = f'"{sys.executable}" -m serialscale analyze "{WORKLOADS / "ci_build.yaml"}" -f json'
    for name in ("/dev/stdout", "/proc/self/fd/1"):
        piped = subprocess.run(["sh", "-c", f"{command} -o {name} | cat"], capture_output=True,
                               text=True, timeout=60)  # fmt: skip
        assert piped.returncode == 0, piped.stderr
        assert json.loads(piped.stdout)["workload"] == "monorepo-ci"
    log = tmp_path / "log.txt"
    log.write_text("first\n")
    appended = subprocess.run(["sh", "-c", f'{command} -o /dev/stdout >> "{log}"'],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert appended.returncode == 0, appended.stderr
    first, rest = log.read_text().split("\n", 1)
    assert first == "first" and json.loads(rest)["workload"] == "monorepo-ci"


def test_the_output_never_replaces_an_input(tmp_path: Path) -> None:
    """``-o`` naming the workload (or a saved report read, or a traced function's file) is
    refused: it would replace what the run read."""
    workload = tmp_path / "w.yaml"
    workload.write_text((WORKLOADS / "ci_build.yaml").read_text())
    before = workload.read_bytes()
    link = tmp_path / "link.yaml"
    link.symlink_to(workload.name)
    for out in (workload, link):
        result = _cli("analyze", str(workload), "-o", str(out))
        assert result.returncode == 2 and "is an input of this run" in result.stderr
        assert workload.read_bytes() == before and link.is_symlink()
    saved = tmp_path / "r.json"
    assert _cli("analyze", str(workload), "-f", "json", "-o", str(saved)).returncode == 0
    report = saved.read_bytes()
    result = _cli("render", str(saved), "-f", "json", "-o", str(saved))
    assert result.returncode == 2 and saved.read_bytes() == report
    function = tmp_path / "f.py"
    function.write_text("import serialscale as ss\n\ndef f():\n    return ss.input(1) + 1\n")
    code = function.read_bytes()
    result = _cli("analyze", f"{function}:f", "-o", str(function))
    assert result.returncode == 2 and "is an input" in result.stderr
    assert function.read_bytes() == code


def test_no_command_replaces_an_input_however_it_came(tmp_path: Path) -> None:
    """A traced function's file through scale, export and diff, a module target's file, a
    workload on standard input: refused (found: each was replaced by the output). A
    --baseline may be updated in place (it is read whole first: the usual CI pattern)."""
    function = tmp_path / "tr.py"
    function.write_text("import serialscale as ss\n\ndef f(n=4):\n    x = ss.input(1)\n"
                        "    for _ in range(n):\n        x = x + 1\n    return x\n")  # fmt: skip
    code = function.read_bytes()
    package = tmp_path / "pk"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_bytes(code)
    runs = [["scale", "tr.py:f", "--sweep", "n=2,4,8", "-o", "tr.py"],
            ["export", "tr.py:f", "--to", "json", "-o", "tr.py"],
            ["diff", "tr.py:f", "tr.py:f", "-o", "tr.py"],
            ["analyze", "pk.mod:f", "-o", "pk/mod.py"]]  # fmt: skip
    for args in runs:
        result = subprocess.run([sys.executable, "-m", "serialscale", *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 2 and "is an input of this run" in result.stderr, args
    assert function.read_bytes() == code and (package / "mod.py").read_bytes() == code
    workload = tmp_path / "w.yaml"
    workload.write_text((WORKLOADS / "ci_build.yaml").read_text())
    before = workload.read_bytes()
    with workload.open("rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "serialscale", "analyze", "-", "-o",
                                 str(workload)], stdin=stdin, capture_output=True, text=True,
                                timeout=120)  # fmt: skip
    assert result.returncode == 2 and workload.read_bytes() == before
    base = tmp_path / "base.json"
    assert _cli("analyze", str(workload), "-f", "json", "-o", str(base)).returncode == 0
    updated = _cli("analyze", str(workload), "-f", "json", "--baseline", str(base),
                   "--max-depth-increase", "10", "-o", str(base))  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert json.loads(base.read_text())["workload"] == "monorepo-ci"


def test_the_plot_and_the_output_cannot_be_one_file(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    same = tmp_path / "r.svg"
    result = _cli("analyze", str(WORKLOADS / "ci_build.yaml"), "-o", str(same), "--plot",
                  str(same))  # fmt: skip
    assert result.returncode == 2 and "name the same file" in result.stderr
    assert not same.exists()


def test_dev_stdout_when_standard_output_is_closed_is_a_failure() -> None:
    command = f'"{sys.executable}" -m serialscale analyze "{WORKLOADS / "ci_build.yaml"}" -f json'
    closed = subprocess.run(["sh", "-c", f"{command} -o /dev/stdout >&-"], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert closed.returncode == 2 and "closed" in closed.stderr, closed.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to "
                    "make files of two users")  # fmt: skip
def test_a_read_only_file_or_another_users_is_not_replaced() -> None:
    """As a user who may write the folder but not the file (its mode), or whose file it is
    not: refused (renaming a new file over it would replace it, and make it theirs)."""
    # (pytest's folders are root's alone: the other user could not reach them)
    folder = Path(tempfile.mkdtemp(prefix="serialscale-shared-", dir="/tmp"))
    folder.chmod(0o777)
    try:
        _not_replaced_as_another_user(folder)
    finally:
        shutil.rmtree(folder)


def _not_replaced_as_another_user(folder: Path) -> None:
    read_only, others = folder / "ro.json", folder / "others.json"
    for path, mode in ((read_only, 0o444), (others, 0o666)):
        path.write_text("old")
        path.chmod(mode)  # both root's
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                 sys.executable, "-m", "serialscale", "analyze", str(WORKLOADS / "ci_build.yaml"),
                 "-f", "json", "-o"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    for path, says in ((read_only, "read-only"), (others, "belongs to another user")):
        result = subprocess.run([*as_nobody, str(path)], capture_output=True, text=True,
                                timeout=60, env=env, cwd=folder)  # fmt: skip
        assert result.returncode == 2 and says in result.stderr, result.stderr
        assert path.read_text() == "old" and path.stat().st_uid == 0
    mine = folder / "mine.json"
    result = subprocess.run([*as_nobody, str(mine)], capture_output=True, text=True, timeout=60,
                            env=env, cwd=folder)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert mine.stat().st_uid == 65534
    # root replacing another user's file gives it back to them
    mine.chmod(0o640)
    assert _analyze_to(str(mine)).returncode == 0
    assert (mine.stat().st_uid, stat.S_IMODE(mine.stat().st_mode)) == (65534, 0o640)


def test_output_dash_is_standard_output() -> None:
    result = _analyze_to("-")
    assert result.returncode == 0 and json.loads(result.stdout)["workload"] == "monorepo-ci"
    assert not Path("-").exists()


def test_a_closed_or_broken_stdout_is_a_failure() -> None:
    command = f'"{sys.executable}" -m serialscale analyze "{WORKLOADS / "mapreduce.yaml"}" -f json'
    closed = subprocess.run(["sh", "-c", f"{command} >&-"], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert closed.returncode == 2
    assert "standard output" in closed.stderr and "Traceback" not in closed.stderr
    # a pipe whose reader is gone before the result is written
    gone = f'( sleep 0.5; {command} --detail; echo "rc=$?" >&2 ) | head -c 0'
    piped = subprocess.run(["bash", "-c", gone], capture_output=True, text=True, timeout=60)
    assert "rc=2" in piped.stderr and "Traceback" not in piped.stderr, piped.stderr
    assert "standard output" in piped.stderr


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    code = f"""
import os, signal, sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / "src")!r})
from serialscale.cli import output
real_fsync = os.fsync
def slow(fd):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(2)
    real_fsync(fd)
os.fsync = slow
output.write_atomically({str(tmp_path / "out.json")!r}, "x" * 1000)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == -15  # ended by the SIGTERM, as it asked
    assert list(tmp_path.iterdir()) == []


# --- 7. batches: nothing skipped silently -------------------------------------------------------


def test_batches_report_what_they_cannot_read(tmp_path: Path, run_cli, monkeypatch) -> None:
    (tmp_path / "good.yaml").write_text("steps: [{id: a}]\n")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inner.yaml").write_text("steps: [{id: b}]\n")
    real_scandir = os.scandir

    def scandir(path):  # root reads any directory: simulate one it cannot
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run_cli("analyze", str(tmp_path), "-f", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [r["source"] for r in data["results"]] == [str(tmp_path / "good.yaml")]
    errors = {Path(e["source"]).name: e["message"] for e in data["errors"]}
    assert errors == {
        "dangling.yaml": "a symlink to a missing file",
        "locked": "cannot read the directory: Permission denied",
    }
    assert "pipe.yaml: skipped: not a regular file" in result.stderr


def test_a_directory_named_like_a_workload_is_a_located_error(tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "x.yaml"
    folder.mkdir()
    (folder / "inner.yaml").write_text("steps: [{id: a}]\n")
    result = run_cli("analyze", str(folder))
    assert result.exit_code == 2 and result.stderr.startswith(f"{folder}: error: is a directory")


def test_a_lone_surrogate_fails_only_its_own_file(tmp_path: Path, run_cli) -> None:
    (tmp_path / "a.json").write_text('{"steps": [{"id": "\\ud800"}]}')
    (tmp_path / "b.json").write_text('{"steps": [{"id": "fine"}]}')
    result = run_cli("analyze", str(tmp_path), "-f", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["summary"]["analyzed"] == 1 and "lone surrogate" in data["errors"][0]["message"]


def test_a_lone_surrogate_in_the_name_description_or_unit_is_located(tmp_path: Path) -> None:
    """At its key's line and column (it was 1:1, whatever the line; hostile review)."""
    from serialscale.sources import load_workload

    for key, line in (("name", 1), ("description", 2), ("unit", 3)):
        doc = {"name": "ok", "description": "fine", "unit": "ops", "steps": [{"id": "a"}]}
        doc[key] = "a\ud800b"
        text = json.dumps(doc, indent=0).replace("{\n", "{", 1)  # a key a line, from line 1
        path = tmp_path / f"{key}.json"
        path.write_text(text)
        with pytest.raises(WorkloadError, match="lone surrogate") as caught:
            load_workload(path)
        assert caught.value.location.line == line, (key, text)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SERIALSCALE_EXPECT_SANITIZED") == "1",
    reason="AddressSanitizer reserves terabytes of shadow memory: no run fits under ulimit -v",
)
def test_a_memory_limit_ends_in_an_error_not_a_crash(tmp_path: Path) -> None:
    """Under ``ulimit -v``, msgspec's decoder crashes (SIGSEGV) when an allocation fails; the
    fast path steps aside when the headroom is short, and what runs out of memory says so."""
    import random
    import resource

    rnd = random.Random(5)
    steps = [
        {"id": f"s{i}", "cost": rnd.randint(1, 9),
         "needs": [f"s{rnd.randrange(i)}" for _ in range(min(i, 3))]}
        for i in range(100_000)
    ]  # fmt: skip
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"steps": steps}))
    outcomes = set()
    # ~7 MB of JSON: the limits run from too small for it (the interpreter alone needs ~25 MB
    # of address space) to enough, in steps finer than the file is big
    for megabytes in range(48, 120, 8):
        limit = megabytes << 20

        def cap(limit: int = limit) -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        result = subprocess.run(
            [sys.executable, "-m", "serialscale", "analyze", str(path), "-f", "json"],
            capture_output=True, text=True, timeout=120, preexec_fn=cap,
        )  # fmt: skip
        assert result.returncode in (0, 2), (megabytes, result.returncode, result.stderr[-300:])
        if result.returncode == 2:  # (the file's path names this test: "memory" is in it)
            said = result.stderr.replace(str(path), "FILE")
            assert "memory" in said and "internal error" not in said, said
        outcomes.add(result.returncode)
    assert 2 in outcomes  # the smallest limits are too small for this file


def test_the_fast_path_steps_aside_when_memory_is_short(monkeypatch) -> None:
    import resource

    from serialscale.sources import json_fast

    assert json_fast._room_to_decode(10)  # no limit in the test process (or plenty)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (64 << 20, 64 << 20))
    assert not json_fast._room_to_decode(10 << 20)


@pytest.mark.parametrize(
    ("encoding", "text"), [("utf-8", "é ok\n"), ("latin-1", "é ok\n"), ("ascii", "é no\n")]
)
def test_text_in_utf8_is_written_as_its_text_would_be(
    encoding: str, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report's JSON text that came in UTF-8 is written as the text itself would be: the
    same bytes in the stream's encoding, or the same error where it cannot hold them."""
    import io

    from serialscale.cli.output import write_stdout

    def written(value: str | bytes) -> bytes | type[Exception]:
        with open(tmp_path / "out", "wb") as raw:
            monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding=encoding))
            try:
                write_stdout(value)
            except ValueError as exc:
                return type(exc)
            finally:
                sys.stdout.flush()
        return (tmp_path / "out").read_bytes()

    as_text = written(text)
    assert written(text.encode("utf-8")) == as_text
    assert as_text == (UnicodeEncodeError if encoding == "ascii" else text.encode(encoding))


@pytest.mark.skipif(sys.platform != "linux", reason="file names of any bytes: Linux")
def test_a_file_name_that_is_not_utf8_gives_utf8_output_read_back(tmp_path: Path) -> None:
    """A name with a byte that is not UTF-8 (\\xfe) decodes to a lone surrogate: -o was an
    internal error, standard output got the raw byte (JSON that is not UTF-8). Now it is
    shown as the text \\udcfe everywhere, and the saved report is read back by gate."""
    folder = os.fsencode(tmp_path)
    name = os.path.join(folder, b"\xfeci.yaml")
    with open(name, "wb") as handle:
        handle.write((WORKLOADS / "ci_build.yaml").read_bytes())
    out = tmp_path / "out.json"
    command = [os.fsencode(sys.executable), b"-m", b"serialscale", b"analyze", name, b"-f",
               b"json"]  # fmt: skip
    written = subprocess.run([*command, b"-o", os.fsencode(out)], capture_output=True,
                             timeout=120)  # fmt: skip
    assert written.returncode == 0, written.stderr
    source = json.loads(out.read_bytes().decode("utf-8"))["source"]
    assert source.endswith("\\udcfeci.yaml")
    printed = subprocess.run(command, capture_output=True, timeout=120)
    assert printed.returncode == 0 and printed.stdout == out.read_bytes()
    gated = _cli("gate", str(out), "--max-depth", "1000")
    assert gated.returncode == 0, gated.stderr
    table = subprocess.run(command[:-2], capture_output=True, timeout=120)
    assert table.returncode == 0 and b"\\udcfe" in table.stdout
    table.stdout.decode("utf-8")  # (raises if not UTF-8)
    lines = tmp_path / "out.jsonl"  # (JSON lines and the trace export: json.dumps's own)
    assert subprocess.run([*command[:-1], b"jsonl", b"-o", os.fsencode(lines)],
                          timeout=120).returncode == 0  # fmt: skip
    assert _cli("render", str(lines), "-f", "json").returncode == 0
    trace = subprocess.run([os.fsencode(sys.executable), b"-m", b"serialscale", b"export", name,
                            b"--to", b"trace"], capture_output=True, timeout=120)  # fmt: skip
    assert trace.returncode == 0 and b"\xed" not in trace.stdout
    trace.stdout.decode("utf-8")
