"""What the fuzzer feeds, shared with the regression tests of its findings
(tests/test_fuzz_findings.py) so both read an input the same way. No atheris here."""

from __future__ import annotations

from serialscale import accel as kernels
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.documents.report import parse_saved
from serialscale.sources.registry import ReadOptions, read_path
from serialscale.sources.workload_file import parse_workload

LIMITS = Limits(max_steps=20_000, max_dependencies=100_000, max_ops=100_000)


def read(data: bytes) -> None:
    """Read ``data[1:]`` with the reader its first byte picks: 0 YAML workload, 1 JSON
    workload, 2 templated workload (first line: the parameter's value), 3 saved report,
    4 the compiled JSON repeated-key scan, 5 the plain-YAML fast reader against PyYAML
    (AssertionError when they disagree), 6 a GitHub Actions workflow, 7 a GitLab CI
    pipeline, 8 a ninja build, 9 a DOT graph; 20 a cargo timings page, 21 a make database,
    22 a Bazel aquery JSON, 40-45 the readers of
    issue 29's items 4-6 (see :data:`FOREIGN`). Returns, or raises a located WorkloadError."""
    if not data:
        return
    kind, body = kind_of(data), data[1:]
    if kind >= 6:
        read_foreign(kind, body)
        return
    if kind == 0:
        parse_workload(body, "fuzz.yaml", limits=LIMITS)
    elif kind == 1:
        parse_workload(body, "fuzz.json", is_json=True, limits=LIMITS)
    elif kind == 2:
        split = body.find(b"\n")
        value = body[:split].decode("utf-8", "replace") if split >= 0 else "3"
        text = b"params: {n: 2, m: 1}\nsteps:\n" + body[split + 1 :]
        parse_workload(text, "fuzz.yaml", params={"n": value}, limits=LIMITS)
    elif kind == 3:
        parse_saved(body, "fuzz-report.json", sweeps=True)
    elif kind == 4:
        kernels.kernels().json_duplicate_key(body)
    else:
        yaml_paths_agree(body)


def _outcome(body: bytes, fast: bool) -> object:
    from serialscale.sources import yaml_fast

    original = yaml_fast.yaml_columns
    if not fast:
        yaml_fast.yaml_columns = lambda text: None  # type: ignore[assignment]
    try:
        graph = parse_workload(body, "fuzz.yaml", limits=LIMITS).graph
        return (list(graph.ids), graph.costs.tolist(), graph.pred_ptr.tolist(),
                graph.pred_idx.tolist())  # fmt: skip
    except WorkloadError as exc:
        return str(exc)
    finally:
        yaml_fast.yaml_columns = original


def yaml_paths_agree(body: bytes) -> None:
    """The fast YAML reader and PyYAML give the same workload or the same error."""
    fast, checked = _outcome(body, True), _outcome(body, False)
    if fast != checked:
        raise AssertionError(f"fast YAML reader: {fast!r}; PyYAML: {checked!r}")


#: Where the foreign readers think their input lives: a folder that does not exist, so any
#: file their input names is missing (secondary reads never leave the project anyway).
FOREIGN = {
    6: ("github-actions", "/nonexistent/fuzz/.github/workflows/fuzz.yml"),
    7: ("gitlab-ci", "/nonexistent/fuzz/.gitlab-ci.yml"),
    8: ("ninja", "/nonexistent/fuzz/build.ninja"),
    9: ("dot", "/nonexistent/fuzz/graph.dot"),
    # Readers of issue 29, items 1-3: first bytes 20-22 (below 10 is taken modulo 10).
    20: ("cargo-timings", "/nonexistent/fuzz/cargo-timing.html"),
    21: ("make", "/nonexistent/fuzz/db.txt"),
    22: ("bazel", "/nonexistent/fuzz/aquery.json"),
}


#: The readers of issue 29, picked by a first byte of 40 to 45 (other bytes count modulo 10).
FOREIGN.update({
    40: ("turbo", "/nonexistent/fuzz/dry.json"),
    41: ("nx", "/nonexistent/fuzz/graph.json"),
    42: ("circleci", "/nonexistent/fuzz/.circleci/config.yml"),
    43: ("azure-pipelines", "/nonexistent/fuzz/azure-pipelines.yml"),
    44: ("buildkite", "/nonexistent/fuzz/.buildkite/pipeline.yml"),
    45: ("dvc", "/nonexistent/fuzz/dvc.yaml"),
})  # fmt: skip


def kind_of(data: bytes) -> int:
    """The reader a fuzz input's first byte picks: a reader's own number (20 and up), else
    the byte modulo 10."""
    return data[0] if data[0] in FOREIGN else data[0] % 10


def read_foreign(kind: int, body: bytes) -> None:
    """Read ``body`` with the foreign reader ``kind`` names, limits set low."""
    fmt, where = FOREIGN[kind]
    from pathlib import Path

    read_path(Path(where), body, limits=LIMITS, options=ReadOptions(fmt=fmt))
