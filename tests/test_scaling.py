"""Growth classification and `serialscale scale`."""

from __future__ import annotations

import json
import math
import random

import pytest

from serialscale.cli.options import parse_sweep
from serialscale.core.growth import fit_growth
from serialscale.run.sweep import run_sweep

from .conftest import WORKLOADS

SWEEPS = WORKLOADS / "sweeps"
ALGOS = str(WORKLOADS / "algorithms.py")
SIZES = {
    "four": [8, 16, 32, 64],
    "five-from-4": [4, 8, 16, 32, 64],
    "wide": [2**k for k in range(3, 13)],
    "not-powers": [10, 30, 100, 300, 1000],
}
EXACT = {
    "n - 1": (lambda n: n - 1, "polynomial", 1.0),
    "3n": (lambda n: 3 * n, "polynomial", 1.0),
    "n^2": (lambda n: n * n, "polynomial", 2.0),
    "n^2 + n": (lambda n: n * n + n, "polynomial", None),
    "log2 n": (lambda n: math.log2(n), "logarithmic", None),
    "2 log2 n - 1": (lambda n: 2 * math.log2(n) - 1, "logarithmic", None),
    "2": (lambda n: 2, "constant", None),
    "0": (lambda n: 0, "constant", None),
    "log2^2 n": (lambda n: math.log2(n) ** 2, "polylogarithmic", 2.0),
}


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
@pytest.mark.parametrize("sizes", sorted(SIZES))
@pytest.mark.parametrize("series", sorted(EXACT))
def test_exact_series(series: str, sizes: str) -> None:
    f, cls, exponent = EXACT[series]
    xs = SIZES[sizes]
    g = fit_growth(xs, [f(x) for x in xs])
    assert g.cls == cls
    if exponent is not None:
        assert g.exponent == pytest.approx(exponent, abs=0.011)
    for x in xs:
        assert g.predict(x) == pytest.approx(f(x), rel=0.05, abs=0.05)


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(
    ("f", "cls"),
    [
        (lambda n: n, "polynomial"),
        (lambda n: 5 * math.log2(n), "logarithmic"),
        (lambda n: 7, "constant"),
        (lambda n: n**1.5, "polynomial"),
    ],
)
def test_noisy_series(f, cls: str, seed: int) -> None:
    rnd = random.Random(seed)
    xs = SIZES["wide"]
    assert fit_growth(xs, [f(x) * (1 + rnd.uniform(-0.02, 0.02)) for x in xs]).cls == cls


def test_bitonic_depth_is_polylogarithmic() -> None:
    xs = SIZES["wide"]
    g = fit_growth(xs, [math.log2(x) * (math.log2(x) + 1) / 2 for x in xs])
    assert g.cls == "polylogarithmic" and 1.5 <= g.exponent <= 2.2


def test_ties_prefer_the_simpler_model() -> None:
    # A flat series with one wobble: constant, not a fitted curve through noise.
    assert fit_growth([8, 16, 32, 64], [10, 10, 10.01, 10]).cls == "constant"
    # Three points exactly on a line in log2 n: logarithmic, though a power law fits too.
    assert fit_growth([2, 4, 8], [1, 2, 3]).cls == "logarithmic"


def test_too_few_points() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_growth([8, 16], [1, 2])
    with pytest.raises(ValueError, match="at least 3"):
        fit_growth([8, 8, 16], [1, 1, 2])


def test_parse_sweep() -> None:
    assert parse_sweep("n=8..64") == ("n", [8, 16, 32, 64])
    assert parse_sweep("n=5..40") == ("n", [8, 16, 32])
    assert parse_sweep("steps=1,2,3.5") == ("steps", [1, 2, 3.5])
    for bad in ("n", "n=8..4", "n=a..b", "n=1,x,3", "n=8,16", "9=1,2,3", "n=0..8"):
        with pytest.raises(ValueError):
            parse_sweep(bad)


EXPECTED = [
    ("rule110.yaml", "steps=8..128", "polynomial", "serial"),
    ("rule110.yaml", "width=8..128", "constant", "parallelizable"),
    ("tree_reduction.yaml", "n=8..1024", "logarithmic", "parallelizable"),
    ("scan_sequential.yaml", "n=8..256", "polynomial", "serial"),
    ("scan_blelloch.yaml", "n=8..256", "logarithmic", "parallelizable"),
    ("value_iteration.yaml", "sweeps=4..64", "polynomial", "serial"),
    ("nbody.yaml", "steps=4..64", "polynomial", "serial"),
    ("edit_distance.yaml", "n=4..64", "polynomial", "serial"),
    ("bitonic.yaml", "n=4..256", "polylogarithmic", "parallelizable"),
]


@pytest.mark.parametrize(("name", "sweep", "cls", "verdict"), EXPECTED)
def test_example_sweeps(name: str, sweep: str, cls: str, verdict: str) -> None:
    parameter, values = parse_sweep(sweep)
    report = run_sweep(str(SWEEPS / name), parameter, values)
    assert report.growth.depth.cls == cls
    assert report.verdict == verdict


