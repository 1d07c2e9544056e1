"""Pictures of a report or a sweep: SVG and PNG through matplotlib (the ``plot`` extra), and a
self-contained HTML page (``--plot FILE``, by the file's suffix).

- A report (``--plot-kind speedup``, the default): two panels. Speedup against processors on
  log-log axes, where the linear ideal is the diagonal: the upper bound min(P, work/depth),
  Brent's guarantee, the simulated list schedule (and with an overhead the burdened
  simulation), the target and the recommended processor counts marked, and the simulated wall
  time on the right-hand axis. Then the parallelism profile over time, filled from zero, in
  the workload's unit, with the target processor count.
- The schedule chart (``--plot-kind schedule``): the list schedule on the target processors
  as a Gantt chart, steps as bars on processor lanes, the critical path in red.
- A sweep: depth, work and width against the swept parameter on log-log axes, ticks at the
  swept sizes, the fitted curves, one legend entry per quantity, the verdict in the title.
- HTML: the summary, the notes, both figures inlined as SVG, the speedup table, the critical
  path and the near-critical steps; no script, font or style is fetched from anywhere (it opens
  offline), and every text of the report is escaped.

Nothing is computed here: every number and curve comes from the report (the schedule chart
from :mod:`serialscale.core.gantt`). SVG is deterministic (fixed hash salt, no date); PNG is drawn
at :data:`PNG_DPI` dots per inch, sharp on high-density screens.
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

from msgspec import UNSET

from ..base.errors import SerialscaleError, escape_controls
from ..base.words import TIME_UNITS
from ..core.gantt import Gantt, merged
from ..documents.report import Report, ScaleReport
from .common import (
    amount,
    counted,
    num,
    observed_line,
    short_path,
    times,
    wall_time,
    what_if_line,
)

EXTRA_MESSAGE = "--plot needs matplotlib: pip install 'serialscale[plot]'"
#: PNG resolution: a 11-inch figure is 2,200 pixels wide, sharp on a high-density screen.
PNG_DPI = 200
#: What ``--plot-kind`` draws into an .svg or .png file (an .html page holds both).
KINDS = ("speedup", "schedule")
#: The schedule chart writes a step's id on its bar when the bar is at least this share of
#: the makespan, for at most ``MAX_BAR_LABELS`` bars (the longest first).
LABEL_SHARE = 0.05
MAX_BAR_LABELS = 150


class PlotUnavailable(SerialscaleError):
    """matplotlib is not installed (the ``plot`` extra)."""


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: files only
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable(EXTRA_MESSAGE) from None
    plt.rcParams["svg.hashsalt"] = "serialscale"  # the same SVG for the same report
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: no font outlines to embed
    return plt


def _plain(text: str) -> str:
    """User text for a matplotlib title, label or legend: ``$`` would start mathtext (a
    formula, or an error for ``$\\undefined``), so each is escaped and shown as written;
    control characters (which XML cannot hold) are shown by their escape."""
    return escape_controls(str(text)).replace("$", r"\$")


def _plain_number(value: float, _position: Any = None) -> str:
    return num(value, 3)


def report_figure(report: Report) -> Any:
    """The two-panel figure of a report: speedup and parallelism profile."""
    plt = _pyplot()
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    unit = report.unit
    rows = [r for r in report.speedup if r.simulated is not None]
    ps = [r.processors for r in rows]
    target, recommended = report.processors, report.recommendation.processors
    left.plot(ps, ps, color="0.6", linestyle=":", label="linear ideal")
    left.plot(ps, [r.upper for r in rows], color="black", label="upper bound min(P, work/depth)")
    left.plot(ps, [r.guaranteed for r in rows], color="tab:orange", linestyle="--",
              label="Brent's guarantee")  # fmt: skip
    left.plot(ps, [r.simulated for r in rows], color="tab:blue", marker="o",
              label="simulated list schedule")  # fmt: skip
    if report.overhead:
        burden = _plain(f"with overhead {amount(report.overhead, unit)} per step")
        left.plot(ps, [r.simulated_burdened for r in rows], color="tab:red", marker="x",
                  label=burden)  # fmt: skip
    left.axvline(target, color="tab:red", linestyle="--", linewidth=1,
                 label=f"target: {counted(target, 'processors')}")  # fmt: skip
    if recommended != target:
        left.axvline(recommended, color="tab:green", linestyle="-.", linewidth=1,
                     label=f"recommended: {counted(recommended, 'processors')}")  # fmt: skip
    else:
        left.plot([], [], " ", label=f"(recommended: the target, {num(target)})")
    if rows:
        left.set_xscale("log", base=2)
        left.set_yscale("log", base=2)
        for axis in (left.xaxis, left.yaxis):
            axis.set_major_formatter(FuncFormatter(_plain_number))
            axis.set_minor_locator(NullLocator())
        left.xaxis.set_major_locator(FixedLocator(ps))
        _wall_time_axis(left, report, rows)
    left.set_xlabel("processors (log scale)")
    left.set_ylabel("speedup (log scale)")
    left.set_title("Speedup by processor count")
    left.legend(fontsize=7, loc="upper left")

    if report.profile:
        starts = [s.start for s in report.profile]
        running = [s.running for s in report.profile]
        end = report.profile[-1].end
        xs, ys = [*starts, end], [*running, running[-1]]
        right.fill_between(xs, ys, step="post", color="tab:blue", alpha=0.3, linewidth=0)
        right.step(xs, ys, where="post", color="tab:blue", label="steps running")
        right.set_xlim(0, end if end > 0 else 1)
    right.axhline(target, color="tab:red", linestyle="--",
                  label=f"target: {counted(target, 'processors')}")  # fmt: skip
    right.set_ylim(bottom=0)
    right.set_xlabel(f"time ({_plain(unit)})" if unit else "time")
    right.set_ylabel("steps running")
    right.set_title("Parallelism profile")
    right.legend(fontsize=8, loc="upper right")
    fig.suptitle(f"{_plain(report.workload)}: {report.classification}, ceiling "
                 f"{times(report.speedup_ceiling)}")  # fmt: skip
    fig.tight_layout()
    return fig


def _wall_time_axis(ax: Any, report: Report, rows: list[Any]) -> None:
    """The simulated wall time on the right of the speedup panel: speedup = work / wall time,
    so each speedup on the left reads as a wall time on the right (ticks at the simulated
    rows, as :func:`~serialscale.render.common.wall_time` writes them)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    work = report.work
    walls = [(r.simulated, r.makespan) for r in rows if r.makespan is not UNSET and r.makespan]
    if not work or not walls:
        return

    def convert(values: Any) -> Any:
        import numpy as np

        v = np.asarray(values, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(v > 0, work / np.where(v > 0, v, 1), np.inf)

    side = ax.secondary_yaxis("right", functions=(convert, convert))
    ticks: list[float] = []
    for _, wall in sorted(walls, key=lambda w: -w[1]):
        if not ticks or ticks[-1] / wall > 1.25:  # no two labels on top of each other
            ticks.append(float(wall))
    side.yaxis.set_major_locator(FixedLocator(ticks))
    side.yaxis.set_minor_locator(NullLocator())
    side.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _plain(wall_time(v, report.unit))))
    time_unit = (report.unit or "").strip().lower() in TIME_UNITS
    side.set_ylabel("simulated wall time" if time_unit or not report.unit
                    else f"simulated makespan ({_plain(report.unit)})")  # fmt: skip
    side.tick_params(labelsize=7)


