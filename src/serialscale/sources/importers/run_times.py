"""Real-run times as ``--durations`` for a graph read from another file: a Chrome trace or a
Nextflow trace, matched to the steps by name.

Two documented forms are read:

- **Chrome trace / Perfetto JSON** ("Trace Event Format", Google, the document
  https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU; Perfetto
  reads the same JSON): a JSON array of events, or an object whose ``traceEvents`` holds
  them; the array's closing ``]`` may be missing (the format allows it, for traces cut
  short). Complete events (``ph: "X"``: ``ts`` and ``dur`` in microseconds) and begin/end
  pairs (``B``/``E`` on the same ``pid``/``tid``) are spans; every other event (counters,
  metadata, instants) is skipped. Written by Bazel (``--profile``; gzip-compressed when the
  name ends in ``.gz``, read either way), ninjatracing, clang ``-ftime-trace``, and many
  more. An event is matched by its ``name``, and also by ``args.out`` where it has one
  (Bazel's action events carry their primary output there with
  ``--experimental_profile_include_primary_output``: the step names of the ``bazel``
  reader).
- **Nextflow trace** (``nextflow run -with-trace``; https://www.nextflow.io/docs/latest/
  reports.html#trace-file): a tab-separated file whose header names the columns. Each task
  is matched by its ``name`` (``FASTQC (sample1)``), and, when no step has that name, by its
  process (the name before `` (``: the steps of ``nextflow -with-dag`` are processes). A
  task's time is ``realtime`` (else ``duration``, which includes the wait in the queue);
  values are Nextflow's human form (``1h 2m 3.5s``, ``120ms``) or milliseconds (with
  ``trace.raw = true``); its start is ``start``, else ``submit`` plus the queue wait.

A step matched by several events (a process of many tasks, a name repeated) costs the sum of
their durations (the work done under that name; a step cannot show the parallelism inside
it) and is observed from the first start to the last end. A step no event matches costs 0;
the note lists the unmatched steps and the events no step matched (of a trace whose events
carry ``args.out``, a Bazel profile, only those: its other events are Bazel's own phases).
Costs are seconds.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ...base.errors import Location, WorkloadError
from ...base.limits import DEFAULT_LIMITS, Limits
from ...base.words import duration_seconds, unit_for
from ...core.graph import Graph
from ...core.workload import Workload
from ..json_locate import EntryError, long_number_error

#: Names shown in a note before "...".
SHOWN = 5
#: Largest time accepted (seconds): beyond it floats lose the microseconds.
_MAX_SECONDS = 1e12


@dataclass
class RunTimes:
    """Spans ``(start, end)`` in seconds by name, from one trace file."""

    kind: str
    #: Every event: (name, start, end).
    events: list[tuple[str, float, float]] = field(default_factory=list)
    #: Events (indices into ``events``) by name.
    spans: dict[str, list[int]] = field(default_factory=dict)
    #: Events by a second key: a Chrome event's ``args.out``, a Nextflow task's process.
    others: dict[str, list[int]] = field(default_factory=dict)
    skipped: int = 0
    #: Events that carry their action's output (``args.out``: a Bazel profile): when any
    #: does, only those are listed as unmatched (the rest are Bazel's own phases).
    with_out: set[int] = field(default_factory=set)

    @property
    def has_out(self) -> bool:
        """Whether any event carries an ``args.out``."""
        return bool(self.with_out)

    def add(self, name: str, start: float, end: float, second: str | None) -> None:
        """Record one event, under its name and ``second`` (if any and different)."""
        k = len(self.events)
        self.events.append((name, start, end))
        self.spans.setdefault(name, []).append(k)
        if second is not None and second != name:
            self.others.setdefault(second, []).append(k)


def read_run_times(path: str, limits: Limits = DEFAULT_LIMITS) -> RunTimes:
    """The spans of the trace in ``path`` (Chrome JSON, gzipped or not, or Nextflow TSV)."""
    from ..workload_file import read_file

    where = Location(path)
    try:
        raw = read_file(Path(path), limits.max_input_bytes)
    except WorkloadError as exc:
        raise WorkloadError(f"--durations: {exc.message}", where) from None
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, limits.max_input_bytes, where)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkloadError(f"--durations: not UTF-8 text (byte {exc.start})", where) from None
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return _chrome(text, path)
    if text.startswith("# ninja log v"):
        return _ninja_log(text)
    first = text.split("\n", 1)[0]
    if "\t" in first and "name" in first.rstrip("\r").split("\t"):
        return _nextflow(text, path)
    raise WorkloadError("--durations: expected a Chrome trace (JSON events with 'ts' and "
                        "'dur'), a Nextflow trace (tab-separated, with a 'name' column), a "
                        "ninja log ('# ninja log v5'), or for GitHub Actions the jobs of a run",
                        where)  # fmt: skip


def _gunzip(raw: bytes, limit: int, where: Location) -> bytes:
    """``raw`` decompressed, at most ``limit`` bytes (a small bomb cannot fill memory)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise WorkloadError(f"--durations: a damaged gzip file ({exc})", where) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise WorkloadError(f"--durations: decompressed, the trace is larger than "
                            f"--max-input-size ({limit:,} bytes)", where)  # fmt: skip
    return out


