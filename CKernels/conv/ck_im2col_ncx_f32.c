// Im2col, the gradient of Col2Im: row (c, k) of image n's column matrix holds, for every block position of the grid
// g.out, the image element under tap k (0 outside the image). Rows are independent.
#include "conv_internal.h"

CK_HOT static void im2col_row(const ck_window *g, const float *img, int64_t k, float *row) {
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], GD = g->out[0], GH = g->out[1], GW = g->out[2];
    const int64_t kd = k / (g->kernel[1] * g->kernel[2]), kh = k / g->kernel[2] % g->kernel[1], kw = k % g->kernel[2];
    const int64_t sw = g->stride[2], offw = kw * g->dilation[2] - g->pad[2];
    int64_t lo, hi;
    ck_valid_range(GW, IW, sw, offw, &lo, &hi);
    for (int64_t bd = 0; bd < GD; bd++)
        for (int64_t bh = 0; bh < GH; bh++, row += GW) {
            const int64_t id = bd * g->stride[0] - g->pad[0] + kd * g->dilation[0];
            const int64_t ih = bh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                for (int64_t b = 0; b < GW; b++) row[b] = 0.0f;
                continue;
            }
            const float *src = img + (id * IH + ih) * IW + offw;
            for (int64_t b = 0; b < lo; b++) row[b] = 0.0f;
            for (int64_t b = lo; b < hi; b++) row[b] = src[b * sw];
            for (int64_t b = hi; b < GW; b++) row[b] = 0.0f;
        }
}

int ck_im2col_ncx_f32(const ck_window *g, int64_t batch, int64_t channels, const float *x, int64_t x_count, float *y,
                      int64_t y_count, int threads) {
    if (!g || ck_window_check(g) != CK_OK || batch < 0 || channels < 0) return CK_ERR_ARGUMENT;
    const int64_t KK = ck_prod3(g->kernel), L = ck_prod3(g->out), IS = ck_prod3(g->in);
    const int64_t planes = ck_mul(batch, channels);
    if (planes < 0 || ck_mul3(planes, KK, L) != y_count || ck_mul(planes, IS) != x_count) return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (y_count && !y)) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;  // an empty grid does not bound the kernel: no pass over its rows
#pragma omp parallel for num_threads(ck_team_for(threads, y_count)) schedule(static)
    for (int64_t r = 0; r < planes * KK; r++) im2col_row(g, x + (r / KK) * IS, r % KK, y + r * L);
    return CK_OK;
}
