"""A traced function that raises: one located line, then the traceback of the user's own
code on lines of its own (each made safe to print), and a hint where the error looks like
library code refusing a traced value."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

from serialscale.base.errors import Location, WorkloadError, error_lines

BOOM = """\
import serialscale as ss

def run(n: int = 3):
    xs = ss.inputs(range(n))
    raise ValueError("boom \\x1b[31m")
"""

TO_JSON = """\
import json
import serialscale as ss

def run(n: int = 3):
    xs = ss.inputs(range(n))
    return json.dumps({"total": sum(xs)})
"""


def test_the_traceback_of_the_users_code_is_on_lines_of_its_own(run_cli, tmp_path: Path):
    path = tmp_path / "boom.py"
    path.write_text(BOOM)
    result = run_cli("analyze", f"{path}:run")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:5: error: ") and "ValueError: boom \\x1b[31m" in lines[0]
    assert lines[1] == "Traceback of your code (most recent call last):"
    assert lines[2].strip().startswith(f'File "{path}", line 5, in run')
    assert "\\n" not in result.stderr and "\x1b" not in result.stderr  # shown, not obeyed


def test_library_code_refusing_a_traced_value_gets_a_hint(run_cli, tmp_path: Path):
    path = tmp_path / "to_json.py"
    path.write_text(TO_JSON)
    result = run_cli("analyze", f"{path}:run")
    assert result.exit_code == 2
    assert "not JSON serializable" in result.stderr.splitlines()[0]
    assert result.stderr.splitlines()[-1].startswith("hint: a traced value may have reached")
    assert "serialscale.op(fn, ...)" in result.stderr


def test_the_detail_travels_with_the_error_across_processes() -> None:
    error = WorkloadError("f raised an exception: ValueError: x", Location("f.py", 3))
    error.detail = "Traceback of your code (most recent call last):\n  File ..."
    again = pickle.loads(pickle.dumps(error))
    assert again.detail == error.detail and str(again) == str(error)
    assert error_lines(again) == [
        "f.py:3: error: f raised an exception: ValueError: x",
        "Traceback of your code (most recent call last):",
        "  File ...",
    ]
    assert textwrap.dedent(str(WorkloadError("plain"))).count("\n") == 0
