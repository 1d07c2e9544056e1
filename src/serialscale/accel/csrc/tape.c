/* The hot path of tracing, compiled: traced values' binary operators and comparisons, and the
 * recorder's steps.
 *
 * `Value` is the base of trace.values.Traced: it holds `value` and `node` and implements the
 * arithmetic, bitwise and comparison operators in C (the rest of Traced stays in Python).
 * `Tape` is the base of trace.recorder.Recorder: it holds the step counter, the pause and
 * decision state, the steps recorded (int32 columns: site and needs a, b, c) and a cache of
 * call sites.
 *
 * An operation does what values.PyValue's operator methods do: compute the value, find the
 * call site (operation, code object, instruction offset) of the user's frame, append one
 * step, return a new Traced. Whatever is not the common case (a site seen for the first
 * time, a strict-mode decision in force) goes to the Python recorder's own methods, so both
 * implementations record exactly the same steps; the tests compare them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "structmember.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "needs.h"

#define NO_STEP (-1)
/* The recorder's spill() is called every this many steps (recorder.FLUSH_STEPS); the columns'
 * first room. */
#define FLUSH_STEPS 65536

/* ---- Tape ------------------------------------------------------------------------------ */

typedef struct {
    int op;
    void *code;
    int lasti;
    int32_t site; /* -1: empty slot */
} SiteSlot;

typedef struct {
    PyObject_HEAD
    Py_ssize_t count;    /* steps recorded */
    int paused;          /* > 0 inside a task's body */
    Py_ssize_t decision; /* >= 0 while a decision may be in force (strict or frame mode) */
    /* The control need an operation gets without calling into Python: ctl_step for every
     * operation when ctl_any (strict mode), or for operations in the frame ctl_frame (frame
     * mode: the recorder's last answer for that frame). Anything else asks the recorder. */
    Py_ssize_t ctl_step;
    PyObject *ctl_frame;
    int ctl_any;
    /* Branches (truth tests of traced values): counted here when bool_fast (data-flow mode:
     * a branch adds no need), else the recorder's decide(); none in quiet_frame, the caller
     * of a watched list.sort or numpy method now running (its own truth tests). */
    Py_ssize_t control_decisions;
    int bool_fast;
    PyObject *quiet_frame;
    /* The steps recorded, `count` of them, in columns with room for `cap`: site and needs a,
     * b, c (int32: a run records fewer than 2**31 steps; half the memory of int64 needs,
     * and every page of it is first touched here). They grow by doubling (on Linux by mremap: no copy, and no page
     * touched before a step is written into it) and are lent to Python as buffers (Column):
     * while one is lent (`exports`), they cannot move, so no step can be added past `cap`.
     * p_len counts the steps since the last spill() (every FLUSH_STEPS steps). */
    int32_t *site, *a, *b, *c;
    Py_ssize_t cap, col_cap[4];
    Py_ssize_t exports;
    Py_ssize_t p_len;
    SiteSlot *cache;
    size_t cache_cap, cache_len;
    /* Steps of cost 0 not yet handed to the recorder (its zero_cost column; take_zero_costs):
     * a selection makes one per value it chooses, hundreds of thousands in selection-heavy
     * code, too many for a dictionary of costs. */
    int64_t *z_steps;
    Py_ssize_t z_len, z_cap;
} Tape;

/* A column's memory, grown to `new_bytes` (its contents kept): on Linux an anonymous mapping
 * grown by mremap, which moves page tables, never bytes, and touches no page (a page is first
 * touched when a step is written into it); elsewhere realloc. NULL when out of memory. */
static void *column_grow(void *old, size_t old_bytes, size_t new_bytes) {
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
    void *p = old ? mremap(old, old_bytes, new_bytes, MREMAP_MAYMOVE)
                  : mmap(NULL, new_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
    return p == MAP_FAILED ? NULL : p;
#else
    (void)old_bytes;
    return realloc(old, new_bytes);
#endif
}

/* The tracemalloc domain of the columns (any number other than CPython's own 0). */
#define COLUMN_DOMAIN 0x7ace

static void column_free(void *p, size_t bytes) {
    if (!p) return;
    PyTraceMalloc_Untrack(COLUMN_DOMAIN, (uintptr_t)p);
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
    munmap(p, bytes);
#else
    (void)bytes;
    free(p);
#endif
}

/* Room for twice as many steps (FLUSH_STEPS at first); -1 with an exception set: out of
 * memory, or the columns lent as buffers (they must not move). Each column knows its own
 * size (col_cap): one grown before another failed keeps its size, and is freed as that. */
static int tape_grow(Tape *t) {
    if (t->exports > 0) {
        PyErr_SetString(PyExc_BufferError,
                        "the tape's steps are lent as a buffer: no step can be added meanwhile");
        return -1;
    }
    Py_ssize_t cap = t->cap ? t->cap * 2 : FLUSH_STEPS;
    if (cap < t->cap || (size_t)cap > PY_SSIZE_T_MAX / sizeof(int32_t)) {
        PyErr_NoMemory();
        return -1;
    }
    void **cols[4] = {(void **)&t->site, (void **)&t->a, (void **)&t->b, (void **)&t->c};
    for (int k = 0; k < 4; k++) {
        if (t->col_cap[k] >= cap) continue;
        size_t item = sizeof(int32_t);
        void *old = *cols[k];
        void *grown = column_grow(old, (size_t)t->col_cap[k] * item, (size_t)cap * item);
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        /* shown to tracemalloc, which cannot see memory mapped here (no-ops unless tracing) */
        if (old) PyTraceMalloc_Untrack(COLUMN_DOMAIN, (uintptr_t)old);
        (void)PyTraceMalloc_Track(COLUMN_DOMAIN, (uintptr_t)grown, (size_t)cap * item);
        *cols[k] = grown;
        t->col_cap[k] = cap;
    }
    t->cap = cap;
    return 0;
}

static int Tape_init(Tape *self, PyObject *args, PyObject *kwds) {
    /* Arguments belong to the Python subclass; the buffers are set up once, in tp_new. */
    return 0;
}

static PyObject *Tape_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Tape *self = (Tape *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->decision = NO_STEP;
    self->ctl_step = NO_STEP;
    self->cache_cap = 64;
    self->cache = PyMem_Malloc(sizeof(SiteSlot) * self->cache_cap);
    if (!self->cache) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (tape_grow(self) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    for (size_t k = 0; k < self->cache_cap; k++) self->cache[k].site = -1;
    return (PyObject *)self;
}

/* The frames the tape holds (ctl_frame, quiet_frame) are seen by the garbage collector: a
 * frame whose locals hold the recorder is a cycle through the tape. */
static int Tape_traverse(Tape *self, visitproc visit, void *arg) {
    Py_VISIT(self->ctl_frame);
    Py_VISIT(self->quiet_frame);
    return 0;
}

static int Tape_clear(Tape *self) {
    Py_CLEAR(self->ctl_frame);
    Py_CLEAR(self->quiet_frame);
    return 0;
}

static void Tape_dealloc(Tape *self) {
    PyObject_GC_UnTrack(self);
    column_free(self->site, (size_t)self->col_cap[0] * sizeof(int32_t));
    column_free(self->a, (size_t)self->col_cap[1] * sizeof(int32_t));
    column_free(self->b, (size_t)self->col_cap[2] * sizeof(int32_t));
    column_free(self->c, (size_t)self->col_cap[3] * sizeof(int32_t));
    PyMem_Free(self->cache);
    PyMem_Free(self->z_steps);
    Py_CLEAR(self->ctl_frame);
    Py_CLEAR(self->quiet_frame);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static inline size_t site_hash(int op, void *code, int lasti) {
    uint64_t h = (uint64_t)(uintptr_t)code * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)(uint32_t)lasti * 0xC2B2AE3D27D4EB4FULL + (uint64_t)op;
    return (size_t)(h ^ (h >> 29));
}

static inline int32_t cache_get(Tape *t, int op, void *code, int lasti) {
    size_t mask = t->cache_cap - 1;
    for (size_t k = site_hash(op, code, lasti) & mask;; k = (k + 1) & mask) {
        SiteSlot *s = &t->cache[k];
        if (s->site < 0) return -1;
        if (s->code == code && s->lasti == lasti && s->op == op) return s->site;
    }
}

static int cache_put(Tape *t, int op, void *code, int lasti, int32_t site) {
    if ((t->cache_len + 1) * 2 > t->cache_cap) {
        size_t cap = t->cache_cap * 2;
        SiteSlot *fresh = PyMem_Malloc(sizeof(SiteSlot) * cap);
        if (!fresh) { PyErr_NoMemory(); return -1; }
        for (size_t k = 0; k < cap; k++) fresh[k].site = -1;
        for (size_t j = 0; j < t->cache_cap; j++) {
            SiteSlot s = t->cache[j];
            if (s.site < 0) continue;
            size_t k = site_hash(s.op, s.code, s.lasti) & (cap - 1);
            while (fresh[k].site >= 0) k = (k + 1) & (cap - 1);
            fresh[k] = s;
        }
        PyMem_Free(t->cache);
        t->cache = fresh;
        t->cache_cap = cap;
    }
    size_t mask = t->cache_cap - 1;
    size_t k = site_hash(op, code, lasti) & mask;
    while (t->cache[k].site >= 0) k = (k + 1) & mask;
    t->cache[k].op = op;
    t->cache[k].code = code;
    t->cache[k].lasti = lasti;
    t->cache[k].site = site;
    t->cache_len++;
    return 0;
}

/* Append one step (the caller normalised a, b and c: distinct needs first, then -1); its step
 * number, or -1 with an exception set. Every FLUSH_STEPS steps the recorder's spill() is
 * called first (it stops a run past its limit, and takes the zero costs noted). */
static Py_ssize_t tape_push(Tape *t, int32_t site, int64_t a, int64_t b, int64_t c) {
    if (t->p_len >= FLUSH_STEPS) {
        PyObject *r = PyObject_CallMethod((PyObject *)t, "spill", NULL);
        if (!r) return -1;
        Py_DECREF(r);
        if (t->p_len >= FLUSH_STEPS) {
            PyErr_SetString(PyExc_RuntimeError, "spill() did not restart the pending count "
                                                "(an override must call the tape's spill())");
            return -1;
        }
    }
    Py_ssize_t step = t->count;
    if (step >= t->cap) {
        if (step >= INT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "a traced run records at most 2**31 - 1 steps");
            return -1;
        }
        if (tape_grow(t) < 0) return -1;
    }
    /* a need is a step (< INT32_MAX, as `step` is) or -1; whether it is an earlier step is
     * checked when the graph is made (Tape.csr), as before the tape narrowed needs */
    if (a < -1 || a > INT32_MAX || b < -1 || b > INT32_MAX || c < -1 || c > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "needs (%lld, %lld, %lld): each a step number or -1",
                     (long long)a, (long long)b, (long long)c);
        return -1;
    }
    t->site[step] = site;
    t->a[step] = (int32_t)a;
    t->b[step] = (int32_t)b;
    t->c[step] = (int32_t)c;
    t->p_len++;
    t->count = step + 1;
    return step;
}

/* Note that step `step` costs 0 (Recorder.named with cost 0); -1 with an exception set. */
static int tape_zero_cost(Tape *t, Py_ssize_t step) {
    if (t->z_len == t->z_cap) {
        Py_ssize_t cap = t->z_cap ? t->z_cap * 2 : 4096;
        if ((size_t)cap > PY_SSIZE_T_MAX / sizeof(int64_t)) {
            PyErr_NoMemory();
            return -1;
        }
        int64_t *grown = PyMem_Realloc(t->z_steps, sizeof(int64_t) * (size_t)cap);
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        t->z_steps = grown;
        t->z_cap = cap;
    }
    t->z_steps[t->z_len++] = step;
    return 0;
}

static PyObject *Tape_zero_cost(Tape *self, PyObject *arg) {
    Py_ssize_t step = PyLong_AsSsize_t(arg);
    if (step == -1 && PyErr_Occurred()) return NULL;
    if (step < 0 || step >= self->count) {
        PyErr_Format(PyExc_ValueError, "zero_cost: step %zd is not one recorded (0..%zd)", step,
                     self->count - 1);
        return NULL;
    }
    if (tape_zero_cost(self, step) < 0) return NULL;
    Py_RETURN_NONE;
}

