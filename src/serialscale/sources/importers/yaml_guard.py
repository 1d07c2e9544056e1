"""Composing YAML documents with bounds, for the CI readers: an alias bomb ("billion
laughs") stops at :data:`MAX_ALIAS_EXPANSION` nodes beyond those written, before anything is
built; too deep a nesting and every YAML error are located errors."""

from __future__ import annotations

from typing import Any

import yaml

from ...base.errors import Location, WorkloadError

#: Nodes an anchored structure may add when its aliases are expanded (beyond the nodes
#: written); a "billion laughs" document stops here instead of filling memory.
MAX_ALIAS_EXPANSION = 1_000_000


def yaml_documents(loader: Any, text: str, source: str) -> list[Any]:
    """Every document ``loader`` (made on ``text``) composes, each checked for alias
    expansion before it is constructed; the loader is disposed of."""
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if "&" in text:  # without an anchor there is no alias: nothing can expand
                written, expanded = _expanded_size(node)
                if expanded > written + MAX_ALIAS_EXPANSION:
                    mark = node.start_mark
                    raise WorkloadError(
                        f"aliases (*name) expand this document to more than "
                        f"{MAX_ALIAS_EXPANSION:,} more nodes than it writes",
                        Location(source, mark.line + 1, mark.column + 1),
                    )
            docs.append(loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise WorkloadError(f"YAML syntax error: {exc.problem or exc.context}",
                            Location(source, mark.line + 1 if mark else None,
                                     mark.column + 1 if mark else None)) from None  # fmt: skip
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        message = "input is nested too deeply" if isinstance(exc, RecursionError) else \
            f"YAML error: {str(exc)[:200]}"  # fmt: skip
        raise WorkloadError(message, Location(source)) from None
    finally:
        loader.dispose()
    return docs


def _expanded_size(root: yaml.Node) -> tuple[int, int]:
    """(nodes written, nodes after every alias is expanded) of a composed document; each
    node is visited once (iteratively: no recursion limit)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in size and not done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if done:
            size[key] = 1 + sum(size[id(c)] for c in children)
            continue
        size[key] = 0  # in progress (a composed document has no cycles)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return len(size), size[id(root)]
