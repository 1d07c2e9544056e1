/* The speedup table's list-schedule simulation (see schedule.list_schedule_makespan). */
#include "kernels.h"

#include <math.h>

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

/* A set of ranks 0..n-1: level 0 has one bit per rank, each level above one bit per word of
 * the level below (set when that word is not empty), up to a single top word. */
#define MAX_LEVELS 8
typedef struct {
    uint64_t *word[MAX_LEVELS];
    int levels;
    int64_t low; /* a level-0 word index with every word below it empty */
} Bits;

static inline int bit_count(uint64_t w) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_popcountll(w);
#else
    int k = 0;
    for (; w; w &= w - 1) k++;
    return k;
#endif
}

static inline int lowest_bit(uint64_t w) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(w);
#else
    int k = 0;
    while (!(w & 1)) { w >>= 1; k++; }
    return k;
#endif
}

static inline int highest_bit(uint64_t w) { /* w > 0 */
#if defined(__GNUC__) || defined(__clang__)
    return 63 - __builtin_clzll(w);
#else
    int k = 0;
    while (w >>= 1) k++;
    return k;
#endif
}

/* The words of a set of n ranks, every level (the same n, the same layout). */
static Py_ssize_t bits_size(Py_ssize_t n) {
    Py_ssize_t total = 0, count = n;
    do {
        count = (count + 63) / 64;
        total += count;
    } while (count > 1);
    return total;
}

/* b laid out over `all` (bits_size(n) words: zeros, or a copy of another set's words). */
static void bits_on(Bits *b, Py_ssize_t n, uint64_t *all, int64_t low) {
    Py_ssize_t count = n, off = 0;
    b->levels = 0;
    do {
        count = (count + 63) / 64;
        b->word[b->levels++] = all + off;
        off += count;
    } while (count > 1);
    b->low = low;
}

static uint64_t *bits_init(Bits *b, Py_ssize_t n) {
    uint64_t *all = calloc(bits_size(n), sizeof(uint64_t));
    if (all) bits_on(b, n, all, 0);
    return all;
}

static inline void bits_add(Bits *b, int64_t r) {
    if ((r >> 6) < b->low) b->low = r >> 6;
    for (int l = 0; l < b->levels; l++, r >>= 6) {
        uint64_t *w = &b->word[l][r >> 6], old = *w;
        *w = old | (1ULL << (r & 63));
        if (old) return;
    }
}

static inline int bits_empty(const Bits *b) { return b->word[b->levels - 1][0] == 0; }

/* The lowest rank in the set (not empty), left in it. Ranks are mostly taken in runs (the
 * schedule visits steps almost in rank order), so the word at the hint `low` is looked at
 * first; only when it is empty does a descent from the top level find the lowest non-empty
 * word (every word below `low` is empty, so that is at or after it). */
static inline int64_t bits_min(Bits *b) {
    int64_t r = b->low;
    if (!b->word[0][r]) {
        r = 0;
        for (int l = b->levels - 1; l >= 1; l--) r = (r << 6) | lowest_bit(b->word[l][r]);
        b->low = r;
    }
    return (r << 6) | lowest_bit(b->word[0][r]);
}

/* The lowest rank in the set (not empty), removed. */
static inline int64_t bits_pop_min(Bits *b) {
    int64_t rank = bits_min(b), r = rank >> 6;
    uint64_t *w = &b->word[0][r];
    *w &= *w - 1; /* the lowest set bit (rank's) cleared */
    if (!*w) { /* the word is empty now: so is its bit on the level above, and so on */
        int64_t x = r;
        for (int l = 1; l < b->levels; l++, x >>= 6) {
            uint64_t *q = &b->word[l][x >> 6];
            *q &= ~(1ULL << (x & 63));
            if (*q) break;
        }
    }
    return rank;
}

/* The list schedule runs in "rank" numbering: steps sorted by (priority descending, index
 * ascending), so "the ready step with the highest priority, ties to the lower index" is simply
 * the ready step of lowest rank. A plan (built once, shared by every processor count) holds
 * the graph renumbered that way; the schedule then keeps its ready steps in a bitset with a
 * summary level per 64 words, whose minimum is a handful of count-trailing-zeros away, and
 * visits steps almost in rank order, which keeps memory access close to sequential. The
 * plan is kept small (each schedule reads all of it, and a plan's pages are new memory):
 * the successor lists are in rank order, so one offset per rank bounds them; a cost is a
 * byte when every cost is 0 or one same value (a traced run's); the counts of needs are
 * bytes when none passes 255. The set of steps ready at the start (those that need none) is
 * kept as the words of its bitset, copied by each schedule.
 *
 * When every cost is 0 or one same value u (a traced run's), the schedule goes tick by tick
 * (SCHEDULE_TICKS below), and the plan also holds each step's level: the number of steps
 * of cost u on the longest path that starts with it (itself included), in steps of u. When
 * the ranks are a topological order (every successor ranks after its step) and the levels
 * never increase along the ranks (the priorities are bottom levels, as the speedup table's
 * are), two facts about that tick schedule are exact and save simulating (proofs at
 * SCHEDULE_TICKS): it lasts `depth` ticks whenever processors >= `level_peak`, the most
 * steps of one level; and from a tick where fewer than processors + D steps of cost u are
 * left to start, D being the level of the lowest ready rank, it lasts D more ticks. The
 * levels are kept as the end of each level's block of ranks (`level_end`, by level from
 * the top), small next to a level per rank. */
