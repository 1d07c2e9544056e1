"""Tracing numpy programs at the level of array operations, with a work–span cost model.

``serialscale.input(ndarray)`` returns a :class:`TracedArray`. Every numpy operation on it
(through ``__array_ufunc__`` and ``__array_function__``, operators, methods, indexing) runs on
the plain arrays, returns the same result wrapped again, and records **one step** whose cost is
the operation's *work* (element operations) and whose span is its own parallel depth, as in the
work–span model of parallel algorithms (Blelloch's NESL; Cilk's work and span). The depth of
the recorded graph is then the longest path of spans
(:meth:`serialscale.core.graph.Graph.depth_graph`).

The cost table (``n``: elements of the input, ``out``: elements of the result, ``k``: elements
combined into each result; ``⌈log₂⌉`` rounded up; every operation that touches an element has
work >= 1 and ``1 <= span <= work``):

======================================== ============================= ========================
operation                                work                          span
======================================== ============================= ========================
elementwise ufuncs, broadcasting,        ``out``                       1
``where``, ``clip``, ``astype``
reductions (``sum``, ``prod``, ``max``,  ``n``                         ``⌈log₂ k⌉``
``min``, ``mean``, ``any``, ``all``,
``argmax``, ``argmin``, ``ufunc.reduce``)
``std``, ``var``                         ``3n`` (mean, squares, sum)   ``2⌈log₂ k⌉ + 1``
scans (``cumsum``, ``cumprod``,          ``2n``                        ``2⌈log₂ k⌉``
``ufunc.accumulate``)
``matmul`` / ``@``, ``dot``, ``inner``,  multiply-adds                 ``⌈log₂ k⌉ + 1``
``tensordot``, ``einsum``, ``outer``     (``out · k``)                 (``k``: inner size)
``sort``, ``argsort``                    ``n⌈log₂ k⌉``                 ``⌈log₂ k⌉²``
                                         (``k``: length sorted)        (bitonic network)
indexing, slicing, assignment,           elements moved (``out``;      1
``reshape``, ``transpose``,              assignment: the elements
``concatenate``, ``stack``, ``roll``...  written)
``linalg.cholesky`` (``POTRF``)          ``n³/3``                      ``n(⌈log₂ n⌉ + 2)``
``linalg.solve`` (``GESV``)              ``2n³/3 + 2n²·r``             ``n(⌈log₂ n⌉ + 2) + 2n``
``linalg.inv`` (``GETRF`` + ``GETRI``)   ``2n³``                       ``2n(⌈log₂ n⌉ + 2)``
``linalg.det``, ``slogdet`` (``GETRF``)  ``2n³/3``                     ``n(⌈log₂ n⌉ + 2)``
``linalg.qr`` (``GEQRF``, m×n)           ``2mn² − 2n³/3``              ``n(⌈log₂ m⌉ + 2)``
anything else                            ``out`` (noted by name)       ``out``
======================================== ============================= ========================

The linear-algebra rows follow LAPACK's blocked right-looking algorithms (LAPACK Users'
Guide, 3rd ed., §3.4.2; flop counts from Golub & Van Loan, *Matrix Computations*, 4th ed.,
§3.2.6, §4.2.6, §5.2.2): the blocked loop visits its ``n / nb`` panels in order and each panel
factorisation its ``nb`` columns in order, so the columns are ``n`` serial rounds, each a
reduction over a column (the pivot search or the dot products: ``⌈log₂ n⌉``), a scaling and
a rank-``nb`` update (one round each in the work–span model). ``r``: right-hand sides;
``solve``'s two triangular solves add ``2n`` rounds; stacks of matrices multiply the work,
not the span.

Shape-only constructors (``zeros_like``, ``ones_like``, ``empty_like``, ``shape``...) read no
values: their results are new inputs, not steps. Metadata (``.shape``, ``.dtype``, ``len()``)
is plain. Reading a value out as a Python number (``float(a[0])``, ``.item()``,
``.tolist()``, ``np.asarray(traced)``) is an **escape**, counted and named like the scalar
tracer's; so is a write into a view (other views of the same memory would not see it). A
truth test (``if x.max() > t``) is a branch on a traced value, as for traced numbers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from .recorder import NO_STEP, Recorder
from .values import TRACED, Traced, _new, current

_getframe = sys._getframe
_SKIP = (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
    os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
)


def log2_up(k: int) -> int:
    """``⌈log₂ k⌉`` (0 for ``k <= 1``)."""
    return (int(k) - 1).bit_length() if k > 1 else 0


def _user_frame() -> FrameType:
    """The innermost frame outside serialscale and numpy: the user's line."""
    frame = _getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_SKIP):
        frame = frame.f_back
    return frame


