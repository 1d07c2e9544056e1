/* Graph construction: successor lists, topological order, repeated needs (graph.py). */
#include "kernels.h"
#include "needs.h"
#include <math.h>

/* successors(pred_ptr, pred_idx, succ_ptr_out, succ_idx_out): CSR transpose, successor lists
 * in increasing index order (as the Python construction gives them). */
PyObject *k_successors(PyObject *self, PyObject *args) {
    PyObject *o[4];
    if (!PyArg_ParseTuple(args, "OOOO", &o[0], &o[1], &o[2], &o[3])) return NULL;
    Buf b[4] = {0};
    if (get_buf(o[0], &b[0], 'q', 1, "pred_ptr") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]) - 1;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
    Py_ssize_t m = LEN(b[1]);
    if (get_out(o[2], &b[2], 'q', n + 1, "succ_ptr") < 0) goto fail;
    if (get_out(o[3], &b[3], 'q', m, "succ_idx") < 0) goto fail;
    if (LEN(b[0]) < 1 || check_ptr(&b[0], n, m, "pred_ptr") < 0 || I64(b[0])[n] != m) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "pred_ptr: the last offset must be len(pred_idx)");
        goto fail;
    }
    {
        int64_t *pptr = I64(b[0]), *pidx = I64(b[1]), *sptr = I64(b[2]), *sidx = I64(b[3]);
        for (Py_ssize_t i = 0; i <= n; i++) sptr[i] = 0;
        for (Py_ssize_t e = 0; e < m; e++) {
            if (pidx[e] < 0 || pidx[e] >= n) {
                PyErr_SetString(PyExc_ValueError, "pred_idx out of range");
                goto fail;
            }
            sptr[pidx[e] + 1]++;
        }
        for (Py_ssize_t i = 0; i < n; i++) sptr[i + 1] += sptr[i];
        int64_t *fill = malloc(sizeof(int64_t) * (n + 1));
        if (!fill) { PyErr_NoMemory(); goto fail; }
        memcpy(fill, sptr, sizeof(int64_t) * (n + 1));
        for (Py_ssize_t i = 0; i < n; i++)
            for (int64_t e = pptr[i]; e < pptr[i + 1]; e++) sidx[fill[pidx[e]]++] = i;
        free(fill);
    }
    release(b, 4);
    Py_RETURN_NONE;
fail:
    release(b, 4);
    return NULL;
}

/* topological_order(pred_ptr, succ_ptr, succ_idx, order_out) -> count (< n on a cycle).
 * Input order when every step's successors come after it; otherwise Kahn's algorithm with
 * a FIFO queue seeded in input order. */
PyObject *k_topological_order(PyObject *self, PyObject *args) {
    PyObject *o[4];
    if (!PyArg_ParseTuple(args, "OOOO", &o[0], &o[1], &o[2], &o[3])) return NULL;
    Buf b[4] = {0};
    Py_ssize_t count = 0;
    if (get_buf(o[0], &b[0], 'q', 1, "pred_ptr") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]) - 1;
    if (get_buf(o[1], &b[1], 'q', n + 1, "succ_ptr") < 0) goto fail;
    if (get_buf(o[2], &b[2], 'q', 0, "succ_idx") < 0) goto fail;
    if (get_out(o[3], &b[3], 'q', n, "order") < 0) goto fail;
    if (check_ptr(&b[0], n, INT64_MAX, "pred_ptr") < 0) goto fail;
    if (check_csr(&b[1], &b[2], n, "succ_ptr", "succ_idx") < 0) goto fail;
    {
        int64_t *pptr = I64(b[0]), *sptr = I64(b[1]), *sidx = I64(b[2]), *order = I64(b[3]);
        /* Every step needed only by later ones (a traced run's, a file written in order):
         * input order is topological; the later passes then read the arrays in sequence. */
        int in_order = 1;
        for (Py_ssize_t v = 0; v < n && in_order; v++)
            for (int64_t e = sptr[v]; e < sptr[v + 1]; e++)
                if (sidx[e] <= v) { in_order = 0; break; }
        if (in_order) {
            for (Py_ssize_t v = 0; v < n; v++) order[v] = v;
            release(b, 4);
            return PyLong_FromSsize_t(n);
        }
        int64_t *rem = malloc(sizeof(int64_t) * (n > 0 ? n : 1));
        if (!rem) { PyErr_NoMemory(); goto fail; }
        for (Py_ssize_t i = 0; i < n; i++) {
            rem[i] = pptr[i + 1] - pptr[i];
            if (rem[i] == 0) order[count++] = i;
        }
        for (Py_ssize_t head = 0; head < count; head++) {
            int64_t v = order[head];
            for (int64_t e = sptr[v]; e < sptr[v + 1]; e++)
                if (--rem[sidx[e]] == 0) order[count++] = sidx[e];
        }
        free(rem);
    }
    release(b, 4);
    return PyLong_FromSsize_t(count);
