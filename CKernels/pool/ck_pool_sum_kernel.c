// The kernel behind AveragePool and LpPool: window sums of f(x) (x, |x|, x², |x|^p) over the taps inside the
// input, then the per-window divisor or root. Work item = (plane, output row, block of columns); padding reads as 0.
// These outputs are compared with a tolerance, so the summation order is free; it is fixed per element, so results
// do not depend on the thread count.
#include <math.h>
#include <stdlib.h>
#include "pool_internal.h"

enum { B = 8 };  // columns kept in registers across the taps of one input row

typedef struct {
    const ck_pool_desc *d;
    const ck_rowplan *rp;
    const float *divisor;  // average: per output column of a plane row, the w factor of the divisor
    const float *dh;       // average: per (od, oh), the d·h factor
    int span;              // windows overlap or touch along w: sum rows first (buffer: the block's input span)
    const float *inverse;  // average, plane path: 1 / divisor per output of a plane (a multiply is 8x a divide)
    ck_sum_term f;
    float p;
    const float *x;
    float *y;
} sum_args;

static inline float term(ck_sum_term f, float v, float p) {
    return f == CK_SUM_PLAIN ? v : f == CK_SUM_ABS ? fabsf(v) : f == CK_SUM_SQUARE ? v * v : powf(fabsf(v), p);
}

CK_INLINE
void ck_pool_sum_item(const sum_args *A, int64_t item, float *acc, float *buf) {
    const ck_pool_desc *d = A->d;
    const ck_window *g = &d->g;
    const ck_rowplan *rp = A->rp;
    const ck_sum_term f = A->f;
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

    // Only the window's rows inside the input, and only taps some output reads inside the row: the others would
    // add the padding's 0, and a sum that starts at +0 is never -0, so adding +0 changes nothing.
    int64_t d0, d1, h0, h1;
    ck_axis_taps(g, 0, od, &d0, &d1);
    ck_axis_taps(g, 1, oh, &h0, &h1);
    if (A->span) {
        // Overlapping windows: sum the window's rows first over the span the block reads inside the input row
        // (unit stride), then each output adds its KW columns of that row sum (0 outside the row).
        const int64_t s = g->stride[2], dw = g->dilation[2], j0 = ow0 * s - g->pad[2];
        const int64_t L = (len - 1) * s + (KW - 1) * dw + 1;
        int64_t tlo, thi;  // span entries inside the input row; v[t - tlo] holds entry t
        ck_valid_range(L, IW, 1, j0, &tlo, &thi);
        float *v = buf;
        for (int64_t t = 0; t < thi - tlo; t++) v[t] = 0.0f;
        for (int64_t kd = d0; kd < d1 && tlo < thi; kd++) {
            const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
            for (int64_t kh = h0; kh < h1; kh++) {
                const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
                const float *row = xp + (id * IH + ih) * IW + (j0 + tlo);
                const int64_t n = thi - tlo;
                switch (f) {
                case CK_SUM_PLAIN: for (int64_t t = 0; t < n; t++) v[t] += row[t]; break;
                case CK_SUM_ABS: for (int64_t t = 0; t < n; t++) v[t] += fabsf(row[t]); break;
                case CK_SUM_SQUARE: for (int64_t t = 0; t < n; t++) v[t] += row[t] * row[t]; break;
                default: for (int64_t t = 0; t < n; t++) v[t] += powf(fabsf(row[t]), p); break;
                }
            }
        }
        for (int64_t i = 0; i < len; i++) acc[i] = 0.0f;
        int64_t k0 = 0, k1 = 0;
        if (tlo < thi) ck_block_taps(g, ow0, ow0 + len - 1, &k0, &k1);
        for (int64_t kw = k0; kw < k1; kw++) {
            int64_t lo, hi;  // block columns whose tap kw lies inside the row
            ck_valid_range(len, thi - tlo, s, kw * dw - tlo, &lo, &hi);
            const int64_t o = kw * dw - tlo;
            if (s == 1)
                for (int64_t i = lo; i < hi; i++) acc[i] += v[o + i];
            else
                for (int64_t i = lo; i < hi; i++) acc[i] += v[o + i * s];
        }
    } else {
    for (int64_t i = 0; i < len; i++) acc[i] = 0.0f;
    for (int64_t kd = d0; kd < d1; kd++) {
        const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
        for (int64_t kh = h0; kh < h1; kh++) {
            const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            const float *base = ck_row_build(rp, xp + (id * IH + ih) * IW, ow0, len, 0.0f, buf);
            int64_t i = 0, k0 = 0, k1 = 0;
            for (; i + B <= len; i += B) {
                float a[B];
                for (int j = 0; j < B; j++) a[j] = acc[i + j];
                ck_block_taps(g, ow0 + i, ow0 + i + B - 1, &k0, &k1);
                for (int64_t kw = k0; kw < k1; kw++) {
                    const float *v = ck_row_tap(rp, base, kw) + i;
                    switch (f) {
                    case CK_SUM_PLAIN: for (int j = 0; j < B; j++) a[j] += v[j]; break;
                    case CK_SUM_ABS: for (int j = 0; j < B; j++) a[j] += fabsf(v[j]); break;
                    case CK_SUM_SQUARE: for (int j = 0; j < B; j++) a[j] += v[j] * v[j]; break;
                    default: for (int j = 0; j < B; j++) a[j] += powf(fabsf(v[j]), p); break;
                    }
                }
                for (int j = 0; j < B; j++) acc[i + j] = a[j];
            }
            k0 = k1 = 0;
            if (i < len) ck_block_taps(g, ow0 + i, ow0 + len - 1, &k0, &k1);
            for (int64_t kw = k0; kw < k1; kw++) {
                const float *v = ck_row_tap(rp, base, kw);
                for (int64_t k = i; k < len; k++) acc[k] += term(f, v[k], p);
            }
        }
    }
    }
    float *dst = A->y + ((plane * OD + od) * OH + oh) * OW + ow0;
    if (f == CK_SUM_PLAIN) {
        const float dh = A->dh[od * OH + oh];
        const float *restrict cw = A->divisor + ow0, *restrict ac = acc;
        float *restrict dd = dst;
        for (int64_t i = 0; i < len; i++) dd[i] = ac[i] / (dh * cw[i]);
    } else if (f == CK_SUM_ABS) {
        for (int64_t i = 0; i < len; i++) dst[i] = acc[i];
    } else if (f == CK_SUM_SQUARE) {
        for (int64_t i = 0; i < len; i++) dst[i] = sqrtf(acc[i]);
    } else {
        for (int64_t i = 0; i < len; i++) dst[i] = powf(acc[i], 1.0f / p);
    }
}

