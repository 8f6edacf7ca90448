// ConvTranspose as GEMM + col2im. Per (image, group): col [Mg·Πk, P_in] = W_gᵀ · X_g, then every column block is
// added into the output at o = i·s − pad + k·d. col is cut into column tiles of at most 4 MiB, shared by the team:
// the sgemm of a tile is split into fixed (row block, column block) pieces, then col2im is split by output channel,
// so every output element receives its terms in the same order whatever the thread count.
#include <limits.h>
#include <stdlib.h>
#include "conv_internal.h"

enum { COL_BYTES = 4 << 20, RB = 64, CB = 256 };

int ck_convtranspose_ncx_gemm_col2im_f32(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w,
                                         int64_t w_count, const float *bias, float *y, int64_t y_count, int threads) {
    int status = ck_conv_check(d, x, x_count, w, w_count, y, y_count, 1);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    const ck_window *g = &d->g;
    const int64_t N = d->batch, C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t KK = ck_prod3(g->kernel), R = Mg * KK, P = ck_prod3(g->in), OS = ck_prod3(g->out);
    ck_fill_bias(y, N, M, OS, bias, threads);
    if (P == 0 || Cg == 0) return CK_OK;
    if (R > INT_MAX || P > INT_MAX || Cg > INT_MAX || 4 * R > CK_WORKSPACE_LIMIT) return CK_ERR_ARGUMENT;
    const int64_t pt = ck_max(1, ck_min(P, COL_BYTES / (4 * R)));
    const int64_t ntiles = (P + pt - 1) / pt;
    float *col = malloc(sizeof(float) * (size_t)(R * pt));
    if (!col) return CK_ERR_NOMEM;
    // col2im sees the output as the image and the input as the grid of blocks.
    ck_window gt = *g;
    for (int a = 0; a < 3; a++) { gt.in[a] = g->out[a]; gt.out[a] = g->in[a]; }
    const int64_t rblocks = (R + RB - 1) / RB;

    // The team splits each step (two barriers per step): steps too small to share, e.g. 65536 images of a few
    // pixels, run on one thread rather than pay N·G·ntiles barrier waits.
    const int team = ck_team_for(threads, ck_min(ck_work3(x_count, R, 1), ck_work3(Cg + 1, R, pt)));
#pragma omp parallel num_threads(team)
    for (int64_t step = 0; step < N * G * ntiles; step++) {
        const int64_t tile = step % ntiles, ng = step / ntiles, n = ng / G, gi = ng % G;
        const int64_t p0 = tile * pt, p1 = ck_min(P, p0 + pt), pw = p1 - p0;
        const int64_t cblocks = (pw + CB - 1) / CB;
        const float *wg = w + gi * Cg * R;
        const float *xg = x + (n * C + gi * Cg) * P;
#pragma omp for schedule(static, 1)
        for (int64_t t = 0; t < rblocks * cblocks; t++) {
            const int64_t r0 = (t / cblocks) * RB, c0 = (t % cblocks) * CB;
            ck_sgemm(1, ck_min(RB, R - r0), ck_min(CB, pw - c0), Cg, wg + r0, R, xg + p0 + c0, P, 0.0f,
                     col + r0 * pw + c0, pw);
        }
#pragma omp for schedule(static)
        for (int64_t m = 0; m < Mg; m++)
            ck_col2im_add(&gt, col + m * KK * pw, pw, p0, p1, y + (n * M + gi * Mg + m) * OS);
    }
    free(col);
    return CK_OK;
}
