"""The GitLab CI reader, rule by rule from GitLab's documentation (docs.gitlab.com/ci/yaml:
needs, parallel:matrix, extends, !reference, include), each checked against the graph written
out by hand (depth by networkx); plus the hostile shapes of issue 30 (no clock: they finish)."""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import pytest

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources import load_workload


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / ".gitlab-ci.yml"


def read(root: Path, files: dict[str, str], limits: Limits | None = None):
    return load_workload(write(root, files), limits=limits or Limits())


def edges_of(workload) -> set[tuple[str, str]]:
    g = workload.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def depth_by_networkx(costs: dict[str, float], edges: set[tuple[str, str]]) -> float:
    h = nx.DiGraph()
    for v, c in costs.items():
        h.add_edge(("in", v), ("out", v), weight=c)
    for a, b in edges:
        h.add_edge(("out", a), ("in", b), weight=0)
    return nx.dag_longest_path_length(h)


def check(w, costs: dict[str, float], edges: set[tuple[str, str]]) -> None:
    assert dict(zip(w.graph.ids, w.graph.costs, strict=True)) == costs
    assert edges_of(w) == edges
    assert analyze_workload(w).depth == depth_by_networkx(costs, edges)


# --- parallel: matrix and the names of its instances -------------------------------------------

MATRIX = """
build:
  stage: build
  script: make
  parallel:
    matrix:
      - ARCH: [x86_64, arm64]
        MODE: [release, debug]
      - ARCH: riscv
test:
  stage: test
  script: test
  needs: ["build: [x86_64, release]", {job: "build: [riscv]"}]
lint:
  stage: test
  script: lint
  needs:
    - job: build
      parallel:
        matrix:
          - ARCH: arm64
            MODE: [debug, release]
all:
  stage: test
  needs: [build]
  script: x
"""


def test_a_need_may_name_one_matrix_instance(project: Path) -> None:
    w = read(project, {".gitlab-ci.yml": MATRIX})
    instances = [f"build: [{a}, {m}]" for a in ("x86_64", "arm64") for m in ("release", "debug")]
    instances.append("build: [riscv]")
    costs = {**dict.fromkeys(instances, 1), "build": 0, "test": 1, "lint": 1, "all": 1}
    edges = {(i, "build") for i in instances} | {
        ("build: [x86_64, release]", "test"), ("build: [riscv]", "test"),
        ("build: [arm64, debug]", "lint"), ("build: [arm64, release]", "lint"),
        ("build", "all"),
    }  # fmt: skip
    check(w, costs, edges)


def test_parallel_n_names_its_instances(project: Path) -> None:
    w = read(project, {".gitlab-ci.yml": "a:\n  script: x\n  parallel: 3\nb:\n  stage: deploy\n"
                                         "  script: y\n"})  # fmt: skip
    instances = ["a 1/3", "a 2/3", "a 3/3"]
    check(w, {**dict.fromkeys(instances, 1), "a": 0, "b": 1},
          {(i, "a") for i in instances} | {("a", "b")})  # fmt: skip


def test_a_need_on_an_instance_the_matrix_does_not_make_is_located(project: Path) -> None:
    text = MATRIX.replace('"build: [riscv]"', '"build: [mips]"')
    with pytest.raises(WorkloadError) as info:
        read(project, {".gitlab-ci.yml": text})
    assert "needs 'build: [mips]', which is not a job" in str(info.value)
    assert str(info.value).startswith(f"{project / '.gitlab-ci.yml'}:13:")


def test_a_matrix_is_counted_before_it_is_made(project: Path) -> None:
    axes = "".join(f"        V{i}: [{', '.join(str(v) for v in range(10))}]\n" for i in range(20))
    text = f"big:\n  script: x\n  parallel:\n    matrix:\n      -\n{axes}"
    with pytest.raises(WorkloadError, match="more than 200 jobs"):
        read(project, {".gitlab-ci.yml": text})
    ok = "j:\n  script: x\n  parallel:\n    matrix:\n      - A: [" + \
        ", ".join(str(v) for v in range(200)) + "]\n"  # fmt: skip
    assert read(project, {".gitlab-ci.yml": ok}).graph.n == 201
    with pytest.raises(WorkloadError, match="more than 200 jobs"):
        read(project, {".gitlab-ci.yml": ok + "      - B: x\n"})
    with pytest.raises(WorkloadError, match="--max-steps"):
        read(project, {".gitlab-ci.yml": ok}, Limits(max_steps=100))