/* take_zero_costs() -> bytes: the steps of cost 0 noted since the last call, as the machine's
 * int64 array (array('q') frombytes), in the order noted; forgotten. */
static PyObject *Tape_take_zero_costs(Tape *self, PyObject *unused) {
    PyObject *out = PyBytes_FromStringAndSize((const char *)self->z_steps,
                                              self->z_len * (Py_ssize_t)sizeof(int64_t));
    if (out) self->z_len = 0;
    return out;
}

/* spill(): what the tape calls every FLUSH_STEPS steps (the recorder overrides it, and calls
 * this): the pending count restarts. */
static PyObject *Tape_spill(Tape *self, PyObject *unused) {
    self->p_len = 0;
    Py_RETURN_NONE;
}

/* flush(): the steps are in the columns as they are recorded: nothing to move. */
static PyObject *Tape_flush(Tape *self, PyObject *unused) { Py_RETURN_NONE; }

static PyObject *Tape_push(Tape *self, PyObject *args) {
    int site;
    long long a, b, c = NO_STEP;
    if (!PyArg_ParseTuple(args, "iLL|L", &site, &a, &b, &c)) return NULL;
    if (site < 0) {
        PyErr_Format(PyExc_ValueError, "push: site %d is negative", site);
        return NULL;
    }
    int64_t x = a, y = b, z = c;
    normalise_needs(&x, &y, &z);
    Py_ssize_t step = tape_push(self, (int32_t)site, x, y, z);
    if (step < 0) return NULL;
    return PyLong_FromSsize_t(step);
}

/* ---- Column: one of a tape's columns lent as a buffer ---- */

typedef struct {
    PyObject_HEAD
    Tape *tape;
    int which; /* 0: site (read-only), 1-3: needs a, b, c (writable); all int32 */
} Column;

static PyTypeObject ColumnType;

/* The column's steps as they are now (count items); the columns cannot move while any
 * buffer is lent (tape_grow refuses). Its shape and stride live with the view (view->internal). */
static int Column_getbuffer(Column *self, Py_buffer *view, int flags) {
    Tape *t = self->tape;
    int site = self->which == 0;
    if (site && (flags & PyBUF_WRITABLE) == PyBUF_WRITABLE) {
        PyErr_SetString(PyExc_BufferError, "the tape's sites are read-only");
        view->obj = NULL;
        return -1;
    }
    Py_ssize_t *shape = PyMem_Malloc(2 * sizeof(Py_ssize_t)); /* shape, then stride */
    if (!shape) {
        PyErr_NoMemory();
        view->obj = NULL;
        return -1;
    }
    Py_ssize_t itemsize = (Py_ssize_t)sizeof(int32_t);
    void *cols[4] = {t->site, t->a, t->b, t->c};
    shape[0] = t->count;
    shape[1] = itemsize;
    view->buf = cols[self->which];
    view->obj = (PyObject *)self;
    Py_INCREF(self);
    view->len = t->count * itemsize;
    view->readonly = site;
    view->itemsize = itemsize;
    view->format = (flags & PyBUF_FORMAT) ? "i" : NULL;
    view->ndim = 1;
    view->shape = (flags & PyBUF_ND) == PyBUF_ND ? shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? shape + 1 : NULL;
    view->suboffsets = NULL;
    view->internal = shape;
    t->exports++;
    return 0;
}

static void Column_releasebuffer(Column *self, Py_buffer *view) {
    PyMem_Free(view->internal);
    self->tape->exports--;
}

/* A view kept where the recorder reaches it is a cycle through the tape: the collector sees
 * the column's reference. No tp_clear: the cycle is broken elsewhere (the view releases its
 * buffer, then the column goes), so a column always has its tape while it lends a buffer. */
static int Column_traverse(Column *self, visitproc visit, void *arg) {
    Py_VISIT(self->tape);
    return 0;
}

static void Column_dealloc(Column *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->tape);
    PyObject_GC_Del(self);
}

static PyBufferProcs Column_as_buffer = {
    .bf_getbuffer = (getbufferproc)Column_getbuffer,
    .bf_releasebuffer = (releasebufferproc)Column_releasebuffer,
};

static PyTypeObject ColumnType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serialscale.accel._tape.Column",
    .tp_basicsize = sizeof(Column),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "One of a tape's columns, lent as a buffer (Tape.column).",
    .tp_dealloc = (destructor)Column_dealloc,
    .tp_traverse = (traverseproc)Column_traverse,
    .tp_as_buffer = &Column_as_buffer,
};

/* column(k) -> memoryview: the sites (k = 0, read-only) or needs a, b, c (k = 1..3,
 * writable: a watched sort's comparisons are rewritten) of every step recorded, int32. No
 * step can be added past the columns' room while the view is held. */
static PyObject *Tape_column(Tape *self, PyObject *arg) {
    long k = PyLong_AsLong(arg);
    if (k == -1 && PyErr_Occurred()) return NULL;
    if (k < 0 || k > 3) {
        PyErr_Format(PyExc_ValueError, "column: %ld is not 0 (sites) or 1..3 (needs)", k);
        return NULL;
    }
    Column *col = PyObject_GC_New(Column, &ColumnType);
    if (!col) return NULL;
    Py_INCREF(self);
    col->tape = self;
    col->which = (int)k;
    PyObject_GC_Track(col);
    PyObject *view = PyMemoryView_FromObject((PyObject *)col);
    Py_DECREF(col);
    return view;
}

/* count_needs() -> how many needs (not -1) the steps have in a, b and c: with the needs
 * beyond three, the size of the predecessor index csr() fills. */
static PyObject *Tape_count_needs(Tape *self, PyObject *unused) {
    Py_ssize_t count = 0;
    const int32_t *cols[3] = {self->a, self->b, self->c};
    for (int j = 0; j < 3; j++)
        for (Py_ssize_t i = 0; i < self->count; i++) count += cols[j][i] != -1;
    return PyLong_FromSsize_t(count);
}

/* A one-dimensional C-contiguous buffer of int64 ('q', or 'l' of 8 bytes), writable when
 * asked; at least min_len items. 0, or -1 with an exception set (and nothing held). */
static int int64_buffer(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t min_len,
                        const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "csr: %s must be a%s array of type 'q'", name,
                     writable ? " writable" : "n");
        return -1;
    }
    const char *fmt = view->format ? view->format : "B";
    if (fmt[0] == '@' || fmt[0] == '=' || fmt[0] == '<') fmt++;
    if (!((fmt[0] == 'q' || fmt[0] == 'l') && fmt[1] == '\0') || view->itemsize != 8 ||
        view->ndim > 1) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "csr: %s must be an array of type 'q'", name);
        return -1;
    }
    if (view->len / 8 < min_len) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "csr: %s is too short (%zd, at least %zd)", name,
                     view->len / 8, min_len);
        return -1;
    }
    return 0;
}

/* csr(more_steps, more_ptr, more_idx, pred_ptr, pred_idx) -> m: the steps' needs as
 * predecessor CSR (the kernels' tape_csr on these int32 columns): step i needs a[i], b[i]
 * and c[i] (-1: none), then, when i is more_steps[k], more_idx[more_ptr[k]:more_ptr[k+1]].
 * Every need must name an earlier step, more_steps increase, more_ptr run from 0 without
 * decreasing to at most len(more_idx), and pred_ptr (count + 1) and pred_idx have room:
 * ValueError otherwise, nothing trusted. pred_ptr and pred_idx are written, nothing else. */
