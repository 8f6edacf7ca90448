// MaxPool. Work item = (plane, output row, block of columns). The taps of a window are visited in row-major
// window order and each replaces the running maximum only if strictly greater (ties keep the first) or if it is
// the first NaN (a window holding NaN yields NaN). Padding reads as -inf, which never replaces anything, and the
// index starts at the window's first tap inside the input, so a window of -inf reports that tap.
#include <math.h>
#include <stdlib.h>
#include "pool_internal.h"
#include "../common/ck_planes.h"

enum { B = 8 };  // columns kept in registers across the taps of one input row

typedef struct {
    const ck_pool_desc *d;
    const ck_rowplan *rp;
    const int64_t *first;  // per output column: input column of its first tap inside the row, or -1
    const float *x;
    float *y;
    int64_t *ix;
} maxpool_args;

#define PICK(c, m) ((c) > (m) || ((c) != (c) && (m) == (m)))

CK_INLINE
void ck_maxpool_item(const maxpool_args *A, int64_t item, float *acc, int64_t *idx, float *buf) {
    const ck_pool_desc *d = A->d;
    const ck_window *g = &d->g;
    const ck_rowplan *rp = A->rp;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t s = g->stride[2];
    const int64_t wblocks = (OW + CK_POOL_OWB - 1) / CK_POOL_OWB;
    int64_t rest = item;
    const int64_t wb = rest % wblocks; rest /= wblocks;
    const int64_t oh = rest % OH; rest /= OH;
    const int64_t od = rest % OD, plane = rest / OD;
    const int64_t ow0 = wb * CK_POOL_OWB, len = ck_min(OW, ow0 + CK_POOL_OWB) - ow0;
    const int64_t IS = ID * IH * IW;
    const float *xp = A->x + plane * IS;
    const int with_idx = A->ix != NULL;
    const int64_t colstride = d->column_major ? IH : 1, step = s * colstride;

    for (int64_t i = 0; i < len; i++) acc[i] = -INFINITY;
    // Only the window's rows inside the input, and per block of columns only the taps some column reads inside the
    // row: the others read -inf, which never replaces anything.
    int64_t d0, d1, h0, h1;
    ck_axis_taps(g, 0, od, &d0, &d1);
    ck_axis_taps(g, 1, oh, &h0, &h1);
    if (with_idx) {
        // The first row of the window inside the input, if any.
        const int64_t id0 = d0 < d1 ? od * g->stride[0] - g->pad[0] + d0 * g->dilation[0] : -1;
        const int64_t ih0 = h0 < h1 ? oh * g->stride[1] - g->pad[1] + h0 * g->dilation[1] : -1;
        const int64_t rowbase = plane * IS + (d->column_major ? ih0 : (id0 * IH + ih0) * IW);
        for (int64_t i = 0; i < len; i++) {
            const int64_t col = A->first[ow0 + i];
            idx[i] = id0 < 0 || ih0 < 0 || col < 0 ? -1 : rowbase + col * colstride;
        }
    }
    for (int64_t kd = d0; kd < d1; kd++) {
        const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
        for (int64_t kh = h0; kh < h1; kh++) {
            const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            const float *base = ck_row_build(rp, xp + (id * IH + ih) * IW, ow0, len, -INFINITY, buf);
            // Flat index of tap kw at block column i: rowbase + (q + (ow0 + i)*s)*colstride, q = kw*d - p.
            const int64_t rowbase = plane * IS + (d->column_major ? ih : (id * IH + ih) * IW)
                                    + (ow0 * s - g->pad[2]) * colstride;
            int64_t i = 0, k0 = 0, k1 = 0;
            if (!with_idx) {
                for (; i + B <= len; i += B) {
                    float a[B];
                    for (int j = 0; j < B; j++) a[j] = acc[i + j];
                    ck_block_taps(g, ow0 + i, ow0 + i + B - 1, &k0, &k1);
                    for (int64_t kw = k0; kw < k1; kw++) {
                        const float *v = ck_row_tap(rp, base, kw) + i;
                        for (int j = 0; j < B; j++) a[j] = PICK(v[j], a[j]) ? v[j] : a[j];
                    }
                    for (int j = 0; j < B; j++) acc[i + j] = a[j];
                }
                k0 = k1 = 0;
                if (i < len) ck_block_taps(g, ow0 + i, ow0 + len - 1, &k0, &k1);
                for (int64_t kw = k0; kw < k1; kw++) {
                    const float *v = ck_row_tap(rp, base, kw);
                    for (int64_t k = i; k < len; k++) acc[k] = PICK(v[k], acc[k]) ? v[k] : acc[k];
                }
            } else {
                for (; i + B <= len; i += B) {
                    float a[B];
                    int64_t t[B];
                    for (int j = 0; j < B; j++) { a[j] = acc[i + j]; t[j] = idx[i + j]; }
                    ck_block_taps(g, ow0 + i, ow0 + i + B - 1, &k0, &k1);
                    for (int64_t kw = k0; kw < k1; kw++) {
                        const float *v = ck_row_tap(rp, base, kw) + i;
                        const int64_t base = rowbase + (kw * rp->d) * colstride + i * step;
                        for (int j = 0; j < B; j++) {
                            const int take = PICK(v[j], a[j]);
                            a[j] = take ? v[j] : a[j];
                            t[j] = take ? base + j * step : t[j];
                        }
                    }
                    for (int j = 0; j < B; j++) { acc[i + j] = a[j]; idx[i + j] = t[j]; }
                }
                k0 = k1 = 0;
                if (i < len) ck_block_taps(g, ow0 + i, ow0 + len - 1, &k0, &k1);
                for (int64_t kw = k0; kw < k1; kw++) {
                    const float *v = ck_row_tap(rp, base, kw);
                    const int64_t base = rowbase + (kw * rp->d) * colstride;
                    for (int64_t k = i; k < len; k++)
                        if (PICK(v[k], acc[k])) { acc[k] = v[k]; idx[k] = base + k * step; }
                }
            }
        }
    }
    const int64_t out0 = ((plane * OD + od) * OH + oh) * OW + ow0;
    for (int64_t i = 0; i < len; i++) A->y[out0 + i] = acc[i];
    if (with_idx)
        for (int64_t i = 0; i < len; i++) A->ix[out0 + i] = idx[i];
}

