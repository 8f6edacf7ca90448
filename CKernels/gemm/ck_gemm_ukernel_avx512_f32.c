// AVX-512 microkernels (gemm_internal.h): tiles of up to 12 rows × 32 columns (2 zmm per row), 24 accumulators.
// Each k step loads 2 vectors of B and broadcasts mr floats of A: 2 + mr loads per 2·mr FMAs, far below what the
// load ports take, and 24 independent chains cover the FMA latency of two pipes. 14×32, 8×48 and 6×64 measured the
// same with hot caches on Zen 5 (98 % of peak); 12×32 wastes least on narrow layers (a 7×7 output is 63 flat
// positions: 2 strips of 32 = 64 columns, but 2 of 48 = 96). The target attribute stands in for per-file flags (SwiftPM has none);
// ck_isa_detect() gates every call.
#if defined(__x86_64__)
#include <immintrin.h>
#include "gemm_internal.h"

#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))

enum { MR_MAX = 12, NV = 2, NR = 16 * NV };

/// The tile with a constant row count `mr` (each wrapper below fixes it, so the loops unroll and the accumulators
/// live in registers). `masked` loads only e->nload columns of B (the end of an uncopied input).
CK_AVX512 static inline __attribute__((always_inline))
void tile(const int mr, const int masked, int64_t kc, const float *a, const float *b, const int32_t *off,
          const float *bias, const ck_gemm_epilogue *e) {
    __m512 acc[MR_MAX][NV];
    __mmask16 mask[NV];
    for (int v = 0; v < NV; v++) {
        const int64_t left = e->nload - 16 * v;
        mask[v] = !masked || left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
    }
    for (int i = 0; i < mr; i++) {
        const __m512 b0 = bias ? _mm512_set1_ps(bias[i]) : _mm512_setzero_ps();
        for (int v = 0; v < NV; v++) acc[i][v] = b0;
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        __m512 bv[NV];
        for (int v = 0; v < NV; v++)
            bv[v] = masked ? _mm512_maskz_loadu_ps(mask[v], bk + 16 * v) : _mm512_loadu_ps(bk + 16 * v);
        for (int i = 0; i < mr; i++) {
            const __m512 av = _mm512_set1_ps(a[i]);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
        a += mr;
    }
    // max(lo, y) / min(hi, y) return y when it is NaN (the second operand wins on unordered inputs).
    const __m512 lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_min_ps(hi, _mm512_max_ps(lo, acc[i][v]));
    const int64_t ldc = e->ldc;
    const ck_gemm_segment *seg = e->seg;
    if (e->nseg == 1 && seg->j0 == 0 && seg->j1 == NR) {  // the common case: one whole output row segment
        for (int i = 0; i < mr; i++)
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(seg->dst + i * ldc + 16 * v, acc[i][v]);
        return;
    }
    for (int64_t s = 0; s < e->nseg; s++) {
        const int64_t j0 = seg[s].j0, j1 = seg[s].j1;
        for (int v = 0; v < NV; v++) {
            const int64_t l0 = ck_max(j0 - 16 * v, 0), l1 = ck_min(j1 - 16 * v, 16);
            if (l1 <= l0) continue;
            const __mmask16 m = (__mmask16)(((1u << l1) - 1) & ~((1u << l0) - 1));
            // Lane l of vector v is column 16·v + l, stored at dst + (16·v + l − j0); masked-off lanes are not
            // accessed, so the vector's start may lie before dst.
            float *base = seg[s].dst + (16 * v - j0);
            for (int i = 0; i < mr; i++) _mm512_mask_storeu_ps(base + i * ldc, m, acc[i][v]);
        }
    }
}

#define CK_TILE_FN(MR)                                                                                          \
    CK_AVX512 static void tile_##MR(int64_t kc, const float *a, const float *b, const int32_t *off,             \
                                    const float *bias, const ck_gemm_epilogue *e) {                             \
        if (e->nload >= NR)                                                                                     \
            tile(MR, 0, kc, a, b, off, bias, e);                                                                \
        else                                                                                                    \
            tile(MR, 1, kc, a, b, off, bias, e);                                                                \
    }
CK_TILE_FN(1) CK_TILE_FN(2) CK_TILE_FN(3) CK_TILE_FN(4) CK_TILE_FN(5) CK_TILE_FN(6)
CK_TILE_FN(7) CK_TILE_FN(8) CK_TILE_FN(9) CK_TILE_FN(10) CK_TILE_FN(11) CK_TILE_FN(12)

static const ck_gemm_ukernels table = {CK_ISA_AVX512, MR_MAX, NR,
                                       {NULL, tile_1, tile_2, tile_3, tile_4, tile_5, tile_6, tile_7, tile_8,
                                        tile_9, tile_10, tile_11, tile_12}};

const ck_gemm_ukernels *ck_gemm_ukernels_avx512_f32(void) { return &table; }
#endif
