"""A traced target in a module with no identity test of a bool: its comparisons stay
traced bools wherever they go (tests/test_trace_identity.py)."""

import serialscale as ss


def branching_only(n: int = 8):
    xs = ss.inputs([(i * 3) % 8 for i in range(n)])
    t, flags = 0, []
    for x in xs:
        if x > 2:  # a branch: the comparison stays traced, the decision counted
            t += x
        flags.append(x < 5)  # a value, in code with no identity test: a traced bool
    return t, flags
