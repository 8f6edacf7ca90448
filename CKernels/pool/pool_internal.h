#ifndef CK_POOL_INTERNAL_H
#define CK_POOL_INTERNAL_H
#include "../common/ck_rows.h"

/// Output columns are processed in blocks of this many.
enum { CK_POOL_OWB = 512 };

/// Checks a pooling descriptor against the tensor counts.
int ck_pool_check(const ck_pool_desc *d, const float *x, int64_t x_count, const float *y, int64_t y_count);

/// Number of taps k in [0, K) along one axis with o*s - pad + k*d inside [lo_bound, hi_bound).
int64_t ck_axis_count(int64_t o, int64_t s, int64_t pad, int64_t K, int64_t d, int64_t lo_bound, int64_t hi_bound);

/// Whether every window is the whole plane (global pooling).
int ck_pool_is_global(const ck_window *g);

/// AveragePool (f = 0, divisor per count_include_pad) and LpPool (f = 1, 2, 3 for p = 1, 2, other).
int ck_pool_sum_kernel(const ck_pool_desc *d, int f, float p, int include_pad, const float *x, int64_t x_count,
                       float *y, int64_t y_count, int threads);

#endif
