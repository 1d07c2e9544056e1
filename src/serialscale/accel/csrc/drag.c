/* Critical-path drag's interval sweep (see drag.py): for each position of the critical path,
 * the least value of the intervals of positions that cover it. */
#include "kernels.h"

#include <math.h>

/* A minimum segment tree over positions 0..k-1 with range updates and point queries: an
 * update lowers the O(log k) nodes that cover its range; a point's value is the least on
 * its way to the root. */
static inline void lower_range(double *tree, Py_ssize_t k, Py_ssize_t lo, Py_ssize_t hi,
                               double value) {
    for (lo += k, hi += k + 1; lo < hi; lo >>= 1, hi >>= 1) {
        if (lo & 1) {
            if (value < tree[lo]) tree[lo] = value;
            lo++;
        }
        if (hi & 1) {
            hi--;
            if (value < tree[hi]) tree[hi] = value;
        }
    }
}

/* A whole number in 0..k from a double, or -1 (a position pass's result, checked; the
 * cast only once x is in range). */
static inline Py_ssize_t whole_position(double x, Py_ssize_t k) {
    if (!(x >= 0.0 && x <= (double)k) || x != (double)(Py_ssize_t)x) return -1;
    return (Py_ssize_t)x;
}

enum { SWEEP_DEPTH = -1, SWEEP_MEMORY = -2 };

/* Raise what a sweep's error code says (with the GIL). */
static void sweep_error(int code) {
    if (code == SWEEP_MEMORY) PyErr_NoMemory();
    else PyErr_SetString(PyExc_ValueError, "drag_limits: depth must be finite and >= 0");
}

/* The sweep itself, on checked arrays, without the GIL (n steps, a path of k < INT32_MAX
 * steps in range; position[v]: v's 1-based position on the path, 0 off it; alpha and below
 * whole numbers in 0..k): out[0..k) as k_drag_limits says. 0, or an error code. */
static int sweep_limits(Py_ssize_t n, const int64_t *pptr, const int64_t *pidx,
                        const int32_t *position, Py_ssize_t k, const double *finish,
                        const double *levels, const double *slack, const int32_t *alpha,
                        const int32_t *below, double depth, double bound, double *out) {
    if (!(depth >= 0.0 && depth < HUGE_VAL) || isnan(bound)) return SWEEP_DEPTH;
    Py_ssize_t top = k + 1, size = k > 0 ? k : 1;
    double *tree = malloc(sizeof(double) * 2 * size);
    /* Intervals of value 0 (the slack of the many steps that are critical too) are only
     * counted, in a difference array: a position one covers has limit min(0, the rest). */
    int64_t *zeros = calloc(size + 1, sizeof(int64_t));
    if (!tree || !zeros) {
        free(tree);
        free(zeros);
        return SWEEP_MEMORY;
    }
    for (Py_ssize_t i = 0; i < 2 * size; i++) tree[i] = HUGE_VAL;
    for (Py_ssize_t d = 0; d < n; d++) {
        int tight = !position[d] && slack[d] < bound;
        if (!tight && !(position[d] && pptr[d + 1] - pptr[d] > 1)) continue;
        if (tight) { /* a step beside the path: alpha < i < beta */
            Py_ssize_t first = (Py_ssize_t)alpha[d] + 1, last = top - (Py_ssize_t)below[d] - 1;
            if (first <= last) {
                if (slack[d] == 0.0) zeros[first - 1]++, zeros[last]--;
                else lower_range(tree, k, first - 1, last - 1, slack[d]);
            }
        }
        /* dependencies a -> d that bypass positions first..last */
        Py_ssize_t last = (Py_ssize_t)alpha[d] - (position[d] ? 1 : 0);
        if (last < 1) continue;
        for (int64_t e = pptr[d]; e < pptr[d + 1]; e++) {
            int64_t a = pidx[e];
            Py_ssize_t first = top - (Py_ssize_t)below[a] + (position[a] ? 1 : 0);
            if (first > last) continue;
            double value = depth - finish[a] - levels[d];
            if (!(value < bound)) continue;
            if (value == 0.0) zeros[first - 1]++, zeros[last]--;
            else lower_range(tree, k, first - 1, last - 1, value);
        }
    }
    int64_t covered = 0;
    for (Py_ssize_t i = 0; i < k; i++) {
        double best = HUGE_VAL;
        for (Py_ssize_t node = i + k; node >= 1; node >>= 1)
            if (tree[node] < best) best = tree[node];
        covered += zeros[i];
        out[i] = covered > 0 && !(best < 0.0) ? 0.0 : best;
    }
    free(tree);
    free(zeros);
    return 0;
}

