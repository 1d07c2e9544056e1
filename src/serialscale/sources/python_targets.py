"""Traced Python functions as workloads: ``file.py:function`` or ``package.module:function``."""

from __future__ import annotations

import contextlib
import enum
import importlib
import importlib.util
import inspect
import math
import numbers
import re
import sys
import traceback
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..base.defaults import DEFAULT_MAX_OPS
from ..base.errors import Location, WorkloadError, suggest
from ..base.limits import DEFAULT_LIMITS, Limits
from ..base.targets import FUNCTION_TARGET
from ..base.targets import is_python_target as is_python_target  # sources.__init__ asks here
from ..base.words import encodable, plural
from ..core.graph import Graph
from ..core.named_steps import InSource, build_graph
from ..core.workload import Workload
from ..trace.api import run_traced
from ..trace.recorder import CONTROL_MODES, ScopedUnavailable, TooManyOperations

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
_TARGET = FUNCTION_TARGET

#: The ``--control`` mode of a traced function when none is asked for (issue 23): control
#: dependence as written, scoped by post-dominators; ``dataflow`` where it cannot run.
DEFAULT_CONTROL = "scoped"


def load_function(target: str) -> Callable[..., Any]:
    """Import the function that ``target`` names; errors are :class:`WorkloadError`."""
    where = Location(target)
    match = _TARGET.fullmatch(target)
    if match is None:
        raise WorkloadError(
            "name the function to trace: FILE.py:FUNCTION or MODULE:FUNCTION", where
        )
    module_part, func_path = match["where"], match["func"]
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        module = _import_file(Path(module_part), target)
    else:
        module = _import_module(module_part, target)
    obj: Any = module
    for part in func_path.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            raise WorkloadError(
                f"no function '{part}' in {module_part}{suggest(part, names)}", where
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise WorkloadError(f"'{func_path}' is a {type(obj).__name__}, not a function", where)
    return obj


def _import_file(path: Path, target: str) -> Any:
    if not path.is_file():
        raise WorkloadError(f"no such file: {path}", Location(target))
    # A file of a package is imported under its dotted name (its relative imports then
    # work, as with PACKAGE.MODULE:FUNCTION); any other under a name from the path's digest,
    # not hash(): the same on every run (hash() of a str is randomised per process), so
    # messages that name the module are deterministic.
    name = _dotted_name(path)
    if name is None:
        digest = _sha256_hex(str(path.resolve()).encode("utf-8", "surrogatepass"))
        name = f"_serialscale_target_{digest[:16]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkloadError(f"cannot import {path}", Location(target))
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # let the file import its neighbours
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        raise _user_error(f"importing {path} failed", exc, target) from None
    return module


def _dotted_name(path: Path) -> str | None:
    """``pkg.sub.mod`` for ``path`` inside packages (folders with an ``__init__.py``), with
    the folder above the outermost put on ``sys.path``; ``None`` for a file outside any, or
    where that name would import another package (one installed under the same name)."""
    resolved = path.resolve()
    parts = [resolved.stem]
    folder = resolved.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1 or not all(part.isidentifier() for part in parts):
        return None
    root = str(folder)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        found = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    ours = folder / parts[0] / "__init__.py"
    if found is None or found.origin is None or Path(found.origin).resolve() != ours:
        return None
    return ".".join(parts)


def _sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex, from the interpreter's own module where it has one
    (``hashlib`` loads OpenSSL as it is imported: 3 ms of every traced run)."""
    sha256: Any
    try:
        sha256 = importlib.import_module("_sha256").sha256  # CPython up to 3.11
    except ImportError:
        try:
            sha256 = importlib.import_module("_sha2").sha256  # CPython 3.12 and later
        except ImportError:
            from hashlib import sha256
    return str(sha256(data).hexdigest())


def _import_module(name: str, target: str) -> Any:
    if "." not in sys.path and "" not in sys.path:
        sys.path.insert(0, "")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise WorkloadError(f"no module named '{exc.name}'", Location(target)) from None
        raise _user_error(f"importing {name} failed", exc, target) from None
    except BaseException as exc:
        raise _user_error(f"importing {name} failed", exc, target) from None


#: Said when a traced function fails the way a stand-in value fails in code that needs the
#: real type (a traced value answers isinstance as its value, but is not one).
PROXY_HINT = (
    "hint: a traced value may have reached code that needs the plain number itself (json, "
    "a method called on its class such as int.__add__(x, 1), a C library); wrap that call "
    "in serialscale.op(fn, ...), which records it as one step"
)


def _proxy_refused(exc: BaseException) -> bool:
    """Whether ``exc`` looks like code refusing a traced value for the type it carries."""
    if not isinstance(exc, TypeError):
        return False
    text = str(exc)
    return ("not JSON serializable" in text or "Traced" in text
            or (text.startswith("descriptor ") and " requires " in text))  # fmt: skip


def _user_error(what: str, exc: BaseException, target: str) -> WorkloadError:
    """An error whose message carries the traceback of the user's frames only."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_PACKAGE_DIR) and "importlib" not in f.filename
    ]  # fmt: skip
    lines = "".join(traceback.format_list(frames)).rstrip()
    summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    last = frames[-1] if frames else None
    location = Location(last.filename, last.lineno) if last else Location(target)
    error = WorkloadError(f"{what}: {summary}", location)
    if lines:
        error.detail = "Traceback of your code (most recent call last):\n" + lines
    return error


