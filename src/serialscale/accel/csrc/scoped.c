/* The compiled twin of trace/scopes.py's opcode watcher (--control scoped, issue 23).
 *
 * The pure-Python watcher runs a Python function for every instruction of every watched
 * frame; this one is a C trace function (PyEval_SetTrace) doing the same bookkeeping in C:
 * the scopes in force per call, where they end, which instructions store, the value stack
 * read and written in place. What it records it records through the same Python methods of
 * ScopeWatch (_select, _after_read, _plain_index, _moved), so both watchers make the same
 * steps in the same order: the tests run both on the same functions.
 *
 * The decisions themselves still come from Python (ScopeWatch.decide: the post-dominator
 * table is built and cached there) through Watcher.push.
 *
 * Frames: a frame is watched when its f_trace_opcodes is set (the Python watcher's f_trace;
 * both live on the frame object, so a generator resumed keeps it). The value stack is the
 * interpreter frame's localsplus[0 .. stacktop), valid while the frame runs a trace event.
 * CPython 3.11 and 3.12 only (internal frame layout); elsewhere the module builds without
 * the watcher (AVAILABLE = False) and the Python one runs (and refuses, as before).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000 && !defined(PYPY_VERSION)
#define SCOPED_AVAILABLE 1
#define Py_BUILD_CORE 1
#include "internal/pycore_frame.h"
#undef Py_BUILD_CORE
#else
#define SCOPED_AVAILABLE 0
#endif

#if SCOPED_AVAILABLE

#define SLICED (-2) /* marks the index steps of a slice read, as scopes._SLICED */

typedef struct {
    int branch, end, depth; /* depth -1: not known yet (the Python watcher's None) */
    Py_ssize_t step;
} Scope;

/* One table entry: a frame's scopes and pending read, or a code object's bytes. */
typedef struct {
    void *key;
    Scope *scopes;
    int n, cap;
    PyObject *reads; /* list of step numbers (first SLICED for a slice), or NULL */
    PyObject *code, *bytes;
    PyObject *ends; /* offset -> where a branch there stops being in force (scopes.scope_end) */
    int own;
    int subscripts; /* whether the code reads items (BINARY_SUBSCR, BINARY_SLICE) */
} Entry;

typedef struct {
    Entry *slots;
    size_t cap, used;
} Table;

static size_t slot_of(const Table *t, void *key) {
    size_t h = ((size_t)key >> 4) * (size_t)0x9E3779B97F4A7C15ULL;
    return (h ^ (h >> 29)) & (t->cap - 1);
}

static Entry *t_find(const Table *t, void *key) {
    if (!t->used) return NULL;
    for (size_t i = slot_of(t, key);; i = (i + 1) & (t->cap - 1)) {
        Entry *e = &t->slots[i];
        if (e->key == key) return e;
        if (!e->key) return NULL;
    }
}

static int t_grow(Table *t) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    Entry *old = t->slots, *slots = PyMem_Calloc(cap, sizeof(Entry));
    if (!slots) {
        PyErr_NoMemory();
        return -1;
    }
    size_t old_cap = t->cap;
    t->slots = slots;
    t->cap = cap;
    for (size_t k = 0; k < old_cap; k++) {
        if (!old[k].key) continue;
        size_t i = slot_of(t, old[k].key);
        while (slots[i].key) i = (i + 1) & (cap - 1);
        slots[i] = old[k];
    }
    PyMem_Free(old);
    return 0;
}

/* The entry of key, made empty if new; NULL with an exception set on failure. */
static Entry *t_insert(Table *t, void *key) {
    Entry *e = t_find(t, key);
    if (e) return e;
    if ((t->used + 1) * 2 > t->cap && t_grow(t) < 0) return NULL;
    size_t i = slot_of(t, key);
    while (t->slots[i].key) i = (i + 1) & (t->cap - 1);
    e = &t->slots[i];
    memset(e, 0, sizeof(*e));
    e->key = key;
    e->own = -1;
    t->used++;
    return e;
}

static void entry_clear(Entry *e) {
    PyMem_Free(e->scopes);
    Py_CLEAR(e->reads);
    Py_CLEAR(e->code);
    Py_CLEAR(e->bytes);
    Py_CLEAR(e->ends);
    memset(e, 0, sizeof(*e));
}