def test_two_instances_with_one_name_are_an_error(project: Path) -> None:
    text = "j:\n  script: x\n  parallel:\n    matrix:\n      - A: [1, 1]\n"
    with pytest.raises(WorkloadError, match="makes the job 'j: \\[1\\]', which is already"):
        read(project, {".gitlab-ci.yml": text})


# --- templates that unreadable includes define ----------------------------------------------------

UNREADABLE = """
include:
  - project: 'infra/ci-templates'
    file: 'templates/fedora.yml'
  - component: gitlab.example.com/group/release@1.0
  - remote: https://example.com/ci.yml
  - template: Security/SAST.gitlab-ci.yml
stages: [build, test]
image:
  extends: .fdo.distribution-image
build:
  stage: build
  extends: [.fdo.container-build, .local]
  script: make
test:
  script: !reference [.fdo.scripts, test]
  needs: [build, release-job]
.local:
  variables: {A: 1}
"""


def test_templates_only_unreadable_includes_define_are_taken_with_one_note(project: Path) -> None:
    w = read(project, {".gitlab-ci.yml": UNREADABLE})
    check(w, {"build": 1, "test": 1}, {("build", "test")})
    notes = w.extra["notes"]
    template_notes = [n for n in notes if ".fdo.container-build" in n]
    assert len(template_notes) == 1
    note = template_notes[0]
    for name in ("infra/ci-templates", "templates/fedora.yml", "group/release@1.0",
                 "https://example.com/ci.yml", "Security/SAST.gitlab-ci.yml",
                 "'.fdo.container-build'", "'.fdo.scripts'"):  # fmt: skip
        assert name in note
    assert any("'release-job'" in n for n in notes)  # a need on a job they may define


def test_without_unreadable_includes_a_missing_template_is_an_error(project: Path) -> None:
    text = "build:\n  script: x\n  extends: .tempalte\n.template:\n  stage: build\n"
    with pytest.raises(WorkloadError) as info:
        read(project, {".gitlab-ci.yml": text})
    assert "extends '.tempalte', which is not defined (did you mean '.template'?)" in str(
        info.value
    )
    assert str(info.value).startswith(f"{project / '.gitlab-ci.yml'}:3:")


# --- extends and !reference -----------------------------------------------------------------------


def test_extends_merges_in_order_and_references_resolve(project: Path) -> None:
    text = """
stages: [one, two, three]
.a: {stage: one, parallel: 2}
.b: {stage: two}
.needs: {needs: [x]}
x: {stage: one, script: s}
y: {extends: [.a, .b], script: s}          # .b wins the stage, .a gives parallel
z:
  stage: three
  script: s
  needs: [!reference [.needs, needs], [y]]  # nested lists are flattened
"""
    w = read(project, {".gitlab-ci.yml": text})
    costs = {"x": 1, "y 1/2": 1, "y 2/2": 1, "y": 0, "z": 1}
    edges = {("x", "y 1/2"), ("x", "y 2/2"), ("y 1/2", "y"), ("y 2/2", "y"), ("x", "z"),
             ("y", "z")}  # fmt: skip
    check(w, costs, edges)


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("a:\n  script: x\n  extends: {b: 1}\n", "'extends' must be a name or a list", 3),
        ("a:\n  script: x\n  extends: .b\n.b:\n  extends: a\n", "loops back", 3),
        (".p:\n  stage: !reference [.q, stage]\n.q:\n  stage: !reference [.p, stage]\n"
         "a:\n  script: x\n  extends: .p\n", "loops back", None),
        ("include: 5\na:\n  script: x\n", "each include must be a file name or a mapping", 1),
        ("include: [{local: 5}]\na:\n  script: x\n", "an include needs 'local'", 1),
        ("a:\n  script: x\n  stage: nope\n", "stage 'nope' is not in 'stages'", 3),
        ("a:\n  script: x\n  parallel: 201\n", "parallel must be 1 to 200", 3),
        ("a:\n  script: x\n  needs: {job: b}\n", "'needs' must be a list", 3),
        ("a:\n  script: x\n  needs: [[[{job: [1]}]]]\n", "each need must be a job name", 3),
    ],
)  # fmt: skip
def test_bad_pipelines_are_located_errors(project: Path, text: str, fragment: str,
                                          line: int | None) -> None:  # fmt: skip
    with pytest.raises(WorkloadError) as info:
        read(project, {".gitlab-ci.yml": text})
    assert fragment in str(info.value)
    if line is not None:
        assert str(info.value).startswith(f"{project / '.gitlab-ci.yml'}:{line}:")