CK_INLINE
void ck_pool_sum_worker_body(const sum_args *A, int64_t items, int64_t chunk, int64_t *next, float *acc, float *buf) {
    CK_DYNAMIC_FOR(it, items, chunk, *next) ck_pool_sum_item(A, it, acc, buf);
}
CK_POOL_ISA_VARIANTS(ck_pool_sum_worker, (const sum_args *A, int64_t items, int64_t chunk, int64_t *next, float *acc,
                                          float *buf), (A, items, chunk, next, acc, buf))

/// Whole-plane windows (global pooling): 8 interleaved partial sums per plane, combined in a fixed order.
#define GLOBAL_SUM(T)                                                                                                \
    for (; i + 8 <= n; i += 8)                                                                                       \
        for (int j = 0; j < 8; j++) { const float x = v[i + j]; part[j] += (T); }                                   \
    for (; i < n; i++) { const float x = v[i]; part[i % 8] += (T); }

CK_INLINE
void ck_global_sum(ck_sum_term f, float p, const float *v, int64_t n, float *out) {
    float part[8] = {0};
    int64_t i = 0;
    switch (f) {
    case CK_SUM_PLAIN: GLOBAL_SUM(x) break;
    case CK_SUM_ABS: GLOBAL_SUM(fabsf(x)) break;
    case CK_SUM_SQUARE: GLOBAL_SUM(x * x) break;
    default: GLOBAL_SUM(powf(fabsf(x), p)) break;
    }
    const float s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    *out = f == CK_SUM_PLAIN ? s / (float)n : f == CK_SUM_ABS ? s : f == CK_SUM_SQUARE ? sqrtf(s) : powf(s, 1.0f / p);
}

CK_INLINE
void ck_global_worker_body(ck_sum_term f, float p, const float *x, int64_t IS, float *y, int64_t planes) {
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) ck_global_sum(f, p, x + pl * IS, IS, y + pl);
}
CK_POOL_ISA_VARIANTS(ck_global_worker, (ck_sum_term f, float p, const float *x, int64_t IS, float *y, int64_t planes),
                     (f, p, x, IS, y, planes))

