"""Pictures of a report or a sweep: SVG and PNG through matplotlib (the ``plot`` extra), and a
self-contained HTML page (``--plot FILE``, by the file's suffix).

- A report: two panels. Speedup against processors (the linear ideal, the upper bound
  min(P, work/depth), Brent's guarantee, the simulated list schedule, and with an overhead the
  burdened simulation), and the parallelism profile over time with the target processor count.
- A sweep: depth, work and width against the swept parameter on log-log axes, the fitted
  curves, the verdict in the title.
- HTML: the summary, the figure inlined as SVG, the critical path and the near-critical steps;
  no script, font or style is fetched from anywhere (it opens offline).

Nothing is computed here: every number and curve comes from the report.
"""

from __future__ import annotations

import html
import io
from typing import Any

from ..base.errors import SerialscaleError
from ..documents.report import Report, ScaleReport
from .common import amount, num, times

EXTRA_MESSAGE = "--plot needs matplotlib: pip install 'serialscale[plot]'"


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
    formula, or an error for ``$\\undefined``), so each is escaped and shown as written."""
    return text.replace("$", r"\$")


def report_figure(report: Report) -> Any:
    """The two-panel figure of a report."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = [r for r in report.speedup if r.simulated is not None]
    ps = [r.processors for r in rows]
    left.plot(ps, ps, color="0.7", linestyle=":", label="linear ideal")
    left.plot(ps, [r.upper for r in rows], color="black", label="upper bound min(P, work/depth)")
    left.plot(ps, [r.guaranteed for r in rows], color="tab:orange", linestyle="--",
              label="Brent's guarantee")  # fmt: skip
    left.plot(ps, [r.simulated for r in rows], color="tab:blue", marker="o",
              label="simulated list schedule")  # fmt: skip
    if report.overhead:
        left.plot(ps, [r.simulated_burdened for r in rows], color="tab:red", marker="x",
                  label=f"with overhead {num(report.overhead)} per step")  # fmt: skip
    left.set_xscale("log", base=2)
    left.set_xlabel("processors")
    left.set_ylabel("speedup")
    left.set_title("Speedup by processor count")
    left.legend(fontsize=8)
    starts = [s.start for s in report.profile]
    running = [s.running for s in report.profile]
    if report.profile:
        right.step([*starts, report.profile[-1].end], [*running, running[-1]], where="post",
                   color="tab:blue", label="steps running")  # fmt: skip
    right.axhline(report.processors, color="tab:red", linestyle="--",
                  label=f"target: {report.processors} processors")  # fmt: skip
    right.set_xlabel(f"time ({_plain(report.unit)})" if report.unit else "time")
    right.set_ylabel("steps running")
    right.set_title("Parallelism profile")
    right.legend(fontsize=8)
    fig.suptitle(f"{_plain(report.workload)}: {report.classification}, ceiling "
                 f"{times(report.speedup_ceiling)}")  # fmt: skip
    fig.tight_layout()
    return fig


def scale_figure(sweep: ScaleReport) -> Any:
    """Depth, work and width against the parameter, log-log, with the fitted curves."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    xs = [p.value for p in sweep.points]
    colors = {"depth": "tab:red", "work": "tab:blue", "width": "tab:green"}
    for key, color in colors.items():
        ys = [getattr(p, key) for p in sweep.points]
        growth = getattr(sweep.growth, key)
        positive = [(x, y) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
        if positive:
            ax.plot(*zip(*positive, strict=True), "o", color=color,
                    label=_plain(f"{key}: {growth.cls}"))  # fmt: skip
        curve = [(x, y) for x, y in growth.curve or [] if x > 0 and y > 0]
        if curve:
            ax.plot(*zip(*curve, strict=True), "-", color=color, alpha=0.6,
                    label=_plain(f"{key} fit: {growth.model}"))  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_plain(sweep.parameter))
    ax.set_title(_plain(f"{sweep.workload}: {sweep.verdict} ({sweep.complexity})"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_bytes(figure: Any, kind: str) -> bytes:
    """The figure as ``svg`` or ``png`` bytes (deterministic SVG: fixed hash salt, no date)."""
    out = io.BytesIO()
    figure.savefig(out, format=kind, metadata={"Date": None} if kind == "svg" else None)
    _pyplot().close(figure)
    return out.getvalue()


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;"
    "border-bottom:1px solid #ddd}.critical{color:#b00}svg{max-width:100%;height:auto}"
)


def report_html(report: Report, svg: str) -> str:
    """A self-contained page: summary, the figure, the critical path, near-critical steps."""
    e = html.escape
    unit = report.unit
    rows = [("steps", num(report.steps)), ("dependencies", num(report.dependencies)),
            ("work", amount(report.work, unit)), ("depth", amount(report.depth, unit)),
            ("width", num(report.width)), ("speedup ceiling", times(report.speedup_ceiling)),
            ("classification", f"{report.classification} (for {report.processors} "
             "processors)"), ("strategy", report.recommendation.strategy)]  # fmt: skip
    near = "".join(f"<tr><td>{e(n.id)}</td><td>{e(amount(n.slack, unit))}</td></tr>"
                   for n in report.near_critical)  # fmt: skip
    path = " → ".join(f'<span class="critical">{e(s)}</span>' for s in report.critical_path)
    return _page(
        f"serialscale · {report.workload}",
        "<table>" + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
        + "</table>"
        + f"<p>{e(report.recommendation.reason)}</p>{svg}"
        + f"<h2>Critical path</h2><p>{path}</p>"
        + (f"<h2>Near-critical steps</h2><table><tr><th>step</th><th>slack</th></tr>{near}"
           "</table>" if near else ""),
    )  # fmt: skip


def scale_html(sweep: ScaleReport, svg: str) -> str:
    """A self-contained page for a sweep: verdict, warnings, the figure, the points."""
    e = html.escape
    points = "".join(
        f"<tr><td>{num(p.value)}</td><td>{num(p.work)}</td><td>{num(p.depth)}</td>"
        f"<td>{num(p.width)}</td></tr>" for p in sweep.points
    )  # fmt: skip
    warnings = "".join(f"<li>{e(w)}</li>" for w in sweep.warnings)
    return _page(
        f"serialscale scale · {sweep.workload}",
        f"<p><b>{e(sweep.verdict)}</b> ({e(sweep.complexity)}). {e(sweep.explanation)}</p>"
        + (f"<ul>{warnings}</ul>" if warnings else "") + svg
        + f"<table><tr><th>{e(sweep.parameter)}</th><th>work</th><th>depth</th><th>width</th>"
        f"</tr>{points}</table>",
    )  # fmt: skip


def _page(title: str, body: str) -> str:
    e = html.escape
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}'
            f"</title><style>{_STYLE}</style></head><body><h1>{e(title)}</h1>{body}</body>"
            "</html>\n")  # fmt: skip


def _inline(svg: bytes) -> str:
    """An SVG document as markup to inline in HTML (without its XML prologue)."""
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]


def plot(document: Report | ScaleReport, suffix: str) -> bytes:
    """The picture of ``document`` for a file ending in ``suffix`` (.svg, .png, .html)."""
    figure = report_figure(document) if isinstance(document, Report) else scale_figure(document)
    if suffix in (".svg", ".png"):
        return figure_bytes(figure, suffix[1:])
    svg = _inline(figure_bytes(figure, "svg"))
    page = report_html(document, svg) if isinstance(document, Report) else scale_html(document, svg)
    return page.encode("utf-8")
