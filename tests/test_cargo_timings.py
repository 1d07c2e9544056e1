"""cargo --timings pages (issue 29, item 1): units as steps, a unit waited for as metadata
split in two, checked against networkx on the graph the page describes; hostile pages end in
a located error."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources.registry import ReadOptions, detect, read_path

from .conftest import nx_depth

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def page(units: list[dict], fresh: int = 0, indent: int | None = 2) -> bytes:
    """A page shaped like cargo's report: a table, then the script with UNIT_DATA."""
    return (
        "<html><body><table>\n<tr><td>Fresh units:</td><td>"
        f"{fresh}</td></tr>\n</table>\n<script>\nconst UNIT_DATA = "
        f"{json.dumps(units, indent=indent)};\nconst CONCURRENCY_DATA = [];\n</script>\n"
        "</body></html>\n"
    ).encode()


def unit(i, name, start, duration, unblocked=(), rmeta_units=(), rmeta=None, target=" lib",
         old=False, sections=False):  # fmt: skip
    u = {"i": i, "name": name, "version": "1.0.0", "mode": "todo", "target": target,
         "start": start, "duration": duration}  # fmt: skip
    key = "unlocked" if old else "unblocked"
    u[f"{key}_units"] = list(unblocked)
    u[f"{key}_rmeta_units"] = list(rmeta_units)
    if sections and rmeta is not None:
        u["sections"] = [["frontend", {"start": 0.0, "end": rmeta}],
                         ["codegen", {"start": rmeta, "end": duration}]]  # fmt: skip
    elif not sections:
        u["rmeta_time"] = rmeta
    return u


def read(data: bytes, name: str = "cargo-timing.html", tmp: Path | None = None, **options):
    path = (tmp or Path("/nonexistent")) / name
    return read_path(path, data, options=ReadOptions(**options))


def edges(w) -> set[tuple[str, str]]:
    g = w.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def test_a_pipelined_build_reads_as_the_page_says() -> None:
    # core (lib) lets serde start at its metadata (1.5 s of 4) and app start when it ends;
    # serde ends and lets app-bin start; build.rs runs first and unblocks core.
    units = [
        unit(0, "build", 0.0, 1.0, unblocked=[1], target=" build script (run)"),
        unit(1, "core", 1.0, 4.0, unblocked=[3], rmeta_units=[2], rmeta=1.5),
        unit(2, "serde", 2.5, 3.0, unblocked=[4], rmeta=1.0),
        unit(3, "app", 5.0, 2.0, target=" lib"),
        unit(4, "app", 5.5, 1.0, target=' bin "app"'),
    ]
    w = read(page(units, fresh=7))
    assert w.format == "cargo-timings" and w.unit == "seconds"
    assert sorted(w.graph.ids) == sorted([
        "build v1.0.0 build script (run)", "core v1.0.0 lib (metadata)", "core v1.0.0 lib",
        "serde v1.0.0 lib", "app v1.0.0 lib", 'app v1.0.0 bin "app"'])  # fmt: skip
    assert edges(w) == {
        ("build v1.0.0 build script (run)", "core v1.0.0 lib (metadata)"),
        ("core v1.0.0 lib (metadata)", "core v1.0.0 lib"),
        ("core v1.0.0 lib (metadata)", "serde v1.0.0 lib"),
        ("core v1.0.0 lib", "app v1.0.0 lib"),
        ("serde v1.0.0 lib", 'app v1.0.0 bin "app"'),
    }
    report = analyze_workload(w)
    assert report.work == pytest.approx(1 + 4 + 3 + 2 + 1)  # the split keeps the unit's total
    # by hand: build 1 → core metadata 1.5 → core rest 2.5 → app lib 2 = 7
    #          build 1 → core metadata 1.5 → serde 3 → app bin 1 = 6.5
    assert report.depth == pytest.approx(7.0)
    assert w.observed["core v1.0.0 lib (metadata)"] == (1.0, 2.5)
    assert w.observed["core v1.0.0 lib"] == (2.5, 5.0)
    notes = " ".join(w.extra["notes"])
    assert "7 fresh units" in notes and "lower bound" in notes and "1 unit was waited" in notes


