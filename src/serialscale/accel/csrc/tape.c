/* The hot path of tracing, compiled: traced values' binary operators and comparisons, and the
 * recorder's pending steps.
 *
 * `Value` is the base of trace.values.Traced: it holds `value` and `node` and implements the
 * arithmetic, bitwise and comparison operators in C (the rest of Traced stays in Python).
 * `Tape` is the base of trace.recorder.Recorder: it holds the step counter, the pause and
 * decision state, a buffer of pending (site, a, b) triples and a cache of call sites.
 *
 * An operation does what values.PyValue's operator methods do: compute the value, find the
 * call site (operation, code object, instruction offset) of the user's frame, append one
 * triple, return a new Traced. Whatever is not the common case (a site seen for the first
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
#include "needs.h"

#define NO_STEP (-1)
/* Pending steps move into the recorder's arrays this many at a time (recorder.FLUSH_STEPS). */
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
    int32_t *p_site;
    int64_t *p_a, *p_b, *p_c;
    Py_ssize_t p_len;
    SiteSlot *cache;
    size_t cache_cap, cache_len;
} Tape;

static int Tape_init(Tape *self, PyObject *args, PyObject *kwds) {
    /* Arguments belong to the Python subclass; the buffers are set up once, in tp_new. */
    return 0;
}

static PyObject *Tape_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Tape *self = (Tape *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->decision = NO_STEP;
    self->ctl_step = NO_STEP;
    self->p_site = PyMem_Malloc(sizeof(int32_t) * FLUSH_STEPS);
    self->p_a = PyMem_Malloc(sizeof(int64_t) * FLUSH_STEPS);
    self->p_b = PyMem_Malloc(sizeof(int64_t) * FLUSH_STEPS);
    self->p_c = PyMem_Malloc(sizeof(int64_t) * FLUSH_STEPS);
    self->cache_cap = 64;
    self->cache = PyMem_Malloc(sizeof(SiteSlot) * self->cache_cap);
    if (!self->p_site || !self->p_a || !self->p_b || !self->p_c || !self->cache) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    for (size_t k = 0; k < self->cache_cap; k++) self->cache[k].site = -1;
    return (PyObject *)self;
}

