// DepthToSpace / SpaceToDepth: a pure permutation, copied row by row of the spatially large side.
#include "../common/ck_internal.h"

int ck_pixelshuffle_nchw_f32(int space_to_depth, int crd, int64_t n, int64_t c, int64_t h, int64_t w, int64_t block,
                             const float *x, int64_t x_count, float *y, int64_t y_count, int threads) {
    const int64_t b = block;
    if (n < 0 || c < 0 || h < 0 || w < 0 || b < 1 || h % b || w % b) return CK_ERR_ARGUMENT;
    const int64_t count = ck_mul(ck_mul(n, c), ck_mul(h, w));
    if (count < 0 || count != x_count || count != y_count || (count && (!x || !y))) return CK_ERR_ARGUMENT;
    // Nothing to move: an empty tensor's other extents (h = 2^40 with w = 0) must not drive the row loop.
    if (count == 0) return CK_OK;
    const int64_t hs = h / b, ws = w / b, bb = b * b;
    // Large side [n, c, h, w]; small side [n, c·b², hs, ws] with channel (by·b + bx)·c + ch (DCR) or ch·b² + by·b + bx (CRD).
#pragma omp parallel for num_threads(ck_team_for(threads, count)) schedule(static)
    for (int64_t r = 0; r < n * c * h; r++) {
        const int64_t yy = r % h, ch = (r / h) % c, ni = r / (h * c);
        const int64_t hh = yy / b, by = yy % b;
        for (int64_t bx = 0; bx < b; bx++) {
            const int64_t sc = crd ? ch * bb + by * b + bx : (by * b + bx) * c + ch;
            const int64_t small = ((ni * c * bb + sc) * hs + hh) * ws;
            const int64_t large = r * w + bx;
            if (space_to_depth)
                for (int64_t ww = 0; ww < ws; ww++) y[small + ww] = x[large + ww * b];
            else
                for (int64_t ww = 0; ww < ws; ww++) y[large + ww * b] = x[small + ww];
        }
    }
    return CK_OK;
}
