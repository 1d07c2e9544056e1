"""The workload input format, declared once.

A workload file (YAML, or JSON of the same structure) is one of two documents:

- :class:`PlainWorkload`: ``name``, ``description``, ``unit`` and a non-empty list of
  :class:`Step` (``id``, ``cost``, ``needs``);
- :class:`TemplatedWorkload`: the same plus ``params``, and :class:`StepTemplate` steps with
  ``foreach`` loops, expression costs and :class:`NeedLoop` needs. A file is templated when it
  has ``params`` or a step with ``foreach`` (:func:`is_templated`).

Everything else is derived from these declarations, so it cannot drift: the JSON Schema that
``serialscale schema workload`` prints (:func:`workload_schema`), the JSON fast path's decoder
(:mod:`serialscale.sources.json_fast` decodes into :class:`PlainWorkload`), the key lists,
default cost and constraints that the checked parser (:mod:`serialscale.sources.workload_file`),
the YAML fast reader and the template expander use. ``tests/test_input_format.py`` runs random
valid and broken documents through the schema and every reader and requires the same answer.

What no schema can say is checked by the readers alone, with located errors: ids are unique,
needs name existing steps, the graph is acyclic, the costs add up to a finite number, a
duration cost needs a unit of time, expressions parse and evaluate.
"""

# No ``from __future__ import annotations``: msgspec reads these annotations at run time.
import re
import sys
from typing import Annotated, Any, Final

import msgspec
from msgspec import Meta, Struct

#: The cost of a step that gives none.
DEFAULT_COST: Final = 1

#: The largest finite float: an int cost above it could not be turned into a time or ratio.
LARGEST_FLOAT: Final = sys.float_info.max

#: A name of a param or a loop variable (ASCII, so that JSON Schema's regular expressions and
#: Python's agree on it; ``$`` would let a final newline through in Python).
IDENTIFIER: Final = r"^[A-Za-z_][A-Za-z0-9_]*(?![\s\S])"

_NUMBER = r"[0-9]+(?:\.[0-9]*)?"
#: The end of the text (``$`` in Python also matches before a final newline; this does not,
#: in Python and in JSON Schema's ECMA-262 regular expressions alike).
_END = r"(?![\s\S])"
#: A duration cost (``90s``, ``5m``, ``1h30m``, ``1.5h``, ``250ms``, ``2d``): parts in the
#: order d, h, m, s, ms, each at most once, at most 64 characters. The same language as
#: :func:`serialscale.base.words.duration_seconds` (a test compares the two).
DURATION: Final = (
    rf"^(?=[\s\S]{{1,64}}{_END})(?:{_NUMBER}d)?(?:{_NUMBER}h)?(?:{_NUMBER}m)?"
    rf"(?:{_NUMBER}s)?(?:{_NUMBER}ms)?{_END}"
)

#: A step id: non-empty text, or an integer (taken as its text).
StepId = Annotated[str, Meta(min_length=1)] | int
#: Text fields (``name``, ``description``, ``unit``): a number is taken as its text; null is
#: the same as leaving the field out.
Text = str | int | float | None
#: A number a cost may be: finite and >= 0, an int no larger than the largest float (msgspec
#: bounds ints within int64 only: the readers check that bound, :func:`workload_schema` adds it).
Number = Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0, le=LARGEST_FLOAT)]
#: A plain file's cost: a number in the workload's unit, or a duration.
Cost = Number | Annotated[str, Meta(pattern=DURATION)]
#: A templated file's cost: a number, or an expression of the params and loop variables.
CostExpression = Number | str
Identifier = Annotated[str, Meta(pattern=IDENTIFIER)]
#: ``foreach``: loop variables to ranges (``"range(n)"``; an integer ``n`` is ``range(n)``).
Foreach = Annotated[dict[Identifier, str | int], Meta(min_length=1)]


class Step(Struct, forbid_unknown_fields=True, gc=False):
    """One step of a plain workload."""

    id: StepId
    cost: Cost = DEFAULT_COST
    #: The step's own parallel depth (issue #26), 0 < span <= cost; default: the cost.
    span: Cost | None = None
    needs: list[StepId] | None = None


class PlainWorkload(Struct, forbid_unknown_fields=True):
    """A workload file without templates."""

    steps: Annotated[list[Step], Meta(min_length=1)]
    name: Text = None
    description: Text = None
    unit: Text = None


class NeedLoop(Struct, forbid_unknown_fields=True):
    """A need of a step template written as a mapping: one need per value of its loops."""

    id: StepId
    foreach: Foreach | None = None


class StepTemplate(Struct, forbid_unknown_fields=True):
    """One step of a templated workload: a step per combination of its ``foreach`` loops."""

    id: StepId
    cost: CostExpression = DEFAULT_COST
    needs: list[StepId | NeedLoop] | None = None
    foreach: Foreach | None = None


class TemplatedWorkload(Struct, forbid_unknown_fields=True):
    """A workload file with ``params`` or ``foreach`` loops."""

    steps: Annotated[list[StepTemplate], Meta(min_length=1)]
    name: Text = None
    description: Text = None
    unit: Text = None
    params: dict[Identifier, int | float] | None = None


def keys(kind: type) -> tuple[str, ...]:
    """The keys a declared mapping may have, in declaration order (required first)."""
    return tuple(f.encode_name for f in msgspec.structs.fields(kind))


def default(kind: type, key: str) -> Any:
    """The declared default of ``key`` in ``kind``."""
    return next(f.default for f in msgspec.structs.fields(kind) if f.name == key)


#: Key lists, in the order error messages give them.
TOP_KEYS: Final = ("name", "description", "unit", "params", "steps")
STEP_KEYS: Final = keys(Step)
TEMPLATE_KEYS: Final = keys(StepTemplate)
NEED_KEYS: Final = keys(NeedLoop)
TEXT_KEYS: Final = tuple(k for k in keys(PlainWorkload) if k != "steps")
assert set(TOP_KEYS) == set(keys(TemplatedWorkload)), "TOP_KEYS must list the declared keys"
assert default(Step, "cost") == default(StepTemplate, "cost") == DEFAULT_COST

_IDENTIFIER = re.compile(IDENTIFIER)


def is_identifier(name: object) -> bool:
    """Whether ``name`` may name a param or a loop variable."""
    return isinstance(name, str) and _IDENTIFIER.match(name) is not None


def is_templated(doc: Any) -> bool:
    """A workload uses templates when it has ``params`` or a step with ``foreach``."""
    steps = doc.get("steps")
    return "params" in doc or (
        isinstance(steps, list) and any(isinstance(s, dict) and "foreach" in s for s in steps)
    )


DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"


def workload_schema() -> dict[str, Any]:
    """The JSON Schema of a workload file (plain or templated), generated from the
    declarations: exactly one of the two documents, a templated one having ``params`` or a
    step with ``foreach``."""
    (plain, templated), defs = msgspec.json.schema_components([PlainWorkload, TemplatedWorkload])
    for step in ("Step", "StepTemplate"):  # msgspec bounds ints only within int64: the
        for number in defs[step]["properties"]["cost"]["anyOf"]:  # declared bound of Number
            if number.get("type") == "integer":
                number["maximum"] = LARGEST_FLOAT
    has_template = {"anyOf": [
        {"required": ["params"]},
        {"properties": {"steps": {"contains": {"type": "object", "required": ["foreach"]}}}},
    ]}  # fmt: skip
    return {
        "$schema": DRAFT,
        "title": "serialscale workload",
        "oneOf": [plain, {"allOf": [templated, has_template]}],
        "$defs": defs,
    }