static PyObject *Tape_csr(Tape *self, PyObject *args) {
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    static const char *names[5] = {"more_steps", "more_ptr", "more_idx", "pred_ptr",
                                   "pred_idx"};
    Py_buffer v[5];
    int held = 0;
    Py_ssize_t n = self->count, e = 0;
    PyObject *result = NULL;
    for (; held < 5; held++) {
        Py_ssize_t min_len = held == 3 ? n + 1 : 0;
        if (int64_buffer(o[held], &v[held], held >= 3, min_len, names[held]) < 0) goto done;
    }
    {
        Py_ssize_t k_count = v[0].len / 8, idx_len = v[2].len / 8, cap = v[4].len / 8;
        const int64_t *ms = v[0].buf, *mp = v[1].buf, *mi = v[2].buf;
        int64_t *ptr = v[3].buf, *idx = v[4].buf;
        if (v[1].len / 8 < k_count + 1) {
            PyErr_SetString(PyExc_ValueError, "csr: more_ptr needs one offset more than "
                                              "more_steps has steps");
            goto done;
        }
        if (mp[0] != 0 || mp[k_count] > idx_len) {
            PyErr_SetString(PyExc_ValueError, "csr: more_ptr must run from 0 to at most "
                                              "len(more_idx)");
            goto done;
        }
        for (Py_ssize_t k = 0; k < k_count; k++) {
            if (mp[k + 1] < mp[k]) {
                PyErr_SetString(PyExc_ValueError, "csr: more_ptr must never decrease");
                goto done;
            }
            if (ms[k] < 0 || ms[k] >= n || (k > 0 && ms[k] <= ms[k - 1])) {
                PyErr_SetString(PyExc_ValueError,
                                "csr: more_steps must increase, within the steps");
                goto done;
            }
        }
        const int32_t *cols[3] = {self->a, self->b, self->c};
        Py_ssize_t k = 0;
        ptr[0] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            for (int j = 0; j < 3; j++) {
                int32_t x = cols[j][i];
                if (x == -1) continue;
                if (x < 0 || x >= i || e >= cap) goto bad;
                idx[e++] = x;
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
    result = PyLong_FromSsize_t(e);
    goto done;
bad:
    PyErr_SetString(PyExc_ValueError,
                    "csr: a need that names no earlier step, or pred_idx too short for the needs");
done:
    for (int j = 0; j < held; j++) PyBuffer_Release(&v[j]);
    return result;
}

static PyMethodDef Tape_methods[] = {
    {"push", (PyCFunction)Tape_push, METH_VARARGS,
     "Append one step (site, a, b[, c]), needs normalised; its number."},
    {"column", (PyCFunction)Tape_column, METH_O,
     "column(k): the sites (0) or needs a, b, c (1..3) of every step, as a memoryview."},
    {"count_needs", (PyCFunction)Tape_count_needs, METH_NOARGS,
     "How many needs the steps have in a, b and c (not -1)."},
    {"csr", (PyCFunction)Tape_csr, METH_VARARGS,
     "csr(more_steps, more_ptr, more_idx, pred_ptr, pred_idx) -> m: the needs as CSR."},
    {"zero_cost", (PyCFunction)Tape_zero_cost, METH_O, "Note that a recorded step costs 0."},
    {"spill", (PyCFunction)Tape_spill, METH_NOARGS,
     "Called every FLUSH_STEPS steps (the recorder's limit); restarts the pending count."},
    {"flush", (PyCFunction)Tape_flush, METH_NOARGS,
     "Every step is in the columns already: nothing to move."},
    {"take_zero_costs", (PyCFunction)Tape_take_zero_costs, METH_NOARGS,
     "The steps of cost 0 noted since the last call, as int64 bytes; cleared."},
    {NULL},
};

static PyMemberDef Tape_members[] = {
    {"count", T_PYSSIZET, offsetof(Tape, count), READONLY, "Steps recorded."},
    {"paused", T_INT, offsetof(Tape, paused), 0, "> 0 inside a task's body."},
    {"decision", T_PYSSIZET, offsetof(Tape, decision), 0, ">= 0 while a decision may apply."},
    {"ctl_step", T_PYSSIZET, offsetof(Tape, ctl_step), 0, "The control need (see ctl_any)."},
    {"ctl_any", T_INT, offsetof(Tape, ctl_any), 0, "ctl_step applies in every frame."},
    {"ctl_frame", T_OBJECT, offsetof(Tape, ctl_frame), 0, "The frame ctl_step applies in."},
    {"control_decisions", T_PYSSIZET, offsetof(Tape, control_decisions), 0,
     "Branches on traced values counted."},
    {"bool_fast", T_INT, offsetof(Tape, bool_fast), 0, "A branch only counts (data flow)."},
    {"quiet_frame", T_OBJECT, offsetof(Tape, quiet_frame), 0,
     "Truth tests in this frame are not branches (a watched sort's caller)."},
    {NULL},
};

static PyTypeObject TapeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serialscale.accel._tape.Tape",
    .tp_basicsize = sizeof(Tape),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Compiled base of the recorder: step counter and pending steps.",
    .tp_new = Tape_new,
    .tp_init = (initproc)Tape_init,
    .tp_dealloc = (destructor)Tape_dealloc,
    .tp_traverse = (traverseproc)Tape_traverse,
    .tp_clear = (inquiry)Tape_clear,
    .tp_methods = Tape_methods,
    .tp_members = Tape_members,
};

/* ---- Value ----------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *value;
    Py_ssize_t node;
} Value;

static PyTypeObject ValueType;
static PyTypeObject *traced_type; /* trace.values.Traced, set by setup() */
static PyObject *kind_of;         /* trace.values.kind_of: the traced class for a value */
static PyObject *active;          /* trace.values._active, a ContextVar: the recorder or None */

/* isinstance(o, Tape) and isinstance(o, Value), with the last subclass found remembered
 * (a strong reference: its address cannot be reused by another type while remembered): the
 * recorder and the traced values are instances of Python subclasses, whose check walks the
 * MRO (PyType_IsSubtype) on every operation otherwise. */
static PyTypeObject *known_tape_type, *known_value_type;

static inline void remember(PyTypeObject **known, PyTypeObject *t) {
    Py_INCREF(t);
    Py_XSETREF(*known, t);
}

static inline int is_tape(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    if (t == known_tape_type || t == &TapeType) return 1;
    if (!PyType_IsSubtype(t, &TapeType)) return 0;
    remember(&known_tape_type, t);
    return 1;
}

enum {
    OP_ADD, OP_SUB, OP_MUL, OP_TRUEDIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_AND, OP_OR, OP_XOR,
    OP_LSHIFT, OP_RSHIFT, OP_MATMUL, OP_LT, OP_LE, OP_EQ, OP_NE, OP_GT, OP_GE,
    OP_NEG, OP_POS, OP_ABS, OP_INVERT, OP_COUNT
};
/* Pseudo-operation keys in the site cache (not operations: never in op_names). */
#define OP_TRUTH OP_COUNT /* a truth test at (code, lasti): site 1 = a branch, 0 = not */
/* The labels of coarse steps the compiled selection records (the recorder's label_index),
 * cached under (LABEL_BASE + label, NULL, 0). */
#define LABEL_BASE (OP_COUNT + 1)
enum { LABEL_GT, LABEL_LT, LABEL_SELECT, LABEL_ADD, LABEL_COUNT };
/* A comparison at (code, lasti) whose result leaves as a plain bool: site 1 = yes, 0 = no (the
 * recorder's hands_plain, asked once per instruction). */
#define OP_PLAIN (LABEL_BASE + LABEL_COUNT)
static const char *label_names[LABEL_COUNT] = {"gt", "lt", "select", "add"};
static PyObject *label_strings[LABEL_COUNT];
static const char *op_names[OP_COUNT] = {
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor",
    "lshift", "rshift", "matmul", "lt", "le", "eq", "ne", "gt", "ge",
    "neg", "pos", "abs", "invert",
};
static PyObject *op_strings[OP_COUNT];

static int Value_traverse(Value *self, visitproc visit, void *arg) {
    Py_VISIT(self->value);
    return 0;
}

static int Value_clear(Value *self) {
    Py_CLEAR(self->value);
    return 0;
}

/* Traced values (of the class setup() registered, the one almost every operation makes) are
 * kept for reuse when freed, up to FREE_VALUES of them: tracing makes and drops one per
 * operation, and the allocator's round trip was a tenth of it. A kept value is untracked by
 * the collector, holds no value and no reference to its class (the subclass's dealloc drops
 * that after ours); value_alloc gives the reference back, value_track the tracking. */
#define FREE_VALUES 1024
static Value *free_values[FREE_VALUES];
static int n_free_values;

static void traced_dealloc(PyObject *self);

static void Value_dealloc(Value *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->value);
    /* kept only for the class fast_dealloc approved (nothing but a Value to set up again:
     * value_alloc does no more than PyObject_Init) */
    if (Py_TYPE(self) == traced_type && traced_type->tp_dealloc == traced_dealloc &&
        n_free_values < FREE_VALUES) {
        free_values[n_free_values++] = self;
        return;
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The dealloc of the traced classes setup() and setup_selection() register, in place of
 * CPython's generic one for Python subclasses (subtype_dealloc: a tenth of a traced loop's
 * time, looking for a __dict__, weak references, slots and finalizers these classes do not
 * have: fast_dealloc checks that first). A Python subclass of one of them keeps the generic
 * dealloc, which calls this one as its base's and then, the base being a heap type, leaves
 * the reference to the class to it: dropped here in both cases. A finalizer added to the
 * class later (__del__) is still called. */
static void traced_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self); /* a heap type (fast_dealloc), or a subclass of one */
    if (type->tp_dealloc == traced_dealloc && type->tp_finalize) {
        if (PyObject_CallFinalizerFromDealloc(self) < 0) return; /* resurrected */
    }
    Value_dealloc((Value *)self);
    Py_DECREF(type);
}

/* Give `type` traced_dealloc when it is a Python subclass of Value that adds nothing to free:
 * no instance dict, no weak references, no slots, no finalizer. */
static void fast_dealloc(PyTypeObject *type) {
    if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || type->tp_basicsize != sizeof(Value) ||
        type->tp_itemsize != 0 || type->tp_dictoffset != 0 || type->tp_weaklistoffset != 0 ||
        type->tp_finalize || type->tp_del || type->tp_dealloc == traced_dealloc)
        return;
#ifdef Py_TPFLAGS_MANAGED_DICT
    if (type->tp_flags & Py_TPFLAGS_MANAGED_DICT) return;
#endif
#ifdef Py_TPFLAGS_MANAGED_WEAKREF
    if (type->tp_flags & Py_TPFLAGS_MANAGED_WEAKREF) return;
#endif
    for (PyTypeObject *t = type->tp_base; t && t != &ValueType; t = t->tp_base)
        if (t->tp_finalize || t->tp_del) return;
    type->tp_dealloc = traced_dealloc;
}

/* A new value of class `kind` (a subclass of Value), holding no value, of no step, not
 * tracked by the collector (value_track, once it holds its value); NULL with an exception. */
static Value *value_alloc(PyTypeObject *kind) {
    Value *self;
    if (kind == traced_type && n_free_values > 0) {
        self = free_values[--n_free_values];
        PyObject_Init((PyObject *)self, kind); /* refcount 1, a reference to its class */
        self->value = NULL;
    } else {
        self = (Value *)kind->tp_alloc(kind, 0);
        if (!self) return NULL;
        PyObject_GC_UnTrack(self);
    }
    self->node = NO_STEP;
    return self;
}

/* Whether `v` holds no reference to another object (None: no value): a traced value
 * carrying one can be in no reference cycle. */
static inline int atomic_value(PyObject *v) {
    return !v || PyFloat_CheckExact(v) || PyLong_CheckExact(v) || PyBool_Check(v);
}

/* Show `self` to the collector unless what it carries cannot make a cycle: a traced number
 * (almost every value tracing makes) is never looked through, as CPython leaves tuples of
 * numbers untracked. Setting `value` later tracks it when needed (Value_set_value). */
static inline void value_track(Value *self) {
    if (!atomic_value(self->value)) PyObject_GC_Track(self);
}

static PyObject *Value_get_value(Value *self, void *closure) {
    PyObject *v = self->value ? self->value : Py_None; /* what a T_OBJECT member reads */
    Py_INCREF(v);
    return v;
}

static int Value_set_value(Value *self, PyObject *v, void *closure) {
    Py_XINCREF(v);
    Py_XSETREF(self->value, v);
    if (!atomic_value(v) && !PyObject_GC_IsTracked((PyObject *)self))
        PyObject_GC_Track(self);
    return 0;
}

/* Free the values kept for reuse (their class is changing: setup()). */
static void drain_free_values(void) {
    while (n_free_values > 0) PyObject_GC_Del(free_values[--n_free_values]);
}

static PyObject *Value_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Value *self = value_alloc(type);
    if (self) PyObject_GC_Track(self); /* its value is set from Python, any value */
    return (PyObject *)self;
}

static PyMemberDef Value_members[] = {
    {"node", T_PYSSIZET, offsetof(Value, node), 0, "The step that made it, or -1."},
    {NULL},
};

static PyGetSetDef Value_getset[] = {
    {"value", (getter)Value_get_value, (setter)Value_set_value, "The value carried.", NULL},
    {NULL},
};

static inline int lasti_of(PyFrameObject *frame) {
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetLasti(frame);
#else
    return frame->f_lasti * 2; /* what frame.f_lasti shows in Python 3.10 */
#endif
}

/* Wrap `value` (a new reference, stolen) as the result of operation `op` on steps x and y. */
static PyObject *record(PyObject *value, int op, Py_ssize_t x, Py_ssize_t y) {
    if (!active || !traced_type) return value; /* setup() not called: nothing records */
    PyObject *rec;
    if (PyContextVar_Get(active, Py_None, &rec) < 0) goto fail;
    /* a borrowed view is enough: the context holding the recorder outlives this call */
    Py_DECREF(rec);
    if (rec == Py_None || !is_tape(rec)) return value;
    Tape *tape = (Tape *)rec;
    if (tape->paused) return value;
    PyFrameObject *frame = PyEval_GetFrame(); /* the user's frame: C slots push none */
    Py_ssize_t step;
    int32_t site = -1;
    PyCodeObject *code = NULL;
    int lasti = 0;
    if (frame) {
        code = PyFrame_GetCode(frame);
        Py_DECREF(code); /* kept alive by the frame, and by the recorder once it has a site */
        lasti = lasti_of(frame);
        if (op >= OP_LT && op <= OP_GE) {
            int32_t plain = cache_get(tape, OP_PLAIN, code, lasti);
            if (plain < 0) {
                PyObject *r = PyObject_CallMethod(rec, "hands_plain", "O", (PyObject *)frame);
                if (!r) goto fail;
                plain = PyObject_IsTrue(r);
                Py_DECREF(r);
                if (plain < 0) goto fail;
                if (cache_put(tape, OP_PLAIN, code, lasti, plain) < 0) goto fail;
            }
            if (plain) { /* identity tests of bools ahead: the plain result, an escape */
                PyObject *r = PyObject_CallMethod(rec, "plain_comparison", "OnnO", op_strings[op],
                                                  x, y, (PyObject *)frame);
                if (!r) goto fail;
                Py_DECREF(r);
                return value;
            }
        }
        site = cache_get(tape, op, code, lasti);
        if (site < 0) {
            /* first time here: the recorder names the site (and keeps the code alive) */
            PyObject *index = PyObject_CallMethod(rec, "site_index", "OO", op_strings[op], frame);
            if (!index) goto fail;
            long long s = PyLong_AsLongLong(index);
            Py_DECREF(index);
            if (s == -1 && PyErr_Occurred()) goto fail;
            if (s < 0 || s > INT32_MAX) { /* a site is an int32 on the tape */
                PyErr_Format(PyExc_ValueError, "site_index() returned %lld, outside 0..%d", s,
                             INT32_MAX);
                goto fail;
            }
            if (cache_put(tape, op, code, lasti, (int32_t)s) < 0) goto fail;
            site = (int32_t)s;
        }
    }
    int64_t control = NO_STEP;
    int slow = site < 0;
    if (!slow && tape->decision >= 0) {
        if (tape->ctl_any || (frame && tape->ctl_frame == (PyObject *)frame))
            control = tape->ctl_step;
        else
            slow = 1; /* a frame the tape has no answer for: the recorder looks it up */
    }
    if (slow) {
        PyObject *r = PyObject_CallMethod(rec, "binary", "OnnO", op_strings[op], x, y,
                                          frame ? (PyObject *)frame : Py_None);
        if (!r) goto fail;
        step = PyLong_AsSsize_t(r);
        Py_DECREF(r);
        if (step == -1 && PyErr_Occurred()) goto fail;
    } else {
        int64_t a = x, b = y;
        normalise_needs(&a, &b, &control);
        step = tape_push(tape, site, a, b, control);
        if (step < 0) goto fail;
    }
    /* A number (the common case, asked without Python) or a value with items: the class
     * values.kind_of picks, a subclass of Value (checked by kind_of's contract in setup). */
    PyTypeObject *kind = traced_type;
    PyObject *chosen = NULL;
    if (!PyFloat_CheckExact(value) && !PyLong_CheckExact(value) && !PyBool_Check(value) &&
        kind_of) {
        chosen = PyObject_CallOneArg(kind_of, value);
        if (!chosen) goto fail;
        if (!PyType_Check(chosen) || !PyType_IsSubtype((PyTypeObject *)chosen, &ValueType)) {
            Py_DECREF(chosen);
            PyErr_SetString(PyExc_TypeError, "kind_of must return a subclass of Value");
            goto fail;
        }
        kind = (PyTypeObject *)chosen;
    }
    Value *out = value_alloc(kind);
    Py_XDECREF(chosen);
    if (!out) goto fail;
    out->value = value;
    out->node = step;
    value_track(out);
    return (PyObject *)out;
fail:
    Py_DECREF(value);
    return NULL;
}

