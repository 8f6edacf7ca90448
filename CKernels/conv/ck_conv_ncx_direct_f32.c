// Direct convolution: each work item is (n, group, block of 8 output channels, output row, block of 512 columns).
// For every input row a tap touches, the row is read once and applied to all channels of the block; stride > 1
// gathers the tap's samples into a contiguous buffer first so the inner loop is a unit-stride axpy.
#include <stdlib.h>
#include "conv_internal.h"

enum { MB = 8, OWB = 512 };

CK_HOT static
void ck_conv_direct_item(const ck_conv_desc *d, const float *x, const float *wt, const float *bias, float *y,
                         int64_t item, float *acc, float *tmp) {
    const ck_window *g = &d->g;
    const int64_t C = d->in_channels, M = d->out_channels, G = d->groups, Cg = C / G, Mg = M / G;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2], KK = KD * KH * KW;
    const int64_t sw = g->stride[2];
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
                const float *src = x + (((n * C + gi * Cg + c) * ID + id) * IH + ih) * IW;
                const float *wrow = wt + ((gi * Mg + m0) * Cg + c) * KK + (kd * KH + kh) * KW;
                for (int64_t kw = 0; kw < KW; kw++) {
                    const int64_t q = kw * g->dilation[2] - g->pad[2];
                    int64_t lo, hi;
                    ck_valid_range(OW, IW, sw, q, &lo, &hi);
                    lo = ck_max(lo, ow0);
                    hi = ck_min(hi, ow0 + len);
                    if (lo >= hi) continue;
                    const int64_t cnt = hi - lo;
                    const float *v;
                    if (sw == 1) {
                        v = src + lo + q;
                    } else {
                        for (int64_t i = 0; i < cnt; i++) tmp[i] = src[(lo + i) * sw + q];
                        v = tmp;
                    }
                    for (int64_t m = 0; m < mc; m++) {
                        const float wv = wrow[m * Cg * KK + kw];
                        float *a = acc + m * OWB + (lo - ow0);
                        for (int64_t i = 0; i < cnt; i++) a[i] += wv * v[i];
                    }
                }
            }
        }
    for (int64_t m = 0; m < mc; m++) {
        float *dst = y + (((n * M + gi * Mg + m0 + m) * OD + od) * OH + oh) * OW + ow0;
        for (int64_t i = 0; i < len; i++) dst[i] = acc[m * OWB + i];
    }
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
    int failed = 0;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(items, threads);
#pragma omp parallel num_threads(ck_team(threads))
    {
        float *acc = malloc(sizeof(float) * MB * OWB), *tmp = malloc(sizeof(float) * OWB);
        if (!ck_team_failed(&failed, !acc || !tmp)) {
            CK_DYNAMIC_FOR(it, items, chunk, next) ck_conv_direct_item(d, x, wt, bias, y, it, acc, tmp);
        }
        free(acc);
        free(tmp);
    }
    free(owned);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
