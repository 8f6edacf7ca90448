// Padded, phase-split input rows: the shared front end of the sliding-window kernels (direct conv, pooling).
//
// For a block of output columns [ow0, ow0 + len), tap kw of output column ow reads input column
// j = ow*s + kw*d - p. The builder copies the span of the input row those taps touch into a buffer, with `pad`
// where j lies outside [0, IW) (0 for sums, -inf for max), split by stride phase, so that tap kw of block column i
// is tap(kw)[i]: every tap becomes a unit-stride vector. Only the phases some tap uses are stored.
#ifndef CK_ROWS_H
#define CK_ROWS_H
#include "ck_internal.h"

typedef struct ck_rowplan {
    int64_t s, d, p, KW, IW, owb;
    int64_t plen;    // stored length of each phase (enough for a block of owb columns)
    int64_t nslots;  // phases stored
    int64_t *slot;   // per kw: stored phase of its taps
    int64_t *shift;  // per kw: (kw*d) / s, its offset within the phase
    int64_t *phase;  // per slot: the phase r it holds
} ck_rowplan;

/// Plans rows along axis w of `g` for output blocks of at most `owb` columns. Returns CK_ERR_NOMEM on failure.
int ck_rowplan_init(ck_rowplan *rp, const ck_window *g, int64_t owb);
void ck_rowplan_free(ck_rowplan *rp);
/// Floats of row buffer one thread needs.
/// Most floats of phase rows ck_rowplan_init accepts (64 MiB per thread); beyond it, it declines.
enum { CK_ROWPLAN_MAX_FLOATS = 1 << 24 };
static inline int64_t ck_rowplan_floats(const ck_rowplan *rp) {
    const int64_t n = ck_mul(rp->nslots, rp->plen);
    return n < 0 ? INT64_MAX / 8 : ck_max(1, n);  // an impossible size makes the allocation fail cleanly
}


/// Tap kw of block column 0 (tap kw of block column i is at index i); `base` is what ck_row_build returned.
static inline const float *ck_row_tap(const ck_rowplan *rp, const float *base, int64_t kw) {
    return base + rp->slot[kw] * rp->plen + rp->shift[kw];
}

/// Entries [a, b) of one phase: input column j0 + u*s + r, or pad outside [lo, hi).
CK_INLINE void ck_fill_phase(float *dst, const float *row, int64_t j0, int64_t s, int64_t r, int64_t a, int64_t b,
                              int64_t lo, int64_t hi, float pad) {
    for (int64_t u = a; u < ck_min(lo, b); u++) dst[u] = pad;
    const int64_t c0 = ck_max(a, lo), c1 = ck_min(b, hi);
    if (c0 < c1) {
        const float *src = row + (j0 + c0 * s + r);  // the column of entry c0
        if (s == 1)
            for (int64_t u = 0; u < c1 - c0; u++) dst[c0 + u] = src[u];
        else
            for (int64_t u = 0; u < c1 - c0; u++) dst[c0 + u] = src[u * s];
    }
    for (int64_t u = ck_max(a, hi); u < b; u++) dst[u] = pad;
}

/// Prepares input row `row` for output columns [ow0, ow0 + len) and returns the base for ck_row_tap: `buf`
/// filled, or (stride 1, no padding needed) the row itself. Inlined into each kernel's hot worker.
CK_INLINE const float *ck_row_build(const ck_rowplan *rp, const float *row, int64_t ow0, int64_t len, float pad, float *buf) {
    const int64_t s = rp->s, IW = rp->IW, j0 = ow0 * s - rp->p;
    const int64_t n = len + (rp->KW - 1) * rp->d / s + 1;  // entries per phase this block reads (<= plen)
    if (s == 1 && j0 >= 0 && j0 + n <= IW) return row + j0;  // no padding: read the row in place
    if (s == 2 && rp->nslots == 2) {
        // Both phases (in either slot order): split pairs of columns in one pass where both are inside the row.
        float *e = buf + (rp->phase[0] == 0 ? 0 : rp->plen), *o = buf + (rp->phase[0] == 0 ? rp->plen : 0);
        int64_t lo0, hi0, lo1, hi1;
        ck_valid_range(n, IW, 2, j0, &lo0, &hi0);
        ck_valid_range(n, IW, 2, j0 + 1, &lo1, &hi1);
        const int64_t lo = ck_max(lo0, lo1), hi = ck_max(lo, ck_min(hi0, hi1));
        if (lo < hi) {
            const float *src = row + (j0 + 2 * lo);
            for (int64_t u = 0; u < hi - lo; u++) {
                e[lo + u] = src[2 * u];
                o[lo + u] = src[2 * u + 1];
            }
        }
        ck_fill_phase(e, row, j0, 2, 0, 0, lo, lo0, hi0, pad);
        ck_fill_phase(e, row, j0, 2, 0, hi, n, lo0, hi0, pad);
        ck_fill_phase(o, row, j0, 2, 1, 0, lo, lo1, hi1, pad);
        ck_fill_phase(o, row, j0, 2, 1, hi, n, lo1, hi1, pad);
        return buf;
    }
    for (int64_t sl = 0; sl < rp->nslots; sl++) {
        int64_t lo, hi;
        ck_valid_range(n, IW, s, j0 + rp->phase[sl], &lo, &hi);
        ck_fill_phase(buf + sl * rp->plen, row, j0, s, rp->phase[sl], 0, n, lo, hi, pad);
    }
    return buf;
}

#endif
