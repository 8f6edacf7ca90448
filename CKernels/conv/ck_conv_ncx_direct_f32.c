// Direct convolution: each work item is (n, group, block of 8 output channels, output row, block of 512 columns).
// Each input row a tap touches is copied once into a zero-padded, stride-phase-split buffer (common/ck_rows.h), so
// every tap is a unit-stride vector; the row is then applied to all channels of the block, 16 columns at a time kept
// in registers across the row's taps. Per output element the terms are added in (c, kd, kh, kw) order after the
// bias, whatever the blocking.
#include <stdlib.h>
#include "conv_internal.h"
#include "../common/ck_rows.h"

enum { MB = 8, OWB = 512, B = 16 };

CK_INLINE
void ck_conv_direct_item(const ck_conv_desc *d, const ck_rowplan *rp, const float *x, const float *wt,
                         const float *bias, float *y, int64_t item, float *acc, float *buf) {
    const ck_window *g = &d->g;
    const int64_t C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2], KK = KD * KH * KW;
    const int64_t mblocks = (Mg + MB - 1) / MB, wblocks = (OW + OWB - 1) / OWB;

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
    for (int64_t c = 0; c < Cg; c++)
        for (int64_t kd = 0; kd < KD; kd++) {
            const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
            if (id < 0 || id >= ID) continue;
            for (int64_t kh = 0; kh < KH; kh++) {
                const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
                if (ih < 0 || ih >= IH) continue;
                const float *base = ck_row_build(rp, x + (((n * C + gi * Cg + c) * ID + id) * IH + ih) * IW, ow0, len, 0.0f, buf);
                const float *wrow = wt + ((gi * Mg + m0) * Cg + c) * KK + (kd * KH + kh) * KW;
                for (int64_t m = 0; m < mc; m++) {
                    const float *wm = wrow + m * Cg * KK;
                    float *am = acc + m * OWB;
                    int64_t i = 0;
                    for (; i + B <= len; i += B) {
                        float a[B];
                        for (int j = 0; j < B; j++) a[j] = am[i + j];
                        for (int64_t kw = 0; kw < KW; kw++) {
                            const float w = wm[kw], *v = ck_row_tap(rp, base, kw) + i;
                            for (int j = 0; j < B; j++) a[j] += w * v[j];
                        }
                        for (int j = 0; j < B; j++) am[i + j] = a[j];
                    }
                    for (int64_t kw = 0; kw < KW; kw++) {
                        const float w = wm[kw], *v = ck_row_tap(rp, base, kw);
                        for (int64_t k = i; k < len; k++) am[k] += w * v[k];
                    }
                }
            }
        }
    for (int64_t m = 0; m < mc; m++) {
        float *dst = y + (((n * M + gi * Mg + m0 + m) * OD + od) * OH + oh) * OW + ow0;
        for (int64_t i = 0; i < len; i++) dst[i] = acc[m * OWB + i];
    }
}

CK_HOT static
void ck_conv_direct_worker(const ck_conv_desc *d, const ck_rowplan *rp, const float *x, const float *wt,
                           const float *bias, float *y, int64_t items, int64_t chunk, int64_t *next, float *acc,
                           float *buf) {
    CK_DYNAMIC_FOR(it, items, chunk, *next) ck_conv_direct_item(d, rp, x, wt, bias, y, it, acc, buf);
}

int ck_conv_ncx_direct_f32(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w, int64_t w_count,
                           const float *bias, float *y, int64_t y_count, int threads) {
    int status = ck_conv_check(d, x, x_count, w, w_count, y, y_count, 0);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    float *owned;
    const float *wt = ck_conv_weights(d, w, w_count, &owned);
    if (w_count && !wt) return CK_ERR_NOMEM;

    const int64_t Mg = d->out_channels / d->groups, OW = d->g.out[2];
    const int64_t items = d->batch * d->groups * ((Mg + MB - 1) / MB) * d->g.out[0] * d->g.out[1] *
                          ((OW + OWB - 1) / OWB);
    ck_rowplan rp;
    if (ck_rowplan_init(&rp, &d->g, OWB) != CK_OK) {
        free(owned);
        return CK_ERR_NOMEM;
    }
    int failed = 0;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(items, threads);
#pragma omp parallel num_threads(ck_team_for(threads, ck_work3(y_count, d->in_channels / d->groups, ck_prod3(d->g.kernel))))
    {
        float *acc = malloc(sizeof(float) * MB * OWB), *buf = malloc(sizeof(float) * (size_t)ck_rowplan_floats(&rp));
        if (!ck_team_failed(&failed, !acc || !buf)) {
            ck_conv_direct_worker(d, &rp, x, wt, bias, y, items, chunk, &next, acc, buf);
        }
        free(acc);
        free(buf);
    }
    ck_rowplan_free(&rp);
    free(owned);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
