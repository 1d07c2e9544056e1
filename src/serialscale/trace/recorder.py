"""The recorder: the graph of a traced run, kept in compact arrays.

Each recorded step stores a site index (4 bytes: which operation at which source line) and up
to three predecessor step numbers (4 bytes each in the compiled tape, 8 in the pure one: an
operation's operands and, in the frame and strict control modes, its control need); costs
other than 1 and needs beyond three live in small side tables. Traced values themselves are
not kept: only these integers are.

The hot state (step counter, pause and decision) and the steps themselves (four columns)
live in a base class: the compiled ``_tape.Tape`` when it was built, else :class:`PyTape`.
Both record the same steps; ``SERIALSCALE_PURE_PYTHON=1`` forces the pure-Python one.
"""

from __future__ import annotations

import contextlib
import dis
import inspect
import os
import sys
import warnings
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain, repeat
from operator import setitem
from types import CodeType, FrameType, FunctionType
from typing import TYPE_CHECKING, Any, cast

from .. import accel
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


#: The tapes call the recorder's spill() (its limit, the zero costs) every this many steps.
FLUSH_STEPS = 65_536
#: The most operations a run records, whatever ``max_ops`` asks: the compiled tape numbers
#: steps in int32 (and refuses a step past 2**31 - 1; the limit is checked at each spill,
#: every FLUSH_STEPS steps, so it stops the run first). Both tapes keep it.
MOST_OPS = 2**31 - 1 - 2 * FLUSH_STEPS

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


_IS_OP = dis.opmap["IS_OP"]
#: Branches that pop what they test: a comparison feeding one is used up by it. The
#: ``JUMP_IF_..._OR_POP`` of ``and``/``or`` and chained comparisons leave it as the value.
_POPPING_BRANCHES = BRANCHES - {"JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP"}
#: The largest module source compiled to find its identity tests.
_MOST_SOURCE_BYTES = 4 << 20


def tests_bool_identity(code: CodeType, truths: frozenset[str] = frozenset()) -> bool:
    """Whether ``code`` may test a bool by identity, which a traced bool cannot pass: an
    ``is`` in code that names ``True``, ``False``, ``bool`` or a global bound to a bool
    (``truths``) (``x is True``, ``match x: case False:``, ``bool is type(x)``, ``x is
    YES``); ``operator.is_``; ``type(x) == bool``. A guess on the safe side: a false alarm
    costs escapes, a miss a changed result."""
    names = code.co_names
    if "is_" in names or "is_not" in names or ("bool" in names and "type" in names):
        return True
    if _IS_OP not in code.co_code[::2]:
        return False
    return (
        any(c is True or c is False for c in code.co_consts)
        or "bool" in names or "bool" in code.co_freevars or "bool" in code.co_cellvars
        or not truths.isdisjoint(names)
    )  # fmt: skip


def _codes_within(code: CodeType) -> Iterator[CodeType]:
    """``code`` and the code objects nested in it, at any depth (no recursion)."""
    todo = [code]
    while todo:
        found = todo.pop()
        yield found
        todo.extend(c for c in found.co_consts if isinstance(c, CodeType))


def module_tests_bool_identity(namespace: dict[str, Any]) -> bool:
    """Whether code of the module whose globals are ``namespace`` may test bools by
    identity (:func:`tests_bool_identity`): a comparison made anywhere in that module may
    reach such a test (a helper, a decorated function, a property, a lambda in a table).
    The module's source file is compiled to see all of its code; without one (``exec``),
    its functions and classes are looked through. A module that cannot be looked through
    is taken to make such tests: plain bools are always safe."""
    try:
        truths = frozenset(k for k, v in namespace.items() if v is True or v is False)
        codes = _module_codes(namespace)
        return any(tests_bool_identity(c, truths) for top in codes for c in _codes_within(top))
    except Exception:  # the module's own objects misbehaving: the safe answer
        return True


