"""``--control scoped``: dynamic control dependence scoped by immediate post-dominators
(issue 23; Agrawal and Horgan 1990, online detection as in Xin and Zhang, ISSTA 2007).

A branch on a traced value at instruction *b* of a call is in force from *b* until that call
reaches *b*'s immediate post-dominator in its function's control-flow graph (computed once
per code object from its bytecode, cached), or returns, or an exception passes through it;
a branch taken again at *b* replaces its earlier instance (and what was decided inside it).
While decisions are in force, in that call and in every call made meanwhile:

- a value **stored** (a local, a global, a closure variable, an item, an attribute; a swap
  is two stores) becomes a zero-cost ``select`` step needing the value's own step and the
  decisions in force: what ends up where was chosen by them. A plain number stored so
  becomes a traced one (``i += 1`` in a loop whose test is traced); other plain values
  (lists, strings, None, and True/False: code tests flags with ``is``) are stored as they
  are. Appending counts as storing: ``LIST_APPEND``/``SET_ADD``/``MAP_ADD`` (comprehensions)
  and calls of ``list.append``/``list.insert``/``set.add``/``deque.append``/``appendleft``.
- values computed inside a scope and still on the stack where it ends (a conditional
  expression's value, ``a if c else b``) are selected by the decisions that end there.

Operations keep their data needs only. In a call that holds (or held) a decision, and in the
calls made while one is in force, a traced integer used as an index or slice bound (``a[i]``
after ``i += 1`` above) is not an escape: the index is used as its value, and what is read
becomes a ``select`` step needing the item's step and the index's (what was read depends on
which position was chosen). Elsewhere it is an escape, as in the other modes.

Watching is opcode by opcode (``sys.settrace`` with ``f_trace_opcodes``), only in frames
that hold a decision, that held one and are still running, or that were called while one
was in force; other code runs at full speed (a call while tracing is on costs one Python
call of the global trace function). The value about to be stored is read and replaced on
the interpreter's value stack, whose layout this module checks for at the start of a run:
CPython 3.11 and 3.12 (others: a clear error). The same machinery runs over the compiled
and the pure-Python tracer, so they record the same steps.

The watching itself has a compiled twin (csrc/scoped.c, ``_scoped.Watcher``: a C trace
function doing this module's per-instruction bookkeeping in C), used when it was built and
the pure-Python tracer is not forced (``SERIALSCALE_PURE``). It records through the same
methods of :class:`ScopeWatch` (``_select``, ``_after_read``, ``_plain_index``, ``_moved``),
so both watchers make the same steps; without it this module watches in Python, as before.
"""

from __future__ import annotations

import _ctypes
import collections
import ctypes
import dis
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any

from .. import accel
from .recorder import ScopedUnavailable
from .values import TRACED, Traced, kind_of

if TYPE_CHECKING:
    from .recorder import Recorder

#: The compiled opcode watcher (csrc/scoped.c) when it was built here, used or not (tests
#: run both); not built, the watcher below runs in Python.
_scoped = accel.tracer_built("scoped")

#: Whether the compiled watcher watches in scoped mode (accel decides); tests switch it.
COMPILED_WATCH = accel.tracer_in_use("scoped")

__all__ = ["EXIT", "ScopeWatch", "ScopedUnavailable", "immediate_post_dominators",
           "scope_end", "successors", "watching_scopes"]  # fmt: skip

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
EXIT = -1  # the virtual exit of a function's control-flow graph

_UNCONDITIONAL = frozenset(("JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT",
                            "JUMP_ABSOLUTE", "JUMP", "JUMP_NO_INTERRUPT"))  # fmt: skip
_EXITS = frozenset(("RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"))
_JUMPS = frozenset(dis.hasjrel) | frozenset(dis.hasjabs)


def successors(code: CodeType) -> dict[int, list[int]]:
    """The control-flow graph of ``code`` instruction by instruction: offset -> the offsets
    execution may go to next (``EXIT``: the function returns or raises). Exception edges
    are left out: an exception ends every scope of the call it passes through."""
    instructions = list(dis.get_instructions(code))
    out: dict[int, list[int]] = {}
    for k, ins in enumerate(instructions):
        following = instructions[k + 1].offset if k + 1 < len(instructions) else EXIT
        if ins.opname in _EXITS:
            out[ins.offset] = [EXIT]
        elif ins.opcode in _JUMPS and isinstance(ins.argval, int):
            target = ins.argval
            out[ins.offset] = [target] if ins.opname in _UNCONDITIONAL else [following, target]
        else:
            out[ins.offset] = [following]
    return out


