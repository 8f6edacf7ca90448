// MaxPool row kernel, AVX2: 8 output columns per vector (see pool_internal.h and the AVX-512 variant). Stride 2
// splits a pair of loads with vshufps, which leaves the outputs in the lane order 0 1 4 5 2 3 6 7; every tap comes
// out in that same order, so the order is fixed once per block (vpermpd) before the store.
#include "pool_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

/// Lanes e of [lo, hi) as a vector mask (8 lanes starting at `first`).
CK_POOL_AVX2 static inline __m256i lanes8(uint64_t bits, int first) {
    const __m256i bit = _mm256_set_epi32(128, 64, 32, 16, 8, 4, 2, 1);
    const __m256i b = _mm256_set1_epi32((int32_t)((bits >> first) & 255));
    return _mm256_cmpeq_epi32(_mm256_and_si256(b, bit), bit);
}
#define SWAP_MID(v) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8))
#define SWAP_MID_I(v) _mm256_castpd_si256(_mm256_permute4x64_pd(_mm256_castsi256_pd(v), 0xD8))

CK_POOL_AVX2 static inline __attribute__((always_inline))
void max_row(const ck_prow_args *A, int64_t item, int64_t plane, int64_t od, int64_t oh, int64_t *rowoff, int64_t *rih,
             const int64_t SW, const int64_t KW) {
    const ck_pool_desc *d = A->d;
    const ck_window *g = &d->g;
    const int64_t OW = g->out[2], IH = g->in[1], IW = g->in[2];
    const int64_t IS = ck_prod3(g->in);
    const int64_t sw = SW, pw = g->pad[2], dw = g->dilation[2];
    const int pairs = SW == 2 && dw == 1, ng = CK_PROW_NG;
    const int64_t nr = ck_prow_rows(g, od, oh, rowoff, rih);
    float *y = A->y + item * OW;
    int64_t *ix = A->ix ? A->ix + item * OW : NULL;
    if (nr == 0) {
        for (int64_t i = 0; i < OW; i++) y[i] = -INFINITY;
        if (ix) for (int64_t i = 0; i < OW; i++) ix[i] = -1;
        return;
    }
    const float *xp = A->x + plane * IS;
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const __m256i iota = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    __m256i lut_lo = _mm256_setzero_si256(), lut_hi = lut_lo;  // per window row r < 8 and r >= 8
    if (ix) {
        int32_t t[16] = {0};
        for (int64_t r = 0; r < nr; r++) t[r] = (int32_t)(d->column_major ? rih[r] : rowoff[r]);
        lut_lo = _mm256_loadu_si256((const __m256i *)t);
        lut_hi = _mm256_loadu_si256((const __m256i *)(t + 8));
    }
    __m256 nan = _mm256_setzero_ps();
    int64_t c[CK_PROW_MAX_KW];
    __m256i ma[CK_PROW_MAX_KW], mb[CK_PROW_MAX_KW];
    for (int64_t ow0 = 0; ow0 < OW; ow0 += 8) {
        const int64_t n = ck_min(8, OW - ow0);
        const __m256i out = _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)n), iota);
        for (int k = 0; k < ng; k++) {
            c[k] = ow0 * sw - pw + CK_PROW_GOFF(k);
            const uint64_t m = ck_prow_lanes(c[k], sw * n, IW);
            ma[k] = lanes8(m, 0);
            mb[k] = lanes8(m, 8);
        }
        __m256 acc = ninf;
        __m256i tap = _mm256_setzero_si256();
        if (ix) {
            tap = _mm256_maskload_epi32(A->first_kw + ow0, out);
            if (SW == 2) tap = SWAP_MID_I(tap);
        }
        for (int64_t r = 0; r < nr; r++) {
            const float *row = xp + rowoff[r];
            for (int k = 0; k < ng; k++) {
                __m256 va, vb = ninf;
                const __m256 a = _mm256_blendv_ps(ninf, _mm256_maskload_ps(row + c[k], ma[k]), _mm256_castsi256_ps(ma[k]));
                if (SW == 1) {
                    va = a;
                    nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
                } else {
                    const __m256 b = _mm256_blendv_ps(ninf, _mm256_maskload_ps(row + c[k] + 8, mb[k]),
                                                      _mm256_castsi256_ps(mb[k]));
                    nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
                    va = _mm256_shuffle_ps(a, b, 0x88);
                    vb = _mm256_shuffle_ps(a, b, 0xDD);
                }
                if (!ix) {
                    acc = _mm256_max_ps(va, acc);
                    if (CK_PROW_GTB(k) >= 0) acc = _mm256_max_ps(vb, acc);
                } else {
                    __m256 t = _mm256_cmp_ps(va, acc, _CMP_GT_OQ);
                    acc = _mm256_blendv_ps(acc, va, t);
                    tap = _mm256_castps_si256(_mm256_blendv_ps(
                        _mm256_castsi256_ps(tap), _mm256_castsi256_ps(_mm256_set1_epi32((int32_t)(r << 8 | CK_PROW_GTA(k)))), t));
                    if (CK_PROW_GTB(k) >= 0) {
                        t = _mm256_cmp_ps(vb, acc, _CMP_GT_OQ);
                        acc = _mm256_blendv_ps(acc, vb, t);
                        tap = _mm256_castps_si256(_mm256_blendv_ps(
                            _mm256_castsi256_ps(tap), _mm256_castsi256_ps(_mm256_set1_epi32((int32_t)(r << 8 | CK_PROW_GTB(k)))), t));
                    }
                }
            }
        }
        if (SW == 2) {
            acc = SWAP_MID(acc);
            tap = SWAP_MID_I(tap);
        }
        _mm256_maskstore_ps(y + ow0, out, acc);
        if (ix) {
            const __m256i rr = _mm256_srli_epi32(tap, 8), kw = _mm256_and_si256(tap, _mm256_set1_epi32(255));
            const __m256i iw = _mm256_add_epi32(
                _mm256_mullo_epi32(_mm256_add_epi32(_mm256_set1_epi32((int32_t)ow0), iota), _mm256_set1_epi32((int32_t)sw)),
                _mm256_sub_epi32(_mm256_mullo_epi32(kw, _mm256_set1_epi32((int32_t)dw)), _mm256_set1_epi32((int32_t)pw)));
            const __m256i hi = _mm256_cmpgt_epi32(rr, _mm256_set1_epi32(7));
            const __m256i base = _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(lut_lo, rr),
                                                    _mm256_permutevar8x32_epi32(lut_hi, rr), hi);
            const __m256i flat = d->column_major ? _mm256_add_epi32(base, _mm256_mullo_epi32(iw, _mm256_set1_epi32((int32_t)IH)))
                                                 : _mm256_add_epi32(base, iw);
            const __m256i pb = _mm256_set1_epi64x(plane * IS);
            const __m256i o64lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(out));
            const __m256i o64hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(out, 1));
            _mm256_maskstore_epi64((long long *)(ix + ow0), o64lo,
                                   _mm256_add_epi64(pb, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(flat))));
            _mm256_maskstore_epi64((long long *)(ix + ow0 + 4), o64hi,
                                   _mm256_add_epi64(pb, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(flat, 1))));
        }
    }
    if (_mm256_movemask_ps(nan)) ck_max_row_exact(A, item);
}

#define ROWS(A, item, rowoff, rih, SW, KW) CK_PROW_ITEM(max_row, A, item, rowoff, rih, SW, KW)
CK_POOL_AVX2 static void max_row_item(const ck_prow_args *A, int64_t item, int64_t *rowoff, int64_t *rih) {
    CK_PROW_DISPATCH(ROWS, A, item, rowoff, rih);
}

int ck_maxpool_rows_avx2(const ck_prow_args *A, int threads) {
    const int64_t items = ck_prow_items(A->d);
    const int team = ck_prow_team(A->d, threads);
    const int64_t chunk = ck_chunk(items, team), nrows = ck_prow_max_rows(&A->d->g);
    if (nrows < 0) return CK_ERR_NOMEM;
    int failed = 0;
    int64_t next = 0;
#pragma omp parallel num_threads(team)
    {
        int64_t *rows = malloc(sizeof(int64_t) * 2 * (size_t)nrows);
        if (!ck_team_failed(&failed, !rows)) {
            CK_DYNAMIC_FOR(it, items, chunk, next) max_row_item(A, it, rows, rows + nrows);
        }
        free(rows);
    }
    return failed ? CK_ERR_NOMEM : CK_OK;
}
#endif