static inline int is_value(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    if (t == traced_type || t == known_value_type || t == &ValueType) return 1;
    if (t == &PyFloat_Type || t == &PyLong_Type) return 0; /* the common plain operands */
    if (!PyType_IsSubtype(t, &ValueType)) return 0;
    remember(&known_value_type, t);
    return 1;
}

static PyObject *binary(PyObject *a, PyObject *b, int op) {
    int ta = is_value(a), tb = is_value(b);
    PyObject *va = ta ? ((Value *)a)->value : a, *vb = tb ? ((Value *)b)->value : b;
    Py_ssize_t x, y;
    if (ta) {
        x = ((Value *)a)->node;
        y = tb ? ((Value *)b)->node : NO_STEP;
    } else { /* reflected: only b is traced */
        x = ((Value *)b)->node;
        y = NO_STEP;
    }
    if (!va || !vb) {
        PyErr_SetString(PyExc_ValueError, "traced value without a value");
        return NULL;
    }
    PyObject *value;
    switch (op) {
    case OP_ADD: value = PyNumber_Add(va, vb); break;
    case OP_SUB: value = PyNumber_Subtract(va, vb); break;
    case OP_MUL: value = PyNumber_Multiply(va, vb); break;
    case OP_TRUEDIV: value = PyNumber_TrueDivide(va, vb); break;
    case OP_FLOORDIV: value = PyNumber_FloorDivide(va, vb); break;
    case OP_MOD: value = PyNumber_Remainder(va, vb); break;
    case OP_POW: value = PyNumber_Power(va, vb, Py_None); break;
    case OP_AND: value = PyNumber_And(va, vb); break;
    case OP_OR: value = PyNumber_Or(va, vb); break;
    case OP_XOR: value = PyNumber_Xor(va, vb); break;
    case OP_LSHIFT: value = PyNumber_Lshift(va, vb); break;
    case OP_RSHIFT: value = PyNumber_Rshift(va, vb); break;
    case OP_MATMUL: value = PyNumber_MatrixMultiply(va, vb); break;
    default: PyErr_SetString(PyExc_SystemError, "unknown operation"); return NULL;
    }
    if (!value) return NULL;
    return record(value, op, x, y);
}

#define BINARY(fn, op) \
    static PyObject *fn(PyObject *a, PyObject *b) { return binary(a, b, op); }
BINARY(v_add, OP_ADD)
BINARY(v_sub, OP_SUB)
BINARY(v_mul, OP_MUL)
BINARY(v_truediv, OP_TRUEDIV)
BINARY(v_floordiv, OP_FLOORDIV)
BINARY(v_mod, OP_MOD)
BINARY(v_and, OP_AND)
BINARY(v_or, OP_OR)
BINARY(v_xor, OP_XOR)
BINARY(v_lshift, OP_LSHIFT)
BINARY(v_rshift, OP_RSHIFT)
BINARY(v_matmul, OP_MATMUL)

static PyObject *v_pow(PyObject *a, PyObject *b, PyObject *mod) {
    if (mod != Py_None) Py_RETURN_NOTIMPLEMENTED; /* three-argument pow is not traced */
    return binary(a, b, OP_POW);
}

static PyObject *v_richcompare(PyObject *a, PyObject *b, int cmp) {
    static const int ops[] = {OP_LT, OP_LE, OP_EQ, OP_NE, OP_GT, OP_GE}; /* Py_LT .. Py_GE */
    int tb = is_value(b);
    PyObject *va = ((Value *)a)->value, *vb = tb ? ((Value *)b)->value : b;
    if (!va || !vb) {
        PyErr_SetString(PyExc_ValueError, "traced value without a value");
        return NULL;
    }
    PyObject *value = PyObject_RichCompare(va, vb, cmp);
    if (!value) return NULL;
    return record(value, ops[cmp], ((Value *)a)->node, tb ? ((Value *)b)->node : NO_STEP);
}

/* The unary operators: one step needing the operand's, as values._unary records them. */
static PyObject *unary(PyObject *a, int op) {
    PyObject *va = ((Value *)a)->value;
    if (!va) {
        PyErr_SetString(PyExc_ValueError, "traced value without a value");
        return NULL;
    }
    PyObject *value;
    switch (op) {
    case OP_NEG: value = PyNumber_Negative(va); break;
    case OP_POS: value = PyNumber_Positive(va); break;
    case OP_ABS: value = PyNumber_Absolute(va); break;
    case OP_INVERT: value = PyNumber_Invert(va); break;
    default: PyErr_SetString(PyExc_SystemError, "unknown operation"); return NULL;
    }
    if (!value) return NULL;
    return record(value, op, ((Value *)a)->node, NO_STEP);
}

static PyObject *v_neg(PyObject *a) { return unary(a, OP_NEG); }
static PyObject *v_pos(PyObject *a) { return unary(a, OP_POS); }
static PyObject *v_abs(PyObject *a) { return unary(a, OP_ABS); }
static PyObject *v_invert(PyObject *a) { return unary(a, OP_INVERT); }

/* Whether a truth test now at `frame` is a branch the code there wrote (1), or one made
 * inside a call (0), -1 on error: the recorder's is_branch, cached per instruction. */
static int truth_is_branch(Tape *tape, PyObject *rec, PyFrameObject *frame) {
    if (!frame) return 0;
    PyCodeObject *code = PyFrame_GetCode(frame);
    Py_DECREF(code); /* kept alive by the frame, and by the recorder once it has seen it */
    int lasti = lasti_of(frame);
    int32_t known = cache_get(tape, OP_TRUTH, code, lasti);
    if (known >= 0) return known;
    PyObject *r = PyObject_CallMethod(rec, "is_branch", "O", (PyObject *)frame);
    if (!r) return -1;
    int branch = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (branch < 0) return -1;
    if (cache_put(tape, OP_TRUTH, code, lasti, branch) < 0) return -1;
    return branch;
}

/* bool(value): a branch on a traced value, as PyValue.__bool__ counts it. */
static int v_bool(PyObject *o) {
    Value *self = (Value *)o;
    if (active && traced_type) {
        PyObject *rec;
        if (PyContextVar_Get(active, Py_None, &rec) < 0) return -1;
        if (rec != Py_None && is_tape(rec) && !((Tape *)rec)->paused) {
            Tape *tape = (Tape *)rec;
            PyFrameObject *frame = PyEval_GetFrame(); /* the user's: C slots push none */
            PyObject *r = NULL;
            int branch;
            if (tape->quiet_frame && (PyObject *)frame == tape->quiet_frame) {
                /* a watched sort's own truth test: not a branch */
            } else if ((branch = truth_is_branch(tape, rec, frame)) < 0) {
                Py_DECREF(rec);
                return -1;
            } else if (!branch) {
                r = PyObject_CallMethod(rec, "truth_escape", "O",
                                        frame ? (PyObject *)frame : Py_None);
                if (!r) {
                    Py_DECREF(rec);
                    return -1;
                }
                Py_DECREF(r);
            } else if (tape->bool_fast) {
                tape->control_decisions++;
            } else {
                r = PyObject_CallMethod(rec, "decide", "nO", self->node,
                                        frame ? (PyObject *)frame : Py_None);
                if (!r) {
                    Py_DECREF(rec);
                    return -1;
                }
                Py_DECREF(r);
            }
        }
        Py_DECREF(rec);
    }
    return PyObject_IsTrue(self->value);
}

static PyNumberMethods Value_as_number = {
    .nb_bool = v_bool,
    .nb_add = v_add,
    .nb_subtract = v_sub,
    .nb_multiply = v_mul,
    .nb_remainder = v_mod,
    .nb_power = v_pow,
    .nb_lshift = v_lshift,
    .nb_rshift = v_rshift,
    .nb_and = v_and,
    .nb_xor = v_xor,
    .nb_or = v_or,
    .nb_floor_divide = v_floordiv,
    .nb_true_divide = v_truediv,
    .nb_matrix_multiply = v_matmul,
    .nb_negative = v_neg,
    .nb_positive = v_pos,
    .nb_absolute = v_abs,
    .nb_invert = v_invert,
};

static PyTypeObject ValueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serialscale.accel._tape.Value",
    .tp_basicsize = sizeof(Value),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Compiled base of Traced: a value, its step, and the traced operators.",
    .tp_new = Value_new,
    .tp_dealloc = (destructor)Value_dealloc,
    .tp_traverse = (traverseproc)Value_traverse,
    .tp_clear = (inquiry)Value_clear,
    .tp_members = Value_members,
    .tp_getset = Value_getset,
    .tp_as_number = &Value_as_number,
    .tp_richcompare = v_richcompare,
    .tp_hash = PyObject_HashNotImplemented, /* Traced defines its own */
};

/* ---- native selection ------------------------------------------------------------------ */

/* list.sort (and numpy's sort, max and min on object arrays) are methods of builtin types.
 * While a traced run is on, trace/native_selection.py puts a MethodWatch in the type's dict
 * in place of each (swap_method) and puts the original back after. A MethodWatch is a method
 * descriptor (lst.sort(...) stays a LOAD_METHOD call with no bound method made): called in a
 * thread that has a watch on (watch_methods), it calls the thread's callback(event, which,
 * self, frame) before (event 0) and after (1: returned, 2: raised) the original, frame being
 * the calling Python frame; elsewhere it only calls the original. No profile function: one
 * would put CPython 3.11's interpreter in its tracing mode, every instruction unspecialised. */
#define MAX_WATCHED 8

/* This thread's watch, a (callback, names) tuple, is kept in its thread-state dict under
 * this key. */
static PyObject *watch_key;

typedef struct {
    PyObject_HEAD
    PyObject *original; /* the method descriptor it stands for */
    PyObject *name;     /* its name (str): which of the watched names it is */
    vectorcallfunc vectorcall;
} MethodWatch;

/* This thread's watch (borrowed), or NULL: none (no error set) or an error. */
static PyObject *thread_watch(void) {
    PyObject *dict = PyThreadState_GetDict();
    return dict ? PyDict_GetItemWithError(dict, watch_key) : NULL;
}

