// 1×1 convolution with stride 1 and no padding: per (image, group) the output [Mg, P] is W_g [Mg, Cg] times the
// input itself viewed as [Cg, P] (row stride P), so no copy is made. Column tiles (and output-channel blocks for
// small images) are fixed by the problem and shared out over the OpenMP team, one single-threaded sgemm each.
#include <limits.h>
#include "conv_internal.h"

enum { TILE = 256, MIN_TASKS = 8, MIN_MBLOCK = 32 };

int ck_conv_ncx_gemm1x1_f32(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w, int64_t w_count,
                            const float *bias, float *y, int64_t y_count, int threads) {
    int status = ck_conv_check(d, x, x_count, w, w_count, y, y_count, 0);
    if (status != CK_OK) return status;
    const ck_window *g = &d->g;
    for (int a = 0; a < 3; a++)
        if (g->kernel[a] != 1 || g->stride[a] != 1 || g->pad[a] != 0 || g->out[a] != g->in[a]) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;
    const int64_t N = d->batch, C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t P = ck_prod3(g->out);
    if (P > INT_MAX || Cg > INT_MAX) return CK_ERR_ARGUMENT;
    if (Cg == 0) {
        ck_fill_bias(y, N, M, P, bias, threads);
        return CK_OK;
    }
    // Flip mode changes nothing for a 1×1 kernel.
    int64_t ntiles = (P + TILE - 1) / TILE;
    int64_t pt = (P + ntiles - 1) / ntiles;
    pt = ck_min(P, (pt + 7) / 8 * 8);
    ntiles = (P + pt - 1) / pt;
    const int64_t base_tasks = N * G * ntiles;
    int64_t mblocks = 1;
    if (base_tasks < MIN_TASKS) mblocks = ck_max(1, ck_min((MIN_TASKS + base_tasks - 1) / base_tasks, Mg / MIN_MBLOCK));
    const int64_t mr = (Mg + mblocks - 1) / mblocks;
    mblocks = (Mg + mr - 1) / mr;
    const int64_t tasks = base_tasks * mblocks;

    int64_t next = 0;
#pragma omp parallel num_threads(ck_team_for(threads, ck_work3(y_count, Cg, 1)))
    CK_DYNAMIC_FOR(t, tasks, 1, next) {
        const int64_t mb = t % mblocks, tile = (t / mblocks) % ntiles, ng = t / (mblocks * ntiles);
        const int64_t n = ng / G, gi = ng % G;
        const int64_t p0 = tile * pt, p1 = ck_min(P, p0 + pt), m0 = mb * mr, m1 = ck_min(Mg, m0 + mr);
        float *yt = y + (n * M + gi * Mg + m0) * P + p0;
        if (bias)  // start at the bias and accumulate (beta = 1): no separate bias pass
            for (int64_t m = m0; m < m1; m++)
                for (int64_t p = 0; p < p1 - p0; p++) yt[(m - m0) * P + p] = bias[gi * Mg + m];
        ck_sgemm(0, m1 - m0, p1 - p0, Cg, w + (gi * Mg + m0) * Cg, Cg, x + (n * C + gi * Cg) * P + p0, P,
                 bias ? 1.0f : 0.0f, yt, P);
    }
    return CK_OK;
}
