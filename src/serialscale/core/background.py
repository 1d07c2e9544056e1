"""A pass started on a thread of its own, so the caller's other passes run meanwhile.

The compiled kernels release the GIL while they run, so two long passes over one graph
(the speedup table's list schedules and drag, the ASAP schedule and the bottom levels) take
two cores instead of one after the other. The result is the same either way: each pass
reads only what it is given and writes only its own outputs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .. import accel

R = TypeVar("R")

#: Graphs of at least this many steps run their long passes side by side (a thread costs
#: ~0.1 ms to start: nothing against a pass over this many steps and their needs).
SIDE_BY_SIDE_STEPS = 20_000


def started(function: Callable[..., R], *args: Any) -> Callable[[], R]:
    """``function(*args)`` started on a thread; the function returned waits for it and gives
    its result, or raises what it raised. Where no thread can start (address space capped),
    the call runs here and now."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = function(*args)
        except BaseException as exc:  # handed to the caller, who raises it
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="serialscale-pass", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # no thread could start: run it here
        run()

    def result() -> R:
        if thread.ident is not None:  # it started
            thread.join()
        if "error" in outcome:
            raise outcome["error"]
        found: R = outcome["result"]
        return found

    return result


def beside(steps: int, function: Callable[..., R], *args: Any) -> Callable[[], R]:
    """``function(*args)`` :func:`started` on a thread for a graph of at least
    :data:`SIDE_BY_SIDE_STEPS` ``steps`` with the compiled kernels in use (the pure twins
    hold the GIL: a thread would only add its cost); else run here and now. Either way, the
    function returned gives its result."""
    if steps >= SIDE_BY_SIDE_STEPS and accel.compiled_kernels_in_use():
        return started(function, *args)
    value = function(*args)
    return lambda: value