def schedule_figure(gantt: Gantt) -> Any:
    """The list schedule as a Gantt chart: one lane per processor, the critical path red."""
    plt = _pyplot()
    from matplotlib.patches import Patch

    lanes = gantt.lanes
    fig, ax = plt.subplots(figsize=(12, min(1.6 + 0.32 * lanes, 14)))
    bars = merged(gantt)
    span = gantt.makespan or 1
    for critical, color in ((False, "tab:blue"), (True, "tab:red")):
        by_lane: dict[int, list[tuple[Any, Any]]] = {}
        for b in bars:
            if b.critical == critical:
                by_lane.setdefault(b.lane, []).append((b.start, b.finish - b.start))
        for lane, ranges in sorted(by_lane.items()):
            # a critical step keeps a red outline: seen even where it is thinner than a pixel
            ax.broken_barh(ranges, (lane - 0.4, 0.8), facecolors=color,
                           edgecolors=color if critical else "white",
                           linewidth=1 if critical else 0.5)  # fmt: skip
    shortest = LABEL_SHARE * span
    wide = sorted((b for b in bars if b.steps == 1 and b.finish - b.start >= shortest),
                  key=lambda b: (b.start - b.finish, b.lane, b.start))  # fmt: skip
    fits = max(int(ax.get_window_extent().width / 6.5 * LABEL_SHARE), 4)
    for b in wide[:MAX_BAR_LABELS]:
        chars = max(int(fits * (b.finish - b.start) / (LABEL_SHARE * span)), 4)
        text = b.step if len(b.step) <= chars else b.step[: chars - 1] + "…"
        ax.text((b.start + b.finish) / 2, b.lane, _plain(text), ha="center", va="center",
                fontsize=6.5, color="white", clip_on=True)  # fmt: skip
    ax.set_ylim(lanes - 0.5, -0.5)  # processor 1 on top
    step = max(1, lanes // 32)
    ax.set_yticks(range(0, lanes, step), [f"P{k + 1}" for k in range(0, lanes, step)])
    ax.set_xlim(0, span)
    ax.set_xlabel(f"time ({_plain(gantt.unit)})" if gantt.unit else "time")
    ax.set_ylabel("processor")
    title = (f"{_plain(gantt.workload)}: list schedule on "
             f"{counted(gantt.processors, 'processors')}, makespan "
             f"{_plain(wall_time(gantt.makespan, gantt.unit))}")  # fmt: skip
    if len(bars) < len(gantt.bars):
        title += f"\n{counted(len(gantt.bars), 'steps')}: nearby steps on a lane drawn as one bar"
    ax.set_title(title, fontsize=10)
    ax.legend(handles=[Patch(color="tab:red", label="critical path"),
                       Patch(color="tab:blue", label="other steps")],
              fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1))  # fmt: skip
    fig.tight_layout()
    return fig


