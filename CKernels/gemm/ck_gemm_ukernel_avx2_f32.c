// AVX2 + FMA microkernels (gemm_internal.h): tiles of up to 6 rows × 16 columns (2 ymm per row), 12 accumulators,
// which with the two B vectors and one broadcast fill 15 of the 16 ymm registers (MLAS and BLIS use the same
// 6×16 shape for this ISA). The target attribute stands in for per-file flags (SwiftPM has none);
// ck_isa_detect() gates every call.
#if defined(__x86_64__)
#include <immintrin.h>
#include "gemm_internal.h"

#define CK_AVX2 __attribute__((target("avx2,fma")))

enum { MR_MAX = 6, NV = 2, NR = 8 * NV };

/// The tile with a constant row count `mr` (each wrapper below fixes it, so the loops unroll and the accumulators
/// live in registers). `masked` loads only e->nload columns of B (the end of an uncopied input); vmaskmovps is
/// slower than a plain load, so full tiles never use it.
CK_AVX2 static inline __attribute__((always_inline))
void tile(const int mr, const int masked, int64_t kc, const float *a, const float *b, const int32_t *off,
          const float *bias, const ck_gemm_epilogue *e) {
    __m256 acc[MR_MAX][NV];
    __m256i mask[NV];
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int v = 0; v < NV; v++)
        mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)ck_min(e->nload - 8 * v, 8)), lane);
    for (int i = 0; i < mr; i++) {
        const __m256 b0 = bias ? _mm256_set1_ps(bias[i]) : _mm256_setzero_ps();
        for (int v = 0; v < NV; v++) acc[i][v] = b0;
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        __m256 bv[NV];
        for (int v = 0; v < NV; v++)
            bv[v] = masked ? _mm256_maskload_ps(bk + 8 * v, mask[v]) : _mm256_loadu_ps(bk + 8 * v);
        for (int i = 0; i < mr; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
        }
        a += mr;
    }
    // max(lo, y) / min(hi, y) return y when it is NaN (the second operand wins on unordered inputs).
    const __m256 lo = _mm256_set1_ps(e->lo), hi = _mm256_set1_ps(e->hi);
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_min_ps(hi, _mm256_max_ps(lo, acc[i][v]));
    const int64_t ldc = e->ldc;
    const ck_gemm_segment *seg = e->seg;
    if (e->nseg == 1 && seg->j0 == 0 && seg->j1 == NR) {  // the common case: one whole output row segment
        for (int i = 0; i < mr; i++)
            for (int v = 0; v < NV; v++) _mm256_storeu_ps(seg->dst + i * ldc + 8 * v, acc[i][v]);
        return;
    }
    for (int64_t s = 0; s < e->nseg; s++) {
        const int64_t j0 = seg[s].j0, j1 = seg[s].j1;
        for (int v = 0; v < NV; v++) {
            const __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32((int)(j0 - 8 * v) - 1)),
                                               _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(j1 - 8 * v)), lane));
            if (_mm256_testz_si256(m, m)) continue;
            // Lane l of vector v is column 8·v + l, stored at dst + (8·v + l − j0); masked-off lanes are not
            // accessed, so the vector's start may lie before dst.
            float *base = seg[s].dst + (8 * v - j0);
            for (int i = 0; i < mr; i++) _mm256_maskstore_ps(base + i * ldc, m, acc[i][v]);
        }
    }
}

#define CK_TILE_FN(MR)                                                                                          \
    CK_AVX2 static void tile_##MR(int64_t kc, const float *a, const float *b, const int32_t *off,               \
                                  const float *bias, const ck_gemm_epilogue *e) {                               \
        if (e->nload >= NR)                                                                                     \
            tile(MR, 0, kc, a, b, off, bias, e);                                                                \
        else                                                                                                    \
            tile(MR, 1, kc, a, b, off, bias, e);                                                                \
    }
CK_TILE_FN(1) CK_TILE_FN(2) CK_TILE_FN(3) CK_TILE_FN(4) CK_TILE_FN(5) CK_TILE_FN(6)

static const ck_gemm_ukernels table = {CK_ISA_AVX2, MR_MAX, NR, {NULL, tile_1, tile_2, tile_3, tile_4, tile_5, tile_6}};

const ck_gemm_ukernels *ck_gemm_ukernels_avx2_f32(void) { return &table; }
#endif
