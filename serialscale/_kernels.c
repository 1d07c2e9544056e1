/* Compiled kernels for the hot passes of serialscale.
 *
 * Each function mirrors a pure-Python reference in metrics.py or schedule.py operation for
 * operation (the same float additions in the same order), so both give identical results;
 * the test suite checks that on random graphs. Arrays arrive through the buffer protocol:
 * int64 ('q') for indices, double ('d') for costs and times. Nothing here recurses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int ok;
} Buf;

static int get_buf(PyObject *obj, Buf *b, char kind, Py_ssize_t min_len, const char *name) {
    b->ok = 0;
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        PyErr_Clear();
        if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
            return -1;
    }
    b->ok = 1;
    const char *fmt = b->view.format ? b->view.format : "B";
    if (fmt[0] == '@' || fmt[0] == '=' || fmt[0] == '<') fmt++;
    int good = (kind == 'q') ? ((fmt[0] == 'q' || fmt[0] == 'l') && b->view.itemsize == 8)
                             : (fmt[0] == 'd' && b->view.itemsize == 8);
    if (!good) {
        PyErr_Format(PyExc_TypeError, "%s: expected an array of type '%c'", name, kind);
        return -1;
    }
    if (b->view.len / 8 < min_len) {
        PyErr_Format(PyExc_ValueError, "%s: too short", name);
        return -1;
    }
    return 0;
}

static void release(Buf *bufs, int count) {
    for (int i = 0; i < count; i++)
        if (bufs[i].ok) PyBuffer_Release(&bufs[i].view);
}

#define I64(b) ((int64_t *)(b).view.buf)
#define F64(b) ((double *)(b).view.buf)
#define LEN(b) ((Py_ssize_t)((b).view.len / 8))

/* asap(order, pred_ptr, pred_idx, costs, extra, start_out, finish_out) */
static PyObject *k_asap(PyObject *self, PyObject *args) {
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
    if (get_buf(o[4], &b[4], 'd', n, "start") < 0) goto fail;
    if (get_buf(o[5], &b[5], 'd', n, "finish") < 0) goto fail;
    {
        int64_t *order = I64(b[0]), *ptr = I64(b[1]), *idx = I64(b[2]);
        double *cost = F64(b[3]), *start = F64(b[4]), *finish = F64(b[5]);
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < n; k++) {
            int64_t v = order[k];
            double s = 0.0;
            int first = 1;
            for (int64_t e = ptr[v]; e < ptr[v + 1]; e++) {
                double f = finish[idx[e]];
                if (first || f > s) { s = f; first = 0; }
            }
            start[v] = s;
            finish[v] = extra != 0.0 ? s + cost[v] + extra : s + cost[v];
        }
        Py_END_ALLOW_THREADS
    }
    release(b, 6);
    Py_RETURN_NONE;
fail:
    release(b, 6);
    return NULL;
}

/* bottom_levels(order, succ_ptr, succ_idx, costs, out) */
static PyObject *k_bottom_levels(PyObject *self, PyObject *args) {
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    Buf b[5] = {0};
    if (get_buf(o[0], &b[0], 'q', 0, "order") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'q', n + 1, "succ_ptr") < 0) goto fail;
    if (get_buf(o[2], &b[2], 'q', 0, "succ_idx") < 0) goto fail;
    if (get_buf(o[3], &b[3], 'd', n, "costs") < 0) goto fail;
    if (get_buf(o[4], &b[4], 'd', n, "out") < 0) goto fail;
    {
        int64_t *order = I64(b[0]), *ptr = I64(b[1]), *idx = I64(b[2]);
        double *cost = F64(b[3]), *level = F64(b[4]);
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = n - 1; k >= 0; k--) {
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
    }
    release(b, 5);
    Py_RETURN_NONE;
fail:
    release(b, 5);
    return NULL;
}

/* A 4-ary min-heap of (key, index) pairs, ordered by key then index. Entries are stored
 * together, so a comparison touches one cache line; four children per node halve the depth. */
typedef struct {
    double key;
    int64_t idx;
} Entry;

typedef struct {
    Entry *e;
    Py_ssize_t size;
} Heap;

