"""Rendering batches: table, JSON, JSON lines, CSV, Markdown, and GitHub annotations."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from ..base.errors import display, escape_controls, neutralize
from ..core.gates import Comparison, Violation
from ..documents.report import BatchResult, ErrorEntry, ErrorLine, to_builtins
from .common import (
    cell,
    cells,
    counted,
    finished,
    make_console,
    md_code,
    md_text,
    num,
    simple_head_width,
    times,
)
from .json_report import dumps, surrogates_as_text

#: The CSV columns, in this fixed order (documented in the README).
CSV_COLUMNS = (
    "source",
    "workload",
    "steps",
    "dependencies",
    "work",
    "depth",
    "depth_steps",
    "width",
    "speedup_ceiling",
    "serial_fraction",
    "classification",
    "strategy",
    "recommended_processors",
    "error",
)


def render_batch_json(result: BatchResult, violations: Sequence[Violation] | None = None) -> str:
    """``{schema_version, results, errors, summary}``, and ``failed_gates`` when gates ran."""
    failed = None if violations is None else list(violations)  # gates.Violation is FailedGate
    return dumps(to_builtins(result.document(failed)))


def render_batch_jsonl(result: BatchResult) -> str:
    """One compact JSON object per line: reports, then errors (with an ``error`` key)."""
    records = [to_builtins(r) for r in result.results]
    records += [to_builtins(ErrorLine.of(e)) for e in result.errors]
    lines = [json.dumps(record, ensure_ascii=False, allow_nan=False) for record in records]
    return surrogates_as_text("".join(line + "\n" for line in lines))


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV injection"): a text cell
#: starting with one of these is written with a leading ``'``, which spreadsheets show as
#: text and do not display.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _csv_value(value: Any) -> Any:
    """A CSV cell: numbers as they are; text shown safely (:func:`display`: one line, no
    control characters, no line a CI runner acts on) and never a formula."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = display(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def render_batch_csv(result: BatchResult) -> str:
    """One row per workload (errors as rows with only ``source`` and ``error``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in result.results:
        writer.writerow(
            [
                _csv_value(v)
                for v in (
                    r.source,
                    r.workload,
                    r.steps,
                    r.dependencies,
                    r.work,
                    r.depth,
                    r.depth_steps,
                    r.width,
                    r.speedup_ceiling,
                    r.serial_fraction,
                    r.classification,
                    r.recommendation.strategy,
                    r.recommendation.processors,
                    None,
                )
            ]
        )
    for e in result.errors:
        row = [""] * len(CSV_COLUMNS)
        row[0], row[-1] = _csv_value(e.source), _csv_value(e.message)
        writer.writerow(row)
    return out.getvalue()


BATCH_COLUMNS = (
    ("workload", "left"), ("path", "left"), ("steps", "right"), ("work", "right"),
    ("depth", "right"), ("width", "right"), ("ceiling", "right"), ("class", "left"),
    ("strategy", "left"),
)  # fmt: skip


def render_batch_table(result: BatchResult, width: int = 100, color: bool = False) -> str:
    """A row per workload, then the errors. Names and paths are never cut: when the table
    does not fit the width, each workload gets a block of its own instead."""
    out = io.StringIO()
    console = make_console(out, width, color)
    rows = [
        (display(r.workload), display(r.source or ""), num(r.steps), num(r.work), num(r.depth),
         num(r.width), times(r.speedup_ceiling), r.classification, r.recommendation.strategy)
        for r in result.results
    ]  # fmt: skip
    widths = [max([len(name), *(cell_len(row[k]) for row in rows)])
              for k, (name, _) in enumerate(BATCH_COLUMNS)]  # fmt: skip
    if simple_head_width(widths) <= width:  # every cell fits on one line
        table = Table(box=box.SIMPLE_HEAD)
        for column, justify in BATCH_COLUMNS:
            table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for row in rows:
            table.add_row(*cells(*row))
        console.print(table)
    else:  # one block per workload, wrapped (folded), never cut
        for row in rows:
            console.print(Text(f"{row[0]}  ({row[1] or '-'})", style="bold"),
                          overflow="fold")  # fmt: skip
            console.print(cell(f"  steps {row[2]}, work {row[3]}, depth {row[4]}, width "
                               f"{row[5]}, ceiling {row[6]}: {row[7]}, {row[8]}"),
                          overflow="fold")  # fmt: skip
        console.print()
    s = result.summary()
    console.print(
        Text(
            f"{s.analyzed} analyzed ({s.serial} serial, {s.mixed} mixed, "
            f"{s.parallel} parallel), {counted(s.errors, 'errors')}"
        )
    )
    for e in result.errors:
        line = f":{e.line}" if e.line else ""
        console.print(cell(f"error: {e.file or e.source}{line}: {e.message}", style="red"),
                      overflow="fold")  # fmt: skip
    return finished(out.getvalue())  # no trailing spaces; a folded cell may start a line


def render_batch_markdown(
    result: BatchResult,
    violations: Sequence[Violation] = (),
    comparison: Comparison | None = None,
) -> str:
    """A complete pull-request comment: heading, summary, the table, changes against the
    baseline, failed gates and errors. Every user text is escaped (no raw HTML, no column
    breaks, code spans that survive backticks)."""
    s = result.summary()
    lines = [
        "### serialscale",
        "",
        f"{counted(s.analyzed, 'workloads')} analyzed: {s.serial} serial, {s.mixed} mixed, "
        f"{s.parallel} parallel; {counted(s.errors, 'errors')}"
        + (f"; **{counted(len(violations), 'failed gates')}**." if violations else "."),
        "",
        "| workload | path | steps | work | depth | width | ceiling | class | strategy |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in result.results:
        lines.append(
            f"| {md_code(r.workload)} | {md_code(r.source or '')} | {num(r.steps)} | "
            f"{num(r.work)} | {num(r.depth)} | {num(r.width)} | {times(r.speedup_ceiling)} | "
            f"**{r.classification}** | {r.recommendation.strategy} |"
        )
    # md_code and md_text keep each text on its line; neutralize for a runner's log
    if comparison is not None:
        changed = [c for c in comparison.changes if c.before != c.after]
        if changed or comparison.new or comparison.removed:
            lines += ["", "**Changes against the baseline**", ""]
            lines += [f"- {_code(c.source)}: {md_text(c.describe())}" for c in changed]
            lines += [f"- {_code(src)}: new" for src in comparison.new]
            lines += [f"- {_code(src)}: removed" for src in comparison.removed]
    if violations:
        lines += ["", "**Failed gates**", ""]
        lines += [f"- {_code(v.source)}: `{v.gate}`: {md_text(v.message)}" for v in violations]
    if result.errors:
        lines += ["", "**Errors**", ""]
        for e in result.errors:
            line = f":{e.line}" if e.line else ""
            # (a message is one line; a newline in it is the input's, shown as \n as in
            # every other format)
            message = md_text(escape_controls(e.message))
            lines.append(f"- {_code(f'{e.file or e.source}{line}')}: {message}")
    return neutralize("\n".join(lines) + "\n")


def _escape(text: str) -> str:
    """GitHub workflow-command escaping of a message (the other control characters shown by
    their escape, as :func:`display` does)."""
    return escape_controls(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def render_github(
    errors: Sequence[ErrorEntry],
    violations: Sequence[Violation],
    comparison: Comparison | None = None,
) -> str:
    """GitHub Actions annotations: ``::error`` for errors and failed gates, ``::notice`` for
    baseline changes.
    """
    lines = []
    for e in errors:
        props = f"file={_escape_property(e.file or e.source)}"
        if e.line:
            props += f",line={e.line}"
        lines.append(f"::error {props},title=serialscale::{_escape(e.message)}")
    for v in violations:
        lines.append(
            f"::error file={_escape_property(v.source)},title=serialscale {v.gate}::"
            f"{_escape(v.workload + ': ' + v.message)}"
        )
    if comparison is not None:
        for c in comparison.changes:
            if c.before != c.after:
                lines.append(f"::notice file={_escape_property(c.source)},title=serialscale::"
                             f"{_escape(c.describe())}")  # fmt: skip
    return "".join(line + "\n" for line in lines)


def _code(text: str) -> str:
    """A code span in a list item (outside a table: ``|`` stays as it is)."""
    return md_code(text, in_table=False)