def immediate_post_dominators(code: CodeType) -> dict[int, int]:
    """offset -> its immediate post-dominator's offset (``EXIT`` when only the function's end
    post-dominates it, or it cannot reach the end: an endless loop). Cooper, Harvey and
    Kennedy's iterative algorithm on the reversed graph."""
    succ = successors(code)
    preds: dict[int, list[int]] = {EXIT: []}
    for node in succ:
        preds.setdefault(node, [])
    for node, targets in succ.items():
        for t in targets:
            preds.setdefault(t, []).append(node)
    # postorder of the reversed graph from EXIT (iterative depth-first search)
    order: list[int] = []
    seen = {EXIT}
    stack: list[tuple[int, Iterator[int]]] = [(EXIT, iter(preds[EXIT]))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                stack.append((child, iter(preds.get(child, []))))
                break
        else:
            stack.pop()
            order.append(node)
    number = {node: k for k, node in enumerate(order)}
    ipdom: dict[int, int] = {EXIT: EXIT}

    def intersect(a: int, b: int) -> int:
        while a != b:
            while number[a] < number[b]:
                a = ipdom[a]
            while number[b] < number[a]:
                b = ipdom[b]
        return a

    changed = True
    while changed:
        changed = False
        for node in reversed(order):
            if node == EXIT:
                continue
            done = [s for s in succ[node] if s in ipdom]
            if not done:
                continue
            new = done[0]
            for s in done[1:]:
                new = intersect(s, new)
            if ipdom.get(node) != new:
                ipdom[node] = new
                changed = True
    return {node: ipdom.get(node, EXIT) for node in succ}


_IPDOMS: dict[CodeType, dict[int, int]] = {}


def scope_ends(code: CodeType) -> dict[int, int]:
    """offset -> where a branch there stops being in force (cached per code object)."""
    table = _IPDOMS.get(code)
    if table is None:
        table = _IPDOMS[code] = immediate_post_dominators(code)
    return table


def scope_end(code: CodeType, branch: int) -> int:
    """Where a branch at offset ``branch`` of ``code`` stops being in force (cached per
    code object). A ``TO_BOOL`` (3.13) is the jump after it."""
    return scope_ends(code).get(branch, EXIT)


# --- the value stack of a running frame (read and written while it is traced) ---

_OFFSETS = {  # (interpreter frame in PyFrameObject, f_code, frame_obj, stacktop, localsplus)
    (3, 11): (24, 32, 40, 64, 72),
    (3, 12): (24, 0, 48, 64, 72),
}
_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_decref = ctypes.pythonapi.Py_DecRef
_decref.argtypes = [ctypes.c_void_p]
_from_pointer = _ctypes.PyObj_FromPtr  # the object at an address (a borrowed view)


class _View:
    """The value stack of one running frame, read and written in place: valid while that
    frame runs a trace callback (its stack pointer is saved then)."""

    __slots__ = ("slots", "top")

    def __init__(self, inner: int, top_at: int, base_at: int, size: int) -> None:
        self.top = ctypes.c_int.from_address(inner + top_at)  # the stack's length
        self.slots = (ctypes.c_void_p * size).from_address(inner + base_at)

    def depth(self) -> int:
        return self.top.value

    def address(self, k: int) -> int:
        """The k-th value from the top (1: the top) as an address; 0 for a call's NULL."""
        return self.slots[self.top.value - k] or 0

    def peek(self, k: int) -> Any:
        """The k-th value from the top (never a NULL: callers check ``address`` first where
        the stack may hold one)."""
        return _from_pointer(self.slots[self.top.value - k] or 0)

    def poke(self, k: int, value: Any) -> None:
        index = self.top.value - k
        old = self.slots[index]
        _incref(value)
        self.slots[index] = id(value)
        _decref(old)


class _Stack:
    """Views of the value stacks of running frames, by the interpreter's frame layout,
    checked on a live frame first."""

    def __init__(self) -> None:
        offsets = _OFFSETS.get(sys.version_info[:2])
        if offsets is None or sys.implementation.name != "cpython":
            raise ScopedUnavailable(
                "--control scoped needs CPython 3.11 or 3.12 (it reads the interpreter's "
                f"value stack); this is {sys.implementation.name} {sys.version.split()[0]}"
            )
        self.frame_at, code_at, self_at, self.top_at, self.base_at = offsets
        frame = sys._getframe()
        inner = ctypes.c_void_p.from_address(id(frame) + self.frame_at).value or 0
        code = ctypes.c_void_p.from_address(inner + code_at).value
        owner = ctypes.c_void_p.from_address(inner + self_at).value
        if code != id(frame.f_code) or owner != id(frame):
            raise ScopedUnavailable("--control scoped: this interpreter's frame layout differs")

    def view(self, frame: FrameType) -> _View:
        """A view of ``frame``'s stack (locals, cells and the stack proper, in one array)."""
        inner = ctypes.c_void_p.from_address(id(frame) + self.frame_at).value or 0
        code = frame.f_code
        size = len(code.co_varnames) + len(code.co_cellvars) + len(code.co_freevars)
        return _View(inner, self.top_at, self.base_at, size + code.co_stacksize)


# --- the watcher ---

_OP = dis.opmap
#: store instruction -> the position of the value stored, from the top of the stack
_STORES = {_OP[name]: k for name, k in (("STORE_FAST", 1), ("STORE_DEREF", 1), ("STORE_NAME", 1),
           ("STORE_GLOBAL", 1), ("STORE_ATTR", 2), ("STORE_SUBSCR", 3), ("LIST_APPEND", 1),
           ("SET_ADD", 1), ("MAP_ADD", 1)) if name in _OP}  # fmt: skip
_CALL = _OP["CALL"]
#: builtin methods that store their last argument (called as methods: ``xs.append(v)``)
_STORING_OBJECTS = (list.append, list.insert, set.add, collections.deque.append,
                    collections.deque.appendleft)  # fmt: skip
_STORING_METHODS = frozenset(id(m) for m in _STORING_OBJECTS)
#: builtin methods that move values in a container without a store the watcher sees
_MOVING_OBJECTS = (list.pop, list.remove, list.extend, list.reverse, list.clear, dict.pop,
                   dict.popitem, set.pop, collections.deque.pop, collections.deque.popleft,
                   collections.deque.extend)  # fmt: skip
_MOVING_METHODS = frozenset(id(m) for m in _MOVING_OBJECTS)
_STORE_SUBSCR = _OP["STORE_SUBSCR"]
_BINARY_SUBSCR = _OP["BINARY_SUBSCR"]
_BINARY_SLICE = _OP.get("BINARY_SLICE", -1)  # 3.12: container, start, stop on the stack
_READS = frozenset((_BINARY_SUBSCR, _BINARY_SLICE))
_SLICED = -2  # marks the index steps of a slice read (no step has this number)
#: the instructions the watcher looks at (the others pass at once)
_WATCHED = frozenset((*_STORES, _CALL, *_READS))


@dataclass
class Scope:
    """One branch in force in a call: where it was taken, where it ends, the step behind
    the value it tested, and the stack depth just after it (None until the next event)."""

    branch: int
    end: int
    step: int
    depth: int | None = None


def _plain_index(value: Any) -> tuple[Any, list[int]]:
    """An index or slice with traced numbers replaced by their values, and their steps."""
    if type(value) in TRACED and kind_of(value.value) is Traced:
        return value.value, [value.node]
    if type(value) is slice:
        parts = (value.start, value.stop, value.step)
        if any(type(p) in TRACED for p in parts):
            plain = [p.value if type(p) in TRACED else p for p in parts]
            return slice(*plain), [p.node for p in parts if type(p) in TRACED]
    return value, []


class ScopeWatch:
    """The scoped mode's state for one traced run: the scopes in force per call, and the
    opcode watcher (``sys.settrace``) that ends them and selects what is stored; or, where
    ``compiled``, the C watcher that does the same (``self.native``)."""

    def __init__(self, recorder: Recorder, compiled: bool | None = None) -> None:
        self.rec = recorder
        self.stack = _Stack()
        self.scopes: dict[int, list[Scope]] = {}  # id(frame) -> scopes, innermost last
        self.live = 0  # scopes in force, in every call
        #: id(frame) -> index steps of the read just made (first _SLICED for a slice)
        self.reads: dict[int, list[int]] = {}
        self.own: dict[CodeType, bool] = {}  # code -> whether it is serialscale's own
        self.tracer = self.local  # one bound method: frames' f_trace is compared with it
        self.views: dict[int, _View] = {}  # id(frame) -> its stack, while it runs
        self.code_bytes: dict[CodeType, bytes] = {}  # code -> co_code (a new copy per read)
        self.on = False
        self.native: Any = None
        if COMPILED_WATCH if compiled is None else compiled:
            if _scoped is None or not _scoped.AVAILABLE:
                raise ScopedUnavailable("the compiled scope watcher is not built here")
            ops = (_CALL, _STORE_SUBSCR, _BINARY_SUBSCR, _BINARY_SLICE)
            self.native = _scoped.Watcher(
                dict(_STORES), tuple(op for op in _WATCHED if op >= 0), ops,
                _STORING_OBJECTS, _MOVING_OBJECTS, tuple(TRACED), _PACKAGE, self,
            )  # fmt: skip
            self.decide = self.native.decide  # type: ignore[method-assign]

    # the recorder's decide() in scoped mode
    def decide(self, step: int, frame: FrameType | None) -> None:
        if frame is None:
            return
        branch = frame.f_lasti
        if self.native is not None:
            self.native.push(frame, branch, scope_end(frame.f_code, branch), step)
            return
        entries = self.scopes.setdefault(id(frame), [])
        for k, entry in enumerate(entries):
            if entry.branch == branch:  # taken again: replaces that instance and its inside
                self.live -= len(entries) - k
                del entries[k:]
                break
        entries.append(Scope(branch, scope_end(frame.f_code, branch), step))
        self.live += 1
        self._watch(frame)

    def _watch(self, frame: FrameType) -> None:
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        frame.f_trace = self.tracer
        if not self.on:
            self.on = True
            sys.settrace(self.calls)

    def calls(self, frame: FrameType, event: str, arg: Any) -> Any:
        """The global trace function: a call made while a decision is in force is watched
        (not serialscale's own: the recorder's code stores values too)."""
        if event == "call" and self.live:
            # not serialscale's code, nor what it calls (dis, a key function called by the
            # recorded sorted): the nearest frame that is watched or serialscale's decides
            f: FrameType | None = frame
            while f is not None and f.f_trace is not self.tracer:
                own = self.own.get(f.f_code)
                if own is None:
                    own = self.own[f.f_code] = f.f_code.co_filename.startswith(_PACKAGE)
                if own:
                    return None
                f = f.f_back
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
            return self.tracer
        return None

    def in_force(self, frame: FrameType) -> list[int]:
        """The steps behind the decisions in force for code running in ``frame``: its own
        and its callers'."""
        out: list[int] = []
        scopes = self.scopes
        f: FrameType | None = frame
        while f is not None:
            entries = scopes.get(id(f))
            if entries:
                out.extend(e.step for e in entries if e.step >= 0)
            f = f.f_back
        return out

    def _select(self, value: Any, needs: list[int], frame: FrameType,
                what: str = "stored in a branch") -> Any:  # fmt: skip
        """``value`` as chosen by these steps: a zero-cost select step needing them and the
        value's own; a plain number becomes traced, other plain values stay as they are."""
        if type(value) in TRACED or isinstance(value, Traced):  # a traced array keeps its kind
            own = [value.node] if value.node >= 0 else []
            return type(value)(value.value, self.rec.named("select", [*own, *needs], 0))
        if type(value) is not bool and kind_of(value) is Traced:
            return Traced(value, self.rec.named("select", needs, 0))
        # A bool stays the singleton it is (code tests flags with `is`), a container or
        # None stays what it is: what depended on the decisions is lost there, an escape.
        self.rec.escapes += 1
        self.rec.escaped(f"{type(value).__name__} {what} (kept plain)", frame)
        return value

    def _after_read(self, value: Any, index_steps: list[int], frame: FrameType) -> Any:
        """What was read at traced positions (``index_steps``; first ``_SLICED`` for a
        slice), as chosen by them: the item selected, a slice's items selected one by one
        (a new list or tuple), other slices as they are."""
        if index_steps[0] == _SLICED:
            if type(value) not in (list, tuple):
                return value
            needs = index_steps[1:]
            items = [v if v is None or type(v) is bool or
                     (type(v) not in TRACED and kind_of(v) is not Traced)
                     else self._select(v, needs, frame) for v in value]  # fmt: skip
            return type(value)(items)
        return self._select(value, index_steps, frame, "read at a traced index")

    @staticmethod
    def _plain_index(value: Any) -> tuple[Any, list[int]]:
        return _plain_index(value)

    @staticmethod
    def _ends(code: CodeType) -> dict[int, int]:
        return scope_ends(code)

    def _moved(self, frame: FrameType) -> None:
        """A builtin method moved values in a container in a branch: not seen, an escape."""
        self.rec.escapes += 1
        self.rec.escaped("a list changed by pop/remove/extend in a branch", frame)

    def _view(self, frame: FrameType) -> _View:
        view = self.views.get(id(frame))
        if view is None:
            view = self.views[id(frame)] = self.stack.view(frame)
        return view

    def local(self, frame: FrameType, event: str, arg: Any) -> Any:
        """The per-frame trace function: opcode events in watched frames."""
        if event != "opcode":
            if event in ("return", "exception"):  # the call's scopes end
                key = id(frame)
                entries = self.scopes.pop(key, None)
                if entries:
                    self.live -= len(entries)
                self.reads.pop(key, None)
                if event == "return":
                    self.views.pop(key, None)
            return self.tracer
        key = id(frame)
        if self.reads:
            index_steps = self.reads.pop(key, None)
            if index_steps:  # the item just read depends on the position chosen
                view = self._view(frame)
                value = view.peek(1)
                new = self._after_read(value, index_steps, frame)
                if new is not value:
                    view.poke(1, new)
        entries = self.scopes.get(key)
        lasti = frame.f_lasti
        if entries:
            self._end_scopes(frame, entries, lasti)
        code = frame.f_code
        ops = self.code_bytes.get(code)
        if ops is None:
            ops = self.code_bytes[code] = code.co_code
        op = ops[lasti]
        if op not in _WATCHED:
            return self.tracer
        if op in _READS:
            self._index(frame, key, op)
            return self.tracer
        if not self.live:
            return self.tracer
        position = _STORES.get(op)
        if op == _CALL:
            count = ops[lasti + 1]  # the call's argument count
            method = self._view(frame).address(count + 2) if count <= 2 else 0
            if count in (1, 2) and method in _STORING_METHODS:
                position = 1  # xs.append(v), xs.insert(i, v): v is stored
            elif method in _MOVING_METHODS:  # values move without a store: not seen
                self._moved(frame)
        if position is not None:
            needs = self.in_force(frame)
            view = self._view(frame)
            if op == _STORE_SUBSCR:
                plain, steps = _plain_index(view.peek(1))
                if steps:
                    view.poke(1, plain)
                    needs = [*needs, *steps]
            if needs:
                view.poke(position, self._select(view.peek(position), needs, frame))
        return self.tracer

    def _end_scopes(self, frame: FrameType, entries: list[Scope], lasti: int) -> None:
        if entries[-1].depth is None:  # the first instruction after a branch
            depth = self._view(frame).depth()
            for entry in entries:
                if entry.depth is None:
                    entry.depth = depth
        for k, entry in enumerate(entries):
            if entry.end == lasti:
                ended = entries[k:]
                del entries[k:]
                self.live -= len(ended)
                # values made inside the scope and still on the stack where it ends (a
                # conditional expression's) were chosen by its decisions
                view = self._view(frame)
                low = min(e.depth for e in ended if e.depth is not None)
                needs = [e.step for e in ended if e.step >= 0]
                if needs:
                    for position in range(1, view.depth() - low + 1):
                        if view.address(position):  # not a call's NULL
                            view.poke(position, self._select(view.peek(position), needs, frame))
                return

    def _index(self, frame: FrameType, key: int, op: int) -> None:
        """A read ``a[i]`` or ``a[i:j]`` with traced numbers as the index: the index is used
        as its value, and the item read will need its step (next event)."""
        view = self._view(frame)
        steps: list[int] = []
        if op == _BINARY_SUBSCR:
            plain, steps = _plain_index(view.peek(1))
            if steps and type(view.peek(2)) not in TRACED:
                view.poke(1, plain)
            else:
                steps = []
        else:  # BINARY_SLICE: container, start, stop
            for position in (1, 2):
                plain, found = _plain_index(view.peek(position))
                if found:
                    view.poke(position, plain)
                    steps += found
        kept = [s for s in steps if s >= 0]
        if kept:
            sliced = type(plain) is slice or op == _BINARY_SLICE
            self.reads[key] = [_SLICED, *kept] if sliced else kept

    def stop(self) -> None:
        """Watching ends (the run is over): tracing off, every scope gone."""
        if self.native is not None:
            self.native.stop()
        if self.on:
            sys.settrace(None)
            self.on = False
        self.scopes.clear()
        self.reads.clear()
        self.views.clear()
        self.live = 0


@contextmanager
def watching_scopes(recorder: Recorder, compiled: bool | None = None) -> Iterator[ScopeWatch]:
    """The scoped mode's watcher for the duration of a traced run (refused under another
    trace function: a debugger or coverage keeps its place)."""
    if sys.gettrace() is not None:
        raise ScopedUnavailable(
            "--control scoped cannot run under another trace function (a debugger, coverage)"
        )
    watch = ScopeWatch(recorder, compiled)
    try:
        yield watch
    finally:
        watch.stop()