def test_older_and_newer_cargo_spellings_read_alike() -> None:
    old = [unit(0, "a", 0, 2.0, rmeta_units=[1], rmeta=0.5, old=True), unit(1, "b", 0.5, 1.0)]
    new = [unit(0, "a", 0, 2.0, rmeta_units=[1], rmeta=0.5, sections=True),
           unit(1, "b", 0.5, 1.0, sections=True)]  # fmt: skip
    a, b = read(page(old)), read(page(new, indent=None))
    assert a.graph.ids == b.graph.ids and edges(a) == edges(b)
    assert list(a.graph.costs) == list(b.graph.costs) == [0.5, 1.5, 1.0]


def test_units_that_read_alike_are_told_apart_by_index() -> None:
    units = [unit(0, "x", 0, 1.0, unblocked=[1]), unit(1, "x", 1, 1.0)]
    w = read(page(units))
    assert w.graph.ids == ("x v1.0.0 lib #0", "x v1.0.0 lib #1")


def test_detected_by_name_and_by_content() -> None:
    body = page([unit(0, "a", 0, 1.0)])
    assert detect(Path("target/cargo-timings/cargo-timing-20240101T000000Z.html"), b"") == \
        "cargo-timings"  # fmt: skip
    assert detect(Path("report.html"), body) == "cargo-timings"
    assert detect(Path("index.html"), b"<html></html>") != "cargo-timings"


