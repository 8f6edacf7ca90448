// The kernel behind AveragePool and LpPool: window sums of f(x) (x, |x|, x², |x|^p) over the taps inside the
// input, then the per-window divisor or root. Work item = (plane, output row, block of columns); padding reads as 0.
// These outputs are compared with a tolerance, so the summation order is free; it is fixed per element, so results
// do not depend on the thread count.
#include <math.h>
#include <stdlib.h>
#include "pool_internal.h"

enum { B = 16 };  // columns kept in registers across the taps of one input row

typedef struct {
    const ck_pool_desc *d;
    const ck_rowplan *rp;
    const float *divisor;  // average: per output column of a plane row, the w factor of the divisor
    const float *dh;       // average: per (od, oh), the d·h factor
    int f;
    float p;
    const float *x;
    float *y;
} sum_args;

static inline float term(int f, float v, float p) {
    return f == 0 ? v : f == 1 ? fabsf(v) : f == 2 ? v * v : powf(fabsf(v), p);
}

CK_INLINE
void ck_pool_sum_item(const sum_args *A, int64_t item, float *acc, float *buf) {
    const ck_pool_desc *d = A->d;
    const ck_window *g = &d->g;
    const ck_rowplan *rp = A->rp;
    const int f = A->f;
    const float p = A->p;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KW = g->kernel[2];
    const int64_t wblocks = (OW + CK_POOL_OWB - 1) / CK_POOL_OWB;
    int64_t rest = item;
    const int64_t wb = rest % wblocks; rest /= wblocks;
    const int64_t oh = rest % OH; rest /= OH;
    const int64_t od = rest % OD, plane = rest / OD;
    const int64_t ow0 = wb * CK_POOL_OWB, len = ck_min(OW, ow0 + CK_POOL_OWB) - ow0;
    const float *xp = A->x + plane * ID * IH * IW;

    for (int64_t i = 0; i < len; i++) acc[i] = 0.0f;
    for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
        const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
        if (id < 0 || id >= ID) continue;
        for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
            const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            if (ih < 0 || ih >= IH) continue;
            const float *base = ck_row_build(rp, xp + (id * IH + ih) * IW, ow0, len, 0.0f, buf);
            int64_t i = 0;
            for (; i + B <= len; i += B) {
                float a[B];
                for (int j = 0; j < B; j++) a[j] = acc[i + j];
                for (int64_t kw = 0; kw < KW; kw++) {
                    const float *v = ck_row_tap(rp, base, kw) + i;
                    switch (f) {
                    case 0: for (int j = 0; j < B; j++) a[j] += v[j]; break;
                    case 1: for (int j = 0; j < B; j++) a[j] += fabsf(v[j]); break;
                    case 2: for (int j = 0; j < B; j++) a[j] += v[j] * v[j]; break;
                    default: for (int j = 0; j < B; j++) a[j] += powf(fabsf(v[j]), p); break;
                    }
                }
                for (int j = 0; j < B; j++) acc[i + j] = a[j];
            }
            for (int64_t kw = 0; kw < KW; kw++) {
                const float *v = ck_row_tap(rp, base, kw);
                for (int64_t k = i; k < len; k++) acc[k] += term(f, v[k], p);
            }
        }
    }
    float *dst = A->y + ((plane * OD + od) * OH + oh) * OW + ow0;
    if (f == 0) {
        const float dh = A->dh[od * OH + oh];
        const float *cw = A->divisor + ow0;
        for (int64_t i = 0; i < len; i++) dst[i] = acc[i] / (dh * cw[i]);
    } else if (f == 1) {
        for (int64_t i = 0; i < len; i++) dst[i] = acc[i];
    } else if (f == 2) {
        for (int64_t i = 0; i < len; i++) dst[i] = sqrtf(acc[i]);
    } else {
        for (int64_t i = 0; i < len; i++) dst[i] = powf(acc[i], 1.0f / p);
    }
}

CK_HOT static
void ck_pool_sum_worker(const sum_args *A, int64_t items, int64_t chunk, int64_t *next, float *acc, float *buf) {
    CK_DYNAMIC_FOR(it, items, chunk, *next) ck_pool_sum_item(A, it, acc, buf);
}

