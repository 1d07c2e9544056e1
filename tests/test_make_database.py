"""GNU make's printed database (issue 29, item 2): explicit targets as steps, prerequisites
(order-only too) as needs; variables, built-in rules and '# Not a target' entries skipped;
checked against networkx on the graph written, and against make's own output where make is
installed (serialscale never runs make; the test does, to get the real text)."""

from __future__ import annotations

import shutil
import subprocess
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

HEAD = """# GNU Make 4.3
# Built for x86_64-pc-linux-gnu

# Make data base, printed on Thu Dec  3 12:00:00 2026

# Variables

# makefile (from 'Makefile', line 1)
define RULE
fake: target
# Files
also: not a rule
endef
# default
CC = cc

# Implicit Rules

%.o: %.c
#  recipe to execute (built-in):
\t$(COMPILE.c) $(OUTPUT_OPTION) $<

# Files

"""
TAIL = """# files hash-table stats:
# Load=1/1024=0%, Rehash=0, Collisions=0/1=0%
# VPATH Search Paths

# No 'vpath' search paths.

# Finished Make data base on Thu Dec  3 12:00:00 2026
"""

ENTRIES = """# Not a target:
.c.o:
#  Builtin rule
#  Implicit rule search has not been done.
#  recipe to execute (built-in):
\t$(COMPILE.c) $(OUTPUT_OPTION) $<

prog: main.o util.o
#  Implicit rule search has not been done.
#  recipe to execute (from 'Makefile', line 9):
\t$(CC) -o $@ $^

gen.c: gen.py
#  Also makes: gen.c gen.h
#  recipe to execute (from 'Makefile', line 20):
\tpython gen.py

# Not a target:
gen.py:
#  Implicit rule search has not been done.

docs:: README
#  recipe to execute (from 'Makefile', line 13):
\techo one

docs:: prog
#  recipe to execute (from 'Makefile', line 15):
\techo two

# makefile (from 'Makefile', line 22)
util.o: CFLAGS += -O2
util.o: util.c gen.h
#  Implicit rule search has been done.
#  Implicit/static pattern stem: 'util'
#  recipe to execute (from 'Makefile', line 11):
\t$(CC) -c $<

main.o: main.c gen.h
#  Implicit/static pattern stem: 'main'
# variable set hash-table stats:
# Load=0/32=0%, Rehash=0, Collisions=0/4=0%

.PHONY: all clean

gen.h: gen.py
#  Also makes: gen.c gen.h

outdir:
#  recipe to execute (from 'Makefile', line 17):
\tmkdir -p $@
\t echo continued

all: prog docs | outdir
#  Phony target (prerequisite of .PHONY).

"""


def database(entries: str = ENTRIES) -> bytes:
    return (HEAD + entries + TAIL).encode()


def read(data: bytes, name: str = "db.txt", **options):
    return read_path(Path("/nonexistent") / name, data, options=ReadOptions(**options))


def edges(w) -> set[tuple[str, str]]:
    g = w.graph
    return {(g.ids[j], g.ids[i]) for i in range(g.n) for j in g.preds(i)}


def test_the_database_reads_as_make_printed_it() -> None:
    w = read(database())
    assert w.format == "make" and w.unit == "targets"
    assert sorted(w.graph.ids) == ["all", "docs", "gen.c", "main.o", "outdir", "prog", "util.o"]
    assert edges(w) == {
        ("main.o", "prog"), ("util.o", "prog"),
        ("gen.c", "util.o"), ("gen.c", "main.o"),  # gen.h is made by gen.c's recipe
        ("prog", "docs"),  # the second double-colon rule
        ("prog", "all"), ("docs", "all"), ("outdir", "all"),  # order-only too
    }  # fmt: skip
    report = analyze_workload(w)
    assert report.work == 7
    assert report.depth == 5  # gen.c → util.o → prog → docs → all


def test_wait_makes_the_later_prerequisites_wait() -> None:
    entries = "a:\n\nb:\n\nc:\n\nd:\n\nall: a b .WAIT c d\n\n"
    w = read(database(entries))
    assert "all .WAIT 1" in w.graph.ids
    assert ("all .WAIT 1", "c") in edges(w) and ("b", "all .WAIT 1") in edges(w)
    assert analyze_workload(w).depth == 3  # a, then c, then all (the connector costs 0)


def test_detected_by_content() -> None:
    assert detect(Path("db.txt"), database()[:4096]) == "make"
    assert detect(Path("Makefile"), b"all: x\n\techo\n") != "make"


