/* Buffer access and the radix sort shared by the kernels. */
#include "kernels.h"

static int borrow(PyObject *obj, Buf *b, char kind, Py_ssize_t min_len, const char *name,
                  int writable) {
    b->ok = 0;
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
        if (!writable) return -1;
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: expected a writable array of type '%c'", name, kind);
        return -1;
    }
    b->ok = 1;
    const char *fmt = b->view.format ? b->view.format : "B";
    if (fmt[0] == '@' || fmt[0] == '=' || fmt[0] == '<') fmt++;
    int good = (kind == 'q') ? ((fmt[0] == 'q' || fmt[0] == 'l') && b->view.itemsize == 8)
                             : (fmt[0] == 'd' && b->view.itemsize == 8);
    if (!good || fmt[1] != '\0' || b->view.ndim > 1) {
        PyErr_Format(PyExc_TypeError, "%s: expected an array of type '%c'", name, kind);
        return -1;
    }
    if (b->view.len / 8 < min_len) {
        PyErr_Format(PyExc_ValueError, "%s: too short", name);
        return -1;
    }
    return 0;
}

int get_buf(PyObject *obj, Buf *b, char kind, Py_ssize_t min_len, const char *name) {
    return borrow(obj, b, kind, min_len, name, 0);
}

int get_out(PyObject *obj, Buf *b, char kind, Py_ssize_t min_len, const char *name) {
    return borrow(obj, b, kind, min_len, name, 1);
}

int get_sites(PyObject *obj, Py_buffer *view, Py_ssize_t *n) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    if (!view->format || strcmp(view->format, "i") != 0 || view->itemsize != 4 ||
        view->ndim > 1) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "site: expected an array of type 'i'");
        return -1;
    }
    *n = view->len / 4;
    return 0;
}

int scan_ptr(const int64_t *p, Py_ssize_t n, Py_ssize_t m, const char *name, Bad *bad) {
    bad->name = name;
    bad->bound = m;
    if (p[0] != 0 || p[n] > m) {
        bad->kind = BAD_RANGE;
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (p[i + 1] < p[i]) {
            bad->kind = BAD_DECREASE;
            return -1;
        }
    }
    return 0;
}

int scan_index(const int64_t *x, Py_ssize_t count, Py_ssize_t n, const char *name, Bad *bad) {
    /* one test per entry (as unsigned, a negative index is past n): no branch to mispredict
     * until the first bad one */
    for (Py_ssize_t e = 0; e < count; e++) {
        if ((uint64_t)x[e] >= (uint64_t)n) {
            bad->kind = BAD_INDEX;
            bad->name = name;
            bad->value = x[e];
            bad->bound = n;
            return -1;
        }
    }
    return 0;
}

int scan_csr(const int64_t *ptr, const int64_t *idx, Py_ssize_t n, Py_ssize_t m,
             const char *ptr_name, const char *idx_name, Bad *bad) {
    if (scan_ptr(ptr, n, m, ptr_name, bad) < 0) return -1;
    return scan_index(idx, ptr[n], n, idx_name, bad);
}

void raise_bad(const Bad *bad) {
    if (bad->kind == BAD_RANGE)
        PyErr_Format(PyExc_ValueError, "%s: offsets must run from 0 to at most %zd", bad->name,
                     bad->bound);
    else if (bad->kind == BAD_DECREASE)
        PyErr_Format(PyExc_ValueError, "%s: offsets must never decrease", bad->name);
    else
        PyErr_Format(PyExc_ValueError, "%s: index %lld out of range 0..%zd", bad->name,
                     (long long)bad->value, bad->bound - 1);
}

int check_ptr(const Buf *ptr, Py_ssize_t n, Py_ssize_t m, const char *name) {
    Bad bad;
    if (scan_ptr(I64(*ptr), n, m, name, &bad) == 0) return 0;
    raise_bad(&bad);
    return -1;
}

int check_index(const Buf *idx, Py_ssize_t count, Py_ssize_t n, const char *name) {
    Bad bad;
    if (scan_index(I64(*idx), count, n, name, &bad) == 0) return 0;
    raise_bad(&bad);
    return -1;
}

int check_csr(const Buf *ptr, const Buf *idx, Py_ssize_t n, const char *ptr_name,
              const char *idx_name) {
    if (check_ptr(ptr, n, LEN(*idx), ptr_name) < 0) return -1;
    return check_index(idx, I64(*ptr)[n], n, idx_name);
}

void release(Buf *bufs, int count) {
    for (int i = 0; i < count; i++)
        if (bufs[i].ok) PyBuffer_Release(&bufs[i].view);
}

/* Stable sort of n keys, ascending, carrying val[] along (val may be NULL). LSD radix sort,
 * 16 bits a pass; a pass where every key has the same digit is skipped (the high bits of
 * small numbers). -1 when out of memory. */
int radix_sort(uint64_t *key, int32_t *val, Py_ssize_t n) {
    Py_ssize_t size = n > 0 ? n : 1;
    uint64_t *key2 = malloc(sizeof(uint64_t) * size);
    int32_t *val2 = val ? malloc(sizeof(int32_t) * size) : NULL;
    Py_ssize_t *count = malloc(sizeof(Py_ssize_t) * 65536);
    if (!key2 || (val && !val2) || !count) {
        free(key2); free(val2); free(count);
        return -1;
    }
    uint64_t *k = key, *k2 = key2;
    int32_t *v = val, *v2 = val2;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, sizeof(Py_ssize_t) * 65536);
        for (Py_ssize_t i = 0; i < n; i++) count[(k[i] >> shift) & 0xFFFF]++;
        if (n == 0 || count[(k[0] >> shift) & 0xFFFF] == n) continue;
        Py_ssize_t sum = 0;
        for (int d = 0; d < 65536; d++) {
            Py_ssize_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_ssize_t at = count[(k[i] >> shift) & 0xFFFF]++;
            k2[at] = k[i];
            if (v) v2[at] = v[i];
        }
        uint64_t *tk = k; k = k2; k2 = tk;
        int32_t *tv = v; v = v2; v2 = tv;
    }
    if (k != key) { /* an odd number of passes: the result is in the scratch arrays */
        memcpy(key, k, sizeof(uint64_t) * n);
        if (val) memcpy(val, v, sizeof(int32_t) * n);
    }
    free(k == key ? key2 : k);
    if (val) free(v == val ? val2 : v);
    free(count);
    return 0;
}