/// One thread's share: items claimed from `next` until none are left.
CK_INLINE
void ck_maxpool_worker_body(const maxpool_args *A, int64_t items, int64_t chunk, int64_t *next, float *acc,
                            int64_t *idx, float *buf) {
    CK_DYNAMIC_FOR(it, items, chunk, *next) ck_maxpool_item(A, it, acc, idx, buf);
}
CK_POOL_ISA_VARIANTS(ck_maxpool_worker, (const maxpool_args *A, int64_t items, int64_t chunk, int64_t *next,
                                         float *acc, int64_t *idx, float *buf), (A, items, chunk, next, acc, idx, buf))

/// 1-D/2-D planes that fit (common/ck_planes.h): work item = plane; taps in row-major window order over the
/// flattened output, -inf padding, tracking which tap won (then turned into the flat input index).
enum { PB = 32 };
#define PLANE_BLOCK(W, TRACK, TAKE)                                                                                 \
    for (; i + (W) <= n; i += (W)) {                                                                                \
        float a[W];                                                                                                 \
        int32_t tw[W];                                                                                              \
        for (int j = 0; j < (W); j++) { a[j] = -INFINITY; tw[j] = -1; }                                            \
        for (int64_t t = 0; t < T; t++) {                                                                           \
            const float *v = ph + off[t] + i;                                                                       \
            for (int j = 0; j < (W); j++) {                                                                         \
                const int take = TAKE(v[j], a[j]);                                                                  \
                a[j] = take ? v[j] : a[j];                                                                          \
                if (TRACK) tw[j] = take ? (int32_t)t : tw[j];                                                       \
            }                                                                                                       \
        }                                                                                                           \
        for (int j = 0; j < (W); j++) { acc[i + j] = a[j]; if (TRACK) tap[i + j] = tw[j]; }                        \
    }
/// Without NaN in the plane, PICK is plain `>`: one vmaxps per tap for values.
#define GREATER(c, m) ((c) > (m))

