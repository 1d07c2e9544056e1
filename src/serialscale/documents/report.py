"""Everything serialscale writes as JSON, declared once.

Each document and row is a frozen :class:`msgspec.Struct`. From these declarations come:

- the JSON text (:func:`to_builtins` feeds the writer in :mod:`serialscale.render.json_report`;
  field order is declaration order; fields set to ``UNSET`` are left out);
- the JSON Schemas that ``serialscale schema`` prints (:mod:`serialscale.documents.schemas`);
- the validating reader of saved documents (:func:`read_saved`, the only one), which
  ``gate``, ``--baseline``, ``render`` and ``diff`` use: a wrong type, a missing key, an
  unknown ``schema_version`` or a number JSON cannot hold is one located error naming the
  field.

Renderers and gates read these fields; nothing downstream looks up string keys.

``SCHEMA_VERSION`` (reports and batches) changes only when a key changes meaning or
disappears; adding keys does not change it. History:

- 1: first version (``schema_version``, ``workload``, ``source``, ``steps``, ``dependencies``,
  ``work``, ``depth``, ``depth_steps``, ``width``, ``speedup_ceiling``, ``serial_fraction``,
  ``critical_path``, ``near_critical``, ``speedup``, ``profile``, ``classification``,
  ``recommendation``; plus ``description``, ``unit``, ``processors``, ``overhead``,
  ``burdened_depth``, ``burdened_speedup_ceiling``; traced functions add ``target``,
  ``params``, ``control``, ``control_decisions``, ``escapes``, ``notes``; templates add
  ``params``; and, with ``--detail``, ``detail``). Since the declared model, the same keys
  and order, read back with validation. Since the importers: ``format`` (always) and
  ``connectors`` (imported graphs with added steps). Since the advice: ``detail`` records
  ``drag``; ``speedup`` rows' ``makespan`` (the simulated wall time, in the workload's unit;
  absent in reports saved before it); ``what_if`` (with ``--what-if``); ``top_drag``;
  ``path`` (the file's path in the project, which baselines match by); ``compression_plan``
  (with ``--target-depth``); ``observed`` (a real run's times: ninja logs, ``--durations``).
  Since steps with spans (issue 26): ``detail`` records ``span`` and reports
  ``schedule_model`` where steps have spans (``depth`` is then the longest path of spans);
  ``unmodelled`` (traced array programs: operations not in the cost table).

``SCALE_SCHEMA_VERSION`` (``serialscale scale``) history:

- 1: first version (``schema_version``, ``workload``, ``source``, ``parameter``, ``params``,
  ``processors``, ``points``, ``growth``, ``verdict``, ``complexity``, ``explanation`` and,
  with ``--predict``, ``prediction``).
- 2: ``verdict`` is ``parallelizable``, ``serial`` or ``inconclusive`` (was
  ``parallelizable`` or ``inherently serial``); ``complexity`` names depth classes
  (``constant depth (NC⁰-like)``, ``polylogarithmic depth (NC-like)``, ``polynomial depth``,
  ``exponential depth``, ``falling depth``; was ``TC0-like``, ``NC-like``,
  ``P-like (serial)``); growth classes add ``exponential`` and ``decreasing``; new keys
  ``warnings`` (a list, possibly empty), ``notes``, ``repeat``, growth ``runner_up``, and per
  point ``control_decisions``, ``escapes`` (traced functions) and ``spread`` (``--repeat``).
  Since the bound rule (same version, keys added): ``bound`` (``exact``, ``lower``,
  ``upper``, ``none``), ``control`` (traced functions), per point ``fan_in``; complexity
  ``constant depth with bounded fan-in (NC⁰-like)`` or ``constant depth with unbounded
  fan-in (AC⁰/TC⁰-like)`` (was ``constant depth (NC⁰-like)``). Since array tracing (issue
  26; keys added): per point ``unmodelled`` (array operations outside the cost table).
"""

# No ``from __future__ import annotations``: msgspec reads these annotations at run time.
import dataclasses
import math
import re
from itertools import repeat
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, field

from ..base.defaults import DEFAULT_MAX_INPUT_BYTES
from ..base.errors import Location, WorkloadError, byte_location
from ..base.words import elided

SCHEMA_VERSION: Final = 1
SCALE_SCHEMA_VERSION: Final = 2

Classification = Literal["serial", "mixed", "parallel"]
#: The classes, from the most serial up (gates compare by this order).
CLASSES: tuple[str, ...] = get_args(Classification)
Strategy = Literal["serial-leaning", "parallel-leaning"]
Control = Literal["dataflow", "scoped", "frame", "strict"]