def scale_figure(sweep: ScaleReport) -> Any:
    """Depth, work and width against the parameter, log-log, with the fitted curves."""
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    xs = [p.value for p in sweep.points]
    colors = {"depth": "tab:red", "work": "tab:blue", "width": "tab:green"}
    handles = []
    for key, color in colors.items():
        ys = [getattr(p, key) for p in sweep.points]
        growth = getattr(sweep.growth, key)
        positive = [(x, y) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
        if positive:
            ax.plot(*zip(*positive, strict=True), "o", color=color)
        curve = [(x, y) for x, y in growth.curve or [] if x > 0 and y > 0]
        if curve:
            ax.plot(*zip(*curve, strict=True), "-", color=color, alpha=0.6)
        label = f"{key}: {growth.cls}" + (f" (fit: {growth.model})" if curve else "")
        handles.append(Line2D([], [], color=color, marker="o", linestyle="-" if curve else "",
                              label=_plain(label)))  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = sorted({x for x in xs if x > 0})
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(_plain_number))
    if len(ticks) > 12:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(f"{_plain(sweep.parameter)} (swept, log scale)")
    ax.set_ylabel("work and depth (cost), width (steps); log scale")
    ax.set_title(_plain(f"{sweep.workload}: {sweep.verdict} ({sweep.complexity})"))
    ax.legend(handles=handles, fontsize=8)
    fig.tight_layout()
    return fig


