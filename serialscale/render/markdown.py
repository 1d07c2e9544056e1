"""The Markdown summary (``--format markdown``), for pull-request comments."""

from __future__ import annotations

from ..report import Report
from .common import num, short_path, sparkline, times


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: Report) -> str:
    """Render ``report`` as GitHub-flavoured Markdown."""
    unit = f" {report.unit}" if report.unit else ""
    rec = report.recommendation
    lines = [
        f"### serialscale: `{report.workload}` is **{report.classification}**",
        "",
        f"**{rec.strategy}**, {rec.processors} processors: {rec.reason}",
        "",
        *[f"> note: {note}\n" for note in report.notes or []],
        "| metric | value |",
        "|---|---:|",
        f"| steps | {num(report.steps)} |",
        f"| dependencies | {num(report.dependencies)} |",
        f"| work | {num(report.work)}{unit} |",
        f"| depth | {num(report.depth)}{unit} ({num(report.depth_steps)} steps) |",
        f"| width | {num(report.width)} |",
        f"| speedup ceiling | {times(report.speedup_ceiling)} |",
        f"| serial fraction | {num(report.serial_fraction, 3)} |",
    ]
    if report.overhead:
        lines.append(
            f"| burdened depth (overhead {num(report.overhead)}{unit}/step) | "
            f"{num(report.burdened_depth)}{unit} |"
        )
    lines += [
        "",
        f"Classified for {report.processors} processors.",
        "",
        "| processors | upper | guaranteed | simulated |",
        "|---:|---:|---:|---:|",
    ]
    for row in report.speedup:
        lines.append(
            f"| {row.processors} | {times(row.upper)} | {times(row.guaranteed)} "
            f"| {times(row.simulated)} |"
        )
    path = " → ".join(f"`{_cell(s)}`" for s in short_path(report.critical_path))
    lines += ["", f"**Critical path:** {path}"]
    if report.near_critical:
        lines += ["", "| near-critical step | slack |", "|---|---:|"]
        for item in report.near_critical:
            lines.append(f"| `{_cell(item.id)}` | {num(item.slack)}{unit} |")
    line = sparkline(report.profile, 40)
    if line:
        lines += ["", f"Parallelism profile (peak {num(report.width)}): `{line}`"]
    return "\n".join(lines) + "\n"