Count = Annotated[int, Meta(ge=0)]
ProcessorCount = Annotated[int, Meta(ge=1)]
#: A finite amount >= 0 in the workload's unit; an int when every cost is an int.
Amount = Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)]
#: A ratio >= 0, or null where it is undefined (every cost 0).
Ratio = Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)] | None

#: The most near-critical steps a report lists.
NEAR_CRITICAL = 10


class NearCritical(Struct, frozen=True, gc=False):
    """A step that turns critical first when it grows: ``slack`` > 0, the least first."""

    id: str
    slack: Amount


class SpeedupRow(Struct, frozen=True, gc=False):
    """One row of the speedup table (see :mod:`serialscale.core.schedule` for each column)."""

    processors: ProcessorCount
    upper: Ratio
    guaranteed: Ratio
    simulated: Ratio
    simulated_burdened: Ratio
    makespan: Amount | UnsetType = UNSET


class Segment(Struct, frozen=True, gc=False):
    """A stretch ``[start, end)`` of the ASAP schedule during which ``running`` steps run."""

    start: Amount
    end: Amount
    running: Count


class StepDetail(Struct, frozen=True, gc=False):
    """One step of the ASAP schedule (``--detail``): when it starts, ends, its slack, and its
    drag (how much the depth drops if it took no time: :mod:`serialscale.core.drag`)."""

    id: str
    cost: Amount
    start: Amount
    finish: Amount
    slack: Amount
    drag: Amount = 0
    #: The step's own parallel depth, where the workload gives steps spans (times are then
    #: in spans: the depth is the longest path of spans).
    span: Amount | UnsetType = UNSET


class DragStep(Struct, frozen=True, gc=False):
    """A critical step worth shortening: its cost, its drag (how much the depth drops if it
    took no time) and what halving its cost would save (``min(cost / 2, drag)``)."""

    id: str
    cost: Amount
    drag: Amount
    halving_saves: Amount


#: The most steps ``top_drag`` lists.
TOP_DRAG = 5


class PlannedStep(Struct, frozen=True):
    """One step of a compression plan: its cost now, the cost it must get, and the saving."""

    id: str
    cost: Amount
    new_cost: Amount
    shortened_by: Amount


class CompressionPlan(Struct, frozen=True, kw_only=True):
    """``--target-depth``: which steps to shorten, by how much, to reach ``target``
    (:mod:`serialscale.core.compress`). ``fewest`` says the plan has the fewest steps possible
    (found by trying every set); ``depth`` is the depth the plan gives."""

    target: int | float
    reached: bool
    fewest: bool
    depth: Amount
    steps: list[PlannedStep]
    reason: str | UnsetType = UNSET


class ObservedGap(Struct, frozen=True, kw_only=True):
    """A wait on the critical path of a real run: ``before`` started ``wait`` after ``after``
    ended (``after`` is null for the first step: a wait from the run's start)."""

    before: str
    after: str | None
    wait: Annotated[float, Meta(ge=0)]


class Observed(Struct, frozen=True, kw_only=True):
    """A real run beside the model (:mod:`serialscale.core.observed` defines each number)."""

    makespan: Annotated[float, Meta(ge=0)]
    workers: ProcessorCount
    critical_path_share: Ratio
    efficiency: Ratio
    ideal: Annotated[float, Meta(ge=0)]
    gaps: list[ObservedGap]
    early_starts: Annotated[int, Meta(ge=1)] | UnsetType = UNSET


class Recommendation(Struct, frozen=True, kw_only=True):
    """What to do about it (rules in :mod:`serialscale.core.classify`)."""

    strategy: Strategy
    processors: ProcessorCount
    reason: str
    expected_speedup: Ratio = None
    focus: list[str] = []


class WhatIfChange(Struct, frozen=True):
    """One ``--what-if`` as given, and the steps it changed."""

    change: str
    steps: list[str]


class WhatIfSide(Struct, frozen=True):
    """The numbers a ``--what-if`` compares: depth, speedup ceiling, and the simulated wall
    time (``makespan``) at the target processor count."""

    depth: Amount
    speedup_ceiling: Ratio
    makespan: Amount | UnsetType = UNSET


class WhatIf(Struct, frozen=True):
    """``--what-if``: what was applied, and the numbers before and after (the report itself is
    of the changed graph; :mod:`serialscale.core.whatif`)."""

    changes: list[WhatIfChange]
    before: WhatIfSide
    after: WhatIfSide


