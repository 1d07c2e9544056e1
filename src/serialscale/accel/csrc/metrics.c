/* The ASAP schedule, bottom levels, slack, critical path and profile (see metrics.py). */
#include "kernels.h"

#include <math.h>

/* asap(order, pred_ptr, pred_idx, costs, extra, start_out, finish_out) -> the largest finish
 * (0.0 for no steps): the depth, without a Python float per step to find it */
PyObject *k_asap(PyObject *self, PyObject *args) {
    PyObject *o[6];
    double extra;
    if (!PyArg_ParseTuple(args, "OOOOdOO", &o[0], &o[1], &o[2], &o[3], &extra, &o[4], &o[5]))
        return NULL;
    Buf b[6] = {0};
    if (get_buf(o[0], &b[0], 'q', 0, "order") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'q', n + 1, "pred_ptr") < 0) goto fail;
    if (get_buf(o[2], &b[2], 'q', 0, "pred_idx") < 0) goto fail;
    if (get_buf(o[3], &b[3], 'd', n, "costs") < 0) goto fail;
    if (get_out(o[4], &b[4], 'd', n, "start") < 0) goto fail;
    if (get_out(o[5], &b[5], 'd', n, "finish") < 0) goto fail;
    double top = 0.0; /* the largest finish, max(finish, default=0.0): the depth */
    {
        int64_t *order = I64(b[0]), *ptr = I64(b[1]), *idx = I64(b[2]);
        double *cost = F64(b[3]), *start = F64(b[4]), *finish = F64(b[5]);
        Bad bad = {0};
        int checked;
        Py_BEGIN_ALLOW_THREADS /* the checks too: another thread may run meanwhile */
        checked = scan_index(order, n, n, "order", &bad) == 0 &&
                  scan_csr(ptr, idx, n, LEN(b[2]), "pred_ptr", "pred_idx", &bad) == 0;
        for (Py_ssize_t k = 0; checked && k < n; k++) {
            int64_t v = order[k];
            double s = 0.0;
            int first = 1;
            for (int64_t e = ptr[v]; e < ptr[v + 1]; e++) {
                double f = finish[idx[e]];
                if (first || f > s) { s = f; first = 0; }
            }
            start[v] = s;
            finish[v] = extra != 0.0 ? s + cost[v] + extra : s + cost[v];
            if (finish[v] > top) top = finish[v];
        }
        Py_END_ALLOW_THREADS
        if (!checked) {
            raise_bad(&bad);
            goto fail;
        }
    }
    release(b, 6);
    return PyFloat_FromDouble(top);
fail:
    release(b, 6);
    return NULL;
}

/* bottom_levels(order, succ_ptr, succ_idx, costs, out) */
PyObject *k_bottom_levels(PyObject *self, PyObject *args) {
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    Buf b[5] = {0};
    if (get_buf(o[0], &b[0], 'q', 0, "order") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'q', n + 1, "succ_ptr") < 0) goto fail;
    if (get_buf(o[2], &b[2], 'q', 0, "succ_idx") < 0) goto fail;
    if (get_buf(o[3], &b[3], 'd', n, "costs") < 0) goto fail;
    if (get_out(o[4], &b[4], 'd', n, "out") < 0) goto fail;
    {
        int64_t *order = I64(b[0]), *ptr = I64(b[1]), *idx = I64(b[2]);
        double *cost = F64(b[3]), *level = F64(b[4]);
        Bad bad = {0};
        int checked;
        Py_BEGIN_ALLOW_THREADS /* the checks too: another thread may run meanwhile */
        checked = scan_index(order, n, n, "order", &bad) == 0 &&
                  scan_csr(ptr, idx, n, LEN(b[2]), "succ_ptr", "succ_idx", &bad) == 0;
        for (Py_ssize_t k = n - 1; checked && k >= 0; k--) {
            int64_t v = order[k];
            double best = 0.0;
            int first = 1;
            for (int64_t e = ptr[v]; e < ptr[v + 1]; e++) {
                double l = level[idx[e]];
                if (first || l > best) { best = l; first = 0; }
            }
            level[v] = cost[v] + best;
        }
        Py_END_ALLOW_THREADS
        if (!checked) {
            raise_bad(&bad);
            goto fail;
        }
    }
    release(b, 5);
    Py_RETURN_NONE;
fail:
    release(b, 5);
    return NULL;
}

/* Sort n times (finite, >= 0) in place. */
static int sort_times(double *a, Py_ssize_t n) {
    uint64_t *key = malloc(sizeof(uint64_t) * (n > 0 ? n : 1));
    if (!key) return -1;
    for (Py_ssize_t i = 0; i < n; i++) key[i] = time_bits(a[i]);
    if (radix_sort(key, NULL, n) < 0) {
        free(key);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) memcpy(&a[i], &key[i], sizeof(double));
    free(key);
    return 0;
}

