"""Traced targets that test comparisons by identity (issue 23): a module of their own, since
a module that makes such a test hands its comparisons over as plain bools everywhere."""

import serialscale as ss


def matched(n: int = 8):
    xs = ss.inputs([(i * 3) % 8 for i in range(n)])
    t = 0
    for x in xs:
        match x > 2:
            case True:
                t += x
            case False:
                t -= 1
    return t


def stored(n: int = 8):
    xs = ss.inputs([(i * 3) % 8 for i in range(n)])
    hits = []
    for x in xs:
        flag = x >= 4
        hits.append(flag is True)
        hits.append(True is (x == 3))
    return hits


def both(n: int = 8):
    xs = ss.inputs([(i * 3) % 8 for i in range(n)])
    t = 0
    for x in xs:
        if x > 2:  # still a branch of the code as written
            t += x
        if (x < 5) is True:
            t -= 1
    return t


def _is_yes(flag):
    return flag is True


def helper(n: int = 8):
    """The identity test is in another function of the module, handed the comparison."""
    xs = ss.inputs([(i * 3) % 8 for i in range(n)])
    return [_is_yes(x > 3) for x in xs]


def identity(n: int = 8):
    """Comparisons tested by identity (``match ... case True:``, ``is False``, ``type(c) is
    bool``) and printed: the results of the plain run (issue 23)."""
    xs = ss.inputs([(i * 5) % 7 - 2.5 for i in range(n)])
    total = 0.0
    for x in xs:
        match x > 0:
            case True:
                total += x
            case False:
                total -= 1
        flag = x < 1
        if flag is False or (type(flag) is bool and x > 2):
            total *= 2
    return total, str(xs[0]), repr(xs[1]), "%s|%r" % (xs[2], xs[3])  # noqa: UP031 (what the plain run prints), str(xs[:2])