/// dst[i] = Σ_k src[i + k·step] for k in [0, K), i in [0, n); the common K = 2, 3 in one pass.
CK_INLINE void ck_shifted_sum(float *restrict dst, const float *restrict src, int64_t n, int64_t K, int64_t step) {
    const float *s1 = src + (K > 1 ? step : 0), *s2 = src + (K > 2 ? 2 * step : 0);
    if (K == 1) {
        for (int64_t i = 0; i < n; i++) dst[i] = src[i];
    } else if (K == 2) {
        for (int64_t i = 0; i < n; i++) dst[i] = src[i] + s1[i];
    } else {
        for (int64_t i = 0; i < n; i++) dst[i] = src[i] + s1[i] + s2[i];
        for (int64_t k = 3; k < K; k++) {
            const float *q = src + k * step;
            for (int64_t i = 0; i < n; i++) dst[i] += q[i];
        }
    }
}

/// Unit-stride 1-D/2-D pooling of whole planes, for small images where per-row loops would be all overhead. The
/// plane is copied once with f applied and zero padding into P (Hp × Wp, starting at input (-ph, -pw)); then, as
/// long loops over the flattened arrays, V = Σ_kh P shifted by kh·dh rows and A = Σ_kw V shifted by kw·dw columns,
/// so A[r·Wp + c] is the window sum of output (r, c).
CK_INLINE
void ck_plane_worker_body(const sum_args *A, int64_t planes, int64_t *next, float *P, float *V) {
    const ck_window *g = &A->d->g;
    const ck_sum_term f = A->f;
    const float p = A->p;
    const int64_t IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];
    const int64_t KH = g->kernel[1], KW = g->kernel[2], dh = g->dilation[1], dw = g->dilation[2];
    const int64_t Hp = OH + (KH - 1) * dh, Wp = OW + (KW - 1) * dw, n = OH * Wp;
    int64_t wlo, whi;  // padded columns inside the input row
    ck_valid_range(Wp, IW, 1, -g->pad[2], &wlo, &whi);
    CK_DYNAMIC_FOR(pl, planes, 1, *next) {
        const float *xp = A->x + pl * IH * IW;
        for (int64_t r = 0; r < Hp; r++) {
            float *dst = P + r * Wp;
            const int64_t ih = r - g->pad[1];
            if (ih < 0 || ih >= IH || wlo >= whi) {
                for (int64_t c = 0; c < Wp; c++) dst[c] = 0.0f;
                continue;
            }
            const float *restrict src = xp + ih * IW + (wlo - g->pad[2]);
            for (int64_t c = 0; c < wlo; c++) dst[c] = 0.0f;
            float *restrict d = dst + wlo;
            const int64_t m = whi - wlo;
            switch (f) {
            case CK_SUM_PLAIN: for (int64_t c = 0; c < m; c++) d[c] = src[c]; break;
            case CK_SUM_ABS: for (int64_t c = 0; c < m; c++) d[c] = fabsf(src[c]); break;
            case CK_SUM_SQUARE: for (int64_t c = 0; c < m; c++) d[c] = src[c] * src[c]; break;
            default: for (int64_t c = 0; c < m; c++) d[c] = powf(fabsf(src[c]), p); break;
            }
            for (int64_t c = whi; c < Wp; c++) dst[c] = 0.0f;
        }
        ck_shifted_sum(V, P, n, KH, dh * Wp);
        // Reuse P for A (only its first n - (KW-1)·dw entries are read).
        ck_shifted_sum(P, V, n - (KW - 1) * dw, KW, dw);
        float *out = A->y + pl * OH * OW;
        for (int64_t r = 0; r < OH; r++) {
            const float *restrict a = P + r * Wp, *restrict inv = A->inverse + r * OW;
            float *restrict o = out + r * OW;
            if (f == CK_SUM_PLAIN) {
                for (int64_t c = 0; c < OW; c++) o[c] = a[c] * inv[c];
            } else if (f == CK_SUM_ABS) {
                for (int64_t c = 0; c < OW; c++) o[c] = a[c];
            } else if (f == CK_SUM_SQUARE) {
                for (int64_t c = 0; c < OW; c++) o[c] = sqrtf(a[c]);
            } else {
                for (int64_t c = 0; c < OW; c++) o[c] = powf(a[c], 1.0f / p);
            }
        }
    }
}