class DiffSide(Struct, frozen=True):
    """One side of ``serialscale diff``: its headline numbers and critical path."""

    workload: str
    source: str | None
    work: Amount
    depth: Amount
    width: Count
    speedup_ceiling: Ratio
    critical_path: list[str]


class DiffDelta(Struct, frozen=True):
    """New minus old (may be negative)."""

    work: int | float
    depth: int | float
    width: int


class StepChange(Struct, frozen=True):
    """A step added, removed, with another cost, or with the same cost and another span
    (``span``), and that change's own effect on depth (``null`` where a side is a saved
    report; :mod:`serialscale.core.diff`). ``old_span`` and ``new_span`` are given where
    either side gives the step a span."""

    id: str
    change: Literal["added", "removed", "cost", "span"]
    old_cost: Amount | None
    new_cost: Amount | None
    depth_effect: int | float | None
    old_span: Amount | UnsetType = UNSET
    new_span: Amount | UnsetType = UNSET


class DiffReport(Struct, frozen=True, kw_only=True):
    """``serialscale diff OLD NEW``."""

    schema_version: Literal[1] = 1
    old: DiffSide
    new: DiffSide
    delta: DiffDelta
    changed: list[StepChange]
    notes: list[str] | UnsetType = UNSET


class Report(Struct, frozen=True, kw_only=True):
    """Everything one analysis found; :mod:`serialscale.core.metrics` and
    :mod:`serialscale.core.schedule` define each number.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    workload: str
    source: str | None
    steps: Count
    dependencies: Count
    work: Amount
    depth: Amount
    depth_steps: Count
    width: Count
    speedup_ceiling: Ratio
    serial_fraction: Ratio
    critical_path: list[str]
    near_critical: Annotated[list[NearCritical], Meta(max_length=NEAR_CRITICAL)]
    speedup: list[SpeedupRow]
    profile: list[Segment]
    classification: Classification
    recommendation: Recommendation
    description: str | None = None
    unit: str | None = None
    processors: ProcessorCount
    overhead: Amount = 0
    burdened_depth: Amount
    burdened_speedup_ceiling: Ratio = None
    #: The input format (``serialscale``, ``github-actions``, ``gitlab-ci``, ``ninja``,
    #: ``dot``, ``python``).
    format: str = "serialscale"
    #: Zero-cost steps an importer added (matrix joins, reusable-workflow entries and exits,
    #: phony edges): never near-critical, marked on the critical path.
    connectors: list[str] | UnsetType = UNSET
    # Traced functions and templates (left out of the JSON when unset):
    target: str | UnsetType = UNSET
    params: dict[str, Any] | UnsetType = UNSET
    control: Control | UnsetType = UNSET
    control_decisions: Count | UnsetType = UNSET
    escapes: Count | UnsetType = UNSET
    notes: list[str] | UnsetType = UNSET
    detail: list[StepDetail] | UnsetType = UNSET
    what_if: WhatIf | UnsetType = UNSET
    #: The workload file's path relative to the project root (the nearest folder holding .git,
    #: else the current folder), in '/' form: what --baseline matches reports by. Absent for
    #: standard input and traced functions.
    path: str | UnsetType = UNSET
    #: The critical steps with the most drag, the most first (absent in reports saved before).
    top_drag: Annotated[list[DragStep], Meta(max_length=TOP_DRAG)] | UnsetType = UNSET
    #: With --target-depth: the steps to shorten to reach it.
    compression_plan: CompressionPlan | UnsetType = UNSET
    #: Where the reader has a real run's times: that run beside the model.
    observed: Observed | UnsetType = UNSET
    #: Where steps have spans of their own (work–span steps): how the speedup table's
    #: ``simulated`` column was found, ``moldable`` (the malleable greedy schedule,
    #: serialscale.core.moldable) or ``bounds`` (Brent's guarantee: too many steps to simulate).
    schedule_model: Literal["moldable", "bounds"] | UnsetType = UNSET
    #: Traced array programs: the array operations the cost table does not know, by name
    #: (each one step with work = span = its output size).
    unmodelled: list[str] | UnsetType = UNSET

    @property
    def key(self) -> str:
        """How messages name this report: its source, else its workload name (baselines
        match by ``path`` first: :func:`serialscale.core.gates.compare`)."""
        return self.source or self.workload


class ErrorEntry(Struct, frozen=True, kw_only=True):
    """A target that could not be analyzed: where, and what was expected."""

    source: str
    message: str
    line: Annotated[int, Meta(ge=1)] | UnsetType = UNSET
    column: Annotated[int, Meta(ge=1)] | UnsetType = UNSET
    step: str | UnsetType = UNSET
    #: The file the error is in, when it is not ``source`` itself (an imported module).
    file: str | UnsetType = UNSET

    @property
    def location(self) -> Location:
        """Where the error is, for printing."""
        return Location(
            self.file or self.source, self.line or None, self.column or None, self.step or None
        )

    def __str__(self) -> str:
        return str(WorkloadError(self.message, self.location))


class ErrorLine(ErrorEntry, frozen=True, kw_only=True):
    """An error as one line of ``--format jsonl`` (the message under ``error``)."""

    # The fields of ErrorEntry, declared there once; only the message's key differs.
    message: str = field(name="error")

    @classmethod
    def of(cls, entry: ErrorEntry) -> "ErrorLine":
        """The jsonl form of ``entry``."""
        return cls(**msgspec.structs.asdict(entry))

    def entry(self) -> ErrorEntry:
        """The batch form of this line (the message under ``message``)."""
        return ErrorEntry(**msgspec.structs.asdict(self))


class Summary(Struct, frozen=True, kw_only=True):
    """Counts of a batch: workloads analyzed, errors, and workloads per classification."""

    analyzed: Count
    errors: Count
    serial: Count
    mixed: Count
    parallel: Count


class FailedGate(Struct, frozen=True, kw_only=True):
    """One gate a workload failed (``--fail-on``, ``--min-speedup``...)."""

    source: str
    workload: str
    gate: str
    message: str


class BatchReport(Struct, frozen=True, kw_only=True):
    """``serialscale analyze DIR ... --format json``: reports and errors in target order."""

    schema_version: Literal[1] = SCHEMA_VERSION
    results: list[Report]
    errors: list[ErrorEntry]
    summary: Summary
    #: When gates were asked for: the ones that failed (empty when all passed).
    failed_gates: list[FailedGate] | UnsetType = UNSET


@dataclasses.dataclass
class BatchResult:
    """Reports and errors of a batch, each in target order (what the batch renderers take;
    :meth:`document` is its JSON shape)."""

    results: list[Report] = dataclasses.field(default_factory=list)
    errors: list[ErrorEntry] = dataclasses.field(default_factory=list)

    def summary(self) -> Summary:
        """Counts: workloads analyzed, errors, and workloads per classification."""
        counts = dict.fromkeys(CLASSES, 0)
        for r in self.results:
            counts[r.classification] += 1
        return Summary(analyzed=len(self.results), errors=len(self.errors), **counts)

    def document(self, failed_gates: list[FailedGate] | None = None) -> BatchReport:
        """The batch as its JSON document (``failed_gates`` when gates were run)."""
        failed = UNSET if failed_gates is None else failed_gates
        return BatchReport(
            results=self.results, errors=self.errors, summary=self.summary(), failed_gates=failed
        )


class ScalePoint(Struct, frozen=True, kw_only=True):
    """One size of a sweep and what the analysis found there."""

    value: int | float
    steps: Count
    work: Amount
    depth: Amount
    width: Count
    speedup_ceiling: Ratio
    #: Traced functions: branches on traced values and conversions to plain values here.
    control_decisions: Count | UnsetType = UNSET
    escapes: Count | UnsetType = UNSET
    #: Traced array programs: how many operation names are not in the cost table.
    unmodelled: Count | UnsetType = UNSET
    #: With ``--repeat``: (largest - smallest) / median of the depth over the runs.
    spread: Annotated[float, Meta(ge=0)] | UnsetType = UNSET
    #: The most steps one step needs (left out with ``--repeat``): whether constant depth
    #: hides unbounded fan-in.
    fan_in: Count | UnsetType = UNSET


GrowthClass = Literal[
    "constant", "logarithmic", "polylogarithmic", "polynomial", "exponential", "decreasing"
]


class RunnerUp(Struct, frozen=True, kw_only=True):
    """The best model of another class, and how well it fits."""

    cls: GrowthClass = field(name="class")
    exponent: float | None
    model: str
    error: float


class GrowthEntry(Struct, frozen=True, kw_only=True):
    """How one quantity grows (fitting rules in :mod:`serialscale.core.growth`)."""

    cls: GrowthClass = field(name="class")
    exponent: float | None
    model: str
    error: Annotated[float, Meta(ge=0)]
    runner_up: RunnerUp | None = None
    #: The fitted model sampled at sizes spread over the sweep (for plots): ``[x, y]`` pairs.
    curve: list[list[float]] | UnsetType = UNSET


class GrowthSet(Struct, frozen=True, kw_only=True):
    """The growth of depth, work and width."""

    depth: GrowthEntry
    work: GrowthEntry
    width: GrowthEntry


class Prediction(Struct, frozen=True, kw_only=True):
    """The fitted models evaluated at a size too large to run (``--predict``)."""

    value: float
    work: float
    depth: float
    width: float
    speedup_ceiling: float | None


class ScaleReport(Struct, frozen=True, kw_only=True):
    """``serialscale scale``: points, growth classes, verdict and an optional prediction."""

    schema_version: Literal[2] = SCALE_SCHEMA_VERSION
    workload: str
    source: str | None
    parameter: str
    params: dict[str, Any]
    processors: ProcessorCount
    points: Annotated[list[ScalePoint], Meta(min_length=3)]
    growth: GrowthSet
    verdict: Literal["parallelizable", "serial", "inconclusive"]
    complexity: str
    explanation: str
    #: What keeps the verdict from being confident, and what would settle it.
    warnings: list[str]
    prediction: Prediction | UnsetType = UNSET
    #: Traced functions: the caveats ``analyze`` reports, at the largest size (each point
    #: has its own ``control_decisions`` and ``escapes``).
    notes: list[str] | UnsetType = UNSET
    #: ``--repeat``: runs per size (the median cost of each step is used).
    repeat: Annotated[int, Meta(ge=1)] | UnsetType = UNSET
    #: Traced functions: the ``--control`` mode of the sweep.
    control: Control | UnsetType = UNSET
    #: What the depths are with respect to the depth as written (the bound rule of
    #: :mod:`serialscale.core.growth`): ``exact``, ``lower``, ``upper`` or ``none``.
    bound: Literal["exact", "lower", "upper", "none"] = "exact"


def to_builtins(document: Struct) -> Any:
    """``document`` as plain dicts and lists in declaration order, ``UNSET`` fields left out."""
    return msgspec.to_builtins(document)


def to_messagepack(report: Report) -> bytes:
    """``report`` as MessagePack (how a traced function's process sends its report back:
    :func:`from_messagepack` reads it)."""
    return msgspec.msgpack.encode(report)


def from_messagepack(data: bytes) -> Report | None:
    """The report :func:`to_messagepack` wrote in ``data``, each field checked against its
    type as it is read (``msgspec`` builds no other object); ``None`` where ``data`` holds
    none. Numbers may still be NaN or infinite: see :func:`well_formed`."""
    try:
        return msgspec.msgpack.decode(data, type=Report)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None  # (RecursionError: ``params`` nested a million levels deep)


def well_formed(value: object) -> bool:
    """Whether ``value`` is a :class:`Report` whose every field holds its declared type and
    whose every number is finite, as every analysis writes one. A report unpickled from a
    traced function's process is built without its fields checked (the traced code could
    have forged one): checked here before anything shows it."""
    if not isinstance(value, Report):
        return False
    return _read_back_the_same(value) or _walked(value)


def _read_back_the_same(report: Report) -> bool:
    """Whether ``report`` written as JSON and read back (each field checked against its type
    as it is read) is equal to it: then it is well formed, as NaN and infinity cannot be
    (JSON writes null for them; NaN equals nothing), nor any value not of its field's type.
    Not the same does not mean not well formed (a tuple where a list was declared is read
    back as a list): :func:`_walked` decides those. 1 s for a report of 2,000,000 steps,
    against 2.9 for the walk."""
    try:
        return bool(msgspec.json.decode(msgspec.json.encode(report), type=Report) == report)
    except Exception:  # (what cannot be written or read back: the walk says why)
        return False


def _walked(report: Report) -> bool:
    """Whether ``report`` converted to plain values converts back to a report, and every
    float of it is finite (the definition of :func:`well_formed`)."""
    try:
        data = msgspec.to_builtins(report)
        msgspec.convert(data, Report)
    except (msgspec.ValidationError, TypeError, ValueError, OverflowError, RecursionError):
        return False
    return _finite(data)


def _finite(data: object) -> bool:
    """Whether every float in ``data`` (dicts, lists and plain values) is finite (NaN or
    infinity is not JSON). Lists are looked at whole, at C speed (a ``--detail`` report:
    millions of records): by their values' types, a list of floats by ``map(math.isfinite)``,
    records of the same fields column by column."""
    waiting: list[Any] = [data]
    while waiting:
        value = waiting.pop()
        kind = type(value)
        if kind is float:
            if not math.isfinite(value):
                return False
        elif kind is dict:
            waiting.extend(value.values())
        elif kind is list:
            kinds = set(map(type, value))
            if float in kinds:
                floats = value if kinds == {float} else [v for v in value if type(v) is float]
                if not all(map(math.isfinite, floats)):
                    return False
            keys = value[0].keys() if kinds == {dict} else None
            if keys is not None and all(map(keys.__eq__, map(dict.keys, value))):
                for key in keys:  # records of the same fields: column by column
                    waiting.append(list(map(dict.get, value, repeat(key))))
            elif not kinds <= {str, int, float, type(None)}:
                waiting.extend(value)
    return True


@dataclasses.dataclass(frozen=True)
class Saved:
    """What a saved file holds, validated: the reports and error entries of a single report,
    a batch or JSON lines, or (where asked for) a sweep."""

    reports: list[Report] = dataclasses.field(default_factory=list)
    errors: list[ErrorEntry] = dataclasses.field(default_factory=list)
    #: A batch document or JSON lines (rendered as a batch, even with one report in it).
    batch: bool = False
    #: The sweep of ``serialscale scale --format json`` (only with ``sweeps=True``).
    sweep: ScaleReport | None = None


def read_saved(
    path: str | Path, max_bytes: int = DEFAULT_MAX_INPUT_BYTES, *, sweeps: bool = False
) -> Saved:
    """The saved report, batch or JSON lines (and, with ``sweeps``, sweep) in ``path``,
    validated: the one reader of saved documents (``gate``, ``--baseline``, ``render``,
    ``diff``). ``-`` is standard input.

    Every problem is a :class:`WorkloadError` naming the file, and the line and column or the
    field (``$.results[0].depth``) where it is. At most ``max_bytes`` are read
    (``--max-input-size``): ``/dev/zero`` or a FIFO is an error, not the end of memory.
    """
    data = _read_bytes(path, max_bytes)
    return parse_saved(data, "<stdin>" if str(path) == "-" else str(path), sweeps=sweeps)


#: The key every saved document has and no workload has.
SAVED_KEY = "schema_version"
#: What a workload reader says when it is handed a saved document.
SAVED_NOT_A_WORKLOAD = (
    "this is a saved serialscale report, not a workload (it has 'schema_version'): "
    "`render`, `gate`, `diff` and `--baseline` read saved reports from files (`diff` reads a "
    "pipe or standard input as a workload)"
)


def is_saved_document(doc: dict[str, Any]) -> bool:
    """Whether the decoded mapping ``doc`` is a saved document (it has :data:`SAVED_KEY`)."""
    return SAVED_KEY in doc


#: How much of a file :func:`is_saved` looks at: serialscale writes ``schema_version`` first,
#: but a report edited elsewhere may hold a long description before it.
SNIFF_BYTES = 64 * 1024


def is_saved(path: str | Path) -> bool:
    """Whether the file at ``path`` is a saved document (known by its content, whatever its
    name: a JSON object, or JSON lines, with ``schema_version`` near its start); a workload
    file is not (its format has no such key)."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return head.lstrip()[:1] == b"{" and f'"{SAVED_KEY}"'.encode() in head


def _read_bytes(path: str | Path, max_bytes: int = DEFAULT_MAX_INPUT_BYTES) -> bytes:
    """The bytes of a saved report, read as inputs are (at most ``max_bytes``, a located
    error for anything that cannot be read); ``-`` is standard input."""
    from ..base.reading import read_file, read_input

    if str(path) == "-":
        import sys

        return read_input(sys.stdin.buffer, "<stdin>", max_bytes)
    if Path(path).is_dir():
        raise WorkloadError("is a directory, expected a saved JSON report", Location(str(path)))
    try:
        return read_file(Path(path), max_bytes)
    except WorkloadError as exc:
        if "--max-input-size" not in exc.message:  # 'no such file', 'permission denied'
            exc.message = f"cannot read the report: {exc.message}"
        raise


#: How deep a saved document may nest. Reports nest a few levels; msgspec's decoder, like
#: Python's, recurses once per level and stops at the interpreter's recursion limit.
MAX_NESTING = 200


def _decode_json(data: bytes, source: str) -> Any:
    """``data`` decoded by msgspec; JSON nested deeper than :data:`MAX_NESTING` is a located
    error (the decoder would otherwise end in a RecursionError)."""
    where = _too_deep(data)
    if where is not None:
        raise WorkloadError(
            f"not a serialscale report: JSON nested more than {MAX_NESTING} levels deep",
            byte_location(source, data, where),
        )
    try:
        return msgspec.json.decode(data)
    except RecursionError:  # nesting the scan did not see (it cannot be: kept as a guard)
        raise WorkloadError("not a serialscale report: JSON nested too deeply",
                            Location(source)) from None  # fmt: skip


def _too_deep(data: bytes) -> int | None:
    """The offset of the first ``[`` or ``{`` nested deeper than :data:`MAX_NESTING`
    outside strings, or ``None``. Linear, and quick for ordinary reports: only the brackets
    and quotes are visited."""
    if data.count(b"[") + data.count(b"{") <= MAX_NESTING:
        return None
    depth = 0
    in_string = False
    for match in _STRUCTURE.finditer(data):
        token = match.group()
        if in_string:
            if token == b'"':
                in_string = False
        elif token == b'"':
            in_string = True
        elif token in (b"[", b"{"):
            depth += 1
            if depth > MAX_NESTING:
                return match.start()
        elif token in (b"]", b"}"):
            depth -= 1
    return None


#: What :func:`_too_deep` visits: an escape pair (skipped whole, so ``\"`` does not end a
#: string), a quote, a bracket.
_STRUCTURE = re.compile(rb'\\.|["\[\]{}]', re.S)


#: The UTF-8 byte order mark.
_BOM = b"\xef\xbb\xbf"


def parse_saved(data: bytes, source: str, *, sweeps: bool = False) -> Saved:
    """:func:`read_saved` on bytes already read; ``source`` names them in errors. The bytes
    are decoded once; the kind of document (a report, a batch, JSON lines: one report or
    error line per line, and with ``sweeps`` a sweep) is told from its keys, its
    ``schema_version`` checked, then it is validated against its declaration. A UTF-8 byte
    order mark before the JSON is read past, as the workload reader does (editors on Windows
    add one; RFC 8259 lets a reader ignore it)."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        raw = _decode_json(data, source)
    except msgspec.DecodeError as exc:
        if _looks_like_jsonl(data):
            return _parse_jsonl(data, source)
        raise _syntax_error(exc, data, source) from None
    except UnicodeDecodeError:  # msgspec's error for bytes that are not UTF-8 (its offset
        raise _utf8_error(data, source) from None  # is within one string: find the byte)
    kind: type[Report] | type[BatchReport] | type[ScaleReport]
    what, expected = "report", SCHEMA_VERSION
    if isinstance(raw, dict) and "results" in raw:
        kind = BatchReport
    elif isinstance(raw, dict) and "depth" in raw:
        kind = Report
    elif sweeps and isinstance(raw, dict) and "growth" in raw:
        kind, what, expected = ScaleReport, "sweep", SCALE_SCHEMA_VERSION
    else:
        raise WorkloadError(
            "not a serialscale report: expected the JSON of 'serialscale analyze --format json'",
            Location(source),
        )
    if SAVED_KEY not in raw:
        raise WorkloadError(
            f"$: no '{SAVED_KEY}' key: not a {what} written by serialscale (expected "
            f"'{SAVED_KEY}': {expected}, which 'serialscale analyze --format json' writes)",
            Location(source),
        )
    version = raw[SAVED_KEY]
    if version != expected:
        raise WorkloadError(
            f"$.schema_version: unsupported {what} version {elided(repr(version))}; this "
            f"serialscale reads version {expected} (re-create the {what} with this version)",
            Location(source),
        )
    try:
        document = msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        message = f"not a valid serialscale {what}: {_validation_message(str(exc))}"
        raise WorkloadError(message, Location(source)) from None
    if isinstance(document, BatchReport):
        return Saved(list(document.results), list(document.errors), batch=True)
    if isinstance(document, ScaleReport):
        return Saved(sweep=document)
    return Saved([document])


def _looks_like_jsonl(data: bytes) -> bool:
    """Several lines, the first a whole JSON object on its own (not indented JSON)."""
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return isinstance(_decode_json(lines[0], ""), dict)
    except (msgspec.DecodeError, UnicodeDecodeError, WorkloadError):
        return False


def _parse_jsonl(data: bytes, source: str) -> Saved:
    """The reports and errors of ``--format jsonl`` output, each line validated."""
    reports: list[Report] = []
    errors: list[ErrorEntry] = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = _decode_json(line, source)
        except WorkloadError as exc:
            exc.location = Location(source, number, exc.location.column)
            raise exc from None
        except msgspec.DecodeError as exc:
            error = _syntax_error(exc, line, source)
            error.location = Location(source, number, error.location.column)
            raise error from None
        except UnicodeDecodeError:
            raise WorkloadError("not a JSON report: not valid UTF-8",
                                Location(source, number)) from None  # fmt: skip
        try:
            if isinstance(raw, dict) and "error" in raw and "depth" not in raw:
                errors.append(msgspec.convert(raw, ErrorLine).entry())
            elif isinstance(raw, dict) and raw.get("schema_version") == SCHEMA_VERSION:
                reports.append(msgspec.convert(raw, Report))
            else:
                raise WorkloadError(
                    "not a line of 'serialscale analyze --format jsonl' (a report of "
                    f"schema_version {SCHEMA_VERSION}, or an error line)", Location(source, number)
                )  # fmt: skip
        except msgspec.ValidationError as exc:
            message = f"not a valid serialscale report: {_validation_message(str(exc))}"
            raise WorkloadError(message, Location(source, number)) from None
    return Saved(reports, errors, batch=True)


def _utf8_error(data: bytes, source: str) -> WorkloadError:
    """A located error at the first byte of ``data`` that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return WorkloadError(
            f"not a JSON report: not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            byte_location(source, data, exc.start),
        )
    return WorkloadError("not a JSON report: not valid UTF-8", Location(source))


def _syntax_error(exc: msgspec.DecodeError, data: bytes, source: str) -> WorkloadError:
    """A located error for JSON that does not parse (msgspec reports a byte offset). Bytes
    that are not UTF-8 are located at the first bad byte, whichever error msgspec raised
    for them (UnicodeDecodeError up to 0.22, DecodeError since 0.23)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return _utf8_error(data, source)
    text = str(exc).replace("JSON is malformed: ", "")
    line = column = None
    marker = " (byte "
    if marker in text:
        text, _, rest = text.rpartition(marker)
        offset = int(rest.rstrip(")")) if rest.rstrip(")").isdigit() else -1
        if 0 <= offset <= len(data):
            where = byte_location(source, data, offset)
            line, column = where.line, where.column
            if data[offset : offset + 9].startswith((b"NaN", b"Infinity", b"-Infinity")):
                text = "NaN and infinities are not JSON numbers; expected a finite number"
    if text.startswith("Number out of range"):
        text = "a number too large for a double; expected a finite number" + text[19:]
        if line is None:  # msgspec names no byte: the first number past the doubles
            at = _out_of_range(data)
            if at is not None:
                where = byte_location(source, data, at)
                line, column = where.line, where.column
                text = text.split(" - at ", 1)[0]
    if " - at " in text:  # a number out of range: msgspec names where
        text = _validation_message(text)
    text = text.replace("`", "'")
    return WorkloadError(f"not a JSON report: {text}", Location(source, line, column))


#: A JSON string (skipped whole: a number inside one is text) or a JSON number.
_STRING_OR_NUMBER = re.compile(rb'"(?:\\.|[^"\\])*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?', re.S)


def _out_of_range(data: bytes) -> int | None:
    """The offset of the first number in the JSON ``data`` too large for a double
    (``1e400``), or ``None``."""
    for match in _STRING_OR_NUMBER.finditer(data):
        token = match.group()
        if token[:1] != b'"' and math.isinf(float(token)):
            return match.start()
    return None


def _validation_message(text: str) -> str:
    """msgspec's ``Expected `int`, got `str` - at `$.steps``` as ``$.steps: expected 'int',
    got 'str'`` (the field first, as a path into the document)."""
    message, sep, at = text.rpartition(" - at ")
    if not sep:
        message, at = text, "`$`"
    message = message.replace("`", "'")
    return f"{at.strip('`')}: {message[:1].lower()}{message[1:]}"


__all__ = [
    "CLASSES",
    "NEAR_CRITICAL",
    "SCALE_SCHEMA_VERSION",
    "SCHEMA_VERSION",
    "BatchReport",
    "ErrorEntry",
    "ErrorLine",
    "FailedGate",
    "GrowthEntry",
    "GrowthSet",
    "NearCritical",
    "Prediction",
    "Recommendation",
    "Report",
    "RunnerUp",
    "Saved",
    "ScalePoint",
    "ScaleReport",
    "Segment",
    "SpeedupRow",
    "StepDetail",
    "Summary",
    "is_saved",
    "parse_saved",
    "read_saved",
    "to_builtins",
]