static void Tape_dealloc(Tape *self) {
    PyMem_Free(self->p_site);
    PyMem_Free(self->p_a);
    PyMem_Free(self->p_b);
    PyMem_Free(self->p_c);
    PyMem_Free(self->cache);
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

/* Append one pending step (the caller normalised a, b and c: distinct needs first, then -1);
 * its step number, or -1 with an exception set. A full buffer is handed to the recorder's
 * flush() first. */
static Py_ssize_t tape_push(Tape *t, int32_t site, int64_t a, int64_t b, int64_t c) {
    if (t->p_len >= FLUSH_STEPS) {
        PyObject *r = PyObject_CallMethod((PyObject *)t, "flush", NULL);
        if (!r) return -1;
        Py_DECREF(r);
        if (t->p_len >= FLUSH_STEPS) {
            PyErr_SetString(PyExc_RuntimeError, "flush() left the pending steps in place");
            return -1;
        }
    }
    t->p_site[t->p_len] = site;
    t->p_a[t->p_len] = a;
    t->p_b[t->p_len] = b;
    t->p_c[t->p_len] = c;
    t->p_len++;
    return t->count++;
}

static PyObject *Tape_push(Tape *self, PyObject *args) {
    int site;
    long long a, b, c = NO_STEP;
    if (!PyArg_ParseTuple(args, "iLL|L", &site, &a, &b, &c)) return NULL;
    int64_t x = a, y = b, z = c;
    normalise_needs(&x, &y, &z);
    Py_ssize_t step = tape_push(self, (int32_t)site, x, y, z);
    if (step < 0) return NULL;
    return PyLong_FromSsize_t(step);
}

/* take_pending() -> (site bytes, a bytes, b bytes, c bytes): the pending steps, as the
 * machine's int32 and int64 arrays (array('i') and array('q') frombytes), and forget them. */
static PyObject *Tape_take_pending(Tape *self, PyObject *unused) {
    Py_ssize_t n = self->p_len;
    PyObject *out = Py_BuildValue("(y#y#y#y#)", (const char *)self->p_site, n * 4,
                                  (const char *)self->p_a, n * 8, (const char *)self->p_b, n * 8,
                                  (const char *)self->p_c, n * 8);
    if (out) self->p_len = 0;
    return out;
}

static PyMethodDef Tape_methods[] = {
    {"push", (PyCFunction)Tape_push, METH_VARARGS,
     "Append one step (site, a, b[, c]), needs normalised; its number."},
    {"take_pending", (PyCFunction)Tape_take_pending, METH_NOARGS,
     "The pending steps as bytes (int32 sites, int64 a, b and c), cleared."},
    {NULL},
};

static PyMemberDef Tape_members[] = {
    {"count", T_PYSSIZET, offsetof(Tape, count), 0, "Steps recorded."},
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
    .tp_name = "serialscale.trace._tape.Tape",
    .tp_basicsize = sizeof(Tape),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Compiled base of the recorder: step counter and pending steps.",
    .tp_new = Tape_new,
    .tp_init = (initproc)Tape_init,
    .tp_dealloc = (destructor)Tape_dealloc,
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

enum {
    OP_ADD, OP_SUB, OP_MUL, OP_TRUEDIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_AND, OP_OR, OP_XOR,
    OP_LSHIFT, OP_RSHIFT, OP_MATMUL, OP_LT, OP_LE, OP_EQ, OP_NE, OP_GT, OP_GE, OP_COUNT
};
/* Pseudo-operation keys in the site cache (not operations: never in op_names). */
#define OP_TRUTH OP_COUNT /* a truth test at (code, lasti): site 1 = a branch, 0 = not */
static const char *op_names[OP_COUNT] = {
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor",
    "lshift", "rshift", "matmul", "lt", "le", "eq", "ne", "gt", "ge",
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

static void Value_dealloc(Value *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->value);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Value_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Value *self = (Value *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->node = NO_STEP;
    return (PyObject *)self;
}

static PyMemberDef Value_members[] = {
    {"value", T_OBJECT, offsetof(Value, value), 0, "The value carried."},
    {"node", T_PYSSIZET, offsetof(Value, node), 0, "The step that made it, or -1."},
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
    if (rec == Py_None || !PyObject_TypeCheck(rec, &TapeType)) return value;
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
        site = cache_get(tape, op, code, lasti);
        if (site < 0) {
            /* first time here: the recorder names the site (and keeps the code alive) */
            PyObject *index = PyObject_CallMethod(rec, "site_index", "OO", op_strings[op], frame);
            if (!index) goto fail;
            long s = PyLong_AsLong(index);
            Py_DECREF(index);
            if (s == -1 && PyErr_Occurred()) goto fail;
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
    Value *out = (Value *)kind->tp_alloc(kind, 0);
    Py_XDECREF(chosen);
    if (!out) goto fail;
    out->value = value;
    out->node = step;
    return (PyObject *)out;
fail:
    Py_DECREF(value);
    return NULL;
}

static inline int is_value(PyObject *o) { return PyObject_TypeCheck(o, &ValueType); }

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
        if (rec != Py_None && PyObject_TypeCheck(rec, &TapeType) && !((Tape *)rec)->paused) {
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
};

static PyTypeObject ValueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serialscale.trace._tape.Value",
    .tp_basicsize = sizeof(Value),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Compiled base of Traced: a value, its step, and the traced operators.",
    .tp_new = Value_new,
    .tp_dealloc = (destructor)Value_dealloc,
    .tp_traverse = (traverseproc)Value_traverse,
    .tp_clear = (inquiry)Value_clear,
    .tp_members = Value_members,
    .tp_as_number = &Value_as_number,
    .tp_richcompare = v_richcompare,
    .tp_hash = PyObject_HashNotImplemented, /* Traced defines its own */
};

/* ---- native selection ------------------------------------------------------------------ */

/* list.sort (and numpy's sort, max and min on object arrays) cannot be replaced: methods of
 * builtin types. So while a traced run is on, a profile function tells the recorder when a
 * builtin method of a watched name starts and ends (trace/native_selection.py decides by the
 * instance's type whether it is one of them; the pure-Python twin is a sys.setprofile
 * function). Names, not function pointers: numpy may be imported after the run starts.
 * Every other event costs a type check and a few string compares. */
#define MAX_WATCHED 8
static char watched[MAX_WATCHED][16]; /* the watched method names */
static int n_watched;

static int native_profile(PyObject *callback, PyFrameObject *frame, int what, PyObject *arg) {
    int event;
    if (what == PyTrace_C_CALL)
        event = 0;
    else if (what == PyTrace_C_RETURN)
        event = 1;
    else if (what == PyTrace_C_EXCEPTION)
        event = 2;
    else
        return 0;
    if (!arg || !PyCFunction_Check(arg)) return 0;
    const char *name = ((PyCFunctionObject *)arg)->m_ml->ml_name;
    PyObject *self = PyCFunction_GET_SELF(arg);
    if (!name || !self) return 0;
    int which = 0;
    while (which < n_watched && strcmp(watched[which], name) != 0) which++;
    if (which == n_watched) return 0;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb); /* set on C_EXCEPTION: the callback runs without it */
    PyObject *r = PyObject_CallFunction(callback, "iiOO", event, which, self,
                                        frame ? (PyObject *)frame : Py_None);
    if (!r) {
        /* The callback raised (the run's operation limit): that goes on in place of the
         * call's own exception, if any. */
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return -1;
    }
    Py_DECREF(r);
    PyErr_Restore(type, value, tb);
    return 0;
}

/* watch_methods(callback, names): callback(event, index in names, self, frame) when a
 * builtin method of one of these names starts (event 0), returns (1) or raises (2) in this
 * thread; watch_methods(None, ()) stops. */
static PyObject *watch_methods(PyObject *self, PyObject *args) {
    PyObject *callback, *names;
    if (!PyArg_ParseTuple(args, "OO!", &callback, &PyTuple_Type, &names)) return NULL;
    if (callback == Py_None) {
        PyEval_SetProfile(NULL, NULL);
        n_watched = 0;
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
    char found[MAX_WATCHED][16];
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
        memcpy(found[i], text, (size_t)len + 1);
    }
    memcpy(watched, found, sizeof(found[0]) * (size_t)n);
    n_watched = (int)n;
    PyEval_SetProfile(native_profile, callback);
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
    Py_INCREF(type);
    Py_XSETREF(traced_type, (PyTypeObject *)type);
    Py_INCREF(stack);
    Py_XSETREF(active, stack);
    Py_INCREF(kind);
    Py_XSETREF(kind_of, kind);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS, "Register the Traced class, the ContextVar of the active recorder and kind_of."},
    {"watch_methods", watch_methods, METH_VARARGS,
     "callback(event, index, self, frame) around calls of builtin methods of the given names."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tape", "Compiled hot path of tracing.", -1, methods,
};

PyMODINIT_FUNC PyInit__tape(void) {
    if (PyType_Ready(&TapeType) < 0 || PyType_Ready(&ValueType) < 0) return NULL;
    for (int i = 0; i < OP_COUNT; i++) {
        op_strings[i] = PyUnicode_InternFromString(op_names[i]);
        if (!op_strings[i]) return NULL;
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
