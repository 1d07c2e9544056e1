"""Traced targets that test comparisons by identity (issue 23): a module of their own, since
a module that makes such a test hands its comparisons over as plain bools everywhere."""

import functools
import operator

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


def _logged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)

    return wrapper


@_logged
def _is_no(flag):
    return flag is False


def decorated(n: int = 8):
    """The identity test is in a decorated function (the module holds only its wrapper)."""
    xs = ss.inputs([(i * 3) % 8 for i in range(n)])
    return [_is_no(x > 3) for x in xs]


def _between(x, lo, hi):
    return lo <= x < hi


def chained(n: int = 8):
    """A chained comparison and an `and` leave a comparison as their value."""
    xs = ss.inputs([(i * 3) % 8 - 2 for i in range(n)])
    out = []
    for x in xs:
        out.append(_between(x, 0, 5) is False)
        out.append((x > 0 and x < 4) is False)
    return out


def made_in_c(n: int = 8):
    """Comparisons made by a C function (map over operator.gt)."""
    xs = ss.inputs([(i * 3) % 8 for i in range(n)])
    return [g is True for g in map(operator.gt, xs, [2] * n)]


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
