"""Formatting helpers shared by the human-readable renderers (presentation only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from msgspec import UNSET
from rich.console import Console
from rich.text import Text

from ..base.errors import display, escape_controls, neutralize
from ..base.words import TIME_UNITS, unit_for
from ..base.words import times as speedup_text
from ..documents.report import Report, Segment

BLOCKS = " ▁▂▃▄▅▆▇█"
PATH_HEAD = 6
PATH_TAIL = 4
#: The longest step id a printed critical path shows whole (a 5,000-character id took 50 lines).
PATH_ID_CHARS = 120

#: From this many days on, a wall time is written as days alone (``1.39e+297 d``).
LONGEST_DAYS = 100_000


def num(value: Any, digits: int = 4) -> str:
    """A number for people: integers as they are, floats to ``digits`` significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def amount(value: Any, unit: str | None, digits: int = 4) -> str:
    """A number with its unit, singular for exactly 1 (``1 minute``, ``12 minutes``)."""
    text = num(value, digits)
    return f"{text} {unit_for(value, unit)}" if unit else text


def wall_time(value: Any, unit: str | None) -> str:
    """A time as people read it (``12 min 24 s``, ``1 h 5 min``, ``0.25 s``) when ``unit`` is
    a unit of time; otherwise the amount with its unit. Two largest parts, rounded down to
    whole seconds past a minute."""
    scale = TIME_UNITS.get((unit or "").strip().lower())
    if scale is None or value is None or isinstance(value, bool):
        return amount(value, unit)
    seconds = float(value) * scale
    if seconds < 60:
        return f"{num(seconds, 3)} s"
    if seconds >= LONGEST_DAYS * 86400:  # past ~270 years, a number of days, not 300 digits
        return f"{num(seconds / 86400, 3)} d"
    whole = int(seconds)
    parts = [(whole // 86400, "d"), (whole % 86400 // 3600, "h"), (whole % 3600 // 60, "min"),
             (whole % 60, "s")]  # fmt: skip
    while parts and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{n} {label}" for n, label in parts[:2] if n)


def lower_bound(report: Report) -> str | None:
    """Traced functions: why the depth is only a lower bound (branches on traced values left
    out by the data-flow view, values converted to plain ones, whose dependencies are lost),
    as the headline says it; ``None`` when it is not one. Plain text; each renderer escapes
    it its way."""
    if report.control is UNSET:
        return None
    from ..base.words import plural

    parts = []
    if report.control == "dataflow" and report.control_decisions:
        parts.append(f"{plural(report.control_decisions, 'branch')} on traced values left out")
    if report.escapes:
        parts.append(f"{plural(report.escapes, 'value')} converted to plain ones")
    if not parts:
        return None
    return (f"depth is a lower bound ({', '.join(parts)}): the speedup ceiling and the "
            "classification are optimistic")  # fmt: skip


def counted(count: int, noun: str) -> str:
    """``1 step``, ``3 steps``: a count and its noun (given in the plural)."""
    return f"{num(count)} {unit_for(count, noun)}"


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~#!"})


def md_text(text: str) -> str:
    """User text for Markdown prose or a table cell: no raw HTML (``<img>`` is shown, not
    rendered), no emphasis or links, no column breaks (``|``), one line, no control
    characters (shown by their escape)."""
    flat = escape_controls(" ".join(str(text).split()))
    return (
        flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_MD_SPECIAL)
    )


