// im2col + GEMM. Per (image, group) the output [Mg, P] is W_g [Mg, K] · col [K, P] with K = Cg·Πk, P = Πout.
// col is never built whole: it is cut into column tiles (and, for very large K, row chunks), so the workspace stays
// bounded (<= 16 MiB) whatever the image size. Two schedules:
// - many tiles: each task (image, group, tile) builds its tile in its thread's own buffer and multiplies it;
// - few tiles (small images, deep layers): the team builds one shared tile, then splits the GEMM by output-channel
//   blocks, so the copy is made once.
// Tiles and blocks depend only on the problem, never on the thread count, so the same sgemm calls happen for
// every team size and results are bitwise reproducible.
#include <limits.h>
#include <stdlib.h>
#include "conv_internal.h"

// Column tiles of about TILE_BYTES, but at least MIN_TILE columns so that sgemm's repacking of the weights is
// amortised; reductions longer than KC_MAX rows are split (tile <= 4 MiB). With fewer than MIN_TASKS tiles the
// GEMM is split into output-channel blocks of at least MIN_MBLOCK rows instead, and the shared tiles grow to
// SHARED_BYTES.
enum { TILE_BYTES = 1 << 20, MIN_TILE = 128, KC_MAX = 8192, MIN_TASKS = 4, MIN_MBLOCK = 32, SHARED_BYTES = 4 << 20 };

/// The tiling of one call: column tiles of width pt, row chunks of kc, output-channel blocks of mr, team size.
typedef struct {
    int64_t kc, pt, ntiles, mr, mblocks, tile_bytes;
    int team, shared;
} im2col_plan;

static im2col_plan make_plan(const ck_conv_desc *d, int threads) {
    const int64_t Mg = d->out_channels / d->groups;
    const int64_t K = d->in_channels / d->groups * ck_prod3(d->g.kernel), P = ck_prod3(d->g.out);
    im2col_plan p;
    p.kc = ck_max(1, ck_min(K, KC_MAX));
    p.pt = ck_min(ck_max(1, P), ck_max(MIN_TILE, TILE_BYTES / (4 * p.kc)));
    p.ntiles = (P + p.pt - 1) / p.pt;
    p.pt = ck_max(1, (P + ck_max(1, p.ntiles) - 1) / ck_max(1, p.ntiles));  // equal tiles
    p.tile_bytes = 4 * p.kc * p.pt;
    const int64_t tasks = d->batch * d->groups * p.ntiles;
    p.shared = tasks < MIN_TASKS && Mg >= 2 * MIN_MBLOCK;
    if (p.shared) {  // the team shares one tile at a time: make tiles as large as SHARED_BYTES allows
        p.pt = ck_max(1, ck_min(P, ck_max(p.pt, SHARED_BYTES / (4 * p.kc))));
        p.ntiles = (P + p.pt - 1) / p.pt;
        p.pt = ck_max(1, (P + p.ntiles - 1) / p.ntiles);
        p.tile_bytes = 4 * p.kc * p.pt;
    }
    p.mblocks = p.shared ? ck_min(MIN_TASKS, Mg / MIN_MBLOCK) : 1;
    p.mr = (Mg + p.mblocks - 1) / p.mblocks;
    p.mblocks = (Mg + p.mr - 1) / p.mr;
    const int team = ck_team_for(threads, ck_work3(d->batch * d->out_channels, P, K));
    p.team = p.shared ? team : (int)ck_max(1, ck_min(team, ck_min(tasks, CK_WORKSPACE_LIMIT / p.tile_bytes)));
    return p;
}

int64_t ck_conv_ncx_im2col_gemm_workspace_f32(const ck_conv_desc *d, int threads) {
    if (!d || ck_window_check(&d->g) != CK_OK || d->groups < 1 || d->batch < 0 || d->in_channels < 0 ||
        d->out_channels < 0 || d->in_channels % d->groups || d->out_channels % d->groups)
        return -1;
    // Products that overflow (ck_mul: -1) are invalid, not "non-empty": make_plan divides by tile counts.
    const int64_t outputs = ck_mul3(d->batch, d->out_channels, ck_prod3(d->g.out));
    if (outputs < 0 || ck_mul(d->in_channels / d->groups, ck_prod3(d->g.kernel)) < 0) return -1;
    if (outputs == 0) return 0;
    const im2col_plan p = make_plan(d, threads);
    return p.shared ? p.tile_bytes : (int64_t)p.team * p.tile_bytes;
}

