"""The recorder: the graph of a traced run, kept in compact arrays.

Each recorded step stores a site index (4 bytes: which operation at which source line) and up
to three predecessor step numbers (8 bytes each: an operation's operands and, in the frame and
strict control modes, its control need); costs other than 1 and needs beyond three live in
small side tables. Traced values themselves are not kept: only these integers are.

The hot state (step counter, pause and decision, the steps not yet moved into the arrays)
lives in a base class: the compiled ``_tape.Tape`` when it was built, else :class:`PyTape`.
Both record the same steps; ``SERIALSCALE_PURE_PYTHON=1`` forces the pure-Python one.
"""

from __future__ import annotations

import dis
import os
import sys
from array import array
from collections import deque
from collections.abc import Iterable
from itertools import accumulate, chain, repeat
from operator import add, lt, ne, setitem
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, cast

from .. import accel
from ..accel import PURE_ENV
from ..base.defaults import DEFAULT_MAX_OPS
from ..base.errors import SerialscaleError
from ..core.graph import Cost, Graph
from ..core.step_ids import OccurrenceIds

_getframe = sys._getframe

NO_STEP = -1
#: How branches on traced values count (see :class:`Recorder`), from optimistic to pessimistic.
CONTROL_MODES = ("dataflow", "scoped", "frame", "strict")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_frame() -> FrameType:
    """The innermost frame outside serialscale (the call a library step is made for)."""
    frame = _getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE + os.sep):
        frame = frame.f_back
    return frame


FLUSH_STEPS = 65_536

#: The instructions whose truth test of a value is a branch of the code as written (``if``,
#: ``while``, ``and``/``or``, conditional expressions, ``assert``), by this Python's names for
#: them (3.13 tests truth in a ``TO_BOOL`` just before the jump). A truth test made anywhere
#: else (``not x``, ``bool(x)``, inside a call: ``any()``, ``x in xs``, a C function) is not
#: a branch of the caller: its outcome leaves as a plain bool, an escape.
BRANCHES = frozenset((
    "POP_JUMP_IF_FALSE", "POP_JUMP_IF_TRUE", "POP_JUMP_FORWARD_IF_FALSE",
    "POP_JUMP_FORWARD_IF_TRUE", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
    "JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP",
))  # fmt: skip


def branch_offsets(code: CodeType) -> frozenset[int]:
    """The instruction offsets of ``code`` where a truth test is a branch (:data:`BRANCHES`,
    or a ``TO_BOOL`` that feeds one)."""
    instructions = list(dis.get_instructions(code))
    out = set()
    for k, ins in enumerate(instructions):
        feeds_branch = k + 1 < len(instructions) and instructions[k + 1].opname in BRANCHES
        if ins.opname in BRANCHES or (ins.opname == "TO_BOOL" and feeds_branch):
            out.add(ins.offset)
    return frozenset(out)