static inline int less(Entry a, Entry b) {
    return a.key < b.key || (a.key == b.key && a.idx < b.idx);
}

static inline void heap_push(Heap *h, double key, int64_t idx) {
    Py_ssize_t i = h->size++;
    Entry x = {key, idx};
    while (i > 0) {
        Py_ssize_t p = (i - 1) / 4;
        if (!less(x, h->e[p])) break;
        h->e[i] = h->e[p];
        i = p;
    }
    h->e[i] = x;
}

static inline Entry heap_pop(Heap *h) {
    Entry top = h->e[0];
    Py_ssize_t n = --h->size;
    if (n == 0) return top;
    Entry x = h->e[n];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t c = 4 * i + 1;
        if (c >= n) break;
        Py_ssize_t best = c, end = c + 4 < n ? c + 4 : n;
        for (Py_ssize_t j = c + 1; j < end; j++)
            if (less(h->e[j], h->e[best])) best = j;
        if (!less(h->e[best], x)) break;
        h->e[i] = h->e[best];
        i = best;
    }
    h->e[i] = x;
    return top;
}

/* The bit pattern of a time or priority (finite, >= 0): for non-negative doubles the order
 * of the patterns is the order of the numbers. */
static inline uint64_t time_bits(double x) {
    x += 0.0; /* -0.0 becomes +0.0 */
    uint64_t k;
    memcpy(&k, &x, sizeof k);
    return k;
}

/* Stable sort of n keys, ascending, carrying val[] along (val may be NULL). LSD radix sort,
 * 16 bits a pass; a pass where every key has the same digit is skipped (the high bits of
 * small numbers). -1 when out of memory. */
static int radix_sort(uint64_t *key, int32_t *val, Py_ssize_t n) {
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

/* The list schedule runs in "rank" numbering: steps sorted by (priority descending, index
 * ascending), so "the ready step with the highest priority, ties to the lower index" is simply
 * the ready step of lowest rank. A plan (built once, shared by every processor count) holds
 * the graph renumbered that way; the schedule then keeps its ready steps in a bitset with a
 * summary level per 64 words, whose minimum is a handful of count-trailing-zeros away, and
 * visits steps almost in rank order, which keeps memory access close to sequential. */
typedef struct {
    double duration; /* the step's cost */
    uint32_t first;  /* its successors: succ_idx[first .. first + count) */
    uint32_t count;
} Node; /* what the schedule reads of a step when it starts and ends: one cache line */

typedef struct {
    Py_ssize_t n;
    Node *node;        /* per rank */
    int32_t *succ_idx; /* successor ranks */
    int32_t *indegree; /* per rank */
    int32_t max_indegree;
    double max_cost;
    int integral; /* every cost a whole number */
} Plan;

static const char *PLAN = "serialscale.schedule_plan";

static void plan_release(Plan *p) {
    if (!p) return;
    free(p->node);
    free(p->succ_idx);
    free(p->indegree);
    free(p);
}

static void plan_free(PyObject *capsule) {
    plan_release(PyCapsule_GetPointer(capsule, PLAN));
}

/* schedule_plan(priority, costs, pred_ptr, succ_ptr, succ_idx) -> plan (a capsule) */
static PyObject *k_schedule_plan(PyObject *self, PyObject *args) {
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    Buf b[5] = {0};
    Plan *plan = NULL;
    uint64_t *sort_key = NULL;
    int32_t *sorted = NULL, *rank = NULL;
    PyObject *capsule = NULL;
    if (get_buf(o[0], &b[0], 'd', 0, "priority") < 0) goto done;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'd', n, "costs") < 0) goto done;
    if (get_buf(o[2], &b[2], 'q', n + 1, "pred_ptr") < 0) goto done;
    if (get_buf(o[3], &b[3], 'q', n + 1, "succ_ptr") < 0) goto done;
    if (get_buf(o[4], &b[4], 'q', 0, "succ_idx") < 0) goto done;
    {
        double *prio = F64(b[0]), *cost = F64(b[1]);
        int64_t *pptr = I64(b[2]), *sptr = I64(b[3]), *sidx = I64(b[4]);
        Py_ssize_t m = sptr[n], cap = n > 0 ? n : 1;
        if (n >= INT32_MAX || m >= INT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "too many steps for a schedule plan");
            goto done;
        }
        plan = calloc(1, sizeof(Plan));
        sort_key = malloc(sizeof(uint64_t) * cap);
        sorted = malloc(sizeof(int32_t) * cap);
        rank = malloc(sizeof(int32_t) * cap);
        if (plan) {
            plan->n = n;
            plan->node = malloc(sizeof(Node) * cap);
            plan->succ_idx = malloc(sizeof(int32_t) * (m > 0 ? m : 1));
            plan->indegree = malloc(sizeof(int32_t) * cap);
        }
        if (!plan || !sort_key || !sorted || !rank || !plan->node || !plan->succ_idx ||
            !plan->indegree) {
            PyErr_NoMemory();
            goto done;
        }
        /* ranks: priority descending (the inverted bit patterns ascending), ties by index
         * (the sort is stable and starts in index order) */
        for (Py_ssize_t i = 0; i < n; i++) {
            sort_key[i] = ~time_bits(prio[i]);
            sorted[i] = (int32_t)i;
        }
        if (radix_sort(sort_key, sorted, n) < 0) {
            PyErr_NoMemory();
            goto done;
        }
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < n; r++) rank[sorted[r]] = (int32_t)r;
        int64_t e = 0;
        int32_t top = 0;
        double max_cost = 0.0;
        int integral = 1;
        for (Py_ssize_t r = 0; r < n; r++) {
            int64_t v = sorted[r];
            int32_t in = (int32_t)(pptr[v + 1] - pptr[v]);
            plan->indegree[r] = in;
            if (in > top) top = in;
            plan->node[r].duration = cost[v];
            if (cost[v] > max_cost) max_cost = cost[v];
            if (cost[v] != (double)(int64_t)cost[v]) integral = 0;
            plan->node[r].first = (uint32_t)e;
            plan->node[r].count = (uint32_t)(sptr[v + 1] - sptr[v]);
            for (int64_t k = sptr[v]; k < sptr[v + 1]; k++) plan->succ_idx[e++] = rank[sidx[k]];
        }
        plan->max_indegree = top;
        plan->max_cost = max_cost;
        plan->integral = integral;
        Py_END_ALLOW_THREADS
        capsule = PyCapsule_New(plan, PLAN, plan_free);
        if (capsule) plan = NULL; /* the capsule owns it now */
    }