fail:
    release(b, 4);
    return NULL;
}

/* count_duplicates(pred_ptr, pred_idx) -> how many needs repeat one of the same step's */
PyObject *k_count_duplicates(PyObject *self, PyObject *args) {
    PyObject *o[2];
    if (!PyArg_ParseTuple(args, "OO", &o[0], &o[1])) return NULL;
    Buf b[2] = {0};
    Py_ssize_t dups = 0;
    if (get_buf(o[0], &b[0], 'q', 1, "pred_ptr") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]) - 1;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
    if (check_csr(&b[0], &b[1], n, "pred_ptr", "pred_idx") < 0) goto fail;
    {
        int64_t *ptr = I64(b[0]), *idx = I64(b[1]);
        Py_ssize_t m = LEN(b[1]);
        int64_t *mark = NULL; /* made for the first long row: -1 = not seen in this row */
        for (Py_ssize_t i = 0; i < n; i++) {
            if (ptr[i + 1] - ptr[i] <= 4) { /* a short row (a traced step's): compared in place */
                for (int64_t e = ptr[i]; e < ptr[i + 1]; e++) {
                    int64_t v = idx[e];
                    if (e >= m || v < 0 || v >= n) {
                        free(mark);
                        PyErr_SetString(PyExc_ValueError, "pred_idx out of range");
                        goto fail;
                    }
                    for (int64_t f = ptr[i]; f < e; f++)
                        if (idx[f] == v) { dups++; break; }
                }
                continue;
            }
            if (!mark) {
                mark = malloc(sizeof(int64_t) * n);
                if (!mark) { PyErr_NoMemory(); goto fail; }
                for (Py_ssize_t j = 0; j < n; j++) mark[j] = -1;
            }
            for (int64_t e = ptr[i]; e < ptr[i + 1]; e++) {
                int64_t v = idx[e];
                if (e >= m || v < 0 || v >= n) {
                    free(mark);
                    PyErr_SetString(PyExc_ValueError, "pred_idx out of range");
                    goto fail;
                }
                if (mark[v] == i) dups++;
                else mark[v] = i;
            }
        }
        free(mark);
    }
    release(b, 2);
    return PyLong_FromSsize_t(dups);
fail:
    release(b, 2);
    return NULL;
}

/* check_graph_csr(pred_ptr, pred_idx): graph._check_csr in C, with its messages (the caller
 * turns the ValueError into a GraphError). n = len(pred_ptr) - 1 steps. */
PyObject *k_check_graph_csr(PyObject *self, PyObject *args) {
    PyObject *o[2];
    if (!PyArg_ParseTuple(args, "OO", &o[0], &o[1])) return NULL;
    Buf b[2] = {0};
    if (get_buf(o[0], &b[0], 'q', 1, "pred_ptr") < 0) goto fail;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
    {
        Py_ssize_t n = LEN(b[0]) - 1, m = LEN(b[1]);
        const int64_t *ptr = I64(b[0]), *idx = I64(b[1]);
        if (ptr[0] != 0 || ptr[n] != m) {
            PyErr_Format(PyExc_ValueError, "pred_ptr must run from 0 to %zd (the number of needs)",
                         m);
            goto fail;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if (ptr[i + 1] < ptr[i]) {
                PyErr_SetString(PyExc_ValueError, "pred_ptr must never decrease");
                goto fail;
            }
        }
        for (Py_ssize_t e = 0; e < m; e++) {
            if (idx[e] < 0 || idx[e] >= n) {
                PyErr_Format(PyExc_ValueError,
                             "pred_idx: every index must name a step, 0 to %zd", n - 1);
                goto fail;
            }
        }
    }
    release(b, 2);
    Py_RETURN_NONE;
fail:
    release(b, 2);
    return NULL;
}