CK_INLINE
void ck_maxpool_plane_worker_body(const ck_pool_desc *d, const ck_plane_plan *pp, const int64_t *first_row,
                             const int64_t *first_col, const float *x, float *y, int64_t *ix, int64_t planes,
                             int64_t *next, float *ph, float *acc, int32_t *tap) {
    const ck_window *g = &d->g;
    const int64_t IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2], IS = IH * IW;
    const int64_t KW = g->kernel[2], T = g->kernel[1] * KW, n = pp->n, Wq = pp->Wq;
    const int64_t *off = pp->off;
    int64_t tap_dh[64 * 64], tap_dw[64 * 64];  // per tap: row and column offset within the window (KH, KW <= 64)
    for (int64_t t = 0; t < T; t++) {
        tap_dh[t] = (t / KW) * g->dilation[1];
        tap_dw[t] = (t % KW) * g->dilation[2];
    }
    CK_DYNAMIC_FOR(pl, planes, 1, *next) {
        ck_build_planes(g, pp, x + pl * IS, -INFINITY, ph);
        int nan = 0;  // the exact NaN rule costs 4 extra operations per tap; most planes hold no NaN
        const float *xp = x + pl * IS;
        for (int64_t k = 0; k < IS; k++) nan |= xp[k] != xp[k];
        int64_t i = 0;
        if (nan && ix) {
            PLANE_BLOCK(PB, 1, PICK)
            PLANE_BLOCK(1, 1, PICK)
        } else if (nan) {
            PLANE_BLOCK(PB, 0, PICK)
            PLANE_BLOCK(1, 0, PICK)
        } else if (ix) {
            PLANE_BLOCK(PB, 1, GREATER)
            PLANE_BLOCK(1, 1, GREATER)
        } else {
            PLANE_BLOCK(PB, 0, GREATER)
            PLANE_BLOCK(1, 0, GREATER)
        }
        float *out = y + pl * OH * OW;
        for (int64_t r = 0; r < OH; r++)
            for (int64_t c = 0; c < OW; c++) out[r * OW + c] = acc[r * Wq + c];
        if (!ix) continue;
        int64_t *oi = ix + pl * OH * OW;
        for (int64_t r = 0; r < OH; r++)
            for (int64_t c = 0; c < OW; c++) {
                const int32_t t = tap[r * Wq + c];
                int64_t ih, iw;
                if (t >= 0) {
                    ih = r * g->stride[1] - g->pad[1] + tap_dh[t];
                    iw = c * g->stride[2] - g->pad[2] + tap_dw[t];
                } else {  // every tap -inf: the first tap inside the input
                    ih = first_row[r];
                    iw = first_col[c];
                }
                oi[r * OW + c] = ih < 0 || iw < 0 ? -1 : pl * IS + (d->column_major ? ih + iw * IH : ih * IW + iw);
            }
    }
}

CK_POOL_ISA_VARIANTS(ck_maxpool_plane_worker,
                     (const ck_pool_desc *d, const ck_plane_plan *pp, const int64_t *first_row,
                      const int64_t *first_col, const float *x, float *y, int64_t *ix, int64_t planes,
                      int64_t *next, float *ph, float *acc, int32_t *tap),
                     (d, pp, first_row, first_col, x, y, ix, planes, next, ph, acc, tap))

/// Whole-plane windows (global max pooling): one pass in memory order, which is row-major window order.
CK_INLINE void global_max_body(const ck_pool_desc *d, const float *x, float *y, int64_t *ix) {
    const int64_t planes = d->batch * d->channels, IS = ck_prod3(d->g.in), IH = d->g.in[1], IW = d->g.in[2];
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        const float *v = x + p * IS;
        float m = -INFINITY;
        int64_t best = 0;
        for (int64_t i = 0; i < IS; i++)
            if (PICK(v[i], m)) { m = v[i]; best = i; }
        y[p] = m;
        if (ix) ix[p] = p * IS + (d->column_major ? (best / IW) + (best % IW) * IH : best);
    }
}
CK_POOL_ISA_VARIANTS(global_max, (const ck_pool_desc *d, const float *x, float *y, int64_t *ix), (d, x, y, ix))

