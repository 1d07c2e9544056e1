"""Files an input names (includes, reusable workflows, ninja logs) are read only inside the
project, only if regular, only within --max-input-size, and never quoted when refused; the
step and dependency limits hold for every reader (issue 30)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from serialscale.base.errors import Location, WorkloadError
from serialscale.sources.secondary import MissingInput, SecondaryReads, project_root

SECRET = "TOKEN=hunter2-do-not-print"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project (a folder with .git) inside tmp_path, and a secret file beside it."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (tmp_path / "secret.yml").write_text(f"{SECRET}\n")
    return root


def _workflow(root: Path, uses: str) -> Path:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ci.yml"
    path.write_text(f"on: push\njobs:\n  call:\n    uses: {uses}\n")
    return path


def _refused(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert SECRET not in result.stderr and "hunter2" not in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_the_root_is_the_folder_holding_git(project: Path) -> None:
    inner = project / "a" / "b"
    inner.mkdir(parents=True)
    (inner / "f.yml").write_text("x")
    assert project_root(inner / "f.yml") == project.resolve()
    assert project_root(inner / "f.yml", fallback=inner) == project.resolve()


def test_without_git_the_readers_own_root_bounds_the_reads(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "f.yml").write_text("x")
    assert project_root(folder / "f.yml") == folder.resolve()
    assert project_root(folder / "f.yml", fallback=tmp_path) == tmp_path.resolve()


def test_a_reusable_workflow_outside_the_project_is_refused(project: Path, run_cli) -> None:
    path = _workflow(project, "./../secret.yml")
    _refused(run_cli("analyze", str(path)), "outside the project", "ci.yml:4:", "./../secret.yml")


def test_a_reusable_workflow_through_a_symlink_out_is_refused(project: Path, run_cli) -> None:
    (project / "link.yml").symlink_to(project.parent / "secret.yml")
    path = _workflow(project, "./link.yml")
    _refused(run_cli("analyze", str(path)), "outside the project")


def test_a_reusable_workflow_that_is_a_fifo_is_refused_not_waited_for(
    project: Path, run_cli
) -> None:
    os.mkfifo(project / "pipe.yml")
    path = _workflow(project, "./pipe.yml")
    _refused(run_cli("analyze", str(path)), "not a regular file")


def test_a_reusable_workflow_larger_than_the_limit_is_refused(project: Path, run_cli) -> None:
    big = project / "big.yml"
    big.write_text("on: workflow_call\njobs:\n  a:\n    runs-on: x\n" + "#" * 5000 + "\n")
    path = _workflow(project, "./big.yml")
    _refused(run_cli("analyze", str(path), "--max-input-size", "2K"), "--max-input-size")
    assert run_cli("analyze", str(path)).exit_code == 0


def test_a_gitlab_include_outside_the_project_is_refused(project: Path, run_cli) -> None:
    path = project / ".gitlab-ci.yml"
    path.write_text("include:\n  - local: ../secret.yml\nbuild:\n  script: make\n")
    _refused(run_cli("analyze", str(path)), "outside the project", "../secret.yml")


def test_a_gitlab_include_that_is_a_device_is_refused(project: Path, run_cli) -> None:
    (project / "zero.yml").symlink_to("/dev/zero")
    path = project / ".gitlab-ci.yml"
    path.write_text("include:\n  - local: /zero.yml\nbuild:\n  script: make\n")
    _refused(run_cli("analyze", str(path)), "outside the project")


@pytest.mark.parametrize("target", ["/etc/passwd", "../secret.yml", "/dev/zero"])
def test_a_ninja_include_outside_the_project_is_refused(
    project: Path, target: str, run_cli
) -> None:
    path = project / "build.ninja"
    path.write_text(f"rule cc\n  command = cc\ninclude {target}\nbuild a.o: cc a.c\n")
    _refused(run_cli("analyze", str(path)), "outside the project", "build.ninja:3")


def test_a_ninja_include_that_is_a_fifo_is_refused(project: Path, run_cli) -> None:
    os.mkfifo(project / "rules.ninja")
    path = project / "build.ninja"
    path.write_text("include rules.ninja\nrule cc\n  command = cc\nbuild a.o: cc a.c\n")
    _refused(run_cli("analyze", str(path)), "not a regular file", "build.ninja:1")


def test_a_ninja_log_larger_than_the_limit_is_refused(project: Path, run_cli) -> None:
    path = project / "build.ninja"
    path.write_text("rule cc\n  command = cc\nbuild a.o: cc a.c\n")
    log = "# ninja log v5\n" + "0\t10\t0\ta.o\tdeadbeef\n" * 200
    (project / ".ninja_log").write_text(log)
    _refused(run_cli("analyze", str(path), "--max-input-size", "1K"), "--max-input-size")
    ok = run_cli("analyze", str(path), "--format", "json")
    assert ok.exit_code == 0 and '"unit": "seconds"' in ok.stdout


def test_durations_from_a_device_are_bounded(project: Path, run_cli) -> None:
    path = _workflow(project, "x")
    path.write_text("on: push\njobs:\n  a:\n    runs-on: x\n")
    result = run_cli("analyze", str(path), "--durations", "/dev/zero", "--max-input-size", "64K")
    _refused(result, "--durations", "65,536 bytes")


def test_included_files_are_counted_in_all(project: Path) -> None:
    reads = SecondaryReads(project.resolve())
    (project / "f").write_text("x")
    for _ in range(1000):
        reads.read(project / "f", "f", Location("w"))
    with pytest.raises(WorkloadError, match="more than 1,000 included files"):
        reads.read(project / "f", "f", Location("w"))


def test_a_missing_file_is_its_own_error(project: Path) -> None:
    reads = SecondaryReads(project.resolve())
    with pytest.raises(MissingInput):
        reads.read(project / "absent", "absent", Location("w"))


# --- the step and dependency limits, for every reader ------------------------------------------

FOREIGN = {
    ".gitlab-ci.yml": "".join(f"j{i}:\n  script: x\n" for i in range(30)),
    "build.ninja": "rule cc\n  command = cc\n"
    + "".join(f"build o{i}: cc i{i}\n" for i in range(30)),
    "g.dot": "digraph g {\n" + "".join(f"  n{i} -> n{i + 1};\n" for i in range(30)) + "}\n",
    ".github/workflows/w.yml": "on: push\njobs:\n"
    + "".join(f"  j{i}:\n    runs-on: x\n" for i in range(30)),
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_max_steps_holds_for_every_reader(project: Path, name: str, run_cli) -> None:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FOREIGN[name])
    result = run_cli("analyze", str(path), "--max-steps", "10")
    _refused(result, "--max-steps (10)")
    assert run_cli("analyze", str(path)).exit_code == 0


def test_max_dependencies_holds_for_every_reader(project: Path, run_cli) -> None:
    path = project / "g.dot"
    path.write_text(FOREIGN["g.dot"])
    _refused(run_cli("analyze", str(path), "--max-dependencies", "5"), "--max-dependencies (5)")


# --- content detection is linear --------------------------------------------------------------


def test_detection_of_an_ordinary_compose_file_is_linear() -> None:
    """Lines indented by many spaces and no `script:`: the old GitLab regex tried every split
    of every line's indentation (exponential); the scanner reads each line once."""
    from serialscale.sources.registry import detect

    compose = "services:\n  web:\n" + "".join(
        f"{' ' * 12}key{i}: value {i}\n{' ' * 12}\n" for i in range(2000)
    )
    assert detect(Path("docker-compose.yml"), compose.encode()) == "serialscale"
    gitlab = compose + "build:\n" + " " * 12 + "script: make\n"
    assert detect(Path("ci.yml"), gitlab.encode()) == "gitlab-ci"


@pytest.mark.parametrize(
    "head",
    [b"/**/" * 20000, b"/**/" * 20000 + b"x", b"/*" * 30000, b"// c\n" * 10000 + b"# x\n" * 9000],
)
def test_detection_of_comment_runs_in_dot_is_linear(head: bytes) -> None:
    from serialscale.sources.registry import detect, looks_like_dot

    assert detect(Path("graph.txt"), head) == "serialscale"
    assert looks_like_dot(head + b" digraph g {}") == (not head.endswith((b"/*", b"x")))


@pytest.mark.parametrize(
    ("text", "dot"),
    [
        (b"digraph g { a -> b }", True),
        (b"  strict digraph { }", True),
        (b"/* header */\n// note\n# pre\nDiGraph x {}", True),
        (b"graph{}", True),
        (b"digraphs", False),
        (b"graph_x {}", False),
        (b"steps:\n  - id: a\n", False),
        (b"", False),
    ],
)
def test_dot_headers_are_recognised(text: bytes, dot: bool) -> None:
    from serialscale.sources.registry import looks_like_dot

    assert looks_like_dot(text) is dot
