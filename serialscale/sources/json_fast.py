"""A fast path for valid JSON workloads.

msgspec decodes the file straight into typed records and checks every type and key in C, and
a compiled scan rules out repeated keys. Anything it does not accept (a wrong type, an unknown
key, a repeated key, a negative cost, ``params``...) returns ``None``, and the caller takes the
fully checked path, which finds and locates the problem. Valid input gets the same workload
either way; the tests check that.
"""

# No ``from __future__ import annotations`` here: msgspec reads the annotations of the record
# classes below at run time, inside the function that defines them.
from dataclasses import dataclass
from functools import cache
from typing import Any

from .. import kernels


@dataclass(frozen=True)
class Columns:
    """A workload's fields, the steps as columns."""

    name: str | None
    description: str | None
    unit: str | None
    ids: list[str]
    costs: list[Any]
    needs: list[list[Any]]


@cache
def _decoder() -> Any:
    import msgspec

    class Step(msgspec.Struct, forbid_unknown_fields=True, gc=False):
        id: str | int
        cost: int | float = 1
        needs: list[str | int] = []

    class Document(msgspec.Struct, forbid_unknown_fields=True):
        steps: list[Step]
        name: str | None = None
        description: str | None = None
        unit: str | None = None

    return msgspec.json.Decoder(Document), msgspec.DecodeError


def json_columns(data: bytes) -> Columns | None:
    """The columns of a valid JSON workload, or ``None`` to take the checked path."""
    fast = kernels.select()
    if fast is None:
        return None
    try:
        decoder, decode_error = _decoder()
    except ImportError:
        return None
    try:
        doc = decoder.decode(data)
    except decode_error:
        return None
    steps = doc.steps
    if not steps or fast.json_duplicate_key(data) != -1:
        return None
    ids = [s.id for s in steps]
    costs = [s.cost for s in steps]
    if min(costs) < 0:
        return None
    if int in set(map(type, ids)):
        ids = list(map(str, ids))
    if "" in ids:
        return None
    return Columns(doc.name, doc.description, doc.unit, ids, costs, [s.needs for s in steps])
