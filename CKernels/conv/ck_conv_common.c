#include <math.h>
#include <stdlib.h>
#include "conv_internal.h"

int ck_conv_check(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w, int64_t w_count,
                  const float *y, int64_t y_count, int transpose) {
    if (!d || ck_window_check(&d->g) != CK_OK) return CK_ERR_ARGUMENT;
    if (d->batch < 0 || d->in_channels < 0 || d->out_channels < 0 || d->groups < 1) return CK_ERR_ARGUMENT;
    if (d->in_channels % d->groups || d->out_channels % d->groups) return CK_ERR_ARGUMENT;
    const ck_window *g = &d->g;
    int64_t xn = ck_mul3(d->batch, d->in_channels, ck_prod3(g->in));
    int64_t yn = ck_mul3(d->batch, d->out_channels, ck_prod3(g->out));
    int64_t wn = transpose ? ck_mul3(d->in_channels, d->out_channels / d->groups, ck_prod3(g->kernel))
                           : ck_mul3(d->out_channels, d->in_channels / d->groups, ck_prod3(g->kernel));
    if (xn < 0 || yn < 0 || wn < 0 || xn != x_count || yn != y_count || wn != w_count) return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (w_count && !w) || (y_count && !y)) return CK_ERR_ARGUMENT;
    return CK_OK;
}

const float *ck_conv_weights(const ck_conv_desc *d, const float *w, int64_t w_count, float **owned) {
    *owned = NULL;
    if (!d->flip || w_count == 0) return w;
    float *f = malloc((size_t)w_count * sizeof(float));
    if (!f) return NULL;
    const int64_t kd = d->g.kernel[0], kh = d->g.kernel[1], kw = d->g.kernel[2], kk = kd * kh * kw;
    for (int64_t base = 0; base < w_count; base += kk)
        for (int64_t a = 0; a < kd; a++)
            for (int64_t b = 0; b < kh; b++)
                for (int64_t c = 0; c < kw; c++)
                    f[base + (a * kh + b) * kw + c] = w[base + ((kd - 1 - a) * kh + (kh - 1 - b)) * kw + (kw - 1 - c)];
    *owned = f;
    return f;
}

void ck_fill_bias(float *y, int64_t batch, int64_t channels, int64_t spatial, const float *bias, int threads) {
    int64_t planes = batch * channels;
#pragma omp parallel for num_threads(ck_team_for(threads, planes * spatial)) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        float v = bias ? bias[p % channels] : 0.0f;
        float *dst = y + p * spatial;
        for (int64_t i = 0; i < spatial; i++) dst[i] = v;
    }
}

CK_HOT
void ck_col2im_add(const ck_window *g, const float *col, int64_t ld, int64_t p0, int64_t p1, float *image) {
    const int64_t GH = g->out[1], GW = g->out[2];
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], st = g->stride[2];
    if (p0 >= p1) return;  // no column: nothing to add, whatever the kernel (an empty grid does not bound it)
    int64_t row = 0;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
            for (int64_t kw = 0; kw < g->kernel[2]; kw++, row++) {
                const int64_t offw = kw * g->dilation[2] - g->pad[2];
                int64_t wlo, whi;
                ck_valid_range(GW, IW, st, offw, &wlo, &whi);
                // Walk the grid rows (b_d, b_h) that intersect [p0, p1).
                for (int64_t p = p0; p < p1;) {
                    const int64_t bdh = p / GW, bw0 = p % GW, bw1 = ck_min(GW, bw0 + (p1 - p));
                    const int64_t id = (bdh / GH) * g->stride[0] - g->pad[0] + kd * g->dilation[0];
                    const int64_t ih = (bdh % GH) * g->stride[1] - g->pad[1] + kh * g->dilation[1];
                    if (id >= 0 && id < ID && ih >= 0 && ih < IH) {
                        float *dst = image + (id * IH + ih) * IW;
                        const float *src = col + row * ld + (p - p0);  // src[b - bw0] = column of grid (bd, bh, b)
                        const int64_t lo = ck_max(bw0, wlo), hi = ck_min(bw1, whi);
                        for (int64_t b = lo; b < hi; b++) dst[b * st + offw] += src[b - bw0];
                    }
                    p += bw1 - bw0;
                }
            }
}

int ck_clamp_f32(float *y, int64_t count, float lo, float hi, int threads) {
    if (count < 0 || (count && !y) || !(lo <= hi)) return CK_ERR_ARGUMENT;
    if (lo == -INFINITY && hi == INFINITY) return CK_OK;
#pragma omp parallel for num_threads(ck_team_for(threads, count)) schedule(static)
    for (int64_t i = 0; i < count; i++) {
        const float v = y[i];
        y[i] = v < lo ? lo : v > hi ? hi : v;  // NaN passes through, as ONNX Relu / Clip
    }
    return CK_OK;
}