def md_code(text: str, *, in_table: bool = True) -> str:
    """User text as an inline code span that survives backticks and, ``in_table``, table pipes
    (one line, control characters shown by their escape). Outside a table a ``\\|`` would show
    its backslash, so headings and prose pass ``in_table=False``."""
    flat = escape_controls(" ".join(str(text).split()))
    if in_table:
        flat = flat.replace("|", "\\|")
    ticks = "`" * (_longest_run(flat, "`") + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def _longest_run(text: str, char: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        best = max(best, run)
    return best


def times(value: float | None) -> str:
    """A speedup such as ``3.2x``."""
    return speedup_text(value)


def short_path(path: Sequence[str]) -> list[str]:
    """The critical path, shortened to its head and tail with an ellipsis marker between;
    an id longer than :data:`PATH_ID_CHARS` is cut with an ellipsis (the JSON keeps it)."""
    path = [s if len(s) <= PATH_ID_CHARS else s[: PATH_ID_CHARS - 1] + "…" for s in path]
    if len(path) <= PATH_HEAD + PATH_TAIL + 1:
        return path
    hidden = len(path) - PATH_HEAD - PATH_TAIL
    return [*path[:PATH_HEAD], f"… {hidden:,} more …", *path[-PATH_TAIL:]]


def sparkline(profile: Sequence[Segment], columns: int) -> str:
    """The parallelism profile as a bar of block characters, one per equal slice of time.

    Each column shows the largest count running during its slice, scaled to the peak.
    """
    if not profile or columns <= 0:
        return ""
    t0, t1 = profile[0].start, profile[-1].end
    span = t1 - t0
    peak = max(seg.running for seg in profile)
    if span <= 0 or peak <= 0:
        return ""
    cols = [0] * columns
    for seg in profile:
        a = int((seg.start - t0) / span * columns)
        b = max(a + 1, int((seg.end - t0) / span * columns + 0.999999))
        for c in range(a, min(b, columns)):
            cols[c] = max(cols[c], seg.running)
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[max(1, round(v / peak * top))] if v else " " for v in cols)


def simple_head_width(cells: Sequence[int]) -> int:
    """The width of a line of a rich ``box.SIMPLE_HEAD`` table whose cells are ``cells``
    wide: an edge, each cell with a space of padding on both sides, the cells one more space
    apart, an edge (3 per column, and 1)."""
    return sum(cells) + 3 * len(cells) + 1


def make_console(out: TextIO, width: int, color: bool) -> Console:
    """A rich console writing to ``out`` at a fixed width; ANSI colour only when asked."""
    return Console(
        file=out,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )


def finished(text: str) -> str:
    """A rendered console text as printed: no trailing spaces on any line (rich pads table
    rows to their width), and no line a CI runner would act on (:func:`neutralize`)."""
    return neutralize("\n".join(line.rstrip(" ") for line in text.split("\n")))


def cell(text: Any, style: str = "") -> Text:
    """A table cell or a line for rich: never read as markup (``[/]``, ``[link=...]`` and a
    matrix job's ``[linux, amd64]`` are shown as written) and shown safely (:func:`display`:
    no control characters, no line a CI runner acts on)."""
    return Text(display(text), style=style)


def cells(*texts: Any) -> list[Text]:
    """:func:`cell` of each text, for ``Table.add_row(*cells(...))``."""
    return [cell(text) for text in texts]


def what_if_line(report: Report) -> str:
    """``--what-if``: what changed, and depth, ceiling and wall time before → after (plain
    text; each renderer escapes it its way)."""
    w = report.what_if
    assert w
    u = report.unit
    changes = "; ".join(f"{c.change} ({counted(len(c.steps), 'steps')})" for c in w.changes)
    before, after = w.before, w.after
    line = (f"{changes}: depth {amount(before.depth, None)} → {amount(after.depth, u)}, ceiling "
            f"{times(before.speedup_ceiling)} → {times(after.speedup_ceiling)}")  # fmt: skip
    if before.makespan is not UNSET and after.makespan is not UNSET:
        line += (f", wall time on {counted(report.processors, 'processors')} "
                 f"{wall_time(before.makespan, u)} → {wall_time(after.makespan, u)}")  # fmt: skip
    return line


def observed_line(report: Report) -> str:
    """A real run beside the model: makespan, workers, efficiency, the critical path's share
    and the largest waits on it (plain text; each renderer escapes it its way)."""
    o = report.observed
    assert o
    u = report.unit
    line = (f"{wall_time(o.makespan, u)} on up to {counted(o.workers, 'workers')}; the same "
            f"steps on {o.workers} ideally take {wall_time(o.ideal, u)} (efficiency "
            f"{_percent(o.efficiency)}); the critical path is {_percent(o.critical_path_share)} "
            "of the run")  # fmt: skip
    if o.gaps:
        waits = ", ".join(f"'{g.before}' waited {wall_time(g.wait, u)}"
                          + (f" after '{g.after}'" if g.after else " from the start")
                          for g in o.gaps[:3])  # fmt: skip
        line += f"; waits on the critical path: {waits}"
    if o.early_starts:
        line += (f"; {counted(o.early_starts, 'needs')} not waited for (a step started before "
                 "a step it needs ended): the times contradict the graph, so these ratios "
                 "can pass 100%")  # fmt: skip
    return line


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"