/* tape_csr(a, b, c, more_steps, more_ptr, more_idx, pred_ptr_out, pred_idx_out) -> m
 * A traced run's steps to predecessor CSR (trace.recorder.Recorder.graph): step i needs a[i],
 * b[i] and c[i] (-1: none), then, when i is more_steps[k], more_idx[more_ptr[k]:more_ptr[k+1]].
 * Every need must name an earlier step (a tape records in order), more_steps must increase,
 * and pred_idx_out must have room for every need: ValueError otherwise, nothing trusted. */
PyObject *k_tape_csr(PyObject *self, PyObject *args) {
    PyObject *o[8];
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7]))
        return NULL;
    Buf b[8] = {0};
    Py_ssize_t e = 0;
    if (get_buf(o[0], &b[0], 'q', 0, "a") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'q', n, "b") < 0) goto fail;
    if (get_buf(o[2], &b[2], 'q', n, "c") < 0) goto fail;
    if (get_buf(o[3], &b[3], 'q', 0, "more_steps") < 0) goto fail;
    Py_ssize_t k_count = LEN(b[3]);
    if (get_buf(o[4], &b[4], 'q', k_count + 1, "more_ptr") < 0) goto fail;
    if (get_buf(o[5], &b[5], 'q', 0, "more_idx") < 0) goto fail;
    if (get_out(o[6], &b[6], 'q', n + 1, "pred_ptr") < 0) goto fail;
    if (get_out(o[7], &b[7], 'q', 0, "pred_idx") < 0) goto fail;
    if (LEN(b[1]) != n || LEN(b[2]) != n) {
        PyErr_SetString(PyExc_ValueError, "a, b and c differ in length");
        goto fail;
    }
    if (check_ptr(&b[4], k_count, LEN(b[5]), "more_ptr") < 0) goto fail;
    {
        const int64_t *cols[3] = {I64(b[0]), I64(b[1]), I64(b[2])};
        const int64_t *ms = I64(b[3]), *mp = I64(b[4]), *mi = I64(b[5]);
        int64_t *ptr = I64(b[6]), *idx = I64(b[7]);
        Py_ssize_t cap = LEN(b[7]), k = 0;
        for (Py_ssize_t k2 = 0; k2 < k_count; k2++) {
            if (ms[k2] < 0 || ms[k2] >= n || (k2 > 0 && ms[k2] <= ms[k2 - 1])) {
                PyErr_SetString(PyExc_ValueError, "more_steps must increase, within the steps");
                goto fail;
            }
        }
        ptr[0] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            for (int j = 0; j < 3; j++) {
                int64_t v = cols[j][i];
                if (v == -1) continue;
                if (v < 0 || v >= i || e >= cap) goto bad;
                idx[e++] = v;
            }
            if (k < k_count && ms[k] == i) {
                for (int64_t x = mp[k]; x < mp[k + 1]; x++) {
                    if (mi[x] < 0 || mi[x] >= i || e >= cap) goto bad;
                    idx[e++] = mi[x];
                }
                k++;
            }
            ptr[i + 1] = e;
        }
    }
    release(b, 8);
    return PyLong_FromSsize_t(e);
bad:
    PyErr_SetString(PyExc_ValueError,
                    "a need that names no earlier step, or pred_idx too short for the needs");
fail:
    release(b, 8);
    return NULL;
}

/* tape_needs(a, b, c) -> how many entries of the int64 columns a, b and c are not -1 (a
 * traced run's needs, -1: none): the size of the predecessor index tape_csr fills. */
