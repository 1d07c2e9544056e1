"""The seam between compiled and pure-Python code (issue 27): ``serialscale.accel`` is the only
place that picks an implementation, and every compiled part has a pure twin that takes the
same arguments and does the same.

Checked here: the two kernel modules have the same functions with the same signatures (read
with ``inspect``; the compiled ones from their docstrings, which are checked in turn against
the argument formats of the C sources); every compiled tracer part has a twin bound through
``accel.tracer_part``; both kernel modules agree with networkx on random graphs and raise the
same exception type on the same corrupted arguments; and, on the sources (as
tests/test_layers.py reads them), no module outside ``accel`` reads ``SERIALSCALE_PURE_PYTHON``
or imports a compiled module.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import math
import re
from array import array
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialscale import accel
from serialscale.accel import pure_kernels

from .conftest import Dag, costs_float, dags

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "serialscale"
CSRC = PACKAGE / "accel" / "csrc"
COMPILED_MODULES = ("_kernels", "_tape", "_scoped")
#: What only accel touches: the compiled modules, and the choices it makes between them.
PRIVATE = ("PURE_ENV", "_compiled", "pure_kernels", *COMPILED_MODULES)

needs_kernels = pytest.mark.skipif(not accel.available(), reason="kernels not built")


def _public(module: Any) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def _own_functions(module: Any) -> set[str]:
    """The public functions ``module`` defines (not the names it imports)."""
    return {name for name, f in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_") and f.__module__ == module.__name__}  # fmt: skip


def _shape(function: Any) -> list[tuple[str, Any, Any]]:
    """Names, kinds and defaults of a signature (annotations are the pure side's only)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def _parse_formats(source: str) -> dict[str, int]:
    """How many arguments each C function of ``source`` takes, from its PyArg_ParseTuple
    format (each unit is a letter, ``O!``/``y*`` included; ``|`` starts the optional ones)."""
    out = {}
    for match in re.finditer(
        r"PyObject \*(\w+)\(PyObject \*\w+, PyObject \*args\)\s*\{.*?"
        r'PyArg_ParseTuple\(args, "([^"]*)"',
        source,
        re.S,
    ):
        fmt = match.group(2).replace("|", "")
        out[match.group(1)] = len(re.findall(r"[A-Za-z][!*#&]?", fmt))
    return out


def _c_functions(module_file: str) -> dict[str, str]:
    """Python name -> C function of the module's method table (``methods[]``) in
    ``module_file``."""
    text = (CSRC / module_file).read_text()
    text = text[text.index("PyMethodDef methods[]") :]
    text = text[: text.index("};")]
    return dict(re.findall(r'\{"(\w+)",\s*(?:\(PyCFunction\))?(\w+),\s*METH_VARARGS', text))


def _all_c_formats() -> dict[str, int]:
    formats: dict[str, int] = {}
    for path in sorted(CSRC.glob("*.c")):
        formats.update(_parse_formats(path.read_text()))
    return formats


# --- the kernels ---


@needs_kernels
def test_every_kernel_has_a_pure_twin_with_its_signature() -> None:
    compiled = accel._compiled
    assert _public(compiled) == _own_functions(pure_kernels)
    for name in sorted(_public(compiled)):
        c, p = getattr(compiled, name), getattr(pure_kernels, name)
        assert _shape(c) == _shape(p), name
        assert all(x[1] is inspect.Parameter.POSITIONAL_ONLY for x in _shape(p)), name


def test_the_kernel_signatures_are_the_c_ones() -> None:
    """The signatures module.c declares (docstrings) take as many arguments as the C code
    parses: the declared signature cannot drift from the kernel it describes."""
    formats = _all_c_formats()
    table = _c_functions("module.c")
    assert set(table) == _own_functions(pure_kernels)
    for name, c_function in table.items():
        assert formats[c_function] == len(_shape(getattr(pure_kernels, name))), name


def test_kernels_follows_the_setting(monkeypatch) -> None:
    monkeypatch.delenv(accel.PURE_ENV, raising=False)
    expected = accel._compiled if accel.available() else pure_kernels
    assert accel.kernels() is expected
    assert accel.kernels(exact=True) is pure_kernels  # Python integers: the pure twins
    monkeypatch.setenv(accel.PURE_ENV, "1")
    assert accel.kernels() is pure_kernels
    with accel.accelerated(False):
        assert accel.kernels() is pure_kernels


def test_the_exactness_rule() -> None:
    """Integers at or past 2**53 leave doubles; below, and floats, stay."""
    assert accel.EXACT_INT == 2**53
    assert float(accel.EXACT_INT - 1) == accel.EXACT_INT - 1  # exact just below
    assert float(accel.EXACT_INT + 1) != accel.EXACT_INT + 1  # not just above
    assert accel.beyond_doubles(True, 2**53) and accel.beyond_doubles(True, 2**60)
    assert not accel.beyond_doubles(True, 2**53 - 1)
    assert not accel.beyond_doubles(False, 1e300)


# --- the tracer ---


def test_every_compiled_tracer_part_has_a_bound_twin() -> None:
    """Every public function and type of the compiled tracer is bound once, through
    ``accel.tracer_part``, with a pure twin: functions of the same arity (the C argument
    formats), types with the compiled type's attributes."""
    import serialscale.trace.mathlib
    import serialscale.trace.native_selection
    import serialscale.trace.scopes  # noqa: F401 (they bind their parts on import)
    from serialscale.trace import values

    tape = accel.tracer_built("tape")
    if tape is None:
        pytest.skip("the compiled tracer was not built")
    twins = {name: twin for (module, name), twin in accel.TRACER_TWINS.items() if module == "tape"}
    assert set(twins) == _public(tape)
    formats = _all_c_formats()
    for name, c_function in _c_functions("tape.c").items():
        twin = twins[name]
        assert formats[c_function] == len(inspect.signature(twin).parameters), name
    for name in ("Tape", "Value"):
        assert isinstance(twins[name], type)
        assert _public(getattr(tape, name)) <= _public(twins[name]), name
    # the compiled Value's operators are the ones the pure twin of setup installs
    operators = {f"__{n}__" for n in values._BINARY} | {f"__r{n}__" for n in values._BINARY}
    operators |= {f"__{n}__" for n in values.COMPARISONS} | {"__bool__"}
    operators |= {f"__{n}__" for n in values._COMPILED_UNARY}  # on Traced, in Python
    own = {n for n in vars(tape.Value) if n.startswith("__")} - {"__doc__", "__new__", "__hash__"}
    assert own <= operators


def test_the_tracer_binds_what_accel_decides() -> None:
    from serialscale.trace import recorder, scopes, values

    compiled = accel.tracer_in_use("tape")
    assert recorder.COMPILED is compiled
    assert (recorder.TapeBase is recorder.PyTape) is not compiled
    assert (values.ValueBase is values.PyValue) is not compiled
    assert scopes.COMPILED_WATCH is accel.tracer_in_use("scoped")


# --- the sources: nobody else picks ---


def _sources_outside_accel() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] != "accel":
            out.append(("/".join(parts), path))
    return out


