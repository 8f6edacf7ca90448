// AVX-512 transposed-orientation microkernels (gemm_internal.h, "transposed orientation"): tiles of up to 6 output
// positions × 4 zmm = 64 output channels, 24 accumulators. Each k step loads nv weight vectors and broadcasts one
// input value per position (4 + 6 loads per 24 FMAs); the result is scattered into NCHW with stride ldc.
#if defined(__x86_64__)
#include <immintrin.h>
#include "gemm_internal.h"

#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))

enum { NV_MAX = 4, NP_MAX = 6, VL = 16 };

CK_AVX512 static inline __attribute__((always_inline))
void ttile(const int nv, const int np, int64_t kc, const float *a, const float *b, const int32_t *off,
           const int32_t *poff, float *buf, int mode, const ck_gemmt_store *st) {
    const int lda = nv * VL;
    __m512 acc[NP_MAX][NV_MAX];
    __mmask16 cm[NV_MAX];
    for (int v = 0; v < nv; v++) {
        const int64_t left = st->nch - VL * v;
        cm[v] = left >= VL ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
    }
    if (mode & CK_GEMMT_LOAD) {
        for (int j = 0; j < np; j++)
            for (int v = 0; v < nv; v++) acc[j][v] = _mm512_loadu_ps(buf + j * lda + VL * v);
    } else {
        for (int v = 0; v < nv; v++) {
            const __m512 b0 = st->bias ? _mm512_maskz_loadu_ps(cm[v], st->bias + VL * v) : _mm512_setzero_ps();
            for (int j = 0; j < np; j++) acc[j][v] = b0;
        }
    }
    int32_t po[NP_MAX];
    for (int j = 0; j < np; j++) po[j] = poff[j];
    for (int64_t k = 0; k < kc; k++) {
        __m512 wv[NV_MAX];
        for (int v = 0; v < nv; v++) wv[v] = _mm512_loadu_ps(a + VL * v);
        const float *bk = b + off[k];
        for (int j = 0; j < np; j++) {
            const __m512 bc = _mm512_set1_ps(bk[po[j]]);
            for (int v = 0; v < nv; v++) acc[j][v] = _mm512_fmadd_ps(bc, wv[v], acc[j][v]);
        }
        a += lda;
    }
    if (!(mode & CK_GEMMT_FINAL)) {
        for (int j = 0; j < np; j++)
            for (int v = 0; v < nv; v++) _mm512_storeu_ps(buf + j * lda + VL * v, acc[j][v]);
        return;
    }
    const __m512 lo = _mm512_set1_ps(st->lo), hi = _mm512_set1_ps(st->hi);
    const __m512i vidx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int)st->ldc));
    for (int v = 0; v < nv; v++) {
        float *yv = st->y + VL * v * st->ldc;
        for (int j = 0; j < np; j++)
            _mm512_mask_i32scatter_ps(yv + j, cm[v], vidx, _mm512_min_ps(hi, _mm512_max_ps(lo, acc[j][v])), 4);
    }
}

#define CK_T(NV, NP)                                                                                            \
    CK_AVX512 static void t_##NV##_##NP(int64_t kc, const float *a, const float *b, const int32_t *off,         \
                                        const int32_t *poff, float *buf, int mode, const ck_gemmt_store *st) {  \
        ttile(NV, NP, kc, a, b, off, poff, buf, mode, st);                                                      \
    }
#define CK_TROW(NV) CK_T(NV, 1) CK_T(NV, 2) CK_T(NV, 3) CK_T(NV, 4) CK_T(NV, 5) CK_T(NV, 6)
CK_TROW(1) CK_TROW(2) CK_TROW(3) CK_TROW(4)
#define CK_TENT(NV) {NULL, t_##NV##_1, t_##NV##_2, t_##NV##_3, t_##NV##_4, t_##NV##_5, t_##NV##_6}

static const ck_gemmt_ukernels table = {CK_ISA_AVX512, VL, NV_MAX, NP_MAX,
                                        {{NULL}, CK_TENT(1), CK_TENT(2), CK_TENT(3), CK_TENT(4)}};

const ck_gemmt_ukernels *ck_gemmt_ukernels_avx512_f32(void) { return &table; }
#endif