PyObject *k_tape_needs(PyObject *self, PyObject *args) {
    PyObject *o[3];
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) return NULL;
    Buf b[3] = {0};
    static const char *names[3] = {"a", "b", "c"};
    Py_ssize_t count = 0;
    for (int j = 0; j < 3; j++) {
        if (get_buf(o[j], &b[j], 'q', 0, names[j]) < 0) {
            release(b, 3);
            return NULL;
        }
        const int64_t *x = I64(b[j]);
        for (Py_ssize_t i = 0, n = LEN(b[j]); i < n; i++) count += x[i] != -1;
    }
    release(b, 3);
    return PyLong_FromSsize_t(count);
}

/* occurrences(site, out): out[i] = how many of site[0..i] equal site[i] (1 for the first).
 * site holds int32 label numbers ('i'), each in [0, len(site)) or less; out is int64. Ids
 * of traced steps are "label#occurrence" (trace.recorder). */
PyObject *k_occurrences(PyObject *self, PyObject *args) {
    PyObject *o[3];
    Py_ssize_t labels;
    if (!PyArg_ParseTuple(args, "OnO", &o[0], &labels, &o[1])) return NULL;
    Py_buffer site = {0};
    Buf b[1] = {0};
    int have_site = 0;
    int64_t *count = NULL;
    Py_ssize_t n;
    if (get_sites(o[0], &site, &n) < 0) goto fail;
    have_site = 1;
    if (labels < 0) {
        PyErr_SetString(PyExc_ValueError, "labels must be >= 0");
        goto fail;
    }
    if (get_out(o[1], &b[0], 'q', n, "out") < 0) goto fail;
    count = calloc(labels > 0 ? (size_t)labels : 1, sizeof(int64_t));
    if (!count) { PyErr_NoMemory(); goto fail; }
    {
        const int32_t *s = site.buf;
        int64_t *out = I64(b[0]);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (s[i] < 0 || s[i] >= labels) {
                PyErr_Format(PyExc_ValueError, "site %d out of range 0..%zd", s[i], labels - 1);
                goto fail;
            }
            out[i] = ++count[s[i]];
        }
    }
    free(count);
    release(b, 1);
    PyBuffer_Release(&site);
    Py_RETURN_NONE;
fail:
    free(count);
    release(b, 1);
    if (have_site) PyBuffer_Release(&site);
    return NULL;
}

/* costs_ok(costs) -> bool: every cost finite and >= 0. costs: int64 ('q') or double ('d'). */
PyObject *k_costs_ok(PyObject *self, PyObject *args) {
    PyObject *o;
    if (!PyArg_ParseTuple(args, "O", &o)) return NULL;
    Buf b[1] = {0};
    int ok = 1;
    if (get_buf(o, &b[0], 'q', 0, "costs") == 0) {
        const int64_t *c = I64(b[0]);
        for (Py_ssize_t i = 0, n = LEN(b[0]); i < n && ok; i++) ok = c[i] >= 0;
    } else {
        release(b, 1);
        PyErr_Clear();
        if (get_buf(o, &b[0], 'd', 0, "costs") < 0) {
            release(b, 1);
            return NULL;
        }
        const double *c = F64(b[0]);
        /* NaN fails both comparisons; infinity fails the second */
        for (Py_ssize_t i = 0, n = LEN(b[0]); i < n && ok; i++) ok = c[i] >= 0 && c[i] < INFINITY;
    }
    release(b, 1);
    return PyBool_FromLong(ok);
}

/* as_doubles(costs, out): out[i] = (double)costs[i], int64 to double, rounded to nearest
 * (ties to even) as Python's float(int) is: the costs_f64 of integer costs without a Python
 * float per step. */
PyObject *k_as_doubles(PyObject *self, PyObject *args) {
    PyObject *o[2];
    if (!PyArg_ParseTuple(args, "OO", &o[0], &o[1])) return NULL;
    Buf b[2] = {0};
    PyObject *out = NULL;
    if (get_buf(o[0], &b[0], 'q', 0, "costs") < 0) goto done;
    Py_ssize_t n = LEN(b[0]);
    if (get_out(o[1], &b[1], 'd', n, "out") < 0) goto done;
    {
        const int64_t *c = I64(b[0]);
        double *d = F64(b[1]);
        for (Py_ssize_t i = 0; i < n; i++) d[i] = (double)c[i];
    }
    out = Py_NewRef(Py_None);
done:
    release(b, 2);
    return out;
}