CK_POOL_ISA_VARIANTS(ck_plane_worker, (const sum_args *A, int64_t planes, int64_t *next, float *P, float *V),
                     (A, planes, next, P, V))

/// Output row `item` (plane, od, oh), one output at a time over its taps inside the input, in the row path's order:
/// (kd, kh, kw), or with overlapping windows (span) per kw the sum over the rows, then kw by kw.
static void ck_sum_row_exact(const sum_args *A, int64_t item) {
    const ck_window *g = &A->d->g;
    const ck_sum_term f = A->f;
    const float p = A->p;
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2], IH = g->in[1], IW = g->in[2];
    const int64_t oh = item % OH, od = (item / OH) % OD, plane = item / (OH * OD);
    const float *xp = A->x + plane * ck_prod3(g->in);
    int64_t d0, d1, h0, h1;
    ck_axis_taps(g, 0, od, &d0, &d1);
    ck_axis_taps(g, 1, oh, &h0, &h1);
    const int64_t id0 = od * g->stride[0] - g->pad[0], ih0 = oh * g->stride[1] - g->pad[1];
    const int64_t DD = g->dilation[0], DH = g->dilation[1], DW = g->dilation[2];
    float *dst = A->y + item * OW;
    for (int64_t ow = 0; ow < OW; ow++) {
        int64_t w0, w1;
        ck_axis_taps(g, 2, ow, &w0, &w1);
        const int64_t iw0 = ow * g->stride[2] - g->pad[2];
        float acc = 0.0f;
        if (A->span) {
            for (int64_t kw = w0; kw < w1; kw++) {
                float v = 0.0f;
                for (int64_t kd = d0; kd < d1; kd++)
                    for (int64_t kh = h0; kh < h1; kh++)
                        v += term(f, xp[((id0 + kd * DD) * IH + ih0 + kh * DH) * IW + iw0 + kw * DW], p);
                acc += v;
            }
        } else {
            for (int64_t kd = d0; kd < d1; kd++)
                for (int64_t kh = h0; kh < h1; kh++)
                    for (int64_t kw = w0; kw < w1; kw++)
                        acc += term(f, xp[((id0 + kd * DD) * IH + ih0 + kh * DH) * IW + iw0 + kw * DW], p);
        }
        dst[ow] = f == CK_SUM_PLAIN    ? acc / (A->dh[od * OH + oh] * A->divisor[ow])
                  : f == CK_SUM_ABS    ? acc
                  : f == CK_SUM_SQUARE ? sqrtf(acc)
                                       : powf(acc, 1.0f / p);
    }
}

