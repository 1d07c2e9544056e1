"""Bounds on what one target may cost to read, each with its default and its flag.

Every limit stops the work with a clear message naming the limit and the flag that raises
it, before memory or time runs out. They count what is really made: a template's steps and
dependencies (need-level ``foreach`` loops and YAML aliases included), a traced function's
recorded operations, the bytes of an input file.
"""

from __future__ import annotations

from dataclasses import dataclass

from .defaults import (
    DEFAULT_MAX_DEPENDENCIES,
    DEFAULT_MAX_INPUT_BYTES,
    DEFAULT_MAX_OPS,
    DEFAULT_MAX_STEPS,
)


@dataclass(frozen=True)
class Limits:
    """Limits for loading one target.

    - ``max_steps`` (``--max-steps``): steps a workload may have, after template expansion.
    - ``max_dependencies`` (``--max-dependencies``): dependencies (need entries) a workload
      may have, after expansion of templates and of YAML aliases.
    - ``max_input_bytes`` (``--max-input-size``): bytes read from one input file or stdin.
    - ``max_ops`` (``--max-ops``): operations a traced function may record.
    - ``timeout`` (``--timeout``): seconds a traced function may run; ``None`` for no limit.
    """

    max_steps: int = DEFAULT_MAX_STEPS
    max_dependencies: int = DEFAULT_MAX_DEPENDENCIES
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES
    max_ops: int = DEFAULT_MAX_OPS
    timeout: float | None = None


DEFAULT_LIMITS = Limits()


def process_memory_limits() -> list[int]:
    """The finite soft limits on this process's address space and data (``ulimit -v``,
    ``-d``), in bytes; none where there is none (or no such limits: not POSIX)."""
    try:
        import resource
    except ImportError:
        return []
    limits = [resource.getrlimit(r)[0] for r in (resource.RLIMIT_AS, resource.RLIMIT_DATA)]
    return [limit for limit in limits if limit != resource.RLIM_INFINITY]
