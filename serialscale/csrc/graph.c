/* Graph construction: successor lists, topological order, repeated needs (graph.py). */
#include "kernels.h"

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
 * Kahn's algorithm with a FIFO queue seeded in input order, as graph._topological_order. */
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
        int64_t *mark = malloc(sizeof(int64_t) * (n > 0 ? n : 1));
        if (!mark) { PyErr_NoMemory(); goto fail; }
        for (Py_ssize_t i = 0; i < n; i++) mark[i] = -1;
        for (Py_ssize_t i = 0; i < n; i++) {
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