/* int_sum(values) -> int: the exact sum of int64 values, as Python's sum() of them (the work
 * of integer costs without a Python int per step). Partial sums stay in int64 while they
 * can; one that would overflow is added to a Python int and the partial sum restarts. */
PyObject *k_int_sum(PyObject *self, PyObject *args) {
    PyObject *o;
    if (!PyArg_ParseTuple(args, "O", &o)) return NULL;
    Buf b[1] = {0};
    if (get_buf(o, &b[0], 'q', 0, "values") < 0) {
        release(b, 1);
        return NULL;
    }
    const int64_t *v = I64(b[0]);
    Py_ssize_t n = LEN(b[0]);
    PyObject *total = PyLong_FromLong(0);
    int64_t part = 0;
    for (Py_ssize_t i = 0; total && i < n; i++) {
        int64_t x = v[i];
        if ((x > 0 && part > INT64_MAX - x) || (x < 0 && part < INT64_MIN - x)) {
            PyObject *p = PyLong_FromLongLong(part);
            PyObject *sum = p ? PyNumber_Add(total, p) : NULL;
            Py_XDECREF(p);
            Py_SETREF(total, sum);
            part = 0;
        }
        part += x;
    }
    release(b, 1);
    if (!total || part == 0) return total;
    PyObject *p = PyLong_FromLongLong(part);
    PyObject *sum = p ? PyNumber_Add(total, p) : NULL;
    Py_XDECREF(p);
    Py_DECREF(total);
    return sum;
}

/* rechain(a, b, c, site, comparing, lo, start, owner, last_of) -> last: the rewrite of a
 * watched list.sort's or numpy method's comparisons (trace/native_selection.py, whose
 * `rechain` is the pure-Python twin). Steps start..n-1 are the call's; a step whose site is
 * not a comparison (comparing[site] == 0) and that needs a value derived from a sort-input
 * step is derived from it too (owner); a comparison of derived values is made to need, per
 * operand, the last comparison involving its sort-input (last_of) instead of the operand,
 * its needs normalised (distinct steps first). a, b, c: int64 needs of all n steps (a, b, c
 * rewritten); site: int32; comparing: int64 0/1 per label; owner, last_of: int64, one per
 * step from lo on (owner: the sort-input a step derives from, or -1; last_of, indexed by
 * sort-input: the last comparison involving it, or -1; both updated). */
PyObject *k_rechain(PyObject *self, PyObject *args) {
    PyObject *o[7];
    Py_ssize_t lo, start;
    if (!PyArg_ParseTuple(args, "OOOOOnnOO", &o[0], &o[1], &o[2], &o[3], &o[4], &lo, &start,
                          &o[5], &o[6]))
        return NULL;
    Buf b[7] = {{{0}}};
    Py_buffer site = {0};
    int have_site = 0;
    int64_t last = -1;
    Py_ssize_t n;
    if (get_sites(o[3], &site, &n) < 0) goto fail;
    have_site = 1;
    if (lo < 0 || start < lo || start > n) {
        PyErr_Format(PyExc_ValueError, "need 0 <= lo <= start <= %zd", n);
        goto fail;
    }
    if (get_out(o[0], &b[0], 'q', n, "a") < 0 || get_out(o[1], &b[1], 'q', n, "b") < 0 ||
        get_out(o[2], &b[2], 'q', n, "c") < 0 || get_buf(o[4], &b[3], 'q', 0, "comparing") < 0 ||
        get_out(o[5], &b[4], 'q', n - lo, "owner") < 0 ||
        get_out(o[6], &b[5], 'q', n - lo, "last_of") < 0)
        goto fail;
    {
        int64_t *a = I64(b[0]), *bb = I64(b[1]), *c = I64(b[2]);
        const int64_t *comparing = I64(b[3]), labels = LEN(b[3]);
        int64_t *owner = I64(b[4]), *last_of = I64(b[5]);
        const int32_t *s = site.buf;
        int64_t need[3], origin[3];
        for (Py_ssize_t i = start; i < n; i++) {
            if (s[i] < 0 || s[i] >= labels) {
                PyErr_Format(PyExc_ValueError, "site %d out of range 0..%lld", s[i],
                             (long long)labels - 1);
                goto fail;
            }
            need[0] = a[i], need[1] = bb[i], need[2] = c[i];
            for (int k = 0; k < 3; k++) {
                origin[k] = -1;
                if (need[k] >= lo && need[k] < n) {
                    int64_t v = owner[need[k] - lo];
                    if (v != -1 && (v < lo || v >= n)) {
                        PyErr_Format(PyExc_ValueError, "owner: step %lld out of range %zd..%zd",
                                     (long long)v, lo, n - 1);
                        goto fail;
                    }
                    origin[k] = v;
                }
            }
            if (!comparing[s[i]]) { /* a key function's step: derived from its argument */
                int64_t from = origin[0] >= 0 ? origin[0] : origin[1] >= 0 ? origin[1] : origin[2];
                if (from >= 0) owner[i - lo] = from;
                continue;
            }
            if (origin[0] < 0 && origin[1] < 0) continue;
            int64_t x = need[0], y = need[1], z = need[2];
            if (origin[0] >= 0 && last_of[origin[0] - lo] >= 0) x = last_of[origin[0] - lo];
            if (origin[1] >= 0 && last_of[origin[1] - lo] >= 0) y = last_of[origin[1] - lo];
            normalise_needs(&x, &y, &z);
            a[i] = x, bb[i] = y, c[i] = z;
            if (origin[0] >= 0) last_of[origin[0] - lo] = i;
            if (origin[1] >= 0) last_of[origin[1] - lo] = i;
            last = i;
        }
    }
    release(b, 7);
    PyBuffer_Release(&site);
    return PyLong_FromLongLong(last);
fail:
    release(b, 7);
    if (have_site) PyBuffer_Release(&site);
    return NULL;
}