/* Remove an entry (linear probing: later entries of its run move back). */
static void t_remove(Table *t, Entry *e) {
    entry_clear(e);
    size_t i = (size_t)(e - t->slots);
    size_t j = i;
    for (;;) {
        j = (j + 1) & (t->cap - 1);
        if (!t->slots[j].key) break;
        size_t home = slot_of(t, t->slots[j].key);
        /* can slots[j] move to the hole at i? yes unless its home lies cyclically in (i, j] */
        int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        t->slots[i] = t->slots[j];
        memset(&t->slots[j], 0, sizeof(Entry));
        i = j;
    }
    t->used--;
}

static void t_clear(Table *t) {
    for (size_t k = 0; k < t->cap; k++)
        if (t->slots[k].key) entry_clear(&t->slots[k]);
    PyMem_Free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}

typedef struct {
    PyObject_HEAD
    Table frames; /* frame -> its scopes and pending read */
    Table codes;  /* code -> its bytes and whether it is serialscale's own */
    Py_ssize_t live;    /* scopes in force, in every call */
    Py_ssize_t holding; /* frames with at least one scope */
    Py_ssize_t reading; /* frames with a pending read */
    int on;
    unsigned char store_at[256]; /* opcode -> position of the value stored (0: no store) */
    unsigned char watched[256];
    int op_call, op_store_subscr, op_binary_subscr, op_binary_slice;
    PyObject *storing, *moving, *traced; /* tuples: methods, methods, traced value types */
    PyObject *prefix;                    /* serialscale's own folder */
    PyObject *select, *after_read, *plain_index, *moved, *ends; /* ScopeWatch's methods */
} Watcher;

static int is_traced(Watcher *w, PyObject *v) {
    PyTypeObject *type = Py_TYPE(v);
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(w->traced); k++)
        if ((PyObject *)type == PyTuple_GET_ITEM(w->traced, k)) return 1;
    return 0;
}

static int in_tuple(PyObject *tuple, PyObject *v) {
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(tuple); k++)
        if (PyTuple_GET_ITEM(tuple, k) == v) return 1;
    return 0;
}

static int extend(PyObject *list, PyObject *more) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    return PyList_SetSlice(list, n, n, more);
}

/* The stack of a frame running a trace event: stack(f)[top - k] is the k-th from the top. */
static inline PyObject **stack_of(PyFrameObject *f) { return f->f_frame->localsplus; }
static inline int top_of(PyFrameObject *f) { return f->f_frame->stacktop; }

static void poke(PyFrameObject *f, int k, PyObject *value) {
    PyObject **slot = &stack_of(f)[top_of(f) - k];
    PyObject *old = *slot;
    Py_INCREF(value);
    *slot = value;
    Py_XDECREF(old);
}

/* Replace the k-th value from the top by what fn(value, needs, frame) returns. */
static int replace(PyObject *fn, PyFrameObject *f, int k, PyObject *needs) {
    PyObject *value = stack_of(f)[top_of(f) - k];
    PyObject *r = PyObject_CallFunctionObjArgs(fn, value, needs, (PyObject *)f, NULL);
    if (!r) return -1;
    if (r != value) poke(f, k, r);
    Py_DECREF(r);
    return 0;
}

static int set_watched(PyFrameObject *f) {
    f->f_trace_lines = 0;
    /* through the attribute: 3.12 also notes that some frame wants opcode events */
    return PyObject_SetAttrString((PyObject *)f, "f_trace_opcodes", Py_True);
}

/* code -> its entry (bytes as co_code gives them, and whether it is serialscale's own). */
static Entry *code_entry(Watcher *w, PyCodeObject *code) {
    Entry *e = t_insert(&w->codes, code);
    if (!e || e->bytes) return e;
    e->bytes = PyCode_GetCode(code);
    if (!e->bytes) return NULL;
    Py_INCREF(code);
    e->code = (PyObject *)code; /* held: its address stays its own */
    int own = PyUnicode_Tailmatch(code->co_filename, w->prefix, 0, PY_SSIZE_T_MAX, -1);
    if (own < 0) return NULL;
    e->own = own;
    const unsigned char *ops = (const unsigned char *)PyBytes_AS_STRING(e->bytes);
    for (Py_ssize_t k = 0; k + 1 < PyBytes_GET_SIZE(e->bytes); k += 2)
        if (ops[k] == w->op_binary_subscr || ops[k] == w->op_binary_slice) e->subscripts = 1;
    return e;
}