def convert_params(fn: Callable[..., Any], raw: Mapping[str, str], target: str) -> dict[str, Any]:
    """Turn ``name=value`` strings into keyword arguments by the function's annotations
    (``int``, ``float``, ``bool``, ``str``); the function's defaults fill the rest.
    """
    where = Location(target)
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        signature = None
    if signature is None:
        if raw:
            raise WorkloadError("cannot pass --param: the function's signature is unknown", where)
        return {}
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    params = {
        name: p
        for name, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if name not in params:
            known = ", ".join(params) or "none"
            raise WorkloadError(
                f"unknown parameter '{name}'{suggest(name, params)}; the function takes: {known}",
                where,
            )
        p = params[name]
        kind = hints.get(name, p.annotation)
        if isinstance(kind, str):  # get_type_hints failed for some parameter: this one alone
            kind = _resolved(kind, fn, p.default)
        if kind is inspect.Parameter.empty and p.default is not inspect.Parameter.empty:
            kind = type(p.default) if p.default is not None else kind
        values[name] = _convert(name, text, kind, where)
    missing = [n for n, p in params.items() if p.default is p.empty and n not in values]
    if missing:
        raise WorkloadError(
            f"missing required {'parameter' if len(missing) == 1 else 'parameters'}: "
            + ", ".join(f"--param {n}=VALUE" for n in missing),
            where,
        )
    for name, p in params.items():
        if name not in values and p.default is not p.empty:
            values[name] = p.default
    return values


#: Annotations written as text that need no import to be understood (``from __future__
#: import annotations`` with a name only type checkers import makes get_type_hints fail).
_PLAIN_ANNOTATIONS: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str,
                                      "Any": typing.Any, "typing.Any": typing.Any}  # fmt: skip
#: ``Optional[...]``, ``... | None`` and ``None | ...`` around a plain annotation.
_WITHOUT_NONE = re.compile(r"^\s*(typing\.)?Optional\[|\]\s*$|\|\s*None\s*$|^\s*None\s*\|")
#: What ``--param x=none`` gives a parameter that may be ``None``.
_NONE_WORDS = ("none", "null")
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("0", "false", "no", "off")


def _resolved(annotation: str, fn: Callable[..., Any], default: Any) -> Any:
    """A parameter's annotation written as text, as get_type_hints would make it, for this
    parameter alone (another's may name what only type checkers import); else a plain one
    read as written (``Optional[int]``); else the type of a plain default; else the text."""
    with contextlib.suppress(Exception):  # (the user's own expression, as get_type_hints does)
        return eval(annotation, dict(getattr(fn, "__globals__", {})))
    plain = _PLAIN_ANNOTATIONS.get(_WITHOUT_NONE.sub("", annotation).strip())
    if plain is not None:
        return typing.Union[plain, None] if _WITHOUT_NONE.search(annotation) else plain  # noqa: UP007
    if type(default) in (bool, int, float, str):
        return type(default)
    return annotation


