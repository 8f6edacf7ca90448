// im2col + GEMM. Per (image, group) the output [Mg, P] is W_g [Mg, K] · col [K, P] with K = Cg·Πk, P = Πout.
// col is never built whole: it is cut into column tiles (and, for very large K, row chunks) of about 512 KiB,
// each built by one thread into its own buffer and multiplied right away, so the workspace is at most
// threads × tile <= 16 MiB whatever the image size. Tiles depend only on the problem, never on the thread
// count, so the same sgemm calls happen for every team size.
#include <limits.h>
#include <stdlib.h>
#include "conv_internal.h"

enum { TILE_BYTES = 512 << 10, MIN_TILE = 32, KC_MAX = 16384, MIN_TASKS = 8, MIN_MBLOCK = 32 };

/// col[k - k0][p - p0] = x[c, o*s - pad + k*d] (0 outside the input) for rows [k0, k1), grid columns [p0, p1).
CK_HOT static
void ck_im2col_tile(const ck_window *g, const float *xg, int64_t k0, int64_t k1, int64_t p0, int64_t p1, float *col) {
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2], KK = KD * KH * KW, s = g->stride[2];
    const int64_t pw = p1 - p0;
    for (int64_t k = k0; k < k1; k++) {
        const int64_t c = k / KK, kr = k % KK, kd = kr / (KH * KW), kh = (kr / KW) % KH, kw = kr % KW;
        const float *xc = xg + c * ID * IH * IW;
        float *dst = col + (k - k0) * pw;
        const int64_t q = kw * g->dilation[2] - g->pad[2];
        int64_t lo, hi;
        ck_valid_range(OW, IW, s, q, &lo, &hi);
        for (int64_t p = p0; p < p1;) {
            const int64_t odh = p / OW, ow0 = p % OW, ow1 = ck_min(OW, ow0 + (p1 - p));
            const int64_t id = (odh / OH) * g->stride[0] - g->pad[0] + kd * g->dilation[0];
            const int64_t ih = (odh % OH) * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            const int64_t base = p - p0 - ow0;  // dst[base + ow] is the column of (od, oh, ow)
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                for (int64_t ow = ow0; ow < ow1; ow++) dst[base + ow] = 0.0f;
            } else {
                const float *row = xc + (id * IH + ih) * IW;
                const int64_t a = ck_max(ow0, ck_min(lo, ow1)), b = ck_max(a, ck_min(hi, ow1));
                for (int64_t ow = ow0; ow < a; ow++) dst[base + ow] = 0.0f;
                if (s == 1)
                    for (int64_t ow = a; ow < b; ow++) dst[base + ow] = row[ow + q];
                else
                    for (int64_t ow = a; ow < b; ow++) dst[base + ow] = row[ow * s + q];
                for (int64_t ow = b; ow < ow1; ow++) dst[base + ow] = 0.0f;
            }
            p += ow1 - ow0;
        }
    }
}

int ck_conv_ncx_im2col_gemm_f32(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w,
                                int64_t w_count, const float *bias, float *y, int64_t y_count, int threads) {
    int status = ck_conv_check(d, x, x_count, w, w_count, y, y_count, 0);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    const ck_window *g = &d->g;
    const int64_t N = d->batch, C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t K = Cg * ck_prod3(g->kernel), P = ck_prod3(g->out), IS = ck_prod3(g->in);
    if (K > INT_MAX || P > INT_MAX) return CK_ERR_ARGUMENT;
    if (K == 0) {
        ck_fill_bias(y, N, M, P, bias, threads);
        return CK_OK;
    }
    float *owned;
    const float *wt = ck_conv_weights(d, w, w_count, &owned);
    if (!wt) return CK_ERR_NOMEM;

    const int64_t kc = ck_min(K, KC_MAX);
    int64_t pt = ck_max(MIN_TILE, TILE_BYTES / (4 * kc));
    int64_t ntiles = (P + pt - 1) / pt;
    if (ntiles > 1) ntiles = (ntiles + 3) / 4 * 4;  // balanced for 1, 2 and 4 threads
    pt = (P + ntiles - 1) / ntiles;
    pt = ck_min(P, (pt + 7) / 8 * 8);
    ntiles = (P + pt - 1) / pt;
    int64_t mblocks = 1;
    const int64_t base_tasks = N * G * ntiles;
    if (base_tasks < MIN_TASKS) mblocks = ck_max(1, ck_min((MIN_TASKS + base_tasks - 1) / base_tasks, Mg / MIN_MBLOCK));
    const int64_t mr = (Mg + mblocks - 1) / mblocks;
    mblocks = (Mg + mr - 1) / mr;
    const int64_t tasks = base_tasks * mblocks;
    const int64_t tile_bytes = 4 * kc * pt;
    const int team = (int)ck_max(1, ck_min(ck_team(threads), ck_min(tasks, CK_WORKSPACE_LIMIT / tile_bytes)));

    int failed = 0;
#pragma omp parallel num_threads(team)
    {
        float *col = malloc((size_t)tile_bytes);
        if (!ck_team_failed(&failed, !col)) {
#pragma omp for schedule(static, 1)
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t mb = t % mblocks, tile = (t / mblocks) % ntiles, ng = t / (mblocks * ntiles);
                const int64_t n = ng / G, gi = ng % G;
                const int64_t p0 = tile * pt, p1 = ck_min(P, p0 + pt), m0 = mb * mr, m1 = ck_min(Mg, m0 + mr);
                const float *xg = x + (n * C + gi * Cg) * IS;
                float *yt = y + (n * M + gi * Mg + m0) * P + p0;
                for (int64_t k0 = 0; k0 < K; k0 += kc) {
                    const int64_t k1 = ck_min(K, k0 + kc);
                    ck_im2col_tile(g, xg, k0, k1, p0, p1, col);
                    ck_sgemm(0, m1 - m0, p1 - p0, k1 - k0, wt + (gi * Mg + m0) * K + k0, K, col, p1 - p0,
                             k0 == 0 ? 0.0f : 1.0f, yt, P);
                }
                if (bias)
                    for (int64_t m = m0; m < m1; m++) {
                        const float b = bias[gi * Mg + m];
                        float *row = yt + (m - m0) * P;
                        for (int64_t p = 0; p < p1 - p0; p++) row[p] += b;
                    }
            }
        }
        free(col);
    }
    free(owned);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
