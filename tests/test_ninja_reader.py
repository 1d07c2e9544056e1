"""The ninja reader, rule by rule from ninja's manual (ninja-build.org/manual.html: paths,
scoping of include and subninja, dyndep files, the log), each checked against the graph
written out by hand (depth by networkx); plus the hostile shapes of issue 30 (no clock)."""

from __future__ import annotations

import posixpath
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import analyze_workload
from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.sources import load_workload
from serialscale.sources.importers.ninja import canonical

RULE = "rule r\n  command = x $in $out\n"


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def read(root: Path, files: dict[str, str], limits: Limits | None = None):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return load_workload(root / "build.ninja", limits=limits or Limits())


def edges_of(workload) -> set[tuple[str, str]]:
    g = workload.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def check(w, costs: dict[str, float], edges: set[tuple[str, str]]) -> None:
    assert dict(zip(w.graph.ids, w.graph.costs, strict=True)) == pytest.approx(costs)
    assert edges_of(w) == edges
    h = nx.DiGraph()
    for v, c in costs.items():
        h.add_edge(("in", v), ("out", v), weight=c)
    for a, b in edges:
        h.add_edge(("out", a), ("in", b), weight=0)
    assert analyze_workload(w).depth == pytest.approx(nx.dag_longest_path_length(h))


# --- paths ----------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["a", "b", "c.o", ".", "..", ""]), min_size=1, max_size=8))
def test_paths_are_canonical_as_posix_normalisation_makes_them(parts: list[str]) -> None:
    path = "/".join(parts)
    if not path.strip("/"):
        return
    relative = path.lstrip("/")
    assert canonical(relative) == posixpath.normpath(relative)


def test_canonical_reads_windows_separators() -> None:
    assert canonical("obj\\sub\\..\\a.o") == "obj/a.o"
    assert canonical("/abs//x/./y") == "/abs/x/y"


def test_differently_written_paths_are_one_node_and_meet_the_log(build: Path) -> None:
    files = {
        "build.ninja": RULE + "build ./obj/a.o: r src/a.c\nbuild obj//b.o: r obj/a.o\n"
        "build out/../app: r ./obj/b.o obj/sub/../a.o\n",
        ".ninja_log": "# ninja log v5\n0\t100\t0\tobj/a.o\th\n100\t300\t0\t./obj/b.o\th\n"
        "300\t600\t0\tapp\th\n",
    }
    w = read(build, files)
    check(w, {"obj/a.o": 0.1, "obj/b.o": 0.2, "app": 0.3},
          {("obj/a.o", "obj/b.o"), ("obj/b.o", "app"), ("obj/a.o", "app")})  # fmt: skip
    assert w.extra["notes"] == []


# --- scopes ---------------------------------------------------------------------------------------


def test_subninja_has_its_own_scope_and_include_shares_it(build: Path) -> None:
    files = {
        "build.ninja": RULE + "x = parent\ninclude inc.ninja\nsubninja sub/build.ninja\n"
        "build after_$x: r from_$y\nbuild from_$y: r src\n",
        "inc.ninja": "y = included\n",
        "sub/build.ninja": "build sub_sees_$x: r\nx = child\nbuild sub_$x: r sub_sees_parent\n",
    }
    w = read(build, files)
    check(w, dict.fromkeys(["sub_sees_parent", "sub_child", "after_parent", "from_included"], 1),
          {("sub_sees_parent", "sub_child"), ("from_included", "after_parent")})  # fmt: skip


