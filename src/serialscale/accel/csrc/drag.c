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

/* A whole number in 0..k from a double, or -1 (a position pass's result, checked). */
static inline Py_ssize_t whole_position(double x, Py_ssize_t k) {
    if (!(x >= 0.0 && x <= (double)k) || x != floor(x)) return -1;
    return (Py_ssize_t)x;
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
    int32_t *position = NULL;
    double *tree = NULL;
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
        PyErr_SetString(PyExc_ValueError, "drag_limits: depth must be finite and >= 0");
        goto done;
    }
    {
        const int64_t *pptr = I64(b[0]), *pidx = I64(b[1]), *path = I64(b[2]);
        const double *finish = F64(b[3]), *levels = F64(b[4]), *slack = F64(b[5]);
        const double *alpha = F64(b[6]), *below = F64(b[7]);
        double *out = F64(b[8]);
        Py_ssize_t top = k + 1, size = k > 0 ? k : 1;
        position = calloc(n > 0 ? n : 1, sizeof(int32_t)); /* 1-based; 0 off the path */
        tree = malloc(sizeof(double) * 2 * size);
        if (!position || !tree) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < 2 * size; i++) tree[i] = HUGE_VAL;
        for (Py_ssize_t i = 0; i < k; i++) position[path[i]] = (int32_t)(i + 1);
        for (Py_ssize_t v = 0; v < n; v++) {
            if (whole_position(alpha[v], k) < 0 || whole_position(below[v], k) < 0) {
                PyErr_SetString(PyExc_ValueError,
                                "drag_limits: alpha and below must be whole numbers in 0..k");
                goto done;
            }
        }
        for (Py_ssize_t d = 0; d < n; d++) {
            int tight = !position[d] && slack[d] < bound;
            if (!tight && !(position[d] && pptr[d + 1] - pptr[d] > 1)) continue;
            if (tight) { /* a step beside the path: alpha < i < beta */
                Py_ssize_t first = (Py_ssize_t)alpha[d] + 1, last = top - (Py_ssize_t)below[d] - 1;
                if (first <= last) lower_range(tree, k, first - 1, last - 1, slack[d]);
            }
            /* dependencies a -> d that bypass positions first..last */
            Py_ssize_t last = (Py_ssize_t)alpha[d] - (position[d] ? 1 : 0);
            if (last < 1) continue;
            for (int64_t e = pptr[d]; e < pptr[d + 1]; e++) {
                int64_t a = pidx[e];
                Py_ssize_t first = top - (Py_ssize_t)below[a] + (position[a] ? 1 : 0);
                if (first > last) continue;
                double value = depth - finish[a] - levels[d];
                if (value < bound) lower_range(tree, k, first - 1, last - 1, value);
            }
        }
        for (Py_ssize_t i = 0; i < k; i++) {
            double best = HUGE_VAL;
            for (Py_ssize_t node = i + k; node >= 1; node >>= 1)
                if (tree[node] < best) best = tree[node];
            out[i] = best;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(position);
    free(tree);
    release(b, 9);
    return result;
}
