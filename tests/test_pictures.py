"""Pictures that answer the question: the speedup panel on log-log axes with the target and
the recommended counts, the filled profile from zero, the sweep's ticks and single legend, the
schedule chart (checked against the graph by networkx), the HTML page's tables, notes and
escaping of hostile names, deterministic SVG and high-density PNG."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest
from msgspec import structs

from serialscale.core.analysis import analyze_workload
from serialscale.core.gantt import gantt_of, merged
from serialscale.core.graph import Graph
from serialscale.core.workload import Workload

from .conftest import WORKLOADS, chain, fan, nx_depth

pytest.importorskip("matplotlib")
from serialscale.render import plots

MAPREDUCE = str(WORKLOADS / "mapreduce.yaml")
SWEEP = str(WORKLOADS / "sweeps" / "tree_reduction.yaml")
HOSTILE = ['<script>alert("x")</script>', "a\"b'c", "&amp; & #35;", "esc\x1b[31mred",
           "line\nbreak", '"><img src=x onerror=alert(1)>', "$\\undefined$", "]]><!--"]  # fmt: skip


def _hostile_report(processors: int = 2):
    ids = HOSTILE
    costs = [5, 3, 4, 2, 6, 1, 3, 2]
    needs = [[], [0], [0], [1, 2], [0], [4], [3], [6, 5]]
    graph = Graph.from_lists(ids, costs, needs)
    workload = Workload(name='<b>"w"</b> & co', graph=graph, source="w.yaml", unit="minutes",
                        description="<i>described</i>\x07")  # fmt: skip
    report = analyze_workload(workload, processors=processors, detail=True)
    report = structs.replace(report, notes=["note <u>one</u> & \x1b[1m", "two"])
    return graph, report, costs, needs


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text of the page (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _svgs(page: str) -> list[ET.Element]:
    out, at = [], 0
    while (start := page.find("<svg", at)) >= 0:
        end = page.index("</svg>", start) + len("</svg>")
        out.append(ET.fromstring(page[start:end]))  # well-formed XML, or this raises
        at = end
    return out


def _tables(page: str) -> list[list[list[str]]]:
    """The page's tables as rows of cell texts (a small parser: no nesting in these pages)."""

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tables: list[list[list[str]]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs) -> None:
            if tag == "table":
                self.tables.append([])
            elif tag == "tr":
                self.tables[-1].append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.tables[-1][-1].append("".join(self.cell))
                self.cell = None

        def handle_data(self, data) -> None:
            if self.cell is not None:
                self.cell.append(data)

    parser = Tables()
    parser.feed(page)
    return parser.tables


# ---------------------------------------------------------------- HTML


def test_html_escapes_hostile_names_everywhere() -> None:
    graph, report, _, _ = _hostile_report()
    page = plots.plot(report, ".html", gantt=gantt_of(graph, report)).decode()
    parsed = _parse(page)
    tags = {tag for tag, _ in parsed.tags}
    assert "script" not in tags and "img" not in tags and "i" not in tags and "u" not in tags
    for _, attrs in parsed.tags:
        assert not any(name.startswith("on") for name, _ in attrs), attrs
    assert "\x1b" not in page and "\x07" not in page
    text = "".join(parsed.text)
    # each hostile id is shown as text, as written (control characters by their escape)
    for step in HOSTILE:
        shown = step.replace("\x1b", "\\x1b").replace("\n", "\\n")
        assert shown in text, step
    assert '<b>"w"</b> & co' in text and "note <u>one</u> & \\x1b[1m" in text
    assert "<i>described</i>\\x07" in text
    svgs = _svgs(page)
    assert len(svgs) == 2  # the speedup figure and the schedule chart
    ids = [el.get("id") for svg in svgs for el in svg.iter() if el.get("id")]
    assert len(ids) == len(set(ids))  # two figures on one page share no id


def test_html_carries_the_speedup_table_and_the_notes() -> None:
    graph, report, costs, needs = _hostile_report(processors=2)
    page = plots.plot(report, ".html", gantt=gantt_of(graph, report)).decode()
    speed = next(t for t in _tables(page) if t[0][:4] == ["processors", "upper", "guaranteed",
                                                          "simulated"])  # fmt: skip
    assert [int(r[0]) for r in speed[1:]] == [r.processors for r in report.speedup]
    work, depth = sum(costs), nx_depth(costs, needs)
    by_p = {int(r[0]): r for r in speed[1:]}
    assert by_p[1][3] == "1.00x"  # one processor never idles
    width = max(by_p)  # the table runs up to a power of two past the width
    assert by_p[width][3] == f"{work / depth:.2f}x"  # there, the ceiling work/depth
    assert work < 60 and by_p[1][-1] == f"{work} min"  # the wall time on one processor
    parsed = _parse(page)
    assert "Notes" in "".join(parsed.text)
    items = [t for t in parsed.text if t.startswith(("note <u>", "two"))]
    assert items == ["note <u>one</u> & \\x1b[1m", "two"]


