// Conv input gradient: dX[n, c, i] = Σ_m,k dY[n, m, o] · W[m, c, k] over the (o, k) with i = o·s − p + k·d, the
// transposed convolution of dY with W. Two forms (the Swift adapter picks):
// - stride 1 (and pads up to the kernel's reach): a forward convolution of dY with the transposed, flipped weights
//   (ck_conv_transpose_weights_f32) and the complementary pads (K−1)·d − p, run by the forward machinery
//   (Winograd, implicit GEMM, direct) with all its speed; nothing here;
// - any stride: ck_conv_ncx_backward_data_col2im_f32 below, the ConvTranspose GEMM + col2im kernel on dY
//   (col = Wᵀ·dY, scattered back by col2im in a fixed order).
// Every dX element is computed by one thread in a fixed order: no reduction across threads.
#include <stdlib.h>
#include "conv_internal.h"

int ck_conv_transpose_weights_f32(const ck_conv_desc *d, int flip, const float *w, int64_t w_count, float *wt,
                                  int64_t wt_count, int threads) {
    if (!d || d->groups < 1 || d->in_channels < 0 || d->out_channels < 0 || d->in_channels % d->groups ||
        d->out_channels % d->groups || ck_window_check(&d->g) != CK_OK)
        return CK_ERR_ARGUMENT;
    const int64_t G = d->groups, Cg = d->in_channels / G, Mg = d->out_channels / G, KK = ck_prod3(d->g.kernel);
    const int64_t n = ck_mul3(d->out_channels, Cg, KK);
    if (n < 0 || n != w_count || n != wt_count || (n && (!w || !wt))) return CK_ERR_ARGUMENT;
#pragma omp parallel for num_threads(ck_team_for(threads, n)) schedule(static)
    for (int64_t row = 0; row < d->in_channels * Mg; row++) {  // wt row (g·Cg + c, m)
        const int64_t m = row % Mg, gc = row / Mg, gi = gc / Cg, c = gc % Cg;
        const float *src = w + ((gi * Mg + m) * Cg + c) * KK;
        float *dst = wt + row * KK;
        for (int64_t k = 0; k < KK; k++) dst[k] = src[flip ? KK - 1 - k : k];
    }
    return CK_OK;
}

int ck_conv_ncx_backward_data_col2im_f32(const ck_conv_desc *d, const float *dy, int64_t dy_count, const float *w,
                                         int64_t w_count, float *dx, int64_t dx_count, int threads) {
    if (!d) return CK_ERR_ARGUMENT;
    int status = ck_conv_check(d, dx, dx_count, w, w_count, dy, dy_count, 0);
    if (status != CK_OK) return status;
    // The transposed convolution: input dY [N, M, out], weights [M, C/G, k] (= [in, out/G, k] of ConvTranspose),
    // output dX [N, C, in] with i = o·s − p + k·d.
    ck_conv_desc t = *d;
    t.in_channels = d->out_channels;
    t.out_channels = d->in_channels;
    t.flip = 0;
    for (int a = 0; a < 3; a++) {
        t.g.in[a] = d->g.out[a];
        t.g.out[a] = d->g.in[a];
    }
    float *owned;
    const float *wt = ck_conv_weights(d, w, w_count, &owned);
    if (!wt && w_count) return CK_ERR_NOMEM;
    status = ck_convtranspose_ncx_gemm_col2im_f32(&t, dy, dy_count, wt, w_count, NULL, dx, dx_count, threads);
    free(owned);
    return status;
}
