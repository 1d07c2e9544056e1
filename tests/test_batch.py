"""Batches, output formats, gates, baselines, workers, Dask and the JSON Schemas."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from serialscale.documents.schemas import SCHEMAS

from .conftest import WORKLOADS

CHAIN = "steps:\n" + "".join(
    f"  - {{id: s{i}, needs: [s{i - 1}]}}\n" if i else "  - {id: s0}\n" for i in range(20)
)
FAN = (
    "steps:\n  - {id: root}\n"
    + "".join(f"  - {{id: w{i}, needs: [root]}}\n" for i in range(32))
    + "  - {id: sink, needs: ["
    + ", ".join(f"w{i}" for i in range(32))
    + "]}\n"
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A directory with good, bad and non-workload files."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "chain.yaml").write_text(CHAIN)
    (tmp_path / "fan.yml").write_text(FAN)
    (tmp_path / "sub" / "small.json").write_text(
        json.dumps({"steps": [{"id": "a", "cost": 2}, {"id": "b", "needs": ["a"]}]})
    )
    (tmp_path / "sub" / "cycle.yaml").write_text(
        "steps:\n  - {id: a, needs: [b]}\n  - {id: b, needs: [a]}\n"
    )
    (tmp_path / "broken.json").write_text('{"steps": [')
    (tmp_path / "README.txt").write_text("not a workload")
    (tmp_path / "script.py").write_text("print('not a workload either')")
    return tmp_path


def run_json(run_cli, *args: str) -> tuple[int, dict, str]:
    result = run_cli("analyze", *args, "-f", "json")
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_directory_batch_reports_errors_and_goes_on(tree: Path, run_cli) -> None:
    code, data, err = run_json(run_cli, str(tree))
    assert code == 2  # some inputs could not be analyzed
    assert [r["source"] for r in data["results"]] == [
        str(tree / "chain.yaml"),
        str(tree / "fan.yml"),
        str(tree / "sub" / "small.json"),
    ]
    assert [e["source"] for e in data["errors"]] == [
        str(tree / "broken.json"),
        str(tree / "sub" / "cycle.yaml"),
    ]
    cycle = data["errors"][1]
    assert "dependency cycle" in cycle["message"] and cycle["line"] == 2
    assert data["summary"] == {"analyzed": 3, "errors": 2, "serial": 2, "mixed": 0,
                               "parallel": 1}  # fmt: skip
    assert f"{tree / 'sub' / 'cycle.yaml'}:2:5: error: dependency cycle" in err


def test_include_and_exclude(tree: Path, run_cli) -> None:
    code, data, _ = run_json(run_cli, str(tree), "--exclude", "sub/*", "--exclude", "*.json")
    assert code == 0
    assert [Path(r["source"]).name for r in data["results"]] == ["chain.yaml", "fan.yml"]
    code, data, _ = run_json(run_cli, str(tree), "--include", "*.yml")
    assert [Path(r["source"]).name for r in data["results"]] == ["fan.yml"]


def test_several_targets_including_a_function(tree: Path, run_cli) -> None:
    algos = WORKLOADS / "algorithms.py"
    code, data, _ = run_json(run_cli, str(tree / "chain.yaml"), f"{algos}:affine")
    assert code == 0
    assert [r["workload"] for r in data["results"]] == ["chain", "affine"]


def test_single_target_keeps_the_single_report(run_cli) -> None:
    code, data, _ = run_json(run_cli, str(WORKLOADS / "ci_build.yaml"))
    assert code == 0 and "results" not in data and data["workload"] == "monorepo-ci"


def test_formats(tree: Path, run_cli) -> None:
    jsonl = run_cli("analyze", str(tree), "-f", "jsonl")
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [("error" in line) for line in lines] == [False, False, False, True, True]
    assert lines[3]["source"].endswith("broken.json") and "JSON syntax error" in lines[3]["error"]

    rows = list(csv.DictReader(io.StringIO(run_cli("analyze", str(tree), "-f", "csv").stdout)))
    assert [r["workload"] for r in rows[:3]] == ["chain", "fan", "small"]
    assert rows[0]["depth"] == "20" and rows[0]["classification"] == "serial"
    assert rows[3]["error"] and rows[3]["workload"] == ""
    header = run_cli("analyze", str(tree), "-f", "csv").stdout.splitlines()[0]
    assert header == (
        "source,workload,steps,dependencies,work,depth,depth_steps,width,speedup_ceiling,"
        "serial_fraction,classification,strategy,recommended_processors,error"
    )

    md = run_cli("analyze", str(tree), "-f", "markdown").stdout
    assert md.startswith("### serialscale\n") and "| workload | path |" in md
    assert "**Errors**" in md and "3 workloads analyzed" in md

    table = run_cli("analyze", str(tree)).stdout
    assert "3 analyzed (2 serial, 0 mixed, 1 parallel), 2 errors" in table

    github = run_cli("analyze", str(tree), "-f", "github", "--fail-on", "serial")
    assert github.exit_code == 2
    out = github.stdout.splitlines()
    assert f"::error file={tree / 'sub' / 'cycle.yaml'},line=2,title=serialscale::" in out[1]
    assert any(line.startswith("::error") and "fail-on" in line for line in out)


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--fail-on", "serial"], 1, "classified serial"),
        (["--fail-on", "mixed"], 1, "classified serial"),
        (["--min-speedup", "3"], 1, "speedup ceiling 1 is below 3"),
        (["--max-depth", "10"], 1, "depth 20 is above 10"),
        (["--max-serial-fraction", "0.5"], 1, "serial fraction 1 is above 0.5"),
        (["--max-depth", "100", "--min-speedup", "0.5"], 0, None),
    ],
)
def test_gates(tree: Path, run_cli, args: list[str], code: int, fragment: str | None) -> None:
    result = run_cli("analyze", str(tree / "chain.yaml"), str(tree / "fan.yml"), *args)
    assert result.exit_code == code, result.stderr
    if fragment:
        assert fragment in result.stderr and "gate failed" in result.stderr
    else:
        assert result.stderr == ""


def test_parallel_workload_passes_fail_on_mixed(tree: Path, run_cli) -> None:
    assert run_cli("analyze", str(tree / "fan.yml"), "--fail-on", "mixed").exit_code == 0


def test_input_error_wins_over_a_failed_gate(tree: Path, run_cli) -> None:
    result = run_cli("analyze", str(tree), "--fail-on", "serial")
    assert result.exit_code == 2
    assert "gate failed" in result.stderr and "dependency cycle" in result.stderr


def test_baseline_comparison(tree: Path, tmp_path_factory, run_cli) -> None:
    saved = tmp_path_factory.mktemp("base") / "base.json"
    assert run_cli("analyze", str(tree / "chain.yaml"), str(tree / "fan.yml"), "-f", "json",
                   "-o", str(saved)).exit_code == 0  # fmt: skip
    # The chain gets 5 steps longer (+25%); a new workload appears; fan.yml disappears.
    (tree / "chain.yaml").write_text(CHAIN + "".join(
        f"  - {{id: t{i}, needs: [{'s19' if i == 0 else f't{i - 1}'}]}}\n" for i in range(5)
    ))  # fmt: skip
    args = ["analyze", str(tree / "chain.yaml"), str(tree / "sub" / "small.json"),
            "--baseline", str(saved)]  # fmt: skip
    ok = run_cli(*args)
    assert ok.exit_code == 0
    assert f"{tree / 'chain.yaml'}: changed: depth 20 → 25 (+25.0%), work 20 → 25" in ok.stderr
    assert f"{tree / 'sub' / 'small.json'}: new workload" in ok.stderr
    assert f"{tree / 'fan.yml'}: removed" in ok.stderr
    assert run_cli(*args, "--max-depth-increase", "30").exit_code == 0
    failed = run_cli(*args, "--max-depth-increase", "10")
    assert failed.exit_code == 1 and "max-depth-increase" in failed.stderr


def test_max_depth_increase_needs_a_baseline(tree: Path, run_cli) -> None:
    result = run_cli("analyze", str(tree / "chain.yaml"), "--max-depth-increase", "5")
    assert result.exit_code == 2 and "--baseline" in result.stderr


def test_gate_a_saved_report(tree: Path, tmp_path_factory, run_cli) -> None:
    folder = tmp_path_factory.mktemp("saved")
    single, batch = folder / "single.json", folder / "batch.json"
    run_cli("analyze", str(tree / "chain.yaml"), "-f", "json", "-o", str(single))
    run_cli("analyze", str(tree / "fan.yml"), str(tree / "chain.yaml"), "-f", "json",
            "-o", str(batch))  # fmt: skip
    assert run_cli("gate", str(single), "--max-depth", "30").exit_code == 0
    failed = run_cli("gate", str(single), "--fail-on", "serial")
    assert failed.exit_code == 1 and "classified serial" in failed.stderr
    assert failed.stdout == ""
    github = run_cli("gate", str(batch), "--fail-on", "serial", "--format", "github")
    assert github.exit_code == 1 and github.stdout.startswith("::error file=")
    assert run_cli("gate", str(batch), "--baseline", str(single), "--max-depth-increase",
                   "0").exit_code == 0  # fmt: skip
    with_errors = folder / "errors.json"
    run_cli("analyze", str(tree), "-f", "json", "-o", str(with_errors))
    assert run_cli("gate", str(with_errors)).exit_code == 2
    (folder / "bad.json").write_text("{not json")
    bad = run_cli("gate", str(folder / "bad.json"))
    assert bad.exit_code == 2 and "not a JSON report" in bad.stderr
    (folder / "other.json").write_text('{"hello": 1}')
    assert run_cli("gate", str(folder / "other.json")).exit_code == 2


def test_jobs_give_identical_output(run_cli) -> None:
    one = run_cli("analyze", str(WORKLOADS), "-f", "json", "--detail")
    two = run_cli("analyze", str(WORKLOADS), "-f", "json", "--detail", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("can't start new thread"),
        BlockingIOError(11, "Resource temporarily unavailable"),
    ],
)
def test_no_worker_can_start_so_the_batch_runs_here(run_cli, monkeypatch, failure) -> None:
    """A process or thread limit: the pool cannot start a worker (fork fails with EAGAIN, a
    thread cannot start); the batch is analyzed one target after another instead."""
    import concurrent.futures

    def refuse(self, *args, **kwargs):
        raise failure

    one = run_cli("analyze", str(WORKLOADS), "-f", "json", "--detail")
    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", refuse)
    two = run_cli("analyze", str(WORKLOADS), "-f", "json", "--detail", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0, two.stderr
    assert one.stdout == two.stdout


def test_a_killed_worker_becomes_an_error_entry(tree: Path, run_cli) -> None:
    killer = tree / "killer.py"
    killer.write_text(
        "import os, signal\n"
        "import serialscale as ss\n"
        "def die():\n"
        "    x = ss.input(1) + 1\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = run_cli("analyze", str(tree / "chain.yaml"), f"{killer}:die", str(tree / "fan.yml"),
                     "-f", "json", "--jobs", "2")  # fmt: skip
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [r["workload"] for r in data["results"]] == ["chain", "fan"]
    assert len(data["errors"]) == 1 and "killed by SIGKILL" in data["errors"][0]["message"]


def test_dask_local_cluster_matches_a_local_run(tree: Path, run_cli) -> None:
    distributed = pytest.importorskip("distributed")
    local = run_cli("analyze", str(tree), "-f", "json")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        remote = run_cli(
            "analyze", str(tree), "-f", "json", "--scheduler", cluster.scheduler_address
        )
    assert remote.exit_code == local.exit_code == 2
    assert remote.stdout == local.stdout


def test_unreachable_scheduler_is_a_usage_error(tree: Path, run_cli, monkeypatch) -> None:
    from serialscale.run import executors

    # nothing listens there: the connection is refused at once, and dask retries until the
    # timeout (5 s in the command), which here need not be waited out
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", "0.5s")
    result = run_cli("analyze", str(tree), "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2 and "Dask scheduler" in result.stderr


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schemas_are_valid_draft_2020_12(name: str, run_cli) -> None:
    result = run_cli("schema", name)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_bundled_workload_matches_the_workload_schema() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS["workload"]())
    files = sorted(WORKLOADS.rglob("*.yaml"))
    assert len(files) >= 13
    for path in files:
        validator.validate(yaml.safe_load(path.read_text()))


def test_progress_bar_only_on_a_terminal_for_long_batches(monkeypatch) -> None:
    import io
    import sys

    from serialscale.cli import commands

    with commands._progress(100) as advance:
        assert advance is None  # stderr is not a terminal under pytest
    fake = io.StringIO()
    fake.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", fake)
    with commands._progress(3) as advance:
        assert advance is None  # too short to need one
    with commands._progress(100) as advance:
        assert callable(advance)
        advance(100)


@pytest.mark.slow
def test_dask_workers_get_the_files_not_their_paths(tree: Path, tmp_path: Path) -> None:
    """Relative paths and standard input work on workers with another working directory:
    the contents are sent (the local cluster's workers run in this process, in another
    directory for the test)."""
    import os
    import subprocess
    import sys

    pytest.importorskip("distributed")
    # the workers start in "/", then the client moves to the tree: "chain.yaml" exists only
    # for the client
    code = f"""
import os, sys, distributed
from serialscale.cli.app import main
cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                   protocol="tcp", host="127.0.0.1", dashboard_address=None)
os.chdir({str(tree)!r})
sys.argv = ["serialscale", "analyze", "chain.yaml", "-", "-f", "json",
            "--scheduler", cluster.scheduler_address]
try:
    main()
finally:
    cluster.close()
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], cwd="/", input=FAN,
                            capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    local = subprocess.run([sys.executable, "-m", "serialscale", "analyze", "chain.yaml", "-",
                            "-f", "json"], cwd=tree, input=FAN, capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert result.returncode == local.returncode == 0, result.stderr[-500:]
    assert result.stdout == local.stdout