def test_extends_chains_are_bounded_by_gitlabs_eleven_levels(project: Path) -> None:
    def chain(n: int) -> str:
        templates = "".join(f".t{i}:\n  extends: .t{i + 1}\n" for i in range(n))
        return f"job:\n  script: x\n  extends: .t0\n{templates}.t{n}:\n  stage: build\n"

    assert list(read(project, {".gitlab-ci.yml": chain(10)}).graph.ids) == ["job"]
    with pytest.raises(WorkloadError, match="deeper than GitLab's 11 levels"):
        read(project, {".gitlab-ci.yml": chain(40)})


def test_reference_doubling_costs_what_it_writes(project: Path) -> None:
    """Each template's needs reference the previous one's ten times: 10**9 if expanded."""
    levels = "".join(f".t{i}:\n  needs: [{', '.join([f'!reference [.t{i - 1}, needs]'] * 10)}]\n"
                     for i in range(1, 10))  # fmt: skip
    text = f"a:\n  script: x\n.t0:\n  needs: [a]\n{levels}b:\n  script: y\n  needs: " \
        "!reference [.t9, needs]\n"  # fmt: skip
    with pytest.raises(WorkloadError, match="more than --max-dependencies"):
        read(project, {".gitlab-ci.yml": text}, Limits(max_dependencies=1000))
    with pytest.raises(WorkloadError, match="needs"):
        read(project, {".gitlab-ci.yml": text})  # the default limits stop it too


def test_reference_nesting_is_bounded_by_gitlabs_ten_levels(project: Path) -> None:
    levels = "".join(f".t{i}:\n  stage: !reference [.t{i - 1}, stage]\n" for i in range(1, 15))
    text = f".t0:\n  stage: build\n{levels}a:\n  script: x\n  stage: !reference [.t14, stage]\n"
    with pytest.raises(WorkloadError, match="nest deeper than GitLab's 10 levels"):
        read(project, {".gitlab-ci.yml": text})


def test_alias_bombs_stop_before_they_are_built(project: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    text = ".bomb:\n" + "".join(f"  {line}\n" for line in lines) + "job:\n  script: x\n"
    with pytest.raises(WorkloadError, match="aliases"):
        read(project, {".gitlab-ci.yml": text})
    merges = ["m0: &m0 {k0: 1}"] + [
        f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}" for i in range(1, 40)
    ]
    text = ".bomb:\n" + "".join(f"  {line}\n" for line in merges) + "job:\n  script: x\n"
    with pytest.raises(WorkloadError, match="aliases"):
        read(project, {".gitlab-ci.yml": text})


# --- include: local -------------------------------------------------------------------------------

TREE = ["ci/a.yml", "ci/b.yaml", "ci/sub/c.yml", "ci/sub/deep/d.yml", "other/e.yml", "f.yml",
        "ci/g.txt", "ci/sub/h.yaml"]  # fmt: skip


def gitlab_regex(pattern: str) -> re.Pattern[str]:
    """GitLab's documented translation of a wildcard (** any characters, * any but '/')."""
    body = re.escape(pattern.lstrip("/")).replace(r"\*\*", ".*?").replace(r"\*", "[^/]*?")
    return re.compile(f"^{body}$")


PATTERNS = ["/ci/*.yml", "/ci/**.yml", "/ci/**/*.yml", "/**/*.yml", "/*.yml", "ci/sub/**",
            "/ci/*/*.y*ml", "/**.yaml"]  # fmt: skip


@pytest.mark.parametrize("pattern", PATTERNS)
def test_wildcard_includes_expand_as_gitlab_does(project: Path, pattern: str) -> None:
    files = {name: f"job-{name}:\n  script: x\n" for name in TREE}
    files[".gitlab-ci.yml"] = f"include: '{pattern}'\nmain:\n  script: x\n"
    w = read(project, files)
    regex = gitlab_regex(pattern)
    expected = {f"job-{n}" for n in TREE if regex.match(n) and n.endswith((".yml", ".yaml"))}
    assert set(w.graph.ids) == expected | {"main"}


