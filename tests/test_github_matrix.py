"""GitHub Actions matrices, reusable workflows and job names, each rule a test written from
GitHub's documentation ("Running variations of jobs in a workflow", "Reusing workflows")
and from the matrix builder of ``actions/runner`` (src/Sdk/WorkflowParser/Conversion/
MatrixBuilder.cs, JobNameBuilder.cs), plus realistic workflows whose graphs are written out
by hand and measured with networkx."""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources import load_workload
from serialscale.sources.importers.github_actions import MAX_COMBINATIONS, expand_matrix
from serialscale.sources.registry import ReadOptions

# --- the documentation's worked examples ---------------------------------------------------


def test_doc_include_example_makes_six_jobs() -> None:
    # "Expanding or adding matrix configurations": the fruit/animal example, its six
    # combinations exactly as the documentation lists them
    matrix = {"fruit": ["apple", "pear"], "animal": ["cat", "dog"],
              "include": [{"color": "green"}, {"color": "pink", "animal": "cat"},
                          {"fruit": "apple", "shape": "circle"}, {"fruit": "banana"},
                          {"fruit": "banana", "animal": "cat"}]}  # fmt: skip
    assert expand_matrix(matrix) == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_doc_later_entries_never_extend_combinations_earlier_entries_made() -> None:
    # "{fruit: banana, animal: cat} ... does not add to the {fruit: banana} matrix
    # combination because that combination was not one of the original matrix combinations"
    include = [{"fruit": "banana"}, {"fruit": "banana", "animal": "cat"}]
    combos = expand_matrix({"fruit": ["apple"], "include": include})
    assert combos == [{"fruit": "apple"}, {"fruit": "banana"},
                      {"fruit": "banana", "animal": "cat"}]  # fmt: skip


def test_doc_perl_example_makes_seven_jobs() -> None:
    # "An example closer to reality, will create seven jobs, testing five versions for perl
    # and only two for macos"
    matrix = {"os": ["ubuntu-latest"], "perl": ["5.16", "5.20", "5.26", "5.30", "latest"],
              "include": [{"os": "macos-latest", "perl": "5.26"},
                          {"os": "macos-latest", "perl": "latest"}]}  # fmt: skip
    combos = expand_matrix(matrix)
    assert len(combos) == 7
    assert [c["os"] for c in combos].count("macos-latest") == 2


def test_doc_expanding_adds_a_value_to_one_combination() -> None:
    # "the workflow will run six jobs ... When the job for the os value of windows-latest and
    # node value of 16 runs, an additional variable called npm with the value of 6"
    include = [{"os": "windows-latest", "node": 16, "npm": 6}]
    combos = expand_matrix({"os": ["windows-latest", "ubuntu-latest"], "node": [12, 14, 16],
                            "include": include})  # fmt: skip
    assert len(combos) == 6
    assert [c for c in combos if "npm" in c] == [{"os": "windows-latest", "node": 16, "npm": 6}]


def test_doc_adding_a_configuration_makes_ten_jobs() -> None:
    # "this matrix will run 10 jobs, one for each combination of os and version in the
    # matrix, plus a job for the os value of windows-latest and version value of 17"
    combos = expand_matrix({"os": ["macos-latest", "windows-latest", "ubuntu-latest"],
                            "version": [12, 14, 16],
                            "include": [{"os": "windows-latest", "version": 17}]})  # fmt: skip
    assert len(combos) == 10
    assert combos[-1] == {"os": "windows-latest", "version": 17}


def test_doc_include_only_matrix_is_one_job_per_entry() -> None:
    # "If you don't specify any matrix variables, all configurations under include will run"
    combos = expand_matrix({"include": [{"site": "production", "datacenter": "site-a"},
                                        {"site": "staging", "datacenter": "site-b"}]})  # fmt: skip
    assert combos == [{"site": "production", "datacenter": "site-a"},
                      {"site": "staging", "datacenter": "site-b"}]  # fmt: skip


