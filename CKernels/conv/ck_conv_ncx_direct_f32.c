// Direct convolution, for depthwise and other thin problems (the heuristic lives in CConvolution.swift).
//
// AVX2 / AVX-512 (isa argument), stride 1 or 2 along w, any rank: the row kernels of ck_conv_direct_internal.h
// (ck_conv_ncx_direct_{avx2,avx512}_f32.c), which read the input in place and need no buffers. Otherwise (portable,
// or stride >= 3 along w) the plain C paths below.
//
// Plane path (1-D and 2-D, when a work item's buffers fit in 256 KiB): work item = (n, group, block of output
// channels). Each input plane is copied once into zero-padded stride-phase planes (phase (a, b) holds padded
// rows a, a+sh, … and columns b, b+sw, …), so that tap (kh, kw) of output (r, c) is element r·Wq + c + offset(kh, kw)
// of one phase plane: every tap becomes one long unit-stride FMA pass over the flattened output (Wq − OW junk
// columns per row are computed and dropped).
// Row path (3-D, or large images): work item = (n, group, block of output channels, output row, block of columns),
// each input row copied into padded phases (common/ck_rows.h).
// Both add, per output element, the bias and then the terms in (c, kd, kh, kw) order; padding adds 0·w.
#include <stdlib.h>
#include "ck_conv_direct_internal.h"
#include "../common/ck_rows.h"
#include "../common/ck_taps.h"
#include "../common/ck_planes.h"

enum {
    ROW_ITEM = 16384,           // about this many outputs per row-kernel item
    ROW_COLS = 2048,            // rows longer than this are split into items of ROW_COLS / 2 columns
    MB = 8,                     // output channels per row-path item
    OWB = 512,                  // output columns per row-path item
    PLANE_FLOATS = 64 * 1024,   // plane-path buffers per thread
};

CK_HOT static
void ck_conv_plane_worker(const ck_conv_desc *d, const ck_plane_plan *pp, const float *x, const float *wt,
                          const float *bias, float *y, int64_t items, int64_t *next, float *ph, float *acc) {
    const ck_window *g = &d->g;
    const int64_t C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t IS = g->in[1] * g->in[2], OH = g->out[1], OW = g->out[2], KK = g->kernel[1] * g->kernel[2];
    const int64_t mblocks = (Mg + pp->mb - 1) / pp->mb, n = pp->n, Wq = pp->Wq;
    CK_DYNAMIC_FOR(it, items, 1, *next) {
        const int64_t mb = it % mblocks, gi = it / mblocks % G, nb = it / mblocks / G;
        const int64_t m0 = mb * pp->mb, mc = ck_min(Mg, m0 + pp->mb) - m0;
        for (int64_t m = 0; m < mc; m++) {
            const float b = bias ? bias[gi * Mg + m0 + m] : 0.0f;
            for (int64_t i = 0; i < n; i++) acc[m * n + i] = b;
        }
        for (int64_t c = 0; c < Cg; c++) {
            ck_build_planes(g, pp, x + (nb * C + gi * Cg + c) * IS, 0.0f, ph);
            for (int64_t m = 0; m < mc; m++)
                ck_fma_taps(acc + m * n, n, ph, pp->off, wt + ((gi * Mg + m0 + m) * Cg + c) * KK, KK);
        }
        for (int64_t m = 0; m < mc; m++) {
            float *dst = y + (nb * M + gi * Mg + m0 + m) * OH * OW;
            for (int64_t r = 0; r < OH; r++)
                for (int64_t cc = 0; cc < OW; cc++) dst[r * OW + cc] = acc[m * n + r * Wq + cc];
        }
    }
}

