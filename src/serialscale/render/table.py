"""The console summary (``--format table``), drawn with rich at a given width."""

from __future__ import annotations

import io
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from msgspec import UNSET
from rich import box
from rich.cells import cell_len
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..base.errors import display, display_each
from ..documents.report import Report
from .common import (
    amount,
    cell,
    cells,
    counted,
    finished,
    lower_bound,
    make_console,
    num,
    observed_line,
    short_path,
    simple_head_width,
    sparkline,
    times,
    wall_time,
    what_if_line,
)

CLASS_STYLE = {"serial": "bold red", "mixed": "bold yellow", "parallel": "bold green"}


#: What the ``simulated`` column is when steps have spans (serialscale.core.moldable).
SCHEDULE_MODELS = {
    "moldable": "steps with spans run on up to cost/span processors each (malleable greedy "
    "schedule); guaranteed is Brent's bound with spans",
    "bounds": "too many steps with spans to simulate: simulated is Brent's bound with spans",
}


#: The columns of ``--detail``'s table of steps: name, and whether right-justified.
DETAIL_COLUMNS = (("step", False), ("cost", True), ("start", True), ("finish", True),
                  ("slack", True))  # fmt: skip
#: Up to this many steps, ``--detail``'s table is a rich table; beyond, its lines are laid
#: out by :func:`detail_lines` (the same layout, where ids and figures fit the width): a
#: rich table holds every cell of every row as segments at once (a traced function of
#: 2,000,000 steps took 9 GB and more than ten minutes).
RICH_DETAIL_ROWS = 2_000
#: The narrowest the step column of :func:`detail_lines` gets.
LEAST_STEP_WIDTH = 8


def detail_lines(report: Report, width: int, console: Console) -> Iterator[str]:
    """``--detail``'s table of steps as rich lays out a ``SIMPLE_HEAD`` table of
    :data:`DETAIL_COLUMNS` at ``width`` columns, in time linear in the steps (a few
    microseconds a step): the heading, its rule, then the rows. Where the ids and figures fit
    the width, the lines are rich's (tests/test_render.py compares them). Otherwise the
    figures keep their widths, the step column takes the rest (at least
    :data:`LEAST_STEP_WIDTH`), and a wider id is folded onto the lines below it, at spaces
    first, as rich folds; lines wider than ``width`` are left so (rich would fold figures)."""
    detail = report.detail or []
    columns = [_figures(list(map(attrgetter(name), detail))) for name, _ in DETAIL_COLUMNS[1:]]
    figures = [max(len(name), *map(len, column)) for (name, _), column in
               zip(DETAIL_COLUMNS[1:], columns, strict=True)]  # fmt: skip
    ids = display_each(map(attrgetter("id"), detail))
    plain = all(map(str.isascii, ids))  # one character a cell: len() is the width
    shown = list(map(len, ids)) if plain else list(map(cell_len, ids))
    room = width - simple_head_width(figures) - 3  # (the step column's padding and gap)
    step = min(max(4, *shown), max(room, LEAST_STEP_WIDTH))
    names = [f"{name:>{w}}" for (name, _), w in zip(DETAIL_COLUMNS[1:], figures, strict=True)]
    yield "  " + "   ".join([f"{'step':<{step}}", *names])
    yield " " + "─" * (step + sum(figures) + 3 * len(DETAIL_COLUMNS) - 1)
    rest = "   ".join(f"{{:>{w}}}" for w in figures)
    if plain and max(shown) <= step:  # every id on one line, padded by format
        yield from map(f"  {{:<{step}}}   {rest}".format, ids, *columns)
        return
    row = f"  {{}}   {rest}".format
    for i, name in enumerate(ids):
        parts = [name] if shown[i] <= step else fold(name, step, console)
        yield row(parts[0] + " " * (step - cell_len(parts[0])), *(c[i] for c in columns))
        for part in parts[1:]:
            yield "  " + part


def fold(text: str, width: int, console: Console) -> list[str]:
    """``text`` folded onto lines of at most ``width`` cells, as rich folds a cell: at spaces
    first. An ASCII text without spaces (a traced step's id) is cut every ``width``
    characters, which is what rich does with it, 20 times faster."""
    if text.isascii() and text.isprintable() and " " not in text:
        return [text[k : k + width] for k in range(0, len(text), width)]
    return [line.plain for line in Text(text).wrap(console, width, overflow="fold")]


