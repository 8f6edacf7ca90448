// AveragePool / LpPool (p = 1, 2) row kernel, AVX-512: 16 output columns per vector, padding loaded as 0 (see
// pool_internal.h). Stride 2 sums f(x) of the window's rows as whole 32-column pairs first and splits the sums into
// even / odd lanes once per tap pair. The average multiplies by 1/(d·h count) and 1/(w count).
#include "pool_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

CK_POOL_AVX512 static inline __m512 term512(ck_sum_term f, __m512 v, __m512 s) {
    return f == CK_SUM_PLAIN ? _mm512_add_ps(s, v) : f == CK_SUM_ABS ? _mm512_add_ps(s, _mm512_abs_ps(v)) : _mm512_fmadd_ps(v, v, s);
}

CK_POOL_AVX512 static inline __attribute__((always_inline))
void sum_row(const ck_prow_args *A, int64_t item, int64_t plane, int64_t od, int64_t oh, int64_t *rowoff, int64_t *rih,
             const int64_t SW, const int64_t KW) {
    const ck_window *g = &A->d->g;
    const int64_t OH = g->out[1], OW = g->out[2], IW = g->in[2];
    const int64_t IS = ck_prod3(g->in);
    const int64_t sw = SW, pw = g->pad[2], dw = g->dilation[2];
    const int pairs = SW == 2 && dw == 1, ng = CK_PROW_NG;
    const int64_t nr = ck_prow_rows(g, od, oh, rowoff, rih);
    const ck_sum_term f = A->f;
    const float *xp = A->x + plane * IS;
    float *y = A->y + item * OW;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512 dh = _mm512_set1_ps(f == CK_SUM_PLAIN ? A->inv_dh[od * OH + oh] : 1.0f);
    for (int64_t ow0 = 0; ow0 < OW; ow0 += 16) {
        const int64_t n = ck_min(16, OW - ow0);
        const __mmask16 out = (__mmask16)((1u << n) - 1);
        __m512 acc = _mm512_setzero_ps();
        for (int k = 0; k < ng; k++) {
            const int64_t c = ow0 * sw - pw + CK_PROW_GOFF(k);
            const uint64_t m = ck_prow_lanes(c, sw * n, IW);
            // Plain loads where the whole vector is inside the row (masked ones cost more on some cores).
            const int full = m == (SW == 1 ? 0xFFFFull : 0xFFFFFFFFull);
            if (SW == 1) {
                for (int64_t r = 0; r < nr; r++) {
                    const float *p = xp + rowoff[r] + c;
                    acc = term512(f, full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((__mmask16)m, p), acc);
                }
            } else {
                __m512 sa = _mm512_setzero_ps(), sb = sa;
                for (int64_t r = 0; r < nr; r++) {
                    const float *p = xp + rowoff[r] + c;
                    sa = term512(f, full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((__mmask16)m, p), sa);
                    sb = term512(f, full ? _mm512_loadu_ps(p + 16) : _mm512_maskz_loadu_ps((__mmask16)(m >> 16), p + 16), sb);
                }
                acc = _mm512_add_ps(acc, _mm512_permutex2var_ps(sa, even, sb));
                if (CK_PROW_GTB(k) >= 0) acc = _mm512_add_ps(acc, _mm512_permutex2var_ps(sa, odd, sb));
            }
        }
        if (f == CK_SUM_PLAIN) acc = _mm512_mul_ps(_mm512_mul_ps(acc, dh), _mm512_maskz_loadu_ps(out, A->inv_w + ow0));
        else if (f == CK_SUM_SQUARE) acc = _mm512_sqrt_ps(acc);
        _mm512_mask_storeu_ps(y + ow0, out, acc);
    }
}

#define ROWS(A, item, rowoff, rih, SW, KW) CK_PROW_ITEM(sum_row, A, item, rowoff, rih, SW, KW)
CK_POOL_AVX512 static void sum_row_item(const ck_prow_args *A, int64_t item, int64_t *rowoff, int64_t *rih) {
    CK_PROW_DISPATCH(ROWS, A, item, rowoff, rih);
}

int ck_poolsum_rows_avx512(const ck_prow_args *A, int threads) {
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
            CK_DYNAMIC_FOR(it, items, chunk, next) sum_row_item(A, it, rows, rows + nrows);
        }
        free(rows);
    }
    return failed ? CK_ERR_NOMEM : CK_OK;
}
#endif
