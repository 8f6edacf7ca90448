// Winograd F(4×4, 3×3) convolution, NCHW, stride 1, dilation 1: the ISA-free driver (plan, weights, blocking,
// threads). The kernels and the layouts they share are in ck_winograd_internal.h.
//
// Per group the convolution is 36 independent GEMMs Z[ξ] = U[ξ]·V[ξ] over the input channels, one column per 4×4
// output tile. Work items are (group, tile block, Cout chunk); an item transforms its tiles' inputs into V (kept in
// L2), runs the 36 GEMMs for its Cout chunk into Z, and inverse-transforms Z into y while it is still in cache.
// Items are fixed by the problem; each output element is computed by one item in one fixed order, so results do
// not depend on the thread count.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ck_winograd_internal.h"

struct ck_conv_winograd {
    ck_conv_desc d;
    int isa, clamp;
    float lo, hi;
    const ck_wino_kernels *k;
    ck_wino_geom g;
    int64_t T;            // tiles per group (all images)
    int64_t tb, ntb;      // tiles per block (a multiple of 6), blocks
    int64_t mc, nmc;      // Cout per chunk (a multiple of mblk), chunks
    int64_t u_floats;     // transformed weights of one group
    int64_t x_count, y_count, w_count;
    float *U;             // groups × u_floats, or NULL when the plan holds no weights
};

static const ck_wino_kernels *kernels_for(int isa) {
#if defined(__x86_64__)
    if (isa == CK_ISA_AVX512) return &ck_wino_avx512;
    if (isa == CK_ISA_AVX2) return &ck_wino_avx2;
#endif
    (void)isa;
    return &ck_wino_portable;
}

static int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

/// U[ξ] for filters mb..mb+width of input channel c of group gi, written to Ug[ξ·CP·MP + mi]. The filters of the
/// panel are the vector lanes (their count is the ISA's panel width, at most CK_WINO_PANEL_MAX).
enum { CK_WINO_PANEL_MAX = 128 };
CK_HOT static void transform_panel(const struct ck_conv_winograd *p, const float *w, float *Ug, int64_t gi, int64_t mb,
                                   int64_t width, int64_t c, const double G[6][3]) {
    const ck_wino_geom *g = &p->g;
    const int64_t C = g->C, CP = g->CP, MP = g->MP;
    double f[9][CK_WINO_PANEL_MAX], t[6][3][CK_WINO_PANEL_MAX];
    for (int64_t mi = 0; mi < width; mi++) {
        const int64_t m = mb + mi;
        const float *src = m < g->M && c < C ? w + ((gi * g->M + m) * C + c) * 9 : NULL;
        for (int k = 0; k < 9; k++) f[k][mi] = src ? src[p->d.flip ? 8 - k : k] : 0.0;
    }
    for (int i = 0; i < 6; i++)
        for (int b = 0; b < 3; b++)
            for (int64_t mi = 0; mi < width; mi++)
                t[i][b][mi] = G[i][0] * f[b][mi] + G[i][1] * f[3 + b][mi] + G[i][2] * f[6 + b][mi];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            float *dst = Ug + (i * 6 + j) * CP * MP;
            for (int64_t mi = 0; mi < width; mi++)
                dst[mi] = (float)(t[i][0][mi] * G[j][0] + t[i][1][mi] * G[j][1] + t[i][2][mi] * G[j][2]);
        }
}

