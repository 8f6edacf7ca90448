// AVX2 + FMA transposed-orientation microkernels (gemm_internal.h, "transposed orientation"): tiles of up to
// 6 output positions × 2 ymm = 16 output channels, 12 accumulators (+ 2 weight vectors + 1 broadcast = 15 ymm).
// AVX2 has no scatter: the final tile goes through a small stack block and is stored with stride ldc.
#if defined(__x86_64__)
#include <immintrin.h>
#include "gemm_internal.h"

#define CK_AVX2 __attribute__((target("avx2,fma")))

enum { NV_MAX = 2, NP_MAX = 6, VL = 8 };

CK_AVX2 static inline __attribute__((always_inline))
void ttile(const int nv, const int np, int64_t kc, const float *a, const float *b, const int32_t *off,
           const int32_t *poff, float *buf, int mode, const ck_gemmt_store *st) {
    const int lda = nv * VL;
    __m256 acc[NP_MAX][NV_MAX];
    const int64_t nch = st->nch < lda ? st->nch : lda;
    if (mode & CK_GEMMT_LOAD) {
        for (int j = 0; j < np; j++)
            for (int v = 0; v < nv; v++) acc[j][v] = _mm256_loadu_ps(buf + j * lda + VL * v);
    } else {
        float bb[NV_MAX * VL] = {0};
        if (st->bias)
            for (int64_t c = 0; c < nch; c++) bb[c] = st->bias[c];
        for (int v = 0; v < nv; v++) {
            const __m256 b0 = _mm256_loadu_ps(bb + VL * v);
            for (int j = 0; j < np; j++) acc[j][v] = b0;
        }
    }
    int32_t po[NP_MAX];
    for (int j = 0; j < np; j++) po[j] = poff[j];
    for (int64_t k = 0; k < kc; k++) {
        __m256 wv[NV_MAX];
        for (int v = 0; v < nv; v++) wv[v] = _mm256_loadu_ps(a + VL * v);
        const float *bk = b + off[k];
        for (int j = 0; j < np; j++) {
            const __m256 bc = _mm256_broadcast_ss(bk + po[j]);
            for (int v = 0; v < nv; v++) acc[j][v] = _mm256_fmadd_ps(bc, wv[v], acc[j][v]);
        }
        a += lda;
    }
    if (!(mode & CK_GEMMT_FINAL)) {
        for (int j = 0; j < np; j++)
            for (int v = 0; v < nv; v++) _mm256_storeu_ps(buf + j * lda + VL * v, acc[j][v]);
        return;
    }
    const __m256 lo = _mm256_set1_ps(st->lo), hi = _mm256_set1_ps(st->hi);
    float t[NP_MAX][NV_MAX * VL];
    for (int j = 0; j < np; j++)
        for (int v = 0; v < nv; v++) _mm256_storeu_ps(&t[j][VL * v], _mm256_min_ps(hi, _mm256_max_ps(lo, acc[j][v])));
    const int64_t ldc = st->ldc;
    for (int64_t c = 0; c < nch; c++)
        for (int j = 0; j < np; j++) st->y[c * ldc + j] = t[j][c];
}

#define CK_T(NV, NP)                                                                                            \
    CK_AVX2 static void t_##NV##_##NP(int64_t kc, const float *a, const float *b, const int32_t *off,           \
                                      const int32_t *poff, float *buf, int mode, const ck_gemmt_store *st) {    \
        ttile(NV, NP, kc, a, b, off, poff, buf, mode, st);                                                      \
    }
#define CK_TROW(NV) CK_T(NV, 1) CK_T(NV, 2) CK_T(NV, 3) CK_T(NV, 4) CK_T(NV, 5) CK_T(NV, 6)
CK_TROW(1) CK_TROW(2)
#define CK_TENT(NV) {NULL, t_##NV##_1, t_##NV##_2, t_##NV##_3, t_##NV##_4, t_##NV##_5, t_##NV##_6}

static const ck_gemmt_ukernels table = {CK_ISA_AVX2, VL, NV_MAX, NP_MAX, {{NULL}, CK_TENT(1), CK_TENT(2)}};

const ck_gemmt_ukernels *ck_gemmt_ukernels_avx2_f32(void) { return &table; }
#endif
