"""A fixed-budget fuzzer over every reader and what follows it (issue 30): each seed of
fuzz/seeds (one per format and kind) is mutated the way real edits go wrong (lines lost,
doubled or swapped, a format keyword or a hostile token dropped in, a byte changed), read with
the limits set low, and, when it reads, analyzed and sent through every exporter and the
single-report renderers. Every input must end in a workload or a located WorkloadError;
anything else fails. ``make fuzz`` runs the coverage-guided version (atheris) over the same
targets (fuzz/targets.py)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from fuzz.targets import FOREIGN, LIMITS, kind_of, read
from serialscale.base.errors import WorkloadError
from serialscale.core.analysis import analyze_workload
from serialscale.core.metrics import bottom_levels, step_levels
from serialscale.core.schedule import list_schedule
from serialscale.render.export import to_dot, to_graphml, to_mermaid, to_node_link, to_trace
from serialscale.sources.registry import ReadOptions, read_path

from .conftest import ROOT

SEEDS = sorted((ROOT / "fuzz" / "seeds").iterdir())
#: Mutations per seed: 40 keep the file at a few seconds; SERIALSCALE_FUZZ_MUTATIONS=2000 for
#: a longer hunt.
MUTATIONS = int(os.environ.get("SERIALSCALE_FUZZ_MUTATIONS", "40"))

#: Tokens dropped into documents: each format's keywords and the shapes that broke readers.
TOKENS = [
    b"needs: [", b"needs: a\n", b"uses: ./x.yml\n", b"strategy:\n  matrix:\n    include: 5\n",
    b"include:\n", b"extends: .t\n", b"!reference [.t, script]", b"parallel:\n  matrix:\n",
    b"- local: /**/*.yml\n", b"build x: phony y\n", b"subninja a.ninja\n", b"${{ matrix.os }}",
    b"$v$v$v$v", b" -> ", b"{a b}", b":p:n", b"node [cost=1e305]", b"/**/", b"\"graph\"",
    b"\x00", b"\xff\xfe", b"::error::x", b"[link=http://x]", b"=cmd|' /C calc'!A0", b"\n\n",
    b"1:", b"&a [*a, *a]", b"*a", b"9" * 401, b"\t", b"\\\n", b"'", b'"', b"#", b"}",
    b"requires: [", b"matrix:\n  parameters:\n", b"- wait\n", b"depends_on: ", b"dependsOn: ",
    b"- template: t.yml\n", b"${{ if x }}:", b"<< matrix.p >>", b"foreach: ${v}\n", b"${item}",
    b'"dependencies": [', b'"<NONEXISTENT>"', b"parallelism: 3\n", b"<<: *a\n",
]  # fmt: skip
#: Tokens of the readers of issue 29, items 1-3 (cargo timings, make database, Bazel aquery).
TOKENS += [
    b"const UNIT_DATA = ", b'"unblocked_rmeta_units": [0]', b"# Not a target:\n",
    b"#  Also makes: a b", b" .WAIT ", b" | ", b"::", b"# Files\n", b"define X\n",
    b'"transitiveDepSetIds": [1]', b'"parentId": 1', b'"primaryOutputId": 7',
]  # fmt: skip


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rnd.randint(1, 3)):
        choice = rnd.randrange(5)
        at = rnd.randrange(len(lines)) if lines else 0
        if choice == 0 and len(lines) > 1:
            del lines[at]
        elif choice == 1 and lines:
            lines.insert(at, lines[at])
        elif choice == 2 and len(lines) > 1:
            other = rnd.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif choice == 3 and lines:
            line = lines[at]
            cut = rnd.randint(0, len(line))
            lines[at] = line[:cut] + rnd.choice(TOKENS) + line[cut:]
        elif lines and lines[at]:
            line = bytearray(lines[at])
            line[rnd.randrange(len(line))] = rnd.randrange(256)
            lines[at] = bytes(line)
    return b"\n".join(lines)


def _everything_after(kind: int, body: bytes) -> None:
    """Read as the fuzzer does; when it reads, analyze, export and render it."""
    fmt, where = FOREIGN[kind]
    try:
        workload = read_path(Path(where), body, limits=LIMITS, options=ReadOptions(fmt=fmt))
    except WorkloadError:
        return
    report = analyze_workload(workload, processors=3, detail=True)
    graph = workload.graph
    for export in (to_dot, to_mermaid):  # collapsed (more than 5 steps): levels computed first
        assert isinstance(export(graph, report, 5, step_levels(graph)), str)
    assert isinstance(to_graphml(graph, report), str)
    assert isinstance(to_node_link(graph, report), str)
    schedule = list_schedule(graph, 3, bottom_levels(graph), lanes=True)
    assert isinstance(to_trace(graph, report, schedule, 3), str)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_mutated_inputs_end_in_a_result_or_a_located_error(seed: Path) -> None:
    data = seed.read_bytes()
    kind = kind_of(data)
    rnd = random.Random(seed.name)  # the same inputs on every run
    for _ in range(MUTATIONS):
        mutated = data[:1] + _mutate(data[1:], rnd)
        try:
            if kind in FOREIGN:
                _everything_after(kind, mutated[1:])
            else:
                read(mutated)
        except WorkloadError as exc:
            assert str(exc).split(": error: ", 1)[1], "an error must say what is wrong"


def test_every_reader_has_a_seed() -> None:
    kinds = {kind_of(seed.read_bytes()) for seed in SEEDS}
    assert set(FOREIGN) <= kinds
