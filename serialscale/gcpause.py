"""Pausing Python's cyclic garbage collector around the passes that allocate in bulk."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (and restore it after).

    Loading a big workload or building a big report allocates millions of small containers
    and frees none of them: the collector would only rescan them again and again (at a
    million steps, seconds of work for nothing). Nothing these passes build refers to
    itself, so no garbage is missed; anything else is collected once the block ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