/* The global part: a call made while a decision is in force is watched, unless it is
 * serialscale's own or called by it (the nearest watched or own frame decides). */
static int on_call(Watcher *w, PyFrameObject *frame) {
    frame->f_trace_lines = 0; /* no line events: the watcher does not use them */
    if (!w->live) return 0;
    PyFrameObject *f = frame, *held = NULL;
    while (f && !f->f_trace_opcodes) {
        PyCodeObject *code = PyFrame_GetCode(f);
        Entry *e = code_entry(w, code);
        Py_DECREF(code);
        if (!e) {
            Py_XDECREF(held);
            return -1;
        }
        if (e->own) {
            Py_XDECREF(held);
            return 0;
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_XDECREF(held);
        f = held = back;
    }
    Py_XDECREF(held);
    return set_watched(frame);
}

/* The steps behind the decisions in force for code running in frame (its own and its
 * callers', innermost first). */
static PyObject *in_force(Watcher *w, PyFrameObject *frame) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    Py_ssize_t left = w->holding; /* frames still to find: the walk stops after the last */
    PyFrameObject *f = frame, *held = NULL;
    while (f && left > 0) {
        Entry *e = t_find(&w->frames, f);
        if (e && e->n) {
            left--;
            for (int k = 0; k < e->n; k++) {
                if (e->scopes[k].step < 0) continue;
                PyObject *s = PyLong_FromSsize_t(e->scopes[k].step);
                if (!s || PyList_Append(out, s) < 0) {
                    Py_XDECREF(s);
                    Py_XDECREF(held);
                    Py_DECREF(out);
                    return NULL;
                }
                Py_DECREF(s);
            }
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_XDECREF(held);
        f = held = back;
    }
    Py_XDECREF(held);
    return out;
}

static void drop_scopes(Watcher *w, Entry *e, int from) {
    if (from >= e->n) return;
    w->live -= e->n - from;
    if (from == 0) w->holding--;
    e->n = from;
}

/* Scopes of this frame that end at lasti: values made inside and still on the stack are
 * selected by their decisions. */
static int end_scopes(Watcher *w, PyFrameObject *frame, Entry *e, int lasti) {
    if (e->scopes[e->n - 1].depth < 0) { /* the first instruction after a branch */
        int depth = top_of(frame);
        for (int k = 0; k < e->n; k++)
            if (e->scopes[k].depth < 0) e->scopes[k].depth = depth;
    }
    for (int k = 0; k < e->n; k++) {
        if (e->scopes[k].end != lasti) continue;
        int low = INT_MAX;
        PyObject *needs = PyList_New(0);
        if (!needs) return -1;
        for (int j = k; j < e->n; j++) {
            if (e->scopes[j].depth < low) low = e->scopes[j].depth;
            if (e->scopes[j].step < 0) continue;
            PyObject *s = PyLong_FromSsize_t(e->scopes[j].step);
            if (!s || PyList_Append(needs, s) < 0) {
                Py_XDECREF(s);
                Py_DECREF(needs);
                return -1;
            }
            Py_DECREF(s);
        }
        drop_scopes(w, e, k);
        int rc = 0;
        if (PyList_GET_SIZE(needs)) {
            int depth = top_of(frame);
            for (int position = 1; position <= depth - low; position++) {
                if (!stack_of(frame)[depth - position]) continue; /* a call's NULL */
                if ((rc = replace(w->select, frame, position, needs)) < 0) break;
            }
        }
        Py_DECREF(needs);
        return rc;
    }
    return 0;
}

/* plain_index(value) -> (plain, steps) when value is traced or a slice, else NULL (no
 * exception set) for "as it is, no steps". */
static PyObject *plain_index(Watcher *w, PyObject *value) {
    if (!is_traced(w, value) && !PySlice_Check(value)) return NULL;
    return PyObject_CallOneArg(w->plain_index, value);
}

/* A read a[i] or a[i:j] with traced numbers as the index: the index is used as its value
 * and the item read will need its steps (the next event). */
static int on_read(Watcher *w, PyFrameObject *frame, int op) {
    PyObject **stack = stack_of(frame);
    int top = top_of(frame);
    PyObject *steps = NULL, *plain = NULL;
    int sliced = 0;
    if (op == w->op_binary_subscr) {
        PyObject *pair = plain_index(w, stack[top - 1]);
        if (!pair) return PyErr_Occurred() ? -1 : 0;
        plain = PyTuple_GET_ITEM(pair, 0);
        PyObject *found = PyTuple_GET_ITEM(pair, 1);
        if (PyList_GET_SIZE(found) && !is_traced(w, stack[top - 2])) {
            Py_INCREF(found);
            steps = found;
            sliced = PySlice_Check(plain);
            poke(frame, 1, plain);
        }
        Py_DECREF(pair);
        if (!steps) return 0;
    } else { /* BINARY_SLICE: container, start, stop */
        sliced = 1;
        for (int position = 1; position <= 2; position++) {
            PyObject *pair = plain_index(w, stack_of(frame)[top_of(frame) - position]);
            if (!pair) {
                if (PyErr_Occurred()) {
                    Py_XDECREF(steps);
                    return -1;
                }
                continue;
            }
            PyObject *found = PyTuple_GET_ITEM(pair, 1);
            if (PyList_GET_SIZE(found)) {
                poke(frame, position, PyTuple_GET_ITEM(pair, 0));
                if (!steps) {
                    steps = PyList_New(0);
                    if (!steps) {
                        Py_DECREF(pair);
                        return -1;
                    }
                }
                if (extend(steps, found) < 0) {
                    Py_DECREF(pair);
                    Py_DECREF(steps);
                    return -1;
                }
            }
            Py_DECREF(pair);
        }
        if (!steps) return 0;
    }
    /* kept: the steps >= 0, after SLICED for a slice */
    PyObject *kept = PyList_New(0);
    int rc = kept ? 0 : -1;
    if (kept && sliced) {
        PyObject *mark = PyLong_FromLong(SLICED);
        rc = mark ? PyList_Append(kept, mark) : -1;
        Py_XDECREF(mark);
    }
    for (Py_ssize_t k = 0; rc == 0 && k < PyList_GET_SIZE(steps); k++) {
        PyObject *s = PyList_GET_ITEM(steps, k);
        Py_ssize_t n = PyLong_AsSsize_t(s);
        if (n == -1 && PyErr_Occurred()) rc = -1;
        else if (n >= 0) rc = PyList_Append(kept, s);
    }
    Py_DECREF(steps);
    if (rc < 0) {
        Py_XDECREF(kept);
        return -1;
    }
    if (PyList_GET_SIZE(kept) > sliced) {
        Entry *e = t_insert(&w->frames, frame);
        if (!e) {
            Py_DECREF(kept);
            return -1;
        }
        if (!e->reads) w->reading++;
        Py_XSETREF(e->reads, kept);
    } else {
        Py_DECREF(kept);
    }
    return 0;
}

static int on_opcode(Watcher *w, PyFrameObject *frame) {
    Entry *e = t_find(&w->frames, frame);
    if (w->reading && e && e->reads) { /* the item just read depends on the position chosen */
        PyObject *steps = e->reads;
        e->reads = NULL;
        w->reading--;
        int rc = replace(w->after_read, frame, 1, steps);
        Py_DECREF(steps);
        if (rc < 0) return -1;
        e = t_find(&w->frames, frame);
    }
    int lasti = PyFrame_GetLasti(frame);
    if (e && e->n && end_scopes(w, frame, e, lasti) < 0) return -1;
    PyCodeObject *code = PyFrame_GetCode(frame);
    Entry *c = code_entry(w, code);
    Py_DECREF(code);
    if (!c) return -1;
    if (!w->live && !c->subscripts && !(e && (e->n || e->reads))) {
        /* Nothing in this call can need the watcher until it decides again (push turns its
         * opcode events back on): no scope in force anywhere (those of callers would be;
         * callees' end when they return), none here, no item read at a traced position.
         * The Python watcher keeps looking and finds nothing to do: the same steps. */
        frame->f_trace_opcodes = 0;
        return 0;
    }
    const unsigned char *ops = (const unsigned char *)PyBytes_AS_STRING(c->bytes);
    if (lasti < 0 || lasti + 1 >= PyBytes_GET_SIZE(c->bytes)) return 0;
    int op = ops[lasti];
    if (!w->watched[op]) return 0;
    if (op == w->op_binary_subscr || op == w->op_binary_slice) return on_read(w, frame, op);
    if (!w->live) return 0;
    int position = w->store_at[op];
    if (op == w->op_call) {
        int count = ops[lasti + 1]; /* the call's argument count */
        PyObject *method = count <= 2 ? stack_of(frame)[top_of(frame) - (count + 2)] : NULL;
        if ((count == 1 || count == 2) && method && in_tuple(w->storing, method)) {
            position = 1; /* xs.append(v), xs.insert(i, v): v is stored */
        } else if (method && in_tuple(w->moving, method)) {
            PyObject *r = PyObject_CallOneArg(w->moved, (PyObject *)frame);
            if (!r) return -1;
            Py_DECREF(r);
        }
    }
    if (!position) return 0;
    PyObject *needs = in_force(w, frame);
    if (!needs) return -1;
    if (op == w->op_store_subscr) {
        PyObject *pair = plain_index(w, stack_of(frame)[top_of(frame) - 1]);
        if (!pair && PyErr_Occurred()) {
            Py_DECREF(needs);
            return -1;
        }
        if (pair) {
            PyObject *found = PyTuple_GET_ITEM(pair, 1);
            if (PyList_GET_SIZE(found)) {
                poke(frame, 1, PyTuple_GET_ITEM(pair, 0));
                if (extend(needs, found) < 0) {
                    Py_DECREF(pair);
                    Py_DECREF(needs);
                    return -1;
                }
            }
            Py_DECREF(pair);
        }
    }
    int rc = 0;
    if (PyList_GET_SIZE(needs)) rc = replace(w->select, frame, position, needs);
    Py_DECREF(needs);
    return rc;
}

static int trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    Watcher *w = (Watcher *)obj;
    (void)arg;
    switch (what) {
    case PyTrace_CALL:
        return on_call(w, frame);
    case PyTrace_RETURN:
    case PyTrace_EXCEPTION: { /* the call's scopes end */
        Entry *e = t_find(&w->frames, frame);
        if (e) {
            drop_scopes(w, e, 0);
            if (e->reads) w->reading--;
            t_remove(&w->frames, e);
        }
        return 0;
    }
    case PyTrace_OPCODE:
        return on_opcode(w, frame);
    default:
        return 0;
    }
}