/// Per-call geometry the tile builder needs: per kw, the output columns whose tap lies inside the input row.
typedef struct {
    const ck_window *g;
    const int64_t *lo, *hi;
} im2col_ctx;

/// col[k - k0][p - p0] = x[c, o*s - pad + k*d] (0 outside the input) for rows [k0, k1) and grid columns
/// [p0, p1); row k - k0 starts at col + (k - k0) * ld. `seg` is scratch for 3 * (p1 - p0) integers.
CK_HOT static
void ck_im2col_tile(const im2col_ctx *ctx, const float *xg, int64_t k0, int64_t k1, int64_t p0, int64_t p1,
                    int64_t ld, int64_t *seg, float *col) {
    const ck_window *g = ctx->g;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2], KK = KD * KH * KW, s = g->stride[2];
    // The tile's columns as output row segments: first input d and h of the window, ow0, ow1.
    int64_t nseg = 0;
    for (int64_t p = p0; p < p1; nseg++) {
        const int64_t odh = p / OW, ow0 = p % OW, ow1 = ck_min(OW, ow0 + (p1 - p));
        seg[4 * nseg] = (odh / OH) * g->stride[0] - g->pad[0];
        seg[4 * nseg + 1] = (odh % OH) * g->stride[1] - g->pad[1];
        seg[4 * nseg + 2] = ow0;
        seg[4 * nseg + 3] = ow1;
        p += ow1 - ow0;
    }
    int64_t c = k0 / KK, kr = k0 % KK, kd = kr / (KH * KW), kh = (kr / KW) % KH, kw = kr % KW;
    for (int64_t k = k0; k < k1; k++) {
        float *out = col + (k - k0) * ld;  // written front to back
        const float *xc = xg + c * ID * IH * IW;
        const int64_t q = kw * g->dilation[2] - g->pad[2], lo = ctx->lo[kw], hi = ctx->hi[kw];
        const int64_t dd = kd * g->dilation[0], dh = kh * g->dilation[1];
        for (int64_t i = 0; i < nseg; i++) {
            const int64_t id = seg[4 * i] + dd, ih = seg[4 * i + 1] + dh, ow0 = seg[4 * i + 2], ow1 = seg[4 * i + 3];
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                for (int64_t ow = ow0; ow < ow1; ow++) *out++ = 0.0f;
                continue;
            }
            const float *row = xc + (id * IH + ih) * IW;
            const int64_t a = ck_max(ow0, ck_min(lo, ow1)), b = ck_max(a, ck_min(hi, ow1));
            for (int64_t ow = ow0; ow < a; ow++) *out++ = 0.0f;
            if (s == 1) {
                const float *src = row + a + q;
                for (int64_t j = 0; j < b - a; j++) out[j] = src[j];
            } else {
                for (int64_t j = 0; j < b - a; j++) out[j] = row[(a + j) * s + q];
            }
            out += b - a;
            for (int64_t ow = b; ow < ow1; ow++) *out++ = 0.0f;
        }
        if (++kw == KW) {
            kw = 0;
            if (++kh == KH) {
                kh = 0;
                if (++kd == KD) { kd = 0; c++; }
            }
        }
    }
}

/// Starts a tile of the output at its bias (or 0), so every sgemm accumulates with beta = 1: no separate zeroing
/// pass inside sgemm and no bias pass after it.
static void init_tile(float *yt, int64_t rows, int64_t cols, int64_t ld, const float *bias) {
    for (int64_t m = 0; m < rows; m++) {
        const float b = bias ? bias[m] : 0.0f;
        for (int64_t p = 0; p < cols; p++) yt[m * ld + p] = b;
    }
}