def test_doc_exclude_makes_nine_jobs() -> None:
    # "the following workflow will run nine jobs: one job for each of the 12 configurations,
    # minus the one excluded job ... and the two excluded jobs"
    combos = expand_matrix({"os": ["macos-latest", "windows-latest"], "version": [12, 14, 16],
                            "environment": ["staging", "production"],
                            "exclude": [{"os": "macos-latest", "version": 12,
                                         "environment": "production"},
                                        {"os": "windows-latest", "version": 16}]})  # fmt: skip
    assert len(combos) == 9


def test_doc_include_can_add_back_an_excluded_combination() -> None:
    # "All include combinations are processed after exclude. This allows you to use include
    # to add back combinations that were previously excluded."
    combos = expand_matrix({"os": ["a", "b"], "exclude": [{"os": "b"}], "include": [{"os": "b"}]})
    assert combos == [{"os": "a"}, {"os": "b"}]


def test_doc_order_of_jobs_follows_the_order_of_the_variables() -> None:
    # "the above matrix will create the jobs in the following order" (version first)
    combos = expand_matrix({"version": [10, 12, 14], "os": ["ubuntu-latest", "windows-latest"]})
    assert combos == [{"version": v, "os": o} for v in (10, 12, 14)
                      for o in ("ubuntu-latest", "windows-latest")]  # fmt: skip


def test_exclude_compares_nested_values_leaf_by_leaf_and_loosely() -> None:
    # actions/runner builds one `matrix.a.b == literal` per leaf of an exclude entry; `==` is
    # the expression language's (strings ignore case, numbers and strings compare as numbers)
    combos = expand_matrix({"cfg": [{"os": "Linux", "v": 1}, {"os": "mac", "v": 2}],
                            "py": ["3.10", "3.11"],
                            "exclude": [{"cfg": {"os": "linux"}, "py": 3.1}]})  # fmt: skip
    assert combos == [{"cfg": {"os": "Linux", "v": 1}, "py": "3.11"},
                      {"cfg": {"os": "mac", "v": 2}, "py": "3.10"},
                      {"cfg": {"os": "mac", "v": 2}, "py": "3.11"}]  # fmt: skip


def test_matrices_github_refuses_are_located_errors(tmp_path: Path) -> None:
    for matrix, message in [
        ("{os: []}", "has no values"),
        ("{os: linux}", "must be a list"),
        ("{include: 5}", "'include' must be a list"),
        ("{include: [5]}", "must be a mapping"),
        ("{os: [a], exclude: [{arch: x}]}", "exclude key 'arch' is not an axis"),
        ("{}", "at least one axis"),
    ]:
        path = _workflow(tmp_path, f"jobs:\n  t:\n    strategy:\n      matrix: {matrix}\n")
        with pytest.raises(WorkloadError) as info:
            load_workload(path)
        assert message in str(info.value)
        assert str(info.value).startswith(f"{path}:5:")


# --- a reference implementation written from the documentation's sentence alone -------------


def reference(axes: dict[str, list], exclude: list[dict], include: list[dict]) -> list[dict]:
    """ "For each object in the include list, the key:value pairs in the object will be added
    to each of the matrix combinations if none of the key:value pairs overwrite any of the
    original matrix values. If the object cannot be added to any of the matrix combinations,
    a new matrix combination will be created instead. [...] the original matrix values will
    not be overwritten, but added matrix values can be overwritten." (flat values only)"""
    rows = itertools.product(*axes.values()) if axes else ()  # no axes: no originals
    originals = [dict(zip(axes, row, strict=True)) for row in rows]
    originals = [c for c in originals
                 if not any(all(c[k] == v for k, v in e.items()) for e in exclude)]  # fmt: skip
    result = [(c, dict(c)) for c in originals]  # (original values, all values)
    added = []
    for entry in include:
        fits = [full for orig, full in result
                if all(orig.get(k, v) == v for k, v in entry.items() if k in orig)]  # fmt: skip
        if fits:
            for full in fits:
                full.update({k: v for k, v in entry.items() if k not in axes})
        else:
            added.append(dict(entry))
    return [full for _, full in result] + added