static void watcher_stop_tables(Watcher *w) {
    t_clear(&w->frames);
    t_clear(&w->codes);
    w->live = w->holding = w->reading = 0;
}

static int Watcher_traverse(Watcher *w, visitproc visit, void *arg) {
    Py_VISIT(w->select);
    Py_VISIT(w->after_read);
    Py_VISIT(w->plain_index);
    Py_VISIT(w->moved);
    Py_VISIT(w->ends);
    return 0;
}

static int Watcher_clear(Watcher *w) {
    Py_CLEAR(w->select);
    Py_CLEAR(w->after_read);
    Py_CLEAR(w->plain_index);
    Py_CLEAR(w->moved);
    Py_CLEAR(w->ends);
    return 0;
}

static void Watcher_dealloc(Watcher *w) {
    PyObject_GC_UnTrack(w);
    if (w->on) {
        PyThreadState *ts = PyThreadState_Get();
        if (ts->c_traceobj == (PyObject *)w) PyEval_SetTrace(NULL, NULL);
    }
    watcher_stop_tables(w);
    Watcher_clear(w);
    Py_CLEAR(w->storing);
    Py_CLEAR(w->moving);
    Py_CLEAR(w->traced);
    Py_CLEAR(w->prefix);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

static int Watcher_init(Watcher *w, PyObject *args, PyObject *kw) {
    static char *names[] = {"stores", "watched", "ops", "storing", "moving", "traced",
                            "prefix", "helper", NULL};
    PyObject *stores, *watched, *storing, *moving, *traced, *prefix, *helper;
    int op_call, op_store_subscr, op_binary_subscr, op_binary_slice;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O(iiii)O!O!O!UO:Watcher", names,
                                     &PyDict_Type, &stores, &watched, &op_call,
                                     &op_store_subscr, &op_binary_subscr, &op_binary_slice,
                                     &PyTuple_Type, &storing, &PyTuple_Type, &moving,
                                     &PyTuple_Type, &traced, &prefix, &helper))
        return -1;
    memset(w->store_at, 0, sizeof(w->store_at));
    memset(w->watched, 0, sizeof(w->watched));
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(stores, &pos, &key, &value)) {
        long op = PyLong_AsLong(key), at = PyLong_AsLong(value);
        if (PyErr_Occurred()) return -1;
        if (op < 0 || op > 255 || at < 1 || at > 255) {
            PyErr_SetString(PyExc_ValueError, "stores: opcode -> position from the top");
            return -1;
        }
        w->store_at[op] = (unsigned char)at;
    }
    PyObject *it = PyObject_GetIter(watched);
    if (!it) return -1;
    PyObject *item;
    while ((item = PyIter_Next(it))) {
        long op = PyLong_AsLong(item);
        Py_DECREF(item);
        if (op < 0 || op > 255) {
            Py_DECREF(it);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "watched: opcodes");
            return -1;
        }
        w->watched[op] = 1;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return -1;
    w->op_call = op_call;
    w->op_store_subscr = op_store_subscr;
    w->op_binary_subscr = op_binary_subscr;
    w->op_binary_slice = op_binary_slice;
    Py_INCREF(storing);
    Py_XSETREF(w->storing, storing);
    Py_INCREF(moving);
    Py_XSETREF(w->moving, moving);
    Py_INCREF(traced);
    Py_XSETREF(w->traced, traced);
    Py_INCREF(prefix);
    Py_XSETREF(w->prefix, prefix);
    static const char *methods[] = {"_select", "_after_read", "_plain_index", "_moved",
                                    "_ends"};
    PyObject **slots[] = {&w->select, &w->after_read, &w->plain_index, &w->moved, &w->ends};
    for (int k = 0; k < 5; k++) {
        PyObject *m = PyObject_GetAttrString(helper, methods[k]);
        if (!m) return -1;
        Py_XSETREF(*slots[k], m);
    }
    return 0;
}