def test_an_unknown_rule_is_an_error_as_in_ninja(build: Path) -> None:
    """ninja refuses a build line whose rule no 'rule' block defined before it (phony is
    built in; a subninja sees its parent's rules, its own stay its own; with an included
    file missing, its rules are unknown: no error then, as its edges are not counted)."""
    with pytest.raises(WorkloadError, match=r"build.ninja:3: .*unknown build rule 'nosuch'"):
        read(build, {"build.ninja": RULE + "build a: nosuch b\n"})
    with pytest.raises(WorkloadError, match="unknown build rule 'r'"):
        read(build, {"build.ninja": "build a: r b\n" + RULE})  # used before it is defined
    with pytest.raises(WorkloadError, match="unknown build rule 's'"):
        read(build, {"build.ninja": RULE + "subninja sub/build.ninja\nbuild b: s\n",
                     "sub/build.ninja": "rule s\n  command = y\nbuild a: s\n"})  # fmt: skip
    w = read(build, {"build.ninja": RULE + "subninja sub/build.ninja\nbuild p: phony a\n",
                     "sub/build.ninja": "build a: r\n"})  # fmt: skip
    assert sorted(w.graph.ids) == ["a", "p"]
    w = read(build, {"build.ninja": "include gone.ninja\nbuild a: fromgone\n"})
    assert list(w.graph.ids) == ["a"]


def test_edge_bindings_shadow_the_file_scope(build: Path) -> None:
    files = {"build.ninja": RULE + "d = top\nbuild $d/x: r\n  d = edge\nbuild y: r top/x\n"}
    w = read(build, files)
    assert set(w.graph.ids) == {"edge/x", "y"} and edges_of(w) == set()


def test_implicit_order_only_inputs_count_and_validations_do_not(build: Path) -> None:
    text = "build a: r\nbuild b: r\nbuild c: r\nbuild v: r\n" \
        "build out | extra: r a | b || c |@ v\nbuild user: r extra\n"  # fmt: skip
    files = {"build.ninja": RULE + text}
    w = read(build, files)
    check(w, dict.fromkeys(["a", "b", "c", "v", "out", "user"], 1),
          {("a", "out"), ("b", "out"), ("c", "out"), ("out", "user")})  # fmt: skip


def test_an_odd_run_of_dollars_at_the_end_continues_the_line(build: Path) -> None:
    files = {"build.ninja": RULE + "build a$$: r $\n    b\nbuild b: r\nbuild c$$$\n: r a$$\n"}
    w = read(build, files)
    assert set(w.graph.ids) == {"a$", "b", "c$"} and edges_of(w) == {("b", "a$"), ("a$", "c$")}


# --- dyndep ---------------------------------------------------------------------------------------

DYNDEP_BUILD = RULE + (
    "build m.o | m.pcm: r m.cppm || m.dd\n  dyndep = m.dd\n"
    "build main.o: r main.cpp || m.dd\n  dyndep = ./m.dd\n"
    "build m.dd: r\n"
    "build app: r main.o m.o\n"
)


def test_a_dyndep_file_adds_the_inputs_and_outputs_it_lists(build: Path) -> None:
    dd = "ninja_dyndep_version = 1\nbuild m.o | m.pcm: dyndep\n  restat = 1\n" \
        "build main.o: dyndep | m.pcm\n"  # fmt: skip
    w = read(build, {"build.ninja": DYNDEP_BUILD, "m.dd": dd})
    check(w, dict.fromkeys(["m.o", "main.o", "m.dd", "app"], 1),
          {("m.dd", "m.o"), ("m.dd", "main.o"), ("m.o", "main.o"), ("main.o", "app"),
           ("m.o", "app")})  # fmt: skip
    assert w.extra["notes"] == []


def test_a_missing_dyndep_file_is_noted(build: Path) -> None:
    w = read(build, {"build.ninja": DYNDEP_BUILD})
    assert ("m.o", "main.o") not in edges_of(w)
    assert any("dyndep" in n and "m.dd" in n for n in w.extra["notes"])


def test_a_dyndep_line_for_no_edge_is_located(build: Path) -> None:
    with pytest.raises(WorkloadError) as info:
        read(build, {"build.ninja": DYNDEP_BUILD,
                     "m.dd": "ninja_dyndep_version = 1\n\nbuild nope.o: dyndep\n"})  # fmt: skip
    assert str(info.value).startswith(f"{build / 'm.dd'}:3:")


# --- the log --------------------------------------------------------------------------------------