def _module_codes(namespace: dict[str, Any]) -> list[CodeType]:
    path = namespace.get("__file__")
    if isinstance(path, str) and path.endswith(".py"):
        try:
            with open(path, "rb") as handle:
                source = handle.read(_MOST_SOURCE_BYTES + 1)
            if len(source) <= _MOST_SOURCE_BYTES:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return [compile(source, path, "exec", dont_inherit=True)]
        except (OSError, SyntaxError, ValueError):
            pass  # changed or unreadable since it was imported: its objects, then
    name = namespace.get("__name__")
    found: list[CodeType] = []
    seen: set[int] = set()
    todo = list(namespace.values())
    while todo and len(seen) < 100_000:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        value = inspect.unwrap(value) if callable(value) else value
        if isinstance(value, FunctionType):
            found.append(value.__code__)
            for cell in value.__closure__ or ():
                with contextlib.suppress(ValueError):
                    todo.append(cell.cell_contents)
        elif isinstance(value, (staticmethod, classmethod)):
            todo.append(value.__func__)
        elif isinstance(value, property):
            todo.extend(f for f in (value.fget, value.fset, value.fdel) if f is not None)
        elif isinstance(value, type) and getattr(value, "__module__", None) == name:
            todo.extend(vars(value).values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
    return found


def traced_comparison_offsets(code: CodeType, module_tests: bool) -> frozenset[int] | None:
    """Where a comparison made in ``code`` gives a traced bool: everywhere (``None``), unless
    ``code`` or its module may test bools by identity (``module_tests``,
    :func:`module_tests_bool_identity`); then only at the comparisons a popping branch uses
    up at once (``if a > b:``), and every other comparison (stored, returned, passed on,
    made by a C function such as ``map(operator.gt, ...)``) gives the plain bool: the
    function computes what its plain run computes, and the recorder counts an escape.

    A traced bool answers truth tests, arithmetic, ``isinstance`` and ``str`` as the bool
    it carries, but never identity: ``x is True`` and ``case True:`` are false for it.
    """
    if not (module_tests or tests_bool_identity(code)):
        return None
    instructions = [i for i in dis.get_instructions(code) if i.opname != "EXTENDED_ARG"]
    out = set()
    for k, ins in enumerate(instructions):
        if ins.opname != "COMPARE_OP" or k + 1 >= len(instructions):
            continue
        after = instructions[k + 1]
        if after.opname == "TO_BOOL" and k + 2 < len(instructions):
            after = instructions[k + 2]
        if after.opname in _POPPING_BRANCHES:
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
    """The pure-Python twin of the compiled ``_tape.Tape``: the recorder's hot state and
    its steps.

    ``pending`` holds recent steps as flat (site, a, b, c) quadruples: list appends are
    cheaper than array appends; every :data:`FLUSH_STEPS` steps they are set aside
    (:meth:`spill`), and :meth:`flush` appends what was set aside to the columns at once
    (appending each buffer made the arrays grow by a sixteenth at a time, every growth a
    copy). ``c`` is an operation's control need (strict and frame modes): ``ctl_step`` for
    every operation when ``ctl_any``, or for operations in ``ctl_frame``.
    """

    __slots__ = (
        "_columns", "_spilled", "bool_fast", "control_decisions", "count", "ctl_any",
        "ctl_frame", "ctl_step", "decision", "paused", "pending", "quiet_frame", "zeros",
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
        self.zeros: list[int] = []  # steps of cost 0 not yet taken (take_zero_costs)
        #: site index of each step; its first, second and third need (NO_STEP: none)
        self._columns = (array("i"), array("q"), array("q"), array("q"))
        #: buffers of pending steps set aside (spill), appended to the columns by flush
        self._spilled: list[tuple[bytes, bytes, bytes, bytes]] = []

    def push(self, site: int, a: int, b: int, c: int = NO_STEP) -> int:
        """Append one step (its needs normalised here); its step number."""
        step = self.count
        self.count = step + 1
        self.pending += (site, *normalise(a, b, c))
        if len(self.pending) >= FLUSH_STEPS * 4:
            self.spill()
        return step

    def spill(self) -> None:
        """Called every :data:`FLUSH_STEPS` steps (the recorder overrides it to check its
        limit, and calls this): the pending steps are set aside for :meth:`flush`."""
        pending = self.pending
        if pending:
            sites = array("i", pending[0::4]).tobytes()
            a, b, c = (array("q", pending[k::4]).tobytes() for k in (1, 2, 3))
            self._spilled.append((sites, a, b, c))
            pending.clear()

    def flush(self) -> None:
        """Move the pending steps and those set aside by :meth:`spill` into the columns."""
        PyTape.spill(self)  # the tape's own: no limit checked here
        spilled = self._spilled
        if spilled:
            for k, column in enumerate(self._columns):
                _append_chunks(column, [parts[k] for parts in spilled])
            spilled.clear()

    def column(self, k: int) -> array[int]:
        """The sites (``k`` 0, int32) or the first, second or third needs (1..3, int64) of
        the steps flushed, as the arrays themselves (the compiled tape lends memoryviews,
        all int32)."""
        if not 0 <= k <= 3:
            raise ValueError(f"column: {k} is not 0 (sites) or 1..3 (needs)")
        return self._columns[k]

    def count_needs(self) -> int:
        """How many needs (not ``NO_STEP``) the flushed steps have in the three columns."""
        return int(accel.kernels().tape_needs(*self._columns[1:]))

    def csr(self, more_steps: array[int], more_ptr: array[int], more_idx: array[int],
            pred_ptr: array[int], pred_idx: array[int]) -> int:  # fmt: skip
        """The flushed steps' needs, then their needs beyond three (``more_idx[more_ptr[k]:
        more_ptr[k + 1]]`` for step ``more_steps[k]``), as predecessor CSR written into
        ``pred_ptr`` and ``pred_idx`` (the ``tape_csr`` kernel); how many indices."""
        cols = self._columns[1:]
        return int(accel.kernels().tape_csr(*cols, more_steps, more_ptr, more_idx, pred_ptr,
                                            pred_idx))  # fmt: skip

    def zero_cost(self, step: int) -> None:
        """Note that recorded step ``step`` costs 0 (a selection's step: hundreds of
        thousands in selection-heavy code, kept out of the recorder's dictionary of costs)."""
        if not 0 <= step < self.count:
            raise ValueError(f"zero_cost: step {step} is not one recorded (0..{self.count - 1})")
        self.zeros.append(step)

    def take_zero_costs(self) -> bytes:
        """The steps of cost 0 noted since the last call, as machine int64s; cleared."""
        out = array("q", self.zeros).tobytes()
        self.zeros.clear()
        return out


if TYPE_CHECKING:
    TapeBase = PyTape
else:  # the compiled tape (serialscale.accel._tape) when it is in use
    TapeBase = accel.tracer_part("tape", "Tape", PyTape)

#: Whether tracing runs the compiled hot path (values.py picks its operators to match).
COMPILED = accel.tracer_in_use("tape")


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
        "_branches", "_codes", "_identity_modules", "_labels", "_namespaces", "_plain",
        "_since_purge", "control", "costs", "escape_sites", "escapes", "frames", "max_ops",
        "measured", "more", "native_callers", "scopes", "site_names", "sites", "spans",
        "strict", "unmodelled", "zero_steps",
    )  # fmt: skip

    def __init__(self, control: str = "dataflow", max_ops: int = DEFAULT_MAX_OPS) -> None:
        if control not in CONTROL_MODES:
            raise ValueError(f"control must be one of {', '.join(CONTROL_MODES)}, got {control!r}")
        super().__init__()
        self.max_ops = min(max_ops, MOST_OPS)
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
        self.more: dict[int, list[int]] = {}  # predecessors beyond three
        self.costs: dict[int, Cost] = {}  # costs other than 1 and 0
        #: the steps of cost 0 (the int: selections), in the order recorded
        self.zero_steps = array("q")
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
        #: id(code) -> where its comparisons give traced bools (traced_comparison_offsets)
        self._plain: dict[int, frozenset[int] | None] = {}
        #: id(module globals) -> whether the module tests bools by identity
        self._identity_modules: dict[int, bool] = {}
        self._namespaces: list[dict[str, Any]] = []
        self._labels: dict[tuple[str, str, int], int] = {}
        self.site_names: list[tuple[str, str, int]] = []  # (operation, file, line)
        self.escapes = 0
        self.measured = 0  # steps whose cost is measured seconds (@task(cost="measured"))
        #: (conversion, file, line) -> how often: where traced values became plain ones
        self.escape_sites: dict[tuple[str, str, int], int] = {}

    def __len__(self) -> int:
        return self.count

    @property
    def site(self) -> Any:
        """The site index of each step flushed (int32: an ``array('i')`` or a memoryview)."""
        return self.column(0)

    @property
    def a(self) -> Any:
        """Each step's first need, or ``NO_STEP`` (an ``array('q')``, or the compiled tape's
        int32 memoryview)."""
        return self.column(1)

    @property
    def b(self) -> Any:
        """Each step's second need, or ``NO_STEP``."""
        return self.column(2)

    @property
    def c(self) -> Any:
        """Each step's third need (an operation's control need), or ``NO_STEP``."""
        return self.column(3)

    def spill(self) -> None:
        """What the tapes call every FLUSH_STEPS steps: stop the run once it has recorded
        more than ``max_ops`` operations, then the tape's own spill, and take the zero costs
        noted."""
        if self.count > self.max_ops:
            raise TooManyOperations(self.max_ops)
        super().spill()
        self.zero_steps.frombytes(self.take_zero_costs())

    def flush(self) -> None:
        """Every step recorded into the columns (:attr:`site`, :attr:`a`...), every zero
        cost into ``zero_steps``."""
        self.spill()
        super().flush()

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

    def hands_plain(self, frame: FrameType) -> bool:
        """Whether the comparison now at ``frame``'s instruction gives a plain bool
        (:func:`traced_comparison_offsets`)."""
        code = frame.f_code
        try:
            kept = self._plain[id(code)]
        except KeyError:
            self._codes.append(code)
            namespace = frame.f_globals
            module = self._identity_modules.get(id(namespace))
            if module is None:
                module = module_tests_bool_identity(namespace)
                self._identity_modules[id(namespace)] = module
                self._namespaces.append(namespace)  # kept alive: its id stays unique
            kept = self._plain[id(code)] = traced_comparison_offsets(code, module)
        return kept is not None and frame.f_lasti not in kept

    def plain_comparison(self, op: str, x: int, y: int, frame: FrameType) -> None:
        """Record comparison ``op`` (a step like any other) whose result leaves as a plain
        bool (:meth:`hands_plain`): an escape, since what is done with it is not seen."""
        self.binary(op, x, y, frame)
        self.escapes += 1
        self.escaped("comparison kept as a plain bool (the code tests `is True`/`False`)", frame)

    def truth_test(self, node: int, frame: FrameType) -> None:
        """A truth test of the value made by step ``node`` at ``frame``'s instruction (what
        the compiled ``Value``'s ``bool`` does): nothing in a watched sort's own frame
        (``quiet_frame``); a branch of the code as written is counted (data-flow mode) or
        decided (the other modes); any other test is an escape (:meth:`truth_escape`)."""
        if frame is self.quiet_frame:
            return
        if not self.is_branch(frame):
            self.truth_escape(frame)
        elif self.bool_fast:
            self.control_decisions += 1
        else:
            self.decide(node, frame)

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
        # through the tape's pending steps, as operations are (a flush per step made
        # selection-heavy code 20x slower); its needs are in order
        step = self.push(index, *unique[:3], *[NO_STEP] * (3 - len(unique[:3])))
        if len(unique) > 3:
            self.more[step] = unique[3:]
        if type(cost) is int and cost == 0:
            self.zero_cost(step)
        elif cost != 1:
            self.costs[step] = cost
        return step

    def push_needs(self, site: int, needs: list[int]) -> int:
        """Record one step of site ``site`` needing ``needs`` (an array operation: any number
        of them), with the decision in force in strict mode, each need once, the fourth and
        later in ``more``; its step number."""
        if self.strict and self.decision >= 0:
            needs = [*needs, self.decision]
        unique = [n for n in dict.fromkeys(needs) if n >= 0]
        step = self.push(site, *unique[:3], *[NO_STEP] * (3 - len(unique[:3])))
        if len(unique) > 3:
            self.more[step] = unique[3:]
        return step

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
        site = self.site
        if not isinstance(site, array):  # the compiled tape's column: ids want an array
            copy = array("i")
            with site, site.cast("B") as raw:
                copy.frombytes(raw)
            site = copy
        return OccurrenceIds(labels, site)

    def graph(self) -> Graph:
        """The recorded steps as a :class:`Graph` (input order is already topological)."""
        self.flush()
        n = self.count
        more = sorted(self.more.items())
        more_steps = array("q", [step for step, _ in more])
        more_ptr = array("q", [0])
        more_ptr.extend(accumulate(len(row) for _, row in more))
        more_idx = array("q", chain.from_iterable(row for _, row in more))
        m = self.count_needs() + len(more_idx)
        pred_ptr = array("q", [0]) * (n + 1)  # by repetition: cheaper than from bytes
        pred_idx = array("q", [0]) * m
        self.csr(more_steps, more_ptr, more_idx, pred_ptr, pred_idx)
        costs = self.cost_array(n)
        spans = None
        if self.spans:  # array operations with parallelism inside
            spans = array(costs.typecode, costs)
            kind = int if costs.typecode == "q" else float
            for i, s in self.spans.items():
                spans[i] = kind(s)
        return Graph(self.step_ids(), costs, pred_ptr, pred_idx, owned=True, spans=spans)

    def cost_array(self, n: int) -> array[Any]:
        """Every step's cost: 1, 0 for the steps in ``zero_steps``, or what ``costs`` says;
        doubles when one is not an int that fits in 64 bits (as :class:`Graph` types costs)."""
        special = self.costs
        # each written by a C-level map over the table (selection-heavy code has a cost-0
        # step per selection: hundreds of thousands)
        if set(map(type, special.values())) <= {int}:
            costs = array("q", [1]) * n
            try:
                ints = cast("dict[int, int]", special)  # every value an int: checked above
                deque(map(setitem, repeat(costs), ints.keys(), ints.values()), 0)
                deque(map(setitem, repeat(costs), self.zero_steps, repeat(0)), 0)
                return costs
            except OverflowError:
                pass
        floats = array("d", [1.0]) * n
        deque(map(setitem, repeat(floats), special.keys(), map(float, special.values())), 0)
        deque(map(setitem, repeat(floats), self.zero_steps, repeat(0.0)), 0)
        return floats


def _append_chunks(column: array, chunks: list[bytes]) -> None:
    """Append the machine values in ``chunks`` to ``column``, growing it once."""
    start = len(column) * column.itemsize
    column.frombytes(bytes(sum(map(len, chunks))))  # zeroed pages, written over below
    with memoryview(column) as view, view.cast("B") as raw:
        for chunk in chunks:
            raw[start : start + len(chunk)] = chunk
            start += len(chunk)
