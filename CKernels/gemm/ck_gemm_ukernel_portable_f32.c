// Plain-C microkernels (gemm_internal.h) for CPUs without a hand-written variant: tiles of MR_MAX rows × 8 columns
// written as fixed-length loops the compiler vectorises into 4-lane registers. Baseline x86-64 has 16 of them
// (SSE2): 4 rows = 8 accumulators + 2 B vectors + a broadcast; AArch64 and most others have 32, so 8 rows
// (16 accumulators, enough independent FMA chains to cover the latency). B columns past e->nload are read as 0,
// so the end of an uncopied input is never overread.
#include "gemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)
enum { MR_MAX = 4, NR = 8 };
#else
enum { MR_MAX = 8, NR = 8 };
#endif

/// The tile with a constant row count `mr` (each wrapper fixes it, so the loops unroll into registers).
CK_INLINE void tile(const int mr, const int masked, int64_t kc, const float *a, const float *b, const int32_t *off,
                    const float *bias, const ck_gemm_epilogue *e) {
    float acc[MR_MAX][NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = bias ? bias[i] : 0.0f;
    const int64_t nload = e->nload;
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = b + off[k];
        float bv[NR];
        for (int j = 0; j < NR; j++) bv[j] = !masked || j < nload ? bk[j] : 0.0f;
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += a[i] * bv[j];  // contracted to an FMA where the target has one
        a += mr;
    }
    // `y < lo` is false for NaN, so NaN propagates as in the vector kernels. The segments index columns at run
    // time, so they read a copy: indexing acc itself that way would keep it out of registers in the k loop.
    float out[MR_MAX][NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < NR; j++) {
            const float y = acc[i][j] < e->lo ? e->lo : acc[i][j];
            out[i][j] = y > e->hi ? e->hi : y;
        }
    for (int64_t s = 0; s < e->nseg; s++) {
        const int64_t j0 = e->seg[s].j0, n = e->seg[s].j1 - j0;
        for (int i = 0; i < mr; i++)
            for (int64_t j = 0; j < n; j++) e->seg[s].dst[i * e->ldc + j] = out[i][j0 + j];
    }
}

#define CK_TILE_FN(MR)                                                                                          \
    static void tile_##MR(int64_t kc, const float *a, const float *b, const int32_t *off, const float *bias,    \
                          const ck_gemm_epilogue *e) {                                                          \
        if (e->nload >= NR)                                                                                     \
            tile(MR, 0, kc, a, b, off, bias, e);                                                                \
        else                                                                                                    \
            tile(MR, 1, kc, a, b, off, bias, e);                                                                \
    }
CK_TILE_FN(1) CK_TILE_FN(2) CK_TILE_FN(3) CK_TILE_FN(4)
#if !defined(__x86_64__) && !defined(__i386__)
CK_TILE_FN(5) CK_TILE_FN(6) CK_TILE_FN(7) CK_TILE_FN(8)
#endif

static const ck_gemm_ukernels table = {CK_ISA_PORTABLE, MR_MAX, NR, {NULL, tile_1, tile_2, tile_3, tile_4,
#if !defined(__x86_64__) && !defined(__i386__)
                                                                      tile_5, tile_6, tile_7, tile_8,
#endif
                                                                     }};

const ck_gemm_ukernels *ck_gemm_ukernels_portable_f32(void) { return &table; }
