"""The public API is what ``serialscale.__all__`` says, nothing less; every error serialscale
raises on purpose derives from one root class."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import serialscale
from serialscale import SerialscaleError

#: The public names. Adding one is a decision (and a line here); removing one breaks users.
PUBLIC = {
    "SCHEMA_VERSION", "CycleError", "ExitCode", "Graph", "Location", "Report",
    "SerialscaleError", "Traced", "UsageError", "Workload", "WorkloadError", "__version__",
    "analyze", "analyze_function", "analyze_workload", "input", "inputs", "load_target",
    "load_workload", "op", "parse_workload", "task", "trace_function",
    # reading saved reports back, and the one implementation switch (session 8: the layer
    # packages are internal, so what the README shows users is here)
    "read_saved", "parse_saved", "to_builtins", "set_accelerated", "accelerated",
}  # fmt: skip

#: Exceptions that are deliberately not errors: control flow inside one module, or a
#: BaseException that user code's ``except Exception`` must not swallow.
NOT_ERRORS = {
    "serialscale.trace.recorder.TooManyOperations",  # BaseException on purpose
    "serialscale.sources.template_codegen.Decline",  # "take the interpreted path", not a fault
    "serialscale.run.stopping.Stopped",  # BaseException on purpose: a worker told to stop
}


def test_all_is_the_pinned_public_api() -> None:
    assert set(serialscale.__all__) == PUBLIC
    assert len(serialscale.__all__) == len(PUBLIC)  # no name twice


def test_every_public_function_s_annotations_resolve() -> None:
    """Sphinx, pydantic and typeguard evaluate annotations: a name imported only for the
    type checker (a lazy import) made ``get_type_hints(serialscale.load_target)`` raise."""
    import typing

    for name in sorted(PUBLIC):
        value = getattr(serialscale, name)
        if inspect.isfunction(value):
            typing.get_type_hints(value)
            inspect.signature(value, eval_str=True)


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in PUBLIC:
        assert getattr(serialscale, name) is not None, name
    assert set(dir(serialscale)) >= PUBLIC


def test_the_tracing_function_inputs_is_not_shadowed_by_a_subpackage() -> None:
    importlib.import_module("serialscale.sources")  # the readers' package, imported first
    assert callable(serialscale.inputs) and serialscale.inputs.__module__.startswith(
        "serialscale.trace"
    )


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(serialscale.__path__, "serialscale."):
        if info.name.split(".")[-1] in ("__main__", "_kernels", "_tape"):
            continue  # running it is the command; the compiled modules hold no classes of ours
        names.append(info.name)
    return names


def test_every_error_class_derives_from_the_root() -> None:
    seen, stray = 0, []
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if not (inspect.isclass(value) and issubclass(value, BaseException)):
                continue
            if value.__module__ != name or attr.startswith("_"):
                continue  # imported from elsewhere, or private control flow
            seen += 1
            if not issubclass(value, SerialscaleError) and f"{name}.{attr}" not in NOT_ERRORS:
                stray.append(f"{name}.{attr}")
    assert seen >= 12  # the walk found the error classes at all
    assert not stray, f"errors outside SerialscaleError: {stray}"


def test_the_root_is_what_the_library_raises() -> None:
    import pytest

    with pytest.raises(SerialscaleError):
        serialscale.parse_workload("steps: [{id: a, needs: [b]}]\n", "w.yaml")
    with pytest.raises(SerialscaleError):
        serialscale.Graph.from_lists(["a", "b"], [1, 1], [[1], [0]])


def test_the_readme_shows_users_only_the_public_api() -> None:
    """The layer packages are internal (the package docstring says so): the README's Python
    examples import from ``serialscale`` itself, never from ``serialscale.<layer>``."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks
    for block in blocks:
        assert not re.search(r"from serialscale\.|import serialscale\.|serialscale\.[a-z_]+\.",
                             block), block  # fmt: skip
    assert "internal" in (serialscale.__doc__ or "")


def test_a_partial_or_a_callable_instance_is_traced_and_named() -> None:
    """functools.partial and callable instances have no __qualname__: analyze_function and
    trace_function raised AttributeError (not a serialscale error) naming them."""
    import functools

    import serialscale as ss

    def base(n: int = 4, k: int = 1) -> object:
        x = ss.input(1)
        for _ in range(n):
            x = x + k
        return x

    class Chain:
        def __call__(self, n: int = 3) -> object:
            return base(n)

    report = ss.analyze_function(functools.partial(base, k=3), n=8)
    assert report.depth == 8 and report.source.endswith(".<locals>.base")
    assert ss.analyze_function(Chain(), n=5).source.endswith(".<locals>.Chain")