def figure_bytes(figure: Any, kind: str, salt: str = "serialscale") -> bytes:
    """The figure as ``svg`` or ``png`` bytes. SVG is deterministic: a fixed hash salt (the ids
    of its clip paths and markers; give each figure of one page its own ``salt`` so no two
    share an id) and no date; PNG is drawn at :data:`PNG_DPI`."""
    plt = _pyplot()
    out = io.BytesIO()
    with plt.rc_context({"svg.hashsalt": salt}):
        if kind == "svg":
            figure.savefig(out, format="svg", metadata={"Date": None})
        else:
            figure.savefig(out, format=kind, dpi=PNG_DPI)
    plt.close(figure)
    return out.getvalue()


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:80rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;"
    "text-align:left;border-bottom:1px solid #ddd}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}tr.target{font-weight:bold}.critical{color:#b00}"
    ".notes li{color:#8a5a00}svg{max-width:100%;height:auto}"
)
#: What a page built from a saved report says in place of the schedule chart.
NO_SCHEDULE = ("A saved report does not hold the graph the schedule chart is drawn from: "
               "draw it with serialscale analyze FILE --plot page.html")  # fmt: skip


def _e(text: object) -> str:
    """User text for HTML, in text and in quoted attributes alike: ``&``, ``<``, ``>`` and
    both quotes escaped, control characters shown by their escape."""
    return html.escape(escape_controls(str(text)), quote=True)


def report_html(report: Report, svg: str, schedule_svg: str | None = None) -> str:
    """A self-contained page: summary, notes, the figures, the speedup table, the critical
    path and the near-critical steps (``schedule_svg``: the schedule chart, when the graph was
    at hand)."""
    e = _e
    unit = report.unit
    rows = [("steps", num(report.steps)), ("dependencies", num(report.dependencies)),
            ("work", amount(report.work, unit)), ("depth", amount(report.depth, unit)),
            ("width", num(report.width)), ("speedup ceiling", times(report.speedup_ceiling)),
            ("serial fraction", num(report.serial_fraction, 3)),
            ("classification", f"{report.classification} (for "
             f"{counted(report.processors, 'processors')})"),
            ("strategy", f"{report.recommendation.strategy}, "
             f"{counted(report.recommendation.processors, 'processors')}")]  # fmt: skip
    if report.overhead:
        rows.append(("burdened depth", f"{amount(report.burdened_depth, unit)} (overhead "
                     f"{amount(report.overhead, unit)} per step)"))  # fmt: skip
    notes = [*(report.notes or [])]
    if report.what_if:
        notes.append("what if: " + what_if_line(report))
    if report.observed:
        notes.append("observed run: " + observed_line(report))
    near = "".join(f"<tr><td>{e(n.id)}</td><td class=\"n\">{e(amount(n.slack, unit))}</td></tr>"
                   for n in report.near_critical)  # fmt: skip
    # shortened as in the table (a 100,000-step chain made a 4 MB page); the JSON has it all
    path = " → ".join(f'<span class="critical">{e(s)}</span>'
                      for s in short_path(report.critical_path))  # fmt: skip
    chart = schedule_svg if schedule_svg is not None else f"<p>{e(NO_SCHEDULE)}</p>"
    schedule = f"<h2>Schedule on {e(counted(report.processors, 'processors'))}</h2>{chart}"
    return _page(
        f"serialscale · {report.workload}",
        (f"<p>{e(report.description.strip())}</p>" if report.description else "")
        + "<table>" + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
        + "</table>"
        + f"<p>{e(report.recommendation.reason)}</p>"
        + _notes(notes) + "<h2>Speedup and parallelism profile</h2>" + svg + schedule
        + "<h2>Speedup by processor count</h2>" + _speedup_table(report)
        + f"<h2>Critical path</h2><p>{path}</p>"
        + (f"<h2>Near-critical steps</h2><table><tr><th>step</th><th>slack</th></tr>{near}"
           "</table>" if near else ""),
    )  # fmt: skip