/// U[ξ] = G g Gᵀ for one group (points 0, ±1, ±2, ∞), in double, packed into Cout panels (see the header).
/// `w` is the group's [M, C, 3, 3] block; flip = true convolution.
static void transform_weights(const struct ck_conv_winograd *p, const float *w, float *U, int team) {
    static const double G[6][3] = {{1.0 / 4, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                   {0, 0, 1}};
    const ck_wino_geom *g = &p->g;
    const int64_t CP = g->CP, MP = g->MP, mblk = p->k->mblk, blocks = (MP + mblk - 1) / mblk;
    // One item per (group, Cout panel, input channel), the panel's output channels innermost: each of the 36
    // transformed planes is written as one contiguous run of `width` floats (a per-filter scatter of 36 strided
    // stores cost 1.5x the whole forward pass on 64->64 layers), and the arithmetic runs across the panel's
    // filters, so it vectorises (a backward pass transforms fresh weights on every run).
#pragma omp parallel for num_threads(team) schedule(static)
    for (int64_t item = 0; item < p->d.groups * blocks * CP; item++) {
        const int64_t c = item % CP, mb = item / CP % blocks * mblk, gi = item / CP / blocks;
        transform_panel(p, w, U + gi * p->u_floats + mb * CP + c * ck_min(mblk, MP - mb), gi, mb,
                        ck_min(mblk, MP - mb), c, G);
    }
}

/// Block sizes, fixed by the problem and the cache size: V of a block (36·tb·CP floats) within half of L2 and Z of
/// a block × chunk within a quarter; then blocks small enough, and Cout split, to give about 24 items to share.
static void plan_blocks(struct ck_conv_winograd *p) {
    int64_t l1, l2;
    ck_cache_sizes(&l1, &l2);
    const ck_wino_geom *g = &p->g;
    const int64_t T = p->T, mblk = p->k->mblk, groups = p->d.groups;
    const int64_t target = 24;
    int64_t tb = ck_max(6, l2 / 2 / (36 * 4 * ck_max(1, g->CP)) / 6 * 6);
    // Smaller blocks for more items, but not below 12 tiles (each block re-reads the group's U).
    const int64_t want = round_up(ck_max(1, ck_work3(T, groups, 1) / target), 6);
    tb = ck_min(tb, ck_max(12, want));
    tb = ck_min(tb, round_up(ck_max(T, 1), 6));
    int64_t ntb = ck_max(1, (T + tb - 1) / tb);
    tb = round_up(ck_max(1, (T + ntb - 1) / ntb), 6);  // spread the tiles evenly over the blocks
    ntb = (T + tb - 1) / tb;
    // Cout chunks: as many as needed for the target (V is then recomputed per chunk), bounded by Z's budget.
    const int64_t panels = ck_max(1, (g->MP + mblk - 1) / mblk);
    const int64_t nmc = ck_min(panels, ck_max(1, (target + ntb * groups - 1) / ck_max(1, ntb * groups)));
    const int64_t zmax = ck_max(mblk, l2 / 4 / (36 * 4 * tb) / mblk * mblk);
    const int64_t mc = ck_min((panels + nmc - 1) / nmc * mblk, zmax);
    p->tb = tb;
    p->ntb = ntb;
    p->mc = mc;
    p->nmc = g->MP ? (g->MP + mc - 1) / mc : 0;
}

int ck_conv_nchw_winograd_prepare_f32(const ck_conv_desc *d, int isa, int threads, const float *w, int64_t w_count,
                                      float act_lo, float act_hi, ck_conv_winograd **out) {
    if (!out) return CK_ERR_ARGUMENT;
    *out = NULL;
    if (!d || ck_window_check(&d->g) != CK_OK) return CK_ERR_ARGUMENT;
    const ck_window *gw = &d->g;
    if (gw->kernel[0] != 1 || gw->kernel[1] != 3 || gw->kernel[2] != 3 || gw->in[0] != 1 || gw->out[0] != 1 ||
        gw->pad[0] != 0)
        return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++)
        if (gw->stride[a] != 1 || gw->dilation[a] != 1) return CK_ERR_ARGUMENT;
    if (d->batch < 0 || d->in_channels < 0 || d->out_channels < 0 || d->groups < 1 ||
        d->in_channels % d->groups || d->out_channels % d->groups)
        return CK_ERR_ARGUMENT;
    if (isnan(act_lo) || isnan(act_hi) || act_lo > act_hi) return CK_ERR_ARGUMENT;
    // Spatial sizes far beyond any image keep every tile-index product below overflow.
    const int64_t lim = (int64_t)1 << 28;
    if (gw->in[1] > lim || gw->in[2] > lim || gw->out[1] > lim || gw->out[2] > lim || gw->pad[1] > lim ||
        gw->pad[1] < -lim || gw->pad[2] > lim || gw->pad[2] < -lim || d->in_channels > lim ||
        d->out_channels > lim || d->batch > lim)
        return CK_ERR_ARGUMENT;
    const int64_t x_count = ck_mul3(d->batch, d->in_channels, gw->in[1] * gw->in[2]);
    const int64_t y_count = ck_mul3(d->batch, d->out_channels, gw->out[1] * gw->out[2]);
    const int64_t w_expect = ck_mul3(d->out_channels, d->in_channels / d->groups, 9);
    if (x_count < 0 || y_count < 0 || w_expect < 0) return CK_ERR_ARGUMENT;
    if (w && w_count != w_expect) return CK_ERR_ARGUMENT;

    struct ck_conv_winograd *p = calloc(1, sizeof *p);
    if (!p) return CK_ERR_NOMEM;
    p->d = *d;
    p->isa = ck_isa_resolve(isa);
    p->k = kernels_for(p->isa);
    p->clamp = act_lo > -INFINITY || act_hi < INFINITY;
    p->lo = act_lo;
    p->hi = act_hi;
    ck_wino_geom *g = &p->g;
    const int64_t L = p->k->lanes;
    g->C = d->in_channels / d->groups;
    g->M = d->out_channels / d->groups;
    g->CP = round_up(g->C, L);
    g->MP = round_up(g->M, L);
    g->H = gw->in[1];
    g->W = gw->in[2];
    g->OH = gw->out[1];
    g->OW = gw->out[2];
    g->ph = gw->pad[1];
    g->pw = gw->pad[2];
    g->TH = (g->OH + 3) / 4;
    g->TW = (g->OW + 3) / 4;
    g->x_img = d->in_channels * g->H * g->W;
    g->y_img = d->out_channels * g->OH * g->OW;
    p->T = ck_mul3(d->batch, g->TH, g->TW);
    p->u_floats = ck_mul3(36, g->CP, g->MP);
    p->x_count = x_count;
    p->y_count = y_count;
    p->w_count = w_expect;
    if (p->T < 0 || p->u_floats < 0 || ck_mul(p->u_floats, d->groups) < 0 ||
        ck_mul(p->u_floats * d->groups, 4) < 0) {
        free(p);
        return CK_ERR_ARGUMENT;
    }
    plan_blocks(p);
    if (w) {
        p->U = aligned_alloc(64, (size_t)round_up(p->u_floats * d->groups * 4, 64));
        if (!p->U) {
            free(p);
            return CK_ERR_NOMEM;
        }
        transform_weights(p, w, p->U, ck_team_for(threads, ck_work3(d->out_channels, g->CP, 36 * 8)));
    }
    *out = p;
    return CK_OK;
}

