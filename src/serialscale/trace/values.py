"""Traced values: a concrete value plus the step that produced it.

Every arithmetic, comparison, bitwise or unary operation with at least one traced operand is
recorded as one step of cost 1 and returns a new traced value. Branching on a traced value
(``bool()``) counts a control decision; converting it to a plain ``int``/``float``/index counts
an escape (the dependency is lost there).

The binary operators and comparisons, the hot path of tracing, live in a base class: the
compiled ``_tape.Value`` when it was built, else :class:`PyValue`; they record the same steps.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from .. import accel
from .recorder import COMPILED, FLUSH_STEPS, NO_STEP, Recorder

#: The recorder of the innermost traced run in this thread or task (``None`` outside one): a
#: ContextVar, so traces in two threads (or two asyncio tasks) never record into each other.
_active: ContextVar[Recorder | None] = ContextVar("serialscale_recorder", default=None)


def current() -> Recorder | None:
    """The recorder of the innermost traced run, or ``None`` outside one."""
    return _active.get()


class PyValue:
    """The pure-Python base of :class:`Traced`: its value, its step, its truth and (set up
    below) the binary operators and comparisons, as the compiled ``_tape.Value`` has them.
    """

    __slots__ = ("node", "value")
    value: Any
    node: int

    def __bool__(self) -> bool:
        """A branch on a traced value: counted, and in the frame and strict modes a need of
        what follows (the recorder's ``decide``); not one when a watched sort tests its own
        comparisons (``quiet_frame``); an escape when made inside a call or by ``not`` /
        ``bool()`` (the recorder's ``is_branch``)."""
        rec = current()
        if rec is not None and not rec.paused:
            rec.truth_test(self.node, _getframe(1))
        return bool(self.value)


if TYPE_CHECKING:
    ValueBase = PyValue
else:  # the compiled value (serialscale.accel._tape) when the compiled tape is in use
    ValueBase = accel.tracer_part("tape", "Value", PyValue)


class Traced(ValueBase):
    """A value whose operations are recorded. Behaves like the value it carries.

    A traced number has no container methods (``hasattr(x, "__iter__")``, ``len(x)`` and
    ``isinstance(x, collections.abc.Iterable)`` answer as for the number); other values (a
    task's result, a list) are :class:`TracedItems`, which index and iterate.
    ``Traced(value, node)`` picks the class by the value.
    """

    __slots__ = ()

    def __new__(cls, value: Any = None, node: int = NO_STEP) -> Traced:
        return _new(kind_of(value) if cls is Traced else cls)

    def __init__(self, value: Any, node: int = NO_STEP) -> None:
        self.value = value
        self.node = node

    # What the plain run would show: a traced run never changes a result, and a function may
    # return str(x) or "%s" % x. type(x) still tells a traced value apart.
    def __repr__(self) -> str:
        return repr(self.value)

    def __str__(self) -> str:
        return str(self.value)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        """The carried value's class: ``isinstance(x, float)``, ``isinstance(x > y, bool)``,
        ``case bool():`` and the ``numbers`` ABCs answer as for the plain value (``type(x)``
        is still the traced class)."""
        return type(self.value)

    def __reduce__(self) -> tuple[type[Traced], tuple[Any, int]]:
        # Spelled out: pickle and copy cannot see the compiled base's fields by themselves.
        return Traced, (self.value, self.node)

    def _escape(self, kind: str) -> None:
        rec = current()
        if rec is not None and not rec.paused:
            rec.escapes += 1
            rec.escaped(kind, _getframe(2))

    def __int__(self) -> int:
        self._escape("int()")
        return int(self.value)

    def __float__(self) -> float:
        self._escape("float()")
        return float(self.value)

    def __complex__(self) -> complex:
        self._escape("complex()")
        return complex(self.value)

    def __index__(self) -> int:
        self._escape("use as an index or in range()")
        return operator.index(self.value)

    def __hash__(self) -> int:
        self._escape("hashing")
        return hash(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __getattr__(self, name: str) -> Any:
        """An attribute of the number (``real``, ``numerator``...) is one recorded step; a
        method (``as_integer_ratio()``, ``bit_length()``) is one recorded step when it
        returns numbers, an escape (counted, named) when it returns anything else
        (``hex()``: a string)."""
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self.value, name)
        rec = current()
        if rec is None or rec.paused:
            return attribute
        if callable(attribute):
            return _recorded_method(name, attribute, self.node)
        return _derived(rec, name, attribute, [self.node], _getframe(1))


class TracedItems(Traced):
    """A traced value that is not a number (a task's result, a list, a string): indexing,
    iterating or reading an attribute of it gives traced values made by the same step."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Traced:
        return Traced(self.value[key], self.node)

    def __iter__(self) -> Iterator[Traced]:
        node = self.node
        return (Traced(item, node) for item in self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __getattr__(self, name: str) -> Any:
        """An attribute that is a number is a traced value made by the same step (as an
        item is); a method's number result too. Anything else is the plain value, an
        escape (counted, named): a traced container handed to other libraries would break
        them (``np.zeros(result.shape)``)."""
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self.value, name)
        node = self.node
        if not callable(attribute):
            return _projected(name, attribute, node, _getframe(1))

        def method(*args: Any, **kwargs: Any) -> Any:
            return _projected(f"{name}()", attribute(*args, **kwargs), node, _getframe(1))

        return method


def _projected(name: str, value: Any, node: int, frame: Any) -> Any:
    """``value`` read from a traced container made by step ``node``: a number is traced
    with that step; None stays None; anything else is plain, an escape during a run."""
    if value is None:
        return None
    if kind_of(value) is Traced:
        return Traced(value, node)
    rec = current()
    if rec is not None and not rec.paused:
        rec.escapes += 1
        rec.escaped(f".{name}", frame)
    return value


#: Both classes of traced values (``type(x) in TRACED``: cheaper than isinstance).
TRACED = frozenset((Traced, TracedItems))
#: The types whose traced values are numbers without asking (the hot path's common case).
_NUMBER_TYPES = frozenset((int, float, bool, complex))
_KINDS: dict[type, type] = {}


def kind_of(value: Any) -> type:
    """The traced class for ``value``: :class:`Traced` for a number, else
    :class:`TracedItems` (cached by type)."""
    kind = type(value)
    found = _KINDS.get(kind)
    if found is None:
        number = kind in _NUMBER_TYPES or isinstance(value, numbers.Number)
        found = _KINDS[kind] = Traced if number else TracedItems
    return found


def _derived(rec: Recorder, name: str, result: Any, nodes: list[int], frame: Any) -> Any:
    """``result`` of attribute or method ``name`` of traced values (made by ``nodes``): a
    number, or a tuple of numbers, is one step needing theirs; anything else is an escape."""
    parts = result if type(result) is tuple else (result,)
    if not all(type(p) in _NUMBER_TYPES or isinstance(p, numbers.Number) for p in parts):
        if result is not None:
            rec.escapes += 1
            rec.escaped(f".{name}", frame)
        return result
    needs = [n for n in dict.fromkeys(nodes) if n >= 0]
    if len(needs) <= 2:
        x, y = [*needs, NO_STEP, NO_STEP][:2]
        step = rec.binary(name, x, y, frame)
    else:
        step = rec.named(name, needs)
    if type(result) is tuple:
        return tuple(Traced(p, step) for p in result)
    return Traced(result, step)


def _recorded_method(name: str, method: Callable[..., Any], node: int) -> Callable[..., Any]:
    """A traced number's method: called on plain arguments, its result made by one step
    (or an escape, see :func:`_derived`)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        plain = [a.value if type(a) in TRACED else a for a in args]
        result = method(*plain, **kwargs)
        rec = current()
        if rec is None or rec.paused:
            return result
        nodes = [node, *(a.node for a in args if type(a) in TRACED)]
        return _derived(rec, name, result, nodes, _getframe(1))

    call.__name__ = name
    return call


_new = ValueBase.__new__  # object.__new__, or the compiled base's: no __init__ call
_getframe = sys._getframe


def _binary(
    name: str, fn: Callable[[Any, Any], Any], compare: bool = False
) -> tuple[Callable, Callable]:
    # The hot path of tracing. The common case of Recorder.binary is inlined here (a known
    # call site, no control dependence): one dictionary lookup and one list extend per
    # operation; the result is built with object.__new__ instead of calling Traced.__init__.
    # A comparison in code that tests bools by identity may give its plain result
    # (Recorder.hands_plain), as the compiled tape's record() does.
    def forward(self: Traced, other: Any) -> Any:
        if type(other) in TRACED:
            value = fn(self.value, other.value)
            y = other.node
        else:
            value = fn(self.value, other)
            y = NO_STEP
        rec = current()
        if rec is None or rec.paused:
            return value
        frame = _getframe(1)
        x = self.node
        if compare and rec.hands_plain(frame):
            rec.plain_comparison(name, x, y, frame)
            return value
        site = rec.sites.get((name, id(frame.f_code), frame.f_lasti))
        if site is None:
            step = rec.binary(name, x, y, frame)
        elif rec.decision >= 0:  # a control need, as the compiled tape finds it
            if rec.ctl_any or rec.ctl_frame is frame:
                step = rec.push(site, x, y, rec.ctl_step)
            else:
                step = rec.binary(name, x, y, frame)
        else:
            if x < 0:
                x, y = y, NO_STEP
            elif x == y:
                y = NO_STEP
            pending = rec.pending
            pending += (site, x, y, NO_STEP)
            step = rec.count
            rec.count = step + 1
            if len(pending) >= FLUSH_STEPS * 4:
                rec.flush()
        out: Traced = _new(Traced if type(value) in _NUMBER_TYPES else kind_of(value))
        out.value = value
        out.node = step
        return out

    def reflected(self: Traced, other: Any) -> Any:
        return _one_step(name, fn(other, self.value), self.node)

    return forward, reflected


def _one_step(name: str, value: Any, node: int) -> Any:
    """``value`` as made by operation ``name`` on the value of step ``node`` (the only traced
    operand): a new step when a recorder is on, else ``value`` itself."""
    rec = current()
    if rec is None or rec.paused:
        return value
    out: Traced = _new(kind_of(value))
    out.value = value
    # the user's frame: 0 is this function, 1 the operator method that called it
    out.node = rec.binary(name, node, NO_STEP, _getframe(2))
    return out


def _unary(name: str, fn: Callable[[Any], Any]) -> Callable:
    def method(self: Traced) -> Any:
        return _one_step(name, fn(self.value), self.node)

    return method


_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "pow": operator.pow, "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "lshift": operator.lshift, "rshift": operator.rshift, "matmul": operator.matmul,
}  # fmt: skip
#: The comparisons, by the operation names their steps carry (``lt@file:line``).
COMPARISONS = {
    "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "eq": operator.eq, "ne": operator.ne,
}  # fmt: skip


def _setup(traced: type, active: ContextVar[Recorder | None], kind: Callable[[Any], type]) -> None:
    """The pure twin of the compiled tape's ``setup`` (which registers where its operators
    put results and find recorders): the binary operators and comparisons, in Python, on
    :class:`PyValue` (they find both through this module)."""
    if not (isinstance(traced, type) and issubclass(traced, PyValue)):
        raise TypeError("setup: the traced type must derive from Value")
    if not callable(kind):
        raise TypeError("setup: kind_of must be callable")
    for name, fn in _BINARY.items():
        forward, reflected = _binary(name, fn)
        setattr(PyValue, f"__{name}__", forward)
        setattr(PyValue, f"__r{name}__", reflected)
    for name, fn in COMPARISONS.items():
        setattr(PyValue, f"__{name}__", _binary(name, fn, compare=True)[0])


accel.tracer_part("tape", "setup", _setup)(Traced, _active, kind_of)

_UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert,
    "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc,
}  # fmt: skip
#: The unary operators the compiled base implements (the same steps as _unary records).
_COMPILED_UNARY = frozenset(("neg", "pos", "abs", "invert"))
for _name, _one in _UNARY.items():
    if not (COMPILED and _name in _COMPILED_UNARY):
        setattr(Traced, f"__{_name}__", _unary(_name, _one))