def test_a_saved_report_says_how_to_get_the_schedule(tmp_path: Path, run_cli) -> None:
    saved = tmp_path / "r.json"
    run_cli("analyze", MAPREDUCE, "-f", "json", "-o", str(saved))
    page = run_cli("render", str(saved), "-f", "html").stdout
    assert "does not hold the graph the schedule chart is drawn from" in page
    assert len(_svgs(page)) == 1
    live = tmp_path / "live.html"
    assert run_cli("analyze", MAPREDUCE, "--plot", str(live)).exit_code == 0
    assert len(_svgs(live.read_text())) == 2


# ---------------------------------------------------------------- the schedule chart


def test_schedule_chart_is_a_valid_schedule_by_networkx() -> None:
    graph = Graph.from_lists(
        ["a", "b", "c", "d", "e", "f", "g"], [3, 2, 2, 4, 1, 0, 5],
        [[], [0], [0], [0], [1, 2], [3], [4, 5]])  # fmt: skip
    report = analyze_workload(Workload(name="w", graph=graph, source="w"), processors=2)
    chart = gantt_of(graph, report)
    g = nx.DiGraph()
    g.add_edges_from((graph.ids[j], graph.ids[i]) for i in range(graph.n) for j in graph.preds(i))
    bars = {b.step: b for b in chart.bars}
    assert set(bars) == {s for s, c in zip(graph.ids, graph.costs, strict=True) if c > 0}
    for b in chart.bars:
        assert b.finish - b.start == graph.costs[graph.ids.index(b.step)]
        assert 0 <= b.lane < 2
    for lane in range(2):
        spans = sorted((b.start, b.finish) for b in chart.bars if b.lane == lane)
        assert all(x[1] <= y[0] for x, y in pairwise(spans))
    # every dependency (through zero-cost steps too) finishes before its dependant starts
    for a, b in g.edges:
        for before in nx.ancestors(g, b) | {a}:
            if before in bars and b in bars:
                assert bars[before].finish <= bars[b].start
    assert chart.makespan == max(b.finish for b in chart.bars)
    assert {b.step for b in chart.bars if b.critical} == set(report.critical_path) - {"f"}


def test_schedule_chart_file(tmp_path: Path, run_cli) -> None:
    svg = tmp_path / "s.svg"
    result = run_cli("analyze", MAPREDUCE, "-p", "3", "--plot", str(svg), "--plot-kind",
                     "schedule")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    root = ET.parse(svg).getroot()
    text = " ".join(t.strip() for t in root.itertext() if t.strip())
    assert "list schedule on 3 processors" in text and "critical path" in text
    assert "P1" in text and "P3" in text and "P4" not in text
    again = tmp_path / "again.svg"
    run_cli("analyze", MAPREDUCE, "-p", "3", "--plot", str(again), "--plot-kind", "schedule")
    assert svg.read_bytes() == again.read_bytes()


def test_large_schedules_merge_bars_but_keep_every_step_and_the_critical_path() -> None:
    graph = fan(5000)
    report = analyze_workload(Workload(name="w", graph=graph, source="w"), processors=4)
    chart = gantt_of(graph, report)
    bars = merged(chart)
    assert len(bars) < len(chart.bars) and len(bars) <= 4 + len(report.critical_path)
    assert sum(b.steps for b in bars) == len(chart.bars)
    kept = {b.step for b in bars if b.critical}
    assert kept == set(report.critical_path)
    for lane in range(4):  # the merged bars of a lane cover its steps
        spans = [(b.start, b.finish) for b in bars if b.lane == lane]
        for b in chart.bars:
            if b.lane == lane:
                assert any(s <= b.start and b.finish <= f for s, f in spans)
    figure = plots.schedule_figure(chart)
    assert "nearby steps on a lane drawn as one bar" in figure.axes[0].get_title()
    plots.figure_bytes(figure, "svg")


def test_a_long_critical_path_is_merged_too_so_the_chart_stays_small() -> None:
    # A 600-step chain is all critical: kept bar for bar, a 100,000-step chain drew 100,000
    # rectangles (an 18 MB SVG, 20 s). Past the limit it merges like the other steps.
    graph = chain(600)
    report = analyze_workload(Workload(name="w", graph=graph, source="w"), processors=2)
    chart = gantt_of(graph, report)
    assert len(chart.bars) == 600 and all(b.critical for b in chart.bars)
    bars = merged(chart, limit=100)
    assert len(bars) <= 50 and all(b.critical for b in bars)
    assert sum(b.steps for b in bars) == 600
    for b in chart.bars:  # every step is still drawn, in red
        assert any(m.lane == b.lane and m.start <= b.start and b.finish <= m.finish for m in bars)
    assert merged(chart) == list(chart.bars)  # under the limit: nothing merged


# ---------------------------------------------------------------- the figures


