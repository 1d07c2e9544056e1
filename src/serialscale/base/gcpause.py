"""Pausing Python's cyclic garbage collector around the passes that allocate in bulk, and
turning it on around code that is not ours.

The ``serialscale`` command starts with the collector off (:mod:`serialscale.cli.entry`).
serialscale's own passes make no reference cycles; third-party parsers do (PyYAML's
loaders; pydot, which read DOT before serialscale had its own parser, left a cycle per
parsed token: a 73 KB, 5,000-edge DOT chain held 1.1 GB with the collector off, 41 MB with
it on). :func:`gc_collecting` runs those with the collector on.
"""

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


@contextmanager
def gc_collecting() -> Iterator[None]:
    """Run the block with the cyclic garbage collector on, collect what it left, and restore
    the collector's state after: for third-party parsers (PyYAML), whose
    reference cycles would otherwise stay until the process ends."""
    enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        gc.collect()
        if not enabled:
            gc.disable()