int ck_maxpool_ncx_f32(const ck_pool_desc *d, const float *x, int64_t x_count, float *y, int64_t y_count,
                       int64_t *indices, int threads, int isa) {
    int status = ck_pool_check(d, x, x_count, y, y_count);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    isa = ck_isa_resolve(isa);
    const ck_window *g = &d->g;
    if (ck_pool_is_global(g)) {
#pragma omp parallel num_threads(ck_team_for(threads, x_count))
        CK_POOL_ISA_CALL(global_max, isa, (d, x, y, indices));
        return CK_OK;
    }
    ck_plane_plan pp;
    const int planes_fit = ck_plane_plan_init(&pp, g, 1, 64 * 1024);
#if defined(__x86_64__)
    // Without indices, planes that fit as phase planes run faster whole (one long pass per tap) than row by row;
    // with indices the row kernels' tap tracking is cheaper.
    if (isa >= CK_ISA_AVX2 && (!planes_fit || indices) && ck_prow_supported(d, indices != NULL, 0)) {
        int32_t *first_kw = indices ? malloc(sizeof(int32_t) * (size_t)g->out[2]) : NULL;
        if (indices && !first_kw) return CK_ERR_NOMEM;
        for (int64_t ow = 0; indices && ow < g->out[2]; ow++) {
            int32_t kw = 0;  // ck_prow_supported checked that every window has a column inside the row
            while (ow * g->stride[2] - g->pad[2] + kw * g->dilation[2] < 0) kw++;
            first_kw[ow] = kw;
        }
        const ck_prow_args A = {d, x, y, indices, first_kw, NULL, NULL, 0};
        status = isa >= CK_ISA_AVX512 ? ck_maxpool_rows_avx512(&A, threads) : ck_maxpool_rows_avx2(&A, threads);
        free(first_kw);
        return status;
    }
#endif
    if (!planes_fit && ck_pool_wide(g)) {
        // A window far wider than the row: one output at a time over its taps inside the input.
        const ck_prow_args A = {d, x, y, indices, NULL, NULL, NULL, 0};
        const int64_t rows = d->batch * d->channels * g->out[0] * g->out[1];
#pragma omp parallel for num_threads(ck_team_for(threads, ck_work3(y_count, ck_min(g->kernel[2], g->in[2] + 1), 1))) schedule(static)
        for (int64_t r = 0; r < rows; r++) ck_max_row_exact(&A, r);
        return CK_OK;
    }
    ck_rowplan rp;
    if (ck_rowplan_init(&rp, g, CK_POOL_OWB) != CK_OK) return CK_ERR_NOMEM;
    const int64_t OW = g->out[2];
    int64_t *first = malloc(sizeof(int64_t) * (size_t)OW);
    if (!first) {
        ck_rowplan_free(&rp);
        return CK_ERR_NOMEM;
    }
    for (int64_t ow = 0; ow < OW; ow++) {  // the first column of each window inside the row, or -1
        int64_t k0, k1;
        ck_axis_taps(g, 2, ow, &k0, &k1);
        first[ow] = k0 < k1 ? ow * g->stride[2] - g->pad[2] + k0 * g->dilation[2] : -1;
    }
    if (planes_fit) {
        int64_t *first_row = malloc(sizeof(int64_t) * (size_t)g->out[1]);
        if (!first_row || ck_plane_offsets(&pp, g) != CK_OK) {
            free(first_row); free(first); ck_rowplan_free(&rp);
            return CK_ERR_NOMEM;
        }
        for (int64_t oh = 0; oh < g->out[1]; oh++) {
            int64_t k0, k1;
            ck_axis_taps(g, 1, oh, &k0, &k1);
            first_row[oh] = k0 < k1 ? oh * g->stride[1] - g->pad[1] + k0 * g->dilation[1] : -1;
        }
        const int64_t planes = d->batch * d->channels;
        const int team = ck_team_for(threads, ck_work3(y_count, ck_prod3(g->kernel), 1) + x_count);
        int failed = 0;
        int64_t next = 0;
#pragma omp parallel num_threads((int)ck_min(team, planes))
        {
            float *ph = malloc(sizeof(float) * (size_t)ck_plane_floats(&pp));
            float *acc = malloc(sizeof(float) * (size_t)pp.n);
            int32_t *tap = malloc(sizeof(int32_t) * (size_t)pp.n);
            if (!ck_team_failed(&failed, !ph || !acc || !tap))
                CK_POOL_ISA_CALL(ck_maxpool_plane_worker, isa,
                                 (d, &pp, first_row, first, x, y, indices, planes, &next, ph, acc, tap));
            free(ph); free(acc); free(tap);
        }
        free(pp.off); free(first_row); free(first); ck_rowplan_free(&rp);
        return failed ? CK_ERR_NOMEM : CK_OK;
    }
    const maxpool_args A = {d, &rp, first, x, y, indices};
    const int64_t items = d->batch * d->channels * g->out[0] * g->out[1] * ((OW + CK_POOL_OWB - 1) / CK_POOL_OWB);
    const int team = ck_team_for(threads, ck_work3(y_count, ck_prod3(g->kernel), 1) + x_count);
    int failed = 0;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(items, team);
#pragma omp parallel num_threads(team)
    {
        float *acc = malloc(sizeof(float) * CK_POOL_OWB);
        int64_t *idx = malloc(sizeof(int64_t) * CK_POOL_OWB);
        float *buf = malloc(sizeof(float) * (size_t)ck_rowplan_floats(&rp));
        if (!ck_team_failed(&failed, !acc || !idx || !buf)) {
            CK_POOL_ISA_CALL(ck_maxpool_worker, isa, (&A, items, chunk, &next, acc, idx, buf));
        }
        free(acc); free(idx); free(buf);
    }
    free(first);
    ck_rowplan_free(&rp);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
