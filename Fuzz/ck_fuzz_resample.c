// libFuzzer target: resize by tap tables (forward and backward), DepthToSpace / SpaceToDepth, MaxUnpool (forward
// and backward) on arguments built from fuzz bytes (tap indices and unpool indices included: the kernels check them).
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f = {data, size, 0};
    const int threads = 1 + (int)(fz_bits(&f, 1) % 3), isa = (int)(fz_bits(&f, 1) % 4) - 1;
    switch (fz_bits(&f, 1) % 3) {
    case 0: {
        ck_resize_axis axes[3];
        int64_t *index[3] = {0};
        float *weight[3] = {0};
        uint8_t *outside[3] = {0};
        const int64_t planes = fz_int(&f, 0, 3);
        for (int a = 0; a < 3; a++) {
            axes[a].in = fz_int(&f, 0, 6);
            axes[a].out = fz_int(&f, 0, 6);
            axes[a].taps = fz_int(&f, 1, 4);
            const int64_t dims[] = {axes[a].out, axes[a].taps};
            const int64_t n = fz_count(dims, 2, FZ_CAP) < 0 ? 0 : fz_count(dims, 2, FZ_CAP);
            // The kernel reads out·taps entries: tables of that size whenever it is representable.
            index[a] = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
            weight[a] = fz_floats(&f, n);
            for (int64_t i = 0; i < n; i++) index[a][i] = fz_int(&f, -1, axes[a].in > 0 && axes[a].in < 64 ? axes[a].in : 6);
            if (fz_bits(&f, 1) & 1) {
                const int64_t m = axes[a].out > 0 && axes[a].out < FZ_CAP ? axes[a].out : 0;
                outside[a] = malloc((size_t)(m > 0 ? m : 1));
                for (int64_t i = 0; i < m; i++) outside[a][i] = (uint8_t)(fz_bits(&f, 1) & 1);
            }
            if (fz_count(dims, 2, FZ_CAP) < 0) axes[a].out = 0;  // keep the tables as long as the kernel reads
            axes[a].index = index[a];
            axes[a].weight = weight[a];
            axes[a].outside = outside[a];
        }
        const int64_t xs[] = {planes, axes[0].in, axes[1].in, axes[2].in}, ys[] = {planes, axes[0].out, axes[1].out, axes[2].out};
        const int64_t xn = fz_pick_count(&f, fz_count(xs, 4, FZ_CAP)), yn = fz_pick_count(&f, fz_count(ys, 4, FZ_CAP));
        float *x = fz_floats(&f, xn), *y = fz_floats(&f, yn);
        const int nearest = (int)(fz_bits(&f, 1) & 1);
        if (fz_bits(&f, 1) & 1) ck_resize_ncx_taps_f32(planes, axes, nearest, fz_float(&f), x, xn, y, yn, threads, isa);
        else ck_resize_ncx_taps_backward_f32(planes, axes, nearest, y, yn, x, xn, threads);
        free(x); free(y);
        for (int a = 0; a < 3; a++) { free(index[a]); free(weight[a]); free(outside[a]); }
        break;
    }
    case 1: {
        const int64_t n = fz_int(&f, 0, 2), c = fz_int(&f, 0, 4), h = fz_int(&f, 0, 6), w = fz_int(&f, 0, 6), b = fz_int(&f, 1, 3);
        const int64_t dims[] = {n, c, h, w};
        const int64_t xn = fz_pick_count(&f, fz_count(dims, 4, FZ_CAP)), yn = fz_pick_count(&f, fz_count(dims, 4, FZ_CAP));
        float *x = fz_floats(&f, xn), *y = fz_floats(&f, yn);
        ck_pixelshuffle_nchw_f32((int)(fz_bits(&f, 1) & 1), (int)(fz_bits(&f, 1) & 1), n, c, h, w, b, x, xn, y, yn, threads);
        free(x); free(y);
        break;
    }
    default: {
        const int64_t batch = fz_int(&f, 0, 2), channels = fz_int(&f, 0, 3);
        const int64_t rank = (fz_bits(&f, 1) & 15) == 15 ? fz_int(&f, 0, 4) : 1 + (int64_t)(fz_bits(&f, 1) % 3);
        int64_t space[4] = {1, 1, 1, 1}, out[4] = {1, 1, 1, 1};
        for (int a = 0; a < 4; a++) { space[a] = fz_int(&f, 0, 5); out[a] = space[a] + fz_int(&f, -1, 2); }
        const int64_t xn = fz_int(&f, 0, 64) % 64;
        const int64_t ys[] = {batch, channels, out[0], rank > 1 ? out[1] : 1, rank > 2 ? out[2] : 1};
        const int64_t yn = fz_pick_count(&f, fz_count(ys, 5, FZ_CAP));
        float *x = fz_floats(&f, xn), *y = fz_floats(&f, yn);
        int64_t *index = malloc(sizeof(int64_t) * (size_t)(xn > 0 ? xn : 1));
        for (int64_t i = 0; i < xn; i++) index[i] = fz_int(&f, -1, 200);
        if (fz_bits(&f, 1) & 1) ck_maxunpool_ncx_f32(batch, channels, rank, space, out, x, index, xn, y, yn, threads);
        else ck_maxunpool_ncx_backward_f32(batch, channels, rank, space, out, y, yn, index, x, xn, threads);
        free(x); free(y); free(index);
        break;
    }
    }
    return 0;
}