/* The ids of `indices` (a list), each labels[s[i]] + str(its occurrence): occ[i] (by
 * step) or, when `by_position`, occ[j] for the j-th index. The errors of k_spell_ids. */
static PyObject *spell(PyObject *labels, const int32_t *s, Py_ssize_t n, PyObject *indices,
                       const int64_t *occ, int by_position) {
    Py_ssize_t count = PyList_GET_SIZE(indices), nlabels = PyList_GET_SIZE(labels);
    PyObject *out = PyList_New(count);
    for (Py_ssize_t j = 0; out && j < count; j++) {
        PyObject *item = PyList_GET_ITEM(indices, j);
        if (!PyLong_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "spell_ids: indices must be ints");
            Py_CLEAR(out);
            break;
        }
        Py_ssize_t i = PyLong_AsSsize_t(item);
        if (i == -1 && PyErr_Occurred()) PyErr_Clear();
        if (i < 0 || i >= n) {
            PyErr_SetString(PyExc_IndexError, "spell_ids: index out of range");
            Py_CLEAR(out);
            break;
        }
        if (s[i] < 0 || s[i] >= nlabels) {
            PyErr_Format(PyExc_ValueError, "site %d out of range 0..%zd", s[i], nlabels - 1);
            Py_CLEAR(out);
            break;
        }
        PyObject *label = PyList_GET_ITEM(labels, s[i]);
        if (!PyUnicode_Check(label)) {
            PyErr_SetString(PyExc_TypeError, "spell_ids: labels must be str");
            Py_CLEAR(out);
            break;
        }
        char buf[24], *digits = buf + sizeof buf; /* str(occurrence), written backward */
        int64_t x = occ[by_position ? j : i];
        uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        do { *--digits = (char)('0' + u % 10); u /= 10; } while (u);
        if (x < 0) *--digits = '-';
        int d = (int)(buf + sizeof buf - digits);
        PyObject *id;
        if (PyUnicode_IS_ASCII(label)) { /* the common case: one allocation, two copies */
            Py_ssize_t len = PyUnicode_GET_LENGTH(label);
            id = PyUnicode_New(len + d, 127);
            if (id) {
                memcpy(PyUnicode_1BYTE_DATA(id), PyUnicode_1BYTE_DATA(label), len);
                memcpy(PyUnicode_1BYTE_DATA(id) + len, digits, d);
            }
        } else {
            PyObject *number = PyUnicode_FromStringAndSize(digits, d);
            id = number ? PyUnicode_Concat(label, number) : NULL;
            Py_XDECREF(number);
        }
        if (!id) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, j, id);
    }
    return out;
}

