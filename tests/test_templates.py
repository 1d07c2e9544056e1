"""Templated workloads: expansion against hand-written equivalents, and every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from serialscale import load_workload, parse_workload
from serialscale.base.errors import WorkloadError
from serialscale.sources.expressions import ExpressionError, Template, compile_expression

from .conftest import WORKLOADS

SWEEPS = WORKLOADS / "sweeps"


def edges(workload) -> set[tuple[str, str]]:
    g = workload.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def same_graph(a, b) -> None:
    assert sorted(a.graph.ids) == sorted(b.graph.ids)
    assert dict(zip(a.graph.ids, a.graph.costs, strict=True)) == dict(
        zip(b.graph.ids, b.graph.costs, strict=True)
    )
    assert edges(a) == edges(b)


def test_rule110_expands_like_its_hand_written_twin() -> None:
    templated = load_workload(SWEEPS / "rule110.yaml", {"width": "3", "steps": "2"})
    lines = ["steps:"]
    lines += [f"  - {{id: c0_{i}, cost: 0}}" for i in range(3)]
    for t in (1, 2):
        for i in range(3):
            needs = [f"c{t - 1}_{j}" for j in (i - 1, i, i + 1) if 0 <= j < 3]
            lines.append(f"  - {{id: c{t}_{i}, needs: [{', '.join(needs)}]}}")
    lines.append("  - {id: sink, cost: 0, needs: [c2_0, c2_1, c2_2]}")
    same_graph(templated, parse_workload("\n".join(lines), "hand.yaml"))
    assert templated.extra["params"] == {"width": 3, "steps": 2}


def test_tree_reduction_and_cost_expressions() -> None:
    text = """
params: {n: 4}
steps:
  - {id: "r0_{i}", foreach: {i: "range(n)"}, cost: "i * 2"}
  - id: "r{l}_{i}"
    foreach: {l: "range(1, floor(log2(n)) + 1)", i: "range(n // 2**l)"}
    cost: "max(1, l) + 0.5"
    needs: ["r{l-1}_{2*i}", "r{l-1}_{2*i+1}"]
"""
    hand = """
steps:
  - {id: r0_0, cost: 0}
  - {id: r0_1, cost: 2}
  - {id: r0_2, cost: 4}
  - {id: r0_3, cost: 6}
  - {id: r1_0, cost: 1.5, needs: [r0_0, r0_1]}
  - {id: r1_1, cost: 1.5, needs: [r0_2, r0_3]}
  - {id: r2_0, cost: 2.5, needs: [r1_0, r1_1]}
"""
    same_graph(parse_workload(text, "t.yaml"), parse_workload(hand, "h.yaml"))


def test_nested_loops_use_earlier_variables_and_need_foreach() -> None:
    text = """
params: {n: 3}
steps:
  - {id: "a{i}_{j}", foreach: {i: "range(n)", j: "range(i)"}}
  - id: all
    needs: [{id: "a{i}_{j}", foreach: {i: "range(n)", j: "range(i)"}}]
