// Resize, AVX2 (see resize_internal.h): H pass 8 output columns per vector, two vpermps from a 16-column window
// blended by lane (vgatherdps when the block's columns are farther apart), V pass by broadcast-weight FMAs.
#include "resize_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

/// Lanes [0, n) of 8.
CK_RESIZE_AVX2 static inline __m256i first8(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)(n < 0 ? 0 : n > 8 ? 8 : n)), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0));
}
CK_RESIZE_AVX2 static inline __m256 lanes_of(uint32_t bits) {
    const __m256i bit = _mm256_set_epi32(128, 64, 32, 16, 8, 4, 2, 1);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int32_t)bits), bit), bit));
}

CK_RESIZE_AVX2 static void hrow(const ck_htab *t, int nearest, const float *src, float *dst, int64_t n) {
    const int64_t T = t->T;
    const __m256i seven = _mm256_set1_epi32(7);
    for (int64_t b = 0; b < t->nb; b++) {
        __m256 acc = _mm256_setzero_ps(), lo = acc, hi = acc;
        if (t->simple[b]) {
            const int64_t k0 = b * T;
            const float *s = src + t->base[k0];
            const int32_t nv = t->nvalid[k0];
            lo = nv >= 8 ? _mm256_loadu_ps(s) : _mm256_maskload_ps(s, first8(nv));
            hi = nv >= 16 ? _mm256_loadu_ps(s + 8) : _mm256_maskload_ps(s + 8, first8(nv - 8));
            for (int64_t tp = 0; tp < (nearest ? 1 : T); tp++) {
                const __m256i rel = _mm256_loadu_si256((const __m256i *)(t->rel + (k0 + tp) * 8));
                const __m256 v = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, rel), _mm256_permutevar8x32_ps(hi, rel),
                                                  _mm256_castsi256_ps(_mm256_cmpgt_epi32(rel, seven)));
                acc = nearest ? v : _mm256_fmadd_ps(_mm256_loadu_ps(t->w + (k0 + tp) * 8), v, acc);
            }
            if (b * 8 + 8 <= n) _mm256_storeu_ps(dst + b * 8, acc);
            else _mm256_maskstore_ps(dst + b * 8, first8(n - b * 8), acc);
            continue;
        }
        int32_t loaded = -1;
        for (int64_t tp = 0; tp < T; tp++) {
            const int64_t k = b * T + tp;
            if (!nearest && !t->nz[k]) continue;
            const __m256i rel = _mm256_loadu_si256((const __m256i *)(t->rel + k * 8));
            __m256 v;
            if (t->gather[k]) {
                v = _mm256_i32gather_ps(src, rel, 4);
            } else {
                if (t->base[k] != loaded) {
                    loaded = t->base[k];
                    const int32_t nv = t->nvalid[k];
                    lo = nv >= 8 ? _mm256_loadu_ps(src + loaded) : _mm256_maskload_ps(src + loaded, first8(nv));
                    hi = nv >= 16 ? _mm256_loadu_ps(src + loaded + 8) : _mm256_maskload_ps(src + loaded + 8, first8(nv - 8));
                }
                v = _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, rel), _mm256_permutevar8x32_ps(hi, rel),
                                     _mm256_castsi256_ps(_mm256_cmpgt_epi32(rel, seven)));
            }
            if (nearest) acc = v;
            else acc = _mm256_blendv_ps(acc, _mm256_fmadd_ps(_mm256_loadu_ps(t->w + k * 8), v, acc), lanes_of(t->nz[k]));
        }
        if (b * 8 + 8 <= n) _mm256_storeu_ps(dst + b * 8, acc);
        else _mm256_maskstore_ps(dst + b * 8, first8(n - b * 8), acc);
    }
}

CK_RESIZE_AVX2 static void vblend(const float **rows, const float *w, int64_t n, float *dst, int64_t OW) {
    int64_t o = 0;
    for (; o + 16 <= OW; o += 16) {
        __m256 a0 = _mm256_mul_ps(_mm256_set1_ps(w[0]), _mm256_loadu_ps(rows[0] + o));
        __m256 a1 = _mm256_mul_ps(_mm256_set1_ps(w[0]), _mm256_loadu_ps(rows[0] + o + 8));
        for (int64_t i = 1; i < n; i++) {
            const __m256 wi = _mm256_set1_ps(w[i]);
            a0 = _mm256_fmadd_ps(wi, _mm256_loadu_ps(rows[i] + o), a0);
            a1 = _mm256_fmadd_ps(wi, _mm256_loadu_ps(rows[i] + o + 8), a1);
        }
        _mm256_storeu_ps(dst + o, a0);
        _mm256_storeu_ps(dst + o + 8, a1);
    }
    for (; o < OW; o += 8) {
        const __m256i m = first8(OW - o);
        __m256 a = _mm256_mul_ps(_mm256_set1_ps(w[0]), _mm256_maskload_ps(rows[0] + o, m));
        for (int64_t i = 1; i < n; i++) a = _mm256_fmadd_ps(_mm256_set1_ps(w[i]), _mm256_maskload_ps(rows[i] + o, m), a);
        _mm256_maskstore_ps(dst + o, m, a);
    }
}

CK_RESIZE_DRIVER(CK_RESIZE_AVX2, hrow, vblend)

int ck_resize_ring_avx2(const ck_resize_job *J, int threads) {
    return ck_resize_run(J, threads, resize_item);
}
#endif