typedef struct {
    Py_ssize_t n;
    uint32_t *first;   /* per rank and one more: rank r's successors are succ_idx[first[r] ..
                          first[r + 1]) */
    int32_t *succ_idx; /* successor ranks */
    double *duration;  /* per rank: the step's cost; NULL when every cost is 0 or `unit` */
    uint8_t *positive; /* per rank when duration is NULL: 1 where the cost is `unit`, else 0 */
    double unit;
    void *indegree;    /* per rank: uint8_t when max_indegree <= 255, else int32_t */
    int32_t max_indegree;
    double max_cost;
    double min_cost;
    double min_positive; /* the least cost > 0 (HUGE_VAL: none) */
    int integral; /* every cost a whole number */
    uint64_t *ready0;  /* the words of the bitset of the ranks that need none */
    int64_t low0;      /* its first non-empty word */
    /* the state after the ticks every schedule on 2 processors or more shares (see
     * plan_prefix): waiting counts (as indegree), ready bitset words, its hint */
    int64_t prefix_ticks, prefix_started;
    void *wait1;
    uint64_t *ready1;
    int64_t low1;
    Py_ssize_t positives;  /* steps of cost > 0 */
    int levelled;      /* the levels below are known (see above) */
    int64_t depth;     /* the largest level, in ticks */
    int64_t level_peak; /* the most ranks of one level */
    uint32_t *level_end; /* per j in 0..depth: the ranks of level depth - j end before
                            level_end[j] (the ranks of levels >= depth - j: level_end[j]) */
    /* When every cost is the same: the largest k such that every step's needs all rank in
     * an earlier block of 2**k ranks than its own (blocks [t * 2**k, (t + 1) * 2**k)); -1
     * when there is none (some need ranks after its step). See BLOCKS at SCHEDULE_TICKS. */
    int block_log;
} Plan;

static const char *PLAN = "serialscale.schedule_plan";

static void plan_release(Plan *p) {
    if (!p) return;
    free(p->first);
    free(p->succ_idx);
    free(p->duration);
    free(p->positive);
    free(p->indegree);
    free(p->ready0);
    free(p->wait1);
    free(p->ready1);
    free(p->level_end);
    free(p);
}

static void plan_free(PyObject *capsule) {
    plan_release(PyCapsule_GetPointer(capsule, PLAN));
}

enum { PLAN_OK, PLAN_BAD, PLAN_VALUES, PLAN_TOO_MANY, PLAN_COUNTS, PLAN_MEMORY };

/* The levels of a plan whose ranks are a topological order and whose every cost is 0 or
 * `unit` (the struct's comment), with `scratch` for n int32; leaves `levelled` 0 when the
 * levels increase somewhere along the ranks. -1 when out of memory. */
static int plan_levels(Plan *plan, int32_t *scratch) {
    Py_ssize_t n = plan->n;
    int32_t *level = scratch;
    const uint32_t *first = plan->first;
    const int32_t *sidx = plan->succ_idx;
    for (Py_ssize_t r = n - 1; r >= 0; r--) { /* successors rank after: already known */
        int32_t best = 0;
        for (uint32_t k = first[r]; k < first[r + 1]; k++)
            if (level[sidx[k]] > best) best = level[sidx[k]];
        level[r] = best + plan->positive[r];
    }
    for (Py_ssize_t r = 1; r < n; r++)
        if (level[r] > level[r - 1]) return 0;
    int64_t depth = level[0];
    uint32_t *end = calloc((size_t)depth + 1, sizeof(uint32_t));
    if (!end) return -1;
    for (Py_ssize_t r = 0; r < n; r++) end[depth - level[r]]++; /* the size of each level */
    int64_t peak = 0, sum = 0;
    for (int64_t j = 0; j <= depth; j++) {
        if (end[j] > peak) peak = end[j];
        sum += end[j];
        end[j] = (uint32_t)sum;
    }
    plan->level_end = end;
    plan->depth = depth;
    plan->level_peak = peak;
    plan->levelled = 1;
    return 0;
}

