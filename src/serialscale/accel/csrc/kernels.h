/* Shared by the compiled kernels (serialscale.accel._kernels): buffer access, the sort of times
 * and priorities, and every kernel's entry point (the module table is in module.c).
 *
 * Each kernel mirrors a pure-Python reference in metrics.py, schedule.py, graph.py or
 * sources/ operation for operation (the same float additions in the same order), so both
 * give identical results; the test suite checks that on random graphs. Arrays arrive through
 * the buffer protocol: int64 ('q') for indices, double ('d') for costs and times. Nothing
 * here recurses.
 */
#ifndef SERIALSCALE_KERNELS_H
#define SERIALSCALE_KERNELS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int ok;
} Buf;

/* Borrow obj's buffer, read-only, as a flat array of kind 'q' (int64) or 'd' (double) of at
 * least min_len items; 0, or -1 with an exception naming `name`. */
int get_buf(PyObject *obj, Buf *b, char kind, Py_ssize_t min_len, const char *name);
/* The same for an output: a read-only buffer (a bytes object, a read-only memoryview) is
 * refused with TypeError, never written. */
int get_out(PyObject *obj, Buf *b, char kind, Py_ssize_t min_len, const char *name);
/* Borrow obj's buffer, read-only, as a flat array of int32 ('i') site indices, its length in
 * *n: 0, or -1 with TypeError (nothing then to release). */
int get_sites(PyObject *obj, Py_buffer *view, Py_ssize_t *n);
/* Offsets of n rows: start at 0, never decrease, end at most at m. 0, or -1 with ValueError. */
int check_ptr(const Buf *ptr, Py_ssize_t n, Py_ssize_t m, const char *name);
/* The first `count` entries of idx lie in [0, n). 0, or -1 with ValueError. */
int check_index(const Buf *idx, Py_ssize_t count, Py_ssize_t n, const char *name);
/* check_ptr on ptr (against idx's length), then check_index on the indices it covers. Every
 * kernel checks the arrays it indexes with, so no input can make it read or write out of
 * bounds, whoever calls it. */
int check_csr(const Buf *ptr, const Buf *idx, Py_ssize_t n, const char *ptr_name,
              const char *idx_name);
/* The same checks without the GIL (a kernel checks its arrays with the threads running):
 * 0, or -1 with what is wrong in *bad, which raise_bad (with the GIL) turns into the
 * ValueError check_ptr / check_index raise. */
enum { BAD_RANGE = 1, BAD_DECREASE, BAD_INDEX };
typedef struct {
    int kind;
    const char *name;
    int64_t value;
    Py_ssize_t bound;
} Bad;
int scan_ptr(const int64_t *p, Py_ssize_t n, Py_ssize_t m, const char *name, Bad *bad);
int scan_index(const int64_t *x, Py_ssize_t count, Py_ssize_t n, const char *name, Bad *bad);
int scan_csr(const int64_t *ptr, const int64_t *idx, Py_ssize_t n, Py_ssize_t m,
             const char *ptr_name, const char *idx_name, Bad *bad);
void raise_bad(const Bad *bad);
void release(Buf *bufs, int count);

#define I64(b) ((int64_t *)(b).view.buf)
#define F64(b) ((double *)(b).view.buf)
#define LEN(b) ((Py_ssize_t)((b).view.len / 8))

/* The bit pattern of a time or priority (finite, >= 0): for non-negative doubles the order
 * of the patterns is the order of the numbers. */
static inline uint64_t time_bits(double x) {
    x += 0.0; /* -0.0 becomes +0.0 */
    uint64_t k;
    memcpy(&k, &x, sizeof k);
    return k;
}

/* Stable sort of n keys, ascending, carrying val[] along (val may be NULL); -1 when out of
 * memory. */
int radix_sort(uint64_t *key, int32_t *val, Py_ssize_t n);

/* metrics.c */
PyObject *k_asap(PyObject *self, PyObject *args);
PyObject *k_bottom_levels(PyObject *self, PyObject *args);
PyObject *k_slack(PyObject *self, PyObject *args);
PyObject *k_critical_path(PyObject *self, PyObject *args);
PyObject *k_profile(PyObject *self, PyObject *args);
/* schedule.c */
PyObject *k_schedule_plan(PyObject *self, PyObject *args);
PyObject *k_makespan(PyObject *self, PyObject *args);
/* graph.c */
PyObject *k_successors(PyObject *self, PyObject *args);
PyObject *k_topological_order(PyObject *self, PyObject *args);
PyObject *k_count_duplicates(PyObject *self, PyObject *args);
PyObject *k_check_graph_csr(PyObject *self, PyObject *args);
PyObject *k_costs_ok(PyObject *self, PyObject *args);
PyObject *k_as_doubles(PyObject *self, PyObject *args);
PyObject *k_int_sum(PyObject *self, PyObject *args);
PyObject *k_keep_freed_memory(PyObject *self, PyObject *args);
PyObject *k_prefault(PyObject *self, PyObject *args);
PyObject *k_near_critical(PyObject *self, PyObject *args);
PyObject *k_most(PyObject *self, PyObject *args);
PyObject *k_tape_csr(PyObject *self, PyObject *args);
PyObject *k_tape_needs(PyObject *self, PyObject *args);
PyObject *k_occurrences(PyObject *self, PyObject *args);
PyObject *k_spell_ids(PyObject *self, PyObject *args);
PyObject *k_spell_at(PyObject *self, PyObject *args);
PyObject *k_rechain(PyObject *self, PyObject *args);
/* drag.c */
PyObject *k_drag_limits(PyObject *self, PyObject *args);
PyObject *k_drag_values(PyObject *self, PyObject *args);
/* render.c */
PyObject *k_records(PyObject *self, PyObject *args);
/* loading.c */
PyObject *k_json_duplicate_key(PyObject *self, PyObject *args);
PyObject *k_resolve_names(PyObject *self, PyObject *args);
PyObject *k_json_needs(PyObject *self, PyObject *args);

#endif