def test_blelloch_depth_closed_form() -> None:
    report = run_sweep(str(SWEEPS / "scan_blelloch.yaml"), "n", [8, 16, 32, 64])
    assert [p.depth for p in report.points] == [2 * k for k in (3, 4, 5, 6)]
    # n - 1 adds going up; coming down, the right children: n/2 + n/4 + ... + 1 = n - 1.
    assert [p.work for p in report.points] == [2 * (n - 1) for n in (8, 16, 32, 64)]


def test_edit_distance_depth_is_n_plus_m_plus_1() -> None:
    report = run_sweep(str(SWEEPS / "edit_distance.yaml"), "n", [3, 5, 9], params={"m": "4"})
    assert [p.depth for p in report.points] == [3 + 4 + 1, 5 + 4 + 1, 9 + 4 + 1]


def test_scale_json_contract_and_predict(run_cli) -> None:
    result = run_cli("scale", f"{ALGOS}:pairwise_sum", "--sweep", "n=8..256", "--predict",
                     "n=1048576", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("schema_version", "workload", "parameter", "points", "growth", "verdict"):
        assert key in data
    assert data["parameter"] == "n"
    assert [p["value"] for p in data["points"]] == [8, 16, 32, 64, 128, 256]
    assert set(data["points"][0]) >= {"value", "work", "depth", "width", "speedup_ceiling"}
    assert data["growth"]["depth"]["class"] == "logarithmic"
    assert data["growth"]["work"] == {**data["growth"]["work"], "class": "polynomial"}
    assert data["verdict"] == "parallelizable"
    assert data["complexity"] == "polylogarithmic depth (NC-like)"
    assert data["prediction"]["depth"] == pytest.approx(20)
    assert data["prediction"]["work"] == pytest.approx(2**20 - 1)


def test_scale_table_and_markdown(run_cli) -> None:
    table = run_cli("scale", str(SWEEPS / "rule110.yaml"), "--sweep", "steps=4,8,16,32")
    assert table.exit_code == 0
    assert "verdict: inconclusive" in table.stdout and "only 4 sizes" in table.stdout
    assert "log-log" in table.stdout
    md = run_cli("scale", str(SWEEPS / "rule110.yaml"), "--sweep", "steps=4,8,16", "-f",
                 "markdown")  # fmt: skip
    assert md.stdout.startswith("### serialscale scale")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--sweep", "n=8"], "at least 3"),
        (["--sweep", "n=8..64", "--predict", "m=3"], "--predict expects n=VALUE"),
        (["--sweep", "n=8..64", "--param", "n=3"], "do not also pass it"),
        (["--sweep", "q=8..64"], "unknown parameter 'q'"),
    ],
)
def test_scale_errors(args: list[str], fragment: str, run_cli) -> None:
    result = run_cli("scale", str(SWEEPS / "tree_reduction.yaml"), *args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and result.stdout == ""


def test_scale_point_error_names_the_value(run_cli, tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        'params: {n: 4}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(8 // (n - 16))"}}\n'
    )
    result = run_cli("scale", str(path), "--sweep", "n=4..32")
    assert result.exit_code == 2 and "at n=16" in result.stderr


def test_traced_sweeps_carry_their_caveats(run_cli) -> None:
    result = run_cli("scale", f"{ALGOS}:running_max", "--sweep", "n=8..128", "-f", "json",
                     "--control", "dataflow")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] == 2 and isinstance(data["warnings"], list)
    # a running max branches n - 1 times on traced values at every size
    assert [p["control_decisions"] for p in data["points"]] == [n - 1 for n in (8, 16, 32, 64, 128)]
    assert all(p["escapes"] == 0 for p in data["points"])
    assert len(data["notes"]) == 1 and "branches on traced values" in data["notes"][0]
    table = run_cli("scale", f"{ALGOS}:running_max", "--sweep", "n=8..128", "--control",
                    "dataflow")  # fmt: skip
    assert "note: " in table.stdout and "branches on traced values" in table.stdout


def test_templated_sweeps_have_no_traced_keys(run_cli) -> None:
    result = run_cli("scale", str(SWEEPS / "tree_reduction.yaml"), "--sweep", "n=8..128",
                     "-f", "json")  # fmt: skip
    data = json.loads(result.stdout)
    assert "notes" not in data and "control_decisions" not in data["points"][0]
    assert data["growth"]["depth"]["runner_up"]["class"] != "logarithmic"