/* drag_limits(pred_ptr, pred_idx, path, finish, levels, slack, alpha, below, depth, bound,
 *             out)
 * out[i] (i = 0..k-1, path position i + 1) = the least of:
 * - slack[x] of every step x off the path with slack[x] < bound and alpha(x) < i+1 < beta(x);
 * - depth - finish[a] - levels[d] (when < bound) of every dependency a -> d, d such a step
 *   or a path step with more than one need, with beta(a) <= i+1 <= alpha(d), neither end
 *   the path's step i+1;
 * +inf where none covers it. alpha and below (= k + 1 - beta) are drag._positions'. */
PyObject *k_drag_limits(PyObject *self, PyObject *args) {
    PyObject *o[9];
    double depth, bound;
    if (!PyArg_ParseTuple(args, "OOOOOOOOddO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &depth, &bound, &o[8]))
        return NULL;
    Buf b[9] = {0};
    PyObject *result = NULL;
    int32_t *position = NULL, *alpha = NULL, *below = NULL;
    if (get_buf(o[3], &b[3], 'd', 0, "finish") < 0) goto done;
    Py_ssize_t n = LEN(b[3]);
    if (get_buf(o[0], &b[0], 'q', n + 1, "pred_ptr") < 0) goto done;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto done;
    if (get_buf(o[2], &b[2], 'q', 0, "path") < 0) goto done;
    Py_ssize_t k = LEN(b[2]);
    if (get_buf(o[4], &b[4], 'd', n, "levels") < 0) goto done;
    if (get_buf(o[5], &b[5], 'd', n, "slack") < 0) goto done;
    if (get_buf(o[6], &b[6], 'd', n, "alpha") < 0) goto done;
    if (get_buf(o[7], &b[7], 'd', n, "below") < 0) goto done;
    if (get_out(o[8], &b[8], 'd', k, "out") < 0) goto done;
    if (check_csr(&b[0], &b[1], n, "pred_ptr", "pred_idx") < 0) goto done;
    if (check_index(&b[2], k, n, "path") < 0) goto done;
    if (k >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "drag_limits: the path is too long");
        goto done;
    }
    if (!(depth >= 0.0 && depth < HUGE_VAL) || isnan(bound)) {
        sweep_error(SWEEP_DEPTH);
        goto done;
    }
    {
        const double *alpha_in = F64(b[6]), *below_in = F64(b[7]);
        const int64_t *path = I64(b[2]);
        Py_ssize_t size = n > 0 ? n : 1;
        position = calloc(size, sizeof(int32_t)); /* 1-based; 0 off the path */
        alpha = malloc(sizeof(int32_t) * size);
        below = malloc(sizeof(int32_t) * size);
        if (!position || !alpha || !below) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t v = 0; v < n; v++) {
            Py_ssize_t x = whole_position(alpha_in[v], k), y = whole_position(below_in[v], k);
            if (x < 0 || y < 0) {
                PyErr_SetString(PyExc_ValueError,
                                "drag_limits: alpha and below must be whole numbers in 0..k");
                goto done;
            }
            alpha[v] = (int32_t)x;
            below[v] = (int32_t)y;
        }
        for (Py_ssize_t i = 0; i < k; i++) position[path[i]] = (int32_t)(i + 1);
        int code = sweep_limits(n, I64(b[0]), I64(b[1]), position, k, F64(b[3]), F64(b[4]),
                                F64(b[5]), alpha, below, depth, bound, F64(b[8]));
        if (code < 0) {
            sweep_error(code);
            goto done;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(position);
    free(alpha);
    free(below);
    release(b, 9);
    return result;
}

/* drag_values(order, pred_ptr, pred_idx, succ_ptr, succ_idx, costs, path, finish, levels,
 *             slack, depth, tol, out, on_path)
 * The whole of drag.drag on doubles in one call: the path positions (drag._positions: the
 * ASAP finish and the bottom levels with cost 1 on the path's steps, 0 elsewhere, in
 * `order`; whole numbers, here in int32), the bound (the largest cost on the path, as max()
 * finds it), the sweep of drag_limits, then each path step's drag, min(cost, limit) (the
 * cost on a tie), 0 when at most `tol`: into on_path[i] for path position i + 1 and
 * out[path[i]]; out is 0 elsewhere. out may be None: then only on_path is written. n =
 * len(order) steps. Checks and passes run without the GIL. */
PyObject *k_drag_values(PyObject *self, PyObject *args) {
    PyObject *o[12];
    double depth, tol;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOddOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &depth, &tol, &o[10], &o[11]))
        return NULL;
    Buf b[12] = {0};
    PyObject *result = NULL;
    int32_t *alpha = NULL, *below = NULL, *position = NULL;
    double *limits = NULL;
    if (get_buf(o[0], &b[0], 'q', 0, "order") < 0) goto done;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'q', n + 1, "pred_ptr") < 0) goto done;
    if (get_buf(o[2], &b[2], 'q', 0, "pred_idx") < 0) goto done;
    if (get_buf(o[3], &b[3], 'q', n + 1, "succ_ptr") < 0) goto done;
    if (get_buf(o[4], &b[4], 'q', 0, "succ_idx") < 0) goto done;
    if (get_buf(o[5], &b[5], 'd', n, "costs") < 0) goto done;
    if (get_buf(o[6], &b[6], 'q', 0, "path") < 0) goto done;
    Py_ssize_t k = LEN(b[6]);
    if (get_buf(o[7], &b[7], 'd', n, "finish") < 0) goto done;
    if (get_buf(o[8], &b[8], 'd', n, "levels") < 0) goto done;
    if (get_buf(o[9], &b[9], 'd', n, "slack") < 0) goto done;
    int every = o[10] != Py_None;
    if (every && get_out(o[10], &b[10], 'd', n, "out") < 0) goto done;
    if (get_out(o[11], &b[11], 'd', k, "on_path") < 0) goto done;
    if (k >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "drag_limits: the path is too long");
        goto done;
    }
    {
        const int64_t *order = I64(b[0]), *pptr = I64(b[1]), *pidx = I64(b[2]);
        const int64_t *sptr = I64(b[3]), *sidx = I64(b[4]), *path = I64(b[6]);
        const double *cost = F64(b[5]);
        double *out = every ? F64(b[10]) : NULL, *on_path = F64(b[11]);
        Py_ssize_t size = n > 0 ? n : 1;
        Bad bad = {0};
        int code = 0, checked = 0;
        Py_BEGIN_ALLOW_THREADS
        checked = scan_index(order, n, n, "order", &bad) == 0 &&
                  scan_csr(pptr, pidx, n, LEN(b[2]), "pred_ptr", "pred_idx", &bad) == 0 &&
                  scan_csr(sptr, sidx, n, LEN(b[4]), "succ_ptr", "succ_idx", &bad) == 0 &&
                  scan_index(path, k, n, "path", &bad) == 0;
        if (checked) {
            if (out) memset(out, 0, sizeof(double) * n);
            alpha = calloc(size, sizeof(int32_t)); /* 0 for a step the order never reaches */
            below = calloc(size, sizeof(int32_t));
            position = calloc(size, sizeof(int32_t)); /* 1-based; 0 off the path */
            limits = malloc(sizeof(double) * (k > 0 ? k : 1));
            if (!alpha || !below || !position || !limits) code = SWEEP_MEMORY;
        }
        if (checked && code == 0 && k > 0) {
            for (Py_ssize_t i = 0; i < k; i++) position[path[i]] = (int32_t)(i + 1);
            /* alpha: the asap pass's finish, below: the bottom-levels pass's levels, both
             * with cost 1 on the path's steps and 0 elsewhere (whole numbers at most k) */
            for (Py_ssize_t j = 0; j < n; j++) {
                int64_t v = order[j];
                int32_t s = 0;
                for (int64_t e = pptr[v]; e < pptr[v + 1]; e++) {
                    int32_t f = alpha[pidx[e]];
                    if (f > s) s = f;
                }
                alpha[v] = s + (position[v] != 0);
            }
            for (Py_ssize_t j = n - 1; j >= 0; j--) {
                int64_t v = order[j];
                int32_t best = 0;
                for (int64_t e = sptr[v]; e < sptr[v + 1]; e++) {
                    int32_t l = below[sidx[e]];
                    if (l > best) best = l;
                }
                below[v] = (position[v] != 0) + best;
            }
            double bound = 0.0; /* max(cost of each path step): a NaN wins only first */
            for (Py_ssize_t i = 0; i < k; i++) {
                double c = cost[path[i]];
                if (i == 0 || c > bound) bound = c;
            }
            code = sweep_limits(n, pptr, pidx, position, k, F64(b[7]), F64(b[8]), F64(b[9]),
                                alpha, below, depth, bound, limits);
            for (Py_ssize_t i = 0; code == 0 && i < k; i++) {
                double c = cost[path[i]], best = limits[i] < c ? limits[i] : c;
                if (best <= tol) best = 0.0;
                on_path[i] = best;
                if (out) out[path[i]] = best;
            }
        }
        Py_END_ALLOW_THREADS
        if (!checked) {
            raise_bad(&bad);
            goto done;
        }
        if (code < 0) {
            sweep_error(code);
            goto done;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(alpha);
    free(below);
    free(position);
    free(limits);
    release(b, 12);
    return result;
}
