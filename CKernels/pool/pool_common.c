#include "pool_internal.h"

int ck_pool_check(const ck_pool_desc *d, const float *x, int64_t x_count, const float *y, int64_t y_count) {
    if (!d || ck_window_check(&d->g) != CK_OK || d->batch < 0 || d->channels < 0) return CK_ERR_ARGUMENT;
    if (d->spatial_rank < 1 || d->spatial_rank > 3 || (d->column_major && d->spatial_rank != 2)) return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++)
        if (d->pad_end[a] < -((int64_t)1 << 60) || d->pad_end[a] > ((int64_t)1 << 60)) return CK_ERR_ARGUMENT;
    const int64_t planes = ck_mul(d->batch, d->channels);
    if (planes < 0 || ck_mul(planes, ck_prod3(d->g.in)) != x_count || ck_mul(planes, ck_prod3(d->g.out)) != y_count)
        return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (y_count && !y)) return CK_ERR_ARGUMENT;
    return CK_OK;
}

int64_t ck_axis_count(int64_t o, int64_t s, int64_t pad, int64_t K, int64_t d, int64_t lo_bound, int64_t hi_bound) {
    // lo_bound <= o*s - pad + k*d < hi_bound
    const int64_t base = o * s - pad;
    int64_t kmin = base >= lo_bound ? 0 : (lo_bound - base + d - 1) / d;
    int64_t kmax = ck_floordiv(hi_bound - 1 - base, d);  // inclusive
    kmax = ck_min(kmax, K - 1);
    return kmax >= kmin ? kmax - kmin + 1 : 0;
}

int ck_pool_is_global(const ck_window *g) {
    int global = 1;
    for (int a = 0; a < 3; a++)
        global &= g->out[a] == 1 && g->kernel[a] == g->in[a] && g->pad[a] == 0 && g->dilation[a] == 1;
    return global;
}