/* spell_ids(labels, site, occurrence, indices) -> list of str: for each i of `indices` (a
 * list of ints), labels[site[i]] + str(occurrence[i]): the ids of a traced run's steps
 * ("label#k", the labels given with their '#'; core/step_ids.py), spelled in one call.
 * labels: a list of str; site: int32 ('i'); occurrence: int64, at least as long as site.
 * IndexError for an index outside the steps, ValueError for a site that names no label,
 * TypeError for a label that is not a str or an index that is not an int. */
PyObject *k_spell_ids(PyObject *self, PyObject *args) {
    PyObject *labels, *o_occ, *o_site, *indices;
    if (!PyArg_ParseTuple(args, "O!OOO!", &PyList_Type, &labels, &o_site, &o_occ, &PyList_Type,
                          &indices))
        return NULL;
    Py_buffer site = {0};
    Buf b[1] = {0};
    PyObject *out = NULL;
    Py_ssize_t n;
    if (get_sites(o_site, &site, &n) < 0) return NULL;
    if (get_buf(o_occ, &b[0], 'q', n, "occurrence") == 0)
        out = spell(labels, site.buf, n, indices, I64(b[0]), 0);
    release(b, 1);
    PyBuffer_Release(&site);
    return out;
}

typedef struct {
    int64_t step;
    Py_ssize_t j;
} Wanted;

static int by_step(const void *a, const void *b) {
    int64_t x = ((const Wanted *)a)->step, y = ((const Wanted *)b)->step;
    return (x > y) - (x < y);
}

/* spell_at(labels, site, indices) -> list of str: spell_ids with the occurrences of the
 * steps wanted only, counted here: every site is checked (ValueError for one that names no
 * label, as occurrences), then one pass up to the last step wanted (a traced run's report
 * spells its critical path and a few more: no occurrence array of every step). */
PyObject *k_spell_at(PyObject *self, PyObject *args) {
    PyObject *labels, *o_site, *indices;
    if (!PyArg_ParseTuple(args, "O!OO!", &PyList_Type, &labels, &o_site, &PyList_Type, &indices))
        return NULL;
    Py_buffer site = {0};
    Py_ssize_t n;
    if (get_sites(o_site, &site, &n) < 0) return NULL;
    PyObject *out = NULL;
    const int32_t *s = site.buf;
    Py_ssize_t count = PyList_GET_SIZE(indices), nlabels = PyList_GET_SIZE(labels);
    Wanted *want = malloc(sizeof(Wanted) * (count > 0 ? count : 1));
    int64_t *occ = calloc(count > 0 ? count : 1, sizeof(int64_t));
    int64_t *seen = calloc(nlabels > 0 ? nlabels : 1, sizeof(int64_t));
    if (!want || !occ || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    int sorted = 1;
    for (Py_ssize_t j = 0; j < count; j++) { /* the indices' own errors: spell's, after */
        PyObject *item = PyList_GET_ITEM(indices, j);
        Py_ssize_t i = PyLong_Check(item) ? PyLong_AsSsize_t(item) : -1;
        if (i == -1 && PyErr_Occurred()) PyErr_Clear();
        want[j].step = i >= 0 && i < n ? i : -1; /* bad: counted as nothing */
        want[j].j = j;
        if (j > 0 && want[j].step < want[j - 1].step) sorted = 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] < 0 || s[i] >= nlabels) {
            PyErr_Format(PyExc_ValueError, "site %d out of range 0..%zd", s[i], nlabels - 1);
            goto done;
        }
    }
    if (!sorted) qsort(want, (size_t)count, sizeof(Wanted), by_step);
    Py_ssize_t p = 0;
    while (p < count && want[p].step < 0) p++;
    for (Py_ssize_t i = 0; p < count && i < n; i++) {
        int64_t k = ++seen[s[i]];
        while (p < count && want[p].step == i) occ[want[p++].j] = k;
    }
    out = spell(labels, s, n, indices, occ, 1);
done:
    free(want);
    free(occ);
    free(seen);
    PyBuffer_Release(&site);
    return out;
}
