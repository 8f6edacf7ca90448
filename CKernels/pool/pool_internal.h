#ifndef CK_POOL_INTERNAL_H
#define CK_POOL_INTERNAL_H
#include "../common/ck_internal.h"

/// Output columns are processed in blocks of this many.
enum { CK_POOL_OWB = 1024 };

/// Per-call tables for the taps along w. Output column ow reads input column ow*s + q[kw] for ow in
/// [lo[kw], hi[kw]). With stride s > 1 an input row is first split into s phases (phase r holds columns u*s + r)
/// so that every tap reads contiguously: column ow*s + q is phase r[kw] at u = ow + qd[kw].
typedef struct ck_row_taps {
    int64_t KW, s, OW, IW;
    int64_t *q, *lo, *hi, *qd, *r;
    int64_t ulo_off, uhi_off;  // u range of a block [ow0, ow1): [ow0 + ulo_off, ow1 + uhi_off) clipped
    int64_t nph, plen;         // phases stored and their length (per-thread buffer: nph * plen floats)
} ck_row_taps;

int ck_row_taps_init(ck_row_taps *t, const ck_window *g);
void ck_row_taps_free(ck_row_taps *t);

/// Splits `row` into phases for output columns [ow0, ow1); returns the u at which the buffer starts.
int64_t ck_row_split(const ck_row_taps *t, const float *row, int64_t ow0, int64_t ow1, float *ph);

/// Pointer to the input value of tap kw at output column `ow` (which must lie in [lo[kw], hi[kw])).
static inline const float *ck_row_tap(const ck_row_taps *t, const float *row, const float *ph, int64_t ulo,
                                      int64_t kw, int64_t ow) {
    if (t->s == 1) return row + (ow + t->q[kw]);
    return ph + t->r[kw] * t->plen + (ow + t->qd[kw] - ulo);
}

/// Checks a pooling descriptor against the tensor counts.
int ck_pool_check(const ck_pool_desc *d, const float *x, int64_t x_count, const float *y, int64_t y_count);

/// Number of taps k in [0, K) along one axis with o*s - pad + k*d inside [lo_bound, hi_bound).
int64_t ck_axis_count(int64_t o, int64_t s, int64_t pad, int64_t K, int64_t d, int64_t lo_bound, int64_t hi_bound);

/// Sums f(x) over the window taps inside the input for one block of an output row (f: 0 = x, 1 = |x|,
/// 2 = x², 3 = |x|^p), in row-major window order, into acc[0, len).
void ck_pool_sum_row(const ck_pool_desc *d, const ck_row_taps *t, const float *plane, int64_t od, int64_t oh,
                     int64_t ow0, int64_t len, int f, float p, float *acc, float *ph);

/// AveragePool (f = 0, divisor per count_include_pad) and LpPool (f = 1, 2, 3 for p = 1, 2, other).
int ck_pool_sum_kernel(const ck_pool_desc *d, int f, float p, int include_pad, const float *x, int64_t x_count,
                       float *y, int64_t y_count, int threads);

#endif