done:
    plan_release(plan);
    free(sort_key);
    free(sorted);
    free(rank);
    release(b, 5);
    return capsule;
}

/* A set of ranks 0..n-1: level 0 has one bit per rank, each level above one bit per word of
 * the level below (set when that word is not empty), up to a single top word. */
#define MAX_LEVELS 8
typedef struct {
    uint64_t *word[MAX_LEVELS];
    int levels;
} Bits;

static inline int lowest_bit(uint64_t w) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(w);
#else
    int k = 0;
    while (!(w & 1)) { w >>= 1; k++; }
    return k;
#endif
}

static uint64_t *bits_init(Bits *b, Py_ssize_t n) {
    Py_ssize_t size[MAX_LEVELS], total = 0, count = n;
    b->levels = 0;
    do {
        count = (count + 63) / 64;
        size[b->levels++] = count;
        total += count;
    } while (count > 1);
    uint64_t *all = calloc(total, sizeof(uint64_t));
    if (!all) return NULL;
    Py_ssize_t off = 0;
    for (int l = 0; l < b->levels; off += size[l], l++) b->word[l] = all + off;
    return all;
}

static inline void bits_add(Bits *b, int64_t r) {
    for (int l = 0; l < b->levels; l++, r >>= 6) {
        uint64_t *w = &b->word[l][r >> 6], old = *w;
        *w = old | (1ULL << (r & 63));
        if (old) return;
    }
}

static inline int bits_empty(const Bits *b) { return b->word[b->levels - 1][0] == 0; }

static inline int64_t bits_pop_min(Bits *b) {
    int64_t r = 0;
    for (int l = b->levels - 1; l >= 0; l--) r = (r << 6) | lowest_bit(b->word[l][r]);
    /* r is the lowest set bit of its word on every level: clearing it is w & (w - 1) */
    int64_t x = r;
    for (int l = 0; l < b->levels; l++, x >>= 6) {
        uint64_t *w = &b->word[l][x >> 6];
        *w &= *w - 1;
        if (*w) break;
    }
    return r;
}