_VALUES = st.sampled_from(["a", "b", "c", 10, 20])
_KEYS = st.sampled_from(["os", "py", "arch", "extra", "flag"])


@st.composite
def matrices(draw):
    names = draw(st.lists(st.sampled_from(["os", "py", "arch"]), unique=True, max_size=3))
    axes = {n: draw(st.lists(_VALUES, min_size=1, max_size=3, unique=True)) for n in names}
    exclude = draw(st.lists(st.dictionaries(st.sampled_from(names), _VALUES, min_size=1),
                            max_size=2)) if names else []  # fmt: skip
    include = draw(st.lists(st.dictionaries(_KEYS, _VALUES, min_size=1), max_size=4,
                            min_size=0 if names else 1))  # fmt: skip
    return axes, exclude, include


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
@settings(max_examples=150, deadline=None)
@given(matrices())
def test_expansion_agrees_with_the_documented_rule(case) -> None:
    axes, exclude, include = case
    matrix = {**axes, "exclude": exclude, "include": include}
    expected = reference(axes, exclude, include)
    if not axes or not exclude:
        matrix.pop("exclude")
    assert expand_matrix(matrix) == expected


# --- workflows -----------------------------------------------------------------------------


def _workflow(root: Path, body: str, name: str = "ci.yml", on: str = "push") -> Path:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"on: {on}\n{textwrap.dedent(body)}")
    return path


def _costs(w) -> dict[str, float]:
    return dict(zip(w.graph.ids, w.graph.costs, strict=True))


def _edges(w) -> set[tuple[str, str]]:
    g = w.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def _networkx(costs: dict[str, float], edges: set[tuple[str, str]]) -> tuple[float, float]:
    """Work and depth of a hand-written graph (node costs moved onto split edges)."""
    h = nx.DiGraph()
    for v, c in costs.items():
        h.add_edge(("in", v), ("out", v), weight=c)
    for a, b in edges:
        h.add_edge(("out", a), ("in", b), weight=0)
    assert nx.is_directed_acyclic_graph(h)
    return sum(costs.values()), nx.dag_longest_path_length(h)


def test_include_only_matrix_jobs_and_their_names(tmp_path: Path) -> None:
    path = _workflow(tmp_path, """\
        jobs:
          cross:
            strategy:
              matrix:
                include:
                  - {target: i686, os: ubuntu-latest}
                  - {target: armv7, os: ubuntu-24.04-arm}
                  - {target: aarch64-windows, os: windows-11-arm}
          named:
            name: check (${{ matrix.os }})
            strategy: {matrix: {include: [{os: windows-latest}, {os: ubuntu-latest}]}}
          after: {needs: [cross, named]}
    """)  # fmt: skip
    w = load_workload(path)
    costs = _costs(w)
    jobs = {k for k, c in costs.items() if c == 1}
    assert jobs == {"cross (i686, ubuntu-latest)", "cross (armv7, ubuntu-24.04-arm)",
                    "cross (aarch64-windows, windows-11-arm)", "named (windows-latest)",
                    "named (ubuntu-latest)", "after"}  # fmt: skip
    expected = {(c, "cross") for c in jobs if c.startswith("cross (")}
    expected |= {(c, "named") for c in jobs if c.startswith("named (")}
    expected |= {("cross", "after"), ("named", "after")}
    assert _edges(w) == expected
    report = analyze_workload(w)
    assert (report.work, report.depth) == _networkx(costs, expected) == (6, 2)


