// MaxPool. Work item = (plane, output row, block of columns); the taps of the window are visited in row-major
// window order and each replaces the running maximum only if strictly greater (ties keep the first) or if it is
// the first NaN (a window holding NaN yields NaN). Padding is never read.
#include <math.h>
#include <stdlib.h>
#include "pool_internal.h"

typedef struct {
    const ck_pool_desc *d;
    const ck_row_taps *t;
    const float *x;
    float *y;
    int64_t *ix;
} maxpool_args;

CK_HOT static
void ck_maxpool_item(const maxpool_args *A, int64_t item, float *acc, int64_t *idx, float *ph) {
    const ck_pool_desc *d = A->d;
    const ck_window *g = &d->g;
    const ck_row_taps *t = A->t;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t wblocks = (OW + CK_POOL_OWB - 1) / CK_POOL_OWB;
    int64_t rest = item;
    const int64_t wb = rest % wblocks; rest /= wblocks;
    const int64_t oh = rest % OH; rest /= OH;
    const int64_t od = rest % OD, plane = rest / OD;
    const int64_t ow0 = wb * CK_POOL_OWB, len = ck_min(OW, ow0 + CK_POOL_OWB) - ow0;
    const int64_t IS = ID * IH * IW;
    const float *xp = A->x + plane * IS;
    const int with_idx = A->ix != NULL;
    const int64_t colstride = d->column_major ? IH : 1;

    for (int64_t i = 0; i < len; i++) { acc[i] = -INFINITY; }
    if (with_idx) {
        // The first tap inside the input wins when every value is -inf; -1 marks a window with no such tap.
        int64_t kd0 = -1, kh0 = -1, id0 = 0, ih0 = 0;
        for (int64_t kd = 0; kd < g->kernel[0] && kd0 < 0; kd++) {
            id0 = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
            if (id0 >= 0 && id0 < ID) kd0 = kd;
        }
        for (int64_t kh = 0; kh < g->kernel[1] && kh0 < 0; kh++) {
            ih0 = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            if (ih0 >= 0 && ih0 < IH) kh0 = kh;
        }
        for (int64_t i = 0; i < len; i++) idx[i] = -1;
        if (kd0 >= 0 && kh0 >= 0) {
            const int64_t rowbase = plane * IS + (d->column_major ? ih0 : (id0 * IH + ih0) * IW);
            for (int64_t kw = t->KW - 1; kw >= 0; kw--) {  // descending, so the smallest valid kw is written last
                const int64_t lo = ck_max(t->lo[kw], ow0), hi = ck_min(t->hi[kw], ow0 + len);
                for (int64_t ow = lo; ow < hi; ow++) idx[ow - ow0] = rowbase + (ow * t->s + t->q[kw]) * colstride;
            }
        }
    }
    for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
        const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
        if (id < 0 || id >= ID) continue;
        for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
            const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            if (ih < 0 || ih >= IH) continue;
            const float *row = xp + (id * IH + ih) * IW;
            const int64_t ulo = t->s == 1 ? 0 : ck_row_split(t, row, ow0, ow0 + len, ph);
            const int64_t rowbase = plane * IS + (d->column_major ? ih : (id * IH + ih) * IW);
            for (int64_t kw = 0; kw < t->KW; kw++) {
                const int64_t lo = ck_max(t->lo[kw], ow0), hi = ck_min(t->hi[kw], ow0 + len);
                if (lo >= hi) continue;
                const float *v = ck_row_tap(t, row, ph, ulo, kw, lo);
                float *a = acc + (lo - ow0);
                const int64_t n = hi - lo;
                if (!with_idx) {
                    for (int64_t i = 0; i < n; i++) {
                        const float c = v[i], m = a[i];
                        a[i] = (c > m || (c != c && m == m)) ? c : m;
                    }
                } else {
                    int64_t *ia = idx + (lo - ow0);
                    const int64_t i0 = rowbase + (lo * t->s + t->q[kw]) * colstride, step = t->s * colstride;
                    for (int64_t i = 0; i < n; i++) {
                        const float c = v[i], m = a[i];
                        const int take = c > m || (c != c && m == m);
                        a[i] = take ? c : m;
                        ia[i] = take ? i0 + i * step : ia[i];
                    }
                }
            }
        }
    }
    const int64_t out0 = ((plane * OD + od) * OH + oh) * OW + ow0;
    for (int64_t i = 0; i < len; i++) A->y[out0 + i] = acc[i];
    if (with_idx)
        for (int64_t i = 0; i < len; i++) A->ix[out0 + i] = idx[i];
}

/// Whole-plane windows without padding (global max pooling): one pass in memory order, which is row-major order.
static void global_max(const ck_pool_desc *d, const float *x, float *y, int64_t *ix, int threads) {
    const int64_t planes = d->batch * d->channels, IS = ck_prod3(d->g.in), IH = d->g.in[1], IW = d->g.in[2];
#pragma omp parallel for num_threads(ck_team(threads)) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        const float *v = x + p * IS;
        float m = -INFINITY;
        int64_t best = IS ? 0 : -1;
        for (int64_t i = 0; i < IS; i++) {
            const float c = v[i];
            if (c > m || (c != c && m == m)) { m = c; best = i; }
        }
        y[p] = m;
        if (ix) ix[p] = best < 0 ? -1 : p * IS + (d->column_major ? (best / IW) + (best % IW) * IH : best);
    }
}

int ck_maxpool_ncx_f32(const ck_pool_desc *d, const float *x, int64_t x_count, float *y, int64_t y_count,
                       int64_t *indices, int threads) {
    int status = ck_pool_check(d, x, x_count, y, y_count);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    const ck_window *g = &d->g;
    int global = 1;
    for (int a = 0; a < 3; a++)
        global &= g->out[a] == 1 && g->kernel[a] == g->in[a] && g->pad[a] == 0 && g->dilation[a] == 1;
    if (global) {
        global_max(d, x, y, indices, threads);
        return CK_OK;
    }
    ck_row_taps t;
    if (ck_row_taps_init(&t, g) != CK_OK) return CK_ERR_NOMEM;
    const maxpool_args A = {d, &t, x, y, indices};
    const int64_t items = d->batch * d->channels * g->out[0] * g->out[1] * ((g->out[2] + CK_POOL_OWB - 1) / CK_POOL_OWB);
    int failed = 0;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(items, threads);
#pragma omp parallel num_threads(ck_team(threads))
    {
        float *acc = malloc(sizeof(float) * CK_POOL_OWB);
        int64_t *idx = malloc(sizeof(int64_t) * CK_POOL_OWB);
        float *ph = malloc(sizeof(float) * (size_t)ck_max(1, t.nph * t.plen));
        if (!ck_team_failed(&failed, !acc || !idx || !ph)) {
            CK_DYNAMIC_FOR(it, items, chunk, next) ck_maxpool_item(&A, it, acc, idx, ph);
        }
        free(acc); free(idx); free(ph);
    }
    ck_row_taps_free(&t);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
