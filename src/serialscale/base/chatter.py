"""How much a command says on standard error besides its errors: ``-q/--quiet`` and
``-v/--verbose``.

- quiet: errors (located input errors, failed gates, unwritable output) and the requested
  output only; no notes, no progress, no success line;
- normal: notes too (files skipped, settings ignored, what a configuration file writes);
- verbose: details too (every skipped file, the configuration file read and what it set, the
  reader each target was read with, how long each step of the command took).

Errors go through :func:`serialscale.base.errors.say` whatever the level.
"""

from __future__ import annotations

import time

from .errors import say

QUIET, NORMAL, VERBOSE = -1, 0, 1

_level = NORMAL
_started = time.perf_counter()


def set_level(quiet: bool = False, verbose: bool = False) -> None:
    """Set the level from the flags (the command line checks that not both are given)."""
    global _level, _started
    _level = QUIET if quiet else VERBOSE if verbose else NORMAL
    _started = time.perf_counter()


def level() -> int:
    """The current level: :data:`QUIET`, :data:`NORMAL` or :data:`VERBOSE`."""
    return _level


def quiet() -> bool:
    """Whether only errors and the requested output are wanted (no notes, no progress)."""
    return _level <= QUIET


def verbose() -> bool:
    """Whether details are wanted."""
    return _level >= VERBOSE


def note(text: object) -> None:
    """Say ``text`` (one safe line on stderr) unless quiet."""
    if _level >= NORMAL:
        say(text)


def detail(text: object) -> None:
    """Say ``text`` only when verbose."""
    if _level >= VERBOSE:
        say(text)


def timing(what: str) -> None:
    """When verbose: ``what`` and the seconds since the command started."""
    if _level >= VERBOSE:
        say(f"serialscale: {what} after {time.perf_counter() - _started:.3f} s")