def test_display_names_are_githubs(tmp_path: Path) -> None:
    # JobNameBuilder: "name (v1, v2)" from the original axes' scalar values in order (nested
    # values depth first, empty strings left out, include-added values not listed), cut to
    # 100 characters; a name with an expression is evaluated instead, nothing appended
    path = _workflow(tmp_path, """\
        jobs:
          plain:
            strategy:
              matrix:
                os: [ubuntu]
                cfg: [{name: fast, args: ''}]
                flag: ['']
                include: [{os: ubuntu, extra: added}]
          named:
            name: Test
            strategy: {matrix: {py: [3.0, 3.14, '3.10', true]}}
          expr:
            name: Test ${{ matrix.os }} ${{ matrix.debug && 'debug' || '' }}
            strategy: {matrix: {os: [linux], debug: [false, true]}}
          hidden:
            name: Build wheels${{ '' }}
            strategy: {matrix: {os: [a, b]}}
          long:
            name: LONG_NAME
            strategy: {matrix: {v: [x]}}
    """.replace("LONG_NAME", "n" * 99))  # fmt: skip
    timing = tmp_path / "run.json"
    shown = ["plain (ubuntu, fast)", "Test (3)", "Test (3.14)", "Test (3.10)", "Test (true)",
             "Test linux", "Test linux debug", "Build wheels", "Build wheels",
             "n" * 97 + "..."]  # fmt: skip
    timing.write_text(json.dumps({"jobs": [
        {"name": n, "startedAt": "2026-01-01T00:00:00Z", "completedAt": f"2026-01-01T00:0{k}:00Z"}
        for k, n in enumerate(shown)]}))  # fmt: skip
    w = load_workload(path, read=ReadOptions(durations=str(timing)))
    costs = {k: v for k, v in _costs(w).items() if " (" in k}
    assert costs == {"plain (ubuntu, fast)": 0, "named (3)": 60, "named (3.14)": 120,
                     "named (3.10)": 180, "named (true)": 240, "expr (linux, false)": 300,
                     "expr (linux, true)": 360, "hidden (a)": 420, "hidden (b)": 480,
                     "long (x)": 540}  # fmt: skip
    assert any("10 of 10 jobs matched" in n for n in w.extra["notes"])


def test_duplicate_labels_stay_apart_and_match_durations_in_order(tmp_path: Path) -> None:
    path = _workflow(tmp_path, """\
        jobs:
          t:
            strategy: {matrix: {os: [a, a, '']}}
    """)  # fmt: skip
    timing = tmp_path / "run.json"
    timing.write_text(json.dumps({"jobs": [_rest("t (a)", 0, 5), _rest("t (a)", 0, 7),
                                            _rest("t", 0, 9)]}))  # fmt: skip
    w = load_workload(path, read=ReadOptions(durations=str(timing)))
    assert _costs(w) == {"t (a)": 5, "t (a) #2": 7, "t (3)": 9, "t": 0}


def _rest(name: str, start: int, end: int) -> dict[str, str]:
    """A job as the REST API lists it, ``start`` and ``end`` in seconds after midnight."""
    return {"name": name, "started_at": f"2026-01-01T00:{start // 60:02}:{start % 60:02}Z",
            "completed_at": f"2026-01-01T00:{end // 60:02}:{end % 60:02}Z"}  # fmt: skip


def test_durations_say_which_jobs_matched(tmp_path: Path) -> None:
    # the REST API's spelling (GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs)
    path = _workflow(tmp_path, "jobs:\n  a: {}\n  b: {needs: a}\n  c: {needs: a}\n")
    timing = tmp_path / "rest.json"
    jobs = [_rest("a", 0, 60), _rest("b", 60, 210), _rest("gone", 60, 120),
            {"name": "c", "started_at": None, "completed_at": None},
            {"name": "c", "started_at": "0001-01-01T00:00:00Z",  # gh: Go's zero time
             "completed_at": "2026-01-01T00:00:01Z"}]  # fmt: skip
    timing.write_text(json.dumps({"total_count": 5, "jobs": jobs}))
    w = load_workload(path, read=ReadOptions(durations=str(timing)))
    assert _costs(w) == {"a": 60, "b": 150, "c": 0}
    assert w.unit == "seconds"
    [note] = [n for n in w.extra["notes"] if n.startswith("--durations")]
    assert "2 of 3 jobs matched" in note and "1 cost 0 (no duration): 'c'" in note
    assert "1 job of the run matches no job of the workflow: 'gone'" in note
    assert "2 jobs of the run have no start or end time" in note


