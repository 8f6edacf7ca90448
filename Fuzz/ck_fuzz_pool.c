// libFuzzer target: the pooling kernels (max with and without indices, average, Lp, stochastic, their backward
// pass) on descriptors built from fuzz bytes.
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = {data, size, 0};
    ck_pool_desc d;
    memset(&d, 0, sizeof d);
    const int rank = 1 + (int)(fz_bits(&f, 1) % 3);
    d.spatial_rank = (fz_bits(&f, 1) & 15) == 15 ? fz_int(&f, 0, 4) : rank;
    d.column_major = (fz_bits(&f, 1) & 3) == 3;
    d.batch = fz_int(&f, 0, 2);
    d.channels = fz_int(&f, 0, 3);
    for (int a = 0; a < 3; a++) {
        const int used = a >= 3 - rank;
        ck_window *g = &d.g;
        g->in[a] = used ? fz_int(&f, 0, 9) : 1;
        g->kernel[a] = used ? fz_int(&f, 1, 4) : 1;
        g->stride[a] = used ? fz_int(&f, 1, 3) : 1;
        g->dilation[a] = used ? fz_int(&f, 1, 2) : 1;
        g->pad[a] = used ? fz_int(&f, 0, 2) : 0;
        d.pad_end[a] = used ? fz_int(&f, 0, 2) : 0;
        const int64_t ek = (g->kernel[a] - 1) * (g->dilation[a] > 0 ? g->dilation[a] : 1) + 1;
        const int64_t span = g->in[a] + g->pad[a] + d.pad_end[a] - ek;
        g->out[a] = !used ? 1 : (fz_bits(&f, 1) & 7) == 7 || g->stride[a] <= 0 || span < 0 ? fz_int(&f, 0, 6) : span / g->stride[a] + 1;
    }
    const int threads = 1 + (int)(fz_bits(&f, 1) % 3), isa = (int)(fz_bits(&f, 1) % 4) - 1;
    const int64_t xs[] = {d.batch, d.channels, d.g.in[0], d.g.in[1], d.g.in[2]};
    const int64_t ys[] = {d.batch, d.channels, d.g.out[0], d.g.out[1], d.g.out[2]};
    const int64_t xn = fz_pick_count(&f, fz_count(xs, 5, FZ_CAP)), yn = fz_pick_count(&f, fz_count(ys, 5, FZ_CAP));
    float *x = fz_floats(&f, xn), *y = fz_floats(&f, yn);
    int64_t *ix = (fz_bits(&f, 1) & 1) ? malloc(sizeof(int64_t) * (size_t)(yn > 0 ? yn : 1)) : NULL;
    const float p = (fz_bits(&f, 1) & 1) ? fz_float(&f) : (float)(1 + fz_bits(&f, 1) % 3);
    const uint64_t seed = fz_bits(&f, 8);
    switch (fz_bits(&f, 1) % 6) {
    case 0: ck_maxpool_ncx_f32(&d, x, xn, y, yn, ix, threads, isa); break;
    case 1: ck_avgpool_ncx_f32(&d, (int)(fz_bits(&f, 1) & 1), x, xn, y, yn, threads, isa); break;
    case 2: ck_lppool_ncx_f32(&d, p, x, xn, y, yn, threads, isa); break;
    case 3: ck_stochpool_ncx_f32(&d, 0, seed, x, xn, y, yn, ix, threads); break;
    case 4: ck_stochpool_ncx_f32(&d, 1, seed, x, xn, y, yn, NULL, threads); break;
    default: {
        float *dx = fz_floats(&f, xn);
        ck_pool_ncx_backward_f32(&d, (int)fz_int(&f, 0, 5), p, seed, x, xn, y, yn, dx, xn, threads, isa);
        free(dx);
        break;
    }
    }
    free(x); free(y); free(ix);
    return 0;
}