def _chrome(text: str, path: str) -> RunTimes:
    try:
        data = json.loads(text)
    except RecursionError:
        raise WorkloadError("--durations: JSON nested too deeply", Location(path)) from None
    except ValueError as exc:
        located = long_number_error(exc, text, path, "--durations: ")
        if located is not None:
            raise located from None
        data = _unterminated(text)
        if data is None:
            line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
            raise WorkloadError(f"--durations: not JSON: {getattr(exc, 'msg', exc)}",
                                Location(path, line, column)) from None  # fmt: skip
    events = data.get("traceEvents") if isinstance(data, dict) else data
    if not isinstance(events, list):
        raise WorkloadError("--durations: a Chrome trace is a list of events or an object "
                            "with 'traceEvents'", Location(path))  # fmt: skip
    prefix: list[str | int] = ["traceEvents"] if isinstance(data, dict) else []
    try:
        return _events(events)
    except EntryError as exc:  # located at the event's own line
        exc.at = prefix + exc.at
        raise exc.located(text, 0, path) from None


def _events(events: list[Any]) -> RunTimes:
    """The spans of a Chrome trace's events."""
    times = RunTimes("Chrome trace")
    open_spans: dict[tuple[Any, Any], list[tuple[str, float, Any]]] = {}
    for k, event in enumerate(events):
        if not isinstance(event, dict):
            raise EntryError(f"--durations: event {k + 1} is not an object", [k])
        phase = event.get("ph")
        if phase not in ("X", "B", "E"):
            times.skipped += 1
            continue
        name = event.get("name")
        ts = _micros(event.get("ts"), k, "ts")
        key = (_hashable(event.get("pid")), _hashable(event.get("tid")))
        if phase == "B":
            if not isinstance(name, str):
                raise EntryError(f"--durations: event {k + 1} needs a 'name'", [k])
            open_spans.setdefault(key, []).append((name, ts, event.get("args")))
            continue
        if phase == "E":
            stack = open_spans.get(key)
            if not stack:
                times.skipped += 1  # an end whose begin came before the trace started
                continue
            name, began, args = stack.pop()
            _add(times, name, began, max(began, ts), args)
            continue
        if not isinstance(name, str):
            raise EntryError(f"--durations: event {k + 1} needs a 'name'", [k])
        duration = _micros(event.get("dur", 0), k, "dur")
        _add(times, name, ts, ts + duration, event.get("args"))
    times.skipped += sum(len(s) for s in open_spans.values())  # begun, never ended
    return times


