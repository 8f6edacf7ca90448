#include <math.h>
#include <stdlib.h>
#include "pool_internal.h"

int ck_row_taps_init(ck_row_taps *t, const ck_window *g) {
    const int64_t KW = g->kernel[2], s = g->stride[2], d = g->dilation[2], p = g->pad[2];
    t->KW = KW; t->s = s; t->OW = g->out[2]; t->IW = g->in[2];
    int64_t *buf = malloc(sizeof(int64_t) * 5 * (size_t)KW);
    if (!buf) return CK_ERR_NOMEM;
    t->q = buf; t->lo = buf + KW; t->hi = buf + 2 * KW; t->qd = buf + 3 * KW; t->r = buf + 4 * KW;
    for (int64_t kw = 0; kw < KW; kw++) {
        t->q[kw] = kw * d - p;
        t->qd[kw] = ck_floordiv(t->q[kw], s);
        t->r[kw] = t->q[kw] - t->qd[kw] * s;
        ck_valid_range(t->OW, t->IW, s, t->q[kw], &t->lo[kw], &t->hi[kw]);
    }
    t->ulo_off = ck_floordiv(-p, s);
    t->uhi_off = ck_floordiv((KW - 1) * d - p, s) + 1;
    t->nph = s == 1 ? 0 : ck_min(s, t->IW);
    t->plen = s == 1 ? 0 : ck_min((t->IW + s - 1) / s, CK_POOL_OWB + (KW - 1) * d / s + 2) + 1;
    return CK_OK;
}

void ck_row_taps_free(ck_row_taps *t) { free(t->q); }

CK_HOT
int64_t ck_row_split(const ck_row_taps *t, const float *row, int64_t ow0, int64_t ow1, float *ph) {
    const int64_t s = t->s, IW = t->IW, n = (IW + s - 1) / s;
    const int64_t ulo = ck_max(0, ow0 + t->ulo_off), uhi = ck_min(n, ow1 + t->uhi_off);
    if (s == 2) {
        float *e = ph, *o = ph + t->plen;
        const int64_t full = ck_min(uhi, IW / 2);  // u with both 2u and 2u+1 inside the row
        int64_t u = ulo;
        for (; u < full; u++) { e[u - ulo] = row[2 * u]; o[u - ulo] = row[2 * u + 1]; }
        for (; u < uhi; u++) e[u - ulo] = row[2 * u];
        return ulo;
    }
    for (int64_t r = 0; r < t->nph; r++) {
        float *dst = ph + r * t->plen;
        const int64_t end = ck_min(uhi, (IW - r + s - 1) / s);  // u*s + r < IW
        for (int64_t u = ulo; u < end; u++) dst[u - ulo] = row[u * s + r];
    }
    return ulo;
}

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
    int64_t kmin = base >= lo_bound ? 0 : (lo_bound - base + d - 1) / d;
    int64_t kmax = ck_floordiv(hi_bound - 1 - base, d);  // inclusive
    kmax = ck_min(kmax, K - 1);
    return kmax >= kmin ? kmax - kmin + 1 : 0;
}

CK_HOT
void ck_pool_sum_row(const ck_pool_desc *d, const ck_row_taps *t, const float *plane, int64_t od, int64_t oh,
                     int64_t ow0, int64_t len, int f, float p, float *acc, float *ph) {
    const ck_window *g = &d->g;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
    for (int64_t i = 0; i < len; i++) acc[i] = 0.0f;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
        const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
        if (id < 0 || id >= ID) continue;
        for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
            const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            if (ih < 0 || ih >= IH) continue;
            const float *row = plane + (id * IH + ih) * IW;
            const int64_t ulo = t->s == 1 ? 0 : ck_row_split(t, row, ow0, ow0 + len, ph);
            for (int64_t kw = 0; kw < t->KW; kw++) {
                const int64_t lo = ck_max(t->lo[kw], ow0), hi = ck_min(t->hi[kw], ow0 + len);
                if (lo >= hi) continue;
                const float *v = ck_row_tap(t, row, ph, ulo, kw, lo);
                float *a = acc + (lo - ow0);
                const int64_t n = hi - lo;
                switch (f) {
                case 0: for (int64_t i = 0; i < n; i++) a[i] += v[i]; break;
                case 1: for (int64_t i = 0; i < n; i++) a[i] += fabsf(v[i]); break;
                case 2: for (int64_t i = 0; i < n; i++) a[i] += v[i] * v[i]; break;
                default: for (int64_t i = 0; i < n; i++) a[i] += powf(fabsf(v[i]), p); break;
                }
            }
        }
    }
}
