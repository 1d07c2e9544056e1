"""Pictures: SVG and PNG through matplotlib, the self-contained HTML page (opened in headless
Chromium where it is installed), and a clear message without the plot extra."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import WORKLOADS

pytest.importorskip("matplotlib")
MAPREDUCE = str(WORKLOADS / "mapreduce.yaml")
SWEEP = str(WORKLOADS / "sweeps" / "tree_reduction.yaml")


def _texts(svg: Path) -> str:
    root = ET.parse(svg).getroot()  # valid XML, or this raises
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def test_analyze_plots_both_panels_as_svg(tmp_path: Path, run_cli) -> None:
    svg = tmp_path / "report.svg"
    result = run_cli("analyze", MAPREDUCE, "--overhead", "2", "--plot", str(svg))
    assert result.exit_code == 0, result.stderr
    text = _texts(svg)
    for label in ("linear ideal", "upper bound min(P, work/depth)", "Brent's guarantee",
                  "simulated list schedule", "with overhead 2 seconds per step", "steps running",
                  "target: 8 processors", "Speedup by processor count",
                  "Parallelism profile"):  # fmt: skip
        assert label in text, label
    again = tmp_path / "again.svg"
    run_cli("analyze", MAPREDUCE, "--overhead", "2", "--plot", str(again))
    assert svg.read_bytes() == again.read_bytes()  # deterministic


def test_scale_plots_the_fits_with_the_verdict(tmp_path: Path, run_cli) -> None:
    svg, png = tmp_path / "sweep.svg", tmp_path / "sweep.png"
    assert run_cli("scale", SWEEP, "--sweep", "n=8..256", "--plot", str(svg)).exit_code == 0
    text = _texts(svg)
    assert "parallelizable" in text and "depth: logarithmic (fit: " in text and "work: " in text
    assert run_cli("scale", SWEEP, "--sweep", "n=8..256", "--plot", str(png)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_html_pages_are_self_contained(tmp_path: Path, run_cli) -> None:
    page = tmp_path / "report.html"
    assert run_cli("analyze", MAPREDUCE, "--plot", str(page)).exit_code == 0
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "Critical path" in html and "wordcount-mapreduce" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)  # nothing fetched
    assert "<script" not in html


def test_render_html_from_a_saved_report(tmp_path: Path, run_cli) -> None:
    saved = tmp_path / "r.json"
    run_cli("analyze", MAPREDUCE, "-f", "json", "-o", str(saved))
    out = run_cli("render", str(saved), "-f", "html")
    assert out.exit_code == 0 and out.stdout.startswith("<!DOCTYPE html>")
    batch = tmp_path / "b.json"
    run_cli("analyze", MAPREDUCE, "--batch", "-f", "json", "-o", str(batch))
    refused = run_cli("render", str(batch), "-f", "html")
    assert refused.exit_code == 2 and "not a batch" in refused.stderr


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium on this machine")
@pytest.mark.skipif(
    os.environ.get("SERIALSCALE_EXPECT_SANITIZED") == "1",
    reason="make sanitize preloads ASan into every child process, the browser included",
)
def test_the_html_page_opens_in_a_headless_browser(tmp_path: Path, run_cli) -> None:
    page = tmp_path / "sweep.html"
    run_cli("scale", SWEEP, "--sweep", "n=8..256", "--plot", str(page))
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-500:]
    assert "<svg" in result.stdout and "parallelizable" in result.stdout
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console


def test_plot_errors_are_clear(tmp_path: Path, run_cli, monkeypatch) -> None:
    bad = run_cli("analyze", MAPREDUCE, "--plot", str(tmp_path / "x.gif"))
    assert bad.exit_code == 2 and ".svg, .png or .html" in bad.stderr
    batch = run_cli("analyze", MAPREDUCE, str(WORKLOADS / "etl_job.yaml"), "--plot",
                    str(tmp_path / "x.svg"))  # fmt: skip
    assert batch.exit_code == 2 and "one target" in batch.stderr
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "matplotlib" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    missing = run_cli("analyze", MAPREDUCE, "--plot", str(tmp_path / "x.svg"))
    assert missing.exit_code == 2 and "pip install 'serialscale[plot]'" in missing.stderr
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_no_plot_when_the_result_cannot_be_written(tmp_path: Path, run_cli) -> None:
    """The result first: where it cannot be written (exit 2), no plot is left behind as if
    the command had worked (found: the plot was written, then the result failed)."""
    svg = tmp_path / "report.svg"
    result = run_cli("analyze", MAPREDUCE, "-f", "json", "-o", "/dev/full", "--plot", str(svg))
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert not svg.exists()
    gated = run_cli("analyze", MAPREDUCE, "--plot", str(svg), "--min-speedup", "1000")
    assert gated.exit_code == 1 and svg.exists()  # a failed gate still gets its picture
