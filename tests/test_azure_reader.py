"""The Azure Pipelines reader, from Microsoft's YAML schema reference (stages, jobs, dependsOn,
strategy.matrix / parallel, template, extends): fixtures written here, graphs written out by
hand, work and depth by networkx; random stage pipelines read back; errors located."""

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
trigger: [main]
stages:
- stage: Build
  jobs:
  - job: Compile
    strategy:
      matrix:
        linux: {image: ubuntu}
        mac: {image: macos}
  - job: Lint
  - template: templates/jobs.yml
    parameters: {name: Docs}
  - template: other.yml@tools
- stage: Test
  jobs:
  - job: Unit
    strategy:
      parallel: 3
  - job: Report
    dependsOn: Unit
- stage: Deploy
  dependsOn: [Build, Test]
  jobs:
  - ${{ if eq(variables.x, 'y') }}:
    - deployment: Prod
      environment: prod
  - ${{ else }}:
    - job: Never
"""
TEMPLATE = """\
parameters:
- name: name
  default: X
jobs:
- job: ${{ parameters.name }}Build
- job: ${{ parameters.name }}Check
  dependsOn: ${{ parameters.name }}Build
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_stages_jobs_legs_templates_and_conditions(project: Path) -> None:
    (project / "templates").mkdir()
    (project / "templates" / "jobs.yml").write_text(TEMPLATE)
    workload = read(project / "azure-pipelines.yml", PIPELINE)
    assert workload.format == "azure-pipelines"
    build = ["Build/Compile linux", "Build/Compile mac", "Build/Lint", "Build/DocsBuild",
             "Build/DocsCheck"]  # fmt: skip
    units = [f"Test/Unit {k}/3" for k in (1, 2, 3)]
    assert_graph(workload, expected({
        "Build/Compile linux": (1, []), "Build/Compile mac": (1, []), "Build/Lint": (1, []),
        "Build/DocsBuild": (1, []), "Build/DocsCheck": (1, ["Build/DocsBuild"]),
        "Build": (0, build),
        **{u: (1, ["Build"]) for u in units},  # Test follows Build (no dependsOn)
        "Test/Unit": (0, units), "Test/Report": (1, ["Test/Unit"]),
        "Test": (0, [*units, "Test/Report"]),
        "Deploy/Prod": (1, ["Build", "Test"]),
    }))  # fmt: skip
    notes = " ".join(workload.extra["notes"])
    assert "other.yml@tools" in notes and "1 '${{ else }}'" in notes


def test_jobs_only_and_steps_only_pipelines(project: Path) -> None:
    text = "jobs:\n- job: a\n- job: b\n  dependsOn: [a]\n- job: c\n  dependsOn: []\n"
    assert_graph(read(project / "azure-pipelines.yml", text),
                 expected({"a": (1, []), "b": (1, ["a"]), "c": (1, [])}))  # fmt: skip
    text = "pool: {vmImage: ubuntu-latest}\nsteps:\n- script: make\n"
    assert_graph(read(project / "azure-pipelines.yml", text), expected({"job": (1, [])}))


def test_extends_reads_the_stages_of_a_template(project: Path) -> None:
    (project / "base.yml").write_text("stages:\n- stage: A\n  jobs: [{job: x}]\n- stage: B\n"
                                      "  jobs: [{job: y}]\n")  # fmt: skip
    workload = read(project / "azure-pipelines.yml", "extends:\n  template: base.yml\n")
    assert_graph(workload, expected({"A/x": (1, []), "A": (0, ["A/x"]), "B/y": (1, ["A"])}))


@pytest.mark.parametrize(("text", "line", "message"), [
    ("stages:\n- stage: A\n  jobs: [{job: x}]\n- stage: B\n  dependsOn: C\n  jobs: []\n", 5,
     "depends on 'C', which is not a stage"),
    ("jobs:\n- job: a\n- job: b\n  dependsOn: [a, z]\n", 4, "'z', which is not a job"),
    ("jobs:\n- job: a\n- job: a\n", 3, "defined twice"),
    ("jobs:\n- template: ../../outside.yml\n", 2, "outside the project"),
    ("jobs:\n- template: missing.yml\n", 2, "does not exist"),
    ("jobs:\n- job: a\n  strategy: {parallel: 0}\n", 3, "at least 1"),
])  # fmt: skip
def test_errors_are_located(project: Path, text: str, line: int, message: str) -> None:
    with pytest.raises(WorkloadError) as info:
        read(project / "sub" / "azure-pipelines.yml", text)
    assert f"azure-pipelines.yml:{line}:" in str(info.value) and message in str(info.value)


