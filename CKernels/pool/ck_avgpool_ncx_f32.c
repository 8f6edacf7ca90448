// AveragePool: see ck_pool_sum_kernel.c.
#include "pool_internal.h"

int ck_avgpool_ncx_f32(const ck_pool_desc *d, int count_include_pad, const float *x, int64_t x_count, float *y,
                       int64_t y_count, int threads, int isa) {
    return ck_pool_sum_kernel(d, CK_SUM_PLAIN, 1.0f, count_include_pad, x, x_count, y, y_count, threads, isa);
}
