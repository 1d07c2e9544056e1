"""The one piece of templating that plain workloads meet: optional needs."""


class OptionalNeed(str):
    """A need written with a trailing ``?``: dropped when no step has that id."""

    __slots__ = ()
