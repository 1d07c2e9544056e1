"""Configuration trust (issue #30): which file is read, what it may set, and what it says.

Each test builds a folder tree (a ``.git`` marking the repository root, a ``pyproject.toml``
above or inside it) and runs the command from a folder of that tree, with ``HOME`` pointing
where the test decides: in this process (fast), or in a subprocess where the process itself
matters (Dask, a removed working directory).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from serialscale.cli import config

WORKLOAD = "steps:\n  - {id: a, cost: 2}\n  - {id: b, cost: 3, needs: [a]}\n"
#: Not an address at all: Dask refuses it at once, without any connection attempt.
BOGUS_SCHEDULER = "nonsense:::"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _run(folder: Path, *args: str, home: Path | None = None) -> Ran:
    """The command run in this process from ``folder``, with ``HOME`` set (``/`` unless
    given: no home to stop at)."""
    from typer.testing import CliRunner

    from serialscale.cli.app import app

    saved = os.getcwd(), dict(os.environ)
    os.chdir(folder)
    os.environ["HOME"] = str(home or folder.anchor)
    os.environ.pop("DASK_SCHEDULER_ADDRESS", None)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(saved[0])
        os.environ.clear()
        os.environ.update(saved[1])
    return Ran(result.exit_code, result.stdout, result.stderr)


def _subprocess(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": folder.anchor}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          text=True, timeout=60, cwd=folder, env=env)  # fmt: skip


def _tree(tmp_path: Path, parent_settings: str = "", repo_settings: str = "") -> Path:
    """``tmp/pyproject.toml`` (outside the repository), ``tmp/repo/.git``,
    ``tmp/repo/pyproject.toml`` and ``tmp/repo/sub/w.yaml``; returns ``tmp/repo/sub``."""
    if parent_settings:
        (tmp_path / "pyproject.toml").write_text("[tool.serialscale]\n" + parent_settings)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    if repo_settings:
        (repo / "pyproject.toml").write_text("[tool.serialscale]\n" + repo_settings)
    (repo / "sub").mkdir()
    (repo / "sub" / "w.yaml").write_text(WORKLOAD)
    return repo / "sub"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_a_file_above_the_repository_root_is_not_read(tmp_path: Path) -> None:
    sub = _tree(tmp_path, 'output = "stolen.json"\nprocessors = 3\nfail-on = "serial"\n')
    before = _files(tmp_path)
    result = _run(sub, "analyze", "w.yaml", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["processors"] == 8  # the default, not the parent's 3
    assert _files(tmp_path) == before  # nothing written anywhere
    assert result.stderr == ""


def test_the_search_stops_at_a_git_file_too(tmp_path: Path) -> None:
    """A git worktree's root holds a ``.git`` file, not a folder."""
    sub = _tree(tmp_path, "processors = 3\n")
    (sub.parent / ".git").rmdir()
    (sub.parent / ".git").write_text("gitdir: /elsewhere/.git/worktrees/x\n")
    result = _run(sub, "analyze", "w.yaml", "-f", "json")
    assert json.loads(result.stdout)["processors"] == 8


def test_the_repository_root_itself_is_read(tmp_path: Path) -> None:
    sub = _tree(tmp_path, "processors = 3\n", "processors = 5\n")
    result = _run(sub, "analyze", "w.yaml", "-f", "json")
    assert json.loads(result.stdout)["processors"] == 5


def test_outside_a_repository_the_search_stops_at_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    deep = home / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "w.yaml").write_text(WORKLOAD)
    (tmp_path / "serialscale.toml").write_text("processors = 3\n")  # above home: never
    below = _run(deep, "analyze", "w.yaml", "-f", "json", home=home)
    assert json.loads(below.stdout)["processors"] == 8
    (home / "serialscale.toml").write_text("processors = 4\n")  # home itself: read
    at_home = _run(deep, "analyze", "w.yaml", "-f", "json", home=home)
    assert json.loads(at_home.stdout)["processors"] == 4
    # started outside home and outside any repository: only the starting folder
    elsewhere = _run(deep, "analyze", "w.yaml", "-f", "json", home=tmp_path / "other")
    assert json.loads(elsewhere.stdout)["processors"] == 8
    (deep / "serialscale.toml").write_text("processors = 6\n")
    here = _run(deep, "analyze", "w.yaml", "-f", "json", home=tmp_path / "other")
    assert json.loads(here.stdout)["processors"] == 6