/// Whole-plane windows (global pooling): 8 interleaved partial sums per plane, combined in a fixed order.
#define GLOBAL_SUM(T)                                                                                                \
    for (; i + 8 <= n; i += 8)                                                                                       \
        for (int j = 0; j < 8; j++) { const float x = v[i + j]; part[j] += (T); }                                   \
    for (; i < n; i++) { const float x = v[i]; part[i % 8] += (T); }

CK_INLINE
void ck_global_sum(int f, float p, const float *v, int64_t n, float *out) {
    float part[8] = {0};
    int64_t i = 0;
    switch (f) {
    case 0: GLOBAL_SUM(x) break;
    case 1: GLOBAL_SUM(fabsf(x)) break;
    case 2: GLOBAL_SUM(x * x) break;
    default: GLOBAL_SUM(powf(fabsf(x), p)) break;
    }
    const float s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    *out = f == 0 ? s / (float)n : f == 1 ? s : f == 2 ? sqrtf(s) : powf(s, 1.0f / p);
}

CK_HOT static
void ck_global_worker(int f, float p, const float *x, int64_t IS, float *y, int64_t planes) {
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) ck_global_sum(f, p, x + pl * IS, IS, y + pl);
}

/// f: 0 average (count_include_pad in `include_pad`), 1/2/3 Lp with p = 1 / 2 / other.
int ck_pool_sum_kernel(const ck_pool_desc *d, int f, float p, int include_pad, const float *x, int64_t x_count, float *y,
                       int64_t y_count, int threads) {
    int status = ck_pool_check(d, x, x_count, y, y_count);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    const ck_window *g = &d->g;
    if (ck_pool_is_global(g)) {
        const int64_t planes = d->batch * d->channels, IS = ck_prod3(g->in);
#pragma omp parallel num_threads(ck_team_for(threads, x_count))
        ck_global_worker(f, p, x, IS, y, planes);
        return CK_OK;
    }
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    ck_rowplan rp;
    if (ck_rowplan_init(&rp, g, CK_POOL_OWB) != CK_OK) return CK_ERR_NOMEM;
    // Average divisors: taps inside the input (or inside input + explicit padding with count_include_pad), per axis.
    float *divisor = f == 0 ? malloc(sizeof(float) * (size_t)(OW + OD * OH)) : NULL;
    if (f == 0 && !divisor) {
        ck_rowplan_free(&rp);
        return CK_ERR_NOMEM;
    }
    if (f == 0) {
        int64_t lo[3], hi[3];
        for (int a = 0; a < 3; a++) {
            lo[a] = include_pad ? -g->pad[a] : 0;
            hi[a] = g->in[a] + (include_pad ? d->pad_end[a] : 0);
        }
        for (int64_t ow = 0; ow < OW; ow++)
            divisor[ow] = (float)ck_axis_count(ow, g->stride[2], g->pad[2], g->kernel[2], g->dilation[2], lo[2], hi[2]);
        for (int64_t od = 0; od < OD; od++)
            for (int64_t oh = 0; oh < OH; oh++)
                divisor[OW + od * OH + oh] =
                    (float)(ck_axis_count(od, g->stride[0], g->pad[0], g->kernel[0], g->dilation[0], lo[0], hi[0]) *
                            ck_axis_count(oh, g->stride[1], g->pad[1], g->kernel[1], g->dilation[1], lo[1], hi[1]));
    }
    const sum_args A = {d, &rp, divisor, divisor ? divisor + OW : NULL, f, p, x, y};
    const int64_t items = d->batch * d->channels * OD * OH * ((OW + CK_POOL_OWB - 1) / CK_POOL_OWB);
    const int team = ck_team_for(threads, ck_work3(y_count, ck_prod3(g->kernel), 1) + x_count);
    int failed = 0;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(items, team);
#pragma omp parallel num_threads(team)
    {
        float *acc = malloc(sizeof(float) * CK_POOL_OWB);
        float *buf = malloc(sizeof(float) * (size_t)ck_rowplan_floats(&rp));
        if (!ck_team_failed(&failed, !acc || !buf)) {
            ck_pool_sum_worker(&A, items, chunk, &next, acc, buf);
        }
        free(acc); free(buf);
    }
    ck_rowplan_free(&rp);
    free(divisor);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
