"""A structure-aware fuzzer for the GitHub Actions reader: random workflows (jobs, needs,
matrices with include/exclude, expressions, reusable workflows calling each other, sometimes
malformed) read with low limits. The reader may accept or refuse them, but only ever with a
Workload or a WorkloadError; anything else (a traceback, an internal error) is a finding.
The budget is fixed so the test stays fast."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serialscale.base.errors import WorkloadError
from serialscale.base.limits import Limits
from serialscale.core.workload import Workload
from serialscale.sources import load_workload
from serialscale.sources.registry import ReadOptions

LIMITS = Limits(max_steps=300, max_dependencies=2_000, max_input_bytes=200_000)
IDS = ["a", "b", "c", "build", "test"]
FILES = ["r1.yml", "r2.yml"]

_EXPRESSIONS = [
    "${{ matrix.os }}", "${{ matrix.v }}", "${{ inputs.x }}", "${{ github.event_name }}",
    "${{ needs.a.outputs.m }}", "${{ format('{0}-{1}', matrix.os, inputs.x) }}",
    "${{ fromJSON('[1, 2]') }}", "${{ fromJSON('{\"os\": [\"p\", \"q\"]}') }}",
    "${{ matrix.os == 'x' && 'y' || '' }}", "${{ toJSON(matrix) }}", "${{ '' }}",
    "${{ strategy.job-index }}", "${{ contains(matrix.os, 'x') }}", "${{ matrix.v > 2 }}",
    "${{ join(fromJSON('[\"a\"]'), inputs.x) }}", "${{ case(true, 'a', 'b') }}",
    "${{ !cancelled() }}", "${{ hashFiles('x') }}", "${{ matrix.cfg.name }}",
    "Test ${{ matrix.os }} (${{ matrix.v }})",
]  # fmt: skip
_PLAIN = ["x", "y", "", "ubuntu", "3.10", "a\nb", 0, 1, 3.5, 300, True, False, None]
_KEYS = ["os", "v", "cfg", "name"]
_CONDITIONS = ["failure()", "always()", "github.ref == 'x'", "inputs.x", "1 ==", "false"]


class _Maker:
    """Random workflow documents from one seed (plain ``random``: hypothesis only picks the
    seeds, so generating a document costs next to nothing)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def chance(self, n: int) -> bool:
        return self.r.randrange(n) == 0

    def scalar(self) -> object:
        if self.chance(150):
            return self.r.choice(["${{ 1 ", "${{ nope.x }}", "${{ format('{1}') }}"])
        return self.r.choice(_EXPRESSIONS) if self.chance(4) else self.r.choice(_PLAIN)

    def value(self, depth: int = 0) -> object:
        roll = self.r.randrange(6 if depth < 2 else 3)
        if roll < 3:
            return self.scalar()
        if roll < 5:
            return [self.value(depth + 1) for _ in range(self.r.randrange(4))]
        return {self.r.choice(_KEYS): self.value(depth + 1) for _ in range(self.r.randrange(4))}

    def entries(self, most: int, keys: list[str]) -> object:
        if self.chance(15):
            return self.scalar()
        keys = keys or _KEYS
        if self.chance(10):
            keys = [*_KEYS, "include", "exclude"]
        return [{self.r.choice(keys): self.value() for _ in range(1 + self.r.randrange(3))}
                for _ in range(self.r.randrange(most))]  # fmt: skip

    def matrix(self) -> object:
        if self.chance(10):
            return self.r.choice([*_EXPRESSIONS, 5, [1]])
        matrix: dict[str, object] = {}
        for name in self.r.sample(["os", "v", "cfg"], self.r.randrange(4)):
            if self.chance(15):
                matrix[name] = self.scalar()
            else:
                matrix[name] = [self.value() for _ in range(self.r.randrange(15) // 3 or 1)]
        axes = list(matrix)
        if not axes or self.chance(2):
            matrix["include"] = self.entries(5, _KEYS)
        if self.chance(2):
            matrix["exclude"] = self.entries(4, axes)
        return matrix

    def jobs(self, files: list[str]) -> dict[str, object]:
        out: dict[str, object] = {}
        ids = self.r.sample(IDS, 1 + self.r.randrange(4))
        if self.chance(20):  # ids GitHub refuses
            ids.append(self.r.choice(["1", "bad id", "x\ny"]))
        for k, job_id in enumerate(ids):
            job: dict[str, object] = {}
            if k and self.chance(2):  # mostly earlier jobs, sometimes anything
                pool = ids[:k] if not self.chance(15) else [*IDS, "missing"]
                job["needs"] = self.r.sample(pool, 1 + self.r.randrange(len(pool)))
                if self.chance(3):
                    job["needs"] = job["needs"][0]  # type: ignore[index]
                elif self.chance(30):
                    job["needs"] = 7
            if self.chance(2):
                job["name"] = self.scalar()
            if self.chance(2):
                job["strategy"] = {"matrix": self.matrix()}
                if self.chance(6):
                    job["strategy"]["fail-fast"] = self.scalar()  # type: ignore[index]
            if self.chance(4):
                job["if"] = self.r.choice([*_CONDITIONS, *_EXPRESSIONS])
            if files and self.chance(3):
                job["uses"] = "./.github/workflows/" + self.r.choice(files)
                if self.chance(2):
                    job["with"] = {"x": self.value(), "y": self.value()}
                    if self.chance(15):
                        job["with"] = self.scalar()
            elif self.chance(7):
                job["uses"] = 5 if self.chance(8) else "owner/repo/.github/workflows/x.yml@v1"
            out[job_id] = job
        return out

    def repository(self) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
        """The entry workflow and the reusable workflows it may call (which may call each
        other, or themselves)."""
        inputs = {"x": {"type": "string", "default": "d"}}
        called = {name: {"on": {"workflow_call": {"inputs": inputs}}, "jobs": self.jobs(FILES)}
                  for name in FILES}  # fmt: skip
        return {"on": "push", "jobs": self.jobs(FILES)}, called


def _read(folder: Path, entry: dict, called: dict[str, dict], durations: bool) -> None:
    workflows = folder / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    for name, doc in called.items():
        (workflows / name).write_text(json.dumps(doc))  # JSON is YAML
    path = workflows / "ci.yml"
    path.write_text(json.dumps(entry))
    options = ReadOptions()
    if durations:
        run = folder / "run.json"
        run.write_text(json.dumps({"jobs": [{"name": "a", "startedAt": "2026-01-01T00:00:00Z",
                                             "completedAt": "2026-01-01T00:00:03Z"}]}))  # fmt: skip
        options = ReadOptions(durations=str(run))
    try:
        workload = load_workload(path, limits=LIMITS, read=options)
    except WorkloadError as exc:
        assert "internal error" not in str(exc)
        return
    assert isinstance(workload, Workload)
    assert all("\n" not in step for step in workload.graph.ids)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example: each writes all the files it reads."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.slow
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), durations=st.booleans())
def test_random_workflows_give_a_workload_or_a_located_error(folder: Path, seed: int,
                                                             durations: bool) -> None:  # fmt: skip
    entry, called = _Maker(seed).repository()
    _read(folder, entry, called, durations)