def test_includes_are_read_once_and_merged_under_the_file(project: Path) -> None:
    files = {
        ".gitlab-ci.yml": "include:\n  - local: ci/a.yml\n  - /ci/b.yml\n  - ci/a.yml\n"
                          "stages: [build, test]\nlate:\n  script: x\n  stage: build\n",
        "ci/a.yml": "include: ci/b.yml\nlate:\n  stage: test\nfrom-a:\n  script: x\n"
                    "  stage: build\n",
        "ci/b.yml": "include: ci/a.yml\nfrom-b:\n  script: x\n",  # a cycle: read once
    }  # fmt: skip
    w = read(project, files)
    check(w, {"late": 1, "from-a": 1, "from-b": 1}, {("late", "from-b"), ("from-a", "from-b")})


def test_includes_with_rules_are_taken_with_a_note(project: Path) -> None:
    files = {".gitlab-ci.yml": "include:\n  - local: x.yml\n    rules:\n      - if: $A\n"
                               "main:\n  script: x\n",
             "x.yml": "other:\n  script: y\n"}  # fmt: skip
    w = read(project, files)
    assert set(w.graph.ids) == {"main", "other"}
    assert any("x.yml" in n and "rules" in n for n in w.extra["notes"])


def test_an_error_in_an_included_file_is_located_there(project: Path) -> None:
    files = {".gitlab-ci.yml": "include: ci/jobs.yml\nmain:\n  script: x\n",
             "ci/jobs.yml": "\n\nbad:\n  script: x\n  stage: nowhere\n"}  # fmt: skip
    with pytest.raises(WorkloadError) as info:
        read(project, files)
    assert str(info.value).startswith(f"{project / 'ci' / 'jobs.yml'}:5:")
    files["ci/jobs.yml"] = "bad:\n  script: [x\n"
    with pytest.raises(WorkloadError) as info:
        read(project, files)
    assert str(info.value).startswith(f"{project / 'ci' / 'jobs.yml'}:")
    assert "YAML syntax error" in str(info.value)


def test_included_files_are_bounded(project: Path) -> None:
    files = {f"ci/f{i}.yml": f"include: ci/f{i + 1}.yml\nj{i}:\n  script: x\n"
             for i in range(200)}  # fmt: skip
    files[".gitlab-ci.yml"] = "include: ci/f0.yml\n"
    with pytest.raises(WorkloadError, match="more than 150 included files"):
        read(project, files)


def test_a_missing_local_include_is_noted(project: Path) -> None:
    w = read(project, {".gitlab-ci.yml": "include: ci/gone.yml\nmain:\n  script: x\n"})
    assert any("ci/gone.yml" in n and "missing" in n for n in w.extra["notes"])


def test_a_spec_header_document_is_skipped(project: Path) -> None:
    files = {".gitlab-ci.yml": "include: ci/c.yml\nmain:\n  script: x\n",
             "ci/c.yml": "spec:\n  inputs:\n    x: {default: 1}\n---\ncomp:\n"
                         "  script: x\n"}  # fmt: skip
    assert set(read(project, files).graph.ids) == {"main", "comp"}


def test_a_wildcard_of_many_stars_is_matched_in_linear_time(project: Path) -> None:
    """Repeated ``/**/`` (a backtracking regex takes exponential time on it): finishes."""
    files = {f"ci/{'a/' * 30}f{i}.yml": f"j{i}:\n  script: x\n" for i in range(20)}
    for stars, found in ((25, 20), (30, 20), (31, 0), (2000, 0)):  # each '**/' needs a '/'
        files[".gitlab-ci.yml"] = f"include: '/ci/{'**/' * stars}*.yml'\nmain:\n  script: x\n"
        assert read(project, files).graph.n == 1 + found
    files[".gitlab-ci.yml"] = "include: '/ci/" + "*a/" * 2000 + "*.yml'\nmain:\n  script: x\n"
    assert read(project, files).graph.n == 1


def test_running_out_of_memory_is_a_located_error(project: Path, monkeypatch) -> None:
    import serialscale.sources.importers.gitlab_ci as gitlab_ci

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(gitlab_ci, "_read", exhausted)
    with pytest.raises(WorkloadError) as info:
        read(project, {".gitlab-ci.yml": "a:\n  script: x\n"})
    assert str(info.value).startswith(str(project / ".gitlab-ci.yml"))
    assert "too large to read in memory" in str(info.value)