/// Floats of one thread's V and Z blocks (each rounded to 64 bytes).
static int64_t thread_floats(const struct ck_conv_winograd *p, int64_t *zoff) {
    const int64_t v = round_up(36 * p->tb * p->g.CP, 16);
    *zoff = v;
    return v + round_up(36 * p->tb * p->mc, 16);
}

static int team_of(const struct ck_conv_winograd *p, int threads) {
    // The GEMM part's multiply-adds, as the work estimate.
    const int64_t macs = ck_work3(p->T * p->d.groups, 36 * p->g.CP, p->g.MP);
    return ck_team_for(threads, macs);
}

int64_t ck_conv_nchw_winograd_workspace_f32(const ck_conv_winograd *p, int threads, int weights_given) {
    if (!p) return -1;
    int64_t zoff;
    const int64_t per = thread_floats(p, &zoff);
    int64_t bytes = per * team_of(p, threads) * 4;
    if (weights_given || !p->U) bytes += round_up(p->u_floats * p->d.groups * 4, 64);
    return bytes;
}

int64_t ck_conv_nchw_winograd_plan_bytes_f32(const ck_conv_winograd *p) {
    if (!p) return -1;
    return (int64_t)sizeof *p + (p->U ? round_up(p->u_floats * p->d.groups * 4, 64) : 0);
}

int ck_conv_nchw_winograd_isa(const ck_conv_winograd *p) { return p ? p->isa : -1; }

void ck_conv_nchw_winograd_destroy_f32(ck_conv_winograd *p) {
    if (!p) return;
    free(p->U);
    free(p);
}

int ck_conv_nchw_winograd_run_f32(const ck_conv_winograd *p, const float *x, int64_t x_count, const float *w,
                                  int64_t w_count, const float *bias, float *y, int64_t y_count, int threads) {
    if (!p || x_count != p->x_count || y_count != p->y_count || (x_count && !x) || (y_count && !y))
        return CK_ERR_ARGUMENT;
    if (w ? w_count != p->w_count : !p->U && p->w_count) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;
    const ck_wino_geom *g = &p->g;
    const int team = team_of(p, threads);
    int64_t zoff;
    const int64_t per = thread_floats(p, &zoff);
    const int64_t u_bytes = w ? round_up(p->u_floats * p->d.groups * 4, 64) : 0;
    char *ws = aligned_alloc(64, (size_t)(u_bytes + per * team * 4));
    if (!ws) return CK_ERR_NOMEM;
    const float *U = p->U;
    if (w) {
        transform_weights(p, w, (float *)ws, ck_team_for(threads, ck_work3(p->d.out_channels, g->CP, 36 * 8)));
        U = (const float *)ws;
    }
    float *blocks = (float *)(ws + u_bytes);
    const ck_wino_kernels *k = p->k;
    const int64_t per_group = p->ntb * p->nmc, items = per_group * p->d.groups;
    int64_t counter = 0;
#pragma omp parallel num_threads(team)
    {
        float *V = blocks + per * omp_get_thread_num(), *Z = V + zoff;
        int64_t have = -1;  // the (group, tile block) whose transformed input V holds
        CK_DYNAMIC_FOR(item, items, 1, counter) {
            const int64_t gi = item / per_group, tb = item % per_group / p->nmc, mc = item % p->nmc;
            const int64_t t0 = tb * p->tb, nt = ck_min(p->tb, p->T - t0), ng = (nt + 5) / 6;
            const int64_t m0 = mc * p->mc, mcp = ck_min(p->mc, g->MP - m0), mreal = ck_min(p->mc, g->M - m0);
            if (have != item / p->nmc) {
                k->input(g, x + gi * g->C * g->H * g->W, t0, nt, V);
                have = item / p->nmc;
            }
            k->gemm(g, U + gi * p->u_floats, V, ng, m0, mcp, Z);
            if (mreal > 0)
                k->output(g, Z, t0, nt, m0, mreal, mcp, bias ? bias + gi * g->M : NULL, p->lo, p->hi, p->clamp,
                          y + gi * g->M * g->OH * g->OW);
        }
    }
    free(ws);
    return CK_OK;
}