/* The level of rank r (a levelled plan): depth - the first j whose block ends after r. */
static inline int64_t plan_level(const Plan *plan, int64_t r) {
    const uint32_t *end = plan->level_end;
    int64_t lo = 0, hi = plan->depth; /* end[depth] == n > r */
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if ((int64_t)end[mid] > r) hi = mid;
        else lo = mid + 1;
    }
    return plan->depth - lo;
}

/* The ticks every tick schedule on 2 processors or more starts with, when every step lasts
 * the same (every cost the same and > 0: so with any overhead too): while at most 2 steps
 * are ready at a tick's start, every such schedule starts them all, so all of them are in
 * the same state at the end of it (a long chain before the rest, such as a sum computed
 * before the values are normalized by it). The state after those ticks is kept in the plan
 * for makespan to start from. -1 when out of memory. */
static int plan_prefix(Plan *plan, int narrow) {
    Py_ssize_t n = plan->n, words = bits_size(n), count = 0;
    for (Py_ssize_t w = 0; w < (n + 63) / 64; w++)
        count += bit_count(plan->ready0[w]);
    if (count > 2) return 0;
    size_t width = narrow ? sizeof(uint8_t) : sizeof(int32_t);
    void *waiting = malloc(width * n);
    uint64_t *bits = malloc(sizeof(uint64_t) * words);
    if (!waiting || !bits) {
        free(waiting);
        free(bits);
        return -1;
    }
    memcpy(waiting, plan->indegree, width * n);
    memcpy(bits, plan->ready0, sizeof(uint64_t) * words);
    Bits ready;
    bits_on(&ready, n, bits, plan->low0);
    uint8_t *w8 = waiting;
    int32_t *w32 = waiting;
    int64_t ticks = 0, started = 0;
    while (count > 0 && count <= 2) { /* all ready start, all end at the tick's end */
        int32_t step[2];
        for (Py_ssize_t j = 0; j < count; j++) step[j] = (int32_t)bits_pop_min(&ready);
        Py_ssize_t taken = count;
        count = 0;
        for (Py_ssize_t j = 0; j < taken; j++)
            for (uint32_t k = plan->first[step[j]]; k < plan->first[step[j] + 1]; k++) {
                int32_t s = plan->succ_idx[k];
                if (narrow ? --w8[s] == 0 : --w32[s] == 0) {
                    bits_add(&ready, s);
                    count++;
                }
            }
        ticks++;
        started += taken;
    }
    if (ticks == 0) { /* nothing shared */
        free(waiting);
        free(bits);
        return 0;
    }
    plan->wait1 = waiting;
    plan->ready1 = bits;
    plan->low1 = ready.low;
    plan->prefix_ticks = ticks;
    plan->prefix_started = started;
    return 0;
}

/* The plan of n steps from checked buffers, without the GIL: PLAN_OK with *out set, or
 * what is wrong (PLAN_BAD: in *bad). */