def test_a_matrix_on_a_reusable_caller_calls_it_once_per_combination(tmp_path: Path) -> None:
    _workflow(tmp_path, """\
        jobs:
          build:
            name: ${{ inputs.label || format('Build on {0}', inputs.os) }}
            if: ${{ !(inputs.os == 'windows' && inputs.fast) }}
          test: {needs: build}
    """, name="reusable.yml", on="""
  workflow_call:
    inputs:
      os: {type: string, required: true}
      label: {type: string, default: ''}
      fast: {type: boolean, default: true}""")  # fmt: skip
    path = _workflow(tmp_path, """\
        jobs:
          lint: {}
          wheels:
            name: Wheels${{ '' }}
            needs: lint
            strategy: {matrix: {os: [linux, windows], fast: [true]}}
            uses: ./.github/workflows/reusable.yml
            with: {os: '${{ matrix.os }}'}
          deploy: {needs: wheels}
    """)  # fmt: skip
    w = load_workload(path)
    costs = _costs(w)
    assert costs == {
        "lint": 1,
        "wheels (linux, true):start": 0, "wheels (linux, true)/build": 1,
        "wheels (linux, true)/test": 1, "wheels (linux, true)": 0,
        "wheels (windows, true):start": 0, "wheels (windows, true)/build": 0,
        "wheels (windows, true)/test": 1, "wheels (windows, true)": 0,
        "wheels": 0, "deploy": 1,
    }  # fmt: skip
    edges = {("lint", "wheels (linux, true):start"), ("lint", "wheels (windows, true):start"),
             ("wheels (linux, true)", "wheels"), ("wheels (windows, true)", "wheels"),
             ("wheels", "deploy")}  # fmt: skip
    for c in ("wheels (linux, true)", "wheels (windows, true)"):
        edges |= {(f"{c}:start", f"{c}/build"), (f"{c}/build", f"{c}/test"),
                  (f"{c}/test", c)}  # fmt: skip
    assert _edges(w) == edges
    report = analyze_workload(w)
    assert (report.work, report.depth) == _networkx(costs, edges) == (5, 4)
    assert any("does not run when every job succeeds" in n for n in report.notes)
    # the display names: the caller's (expression, so no values), then the inner job's,
    # whose name is evaluated from the inputs of each call
    timing = tmp_path / "run.json"
    timing.write_text(json.dumps({"jobs": [
        {"name": n, "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:10Z"}
        for n in ("lint", "Wheels / Build on linux", "Wheels / test", "Wheels / test",
                  "deploy")]}))  # fmt: skip
    timed = load_workload(path, read=ReadOptions(durations=str(timing)))
    assert sum(timed.graph.costs) == 50
    assert any("5 of 5 jobs matched" in n for n in timed.extra["notes"])


def test_reusable_inputs_default_and_are_case_insensitive(tmp_path: Path) -> None:
    _workflow(tmp_path, "jobs:\n  j:\n    name: ${{ inputs.Mode }}-${{ inputs.level }}\n",
              name="r.yml", on="""
  workflow_call:
    inputs:
      mode: {type: string, default: quick}
      level: {type: number}""")  # fmt: skip
    path = _workflow(tmp_path, """\
        jobs:
          a:
            uses: ./.github/workflows/r.yml
          b:
            uses: ./.github/workflows/r.yml
            with: {MODE: full, level: 3}
    """)  # fmt: skip
    timing = tmp_path / "t.json"
    timing.write_text(json.dumps({"jobs": [
        {"name": n, "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:01Z"}
        for n in ("a / quick-0", "b / full-3")]}))  # fmt: skip
    w = load_workload(path, read=ReadOptions(durations=str(timing)))
    assert _costs(w)["a/j"] == 1 and _costs(w)["b/j"] == 1


