"""The dvc reader, from dvc's dvc.yaml reference (stages, deps, outs, metrics, plots, wdir,
foreach/do, matrix, vars): a stage needs the stages whose outputs it reads. Fixtures written
here, graphs written out by hand, work and depth by networkx; random pipelines read back;
errors located."""

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
vars:
  - regions: [us, uk]
stages:
  prepare:
    cmd: python prepare.py
    deps:
      - data/raw
    outs:
      - data/prepared
  train:
    foreach: ${regions}
    do:
      cmd: python train.py ${item}
      deps:
        - data/prepared/${item}.csv
      outs:
        - models/${item}.pkl
  evaluate:
    matrix:
      region: [us, uk]
      metric: [auc, f1]
    cmd: python eval.py
    deps:
      - models/${item.region}.pkl
    metrics:
      - eval/${item.region}-${item.metric}.json:
          cache: false
  report:
    cmd: python report.py
    wdir: eval
    deps:
      - .
    plots:
      - ../report.html
  publish:
    foreach:
      web: {dir: site}
      pdf: {dir: print}
    do:
      cmd: publish ${key}
      deps:
        - report.html
      outs:
        - ${item.dir}/${key}
  archive:
    cmd: tar
    frozen: true
    deps:
      - site
"""


def test_outputs_read_make_needs_through_foreach_matrix_and_folders(tmp_path: Path) -> None:
    workload = read(tmp_path / "dvc.yaml", PIPELINE)
    assert workload.format == "dvc" and workload.unit == "stages"
    evals = [f"evaluate@{r}-{m}" for r in ("us", "uk") for m in ("auc", "f1")]
    assert_graph(workload, expected({
        "prepare": (1, []),
        "train@us": (1, ["prepare"]), "train@uk": (1, ["prepare"]),  # a file in an output folder
        **{e: (1, [f"train@{e.split('@')[1].split('-')[0]}"]) for e in evals},
        "report": (1, evals),  # wdir eval, dep '.': the folder holding the metrics
        "publish@web": (1, ["report"]), "publish@pdf": (1, ["report"]),
        "archive": (0, ["publish@web"]),  # a folder holding an output; frozen: cost 0
    }))  # fmt: skip
    assert any("archive" in n and "frozen" in n for n in workload.extra["notes"])


def test_foreach_over_a_list_of_mappings_is_indexed_and_unknown_vars_noted(tmp_path) -> None:
    text = ("stages:\n  a:\n    foreach:\n      - {x: 1}\n      - {x: 2}\n    do:\n"
            "      cmd: run\n      outs: [\"out/${item.x}\"]\n  b:\n    foreach: ${from_params}\n"
            "    do:\n      cmd: run\n      deps: [out]\n")  # fmt: skip
    workload = read(tmp_path / "dvc.yaml", text)
    assert_graph(workload, expected({"a@0": (1, []), "a@1": (1, []),
                                     "b": (1, ["a@0", "a@1"])}))  # fmt: skip
    assert any("${from_params}" in n for n in workload.extra["notes"])


@pytest.mark.parametrize(("text", "line", "message"), [
    ("stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n", 7,
     "which stage 'a' writes too"),
    ("stages:\n  a:\n    cmd: x\n    deps: o\n", 4, "must be a list of paths"),
    ("stages:\n  a:\n    foreach: [1]\n", 3, "needs 'do'"),
    ("stages:\n  a:\n    cmd: x\n    deps: [b]\n    outs: [a]\n  b:\n    cmd: y\n"
     "    deps: [a]\n    outs: [b]\n", None, "dependency cycle"),
    ("stages: [a]\n", 1, "needs 'stages', a mapping"),
])  # fmt: skip
def test_errors_are_located(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    with pytest.raises(WorkloadError) as info:
        read(tmp_path / "dvc.yaml", text)
    assert message in str(info.value)
    if line is not None:
        assert f"dvc.yaml:{line}:" in str(info.value)


@st.composite
def pipelines(draw):
    """(text, expected): writers s0.. each writing out/sK and reading earlier writers' outputs
    (the folder itself, or a file inside it); folder readers writing res/sK and reading the
    folder ``out``, which holds every writer's output, earlier or later."""
    n = draw(st.integers(1, 8))
    kinds = [draw(st.sampled_from("wwwf")) for _ in range(n)]
    writers = [f"s{i}" for i in range(n) if kinds[i] == "w"]
    lines = ["stages:"]
    steps: dict[str, tuple[float, list[str]]] = {}
    for i in range(n):
        if kinds[i] == "f":
            lines += [f"  s{i}:", "    cmd: run", f"    outs: [res/s{i}]", "    deps: [out]"]
            steps[f"s{i}"] = (1, writers)
            continue
        earlier = [k for k in range(i) if kinds[k] == "w"]
        reads = sorted(draw(st.sets(st.sampled_from(earlier)))) if earlier else []
        lines += [f"  s{i}:", "    cmd: run", f"    outs: [out/s{i}]"]
        deps = [f"out/s{k}/part.csv" if k % 2 else f"./out/s{k}" for k in reads]
        if deps:
            lines.append(f"    deps: [{', '.join(deps)}]")
        steps[f"s{i}"] = (1, [f"s{k}" for k in reads])
    return "\n".join(lines) + "\n", steps


@FAST
@given(case=pipelines())
def test_random_pipelines_read_back(case, tmp_path_factory) -> None:
    text, steps = case
    assert_graph(read(tmp_path_factory.mktemp("d") / "dvc.yaml", text), expected(steps))


def test_detection() -> None:
    assert detect(Path("dvc.yaml"), b"") == "dvc"
    assert detect(Path("p.yaml"), b"stages:\n  a:\n    cmd: run\n") == "dvc"