/* Append the segment (start, end, running) to `out`, times as ints when `integral`. */
static int append_segment(PyObject *out, int integral, double start, double end, int64_t running) {
    PyObject *seg;
    if (integral) { /* PyLong_FromDouble: exact for any whole double, an error for NaN */
        PyObject *a = PyLong_FromDouble(start), *z = a ? PyLong_FromDouble(end) : NULL;
        if (!z) {
            Py_XDECREF(a);
            return -1;
        }
        seg = Py_BuildValue("(NNL)", a, z, (long long)running);
    } else {
        seg = Py_BuildValue("(ddL)", start, end, (long long)running);
    }
    int r = seg ? PyList_Append(out, seg) : -1;
    Py_XDECREF(seg);
    return r;
}

/* The profile when every time of a step with cost > 0 is a whole number in lo..hi (lo > hi:
 * no such step): the net change of the
 * running count at each whole time, counted in an array, then walked from lo (the least
 * time) to hi (the largest). The
 * same segments as the sorted merge below: a time where nothing starts or ends changes
 * nothing, and the walk starts at the first time and ends the last segment at the last. */
static PyObject *dense_profile(const double *start, const double *finish, const double *cost,
                               Py_ssize_t n, int integral, double lo, double hi) {
    PyObject *out = PyList_New(0);
    if (!out || lo > hi) return out;
    Py_ssize_t first = (Py_ssize_t)lo, last = (Py_ssize_t)hi;
    int64_t *d = calloc((size_t)(last - first + 1), sizeof(int64_t));
    if (!d) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!(cost[i] > 0)) continue;
        d[(Py_ssize_t)start[i] - first]++;
        d[(Py_ssize_t)finish[i] - first]--;
    }
    int64_t running = 0, seg_running = -1;
    Py_ssize_t seg_start = first;
    for (Py_ssize_t t = first; out && t < last; t++) {
        running += d[t - first];
        if (running != seg_running) {
            if (seg_running >= 0 &&
                append_segment(out, integral, (double)seg_start, (double)t, seg_running) < 0)
                Py_CLEAR(out);
            seg_start = t;
            seg_running = running;
        }
    }
    if (out && seg_running >= 0 &&
        append_segment(out, integral, (double)seg_start, (double)last, seg_running) < 0)
        Py_CLEAR(out);
    free(d);
    return out;
}

/* profile(start, finish, costs, integral) -> list of (start, end, running), as
 * metrics.profile; times are ints when `integral` (whole-number costs), else floats. */
PyObject *k_profile(PyObject *self, PyObject *args) {
    PyObject *o[3];
    int integral;
    if (!PyArg_ParseTuple(args, "OOOp", &o[0], &o[1], &o[2], &integral)) return NULL;
    Buf b[3] = {0};
    PyObject *out = NULL;
    if (get_buf(o[0], &b[0], 'd', 0, "start") < 0) goto done;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'd', n, "finish") < 0) goto done;
    if (get_buf(o[2], &b[2], 'd', n, "costs") < 0) goto done;
    /* One pass: the times checked (the radix sort orders finite times >= 0 only), and
     * whether they are whole numbers in a small range (integer costs: counted, not sorted),
     * the tests folded with & (no branch per step but the cost's). */
    double *start = F64(b[0]), *finish = F64(b[1]), *cost = F64(b[2]);
    double limit = 4.0 * (double)n + 65536.0, lo = HUGE_VAL, hi = -1.0;
    int good = 1, whole = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!(cost[i] > 0)) continue;
        double s = start[i], f = finish[i];
        good &= (s >= 0.0) & (s < HUGE_VAL) & (f >= 0.0) & (f < HUGE_VAL);
        /* cast only what fits (<= limit); anything else counts as not whole */
        double s1 = (s >= 0.0) & (s <= limit) ? s : 0.5;
        double f1 = (f >= 0.0) & (f <= limit) ? f : 0.5;
        whole &= (s1 == (double)(int64_t)s1) & (f1 == (double)(int64_t)f1);
        double a1 = s < f ? s : f, z = s < f ? f : s; /* any times, not only an ASAP's */
        lo = a1 < lo ? a1 : lo;
        hi = z > hi ? z : hi;
    }
    if (!good) {
        PyErr_SetString(PyExc_ValueError, "profile: times must be finite and >= 0");
        goto done;
    }
    if (n > 0 && whole) {
        out = dense_profile(start, finish, cost, n, integral, lo, hi);
        goto done;
    }
    {
        double *up = malloc(sizeof(double) * (n + 1)), *down = malloc(sizeof(double) * (n + 1));
        double *t = malloc(sizeof(double) * (2 * n + 1));
        int64_t *d = malloc(sizeof(int64_t) * (2 * n + 1));
        int bad = !up || !down || !t || !d;
        Py_ssize_t m = 0, u = 0;
        if (!bad) {
            for (Py_ssize_t i = 0; i < n; i++) {
                if (cost[i] > 0) {
                    up[m] = start[i];
                    down[m++] = finish[i];
                }
            }
            bad = sort_times(up, m) < 0 || sort_times(down, m) < 0;
        }
        if (bad) {
            free(up); free(down); free(t); free(d);
            PyErr_NoMemory();
            goto done;
        }
        /* merge the sorted starts (+1) and finishes (-1) into net deltas at distinct times */
        for (Py_ssize_t i = 0, j = 0; i < m || j < m;) {
            double x;
            int64_t delta;
            if (j >= m || (i < m && up[i] <= down[j])) { x = up[i++]; delta = 1; }
            else { x = down[j++]; delta = -1; }
            if (u > 0 && t[u - 1] == x) d[u - 1] += delta;
            else { t[u] = x; d[u] = delta; u++; }
        }
        free(up);
        free(down);
        out = PyList_New(0);
        int64_t running = 0, seg_running = -1;
        double seg_start = 0.0;
        for (Py_ssize_t k = 0; out && k + 1 < u; k++) {
            running += d[k];
            if (running != seg_running) {
                if (seg_running >= 0 && append_segment(out, integral, seg_start, t[k], seg_running) < 0)
                    Py_CLEAR(out);
                seg_start = t[k];
                seg_running = running;
            }
        }
        if (out && seg_running >= 0 && append_segment(out, integral, seg_start, t[u - 1], seg_running) < 0)
            Py_CLEAR(out);
        free(t);
        free(d);
    }
