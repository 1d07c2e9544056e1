"""Who is using something a traced run shares with the others going on at once (the patched
math functions, the swapped builtin methods, a name swapped for its recorded version): the
first run in puts it in place, the last one out restores it.

A count of users went wrong when a KeyboardInterrupt landed between a run's joining and the
``try`` that makes it leave (or inside the leaving): the count stayed one too high, nothing
was ever restored again, and a later run saved the replacements as "originals". Here each
run holds a token while it uses the thing, and only weakly is it counted: a run interrupted
anywhere drops its token as its frames are freed, and the next run to come or go finds no
user left (:meth:`Users.any`) and restores. What is restored is taken off its list only once
it is back (:func:`put_back`), so an interrupted restore is finished by the next one. While
something keeps the interrupted run's frames (a REPL's ``sys.last_traceback``, a stored
exception), its token lives on and the wrappers stay in place after later runs (they pass
every call through to the originals outside a run); the run after the frames are dropped
restores them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Run:
    """A run's token: alive while the run uses the shared thing (held in its frames)."""

    __slots__ = ("__weakref__",)


class Users:
    """The runs using one shared thing, each by its :class:`Run` token (held weakly). Not
    thread-safe on its own: the caller's lock guards it with the thing it counts."""

    __slots__ = ("_live",)

    def __init__(self) -> None:
        self._live: weakref.WeakSet[Run] = weakref.WeakSet()

    def join(self) -> Run:
        """One more user: its token, to hold until it calls :meth:`leave`."""
        run = Run()
        self._live.add(run)
        return run

    def leave(self, run: Run) -> None:
        """``run`` uses it no more."""
        self._live.discard(run)

    def any(self) -> bool:
        """Whether a run still uses it."""
        return len(self._live) > 0


def put_back(done: list[T], restore: Callable[[T], None]) -> None:
    """``restore`` each entry of ``done``, last first, taking each off only once restored: an
    interruption leaves the rest (and the one it stopped) for the next call."""
    while done:
        restore(done[-1])
        done.pop()
