"""A fast path for valid JSON workloads.

msgspec decodes the file straight into typed records and checks every type and key in C, and
a compiled scan rules out repeated keys. Anything it does not accept (a wrong type, an unknown
key, a repeated key, a negative cost, ``params``...) returns ``None``, and the caller takes the
fully checked path, which finds and locates the problem. Valid input gets the same workload
either way; the tests check that.
"""

# No ``from __future__ import annotations`` here: msgspec reads the annotations of the record
# classes below at run time, inside the function that defines them.
from array import array
from functools import cache
from typing import Any

from .. import accel
from ..base.defaults import DEFAULT_MAX_DEPENDENCIES
from .columns import Columns


@cache
def _decoders() -> Any:
    """Two decoders of the same document: needs left undecoded (``msgspec.Raw``, resolved
    by the compiled ``json_needs``), and needs as lists of names (for what that declines)."""
    import msgspec

    def document(needs_type: Any, needs_default: Any) -> Any:
        class Step(msgspec.Struct, forbid_unknown_fields=True, gc=False):
            id: str | int
            cost: int | float = 1
            needs: needs_type = needs_default

        class Document(msgspec.Struct, forbid_unknown_fields=True):
            steps: list[Step]
            name: str | None = None
            description: str | None = None
            unit: str | None = None

        return msgspec.json.Decoder(Document)

    return (
        document(msgspec.Raw, msgspec.Raw(b"[]")),
        document(list[str | int], []),
        msgspec.DecodeError,
    )


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


def json_columns(data: bytes, max_dependencies: int = DEFAULT_MAX_DEPENDENCIES) -> Columns | None:
    """The columns of a valid JSON workload, or ``None`` to take the checked path."""
    fast = accel.select()
    if fast is None:
        return None
    try:
        raw_decoder, decoder, decode_error = _decoders()
    except ImportError:
        return None
    if not _room_to_decode(len(data)):
        return None  # the checked path fails cleanly with a MemoryError where msgspec crashes
    try:
        doc = raw_decoder.decode(data)
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
    name, description, unit = doc.name, doc.description, doc.unit
    raws = [s.needs for s in steps]
    del doc, steps  # the step records: their ids and costs are in the columns now
    resolved = _resolve_raw(fast, ids, raws, max_dependencies)
    if resolved is not None:
        return Columns(name, description, unit, ids, costs, None, resolved)
    del raws
    # Needs the compiled pass declines (escapes, integer names, unknown names...): decoded as
    # names, for the checked resolution, which locates any problem.
    try:
        steps = decoder.decode(data).steps
    except (decode_error, ValueError):  # a need that is neither a name nor a number
        return None
    return Columns(name, description, unit, ids, costs, [s.needs for s in steps])


def _resolve_raw(
    fast: Any, ids: list[str], raws: list[Any], max_dependencies: int
) -> tuple[array, array] | None:
    """CSR arrays of the undecoded need lists, or ``None`` where the names must be decoded.

    Counts first, so a file with more needs than ``max_dependencies`` allocates nothing
    for them (the checked path then reports the limit).
    """
    n = len(ids)
    pred_ptr = array("q", bytes(8 * (n + 1)))
    m = fast.json_needs(ids, raws, pred_ptr, None)
    if m < 0 or m > max_dependencies:
        return None
    pred_idx = array("q", bytes(8 * m))
    if fast.json_needs(ids, raws, pred_ptr, pred_idx) != m:
        return None  # also: a repeated id, found while filling
    return pred_ptr, pred_idx