def _convert(name: str, text: str, kind: Any, where: Location) -> Any:
    """``text`` as a value of ``kind`` (the rules: :func:`_as`); an error naming the
    parameter where it is none."""
    try:
        return _as(text, kind)
    except (ValueError, TypeError, KeyError, ArithmeticError):
        label = kind.__name__ if isinstance(kind, type) else str(kind).replace("typing.", "")
        if typing.get_origin(kind) is typing.Literal:
            label = "one of " + ", ".join(repr(a) for a in typing.get_args(kind))
        raise WorkloadError(f"parameter '{name}' expects {label}, got {text!r}", where) from None
    except _NotFromText as exc:
        raise WorkloadError(f"parameter '{name}' takes {exc}: --param gives it numbers, "
                            "booleans and text only (set it in the function, or give it a "
                            "wrapper that takes a number)", where) from None  # fmt: skip


class _NotFromText(Exception):
    """A kind no text converts to (its description is the message)."""


def _as(text: str, kind: Any) -> Any:
    """``text`` as a value of ``kind``: bool (1/true/yes/on, 0/false/no/off), int, float
    (finite), complex, str, and their subclasses (numpy's scalars, NewType, Annotated); None
    (none/null); a Literal's choice; a Union's first member that takes it (text last); an
    Enum member by name; the text itself for Any, object or no annotation. ValueError where
    the text is not one; :class:`_NotFromText` where no text can be."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated:
        return _as(text, args[0])
    supertype = getattr(kind, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _as(text, supertype)
    lowered = text.strip().lower()
    if kind is None or kind is type(None):
        if lowered in _NONE_WORDS:
            return None
        raise ValueError(text)
    if origin is typing.Literal:
        for choice in args:
            if choice is None and lowered in _NONE_WORDS:
                return None
            if isinstance(choice, bool):
                if lowered in (_TRUE_WORDS if choice else _FALSE_WORDS):
                    return choice
            elif isinstance(choice, (str, int, float)) and str(choice) == text:
                return choice
        raise ValueError(text)
    if origin in (typing.Union, types.UnionType):
        members = sorted(args, key=lambda a: a is str)  # (text takes anything: last)
        for member in members:
            with contextlib.suppress(ValueError, TypeError, KeyError, ArithmeticError):
                return _as(text, member)
        raise ValueError(text)
    if any(kind is plain for plain in (typing.Any, object, inspect.Parameter.empty)):
        return text
    if not isinstance(kind, type):
        raise _NotFromText(f"a {kind}")
    make: Any = kind  # (numpy's scalars, a str subclass: called with the plain value)
    if issubclass(kind, bool):
        if lowered in _TRUE_WORDS:
            return True
        if lowered in _FALSE_WORDS:
            return False
        raise ValueError(text)
    if issubclass(kind, enum.Enum):
        return kind[text.strip()]
    if issubclass(kind, numbers.Integral):
        value = int(text)
        return value if kind is int else make(value)
    if issubclass(kind, numbers.Real):
        real = float(text)
        if not math.isfinite(real):
            raise ValueError(text)
        return real if kind is float else make(real)
    if issubclass(kind, numbers.Complex):
        return complex(text) if kind is complex else make(complex(text))
    if issubclass(kind, str):
        return text if kind is str else make(text)
    what = "a function" if issubclass(kind, (types.BuiltinFunctionType, types.FunctionType)) \
        else f"a value of type {kind.__name__}"  # fmt: skip
    raise _NotFromText(what)


def trace_workload(
    target: str,
    raw_params: Mapping[str, str] | None = None,
    control: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Workload:
    """Import the function ``target`` names, run it once traced, and return its workload.

    This runs the code in this process; the command line isolates it in a child process
    (:mod:`serialscale.run.isolation`).
    """
    fn = load_function(target)
    params = convert_params(fn, raw_params or {}, target)
    return trace_function(fn, params, control=control, target=target, max_ops=limits.max_ops)


def _label_of(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of ``fn``; a ``functools.partial`` or a callable instance has no
    ``__qualname__``: its function's, or its class's."""
    inner = getattr(fn, "func", fn)  # (a partial's function)
    named = inner if hasattr(inner, "__qualname__") else type(inner)
    module = getattr(named, "__module__", None) or "?"
    return f"{module}:{getattr(named, '__qualname__', type(fn).__name__)}"


