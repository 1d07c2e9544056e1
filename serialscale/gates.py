"""CI gates: pure functions from reports and thresholds to violations.

A gate never re-analyzes anything, so a saved JSON report can be gated later
(``serialscale gate report.json``). The CLI turns violations into exit code 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .report import CLASSES, Report


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


@dataclass(frozen=True)
class Violation:
    """One failed gate for one workload."""

    source: str
    workload: str
    gate: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"source": self.source, "workload": self.workload, "gate": self.gate,
                "message": self.message}  # fmt: skip


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
            out.append(Violation(src, r.workload, gate, message))

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
    """Match reports to the baseline by source path: changes, new and removed workloads."""
    before = {r.key: r for r in baseline}
    now = {r.key: r for r in reports}
    changes = [
        Change(src, r.workload, _numbers(before[src]), _numbers(r))
        for src, r in now.items()
        if src in before
    ]
    new = [src for src in now if src not in before]
    removed = [src for src in before if src not in now]
    return Comparison(changes, new, removed)


def check_baseline(comparison: Comparison, max_depth_increase: float | None) -> list[Violation]:
    """Violations of ``--max-depth-increase`` (percent) among the matched workloads."""
    if max_depth_increase is None:
        return []
    out = []
    for c in comparison.changes:
        grew = c.depth_increase
        if grew is not None and grew > max_depth_increase:
            out.append(
                Violation(c.source, c.workload, "max-depth-increase",
                          f"depth grew {c.describe()}, more than {max_depth_increase:g}%")
            )  # fmt: skip
    return out


def _numbers(r: Report) -> dict[str, Any]:
    return {"depth": r.depth, "work": r.work, "width": r.width,
            "classification": r.classification}  # fmt: skip
