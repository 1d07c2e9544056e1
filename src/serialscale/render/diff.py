"""``serialscale diff``: the table, Markdown and JSON of a :class:`DiffReport`."""

from __future__ import annotations

from ..base.errors import display, neutralize
from ..base.words import unit_for
from ..documents.report import DiffReport, StepChange, to_builtins
from .common import amount, md_code, md_text, num, short_path, times
from .json_report import dumps

#: The most changed steps the table and Markdown list (JSON lists them all).
SHOWN = 15


def _signed(value: float | int | None, unit: str | None) -> str:
    if value is None:
        return "?"
    text = num(abs(value))
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{text}" + (f" {unit_for(abs(value), unit)}" if unit else "")


def _what(c: StepChange, unit: str | None, old_unit: str | None) -> str:
    if c.change == "added":
        return f"added (cost {amount(c.new_cost, unit)})"
    if c.change == "removed":
        return f"removed (cost {amount(c.old_cost, old_unit)})"
    if c.change == "span":
        return (f"span {_before(c.old_span, unit, old_unit)} → {amount(c.new_span, unit)} "
                f"(cost {num(c.new_cost)})")  # fmt: skip
    return f"cost {_before(c.old_cost, unit, old_unit)} → {amount(c.new_cost, unit)}"


def _before(value: object, unit: str | None, old_unit: str | None) -> str:
    """An old side's number: bare where both sides have one unit, else with its own."""
    return num(value) if old_unit == unit else amount(value, old_unit)


def _effect(c: StepChange, unit: str | None, old_unit: str | None) -> str:
    """A change's effect on depth: a removed step's is measured in the old graph."""
    return _signed(c.depth_effect, old_unit if c.change == "removed" else unit)


def _lines(d: DiffReport, unit: str | None, old_unit: str | None) -> list[tuple[str, str, str]]:
    o, n = d.old, d.new
    work, depth = _before(o.work, unit, old_unit), _before(o.depth, unit, old_unit)
    return [
        ("work", f"{work} → {amount(n.work, unit)}", _signed(d.delta.work, None)),
        ("depth", f"{depth} → {amount(n.depth, unit)}", _signed(d.delta.depth, None)),
        ("width", f"{num(o.width)} → {num(n.width)}", _signed(d.delta.width, None)),
        ("speedup ceiling", f"{times(o.speedup_ceiling)} → {times(n.speedup_ceiling)}", ""),
    ]


def render_diff_table(d: DiffReport, unit: str | None = None,
                      old_unit: str | None = None) -> str:  # fmt: skip
    """Plain text for people (no markup: every name goes through the sanitiser). ``unit`` is
    the new side's, ``old_unit`` the old side's (the same when not given)."""
    old_unit = unit if old_unit is None else old_unit
    out = [display(f"serialscale diff · {d.old.workload} → {d.new.workload}"), ""]
    rows = _lines(d, unit, old_unit)
    width = max(len(r[0]) for r in rows)
    out += [f"  {name:<{width}}  {value}  {delta}".rstrip() for name, value, delta in rows]
    for label, path in (("before:", d.old.critical_path), ("after: ", d.new.critical_path)):
        out.append(f"critical path {label} " + display(" → ".join(short_path(path))))
    out.insert(len(out) - 2, "")
    if d.changed:
        out += ["", f"changed steps ({len(d.changed)}), by their own effect on depth:"]
        for c in d.changed[:SHOWN]:
            effect = _effect(c, unit, old_unit)
            out.append(display(f"  {effect:>12}  {c.id}: {_what(c, unit, old_unit)}"))
        if len(d.changed) > SHOWN:
            out.append(f"  ... and {len(d.changed) - SHOWN} more (--format json lists all)")
    elif d.notes is None or not d.notes:
        out += ["", "no step was added, removed or changed"]
    for note in d.notes or []:
        out.append(display(f"note: {note}"))
    return neutralize("\n".join(out) + "\n")


def render_diff_markdown(d: DiffReport, unit: str | None = None,
                         old_unit: str | None = None) -> str:  # fmt: skip
    """GitHub-flavoured Markdown for a pull-request comment (units as for
    :func:`render_diff_table`)."""
    old_unit = unit if old_unit is None else old_unit
    old, new = md_code(d.old.workload, in_table=False), md_code(d.new.workload, in_table=False)
    lines = [f"### serialscale diff: {old} → {new}", "",
             "| | before → after | change |", "|---|---|---:|"]  # fmt: skip
    lines += [f"| {name} | {md_text(value)} | {md_text(delta)} |" for name, value, delta in
              _lines(d, unit, old_unit)]  # fmt: skip
    before = " → ".join(md_code(s, in_table=False) for s in short_path(d.old.critical_path))
    after = " → ".join(md_code(s, in_table=False) for s in short_path(d.new.critical_path))
    lines += ["", f"**Critical path before:** {before}", "", f"**Critical path after:** {after}"]
    if d.changed:
        lines += ["", "| step | change | effect on depth |", "|---|---|---:|"]
        for c in d.changed[:SHOWN]:
            lines.append(f"| {md_code(c.id)} | {md_text(_what(c, unit, old_unit))} | "
                         f"{md_text(_effect(c, unit, old_unit))} |")  # fmt: skip
        if len(d.changed) > SHOWN:
            lines.append(f"\n... and {len(d.changed) - SHOWN} more")
    for note in d.notes or []:
        lines += ["", f"> note: {md_text(note)}"]
    return neutralize("\n".join(lines) + "\n")


def render_diff_json(d: DiffReport) -> str:
    """The JSON document (schema: ``serialscale schema diff``)."""
    return dumps(to_builtins(d))