done:
    release(b, 3);
    return out;
}

/* critical_path(pred_ptr, pred_idx, succ_ptr, start, finish, depth) -> list of indices */
PyObject *k_critical_path(PyObject *self, PyObject *args) {
    PyObject *o[5];
    double depth;
    if (!PyArg_ParseTuple(args, "OOOOOd", &o[0], &o[1], &o[2], &o[3], &o[4], &depth)) return NULL;
    Buf b[5] = {0};
    PyObject *out = NULL;
    if (get_buf(o[3], &b[3], 'd', 0, "start") < 0) goto done;
    Py_ssize_t n = LEN(b[3]);
    if (get_buf(o[0], &b[0], 'q', n + 1, "pred_ptr") < 0) goto done;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto done;
    if (get_buf(o[2], &b[2], 'q', n + 1, "succ_ptr") < 0) goto done;
    if (get_buf(o[4], &b[4], 'd', n, "finish") < 0) goto done;
    if (check_csr(&b[0], &b[1], n, "pred_ptr", "pred_idx") < 0) goto done;
    if (check_ptr(&b[2], n, INT64_MAX, "succ_ptr") < 0) goto done;
    {
        int64_t *pptr = I64(b[0]), *pidx = I64(b[1]), *sptr = I64(b[2]);
        double *start = F64(b[3]), *finish = F64(b[4]);
        out = PyList_New(0);
        if (!out || n == 0) goto done;
        int64_t v = -1;
        for (Py_ssize_t i = 0; i < n; i++)
            if (finish[i] == depth && sptr[i] == sptr[i + 1]) { v = i; break; }
        if (v < 0) { /* as the Python twin: finish does not reach depth at a last step */
            Py_CLEAR(out);
            PyErr_SetString(PyExc_ValueError, "critical_path: no step without successors "
                                              "finishes at depth");
            goto done;
        }
        int64_t *path = malloc(sizeof(int64_t) * (n + 1));
        if (!path) { Py_CLEAR(out); PyErr_NoMemory(); goto done; }
        Py_ssize_t len = 0;
        path[len++] = v;
        while (pptr[v + 1] > pptr[v]) {
            double s = start[v];
            int64_t best = -1;
            for (int64_t e = pptr[v]; e < pptr[v + 1]; e++) {
                int64_t u = pidx[e];
                if (finish[u] == s && (best < 0 || u < best)) best = u;
            }
            if (best < 0 || len >= n) { /* start and finish do not come from one schedule */
                free(path);
                Py_CLEAR(out);
                PyErr_SetString(PyExc_ValueError, "critical_path: start and finish are not an "
                                                  "ASAP schedule of this graph");
                goto done;
            }
            v = best;
            path[len++] = v;
        }
        for (Py_ssize_t k = len - 1; k >= 0; k--) {
            PyObject *x = PyLong_FromLongLong(path[k]);
            if (!x || PyList_Append(out, x) < 0) { Py_XDECREF(x); Py_CLEAR(out); break; }
            Py_DECREF(x);
        }
        free(path);
    }
done:
    release(b, 5);
    return out;
}