/* push(frame, branch, end, step): a branch at offset branch of frame, in force until end
 * (-1: the call's end), on the value made by step. Taken again at the same offset, it
 * replaces that instance and what was decided inside it. */
static PyObject *push_scope(Watcher *w, PyObject *frame, int branch, int end,
                            Py_ssize_t step) {
    Entry *e = t_insert(&w->frames, frame);
    if (!e) return NULL;
    for (int k = 0; k < e->n; k++) {
        if (e->scopes[k].branch == branch) {
            drop_scopes(w, e, k);
            break;
        }
    }
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 4;
        Scope *scopes = PyMem_Realloc(e->scopes, (size_t)cap * sizeof(Scope));
        if (!scopes) return PyErr_NoMemory();
        e->scopes = scopes;
        e->cap = cap;
    }
    if (e->n == 0) w->holding++;
    e->scopes[e->n++] = (Scope){branch, end, -1, step};
    w->live++;
    if (set_watched((PyFrameObject *)frame) < 0) return NULL;
    if (!w->on) {
        w->on = 1;
        PyEval_SetTrace(trace, (PyObject *)w);
    }
    Py_RETURN_NONE;
}

static PyObject *Watcher_push(Watcher *w, PyObject *args) {
    PyObject *frame;
    int branch, end;
    Py_ssize_t step;
    if (!PyArg_ParseTuple(args, "O!iin:push", &PyFrame_Type, &frame, &branch, &end, &step))
        return NULL;
    if (!w->select) {
        PyErr_SetString(PyExc_RuntimeError, "the watcher was stopped");
        return NULL;
    }
    return push_scope(w, frame, branch, end, step);
}