def test_the_log_note_says_how_many_edges_got_a_duration_and_from_where(build: Path) -> None:
    log = "# ninja log v5\n0\t10\t0\ta\th\n10\t30\t0\tb\th\n0\t5\t0\ta\th\n"
    w = read(build, {"build.ninja": RULE + "build a: r\nbuild b: r a\nbuild c: r b\n",
                     ".ninja_log": log})  # fmt: skip
    check(w, {"a": 0.005, "b": 0, "c": 0}, {("a", "b"), ("b", "c")})
    assert w.extra["notes"] == [".ninja_log: 1 of 3 edges have a duration, from the last build "
                                "it records (lines 4–4); the other 2 did not run in that build: "
                                "cost 0"]  # fmt: skip


def test_times_out_of_range_are_skipped_with_a_note(build: Path) -> None:
    log = f"# ninja log v5\n{'9' * 401}\t5\t0\ta\th\n0\t{'9' * 5000}\t0\ta\th\n0\t7\t0\ta\th\n" \
        "garbage\n"  # fmt: skip
    w = read(build, {"build.ninja": RULE + "build a: r\n", ".ninja_log": log})
    assert list(w.graph.costs) == [0.007]
    assert any("3 lines that are not entries" in n for n in w.extra["notes"])


def test_entries_that_end_before_they_start_are_counted_in_a_note(build: Path) -> None:
    # c "ends" at 25 ms, before its start at 30 ms: it takes no time, and the note says so
    log = "# ninja log v5\n0\t7\t0\ta\th\n8\t20\t0\tb\th\n30\t25\t0\tc\th\n1_0\t2_0\t0\ta\th\n"
    w = read(build, {"build.ninja": RULE + "build a: r\nbuild b: r a\nbuild c: r b\n",
                     ".ninja_log": log})  # fmt: skip
    check(w, {"a": 0.007, "b": 0.012, "c": 0}, {("a", "b"), ("b", "c")})
    notes = w.extra["notes"]
    assert any("1 entry ends before it starts" in n for n in notes), notes
    assert any("1 line that is not an entry" in n for n in notes), notes  # 1_0 is not ninja's


# --- hostile shapes (issue 30) -------------------------------------------------------------------


def test_nested_variables_cannot_expand_without_bound(build: Path) -> None:
    chain = "v0 = ab\n" + "".join(f"v{i + 1} = $v{i}$v{i}\n" for i in range(40))
    with pytest.raises(WorkloadError) as info:
        read(build, {"build.ninja": RULE + chain + "build o: r $v40\n"})
    assert "variables expand to more than" in str(info.value)
    assert str(info.value).startswith(f"{build / 'build.ninja'}:")


def test_error_quotes_of_the_file_are_short_and_printable(build: Path) -> None:
    junk = "secret\x1b[31m" + "x" * 5000
    with pytest.raises(WorkloadError) as info:
        read(build, {"build.ninja": RULE + junk + "\n"})
    message = str(info.value)
    assert "\x1b" not in message and len(message) < len(str(build)) + 200


def test_a_long_continued_line_and_many_edges_finish(build: Path) -> None:
    inputs = " $\n  ".join(f"src/f{i}.c" for i in range(20_000))
    edges = "".join(f"build o{i}: r o{i - 1}\n" for i in range(1, 5_000))
    w = read(build, {"build.ninja": RULE + f"build o0: r {inputs}\n" + edges})
    assert analyze_workload(w).depth == 5_000
    with pytest.raises(WorkloadError, match="--max-steps"):
        read(build, {"build.ninja": RULE + f"build o0: r {inputs}\n" + edges},
             Limits(max_steps=100))  # fmt: skip


def test_running_out_of_memory_is_a_located_error(build: Path, monkeypatch) -> None:
    import serialscale.sources.importers.ninja as ninja

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(ninja, "_read_build", exhausted)
    with pytest.raises(WorkloadError, match="too large to read in memory"):
        read(build, {"build.ninja": RULE + "build a: r\n"})
