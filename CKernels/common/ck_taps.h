// Multi-tap accumulation, the inner loop of the direct convolution: a[i] += Σ_t w[t]·src[i + off[t]], terms added
// per element in tap order. Blocks of 64 and then 8 outputs stay in registers across all taps (independent FMA
// chains, one load per FMA); the order per element is the same in every block and in the scalar tail.
#ifndef CK_TAPS_H
#define CK_TAPS_H
#include "ck_internal.h"

#define CK_TAPS_BLOCK(W)                                                                                            \
    for (; i + (W) <= n; i += (W)) {                                                                                \
        float r[W];                                                                                                 \
        for (int j = 0; j < (W); j++) r[j] = a[i + j];                                                              \
        for (int64_t t = 0; t < T; t++) {                                                                           \
            const float wt = w[t], *s = src + off[t] + i;                                                           \
            for (int j = 0; j < (W); j++) r[j] += wt * s[j];                                                        \
        }                                                                                                           \
        for (int j = 0; j < (W); j++) a[i + j] = r[j];                                                              \
    }

CK_INLINE void ck_fma_taps(float *a, int64_t n, const float *src, const int64_t *off, const float *w, int64_t T) {
    int64_t i = 0;
    CK_TAPS_BLOCK(64)
    CK_TAPS_BLOCK(8)
    for (; i < n; i++) {
        float r = a[i];
        for (int64_t t = 0; t < T; t++) r += w[t] * src[i + off[t]];
        a[i] = r;
    }
}

#endif
