"""The Buildkite reader, from Buildkite's "Depends on" page (wait and block barriers; an
explicit depends_on replaces them), the group step and parallelism: fixtures written here,
graphs written out by hand, work and depth by networkx; random pipelines read back; errors
located."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.sources.registry import detect

from .more_readers import assert_graph, expected, read

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip

PIPELINE = """\
steps:
  - label: ":hammer: build"
    key: build
    command: make
  - label: lint
    command: make lint
  - wait
  - label: test
    command: make test
    parallelism: 3
  - group: deploy
    key: deploy
    steps:
      - command: deploy-a
      - wait
      - command: deploy-b
  - label: late
    command: notify
    depends_on: build
  - block: release?
    key: approve
  - command: release
    matrix: [a, b]
"""


def test_waits_groups_parallelism_matrix_and_explicit_dependencies(tmp_path: Path) -> None:
    workload = read(tmp_path / ".buildkite" / "pipeline.yml", PIPELINE)
    assert workload.format == "buildkite"
    tests = [f"test {k}/3" for k in (1, 2, 3)]
    assert_graph(workload, expected({
        "build": (1, []), "lint": (1, []),
        "wait 3": (0, ["build", "lint"]),
        **{t: (1, ["wait 3"]) for t in tests}, "test": (0, tests),
        "deploy-a": (1, ["wait 3"]), "wait 7": (0, ["deploy-a", "wait 3"]),
        "deploy-b": (1, ["wait 7"]), "deploy": (0, ["deploy-b", "wait 7"]),
        "late": (1, ["build"]),  # depends_on replaces the wait before it
        "approve": (0, ["test", "deploy", "late", "wait 3"]),
        "release (a)": (1, ["approve"]), "release (b)": (1, ["approve"]),
        "release": (0, ["release (a)", "release (b)"]),
    }))  # fmt: skip
    assert any("'approve'" in n and "person" in n for n in workload.extra["notes"])


def test_a_group_that_depends_on_a_step_starts_after_it(tmp_path: Path) -> None:
    text = ("steps:\n  - {key: a, command: x}\n  - {key: b, command: y}\n"
            "  - group: g\n    key: g\n    depends_on: a\n"
            "    steps:\n      - {key: c, command: z}\n"
            "  - {key: d, command: w, depends_on: [g, {step: b}]}\n")  # fmt: skip
    workload = read(tmp_path / "pipeline.yml", text, "buildkite")
    assert_graph(workload, expected({"a": (1, []), "b": (1, []), "g:start": (0, ["a"]),
                                     "c": (1, ["g:start"]), "g": (0, ["c", "g:start"]),
                                     "d": (1, ["g", "b"])}))  # fmt: skip


def test_unnamed_steps_take_their_command_and_repeated_labels_a_number(tmp_path: Path) -> None:
    text = (
        "- command: make a\n- command: make a\n- label: x\n  command: y\n- key: x\n  command: z\n"
    )
    workload = read(tmp_path / "buildkite.yml", text)
    assert set(workload.graph.ids) == {"make a", "make a #2", "x #2", "x"}


@pytest.mark.parametrize(("text", "line", "message"), [
    ("steps:\n  - command: a\n    depends_on: nope\n", 3, "the key of no step"),
    ("steps:\n  - {key: a, command: a}\n  - {key: a, command: b}\n", 3, "used twice"),
    ("steps:\n  - command: a\n    parallelism: 0\n", 3, "'parallelism' must be"),
    ("steps:\n  - make\n", 2, "is not a step"),
    ("steps:\n  - {key: a, command: a, depends_on: b}\n  - {key: b, command: b, "
     "depends_on: a}\n", None, "dependency cycle"),
])  # fmt: skip
def test_errors_are_located(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    with pytest.raises(WorkloadError) as info:
        read(tmp_path / ".buildkite" / "pipeline.yml", text)
    assert message in str(info.value)
    if line is not None:
        assert f"pipeline.yml:{line}:" in str(info.value)


@st.composite
def pipelines(draw):
    """(text, expected steps): command steps s0.., waits, and explicit depends_on."""
    n = draw(st.integers(1, 10))
    lines = ["steps:"]
    steps: dict[str, tuple[float, list[str]]] = {}
    barrier: str | None = None
    since: list[str] = []
    keys: list[str] = []
    for i in range(n):
        if draw(st.integers(0, 3)) == 0:
            name = f"wait {i + 1}"
            lines.append("  - wait")
            steps[name] = (0, since + ([barrier] if barrier else []))
            barrier, since = name, []
            continue
        key = f"s{i}"
        lines.append(f"  - {{key: {key}, command: run}}")
        explicit = sorted(draw(st.sets(st.sampled_from(keys)))) if keys and draw(
            st.booleans()) else None  # fmt: skip
        if explicit is not None:
            lines[-1] = f"  - {{key: {key}, command: run, depends_on: [{', '.join(explicit)}]}}"
            steps[key] = (1, explicit)
        else:
            steps[key] = (1, [barrier] if barrier else [])
        since.append(key)
        keys.append(key)
    return "\n".join(lines) + "\n", steps


@FAST
@given(case=pipelines())
def test_random_pipelines_read_back(case, tmp_path_factory) -> None:
    text, steps = case
    assert_graph(read(tmp_path_factory.mktemp("b") / "pipeline.yml", text, "buildkite"),
                 expected(steps))  # fmt: skip


def test_detection() -> None:
    assert detect(Path("/r/.buildkite/pipeline.yml"), b"") == "buildkite"
    assert detect(Path("/r/.buildkite/pipeline.deploy.yml"), b"") == "buildkite"
    assert detect(Path("ci.yml"), b"steps:\n  - command: make\n  - wait\n") == "buildkite"
    assert detect(Path("w.yml"), b"steps:\n  - id: a\n    cost: 2\n") == "serialscale"