@pytest.mark.parametrize(
    ("data", "message", "line"),
    [
        (b"# GNU Make 4.3\n# Variables\n\nX = 1\n", "no '# Files' section", None),
        (database("prog main.o\n\n"), "expected 'target: prerequisites'", HEAD.count("\n") + 1),
        (database("a: b\n\nb: a\n\n"), "dependency cycle", None),
        (database("# Not a target:\nx:\n\n"), "no steps found", None),
    ],
)
def test_broken_databases_are_located_errors(data: bytes, message: str, line, run_cli,
                                             tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "db.txt"
    path.write_bytes(data)
    result = run_cli("analyze", str(path), "--from", "make")
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
    if line is not None:
        assert f"db.txt:{line}:" in result.stderr


@st.composite
def makefiles(draw):
    """A random DAG of targets, each entry printed as make prints it, in a random order,
    with source files as '# Not a target' entries and some prerequisites order-only."""
    n = draw(st.integers(1, 12))
    names = [f"t{i}.o" for i in range(n)]
    edges = {(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
             if draw(st.booleans()) and draw(st.booleans())}  # fmt: skip
    entries = []
    for j in draw(st.permutations(range(n))):
        ins = [a for a, b in sorted(edges) if b == names[j]] + [f"src{j}.c"]
        ins = draw(st.permutations(ins))
        cut = draw(st.integers(0, len(ins)))
        head = f"{names[j]}: {' '.join(ins[:cut])}"
        if cut < len(ins):
            head += " | " + " ".join(ins[cut:])
        entries.append(f"{head.rstrip()}\n#  Implicit rule search has been done.\n"
                       f"#  recipe to execute (from 'Makefile', line {j}):\n"
                       "\tcc -c $<\n")  # fmt: skip
        entries.append(f"# Not a target:\nsrc{j}.c:\n#  Last modified 2026-01-01\n")
    return "\n".join(draw(st.permutations(entries))) + "\n", names, edges


@FAST
@given(makefiles())
def test_random_databases_match_networkx(case) -> None:
    text, names, expected = case
    w = read(database(text))
    assert sorted(w.graph.ids) == sorted(names)
    assert edges(w) == expected
    index = {name: k for k, name in enumerate(names)}
    rows = [[index[a] for a, b in expected if b == name] for name in names]
    g = nx.DiGraph(list(expected))
    g.add_nodes_from(names)
    assert analyze_workload(w).depth == nx_depth([1] * len(names), rows)
    assert analyze_workload(w).work == g.number_of_nodes()


@FAST
@given(st.binary(max_size=200), st.integers(0, 1500))
def test_mutated_databases_end_in_a_workload_or_a_located_error(junk: bytes, at: int) -> None:
    data = database()
    try:
        read_path(Path("/nonexistent/db.txt"), data[:at] + junk + data[at:],
                  limits=Limits(max_steps=100, max_dependencies=1000),
                  options=ReadOptions(fmt="make"))  # fmt: skip
    except WorkloadError as exc:
        assert str(exc).split(": error: ", 1)[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_make_s_own_database_reads_as_the_makefile_says(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text(
        "define X\nfake: rule\nendef\n"
        ".PHONY: all\nall: app | out\napp: a.o b.o\n\tcc -o $@ $^\n"
        "a.o: a.c h.h\n\tcc -c $<\nb.o: b.c h.h\n\tcc -c $<\n"
        "h.h: gen\n\t./gen\nout:\n\tmkdir out\nb.o: CFLAGS += -O2\n"
    )  # fmt: skip
    for source in ("a.c", "b.c", "gen"):
        (tmp_path / source).write_text("")
    db = subprocess.run(["make", "-pnq"], cwd=tmp_path, capture_output=True, text=True,
                        timeout=30,
                        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}).stdout  # fmt: skip
    w = read(db.encode())
    assert sorted(w.graph.ids) == ["a.o", "all", "app", "b.o", "h.h", "out"]
    assert edges(w) == {("a.o", "app"), ("b.o", "app"), ("h.h", "a.o"), ("h.h", "b.o"),
                        ("app", "all"), ("out", "all")}  # fmt: skip


def test_an_entry_naming_two_targets_is_a_located_error() -> None:
    with pytest.raises(WorkloadError, match="an entry names one target") as caught:
        read(database("all .WAIT 1: x\n\nall: y .WAIT x\n\n"))
    assert caught.value.location.line == HEAD.count("\n") + 1


def test_prerequisites_make_never_examined_are_noted_when_a_pattern_could_make_them() -> None:
    # make -q stopped before util.o: no rule search, so %.o: %.c (HEAD) was never applied to
    # it; README matches no pattern with a recipe, main.o was examined (and is a target)
    entries = ("prog: main.o util.o README\n\n# Not a target:\nutil.o:\n"
               "#  Implicit rule search has not been done.\n\n# Not a target:\nREADME:\n"
               "#  Implicit rule search has not been done.\n\nmain.o: main.c\n\n")  # fmt: skip
    w = read(database(entries))
    notes = w.extra["notes"]
    assert len(notes) == 1 and notes[0].startswith("1 prerequisite is no target")
    w = read(
        database(
            entries.replace(
                "util.o:\n#  Implicit rule search has not been done.",
                "util.o:\n#  Implicit rule search has been done.",
            )
        )
    )
    assert not w.extra.get("notes")