def _figures(values: list[Any]) -> list[str]:
    """:func:`~.common.num` of each value; integers (a traced run's) at C speed."""
    if set(map(type, values)) <= {int}:
        return list(map("{:,}".format, values))
    return list(map(num, values))


def render_table(report: Report, width: int = 100, color: bool = False) -> str:
    """Render ``report`` as the human summary, ``width`` columns wide, with or without colour."""
    out = io.StringIO()
    console = make_console(out, width, color)
    u = report.unit
    # Every user text is a rich Text (never markup) that went through display().
    title = Text.assemble(("serialscale", "bold"), " · ", (display(report.workload), "bold cyan"))
    if report.source:
        params = ", ".join(f"{k}={v}" for k, v in (report.params or {}).items())
        title.append(display(f"  ({report.source}{', ' + params if params else ''})"),
                     style="dim")  # fmt: skip
    console.print(title)
    if report.description:
        console.print(Text(display(report.description.strip(), lines=True), style="dim"))
    console.print()

    caveat = lower_bound(report)
    at_least, at_most = ("≥ ", "≤ ") if caveat else ("", "")
    headline = Table(box=box.SIMPLE_HEAD, show_header=False, pad_edge=False)
    headline.add_column("metric", style="bold")
    headline.add_column("value", justify="right")
    headline.add_column("meaning", style="dim")
    rows = [
        ("steps", num(report.steps), counted(report.dependencies, "dependencies")),
        ("work", amount(report.work, u), "total cost"),
        (
            "depth",
            at_least + amount(report.depth, u),
            ("longest path of spans, " if report.schedule_model else "critical path, ")
            + counted(report.depth_steps, "steps")
            + ("; a lower bound" if caveat else ""),
        ),
        ("width", num(report.width), "peak steps running at once"),
        ("speedup ceiling", at_most + times(report.speedup_ceiling), "work / depth"),
        ("serial fraction", at_least + num(report.serial_fraction, 3), "depth / work"),
    ]
    if report.overhead:
        rows.append((
            "burdened depth",
            amount(report.burdened_depth, u),
            f"with {amount(report.overhead, u)} overhead per step; ceiling "
            f"{times(report.burdened_speedup_ceiling)}",
        ))  # fmt: skip
    for metric in rows:  # the unit is the workload's own text
        headline.add_row(*cells(*metric))
    console.print(headline)

    rec = report.recommendation
    verdict = Text.assemble(
        ("classification: ", "bold"),
        (report.classification, CLASS_STYLE.get(report.classification, "bold")),
        f" (for {counted(report.processors, 'processors')})   ",
        ("strategy: ", "bold"),
        rec.strategy,
        f", {counted(rec.processors, 'processors')}",
    )
    said = [verdict, cell(rec.reason)]
    if caveat:
        said.append(cell(f"caveat: {caveat}", style="bold yellow"))
    console.print(Panel(Group(*said), box=box.ROUNDED, expand=True))
    for note in report.notes or []:
        console.print(cell(f"note: {note}", style="yellow"))
    if report.what_if:
        console.print(what_if_text(report), overflow="fold")
    if report.observed:
        console.print(observed_text(report), overflow="fold")

    console.print(Text("Speedup by processor count", style="bold"))
    if report.schedule_model:  # steps with spans: say how 'simulated' was found
        console.print(cell(SCHEDULE_MODELS[report.schedule_model], style="dim"))
    speed = Table(box=box.SIMPLE_HEAD)
    speed.add_column("processors", justify="right")
    speed.add_column("upper", justify="right")
    speed.add_column("guaranteed", justify="right")
    speed.add_column("simulated", justify="right")
    if report.overhead:
        speed.add_column("with overhead", justify="right")
    walls = [r.makespan for r in report.speedup if r.makespan is not UNSET]
    if walls:
        speed.add_column("wall time", justify="right")
    for row in report.speedup:
        numbers = [
            str(row.processors),
            times(row.upper),
            times(row.guaranteed),
            times(row.simulated),
        ]
        if report.overhead:
            numbers.append(times(row.simulated_burdened))
        if walls:
            numbers.append(display(wall_time(row.makespan, u)))
        speed.add_row(*map(Text, numbers),
                      style="bold" if row.processors == report.processors else None)  # fmt: skip
    console.print(speed)

    console.print(Text("Critical path", style="bold"))
    added = set(report.connectors or ())
    path = [f"[{s}]" if s in added else s for s in report.critical_path]
    console.print(Text(" → ".join(display(s) for s in short_path(path))), overflow="fold")
    if added & set(report.critical_path):
        console.print(Text("[…]: a zero-cost step the importer added (a join or an entry)",
                           style="dim"))  # fmt: skip
    console.print()

    if report.top_drag:
        console.print(Text("Steps worth shortening (drag: depth saved if it took no time)",
                           style="bold"))  # fmt: skip
        worth = Table(box=box.SIMPLE_HEAD)
        worth.add_column("step")
        for column in ("cost", "drag", "halving saves"):
            worth.add_column(column, justify="right")
        for step in report.top_drag:
            worth.add_row(*cells(step.id, amount(step.cost, u), amount(step.drag, u),
                                 amount(step.halving_saves, u)))  # fmt: skip
        console.print(worth)

    if report.compression_plan:
        console.print(plan_text(report), overflow="fold")
        console.print()

    if report.near_critical:
        console.print(Text("Near-critical steps (least slack)", style="bold"))
        near = Table(box=box.SIMPLE_HEAD)
        near.add_column("step")
        near.add_column("slack", justify="right")
        for item in report.near_critical:
            near.add_row(*cells(item.id, amount(item.slack, u)))
        console.print(near)

    if report.detail:  # --detail: every step of the ASAP schedule
        console.print(Text("Steps (ASAP schedule)", style="bold"))
        if len(report.detail) <= RICH_DETAIL_ROWS:
            steps = Table(box=box.SIMPLE_HEAD)
            for column, right in DETAIL_COLUMNS:
                steps.add_column(column, justify="right" if right else "left", overflow="fold")
            for d in report.detail:
                figures = [num(d.cost), num(d.start), num(d.finish), num(d.slack)]
                steps.add_row(cell(d.id), *map(Text, figures))
            console.print(steps)
        else:
            lines = detail_lines(report, width, console)
            console.print()  # (rich starts a table so)
            console.print(Text(next(lines), style="bold"), soft_wrap=True)
            out.write("\n".join(lines))
            out.write("\n")
            console.print()

    line = sparkline(report.profile, max(10, min(60, width - 20)))
    if line:
        console.print(Text("Parallelism profile (steps running over time)", style="bold"))
        console.print(Text(f"{num(report.width):>6} ┤") + Text(line, style="cyan"))
        console.print(Text(f"{0:>6} └" + "─" * len(line)))
        console.print(cell(f"{'':>8}0{amount(report.depth, u):>{len(line) - 1}}", style="dim"))
    return finished(out.getvalue())  # no trailing spaces; a folded cell may start a line