def test_a_template_that_uses_itself_stops(project: Path) -> None:
    (project / "t.yml").write_text("jobs:\n- template: t.yml\n- template: t.yml\n")
    with pytest.raises(WorkloadError, match=r"nest deeper|more than"):
        read(project / "azure-pipelines.yml", "jobs:\n- template: t.yml\n")


@st.composite
def pipelines(draw):
    """(text, expected steps): stages S0..Sn of jobs, with or without dependsOn."""
    n = draw(st.integers(1, 4))
    lines = ["stages:"]
    steps: dict[str, tuple[float, list[str]]] = {}
    depended: set[str] = set()
    stage_needs: dict[str, list[str]] = {}
    for i in range(n):
        name = f"S{i}"
        lines.append(f"- stage: {name}")
        mode = draw(st.sampled_from(["none", "empty", "list"])) if i else "none"
        if mode == "none":
            before = [f"S{i - 1}"] if i else []
        elif mode == "empty":
            before = []
            lines.append("  dependsOn: []")
        else:
            before = sorted(draw(st.sets(st.sampled_from([f"S{k}" for k in range(i)]),
                                         min_size=1)))  # fmt: skip
            lines.append(f"  dependsOn: [{', '.join(before)}]")
        depended.update(before)
        stage_needs[name] = before
        lines.append("  jobs:")
        m = draw(st.integers(1, 3))
        for j in range(m):
            job = f"j{j}"
            lines.append(f"  - job: {job}")
            deps = sorted(draw(st.sets(st.sampled_from([f"j{k}" for k in range(j)]))) if j
                          else [])  # fmt: skip
            if deps:
                lines.append(f"    dependsOn: [{', '.join(deps)}]")
            legs = draw(st.integers(1, 3))
            if legs > 1:
                lines.append(f"    strategy: {{parallel: {legs}}}")
            names = [f"{name}/{job} {k}/{legs}" for k in range(1, legs + 1)] if legs > 1 \
                else [f"{name}/{job}"]  # fmt: skip
            needs = [f"{name}/{d}" for d in deps] if deps else before
            for leg in names:
                steps[leg] = (1, needs)
            steps.setdefault(f"{name}:legs", (0, []))
            steps[f"{name}/{job}:legs"] = (0, names)
    joins = {}
    for _, (_, needs) in list(steps.items()):
        for need in needs:
            if f"{need}:legs" in steps and steps[f"{need}:legs"][1] != [need]:
                joins[need] = steps[f"{need}:legs"][1]
    out = {k: v for k, v in steps.items() if not k.endswith(":legs")}
    out.update({k: (0, v) for k, v in joins.items()})
    for stage in depended:
        out[stage] = (0, [k for k in steps if k.startswith(f"{stage}/") and
                          not k.endswith(":legs")])  # fmt: skip
    return "\n".join(lines) + "\n", out


@FAST
@given(case=pipelines())
def test_random_pipelines_read_back(case, tmp_path_factory) -> None:
    text, steps = case
    assert_graph(read(tmp_path_factory.mktemp("a") / "azure-pipelines.yml", text),
                 expected(steps))  # fmt: skip


def test_detection() -> None:
    assert detect(Path("azure-pipelines.yml"), b"") == "azure-pipelines"
    assert detect(Path("ci/build.yml"), b"stages:\n- stage: A\n  jobs: []\n") == \
        "azure-pipelines"  # fmt: skip
    assert detect(Path("ci/build.yml"), b"jobs:\n- job: a\n") == "azure-pipelines"
    assert detect(Path(".gitlab-ci.yml"), b"stages: [a]\n") == "gitlab-ci"


def test_depends_on_by_parameter_and_by_condition(project: Path) -> None:
    text = """\
parameters:
- {name: deps, type: object, default: [A]}
- {name: none, type: string, default: ''}
stages:
- stage: A
  jobs: [{job: a}]
- stage: B
  dependsOn:
  - ${{ if eq(1, 1) }}:
    - A
  - ${{ else }}:
    - C
  jobs: [{job: b}]
- stage: C
  dependsOn: ${{ parameters.deps }}
  jobs: [{job: c}]
- stage: D
  dependsOn: ${{ parameters.none }}
  jobs: [{job: d}]
"""
    workload = read(project / "azure-pipelines.yml", text)
    assert_graph(workload, expected({"A/a": (1, []), "A": (0, ["A/a"]), "B/b": (1, ["A"]),
                                     "C/c": (1, ["A"]), "D/d": (1, [])}))  # fmt: skip
