"""The readers of issue 29 (Turborepo, Nx, CircleCI, Azure Pipelines, Buildkite, dvc) against
hostile and broken input: a hypothesis fuzzer per reader (token soups of the format's own
keywords) ends in a workload or a located error; alias bombs, deep nesting and expansion past
--max-steps stop early with the limit named; and what a directory scan makes of their files.
Plus the corpus pattern: real files of these formats, when ../shared/corpus has any."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources.registry import ReadOptions, read_path

from .foreign_corpus import entries, entry_path
from .more_readers import read_direct

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
LOW = Limits(max_steps=200, max_dependencies=2_000, max_input_bytes=1 << 16)
WHERE = {
    "turbo": "/nonexistent/h/dry.json",
    "nx": "/nonexistent/h/graph.json",
    "circleci": "/nonexistent/h/.circleci/config.yml",
    "azure-pipelines": "/nonexistent/h/azure-pipelines.yml",
    "buildkite": "/nonexistent/h/.buildkite/pipeline.yml",
    "dvc": "/nonexistent/h/dvc.yaml",
}
#: Lines of each format, shuffled and indented at random by the fuzzer.
PIECES = {
    "turbo": [
        '{"turboVersion": "2", "tasks": [',
        '{"taskId": "a", "dependencies": []},',
        '{"taskId": "b", "dependencies": ["a"]}',
        '"execution": {"startTime": 1, "endTime": 0}',
        '"command": "<NONEXISTENT>"',
        "]",
        "}",
        ",",
        '"cache": {}',
    ],
    "nx": [
        '{"graph": {"nodes": {"a": {}, "b": {}},',
        '"dependencies": {"a": [{"target": "b"}]',
        '"tasks": {"tasks": {"a:x": {}}, "dependencies": {"a:x": ["a:x"]}}',
        "}",
        ",",
        "]",
        '"continuousDependencies": {"a:x": 3}',
    ],
    "circleci": [
        "version: 2.1",
        "jobs:",
        "  a: {}",
        "workflows:",
        "  w:",
        "    jobs:",
        "      - a",
        "      - b: {requires: [a]}",
        "      - a:",
        "          matrix:",
        "            parameters: {p: [1, 2]}",
        "            exclude: [{p: 1}]",
        "          name: a-<< matrix.p >>",
        "orbs: {o: x}",
        "      - o/j",
        "      - h: {type: approval}",
        "          requires: [a-<< matrix.q >>]",
    ],
    "azure-pipelines": [
        "stages:",
        "- stage: A",
        "- stage: B",
        "  dependsOn: [A, C]",
        "  jobs:",
        "  - job: x",
        "  - job: y",
        "    dependsOn: x",
        "    strategy: {parallel: 3}",
        "    strategy:",
        "      matrix: {l: {}}",
        "  - template: t.yml",
        "  - ${{ if x }}:",
        "  - ${{ else }}:",
        "jobs:",
        "steps:",
        "extends: {template: e.yml}",
        "  dependsOn: []",
    ],
    "buildkite": [
        "steps:",
        "  - wait",
        "  - block: ok?",
        "  - {key: a, command: x}",
        "  - {command: y, depends_on: a}",
        "  - group: g",
        "    steps:",
        "      - command: z",
        "    parallelism: 4",
        "    matrix: [a, b]",
        "  - {key: a, command: w}",
        "  - input: who",
        "    depends_on: [{step: g}]",
    ],
    "dvc": [
        "stages:",
        "  a:",
        "    cmd: x",
        "    deps: [o]",
        "    outs: [o]",
        "  b:",
        "    foreach: [1, 2]",
        "    do:",
        "      cmd: y",
        "      outs: [p/${item}]",
        "    matrix: {m: [1, 2]}",
        "    wdir: ..",
        "vars: [{v: [1]}]",
        "    frozen: true",
        "    deps: [p]",
        "    foreach: ${v}",
    ],
}


@pytest.mark.parametrize("fmt", sorted(PIECES))
@FAST
@given(data=st.data())
def test_token_soups_end_in_a_workload_or_a_located_error(fmt: str, data) -> None:
    pieces = data.draw(st.lists(st.sampled_from(PIECES[fmt]), max_size=14))
    indents = data.draw(st.lists(st.sampled_from(["", "  ", "    "]), min_size=len(pieces),
                                 max_size=len(pieces)))  # fmt: skip
    text = "\n".join(i + p for i, p in zip(indents, pieces, strict=True)) + "\n"
    try:
        workload = read_direct(Path(WHERE[fmt]), text.encode(), fmt, LOW)
    except WorkloadError as exc:
        assert str(exc).startswith(WHERE[fmt]) and ": error: " in str(exc)
    else:
        assert workload.format == fmt and workload.graph.n >= 1


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join(['*' + chr(97 + k)] * 10)}]\n" for k in range(7)
)


@pytest.mark.parametrize("fmt", ["circleci", "azure-pipelines", "buildkite", "dvc"])
def test_an_alias_bomb_is_refused_before_it_is_built(fmt: str) -> None:
    with pytest.raises(WorkloadError, match="aliases"):
        read_path(Path(WHERE[fmt]), BOMB.encode(), limits=LOW, options=ReadOptions(fmt=fmt))


@pytest.mark.parametrize("fmt", sorted(WHERE))
def test_deep_nesting_is_a_located_error(fmt: str) -> None:
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(WorkloadError) as info:
        read_path(Path(WHERE[fmt]), text.encode(), options=ReadOptions(fmt=fmt))
    assert str(info.value).startswith(WHERE[fmt])


@pytest.mark.parametrize(("fmt", "text"), [
    ("circleci", "version: 2.1\njobs: {a: {}}\nworkflows:\n  w:\n    jobs:\n      - a:\n"
                 "          matrix:\n            parameters: {p: [" + ", ".join(map(str, range(
                     1000))) + "], q: [" + ", ".join(map(str, range(1000))) + "]}\n"),
    ("azure-pipelines", "jobs:\n- job: a\n  strategy: {parallel: 100000000}\n"),
    ("buildkite", "steps:\n" + "  - {command: x, parallelism: 1000}\n" * 3),
    ("dvc", "stages:\n  a:\n    matrix: {x: [" + ", ".join(map(str, range(100))) + "], y: [" +
     ", ".join(map(str, range(100))) + "]}\n    cmd: x\n"),
    ("turbo", json.dumps({"turboVersion": "2", "tasks": [{"taskId": str(k)} for k in
                                                         range(300)]})),
])  # fmt: skip
def test_expansion_past_max_steps_stops_with_the_limit_named(fmt: str, text: str) -> None:
    with pytest.raises(WorkloadError, match=r"max-steps|1000|parallelism"):
        read_path(Path(WHERE[fmt]), text.encode(), limits=LOW, options=ReadOptions(fmt=fmt))


def test_a_scan_takes_the_ci_folders_asked_for_and_skips_the_rest_with_a_note(
        tmp_path: Path, run_cli) -> None:  # fmt: skip
    (tmp_path / ".circleci").mkdir()
    (tmp_path / ".circleci" / "config.yml").write_text(
        "version: 2.1\njobs: {a: {}}\nworkflows:\n  w:\n    jobs: [a]\n"
    )
    (tmp_path / ".buildkite").mkdir()
    (tmp_path / ".buildkite" / "pipeline.yml").write_text("steps:\n  - command: x\n")
    (tmp_path / "azure-pipelines.yml").write_text("jobs:\n- job: a\n")
    (tmp_path / "dvc.yaml").write_text("stages:\n  a:\n    cmd: x\n")
    (tmp_path / "w.yaml").write_text("steps:\n  - id: a\n")
    for folder, fmt in ((".circleci", "circleci"), (".buildkite", "buildkite")):
        result = run_cli("analyze", str(tmp_path / folder), "-f", "json")
        assert result.exit_code == 0, result.stderr
        assert [r["format"] for r in json.loads(result.stdout)["results"]] == [fmt]
    result = run_cli("analyze", str(tmp_path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    formats = [r["format"] for r in json.loads(result.stdout)["results"]]
    assert formats == ["serialscale"]  # only w.yaml: hidden folders stay out
    for name, fmt in (("azure-pipelines.yml", "azure-pipelines"), ("dvc.yaml", "dvc")):
        assert f"{name}: skipped: a {fmt} file" in result.stderr


@pytest.mark.parametrize(
    ("entry", "options"), entries("circleci", "azure", "buildkite", "dvc", "turbo", "nx")
)
def test_corpus_files_of_these_formats_analyze(entry: str, options: list[str], run_cli) -> None:
    result = run_cli("analyze", str(entry_path(entry)), *options, "-f", "json")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(("name", "text", "where"), [
    ("azure-pipelines.yml", "jobs:\n- job: a\n  dependsOn: b\n", ":3:"),
    ("dvc.yaml", "stages:\n  a:\n    cmd: x\n    outs: 3\n", ":4:"),
    (".buildkite/pipeline.yml", "steps:\n  - {command: a, depends_on: zz}\n", ":2:"),
    (".circleci/config.yml", "version: 2.1\nworkflows:\n  w:\n    jobs: [nope]\n", ":4:"),
    ("graph.json", '{"graph": {"nodes": []}}', ":1"),
])  # fmt: skip
def test_the_cli_prints_one_located_line_and_exits_2(tmp_path: Path, run_cli, name: str,
                                                     text: str, where: str) -> None:  # fmt: skip
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}{where}") and "Traceback" not in result.stderr
