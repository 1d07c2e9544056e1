"""Output and report surfaces under hostile surroundings (issue 30): a reader of standard
output that goes away, third-party parsers with the collector off, saved reports that nest
deep or never end, configuration keys of the wrong kind, memory that runs out."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT, WORKLOADS

CI = str(WORKLOADS / "ci_build.yaml")


def cli(*args: str, cwd: Path | None = None,
        stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          cwd=cwd, input=stdin, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip


def assert_located_error(out: subprocess.CompletedProcess, where: str, words: str) -> None:
    err = out.stderr.decode() if isinstance(out.stderr, bytes) else out.stderr
    assert out.returncode == 2, err
    assert "internal error" not in err and "Traceback" not in err, err
    assert err.startswith(f"{where}:") and words in err, err
    assert len(err.splitlines()) == 1, err


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-step chain: its ``--detail`` outputs are hundreds of kilobytes, far more than
    a pipe of one page holds."""
    folder = tmp_path_factory.mktemp("big")
    steps = [{"id": f"s{i}", "cost": 1, **({"needs": [f"s{i - 1}"]} if i else {})}
             for i in range(2_000)]  # fmt: skip
    path = folder / "big.json"
    path.write_text(json.dumps({"steps": steps}))
    return path


# --- B. a reader of standard output that goes away -----------------------------------------


def _read_ten_then_close(args: list[str]) -> tuple[int, bytes, str]:
    """Run the command with standard output a pipe of one page; read 10 bytes, close the
    pipe (as ``| head -c 10`` does) and wait. The output is far larger than the pipe holds,
    so the command is still writing when its reader goes away, whatever the timing."""
    import fcntl

    read, write = os.pipe()
    fcntl.fcntl(write, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "serialscale", *args], stdout=write,
                            stderr=subprocess.PIPE, env=env)  # fmt: skip
    os.close(write)
    assert proc.stderr is not None
    with os.fdopen(read, "rb") as reader:
        first = reader.read(10)
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), first, err


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{big}", "--format", "json", "--detail"],
        ["analyze", "{big}", "--format", "table", "--detail"],
        ["analyze", "{big}", "--batch", "--format", "jsonl", "--detail"],
        ["export", "{big}", "--to", "dot"],
        ["render", "{saved}", "--format", "json"],
    ],
)
def test_a_reader_that_goes_away_is_an_error(big: Path, tmp_path: Path, args: list[str]) -> None:
    saved = tmp_path / "saved.json"
    if "{saved}" in args:
        done = cli("analyze", str(big), "--format", "json", "--detail", "-o", str(saved))
        assert done.returncode == 0
    args = [a.format(big=big, saved=saved) for a in args]
    code, first, err = _read_ten_then_close(args)
    assert len(first) == 10
    assert code == 2, err
    assert "cannot write the result to standard output" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["schema", "report"], ["formats"], ["analyze", CI]])
