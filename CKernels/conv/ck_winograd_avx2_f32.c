// Winograd F(4×4, 3×3) kernels for AVX2 + FMA: 8 channel lanes, Cout panels of 16, a 6-tile × 16-Cout
// microkernel (12 ymm accumulators; per input channel 2 loads of U and 6 broadcasts of V feed 12 FMAs).
#include "ck_winograd_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define T256 __attribute__((target("avx2,fma")))
#define I256 static inline __attribute__((always_inline)) T256

I256 void bt8(__m256 o[6], const __m256 d[6]) {
    const __m256 c2 = _mm256_set1_ps(2.0f), c4 = _mm256_set1_ps(4.0f), c5 = _mm256_set1_ps(5.0f);
    const __m256 s12 = _mm256_add_ps(d[1], d[2]), s34 = _mm256_add_ps(d[3], d[4]);
    const __m256 d12 = _mm256_sub_ps(d[1], d[2]), d43 = _mm256_sub_ps(d[4], d[3]);
    const __m256 d42 = _mm256_sub_ps(d[4], d[2]), d31 = _mm256_sub_ps(d[3], d[1]);
    o[0] = _mm256_fmadd_ps(c4, d[0], _mm256_fnmadd_ps(c5, d[2], d[4]));
    o[1] = _mm256_fnmadd_ps(c4, s12, s34);
    o[2] = _mm256_fmadd_ps(c4, d12, d43);
    o[3] = _mm256_fmadd_ps(c2, d31, d42);
    o[4] = _mm256_fnmadd_ps(c2, d31, d42);
    o[5] = _mm256_fmadd_ps(c4, d[1], _mm256_fnmadd_ps(c5, d[3], d[5]));
}

I256 void at8(__m256 o[4], const __m256 m[6]) {
    const __m256 s12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
    const __m256 s34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
    o[0] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
    o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), d34, d12);
    o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), s34, s12);
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), d34, d12), m[5]);
}

/// z[l] = columns 0..7 of channel l; out[j] = column j of the 8 channels (an 8×8 transpose, 6 columns kept).
I256 void transpose_row8(__m256 out[6], const __m256 z[8]) {
    __m256 t[8], s[8];
    for (int a = 0; a < 4; a++) {
        t[2 * a] = _mm256_unpacklo_ps(z[2 * a], z[2 * a + 1]);
        t[2 * a + 1] = _mm256_unpackhi_ps(z[2 * a], z[2 * a + 1]);
    }
    for (int a = 0; a < 2; a++) {
        s[4 * a + 0] = _mm256_shuffle_ps(t[4 * a], t[4 * a + 2], 0x44);
        s[4 * a + 1] = _mm256_shuffle_ps(t[4 * a], t[4 * a + 2], 0xEE);
        s[4 * a + 2] = _mm256_shuffle_ps(t[4 * a + 1], t[4 * a + 3], 0x44);
        s[4 * a + 3] = _mm256_shuffle_ps(t[4 * a + 1], t[4 * a + 3], 0xEE);
    }
    out[0] = _mm256_permute2f128_ps(s[0], s[4], 0x20);
    out[1] = _mm256_permute2f128_ps(s[1], s[5], 0x20);
    out[2] = _mm256_permute2f128_ps(s[2], s[6], 0x20);
    out[3] = _mm256_permute2f128_ps(s[3], s[7], 0x20);
    out[4] = _mm256_permute2f128_ps(s[0], s[4], 0x31);
    out[5] = _mm256_permute2f128_ps(s[1], s[5], 0x31);
}

T256 static void input_avx2(const ck_wino_geom *g, const float *x, int64_t t0, int64_t nt, float *V) {
    const int64_t CB = g->CP / 8, NG = (nt + 5) / 6, xs = NG * CB * 48, HW = g->H * g->W;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t t = 0; t < NG * 6; t++) {
        float *vt = V + (t / 6) * CB * 48 + (t % 6) * 8;
        if (t >= nt) {
            for (int xi = 0; xi < 36; xi++)
                for (int64_t cb = 0; cb < CB; cb++) _mm256_store_ps(vt + xi * xs + cb * 48, _mm256_setzero_ps());
            continue;
        }
        int64_t n, th, tw;
        ck_wino_tile(g, t0 + t, &n, &th, &tw);
        const int64_t r0 = th * 4 - g->ph, c0 = tw * 4 - g->pw;
        int ilo, ihi, jlo, jhi;
        ck_wino_span(r0, g->H, &ilo, &ihi);
        ck_wino_span(c0, g->W, &jlo, &jhi);
        // Lanes jlo <= j < jhi (maskload touches only those, so the row may start before the image).
        const __m256i cm = _mm256_and_si256(_mm256_cmpgt_epi32(iota, _mm256_set1_epi32(jlo - 1)),
                                            _mm256_cmpgt_epi32(_mm256_set1_epi32(jhi), iota));
        const float *xt = x + n * g->x_img;
        for (int64_t cb = 0; cb < CB; cb++) {
            __m256 h[6][6];
            for (int i = 0; i < 6; i++) {
                __m256 d[6];
                if (i < ilo || i >= ihi || jlo >= jhi) {
                    for (int j = 0; j < 6; j++) d[j] = _mm256_setzero_ps();
                } else {
                    const int64_t off = (r0 + i) * g->W + c0;
                    __m256 z[8];
                    for (int l = 0; l < 8; l++) {
                        const int64_t c = cb * 8 + l;
                        z[l] = c < g->C ? _mm256_maskload_ps(ck_wino_addr(xt, c * HW + off), cm) : _mm256_setzero_ps();
                    }
                    transpose_row8(d, z);
                }
                bt8(h[i], d);
            }
            for (int k = 0; k < 6; k++) {
                __m256 col[6], o[6];
                for (int i = 0; i < 6; i++) col[i] = h[i][k];
                bt8(o, col);
                for (int i = 0; i < 6; i++) _mm256_store_ps(vt + (i * 6 + k) * xs + cb * 48, o[i]);
            }
        }
    }
}