def test_repeat_uses_the_median_cost_of_each_step(tmp_path, run_cli) -> None:
    counter = tmp_path / "count.txt"
    counter.write_text("0")
    module = tmp_path / "jitter.py"
    module.write_text(f"""
import serialscale as ss
from pathlib import Path

COUNTER = Path({str(counter)!r})

def chain(n: int = 4):
    run = int(COUNTER.read_text())
    COUNTER.write_text(str(run + 1))
    # costs of the runs: 1, 3, 2 (repeating): the median is 2 whatever the order
    cost = (1, 3, 2)[run % 3]

    @ss.task(cost=cost)
    def step(x):
        return x

    x = ss.input(0)
    for _ in range(n):
        x = step(x)
    return x
""")
    result = run_cli("scale", f"{module}:chain", "--sweep", "n=8..128", "--repeat", "3",
                     "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["repeat"] == 3
    assert [p["depth"] for p in data["points"]] == [2 * n for n in (8, 16, 32, 64, 128)]
    # depths of the three runs: n, 3n, 2n: (3n - n) / 2n = 1
    assert all(p["spread"] == pytest.approx(1.0) for p in data["points"])
    table = run_cli("scale", f"{module}:chain", "--sweep", "n=8..128", "--repeat", "3")
    assert "depth spread" in table.stdout and "100.0%" in table.stdout
    assert run_cli("scale", f"{module}:chain", "--sweep", "n=8..64", "--repeat", "0").exit_code == 2


def _networkx_depth_and_work(workload) -> tuple[float, float]:
    """Depth (costs on nodes, moved onto edges) and work by networkx, independently."""
    import networkx as nx

    g, h = workload.graph, nx.DiGraph()
    for i in range(g.n):
        h.add_edge(("in", i), ("out", i), weight=g.costs[i])
        for j in g.preds(i):
            h.add_edge(("out", j), ("in", i), weight=0)
    return nx.dag_longest_path_length(h), sum(g.costs)


@pytest.mark.parametrize(
    ("name", "param", "sizes", "depth", "work"),
    [
        ("tree_reduction.yaml", "n", [8, 64, 512], lambda n: math.log2(n), lambda n: n - 1),
        ("scan_blelloch.yaml", "n", [8, 64, 256], lambda n: 2 * math.log2(n),
         lambda n: 2 * (n - 1)),
        ("scan_sequential.yaml", "n", [8, 64, 256], lambda n: n, lambda n: n),
    ],
)  # fmt: skip
def test_canonical_families_have_their_closed_forms(name, param, sizes, depth, work) -> None:
    """The sweep's exact work and depth at several sizes: closed forms, and networkx on the
    same graphs."""
    from serialscale.sources import load_workload

    report = run_sweep(str(SWEEPS / name), param, sizes)
    for size, point in zip(sizes, report.points, strict=True):
        nx_depth, nx_work = _networkx_depth_and_work(
            load_workload(SWEEPS / name, params={param: str(size)})
        )
        assert point.depth == nx_depth == depth(size)
        assert point.work == nx_work == work(size)


def test_left_out_branches_make_a_parallel_depth_inconclusive() -> None:
    """Data-flow mode's depth is a lower bound when branches were left out (any number of
    them: a decision can make plain values traced from then on): enough to call an
    implementation serial, never to call it parallel."""
    from serialscale.core.growth import assess
    from serialscale.documents.report import ScalePoint
    from serialscale.run.sweep import recording

    xs = [8.0, 16.0, 32.0, 64.0, 128.0]
    flat, linear = [1.0] * 5, [x - 1 for x in xs]

    def points(branches: list[int]) -> list[ScalePoint]:
        return [ScalePoint(value=x, steps=1, work=1, depth=1, width=1, speedup_ceiling=1,
                           control_decisions=b, escapes=0)
                for x, b in zip(xs, branches, strict=True)]  # fmt: skip

    growing = recording(points([int(x) - 1 for x in xs]), "dataflow")
    fixed = recording(points([3] * 5), "dataflow")
    none = recording(points([0] * 5), "dataflow")
    assert (growing.bound, fixed.bound, none.bound) == ("lower", "lower", "exact")
    judged = assess(xs, flat, xs, "n", growing)[2]
    assert judged.verdict == "inconclusive"
    assert any("only a lower bound on the depth as written" in w and "--control strict" in w
               for w in judged.warnings)  # fmt: skip
    assert assess(xs, flat, xs, "n", fixed)[2].verdict == "inconclusive"
    assert assess(xs, flat, xs, "n", none)[2].verdict == "parallelizable"
    assert assess(xs, linear, xs, "n", growing)[2].verdict == "serial"


def test_a_running_max_with_if_is_never_called_parallel_nor_serial_from_one_bound(run_cli) -> None:
    dataflow = run_cli("scale", f"{ALGOS}:running_max", "--sweep", "n=8..128", "-f", "json",
                       "--control", "dataflow")  # fmt: skip
    data = json.loads(dataflow.stdout)
    assert data["growth"]["depth"]["class"] == "constant"  # the comparisons alone
    assert data["verdict"] == "inconclusive" and data["bound"] == "lower"
    assert any("--control strict" in w for w in data["warnings"])
    strict = run_cli("scale", f"{ALGOS}:running_max", "--sweep", "n=8..128", "-f", "json",
                     "--control", "strict")  # fmt: skip
    upper = json.loads(strict.stdout)
    # n - 1 as written, but strict over-approximates: an upper bound cannot show serial
    assert upper["growth"]["depth"]["class"] == "polynomial"
    assert upper["verdict"] == "inconclusive" and upper["bound"] == "upper"
    assert upper["control"] == "strict"
    assert any("only an upper bound" in w and "data-flow mode" in w for w in upper["warnings"])