def _divmod(self: Traced, other: Any) -> Any:
    rec = current()
    other_value, other_node = (other.value, other.node) if type(other) in TRACED else (other, -1)
    q, r = divmod(self.value, other_value)
    if rec is None or rec.paused:
        return q, r
    step = rec.binary("divmod", self.node, other_node)
    return Traced(q, step), Traced(r, step)


def _rdivmod(self: Traced, other: Any) -> Any:
    rec = current()
    q, r = divmod(other, self.value)
    if rec is None or rec.paused:
        return q, r
    step = rec.binary("divmod", self.node, NO_STEP)
    return Traced(q, step), Traced(r, step)


def _round(self: Traced, ndigits: Any = None) -> Any:
    rec = current()
    value = round(self.value) if ndigits is None else round(self.value, ndigits)
    if rec is None or rec.paused:
        return value
    return Traced(value, rec.binary("round", self.node, NO_STEP))


setattr(Traced, "__divmod__", _divmod)  # noqa: B010 (set after the class, like the rest)
setattr(Traced, "__rdivmod__", _rdivmod)  # noqa: B010
setattr(Traced, "__round__", _round)  # noqa: B010

#: numpy's ufuncs on arrays of dtype=object call the method of the ufunc's name on each
#: element (``np.sqrt`` calls ``x.sqrt()``): these route to the recorded functions of
#: :mod:`math` (patched during a traced run, see trace/mathlib.py), one step per element.
NUMPY_METHODS = {
    "sqrt": "sqrt", "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log",
    "log2": "log2", "log10": "log10", "log1p": "log1p", "sin": "sin", "cos": "cos",
    "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "cbrt": "cbrt", "arctan2": "atan2", "hypot": "hypot",
}  # fmt: skip


def _numpy_method(name: str, math_name: str) -> Callable[..., Any]:
    def method(self: Traced, *others: Any) -> Any:
        own = getattr(type(self.value), name, None)
        if own is None:
            return getattr(math, math_name)(self, *others)  # the recorded one while tracing
        # The value's own method (Decimal.sqrt...), as before: one step.
        plain = [o.value if type(o) in TRACED else o for o in others]
        result = own(self.value, *plain)
        rec = current()
        if rec is None or rec.paused:
            return result
        nodes = [self.node, *(o.node for o in others if type(o) in TRACED)]
        return Traced(result, rec.named(name, [n for n in nodes if n >= 0]))

    method.__name__ = name
    method.__doc__ = f"math.{math_name} of this value (what numpy's {name} calls on objects)."
    return method


for _name, _math_name in NUMPY_METHODS.items():
    if hasattr(math, _math_name):
        setattr(Traced, _name, _numpy_method(_name, _math_name))
