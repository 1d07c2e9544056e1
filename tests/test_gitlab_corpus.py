"""Every GitLab CI entry of the public corpus analyzes (exit 0) with the jobs GitLab would
make. Steps counted by hand: the visible jobs, one per ``parallel`` instance, and one
zero-cost join per parallel job. Skipped when the corpus is not on this machine."""

from __future__ import annotations

import json

import pytest

from .foreign_corpus import entries, entry_path

#: (visible jobs, instances of the parallel ones, parallel jobs), counted by hand.
JOBS = {
    # 55 jobs; 7 of them parallel: matrix, making 19 instances (48 + 19 = 67 jobs, 7 joins)
    "real2/gitlab/dav1d/.gitlab-ci.yml": (55, 19, 7),
    "real2/gitlab/mutter/.gitlab-ci.yml": (25, 0, 0),
    "real3/gitlab/fdroidserver/.gitlab-ci.yml": (26, 0, 0),
    "real3/gitlab/glib/.gitlab-ci.yml": (29, 0, 0),
    "real3/gitlab/libadwaita/.gitlab-ci.yml": (11, 0, 0),
    # 79 jobs over 18 files; 9 say parallel themselves (5 + 7 + 8 + 7 + 10 matrix instances,
    # 4 + 1 + 1 + 1), 5 inherit it through extends ('integration test with race' 4; the
    # windows unit tests 2 + 2, integration tests 4 + 4): 44 + 16 = 60 instances
    "real3/gitlab/gitlab-runner/.gitlab-ci.yml": (79, 60, 14),
}
#: Notes of the files whose templates come from includes that cannot be fetched.
TEMPLATES = {"real2/gitlab/mutter/.gitlab-ci.yml": ".fdo.ci-fairy",
             "real3/gitlab/libadwaita/.gitlab-ci.yml": ".publish_nightly",
             "real3/gitlab/gitlab-runner/.gitlab-ci.yml": ".google-oidc:auth"}  # fmt: skip


@pytest.mark.parametrize(("entry", "options"), entries("gitlab"))
def test_corpus_pipelines_analyze_with_the_jobs_gitlab_makes(entry: str, options: list[str],
                                                             run_cli) -> None:  # fmt: skip
    path = entry_path(entry)
    result = run_cli("analyze", str(path), *options, "-f", "json", "--detail")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    jobs, instances, parallel = JOBS[entry]
    assert report["steps"] == jobs - parallel + instances + parallel
    assert report["work"] == jobs - parallel + instances
    assert len(report.get("connectors") or []) == parallel
    if entry in TEMPLATES:
        notes = [n for n in report["notes"] if TEMPLATES[entry] in n]
        assert len(notes) == 1 and "cannot be fetched" in notes[0]


def test_a_need_on_one_instance_of_the_dav1d_matrix() -> None:
    from serialscale.sources import load_workload

    entry = "real2/gitlab/dav1d/.gitlab-ci.yml"
    if entry not in [e for e, _ in entries("gitlab")]:
        pytest.skip("the corpus (../shared/corpus) is not on this machine")
    g = load_workload(entry_path(entry)).graph
    edges = {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}
    assert ("build-win: [x86_64-w64-mingw32]", "test-win64") in edges