static PyObject *method_watch_call(PyObject *callable, PyObject *const *args, size_t nargsf,
                                   PyObject *kwnames) {
    MethodWatch *mw = (MethodWatch *)callable;
    PyObject *watch = PyVectorcall_NARGS(nargsf) > 0 ? thread_watch() : NULL;
    Py_ssize_t which = -1;
    if (watch) {
        PyObject *names = PyTuple_GET_ITEM(watch, 1);
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++)
            if (PyUnicode_Compare(PyTuple_GET_ITEM(names, i), mw->name) == 0) {
                which = i;
                break;
            }
    } else if (PyErr_Occurred()) {
        return NULL;
    }
    if (which < 0) return PyObject_Vectorcall(mw->original, args, nargsf, kwnames);
    /* held: the callback may end the watch (and the thread's tuple with it) */
    PyObject *callback = PyTuple_GET_ITEM(watch, 0), *self = args[0];
    PyObject *frame = (PyObject *)PyEval_GetFrame();
    if (!frame) frame = Py_None;
    Py_INCREF(callback);
    Py_INCREF(self);
    Py_INCREF(frame);
    PyObject *result = NULL;
    PyObject *r = PyObject_CallFunction(callback, "inOO", 0, which, self, frame);
    if (!r) goto done; /* not started: no end event */
    Py_DECREF(r);
    result = PyObject_Vectorcall(mw->original, args, nargsf, kwnames);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb); /* set when it raised: the callback runs without it */
    r = PyObject_CallFunction(callback, "inOO", result ? 1 : 2, which, self, frame);
    if (!r) {
        /* The callback raised (the run's operation limit): that goes on in place of the
         * call's own result or exception. */
        Py_CLEAR(result);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        goto done;
    }
    Py_DECREF(r);
    PyErr_Restore(type, value, tb);
done:
    Py_DECREF(callback);
    Py_DECREF(self);
    Py_DECREF(frame);
    return result;
}

/* lst.sort as a value (f = lst.sort): a bound method of the MethodWatch, so that calling it
 * is watched too; on the class (list.sort), the MethodWatch itself, as a method descriptor
 * gives itself. The original binds first, so that a wrong instance is refused as it would
 * refuse it. */
static PyObject *method_watch_get(PyObject *self, PyObject *obj, PyObject *type) {
    MethodWatch *mw = (MethodWatch *)self;
    if (obj == NULL || obj == Py_None) return Py_NewRef(self);
    descrgetfunc get = Py_TYPE(mw->original)->tp_descr_get;
    if (get) {
        PyObject *bound = get(mw->original, obj, type);
        if (!bound) return NULL;
        Py_DECREF(bound);
    }
    return PyMethod_New(self, obj);
}

/* Introspection sees the original: __name__, __qualname__, __doc__, __text_signature__,
 * __objclass__, __class__...; __wrapped__ is the original itself. Calling and binding stay
 * the MethodWatch's own. */
static PyObject *method_watch_getattro(PyObject *self, PyObject *name) {
    MethodWatch *mw = (MethodWatch *)self;
    if (PyUnicode_Check(name)) {
        if (PyUnicode_CompareWithASCIIString(name, "__wrapped__") == 0)
            return Py_NewRef(mw->original);
        if (PyUnicode_CompareWithASCIIString(name, "__call__") == 0 ||
            PyUnicode_CompareWithASCIIString(name, "__get__") == 0)
            return PyObject_GenericGetAttr(self, name);
    }
    return PyObject_GetAttr(mw->original, name);
}

static PyObject *method_watch_repr(PyObject *self) {
    return PyObject_Repr(((MethodWatch *)self)->original);
}

static int method_watch_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(((MethodWatch *)self)->original);
    return 0;
}

static int method_watch_clear(PyObject *self) {
    Py_CLEAR(((MethodWatch *)self)->original);
    return 0;
}

static void method_watch_dealloc(PyObject *self) {
    PyObject_GC_UnTrack(self);
    method_watch_clear(self);
    Py_CLEAR(((MethodWatch *)self)->name);
    PyObject_GC_Del(self);
}

static PyTypeObject MethodWatchType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serialscale.accel._tape.MethodWatch",
    .tp_basicsize = sizeof(MethodWatch),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "A builtin method, watched in the threads that have a watch on.",
    .tp_dealloc = method_watch_dealloc,
    .tp_traverse = method_watch_traverse,
    .tp_clear = method_watch_clear,
    .tp_vectorcall_offset = offsetof(MethodWatch, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = method_watch_get,
    .tp_getattro = method_watch_getattro,
    .tp_repr = method_watch_repr,
};

/* method_watch(original, name): the MethodWatch of a builtin method (swap_method puts it in
 * the type's dict). */
static PyObject *method_watch(PyObject *self, PyObject *args) {
    PyObject *original, *name;
    if (!PyArg_ParseTuple(args, "OU", &original, &name)) return NULL;
    if (!PyCallable_Check(original)) {
        PyErr_SetString(PyExc_TypeError, "method_watch: the original must be callable");
        return NULL;
    }
    MethodWatch *mw = PyObject_GC_New(MethodWatch, &MethodWatchType);
    if (!mw) return NULL;
    mw->original = Py_NewRef(original);
    mw->name = Py_NewRef(name);
    mw->vectorcall = method_watch_call;
    PyObject_GC_Track(mw);
    return (PyObject *)mw;
}

/* swap_method(cls, name, value): put value in cls's own dict under name, which must be
 * there; the value it replaces. The type's attribute cache and the interpreter's
 * specialised instructions see the change (PyType_Modified). */
static PyObject *swap_method(PyObject *self, PyObject *args) {
    PyTypeObject *cls;
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "O!UO", &PyType_Type, &cls, &name, &value)) return NULL;
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *dict = PyType_GetDict(cls); /* static builtin types: this interpreter's */
#else
    PyObject *dict = Py_XNewRef(cls->tp_dict);
#endif
    if (!dict) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "swap_method: a type without a dict");
        return NULL;
    }
    PyObject *old = PyDict_GetItemWithError(dict, name);
    if (!old) {
        if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, name);
        Py_DECREF(dict);
        return NULL;
    }
    Py_INCREF(old);
    int rc = PyDict_SetItem(dict, name, value);
    Py_DECREF(dict);
    PyType_Modified(cls);
    if (rc < 0) {
        Py_DECREF(old);
        return NULL;
    }
    return old;
}

/* watch_methods(callback, names): in this thread, MethodWatches named names[i] call
 * callback(event, i, self, frame) around the original; watch_methods(None, ()) stops. */
static PyObject *watch_methods(PyObject *self, PyObject *args) {
    PyObject *callback, *names;
    if (!PyArg_ParseTuple(args, "OO!", &callback, &PyTuple_Type, &names)) return NULL;
    PyObject *dict = PyThreadState_GetDict();
    if (!dict) {
        PyErr_SetString(PyExc_RuntimeError, "watch_methods: no thread state dict");
        return NULL;
    }
    if (callback == Py_None) {
        if (PyDict_DelItem(dict, watch_key) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_KeyError)) return NULL;
            PyErr_Clear();
        }
        Py_RETURN_NONE;
    }
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "watch_methods: callback must be callable or None");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    if (n > MAX_WATCHED) {
        PyErr_Format(PyExc_ValueError, "watch_methods: at most %d names", MAX_WATCHED);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(names, i);
        Py_ssize_t len;
        const char *text = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &len) : NULL;
        if (!text) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "watch_methods: names must be str");
            return NULL;
        }
        if (len < 1 || len >= 16 || (Py_ssize_t)strlen(text) != len) {
            PyErr_SetString(PyExc_ValueError, "watch_methods: names must be 1 to 15 characters");
            return NULL;
        }
    }
    PyObject *watch = PyTuple_Pack(2, callback, names);
    if (!watch) return NULL;
    int rc = PyDict_SetItem(dict, watch_key, watch);
    Py_DECREF(watch);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

/* ---- compiled selection and reduction -------------------------------------------------- */

/* While a traced run records, builtins.max, min and sum are Selector objects: the common
 * case (no key function, values that are traced numbers or plain values, no list or tuple
 * among them) runs here, making exactly the steps trace/selection.py's _extreme and
 * trace/mathlib.py's recorded_sum make (those stay the pure-Python twins, and take every
 * other case: a key function, tuples, unknown keywords). A step made while a decision is in
 * force (strict and frame modes) goes through the recorder's named(), which adds it. */

static PyTypeObject *items_type; /* trace.values.TracedItems, set by setup_selection() */
static PyObject *plain_fn;       /* trace.selection.plain: traced values inside lists, tuples */

/* type(o) in values.TRACED */
static inline int is_traced(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    return traced_type && (t == traced_type || (items_type && t == items_type));
}

/* The active recorder when it is a tape that records (a new reference), else NULL; -1 with
 * an exception set on error. */
static int recording_tape(PyObject **out) {
    *out = NULL;
    if (!active || !traced_type || !items_type || !plain_fn) return 0;
    PyObject *rec;
    if (PyContextVar_Get(active, Py_None, &rec) < 0) return -1;
    if (rec == Py_None || !is_tape(rec) || ((Tape *)rec)->paused) {
        Py_DECREF(rec);
        return 0;
    }
    *out = rec;
    return 0;
}

/* selection.plain(o): a traced value's value; a list or tuple made anew of its items'
 * plain values (exact lists and tuples here, as plain() makes them: heapq's (distance,
 * node) pairs; their subclasses through plain() itself); else o. */
static PyObject *plain_of(PyObject *o) {
    if (is_traced(o)) {
        PyObject *v = ((Value *)o)->value;
        if (!v) {
            PyErr_SetString(PyExc_ValueError, "traced value without a value");
            return NULL;
        }
        Py_INCREF(v);
        return v;
    }
    int tuple = PyTuple_CheckExact(o);
    if (tuple || PyList_CheckExact(o)) {
        Py_ssize_t n = tuple ? PyTuple_GET_SIZE(o) : PyList_GET_SIZE(o);
        PyObject *out = tuple ? PyTuple_New(n) : PyList_New(n);
        if (!out) return NULL;
        if (Py_EnterRecursiveCall(" in plain()")) {
            Py_DECREF(out);
            return NULL;
        }
        /* a list's items are read one at a time (its length as it is then, as iterating it
         * does): nothing here calls back into Python code that could change it, except
         * plain() on a subclass item, so the length is checked on every read */
        Py_ssize_t i = 0;
        for (; i < n && (tuple || i < PyList_GET_SIZE(o)); i++) {
            PyObject *item = tuple ? PyTuple_GET_ITEM(o, i) : PyList_GET_ITEM(o, i);
            Py_INCREF(item);
            PyObject *p = plain_of(item);
            Py_DECREF(item);
            if (!p) {
                Py_LeaveRecursiveCall();
                Py_DECREF(out);
                return NULL;
            }
            if (tuple)
                PyTuple_SET_ITEM(out, i, p);
            else
                PyList_SET_ITEM(out, i, p);
        }
        Py_LeaveRecursiveCall();
        if (i < n) { /* the list shrank meanwhile: as many items as were read */
            PyObject *cut = PyList_GetSlice(out, 0, i);
            Py_DECREF(out);
            return cut;
        }
        return out;
    }
    if (PyList_Check(o) || PyTuple_Check(o)) return PyObject_CallOneArg(plain_fn, o);
    Py_INCREF(o);
    return o;
}

/* Traced(value, step): a new traced value of the class values.kind_of picks. */
static PyObject *traced_new(PyObject *value, Py_ssize_t step) {
    PyTypeObject *kind = traced_type;
    PyObject *chosen = NULL;
    if (!PyFloat_CheckExact(value) && !PyLong_CheckExact(value) && !PyBool_Check(value)) {
        chosen = PyObject_CallOneArg(kind_of, value);
        if (!chosen) return NULL;
        if (!PyType_Check(chosen) || !PyType_IsSubtype((PyTypeObject *)chosen, &ValueType)) {
            Py_DECREF(chosen);
            PyErr_SetString(PyExc_TypeError, "kind_of must return a subclass of Value");
            return NULL;
        }
        kind = (PyTypeObject *)chosen;
    }
    Value *out = value_alloc(kind);
    Py_XDECREF(chosen);
    if (!out) return NULL;
    Py_INCREF(value);
    out->value = value;
    out->node = step;
    value_track(out);
    return (PyObject *)out;
}

/* One call's view of the recorder. */
typedef struct {
    PyObject *rec; /* the recorder (a Tape) */
    Tape *tape;
} Run;

/* The recorder's label_index(name), cached in the tape's site cache under (op, NULL, key);
 * -1 with an exception set. */