def test_matrix_from_a_literal_fromjson_gives_real_combinations(tmp_path: Path) -> None:
    path = _workflow(tmp_path, """\
        jobs:
          whole:
            strategy:
              matrix: ${{ fromJSON('{"os":["a","b"],"include":[{"os":"c"}]}') }}
          axis:
            strategy:
              matrix:
                v: ${{ fromJSON('[1, 2, 3]') }}
          later:
            strategy:
              matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}
    """)  # fmt: skip
    w = load_workload(path)
    jobs = sorted(k for k, c in _costs(w).items() if c == 1)
    assert jobs == ["axis (1)", "axis (2)", "axis (3)", "later", "whole (a)", "whole (b)",
                    "whole (c)"]  # fmt: skip
    [note] = [n for n in w.extra["notes"] if "later" in n]
    assert "needs.setup.outputs.matrix" in note and "counted once" in note


def test_run_time_values_are_opaque_and_noted_once_per_job(tmp_path: Path) -> None:
    path = _workflow(tmp_path, """\
        jobs:
          t:
            name: Test ${{ matrix.v }} on ${{ github.ref }}
            if: github.event_name == 'push'
            strategy:
              matrix:
                v: ['${{ needs.k.outputs.version }}', '4.19']
                exclude: [{v: '${{ vars.SKIP }}'}]
    """)  # fmt: skip
    w = load_workload(path)
    assert sorted(k for k, c in _costs(w).items() if c == 1) == [
        "t (${{ needs.k.outputs.version }})", "t (4.19)"]  # fmt: skip
    notes = [n for n in w.extra["notes"] if "'t'" in n]
    assert len(notes) == len(set(notes)) == 3
    assert any("runs only if github.event_name == 'push'" in n for n in notes)
    assert any("vars.SKIP" in n and "matching nothing" in n for n in notes)
    [values] = [n for n in notes if "uses values known only at run time" in n]
    assert "needs.k.outputs.version" in values and "github.ref" in values


def test_if_is_evaluated_as_in_a_successful_run(tmp_path: Path) -> None:
    path = _workflow(tmp_path, """\
        jobs:
          a: {}
          on-failure: {needs: a, if: failure()}
          always: {needs: a, if: "${{ always() }}"}
          never: {needs: a, if: "${{ false }}"}
          text: {needs: a, if: "ok ${{ false }}"}
    """)  # fmt: skip
    w = load_workload(path)
    assert _costs(w) == {"a": 1, "on-failure": 0, "always": 1, "never": 0, "text": 1}
    assert set(analyze_workload(w).connectors) == {"on-failure", "never"}


# --- hostile input (issue 30) ---------------------------------------------------------------


def test_an_800_byte_matrix_of_20_axes_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    axes = "".join(f"        a{i}: [0,1,2,3,4,5,6,7,8,9]\n" for i in range(20))
    path = _workflow(tmp_path, "jobs:\n  t:\n    strategy:\n      matrix:\n" + axes)
    assert path.stat().st_size < 800
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    assert f"more than GitHub's {MAX_COMBINATIONS} jobs" in str(info.value)


def test_more_than_256_combinations_after_exclude_is_refused(tmp_path: Path) -> None:
    path = _workflow(tmp_path, "jobs:\n  t:\n    strategy:\n      matrix:\n"
                     f"        a: {list(range(17))}\n        b: {list(range(16))}\n"
                     "        exclude: [{a: 0, b: 0}]\n")  # fmt: skip
    assert len(expand_matrix({"a": list(range(16)), "b": list(range(16))})) == 256
    with pytest.raises(WorkloadError, match="more than 256 jobs"):
        load_workload(path)