def what_if_text(report: Report) -> Text:
    """``--what-if``: the sentence of :func:`.common.what_if_line`, labelled."""
    return Text.assemble(("What if", "bold"), " ", display(what_if_line(report)))


def plan_text(report: Report) -> Text:
    """``--target-depth``: the steps to shorten and by how much, in one paragraph."""
    plan = report.compression_plan
    assert plan
    u = report.unit
    head = f"To reach depth {amount(plan.target, u)}"
    if not plan.reached:
        return Text.assemble((head, "bold"), display(f": impossible ({plan.reason})"))
    if not plan.steps:
        return Text.assemble((head, "bold"), ": nothing to do (the depth is already there)")
    changes = ", ".join(f"'{s.id}' {num(s.cost)} → {num(s.new_cost)}" for s in plan.steps)
    count = counted(len(plan.steps), "steps")
    fewest = "the fewest possible" if plan.fewest else "found step by step, maybe not the fewest"
    line = f": shorten {changes} ({count}, {fewest}; depth then {amount(plan.depth, u)})"
    return Text.assemble((head, "bold"), display(line))


def observed_text(report: Report) -> Text:
    """A real run beside the model: the sentence of :func:`.common.observed_line`, labelled."""
    return Text.assemble(("Observed run", "bold"), ": ", display(observed_line(report)))