static int build_plan(const double *prio, const double *cost, const int64_t *pptr,
                      const int64_t *sptr, const int64_t *sidx, Py_ssize_t n, Py_ssize_t m_len,
                      Bad *bad, Plan **out) {
    if (scan_ptr(pptr, n, INT64_MAX, "pred_ptr", bad) < 0 ||
        scan_csr(sptr, sidx, n, m_len, "succ_ptr", "succ_idx", bad) < 0)
        return PLAN_BAD;
    Py_ssize_t m = sptr[n], cap = n > 0 ? n : 1;
    /* the costs' figures in the same pass as their check */
    double max_cost = 0.0, min_cost = n > 0 ? cost[0] : 0.0, min_positive = HUGE_VAL;
    double unit = 0.0;
    int integral = 1, two_valued = 1, good = 1;
    Py_ssize_t positives = 0;
    /* and whether the priorities are whole numbers in a small range (see the ranks) */
    double top_prio = 0.0, limit = 4.0 * (double)n + 65536.0;
    int whole = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        double c = cost[i], p = prio[i];
        /* tests folded with & (no branch per step until the end) */
        good &= (c >= 0.0) & (c < HUGE_VAL) & (p >= 0.0) & (p < HUGE_VAL);
        max_cost = c > max_cost ? c : max_cost;
        min_cost = c < min_cost ? c : min_cost;
        positives += c > 0.0;
        if (c > 0.0) {
            if (c < min_positive) min_positive = c;
            if (unit == 0.0) unit = c;
            else if (c != unit) two_valued = 0;
        }
        /* whole numbers below 2**53 only (a larger double is not cast: it would overflow) */
        double small = (c >= 0.0) & (c < 9007199254740992.0) ? c : 0.5;
        integral &= small == (double)(int64_t)small;
        double q = (p >= 0.0) & (p <= limit) ? p : 0.5; /* cast only what fits */
        whole &= q == (double)(int64_t)q;
        top_prio = p > top_prio ? p : top_prio;
    }
    if (!good) return PLAN_VALUES;
    if (n >= INT32_MAX || m >= INT32_MAX) return PLAN_TOO_MANY;
    int code = PLAN_OK;
    Plan *plan = NULL;
    uint64_t *sort_key = NULL;
    int32_t *sorted = NULL, *rank = NULL;
    /* Each step's count of needs must be the number of successor entries naming it: the
     * schedule counts those entries down to zero, so a step named more often than its
     * count would be started twice (and a one-byte count wrap around, forever). */
    rank = calloc(cap, sizeof(int32_t)); /* the counts first; the ranks later */
    if (!rank) return PLAN_MEMORY;
    for (Py_ssize_t k = 0; k < m; k++) rank[sidx[k]]++;
    int32_t top = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (pptr[i + 1] - pptr[i] != (int64_t)rank[i]) {
            free(rank);
            return PLAN_COUNTS;
        }
        if (rank[i] > top) top = rank[i];
    }
    int narrow = top <= 255;
    plan = calloc(1, sizeof(Plan));
    sorted = malloc(sizeof(int32_t) * cap);
    int lost = !plan || !sorted;
    if (plan) {
        plan->n = n;
        plan->first = malloc(sizeof(uint32_t) * (n + 1));
        plan->succ_idx = malloc(sizeof(int32_t) * (m > 0 ? m : 1));
        if (two_valued) plan->positive = malloc(cap);
        else plan->duration = malloc(sizeof(double) * cap);
        plan->indegree = malloc((narrow ? sizeof(uint8_t) : sizeof(int32_t)) * cap);
        lost = lost || !plan->first || !plan->succ_idx || !plan->indegree ||
               (two_valued ? !plan->positive : !plan->duration);
    }
    if (lost) {
        code = PLAN_MEMORY;
        goto done;
    }
    /* ranks: priority descending, ties by index. Whole-number priorities in a small
     * range (bottom levels of integer costs) are counted: a stable counting sort from
     * the highest down; any others are radix-sorted (the inverted bit patterns
     * ascending; the sort is stable and starts in index order). `whole` and `top_prio`
     * come from the costs' pass. */
    if (whole) {
        Py_ssize_t span = (Py_ssize_t)top_prio + 1;
        Py_ssize_t *at = calloc((size_t)span, sizeof(Py_ssize_t));
        if (!at) {
            code = PLAN_MEMORY;
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++) at[span - 1 - (Py_ssize_t)prio[i]]++;
        Py_ssize_t sum = 0;
        for (Py_ssize_t p = 0; p < span; p++) {
            Py_ssize_t c = at[p];
            at[p] = sum;
            sum += c;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            sorted[at[span - 1 - (Py_ssize_t)prio[i]]++] = (int32_t)i;
        free(at);
    } else {
        sort_key = malloc(sizeof(uint64_t) * cap);
        if (!sort_key) {
            code = PLAN_MEMORY;
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            sort_key[i] = ~time_bits(prio[i]);
            sorted[i] = (int32_t)i;
        }
        if (radix_sort(sort_key, sorted, n) < 0) {
            code = PLAN_MEMORY;
            goto done;
        }
    }
    for (Py_ssize_t r = 0; r < n; r++) rank[sorted[r]] = (int32_t)r;
    uint8_t *in8 = narrow ? plan->indegree : NULL;
    int32_t *in32 = narrow ? NULL : plan->indegree;
    int topological = 1;
    /* the latest rank among each rank's needs (-1: none), for block_log */
    int32_t *last_need = NULL;
    plan->block_log = -1;
    if (n > 0 && min_cost == max_cost) {
        last_need = malloc(sizeof(int32_t) * n);
        if (!last_need) {
            code = PLAN_MEMORY;
            goto done;
        }
        memset(last_need, 0xff, sizeof(int32_t) * n); /* all -1 */
    }
    /* The steps are visited in index order and written at their ranks (ranks scatter the
     * steps far apart: reading the step arrays in rank order missed the cache on each): the
     * counts of successors per rank first, their offsets, then each successor list at its
     * rank's offset, in the order the step lists them. */
    uint32_t *first = plan->first;
    first[0] = 0;
    for (Py_ssize_t v = 0; v < n; v++) {
        int32_t r = rank[v];
        int32_t in = (int32_t)(pptr[v + 1] - pptr[v]);
        if (narrow) in8[r] = (uint8_t)in;
        else in32[r] = in;
        if (plan->duration) plan->duration[r] = cost[v];
        else plan->positive[r] = cost[v] > 0.0;
        first[r + 1] = (uint32_t)(sptr[v + 1] - sptr[v]);
    }
    for (Py_ssize_t r = 0; r < n; r++) first[r + 1] += first[r];
    for (Py_ssize_t v = 0; v < n; v++) {
        int32_t r = rank[v];
        int32_t *out = plan->succ_idx + first[r];
        for (int64_t k = sptr[v]; k < sptr[v + 1]; k++) {
            int32_t w = rank[sidx[k]];
            topological &= w > r;
            *out++ = w;
            if (last_need && last_need[w] < r) last_need[w] = r;
        }
    }
    if (last_need && topological) { /* (else no block order: block_log stays -1) */
        /* needs of rank r all in an earlier block of 2**k ranks than r's own: last_need[r]
         * >> k < r >> k, which holds exactly for the k up to the highest bit where r and
         * last_need[r] differ (r has it: last_need[r] < r, the ranks being topological) */
        int log = 62;
        for (Py_ssize_t r = 0; r < n; r++) {
            int32_t x = last_need[r];
            if (x >= 0) { /* (-1: needs nothing) */
                int high = highest_bit((uint64_t)(x ^ (int32_t)r));
                if (high < log) log = high;
            }
        }
        plan->block_log = log;
    }
    free(last_need);
    plan->unit = unit;
    plan->max_indegree = top;
    plan->max_cost = max_cost;
    plan->min_cost = min_cost;
    plan->min_positive = min_positive;
    plan->integral = integral;
    plan->positives = positives;
    /* the ranks ready at the start, as a bitset's words (64 counts tested per word) */
    Bits start;
    plan->ready0 = bits_init(&start, n);
    if (!plan->ready0) {
        code = PLAN_MEMORY;
        goto done;
    }
    start.low = -1;
    for (Py_ssize_t base = 0; base < n; base += 64) {
        uint64_t word = 0;
        Py_ssize_t end = base + 64 < n ? base + 64 : n;
        for (Py_ssize_t r = base; r < end; r++)
            word |= (uint64_t)(narrow ? in8[r] == 0 : in32[r] == 0) << (r - base);
        if (!word) continue;
        int64_t x = base >> 6;
        if (start.low < 0) start.low = x; /* the first word not empty */
        start.word[0][x] = word;
        for (int l = 1; l < start.levels; l++, x >>= 6)
            start.word[l][x >> 6] |= 1ULL << (x & 63);
    }
    if (start.low < 0) start.low = 0;
    plan->low0 = start.low;
    if (plan->positive && topological && n > 0 && plan_levels(plan, rank) < 0) {
        code = PLAN_MEMORY;
        goto done;
    }
    if (n > 0 && min_cost > 0.0 && min_cost == max_cost && plan_prefix(plan, narrow) < 0) {
        code = PLAN_MEMORY;
        goto done;
    }
    *out = plan;
    plan = NULL;
done:
    plan_release(plan);
    free(sort_key);
    free(sorted);
    free(rank);
    return code;
}