int ck_conv_ncx_im2col_gemm_f32(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w,
                                int64_t w_count, const float *bias, float *y, int64_t y_count, int threads) {
    int status = ck_conv_check(d, x, x_count, w, w_count, y, y_count, 0);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    const ck_window *g = &d->g;
    const int64_t N = d->batch, C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t K = Cg * ck_prod3(g->kernel), P = ck_prod3(g->out), IS = ck_prod3(g->in), KW = g->kernel[2];
    if (K > INT_MAX || P > INT_MAX) return CK_ERR_ARGUMENT;
    if (K == 0) {
        ck_fill_bias(y, N, M, P, bias, threads);
        return CK_OK;
    }
    const im2col_plan pl = make_plan(d, threads);
    const int64_t kc = pl.kc, pt = pl.pt, ntiles = pl.ntiles, mr = pl.mr, mblocks = pl.mblocks;
    float *owned;
    const float *wt = ck_conv_weights(d, w, w_count, &owned);
    int64_t *ranges = malloc(sizeof(int64_t) * 2 * (size_t)KW);
    float *shared_col = pl.shared ? malloc((size_t)pl.tile_bytes) : NULL;
    if (!wt || !ranges || (pl.shared && !shared_col)) {
        free(owned); free(ranges); free(shared_col);
        return CK_ERR_NOMEM;
    }
    for (int64_t kw = 0; kw < KW; kw++)
        ck_valid_range(g->out[2], g->in[2], g->stride[2], kw * g->dilation[2] - g->pad[2], &ranges[kw], &ranges[KW + kw]);
    const im2col_ctx ctx = {g, ranges, ranges + KW};

    int failed = 0;
    int64_t next = 0;
#pragma omp parallel num_threads(pl.team)
    {
        float *col = pl.shared ? shared_col : malloc((size_t)pl.tile_bytes);
        int64_t *seg = malloc(sizeof(int64_t) * 4 * (size_t)pt);
        if (!ck_team_failed(&failed, !col || !seg)) {
            if (!pl.shared) {
                CK_DYNAMIC_FOR(t, N * G * ntiles, 1, next) {
                    const int64_t tile = t % ntiles, n = t / ntiles / G, gi = t / ntiles % G;
                    const int64_t p0 = tile * pt, p1 = ck_min(P, p0 + pt);
                    const float *xg = x + (n * C + gi * Cg) * IS;
                    float *yt = y + (n * M + gi * Mg) * P + p0;
                    init_tile(yt, Mg, p1 - p0, P, bias ? bias + gi * Mg : NULL);
                    for (int64_t k0 = 0; k0 < K; k0 += kc) {
                        const int64_t k1 = ck_min(K, k0 + kc);
                        ck_im2col_tile(&ctx, xg, k0, k1, p0, p1, p1 - p0, seg, col);
                        ck_sgemm(0, Mg, p1 - p0, k1 - k0, wt + gi * Mg * K + k0, K, col, p1 - p0, 1.0f, yt, P);
                    }
                }
            } else {
                // Shared tile: the team builds it (rows split), then multiplies it (output-channel blocks).
                for (int64_t step = 0; step < N * G * ntiles; step++) {
                    const int64_t tile = step % ntiles, n = step / ntiles / G, gi = step / ntiles % G;
                    const int64_t p0 = tile * pt, p1 = ck_min(P, p0 + pt), pw = p1 - p0;
                    const float *xg = x + (n * C + gi * Cg) * IS;
                    for (int64_t k0 = 0; k0 < K; k0 += kc) {
                        const int64_t k1 = ck_min(K, k0 + kc), rb = ck_max(1, (k1 - k0 + 63) / 64);
#pragma omp for schedule(static)
                        for (int64_t r = k0; r < k1; r += rb)
                            ck_im2col_tile(&ctx, xg, r, ck_min(k1, r + rb), p0, p1, pw, seg, col + (r - k0) * pw);
#pragma omp for schedule(static, 1)
                        for (int64_t mb = 0; mb < mblocks; mb++) {
                            const int64_t m0 = mb * mr, m1 = ck_min(Mg, m0 + mr);
                            float *yt = y + (n * M + gi * Mg + m0) * P + p0;
                            if (k0 == 0) init_tile(yt, m1 - m0, pw, P, bias ? bias + gi * Mg + m0 : NULL);
                            ck_sgemm(0, m1 - m0, pw, k1 - k0, wt + (gi * Mg + m0) * K + k0, K, col, pw, 1.0f, yt, P);
                        }
                    }
                }
            }
        }
        if (!pl.shared) free(col);
        free(seg);
    }
    free(shared_col);
    free(ranges);
    free(owned);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
