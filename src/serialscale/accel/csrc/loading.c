/* Loading JSON workloads fast: the repeated-key scan and need-name resolution
 * (sources/json_fast.py and sources/workload_file.py). */
#include "kernels.h"

/* json_duplicate_key(data) -> byte offset of the first key repeated within one JSON object,
 * -1 when there is none, -2 when the scan gives up (an object with more than MAX_KEYS keys,
 * a key written with escapes, or text that is not JSON: the caller then takes the slow,
 * fully checked path). Keys are compared as raw bytes. */
#define MAX_KEYS 64
#define MAX_DEPTH 1000
typedef struct {
    int is_object;
    int expect_key;
    Py_ssize_t nkeys;
    Py_ssize_t key_start[MAX_KEYS];
    Py_ssize_t key_len[MAX_KEYS];
} Frame;

PyObject *k_json_duplicate_key(PyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    const char *p = view.buf;
    Py_ssize_t n = view.len, result = -1;
    Py_ssize_t cap = 64, depth = 0;
    Frame *stack = malloc(sizeof(Frame) * cap);
    if (!stack) { PyBuffer_Release(&view); return PyErr_NoMemory(); }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n && result == -1; i++) {
        char c = p[i];
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH) { result = -2; break; }
            if (depth == cap) {
                Frame *bigger = realloc(stack, sizeof(Frame) * cap * 2);
                if (!bigger) { result = -2; break; }
                stack = bigger;
                cap *= 2;
            }
            stack[depth].is_object = (c == '{');
            stack[depth].expect_key = (c == '{');
            stack[depth].nkeys = 0;
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) { result = -2; break; }
            depth--;
        } else if (c == ',') {
            if (depth > 0 && stack[depth - 1].is_object) stack[depth - 1].expect_key = 1;
        } else if (c == '"') {
            Py_ssize_t start = i + 1, j = start;
            int escaped = 0;
            while (j < n && p[j] != '"') {
                if (p[j] == '\\') {
                    escaped = 1;
                    j += 2;
                } else {
                    j++;
                }
            }
            if (j >= n) { result = -2; break; }
            if (depth > 0 && stack[depth - 1].is_object && stack[depth - 1].expect_key) {
                /* a key written with escapes ("\u0069d" is "id"): raw bytes cannot tell, so
                 * give up and let the checked path compare decoded keys */
                if (escaped) { result = -2; break; }
                Frame *f = &stack[depth - 1];
                Py_ssize_t len = j - start;
                for (Py_ssize_t k = 0; k < f->nkeys; k++) {
                    if (f->key_len[k] == len && memcmp(p + f->key_start[k], p + start, len) == 0) {
                        result = i;
                        break;
                    }
                }
                if (result != -1) break;
                if (f->nkeys == MAX_KEYS) { result = -2; break; }
                f->key_start[f->nkeys] = start;
                f->key_len[f->nkeys] = len;
                f->nkeys++;
                f->expect_key = 0;
            }
            i = j;
        }
    }
    Py_END_ALLOW_THREADS
    free(stack);
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(result);
}

/* resolve_names(ids, needs, pred_ptr_out, pred_idx_out[, optional_type]) -> status
 * Step ids (a list of str) and per-step need lists (a list of lists of str) to CSR index
 * arrays, through an open-addressing table of (hash, index). Status 0: done. Status 1: the
 * caller must take its own, checked path (a repeated id, an unknown need, a need that is
 * not a str, a row that is not a list), which then reports the problem with its location.
 * A need of exactly `optional_type` (a str subclass: templates' optional needs) that names no
 * step is dropped; pred_ptr_out[n] then says how many of pred_idx_out's items hold needs. */
#define INLINE_ID 16

typedef struct {
    Py_hash_t hash;
    int32_t index;        /* -1: an empty slot */
    int32_t length;       /* of an ASCII id held inline, else -1 */
    char text[INLINE_ID]; /* the id itself when it is ASCII and this short */
} Slot;