def test_search_folders_follow_the_documented_rule(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "r"
    (repo / "x" / "y").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "nowhere"))
    assert config.search_folders(repo / "x" / "y") == [repo / "x" / "y"]
    (repo / ".git").mkdir()
    assert config.search_folders(repo / "x" / "y") == [repo / "x" / "y", repo / "x", repo]
    monkeypatch.setenv("HOME", str(repo / "x"))  # a repository marker wins over home
    assert config.search_folders(repo / "x" / "y")[-1] == repo


def test_a_found_file_cannot_send_workloads_to_a_scheduler(tmp_path: Path) -> None:
    sub = _tree(tmp_path, repo_settings=f'scheduler = "{BOGUS_SCHEDULER}"\nprocessors = 5\n')
    result = _run(sub, "analyze", ".", "-f", "json")
    assert result.returncode == 0, result.stderr  # analyzed here, not sent anywhere
    assert json.loads(result.stdout)["summary"]["analyzed"] == 1
    assert json.loads(result.stdout)["results"][0]["processors"] == 5  # the rest is taken
    pyproject = sub.parent / "pyproject.toml"
    assert result.stderr.startswith(f"{pyproject}:2: note: 'scheduler' is ignored")
    assert "--config FILE" in result.stderr


def test_a_named_file_may_set_the_scheduler(tmp_path: Path) -> None:
    sub = _tree(tmp_path)
    named = tmp_path / "cluster.toml"
    named.write_text(f'scheduler = "{BOGUS_SCHEDULER}"\n')
    result = _subprocess(sub, "analyze", ".", "--config", str(named))
    assert result.returncode == 2
    assert "--scheduler" in result.stderr and BOGUS_SCHEDULER in result.stderr  # it was taken


def test_file_names_are_relative_to_the_configuration_file(tmp_path: Path) -> None:
    sub = _tree(tmp_path, repo_settings='output = "report.json"\nformat = "json"\n')
    result = _run(sub, "analyze", "w.yaml")
    assert result.returncode == 0, result.stderr
    written = sub.parent / "report.json"
    assert json.loads(written.read_text())["depth"] == 5  # 2 + 3, the chain a -> b
    assert not (sub / "report.json").exists()
    # the file that sets an output is named on standard error, with what it writes
    assert result.stderr == (
        f"{sub.parent / 'pyproject.toml'}: note: settings from this file: output = {written}\n"
    )
    # a flag wins, and then the file writes nothing and is not named
    flagged = _run(sub, "analyze", "w.yaml", "-o", "mine.json")
    assert flagged.returncode == 0 and flagged.stderr == "" and (sub / "mine.json").is_file()


def test_a_baseline_is_relative_to_the_configuration_file(tmp_path: Path) -> None:
    sub = _tree(tmp_path, repo_settings='baseline = "base.json"\nmax-depth-increase = 10\n')
    saved = _run(sub, "analyze", "w.yaml", "-f", "json", "--isolated")
    (sub.parent / "base.json").write_text(saved.stdout)
    result = _run(sub, "analyze", "w.yaml", "-f", "json")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["5", '""', "true", "[]", '"x.txt"', '"a\\u0000b"', "{}"])
def test_any_plot_setting_is_a_located_error_or_works(tmp_path: Path, value: str) -> None:
    sub = _tree(tmp_path, repo_settings=f"plot = {value}\n")
    result = _run(sub, "analyze", "w.yaml")
    assert result.returncode == 2
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert str(sub.parent / "pyproject.toml") in result.stderr


def test_isolated_reads_no_file_and_config_names_one(tmp_path: Path) -> None:
    sub = _tree(tmp_path, repo_settings="processors = 5\n")
    isolated = _run(sub, "analyze", "w.yaml", "-f", "json", "--isolated")
    assert json.loads(isolated.stdout)["processors"] == 8
    elsewhere = tmp_path / "settings"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text(
        '[tool.serialscale]\nprocessors = 7\noutput = "out.json"\n'
    )
    relative = "../../settings/pyproject.toml"  # from the working directory, as given
    named = _run(sub, "analyze", "w.yaml", "-f", "json", "--config", relative)
    assert named.returncode == 0, named.stderr
    assert json.loads((elsewhere / "out.json").read_text())["processors"] == 7
    both = _run(sub, "analyze", "w.yaml", "--isolated", "--config", "x.toml")
    assert both.returncode == 2 and "--isolated" in both.stderr
    for command in (["gate", "report.json"], ["scale", "w.yaml", "--sweep", "n=1,2"]):
        assert "--config" in _run(sub, *command, "-h").stdout


