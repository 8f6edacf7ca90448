// Col2Im: each (image, channel) plane sums its Πk column rows into the image; planes are independent.
#include "conv_internal.h"

int ck_col2im_ncx_f32(const ck_window *g, int64_t batch, int64_t channels, const float *x, int64_t x_count, float *y,
                      int64_t y_count, int threads) {
    if (!g || ck_window_check(g) != CK_OK || batch < 0 || channels < 0) return CK_ERR_ARGUMENT;
    const int64_t KK = ck_prod3(g->kernel), L = ck_prod3(g->out), IS = ck_prod3(g->in);
    const int64_t planes = ck_mul(batch, channels);
    if (planes < 0 || ck_mul3(planes, KK, L) != x_count || ck_mul(planes, IS) != y_count) return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (y_count && !y)) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;  // no image element: no pass over planes an empty tensor does not bound
#pragma omp parallel for num_threads(ck_team_for(threads, x_count + y_count)) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        float *img = y + p * IS;
        for (int64_t i = 0; i < IS; i++) img[i] = 0.0f;
        ck_col2im_add(g, x + p * KK * L, L, 0, L, img);
    }
    return CK_OK;
}
