"""How files are read (``--from``, ``--durations``, ``--reverse-edges``): imported with the
package, unlike the readers themselves (:mod:`.registry`), so that the public functions'
annotations resolve."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadOptions:
    """How files are read: the format (``--from``; ``None`` detects it), the times of a real
    run (``--durations``: a GitHub Actions run's jobs; for other graphs a Chrome/Perfetto or
    Nextflow trace, see :mod:`.run_times`), and whether DOT edges point from a step to what it needs
    (``--reverse-edges``, as ``bazel query``, ``cmake --graphviz`` and ``terraform graph``
    draw them)."""

    fmt: str | None = None
    durations: str | None = None
    reverse_edges: bool = False


DEFAULT_READ = ReadOptions()