@pytest.mark.parametrize(
    ("data", "message", "line"),
    [
        (b"<html>no data</html>", "holds no 'const UNIT_DATA", None),
        (b'<html>\n\nconst UNIT_DATA = [{"name": "a",};', "not JSON", 3),
        (b"x\nconst UNIT_DATA = {};", "must be a list", 2),
        (page([unit(0, "a", 0, -1.0)]), "'duration' must be a number", 6),
        (page([unit(0, "a", 0, 1.0, unblocked=[9])]), "unblocks unit 9", 6),
        (
            page([unit(0, "a", 0, 1.0, unblocked=[1]), unit(1, "b", 0, 1, unblocked=[0])]),
            "dependency cycle",
            None,
        ),
        (page([{"i": 0, "name": "a", "duration": 1, "unblocked_units": "x"}]), "list of unit", 6),
    ],
)
def test_broken_pages_are_located_errors(data: bytes, message: str, line, run_cli,
                                         tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "cargo-timing.html"
    path.write_bytes(data)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    if line is not None:
        assert f"cargo-timing.html:{line}:" in result.stderr


@st.composite
def runs(draw):
    """A random unit forest as cargo records it: each unit is unblocked by at most one
    earlier unit, through its end or through its metadata."""
    n = draw(st.integers(1, 12))
    units = []
    parents: list[tuple[int, bool] | None] = []
    for i in range(n):
        parent = draw(st.none() | st.tuples(st.integers(0, i - 1), st.booleans())) if i else None
        parents.append(parent)
    for i in range(n):
        duration = draw(st.integers(0, 500)) / 100
        rmeta = draw(st.integers(0, int(duration * 100))) / 100
        unblocked = [j for j in range(n) if parents[j] == (i, False)]
        via_meta = [j for j in range(n) if parents[j] == (i, True)]
        units.append(unit(i, f"u{i}", float(i), duration, unblocked, via_meta, rmeta,
                          old=draw(st.booleans())))  # fmt: skip
    return units, parents


@FAST
@given(runs())
def test_random_runs_match_networkx(case) -> None:
    units, parents = case
    w = read(page(units))
    # the expected graph, built here from the unit list
    index: dict[str, int] = {}
    costs: list[float] = []
    needs: list[list[int]] = []
    split = {p[0] for p in parents if p is not None and p[1]}

    def add(name: str, cost: float, wants: list[str]) -> None:
        index[name] = len(costs)
        costs.append(cost)
        needs.append(wants)  # type: ignore[arg-type]

    for u, parent in zip(units, parents, strict=True):
        name = f"u{u['i']} v1.0.0 lib"
        wants = []
        if parent is not None:
            other = f"u{parent[0]} v1.0.0 lib"
            wants = [other + (" (metadata)" if parent[1] else "")]
        if u["i"] in split:
            add(name + " (metadata)", u["rmeta_time"], wants)
            add(name, u["duration"] - u["rmeta_time"], [name + " (metadata)"])
        else:
            add(name, u["duration"], wants)
    rows = [[index[n] for n in row] for row in needs]
    assert sorted(w.graph.ids) == sorted(index)
    report = analyze_workload(w)
    assert report.work == pytest.approx(sum(u["duration"] for u in units))
    assert report.depth == pytest.approx(nx_depth(costs, rows))
    g = nx.DiGraph()
    g.add_nodes_from(index)
    g.add_edges_from((n, m) for m, row in zip(index, needs, strict=True) for n in row)
    assert edges(w) == set(g.edges)


@FAST
@given(st.binary(max_size=300), st.integers(0, 400))
def test_mutated_pages_end_in_a_workload_or_a_located_error(junk: bytes, at: int) -> None:
    data = page([unit(0, "a", 0, 1.0, rmeta_units=[1], rmeta=0.5), unit(1, "b", 0.5, 1.0)])
    mutated = data[:at] + junk + data[at:]
    try:
        read_path(Path("/nonexistent/cargo-timing.html"), mutated,
                  limits=Limits(max_steps=100, max_dependencies=1000),
                  options=ReadOptions(fmt="cargo-timings"))  # fmt: skip
    except WorkloadError as exc:
        assert str(exc).split(": error: ", 1)[1]


def test_labels_that_mimic_generated_names_stay_apart() -> None:
    # a page (hostile or odd) whose labels read like the names the reader makes
    units = [unit(0, "x", 0, 1.0, rmeta_units=[1], rmeta=0.5, target=""),
             unit(1, "x v1.0.0 (metadata)", 0, 1.0, target="", ),
             unit(2, "x", 0, 1.0, target=" #3"), unit(3, "x", 0, 1.0, target=" #3")]  # fmt: skip
    for u in units[1:]:
        u["version"] = ""
    w = read(page(units))
    assert len(set(w.graph.ids)) == w.graph.n == 5


LEAF = st.none() | st.booleans() | st.integers(-2, 6) | st.floats() | st.sampled_from(["", "a"])
VALUE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
KEYS = ["i", "name", "version", "target", "start", "duration", "rmeta_time", "unblocked_units",
        "unlocked_units", "unblocked_rmeta_units", "unlocked_rmeta_units", "sections"]  # fmt: skip


@FAST
@given(st.lists(st.dictionaries(st.sampled_from(KEYS), VALUE | st.lists(st.integers(-1, 5)),
                                max_size=8) | VALUE, max_size=5))  # fmt: skip
def test_any_unit_shape_ends_in_a_workload_or_a_located_error(units: list) -> None:
    try:
        read(page(units, indent=None))
    except WorkloadError as exc:
        assert str(exc).split(": error: ", 1)[1]


def test_a_wrong_unit_is_located_at_its_own_line(run_cli, tmp_path: Path) -> None:
    units = [unit(0, "a", 0, 1.0, unblocked=[2]), unit(1, "b", 0, 1.0),
             unit(2, "c", 1, 1.0, unblocked=[7])]  # fmt: skip
    data = page(units)
    text = data.decode()
    brace = text.rfind("{", 0, text.index('"name": "c"'))  # the third unit's opening brace
    path = tmp_path / "cargo-timing.html"
    path.write_bytes(data)
    result = run_cli("analyze", str(path))
    assert result.exit_code == 2 and "unblocks unit 7" in result.stderr
    assert f"cargo-timing.html:{text.count(chr(10), 0, brace) + 1}: error:" in result.stderr