def _refuse_lazy_bodies(fn: Callable[..., Any], label: str) -> None:
    """A located error for a function whose call runs none of its body (async functions,
    generators): traced, it recorded nothing, and the error said to wrap its inputs."""
    body: Any = fn
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)):  # an instance: its __call__
        body = type(fn).__dict__.get("__call__", fn)  # (its class's own: not type.__call__)
    what = ("an async function" if inspect.iscoroutinefunction(body)
            else "an async generator" if inspect.isasyncgenfunction(body)
            else "a generator function" if inspect.isgeneratorfunction(body) else None)  # fmt: skip
    if what is None:
        return
    how = ("def f(): return list(gen())" if what == "a generator function"
           else "def f(): return asyncio.run(main())")  # fmt: skip
    raise WorkloadError(
        f"{what}: calling it runs none of its body, so nothing would be traced; trace a "
        f"plain function that runs it to the end, such as `{how}`",
        Location(label),
    )


def trace_function(
    fn: Callable[..., Any],
    params: Mapping[str, Any],
    *,
    control: str | None = None,
    target: str | None = None,
    max_ops: int = DEFAULT_MAX_OPS,
) -> Workload:
    """Run ``fn(**params)`` once with tracing on and turn what it did into a workload.

    A function that records more than ``max_ops`` operations is stopped; one that calls
    ``sys.exit`` is reported, not obeyed (``KeyboardInterrupt`` still propagates).

    ``control`` None is the default, :data:`DEFAULT_CONTROL` (``scoped``); where that mode
    cannot run (another Python than CPython 3.11/3.12, another trace function such as a
    debugger or coverage), the run is in ``dataflow`` mode and a note says why. Asked for by
    name, a mode that cannot run is an error.
    """
    if control is not None and control not in CONTROL_MODES:
        raise WorkloadError(
            f"control must be one of {', '.join(CONTROL_MODES)}, got {control!r}",
            Location(target),
        )
    label = target or _label_of(fn)
    _refuse_lazy_bodies(fn, label)
    fallback = ""
    try:
        try:
            trace = run_traced(fn, dict(params), control or DEFAULT_CONTROL, max_ops)
        except ScopedUnavailable as exc:
            if control is not None:
                raise
            # Raised before the function runs: running it again in data-flow mode is safe.
            fallback = (
                f"--control {DEFAULT_CONTROL} (the default) cannot run here ({exc}); this is "
                "the data-flow view instead (branches on traced values add no dependence)"
            )
            trace = run_traced(fn, dict(params), "dataflow", max_ops)
    except ScopedUnavailable as exc:
        raise WorkloadError(str(exc), Location(label)) from None
    except TooManyOperations as exc:
        raise WorkloadError(
            f"the function recorded more than --max-ops ({exc.limit:,}) operations and was "
            "stopped (it may never end); raise --max-ops or use a smaller size",
            Location(label),
        ) from None
    except SystemExit as exc:
        code = "" if exc.code is None else repr(exc.code)
        raise WorkloadError(
            f"the function called sys.exit({code}) before returning a result", Location(label)
        ) from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        error = _user_error(f"{label} raised an exception", exc, label)
        if _proxy_refused(exc):
            error.detail = f"{error.detail}\n{PROXY_HINT}".lstrip("\n")
        raise error from None
    rec = trace.recorder
    extra: dict[str, Any] = {"target": label, "params": _plain(params)}
    name = getattr(fn, "__name__", "function")
    if _is_digraph(trace.result):
        graph = _graph_from_networkx(trace.result, label)
        return Workload(name=name, graph=graph, source=label, format="python", extra=extra)
    if hasattr(trace.result, "__dask_graph__"):
        from .returned_graphs import plan_from_dask

        plan = plan_from_dask(trace.result, label)
        return plan.workload(name, label, "python", "tasks", extra)
    if _is_airflow_dag(trace.result):
        from .returned_graphs import plan_from_airflow

        plan = plan_from_airflow(trace.result, label)
        return plan.workload(name, label, "python", "tasks", extra)
    if len(rec) == 0:
        if rec.escapes:
            raise WorkloadError(
                f"the function recorded no steps: its traced values were converted to plain "
                f"ones {plural(rec.escapes, 'time')} ({rec.describe_escapes()}), so nothing "
                "depended on "
                "them; compute with the traced values themselves (math.* and sum() are "
                "recorded), or wrap the call in serialscale.op(fn, ...)",
                Location(label),
            )
        raise WorkloadError(
            "the function recorded no steps: wrap its inputs with serialscale.inputs(...) or "
            "serialscale.input(...), or mark steps with @serialscale.task",
            Location(label),
        )
    control = rec.control  # the mode the run used
    notes = [fallback] if fallback else []
    if rec.control_decisions and control == "dataflow":
        notes.append(
            f"{plural(rec.control_decisions, 'branch')} on traced values; control dependence was "
            "ignored (data-flow view, an optimistic bound); --control scoped adds it as "
            "written (frame or strict: more)"
        )
    if rec.escapes:
        notes.append(
            f"{plural(rec.escapes, 'traced value')} "
            f"{'was' if rec.escapes == 1 else 'were'} converted to plain ones "
            f"({rec.describe_escapes()}; int(), float(), "
            "indexing, range()); dependencies through them are lost"
        )
    if rec.unmodelled:  # array operations outside the cost table (trace/arrays.py)
        from ..trace.arrays import note_lines

        notes += note_lines(rec)
        extra["unmodelled"] = sorted(rec.unmodelled)
    extra |= {
        "control": control,
        "control_decisions": rec.control_decisions,
        "escapes": rec.escapes,
        "notes": notes,
    }
    unit = "ops"
    if rec.measured:  # measured tasks cost seconds; elementary operations cost 1
        unit = "seconds"
        if rec.measured < len(rec):
            notes.append(
                f"{len(rec) - rec.measured} of the {len(rec)} steps are not measured tasks and "
                "cost 1 each; the unit 'seconds' holds for the measured ones"
            )
    return Workload(
        name=name, graph=rec.graph(), source=label, unit=unit, format="python", extra=extra
    )


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as the report shows them: numbers, strings, booleans and None as they
    are, anything else (and a float that is not finite: JSON has no infinity, a default of
    ``float("inf")`` made the JSON report an internal error; a string holding a lone
    surrogate, which no UTF-8 output can hold) as its ``repr``."""
    out: dict[str, Any] = {}
    for key in sorted(params):
        value = params[key]
        shown = isinstance(value, (bool, int)) or value is None or (
            isinstance(value, str) and encodable(value)) or (
            isinstance(value, float) and math.isfinite(value))  # fmt: skip
        out[key] = value if shown else repr(value)
    return out


def _is_digraph(obj: Any) -> bool:
    nx = sys.modules.get("networkx")
    return nx is not None and isinstance(obj, nx.DiGraph)


def _is_airflow_dag(value: Any) -> bool:
    """An Airflow DAG, or anything shaped like one: ``.tasks`` whose items have ``task_id``
    and ``upstream_task_ids`` (no Airflow import needed)."""
    tasks = getattr(value, "tasks", None)
    return (
        isinstance(tasks, (list, tuple))
        and bool(tasks)
        and all(hasattr(t, "task_id") and hasattr(t, "upstream_task_ids") for t in tasks)
    )


def _graph_from_networkx(g: Any, label: str) -> Graph:
    """A returned ``networkx.DiGraph`` as a workload graph (node attribute ``cost``, default 1)."""
    nodes = list(g.nodes)
    ids = [str(v) for v in nodes]
    costs = []
    for v, step_id in zip(nodes, ids, strict=True):
        cost = g.nodes[v].get("cost", 1)
        if (
            isinstance(cost, bool)
            or not isinstance(cost, (int, float))
            or not (0 <= cost < math.inf)
        ):
            raise WorkloadError(
                f"node cost must be a finite number >= 0, got {cost!r}",
                Location(label, step_id=step_id),
            )
        costs.append(cost)
    # Two nodes of one id (1 and "1") are a located error of the builder, as in a file.
    needs = [[str(u) for u in g.predecessors(v)] for v in nodes]
    return build_graph(ids, costs, needs, InSource(label))