static int32_t cached_label(Run *r, int op, int key, PyObject *name) {
    int32_t site = cache_get(r->tape, op, NULL, key);
    if (site >= 0) return site;
    PyObject *index = PyObject_CallMethod(r->rec, "label_index", "O", name);
    if (!index) return -1;
    long long s = PyLong_AsLongLong(index);
    Py_DECREF(index);
    if (s == -1 && PyErr_Occurred()) return -1;
    if (s < 0 || s > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "label_index() returned %lld, outside 0..%d", s,
                     INT32_MAX);
        return -1;
    }
    if (cache_put(r->tape, op, NULL, key, (int32_t)s) < 0) return -1;
    return (int32_t)s;
}

/* The label index of the coarse steps named label_names[which]; -1 with an exception set. */
static int32_t label_of(Run *r, int which) {
    return cached_label(r, LABEL_BASE + which, 0, label_strings[which]);
}

/* Record the coarse step label_names[which] needing steps x, y, z (-1: none), of cost 0
 * when zero_cost (else 1), as Recorder.named does; its number, or -1 with an exception. */
static Py_ssize_t named_step3(Run *r, int which, int64_t x, int64_t y, int64_t z,
                              int zero_cost) {
    if (r->tape->decision < 0) { /* no decision to add: push it as an operation is pushed */
        int32_t site = label_of(r, which);
        if (site < 0) return -1;
        normalise_needs(&x, &y, &z);
        Py_ssize_t step = tape_push(r->tape, site, x, y, z);
        if (step < 0 || !zero_cost) return step;
        return tape_zero_cost(r->tape, step) < 0 ? -1 : step;
    }
    PyObject *needs = PyList_New(0);
    if (!needs) return -1;
    int64_t all[3] = {x, y, z};
    for (int k = 0; k < 3; k++) {
        if (all[k] < 0) continue;
        PyObject *n = PyLong_FromLongLong(all[k]);
        int rc = n ? PyList_Append(needs, n) : -1;
        Py_XDECREF(n);
        if (rc < 0) {
            Py_DECREF(needs);
            return -1;
        }
    }
    PyObject *res = zero_cost ? PyObject_CallMethod(r->rec, "named", "OOi", label_strings[which],
                                                    needs, 0)
                              : PyObject_CallMethod(r->rec, "named", "OO", label_strings[which],
                                                    needs);
    Py_DECREF(needs);
    if (!res) return -1;
    Py_ssize_t step = PyLong_AsSsize_t(res);
    Py_DECREF(res);
    if (step == -1 && PyErr_Occurred()) return -1;
    if (step < 0) {
        PyErr_SetString(PyExc_ValueError, "named() returned a negative step");
        return -1;
    }
    return step;
}

static Py_ssize_t named_step(Run *r, int which, int64_t x, int64_t y, int zero_cost) {
    return named_step3(r, which, x, y, NO_STEP, zero_cost);
}

static inline Py_ssize_t node_of(PyObject *o) { return is_traced(o) ? ((Value *)o)->node : NO_STEP; }

/* selection._compare(rec, a, b, greater): the truth of a > b (a < b), *step the comparison's
 * step (-1 when neither is traced). Neither is a list or tuple. 0, or -1 with an exception. */
static int compare_step(Run *r, PyObject *a, PyObject *b, int greater, int *truth,
                        Py_ssize_t *step) {
    PyObject *pa = plain_of(a), *pb = pa ? plain_of(b) : NULL;
    PyObject *cmp = pb ? PyObject_RichCompare(pa, pb, greater ? Py_GT : Py_LT) : NULL;
    Py_XDECREF(pa);
    Py_XDECREF(pb);
    if (!cmp) return -1;
    int t = PyObject_IsTrue(cmp);
    Py_DECREF(cmp);
    if (t < 0) return -1;
    *truth = t;
    *step = NO_STEP;
    if (!is_traced(a) && !is_traced(b)) return 0;
    *step = named_step(r, greater ? LABEL_GT : LABEL_LT, node_of(a), node_of(b), 0);
    return *step < 0 ? -1 : 0;
}

/* selection._select(rec, value, comparison) for a value that is not a tuple. */
static PyObject *select_value(Run *r, PyObject *value, Py_ssize_t comparison) {
    if (comparison < 0 || !is_traced(value)) {
        Py_INCREF(value);
        return value;
    }
    Py_ssize_t step = named_step(r, LABEL_SELECT, comparison, ((Value *)value)->node, 1);
    if (step < 0) return NULL;
    PyObject *v = ((Value *)value)->value;
    if (!v) {
        PyErr_SetString(PyExc_ValueError, "traced value without a value");
        return NULL;
    }
    return traced_new(v, step);
}

/* Tuples inside tuples compared or selected, at most this deep (Python's own recursion
 * limit stops the twin at about as deep). */
#define MAX_NESTING 400

/* selection._nodes(value) into nodes[] (at most cap; *count the total, -1 entries kept as
 * the Python list keeps them); *traced set when any traced value was found. -1 on error. */
static int collect_nodes(PyObject *v, int64_t *nodes, int cap, int *count, int depth) {
    if (is_traced(v)) {
        if (*count < cap) nodes[*count] = ((Value *)v)->node;
        (*count)++;
        return 0;
    }
    if (PyTuple_CheckExact(v)) {
        if (depth > MAX_NESTING) {
            PyErr_SetString(PyExc_RecursionError, "tuples nested too deeply to compare");
            return -1;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v); i++)
            if (collect_nodes(PyTuple_GET_ITEM(v, i), nodes, cap, count, depth + 1) < 0) return -1;
    }
    return 0;
}

/* The distinct steps among nodes[0..count) (-1s skipped, repeats kept once) into
 * distinct[0..3), the rest NO_STEP: 1 when there are at most three, else 0. */
static int distinct3(const int64_t *nodes, Py_ssize_t count, int64_t distinct[3]) {
    int k = 0;
    distinct[0] = distinct[1] = distinct[2] = NO_STEP;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (nodes[i] < 0) continue;
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= distinct[j] == nodes[i];
        if (seen) continue;
        if (k == 3) return 0;
        distinct[k++] = nodes[i];
    }
    return 1;
}

/* A coarse step label_names[which] needing these steps (any number; -1s skipped, repeats
 * kept once): the fast path for up to three distinct, else the recorder's named(). */
static Py_ssize_t named_many(Run *r, int which, const int64_t *nodes, Py_ssize_t count) {
    int64_t distinct[3];
    int fits = distinct3(nodes, count, distinct);
    if (fits) return named_step3(r, which, distinct[0], distinct[1], distinct[2], 0);
    PyObject *needs = PyList_New(0);
    if (!needs) return -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (nodes[i] < 0) continue;
        PyObject *n = PyLong_FromLongLong(nodes[i]);
        int rc = n ? PyList_Append(needs, n) : -1;
        Py_XDECREF(n);
        if (rc < 0) {
            Py_DECREF(needs);
            return -1;
        }
    }
    PyObject *res = PyObject_CallMethod(r->rec, "named", "OO", label_strings[which], needs);
    Py_DECREF(needs);
    if (!res) return -1;
    Py_ssize_t step = PyLong_AsSsize_t(res);
    Py_DECREF(res);
    if (step == -1 && PyErr_Occurred()) return -1;
    return step;
}

#define MAX_NODES 64 /* a comparison of tuples holding more traced values: named() */

/* selection._compare(rec, a, b, greater, after): *truth of a > b (a < b), *step the
 * comparison's step needing the steps behind both (inside tuples too) and `after`, -1 when
 * neither holds a traced value. 0, or -1 with an exception set. */
static int compare_after(Run *r, PyObject *a, PyObject *b, int greater, Py_ssize_t after,
                         int *truth, Py_ssize_t *step) {
    PyObject *pa = plain_of(a), *pb = pa ? plain_of(b) : NULL;
    PyObject *cmp = pb ? PyObject_RichCompare(pa, pb, greater ? Py_GT : Py_LT) : NULL;
    Py_XDECREF(pa);
    Py_XDECREF(pb);
    if (!cmp) return -1;
    int t = PyObject_IsTrue(cmp);
    Py_DECREF(cmp);
    if (t < 0) return -1;
    *truth = t;
    *step = NO_STEP;
    /* the steps behind both sides (counted first: tuples may hold any number), then after */
    int count = 0;
    if (collect_nodes(a, NULL, 0, &count, 0) < 0 || collect_nodes(b, NULL, 0, &count, 0) < 0)
        return -1;
    if (count == 0) return 0;
    int64_t small[MAX_NODES + 1], *nodes = small;
    if (count > MAX_NODES && !(nodes = PyMem_Malloc(sizeof(int64_t) * ((size_t)count + 1)))) {
        PyErr_NoMemory();
        return -1;
    }
    int filled = 0;
    Py_ssize_t made = -1;
    if (collect_nodes(a, nodes, count, &filled, 0) == 0 &&
        collect_nodes(b, nodes, count, &filled, 0) == 0) {
        nodes[filled] = after;
        made = named_many(r, greater ? LABEL_GT : LABEL_LT, nodes, (Py_ssize_t)filled + 1);
    }
    if (nodes != small) PyMem_Free(nodes);
    if (made < 0) return -1;
    *step = made;
    return 0;
}

/* compare(rec, a, b, greater, after) -> (truth, step): selection._compare in C. */
static PyObject *py_compare(PyObject *module, PyObject *args) {
    PyObject *rec, *a, *b;
    int greater;
    Py_ssize_t after = NO_STEP;
    if (!PyArg_ParseTuple(args, "OOOp|n", &rec, &a, &b, &greater, &after)) return NULL;
    if (!is_tape(rec) || !items_type || !plain_fn) {
        PyErr_SetString(PyExc_TypeError, "compare: rec must be a tape (after setup_selection)");
        return NULL;
    }
    Run r = {rec, (Tape *)rec};
    int truth;
    Py_ssize_t step;
    if (compare_after(&r, a, b, greater, after, &truth, &step) < 0) return NULL;
    return Py_BuildValue("(On)", truth ? Py_True : Py_False, step);
}

/* selection._select for any value (tuples element by element, new tuples). */
static PyObject *select_any(Run *r, PyObject *value, Py_ssize_t comparison, int depth) {
    if (comparison < 0) {
        Py_INCREF(value);
        return value;
    }
    if (PyTuple_CheckExact(value)) {
        if (depth > MAX_NESTING) {
            PyErr_SetString(PyExc_RecursionError, "tuples nested too deeply to select");
            return NULL;
        }
        Py_ssize_t n = PyTuple_GET_SIZE(value);
        PyObject *out = PyTuple_New(n);
        if (!out) return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = select_any(r, PyTuple_GET_ITEM(value, i), comparison, depth + 1);
            if (!item) {
                Py_DECREF(out);
                return NULL;
            }
            PyTuple_SET_ITEM(out, i, item);
        }
        return out;
    }
    return select_value(r, value, comparison);
}

/* select(rec, value, comparison) -> value as chosen: selection._select in C. */
static PyObject *py_select(PyObject *module, PyObject *args) {
    PyObject *rec, *value;
    Py_ssize_t comparison;
    if (!PyArg_ParseTuple(args, "OOn", &rec, &value, &comparison)) return NULL;
    if (!is_tape(rec) || !items_type || !plain_fn) {
        PyErr_SetString(PyExc_TypeError, "select: rec must be a tape (after setup_selection)");
        return NULL;
    }
    Run r = {rec, (Tape *)rec};
    PyObject *out = select_any(&r, value, comparison, 0);
    return out;
}

enum { SEL_MAX, SEL_MIN, SEL_SUM, SEL_PASS, SEL_HEAPPUSH, SEL_HEAPPOP };

typedef struct {
    PyObject_HEAD
    int kind;           /* SEL_MAX, SEL_MIN, SEL_SUM or SEL_PASS */
    int label_key;      /* SEL_PASS: its label's key in the tape's site cache (unique) */
    PyObject *original; /* the builtin: outside a recording run */
    PyObject *fallback; /* the pure-Python replacement: every case not taken here */
    PyObject *name;     /* __name__, the builtin's */
} Selector;

