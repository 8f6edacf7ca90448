// Resize, AVX-512 (see resize_internal.h): H pass 16 output columns per vector by vpermt2ps from a 32-column window
// (vgatherdps when the block's columns are farther apart), V pass by broadcast-weight FMAs.
#include "resize_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

CK_RESIZE_AVX512 static inline __mmask16 first16(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/// One source row resampled along w into dst (n columns stored; the ring rows are padded to whole blocks).
CK_RESIZE_AVX512 static void hrow(const ck_htab *t, int nearest, const float *src, float *dst, int64_t n) {
    const int64_t T = t->T;
    for (int64_t b = 0; b < t->nb; b++) {
        __m512 acc = _mm512_setzero_ps(), lo = acc, hi = acc;
        if (t->simple[b]) {
            const int64_t k0 = b * T;
            const float *s = src + t->base[k0];
            _mm_prefetch((const char *)(s + 256), _MM_HINT_T0);
            if (t->nvalid[k0] >= 32) {
                lo = _mm512_loadu_ps(s);
                hi = _mm512_loadu_ps(s + 16);
            } else {
                lo = _mm512_maskz_loadu_ps(first16(t->nvalid[k0]), s);
                hi = _mm512_maskz_loadu_ps(first16(t->nvalid[k0] - 16), s + 16);
            }
            if (nearest) {
                acc = _mm512_permutex2var_ps(lo, _mm512_loadu_si512(t->rel + k0 * 16), hi);
            } else {
                for (int64_t tp = 0; tp < T; tp++)
                    acc = _mm512_fmadd_ps(_mm512_loadu_ps(t->w + (k0 + tp) * 16),
                                          _mm512_permutex2var_ps(lo, _mm512_loadu_si512(t->rel + (k0 + tp) * 16), hi), acc);
            }
            if (b * 16 + 16 <= n) _mm512_storeu_ps(dst + b * 16, acc);
            else _mm512_mask_storeu_ps(dst + b * 16, first16(n - b * 16), acc);
            continue;
        }
        int32_t loaded = -1;
        for (int64_t tp = 0; tp < T; tp++) {
            const int64_t k = b * T + tp;
            if (!nearest && !t->nz[k]) continue;
            const __m512i rel = _mm512_loadu_si512(t->rel + k * 16);
            __m512 v;
            if (t->gather[k]) {
                v = _mm512_i32gather_ps(rel, src, 4);
            } else {
                if (t->base[k] != loaded) {
                    loaded = t->base[k];
                    const int32_t nv = t->nvalid[k];
                    _mm_prefetch((const char *)(src + loaded + 256), _MM_HINT_T0);
                    _mm_prefetch((const char *)(src + loaded + 272), _MM_HINT_T0);
                    if (nv >= 32) {  // whole window inside the row: plain loads
                        lo = _mm512_loadu_ps(src + loaded);
                        hi = _mm512_loadu_ps(src + loaded + 16);
                    } else {
                        lo = _mm512_maskz_loadu_ps(first16(nv), src + loaded);
                        hi = _mm512_maskz_loadu_ps(first16(nv - 16), src + loaded + 16);
                    }
                }
                v = _mm512_permutex2var_ps(lo, rel, hi);
            }
            acc = nearest ? v : _mm512_mask3_fmadd_ps(_mm512_loadu_ps(t->w + k * 16), v, acc, (__mmask16)t->nz[k]);
        }
        if (b * 16 + 16 <= n) _mm512_storeu_ps(dst + b * 16, acc);
        else _mm512_mask_storeu_ps(dst + b * 16, first16(n - b * 16), acc);
    }
}

/// dst[o] = Σ_i w[i]·rows[i][o], o < OW.
CK_RESIZE_AVX512 static void vblend(const float **rows, const float *w, int64_t n, float *dst, int64_t OW) {
    int64_t o = 0;
    for (; o + 32 <= OW; o += 32) {
        __m512 a0 = _mm512_mul_ps(_mm512_set1_ps(w[0]), _mm512_loadu_ps(rows[0] + o));
        __m512 a1 = _mm512_mul_ps(_mm512_set1_ps(w[0]), _mm512_loadu_ps(rows[0] + o + 16));
        for (int64_t i = 1; i < n; i++) {
            const __m512 wi = _mm512_set1_ps(w[i]);
            a0 = _mm512_fmadd_ps(wi, _mm512_loadu_ps(rows[i] + o), a0);
            a1 = _mm512_fmadd_ps(wi, _mm512_loadu_ps(rows[i] + o + 16), a1);
        }
        _mm512_storeu_ps(dst + o, a0);
        _mm512_storeu_ps(dst + o + 16, a1);
    }
    for (; o < OW; o += 16) {
        const __mmask16 m = first16(OW - o);
        __m512 a = _mm512_mul_ps(_mm512_set1_ps(w[0]), _mm512_maskz_loadu_ps(m, rows[0] + o));
        for (int64_t i = 1; i < n; i++) a = _mm512_fmadd_ps(_mm512_set1_ps(w[i]), _mm512_maskz_loadu_ps(m, rows[i] + o), a);
        _mm512_mask_storeu_ps(dst + o, m, a);
    }
}

CK_RESIZE_DRIVER(CK_RESIZE_AVX512, hrow, vblend)

int ck_resize_ring_avx512(const ck_resize_job *J, int threads) {
    return ck_resize_run(J, threads, resize_item);
}
#endif
