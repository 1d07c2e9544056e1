"""Rendering sweep results (``serialscale scale``): table with a log-log chart, Markdown, JSON."""

from __future__ import annotations

import io
import math

from msgspec import UNSET
from rich import box
from rich.table import Table
from rich.text import Text

from ..base.errors import display, neutralize
from ..documents.report import ScalePoint, ScaleReport, to_builtins
from .common import cell, finished, make_console, md_code, md_text, num, times
from .json_report import dumps

CHART_ROWS = 10


def render_scale_json(report: ScaleReport) -> str:
    """The sweep as one JSON object."""
    return dumps(to_builtins(report))


def _sizes(report: ScaleReport) -> str:
    """``n = 8..1024``: the sizes swept (exponents are local to them)."""
    values = [p.value for p in report.points]
    return f"{report.parameter} = {num(min(values))}..{num(max(values))}"


def _growth_line(report: ScaleReport, key: str) -> str:
    """``polynomial, exponent 1 over n = 8..64  (1·n^1 - 1; error 0.002; runner-up ...)``."""
    g = getattr(report.growth, key)
    exp = f", exponent {g.exponent:g} over {_sizes(report)}" if g.exponent is not None else ""
    runner = g.runner_up
    # (a closer fit than the model shown: the simplest the precision does not reject)
    label = "runner-up" if runner is None or runner.error >= g.error else "closer fit"
    other = f"; {label} {runner.cls}, error {runner.error:.2g}" if runner is not None else ""
    return f"{g.cls}{exp}  ({g.model}; error {g.error:.2g}{other})"


def _prediction(report: ScaleReport) -> str:
    """The ``--predict`` line: an extrapolation of the fits, from the sizes swept to one."""
    pr = report.prediction
    assert pr
    return (
        f"Extrapolating the fits over {_sizes(report)} to {report.parameter}={num(pr.value)} "
        f"(a guess, not a measurement): work ≈ {num(pr.work)}, depth ≈ {num(pr.depth)}, "
        f"speedup ceiling ≈ {times(pr.speedup_ceiling)}."
    )


VERDICT_STYLE = {"parallelizable": "bold green", "serial": "bold red",
                 "inconclusive": "bold yellow"}  # fmt: skip


def loglog_chart(points: list[ScalePoint], columns: int) -> list[str]:
    """Depth (``d``) and work (``w``) against the parameter, both axes on log scales."""
    xs = [p.value for p in points]
    series = [("w", [p.work for p in points]), ("d", [p.depth for p in points])]
    positive = [v for _, ys in series for v in ys if v > 0]
    if not positive or min(xs) <= 0:
        return []
    lo, hi = math.log(min(positive)), math.log(max(positive))
    x0, x1 = math.log(min(xs)), math.log(max(xs))
    grid = [[" "] * columns for _ in range(CHART_ROWS)]
    for mark, ys in series:
        for x, y in zip(xs, ys, strict=True):
            if y <= 0:
                continue
            col = round((math.log(x) - x0) / ((x1 - x0) or 1) * (columns - 1))
            row = round((math.log(y) - lo) / ((hi - lo) or 1) * (CHART_ROWS - 1))
            cell = grid[CHART_ROWS - 1 - row]
            cell[col] = "*" if cell[col] not in (" ", mark) else mark
    top, bottom = num(max(positive)), num(min(positive))
    label = max(len(top), len(bottom))
    lines = []
    for r, cells in enumerate(grid):
        tag = top if r == 0 else bottom if r == CHART_ROWS - 1 else ""
        lines.append(f"{tag:>{label}} ┤" + "".join(cells))
    lines.append(" " * label + " └" + "─" * columns)
    left, right = num(min(xs)), num(max(xs))
    lines.append(" " * (label + 2) + left + right.rjust(columns - len(left)))
    return lines


def render_scale_table(report: ScaleReport, width: int = 100, color: bool = False) -> str:
    """The sweep for people: points, growth classes, verdict and a log-log chart."""
    out = io.StringIO()
    console = make_console(out, width, color)
    # Every user text is a rich Text (never markup) that went through display().
    title = Text.assemble(("serialscale scale", "bold"), " · ",
                          (display(report.workload), "bold cyan"))  # fmt: skip
    console.print(title, cell(f"  ({report.source}, sweeping {report.parameter})", style="dim"))
    console.print()
    table = Table(box=box.SIMPLE_HEAD)
    repeated = bool(report.repeat)
    columns = [report.parameter, "step count", "work", "depth", "width", "ceiling"]
    for column in columns + (["depth spread"] if repeated else []):
        table.add_column(cell(column), justify="right")
    for p in report.points:
        cells = [num(p.value), num(p.steps), num(p.work), num(p.depth), num(p.width),
                 times(p.speedup_ceiling)]  # fmt: skip
        if repeated:
            cells.append(f"{p.spread:.1%}" if p.spread is not UNSET else "—")
        table.add_row(*map(Text, cells))
    console.print(table)
    for key in ("depth", "work", "width"):
        console.print(
            Text.assemble((f"{key:>6} grows ", "bold"), display(_growth_line(report, key)))
        )
    console.print()
    style = VERDICT_STYLE.get(report.verdict, "bold")
    console.print(Text.assemble(("verdict: ", "bold"), (display(report.verdict), style),
                                display(f"  ({report.complexity})")))  # fmt: skip
    console.print(cell(report.explanation))
    for warning in report.warnings:
        console.print(cell(f"warning: {warning}", style="yellow"))
    for note in report.notes or []:
        console.print(cell(f"note: {note}", style="yellow"))
    if report.prediction:
        console.print(cell(_prediction(report)))
    chart = loglog_chart(report.points, max(20, min(60, width - 16)))
    if chart:
        console.print()
        console.print(Text("work (w) and depth (d), log-log", style="bold"))
        for line in chart:
            console.print(Text(line))
    return finished(out.getvalue())  # no trailing spaces; a folded cell may start a line


def render_scale_markdown(report: ScaleReport) -> str:
    """The sweep as Markdown for a pull-request comment; every user text is escaped (as in
    :func:`serialscale.render.markdown.render_markdown`)."""
    p = md_text(report.parameter)
    lines = [
        f"### serialscale scale: {md_code(report.workload)} is **{md_text(report.verdict)}** "
        f"({md_text(report.complexity)})",
        "",
        md_text(report.explanation),
        "",
        *[f"> warning: {md_text(w)}\n" for w in report.warnings],
        *[f"> note: {md_text(n)}\n" for n in report.notes or []],
        f"| {p} | step count | work | depth | width | ceiling |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for pt in report.points:
        lines.append(
            f"| {num(pt.value)} | {num(pt.steps)} | {num(pt.work)} | "
            f"{num(pt.depth)} | {num(pt.width)} | {times(pt.speedup_ceiling)} |"
        )
    lines += ["", "| quantity | growth |", "|---|---|"]
    for key in ("depth", "work", "width"):
        lines.append(f"| {key} | {md_text(_growth_line(report, key))} |")
    if report.prediction:
        lines += ["", md_text(_prediction(report))]
    return neutralize("\n".join(lines) + "\n")
