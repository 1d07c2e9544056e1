"""Directory scans under hostile trees (issue #30): symlink loops, a file reached through
several symlinks, symlinks out of the scanned folder, FIFOs, and ``.gitignore`` files that are
FIFOs, huge, or made to backtrack. What a scan takes is checked against ``git`` itself where
git has an opinion (which files ``.gitignore`` leaves out)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serialscale.run import ignore
from serialscale.run.batch import collect_targets

WORKLOAD = "steps: [{id: a, cost: 2}]\n"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command in a subprocess: a scan that hangs fails the test (TimeoutExpired) instead
    of hanging the suite."""
    return subprocess.run([sys.executable, "-m", "serialscale", *args], capture_output=True,
                          text=True, timeout=30, cwd=cwd)  # fmt: skip


def _names(root: Path, **kwargs) -> list[str]:
    found = collect_targets([str(root)], **kwargs)
    return [Path(t).relative_to(root).as_posix() for t in found.targets]


def test_one_symlink_loop_analyzes_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "w.yaml").write_text(WORKLOAD)
    (tmp_path / "a" / "up").symlink_to("..")
    result = _cli("analyze", ".", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["source"] for r in data["results"]] == ["a/w.yaml"]
    assert "note: a/up: skipped: a symlink loop back to ." in result.stderr


def test_two_symlink_loops_end(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "w.yaml").write_text(WORKLOAD)
    (tmp_path / "a" / "to_b").symlink_to("../b")
    (tmp_path / "b" / "to_a").symlink_to("../a")
    (tmp_path / "a" / "up").symlink_to("..")
    result = _cli("analyze", ".", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["source"] for r in json.loads(result.stdout)["results"]] == ["a/w.yaml", "b/w.yaml"]


def test_a_self_loop_and_a_loop_through_the_root(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(WORKLOAD)
    (tmp_path / "me").symlink_to("me")  # ELOOP on every stat
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "root").symlink_to("../..")
    found = collect_targets([str(tmp_path)])
    assert [Path(t).name for t in found.targets] == ["w.yaml"]


def test_a_folder_reached_through_a_symlink_keeps_its_real_path(tmp_path: Path) -> None:
    """The alias sorts first, yet the real folder names the files (and once)."""
    (tmp_path / "z_real").mkdir()
    (tmp_path / "z_real" / "w.yaml").write_text(WORKLOAD)
    (tmp_path / "a_alias").symlink_to("z_real")
    found = collect_targets([str(tmp_path)])
    assert [Path(t).relative_to(tmp_path).as_posix() for t in found.targets] == ["z_real/w.yaml"]
    assert found.notes == [f"{tmp_path / 'a_alias'}: skipped: the same folder as "
                           f"{tmp_path / 'z_real'}"]  # fmt: skip


def test_a_file_reached_through_symlinks_is_analyzed_once(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text(WORKLOAD)
    (tmp_path / "a_link.yaml").symlink_to("real.yaml")
    (tmp_path / "b_link.json").symlink_to("real.yaml")
    assert _names(tmp_path) == ["real.yaml"]
    # reached only through symlinks (the real file is hidden): the first link in sorted order
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "real.yaml").rename(tmp_path / ".hidden" / "real.yaml")
    for link in ("a_link.yaml", "b_link.json"):
        (tmp_path / link).unlink()
        (tmp_path / link).symlink_to(".hidden/real.yaml")
    assert _names(tmp_path) == ["a_link.yaml"]


def test_hard_links_are_files_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(WORKLOAD)
    os.link(tmp_path / "one.yaml", tmp_path / "two.yaml")
    assert _names(tmp_path) == ["one.yaml", "two.yaml"]


