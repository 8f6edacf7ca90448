// Winograd F(4×4, 3×3) kernels for AVX-512: 16 channel lanes, Cout panels of 64, a 6-tile × 64-Cout microkernel
// (24 zmm accumulators; per input channel 4 loads of U and 6 broadcasts of V feed 24 FMAs).
#include "ck_winograd_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))
#define I512 static inline __attribute__((always_inline)) T512

/// 1-D input transform Bᵀd (points 0, ±1, ±2, ∞).
I512 void bt16(__m512 o[6], const __m512 d[6]) {
    const __m512 c2 = _mm512_set1_ps(2.0f), c4 = _mm512_set1_ps(4.0f), c5 = _mm512_set1_ps(5.0f);
    const __m512 s12 = _mm512_add_ps(d[1], d[2]), s34 = _mm512_add_ps(d[3], d[4]);
    const __m512 d12 = _mm512_sub_ps(d[1], d[2]), d43 = _mm512_sub_ps(d[4], d[3]);
    const __m512 d42 = _mm512_sub_ps(d[4], d[2]), d31 = _mm512_sub_ps(d[3], d[1]);
    o[0] = _mm512_fmadd_ps(c4, d[0], _mm512_fnmadd_ps(c5, d[2], d[4]));
    o[1] = _mm512_fnmadd_ps(c4, s12, s34);
    o[2] = _mm512_fmadd_ps(c4, d12, d43);
    o[3] = _mm512_fmadd_ps(c2, d31, d42);
    o[4] = _mm512_fnmadd_ps(c2, d31, d42);
    o[5] = _mm512_fmadd_ps(c4, d[1], _mm512_fnmadd_ps(c5, d[3], d[5]));
}

/// 1-D inverse transform Aᵀm.
I512 void at16(__m512 o[4], const __m512 m[6]) {
    const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
    o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12), m[5]);
}

/// Patch row of 16 channels: z[l] holds columns 0..7 of channel l (lanes 0–7) and l + 8 (lanes 8–15); out[j] is
/// column j of all 16 channels (lanes = channels). An 8×8 transpose inside each 256-bit half.
I512 void transpose_row(__m512 out[6], const __m512 z[8]) {
    __m512 t[8], s[8];
    for (int a = 0; a < 4; a++) {
        t[2 * a] = _mm512_unpacklo_ps(z[2 * a], z[2 * a + 1]);
        t[2 * a + 1] = _mm512_unpackhi_ps(z[2 * a], z[2 * a + 1]);
    }
    for (int a = 0; a < 2; a++) {
        s[4 * a + 0] = _mm512_shuffle_ps(t[4 * a], t[4 * a + 2], 0x44);
        s[4 * a + 1] = _mm512_shuffle_ps(t[4 * a], t[4 * a + 2], 0xEE);
        s[4 * a + 2] = _mm512_shuffle_ps(t[4 * a + 1], t[4 * a + 3], 0x44);
        s[4 * a + 3] = _mm512_shuffle_ps(t[4 * a + 1], t[4 * a + 3], 0xEE);
    }
    // s[k] (k < 4) = channels 0–3 (and 8–11) at columns k, k + 4; s[k + 4] the same for channels 4–7 (12–15).
    const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    const __m512i hi = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    out[0] = _mm512_permutex2var_ps(s[0], lo, s[4]);
    out[1] = _mm512_permutex2var_ps(s[1], lo, s[5]);
    out[2] = _mm512_permutex2var_ps(s[2], lo, s[6]);
    out[3] = _mm512_permutex2var_ps(s[3], lo, s[7]);
    out[4] = _mm512_permutex2var_ps(s[0], hi, s[4]);
    out[5] = _mm512_permutex2var_ps(s[1], hi, s[5]);
}

