#include <math.h>
#include "pool_internal.h"

int ck_pool_check(const ck_pool_desc *d, const float *x, int64_t x_count, const float *y, int64_t y_count) {
    if (!d || ck_window_check(&d->g) != CK_OK || d->batch < 0 || d->channels < 0) return CK_ERR_ARGUMENT;
    if (d->spatial_rank < 1 || d->spatial_rank > 3 || (d->column_major && d->spatial_rank != 2)) return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++)
        if (d->pad_end[a] < -((int64_t)1 << 60) || d->pad_end[a] > ((int64_t)1 << 60)) return CK_ERR_ARGUMENT;
    const int64_t planes = ck_mul(d->batch, d->channels);
    if (planes < 0 || ck_mul(planes, ck_prod3(d->g.in)) != x_count || ck_mul(planes, ck_prod3(d->g.out)) != y_count)
        return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (y_count && !y)) return CK_ERR_ARGUMENT;
    return CK_OK;
}

int64_t ck_axis_count(int64_t o, int64_t s, int64_t pad, int64_t K, int64_t d, int64_t lo_bound, int64_t hi_bound) {
    // lo_bound <= o*s - pad + k*d < hi_bound
    const int64_t base = o * s - pad;
    if (hi_bound - base <= 0) return 0;
    const int64_t kmin = base >= lo_bound ? 0 : ck_ceildiv(lo_bound - base, d);
    const int64_t kmax = ck_min((hi_bound - 1 - base) / d, K - 1);  // inclusive
    return kmax >= kmin ? kmax - kmin + 1 : 0;
}

int ck_pool_is_global(const ck_window *g) {
    int global = 1;
    for (int a = 0; a < 3; a++)
        global &= g->out[a] == 1 && g->kernel[a] == g->in[a] && g->pad[a] == 0 && g->dilation[a] == 1;
    return global;
}

int ck_prow_supported(const ck_pool_desc *d, int with_idx, int sum) {
    const ck_window *g = &d->g;
    const int64_t KW = g->kernel[2], s = g->stride[2], IW = g->in[2];
    if ((s != 1 && s != 2) || KW > CK_PROW_MAX_KW || IW >= ((int64_t)1 << 30) || g->pad[2] < -((int64_t)1 << 30) ||
        g->pad[2] > ((int64_t)1 << 30) || (KW - 1) * g->dilation[2] >= ((int64_t)1 << 30) ||
        g->out[2] >= ((int64_t)1 << 30))
        return 0;
    if (!sum) {
        // Every window needs a column inside the row (its index starts there); indices need the window's rows in
        // one lookup register and in-plane offsets in 32 bits.
        for (int64_t ow = 0; ow < g->out[2]; ow++)
            if (ck_axis_count(ow, s, g->pad[2], KW, g->dilation[2], 0, IW) == 0) return 0;
        if (with_idx && (g->kernel[0] * g->kernel[1] > CK_PROW_MAX_ROWS || ck_prod3(g->in) >= ((int64_t)1 << 31)))
            return 0;
    }
    return 1;
}

#define PICK(c, m) ((c) > (m) || ((c) != (c) && (m) == (m)))

void ck_max_row_exact(const ck_prow_args *A, int64_t item) {
    const ck_pool_desc *d = A->d;
    const ck_window *g = &d->g;
    const int64_t OH = g->out[1], OD = g->out[0], OW = g->out[2], IH = g->in[1], IW = g->in[2];
    const int64_t IS = ck_prod3(g->in), oh = item % OH, od = (item / OH) % OD, plane = item / (OH * OD);
    const float *xp = A->x + plane * IS;
    int64_t d0, d1, h0, h1;  // only the taps inside the input: a huge window costs nothing
    ck_axis_taps(g, 0, od, &d0, &d1);
    ck_axis_taps(g, 1, oh, &h0, &h1);
    for (int64_t ow = 0; ow < OW; ow++) {
        float m = -INFINITY;
        int64_t best = -1, w0, w1;
        ck_axis_taps(g, 2, ow, &w0, &w1);
        for (int64_t kd = d0; kd < d1; kd++) {
            const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
            for (int64_t kh = h0; kh < h1; kh++) {
                const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
                for (int64_t kw = w0; kw < w1; kw++) {
                    const int64_t iw = ow * g->stride[2] - g->pad[2] + kw * g->dilation[2];
                    const float v = xp[(id * IH + ih) * IW + iw];
                    const int64_t flat = plane * IS + (d->column_major ? ih + iw * IH : (id * IH + ih) * IW + iw);
                    if (best < 0) best = flat;  // the first tap inside the input
                    if (PICK(v, m)) { m = v; best = flat; }
                }
            }
        }
        A->y[item * OW + ow] = m;
        if (A->ix) A->ix[item * OW + ow] = best;
    }
}
