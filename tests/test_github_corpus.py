"""Every GitHub Actions workflow of the shared corpus of real files (outside the repository:
skipped when it is absent) analyzes, with the number of jobs GitHub's rules imply, counted
by hand from the files (the comments say how)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import networkx as nx
import pytest

from serialscale import analyze_workload
from serialscale.sources import load_workload
from serialscale.sources.registry import ReadOptions, detect

ROOT = Path(__file__).resolve().parent.parent


def _corpus() -> Path | None:
    candidates = [
        Path(os.environ.get("SERIALSCALE_CORPUS", "/work/shared/corpus")),
        ROOT.parent / "shared" / "corpus",  # ../shared/corpus, beside the repository
        ROOT.parent.parent / "shared" / "corpus",  # from a worktree under /work/wt
    ]
    for folder in candidates:
        if (folder / "ENTRIES").is_file():
            return folder
    return None


CORPUS = _corpus()
pytestmark = pytest.mark.skipif(CORPUS is None, reason="the shared corpus is not here")


def _entries() -> list[tuple[str, list[str]]]:
    if CORPUS is None:
        return []
    out = []
    for line in (CORPUS / "ENTRIES").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        path, *options = shlex.split(line)
        file = CORPUS / path
        if file.is_file() and detect(file, file.read_bytes()[:65536]) == "github-actions":
            out.append((path, options))
    return out


def _jobs(workload) -> int:
    """Jobs as GitHub runs them: the steps that are not joins, entries or exits."""
    connectors = set(workload.extra.get("connectors", ()))
    return sum(1 for step in workload.graph.ids if step not in connectors)


# Job runs per entry, counted by hand from the workflow files with GitHub's rules
# (product of the axes, minus exclude, include extending only original combinations or
# adding its own, include-only matrices one job per entry, one call of a reusable workflow
# per combination of the caller's matrix, a matrix given by a run-time expression once).
EXPECTED = {
    # tokio ci.yml: 45 job ids. 26 without a matrix (basics, test-parking_lot, valgrind,
    # test-sharded-blocking-queue, miri-lib/-test/-doc, asan, semver, no-atomic-u64-test/
    # -check, minrust, minimal-versions, fmt, clippy, loom-compile, check-readme,
    # x86_64-fortanix-unknown-sgx, check-redox, wasm32-wasip2, check-fuzzing, check-spelling,
    # get-latest-kernel-version, freebsd-x86_64/-docs/-i686). Axes: os × 3 for
    # test-tokio-full, test-workspace-all-features, ...-panic-abort, test-integration-tests-
    # per-feature, test-hyper, test-quinn = 18; cross-check 3 targets; cross-check-tier3 1
    # (one mapping value); docs 2 (axis 'run' of 2 mappings); wasm32-wasip1 2 targets.
    # Include-only: test-unstable 4, test-unstable-taskdump 1, check-unstable-mt-counters 1,
    # cross-test-with-parking_lot 5, cross-test-without-parking_lot 5, features 3,
    # wasm32-unknown-unknown 3, check-external-types 2 = 24. The matrix on the reusable
    # caller test-io-uring-on-specific-kernel-versions: 2 kernel versions (one a run-time
    # output, still one combination) × uring-kernel-version-test.yml's 1 job = 2.
    # 26 + 18 + 3 + 1 + 2 + 2 + 24 + 2 = 78.
    "real3/gha/tokio/.github/workflows/ci.yml": 78,
    # pytest test.yml: package 1; build: axis 'name' of 30 values, and 30 include entries
    # each matching one name (so each extends a combination, none is new) = 30; check 1.
    "real3/gha/pytest/.github/workflows/test.yml": 32,
    # numpy linux_simd.yml: baseline_only, old_gcc, intel_sde_avx512, intel_sde_spr 1 each;
    # arm64_simd: 3 mapping values; specialize: 3 list values = 4 + 3 + 3.
    "real3/gha/numpy/.github/workflows/linux_simd.yml": 10,
    # numpy linux.yml: smoke_test 2 versions, all_versions 4 versions, 9 jobs without a
    # matrix (debug, full, armhf_test, benchmark, sdist, array_api_tests, ml_dtypes_compat,
    # custom_checks, Linux_Python_312_32bit_full) = 2 + 4 + 9.
    "real3/gha/numpy/.github/workflows/linux.yml": 15,
    # yt-dlp release-master.yml → release.yml → build.yml: publish_pypi 1; release.yml:
    # prepare, publish_pypi, publish 3; build.yml: process, unix, macos, macos_verify,
    # meta_files 5, linux 1 (its include is fromJSON of a job output: counted once),
    # windows 3 (include-only) = 1 + 3 + 5 + 1 + 3.
    "real3/gha/yt-dlp/.github/workflows/release-master.yml": 13,
    # aiohttp ci-cd.yml: pre-setup, gen-llhttp, build-pure-python-dists, lint-from-git,
    # lint-from-sdist, benchmark, check, pre-deploy, deploy = 9; test: 5 pyver × 2
    # no-extensions × 3 os = 30, exclude {macos, Y} and {windows, Y} remove 5 each → 20,
    # two include entries whose pyver (pypy-3.11, 3.14t) matches no original → 22;
    # test-mobile 2 × 2 = 4; autobahn 1; cython-coverage 2; build-wheels: 5 runner-vm-os
    # × qemu [''] × musl [''] × platform [''] = 5 originals, the 12 include entries each
    # overwrite an original value ('' → ppc64le, musllinux, android, or an os not in the
    # axis) so each is a new combination = 17 calls × reusable-cibuildwheel.yml's 1 job.
    # 9 + 22 + 4 + 1 + 2 + 17 = 55.
    "real3/gha/aiohttp/.github/workflows/ci-cd.yml": 55,
    # multidict ci-cd.yml: pre-setup, build-pure-python-dists, benchmark, test-summary,
    # pre-deploy, deploy 6; lint → reusable-linters.yml 1 job; tested arches: 4 × 2 = 8,
    # 3 literal excludes → 5 (the 2 excludes whose tag is a run-time expression match
    # nothing) × 1 job; test: 6 × 2 × 3 × 2 = 72, excludes {Y, Y} −18, {macos, Y} −6,
    # {windows, Y} −6, {macos, debug Y} −6, {windows, debug Y} −6 → 30, + pypy-3.10 = 31;
    # odd archs: 5 × 2 = 10 (the 4 includes extend originals) × 1 job.
    # 6 + 1 + 5 + 31 + 10 = 53, the 53 jobs of the recorded run (real2/gh/...).
    "real2/gha/multidict/.github/workflows/ci-cd.yml": 53,
}


# The graphs, written by hand from the files: job (runs, the jobs it needs); a reusable call's
# inner job is written ``caller/inner``. Every run of a job needs every run of each need.
_TOKIO_AFTER_BASICS = {
    "test-tokio-full": 3, "test-workspace-all-features": 3,
    "test-workspace-all-features-panic-abort": 3, "test-integration-tests-per-feature": 3,
    "test-parking_lot": 1, "valgrind": 1, "test-unstable": 4, "test-sharded-blocking-queue": 1,
    "test-unstable-taskdump": 1, "check-unstable-mt-counters": 1, "miri-lib": 1,
    "miri-test": 1, "miri-doc": 1, "asan": 1, "semver": 1, "cross-check": 3,
    "cross-check-tier3": 1, "cross-test-with-parking_lot": 5,
    "cross-test-without-parking_lot": 5, "no-atomic-u64-test": 1, "no-atomic-u64-check": 1,
    "features": 3, "minimal-versions": 1, "loom-compile": 1, "test-hyper": 3, "test-quinn": 3,
    "x86_64-fortanix-unknown-sgx": 1, "check-redox": 1, "wasm32-unknown-unknown": 3,
    "wasm32-wasip1": 2, "check-external-types": 2, "check-fuzzing": 1, "check-spelling": 1,
    "freebsd-x86_64": 1, "freebsd-docs": 1, "freebsd-i686": 1,
}  # fmt: skip
GRAPHS: dict[str, dict[str, tuple[int, list[str]]]] = {
    "real3/gha/tokio/.github/workflows/ci.yml": {
        "clippy": (1, []), "fmt": (1, []), "docs": (2, []), "minrust": (1, []),
        "check-readme": (1, []), "wasm32-wasip2": (1, []), "get-latest-kernel-version": (1, []),
        "basics": (1, ["clippy", "fmt", "docs", "minrust"]),
        **{job: (n, ["basics"]) for job, n in _TOKIO_AFTER_BASICS.items()},
        "test-io-uring-on-specific-kernel-versions/build": (
            2, ["get-latest-kernel-version", "basics"]),
    },
    "real3/gha/pytest/.github/workflows/test.yml": {
        "package": (1, []), "build": (30, ["package"]), "check": (1, ["build"]),
    },
    "real3/gha/numpy/.github/workflows/linux_simd.yml": {
        "baseline_only": (1, []), "old_gcc": (1, ["baseline_only"]),
        "arm64_simd": (3, ["baseline_only"]), "specialize": (3, ["baseline_only"]),
        "intel_sde_avx512": (1, ["baseline_only"]), "intel_sde_spr": (1, ["baseline_only"]),
    },
    "real3/gha/aiohttp/.github/workflows/ci-cd.yml": {
        "pre-setup": (1, []), "gen-llhttp": (1, []), "lint-from-git": (1, []),
        "build-pure-python-dists": (1, ["gen-llhttp"]),
        "lint-from-sdist": (1, ["build-pure-python-dists"]),
        "test": (22, ["build-pure-python-dists"]),
        "test-mobile": (4, ["build-pure-python-dists"]),
        "autobahn": (1, ["build-pure-python-dists"]),
        "benchmark": (1, ["build-pure-python-dists", "pre-setup"]),
        "cython-coverage": (2, ["gen-llhttp"]),
        "check": (1, ["lint-from-sdist", "lint-from-git", "test", "test-mobile", "autobahn"]),
        "pre-deploy": (1, ["check", "pre-setup"]),
        "build-wheels/build-wheel": (17, ["build-pure-python-dists", "pre-deploy"]),
        "deploy": (1, ["build-wheels/build-wheel", "pre-setup"]),
    },
}  # fmt: skip


def _job_of(step: str) -> str:
    """The job a step runs: its id without the matrix values of each part."""
    return "/".join(re.sub(r" \(.*\)( #\d+)?$", "", part) for part in step.split("/"))


def _hand_graph(jobs: dict[str, tuple[int, list[str]]]) -> nx.DiGraph:
    g = nx.DiGraph()
    for job, (runs, needs) in jobs.items():
        for k in range(runs):
            g.add_node((job, k))
            for need in needs:
                g.add_edges_from(((need, j), (job, k)) for j in range(jobs[need][0]))
    return g


def _job_pairs(g: nx.DiGraph, job_of) -> set[tuple[str, str]]:
    """Which jobs run (transitively) before which."""
    closure = nx.transitive_closure_dag(g)
    return {(job_of(a), job_of(b)) for a, b in closure.edges
            if job_of(a) is not None and job_of(b) is not None}  # fmt: skip


@pytest.mark.parametrize("entry", sorted(GRAPHS))
def test_the_graph_is_the_one_written_by_hand(entry: str) -> None:
    assert CORPUS is not None
    workload = load_workload(CORPUS / entry)
    report = analyze_workload(workload)
    expected = _hand_graph(GRAPHS[entry])
    depth = nx.dag_longest_path_length(expected, weight=None) + 1  # every job costs 1
    assert (report.work, report.depth) == (expected.number_of_nodes(), depth)
    connectors = set(workload.extra.get("connectors", ()))
    g = workload.graph
    actual = nx.DiGraph()
    actual.add_nodes_from(g.ids)
    actual.add_edges_from((g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i))
    runs: dict[str, int] = {}
    for step in g.ids:
        if step not in connectors:
            runs[_job_of(step)] = runs.get(_job_of(step), 0) + 1
    assert runs == {job: n for job, (n, _) in GRAPHS[entry].items()}
    assert _job_pairs(actual, lambda s: None if s in connectors else _job_of(s)) == (
        _job_pairs(expected, lambda node: node[0])
    )


@pytest.mark.parametrize(("entry", "options"), _entries(), ids=lambda v: str(v))
def test_every_github_entry_analyzes_with_the_jobs_github_runs(entry: str, options: list[str]):
    assert CORPUS is not None
    read = ReadOptions(reverse_edges="--reverse-edges" in options)
    workload = load_workload(CORPUS / entry, read=read)
    report = analyze_workload(workload)
    assert workload.format == "github-actions"
    assert report.work == _jobs(workload) > 0
    if entry in EXPECTED:
        assert _jobs(workload) == EXPECTED[entry]
    notes = report.notes
    assert len(notes) == len(set(notes))  # each once
    assert not any("\n" in n for n in notes)


def test_the_hand_counted_entries_are_in_the_corpus() -> None:
    assert set(EXPECTED) <= {entry for entry, _ in _entries()}


def test_a_recorded_run_matches_every_job_by_display_name() -> None:
    assert CORPUS is not None
    run = CORPUS / "real2" / "gh" / "multidict_ci-cd_run_jobs.json"
    if not run.is_file():
        pytest.skip("the recorded run is not in this corpus")
    entry = CORPUS / "real2" / "gha" / "multidict" / ".github" / "workflows" / "ci-cd.yml"
    workload = load_workload(entry, read=ReadOptions(durations=str(run)))
    assert workload.unit == "seconds"
    [note] = [n for n in workload.extra["notes"] if n.startswith("--durations")]
    assert note.startswith("--durations: 53 of 53 jobs matched")
    assert "match no job" not in note