def test_the_result_does_not_depend_on_the_listing_order(tmp_path: Path, monkeypatch) -> None:
    """Folders and files reached twice: the same paths win whatever order the system lists
    entries in (here: as listed, then reversed)."""
    for name in ("b", "d", "f"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.yaml").write_text(WORKLOAD)
    (tmp_path / "a").symlink_to("d")
    (tmp_path / "c").symlink_to("f")
    (tmp_path / "e").symlink_to("b")
    (tmp_path / "d" / "loop").symlink_to("../b")
    (tmp_path / "f" / "x.yaml").symlink_to("../b/b.yaml")
    first = collect_targets([str(tmp_path)])
    real_scandir = os.scandir

    class Reversed:
        def __init__(self, path):
            self.inner = real_scandir(path)

        def __enter__(self):
            return reversed(list(self.inner.__enter__()))

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

    monkeypatch.setattr(os, "scandir", Reversed)
    second = collect_targets([str(tmp_path)])
    assert first.targets == second.targets and first.notes == second.notes
    assert [Path(t).relative_to(tmp_path).as_posix() for t in first.targets] == [
        "b/b.yaml", "d/d.yaml", "f/f.yaml"
    ]  # fmt: skip


def test_symlinks_out_of_the_scanned_folder_are_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(WORKLOAD)
    scanned = tmp_path / "scanned"
    scanned.mkdir()
    (scanned / "own.yaml").write_text(WORKLOAD)
    (scanned / "folder").symlink_to(outside)
    (scanned / "file.yaml").symlink_to(outside / "secret.yaml")
    found = collect_targets([str(scanned)])
    assert [Path(t).name for t in found.targets] == ["own.yaml"]
    assert sorted(n.split(": ")[0] for n in found.notes) == [
        str(scanned / "file.yaml"), str(scanned / "folder")
    ]  # fmt: skip
    assert all("a symlink out of the scanned folder" in n for n in found.notes)
    # named explicitly, the target is analyzed
    assert collect_targets([str(scanned / "file.yaml")]).targets == [str(scanned / "file.yaml")]


def test_fifos_in_a_scan_never_block(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(WORKLOAD)
    os.mkfifo(tmp_path / "pipe.yaml")
    os.mkfifo(tmp_path / "pipe")  # any file is a candidate with --include
    os.mkfifo(tmp_path / ".gitignore")  # read for the rules: a FIFO would wait for a writer
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / ".gitignore")
    result = _cli("analyze", ".", "--include", "*", "-f", "json", cwd=tmp_path)
    assert [r["source"] for r in json.loads(result.stdout)["results"]] == ["w.yaml"]
    for name in ("pipe.yaml", "pipe", ".gitignore", "sub/.gitignore"):
        assert f"note: {name}: skipped: not a regular file" in result.stderr


def test_a_gitignore_made_to_backtrack_is_matched_in_linear_time(tmp_path: Path) -> None:
    """``*a*a*a...*b`` against a long name of ``a``: a regular expression backtracks for ever
    (the scan hung); the matcher goes back only to the last ``*``."""
    (tmp_path / ".gitignore").write_text("*a" * 30 + "*b\n" + "**/" * 30 + "*a" * 10 + "*b\n")
    (tmp_path / ("a" * 200 + ".yaml")).write_text(WORKLOAD)
    deep = tmp_path.joinpath(*["a" * 20] * 10)
    deep.mkdir(parents=True)
    (deep / "w.yaml").write_text(WORKLOAD)
    result = _cli("analyze", ".", "-f", "json", cwd=tmp_path)
    assert json.loads(result.stdout)["summary"]["analyzed"] == 2


def test_a_huge_gitignore_is_read_up_to_its_cap(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("x.yaml\n" + "#\n" * ignore.MAX_IGNORE_BYTES + "y.yaml\n")
    (tmp_path / "x.yaml").write_text(WORKLOAD)
    (tmp_path / "y.yaml").write_text(WORKLOAD)
    found = collect_targets([str(tmp_path)])
    assert [Path(t).name for t in found.targets] == ["y.yaml"]  # the rule past the cap is out
    assert any("only its first 1 MiB of rules apply" in n for n in found.notes)


# --- .gitignore semantics, with git as the oracle --------------------------------------------

TREE = ["a.yaml", "b.yml", "abc.yaml", "aXc.yaml", "x/a.yaml", "x/y/a.yaml", "x/y/z.json",
        "build/out.yaml", "build/sub/deep.yaml", "docs/build/k.yaml", "docs/a/b/c/k.yaml",
        "c/x.yaml"]  # fmt: skip
PATTERNS = [
    "a.yaml", "/a.yaml", "x/", "x/y", "*.yml", "x/*.yaml", "**/y", "x/**", "x/**/a.yaml",
    "build/", "/build", "a?c.yaml", "a[XY]c.yaml", "a[!X]c.yaml", "a[^X]c.yaml", "*", "x/*",
    "**/a.yaml", "docs/**/k.yaml", "**", "*.yaml\n!x/a.yaml", "x\n!x/y", "a*c.yaml",
    "**/build/**", "docs/**", "*/a.yaml", "b*", "[a-b]*.y*ml", "\\a.yaml", "x/**/", "*.json",
    "build/*\n!build/sub", "**/**/k.yaml", "c/", "a[]c.yaml", "a[]X]c.yaml",
]  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the oracle")
def test_gitignore_rules_match_what_git_ignores(tmp_path: Path) -> None:
    for name in TREE:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(WORKLOAD)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=30)
    mismatches = []
    for pattern in PATTERNS:
        (tmp_path / ".gitignore").write_text(pattern + "\n")
        listed = subprocess.run(
            ["git", "-C", str(tmp_path), "ls-files", "--others", "--exclude-standard"],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        kept_by_git = sorted(n for n in listed.stdout.splitlines() if n != ".gitignore")
        ours = _names(tmp_path)
        if ours != kept_by_git:
            mismatches.append((pattern, ours, kept_by_git))
    assert mismatches == []


def test_segment_match_is_fnmatch_for_plain_globs() -> None:
    """Within one name, ``*``, ``?`` and classes mean what fnmatch says they mean."""
    import fnmatch

    names = ["", "a", "ab", "abc", "aXc", "a.yaml", "aaaa", "b", "[x]", "a-b"]
    globs = ["*", "a*", "*c", "a?c", "a*a", "*a*a*", "?", "[ab]*", "[!a]*", "a[a-z]c", "a*b*c"]
    for glob in globs:
        tokens = ignore._tokens(glob)
        for name in names:
            assert ignore.segment_match(tokens, name) == fnmatch.fnmatchcase(name, glob), (
                glob, name
            )  # fmt: skip
