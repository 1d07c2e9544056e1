"""Step ids made on demand: ``label#k``, the k-th step recorded at a label.

A traced run records millions of steps; spelling out every id as a string when the graph is
built cost more than recording the run. :class:`OccurrenceIds` keeps one label number per
step and writes an id only when someone reads it (a report lists the critical path's ids, a
``--detail`` report every id).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload

from .. import accel


class OccurrenceIds(Sequence[str]):
    """Immutable ids ``f"{labels[site[i]]}#{k}"``, where step ``i`` is the ``k``-th step
    (from 1) whose label is ``labels[site[i]]``. Equal to a tuple of the same strings."""

    __slots__ = ("_labels", "_occurrence", "_site")

    def __init__(self, labels: Sequence[str], site: array) -> None:
        if site.typecode != "i":
            raise TypeError("site must be an array('i') of label numbers")
        # Each site must number a label: checked when the occurrences are first counted
        # (ValueError), before any id is spelled; a traced run's millions of steps pay
        # nothing for ids that nobody reads.
        self._labels = tuple(labels)
        self._site = memoryview(array("i", site)).toreadonly()  # our own copy
        self._occurrence: memoryview | None = None  # computed on first use

    def _occurrences(self) -> memoryview:
        if self._occurrence is None:
            n = len(self._site)
            out = array("q", [0]) * n  # by repetition: cheaper than from bytes
            accel.kernels().occurrences(self._site, len(self._labels), out)
            self._occurrence = memoryview(out).toreadonly()
        return self._occurrence

    def __len__(self) -> int:
        return len(self._site)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[str, ...]: ...

    def __getitem__(self, i: int | slice) -> str | tuple[str, ...]:
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        occurrence = self._occurrences()[i]  # first: it checks every site
        return f"{self._labels[self._site[i]]}#{occurrence}"

    def __iter__(self) -> Iterator[str]:
        occurrences = self._occurrences()  # first: it checks every site
        labels = [label + "#" for label in self._labels]
        return map(str.__add__, map(labels.__getitem__, self._site), map(str, occurrences))

    def take(self, indices: Sequence[int]) -> list[str]:
        """``[self[i] for i in indices]``, spelled in one kernel call (a critical path can
        be 10**5 steps and more); the occurrences of these steps only are counted, unless
        every step's already are (no 8 bytes per step for a report's few ids)."""
        labels = [label + "#" for label in self._labels]
        wanted = indices if isinstance(indices, list) else list(indices)
        if self._occurrence is None:  # it checks every site, as _occurrences()
            return accel.kernels().spell_at(labels, self._site, wanted)
        return accel.kernels().spell_ids(labels, self._site, self._occurrence, wanted)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (tuple, OccurrenceIds)) or len(other) != len(self):
            return False
        return all(map(str.__eq__, self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"OccurrenceIds({len(self)} steps, {len(self._labels)} labels)"