def _unterminated(text: str) -> Any:
    """An array of events whose closing ``]`` is missing (allowed by the format), or None."""
    body = text.rstrip().rstrip(",")
    if not body.lstrip().startswith("[") or body.endswith("]"):
        return None
    try:
        return json.loads(body + "]")
    except (ValueError, RecursionError):
        return None


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, type(None))) else repr(value)[:64]


def _micros(value: Any, k: int, key: str) -> float:
    """``value`` (microseconds) as seconds; a located error unless a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        0 <= value <= _MAX_SECONDS * 1e6
    ):  # fmt: skip
        raise EntryError(f"--durations: event {k + 1} needs '{key}' as a number of "
                         "microseconds >= 0", [k])  # fmt: skip
    return float(value) / 1e6


def _add(times: RunTimes, name: str, start: float, end: float, args: Any) -> None:
    out = args.get("out") if isinstance(args, dict) else None
    if isinstance(out, str):
        times.with_out.add(len(times.events))
    times.add(name, start, end, out if isinstance(out, str) else None)


def _nextflow(text: str, path: str) -> RunTimes:
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split("\t")
    column = {name: k for k, name in enumerate(header)}
    if "realtime" not in column and "duration" not in column:
        raise WorkloadError("--durations: a Nextflow trace needs a 'realtime' or 'duration' "
                            "column", Location(path, 1))  # fmt: skip
    times = RunTimes("Nextflow trace")
    for number, line in enumerate(lines[1:], 2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise WorkloadError(f"--durations: {len(cells)} columns where the header has "
                                f"{len(header)}", Location(path, number))  # fmt: skip

        name, run, total, start_text, submit_text = (
            _cell(cells, column, key) for key in ("name", "realtime", "duration", "start", "submit")
        )
        measured = run if run is not None else total
        if name is None or measured is None:
            times.skipped += 1  # a task that did not run (cached, failed before starting)
            continue
        where = Location(path, number)
        seconds = _seconds(measured, where)
        if start_text is not None:
            start = _instant(start_text, where)
        elif submit_text is not None:
            waited = _seconds(total, where) - seconds if total is not None and run else 0.0
            start = _instant(submit_text, where) + max(0.0, waited)
        else:
            start = 0.0
        times.add(name, start, start + seconds, name.split(" (", 1)[0])
    return times


def _ninja_log(text: str) -> RunTimes:
    """The last build a ``.ninja_log`` records (whatever the file is called: kati writes
    ``.kati.ninja_log``), read as a ``.ninja_log`` beside ``build.ninja`` is: each output
    built, from its start to its end."""
    from .ninja import _Log

    log = _Log(text)
    times = RunTimes("ninja log")
    times.skipped = log.skipped
    for out, (start, end) in sorted(log.times.items(), key=lambda item: item[1]):
        times.add(out, start, end, None)
    return times


def _cell(cells: list[str], column: dict[str, int], key: str) -> str | None:
    """The value of column ``key`` in a row; None when absent or ``-`` (Nextflow's none)."""
    k = column.get(key)
    value = cells[k].strip() if k is not None else ""
    return None if value in ("", "-") else value


def _seconds(value: str, where: Location) -> float:
    """A Nextflow duration: milliseconds (raw) or ``1d 2h 3m 4.5s`` / ``120ms``."""
    if value.isascii() and value.replace(".", "", 1).isdigit() and len(value) <= 20:
        seconds: float | None = float(value) / 1000
    else:
        seconds = duration_seconds(value.replace(" ", ""))
    if seconds is None:
        raise WorkloadError(f"--durations: {value[:40]!r} is not a duration (1h 2m 3s, "
                            "120ms, or milliseconds)", where)  # fmt: skip
    if not seconds <= _MAX_SECONDS:
        raise WorkloadError(f"--durations: {value[:40]!r} is too long a duration", where)
    return seconds


def _instant(value: str, where: Location) -> float:
    """A Nextflow time: ``2019-06-17 10:32:41.373`` or epoch milliseconds (raw)."""
    if value.isascii() and value.isdigit() and len(value) <= 16:  # not '²', a digit too
        return int(value) / 1000
    try:
        moment = datetime.fromisoformat(value[:40])
    except ValueError:
        raise WorkloadError(f"--durations: {value[:40]!r} is not a time", where) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def dot_labels(path: Path, data: bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, str]:
    """The ``label`` of each node of a DOT graph that has one: a second name to match a trace
    by (``nextflow -with-dag`` names nodes ``p19`` and labels them with the process)."""
    from ..parsing import decode
    from .dot_parser import parse_dot

    graph = parse_dot(decode(data, str(path)), str(path), limits.max_steps,
                      limits.max_dependencies)  # fmt: skip
    labels = {}
    for node, attributes in graph.nodes.items():
        label = attributes.get("label", "").strip()
        if label and label != node:
            labels[node] = label
    return labels


def apply_run_times(workload: Workload, path: str, limits: Limits = DEFAULT_LIMITS,
                    aliases: dict[str, str] | None = None) -> Workload:  # fmt: skip
    """``workload`` with the costs (seconds) and observed times of the trace in ``path``;
    a step is matched by its id, else by its alias (a DOT node's label); a note says what
    matched and what did not."""
    times = read_run_times(path, limits)
    graph = workload.graph
    connectors = set(workload.extra.get("connectors") or ())
    costs: list[float] = []
    observed: dict[str, tuple[float, float]] = {}
    missing: list[str] = []
    used = bytearray(len(times.events))
    merged = 0
    for step in graph.ids:
        if step in connectors:
            costs.append(0.0)
            continue
        matched = times.spans.get(step) or times.others.get(step)
        alias = aliases.get(step) if aliases else None
        if not matched and alias is not None:
            matched = times.spans.get(alias) or times.others.get(alias)
        if not matched:
            costs.append(0.0)
            missing.append(step if alias is None else f"{step} ({alias})")
            continue
        for k in matched:
            used[k] = 1
        spans = [times.events[k][1:] for k in matched]
        merged += len(spans) > 1
        costs.append(round(sum(end - start for start, end in spans), 6))
        observed[step] = (round(min(s for s, _ in spans), 6), round(max(e for _, e in spans), 6))
    listed = times.with_out or range(len(used))
    unused = sorted({times.events[k][0] for k in listed if not used[k]})
    counted = graph.n - len(connectors & set(graph.ids))
    notes = list(workload.extra.get("notes") or [])
    message = (f"--durations: {counted - len(missing)} of {counted} steps matched an event of "
               f"the {times.kind} {path}")  # fmt: skip
    if missing:
        message += f"; {len(missing)} cost 0 (no duration): {_shown(missing)}"
    if unused:
        verb = "matches" if len(unused) == 1 else "match"
        message += (f"; {len(unused)} event {unit_for(len(unused), 'names')} {verb} no step: "
                    f"{_shown(unused)}")  # fmt: skip
    if merged:
        message += (f"; {merged} {unit_for(merged, 'steps')} matched several events (a "
                    "process's tasks, a repeated name): each costs the sum of their "
                    "durations")  # fmt: skip
    if times.skipped:
        message += (f"; {times.skipped} {unit_for(times.skipped, 'events')} without a "
                    "duration skipped")  # fmt: skip
    notes.append(message)
    if workload.format == "bazel" and not times.has_out and len(missing) == counted:
        notes.append("--durations: no event carries its action's output ('args.out'): write "
                     "the profile with --experimental_profile_include_primary_output")  # fmt: skip
    new = Graph.from_csr(graph.ids, costs, graph.pred_ptr, graph.pred_idx)
    extra = dict(workload.extra)
    extra["notes"] = notes
    return Workload(name=workload.name, graph=new, source=workload.source,
                    description=workload.description, unit="seconds", format=workload.format,
                    extra=extra, observed=observed or None)  # fmt: skip


def _shown(names: list[str]) -> str:
    return ", ".join(repr(n[:80]) for n in names[:SHOWN]) + (" ..." if len(names) > SHOWN else "")
