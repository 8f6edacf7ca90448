// MaxPool row kernel, AVX-512: 16 output columns per vector (see pool_internal.h). Stride 2 loads 32 input columns
// and splits them into even / odd lanes with vpermt2ps. The running maximum is vmaxps(tap, max), which for
// non-NaN inputs is exactly "replace only if strictly greater"; with indices the winning tap is tracked as
// (row << 8 | kw) and turned into the flat index by a table lookup. NaN is detected per row with vcmpunordps.
#include "pool_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

/// The taps of one output block over the window's rows, in row-major window order.
CK_POOL_AVX512 static inline __attribute__((always_inline))
void max_block(const float *xp, const int64_t *rowoff, int64_t nr, const int64_t *c, const uint64_t *m, __m512 *acc,
               __m512i *tap, __mmask16 *nan, int with_idx, const int64_t SW, const int64_t KW, const int64_t dw,
               const int masked) {
    const int pairs = SW == 2 && dw == 1, ng = CK_PROW_NG;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t r = 0; r < nr; r++) {
        const float *row = xp + rowoff[r];
        for (int k = 0; k < ng; k++) {
            __m512 va, vb = ninf;
            if (SW == 1) {
                va = masked ? _mm512_mask_loadu_ps(ninf, (__mmask16)m[k], row + c[k]) : _mm512_loadu_ps(row + c[k]);
                *nan |= _mm512_cmp_ps_mask(va, va, _CMP_UNORD_Q);
            } else {
                const float *p = row + c[k];
                const __m512 a = masked ? _mm512_mask_loadu_ps(ninf, (__mmask16)m[k], p) : _mm512_loadu_ps(p);
                const __m512 b = masked ? _mm512_mask_loadu_ps(ninf, (__mmask16)(m[k] >> 16), p + 16) : _mm512_loadu_ps(p + 16);
                *nan |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q);
                va = _mm512_permutex2var_ps(a, even, b);
                vb = _mm512_permutex2var_ps(a, odd, b);
            }
            if (!with_idx) {
                *acc = _mm512_max_ps(va, *acc);
                if (CK_PROW_GTB(k) >= 0) *acc = _mm512_max_ps(vb, *acc);
            } else {
                __mmask16 t = _mm512_cmp_ps_mask(va, *acc, _CMP_GT_OQ);
                *acc = _mm512_mask_mov_ps(*acc, t, va);
                *tap = _mm512_mask_mov_epi32(*tap, t, _mm512_set1_epi32((int32_t)(r << 8 | CK_PROW_GTA(k))));
                if (CK_PROW_GTB(k) >= 0) {
                    t = _mm512_cmp_ps_mask(vb, *acc, _CMP_GT_OQ);
                    *acc = _mm512_mask_mov_ps(*acc, t, vb);
                    *tap = _mm512_mask_mov_epi32(*tap, t, _mm512_set1_epi32((int32_t)(r << 8 | CK_PROW_GTB(k))));
                }
            }
        }
    }
}

CK_POOL_AVX512 static inline __attribute__((always_inline))
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
    if (nr == 0) {  // no row of the window inside the input: -inf, index -1
        for (int64_t i = 0; i < OW; i++) y[i] = -INFINITY;
        if (ix) for (int64_t i = 0; i < OW; i++) ix[i] = -1;
        return;
    }
    const float *xp = A->x + plane * IS;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i lut = _mm512_setzero_si512();  // per window row: its in-plane offset (or h coordinate, column-major)
    if (ix) {
        int32_t t[16] = {0};
        for (int64_t r = 0; r < nr; r++) t[r] = (int32_t)(d->column_major ? rih[r] : rowoff[r]);
        lut = _mm512_loadu_si512(t);
    }
    __mmask16 nan = 0;
    int64_t c[CK_PROW_MAX_KW];
    uint64_t m[CK_PROW_MAX_KW];
    for (int64_t ow0 = 0; ow0 < OW; ow0 += 16) {
        const int64_t n = ck_min(16, OW - ow0);
        const __mmask16 out = (__mmask16)((1u << n) - 1);
        for (int k = 0; k < ng; k++) {
            c[k] = ow0 * sw - pw + CK_PROW_GOFF(k);
            m[k] = ck_prow_lanes(c[k], sw * n, IW);
        }
        __m512 acc = ninf;
        __m512i tap = ix ? _mm512_maskz_loadu_epi32(out, A->first_kw + ow0) : _mm512_setzero_si512();
        // Interior blocks (every load inside the row) take plain loads: masked ones cost more on some cores.
        int interior = n == 16;
        for (int k = 0; k < ng; k++) interior &= m[k] == (SW == 1 ? 0xFFFFull : 0xFFFFFFFFull);
        if (interior) max_block(xp, rowoff, nr, c, m, &acc, &tap, &nan, ix != NULL, SW, KW, dw, 0);
        else max_block(xp, rowoff, nr, c, m, &acc, &tap, &nan, ix != NULL, SW, KW, dw, 1);
        _mm512_mask_storeu_ps(y + ow0, out, acc);
        if (ix) {
            const __m512i rr = _mm512_srli_epi32(tap, 8), kw = _mm512_and_si512(tap, _mm512_set1_epi32(255));
            const __m512i iw = _mm512_add_epi32(
                _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32((int32_t)ow0), iota), _mm512_set1_epi32((int32_t)sw)),
                _mm512_sub_epi32(_mm512_mullo_epi32(kw, _mm512_set1_epi32((int32_t)dw)), _mm512_set1_epi32((int32_t)pw)));
            const __m512i base = _mm512_permutexvar_epi32(rr, lut);
            const __m512i flat = d->column_major ? _mm512_add_epi32(base, _mm512_mullo_epi32(iw, _mm512_set1_epi32((int32_t)IH)))
                                                 : _mm512_add_epi32(base, iw);
            const __m512i pb = _mm512_set1_epi64(plane * IS);
            _mm512_mask_storeu_epi64(ix + ow0, (__mmask8)out,
                                     _mm512_add_epi64(pb, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(flat))));
            if (n > 8)
                _mm512_mask_storeu_epi64(ix + ow0 + 8, (__mmask8)(out >> 8),
                                         _mm512_add_epi64(pb, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(flat, 1))));
        }
    }
    if (nan) ck_max_row_exact(A, item);
}

#define ROWS(A, item, rowoff, rih, SW, KW) CK_PROW_ITEM(max_row, A, item, rowoff, rih, SW, KW)
CK_POOL_AVX512 static void max_row_item(const ck_prow_args *A, int64_t item, int64_t *rowoff, int64_t *rih) {
    CK_PROW_DISPATCH(ROWS, A, item, rowoff, rih);
}

int ck_maxpool_rows_avx512(const ck_prow_args *A, int threads) {
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
