"""CI gates: pure functions from reports and thresholds to violations.

A gate never re-analyzes anything, so a saved JSON report can be gated later
(``serialscale gate report.json``). The CLI turns violations into exit code 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..base.errors import SerialscaleError
from ..base.words import plural
from ..documents.report import CLASSES, FailedGate, Report


@dataclass(frozen=True)
class Thresholds:
    """Gate settings; ``None`` turns a gate off.

    - ``fail_on``: ``serial`` or ``mixed``: fail when a workload is classified at or below it
      (``serial`` < ``mixed`` < ``parallel``).
    - ``min_speedup``: fail when ``speedup_ceiling`` is below it (workloads whose costs are
      all 0 have no ceiling and pass).
    - ``max_depth``: fail when ``depth`` is above it.
    - ``max_serial_fraction``: fail when ``serial_fraction`` is above it.
    - ``max_depth_increase``: with a baseline, fail when ``depth`` grew by more than this many
      percent.
    """

    fail_on: str | None = None
    min_speedup: float | None = None
    max_depth: float | None = None
    max_serial_fraction: float | None = None
    max_depth_increase: float | None = None


#: One failed gate for one workload: the batch report's row, declared once there.
Violation = FailedGate


@dataclass(frozen=True)
class Change:
    """How one workload differs from its baseline."""

    source: str
    workload: str
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def depth_increase(self) -> float | None:
        """Percent growth of depth (``None`` when both are 0; infinite from 0 to more)."""
        old, new = self.before["depth"], self.after["depth"]
        if old == 0:
            return None if new == 0 else float("inf")
        return (new - old) / old * 100

    def describe(self) -> str:
        """``depth 30 → 34 (+13.3%), mixed → serial``: only what changed."""
        parts = []
        for key in ("depth", "work", "width", "classification"):
            a, b = self.before.get(key), self.after.get(key)
            if a != b:
                extra = ""
                if key == "depth" and self.depth_increase not in (None, float("inf")):
                    extra = f" ({self.depth_increase:+.1f}%)"
                parts.append(f"{key} {_fmt(a)} → {_fmt(b)}{extra}")
        return ", ".join(parts) or "unchanged"


@dataclass(frozen=True)
class Comparison:
    """A batch compared with its baseline, matched by source path."""

    changes: list[Change]
    new: list[str]
    removed: list[str]


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def check(reports: Sequence[Report], thresholds: Thresholds) -> list[Violation]:
    """Every violation of the absolute gates, in report order."""
    out: list[Violation] = []
    for r in reports:
        src = r.key

        def fail(gate: str, message: str, r: Report = r, src: str = src) -> None:
            out.append(Violation(source=src, workload=r.workload, gate=gate, message=message))

        t = thresholds
        if t.fail_on is not None and CLASSES.index(r.classification) <= CLASSES.index(t.fail_on):
            fail("fail-on", f"classified {r.classification} (--fail-on {t.fail_on})")
        ceiling, fraction = r.speedup_ceiling, r.serial_fraction
        if t.min_speedup is not None and ceiling is not None and ceiling < t.min_speedup:
            fail("min-speedup", f"speedup ceiling {ceiling:.4g} is below {t.min_speedup:g}")
        if t.max_depth is not None and r.depth > t.max_depth:
            fail("max-depth", f"depth {_fmt(r.depth)} is above {t.max_depth:g}")
        limit = t.max_serial_fraction
        if limit is not None and fraction is not None and fraction > limit:
            fail("max-serial-fraction", f"serial fraction {fraction:.4g} is above {limit:g}")
    return out


def compare(reports: Sequence[Report], baseline: Sequence[Report]) -> Comparison:
    """Match reports to the baseline: changes, new and removed workloads.

    A report matches by its path in the project (``path``: the same wherever serialscale ran
    from); a baseline entry without one (a traced function, standard input, or saved before
    ``path`` existed) by ``source`` as it was written, else by workload name: an entry with a
    path matches only by it (``a/w.yaml`` is not ``b/w.yaml``, whatever their names). Raises
    :class:`BaselineMismatch` when there are reports and baseline entries but none matches
    (a baseline from another project, or one saved with other paths, is an error, never a
    silent pass).
    """
    left = dict(enumerate(baseline))
    matched: dict[int, Report] = {}  # report index -> its baseline entry
    for field in ("path", "source", "workload"):
        index: dict[str, int] = {}
        for i, old in left.items():
            value = getattr(old, field)
            if field != "path" and isinstance(old.path, str):
                continue  # (a path of its own that matched nothing: a file elsewhere)
            if isinstance(value, str) and value not in index:
                index[value] = i
        for j, r in enumerate(reports):
            value = getattr(r, field)
            if j in matched or not isinstance(value, str) or value not in index:
                continue
            i = index.pop(value)
            matched[j] = left.pop(i)
    changes = [Change(r.key, r.workload, _numbers(matched[j]), _numbers(r))
               for j, r in enumerate(reports) if j in matched]  # fmt: skip
    new = [r.key for j, r in enumerate(reports) if j not in matched]
    removed = [old.key for old in left.values()]
    if reports and baseline and not changes:
        raise BaselineMismatch(
            f"the baseline {_matches_none(len(reports))} (matched by "
            f"path in the project, e.g. {new[0]!r}; the baseline has {removed[0]!r})"
        )
    return Comparison(changes, new, removed)


def _matches_none(count: int) -> str:
    """What a baseline failed to match, in the singular or the plural."""
    if count == 1:
        return "does not match the workload analyzed"
    return f"matches none of the {plural(count, 'workload')} analyzed"


class BaselineMismatch(SerialscaleError):
    """A baseline that matches none of the workloads: an error (exit 2), never a pass."""


def check_baseline(comparison: Comparison, max_depth_increase: float | None) -> list[Violation]:
    """Violations of ``--max-depth-increase`` (percent) among the matched workloads."""
    if max_depth_increase is None:
        return []
    out = []
    for c in comparison.changes:
        grew = c.depth_increase
        if grew is not None and grew > max_depth_increase:
            out.append(
                Violation(source=c.source, workload=c.workload, gate="max-depth-increase",
                          message=f"depth grew more than {max_depth_increase:g}%: "
                                  f"{c.describe()}")
            )  # fmt: skip
    return out


def _numbers(r: Report) -> dict[str, Any]:
    return {"depth": r.depth, "work": r.work, "width": r.width,
            "classification": r.classification}  # fmt: skip