CK_HOT static
void ck_conv_row_worker(const ck_conv_desc *d, const ck_rowplan *rp, const int64_t *off, const float *x,
                        const float *wt, const float *bias, float *y, int64_t items, int64_t chunk, int64_t *next,
                        float *acc, float *buf) {
    const ck_window *g = &d->g;
    const int64_t C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2], KK = KD * KH * KW;
    const int64_t mblocks = (Mg + MB - 1) / MB, wblocks = (OW + OWB - 1) / OWB;
    CK_DYNAMIC_FOR(item, items, chunk, *next) {
        int64_t r = item;
        const int64_t wb = r % wblocks; r /= wblocks;
        const int64_t oh = r % OH; r /= OH;
        const int64_t od = r % OD; r /= OD;
        const int64_t mb = r % mblocks; r /= mblocks;
        const int64_t gi = r % G, n = r / G;
        const int64_t ow0 = wb * OWB, len = ck_min(OW, ow0 + OWB) - ow0;
        const int64_t m0 = mb * MB, mc = ck_min(Mg, m0 + MB) - m0;
        for (int64_t m = 0; m < mc; m++) {
            const float b = bias ? bias[gi * Mg + m0 + m] : 0.0f;
            for (int64_t i = 0; i < len; i++) acc[m * OWB + i] = b;
        }
        // Depth and row taps outside the input add nothing here (only columns outside read the padding's 0).
        int64_t kd0, kd1, kh0, kh1;
        ck_dconv_depth_taps(od * g->stride[0] - g->pad[0], g->dilation[0], KD, ID, &kd0, &kd1);
        ck_dconv_depth_taps(oh * g->stride[1] - g->pad[1], g->dilation[1], KH, IH, &kh0, &kh1);
        for (int64_t c = 0; c < Cg; c++)
            for (int64_t kd = kd0; kd < kd1; kd++) {
                const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
                for (int64_t kh = kh0; kh < kh1; kh++) {
                    const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
                    const float *base =
                        ck_row_build(rp, x + (((n * C + gi * Cg + c) * ID + id) * IH + ih) * IW, ow0, len, 0.0f, buf);
                    const float *wrow = wt + ((gi * Mg + m0) * Cg + c) * KK + (kd * KH + kh) * KW;
                    for (int64_t m = 0; m < mc; m++) ck_fma_taps(acc + m * OWB, len, base, off, wrow + m * Cg * KK, KW);
                }
            }
        for (int64_t m = 0; m < mc; m++) {
            float *dst = y + (((n * M + gi * Mg + m0 + m) * OD + od) * OH + oh) * OW + ow0;
            for (int64_t i = 0; i < len; i++) dst[i] = acc[m * OWB + i];
        }
    }
}

/// The row kernels' items: fixed by the problem (never by the thread count or ISA).
static void row_items(const ck_conv_desc *d, ck_dconv_rows *A) {
    const ck_window *g = &d->g;
    const int64_t OH = g->out[1], OW = g->out[2];
    A->cols = OW <= ROW_COLS ? ck_max(1, OW) : ROW_COLS / 2;
    A->rows = ck_min(ck_max(1, OH), (ROW_ITEM / A->cols + 8) & ~(int64_t)7);  // a multiple of 8 rows unless OH
    A->rblocks = (OH + A->rows - 1) / A->rows;
    A->cblocks = (OW + A->cols - 1) / A->cols;
    A->items = d->batch * d->out_channels * g->out[0] * A->rblocks * A->cblocks;
}

/// The descriptor the row kernels run: d itself, or, when the input holds no row at all (ID, IH or Cg zero, so x is
/// empty whatever IW says), d with IW = 0. Every load then reads 0 either way (the zero row, or a masked-off column),
/// so the results are the same, but the zero row no longer follows a huge IW and dilation: it is at most the
/// input's own row plus margins (ck_dconv_zeros), never gigabytes for an empty tensor.
static const ck_conv_desc *rows_desc(const ck_conv_desc *d, ck_conv_desc *tmp) {
    if (d->g.in[0] && d->g.in[1] && d->in_channels) return d;
    *tmp = *d;
    tmp->g.in[2] = 0;
    return tmp;
}

static int run_rows(const ck_conv_desc *d, const float *x, const float *wt, const float *bias, float *y, int team,
                    int isa) {
    ck_conv_desc tmp;
    d = rows_desc(d, &tmp);
    ck_dconv_rows A = {.d = d, .x = x, .w = wt, .bias = bias, .y = y};
    row_items(d, &A);
    float *zeros = calloc((size_t)ck_dconv_zeros(&A), sizeof(float));
    if (!zeros) return CK_ERR_NOMEM;
    A.zeros = zeros;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(A.items, team);
#pragma omp parallel num_threads((int)ck_min(team, A.items))
    {
#if defined(__x86_64__)
        if (isa >= CK_ISA_AVX512) {
            CK_DYNAMIC_FOR(it, A.items, chunk, next) ck_conv_direct_rows_avx512(&A, it);
        } else {
            CK_DYNAMIC_FOR(it, A.items, chunk, next) ck_conv_direct_rows_avx2(&A, it);
        }
#else
        (void)isa;
#endif
    }
    free(zeros);
    return CK_OK;
}

/// Whether this call takes the row kernels.
static int use_rows(const ck_conv_desc *d, int isa) {
#if defined(__x86_64__)
    return isa >= CK_ISA_AVX2 && ck_dconv_rows_supported(d);
#else
    (void)d, (void)isa;
    return 0;
#endif
}

