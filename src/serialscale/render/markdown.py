"""The Markdown summary (``--format markdown``), for pull-request comments."""

from __future__ import annotations

from msgspec import UNSET

from ..base.errors import neutralize
from ..documents.report import Report
from .common import (
    amount,
    counted,
    lower_bound,
    md_code,
    md_text,
    num,
    observed_line,
    short_path,
    sparkline,
    times,
    wall_time,
    what_if_line,
)


def render_markdown(report: Report) -> str:
    """Render ``report`` as GitHub-flavoured Markdown."""
    u = md_text(report.unit) if report.unit else report.unit
    rec = report.recommendation
    caveat = lower_bound(report)
    optimistic = " (optimistic: depth is a lower bound)" if caveat else ""
    at_least, at_most = ("≥ ", "≤ ") if caveat else ("", "")
    lines = [
        f"### serialscale: {md_code(report.workload, in_table=False)} is "
        f"**{report.classification}**" + optimistic,
        "",
        f"**{rec.strategy}**, {counted(rec.processors, 'processors')}: {md_text(rec.reason)}",
        "",
        *([f"> **Caveat:** {md_text(caveat)}", ""] if caveat else []),
        *[f"> note: {md_text(note)}\n" for note in report.notes or []],
        "| metric | value |",
        "|---|---:|",
        f"| steps | {num(report.steps)} |",
        f"| dependencies | {num(report.dependencies)} |",
        f"| work | {amount(report.work, u)} |",
        f"| depth | {at_least}{amount(report.depth, u)} ({counted(report.depth_steps, 'steps')}) |",
        f"| width | {num(report.width)} |",
        f"| speedup ceiling | {at_most}{times(report.speedup_ceiling)} |",
        f"| serial fraction | {at_least}{num(report.serial_fraction, 3)} |",
    ]
    if report.overhead:
        lines.append(
            f"| burdened depth (overhead {amount(report.overhead, u)}/step) | "
            f"{amount(report.burdened_depth, u)} |"
        )
    if report.what_if:
        lines += ["", f"**What if** {md_text(what_if_line(report))}"]
    walls = all(r.makespan is not UNSET for r in report.speedup)
    lines += [
        "",
        f"Classified for {counted(report.processors, 'processors')}.",
        "",
        "| processors | upper | guaranteed | simulated |" + (" wall time |" if walls else ""),
        "|---:|---:|---:|---:|" + ("---:|" if walls else ""),
    ]
    for row in report.speedup:
        # (u is escaped already; a time's parts are ours)
        wall = f" {wall_time(row.makespan, u)} |" if walls else ""
        lines.append(
            f"| {row.processors} | {times(row.upper)} | {times(row.guaranteed)} "
            f"| {times(row.simulated)} |{wall}"
        )
    path = " → ".join(md_code(s, in_table=False) for s in short_path(report.critical_path))
    lines += ["", f"**Critical path:** {path}"]
    if report.top_drag:
        lines += ["", "| step worth shortening | cost | drag | halving saves |",
                  "|---|---:|---:|---:|"]  # fmt: skip
        for step in report.top_drag:
            lines.append(f"| {md_code(step.id)} | {amount(step.cost, u)} | "
                         f"{amount(step.drag, u)} | {amount(step.halving_saves, u)} |")  # fmt: skip
    if report.observed:
        lines += ["", f"**Observed run:** {md_text(observed_line(report))}"]
    plan = report.compression_plan
    if plan:
        head = f"**To reach depth {amount(plan.target, u)}:**"
        if not plan.reached:
            lines += ["", f"{head} impossible ({md_text(plan.reason or '')})"]
        elif not plan.steps:
            lines += ["", f"{head} nothing to do."]
        else:
            fewest = "the fewest possible" if plan.fewest else "maybe not the fewest"
            lines += ["", f"{head} shorten {counted(len(plan.steps), 'steps')} ({fewest}).", "",
                      "| step | cost | new cost |", "|---|---:|---:|"]  # fmt: skip
            lines += [f"| {md_code(s.id)} | {amount(s.cost, u)} | {amount(s.new_cost, u)} |"
                      for s in plan.steps]  # fmt: skip
    if report.near_critical:
        lines += ["", "| near-critical step | slack |", "|---|---:|"]
        for item in report.near_critical:
            lines.append(f"| {md_code(item.id)} | {amount(item.slack, u)} |")
    line = sparkline(report.profile, 40)
    if line:
        lines += ["", f"Parallelism profile (peak {num(report.width)}): `{line}`"]
    return neutralize("\n".join(lines) + "\n")
