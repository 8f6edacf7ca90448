// LpPool: see ck_pool_sum_kernel.c.
#include <math.h>
#include "pool_internal.h"

int ck_lppool_ncx_f32(const ck_pool_desc *d, float p, const float *x, int64_t x_count, float *y, int64_t y_count,
                      int threads, int isa) {
    if (!(p > 0.0f) || isinf(p)) return CK_ERR_ARGUMENT;
    return ck_pool_sum_kernel(d, p == 1.0f ? CK_SUM_ABS : p == 2.0f ? CK_SUM_SQUARE : CK_SUM_POWER, p, 0, x, x_count, y, y_count, threads, isa);
}