/* decide(step, frame): the recorder's decide in scoped mode (ScopeWatch.decide's twin): a
 * branch at frame's current instruction on the value made by step; frame None: nothing. */
static PyObject *Watcher_decide(Watcher *w, PyObject *args) {
    Py_ssize_t step;
    PyObject *frame;
    if (!PyArg_ParseTuple(args, "nO:decide", &step, &frame)) return NULL;
    if (frame == Py_None) Py_RETURN_NONE;
    if (!PyFrame_Check(frame)) {
        PyErr_SetString(PyExc_TypeError, "decide: a frame or None");
        return NULL;
    }
    if (!w->ends) {
        PyErr_SetString(PyExc_RuntimeError, "the watcher was stopped");
        return NULL;
    }
    PyCodeObject *code = PyFrame_GetCode((PyFrameObject *)frame);
    Entry *c = code_entry(w, code);
    if (c && !c->ends) {
        c->ends = PyObject_CallOneArg(w->ends, (PyObject *)code);
        if (c->ends && !PyDict_Check(c->ends)) {
            PyErr_SetString(PyExc_TypeError, "_ends: a dict");
            Py_CLEAR(c->ends);
        }
    }
    Py_DECREF(code);
    if (!c || !c->ends) return NULL;
    int branch = PyFrame_GetLasti((PyFrameObject *)frame);
    PyObject *key = PyLong_FromLong(branch);
    if (!key) return NULL;
    PyObject *found = PyDict_GetItemWithError(c->ends, key); /* borrowed */
    Py_DECREF(key);
    int end = -1; /* scopes.EXIT */
    if (found) {
        end = (int)PyLong_AsLong(found);
        if (end == -1 && PyErr_Occurred()) return NULL;
    } else if (PyErr_Occurred()) {
        return NULL;
    }
    return push_scope(w, frame, branch, end, step);
}