@pytest.mark.parametrize("key", ["config", "isolated"])
def test_a_file_cannot_choose_the_configuration(tmp_path: Path, key: str) -> None:
    sub = _tree(tmp_path, repo_settings=f"{key} = true\n")
    result = _run(sub, "analyze", "w.yaml")
    assert result.returncode == 2
    assert f"pyproject.toml:2: error: '{key}' is a command-line option only" in result.stderr


def test_a_named_file_that_is_not_a_regular_file_is_an_error(tmp_path: Path) -> None:
    sub = _tree(tmp_path)
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # nobody writes to it: reading it would wait forever
    result = _run(sub, "analyze", "w.yaml", "--config", str(fifo))
    assert result.returncode == 2 and "must be a regular file" in result.stderr
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * config.MAX_CONFIG_BYTES + "\n")
    too_big = _run(sub, "analyze", "w.yaml", "--config", str(huge))
    assert too_big.returncode == 2 and "larger than" in too_big.stderr
    missing = _run(sub, "analyze", "w.yaml", "--config", str(tmp_path / "missing.toml"))
    assert missing.returncode == 2 and "cannot read the configuration" in missing.stderr


def test_a_folder_name_cannot_forge_a_runner_command(tmp_path: Path) -> None:
    """The note naming the file escapes control characters: no line of it starts with ``::``."""
    repo = tmp_path / "x\n::error::forged"
    (repo / ".git").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.serialscale]\noutput = "r.json"\n')
    (repo / "w.yaml").write_text(WORKLOAD)
    result = _run(repo, "analyze", "w.yaml")
    assert result.returncode == 0, result.stderr
    assert "\\n::error::forged" in result.stderr
    assert not any(line.startswith("::") for line in result.stderr.splitlines())


def test_a_scale_table_that_is_not_a_table_is_an_error(tmp_path: Path) -> None:
    sub = _tree(tmp_path, repo_settings="scale = 5\n")
    result = _run(sub, "analyze", "w.yaml")
    assert result.returncode == 2 and "pyproject.toml:2: error: 'scale' must be a table" in (
        result.stderr
    )


def test_a_broken_pyproject_of_another_tool_is_skipped(tmp_path: Path) -> None:
    """Only a ``[tool.serialscale]`` table makes a pyproject.toml ours; a comment naming it
    does not, and the search goes on to the repository root."""
    sub = _tree(tmp_path, repo_settings="processors = 5\n")
    for text in ("# serialscale settings: in the root\n[project\n",
                 '# see [tool.serialscale] in the root\n[project]\nname = "x"\n'):  # fmt: skip
        (sub / "pyproject.toml").write_text(text)
        result = _run(sub, "analyze", "w.yaml", "-f", "json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["processors"] == 5


@pytest.mark.parametrize("where", ["../outside.json", "ABS", "link.json", "folder/r.json"])
def test_a_found_file_writes_only_below_its_folder(tmp_path: Path, where: str) -> None:
    """``../x``, an absolute path elsewhere, a symlink committed in the repository that leads
    out of it (writing replaces the link's target), a symlinked folder: located errors."""
    victim = tmp_path / "victim"
    victim.mkdir()
    target = str(victim / "x.json") if where == "ABS" else where
    sub = _tree(tmp_path, repo_settings=f'output = "{target}"\n')
    (sub.parent / "link.json").symlink_to(victim / "bashrc")
    (sub.parent / "folder").symlink_to(victim)
    result = _run(sub, "analyze", "w.yaml")
    assert result.returncode == 2
    assert "pyproject.toml:2: error: setting 'output' writes outside" in result.stderr
    assert list(victim.iterdir()) == [] and not (tmp_path / "outside.json").exists()
    # named with --config, the same file may write there: the user chose it
    named = _run(sub, "analyze", "w.yaml", "--config", str(sub.parent / "pyproject.toml"))
    assert named.returncode == 0, named.stderr


def test_a_removed_working_directory_reads_no_configuration(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    (tmp_path / "w.yaml").write_text(WORKLOAD)
    code = (f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
            f"sys.argv = ['serialscale', 'analyze', {str(tmp_path / 'w.yaml')!r}, '-f', 'json']; "
            "from serialscale.cli.app import main; main()")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["depth"] == 5
