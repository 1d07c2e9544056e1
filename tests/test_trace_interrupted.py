"""A KeyboardInterrupt at any instant of a traced run's start or end leaves nothing of the
run in place once a later run has ended: ``list.sort`` (the method swap), the patched math
functions and ``sum``, and a name bound to a patched function before the run (module
globals) are the originals again, and no run counts as a user (trace/users.py). A count of
users stayed one too high when the interrupt landed between a run's joining and the ``try``
that makes it leave: nothing was restored again, and a later run saved the replacements as
the "originals". Every call made by the functions that join, swap, restore and leave is
interrupted in turn here (as it starts, as it returns), deterministically."""

from __future__ import annotations

import builtins
import importlib.util
import math
import sys
from pathlib import Path

import pytest

from serialscale.trace import api, mathlib, native_selection, users
from serialscale.trace.api import run_traced

TARGET = """
from math import sqrt
import serialscale as ss

def f():
    xs = ss.inputs([2.0, 1.0, 3.0])
    xs.sort()
    return sqrt(xs[0]) + sum(xs)
"""

#: The code whose every line (and return) is interrupted in turn.
WINDOWS = [
    native_selection._swap_in, native_selection._swap_out, native_selection._restore,
    native_selection._unswap, native_selection.watching_native_selection.__wrapped__,
    mathlib.recording_math.__wrapped__, mathlib._restore, api._take, api._give_back,
    api._Slot.restore, api.swapping_bound_names.__wrapped__, users.Users.join,
    users.Users.leave, users.put_back,
]  # fmt: skip


def _target(tmp_path: Path):
    path = tmp_path / "interrupted_target.py"
    path.write_text(TARGET)
    spec = importlib.util.spec_from_file_location("interrupted_target", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _interrupting(code, at: int):
    """A profile function raising KeyboardInterrupt at the ``at``-th instant (counted from 0)
    where the interpreter could run a signal handler in ``code``'s frames: as a call it
    makes starts or as one returns (C calls included: CPython runs pending handlers on
    those, and on backward jumps, not between any two instructions); ``fired[0]`` says
    whether it did."""
    seen, fired = [0], [False]

    def profile(frame, event, arg):
        if fired[0]:
            return
        mine = frame.f_code is code if event.startswith("c_") else (
            frame.f_back is not None and frame.f_back.f_code is code)  # fmt: skip
        if mine and event in ("call", "return", "c_return"):
            if seen[0] == at:
                fired[0] = True
                raise KeyboardInterrupt
            seen[0] += 1

    return profile, fired


def _all_back(module, originals) -> None:
    assert list.__dict__["sort"] is originals["sort"]
    assert builtins.sum is originals["sum"] and math.sqrt is originals["sqrt"]
    assert module.sqrt is originals["sqrt"]  # the name bound before the run
    assert native_selection._FINDER not in sys.meta_path
    assert not native_selection._runs.any() and not native_selection._swapped
    assert not native_selection._stacks  # no run's watch left for a later run to put back
    assert not mathlib._Patches.users.any() and not mathlib._Patches.saved
    assert not api._slots


@pytest.mark.parametrize("window", WINDOWS, ids=lambda f: f.__qualname__)
def test_an_interrupt_anywhere_in_a_run_s_start_or_end_is_repaired_by_the_next_run(
    tmp_path: Path, window
) -> None:
    module = _target(tmp_path)
    originals = {"sort": list.__dict__["sort"], "sum": builtins.sum, "sqrt": math.sqrt}
    plain = module.f()
    _all_back(module, originals)
    interrupted = 0
    for at in range(200):
        profile, fired = _interrupting(window.__code__, at)
        sys.setprofile(profile)
        try:
            run_traced(module.f, {})
        except KeyboardInterrupt:
            pass
        finally:
            sys.setprofile(None)
        if not fired[0]:
            break  # every call of the window was interrupted
        interrupted += 1
        again = run_traced(module.f, {})  # a clean run, which repairs whatever was left
        assert again.result.value == plain
        _all_back(module, originals)
        assert module.f() == plain
    assert interrupted > 0  # the window is on the run's path
