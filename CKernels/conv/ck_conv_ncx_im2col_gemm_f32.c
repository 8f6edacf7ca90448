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

/// The tiling of one call: column tiles of width pt, row chunks of kc, output-channel blocks of mr, team size.
typedef struct {
    int64_t kc, pt, ntiles, mr, mblocks, tasks, tile_bytes;
    int team;
} im2col_plan;

static im2col_plan make_plan(const ck_conv_desc *d, int threads) {
    const int64_t Mg = d->out_channels / d->groups;
    const int64_t K = d->in_channels / d->groups * ck_prod3(d->g.kernel), P = ck_prod3(d->g.out);
    im2col_plan p;
    p.kc = ck_max(1, ck_min(K, KC_MAX));
    p.pt = ck_max(MIN_TILE, TILE_BYTES / (4 * p.kc));
    p.ntiles = (P + p.pt - 1) / p.pt;
    if (p.ntiles > 1) p.ntiles = (p.ntiles + 3) / 4 * 4;  // balanced for 1, 2 and 4 threads
    p.pt = (P + p.ntiles - 1) / p.ntiles;
    p.pt = ck_max(1, ck_min(P, (p.pt + 7) / 8 * 8));
    p.ntiles = (P + p.pt - 1) / p.pt;
    const int64_t base_tasks = d->batch * d->groups * p.ntiles;
    p.mblocks = 1;
    if (base_tasks < MIN_TASKS && base_tasks > 0)
        p.mblocks = ck_max(1, ck_min((MIN_TASKS + base_tasks - 1) / base_tasks, Mg / MIN_MBLOCK));
    p.mr = ck_max(1, (Mg + p.mblocks - 1) / p.mblocks);
    p.mblocks = (Mg + p.mr - 1) / p.mr;
    p.tasks = base_tasks * p.mblocks;
    p.tile_bytes = 4 * p.kc * p.pt;
    p.team = (int)ck_max(1, ck_min(ck_team(threads), ck_min(p.tasks, CK_WORKSPACE_LIMIT / p.tile_bytes)));
    return p;
}

int64_t ck_conv_ncx_im2col_gemm_workspace_f32(const ck_conv_desc *d, int threads) {
    if (!d || ck_window_check(&d->g) != CK_OK || d->groups < 1 || d->batch < 0 || d->in_channels < 0 ||
        d->out_channels < 0 || d->in_channels % d->groups || d->out_channels % d->groups)
        return -1;
    const im2col_plan p = make_plan(d, threads);
    return p.tasks == 0 ? 0 : (int64_t)p.team * p.tile_bytes;
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
    const im2col_plan pl = make_plan(d, threads);
    const int64_t kc = pl.kc, pt = pl.pt, ntiles = pl.ntiles, mr = pl.mr, mblocks = pl.mblocks;

    int failed = 0;
#pragma omp parallel num_threads(pl.team)
    {
        float *col = malloc((size_t)pl.tile_bytes);
        if (!ck_team_failed(&failed, !col)) {
#pragma omp for schedule(static, 1)
            for (int64_t t = 0; t < pl.tasks; t++) {
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