T512 static void input_avx512(const ck_wino_geom *g, const float *x, int64_t t0, int64_t nt, float *V) {
    const int64_t CB = g->CP / 16, NG = (nt + 5) / 6, xs = NG * CB * 96, HW = g->H * g->W;
    for (int64_t t = 0; t < NG * 6; t++) {
        float *vt = V + (t / 6) * CB * 96 + (t % 6) * 16;
        if (t >= nt) {
            for (int xi = 0; xi < 36; xi++)
                for (int64_t cb = 0; cb < CB; cb++) _mm512_store_ps(vt + xi * xs + cb * 96, _mm512_setzero_ps());
            continue;
        }
        int64_t n, th, tw;
        ck_wino_tile(g, t0 + t, &n, &th, &tw);
        const int64_t r0 = th * 4 - g->ph, c0 = tw * 4 - g->pw;
        int ilo, ihi, jlo, jhi;
        ck_wino_span(r0, g->H, &ilo, &ihi);
        ck_wino_span(c0, g->W, &jlo, &jhi);
        const __mmask16 cm = (__mmask16)(((1u << jhi) - 1) & ~((1u << jlo) - 1));
        const float *xt = x + n * g->x_img;
        for (int64_t cb = 0; cb < CB; cb++) {
            __m512 h[6][6];
            for (int i = 0; i < 6; i++) {
                __m512 d[6];
                if (i < ilo || i >= ihi || !cm) {
                    for (int j = 0; j < 6; j++) d[j] = _mm512_setzero_ps();
                } else {
                    const int64_t off = (r0 + i) * g->W + c0;
                    __m512 z[8];
                    // 16 channels × 6 rows are more streams than the hardware prefetchers follow: fetch the line
                    // the tiles 8 to the right will read (each line serves 4 tiles along the row).
                    if ((tw & 3) == 0)
                        for (int l = 0; l < 16; l++)
                            _mm_prefetch((const char *)ck_wino_addr(xt, (cb * 16 + l) * HW + off + 32), _MM_HINT_T0);
                    for (int l = 0; l < 8; l++) {
                        const int64_t c = cb * 16 + l;
                        const __mmask16 mlo = c < g->C ? cm : 0, mhi = c + 8 < g->C ? (__mmask16)(cm << 8) : 0;
                        z[l] = _mm512_maskz_loadu_ps(mlo, ck_wino_addr(xt, c * HW + off));
                        z[l] = _mm512_mask_loadu_ps(z[l], mhi, ck_wino_addr(xt, (c + 8) * HW + off - 8));
                    }
                    transpose_row(d, z);
                }
                bt16(h[i], d);  // along w
            }
            for (int k = 0; k < 6; k++) {
                __m512 col[6], o[6];
                for (int i = 0; i < 6; i++) col[i] = h[i][k];
                bt16(o, col);  // along h
                for (int i = 0; i < 6; i++) _mm512_store_ps(vt + (i * 6 + k) * xs + cb * 96, o[i]);
            }
        }
    }
}

/// Z block (6 tiles × 16·NV Cout) = U panel (CP × 16·NV) · V group (CP × 6), the whole reduction in registers.
I512 void micro_avx512(int NV, const float *u, const float *v, int64_t CB, float *z, int64_t ldz) {
    const int64_t w = 16 * NV;
    __m512 acc[6][4];
    for (int t = 0; t < 6; t++)
        for (int j = 0; j < NV; j++) acc[t][j] = _mm512_setzero_ps();
    for (int64_t cb = 0; cb < CB; cb++, v += 96, u += 16 * w) {
        for (int cc = 0; cc < 16; cc++) {
            __m512 ur[4];
            for (int j = 0; j < NV; j++) ur[j] = _mm512_loadu_ps(u + cc * w + 16 * j);
            for (int t = 0; t < 6; t++) {
                const __m512 b = _mm512_set1_ps(v[t * 16 + cc]);
                for (int j = 0; j < NV; j++) acc[t][j] = _mm512_fmadd_ps(ur[j], b, acc[t][j]);
            }
        }
    }
    for (int t = 0; t < 6; t++)
        for (int j = 0; j < NV; j++) _mm512_storeu_ps(z + t * ldz + 16 * j, acc[t][j]);
}

T512 static void panel_avx512(int NV, const float *u, const float *V, int64_t NG, int64_t CB, float *z, int64_t ldz) {
    switch (NV) {
    case 4:
        for (int64_t q = 0; q < NG; q++) micro_avx512(4, u, V + q * CB * 96, CB, z + q * 6 * ldz, ldz);
        break;
    case 3:
        for (int64_t q = 0; q < NG; q++) micro_avx512(3, u, V + q * CB * 96, CB, z + q * 6 * ldz, ldz);
        break;
    case 2:
        for (int64_t q = 0; q < NG; q++) micro_avx512(2, u, V + q * CB * 96, CB, z + q * 6 * ldz, ldz);
        break;
    default:
        for (int64_t q = 0; q < NG; q++) micro_avx512(1, u, V + q * CB * 96, CB, z + q * 6 * ldz, ldz);
        break;
    }
}