def test_a_pipe_closed_before_the_start_is_an_error(args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        out = subprocess.run([sys.executable, "-m", "serialscale", *args], stdout=write,
                             stderr=subprocess.PIPE, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip
    finally:
        os.close(write)
    assert out.returncode == 2 and b"Traceback" not in out.stderr, out.stderr


def test_a_test_capture_still_gets_the_output(run_cli) -> None:
    result = run_cli("analyze", CI, "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["workload"] == "monorepo-ci"


# --- C. third-party parsers run with the collector on --------------------------------------


def test_the_dot_reader_leaves_no_reference_cycles(tmp_path: Path) -> None:
    """serialscale's own DOT parser: nothing for the collector to find after a 2,000-edge
    chain with groups, attributes and subgraphs (pydot left a cycle per token)."""
    from serialscale.sources import registry as readers

    text = (
        "digraph g {\n node [cost=2];\n"
        + "".join(
            f' n{i} -> {{n{i + 1} "m{i}":p}} [label="x"];\n subgraph s{i} {{ m{i} }}\n'
            for i in range(2000)
        )
        + "}\n"
    )
    path = tmp_path / "chain.dot"
    path.write_text(text)
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        workload = readers.read_path(path, path.read_bytes())
        assert workload.graph.n == 4001
        del workload
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize("kind", ["gitlab-ci", "github-actions"])
def test_third_party_parsers_run_with_the_collector_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from serialscale.sources import registry as readers

    seen: list[bool] = []
    real = readers.READERS[kind]

    def watched(*args: object) -> object:
        seen.append(gc.isenabled())
        return real.read(*args)  # type: ignore[arg-type]

    spy = readers.Reader(real.name, real.description, real.recognised, watched)
    monkeypatch.setitem(readers.READERS, kind, spy)
    files = {
        "gitlab-ci": (".gitlab-ci.yml", "stages: [b]\nj:\n  stage: b\n  script: [make]\n"),
        "github-actions": ("w.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: []\n"),
    }
    name, text = files[kind]
    path = tmp_path / name
    path.write_text(text)
    was = gc.isenabled()
    gc.disable()  # as the command runs
    try:
        workload = readers.read_path(path, path.read_bytes())
        assert not gc.isenabled()  # off again after the parser
    finally:
        if was:
            gc.enable()
    assert seen == [True] and workload.graph.n >= 1


def test_serialscale_own_reader_keeps_the_collector_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serialscale.sources import registry as readers

    path = tmp_path / "w.json"
    path.write_text('{"steps": [{"id": "a"}]}')
    seen: list[bool] = []
    real = readers.READERS["serialscale"]

    def watched(*args: object) -> object:
        seen.append(gc.isenabled())
        return real.read(*args)  # type: ignore[arg-type]

    spy = readers.Reader(real.name, real.description, real.recognised, watched)
    monkeypatch.setitem(readers.READERS, "serialscale", spy)
    was = gc.isenabled()
    gc.disable()
    try:
        readers.read_path(path, path.read_bytes())
    finally:
        if was:
            gc.enable()
    assert seen == [False]


def test_gc_collecting_restores_the_state() -> None:
    from serialscale.base.gcpause import gc_collecting, gc_paused

    was = gc.isenabled()
    try:
        with gc_paused():
            with gc_collecting():
                assert gc.isenabled()
            assert not gc.isenabled()
        gc.enable()
        with gc_collecting():
            assert gc.isenabled()
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


# --- D. saved reports: deep nesting, endless files -----------------------------------------

DEEP = b'{"results": ' + b"[" * 5000 + b"]" * 5000 + b"}"


@pytest.mark.parametrize("kind", ["gate", "render", "baseline", "gate-stdin", "jsonl"])
def test_deeply_nested_reports_are_located_errors(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "deep.json"
    data = DEEP
    if kind == "jsonl":
        saved = cli("analyze", CI, "--format", "jsonl")
        data = saved.stdout + b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    path.write_bytes(data)
    args = {
        "gate": ["gate", str(path)],
        "render": ["render", str(path)],
        "baseline": ["analyze", CI, "--baseline", str(path), "--max-depth-increase", "1"],
        "gate-stdin": ["gate", "-"],
        "jsonl": ["gate", str(path)],
    }[kind]
    out = cli(*args, stdin=data if kind == "gate-stdin" else None)
    where = "<stdin>:1" if kind == "gate-stdin" else f"{path}:{2 if kind == 'jsonl' else 1}"
    assert_located_error(out, where, "nested more than 200 levels deep")


def test_nesting_inside_strings_is_not_nesting(tmp_path: Path) -> None:
    saved = json.loads(cli("analyze", CI, "--format", "json").stdout)
    saved["workload"] = "[" * 5000 + '\\"{' * 300
    path = tmp_path / "r.json"
    path.write_text(json.dumps(saved))
    out = cli("gate", str(path), "--fail-on", "serial")
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("kind", ["gate", "render", "baseline"])
def test_endless_reports_stop_at_the_input_limit(kind: str) -> None:
    args = {
        "gate": ["gate", "/dev/zero"],
        "render": ["render", "/dev/zero"],
        "baseline": ["analyze", CI, "--baseline", "/dev/zero", "--max-depth-increase", "1"],
    }[kind]
    out = cli(*args, "--max-input-size", "1M")
    assert_located_error(out, "/dev/zero", "larger than --max-input-size (1,048,576 bytes)")


def test_a_large_report_file_is_refused_by_size(tmp_path: Path) -> None:
    path = tmp_path / "large.json"
    path.write_bytes(b" " * 3000)
    out = cli("render", str(path), "--max-input-size", "2K")
    assert_located_error(out, str(path), "--max-input-size")
    out = cli("gate", "-", "--max-input-size", "2K", stdin=b" " * 3000)
    assert_located_error(out, "<stdin>", "--max-input-size")


# --- D. the configuration's plot key --------------------------------------------------------


@pytest.mark.parametrize("value", ['"out.svg"', "5", "true", '"x.txt"', '""', "[1]"])
def test_any_plot_setting_is_never_an_internal_error(tmp_path: Path, value: str) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "serialscale.toml").write_text(f"plot = {value}\n")
    (tmp_path / "w.json").write_text('{"steps": [{"id": "a"}]}')
    out = cli("analyze", "w.json", "--format", "json", cwd=tmp_path)
    err = out.stderr.decode()
    assert "internal error" not in err and "Traceback" not in err, err
    if value == '"out.svg"':
        assert out.returncode == 0 and (tmp_path / "out.svg").read_bytes().startswith(b"<?xml")
    else:
        # one error line (and the note naming the configuration file that sets an output)
        errors = [
            line for line in err.splitlines() if ": note: settings from this file" not in line
        ]
        assert out.returncode == 2 and len(errors) == 1, err


# --- D. memory that runs out ----------------------------------------------------------------

OUT_OF_MEMORY = """
import resource, sys
from serialscale.cli import commands, entry

def hog(values):
    keep = []
    try:
        while True:
            keep.append(bytearray(1 << 20))
    except MemoryError:
        pass
    chain = None
    for size in (4096, 512, 64, 8):  # then smaller and smaller blocks, until none is left
        try:
            while True:
                chain = (chain, bytes(size))
        except MemoryError:
            pass
    raise MemoryError

commands.run_gate = hog
vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vm + (64 << 20), vm + (64 << 20)))
sys.argv = ["serialscale", "gate", "x.json"]
entry.run()
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
@pytest.mark.skipif(
    os.environ.get("SERIALSCALE_EXPECT_SANITIZED") == "1",
    reason="AddressSanitizer reserves terabytes of shadow memory: no run fits under a limit",
)
def test_memory_that_runs_out_is_one_line_and_exit_2() -> None:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(OUT_OF_MEMORY)],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert out.stderr == "serialscale: error: ran out of memory\n"


def test_the_handler_lets_go_of_what_was_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work's frames (and what they hold) are gone when the message is written."""
    import weakref

    from serialscale.cli import app as cli_module

    class Built:
        pass

    refs: list[weakref.ref[Built]] = []

    def work(*args: object, **kwargs: object) -> None:
        built = Built()
        built.me = built  # type: ignore[attr-defined]  # a cycle, as parsers leave
        refs.append(weakref.ref(built))
        raise MemoryError

    alive: list[bool] = []
    monkeypatch.setattr(cli_module, "app", work)
    monkeypatch.setattr(os, "write", lambda fd, data: alive.append(refs[0]() is not None) or 1)
    was = gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli_module.main()
    finally:
        if was:
            gc.enable()
    assert exit_info.value.code == 2 and alive == [False]
