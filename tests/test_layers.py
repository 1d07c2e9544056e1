"""The import-layer contract: the folders of ``src/serialscale`` are layers, and a module imports
only from its own layer or the ones below it (issue 27). Checked on the source with ``ast``:
every import counts, at the top of a module, inside a function or under ``TYPE_CHECKING``
(a type a lower layer names is still a dependency on the layer that declares it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "serialscale"

#: Top to bottom. Layers on one line are siblings: neither may import the other.
LAYERS: list[tuple[str, ...]] = [
    ("cli",),
    ("run",),
    ("sources", "render"),
    ("trace",),
    ("core",),
    ("documents",),
    ("accel", "base"),
]
#: The package's own modules at its root: the public face, above every layer.
ROOT = ("__init__", "__main__", "api")


def _rank(layer: str) -> int:
    for rank, tier in enumerate(LAYERS):
        if layer in tier:
            return rank
    raise AssertionError(f"serialscale.{layer} is in no layer: add it to LAYERS")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, module) of every serialscale module ``name`` imports."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("serialscale")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith("serialscale"):
                target = node.module or ""
            else:
                continue
            for alias in node.names:  # ``from . import x``: x may be a module
                sub = f"{target}.{alias.name}"
                out.append((node.lineno, sub if sub in MODULES else target))
    return out


def _layer(module: str) -> str | None:
    """The layer (first folder under serialscale) of a module, or None at the root."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in ROOT:
        return None
    return parts[1]


EDGES = [
    (name, line, target) for name, path in MODULES.items() for line, target in _imports(name, path)
]


def test_every_module_sits_in_a_layer() -> None:
    for name in MODULES:
        layer = _layer(name)
        if layer is not None:
            _rank(layer)


def test_no_layer_imports_a_higher_or_sibling_one() -> None:
    wrong = []
    for name, line, target in EDGES:
        source, dest = _layer(name), _layer(target)
        if source is None or target == "serialscale":  # the root: above all; its __init__: light
            continue
        where = f"{MODULES[name].relative_to(PACKAGE.parent.parent)}:{line}"
        if dest is None:
            wrong.append(f"{where}: {name} imports the package's face {target}")
        elif source != dest and _rank(source) >= _rank(dest):
            wrong.append(f"{where}: {name} ({source}) imports {target} ({dest})")
    assert not wrong, "layer contract broken:\n" + "\n".join(sorted(set(wrong)))


def test_the_layer_graph_has_no_cycle() -> None:
    """Implied by the order above, checked on its own so that a wrong LAYERS table (a layer
    listed twice, say) cannot hide a cycle."""
    graph: dict[str, set[str]] = {}
    for name, _, target in EDGES:
        source, dest = _layer(name), _layer(target)
        if source and dest and source != dest:
            graph.setdefault(source, set()).add(dest)
    import networkx as nx

    cycles = list(nx.simple_cycles(nx.DiGraph([(a, b) for a in graph for b in graph[a]])))
    assert not cycles, cycles


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [("core", "documents", True), ("documents", "core", False), ("render", "sources", False),
     ("sources", "trace", True), ("base", "accel", False), ("cli", "run", True)],
)  # fmt: skip
def test_the_rule_itself(source: str, target: str, allowed: bool) -> None:
    ok = source == target or _rank(source) < _rank(target)
    assert ok is allowed