def _size(x: Any) -> int:
    return int(np.size(x))


def clamp(work: float, span: float, touched: int = 0) -> tuple[int, int]:
    """Work and span as whole numbers: an operation that touches anything (``work > 0`` or
    ``touched`` elements) does at least one operation in at least one round, and no more
    rounds than operations."""
    w = _hi(1, _ceil(work)) if work > 0 or touched > 0 else 0
    s = _lo(w, _hi(1, _ceil(span))) if w else 0
    return w, s


# During a traced run, builtins.max/min/sum and the math module are the recorded versions
# (trace/mathlib.py, trace/selection.py), slower on plain numbers: the cost rules use these.
def _hi(a: Any, b: Any) -> Any:
    return a if a >= b else b


def _lo(a: Any, b: Any) -> Any:
    return a if a <= b else b


def _ceil(x: float) -> int:
    whole = int(x)
    return whole + 1 if whole < x else whole


def _product(values: Any) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out


# The table, by name. Each entry: (plain inputs, plain result) -> (work, span).
Rule = Callable[[tuple[Any, ...], dict[str, Any], Any], tuple[float, float]]


def _elementwise(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    return _out_size(out), 1


def _out_size(out: Any) -> int:
    if isinstance(out, (tuple, list)):
        largest = 0
        for o in out:
            largest = _hi(largest, _size(o))
        return largest
    return _size(out)


def _reduction(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n = _size(args[0]) if args else 0
    k = n // _hi(1, _out_size(out))
    return n, log2_up(k)


def _two_pass(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n = _size(args[0]) if args else 0
    k = n // _hi(1, _out_size(out))
    return 3 * n, 2 * log2_up(k) + 1


def _along(args: tuple[Any, ...], kwargs: dict[str, Any], default: int | None) -> int:
    """Elements along the axis an operation runs on (all of them for ``axis=None``)."""
    a = np.asarray(args[0]) if args else np.zeros(0)
    axis = kwargs.get("axis", args[1] if len(args) > 1 and not isinstance(args[1], str) else
                      default)  # fmt: skip
    if axis is None or a.ndim == 0:
        return int(a.size)
    try:
        return int(a.shape[int(axis)])
    except (TypeError, IndexError, ValueError):
        return int(a.size)


def _scan(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n = _size(args[0]) if args else 0
    k = _along(args, kwargs, None)
    return 2 * n, 2 * log2_up(k)


def _sort(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n = _size(args[0]) if args else 0
    k = _along(args, kwargs, -1)
    return n * log2_up(k), log2_up(k) ** 2


def _contraction(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    """Matrix products: ``k`` is found from sizes (``a · b = out · k²`` for one contraction
    of free parts), which holds for matmul, dot, inner, outer and tensordot."""
    a, b = (np.asarray(x) for x in args[:2])
    o = _hi(1, _size(out))
    if a.ndim >= 1 and b.ndim >= 1 and (a.ndim > 2 or b.ndim > 2):
        k = a.shape[-1]  # matmul/dot of stacks: the last axis of a is contracted
    elif a.ndim == 0 or b.ndim == 0:
        k = 1
    else:
        k = _hi(1, int((a.size * b.size / o) ** 0.5 + 0.5))
    return o * k, log2_up(k) + 1


def _einsum(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    spec = args[0] if args and isinstance(args[0], str) else None
    if spec is None:
        return _size(out), _size(out)
    operands = [np.asarray(x) for x in args[1:]]
    inputs, _, output = spec.replace(" ", "").partition("->")
    sizes: dict[str, int] = {}
    for letters, op in zip(inputs.split(","), operands, strict=False):
        for letter, dim in zip(letters.replace("...", ""), op.shape[-len(letters):]
                               if letters else (), strict=False):  # fmt: skip
            sizes[letter] = dim
    if "->" not in spec:
        counts: dict[str, int] = {}
        for letter in inputs.replace(",", ""):
            counts[letter] = counts.get(letter, 0) + 1
        output = "".join(sorted(x for x, c in counts.items() if c == 1))
    k = _product(d for x, d in sizes.items() if x not in output)
    return _hi(1, _size(out)) * k, log2_up(k) + 1


def _matrix_n(args: tuple[Any, ...]) -> tuple[int, int, int]:
    """(rows, columns, matrices in the stack) of the first argument."""
    a = np.asarray(args[0])
    if a.ndim < 2:
        return 1, 1, 1
    return a.shape[-2], a.shape[-1], _product(a.shape[:-2])


def _cholesky(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n, _, stack = _matrix_n(args)
    return stack * n**3 / 3, n * (log2_up(n) + 2)


def _solve(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n, _, stack = _matrix_n(args)
    rhs = _hi(1, _size(out) // _hi(1, n * stack))
    return stack * (2 * n**3 / 3 + 2 * n**2 * rhs), n * (log2_up(n) + 2) + 2 * n


def _inv(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n, _, stack = _matrix_n(args)
    return stack * 2 * n**3, 2 * n * (log2_up(n) + 2)


def _lu(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n, _, stack = _matrix_n(args)
    return stack * 2 * n**3 / 3, n * (log2_up(n) + 2)


def _qr(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    m, n, stack = _matrix_n(args)
    n = _lo(m, n)
    return stack * (2 * m * n**2 - 2 * n**3 / 3), n * (log2_up(m) + 2)


def _moved(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    return _out_size(out), 1


def _norm(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> tuple[float, float]:
    n = _size(args[0]) if args else 0
    k = n // _hi(1, _out_size(out))
    return 2 * n, log2_up(k) + 2  # squares, a sum, a square root


_REDUCTIONS = ("sum", "prod", "max", "min", "amax", "amin", "mean", "any", "all", "argmax",
               "argmin", "nansum", "nanprod", "nanmax", "nanmin", "nanmean", "average",
               "count_nonzero", "ptp", "trace")  # fmt: skip
_MOVES = ("reshape", "transpose", "concatenate", "stack", "vstack", "hstack", "dstack",
          "column_stack", "ravel", "squeeze", "expand_dims", "swapaxes", "moveaxis", "flip",
          "fliplr", "flipud", "roll", "rot90", "take", "take_along_axis", "repeat", "tile",
          "broadcast_to", "broadcast_arrays", "atleast_1d", "atleast_2d", "atleast_3d", "split",
          "array_split", "hsplit", "vsplit", "pad", "copy", "diag", "diagonal", "triu", "tril",
          "put_along_axis", "append", "insert", "delete", "compress", "extract", "choose",
          "select", "block", "resize", "asarray", "asanyarray", "ascontiguousarray",
          "matrix_transpose", "permute_dims", "concat", "unstack", "copyto", "place",
          "putmask", "put", "fill_diagonal")  # fmt: skip
_ELEMENTWISE = ("where", "clip", "round", "around", "nan_to_num", "isclose", "real", "imag",
                "angle", "fix", "real_if_close", "sinc", "i0", "heaviside",
                "astype")  # fmt: skip
_SCANS = ("cumsum", "cumprod", "nancumsum", "nancumprod", "cumulative_sum", "cumulative_prod")
_CONTRACTIONS = ("matmul", "dot", "inner", "outer", "tensordot", "vdot", "vecdot", "matvec",
                 "vecmat")  # fmt: skip
#: The cost table: numpy function name -> rule.
TABLE: dict[str, Rule] = {
    **dict.fromkeys(_REDUCTIONS, _reduction),
    **dict.fromkeys(("std", "var", "nanstd", "nanvar"), _two_pass),
    **dict.fromkeys(_SCANS, _scan),
    **dict.fromkeys(_CONTRACTIONS, _contraction),
    "einsum": _einsum,
    **dict.fromkeys(("sort", "argsort", "msort"), _sort),
    **dict.fromkeys(_MOVES, _moved),
    **dict.fromkeys(_ELEMENTWISE, _elementwise),
    "cholesky": _cholesky,
    "solve": _solve,
    "inv": _inv,
    "det": _lu,
    "slogdet": _lu,
    "qr": _qr,
    "norm": _norm,
}
#: Functions whose result depends only on the shape of their array arguments: new inputs.
SHAPE_ONLY = frozenset(("zeros_like", "ones_like", "empty_like", "full_like", "shape",
                        "ndim", "size", "result_type", "can_cast", "min_scalar_type",
                        "may_share_memory", "shares_memory"))  # fmt: skip
#: numpy's linear-algebra functions, told apart from same-named top-level ones (``norm``).
_LINALG = frozenset(("cholesky", "solve", "inv", "det", "slogdet", "qr", "norm"))


def cost_of(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any,
            linalg: bool = False) -> tuple[int, int, bool]:  # fmt: skip
    """``(work, span, known)`` of numpy operation ``name`` on the plain ``args`` giving
    ``out`` (module docstring); not ``known``: not in the table, work = span = ``out``'s
    size."""
    rule = TABLE.get(name)
    if rule is not None and (name not in _LINALG or linalg or name == "norm"):
        work, span = rule(args, kwargs, out)
        return (*clamp(work, span, _out_size(out)), True)
    size = _out_size(out)
    return (*clamp(size, size), False)


def _ufunc_cost(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any],
                out: Any) -> tuple[int, int, bool]:  # fmt: skip
    """Work and span of ``ufunc.method`` (``__call__``: elementwise, matmul: a product)."""
    if ufunc.__name__ in ("matmul", "vecdot", "matvec", "vecmat") and method == "__call__":
        return (*clamp(*_contraction(inputs, kwargs, out)), True)
    if method == "__call__" or method == "outer" or method == "at":
        return (*clamp(*_elementwise(inputs, kwargs, out)), True)
    if method == "reduce":
        return (*clamp(*_reduction(inputs, kwargs, out), _out_size(out)), True)
    if method == "accumulate":
        return (*clamp(*_scan(inputs, kwargs, out), _out_size(out)), True)
    if method == "reduceat":
        n = _size(inputs[0]) if inputs else 0
        return (*clamp(n, log2_up(n)), True)
    size = _out_size(out)
    return (*clamp(size, size), False)


def _unwrap(obj: Any, nodes: list[int]) -> Any:
    """``obj`` with traced arrays and numbers replaced by their values (in lists, tuples and
    dicts too); the steps behind them appended to ``nodes``."""
    kind = type(obj)
    if kind is TracedArray or kind in TRACED:
        nodes.append(obj.node)
        return obj.value
    if kind in (list, tuple):
        return kind(_unwrap(x, nodes) for x in obj)
    if kind is dict:
        return {k: _unwrap(v, nodes) for k, v in obj.items()}
    return obj


def _plain_of(x: Any) -> Any:
    return x.value if isinstance(x, Traced) else x


def _wrap(value: Any, step: int) -> Any:
    """Results of a recorded operation: arrays and numpy scalars traced with ``step``
    (tuples and lists of them too); anything else as it is."""
    if isinstance(value, (np.ndarray, np.generic)):
        return TracedArray(value, step)
    if type(value) in (tuple, list):
        return type(value)(_wrap(v, step) for v in value)
    if type(value).__name__ in ("EighResult", "QRResult", "SlogdetResult", "SVDResult",
                                "EigResult", "LstsqResult"):  # fmt: skip
        return type(value)(*(_wrap(v, step) for v in value))
    return value


def record(rec: Recorder, name: str, needs: list[int], work: int, span: int,
           frame: FrameType) -> int:  # fmt: skip
    """Record one array operation: a step labelled ``name@file:line`` with its needs, cost
    ``work`` and span ``span``; its step number."""
    if rec.frames:  # frame mode: the decision in force in the user's call
        needs = [*needs, rec._frame_decision(frame)]
    step = rec.push_needs(rec.site_index(name, frame), needs)
    if work != 1:
        rec.costs[step] = work
    if span != work:
        rec.spans[step] = span
    return step


def _elementwise_call(ufunc: Any, inputs: tuple[Any, ...]) -> Any:
    """``ufunc(*inputs)`` with one output and no keywords: work = its size, span 1 (the
    table's first row, as :meth:`TracedArray.__array_ufunc__` computes it, without the
    general path's unwrapping)."""
    nodes: list[int] = []
    plain: list[Any] = []
    for x in inputs:
        if isinstance(x, Traced):
            if x.node >= 0 and x.node not in nodes:
                nodes.append(x.node)
            plain.append(x.value)
        else:
            plain.append(x)
    result = ufunc(*plain)
    rec = current()
    if rec is None or rec.paused:
        return result
    size = result.size if isinstance(result, (np.ndarray, np.generic)) else 1
    step = record(rec, ufunc.__name__, nodes, size, 1 if size else 0, _user_frame())
    return TracedArray(result, step) if isinstance(result, (np.ndarray, np.generic)) else result


def _escape(rec: Recorder | None, kind: str) -> None:
    if rec is not None and not rec.paused:
        rec.escapes += 1
        rec.escaped(kind, _user_frame())


def _view_write(rec: Recorder | None, target: Any) -> None:
    """A write into a view: other views of the same memory keep their old steps."""
    if isinstance(target, np.ndarray) and target.base is not None:
        _escape(rec, "write into a view (views of the same memory do not see it)")


class TracedArray(NDArrayOperatorsMixin, Traced):
    """A numpy array (or numpy scalar) whose operations are recorded as array-level steps.

    ``value`` is the plain array, ``node`` the step that made it (``NO_STEP`` for an input).
    Operators come from :class:`numpy.lib.mixins.NDArrayOperatorsMixin` (they call the ufuncs,
    which come back through :meth:`__array_ufunc__`). A subclass of :class:`Traced`, so that
    ``traced_number * traced_array`` is the array's operation (Python asks a subclass's
    reflected operator first), one array step that needs both.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, like an ndarray

    def __new__(cls, value: Any = None, node: int = NO_STEP) -> TracedArray:
        return _new(cls)

    def __init__(self, value: Any, node: int = NO_STEP) -> None:
        self.value = value
        self.node = node

    def __reduce__(self) -> tuple[type[TracedArray], tuple[Any, int]]:
        return TracedArray, (self.value, self.node)

    def __round__(self, ndigits: Any = None) -> Any:
        return np.round(self, ndigits or 0)

    # -- numpy's protocols ----------------------------------------------------------------

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs and ufunc.nout == 1 \
                and ufunc.__name__ not in _CONTRACTIONS:  # fmt: skip
            return _elementwise_call(ufunc, inputs)  # the common case, quickly
        nodes: list[int] = []
        plain = _unwrap(inputs, nodes)
        out = kwargs.get("out")
        targets: tuple[Any, ...] = ()
        if out is not None:
            targets = tuple(out) if isinstance(out, tuple) else (out,)
            if not all(isinstance(_plain_of(t), np.ndarray) for t in targets):
                # ``total += x`` on a numpy scalar: scalars are immutable, so numpy's own
                # operator makes a new one; so does this (aliases keep the old value)
                del kwargs["out"]
                return self.__array_ufunc__(ufunc, method, *inputs, **kwargs)
            kwargs["out"] = tuple(_unwrap(t, nodes) for t in targets)
        if method == "at":  # in place on the first argument: it is also read
            targets = (inputs[0],)
        plain_kwargs = _unwrap(kwargs, nodes)
        result = getattr(ufunc, method)(*plain, **plain_kwargs)
        rec = current()
        if rec is None or rec.paused:
            return result
        shown = result if method != "at" else plain[0]
        work, span, known = _ufunc_cost(ufunc, method, plain, plain_kwargs, shown)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        step = self._record(rec, name, nodes, work, span, known)
        for t in targets:
            if type(t) is TracedArray:
                _view_write(rec, t.value)
                t.node = step
        if out is not None:
            return targets[0] if len(targets) == 1 else targets
        if method == "at":
            return None
        return _wrap(result, step)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        nodes: list[int] = []
        plain_args = _unwrap(args, nodes)
        plain_kwargs = _unwrap(kwargs, nodes)
        result = func(*plain_args, **plain_kwargs)
        rec = current()
        if rec is None or rec.paused:
            return result
        name = func.__name__
        if name in SHAPE_ONLY:
            return _wrap(result, NO_STEP)
        linalg = "linalg" in (getattr(func, "__module__", "") or "")
        work, span, known = cost_of(name, plain_args, plain_kwargs, result, linalg)
        label = f"linalg.{name}" if linalg else name
        step = self._record(rec, label, nodes, work, span, known)
        if name in ("copyto", "place", "putmask", "put", "fill_diagonal", "put_along_axis"):
            target = args[0] if args else None  # in place: the first argument changed
            if type(target) is TracedArray:
                _view_write(rec, target.value)
                target.node = step
        return _wrap(result, step)

    @staticmethod
    def _record(rec: Recorder, name: str, nodes: list[int], work: int, span: int,
                known: bool) -> int:  # fmt: skip
        if not known:
            rec.unmodelled[name] = rec.unmodelled.get(name, 0) + 1
        needs = [n for n in dict.fromkeys(nodes) if n >= 0]
        return record(rec, name, needs, work, span, _user_frame())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The plain array for code that asks numpy for one (``np.asarray(x)``): an escape."""
        _escape(current(), "np.asarray()")
        value = np.asarray(self.value)
        return value if dtype is None else value.astype(dtype, copy=False)

    # -- values out: escapes and branches ---------------------------------------------------

    def __bool__(self) -> bool:
        """A branch on a traced array value, counted or made a control need as for traced
        numbers (``Traced.__bool__``)."""
        rec = current()
        if rec is not None and not rec.paused:
            rec.truth_test(self.node, _getframe(1))
        return bool(self.value)

    def __float__(self) -> float:
        _escape(current(), "float()")
        return float(self.value)

    def __int__(self) -> int:
        _escape(current(), "int()")
        return int(self.value)

    def __complex__(self) -> complex:
        _escape(current(), "complex()")
        return complex(self.value)

    def __index__(self) -> int:
        _escape(current(), "use as an index or in range()")
        return int(np.asarray(self.value).__index__())

    def item(self, *args: Any) -> Any:
        """The plain Python number: an escape."""
        _escape(current(), ".item()")
        return self.value.item(*args)

    def tolist(self) -> Any:
        """Plain Python numbers: an escape."""
        _escape(current(), ".tolist()")
        return self.value.tolist()

    # -- containers: indexing, assignment, iteration ------------------------------------------

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self.value)):
            yield self[i]

    def __getitem__(self, key: Any) -> Any:
        nodes = [self.node]
        plain_key = _unwrap(key, nodes)
        result = self.value[plain_key]
        rec = current()
        if rec is None or rec.paused:
            return result
        work, span = clamp(_size(result), 1)
        return _wrap(result, self._record(rec, "getitem", nodes, work, span, True))

    def __setitem__(self, key: Any, item: Any) -> None:
        nodes = [self.node]
        plain_key = _unwrap(key, nodes)
        plain_item = _unwrap(item, nodes)
        self.value[plain_key] = plain_item
        rec = current()
        if rec is None or rec.paused:
            return
        _view_write(rec, self.value)
        written = _size(self.value[plain_key])
        work, span = clamp(written, 1)
        self.node = self._record(rec, "setitem", nodes, work, span, True)

    # -- attributes and methods ---------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.value))

    @property
    def dtype(self) -> Any:
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return int(np.ndim(self.value))

    @property
    def size(self) -> int:
        return _size(self.value)

    @property
    def T(self) -> Any:  # numpy's name
        return np.transpose(self)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        """The array converted elementwise: one step (work = elements, span 1)."""
        result = self.value.astype(dtype, *args, **kwargs)
        rec = current()
        if rec is None or rec.paused:
            return result
        work, span = clamp(_size(result), 1)
        return _wrap(result, self._record(rec, "astype", [self.node], work, span, True))

    def __getattr__(self, name: str) -> Any:
        """ndarray methods by numpy's function of that name (``x.sum(axis=0)`` is
        ``np.sum(x, axis=0)``), so they are recorded by the same table; attributes that are
        not methods are read from the value (``itemsize``, ``strides``: metadata)."""
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self.value, name)
        if not callable(attribute):
            return _attribute(self, name, attribute)
        function = _METHODS.get(name)
        if function is not None:

            def method(*args: Any, **kwargs: Any) -> Any:
                return function(self, *args, **kwargs)

            return method
        return _bound_method(self, name, attribute)

    def __repr__(self) -> str:
        return f"TracedArray({self.value!r})"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __copy__(self) -> Any:
        return np.copy(self)

    def __deepcopy__(self, memo: Any) -> Any:
        return np.copy(self)


def _method(name: str) -> Callable[..., Any]:
    """``x.name(...)`` as ``np.name(x, ...)``, looked up at each call (during a traced run
    ``np.max`` and ``np.min`` are trace/native_selection.py's, which hand arrays on)."""

    def call(self: TracedArray, *args: Any, **kwargs: Any) -> Any:
        if name == "reshape" and args and not isinstance(args[0], (tuple, list)) \
                and len(args) > 1:  # fmt: skip
            args = (args,)  # x.reshape(2, 3) is np.reshape(x, (2, 3))
        if name == "transpose" and len(args) > 1:
            args = (args,)
        return getattr(np, name)(self, *args, **kwargs)

    return call


#: ndarray methods that are numpy functions of the same name (dispatched, so recorded).
_METHODS: dict[str, Callable[..., Any]] = {
    name: _method(name)
    for name in ("sum", "prod", "max", "min", "mean", "std", "var", "any", "all", "argmax",
                 "argmin", "cumsum", "cumprod", "dot", "reshape", "transpose", "ravel",
                 "squeeze", "swapaxes", "repeat", "take", "clip", "round", "copy", "diagonal",
                 "trace", "nonzero", "ptp", "argsort", "compress", "conj", "conjugate")
    if hasattr(np, name)
}  # fmt: skip


#: Attributes that describe an array, not its values: plain, never an escape.
_METADATA = (int, float, str, tuple, np.dtype, type(None))


def _attribute(owner: TracedArray, name: str, value: Any) -> Any:
    """A non-method attribute: metadata (``itemsize``, ``strides``, ``flags``) plain; values
    (``real``, ``imag``, ``base``) a recorded move of their elements; anything else
    (``flat``, ``ctypes``) plain, an escape."""
    rec = current()
    if rec is None or rec.paused or isinstance(value, _METADATA) or name == "flags":
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        work, span = clamp(_size(value), 1)
        return _wrap(value, owner._record(rec, f"ndarray.{name}", [owner.node], work, span,
                                          True))  # fmt: skip
    _escape(rec, f".{name}")
    return value


def _bound_method(owner: TracedArray, name: str, attribute: Callable[..., Any]) -> Any:
    """Any other ndarray method (``flatten``, ``fill``, ``sort``...): called on the plain
    array; one step, not in the table (work = span = size), noted by name."""

    def call(*args: Any, **kwargs: Any) -> Any:
        nodes = [owner.node]
        result = attribute(*_unwrap(args, nodes), **_unwrap(kwargs, nodes))
        rec = current()
        if rec is None or rec.paused:
            return result
        label = f"ndarray.{name}"
        if name in ("sort", "fill", "partition", "itemset", "put", "setfield"):  # in place
            rule = "sort" if name in ("sort", "partition") else "copy"  # a write: moved
            work, span, known = cost_of(rule, (owner.value,), kwargs, owner.value)
            _view_write(rec, owner.value)
            owner.node = owner._record(rec, label, nodes, work, span, known)
            return result
        if name == "flatten":
            work, span = clamp(_size(result), 1)
            return _wrap(result, owner._record(rec, label, nodes, work, span, True))
        work, span, known = cost_of("", (owner.value,), kwargs, result)
        return _wrap(result, owner._record(rec, label, nodes, work, span, known))

    return call


def is_array(value: Any) -> bool:
    """Whether ``value`` is a numpy array (or numpy scalar) that :func:`traced` can wrap."""
    return isinstance(value, (np.ndarray, np.generic))


def traced(value: Any, node: int = NO_STEP) -> TracedArray:
    """``value`` (a numpy array) as a traced input (``serialscale.input`` calls this)."""
    return TracedArray(value, node)


def note_lines(rec: Recorder) -> list[str]:
    """The report's notes on array operations: the ones not in the cost table, by name."""
    if not rec.unmodelled:
        return []
    ranked = sorted(rec.unmodelled.items(), key=lambda kv: (-kv[1], kv[0]))
    named = ", ".join(f"{name} ({n}x)" if n > 1 else name for name, n in ranked[:8])
    more = f" and {len(ranked) - 8} more" if len(ranked) > 8 else ""
    return [
        f"{sum(rec.unmodelled.values())} array operations are not in the cost table "
        f"({named}{more}): each was recorded with work = span = its output size, a guess"
    ]


def unmodelled_names(rec: Recorder) -> list[str]:
    """The names of the operations not in the cost table, sorted."""
    return sorted(rec.unmodelled)