int64_t ck_conv_ncx_direct_workspace_f32(const ck_conv_desc *d, int threads) {
    if (!d || ck_window_check(&d->g) != CK_OK || d->groups < 1 || d->batch < 0 || d->in_channels < 0 ||
        d->out_channels < 0 || d->in_channels % d->groups || d->out_channels % d->groups)
        return -1;
    const ck_window *g = &d->g;
    const int64_t Mg = d->out_channels / d->groups;
    const int64_t y = ck_mul3(d->batch, d->out_channels, ck_prod3(g->out));
    if (y <= 0 || d->in_channels == 0) return 0;
    const int team = ck_team_for(threads, ck_work3(y, d->in_channels / d->groups, ck_prod3(g->kernel)));
    const int64_t flip = d->flip ? 4 * ck_mul3(d->out_channels, d->in_channels / d->groups, ck_prod3(g->kernel)) : 0;
    // The most any variant allocates: the row kernels' zero row, or the plain C paths' buffers.
    ck_conv_desc tmp;
    ck_dconv_rows A = {.d = rows_desc(d, &tmp)};
    row_items(A.d, &A);
    const int64_t rows = ck_dconv_rows_supported(d) ? flip + 4 * ck_dconv_zeros(&A) : 0;
    ck_plane_plan pp;
    if (ck_plane_plan_init(&pp, g, Mg, PLANE_FLOATS)) {
        const int64_t items = d->batch * d->groups * ((Mg + pp.mb - 1) / pp.mb);
        return ck_max(rows, flip + 4 * ck_min(team, items) * (ck_plane_floats(&pp) + pp.mb * pp.n));
    }
    ck_rowplan rp;
    if (ck_rowplan_init(&rp, g, OWB) != CK_OK) return -1;
    const int64_t bytes = flip + 4 * (int64_t)team * (MB * OWB + ck_rowplan_floats(&rp));
    ck_rowplan_free(&rp);
    return ck_max(rows, bytes);
}

int ck_conv_ncx_direct_f32(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w, int64_t w_count,
                           const float *bias, float *y, int64_t y_count, int threads, int isa) {
    int status = ck_conv_check(d, x, x_count, w, w_count, y, y_count, 0);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    if (d->in_channels == 0) {
        // No input channel, so no term: the bias, as every path gives, without planning for a kernel that the
        // empty weight tensor does not bound.
        const int64_t plane = y_count / d->out_channels;
        for (int64_t i = 0; i < y_count; i++) y[i] = bias ? bias[i / plane % d->out_channels] : 0.0f;
        return CK_OK;
    }
    float *owned;
    const float *wt = ck_conv_weights(d, w, w_count, &owned);
    if (w_count && !wt) return CK_ERR_NOMEM;
    const ck_window *g = &d->g;
    const int64_t Mg = d->out_channels / d->groups, OW = g->out[2], KW = g->kernel[2];
    const int team = ck_team_for(threads, ck_work3(y_count, d->in_channels / d->groups, ck_prod3(g->kernel)));
    isa = ck_isa_resolve(isa);
    if (use_rows(d, isa)) {
        status = run_rows(d, x, wt, bias, y, team, isa);
        free(owned);
        return status;
    }
    int failed = 0;
    int64_t next = 0;

    ck_plane_plan pp;
    if (ck_plane_plan_init(&pp, g, Mg, PLANE_FLOATS)) {
        if (ck_plane_offsets(&pp, g) != CK_OK) {
            free(owned);
            return CK_ERR_NOMEM;
        }
        const int64_t items = d->batch * d->groups * ((Mg + pp.mb - 1) / pp.mb);
        const int64_t ph_floats = ck_plane_floats(&pp);
#pragma omp parallel num_threads((int)ck_min(team, items))
        {
            float *ph = malloc(sizeof(float) * (size_t)ph_floats);
            float *acc = malloc(sizeof(float) * (size_t)(pp.mb * pp.n));
            if (!ck_team_failed(&failed, !ph || !acc)) ck_conv_plane_worker(d, &pp, x, wt, bias, y, items, &next, ph, acc);
            free(ph);
            free(acc);
        }
        free(pp.off);
        free(owned);
        return failed ? CK_ERR_NOMEM : CK_OK;
    }

    const int64_t items = d->batch * d->groups * ((Mg + MB - 1) / MB) * g->out[0] * g->out[1] * ((OW + OWB - 1) / OWB);
    ck_rowplan rp;
    int64_t *off = malloc(sizeof(int64_t) * (size_t)KW);
    if (!off || ck_rowplan_init(&rp, g, OWB) != CK_OK) {
        free(off);
        free(owned);
        return CK_ERR_NOMEM;
    }
    for (int64_t kw = 0; kw < KW; kw++) off[kw] = rp.slot[kw] * rp.plen + rp.shift[kw];
    const int64_t chunk = ck_chunk(items, team);
#pragma omp parallel num_threads(team)
    {
        float *acc = malloc(sizeof(float) * MB * OWB), *buf = malloc(sizeof(float) * (size_t)ck_rowplan_floats(&rp));
        if (!ck_team_failed(&failed, !acc || !buf))
            ck_conv_row_worker(d, &rp, off, x, wt, bias, y, items, chunk, &next, acc, buf);
        free(acc);
        free(buf);
    }
    ck_rowplan_free(&rp);
    free(off);
    free(owned);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
