"""The CircleCI reader, from CircleCI's configuration reference (workflows, requires, matrix
with exclude and alias) and "Using matrix jobs" (leg names): fixtures written here, graphs
written out by hand, work and depth by networkx; random workflows read back; errors located."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.sources.registry import detect

from .more_readers import assert_graph, expected, read

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip

CONFIG = """\
version: 2.1
orbs:
  node: circleci/node@5.0
defaults: &defaults
  docker:
    - image: cimg/base:stable
jobs:
  build: {<<: *defaults, steps: [checkout]}
  test:
    <<: *defaults
    parameters: {os: {type: string}, v: {type: string}}
    steps: [checkout]
  package: {<<: *defaults, parameters: {os: {type: string}}, steps: [checkout]}
  deploy: {<<: *defaults, steps: [checkout]}
workflows:
  version: 2
  main:
    jobs:
      - build
      - node/test:
          requires: [build]
      - test:
          requires: [build]
          matrix:
            parameters:
              v: ["1", "2"]
              os: [linux, mac]
            exclude:
              - {os: mac, v: "1"}
      - package:
          name: package-<< matrix.os >>
          requires: [test-<< matrix.os >>-2]
          matrix:
            alias: packages
            parameters:
              os: [linux, mac]
      - hold:
          type: approval
          requires: [test]
      - deploy:
          requires: [hold, node/test, packages]
"""


def test_workflow_with_matrix_exclude_alias_orb_and_approval(tmp_path: Path) -> None:
    workload = read(tmp_path / ".circleci" / "config.yml", CONFIG)
    assert workload.format == "circleci" and workload.unit == "jobs"
    legs = ["test-linux-1", "test-linux-2", "test-mac-2"]  # names: values by sorted parameter
    assert_graph(workload, expected({
        "build": (1, []), "node/test": (1, ["build"]),
        **{leg: (1, ["build"]) for leg in legs},
        "test": (0, legs),
        "package-linux": (1, ["test-linux-2"]), "package-mac": (1, ["test-mac-2"]),
        "packages": (0, ["package-linux", "package-mac"]),
        "hold": (0, ["test"]),
        "deploy": (1, ["hold", "node/test", "packages"]),
    }))  # fmt: skip
    notes = " ".join(workload.extra["notes"])
    assert "node/test" in notes and "orbs" in notes and "'hold'" in notes


def test_several_workflows_are_prefixed_and_kept_apart(tmp_path: Path) -> None:
    text = ("version: 2.1\njobs:\n  a: {}\n  b: {}\nworkflows:\n  one:\n    jobs: [a, {b: "
            "{requires: [a]}}]\n  nightly:\n    triggers: [{schedule: {cron: '0 0 * * *'}}]\n"
            "    jobs: [a]\n")  # fmt: skip
    workload = read(tmp_path / ".circleci" / "config.yml", text)
    assert_graph(workload, expected({"one/a": (1, []), "one/b": (1, ["one/a"]),
                                     "nightly/a": (1, [])}))  # fmt: skip


@pytest.mark.parametrize(("body", "line", "message"), [
    ("      - b:\n          requires: [c]\n", 10, "requires 'c', which is not a job"),
    ("      - nope/x\n", 9, "'nope/x', which 'jobs' does not define"),
    ("      - b:\n          requires: [a, {a: failed}, 3]\n", 10, "each entry of 'requires'"),
    ("      - a\n", 9, "runs two jobs named 'a'"),
    ("      - b:\n          matrix: {parameters: {p: [[1]]}}\n", 10, "must be a list of values"),
])  # fmt: skip
def test_errors_are_located(tmp_path: Path, body: str, line: int, message: str) -> None:
    text = "version: 2.1\njobs:\n  a: {}\n  b: {}\nworkflows:\n  w:\n    jobs:\n      - a\n" + body
    with pytest.raises(WorkloadError) as info:
        read(tmp_path / ".circleci" / "config.yml", text)
    assert f"config.yml:{line}:" in str(info.value) and message in str(info.value)


def test_requiring_a_name_two_jobs_share_is_an_error(tmp_path: Path) -> None:
    text = ("version: 2.1\njobs:\n  t: {}\n  u: {}\nworkflows:\n  w:\n    jobs:\n"
            "      - t:\n          matrix: {alias: t, parameters: {x: [a, b]}}\n"
            "      - t:\n          name: t-a\n"
            "      - u: {requires: [t-a]}\n")  # fmt: skip
    with pytest.raises(WorkloadError, match=r"two jobs named .t-a."):
        read(tmp_path / ".circleci" / "config.yml", text)


@st.composite
def workflows(draw):
    """(config text, expected steps): jobs j0..jn, some with a two-axis matrix and an exclude,
    each requiring earlier jobs (by name or matrix alias)."""
    n = draw(st.integers(1, 6))
    lines = ["version: 2.1", "jobs:"] + [f"  j{i}: {{}}" for i in range(n)]
    lines += ["workflows:", "  w:", "    jobs:"]
    steps: dict[str, tuple[float, list[str]]] = {}
    for i in range(n):
        requires = sorted(draw(st.sets(st.sampled_from([f"j{k}" for k in range(i)]) if i
                                       else st.nothing())))  # fmt: skip
        a = draw(st.integers(0, 3))
        lines.append(f"      - j{i}:")
        if requires:
            lines.append(f"          requires: [{', '.join(requires)}]")
        needs = [r for r in requires]
        if a:
            b = draw(st.integers(1, 2))
            dropped = draw(st.sets(st.tuples(st.integers(0, a - 1), st.integers(0, b - 1))))
            combos = [c for c in itertools.product(range(a), range(b)) if c not in dropped]
            if not combos:
                combos = [(0, 0)]
                dropped = {c for c in itertools.product(range(a), range(b)) if c != (0, 0)}
            lines.append("          matrix:")
            lines.append(
                f"            parameters: {{zz: [{', '.join(f'z{k}' for k in range(b))}],"
                f" aa: [{', '.join(f'a{k}' for k in range(a))}]}}"
            )
            if dropped:
                lines.append("            exclude:")
                lines += [f"              - {{aa: a{x}, zz: z{y}}}" for x, y in sorted(dropped)]
            legs = [f"j{i}-a{x}-z{y}" for x, y in combos]
            for leg in legs:
                steps[leg] = (1, needs)
            steps[f"j{i}"] = (0, legs)  # the join, named by the alias (the job's name)
        else:
            steps[f"j{i}"] = (1, needs)
    used = {n for _, needs in steps.values() for n in needs}
    steps = {k: v for k, v in steps.items() if v[0] or k in used}  # joins only when required
    return "\n".join(lines) + "\n", steps


@FAST
@given(case=workflows())
def test_random_workflows_read_back(case, tmp_path_factory) -> None:
    text, steps = case
    workload = read(tmp_path_factory.mktemp("c") / ".circleci" / "config.yml", text)
    assert_graph(workload, expected(steps))


def test_detection() -> None:
    assert detect(Path("/x/.circleci/config.yml"), b"") == "circleci"
    head = b"version: 2.1\njobs:\n  a: {}\nworkflows:\n  w:\n    jobs: [a]\n"
    assert detect(Path("ci.yml"), head) == "circleci"
