/* A traced step's needs as the recorder keeps them (trace/recorder.py `normalise`): shared by
 * the tracing hot path (tape.c) and the kernels that rewrite needs (graph.c). */
#ifndef SERIALSCALE_NEEDS_H
#define SERIALSCALE_NEEDS_H

#include <stdint.h>

/* The needs x, y, c in place: distinct steps (>= 0) first, in that order, then -1. */
static inline void normalise_needs(int64_t *x, int64_t *y, int64_t *c) {
    int64_t in[3] = {*x, *y, *c}, out[3] = {-1, -1, -1};
    int k = 0;
    for (int i = 0; i < 3; i++) {
        if (in[i] < 0) continue;
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= out[j] == in[i];
        if (!seen) out[k++] = in[i];
    }
    *x = out[0];
    *y = out[1];
    *c = out[2];
}

#endif