/* The set of running steps, keyed by finish time. Two implementations with the same
 * operations: a heap for any durations, and, when every duration is a whole number below
 * RING_MAX, a ring of buckets: finish times then all lie in (now, now + ring size), so each
 * bucket holds a single time and the next event is the next non-empty bucket. The order in
 * which steps finishing at the same time are taken does not matter: all complete before
 * anything new starts. */
#define RING_MAX 65536

static inline void heap_run_push(Heap *h, double t, int64_t v) { heap_push(h, t, v); }
static inline int heap_run_empty(const Heap *h) { return h->size == 0; }
static inline double heap_run_next(const Heap *h, double now) { return h->e[0].key; }
static inline int64_t heap_run_take(Heap *h, double now) {
    return h->size > 0 && h->e[0].key == now ? heap_pop(h).idx : -1;
}

typedef struct {
    int32_t *head, *next; /* bucket lists: head per bucket, next per step */
    uint64_t *bits;       /* non-empty buckets */
    int64_t mask;         /* buckets - 1 (a power of two, at least 64) */
    Py_ssize_t count;
} Ring;

static inline void ring_run_push(Ring *r, double t, int64_t v) {
    int64_t slot = (int64_t)t & r->mask;
    r->next[v] = r->head[slot];
    r->head[slot] = (int32_t)v;
    r->bits[slot >> 6] |= 1ULL << (slot & 63);
    r->count++;
}
static inline int ring_run_empty(const Ring *r) { return r->count == 0; }
static inline double ring_run_next(const Ring *r, double now) {
    int64_t t = (int64_t)now, start = (t + 1) & r->mask, words = (r->mask + 1) >> 6;
    int64_t w = start >> 6;
    uint64_t word = r->bits[w] & (~0ULL << (start & 63));
    while (!word) { /* terminates: count > 0; the start word comes round again, unmasked */
        w = (w + 1) & (words - 1);
        word = r->bits[w];
    }
    int64_t slot = (w << 6) | lowest_bit(word);
    return (double)(t + ((slot - t) & r->mask));
}
static inline int64_t ring_run_take(Ring *r, double now) {
    int64_t slot = (int64_t)now & r->mask;
    int32_t v = r->head[slot];
    if (v < 0) return -1;
    r->head[slot] = r->next[v];
    if (r->head[slot] < 0) r->bits[slot >> 6] &= ~(1ULL << (slot & 63));
    r->count--;
    return v;
}

/* The list schedule itself, for a waiting-count type WT (one byte when no step needs more
 * than 255 others: the counts are read at random, so smaller is faster) and a running set
 * RUN of kind KIND (heap_run or ring_run). */
