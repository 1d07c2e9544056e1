"""Watched list.sort calls in the shapes the compiled and pure-Python wrappers must record
alike (tests/test_trace_native_selection.py): decisions in force before the sort, a branch in
the key function, lists compared in C, unbound, bound and from-C calls, numpy's methods."""

import serialscale as ss


def _stored_key(v):
    w = v + 1
    return w


def sorts_under_decisions(n: int = 12):
    xs = ss.inputs([(i * 37) % 23 for i in range(n)])
    total = xs[0] * 1
    if xs[1] > xs[2]:  # a decision in force (frame, strict, scoped) when the sorts run
        total = total + 1
    ys = list(xs)
    ys.sort()
    rows = [[x, x + 1] for x in xs[:6]]
    rows.sort()  # lists compared in C: not copied in, their comparisons recorded here
    zs = list(xs)
    zs.sort(key=lambda v: v * 2 if v > 5 else -v)  # a branch in the key function
    list.sort(zs, reverse=True)
    f = ys.sort
    f(reverse=True)
    list(map(list.sort, [rows]))
    if xs[3] > xs[4]:  # in force during this sort: its key function's store is selected
        ws = list(xs)
        ws.sort(key=_stored_key)
        total = total + ws[0]
    for row in rows:
        if row[0] > 3:  # a branch after the sorts, on a value they chose
            total = total + row[1]
        total = total - 1
    return total + ys[0] + zs[-1] + rows[0][0]


def numpy_methods(n: int = 9):
    import numpy as np

    xs = ss.inputs([(i * 5) % 7 for i in range(n)])
    if xs[0] < xs[1]:
        xs[0] = xs[0] + 1
    grid = np.array(xs, dtype=object).reshape(3, 3)
    grid.sort(axis=0)
    return grid.max() + grid.min(axis=1).sum() + np.sort(grid, axis=1)[0, 0]