def test_step_limits_are_checked_while_expanding(tmp_path: Path) -> None:
    path = _workflow(tmp_path, "jobs:\n  t:\n    strategy: {matrix: {v: [1, 2, 3, 4, 5, 6]}}\n")
    with pytest.raises(WorkloadError, match="--max-steps"):
        load_workload(path, limits=Limits(max_steps=4))
    assert load_workload(path, limits=Limits(max_steps=7)).graph.n == 7


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
def test_reusable_fan_out_is_bounded(tmp_path: Path) -> None:
    values = ", ".join(str(k) for k in range(100))
    for level in range(5):
        call = "    runs-on: x\n"
        if level < 4:
            call = (f"    uses: ./.github/workflows/f{level + 1}.yml\n"
                    "    with: {x: '${{ matrix.v }}'}\n")  # fmt: skip
        _workflow(tmp_path, f"jobs:\n  j:\n    strategy: {{matrix: {{v: [{values}]}}}}\n"
                         + call, name=f"f{level}.yml", on="[push, workflow_call]")  # fmt: skip
    with pytest.raises(WorkloadError, match=r"calls of reusable workflows|--max-steps"):
        load_workload(tmp_path / ".github" / "workflows" / "f0.yml")


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("jobs:\n  1:\n    runs-on: x\n", "job id '1' must start with a letter"),
        ("jobs:\n  t:\n    strategy:\n      matrix:\n        include: 5\n", "'include' must be"),
        ("jobs:\n  t:\n    strategy:\n      matrix:\n        v: [" + "[" * 300 + "]" * 300 + "]\n",
         "nested more than"),
        ("jobs:\n  t:\n    name: ${{ " + "(" * 80 + "1" + ")" * 80 + " }}\n", "nested more than"),
        ("jobs:\n  t:\n    name: ${{ format('" + "{0}" * 3000 + "', format('" + "{0}" * 3000
         + "', 'x')) }}\n", "longer than"),
        ("jobs:\n  t:\n    name: ${{ nope.x }}\n", "unrecognized named-value"),
        ("jobs:\n  t:\n    name: ${{ format('" + "{0}" * 1500 + "', '" + "x" * 100 + "') }}\n"
         "    strategy: {matrix: {v: [" + ", ".join(map(str, range(200))) + "]}}\n",
         "in all"),
        ("jobs:\n  t:\n    strategy: {matrix: {v: [1]}, size: 2}\n", "unknown strategy key"),
        ("jobs:\n  a: {needs: b}\n  b: {needs: a}\n", "cycle"),
    ],
)  # fmt: skip
def test_small_hostile_inputs_are_located_errors(tmp_path: Path, body: str, message: str) -> None:
    path = _workflow(tmp_path, body)
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}:")


def test_step_ids_never_carry_raw_control_characters(tmp_path: Path) -> None:
    path = _workflow(
        tmp_path, 'jobs:\n  t:\n    strategy: {matrix: {v: ["a\\nb", "\\u001b[31m", "\\u2028"]}}\n'
    )
    ids = list(load_workload(path).graph.ids)
    assert ids == ["t (a\\x0ab)", "t (\\x1b[31m)", "t (\\u2028)", "t"]
    assert not any(ch in i for i in ids for ch in "\n\r\x1b\u2028")


def test_doc_matrix_with_a_remote_reusable_workflow(tmp_path: Path) -> None:
    # "Using a matrix strategy with a reusable workflow" (Reusing workflows): "a reusable
    # workflow ... run three times": a remote workflow counts as one job per combination
    path = _workflow(tmp_path, """\
        jobs:
          ReuseableMatrixJobForDeployment:
            strategy:
              matrix:
                target: [dev, stage, prod]
            uses: octocat/octo-repo/.github/workflows/deployment.yml@main
            with:
              target: ${{ matrix.target }}
    """)  # fmt: skip
    w = load_workload(path)
    job = "ReuseableMatrixJobForDeployment"
    assert _costs(w) == {f"{job} (dev)": 1, f"{job} (stage)": 1, f"{job} (prod)": 1, job: 0}
    assert any("remote workflow" in n for n in w.extra["notes"])