/* max(*args, key=None, default=...) while recording; items a list we own. */
static PyObject *extreme_call(Selector *self, Run *r, PyObject *args, PyObject *kwargs) {
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    PyObject *dflt = NULL;
    if (kwargs) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(kwargs, &pos, &k, &v)) {
            if (PyUnicode_Check(k) && PyUnicode_CompareWithASCIIString(k, "default") == 0)
                dflt = v;
            else if (!(PyUnicode_Check(k) && PyUnicode_CompareWithASCIIString(k, "key") == 0 &&
                       v == Py_None))
                return PyObject_Call(self->fallback, args, kwargs);
        }
    }
    if (nargs == 0 || (nargs > 1 && dflt)) return PyObject_Call(self->fallback, args, kwargs);
    PyObject *items = PySequence_List(nargs == 1 ? PyTuple_GET_ITEM(args, 0) : args);
    if (!items) return NULL;
    PyObject *result = NULL;
    int traced = 0, plain_only = 1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        if (PyList_Check(item) || PyTuple_Check(item)) plain_only = 0;
        traced |= is_traced(item);
    }
    if (!plain_only) { /* tuples are selected element by element: the Python twin's job */
        PyObject *one = PyTuple_Pack(1, items);
        if (one) result = PyObject_Call(self->fallback, one, kwargs);
        Py_XDECREF(one);
        goto done;
    }
    if (!traced) { /* no step: the builtin itself, on the values as given */
        PyObject *one = PyTuple_Pack(1, items), *kw = NULL;
        if (one && dflt) {
            kw = PyDict_New();
            if (!kw || PyDict_SetItemString(kw, "default", dflt) < 0) Py_CLEAR(one);
        }
        if (one) result = PyObject_Call(self->original, one, kw);
        Py_XDECREF(one);
        Py_XDECREF(kw);
        goto done;
    }
    /* A chain of n - 1 comparisons, as the builtin makes them (the first extreme wins
     * ties); what each picks passes through a select step needing it. */
    int greater = self->kind == SEL_MAX;
    PyObject *best = PyList_GET_ITEM(items, 0);
    Py_INCREF(best);
    for (Py_ssize_t i = 1; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        Py_INCREF(item);
        int better;
        Py_ssize_t comparison;
        PyObject *next = NULL;
        if (compare_step(r, item, best, greater, &better, &comparison) == 0)
            next = select_value(r, better ? item : best, comparison);
        Py_DECREF(item);
        Py_DECREF(best);
        if (!next) goto done;
        best = next;
    }
    result = best;
done:
    Py_DECREF(items);
    return result;
}

/* sum(iterable, /, start=0) while recording: additions in order, streamed; an addition with
 * a traced operand is a step; the default start 0 is not an operation. */
static PyObject *sum_call(Selector *self, Run *r, PyObject *args, PyObject *kwargs) {
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    PyObject *start = nargs == 2 ? PyTuple_GET_ITEM(args, 1) : NULL;
    if (kwargs && PyDict_GET_SIZE(kwargs) > 0) {
        PyObject *given = PyDict_GetItemString(kwargs, "start");
        if (!given || start || PyDict_GET_SIZE(kwargs) != 1)
            return PyObject_Call(self->fallback, args, kwargs);
        start = given;
    }
    if (nargs < 1 || nargs > 2) return PyObject_Call(self->fallback, args, kwargs);
    int skip_start = !start; /* a start that is the int 0 (not False, not 0.0) is no addend */
    if (start && PyLong_CheckExact(start)) {
        int overflow;
        long v = PyLong_AsLongAndOverflow(start, &overflow);
        skip_start = !overflow && v == 0;
    }
    PyObject *value = start ? plain_of(start) : PyLong_FromLong(0);
    if (!value) return NULL;
    int traced = start && is_traced(start);
    Py_ssize_t node = traced ? ((Value *)start)->node : NO_STEP;
    PyObject *it = PyObject_GetIter(PyTuple_GET_ITEM(args, 0)), *item;
    if (!it) {
        Py_DECREF(value);
        return NULL;
    }
    while ((item = PyIter_Next(it))) {
        int item_traced = is_traced(item);
        Py_ssize_t item_node = item_traced ? ((Value *)item)->node : NO_STEP;
        PyObject *p = plain_of(item);
        Py_DECREF(item);
        if (!p) goto fail;
        if (skip_start) { /* the first item is the sum so far */
            Py_SETREF(value, p);
            traced = item_traced;
            node = item_node;
            skip_start = 0;
            continue;
        }
        PyObject *total = PyNumber_Add(value, p);
        Py_DECREF(p);
        if (!total) goto fail;
        Py_SETREF(value, total);
        if (traced || item_traced) {
            node = named_step(r, LABEL_ADD, node, item_node, 0);
            if (node < 0) goto fail;
            traced = 1;
        }
    }
    if (PyErr_Occurred()) goto fail;
    Py_DECREF(it);
    if (!traced) return value;
    PyObject *out = traced_new(value, node);
    Py_DECREF(value);
    return out;
fail:
    Py_DECREF(it);
    Py_DECREF(value);
    return NULL;
}

/* The label of a math function's steps (its name, the recorder's label_index), cached under
 * (OP_MATH_LABEL, NULL, the function's label_key); -1 with an exception set. */
#define OP_MATH_LABEL (OP_PLAIN + 1)
static int32_t math_label(Run *r, Selector *self) {
    return cached_label(r, OP_MATH_LABEL, self->label_key, self->name);
}

#define MATH_ARGS 8 /* a math call with more arguments goes to the Python twin */

/* A math function while recording (mathlib._scalar): plain arguments need no step (the
 * original, as called); traced numbers among arguments that are no list or tuple, no
 * keywords: the original on the plain values, then one step named for the function needing
 * theirs (in order, each once), as Recorder.named records it. Every other case: fallback. */
static PyObject *math_call(Selector *self, Run *r, PyObject *args, PyObject *kwargs) {
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    int keywords = kwargs && PyDict_GET_SIZE(kwargs) > 0, traced = 0, simple = !keywords;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject *a = PyTuple_GET_ITEM(args, i);
        if (is_traced(a)) {
            traced = 1;
            simple &= Py_TYPE(a) == traced_type; /* a traced list (TracedItems): the twin */
        } else if (PyList_Check(a) || PyTuple_Check(a)) {
            traced = 1; /* may hold traced values: the twin looks */
            simple = 0;
        }
    }
    if (!traced && !keywords) return PyObject_Call(self->original, args, kwargs);
    if (!simple || nargs > MATH_ARGS) return PyObject_Call(self->fallback, args, kwargs);
    PyObject *plain = PyTuple_New(nargs);
    if (!plain) return NULL;
    int64_t nodes[MATH_ARGS];
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject *a = PyTuple_GET_ITEM(args, i), *v = a;
        if (is_traced(a)) {
            v = ((Value *)a)->value;
            if (!v) {
                Py_DECREF(plain);
                PyErr_SetString(PyExc_ValueError, "traced value without a value");
                return NULL;
            }
            nodes[count++] = ((Value *)a)->node;
        }
        Py_INCREF(v);
        PyTuple_SET_ITEM(plain, i, v);
    }
    PyObject *value = PyObject_Call(self->original, plain, NULL);
    Py_DECREF(plain);
    if (!value) return NULL;
    Py_ssize_t step;
    int64_t distinct[3];
    int fits = distinct3(nodes, count, distinct);
    if (fits && r->tape->decision < 0) { /* pushed as an operation is: Recorder.named's case */
        int32_t site = math_label(r, self);
        step = site < 0 ? -1 : tape_push(r->tape, site, distinct[0], distinct[1], distinct[2]);
    } else { /* a decision to add, or more than three needs: the recorder's named() */
        PyObject *needs = PyList_New(0), *res = NULL;
        for (Py_ssize_t i = 0; needs && i < count; i++) {
            PyObject *n = PyLong_FromLongLong(nodes[i]);
            int rc = n ? PyList_Append(needs, n) : -1;
            Py_XDECREF(n);
            if (rc < 0) Py_CLEAR(needs);
        }
        if (needs) res = PyObject_CallMethod(r->rec, "named", "OO", self->name, needs);
        Py_XDECREF(needs);
        step = res ? PyLong_AsSsize_t(res) : -1;
        Py_XDECREF(res);
        if (step < 0 && !PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "named() returned a negative step");
    }
    if (step < 0) {
        Py_DECREF(value);
        return NULL;
    }
    PyObject *out = traced_new(value, step);
    Py_DECREF(value);
    return out;
}

/* ---- heapq: selection.py's _sift_down, _sift_up, _heappush and _heappop in C ---- */

/* heap[pos] (a new reference), or NULL with the IndexError indexing gives. */
static PyObject *heap_get(PyObject *heap, Py_ssize_t pos) {
    PyObject *item = PyList_GetItem(heap, pos);
    Py_XINCREF(item);
    return item;
}

/* heap[pos] = item (stolen); -1 with the IndexError assignment gives. */
static int heap_set(PyObject *heap, Py_ssize_t pos, PyObject *item) {
    return PyList_SetItem(heap, pos, item);
}

/* selection._sift_down: move heap[pos] up towards the root while it is smaller. */
static int heap_sift_down(Run *r, PyObject *heap, Py_ssize_t start, Py_ssize_t pos,
                          Py_ssize_t after) {
    PyObject *item = heap_get(heap, pos);
    if (!item) return -1;
    while (pos > start) {
        Py_ssize_t parent_pos = (pos - 1) >> 1;
        PyObject *parent = heap_get(heap, parent_pos), *chosen;
        int smaller;
        if (!parent || compare_after(r, item, parent, 0, after, &smaller, &after) < 0) {
            Py_XDECREF(parent);
            goto fail;
        }
        if (!smaller) { /* stays: the comparison decided that too */
            Py_DECREF(parent);
            if (!(chosen = select_any(r, item, after, 0))) goto fail;
            Py_SETREF(item, chosen);
            break;
        }
        chosen = select_any(r, parent, after, 0);
        Py_DECREF(parent);
        if (!chosen || heap_set(heap, pos, chosen) < 0) goto fail;
        if (!(chosen = select_any(r, item, after, 0))) goto fail;
        Py_SETREF(item, chosen);
        pos = parent_pos;
    }
    return heap_set(heap, pos, item);
fail:
    Py_DECREF(item);
    return -1;
}

/* selection._sift_up: move the smaller child up until a leaf, then sift the item down. */
static int heap_sift_up(Run *r, PyObject *heap, Py_ssize_t pos) {
    Py_ssize_t end = PyList_GET_SIZE(heap), start = pos, child = 2 * pos + 1, after = NO_STEP;
    PyObject *item = heap_get(heap, pos);
    if (!item) return -1;
    while (child < end) {
        Py_ssize_t right = child + 1;
        if (right < end) {
            PyObject *a = heap_get(heap, child), *b = a ? heap_get(heap, right) : NULL;
            int smaller = 0, rc = b ? compare_after(r, a, b, 0, after, &smaller, &after) : -1;
            Py_XDECREF(a);
            Py_XDECREF(b);
            if (rc < 0) goto fail;
            if (!smaller) child = right;
        }
        PyObject *moved = heap_get(heap, child), *chosen;
        if (!moved) goto fail;
        chosen = select_any(r, moved, after, 0);
        Py_DECREF(moved);
        if (!chosen || heap_set(heap, pos, chosen) < 0) goto fail;
        pos = child;
        child = 2 * pos + 1;
    }
    if (heap_set(heap, pos, item) < 0) return -1;
    return heap_sift_down(r, heap, start, pos, after);
fail:
    Py_DECREF(item);
    return -1;
}

/* heappush(heap, item) / heappop(heap) on a list while recording (the fallback takes any
 * other call: a list subclass, keywords, another number of arguments). */