/* stop(): tracing off (if this watcher is the trace function), every scope and cache gone,
 * and the references to the ScopeWatch dropped. */
static PyObject *Watcher_stop(Watcher *w, PyObject *Py_UNUSED(ignored)) {
    if (w->on) {
        w->on = 0;
        PyEval_SetTrace(NULL, NULL);
    }
    watcher_stop_tables(w);
    Watcher_clear(w);
    Py_RETURN_NONE;
}

static PyObject *Watcher_get_live(Watcher *w, void *Py_UNUSED(closure)) {
    return PyLong_FromSsize_t(w->live);
}

static PyMethodDef Watcher_methods[] = {
    {"push", (PyCFunction)Watcher_push, METH_VARARGS, "push(frame, branch, end, step)"},
    {"decide", (PyCFunction)Watcher_decide, METH_VARARGS, "decide(step, frame)"},
    {"stop", (PyCFunction)Watcher_stop, METH_NOARGS, "stop watching"},
    {NULL},
};

static PyGetSetDef Watcher_getset[] = {
    {"live", (getter)Watcher_get_live, NULL, "scopes in force, in every call", NULL},
    {NULL},
};

static PyTypeObject WatcherType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "serialscale.accel._scoped.Watcher",
    .tp_basicsize = sizeof(Watcher),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The compiled opcode watcher of --control scoped (trace/scopes.py's twin).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Watcher_init,
    .tp_dealloc = (destructor)Watcher_dealloc,
    .tp_traverse = (traverseproc)Watcher_traverse,
    .tp_clear = (inquiry)Watcher_clear,
    .tp_methods = Watcher_methods,
    .tp_getset = Watcher_getset,
};

#endif /* SCOPED_AVAILABLE */

static struct PyModuleDef scoped_module = {
    PyModuleDef_HEAD_INIT, "serialscale.accel._scoped",
    "The compiled opcode watcher of --control scoped (trace/scopes.py).", -1, NULL,
};

PyMODINIT_FUNC PyInit__scoped(void) {
    PyObject *m = PyModule_Create(&scoped_module);
    if (!m) return NULL;
#if SCOPED_AVAILABLE
    if (PyType_Ready(&WatcherType) < 0 ||
        PyModule_AddObjectRef(m, "Watcher", (PyObject *)&WatcherType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    if (PyModule_AddIntConstant(m, "AVAILABLE", SCOPED_AVAILABLE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