I256 void micro_avx2(int NV, const float *u, const float *v, int64_t CB, float *z, int64_t ldz) {
    const int64_t w = 8 * NV;
    __m256 acc[6][2];
    for (int t = 0; t < 6; t++)
        for (int j = 0; j < NV; j++) acc[t][j] = _mm256_setzero_ps();
    for (int64_t cb = 0; cb < CB; cb++, v += 48, u += 8 * w) {
        for (int cc = 0; cc < 8; cc++) {
            __m256 ur[2];
            for (int j = 0; j < NV; j++) ur[j] = _mm256_loadu_ps(u + cc * w + 8 * j);
            for (int t = 0; t < 6; t++) {
                const __m256 b = _mm256_broadcast_ss(v + t * 8 + cc);
                for (int j = 0; j < NV; j++) acc[t][j] = _mm256_fmadd_ps(ur[j], b, acc[t][j]);
            }
        }
    }
    for (int t = 0; t < 6; t++)
        for (int j = 0; j < NV; j++) _mm256_storeu_ps(z + t * ldz + 8 * j, acc[t][j]);
}

T256 static void gemm_avx2(const ck_wino_geom *g, const float *U, const float *V, int64_t NG, int64_t m0, int64_t mcp,
                           float *Z) {
    const int64_t CB = g->CP / 8, vs = NG * CB * 48, zs = NG * 6 * mcp;
    for (int xi = 0; xi < 36; xi++)
        for (int64_t mb = m0; mb < m0 + mcp; mb += 16) {
            const float *u = U + xi * g->CP * g->MP + mb * g->CP, *v = V + xi * vs;
            float *z = Z + xi * zs + (mb - m0);
            if (g->MP - mb >= 16)
                for (int64_t q = 0; q < NG; q++) micro_avx2(2, u, v + q * CB * 48, CB, z + q * 6 * mcp, mcp);
            else
                for (int64_t q = 0; q < NG; q++) micro_avx2(1, u, v + q * CB * 48, CB, z + q * 6 * mcp, mcp);
        }
}

T256 static void output_avx2(const ck_wino_geom *g, const float *Z, int64_t t0, int64_t nt, int64_t m0, int64_t mc,
                             int64_t ldz, const float *bias, float lo, float hi, int clamp, float *y) {
    const int64_t zs = (nt + 5) / 6 * 6 * ldz, OHW = g->OH * g->OW;
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t t = 0; t < nt; t++) {
        int64_t n, th, tw;
        ck_wino_tile(g, t0 + t, &n, &th, &tw);
        const int64_t oy = th * 4, ox = tw * 4;
        const int rows = (int)ck_min(4, g->OH - oy), cols = (int)ck_min(4, g->OW - ox);
        const __m128i sm = _mm256_castsi256_si128(_mm256_cmpgt_epi32(_mm256_set1_epi32(cols), iota));
        for (int64_t mo = 0; mo < mc; mo += 8) {
            const float *zp = Z + t * ldz + mo;
            const int valid = (int)ck_min(8, mc - mo);
            __m256 r[4][6], p[4][4];
            for (int j = 0; j < 6; j++) {
                __m256 m[6], o[4];
                for (int i = 0; i < 6; i++) m[i] = _mm256_loadu_ps(zp + (i * 6 + j) * zs);
                at8(o, m);
                for (int a = 0; a < 4; a++) r[a][j] = o[a];
            }
            const __m256i bm = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), iota);
            const __m256 b = bias ? _mm256_maskload_ps(bias + m0 + mo, bm) : _mm256_setzero_ps();
            for (int a = 0; a < 4; a++) {
                at8(p[a], r[a]);
                for (int q = 0; q < 4; q++) {
                    p[a][q] = _mm256_add_ps(p[a][q], b);
                    if (clamp) p[a][q] = _mm256_min_ps(vhi, _mm256_max_ps(vlo, p[a][q]));  // NaN passes through
                }
            }
            float *yo = y + n * g->y_img + (m0 + mo) * OHW + oy * g->OW + ox;
            for (int a = 0; a < rows; a++) {
                const __m256 u0 = _mm256_unpacklo_ps(p[a][0], p[a][1]), u1 = _mm256_unpackhi_ps(p[a][0], p[a][1]);
                const __m256 u2 = _mm256_unpacklo_ps(p[a][2], p[a][3]), u3 = _mm256_unpackhi_ps(p[a][2], p[a][3]);
                __m256 wv[4];
                wv[0] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(u0), _mm256_castps_pd(u2)));
                wv[1] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(u0), _mm256_castps_pd(u2)));
                wv[2] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(u1), _mm256_castps_pd(u3)));
                wv[3] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(u1), _mm256_castps_pd(u3)));
                float *ya = yo + a * g->OW;
                for (int L = 0; L < 2; L++)
                    for (int k = 0; k < 4; k++) {
                        const int cc = 4 * L + k;
                        if (cc >= valid) continue;
                        const __m128 v = L ? _mm256_extractf128_ps(wv[k], 1) : _mm256_castps256_ps128(wv[k]);
                        if (cols == 4)
                            _mm_storeu_ps(ya + cc * OHW, v);
                        else
                            _mm_maskstore_ps(ya + cc * OHW, sm, v);
                    }
            }
        }
    }
}

const ck_wino_kernels ck_wino_avx2 = {8, 16, input_avx2, gemm_avx2, output_avx2};
#endif
