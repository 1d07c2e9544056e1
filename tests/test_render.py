"""Renderers: golden files for the table and Markdown, JSON stability and round trips."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import Report, analyze
from serialscale.documents.report import parse_saved
from serialscale.render import FORMAT_ENUMS, REGISTRY, OutputFormat, render

from .conftest import WORKLOADS

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SERIALSCALE_UPDATE_GOLDEN") == "1"
EXAMPLES = ["ci_build", "ml_training", "rule110_small"]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run `make golden`"
    assert text == path.read_text(encoding="utf-8")


def example(name: str, **kwargs: object) -> Report:
    report = analyze(WORKLOADS / f"{name}.yaml", **kwargs)  # type: ignore[arg-type]
    # The golden files should not depend on where the checkout lives.
    return msgspec.structs.replace(report, source=f"workloads/{name}.yaml")


def _document_for(enum: type) -> object:
    from serialscale.documents.report import ErrorEntry
    from serialscale.render.choices import OutputFormat, ScaleFormat
    from serialscale.run.batch import BatchResult
    from serialscale.run.sweep import run_sweep

    if enum is OutputFormat:
        return example("ci_build")
    from serialscale.render.choices import ExportFormat

    if enum is ExportFormat:
        from serialscale.core.metrics import bottom_levels
        from serialscale.core.schedule import list_schedule
        from serialscale.render import Export
        from serialscale.sources import load_workload

        graph = load_workload(WORKLOADS / "ci_build.yaml").graph
        report = analyze(WORKLOADS / "ci_build.yaml", detail=True)
        return Export(graph, report, list_schedule(graph, 4, bottom_levels(graph), lanes=True),
                      4, 2000)  # fmt: skip
    if enum is ScaleFormat:
        return run_sweep(str(WORKLOADS / "sweeps" / "tree_reduction.yaml"), "n", [4, 8, 16, 32])
    error = ErrorEntry(source="bad.yaml", message="broken", line=3, column=1)
    return BatchResult(results=[example("ci_build"), example("mapreduce")], errors=[error])


@pytest.mark.parametrize(
    "fmt",
    [member for enum in FORMAT_ENUMS for member in enum],
    ids=lambda f: f"{type(f).__name__}.{f.value}",
)
def test_every_member_of_every_format_enum_renders(fmt) -> None:
    """One registry covers every format of every command, and each renders its document."""
    from serialscale.render import Rendering, render_as
    from serialscale.render.choices import (
        BatchFormat,
        ExportFormat,
        GateFormat,
        OutputFormat,
        ScaleFormat,
    )

    assert set(FORMAT_ENUMS) == {OutputFormat, BatchFormat, ScaleFormat, GateFormat, ExportFormat}
    assert set(REGISTRY[type(fmt)]) == set(type(fmt))
    text = render_as(fmt, Rendering(_document_for(type(fmt)), width=100))
    assert isinstance(text, str)
    if fmt not in (GateFormat.text, BatchFormat.concise):  # these print on stderr only
        assert text.strip(), fmt
    if fmt.value == "json":
        data = json.loads(text)
        expected = {OutputFormat: "depth", BatchFormat: "summary", ScaleFormat: "growth",
                    ExportFormat: "nodes"}  # fmt: skip
        assert expected[type(fmt)] in data


@pytest.mark.parametrize("name", EXAMPLES)
def test_table_golden(name: str) -> None:
    check_golden(f"{name}.table.txt", render(example(name), OutputFormat.table, width=100))


@pytest.mark.parametrize("name", EXAMPLES)
def test_markdown_golden(name: str) -> None:
    check_golden(f"{name}.md", render(example(name), OutputFormat.markdown))


def test_table_with_overhead_golden() -> None:
    report = example("mapreduce", overhead=2)
    check_golden("mapreduce.overhead.table.txt", render(report, OutputFormat.table, width=100))


def test_narrow_table_still_renders() -> None:
    text = render(example("ci_build"), OutputFormat.table, width=40)
    assert "depth" in text and "Critical path" in text
    assert max(len(line) for line in text.splitlines()) <= 40


def test_color_only_adds_escape_codes() -> None:
    report = example("ci_build")
    colored = render(report, OutputFormat.table, width=100, color=True)
    assert "\x1b[" in colored
    assert "\x1b[" not in render(report, OutputFormat.table, width=100, color=False)


@pytest.mark.parametrize("name", [*EXAMPLES, "mapreduce", "etl_job", "reasoning_chain"])
def test_json_round_trip(name: str) -> None:
    report = analyze(WORKLOADS / f"{name}.yaml", detail=True)
    text = render(report, OutputFormat.json)
    saved = parse_saved(text.encode(), "saved.json")
    [again], errors = saved.reports, saved.errors
    assert again == report and errors == []
    assert render(again, OutputFormat.json) == text
    for fmt in (OutputFormat.table, OutputFormat.markdown):
        assert render(again, fmt) == render(report, fmt)


_json_scalars = (
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([-0.0, 1e-05, 1e16, 5e-324, 1.7976931348623157e308, 2**70])
)  # fmt: skip
_json_keys = st.text() | st.sampled_from(["id", "start", "é", 'a"b', "\n", "\u2028"])
_json_documents = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(
            _json_keys | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
            inner,
            max_size=5,
        )
        | st.lists(st.dictionaries(_json_keys, _json_scalars, max_size=4), max_size=4)
    ),  # records
    max_leaves=30,
)


@pytest.mark.slow  # it tries both writers itself: once is enough (the compiled pass)
@settings(max_examples=400)
@given(_json_documents, st.booleans())
def test_json_text_is_exactly_what_json_dumps_writes(document, pure: bool) -> None:
    """Both writers of records (compiled, and Python with SERIALSCALE_PURE_PYTHON=1)."""
    from serialscale import accel as kernels
    from serialscale.render.json_report import dumps

    expected = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    before = os.environ.get(kernels.PURE_ENV)
    os.environ[kernels.PURE_ENV] = "1" if pure else "0"
    try:
        assert dumps(document) == expected
    finally:
        if before is None:
            del os.environ[kernels.PURE_ENV]
        else:
            os.environ[kernels.PURE_ENV] = before


@settings(max_examples=300)
@given(st.lists(st.text() | st.sampled_from(["a\x7fb", 'q"', "b\\s", "\t", "é", "\u2028", "\ud800",
                                                "add@f.py:3#1"]), min_size=1, max_size=8),
       st.integers(0, 3))  # fmt: skip
def test_json_lists_of_strings_are_what_json_dumps_writes(strings: list[str], nesting: int
                                                          ) -> None:  # fmt: skip
    """Lists of strings (a critical path) are written in one go when they are plain ASCII
    with nothing to escape, one string at a time otherwise: both as json writes them."""
    from serialscale.render.json_report import dumps

    document: object = strings
    for _ in range(nesting):
        document = {"path": document, "n": [document]}
    expected = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    assert dumps(document) == _surrogates_as_text(expected)
    long = [f"mul@real_functions.py:27#{i}" for i in range(5000)]
    assert dumps(long) == json.dumps(long, indent=2, ensure_ascii=False) + "\n"


def _surrogates_as_text(text: str) -> str:
    """json's text with each lone surrogate written as the text backslash-uXXXX (a JSON
    escaped backslash): the one place serialscale's JSON differs from json's."""
    return "".join(f"\\\\u{ord(c):04x}" if "\ud800" <= c <= "\udfff" else c for c in text)


def test_json_records_with_lone_surrogates_and_huge_ints_match_json() -> None:
    """As json writes them, a lone surrogate (a file name that is not UTF-8) as text: the
    output is UTF-8 that strict readers (msgspec: saved reports) read back."""
    from serialscale.render.json_report import dumps

    records = [{"id": "a\ud800b", "n": 2**80, "x": -0.0, "f": False}, {"id": "é", "n": -(2**63)}]
    expected = json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    text = dumps(records)
    assert text == _surrogates_as_text(expected) and "a\\\\ud800b" in text
    assert msgspec.json.decode(text.encode("utf-8"))[0]["id"] == "a\\ud800b"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), [{"a": -float("inf")}], {"x": {1}}])
def test_json_text_refuses_what_json_refuses(bad) -> None:
    import json

    from serialscale.render.json_report import dumps

    with pytest.raises((ValueError, TypeError)) as ours:
        dumps(bad)
    with pytest.raises((ValueError, TypeError)) as theirs:
        json.dumps(bad, indent=2, ensure_ascii=False, allow_nan=False)
    assert type(ours.value) is type(theirs.value)


def test_scale_table_golden_at_a_fixed_width() -> None:
    """The sweep table with its log-log chart, drawn at 100 columns."""
    from serialscale.render.scale import render_scale_table
    from serialscale.run.sweep import run_sweep

    sweep = run_sweep(str(WORKLOADS / "sweeps" / "tree_reduction.yaml"), "n", [8, 16, 32, 64, 128])
    sweep = msgspec.structs.replace(sweep, source="workloads/sweeps/tree_reduction.yaml")
    check_golden("tree_reduction.scale.txt", render_scale_table(sweep, width=100))


# --- --detail's table of many steps (render/table.py detail_lines) ---------------------------

_detail_ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                      max_size=14) | st.sampled_from(["a", "léger", "数据处理", "x" * 30, "::warn",
                                                      "a\nb", "\x1b[31m", "##[group]"])  # fmt: skip
_detail_figures = st.integers(0, 10**9) | st.floats(0, 1e6, allow_nan=False)


@functools.cache
def _ci_build() -> Report:
    return example("ci_build")


def _with_detail(ids: list[str], figures: list[int | float]) -> Report:
    from serialscale.documents.report import StepDetail

    report = _ci_build()
    detail = [StepDetail(id=i, cost=f, start=f, finish=f, slack=f)
              for i, f in zip(ids, figures, strict=True)]  # fmt: skip
    return msgspec.structs.replace(report, detail=detail)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_detail_ids, _detail_figures), min_size=1, max_size=12),
       st.sampled_from([60, 80, 100, 140]))  # fmt: skip
def test_detail_lines_are_richs_table_where_everything_fits(rows, width: int) -> None:
    """The oracle is rich's own table of the same steps: where every id (as displayed) and
    every figure fit the width, the plain lines for many steps are exactly its lines."""
    from rich.cells import cell_len

    from serialscale.base.errors import display
    from serialscale.render import table
    from serialscale.render.common import num

    ids, figures = [r[0] for r in rows], [r[1] for r in rows]
    # Integers and floats in one column are each shown by num() (the fast path is for ints).
    longest_id = max(4, *(cell_len(display(i)) for i in ids))
    longest_figure = max(6, *(len(num(f)) for f in figures))
    if longest_id + 4 * longest_figure + 16 > width:
        return  # rich would fold figures too: not this layout's promise
    report = _with_detail(ids, figures)
    by_rich = render(report, OutputFormat.table, width=width)
    saved = table.RICH_DETAIL_ROWS
    table.RICH_DETAIL_ROWS = 0
    try:
        by_lines = render(report, OutputFormat.table, width=width)
    finally:
        table.RICH_DETAIL_ROWS = saved
    assert by_lines == by_rich


def test_a_detail_of_many_steps_shows_every_step_safely_within_the_width() -> None:
    from serialscale.render import table

    n = table.RICH_DETAIL_ROWS + 1
    ids = [f"s{i}" for i in range(n - 3)] + ["\x1b[2J::error::x", "数据" * 40, "w" * 200]
    report = _with_detail(ids, list(range(n)))
    text = render(report, OutputFormat.table, width=80)
    lines = text.splitlines()
    assert "\x1b" not in text and not any(line.lstrip().startswith("::") for line in lines)
    assert all(f"  s{i} " in text for i in range(0, n - 3, 97))
    assert f"{n - 1:,}" in text  # the last figure
    # The long ids were folded onto lines of their own, none wider than the terminal.
    from rich.cells import cell_len

    assert max(map(cell_len, lines)) <= 80
    steps = "".join(line[2:46] for line in lines[lines.index(" " + "─" * 78) + 1 :][: n + 8])
    assert steps.count("数") == steps.count("据") == 40 and "数据" * 20 in steps
    assert steps.count("w") == 200


_names = st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs", "P")), min_size=1,
                 max_size=40)  # fmt: skip
_paths = st.sampled_from(["a.yaml", "deep/folder/of/many/parts/w.yaml", "数据.yaml"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_names, _paths), min_size=1, max_size=4), st.integers(40, 160))
def test_a_batch_table_never_cuts_names_or_paths(rows, width: int) -> None:
    """Every workload's name and path is shown whole at every width, as a row of the table
    or a block of its own, and no line is cut with an ellipsis (found: from 91 to 104
    columns the table was chosen though it did not fit, and rich cut its cells)."""
    from serialscale.base.errors import display
    from serialscale.documents.report import BatchResult
    from serialscale.render.batch import render_batch_table

    report = example("ci_build")
    reports = [msgspec.structs.replace(report, workload=name, source=path) for name, path in rows]
    text = render_batch_table(BatchResult(results=reports, errors=[]), width=width)
    assert "…" not in text
    flat = "".join(line.strip() for line in text.splitlines())
    for name, path in rows:
        assert "".join(display(name).split()) in "".join(flat.split())
        assert path in flat


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab:@#._-/ é数\t"), min_size=1, max_size=90), st.integers(1, 40))
def test_folding_an_id_is_what_rich_does(text: str, width: int) -> None:
    """The oracle is rich's own fold of the text (the quick cut for ASCII ids without
    spaces must give the same lines)."""
    from rich.console import Console
    from rich.text import Text

    from serialscale.render.table import fold

    console = Console(width=200)
    expected = [line.plain for line in Text(text).wrap(console, width, overflow="fold")]
    assert fold(text, width, console) == expected
