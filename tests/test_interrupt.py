"""Ctrl-C (issue #28): one stops any command, exit 130, no traceback, nothing left running.

Each test runs the real command in a session of its own and sends SIGINT to its whole process
group, as a terminal's Ctrl-C does (worker processes included), once the traced functions are
known to be running (each writes a file as it starts). What is left afterwards is found by an
environment variable every process of the run inherits (traced functions run in sessions of
their own, so a process group would not find them), scanning ``/proc``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc, sends signals to a group"
)

#: Generous: the command must end within a second; this only keeps a broken run from hanging.
PATIENCE = 30

SLOW = """\
import os, time
import serialscale as ss

def _slow(name, n):
    x = ss.input(1) + n
    open(os.path.join(os.environ["STARTED"], f"{name}-{n}-{os.getpid()}"), "w").close()
    time.sleep(120)
    return x

def f(n=1):
    return _slow("f", n)

def g(n=1):
    return _slow("g", n)

def h(n=1):
    return _slow("h", n)
"""


def _marked(mark: str) -> list[int]:
    """The processes whose environment holds ``mark``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
            with open(f"/proc/{entry}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark.encode() in environ.split(b"\0") and state != "Z":  # a zombie has ended
            found.append(int(entry))
    return found


def _as_from_a_shell() -> None:
    """Ctrl-C as an interactive shell leaves it to a command it runs: the default action
    (a test runner's worker may ignore SIGINT, and ignored signals are inherited: serialscale
    then keeps the ignore, as a background job must)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(tmp_path: Path, args: list[str], started: int, presses: int) -> tuple[int, str]:
    """Run ``serialscale ARGS`` in ``tmp_path``, wait for ``started`` functions to run, press
    Ctrl-C ``presses`` times; the exit code and standard error. Fails if a process of the run
    is left."""
    (tmp_path / "slow.py").write_text(SLOW)
    flags = tmp_path / "started"
    flags.mkdir()
    mark = f"SERIALSCALE_TEST_RUN={uuid.uuid4().hex}"
    env = {**os.environ, "STARTED": str(flags), mark.split("=")[0]: mark.split("=")[1]}
    process = subprocess.Popen(
        [sys.executable, "-m", "serialscale", *args], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_as_from_a_shell,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + PATIENCE
        while len(list(flags.iterdir())) < started:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the functions never started"
            time.sleep(0.05)
        for _ in range(presses):
            os.killpg(process.pid, signal.SIGINT)
            time.sleep(0.1)
        _, stderr = process.communicate(timeout=PATIENCE)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    left = []
    deadline = time.monotonic() + PATIENCE  # killed processes may take a moment to go
    while time.monotonic() < deadline:
        left = _marked(mark)
        if not left:
            break
        time.sleep(0.1)
    for pid in left:  # do not leave them running for the rest of the suite
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running: {left}"
    return process.returncode, stderr


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_a_batch_with_workers(tmp_path: Path, presses: int) -> None:
    code, stderr = _interrupt(tmp_path, ["analyze", "slow.py:f", "slow.py:g", "slow.py:h",
                                         "--jobs", "2"], started=2, presses=presses)  # fmt: skip
    assert code == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr


def test_ctrl_c_stops_a_traced_function(tmp_path: Path) -> None:
    code, stderr = _interrupt(tmp_path, ["analyze", "slow.py:f"], started=1, presses=1)
    assert code == 130 and "Traceback" not in stderr and "interrupted" in stderr


def test_ctrl_c_stops_a_sweep(tmp_path: Path) -> None:
    args = ["scale", "slow.py:f", "--sweep", "n=1,2,3"]
    code, stderr = _interrupt(tmp_path, args, started=1, presses=1)
    assert code == 130 and "Traceback" not in stderr and "interrupted" in stderr