#define SCHEDULE(WT, KIND, RUN)                                                                  \
    do {                                                                                    \
        WT *waiting = (WT *)counts;                                                         \
        for (Py_ssize_t r = 0; r < n; r++) {                                                \
            waiting[r] = (WT)plan->indegree[r];                                             \
            if (waiting[r] == 0) bits_add(&ready, r);                                       \
        }                                                                                   \
        Py_ssize_t free_procs = processors;                                                 \
        for (;;) {                                                                          \
            while (free_procs > 0 && !bits_empty(&ready)) {                                 \
                int64_t v = bits_pop_min(&ready);                                           \
                double d = node[v].duration + extra;                                        \
                if (d != 0.0) {                                                             \
                    KIND##_push(RUN, now + d, v);                                           \
                    free_procs--;                                                           \
                } else { /* completes at once: its successors may be ready right now */     \
                    const int32_t *s = sidx + node[v].first, *end = s + node[v].count;      \
                    for (; s < end; s++)                                                    \
                        if (--waiting[*s] == 0) bits_add(&ready, *s);                       \
                }                                                                           \
            }                                                                               \
            if (KIND##_empty(RUN)) break;                                                   \
            now = KIND##_next(RUN, now);                                                    \
            for (int64_t v; (v = KIND##_take(RUN, now)) >= 0;) {                            \
                free_procs++;                                                               \
                const int32_t *s = sidx + node[v].first, *end = s + node[v].count;          \
                for (; s < end; s++)                                                        \
                    if (--waiting[*s] == 0) bits_add(&ready, *s);                           \
            }                                                                               \
        }                                                                                   \
    } while (0)

/* makespan(plan, processors, extra) -> float
 * The critical-path-first list schedule of schedule.list_schedule_makespan. */
static PyObject *k_makespan(PyObject *self, PyObject *args) {
    PyObject *capsule;
    Py_ssize_t processors;
    double extra;
    if (!PyArg_ParseTuple(args, "Ond", &capsule, &processors, &extra)) return NULL;
    Plan *plan = PyCapsule_GetPointer(capsule, PLAN);
    if (!plan) return NULL;
    Py_ssize_t n = plan->n;
    if (n == 0) return PyFloat_FromDouble(0.0);
    double now = 0.0;
    const Node *node = plan->node;
    const int32_t *sidx = plan->succ_idx;
    int narrow = plan->max_indegree <= 255;
    double longest = plan->max_cost + extra;
    int ring = plan->integral && extra == (double)(int64_t)extra && longest < RING_MAX;
    int64_t buckets = 64;
    while (ring && buckets <= (int64_t)longest) buckets <<= 1;
    Py_ssize_t cap = processors < n ? (processors > 0 ? processors : 1) : n;
    void *counts = malloc((narrow ? sizeof(uint8_t) : sizeof(int32_t)) * n);
    Heap heap = {ring ? NULL : malloc(sizeof(Entry) * cap), 0};
    Ring rng = {NULL, NULL, NULL, buckets - 1, 0};
    if (ring) {
        rng.head = malloc(sizeof(int32_t) * buckets);
        rng.next = malloc(sizeof(int32_t) * n);
        rng.bits = calloc(buckets / 64, sizeof(uint64_t));
        if (rng.head) memset(rng.head, 0xff, sizeof(int32_t) * buckets); /* all -1 */
    }
    Bits ready;
    uint64_t *bits = bits_init(&ready, n);
    int oom = !counts || !bits || (ring ? !rng.head || !rng.next || !rng.bits : !heap.e);
    if (!oom) {
        Py_BEGIN_ALLOW_THREADS
        if (ring && narrow) SCHEDULE(uint8_t, ring_run, &rng);
        else if (ring) SCHEDULE(int32_t, ring_run, &rng);
        else if (narrow) SCHEDULE(uint8_t, heap_run, &heap);
        else SCHEDULE(int32_t, heap_run, &heap);
        Py_END_ALLOW_THREADS
    }
    free(counts);
    free(heap.e);
    free(rng.head);
    free(rng.next);
    free(rng.bits);
    free(bits);
    if (oom) return PyErr_NoMemory();
    return PyFloat_FromDouble(now);
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

/* profile(start, finish, costs) -> list of (start, end, running), as metrics.profile */
static PyObject *k_profile(PyObject *self, PyObject *args) {
    PyObject *o[3];
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) return NULL;
    Buf b[3] = {0};
    PyObject *out = NULL;
    if (get_buf(o[0], &b[0], 'd', 0, "start") < 0) goto done;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'd', n, "finish") < 0) goto done;
    if (get_buf(o[2], &b[2], 'd', n, "costs") < 0) goto done;
    {
        double *start = F64(b[0]), *finish = F64(b[1]), *cost = F64(b[2]);
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
                if (seg_running >= 0) {
                    PyObject *seg = Py_BuildValue("(ddL)", seg_start, t[k], (long long)seg_running);
                    if (!seg || PyList_Append(out, seg) < 0) Py_CLEAR(out);
                    Py_XDECREF(seg);
                }
                seg_start = t[k];
                seg_running = running;
            }
        }
        if (out && seg_running >= 0) {
            PyObject *seg = Py_BuildValue("(ddL)", seg_start, t[u - 1], (long long)seg_running);
            if (!seg || PyList_Append(out, seg) < 0) Py_CLEAR(out);
            Py_XDECREF(seg);
        }
        free(t);
        free(d);
    }
