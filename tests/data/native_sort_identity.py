"""A module that tests bools by identity: comparisons made in it (a watched sort's too) give
plain bools (tests/test_trace_native_selection.py)."""

import serialscale as ss

FLAG = True


def identity_sort(n: int = 8):
    xs = ss.inputs([(i * 3) % 5 for i in range(n)])
    xs.sort()
    first = xs[0] < xs[1]
    return xs[0] + xs[-1] + (1 if first is True else 0)
