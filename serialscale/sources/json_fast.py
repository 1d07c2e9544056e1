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


#: Address space the fast path may need, as a multiple of the file's size (measured: a
#: 73 MB file of 1,000,000 steps peaks at about 8x while it is decoded and analyzed).
MEMORY_FACTOR = 10


def _room_to_decode(size: int) -> bool:
    """Whether the process may grow by ``MEMORY_FACTOR * size`` bytes under its limits.

    msgspec (0.18 to 0.22 at least) does not survive a failed allocation while it grows a
    list: under ``ulimit -v`` it crashes with SIGSEGV instead of raising MemoryError (seen in
    its list decoder's memcpy). So where the address space is limited and the headroom is
    short, the file takes the checked path, whose parser raises MemoryError cleanly.
    """
    try:
        import resource
    except ImportError:  # not POSIX: no such limits
        return True
    limits = [resource.getrlimit(r)[0] for r in (resource.RLIMIT_AS, resource.RLIMIT_DATA)]
    finite = [limit for limit in limits if limit != resource.RLIM_INFINITY]
    if not finite:
        return True
    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return False  # limited, and we cannot tell how much is left: be safe
    return min(finite) - used > MEMORY_FACTOR * size


def json_columns(data: bytes) -> Columns | None:
    """The columns of a valid JSON workload, or ``None`` to take the checked path."""
    fast = kernels.select()
    if fast is None:
        return None
    try:
        decoder, decode_error = _decoder()
    except ImportError:
        return None
    if not _room_to_decode(len(data)):
        return None  # the checked path fails cleanly with a MemoryError where msgspec crashes
    try:
        doc = decoder.decode(data)
    except (decode_error, ValueError):  # ValueError: msgspec's UnicodeDecodeError for bad
        return None  # UTF-8 in some places; the checked path locates every problem
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
