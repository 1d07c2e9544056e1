"""A fast path for valid JSON workloads.

msgspec decodes the file straight into the declared records
(:class:`serialscale.documents.workload.PlainWorkload`) and checks every type, key and
constraint in C, and a compiled scan rules out repeated keys. Anything it does not accept (a
wrong type, an unknown key, a repeated key, a negative cost, a duration, ``params``...)
returns ``None``, and the caller takes the fully checked path, which finds and locates the
problem. Valid input gets the same workload either way; the tests check that.
"""

# No ``from __future__ import annotations`` here: msgspec reads the annotations of the record
# classes below at run time, inside the function that defines them.
from array import array
from functools import cache
from typing import Annotated, Any, get_args

from .. import accel
from ..base.defaults import DEFAULT_MAX_DEPENDENCIES
from ..base.limits import process_memory_limits
from .columns import Columns


@cache
def _decoders() -> Any:
    """Two decoders of the declared plain workload (:mod:`serialscale.documents.workload`):
    needs left undecoded (``msgspec.Raw``, resolved by the compiled ``json_needs``), and the
    declaration itself (needs as lists of names, for what that declines)."""
    import msgspec

    from ..documents.workload import PlainWorkload, Step

    raw_needs = [
        (f.name, msgspec.Raw, msgspec.Raw(b"[]"))
        if f.name == "needs"
        else (f.name, f.type, f.default)
        for f in msgspec.structs.fields(Step)
    ]
    raw_step = msgspec.defstruct("RawStep", raw_needs, forbid_unknown_fields=True, gc=False)
    raw_document = msgspec.defstruct(
        "RawDocument",
        [(f.name, _steps_of(raw_step, f.type) if f.name == "steps" else f.type, f.default)
         for f in msgspec.structs.fields(PlainWorkload)],
        forbid_unknown_fields=True,
    )  # fmt: skip
    return (
        msgspec.json.Decoder(raw_document),
        msgspec.json.Decoder(PlainWorkload),
        msgspec.DecodeError,
    )


def _steps_of(step: Any, declared: Any) -> Any:
    """The declared type of ``steps`` (a list with constraints) with ``step`` as its item."""
    parts = (list[step], *get_args(declared)[1:])
    return Annotated.__class_getitem__(parts)  # type: ignore[attr-defined]


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
    finite = process_memory_limits()
    if not finite:
        return True
    import resource

    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return False  # limited, and we cannot tell how much is left: be safe
    return min(finite) - used > MEMORY_FACTOR * size


def json_columns(data: bytes, max_dependencies: int = DEFAULT_MAX_DEPENDENCIES) -> Columns | None:
    """The columns of a valid JSON workload, or ``None`` to take the checked path."""
    fast = accel.kernels()
    if fast.json_duplicate_key(data) != -1:
        return None  # or the scan gave up (-2): the checked path finds any repeated key
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
    steps = doc.steps  # non-empty, ids non-empty, costs >= 0: the declaration says so
    costs = [s.cost for s in steps]
    if str in set(map(type, costs)):
        return None  # a duration (90s): converted on the checked path, which knows the unit
    if any(s.span is not None for s in steps):
        return None  # steps with parallelism inside: the checked path reads their spans
    ids = [s.id for s in steps]
    if int in set(map(type, ids)):
        ids = list(map(str, ids))
    name, description, unit = (_text(x) for x in (doc.name, doc.description, doc.unit))
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
    return Columns(name, description, unit, ids, costs, [s.needs or [] for s in steps])


def _text(value: Any) -> str | None:
    """A text field as the checked path reads it: a number as its text."""
    return value if value is None or type(value) is str else str(value)


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