class TooManyOperations(BaseException):
    """The traced run passed its ``max_ops`` limit. A ``BaseException``, so that the traced
    code's own ``except Exception`` blocks do not swallow it."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class ScopedUnavailable(SerialscaleError, RuntimeError):
    """``--control scoped`` cannot run here (another trace function, or an interpreter whose
    frame layout trace/scopes.py does not know)."""


def normalise(x: int, y: int, c: int = NO_STEP) -> tuple[int, int, int]:
    """The needs x, y, c as the tape keeps them: distinct steps first, in that order, then
    ``NO_STEP`` (the compiled tape's ``normalise``)."""
    out = [n for n in dict.fromkeys((x, y, c)) if n >= 0]
    out += [NO_STEP] * (3 - len(out))
    return out[0], out[1], out[2]


class PyTape:
    """The pure-Python twin of the compiled ``_tape.Tape``: the recorder's hot state.

    ``pending`` holds recent steps as flat (site, a, b, c) quadruples: list appends are
    cheaper than array appends, and the recorder's ``flush`` moves them into its arrays.
    ``c`` is an operation's control need (strict and frame modes): ``ctl_step`` for every
    operation when ``ctl_any``, or for operations in ``ctl_frame``.
    """

    __slots__ = (
        "bool_fast", "control_decisions", "count", "ctl_any", "ctl_frame", "ctl_step", "decision",
        "paused", "pending", "quiet_frame",
    )  # fmt: skip

    def __init__(self) -> None:
        self.count = 0  # steps recorded
        self.control_decisions = 0  # branches on traced values
        self.bool_fast = 0  # 1: a branch only counts (data-flow mode)
        self.quiet_frame: FrameType | None = None  # truth tests here are not branches
        self.paused = 0  # > 0 inside a task's body
        self.decision = NO_STEP  # >= 0 while a decision may be in force (strict, frame)
        self.ctl_step = NO_STEP
        self.ctl_any = 0
        self.ctl_frame: FrameType | None = None
        self.pending: list[int] = []

    def push(self, site: int, a: int, b: int, c: int = NO_STEP) -> int:
        """Append one step (its needs normalised here); its step number."""
        step = self.count
        self.count = step + 1
        self.pending += (site, *normalise(a, b, c))
        if len(self.pending) >= FLUSH_STEPS * 4:
            self.flush()  # the recorder's: moves the steps into its arrays
        return step

    def flush(self) -> None:
        """Move the pending steps into the recorder's arrays (the recorder overrides it)."""
        raise NotImplementedError

    def take_pending(self) -> tuple[bytes, bytes, bytes, bytes]:
        """The pending steps as machine int32 sites and int64 needs; cleared."""
        pending = self.pending
        sites = array("i", pending[0::4]).tobytes()
        a, b, c = (array("q", pending[k::4]).tobytes() for k in (1, 2, 3))
        out = (sites, a, b, c)
        pending.clear()
        return out


if TYPE_CHECKING:
    TapeBase = PyTape
else:
    try:
        from ._tape import Tape as TapeBase
    except ImportError:  # no compiler at install time
        TapeBase = PyTape
    if os.environ.get(PURE_ENV) == "1":
        TapeBase = PyTape

#: Whether tracing runs the compiled hot path (values.py picks its operators to match).
COMPILED = TapeBase is not PyTape


class Recorder(TapeBase):
    """Collects steps while a traced function runs.

    Traced values' operators record their steps through the tape base (compiled or
    :class:`PyTape`); :meth:`binary` is the general path they fall back to (a new call site,
    a strict-mode decision in force, reflected and unary operators).

    ``control`` is ``"dataflow"`` (branches add no dependency), ``"scoped"`` (values stored
    while a branch is in force, until its immediate post-dominator, are selected by it:
    trace/scopes.py), ``"frame"`` (a step recorded
    in a function call after a branch there on a traced value also needs the step behind that
    value, until the call returns) or ``"strict"`` (every step recorded after a branch,
    anywhere, needs the step behind the latest one).
    """

    __slots__ = (
        "_branches", "_codes", "_labels", "_since_purge", "a", "b", "c", "control", "costs",
        "escape_sites", "escapes", "frames", "max_ops", "measured", "more", "native_callers",
        "scopes", "site", "site_names", "sites", "spans", "strict", "unmodelled",
    )  # fmt: skip

    def __init__(self, control: str = "dataflow", max_ops: int = DEFAULT_MAX_OPS) -> None:
        if control not in CONTROL_MODES:
            raise ValueError(f"control must be one of {', '.join(CONTROL_MODES)}, got {control!r}")
        super().__init__()
        self.max_ops = max_ops
        self.strict = control == "strict"
        self.control = control
        #: frame mode: id(frame) -> (the frame, the step behind its latest branch). The frame
        #: is held so that its id cannot be reused by another call while the entry lives;
        #: entries of calls that have returned are dropped now and then (purge_frames).
        self.frames: dict[int, tuple[FrameType, int]] = {}
        self._since_purge = 0
        #: the frames that called a watched list.sort or numpy method now running
        #: (native_selection.py): its comparisons' truth tests there are not branches; the
        #: innermost one is the tape's quiet_frame
        self.native_callers: list[FrameType] = []
        self.bool_fast = int(control == "dataflow")
        #: scoped mode: the watcher of the decisions in force (trace/scopes.py), set by
        #: run_traced for the duration of the run
        self.scopes: Any = None
        self.site = array("i")  # site index of each step
        self.a = array("q")  # first predecessor or NO_STEP
        self.b = array("q")  # second predecessor or NO_STEP
        self.c = array("q")  # third predecessor (an operation's control need) or NO_STEP
        self.more: dict[int, list[int]] = {}  # predecessors beyond three
        self.costs: dict[int, Cost] = {}  # costs other than 1
        #: spans other than the cost (array operations: trace/arrays.py)
        self.spans: dict[int, Cost] = {}
        #: array operations outside the cost table, by name -> how often (trace/arrays.py)
        self.unmodelled: dict[str, int] = {}
        # (operation, id(code), instruction offset) -> label index. The instruction offset is
        # cheap to read, unlike the line number, which is looked up once per new site.
        self.sites: dict[tuple[str, int, int], int] = {}
        self._codes: list[CodeType] = []  # keeps every code object seen alive: ids stay unique
        #: id(code) -> the offsets where a truth test is a branch (:func:`branch_offsets`)
        self._branches: dict[int, frozenset[int]] = {}
        self._labels: dict[tuple[str, str, int], int] = {}
        self.site_names: list[tuple[str, str, int]] = []  # (operation, file, line)
        self.escapes = 0
        self.measured = 0  # steps whose cost is measured seconds (@task(cost="measured"))
        #: (conversion, file, line) -> how often: where traced values became plain ones
        self.escape_sites: dict[tuple[str, str, int], int] = {}

    def __len__(self) -> int:
        return self.count

    def flush(self) -> None:
        """Move the pending steps into the arrays (every FLUSH_STEPS steps at least), and
        stop the run once it has recorded more than ``max_ops`` operations."""
        if self.count > self.max_ops:
            raise TooManyOperations(self.max_ops)
        site, a, b, c = self.take_pending()
        if site:
            self.site.frombytes(site)
            self.a.frombytes(a)
            self.b.frombytes(b)
            self.c.frombytes(c)

    def binary(self, op: str, x: int, y: int, frame: FrameType | None = None) -> int:
        """Record one operation on the values made by steps ``x`` and ``y``; its step number.

        ``frame`` is the user's frame (the call site that names the step); by default, the
        caller of the operator method that called this one.
        """
        if frame is None:
            frame = _getframe(2)
        site = self.site_index(op, frame)
        control = NO_STEP
        if self.decision >= 0:  # a decision may be in force (strict or frame mode)
            if self.strict:
                control = self.decision
            elif self.frames:
                control = self._frame_decision(frame)
                # the tapes' fast paths use this answer for this frame's next operations
                self.ctl_frame, self.ctl_step = frame, control
        return self.push(site, x, y, control)

    def site_index(self, op: str, frame: FrameType) -> int:
        """The label index of operation ``op`` at the current instruction of ``frame``."""
        key = (op, id(frame.f_code), frame.f_lasti)
        site = self.sites.get(key)
        return self._new_site(key, frame) if site is None else site

    def _new_site(self, key: tuple[str, int, int], frame: FrameType) -> int:
        """The label index of a call site seen for the first time (one per op, file, line)."""
        code = frame.f_code
        self._codes.append(code)
        label = (key[0], os.path.basename(code.co_filename), frame.f_lineno)
        index = self._labels.get(label)
        if index is None:
            index = self._labels[label] = len(self.site_names)
            self.site_names.append(label)
        self.sites[key] = index
        return index

    def escaped(self, kind: str, frame: FrameType | None) -> None:
        """Note where a traced value was converted to a plain one (the first 50 places)."""
        where = ("?", 0) if frame is None else (os.path.basename(frame.f_code.co_filename),
                                                frame.f_lineno)  # fmt: skip
        key = (kind, *where)
        if key in self.escape_sites or len(self.escape_sites) < 50:
            self.escape_sites[key] = self.escape_sites.get(key, 0) + 1

    def is_branch(self, frame: FrameType | None) -> bool:
        """Whether a truth test made now at ``frame``'s instruction is a branch the code
        there wrote (:data:`BRANCHES`), not one made inside a call it makes."""
        if frame is None:
            return False
        code = frame.f_code
        found = self._branches.get(id(code))
        if found is None:
            self._codes.append(code)
            found = self._branches[id(code)] = branch_offsets(code)
        return frame.f_lasti in found

    def truth_escape(self, frame: FrameType | None) -> None:
        """A truth test made inside a call (``any()``, ``x in xs``, ``bool()``): not a
        branch of the caller; its outcome leaves as a plain value, an escape."""
        self.escapes += 1
        self.escaped("truth test inside a call (bool(), any(), in...)", frame)

    def describe_escapes(self, most: int = 3) -> str:
        """``float() at algos.py:14 (10 times), int() at algos.py:20``: the main places."""
        ranked = sorted(self.escape_sites.items(), key=lambda kv: (-kv[1], kv[0]))[:most]
        parts = [f"{kind} at {file}:{line}" + (f" ({n} times)" if n > 1 else "")
                 for (kind, file, line), n in ranked]  # fmt: skip
        more = len(self.escape_sites) - len(ranked)
        return ", ".join(parts) + (f" and {more} more places" if more > 0 else "")

    def named(self, name: str, needs: Iterable[int], cost: Cost = 1) -> int:
        """Record one coarse step (a task or an op call) with any number of needs."""
        if self.frames:  # frame mode: the decision of the user's call this step is made in
            needs = [*needs, self._frame_decision(_user_frame())]
        needs = list(needs)
        if self.strict and self.decision >= 0:
            needs.append(self.decision)
        unique = [n for n in dict.fromkeys(needs) if n >= 0]
        index = self.label_index(name)
        if len(unique) <= 3:
            # the common case goes through the tape's pending steps, as operations do (a
            # flush per step made selection-heavy code 20x slower); its needs are in order
            step = self.push(index, *unique, *[NO_STEP] * (3 - len(unique)))
        else:
            self.flush()
            step = self.count
            self.count = step + 1
            self.site.append(index)
            self._add_needs(step, unique)
        if cost != 1:
            self.costs[step] = cost
        return step

    def _add_needs(self, step: int, needs: list[int]) -> None:
        """The needs of ``step``, just appended to the arrays after a flush (a step with more
        than three needs, or an array operation): the decision in force in strict mode, each
        need once, the fourth and later in ``more``."""
        if self.strict and self.decision >= 0:
            needs = [*needs, self.decision]
        unique = [n for n in dict.fromkeys(needs) if n >= 0]
        unique += [NO_STEP] * (3 - len(unique))
        self.a.append(unique[0])
        self.b.append(unique[1])
        self.c.append(unique[2])
        if len(unique) > 3 and unique[3] >= 0:
            self.more[step] = unique[3:]

    def label_index(self, name: str) -> int:
        """The label index of a coarse step named ``name`` (no file or line)."""
        label = (name, "", 0)
        index = self._labels.get(label)
        if index is None:
            index = self._labels[label] = len(self.site_names)
            self.site_names.append(label)
        return index

    def decide(self, step: int, frame: FrameType | None = None) -> None:
        """A branch was taken on the value made by ``step``, in ``frame`` (by default the
        caller of the caller). ``Traced.__bool__`` comes here only when a branch does more
        than count (``bool_fast`` off) and is not a watched sort's own (``quiet_frame``)."""
        self.control_decisions += 1
        if step < 0:
            return
        if self.strict:
            self.decision = self.ctl_step = step
            self.ctl_any = 1
        elif self.scopes is not None:
            self.scopes.decide(step, frame if frame is not None else _getframe(2))
        elif self.control == "frame":
            frame = frame if frame is not None else _getframe(2)
            self.frames[id(frame)] = (frame, step)
            self.decision = step  # operations in other frames ask binary(), which looks up
            self.ctl_frame, self.ctl_step = frame, step
            if len(self.frames) > 256:
                self.purge_frames()

    def enter_native(self, frame: FrameType) -> None:
        """A watched ``list.sort`` or numpy method called from ``frame`` starts: the truth
        tests it makes there are its own, followed by its chains of comparisons, not the
        caller's branches (native_selection.py)."""
        self.native_callers.append(frame)
        self.quiet_frame = frame

    def leave_native(self) -> None:
        """The innermost watched call has returned or raised."""
        self.native_callers.pop()
        self.quiet_frame = self.native_callers[-1] if self.native_callers else None

    def _frame_decision(self, frame: FrameType) -> int:
        """The step behind the latest branch in ``frame``'s call, or ``NO_STEP``."""
        self._since_purge += 1
        if self._since_purge >= 4096:
            self.purge_frames()
        entry = self.frames.get(id(frame))
        return entry[1] if entry is not None and entry[0] is frame else NO_STEP

    def purge_frames(self) -> None:
        """Forget the decisions of calls that have returned (frames no longer on the stack);
        with none left, operations take the fast path again."""
        self._since_purge = 0
        live: set[int] = set()
        frame: FrameType | None = _getframe(0)
        while frame is not None:
            live.add(id(frame))
            frame = frame.f_back
        for key in [k for k in self.frames if k not in live]:
            del self.frames[key]
        if self.ctl_frame is not None and id(self.ctl_frame) not in live:
            self.ctl_frame, self.ctl_step = None, NO_STEP
        if not self.frames:
            self.decision = NO_STEP

    def release_frames(self) -> None:
        """Let go of every frame held for frame mode or a watched call (the run is over)."""
        self.frames.clear()
        self.ctl_frame = None
        self.native_callers.clear()
        self.quiet_frame = None

    def step_ids(self) -> OccurrenceIds:
        """Readable unique ids: ``add@algos.py:12#3`` for operations, ``fetch#2`` for tasks
        (the third add at that line, the second call of the task), spelled out when read."""
        self.flush()
        labels = [f"{op}@{file}:{line}" if file else op for op, file, line in self.site_names]
        return OccurrenceIds(labels, self.site)

    def graph(self) -> Graph:
        """The recorded steps as a :class:`Graph` (input order is already topological)."""
        self.flush()
        n = len(self.site)
        more = sorted(self.more.items())
        more_steps = array("q", [step for step, _ in more])
        more_ptr = array("q", [0])
        more_ptr.extend(accumulate(len(row) for _, row in more))
        more_idx = array("q", chain.from_iterable(row for _, row in more))
        columns = (self.a, self.b, self.c)
        m = 3 * n - sum(map(_absent, columns)) + len(more_idx)
        pred_ptr = array("q", bytes(8 * (n + 1)))
        pred_idx = array("q", bytes(8 * m))
        fast = accel.select()
        if fast is not None:
            fast.tape_csr(*columns, more_steps, more_ptr, more_idx, pred_ptr, pred_idx)
        else:
            tape_csr(*columns, dict(more), pred_ptr, pred_idx)
        costs = self.cost_array(n)
        spans = None
        if self.spans:  # array operations with parallelism inside
            spans = array(costs.typecode, costs)
            kind = int if costs.typecode == "q" else float
            for i, s in self.spans.items():
                spans[i] = kind(s)
        return Graph(self.step_ids(), costs, pred_ptr, pred_idx, owned=True, spans=spans)

    def cost_array(self, n: int) -> array[Any]:
        """Every step's cost: 1, or what ``costs`` says; doubles when one is not an int
        that fits in 64 bits (as :class:`Graph` types costs)."""
        special = self.costs
        # each written by a C-level map over the table (selection-heavy code has a cost-0
        # step per selection: hundreds of thousands)
        if set(map(type, special.values())) <= {int}:
            costs = array("q", [1]) * n
            try:
                ints = cast("dict[int, int]", special)  # every value an int: checked above
                deque(map(setitem, repeat(costs), ints.keys(), ints.values()), 0)
                return costs
            except OverflowError:
                pass
        floats = array("d", [1.0]) * n
        deque(map(setitem, repeat(floats), special.keys(), map(float, special.values())), 0)
        return floats


#: ``NO_STEP`` as the tape's columns hold it: 8 bytes of 0xff (two's complement -1).
_ABSENT = array("q", [NO_STEP]).tobytes()


def _absent(column: array) -> int:
    """How many entries of ``column`` are ``NO_STEP``, counted in its bytes (``array.count``
    makes an int per entry: a quarter of a million-step graph's build). A run of 0xff bytes
    8 or more long is made of whole -1 entries, since every other entry is a step number
    (>= 0, its top byte 0), so the non-overlapping count finds exactly those."""
    return column.tobytes().count(_ABSENT)


def tape_csr(
    a: array, b: array, c: array, more: dict[int, list[int]], pred_ptr: array, pred_idx: array
) -> None:
    """Pure-Python twin of the compiled ``tape_csr``: step ``i`` needs ``a[i]``, ``b[i]``,
    ``c[i]`` (``NO_STEP``: none), then ``more[i]``; written into ``pred_ptr``/``pred_idx``.
    Every need must name an earlier step (``ValueError``)."""
    if not len(a) == len(b) == len(c):
        raise ValueError("a, b and c differ in length")
    rows: Iterable[tuple[int, ...]] = zip(a, b, c, strict=True)
    if more:
        rows = ((*row, *more[i]) if i in more else row for i, row in enumerate(rows))
        kept = [[x for x in row if x != NO_STEP] for row in rows]
        lengths = list(map(len, kept))
        flat = array("q", chain.from_iterable(kept))
    else:  # the common case, in bulk: three needs at most
        absent = repeat(NO_STEP)
        lengths = list(map(add, map(add, map(ne, a, absent), map(ne, b, absent)),
                           map(ne, c, absent)))  # fmt: skip
        flat = array("q", [x for row in rows for x in row if x != NO_STEP])
    owners = chain.from_iterable(map(repeat, range(len(a)), lengths))
    if flat and (min(flat) < 0 or not all(map(lt, flat, owners))):
        raise ValueError("a need that names no earlier step")
    pred_ptr[1:] = array("q", accumulate(lengths))
    pred_idx[:] = flat