def _notes(notes: list[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_e(n)}</li>" for n in notes)
    return f'<h2>Notes</h2><ul class="notes">{items}</ul>'


def _speedup_table(report: Report) -> str:
    """The speedup table as the console shows it (the target row in bold)."""
    unit = report.unit
    head = ["processors", "upper", "guaranteed", "simulated"]
    if report.overhead:
        head.append("with overhead")
    walls = any(r.makespan is not UNSET for r in report.speedup)
    if walls:
        head.append("wall time")
    out = ["<table><tr>", *(f'<th class="n">{h}</th>' for h in head), "</tr>"]
    for r in report.speedup:
        cells = [num(r.processors), times(r.upper), times(r.guaranteed), times(r.simulated)]
        if report.overhead:
            cells.append(times(r.simulated_burdened))
        if walls:
            cells.append(wall_time(r.makespan, unit) if r.makespan is not UNSET else "—")
        mark = ' class="target"' if r.processors == report.processors else ""
        out += [f"<tr{mark}>", *(f'<td class="n">{_e(c)}</td>' for c in cells), "</tr>"]
    out.append("</table>")
    return "".join(out)


def scale_html(sweep: ScaleReport, svg: str) -> str:
    """A self-contained page for a sweep: verdict, warnings and notes, the figure, the
    points."""
    e = _e
    points = "".join(
        f'<tr><td class="n">{e(num(p.value))}</td><td class="n">{e(num(p.work))}</td>'
        f'<td class="n">{e(num(p.depth))}</td><td class="n">{e(num(p.width))}</td></tr>'
        for p in sweep.points
    )
    return _page(
        f"serialscale scale · {sweep.workload}",
        f"<p><b>{e(sweep.verdict)}</b> ({e(sweep.complexity)}). {e(sweep.explanation)}</p>"
        + _notes([*sweep.warnings, *(sweep.notes or [])]) + svg
        + f"<table><tr><th>{e(sweep.parameter)}</th><th>work</th><th>depth</th><th>width</th>"
        f"</tr>{points}</table>",
    )  # fmt: skip


def _page(title: str, body: str) -> str:
    e = _e
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}'
            f"</title><style>{_STYLE}</style></head><body><h1>{e(title)}</h1>{body}</body>"
            "</html>\n")  # fmt: skip


_TAG = re.compile(r"<[^>]*>")
_REFERENCE = re.compile(r'(\sid="|url\(#|href="#)')


def _inline(svg: bytes, prefix: str = "") -> str:
    """An SVG document as markup to inline in HTML (without its XML prologue); ``prefix``
    starts each of its ids and references to them (``id="axes_1"``, ``url(#p1)``,
    ``href="#m2"``), so two figures on one page share no id. Only tags are rewritten: text
    holds no raw ``<`` or ``>`` (matplotlib escapes them), so a step named ``id="x"`` stays
    as it is."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    if not prefix:
        return text
    return _TAG.sub(lambda tag: _REFERENCE.sub(lambda m: m.group() + prefix, tag.group()), text)


def plot(document: Report | ScaleReport, suffix: str, kind: str = "speedup",
         gantt: Gantt | None = None) -> bytes:  # fmt: skip
    """The picture of ``document`` for a file ending in ``suffix`` (.svg, .png, .html).
    ``kind`` (:data:`KINDS`) picks the figure of an .svg or .png file: ``schedule`` needs
    ``gantt``; an .html page of a report holds both (the schedule when ``gantt`` is given)."""
    if isinstance(document, ScaleReport):
        figure = scale_figure(document)
        if suffix in (".svg", ".png"):
            return figure_bytes(figure, suffix[1:])
        return scale_html(document, _inline(figure_bytes(figure, "svg"))).encode("utf-8")
    if suffix in (".svg", ".png"):
        if kind == "schedule":
            if gantt is None:
                raise ValueError("the schedule chart needs the graph (serialscale.core.gantt)")
            return figure_bytes(schedule_figure(gantt), suffix[1:])
        return figure_bytes(report_figure(document), suffix[1:])
    svg = _inline(figure_bytes(report_figure(document), "svg"))
    chart = None
    if gantt is not None:
        chart = _inline(figure_bytes(schedule_figure(gantt), "svg", "serialscale-schedule"),
                        "schedule-")  # fmt: skip
    return report_html(document, svg, chart).encode("utf-8")