@pytest.mark.one_pass  # reaches no kernel, tracer or process (conftest checks)
def test_no_module_outside_accel_reads_the_switch_or_imports_compiled_code() -> None:
    problems = []
    for name, path in _sources_outside_accel():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            where = f"{name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Constant) and node.value == accel.PURE_ENV:
                problems.append(f"{where}: reads {accel.PURE_ENV}")
            elif isinstance(node, ast.Name) and node.id == "PURE_ENV":
                problems.append(f"{where}: uses PURE_ENV")
            elif isinstance(node, ast.Attribute) and node.attr in PRIVATE:
                problems.append(f"{where}: uses .{node.attr}")
            elif isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
                module = node.module or ""
                last = module.split(".")[-1]
                if any(n in PRIVATE for n in names) or last in COMPILED_MODULES:
                    problems.append(f"{where}: imports {module} {names}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[-1] in COMPILED_MODULES:
                        problems.append(f"{where}: imports {alias.name}")
    assert problems == []


def test_the_old_switch_is_gone() -> None:
    """One name picks kernels (``accel.kernels``), never None: no ``select`` to branch on."""
    assert not hasattr(accel, "select")
    for name, path in _sources_outside_accel():
        assert "accel.select(" not in path.read_text(), name


# --- both kernel modules against networkx ---


def _csr(dag: Dag) -> tuple[array, array, array, array, array, array]:
    n = len(dag.costs)
    ptr, idx = array("q", [0]), array("q")
    for row in dag.needs:
        idx.extend(dict.fromkeys(row))
        ptr.append(len(idx))
    order = array("q", nx.lexicographical_topological_sort(dag.nx()))
    succ = [[i for i in range(n) if v in dag.needs[i]] for v in range(n)]
    sptr, sidx = array("q", [0]), array("q")
    for row in succ:
        sidx.extend(row)
        sptr.append(len(sidx))
    return ptr, idx, sptr, sidx, order, array("d", map(float, dag.costs))


def _kernel_modules() -> list[Any]:
    return [m for m in (accel._compiled, pure_kernels) if m is not None]


@settings(max_examples=100)
@given(dags(max_steps=20, costs=st.one_of(st.integers(0, 9), costs_float)))
def test_both_kernel_modules_agree_with_networkx(dag: Dag) -> None:
    g = dag.nx()
    n = len(dag.costs)
    ptr, idx, sptr, sidx, order, costs = _csr(dag)
    # oracles: the longest path ending at / starting from each step, by networkx
    finish_nx = {v: dag.costs[v] for v in g}
    for v in nx.topological_sort(g):
        finish_nx[v] = dag.costs[v] + max((finish_nx[u] for u in g.predecessors(v)), default=0)
    rev = g.reverse()
    level_nx = {v: dag.costs[v] for v in g}
    for v in nx.topological_sort(rev):
        level_nx[v] = dag.costs[v] + max((level_nx[u] for u in rev.predecessors(v)), default=0)
    depth = max(finish_nx.values())
    results = []
    for k in _kernel_modules():
        start, finish, levels, slack = (array("d", bytes(8 * n)) for _ in range(4))
        k.asap(order, ptr, idx, costs, 0.0, start, finish)
        k.bottom_levels(order, sptr, sidx, costs, levels)
        for v in range(n):
            assert math.isclose(finish[v], finish_nx[v], rel_tol=1e-9, abs_tol=1e-9)
            assert math.isclose(levels[v], level_nx[v], rel_tol=1e-9, abs_tol=1e-9)
        total = max(finish)
        k.slack(start, levels, total, 1e-9 * total, slack)  # as metrics: rounding is 0
        path = k.critical_path(ptr, idx, sptr, start, finish, total)
        assert math.isclose(sum(dag.costs[v] for v in path), depth, rel_tol=1e-9, abs_tol=1e-9)
        assert all(u in dag.needs[v] for u, v in itertools.pairwise(path))
        assert all(slack[v] == 0 for v in path)
        count = array("q", bytes(8 * n))
        assert k.topological_order(ptr, sptr, sidx, count) == n
        plan = k.schedule_plan(levels, costs, ptr, sptr, sidx)
        one = k.makespan(plan, 1, 0.0)
        assert math.isclose(one, math.fsum(dag.costs), rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(k.makespan(plan, n, 0.0), depth, rel_tol=1e-9, abs_tol=1e-9)
        rows = k.profile(start, finish, costs, False)
        results.append((list(start), list(finish), list(levels), list(slack), path, rows,
                        [k.makespan(plan, p, 0.5) for p in (1, 2, 3)], list(count)))  # fmt: skip
    assert all(r == results[0] for r in results)  # bit for bit: the same doubles


# --- the same errors on the same bad arguments ---


def _outcome(k: Any, name: str, args: list[Any]) -> Any:
    copies = [array(a.typecode, a) if isinstance(a, array) else a for a in args]
    try:
        result = getattr(k, name)(*copies)
    except Exception as exc:  # the type is what must agree
        return type(exc)
    # repr and bytes: NaN equals itself there; a plan is opaque (makespan reads it)
    outputs = [bytes(c) if isinstance(c, (array, memoryview)) else repr(c) for c in copies]
    return ("ok", repr(result) if name != "schedule_plan" else None, outputs)


def _corruptions(args: list[Any], rnd: Any) -> list[list[Any]]:
    """Variants of ``args``, each with one argument broken: an index out of range, an
    offset that decreases, the wrong array type, a read-only or short output, NaN."""
    out = []
    for i, a in enumerate(args):
        variants: list[Any] = []
        if isinstance(a, array) and a.typecode == "q":
            if len(a):
                for value in (-1, 10**6, rnd.randrange(-3, 30)):
                    b = array("q", a)
                    b[rnd.randrange(len(a))] = value
                    variants.append(b)
            variants += [array("d", map(float, a)), array("q", a)[:-1] if len(a) else a]
        elif isinstance(a, array) and a.typecode == "d":
            if len(a):
                b = array("d", a)
                b[rnd.randrange(len(a))] = math.nan
                variants.append(b)
            variants += [array("q", map(int, a)), memoryview(array("d", a)).toreadonly()]
            variants.append(array("d", a)[:-1] if len(a) else a)
        elif isinstance(a, float):
            variants += [math.nan, -1.0, math.inf]
        variants.append(None)
        for v in variants:
            out.append([*args[:i], v, *args[i + 1 :]])
    return out


@needs_kernels
@settings(max_examples=60)
@given(dags(max_steps=8), st.randoms(use_true_random=False))
def test_both_kernel_modules_refuse_the_same_arguments(dag: Dag, rnd: Any) -> None:
    """Every CSR kernel, on arguments with one of them broken: either both raise the same
    exception type, or both succeed with the same result (and the same outputs)."""
    n = len(dag.costs)
    ptr, idx, sptr, sidx, order, costs = _csr(dag)
    start, finish, levels = (array("d", bytes(8 * n)) for _ in range(3))
    accel._compiled.asap(order, ptr, idx, costs, 0.0, start, finish)
    accel._compiled.bottom_levels(order, sptr, sidx, costs, levels)
    total = max(finish)
    slack = array("d", bytes(8 * n))
    accel._compiled.slack(start, levels, total, 0.0, slack)
    path = array("q", accel._compiled.critical_path(ptr, idx, sptr, start, finish, total))
    marks = array("d", bytes(8 * n))
    for v in path:
        marks[v] = 1.0
    alpha, below, ignored = (array("d", bytes(8 * n)) for _ in range(3))
    accel._compiled.asap(order, ptr, idx, marks, 0.0, ignored, alpha)
    accel._compiled.bottom_levels(order, sptr, sidx, marks, below)
    out = lambda: array("d", bytes(8 * n))  # noqa: E731
    qout = lambda k: array("q", bytes(8 * k))  # noqa: E731
    calls = {
        "costs_ok": [costs],
        "int_sum": [idx],
        "check_graph_csr": [ptr, idx],
        "count_duplicates": [ptr, idx],
        "successors": [ptr, idx, qout(n + 1), qout(len(idx))],
        "topological_order": [ptr, sptr, sidx, qout(n)],
        "asap": [order, ptr, idx, costs, 0.0, out(), out()],
        "bottom_levels": [order, sptr, sidx, costs, out()],
        "slack": [start, levels, total, 0.0, out()],
        "critical_path": [ptr, idx, sptr, start, finish, total],
        "profile": [start, finish, costs, True],
        "schedule_plan": [levels, costs, ptr, sptr, sidx],
        "drag_limits": [
            ptr,
            idx,
            path,
            finish,
            levels,
            slack,
            alpha,
            below,
            total,
            5.0,
            array("d", bytes(8 * len(path))),
        ],
        "drag_values": [
            order,
            ptr,
            idx,
            sptr,
            sidx,
            costs,
            path,
            finish,
            levels,
            slack,
            total,
            0.0,
            out(),
            array("d", bytes(8 * len(path))),
        ],
        "most": [slack, 3],
        "tape_needs": [
            idx,
            array("q", [-1] * n),
            array("q", [rnd.choice([-1, 0]) for _ in range(n)]),
        ],
        "occurrences": [array("i", [rnd.randrange(3) for _ in range(n)]), 3, qout(n)],
        "spell_ids": [
            ["a#", "é#", "c#"],
            array("i", [rnd.randrange(3) for _ in range(n)]),
            array("q", [rnd.randrange(1, 99) for _ in range(n)]),
            [rnd.randrange(n) for _ in range(3)],
        ],
        "spell_at": [
            ["a#", "é#", "c#"],
            array("i", [rnd.randrange(3) for _ in range(n)]),
            [rnd.randrange(n) for _ in range(4)],
        ],
    }
    for name, args in calls.items():
        fine = _outcome(accel._compiled, name, args)
        assert fine == _outcome(pure_kernels, name, args), name
        if name in ("occurrences", "spell_ids", "spell_at"):
            continue  # site's own corruptions below
        for bad in _corruptions(args, rnd):
            assert _outcome(accel._compiled, name, bad) == _outcome(pure_kernels, name, bad), (
                name,
                bad,
            )
    plans = [k.schedule_plan(levels, costs, ptr, sptr, sidx) for k in _kernel_modules()]
    for processors, extra in [(1, 0.0), (2, 0.5), (0, 0.0), (-1, 1.0), (1.5, 0.0), (2, math.nan),
                              (2, -1.0), (2, math.inf), (None, 0.0), (2, None)]:  # fmt: skip
        outcomes = []
        for k, plan in zip(_kernel_modules(), plans, strict=True):
            for handed in (plan, None):
                got = _outcome(k, "makespan", [handed, processors, extra])
                outcomes.append(got[:2] if isinstance(got, tuple) else got)  # not the plan
        assert outcomes[0] == outcomes[2] and outcomes[1] == outcomes[3], (processors, extra)
    for site in (array("i", [0, 5]), array("i", [-1]), array("q", [0])):
        args = [site, 3, qout(len(site))]
        assert _outcome(accel._compiled, "occurrences", args) == _outcome(
            pure_kernels, "occurrences", args
        )
    # spell_ids: a site naming no label, an index outside the steps, a label or an index of
    # the wrong type, occurrences too short or of the wrong type
    labels, site, occ = ["a#", "é#"], array("i", [0, 1, 0]), array("q", [1, 1, 2])
    for args in ([labels, array("i", [0, 5]), occ[:2], [1]], [labels, site, occ, [3]],
                 [labels, site, occ, [-1]], [labels, site, occ, [0.5]], [["a#", 7], site, occ, [1]],
                 [labels, site, occ[:2], [0]], [labels, site, array("d", [1, 1, 2]), [0]],
                 [tuple(labels), site, occ, [0]], [labels, site, occ, (0,)],
                 [labels, site, occ, [2, 1, 0, 1]]):  # fmt: skip
        assert _outcome(accel._compiled, "spell_ids", args) == _outcome(
            pure_kernels, "spell_ids", args
        ), args
    # spell_at: the same, with the occurrences counted by the kernel (every site checked)
    for args in ([labels, array("i", [0, 5]), [1]], [labels, site, [3]], [labels, site, [-1]],
                 [labels, site, [0.5]], [["a#", 7], site, [1]],
                 [labels, array("i", [0, 1, 9]), [0]], [tuple(labels), site, [0]],
                 [labels, site, (0,)], [labels, array("q", [0]), [0]],
                 [labels, site, [2, 1, 0, 1, 2]], [labels, site, []]):  # fmt: skip
        assert _outcome(accel._compiled, "spell_at", args) == _outcome(
            pure_kernels, "spell_at", args
        ), args


def test_pure_kernels_import_nothing_above_accel() -> None:
    """The twins live in the lowest compute layer (accel may import only base)."""
    module = importlib.import_module("serialscale.accel.pure_kernels")
    tree = ast.parse(Path(module.__file__ or "").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level or name.startswith("serialscale"):
                assert name.startswith(("base", "serialscale.base")), name
