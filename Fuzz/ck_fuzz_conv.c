// libFuzzer target: the convolution kernels (direct, im2col + GEMM, 1×1 GEMM, implicit GEMM, Winograd, ConvTranspose
// GEMM + col2im, col2im, im2col, workspace queries, clamp) on descriptors built from fuzz bytes.
#include <math.h>
#include "fuzz_input.h"

static void window(fz *f, ck_window *g, int rank) {
    for (int a = 0; a < 3; a++) {
        const int used = a >= 3 - rank;
        g->in[a] = used ? fz_int(f, 0, 7) : 1;
        g->kernel[a] = used ? fz_int(f, 1, 3) : 1;
        g->stride[a] = used ? fz_int(f, 1, 3) : 1;
        g->dilation[a] = used ? fz_int(f, 1, 2) : 1;
        g->pad[a] = used ? fz_int(f, -1, 2) : 0;
        // Usually the consistent output length; sometimes whatever the bytes say.
        const int64_t ek = (g->kernel[a] - 1) * (g->dilation[a] > 0 ? g->dilation[a] : 1) + 1;
        const int64_t span = g->in[a] + 2 * g->pad[a] - ek;
        g->out[a] = (fz_bits(f, 1) & 7) == 7 || g->stride[a] <= 0 || span < 0 ? fz_int(f, 0, 7) : span / g->stride[a] + 1;
        if (!used) g->out[a] = 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = {data, size, 0};
    const int rank = 1 + (int)(fz_bits(&f, 1) % 3);
    ck_conv_desc d;
    memset(&d, 0, sizeof d);
    const int64_t groups = fz_int(&f, 1, 3);
    d.groups = groups;
    d.batch = fz_int(&f, 0, 2);
    d.in_channels = fz_int(&f, 1, 3) * (groups > 0 && groups < 8 ? groups : 1);
    d.out_channels = fz_int(&f, 1, 4) * (groups > 0 && groups < 8 ? groups : 1);
    d.flip = (int)(fz_bits(&f, 1) & 1);
    window(&f, &d.g, rank);
    const int threads = 1 + (int)(fz_bits(&f, 1) % 3), isa = (int)(fz_bits(&f, 1) % 4) - 1;
    const int64_t cg = d.groups > 0 ? d.in_channels / d.groups : 0, mg = d.groups > 0 ? d.out_channels / d.groups : 0;
    const int64_t xs[] = {d.batch, d.in_channels, d.g.in[0], d.g.in[1], d.g.in[2]};
    const int64_t ws[] = {d.out_channels, cg, d.g.kernel[0], d.g.kernel[1], d.g.kernel[2]};
    const int64_t ys[] = {d.batch, d.out_channels, d.g.out[0], d.g.out[1], d.g.out[2]};
    const int64_t xn = fz_pick_count(&f, fz_count(xs, 5, FZ_CAP)), wn = fz_pick_count(&f, fz_count(ws, 5, FZ_CAP));
    const int64_t yn = fz_pick_count(&f, fz_count(ys, 5, FZ_CAP));
    float *x = fz_floats(&f, xn), *w = fz_floats(&f, wn), *y = fz_floats(&f, yn);
    float *bias = (fz_bits(&f, 1) & 1) && d.out_channels > 0 && d.out_channels < FZ_CAP ? fz_floats(&f, d.out_channels) : NULL;
    const float lo = (fz_bits(&f, 1) & 1) ? 0.0f : -INFINITY, hi = INFINITY;

    ck_conv_ncx_direct_workspace_f32(&d, threads);
    ck_conv_ncx_im2col_gemm_workspace_f32(&d, threads);
    switch (fz_bits(&f, 1) % 8) {
    case 0:
        ck_conv_ncx_direct_f32(&d, x, xn, w, wn, bias, y, yn, threads, isa);
        break;
    case 1: ck_conv_ncx_im2col_gemm_f32(&d, x, xn, w, wn, bias, y, yn, threads); break;
    case 2: ck_conv_ncx_gemm1x1_f32(&d, x, xn, w, wn, bias, y, yn, threads); break;
    case 3: {
        ck_conv_gemm *p = NULL;
        const int packed = (int)(fz_bits(&f, 1) & 1);
        if (ck_conv_ncx_implicit_gemm_prepare_f32(&d, isa, threads, packed ? w : NULL, wn, lo, hi, &p) == CK_OK && p) {
            ck_conv_ncx_implicit_gemm_workspace_f32(p, threads, !packed);
            ck_conv_ncx_implicit_gemm_run_f32(p, x, xn, packed ? NULL : w, packed ? 0 : wn, bias, y, yn, threads);
            ck_conv_ncx_implicit_gemm_destroy_f32(p);
        }
        break;
    }
    case 4: {
        ck_conv_winograd *p = NULL;
        const int packed = (int)(fz_bits(&f, 1) & 1);
        if (ck_conv_nchw_winograd_prepare_f32(&d, isa, threads, packed ? w : NULL, wn, lo, hi, &p) == CK_OK && p) {
            ck_conv_nchw_winograd_workspace_f32(p, threads, !packed);
            ck_conv_nchw_winograd_run_f32(p, x, xn, packed ? NULL : w, packed ? 0 : wn, bias, y, yn, threads);
            ck_conv_nchw_winograd_destroy_f32(p);
        }
        break;
    }
    case 5: {
        // ConvTranspose: x is the small grid [N, C, in], w [C, M/g, k], y the image [N, M, out].
        ck_conv_desc t = d;
        for (int a = 0; a < 3; a++) {
            if ((fz_bits(&f, 1) & 7) == 7) continue;
            const int64_t ek = (t.g.kernel[a] - 1) * (t.g.dilation[a] > 0 ? t.g.dilation[a] : 1) + 1;
            t.g.out[a] = t.g.in[a] > 0 && t.g.stride[a] > 0 ? (t.g.in[a] - 1) * t.g.stride[a] + ek - 2 * t.g.pad[a] : 0;
            if (t.g.out[a] < 0) t.g.out[a] = 0;
        }
        const int64_t tw[] = {t.in_channels, mg, t.g.kernel[0], t.g.kernel[1], t.g.kernel[2]};
        const int64_t ty[] = {t.batch, t.out_channels, t.g.out[0], t.g.out[1], t.g.out[2]};
        const int64_t twn = fz_pick_count(&f, fz_count(tw, 5, FZ_CAP)), tyn = fz_pick_count(&f, fz_count(ty, 5, FZ_CAP));
        float *w2 = fz_floats(&f, twn), *y2 = fz_floats(&f, tyn);
        ck_convtranspose_ncx_gemm_col2im_f32(&t, x, xn, w2, twn, bias, y2, tyn, threads);
        free(w2); free(y2);
        break;
    }
    case 6: {
        // Col2Im / Im2col: columns [N, C·Πk, Πout] against the image [N, C, in].
        const int64_t cols[] = {d.batch, d.in_channels, d.g.kernel[0], d.g.kernel[1], d.g.kernel[2], d.g.out[0], d.g.out[1], d.g.out[2]};
        const int64_t cn = fz_pick_count(&f, fz_count(cols, 8, FZ_CAP));
        float *c = fz_floats(&f, cn);
        if (fz_bits(&f, 1) & 1) ck_col2im_ncx_f32(&d.g, d.batch, d.in_channels, c, cn, x, xn, threads);
        else ck_im2col_ncx_f32(&d.g, d.batch, d.in_channels, x, xn, c, cn, threads);
        free(c);
        break;
    }
    default: ck_clamp_f32(y, yn, fz_float(&f), fz_float(&f), threads); break;
    }
    free(x); free(w); free(y); free(bias);
    return 0;
}