"""
    wl = parse_workload(text, "t.yaml")
    assert list(wl.graph.ids) == ["a1_0", "a2_0", "a2_1", "all"]
    assert edges(wl) == {("a1_0", "all"), ("a2_0", "all"), ("a2_1", "all")}


def test_braces_escape_and_integral_floats() -> None:
    assert Template("x{{{i}}}").render({"i": 2}) == "x{2}"
    assert Template("n{i / 2}").render({"i": 4}) == "n2"
    with pytest.raises(ExpressionError, match="must be an integer"):
        Template("n{i / 2}").render({"i": 3})


@pytest.mark.parametrize(
    "text",
    ["__import__('os')", "a.b", "x[0]", "'s'", "1 if 1 else 2", "lambda: 1", "f(1)",
     "a < b", "[1]", "open('x')"],
)  # fmt: skip
def test_expressions_reject_everything_else(text: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(text)({"a": 1, "b": 2, "x": 3})


def test_expression_functions() -> None:
    env = {"n": 10}
    assert compile_expression("min(n, 3) + max(1, 2) + abs(-n)")(env) == 15
    assert compile_expression("floor(log2(n)) + ceil(sqrt(n))")(env) == 7
    assert compile_expression("-n ** 2 % 7 // 1")(env) == (-(10**2)) % 7 // 1


BAD = {
    # name: (document, message fragments, line)
    "unknown-name": (
        'params: {n: 2}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(m)"}}\n',
        ["unknown name 'm'"],
        3,
    ),
    "division-by-zero": (
        'params: {n: 2}\nsteps:\n  - id: "a{i}"\n    foreach: {i: "range(n)"}\n    cost: "1 / i"\n',
        ["division by zero", "with i=0", "'a{i}'"],
        3,
    ),
    "non-integer-id": (
        'params: {n: 2}\nsteps:\n  - {id: "a{i / 4}", foreach: {i: "range(1, n)"}}\n',
        ["must be an integer", "with i=1"],
        3,
    ),
    "range-too-large": (
        'params: {n: 100000000}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(n)"}}\n',
        ["max-steps"],
        3,
    ),
    "range-not-integer": (
        'params: {n: 2.5}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(n)"}}\n',
        ["range needs integers"],
        3,
    ),
    "unknown-need": (
        'params: {n: 3}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(n)"}}\n'
        '  - id: "b{i}"\n    foreach: {i: "range(n)"}\n    needs: ["a{i+1}"]\n',
        ["unknown step 'a3'", "from need 'a{i+1}' of step template 'b{i}' with i=2"],
        6,
    ),
    "duplicate-from-template": (
        'params: {n: 3}\nsteps:\n  - {id: "a{i // 2}", foreach: {i: "range(n)"}}\n',
        ["duplicate step id 'a0'", "with i=1"],
        3,
    ),
    "constant-id-in-loop": (
        'params: {n: 3}\nsteps:\n  - {id: "a", foreach: {i: "range(n)"}}\n',
        ["every step would have the same id"],
        3,
    ),
    "bad-expression": (
        'params: {n: 3}\nsteps:\n  - {id: "a{n.real}"}\n',
        ["Attribute is not allowed"],
        3,
    ),
    "bad-param-value": ("params: {n: abc}\nsteps:\n  - {id: a}\n", ["must be a number"], 1),
    "loop-hides-param": (
        'params: {n: 3}\nsteps:\n  - {id: "a{n}", foreach: {n: "range(3)"}}\n',
        ["hides the param"],
        3,
    ),
    "foreach-not-range": (
        'params: {n: 3}\nsteps:\n  - {id: "a{i}", foreach: {i: "n + 1"}}\n',
        ["must be a range"],
        3,
    ),
    "unknown-key": (
        'params: {n: 3}\nsteps:\n  - {id: "a{i}", for_each: {i: "range(n)"}}\n',
        ["unknown key 'for_each'", "did you mean 'foreach'?"],
        3,
    ),
    "runaway": (
        "params: {n: 3000}\nsteps:\n"
        '  - {id: "a{i}_{j}", foreach: {i: "range(n)", j: "range(n)"}}\n',
        ["--max-steps"],
        3,
    ),
    "negative-cost": (
        'params: {n: 3}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(n)"}, cost: "i - 1"}\n',
        ["expected a finite number >= 0", "with i=0"],
        3,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_template_errors_are_located(case: str, tmp_path: Path, run_cli) -> None:
    text, fragments, line = BAD[case]
    path = tmp_path / "t.yaml"
    path.write_text(text)
    # a limit the runaway case (9,000,000 steps) passes after 100,000 expanded ones; every
    # other case is a few steps
    result = run_cli("analyze", str(path), "--max-steps", "100000")
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{path}:{line}:"), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_max_steps_flag(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "t.yaml"
    path.write_text('params: {n: 50}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(n)"}}\n')
    assert run_cli("analyze", str(path), "--max-steps", "50").exit_code == 0
    result = run_cli("analyze", str(path), "--max-steps", "49")
    assert result.exit_code == 2 and "--max-steps" in result.stderr


def test_param_overrides(run_cli) -> None:
    result = run_cli("analyze", str(SWEEPS / "tree_reduction.yaml"), "--param", "n=1024",
                     "-f", "json")  # fmt: skip
    assert result.exit_code == 0
    assert '"depth": 10,' in result.stdout
    bad = run_cli("analyze", str(SWEEPS / "tree_reduction.yaml"), "--param", "m=3")
    assert bad.exit_code == 2 and "unknown parameter 'm'" in bad.stderr
    bad = run_cli("analyze", str(SWEEPS / "tree_reduction.yaml"), "--param", "n=x")
    assert bad.exit_code == 2 and "expects a number" in bad.stderr


def test_optional_need_dropped_only_when_missing() -> None:
    text = (
        'params: {n: 2}\nsteps:\n  - {id: "a{i}", foreach: {i: "range(n)"}, needs: ["a{i-1}?"]}\n'
    )
    wl = parse_workload(text, "t.yaml")
    assert edges(wl) == {("a0", "a1")}


def test_plain_files_reject_params(run_cli) -> None:
    with pytest.raises(WorkloadError, match="templated"):
        load_workload(WORKLOADS / "ci_build.yaml", {"n": "3"})