def test_speedup_panel_is_log_log_with_the_target_and_recommendation() -> None:
    _, report, costs, _ = _hostile_report(processors=3)
    figure = plots.report_figure(report)
    left, right = figure.axes[:2]
    assert left.get_xscale() == "log" and left.get_yscale() == "log"
    lines = {line.get_label(): line for line in left.get_lines()}
    ideal = lines["linear ideal"]
    assert list(ideal.get_xdata()) == list(ideal.get_ydata())  # the diagonal: y = x
    target = lines["target: 3 processors"]
    assert set(target.get_xdata()) == {3}
    rec = report.recommendation.processors
    assert any(set(line.get_xdata()) == {rec} for line in left.get_lines()) or rec == 3
    # the wall-time axis: speedup s reads as work / s, in the workload's unit
    side = left.child_axes
    assert side, "no wall-time axis"
    labels = {t.get_text() for t in side[0].get_yticklabels()}
    work = sum(costs)
    assert f"{work // 60} h {work % 60} min" in labels or f"{work} min" in labels
    # the profile: filled, from zero, in minutes, with the target line
    assert right.get_ylim()[0] == 0 and right.get_xlim()[0] == 0
    assert right.collections, "the profile is not filled"
    assert right.get_xlabel() == "time (minutes)"
    assert any(line.get_label() == "target: 3 processors" for line in right.get_lines())
    plots._pyplot().close(figure)


def test_sweep_ticks_at_the_swept_sizes_and_one_legend(tmp_path: Path, run_cli) -> None:
    saved = tmp_path / "s.json"
    assert run_cli("scale", SWEEP, "--sweep", "n=8..128", "-f", "json", "-o",
                   str(saved)).exit_code == 0  # fmt: skip
    import msgspec

    from serialscale.documents.report import ScaleReport

    sweep = msgspec.json.decode(saved.read_bytes(), type=ScaleReport)
    figure = plots.scale_figure(sweep)
    ax = figure.axes[0]
    assert list(ax.get_xticks()) == [8, 16, 32, 64, 128]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32", "64", "128"]
    legend = ax.get_legend()
    assert [t.get_text().split(":")[0] for t in legend.get_texts()] == ["depth", "work", "width"]
    assert ax.get_xlabel().startswith("n") and ax.get_ylabel()
    plots._pyplot().close(figure)
    # the page lists the warnings and the notes, escaped
    hostile = structs.replace(sweep, warnings=["<b>few</b> points"], notes=["a & b"])
    page = plots.scale_html(hostile, "")
    assert [t for t in _parse(page).text if t in ("<b>few</b> points", "a & b")] == [
        "<b>few</b> points", "a & b"]  # fmt: skip
    assert "<b>few" not in page


def test_svg_is_byte_identical_across_processes(tmp_path: Path, run_cli) -> None:
    here = tmp_path / "here.svg"
    assert run_cli("analyze", MAPREDUCE, "--plot", str(here)).exit_code == 0
    there = tmp_path / "there.svg"
    subprocess.run([sys.executable, "-m", "serialscale", "analyze", MAPREDUCE, "--plot",
                    str(there)], check=True, capture_output=True, timeout=120,
                   env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert here.read_bytes() == there.read_bytes()
    assert b"<dc:date>" not in here.read_bytes()


def test_png_is_drawn_for_high_density_screens(tmp_path: Path, run_cli) -> None:
    png = tmp_path / "r.png"
    assert run_cli("analyze", MAPREDUCE, "--plot", str(png)).exit_code == 0
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, _ = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert width >= 2000
    at = data.index(b"pHYs")
    per_metre = struct.unpack(">I", data[at + 4 : at + 8])[0]
    assert round(per_metre * 0.0254) == plots.PNG_DPI


def test_a_traced_function_gets_its_schedule_chart_from_the_child(tmp_path: Path, run_cli) -> None:
    # traced functions run in a child process: the chart comes back through its pipe
    page = tmp_path / "f.html"
    target = f"{WORKLOADS / 'algorithms.py'}:pairwise_sum"
    result = run_cli("analyze", target, "--param", "n=16", "-p", "2", "--plot", str(page))
    assert result.exit_code == 0, result.stderr
    text = page.read_text()
    assert len(_svgs(text)) == 2 and "Schedule on 2 processors" in text


def test_the_html_page_shortens_a_long_critical_path_as_the_table_does() -> None:
    """A 100,000-step chain listed every step on the page (4 MB); the page now shows the
    head and tail of the path, and says how many steps are left out."""
    n = 2_000
    report = analyze_workload(Workload("chain", chain(n), "chain.yaml"), processors=2)
    assert len(report.critical_path) == n  # the JSON keeps the whole path
    page = plots.report_html(report, "<svg/>")
    shown = [t for t in _parse(page).text if t.startswith("s") and t[1:].isdigit()]
    assert "s0" in shown and f"s{n - 1}" in shown and f"s{n // 2}" not in shown
    assert f"{n - len([s for s in shown if s.startswith('s')]):,} more" in page
    assert len(page) < 20_000