done:
    release(b, 3);
    return out;
}

/* critical_path(pred_ptr, pred_idx, succ_ptr, start, finish, depth) -> list of indices */
static PyObject *k_critical_path(PyObject *self, PyObject *args) {
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
    {
        int64_t *pptr = I64(b[0]), *pidx = I64(b[1]), *sptr = I64(b[2]);
        double *start = F64(b[3]), *finish = F64(b[4]);
        out = PyList_New(0);
        if (!out || n == 0) goto done;
        int64_t v = -1;
        for (Py_ssize_t i = 0; i < n; i++)
            if (finish[i] == depth && sptr[i] == sptr[i + 1]) { v = i; break; }
        if (v < 0) goto done;
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
static PyObject *k_slack(PyObject *self, PyObject *args) {
    PyObject *o[3];
    double depth, tol;
    if (!PyArg_ParseTuple(args, "OOddO", &o[0], &o[1], &depth, &tol, &o[2])) return NULL;
    Buf b[3] = {0};
    if (get_buf(o[0], &b[0], 'd', 0, "start") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'd', n, "levels") < 0) goto fail;
    if (get_buf(o[2], &b[2], 'd', n, "out") < 0) goto fail;
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

/* successors(pred_ptr, pred_idx, succ_ptr_out, succ_idx_out): CSR transpose, successor lists
 * in increasing index order (as the Python construction gives them). */
static PyObject *k_successors(PyObject *self, PyObject *args) {
    PyObject *o[4];
    if (!PyArg_ParseTuple(args, "OOOO", &o[0], &o[1], &o[2], &o[3])) return NULL;
    Buf b[4] = {0};
    if (get_buf(o[0], &b[0], 'q', 1, "pred_ptr") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]) - 1;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
    Py_ssize_t m = LEN(b[1]);
    if (get_buf(o[2], &b[2], 'q', n + 1, "succ_ptr") < 0) goto fail;
    if (get_buf(o[3], &b[3], 'q', m, "succ_idx") < 0) goto fail;
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
static PyObject *k_topological_order(PyObject *self, PyObject *args) {
    PyObject *o[4];
    if (!PyArg_ParseTuple(args, "OOOO", &o[0], &o[1], &o[2], &o[3])) return NULL;
    Buf b[4] = {0};
    Py_ssize_t count = 0;
    if (get_buf(o[0], &b[0], 'q', 1, "pred_ptr") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]) - 1;
    if (get_buf(o[1], &b[1], 'q', n + 1, "succ_ptr") < 0) goto fail;
    if (get_buf(o[2], &b[2], 'q', 0, "succ_idx") < 0) goto fail;
    if (get_buf(o[3], &b[3], 'q', n, "order") < 0) goto fail;
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
static PyObject *k_count_duplicates(PyObject *self, PyObject *args) {
    PyObject *o[2];
    if (!PyArg_ParseTuple(args, "OO", &o[0], &o[1])) return NULL;
    Buf b[2] = {0};
    Py_ssize_t dups = 0;
    if (get_buf(o[0], &b[0], 'q', 1, "pred_ptr") < 0) goto fail;
    Py_ssize_t n = LEN(b[0]) - 1;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
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

/* json_duplicate_key(data) -> byte offset of the first key repeated within one JSON object,
 * -1 when there is none, -2 when the scan gives up (an object with more than MAX_KEYS keys,
 * or text that is not JSON: the caller then takes the slow, fully checked path). Keys are
 * compared as raw bytes, escapes included. */
#define MAX_KEYS 64
#define MAX_DEPTH 1000
typedef struct {
    int is_object;
    int expect_key;
    Py_ssize_t nkeys;
    Py_ssize_t key_start[MAX_KEYS];
    Py_ssize_t key_len[MAX_KEYS];
} Frame;

static PyObject *k_json_duplicate_key(PyObject *self, PyObject *args) {
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
            while (j < n && p[j] != '"') j += (p[j] == '\\') ? 2 : 1;
            if (j >= n) { result = -2; break; }
            if (depth > 0 && stack[depth - 1].is_object && stack[depth - 1].expect_key) {
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

/* resolve_names(ids, needs, pred_ptr_out, pred_idx_out) -> status
 * Step ids (a list of str) and per-step need lists (a list of lists of str) to CSR index
 * arrays, through an open-addressing table of (hash, index). Status 0: done. Status 1: the
 * caller must take its own, checked path (a repeated id, an unknown need, a need that is
 * not a str, a row that is not a list), which then reports the problem with its location. */
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
    if (s->length >= 0) {
        return PyUnicode_IS_COMPACT_ASCII(key) && PyUnicode_GET_LENGTH(key) == s->length &&
               memcmp(PyUnicode_DATA(key), s->text, s->length) == 0;
    }
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
                  PyObject *const *keys, Py_ssize_t count, int64_t *out, long *status) {
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
        if (found < 0) { *status = 1; return 0; }
        out[k] = found;
    }
    return 0;
}

static PyObject *k_resolve_names(PyObject *self, PyObject *args) {
    PyObject *ids, *needs, *o[2];
    if (!PyArg_ParseTuple(args, "O!O!OO", &PyList_Type, &ids, &PyList_Type, &needs, &o[0], &o[1]))
        return NULL;
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
    long status = 0;
    if (get_buf(o[0], &b[0], 'q', n + 1, "pred_ptr") < 0) goto fail;
    if (get_buf(o[1], &b[1], 'q', 0, "pred_idx") < 0) goto fail;
    {
        int64_t *ptr = I64(b[0]), *idx = I64(b[1]);
        Py_ssize_t m = LEN(b[1]);
        size_t cap = 16;
        while (cap < (size_t)n * 2) cap <<= 1;
        size_t mask = cap - 1;
        table = malloc(sizeof(Slot) * cap);
        hashes = malloc(sizeof(Py_hash_t) * CHUNK);
        keys = malloc(sizeof(PyObject *) * CHUNK);
        if (!table || !hashes || !keys) { PyErr_NoMemory(); goto fail; }
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
                if (!PyUnicode_CheckExact(key) || e >= m) { status = 1; break; }
                Py_hash_t h = PyObject_Hash(key);
                if (h == -1) goto fail;
                keys[e - done] = key;
                hashes[e - done] = h;
                if (++e - done == CHUNK) {
                    if (lookup(table, mask, ids, hashes, keys, CHUNK, idx + done, &status) < 0)
                        goto fail;
                    done = e;
                }
            }
            ptr[i + 1] = e;
        }
        if (status == 0 && lookup(table, mask, ids, hashes, keys, e - done, idx + done, &status) < 0)
            goto fail;
        if (status == 0 && e != m) status = 1;
    }
    free(table);
    free(hashes);
    free(keys);
    release(b, 2);
    return PyLong_FromLong(status);
fail:
    free(table);
    free(hashes);
    free(keys);
    release(b, 2);
    return NULL;
}

static PyMethodDef methods[] = {
    {"resolve_names", k_resolve_names, METH_VARARGS, "Need names to CSR indices."},
    {"json_duplicate_key", k_json_duplicate_key, METH_VARARGS, "First repeated JSON key."},
    {"count_duplicates", k_count_duplicates, METH_VARARGS, "Repeated needs within rows."},
    {"asap", k_asap, METH_VARARGS, "ASAP start and finish times (see metrics.asap_schedule)."},
    {"bottom_levels", k_bottom_levels, METH_VARARGS, "Bottom levels (see metrics.bottom_levels)."},
    {"schedule_plan", k_schedule_plan, METH_VARARGS, "Steps renumbered by priority for makespan()."},
    {"makespan", k_makespan, METH_VARARGS, "List-schedule makespan (see schedule.list_schedule_makespan)."},
    {"profile", k_profile, METH_VARARGS, "Parallelism profile segments (see metrics.profile)."},
    {"critical_path", k_critical_path, METH_VARARGS, "Critical path (see metrics.critical_path)."},
    {"slack", k_slack, METH_VARARGS, "Slack (see metrics.slack)."},
    {"successors", k_successors, METH_VARARGS, "Successor CSR from predecessor CSR."},
    {"topological_order", k_topological_order, METH_VARARGS, "Kahn's topological order."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Compiled kernels of serialscale.", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