static PyObject *heap_call(Selector *self, Run *r, PyObject *args, PyObject *kwargs) {
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    int push = self->kind == SEL_HEAPPUSH;
    if ((kwargs && PyDict_GET_SIZE(kwargs) > 0) || nargs != (push ? 2 : 1) ||
        !PyList_CheckExact(PyTuple_GET_ITEM(args, 0)))
        return PyObject_Call(self->fallback, args, kwargs);
    PyObject *heap = PyTuple_GET_ITEM(args, 0);
    if (push) {
        if (PyList_Append(heap, PyTuple_GET_ITEM(args, 1)) < 0) return NULL;
        if (heap_sift_down(r, heap, 0, PyList_GET_SIZE(heap) - 1, NO_STEP) < 0) return NULL;
        Py_RETURN_NONE;
    }
    Py_ssize_t n = PyList_GET_SIZE(heap);
    if (n == 0) {
        PyErr_SetString(PyExc_IndexError, "pop from empty list");
        return NULL;
    }
    PyObject *last = heap_get(heap, n - 1);
    if (!last) return NULL;
    if (PyList_SetSlice(heap, n - 1, n, NULL) < 0) {
        Py_DECREF(last);
        return NULL;
    }
    if (PyList_GET_SIZE(heap) == 0) return last;
    PyObject *top = heap_get(heap, 0);
    if (!top || heap_set(heap, 0, last) < 0) { /* heap_set took last */
        Py_XDECREF(top);
        if (!top) Py_DECREF(last);
        return NULL;
    }
    if (heap_sift_up(r, heap, 0) < 0) {
        Py_DECREF(top);
        return NULL;
    }
    return top;
}

static PyObject *Selector_call(Selector *self, PyObject *args, PyObject *kwargs) {
    PyObject *rec;
    if (recording_tape(&rec) < 0) return NULL;
    if (!rec) return PyObject_Call(self->original, args, kwargs);
    Run r = {rec, (Tape *)rec};
    if (self->kind == SEL_PASS) {
        PyObject *out = math_call(self, &r, args, kwargs);
        Py_DECREF(rec);
        return out;
    }
    PyObject *out;
    if (self->kind == SEL_SUM)
        out = sum_call(self, &r, args, kwargs);
    else if (self->kind == SEL_HEAPPUSH || self->kind == SEL_HEAPPOP)
        out = heap_call(self, &r, args, kwargs);
    else
        out = extreme_call(self, &r, args, kwargs);
    Py_DECREF(rec);
    return out;
}

static int Selector_traverse(Selector *self, visitproc visit, void *arg) {
    Py_VISIT(self->original);
    Py_VISIT(self->fallback);
    Py_VISIT(self->name);
    return 0;
}

static int Selector_clear(Selector *self) {
    Py_CLEAR(self->original);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->name);
    return 0;
}

static void Selector_dealloc(Selector *self) {
    PyObject_GC_UnTrack(self);
    Selector_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Selector_get_name(Selector *self, void *closure) {
    if (!self->name) Py_RETURN_NONE;
    Py_INCREF(self->name);
    return self->name;
}

static PyGetSetDef Selector_getset[] = {
    {"__name__", (getter)Selector_get_name, NULL, "The builtin's name.", NULL},
    {NULL},
};

static PyTypeObject SelectorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serialscale.accel._tape.Selector",
    .tp_basicsize = sizeof(Selector),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "max, min, sum, a heapq function or a math function while a traced run "
              "records (trace/selection.py, mathlib.py).",
    .tp_dealloc = (destructor)Selector_dealloc,
    .tp_traverse = (traverseproc)Selector_traverse,
    .tp_clear = (inquiry)Selector_clear,
    .tp_call = (ternaryfunc)Selector_call,
    .tp_getset = Selector_getset,
};

/* selector(name, original, fallback): "max", "min" or "sum" recorded in C, the builtin
 * `original` outside a recording run, `fallback` for the cases the fast path leaves. */
static PyObject *make_selector(PyObject *module, PyObject *args) {
    const char *name;
    PyObject *original, *fallback;
    if (!PyArg_ParseTuple(args, "sOO", &name, &original, &fallback)) return NULL;
    int kind;
    if (strcmp(name, "max") == 0)
        kind = SEL_MAX;
    else if (strcmp(name, "min") == 0)
        kind = SEL_MIN;
    else if (strcmp(name, "sum") == 0)
        kind = SEL_SUM;
    else if (strcmp(name, "heappush") == 0)
        kind = SEL_HEAPPUSH;
    else if (strcmp(name, "heappop") == 0)
        kind = SEL_HEAPPOP;
    else {
        PyErr_Format(PyExc_ValueError,
                     "selector: name must be max, min, sum, heappush or heappop, got '%s'", name);
        return NULL;
    }
    if (!PyCallable_Check(original) || !PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "selector: original and fallback must be callable");
        return NULL;
    }
    Selector *self = PyObject_GC_New(Selector, &SelectorType);
    if (!self) return NULL;
    self->kind = kind;
    self->label_key = 0;
    self->name = PyUnicode_FromString(name);
    Py_INCREF(original);
    self->original = original;
    Py_INCREF(fallback);
    self->fallback = fallback;
    if (!self->name) {
        Py_DECREF(self);
        return NULL;
    }
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* passthrough(name, original, fallback): `original` when no argument is traced (nor a list
 * or tuple, which may hold traced values), else `fallback` (mathlib's recorded functions:
 * most calls of math.sqrt in traced code are on plain numbers). */
static PyObject *make_passthrough(PyObject *module, PyObject *args) {
    PyObject *name, *original, *fallback;
    if (!PyArg_ParseTuple(args, "UOO", &name, &original, &fallback)) return NULL;
    if (!PyCallable_Check(original) || !PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "passthrough: original and fallback must be callable");
        return NULL;
    }
    Selector *self = PyObject_GC_New(Selector, &SelectorType);
    if (!self) return NULL;
    static unsigned next_label_key;
    self->kind = SEL_PASS;
    self->label_key = (int)(next_label_key++ & INT32_MAX); /* a tape lives for one run */
    Py_INCREF(name);
    self->name = name;
    Py_INCREF(original);
    self->original = original;
    Py_INCREF(fallback);
    self->fallback = fallback;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* setup_selection(items_type, plain): the traced class of values with items (with setup's
 * traced type, the two classes of values.TRACED) and selection.plain. */
static PyObject *setup_selection(PyObject *module, PyObject *args) {
    PyObject *type, *plain;
    if (!PyArg_ParseTuple(args, "O!O", &PyType_Type, &type, &plain)) return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)type, &ValueType)) {
        PyErr_SetString(PyExc_TypeError, "setup_selection: the type must derive from Value");
        return NULL;
    }
    if (!PyCallable_Check(plain)) {
        PyErr_SetString(PyExc_TypeError, "setup_selection: plain must be callable");
        return NULL;
    }
    fast_dealloc((PyTypeObject *)type);
    Py_INCREF(type);
    Py_XSETREF(items_type, (PyTypeObject *)type);
    Py_INCREF(plain);
    Py_XSETREF(plain_fn, plain);
    Py_RETURN_NONE;
}

/* ---- module ---------------------------------------------------------------------------- */

/* setup(traced_type, active, kind_of): where results go (kind_of(value) picks the class of
 * a result that is not an int or float) and where the recorders are. */
static PyObject *setup(PyObject *self, PyObject *args) {
    PyObject *type, *stack, *kind;
    if (!PyArg_ParseTuple(args, "O!O!O", &PyType_Type, &type, &PyContextVar_Type, &stack, &kind))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)type, &ValueType)) {
        PyErr_SetString(PyExc_TypeError, "setup: the traced type must derive from Value");
        return NULL;
    }
    if (!PyCallable_Check(kind)) {
        PyErr_SetString(PyExc_TypeError, "setup: kind_of must be callable");
        return NULL;
    }
    drain_free_values(); /* kept values of the class registered until now */
    fast_dealloc((PyTypeObject *)type);
    Py_INCREF(type);
    Py_XSETREF(traced_type, (PyTypeObject *)type);
    Py_INCREF(stack);
    Py_XSETREF(active, stack);
    Py_INCREF(kind);
    Py_XSETREF(kind_of, kind);
    Py_RETURN_NONE;
}

/* inputs(values, one) -> list: api.inputs. A plain int, float or bool becomes a traced value
 * of no step (what Traced(value) makes of it); any other item is one(item) (api.input:
 * numpy arrays, values with items). */
static PyObject *inputs(PyObject *module, PyObject *args) {
    PyObject *values, *one;
    if (!PyArg_ParseTuple(args, "OO", &values, &one)) return NULL;
    if (!PyCallable_Check(one)) {
        PyErr_SetString(PyExc_TypeError, "inputs: one must be callable");
        return NULL;
    }
    if (!traced_type) {
        PyErr_SetString(PyExc_RuntimeError, "inputs: setup() was not called");
        return NULL;
    }
    PyObject *it = PyObject_GetIter(values);
    if (!it) return NULL;
    PyObject *out = PyList_New(0), *item;
    if (!out) {
        Py_DECREF(it);
        return NULL;
    }
    while ((item = PyIter_Next(it))) {
        PyObject *traced;
        if (PyFloat_CheckExact(item) || PyLong_CheckExact(item) || PyBool_Check(item)) {
            Value *v = value_alloc(traced_type);
            if (v) {
                v->value = item; /* the reference taken from the iterator */
                v->node = NO_STEP; /* a number: left untracked (value_track) */
            } else {
                Py_DECREF(item);
            }
            traced = (PyObject *)v;
        } else {
            traced = PyObject_CallOneArg(one, item);
            Py_DECREF(item);
        }
        int rc = traced ? PyList_Append(out, traced) : -1;
        Py_XDECREF(traced);
        if (rc < 0) {
            Py_DECREF(it);
            Py_DECREF(out);
            return NULL;
        }
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyMethodDef methods[] = {
    {"inputs", inputs, METH_VARARGS,
     "inputs(values, one) -> list: traced inputs, one(item) for items not an int or float."},
    {"setup", setup, METH_VARARGS, "Register the Traced class, the ContextVar of the active recorder and kind_of."},
    {"selector", make_selector, METH_VARARGS,
     "selector(name, original, fallback): max, min, sum, heappush or heappop recorded in C "
     "while tracing."},
    {"passthrough", make_passthrough, METH_VARARGS,
     "passthrough(name, original, fallback): original unless an argument may be traced."},
    {"compare", py_compare, METH_VARARGS,
     "compare(rec, a, b, greater, after) -> (truth, step): selection._compare in C."},
    {"select", py_select, METH_VARARGS,
     "select(rec, value, comparison): selection._select in C."},
    {"setup_selection", setup_selection, METH_VARARGS,
     "Register TracedItems and selection.plain for the compiled selection."},
    {"watch_methods", watch_methods, METH_VARARGS,
     "watch_methods(callback, names): callback(event, index, self, frame) around calls of the "
     "MethodWatches of these names, in this thread; None stops."},
    {"method_watch", method_watch, METH_VARARGS,
     "method_watch(original, name): a method descriptor that calls original, watched."},
    {"swap_method", swap_method, METH_VARARGS,
     "swap_method(cls, name, value): put value in cls's own dict under name; the old value."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tape", "Compiled hot path of tracing.", -1, methods,
};

PyMODINIT_FUNC PyInit__tape(void) {
    if (PyType_Ready(&TapeType) < 0 || PyType_Ready(&ValueType) < 0 ||
        PyType_Ready(&SelectorType) < 0 || PyType_Ready(&ColumnType) < 0 ||
        PyType_Ready(&MethodWatchType) < 0)
        return NULL;
    watch_key = PyUnicode_InternFromString("serialscale.accel._tape.watch");
    if (!watch_key) return NULL;
    for (int i = 0; i < OP_COUNT; i++) {
        op_strings[i] = PyUnicode_InternFromString(op_names[i]);
        if (!op_strings[i]) return NULL;
    }
    for (int i = 0; i < LABEL_COUNT; i++) {
        label_strings[i] = PyUnicode_InternFromString(label_names[i]);
        if (!label_strings[i]) return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&TapeType);
    Py_INCREF(&ValueType);
    if (PyModule_AddObject(m, "Tape", (PyObject *)&TapeType) < 0 ||
        PyModule_AddObject(m, "Value", (PyObject *)&ValueType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