/* Whether `key` (a str) is the id in slot `s`: short ASCII ids are compared within the slot,
 * without touching the id object; others through the list. 1, 0, or -1 on error. */
static inline int slot_holds(const Slot *s, PyObject *key, PyObject *ids) {
    if (s->length >= 0 && PyUnicode_IS_COMPACT_ASCII(key)) {
        return PyUnicode_GET_LENGTH(key) == s->length &&
               memcmp(PyUnicode_DATA(key), s->text, s->length) == 0;
    }
    /* A str subclass (an optional need) is never compact: compared through the id object. */
    PyObject *id = PyList_GET_ITEM(ids, s->index);
    if (id == key) return 1;
    int c = PyUnicode_Compare(id, key);
    if (c == -1 && PyErr_Occurred()) return -1;
    return c == 0;
}

/* Needs are hashed, then looked up, CHUNK at a time. */
#define CHUNK 8192

/* Look up `count` needs (keys and their hashes); write their indices to out. 0, or -1 on
 * error; *status = 1 when a need is not an id. */
static int lookup(const Slot *table, size_t mask, PyObject *ids, const Py_hash_t *hashes,
                  PyObject *const *keys, const char *optional, Py_ssize_t count, int64_t *out,
                  long *status, int *dropped) {
    const Py_ssize_t ahead = 8;
    for (Py_ssize_t k = 0; k < count; k++) {
#if defined(__GNUC__) || defined(__clang__)
        if (k + ahead < count) __builtin_prefetch(&table[(size_t)hashes[k + ahead] & mask]);
#endif
        Py_hash_t h = hashes[k];
        int64_t found = -1;
        for (size_t t = (size_t)h & mask; table[t].index >= 0; t = (t + 1) & mask) {
            if (table[t].hash != h) continue;
            int eq = slot_holds(&table[t], keys[k], ids);
            if (eq < 0) return -1;
            if (eq) { found = table[t].index; break; }
        }
        if (found < 0) {
            if (!optional[k]) { *status = 1; return 0; }
            *dropped = 1; /* an optional need that names no step: removed afterwards */
        }
        out[k] = found;
    }
    return 0;
}

