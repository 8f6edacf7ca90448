// AveragePool / LpPool (p = 1, 2) row kernel, AVX2: 8 output columns per vector (see the AVX-512 variant). The
// vshufps split leaves lanes in the order 0 1 4 5 2 3 6 7, fixed once per block before the divisor.
#include "pool_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

CK_POOL_AVX2 static inline __m256i lanes8(uint64_t bits, int first) {
    const __m256i bit = _mm256_set_epi32(128, 64, 32, 16, 8, 4, 2, 1);
    const __m256i b = _mm256_set1_epi32((int32_t)((bits >> first) & 255));
    return _mm256_cmpeq_epi32(_mm256_and_si256(b, bit), bit);
}
CK_POOL_AVX2 static inline __m256 term256(ck_sum_term f, __m256 v, __m256 s) {
    return f == CK_SUM_PLAIN ? _mm256_add_ps(s, v)
         : f == CK_SUM_ABS ? _mm256_add_ps(s, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v))
                  : _mm256_fmadd_ps(v, v, s);
}

CK_POOL_AVX2 static inline __attribute__((always_inline))
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
    const __m256i iota = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    const __m256 dh = _mm256_set1_ps(f == CK_SUM_PLAIN ? A->inv_dh[od * OH + oh] : 1.0f);
    for (int64_t ow0 = 0; ow0 < OW; ow0 += 8) {
        const int64_t n = ck_min(8, OW - ow0);
        const __m256i out = _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)n), iota);
        __m256 acc = _mm256_setzero_ps();
        for (int k = 0; k < ng; k++) {
            const int64_t c = ow0 * sw - pw + CK_PROW_GOFF(k);
            const uint64_t m = ck_prow_lanes(c, sw * n, IW);
            const __m256i ma = lanes8(m, 0);
            if (SW == 1) {
                for (int64_t r = 0; r < nr; r++) acc = term256(f, _mm256_maskload_ps(xp + rowoff[r] + c, ma), acc);
            } else {
                const __m256i mb = lanes8(m, 8);
                __m256 sa = _mm256_setzero_ps(), sb = sa;
                for (int64_t r = 0; r < nr; r++) {
                    sa = term256(f, _mm256_maskload_ps(xp + rowoff[r] + c, ma), sa);
                    sb = term256(f, _mm256_maskload_ps(xp + rowoff[r] + c + 8, mb), sb);
                }
                acc = _mm256_add_ps(acc, _mm256_shuffle_ps(sa, sb, 0x88));
                if (CK_PROW_GTB(k) >= 0) acc = _mm256_add_ps(acc, _mm256_shuffle_ps(sa, sb, 0xDD));
            }
        }
        if (SW == 2) acc = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(acc), 0xD8));
        if (f == CK_SUM_PLAIN) acc = _mm256_mul_ps(_mm256_mul_ps(acc, dh), _mm256_maskload_ps(A->inv_w + ow0, out));
        else if (f == CK_SUM_SQUARE) acc = _mm256_sqrt_ps(acc);
        _mm256_maskstore_ps(y + ow0, out, acc);
    }
}

#define ROWS(A, item, rowoff, rih, SW, KW) CK_PROW_ITEM(sum_row, A, item, rowoff, rih, SW, KW)
CK_POOL_AVX2 static void sum_row_item(const ck_prow_args *A, int64_t item, int64_t *rowoff, int64_t *rih) {
    CK_PROW_DISPATCH(ROWS, A, item, rowoff, rih);
}

int ck_poolsum_rows_avx2(const ck_prow_args *A, int threads) {
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