/* slack(start, levels, depth, tol, out): out = depth - level - start, or 0 when <= tol */
PyObject *k_slack(PyObject *self, PyObject *args) {
    PyObject *o[3];
    double depth, tol;
    if (!PyArg_ParseTuple(args, "OOddO", &o[0], &o[1], &depth, &tol, &o[2])) return NULL;
    Buf b[3] = {0};
    if (get_buf(o[0], &b[0], 'd', 0, "start") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'd', n, "levels") < 0) goto fail;
    if (get_out(o[2], &b[2], 'd', n, "out") < 0) goto fail;
    {
        double *start = F64(b[0]), *level = F64(b[1]), *out = F64(b[2]);
        for (Py_ssize_t i = 0; i < n; i++) {
            double x = depth - level[i] - start[i];
            out[i] = x <= tol ? 0.0 : x;
        }
    }
    release(b, 3);
    Py_RETURN_NONE;
fail:
    release(b, 3);
    return NULL;
}

/* near_critical(slack, count) -> list of step indices: the `count` steps with the least
 * slack other than 0, the least first, ties by index (analysis.near_critical, the pure
 * twin). One pass, keeping the best `count` in a max-heap of (slack, index). */
typedef struct {
    double slack;
    Py_ssize_t index;
} Near;

static inline int near_after(Near a, Near b) { /* a ranks after b */
    return a.slack > b.slack || (a.slack == b.slack && a.index > b.index);
}

static void near_sift_down(Near *h, Py_ssize_t size, Py_ssize_t i) {
    for (;;) {
        Py_ssize_t c = 2 * i + 1, top = i;
        if (c < size && near_after(h[c], h[top])) top = c;
        if (c + 1 < size && near_after(h[c + 1], h[top])) top = c + 1;
        if (top == i) return;
        Near t = h[i];
        h[i] = h[top];
        h[top] = t;
        i = top;
    }
}

/* The `count` nonzero values of values[0..n) that rank first, in rank order: the least first
 * (sign 1.0) or the largest first (sign -1.0), ties by index. One pass, keeping the best
 * `count` in a max-heap of (sign * value, index). A list of step indices, or NULL. */
static PyObject *rank_nonzero(const double *values, Py_ssize_t n, Py_ssize_t count, double sign) {
    Py_ssize_t cap = count < 0 ? 0 : (count < n ? count : n), size = 0;
    Near *h = malloc(sizeof(Near) * (cap > 0 ? cap : 1));
    if (!h) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n && cap > 0; i++) {
        double s = values[i];
        if (s == 0.0) continue; /* on a critical path (filter(None, ...) drops it) */
        Near x = {sign * s, i};
        if (size < cap) { /* sift up */
            Py_ssize_t j = size++;
            while (j > 0 && near_after(x, h[(j - 1) / 2])) {
                h[j] = h[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            h[j] = x;
        } else if (near_after(h[0], x)) { /* better than the worst kept */
            h[0] = x;
            near_sift_down(h, size, 0);
        }
    }
    /* the kept ones, best first: pop the worst to the back, one after another */
    for (Py_ssize_t end = size - 1; end > 0; end--) {
        Near t = h[0];
        h[0] = h[end];
        h[end] = t;
        near_sift_down(h, end, 0);
    }
    PyObject *out = PyList_New(size);
    for (Py_ssize_t i = 0; out && i < size; i++) {
        PyObject *v = PyLong_FromSsize_t(h[i].index);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, v);
    }
    free(h);
    return out;
}

PyObject *k_near_critical(PyObject *self, PyObject *args) {
    PyObject *o;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "On", &o, &count)) return NULL;
    Buf b[1] = {0};
    PyObject *out = NULL;
    if (get_buf(o, &b[0], 'd', 0, "slack") == 0) out = rank_nonzero(F64(b[0]), LEN(b[0]), count, 1.0);
    release(b, 1);
    return out;
}

/* most(values, count) -> list of indices: the `count` largest values other than 0, the
 * largest first, ties by index (= sorted(nonzero, key=value, reverse=True)[:count], a
 * stable sort); ValueError for a NaN (it has no rank). The steps with the most drag. */
PyObject *k_most(PyObject *self, PyObject *args) {
    PyObject *o;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "On", &o, &count)) return NULL;
    Buf b[1] = {0};
    PyObject *out = NULL;
    if (get_buf(o, &b[0], 'd', 0, "values") == 0) {
        const double *values = F64(b[0]);
        Py_ssize_t n = LEN(b[0]), i = 0;
        while (i < n && !isnan(values[i])) i++;
        if (i < n) PyErr_SetString(PyExc_ValueError, "most: values must not be NaN");
        else out = rank_nonzero(values, n, count, -1.0);
    }
    release(b, 1);
    return out;
}