/// f: 0 average (count_include_pad in `include_pad`), 1/2/3 Lp with p = 1 / 2 / other.
int ck_pool_sum_kernel(const ck_pool_desc *d, ck_sum_term f, float p, int include_pad, const float *x, int64_t x_count, float *y,
                       int64_t y_count, int threads, int isa) {
    int status = ck_pool_check(d, x, x_count, y, y_count);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    isa = ck_isa_resolve(isa);
    const ck_window *g = &d->g;
    if (ck_pool_is_global(g)) {
        const int64_t planes = d->batch * d->channels, IS = ck_prod3(g->in);
#pragma omp parallel num_threads(ck_team_for(threads, x_count))
        CK_POOL_ISA_CALL(ck_global_worker, isa, (f, p, x, IS, y, planes));
        return CK_OK;
    }
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    // Average divisors: taps inside the input (or inside input + explicit padding with count_include_pad), per axis.
    float *divisor = f == CK_SUM_PLAIN ? malloc(sizeof(float) * (size_t)(OW + OD * OH)) : NULL;
    if (f == CK_SUM_PLAIN && !divisor) return CK_ERR_NOMEM;
    if (f == CK_SUM_PLAIN) {
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
    // Small unit-stride 1-D/2-D planes: whole-plane passes (ck_plane_worker), faster there than row by row.
    const int64_t Hp = OH + (g->kernel[1] - 1) * g->dilation[1], Wp = OW + (g->kernel[2] - 1) * g->dilation[2];
    const int small_planes = g->in[0] == 1 && g->kernel[0] == 1 && OD == 1 && g->stride[1] == 1 &&
                             g->stride[2] == 1 && ck_mul(Hp, Wp) >= 0 && ck_mul(Hp, Wp) <= 16384;
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX2 && f <= 2 && !small_planes && ck_prow_supported(d, 0, 1)) {
        float *inv = f == CK_SUM_PLAIN ? malloc(sizeof(float) * (size_t)(OW + OD * OH)) : NULL;
        if (f == CK_SUM_PLAIN && !inv) {
            free(divisor);
            return CK_ERR_NOMEM;
        }
        for (int64_t i = 0; f == CK_SUM_PLAIN && i < OW + OD * OH; i++) inv[i] = 1.0f / divisor[i];
        const ck_prow_args R = {d, x, y, NULL, NULL, inv, inv ? inv + OW : NULL, f};
        status = isa >= CK_ISA_AVX512 ? ck_poolsum_rows_avx512(&R, threads) : ck_poolsum_rows_avx2(&R, threads);
        free(inv);
        free(divisor);
        return status;
    }
#endif
    const int span = g->stride[2] <= (g->kernel[2] - 1) * g->dilation[2] + 1;
    sum_args A = {d, NULL, divisor, divisor ? divisor + OW : NULL, span, NULL, f, p, x, y};
    const int64_t items = d->batch * d->channels * OD * OH * ((OW + CK_POOL_OWB - 1) / CK_POOL_OWB);
    const int team = ck_team_for(threads, ck_work3(y_count, ck_prod3(g->kernel), 1) + x_count);
    int failed = 0;
    int64_t next = 0;
    float *inverse = NULL;
    if (small_planes && (f != 0 || (inverse = malloc(sizeof(float) * (size_t)(OH * OW))) != NULL)) {
        if (inverse)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) inverse[oh * OW + ow] = 1.0f / (A.dh[oh] * divisor[ow]);
        A.inverse = inverse;
#pragma omp parallel num_threads(team)
        {
            float *P = malloc(sizeof(float) * (size_t)(Hp * Wp)), *V = malloc(sizeof(float) * (size_t)(Hp * Wp));
            if (!ck_team_failed(&failed, !P || !V))
                CK_POOL_ISA_CALL(ck_plane_worker, isa, (&A, d->batch * d->channels, &next, P, V));
            free(P); free(V);
        }
        free(divisor);
        free(inverse);
        return failed ? CK_ERR_NOMEM : CK_OK;
    }
    if (ck_pool_wide(g)) {
        // A window far wider than the row: one output at a time over its taps inside the input.
        const int64_t rows = d->batch * d->channels * OD * OH;
#pragma omp parallel for num_threads(ck_team_for(threads, ck_work3(y_count, ck_min(g->kernel[2], g->in[2] + 1), 1))) schedule(static)
        for (int64_t r = 0; r < rows; r++) ck_sum_row_exact(&A, r);
        free(divisor);
        return CK_OK;
    }
    ck_rowplan rp;
    if (ck_rowplan_init(&rp, g, CK_POOL_OWB) != CK_OK) {
        free(divisor);
        return CK_ERR_NOMEM;
    }
    A.rp = &rp;
    // The span path's buffer holds the block's span inside the row: at most the row.
    const int64_t span_floats = ck_max(1, ck_min(g->in[2], (ck_min(CK_POOL_OWB, OW) - 1) * g->stride[2] +
                                                            (g->kernel[2] - 1) * g->dilation[2] + 1));
    // Row buffers beyond the phase rows' own limit (a window of millions of dilated taps over a row as long) are
    // declined like them, rather than allocated per thread.
    if (span && span_floats > CK_ROWPLAN_MAX_FLOATS) {
        ck_rowplan_free(&rp);
        free(divisor);
        return CK_ERR_NOMEM;
    }
    const int64_t chunk = ck_chunk(items, team);
#pragma omp parallel num_threads(team)
    {
        float *acc = malloc(sizeof(float) * CK_POOL_OWB);
        float *buf = malloc(sizeof(float) * (size_t)(span ? span_floats : ck_rowplan_floats(&rp)));
        if (!ck_team_failed(&failed, !acc || !buf)) {
            CK_POOL_ISA_CALL(ck_pool_sum_worker, isa, (&A, items, chunk, &next, acc, buf));
        }
        free(acc); free(buf);
    }
    ck_rowplan_free(&rp);
    free(divisor);
    return failed ? CK_ERR_NOMEM : CK_OK;
}
