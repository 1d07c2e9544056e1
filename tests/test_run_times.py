"""Real-run traces as --durations (issue 29, item 7): a Chrome/Perfetto trace or a Nextflow
trace gives a graph read from another file its seconds, matched by name, with the unmatched
listed; the depth is checked against networkx with the trace's durations."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources.importers.run_times import read_run_times
from serialscale.sources.registry import ReadOptions, read_path

from .conftest import nx_depth

SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FAST = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=SLOW_OK)
DOT = b'digraph { fetch -> "build lib" -> test; fetch -> docs; "build lib" -> package }\n'


def analyze(tmp_path: Path, trace: bytes | str, name: str = "trace.json",
            graph: bytes = DOT, **limits):  # fmt: skip
    path = tmp_path / name
    path.write_bytes(trace if isinstance(trace, bytes) else trace.encode())
    options = ReadOptions(durations=str(path))
    w = read_path(tmp_path / "g.dot", graph, options=options,
                  **({"limits": Limits(**limits)} if limits else {}))  # fmt: skip
    return w, analyze_workload(w)


def costs(w) -> dict[str, float]:
    return dict(zip(w.graph.ids, w.graph.costs, strict=True))


def test_complete_events_and_begin_end_pairs(tmp_path: Path) -> None:
    events = [
        {"name": "fetch", "ph": "X", "ts": 0, "dur": 2_000_000, "pid": 1, "tid": 1},
        {"name": "build lib", "ph": "B", "ts": 2_000_000, "pid": 1, "tid": 1},
        {"name": "inner", "ph": "B", "ts": 2_100_000, "pid": 1, "tid": 1},
        {"ph": "E", "ts": 2_200_000, "pid": 1, "tid": 1},
        {"ph": "E", "ts": 5_000_000, "pid": 1, "tid": 1},
        {"name": "test", "ph": "X", "ts": 5_000_000, "dur": 1_000_000, "pid": 1, "tid": 1},
        {"name": "test", "ph": "X", "ts": 5_000_000, "dur": 500_000, "pid": 1, "tid": 2},
        {"name": "docs", "ph": "X", "ts": 2_000_000, "dur": 250_000, "pid": 1, "tid": 3},
        {"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "build"}},
    ]  # fmt: skip
    w, report = analyze(tmp_path, json.dumps(events))
    assert w.unit == "seconds"
    assert costs(w) == {"fetch": 2.0, "build lib": 3.0, "test": 1.5, "docs": 0.25,
                        "package": 0.0}  # fmt: skip
    assert report.depth == pytest.approx(nx_depth([2.0, 3.0, 1.5, 0.25, 0.0],
                                                  [[], [0], [1], [0], [1]]))  # fmt: skip
    assert w.observed["test"] == (5.0, 6.0)
    note = w.extra["notes"][-1]
    assert "4 of 5 steps matched" in note and "'package'" in note and "'inner'" in note
    assert "1 step matched several events" in note


def test_an_unterminated_array_is_read_as_the_format_allows(tmp_path: Path) -> None:
    text = '[{"name": "fetch", "ph": "X", "ts": 0, "dur": 1000000},\n'
    w, _ = analyze(tmp_path, text)
    assert costs(w)["fetch"] == 1.0


def test_a_gzipped_trace_past_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = gzip.compress(b"[" + b" " * 200_000 + b"]")
    with pytest.raises(WorkloadError, match="decompressed, the trace is larger"):
        analyze(tmp_path, big, "t.json.gz", max_input_bytes=100_000)


NEXTFLOW = (
    "task_id\thash\tnative_id\tname\tstatus\texit\tsubmit\tduration\trealtime\t%cpu\n"
    "1\tab/cdef12\t101\tfetch\tCOMPLETED\t0\t2024-05-01 10:00:00.000\t3s\t2s\t99.0%\n"
    "2\tab/cdef13\t102\tbuild lib (a)\tCOMPLETED\t0\t2024-05-01 10:00:03.000\t1m 1s\t1m\t-\n"
    "3\tab/cdef14\t103\tbuild lib (b)\tCOMPLETED\t0\t2024-05-01 10:00:03.000\t31s\t30s\t-\n"
    "4\tab/cdef15\t104\ttest\tCACHED\t0\t-\t-\t-\t-\n"
    "5\tab/cdef16\t105\tdocs\tCOMPLETED\t0\t2024-05-01 10:00:03.000\t1.5s\t500ms\t-\n"
    "6\tab/cdef17\t106\tpackage\tCOMPLETED\t0\t2024-05-01 10:01:04.000\t1h 2m 3.5s\t3723500\t-\n"
)  # fmt: skip


def test_a_nextflow_trace_by_task_and_by_process(tmp_path: Path) -> None:
    w, report = analyze(tmp_path, NEXTFLOW, "trace.txt")
    assert costs(w) == {"fetch": 2.0, "build lib": 90.0, "test": 0.0, "docs": 0.5,
                        "package": 3723.5}  # fmt: skip
    # fetch started a second after its submission (duration 3 s, of which 2 s running)
    assert w.observed["fetch"][1] - w.observed["fetch"][0] == 2.0
    assert report.depth == pytest.approx(2.0 + 90.0 + 3723.5)
    note = w.extra["notes"][-1]
    assert "4 of 5 steps matched" in note and "'test'" in note
    assert "1 event without a duration" in note


@pytest.mark.parametrize(
    ("name", "text", "message", "line"),
    [
        ("t.json", '[\n{"name": "a", "ph": "X", "ts": 0, "dur": 1},\n{oops}\n]', "not JSON", 3),
        ("t.json", '[{"name": "a", "ph": "X", "ts": -5, "dur": 1}]', "'ts' as a number", 1),
        (
            "t.json",
            '{"traceEvents": [\n{"ph": "M"},\n\n  {"ph": "X", "ts": 0}\n]}',
            "event 2 needs a 'name'",
            4,
        ),
        ("t.json", '[{"ph": "X", "ts": 0, "dur": 1}]', "event 1 needs a 'name'", None),
        ("t.json", '{"traceEvents": 5}', "list of events", None),
        ("t.tsv", "name\trealtime\nfetch\tforever\n", "not a duration", 2),
        ("t.tsv", "name\trealtime\nfetch\t1s\textra\n", "3 columns where the header has 2", 2),
        ("t.tsv", "name\tstatus\nfetch\tOK\n", "'realtime' or 'duration' column", 1),
        ("t.txt", "just words\n", "expected a Chrome trace", None),
        ("missing.json", None, "--durations: no such file", None),
    ],
)
def test_broken_traces_are_located_errors(name: str, text: str | None, message: str, line,
                                          run_cli, tmp_path: Path) -> None:  # fmt: skip
    graph = tmp_path / "g.dot"
    graph.write_bytes(DOT)
    if text is not None:
        (tmp_path / name).write_text(text)
    result = run_cli("analyze", str(graph), "--durations", str(tmp_path / name))
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
    if line is not None:
        assert f"{name}:{line}:" in result.stderr


def test_the_cli_reports_the_run(run_cli, tmp_path: Path) -> None:
    graph = tmp_path / "g.dot"
    graph.write_bytes(DOT)
    trace = tmp_path / "trace.json"
    trace.write_text(json.dumps([{"name": n, "ph": "X", "ts": t * 1e6, "dur": d * 1e6}
                                 for n, t, d in [("fetch", 0, 1), ("build lib", 1, 2),
                                                 ("test", 3, 1), ("docs", 1, 1),
                                                 ("package", 3, 2)]]))  # fmt: skip
    result = run_cli("analyze", str(graph), "--durations", str(trace), "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["unit"] == "seconds" and report["depth"] == 5
    assert report["observed"]["makespan"] == 5 and report["observed"]["workers"] == 2


@st.composite
def runs(draw):
    n = draw(st.integers(1, 10))
    needs = [sorted(i for i in range(j) if draw(st.booleans())) for j in range(n)]
    durations = [draw(st.integers(0, 10_000)) for _ in range(n)]  # microseconds
    timed = [draw(st.booleans()) for _ in range(n)]
    return needs, durations, timed, draw(st.booleans())


@FAST
@given(runs())
def test_random_runs_match_networkx(tmp_path: Path, case) -> None:
    needs, durations, timed, wrapped = case
    lines = ["digraph {"] + [f"s{j};" for j in range(len(needs))]
    lines += [f"s{i} -> s{j};" for j, row in enumerate(needs) for i in row] + ["}"]
    events = [{"name": f"s{j}", "ph": "X", "ts": 10 * j, "dur": d, "pid": 1, "tid": j}
              for j, d in enumerate(durations) if timed[j]]  # fmt: skip
    events.append({"name": "not-a-step", "ph": "X", "ts": 0, "dur": 1})
    trace = json.dumps({"traceEvents": events} if wrapped else events)
    w, report = analyze(tmp_path, trace, graph="\n".join(lines).encode())
    expected = [d / 1e6 if t else 0.0 for d, t in zip(durations, timed, strict=True)]
    assert report.depth == pytest.approx(nx_depth(expected, needs))
    assert report.work == pytest.approx(sum(expected))
    assert f"{sum(timed)} of {len(needs)} steps matched" in w.extra["notes"][-1]


@FAST
@given(st.binary(max_size=120), st.integers(0, 700), st.sampled_from(["chrome", "nextflow",
                                                                     "ninja"]))  # fmt: skip
def test_mutated_traces_end_in_times_or_a_located_error(tmp_path: Path, junk: bytes, at: int,
                                                        kind: str) -> None:  # fmt: skip
    base = {
        "chrome": json.dumps([{"name": "a", "ph": "X", "ts": 1, "dur": 2},
                              {"name": "b", "ph": "B", "ts": 1}, {"ph": "E", "ts": 3}]).encode(),
        "nextflow": NEXTFLOW.encode(),
        "ninja": b"# ninja log v5\n0\t1500\t0\ta.o\th\n1500\t4000\t0\tb.o\th\n",
    }[kind]  # fmt: skip
    path = tmp_path / "trace"
    path.write_bytes(base[:at] + junk + base[at:])
    try:
        read_run_times(str(path))
    except WorkloadError as exc:
        assert str(exc).split(": error: ", 1)[1]


def test_a_nextflow_dag_is_matched_by_its_labels(tmp_path: Path) -> None:
    # nextflow -with-dag names nodes p0, p1... and labels processes; operators have no label
    dag = (b'digraph "dag" {\np0 [shape=point,label="",xlabel="Channel.of"];\n'
           b'p1 [label="fetch"];\np0 -> p1;\np2 [label="build lib"];\np1 -> p2;\n'
           b'p3 [label="package"];\np2 -> p3;\n}\n')  # fmt: skip
    w, report = analyze(tmp_path, NEXTFLOW, "trace.txt", graph=dag)
    assert costs(w) == {"p0": 0.0, "p1": 2.0, "p2": 90.0, "p3": 3723.5}
    assert report.depth == pytest.approx(2.0 + 90.0 + 3723.5)
    note = w.extra["notes"][-1]
    assert "3 of 4 steps matched" in note and "'p0'" in note and "'docs'" in note


def test_a_ninja_log_of_any_name_gives_a_build_its_times(tmp_path: Path) -> None:
    """``--durations`` takes a ninja log whatever its name (kati writes .kati.ninja_log):
    the last build it records (end times going backwards start a new one), each output its
    end - start in seconds; the same costs as the log beside build.ninja gives."""
    (tmp_path / ".git").mkdir()
    build = tmp_path / "build.ninja"
    edges = "build a.o: cc a.c\nbuild b.o: cc b.c a.o\nbuild app: cc a.o b.o\n"
    build.write_text("rule cc\n  command = cc $in -o $out\n" + edges)
    log = ("# ninja log v5\n"
           "0\t9000\t0\ta.o\th\n"  # an earlier build: ignored
           "0\t1500\t0\ta.o\th\n1500\t4000\t0\tb.o\th\n4000\t4250\t0\tapp\th\n")  # fmt: skip
    (tmp_path / "other.ninja_log").write_text(log)
    options = ReadOptions(durations=str(tmp_path / "other.ninja_log"))
    named = read_path(build, build.read_bytes(), options=options)
    assert costs(named) == {"a.o": 1.5, "b.o": 2.5, "app": 0.25}
    assert analyze_workload(named).depth == 4.25
    (tmp_path / ".ninja_log").write_text(log)
    beside = read_path(build, build.read_bytes())
    assert costs(beside) == costs(named)
