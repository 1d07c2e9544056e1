"""What the fast readers (``json_fast``, ``yaml_fast``) hand to the workload validator."""

from __future__ import annotations

from array import array
from typing import Any


class Columns:
    """A workload's fields, the steps as columns: ``ids``, ``costs`` and ``needs`` (each
    step's need names), or instead of ``needs``, needs the compiled pass already resolved
    (``resolved``: CSR arrays ``(pred_ptr, pred_idx)``). A plain class: read on every
    command's start-up, where a dataclass or a NamedTuple costs a measurable fraction of a
    millisecond to make."""

    __slots__ = ("costs", "description", "ids", "name", "needs", "resolved", "unit")

    def __init__(
        self,
        name: str | None,
        description: str | None,
        unit: str | None,
        ids: list[str],
        costs: list[Any],
        needs: list[list[Any]] | None,
        resolved: tuple[array, array] | None = None,
    ) -> None:
        self.name, self.description, self.unit = name, description, unit
        self.ids, self.costs, self.needs, self.resolved = ids, costs, needs, resolved