T512 static void gemm_avx512(const ck_wino_geom *g, const float *U, const float *V, int64_t NG, int64_t m0,
                             int64_t mcp, float *Z) {
    const int64_t CB = g->CP / 16, vs = NG * CB * 96, zs = NG * 6 * mcp;
    for (int xi = 0; xi < 36; xi++)
        for (int64_t mb = m0; mb < m0 + mcp; mb += 64) {
            const int nv = (int)(ck_min(64, g->MP - mb) / 16);
            panel_avx512(nv, U + xi * g->CP * g->MP + mb * g->CP, V + xi * vs, NG, CB, Z + xi * zs + (mb - m0),
                         mcp);
        }
}

T512 static void output_avx512(const ck_wino_geom *g, const float *Z, int64_t t0, int64_t nt, int64_t m0,
                               int64_t mc, int64_t ldz, const float *bias, float lo, float hi, int clamp, float *y) {
    const int64_t zs = (nt + 5) / 6 * 6 * ldz, OHW = g->OH * g->OW;
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int64_t t = 0; t < nt; t++) {
        int64_t n, th, tw;
        ck_wino_tile(g, t0 + t, &n, &th, &tw);
        const int64_t oy = th * 4, ox = tw * 4;
        const int rows = (int)ck_min(4, g->OH - oy), cols = (int)ck_min(4, g->OW - ox);
        const __mmask8 sm = (__mmask8)((1u << cols) - 1);
        for (int64_t mo = 0; mo < mc; mo += 16) {
            const float *zp = Z + t * ldz + mo;
            const int valid = (int)ck_min(16, mc - mo);
            const __mmask16 bm = (__mmask16)((1u << valid) - 1);
            __m512 r[4][6], p[4][4];
            for (int j = 0; j < 6; j++) {
                __m512 m[6], o[4];
                for (int i = 0; i < 6; i++) m[i] = _mm512_loadu_ps(zp + (i * 6 + j) * zs);
                at16(o, m);  // along h
                for (int a = 0; a < 4; a++) r[a][j] = o[a];
            }
            const __m512 b = bias ? _mm512_maskz_loadu_ps(bm, bias + m0 + mo) : _mm512_setzero_ps();
            for (int a = 0; a < 4; a++) {
                at16(p[a], r[a]);  // along w
                for (int q = 0; q < 4; q++) {
                    p[a][q] = _mm512_add_ps(p[a][q], b);
                    // max(lo, v) then min(hi, ·): a NaN v is the second operand, so it passes through.
                    if (clamp) p[a][q] = _mm512_min_ps(vhi, _mm512_max_ps(vlo, p[a][q]));
                }
            }
            float *yo = y + n * g->y_img + (m0 + mo) * OHW + oy * g->OW + ox;
            for (int a = 0; a < rows; a++) {
                // 4×4 transposes inside each 128-bit lane: w[k] lane L = row a of Cout 4L + k.
                const __m512 u0 = _mm512_unpacklo_ps(p[a][0], p[a][1]), u1 = _mm512_unpackhi_ps(p[a][0], p[a][1]);
                const __m512 u2 = _mm512_unpacklo_ps(p[a][2], p[a][3]), u3 = _mm512_unpackhi_ps(p[a][2], p[a][3]);
                __m512 wv[4];
                wv[0] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(u0), _mm512_castps_pd(u2)));
                wv[1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(u0), _mm512_castps_pd(u2)));
                wv[2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(u1), _mm512_castps_pd(u3)));
                wv[3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(u1), _mm512_castps_pd(u3)));
                float *ya = yo + a * g->OW;
                for (int L = 0; L < 4; L++)
                    for (int k = 0; k < 4; k++) {
                        const int cc = 4 * L + k;
                        if (cc >= valid) continue;
                        __m128 v;
                        switch (L) {
                        case 0: v = _mm512_castps512_ps128(wv[k]); break;
                        case 1: v = _mm512_extractf32x4_ps(wv[k], 1); break;
                        case 2: v = _mm512_extractf32x4_ps(wv[k], 2); break;
                        default: v = _mm512_extractf32x4_ps(wv[k], 3); break;
                        }
                        if (cols == 4)
                            _mm_storeu_ps(ya + cc * OHW, v);
                        else
                            _mm_mask_storeu_ps(ya + cc * OHW, sm, v);
                    }
            }
        }
    }
}

const ck_wino_kernels ck_wino_avx512 = {16, 64, input_avx512, gemm_avx512, output_avx512};
#endif