PyObject *k_resolve_names(PyObject *self, PyObject *args) {
    PyObject *ids, *needs, *o[2], *optional_type = NULL;
    if (!PyArg_ParseTuple(args, "O!O!OO|O", &PyList_Type, &ids, &PyList_Type, &needs, &o[0],
                          &o[1], &optional_type))
        return NULL;
    if (optional_type == Py_None) optional_type = NULL;
    if (optional_type && (!PyType_Check(optional_type) ||
                          !PyType_IsSubtype((PyTypeObject *)optional_type, &PyUnicode_Type))) {
        PyErr_SetString(PyExc_TypeError, "optional_type must be a subclass of str");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(ids);
    if (PyList_GET_SIZE(needs) != n) {
        PyErr_SetString(PyExc_ValueError, "ids and needs differ in length");
        return NULL;
    }
    if (n >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many steps");
        return NULL;
    }
    Buf b[2] = {0};
    Slot *table = NULL;
    Py_hash_t *hashes = NULL;
    PyObject **keys = NULL;
    char *optional = NULL;
    int dropped = 0;
    long status = 0;
    if (get_out(o[0], &b[0], 'q', n + 1, "pred_ptr") < 0) goto fail;
    if (get_out(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
    {
        int64_t *ptr = I64(b[0]), *idx = I64(b[1]);
        Py_ssize_t m = LEN(b[1]);
        size_t cap = 16;
        while (cap < (size_t)n * 2) cap <<= 1;
        size_t mask = cap - 1;
        table = malloc(sizeof(Slot) * cap);
        hashes = malloc(sizeof(Py_hash_t) * CHUNK);
        keys = malloc(sizeof(PyObject *) * CHUNK);
        optional = malloc(CHUNK);
        if (!table || !hashes || !keys || !optional) { PyErr_NoMemory(); goto fail; }
        for (size_t k = 0; k < cap; k++) table[k].index = -1;
        for (Py_ssize_t i = 0; i < n && status == 0; i++) {
            PyObject *key = PyList_GET_ITEM(ids, i);
            if (!PyUnicode_CheckExact(key)) { status = 1; break; }
            Py_hash_t h = PyObject_Hash(key);
            if (h == -1) goto fail;
            for (size_t k = (size_t)h & mask;; k = (k + 1) & mask) {
                Slot *s = &table[k];
                if (s->index < 0) {
                    Py_ssize_t len = PyUnicode_GET_LENGTH(key);
                    s->hash = h;
                    s->index = (int32_t)i;
                    s->length = -1;
                    if (PyUnicode_IS_COMPACT_ASCII(key) && len <= INLINE_ID) {
                        s->length = (int32_t)len;
                        memcpy(s->text, PyUnicode_DATA(key), len);
                    }
                    break;
                }
                if (s->hash == h) {
                    int eq = slot_holds(s, key, ids);
                    if (eq < 0) goto fail;
                    if (eq) { status = 1; break; }  /* a repeated id */
                }
            }
        }
        /* The needs go in chunks: hash a chunk (walking the freshly parsed strings in the
         * order they were made), then look it up, prefetching the table a few entries ahead. */
        Py_ssize_t e = 0, done = 0;
        ptr[0] = 0;
        for (Py_ssize_t i = 0; i < n && status == 0; i++) {
            PyObject *row = PyList_GET_ITEM(needs, i);
            if (!PyList_CheckExact(row)) { status = 1; break; }
            Py_ssize_t len = PyList_GET_SIZE(row);
            for (Py_ssize_t j = 0; j < len && status == 0; j++) {
                PyObject *key = PyList_GET_ITEM(row, j);
                int is_optional = optional_type && Py_TYPE(key) == (PyTypeObject *)optional_type;
                if ((!PyUnicode_CheckExact(key) && !is_optional) || e >= m) { status = 1; break; }
                /* str's own hash, as the id table's: a subclass cannot change it here */
                Py_hash_t h = PyUnicode_Type.tp_hash(key);
                if (h == -1) goto fail;
                keys[e - done] = key;
                hashes[e - done] = h;
                optional[e - done] = (char)is_optional;
                if (++e - done == CHUNK) {
                    if (lookup(table, mask, ids, hashes, keys, optional, CHUNK, idx + done,
                               &status, &dropped) < 0)
                        goto fail;
                    done = e;
                }
            }
            ptr[i + 1] = e;
        }
        if (status == 0 && lookup(table, mask, ids, hashes, keys, optional, e - done, idx + done,
                                  &status, &dropped) < 0)
            goto fail;
        if (status == 0 && e != m) status = 1;
        if (status == 0 && dropped) { /* squeeze out the dropped optional needs */
            Py_ssize_t w = 0, r = 0;
            for (Py_ssize_t i = 0; i < n; i++) {
                for (; r < ptr[i + 1]; r++)
                    if (idx[r] >= 0) idx[w++] = idx[r];
                ptr[i + 1] = w;
            }
        }
    }
    free(table);
    free(hashes);
    free(keys);
    free(optional);
    release(b, 2);
    return PyLong_FromLong(status);
fail:
    free(table);
    free(hashes);
    free(keys);
    free(optional);
    release(b, 2);
    return NULL;
}

/* json_needs(ids, raws, pred_ptr_out, pred_idx_out) -> m, or -1
 * The JSON fast path's needs, resolved without a Python string per need: raws[i] is the
 * undecoded JSON text of step i's `needs` (a msgspec.Raw, or any bytes-like object; already
 * checked to be valid JSON by the decoder). Each must be an array of strings without
 * escapes, each the UTF-8 text of one of `ids` (a list of str). Offsets go to
 * pred_ptr_out; with pred_idx_out None, the needs are only counted (check the limits, then
 * call again), else their indices go to pred_idx_out, which must hold exactly m. -1: anything
 * else (an escape, a number, an unknown need, a repeated id), for the caller's checked path,
 * which locates the problem.
 *
 * The table holds ids of up to INLINE_TEXT bytes in the slot itself, so most lookups touch
 * one cache line; needs are looked up BATCH at a time, their slots prefetched first. */
#define INLINE_TEXT 15
#define BATCH 64

typedef struct {
    uint32_t hash;  /* the low bits of bytes_hash */
    int32_t index;  /* into ids; -1: an empty slot */
    uint8_t length; /* of the id's UTF-8 text when it is held in `text`, else 255 */
    char text[INLINE_TEXT];
} ByteSlot;

static inline uint64_t bytes_hash(const char *s, Py_ssize_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    uint64_t tail = 0;
    memcpy(&tail, s + i, (size_t)(n - i));
    h = (h ^ tail) * 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
}

/* The index of the id whose UTF-8 text is s[0:n] (hash h), or -1. Ids too long for the slot
 * are compared through the list: every id in the table was turned into UTF-8 when it went in
 * (PyUnicode_AsUTF8AndSize caches it), so that cannot fail here. */
static inline int64_t byte_lookup(const ByteSlot *table, size_t mask, PyObject *ids,
                                  const char *s, Py_ssize_t n, uint64_t h) {
    for (size_t k = (size_t)(h >> 32) & mask; table[k].index >= 0; k = (k + 1) & mask) {
        const ByteSlot *t = &table[k];
        if (t->hash != (uint32_t)h) continue;
        if (t->length != 255) {
            if (t->length == n && memcmp(t->text, s, (size_t)n) == 0) return t->index;
            continue;
        }
        if (n <= INLINE_TEXT) continue; /* a short need is never a long id */
        Py_ssize_t len;
        const char *text = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(ids, t->index), &len);
        if (text && len == n && memcmp(text, s, (size_t)n) == 0) return t->index;
    }
    return -1;
}

static inline Py_ssize_t skip_space(const char *s, Py_ssize_t i, Py_ssize_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

typedef struct {
    const char *text[BATCH];
    Py_ssize_t length[BATCH];
    uint64_t hash[BATCH];
    int64_t at[BATCH]; /* where its index goes in pred_idx */
    int count;
    Py_buffer views[BATCH]; /* the raws the texts point into, held until looked up */
    int held;
} Batch;

static void release_views(Batch *b) {
    if (!b) return;
    for (int v = 0; v < b->held; v++) PyBuffer_Release(&b->views[v]);
    b->count = b->held = 0;
}

/* Look the batch's needs up (slots prefetched first) and write their indices; then, when
 * `release`, let go of the views their texts came from (never of the row being read). 0, or
 * -1 when a need names no id. */
static int flush(Batch *b, const ByteSlot *table, size_t mask, PyObject *ids, int64_t *idx,
                 int release) {
    int ok = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (int k = 0; k < b->count; k++) __builtin_prefetch(&table[(size_t)(b->hash[k] >> 32) & mask]);
#endif
    for (int k = 0; k < b->count && ok == 0; k++) {
        int64_t j = byte_lookup(table, mask, ids, b->text[k], b->length[k], b->hash[k]);
        if (j < 0) ok = -1;
        else idx[b->at[k]] = j;
    }
    b->count = 0;
    if (release) release_views(b);
    return ok;
}

PyObject *k_json_needs(PyObject *self, PyObject *args) {
    PyObject *ids, *raws, *o[2];
    if (!PyArg_ParseTuple(args, "O!O!OO", &PyList_Type, &ids, &PyList_Type, &raws, &o[0], &o[1]))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ids);
    if (PyList_GET_SIZE(raws) != n) {
        PyErr_SetString(PyExc_ValueError, "ids and raws differ in length");
        return NULL;
    }
    if (n >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many steps");
        return NULL;
    }
    Buf b[2] = {0};
    ByteSlot *table = NULL;
    Batch *batch = NULL;
    int64_t result = -1;
    int fill = o[1] != Py_None;
    if (get_out(o[0], &b[0], 'q', n + 1, "pred_ptr") < 0) goto fail;
    if (fill && get_out(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
    batch = calloc(1, sizeof(Batch));
    if (!batch) { PyErr_NoMemory(); goto fail; }
    {
        int64_t *ptr = I64(b[0]), *idx = fill ? I64(b[1]) : NULL;
        Py_ssize_t cap = fill ? LEN(b[1]) : 0;
        size_t mask = 0;
        /* The counting call (pred_idx None) reads no ids; the filling call needs them. */
        if (fill) {
            size_t size = 16;
            while (size < (size_t)n * 2) size <<= 1;
            mask = size - 1;
            table = malloc(sizeof(ByteSlot) * size);
            if (!table) { PyErr_NoMemory(); goto fail; }
            for (size_t k = 0; k < size; k++) table[k].index = -1;
            for (Py_ssize_t i = 0; i < n; i++) {
                PyObject *id = PyList_GET_ITEM(ids, i);
                if (!PyUnicode_CheckExact(id)) goto done;
                Py_ssize_t len;
                const char *text = PyUnicode_AsUTF8AndSize(id, &len);
                if (!text) { PyErr_Clear(); goto done; } /* a lone surrogate */
                uint64_t h = bytes_hash(text, len);
                if (byte_lookup(table, mask, ids, text, len, h) >= 0) goto done; /* repeated */
                size_t k = (size_t)(h >> 32) & mask;
                while (table[k].index >= 0) k = (k + 1) & mask;
                ByteSlot *slot = &table[k];
                slot->hash = (uint32_t)h;
                slot->index = (int32_t)i;
                slot->length = 255;
                if (len <= INLINE_TEXT) {
                    slot->length = (uint8_t)len;
                    memcpy(slot->text, text, (size_t)len);
                }
            }
        }
        int64_t e = 0;
        ptr[0] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (batch->held == BATCH && flush(batch, table, mask, ids, idx, 1) < 0) goto done;
            Py_buffer *view = &batch->views[batch->held];
            if (PyObject_GetBuffer(PyList_GET_ITEM(raws, i), view, PyBUF_SIMPLE) < 0) {
                PyErr_Clear();
                goto done;
            }
            batch->held++;
            const char *s = view->buf;
            Py_ssize_t len = view->len, p = skip_space(s, 0, len);
            int ok = p < len && s[p] == '[';
            p = skip_space(s, p + 1, len);
            if (ok && p < len && s[p] == ']') p++;
            else {
                while (ok) {
                    if (p >= len || s[p] != '"') { ok = 0; break; }
                    Py_ssize_t start = ++p;
                    while (p < len && s[p] != '"' && s[p] != '\\') p++;
                    if (p >= len || s[p] != '"') { ok = 0; break; } /* an escape */
                    if (fill) {
                        if (e >= cap) { ok = 0; break; }
                        if (batch->count == BATCH &&
                            flush(batch, table, mask, ids, idx, 0) < 0) {
                            ok = 0;
                            break;
                        }
                        int c = batch->count++;
                        batch->text[c] = s + start;
                        batch->length[c] = p - start;
                        batch->hash[c] = bytes_hash(s + start, p - start);
                        batch->at[c] = e;
                    }
                    e++;
                    p = skip_space(s, p + 1, len);
                    if (p < len && s[p] == ',') { p = skip_space(s, p + 1, len); continue; }
                    if (p < len && s[p] == ']') { p++; break; }
                    ok = 0;
                }
            }
            if (ok && skip_space(s, p, len) != len) ok = 0;
            if (!ok) goto done;
            ptr[i + 1] = e;
        }
        if (flush(batch, table, mask, ids, idx, 1) < 0) goto done;
        result = (fill && e != cap) ? -1 : e;
    }
done:
    release_views(batch);
    free(batch);
    free(table);
    release(b, 2);
    return PyLong_FromLongLong(result);
fail:
    release_views(batch);
    free(batch);
    free(table);
    release(b, 2);
    return NULL;
}