/* schedule_plan(priority, costs, pred_ptr, succ_ptr, succ_idx) -> plan (a capsule). The
 * checks and the plan are made without the GIL (the report's other passes run meanwhile). */
PyObject *k_schedule_plan(PyObject *self, PyObject *args) {
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    Buf b[5] = {0};
    Plan *plan = NULL;
    PyObject *capsule = NULL;
    if (get_buf(o[0], &b[0], 'd', 0, "priority") < 0) goto done;
    Py_ssize_t n = LEN(b[0]);
    if (get_buf(o[1], &b[1], 'd', n, "costs") < 0) goto done;
    if (get_buf(o[2], &b[2], 'q', n + 1, "pred_ptr") < 0) goto done;
    if (get_buf(o[3], &b[3], 'q', n + 1, "succ_ptr") < 0) goto done;
    if (get_buf(o[4], &b[4], 'q', 0, "succ_idx") < 0) goto done;
    Bad bad = {0};
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = build_plan(F64(b[0]), F64(b[1]), I64(b[2]), I64(b[3]), I64(b[4]), n, LEN(b[4]), &bad,
                      &plan);
    Py_END_ALLOW_THREADS
    switch (code) {
    case PLAN_OK:
        capsule = PyCapsule_New(plan, PLAN, plan_free);
        if (capsule) plan = NULL; /* the capsule owns it now */
        break;
    case PLAN_BAD:
        raise_bad(&bad);
        break;
    case PLAN_VALUES:
        PyErr_SetString(PyExc_ValueError,
                        "schedule_plan: costs and priorities must be finite and >= 0");
        break;
    case PLAN_TOO_MANY:
        PyErr_SetString(PyExc_OverflowError, "too many steps for a schedule plan");
        break;
    case PLAN_COUNTS:
        PyErr_SetString(PyExc_ValueError, "schedule_plan: pred_ptr's counts of needs do not "
                                          "match the successor lists");
        break;
    default:
        PyErr_NoMemory();
    }
done:
    plan_release(plan);
    release(b, 5);
    return capsule;
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

/* Step v has completed: each successor waits for one step fewer, and is ready at none. */
#define RELEASE_SUCCESSORS(V)                                                               \
    do {                                                                                    \
        const int32_t *s_ = sidx + first[V], *end_ = sidx + first[(V) + 1];                 \
        for (; s_ < end_; s_++)                                                             \
            if (--waiting[*s_] == 0) bits_add(&ready, *s_);                                 \
    } while (0)

/* The start phase: while a processor is free and a step is ready, start the ready step of
 * lowest rank; START starts step v (its duration d > 0), which then holds a processor, and a
 * step of duration 0 (ZEROS: there may be some) completes at once: its successors may be
 * ready right now. */
#define START_PHASE(START, ZEROS)                                                           \
    while (free_procs > 0 && !bits_empty(&ready)) {                                         \
        int32_t v = (int32_t)bits_pop_min(&ready);                                          \
        double d = (duration ? duration[v] : positive[v] ? unit : 0.0) + extra;            \
        if (!(ZEROS) || d != 0.0) {                                                         \
            START;                                                                          \
            free_procs--;                                                                   \
        } else {                                                                            \
            RELEASE_SUCCESSORS(v);                                                          \
        }                                                                                   \
    }

#define INIT_WAITING(WT)                                                                    \
    WT *waiting = (WT *)counts; /* the plan's counts are of this type too */                 \
    memcpy(waiting, prefix ? plan->wait1 : plan->indegree, sizeof(WT) * n);

/* The list schedule itself, for a waiting-count type WT (one byte when no step needs more
 * than 255 others: the counts are read at random, so smaller is faster) and a running set
 * RUN of kind KIND (heap_run or ring_run). */
#define SCHEDULE(WT, KIND, RUN, ZEROS)                                                      \
    do {                                                                                    \
        INIT_WAITING(WT)                                                                    \
        Py_ssize_t free_procs = processors;                                                 \
        for (;;) {                                                                          \
            START_PHASE(KIND##_push(RUN, now + d, v), ZEROS)                                \
            if (KIND##_empty(RUN)) break;                                                   \
            now = KIND##_next(RUN, now);                                                    \
            for (int64_t v; (v = KIND##_take(RUN, now)) >= 0;) {                            \
                free_procs++;                                                               \
                RELEASE_SUCCESSORS(v);                                                      \
            }                                                                               \
        }                                                                                   \
    } while (0)

/* The same schedule when every step that lasts at all lasts the same time u (unit costs
 * above all: a traced run's operations, some of cost 0). Steps then start only at multiples
 * of u, and all the steps running finish together at the next one: a step started at time t
 * finishes at t + u, the next event, when every step started at t ends, so none is left
 * running across an event. So the schedule goes tick by tick: the start phase, then every
 * step started ends (in the order they started: the order of completions at one instant
 * does not matter, all complete before anything new starts), and the time advances by u
 * (now + u, as SCHEDULE computes each finish time: the same doubles). No running set.
 *
 * Every tick but the last starts a step that lasts (else nothing is ready and nothing
 * runs). With a levelled plan (see Plan; "level" counts the steps that last on the longest
 * path from a step, so lasting steps for u, and the ranks are in topological order with
 * the levels never increasing), two shortcuts, both exact:
 *
 * (a) At a tick's start, let L be the steps that last and have not started, and D the
 * level of the lowest ready rank, the highest level of a ready step (levels never increase
 * along the ranks), which is the longest path left (every step left descends from a ready
 * one). If L - D < processors, exactly D more ticks remain. At least D: a path of D
 * lasting steps takes a tick each. At most D: a tick with a processor left free empties
 * the ready set (steps of duration 0 released in it are taken too), so it starts the first
 * lasting step of every longest path left, and the longest path left shortens by 1: there
 * are e <= D such ticks; every other tick starts `processors` steps (f of them), and each
 * tick starts at least one, so f * processors + e <= L. With f >= 1 the ticks left are
 * f + e <= e + (L - e) / processors < e + (processors + D - e) / processors <= D + 1.
 * D never grows (a step released has a lower level than the one that released it), so
 * while L - (the D last found) >= processors, D is not looked for again.
 *
 * (b) When no level holds more than `processors` ranks, the schedule takes `depth` ticks
 * (at least: the longest path). Step s can start no later than tick depth - level(s) for
 * that; by induction on the tick t, every step of level depth - t is taken at tick t or
 * before. Its needs have higher levels (a lasting need), started before t and so finished,
 * or the same level (a need of duration 0): steps taken at t or before, ranked lower
 * (topological order). Every step still waiting at t has level <= depth - t (induction),
 * so the steps of level depth - t hold the lowest ranks left and are taken first, in rank
 * order, each released by its same-level needs before its turn; there are at most
 * `processors` of them, so the start phase never runs out of processors before the last.
 * The callers' bottom levels are such priorities: that is the speedup table's common case,
 * which (b) answers without simulating (a graph of many independent chains of equal
 * length, say) and (a) shortens (a long chain left once the rest is done).
 *
 * BLOCKS (c): when every step lasts u (every cost the same, none lasting 0), P = 2**k
 * processors with k <= the plan's block_log, the schedule takes ceil(n / P) ticks, tick t
 * starting exactly the ranks [t * P, (t + 1) * P) (any plan: no levels needed). By
 * induction on t: at tick t's start the ranks below t * P have started, each at tick t - 1
 * or before, so all have finished (they last one tick), and no other rank has started.
 * Every rank r of block t has its needs at ranks <= last_need[r], and last_need[r] >> k <
 * r >> k = t means last_need[r] < t * P: all finished, so r is ready. These are the lowest
 * ranks not started, at most P of them, so the start phase takes exactly them (and, when
 * fewer than P are left, nothing else: none is). Traced arithmetic (a stencil, a matrix
 * product, Horner's rule over many points) has this shape for every P below its width:
 * block_log is found once per plan, in the pass that renumbers the successors. */
#define SCHEDULE_TICKS(WT, ZEROS)                                                           \
    do {                                                                                    \
        INIT_WAITING(WT)                                                                    \
        for (;;) {                                                                          \
            Py_ssize_t free_procs = processors, started_count = 0;                          \
            START_PHASE(started[started_count++] = v, ZEROS)                                \
            if (started_count == 0) break; /* nothing ready, nothing running */             \
            now += uniform;                                                                 \
            for (Py_ssize_t j = 0; j < started_count; j++) {                                \
                int32_t v = started[j];                                                     \
                RELEASE_SUCCESSORS(v);                                                      \
            }                                                                               \
            left -= started_count;                                                          \
            if (levels && left - rest < processors && !bits_empty(&ready)) {                \
                rest = plan_level(plan, bits_min(&ready)); /* (a) */                        \
                if (left - rest < processors) {                                             \
                    for (int64_t t = 0; t < rest; t++) now += uniform;                      \
                    break;                                                                  \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    } while (0)

/* makespan(plan, processors, extra) -> float
 * The critical-path-first list schedule of schedule.list_schedule_makespan. */
PyObject *k_makespan(PyObject *self, PyObject *args) {
    PyObject *capsule;
    Py_ssize_t processors;
    double extra;
    if (!PyArg_ParseTuple(args, "Ond", &capsule, &processors, &extra)) return NULL;
    Plan *plan = PyCapsule_GetPointer(capsule, PLAN);
    if (!plan) return NULL;
    if (processors < 1 || !(extra >= 0.0 && extra < HUGE_VAL)) {
        PyErr_SetString(PyExc_ValueError,
                        "makespan: processors must be >= 1 and extra finite and >= 0");
        return NULL;
    }
    Py_ssize_t n = plan->n;
    if (n == 0) return PyFloat_FromDouble(0.0);
    double now = 0.0;
    const uint32_t *first = plan->first;
    const double *duration = plan->duration, unit = plan->unit;
    const uint8_t *positive = plan->positive;
    const int32_t *sidx = plan->succ_idx;
    int narrow = plan->max_indegree <= 255;
    double longest = plan->max_cost + extra;
    int ring = plan->integral && longest < RING_MAX && extra == (double)(int64_t)extra;
    int64_t buckets = 64;
    while (ring && buckets <= (int64_t)longest) buckets <<= 1;
    Py_ssize_t cap = processors < n ? (processors > 0 ? processors : 1) : n;
    /* One duration u > 0 for every step that lasts at all (then SCHEDULE_TICKS): with an
     * overhead, every step lasts cost + extra > 0, so every cost must be the same; without,
     * steps of cost 0 last 0 and the others must all cost the same. */
    double uniform = 0.0;
    if (extra > 0.0 && plan->min_cost == plan->max_cost) uniform = plan->max_cost + extra;
    if (extra == 0.0 && plan->max_cost > 0.0 && plan->min_positive == plan->max_cost)
        uniform = plan->max_cost;
    if (uniform != 0.0) ring = 0;
    int zeros = extra == 0.0 && plan->min_cost == 0.0; /* some step lasts 0 */
    /* the plan's levels count the steps that last: with an overhead, every step lasts, so
     * they hold only when every cost is > 0 */
    int levels = uniform != 0.0 && plan->levelled && (extra == 0.0 || plan->min_cost > 0.0);
    if (levels && processors >= plan->level_peak) { /* (b) at SCHEDULE_TICKS */
        for (int64_t t = 0; t < plan->depth; t++) now += uniform;
        return PyFloat_FromDouble(now);
    }
    if (uniform != 0.0 && !zeros && plan->block_log >= 0 && (processors & (processors - 1)) == 0 &&
        highest_bit((uint64_t)processors) <= plan->block_log) {
        /* (c), BLOCKS at SCHEDULE_TICKS: every tick starts the next block of ranks (P <=
         * 2**62 here, as block_log <= 62: n + P - 1 does not overflow) */
        for (Py_ssize_t t = 0; t < (n + processors - 1) / processors; t++) now += uniform;
        return PyFloat_FromDouble(now);
    }
    Py_ssize_t left = extra > 0.0 ? n : plan->positives; /* lasting steps not started */
    /* the highest level of a ready step, as last found (it never grows: a step released
     * has a lower level than the step that released it), so only when L - rest falls
     * below the processors is it worth finding again */
    int64_t rest = levels ? plan->depth : 0;
    void *counts = malloc((narrow ? sizeof(uint8_t) : sizeof(int32_t)) * n);
    Heap heap = {ring || uniform != 0.0 ? NULL : malloc(sizeof(Entry) * cap), 0};
    int32_t *started = uniform != 0.0 ? malloc(sizeof(int32_t) * cap) : NULL;
    Ring rng = {NULL, NULL, NULL, buckets - 1, 0};
    if (ring) {
        rng.head = malloc(sizeof(int32_t) * buckets);
        rng.next = malloc(sizeof(int32_t) * n);
        rng.bits = calloc(buckets / 64, sizeof(uint64_t));
        if (rng.head) memset(rng.head, 0xff, sizeof(int32_t) * buckets); /* all -1 */
    }
    /* the ticks shared by every count of 2 and more done already (plan_prefix): from the
     * state after them (the time as SCHEDULE_TICKS adds it up) */
    int prefix = uniform != 0.0 && processors >= 2 && plan->prefix_ticks > 0;
    if (prefix) {
        for (int64_t t = 0; t < plan->prefix_ticks; t++) now += uniform;
        left -= plan->prefix_started;
    }
    Bits ready; /* the steps that need none, from the plan, or those after the prefix */
    Py_ssize_t words = bits_size(n);
    uint64_t *bits = malloc(sizeof(uint64_t) * words);
    if (bits) {
        memcpy(bits, prefix ? plan->ready1 : plan->ready0, sizeof(uint64_t) * words);
        bits_on(&ready, n, bits, prefix ? plan->low1 : plan->low0);
    }
    int oom = !counts || !bits ||
              (uniform != 0.0 ? !started
                              : ring ? !rng.head || !rng.next || !rng.bits : !heap.e);
    if (!oom) {
        Py_BEGIN_ALLOW_THREADS
        /* each case compiled on its own: the loops test no flag (ZEROS 0: the start phase
         * never tests for a step of duration 0) */
        if (uniform != 0.0 && narrow && zeros) SCHEDULE_TICKS(uint8_t, 1);
        else if (uniform != 0.0 && narrow) SCHEDULE_TICKS(uint8_t, 0);
        else if (uniform != 0.0 && zeros) SCHEDULE_TICKS(int32_t, 1);
        else if (uniform != 0.0) SCHEDULE_TICKS(int32_t, 0);
        else if (ring && narrow) SCHEDULE(uint8_t, ring_run, &rng, zeros);
        else if (ring) SCHEDULE(int32_t, ring_run, &rng, zeros);
        else if (narrow) SCHEDULE(uint8_t, heap_run, &heap, zeros);
        else SCHEDULE(int32_t, heap_run, &heap, zeros);
        Py_END_ALLOW_THREADS
    }
    free(counts);
    free(started);
    free(heap.e);
    free(rng.head);
    free(rng.next);
    free(rng.bits);
    free(bits);
    if (oom) return PyErr_NoMemory();
    return PyFloat_FromDouble(now);
}
