// Winograd F(4×4, 3×3) weight gradient (2-D, 3×3, stride 1, dilation 1): the adjoint of the forward identity
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A with respect to g is dg = Gᵀ[(A dY Aᵀ) ⊙ (Bᵀ d B)]G, summed over the 4×4 output
// tiles. Per group that is 36 GEMMs Z[ξ] [Mg, Cg] = Σ_tiles Ŷ[ξ][tile][m] · V[ξ][tile][c], a quarter of the
// multiplications of the direct weight gradient, then dW[m, c] = Gᵀ Z[·][m, c] G.
//
// A unit (whole images, or a band of tile rows of one image when an image is too large) copies its input and dY
// channel-last (zero outside, so tiles never test bounds), transforms every tile with the channels as vector
// lanes into V ([ξ][tile][c]) and into Ŷ packed as the microkernels' A panels ([ξ][M-block][tile][mr]), then each
// GEMM item (ξ, M-block, C-block) is one register-tile microkernel call over all tiles of the unit (B = V rows by
// an offset table). Z of each unit is added into the accumulator in unit order. Units and items depend only on the
// problem: bitwise identical for every thread count. Matrices: Lavin & Gray, points 0, ±1, ±2, ∞.
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ck_conv_backward_internal.h"

enum { UNIT_FLOATS = 3 << 20 };

struct ck_wino_bwd {
    ck_conv_desc d;
    const ck_gemm_ukernels *uk;
    int64_t G, Cg, Mg, CP, TH, TW;
    int64_t ns, nth, nbands, units;  // images per unit, tile rows per unit (per image), bands per image, units
    int64_t E1, E2, xt_img, yt_img;  // channel-last copies: extents and floats per image
    int64_t tu;                      // tiles of a full unit
    int64_t nmb, ncb;
    int32_t *off;                    // tu entries: tile t's row of V[ξ] (t·CP)
};

static inline void wmblock(const ck_wino_bwd *p, int64_t b, int64_t *m0, int64_t *mr) {
    const int64_t q = p->Mg / p->nmb, r = p->Mg % p->nmb;
    *m0 = b * q + ck_min(b, r);
    *mr = q + (b < r);
}

/// The M-block holding output channel m of the group: its first channel and width, as wmblock.
static inline void wmblock_of(const ck_wino_bwd *p, int64_t m, int64_t *m0, int64_t *mr) {
    const int64_t q = p->Mg / p->nmb, r = p->Mg % p->nmb;
    wmblock(p, m < r * (q + 1) ? m / (q + 1) : r + (m - r * (q + 1)) / q, m0, mr);
}

void ck_wino_bwd_destroy(ck_wino_bwd *p) {
    if (!p) return;
    free(p->off);
    free(p);
}

static int64_t wunit_floats(const ck_wino_bwd *p, int64_t imgs, int64_t nth) {
    const int64_t t = nth * p->TW;
    const int64_t xt = (4 * nth + 2) * p->E2 * p->Cg, yt = 16 * t * p->Mg, v = 36 * t * (p->CP + p->Mg);
    return imgs * (xt + yt + v);
}

int ck_wino_bwd_prepare(const ck_conv_desc *d, const ck_gemm_ukernels *uk, ck_wino_bwd **out) {
    *out = NULL;
    const ck_window *g = &d->g;
    if (g->in[0] != 1 || g->out[0] != 1 || g->kernel[0] != 1 || g->pad[0] != 0 || g->kernel[1] != 3 ||
        g->kernel[2] != 3 || g->stride[1] != 1 || g->stride[2] != 1 || g->dilation[1] != 1 || g->dilation[2] != 1)
        return CK_ERR_ARGUMENT;
    ck_wino_bwd *p = calloc(1, sizeof *p);
    if (!p) return CK_ERR_NOMEM;
    p->d = *d;
    p->uk = uk;
    p->G = d->groups, p->Cg = d->in_channels / p->G, p->Mg = d->out_channels / p->G;
    const int64_t NR = uk->nr;
    p->CP = (p->Cg + NR - 1) / NR * NR;
    p->TH = (g->out[1] + 3) / 4, p->TW = (g->out[2] + 3) / 4;
    p->E2 = 4 * p->TW + 2;
    const int64_t one = wunit_floats(p, 1, p->TH);
    if (one <= UNIT_FLOATS) {
        p->ns = ck_max(1, ck_min(d->batch, UNIT_FLOATS / ck_max(1, one)));
        p->nth = p->TH, p->nbands = 1;
        p->units = (d->batch + p->ns - 1) / p->ns;
    } else {
        p->ns = 1;
        int64_t b = p->TH;
        while (b > 1 && wunit_floats(p, 1, b) > UNIT_FLOATS) b = (b + 1) / 2;
        p->nbands = (p->TH + b - 1) / b;
        p->nth = (p->TH + p->nbands - 1) / p->nbands;
        p->units = d->batch * p->nbands;
    }
    p->E1 = 4 * p->nth + 2;
    p->xt_img = p->E1 * p->E2 * p->Cg;
    p->yt_img = 4 * p->nth * 4 * p->TW * p->Mg;
    p->tu = p->ns * p->nth * p->TW;
    p->nmb = (p->Mg + uk->mr_max - 1) / uk->mr_max;
    p->ncb = p->CP / NR;
    if (ck_mul(p->tu, p->CP) > INT32_MAX - 2 * CK_GEMM_NR_LIMIT || wunit_floats(p, p->ns, p->nth) < 0) {
        ck_wino_bwd_destroy(p);
        return CK_ERR_ARGUMENT;
    }
    p->off = malloc(sizeof(int32_t) * (size_t)ck_max(1, p->tu));
    if (!p->off) {
        ck_wino_bwd_destroy(p);
        return CK_ERR_NOMEM;
    }
    for (int64_t t = 0; t < p->tu; t++) p->off[t] = (int32_t)(t * p->CP);
    *out = p;
    return CK_OK;
}

/// Floats of a run's workspace: XT, YT, V (+ slack), Ŷ, Z of a unit, the accumulator.
static int64_t wws(const ck_wino_bwd *p, int64_t *xt, int64_t *yt, int64_t *v, int64_t *yh, int64_t *z, int64_t *acc) {
    *xt = (p->ns * p->xt_img + 15) / 16 * 16;
    *yt = (p->ns * p->yt_img + 15) / 16 * 16;
    *v = 36 * p->tu * p->CP + 2 * CK_GEMM_NR_LIMIT;
    *yh = 36 * p->tu * p->Mg;
    *z = 36 * p->Mg * p->Cg;
    *acc = p->G * *z;
    return *xt + *yt + *v + *yh + *z + *acc + 64;
}

int64_t ck_wino_bwd_workspace(const ck_wino_bwd *p) {
    int64_t a, b, c, e, f, h;
    return 4 * wws(p, &a, &b, &c, &e, &f, &h);
}

/// Unit u: first image, image count, first tile row, tile rows.
static void wunit(const ck_wino_bwd *p, int64_t u, int64_t *n0, int64_t *nn, int64_t *th0, int64_t *nth) {
    if (p->nbands == 1) {
        *n0 = u * p->ns, *nn = ck_min(p->ns, p->d.batch - *n0), *th0 = 0, *nth = p->TH;
    } else {
        *n0 = u / p->nbands, *nn = 1;
        *th0 = u % p->nbands * p->nth, *nth = ck_min(p->nth, p->TH - *th0);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,fma"))) static int64_t tcopy512(const float *src, int64_t stride, float *dst, int64_t ld,
                                                             int64_t lo, int64_t hi, int64_t n);
#endif

/// Row r = (nl, qh) of the channel-last input copy: E2 positions × Cg, zero outside the input.
CK_HOT static void wx_row(const ck_wino_bwd *p, const float *x, int64_t gi, int64_t n0, int64_t th0, int64_t r, float *xt,
                          int wide) {
    const ck_window *g = &p->d.g;
    const int64_t qh = r % p->E1, nl = r / p->E1, IH = g->in[1], IW = g->in[2], IS = IH * IW, Cg = p->Cg, E2 = p->E2;
    const int64_t ih = 4 * th0 - g->pad[1] + qh, iw0 = -g->pad[2];
    float *dst = xt + nl * p->xt_img + qh * E2 * Cg;
    if (ih < 0 || ih >= IH) {
        memset(dst, 0, sizeof(float) * (size_t)(E2 * Cg));
        return;
    }
    int64_t lo, hi;
    ck_valid_range(E2, IW, 1, iw0, &lo, &hi);
    memset(dst, 0, sizeof(float) * (size_t)(lo * Cg));
    memset(dst + hi * Cg, 0, sizeof(float) * (size_t)((E2 - hi) * Cg));
    const float *src = x + ((n0 + nl) * p->d.in_channels + gi * Cg) * IS + ih * IW + iw0;
    int64_t c = 0;
#if defined(__x86_64__)
    if (wide) c = tcopy512(src, IS, dst, Cg, lo, hi, Cg);
#else
    (void)wide;
#endif
    for (; c + 8 <= Cg; c += 8)
        for (int64_t q = lo; q < hi; q++)
            for (int j = 0; j < 8; j++) dst[q * Cg + c + j] = src[(c + j) * IS + q];
    for (; c < Cg; c++)
        for (int64_t q = lo; q < hi; q++) dst[q * Cg + c] = src[c * IS + q];
}

/// Row r = (nl, oh) of the channel-last dY copy: 4·TW positions × Mg, zero beyond the output.
CK_HOT static void wy_row(const ck_wino_bwd *p, const float *dy, int64_t gi, int64_t n0, int64_t th0, int64_t r, float *yt,
                          int wide) {
    const ck_window *g = &p->d.g;
    const int64_t rows = 4 * p->nth, ohl = r % rows, nl = r / rows, OH = g->out[1], OW = g->out[2], P = OH * OW;
    const int64_t Mg = p->Mg, W4 = 4 * p->TW, oh = 4 * th0 + ohl;
    float *dst = yt + nl * p->yt_img + ohl * W4 * Mg;
    if (oh >= OH) {
        memset(dst, 0, sizeof(float) * (size_t)(W4 * Mg));
        return;
    }
    memset(dst + OW * Mg, 0, sizeof(float) * (size_t)((W4 - OW) * Mg));
    const float *src = dy + ((n0 + nl) * p->d.out_channels + gi * Mg) * P + oh * OW;
    int64_t m = 0;
#if defined(__x86_64__)
    if (wide) m = tcopy512(src, P, dst, Mg, 0, OW, Mg);
#else
    (void)wide;
#endif
    for (; m + 8 <= Mg; m += 8)
        for (int64_t q = 0; q < OW; q++)
            for (int j = 0; j < 8; j++) dst[q * Mg + m + j] = src[(m + j) * P + q];
    for (; m < Mg; m++)
        for (int64_t q = 0; q < OW; q++) dst[q * Mg + m] = src[m * P + q];
}

enum { VL = 16 };  // channel lanes per transform step

/// Tile t of the unit: V[ξ][t][c] = (Bᵀ d B)[ξ] and Ŷ[ξ][panel][t][i] = (A dY Aᵀ)[ξ], channels as lanes.
CK_HOT static void wtransform(const ck_wino_bwd *p, const float *xt, const float *yt, int64_t t, float *V, float *Yh) {
    const int64_t TW = p->TW, tw = t % TW, thl = t / TW % p->nth, nl = t / (TW * p->nth);
    const int64_t Cg = p->Cg, CP = p->CP, Mg = p->Mg, E2 = p->E2, tu = p->tu;
    // Input: 6×6 patch at (4·thl, 4·tw) of the channel-last copy.
    const float *xp = xt + nl * p->xt_img + (4 * thl * E2 + 4 * tw) * Cg;
    for (int64_t c0 = 0; c0 < CP; c0 += VL) {
        const int64_t nc = ck_max(0, ck_min(VL, Cg - c0));
        float d[6][6][VL], u[6][6][VL];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
                const float *s = xp + (i * E2 + j) * Cg + c0;
                if (nc == VL)
                    for (int l = 0; l < VL; l++) d[i][j][l] = s[l];
                else
                    for (int l = 0; l < VL; l++) d[i][j][l] = l < nc ? s[l] : 0.0f;
            }
        for (int j = 0; j < 6; j++)
            for (int l = 0; l < VL; l++) {  // rows: t = Bᵀ d
                const float d0 = d[0][j][l], d1 = d[1][j][l], d2 = d[2][j][l], d3 = d[3][j][l], d4 = d[4][j][l], d5 = d[5][j][l];
                u[0][j][l] = 4 * d0 - 5 * d2 + d4;
                u[1][j][l] = -4 * d1 - 4 * d2 + d3 + d4;
                u[2][j][l] = 4 * d1 - 4 * d2 - d3 + d4;
                u[3][j][l] = -2 * d1 - d2 + 2 * d3 + d4;
                u[4][j][l] = 2 * d1 - d2 - 2 * d3 + d4;
                u[5][j][l] = 4 * d1 - 5 * d3 + d5;
            }
        for (int i = 0; i < 6; i++)
            for (int l = 0; l < VL; l++) {  // columns: t B
                const float d0 = u[i][0][l], d1 = u[i][1][l], d2 = u[i][2][l], d3 = u[i][3][l], d4 = u[i][4][l], d5 = u[i][5][l];
                d[i][0][l] = 4 * d0 - 5 * d2 + d4;
                d[i][1][l] = -4 * d1 - 4 * d2 + d3 + d4;
                d[i][2][l] = 4 * d1 - 4 * d2 - d3 + d4;
                d[i][3][l] = -2 * d1 - d2 + 2 * d3 + d4;
                d[i][4][l] = 2 * d1 - d2 - 2 * d3 + d4;
                d[i][5][l] = 4 * d1 - 5 * d3 + d5;
            }
        const int64_t w = ck_min(VL, CP - c0);
        for (int xi = 0; xi < 36; xi++) {
            float *o = V + (xi * tu + t) * CP + c0;
            for (int l = 0; l < w; l++) o[l] = d[xi / 6][xi % 6][l];
        }
    }
    // dY: 4×4 tile at (4·thl, 4·tw), Ŷ = A g Aᵀ.
    const int64_t W4 = 4 * TW;
    const float *yp = yt + nl * p->yt_img + (4 * thl * W4 + 4 * tw) * Mg;
    for (int64_t m0 = 0; m0 < Mg; m0 += VL) {
        const int64_t nm = ck_min(VL, Mg - m0);
        float gt[4][4][VL], h[6][4][VL], z[6][6][VL];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                const float *s = yp + (i * W4 + j) * Mg + m0;
                if (nm == VL)
                    for (int l = 0; l < VL; l++) gt[i][j][l] = s[l];
                else
                    for (int l = 0; l < VL; l++) gt[i][j][l] = l < nm ? s[l] : 0.0f;
            }
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < VL; l++) {
                const float g0 = gt[0][j][l], g1 = gt[1][j][l], g2 = gt[2][j][l], g3 = gt[3][j][l];
                h[0][j][l] = g0;
                h[1][j][l] = g0 + g1 + g2 + g3;
                h[2][j][l] = g0 - g1 + g2 - g3;
                h[3][j][l] = g0 + 2 * g1 + 4 * g2 + 8 * g3;
                h[4][j][l] = g0 - 2 * g1 + 4 * g2 - 8 * g3;
                h[5][j][l] = g3;
            }
        for (int i = 0; i < 6; i++)
            for (int l = 0; l < VL; l++) {
                const float g0 = h[i][0][l], g1 = h[i][1][l], g2 = h[i][2][l], g3 = h[i][3][l];
                z[i][0][l] = g0;
                z[i][1][l] = g0 + g1 + g2 + g3;
                z[i][2][l] = g0 - g1 + g2 - g3;
                z[i][3][l] = g0 + 2 * g1 + 4 * g2 + 8 * g3;
                z[i][4][l] = g0 - 2 * g1 + 4 * g2 - 8 * g3;
                z[i][5][l] = g3;
            }
        // Into the panels: lanes [m0, m0 + nm) cover parts of one or more M-blocks, each a contiguous run of a
        // panel row (t, i).
        for (int64_t m = m0; m < m0 + nm;) {
            int64_t mb0, mr;
            wmblock_of(p, m, &mb0, &mr);
            const int64_t run = ck_min(mb0 + mr, m0 + nm) - m, l0 = m - m0;
            float *base = Yh + mb0 * tu + t * mr + (m - mb0);
            for (int xi = 0; xi < 36; xi++) {
                float *o = base + xi * tu * Mg;
                const float *src = z[xi / 6][xi % 6] + l0;
                for (int l = 0; l < VL; l++)  // fixed trip count: masked stores, not a memcpy call
                    if (l < run) o[l] = src[l];
            }
            m += run;
        }
    }
}

/// dW row (g, m) = Gᵀ Z[·][m, c] G for every c (zr = Z[0][m][0] of the group; matrices ξ apart by Mg·Cg),
/// vectorised over c.
CK_HOT static void final_row(const ck_wino_bwd *p, const float *zr, float *o) {
    static const float Gm[6][3] = {{1.0f / 4, 0, 0},
                                   {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                   {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                   {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                   {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                   {0, 0, 1}};
    const int64_t Cg = p->Cg, stride = p->Mg * Cg;
    enum { CB = 16 };
    for (int64_t c0 = 0; c0 < Cg; c0 += CB) {
        const int64_t nc = ck_min(CB, Cg - c0);
        float t[3][6][CB];
        for (int a = 0; a < 3; a++)
            for (int j = 0; j < 6; j++)
                for (int l = 0; l < CB; l++) t[a][j][l] = 0;
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
                const float *z = zr + (i * 6 + j) * stride + c0;
                float v[CB];
                for (int l = 0; l < CB; l++) v[l] = l < nc ? z[l] : 0.0f;
                for (int a = 0; a < 3; a++)
                    if (Gm[i][a] != 0)
                        for (int l = 0; l < CB; l++) t[a][j][l] += Gm[i][a] * v[l];
            }
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                float v[CB];
                for (int l = 0; l < CB; l++) v[l] = 0;
                for (int j = 0; j < 6; j++)
                    if (Gm[j][b] != 0)
                        for (int l = 0; l < CB; l++) v[l] += t[a][j][l] * Gm[j][b];
                const int k = a * 3 + b, kq = p->d.flip ? 8 - k : k;
                for (int l = 0; l < nc; l++) o[(c0 + l) * 9 + kq] = v[l];
            }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
// AVX-512 forms of wtransform and final_row (the plan's microkernels are AVX-512): the 16 channel lanes in one
// register, the 6×6 tile in registers, common subexpressions of Bᵀ, A and G shared, FMAs; about half the time of
// the clone compiled for x86-64-v3 (which kept the tile in memory). Deterministic per tile, as the plain forms.
#define W512 static __attribute__((target("avx512f,fma")))

/// 16 × 16 transpose in registers: on return r[j] holds column j of the rows given.
W512 inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {  // r[4i + k]: rows 4i..4i+3 of column 4L + k in 128-bit lane L
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int k = 0; k < 4; k++) {
        t[k] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0x88);       // columns k, k + 8 of rows 0..7
        t[k + 4] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0xdd);   // columns k + 4, k + 12
        t[k + 8] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0x88);
        t[k + 12] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0xdd);
    }
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
        r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
    }
}

/// dst[q·ld + c] = src[c·stride + q] for q in [lo, hi) and c in 16-channel blocks below n; returns the channels
/// done (a multiple of 16). A plain copy, so every ISA gives the same values.
W512 int64_t tcopy512(const float *src, int64_t stride, float *dst, int64_t ld, int64_t lo, int64_t hi, int64_t n) {
    int64_t c0 = 0;
    for (; c0 + 16 <= n; c0 += 16)
        for (int64_t q0 = lo; q0 < hi; q0 += 16) {
            const int64_t nq = ck_min(16, hi - q0);
            const __mmask16 m = (__mmask16)((1u << nq) - 1);
            __m512 r[16];
            for (int i = 0; i < 16; i++) r[i] = _mm512_maskz_loadu_ps(m, src + (c0 + i) * stride + q0);
            transpose16(r);
            for (int64_t j = 0; j < nq; j++) _mm512_storeu_ps(dst + (q0 + j) * ld + c0, r[j]);
        }
    return c0;
}

W512 void wtransform512(const ck_wino_bwd *p, const float *xt, const float *yt, int64_t t, float *V, float *Yh) {
    const int64_t TW = p->TW, tw = t % TW, thl = t / TW % p->nth, nl = t / (TW * p->nth);
    const int64_t Cg = p->Cg, CP = p->CP, Mg = p->Mg, E2 = p->E2, tu = p->tu;
    const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), five = _mm512_set1_ps(5);
    const float *xp = xt + nl * p->xt_img + (4 * thl * E2 + 4 * tw) * Cg;
    for (int64_t c0 = 0; c0 < CP; c0 += 16) {
        const int64_t nc = ck_max(0, ck_min(16, Cg - c0)), w = ck_min(16, CP - c0);
        const __mmask16 lm = (__mmask16)((1u << nc) - 1), sm = (__mmask16)((1u << w) - 1);
        __m512 u[6][6];
        for (int j = 0; j < 6; j++) {  // rows: Bᵀ d
            __m512 d[6];
            for (int i = 0; i < 6; i++) d[i] = _mm512_maskz_loadu_ps(lm, xp + (i * E2 + j) * Cg + c0);
            const __m512 a = _mm512_sub_ps(d[4], d[2]), b = _mm512_sub_ps(d[1], d[3]);
            u[0][j] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
            u[1][j] = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
            u[2][j] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
            u[3][j] = _mm512_fnmadd_ps(two, b, a);
            u[4][j] = _mm512_fmadd_ps(two, b, a);
            u[5][j] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
        }
        for (int i = 0; i < 6; i++) {  // columns: (Bᵀ d) B, straight into V
            const __m512 *d = u[i];
            const __m512 a = _mm512_sub_ps(d[4], d[2]), b = _mm512_sub_ps(d[1], d[3]);
            float *o = V + (i * 6 * tu + t) * CP + c0;
            const int64_t step = tu * CP;
            _mm512_mask_storeu_ps(o, sm, _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4])));
            _mm512_mask_storeu_ps(o + step, sm, _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4])));
            _mm512_mask_storeu_ps(o + 2 * step, sm, _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3])));
            _mm512_mask_storeu_ps(o + 3 * step, sm, _mm512_fnmadd_ps(two, b, a));
            _mm512_mask_storeu_ps(o + 4 * step, sm, _mm512_fmadd_ps(two, b, a));
            _mm512_mask_storeu_ps(o + 5 * step, sm, _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5])));
        }
    }
    const int64_t W4 = 4 * TW;
    const float *yp = yt + nl * p->yt_img + (4 * thl * W4 + 4 * tw) * Mg;
    for (int64_t m0 = 0; m0 < Mg; m0 += 16) {
        const int64_t nm = ck_min(16, Mg - m0);
        const __mmask16 lm = (__mmask16)((1u << nm) - 1);
        __m512 h[6][4], z[36];
        for (int j = 0; j < 4; j++) {  // rows: A g
            __m512 g[4];
            for (int i = 0; i < 4; i++) g[i] = _mm512_maskz_loadu_ps(lm, yp + (i * W4 + j) * Mg + m0);
            const __m512 e = _mm512_add_ps(g[0], g[2]), o = _mm512_add_ps(g[1], g[3]);
            const __m512 e4 = _mm512_fmadd_ps(four, g[2], g[0]), o4 = _mm512_fmadd_ps(four, g[3], g[1]);
            h[0][j] = g[0], h[1][j] = _mm512_add_ps(e, o), h[2][j] = _mm512_sub_ps(e, o);
            h[3][j] = _mm512_fmadd_ps(two, o4, e4), h[4][j] = _mm512_fnmadd_ps(two, o4, e4), h[5][j] = g[3];
        }
        for (int i = 0; i < 6; i++) {  // columns: (A g) Aᵀ
            const __m512 *g = h[i];
            const __m512 e = _mm512_add_ps(g[0], g[2]), o = _mm512_add_ps(g[1], g[3]);
            const __m512 e4 = _mm512_fmadd_ps(four, g[2], g[0]), o4 = _mm512_fmadd_ps(four, g[3], g[1]);
            z[6 * i] = g[0], z[6 * i + 1] = _mm512_add_ps(e, o), z[6 * i + 2] = _mm512_sub_ps(e, o);
            z[6 * i + 3] = _mm512_fmadd_ps(two, o4, e4), z[6 * i + 4] = _mm512_fnmadd_ps(two, o4, e4), z[6 * i + 5] = g[3];
        }
        float spill[36][16];
        int spilled = 0;
        for (int64_t m = m0; m < m0 + nm;) {  // into the panels, as wtransform
            int64_t mb0, mr;
            wmblock_of(p, m, &mb0, &mr);
            const int64_t run = ck_min(mb0 + mr, m0 + nm) - m, l0 = m - m0;
            float *base = Yh + mb0 * tu + t * mr + (m - mb0);
            if (l0 == 0 && run == 16) {
                for (int xi = 0; xi < 36; xi++) _mm512_storeu_ps(base + xi * tu * Mg, z[xi]);
            } else {
                if (!spilled)
                    for (int xi = 0; xi < 36; xi++) _mm512_storeu_ps(spill[xi], z[xi]);
                spilled = 1;
                const __mmask16 rm = (__mmask16)((1u << run) - 1);  // masked load: never past spill's end
                for (int xi = 0; xi < 36; xi++)
                    _mm512_mask_storeu_ps(base + xi * tu * Mg, rm, _mm512_maskz_loadu_ps(rm, spill[xi] + l0));
            }
            m += run;
        }
    }
}

/// final_row with 16 channels per register: t = Gᵀ Z by rows, then t G, scattered at stride 9.
W512 void final_row512(const ck_wino_bwd *p, const float *zr, float *o) {
    const int64_t Cg = p->Cg, stride = p->Mg * Cg;
    const __m512 q4 = _mm512_set1_ps(1.0f / 4), s6 = _mm512_set1_ps(1.0f / 6), s12 = _mm512_set1_ps(1.0f / 12),
                 s24 = _mm512_set1_ps(1.0f / 24);
    const __m512i nine = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32(9));
    for (int64_t c0 = 0; c0 < Cg; c0 += 16) {
        const int64_t nc = ck_min(16, Cg - c0);
        const __mmask16 lm = (__mmask16)((1u << nc) - 1);
        __m512 t[3][6];
        for (int j = 0; j < 6; j++) {
            __m512 z[6];
            for (int i = 0; i < 6; i++) z[i] = _mm512_maskz_loadu_ps(lm, zr + (i * 6 + j) * stride + c0);
            const __m512 s = _mm512_add_ps(z[1], z[2]), d = _mm512_sub_ps(z[2], z[1]);
            const __m512 s34 = _mm512_add_ps(z[3], z[4]), d34 = _mm512_sub_ps(z[3], z[4]);
            t[0][j] = _mm512_fmadd_ps(s24, s34, _mm512_fnmadd_ps(s6, s, _mm512_mul_ps(q4, z[0])));
            t[1][j] = _mm512_fmadd_ps(s12, d34, _mm512_mul_ps(s6, d));
            t[2][j] = _mm512_add_ps(_mm512_mul_ps(s6, _mm512_sub_ps(s34, s)), z[5]);
        }
        for (int a = 0; a < 3; a++) {
            const __m512 *z = t[a];
            const __m512 s = _mm512_add_ps(z[1], z[2]), d = _mm512_sub_ps(z[2], z[1]);
            const __m512 s34 = _mm512_add_ps(z[3], z[4]), d34 = _mm512_sub_ps(z[3], z[4]);
            const __m512 v[3] = {_mm512_fmadd_ps(s24, s34, _mm512_fnmadd_ps(s6, s, _mm512_mul_ps(q4, z[0]))),
                                 _mm512_fmadd_ps(s12, d34, _mm512_mul_ps(s6, d)),
                                 _mm512_add_ps(_mm512_mul_ps(s6, _mm512_sub_ps(s34, s)), z[5])};
            for (int b = 0; b < 3; b++) {
                const int k = a * 3 + b, kq = p->d.flip ? 8 - k : k;
                _mm512_mask_i32scatter_ps(o + c0 * 9 + kq, lm, nine, v[b], 4);
            }
        }
    }
}
#endif

int ck_wino_bwd_run(const ck_wino_bwd *p, const float *x, const float *dy, float *dw, int threads) {
    int64_t nxt, nyt, nv, nyh, nz, nacc;
    const int64_t total = wws(p, &nxt, &nyt, &nv, &nyh, &nz, &nacc);
    float *ws = malloc(sizeof(float) * (size_t)total);
    if (!ws) return CK_ERR_NOMEM;
    // One group in one unit (a batch-1 layer): Z is the sum itself, no accumulator pass.
    const int single = p->G * p->units == 1;
    float *xt = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63), *yt = xt + nxt, *V = yt + nyt, *Yh = V + nv,
          *Z = Yh + nyh, *acc = single ? Z : Z + nz;
    memset(V + 36 * p->tu * p->CP, 0, sizeof(float) * 2 * CK_GEMM_NR_LIMIT);
    if (!single) memset(acc, 0, sizeof(float) * (size_t)nacc);
    const ck_conv_desc *d = &p->d;
    const int64_t NR = p->uk->nr, Mg = p->Mg, Cg = p->Cg, G = p->G, items = 36 * p->nmb * p->ncb;
    const int team = ck_team_for(threads, ck_work3(d->batch * d->out_channels, ck_prod3(d->g.out), Cg * 9));
    int64_t next[2] = {0, 0};
    const int wide = p->uk->isa >= CK_ISA_AVX512;  // the AVX-512 transforms go with the AVX-512 microkernels
    (void)wide;
#pragma omp parallel num_threads(team)
    {
        const int tid = omp_get_thread_num();
        for (int64_t s = 0; s < G * p->units; s++) {
            const int64_t gi = s / p->units, u = s % p->units;
            int64_t n0, nn, th0, nth;
            wunit(p, u, &n0, &nn, &th0, &nth);
            const int64_t tiles = nn * nth * p->TW;  // a prefix of the full unit (tile order nl, thl, tw)
            if (tid == 0) __atomic_store_n(&next[(s + 1) & 1], 0, __ATOMIC_RELAXED);
#pragma omp for schedule(static) nowait
            for (int64_t r = 0; r < nn * p->E1; r++) wx_row(p, x, gi, n0, th0, r, xt, wide);
#pragma omp for schedule(static)
            for (int64_t r = 0; r < nn * 4 * p->nth; r++) wy_row(p, dy, gi, n0, th0, r, yt, wide);
#pragma omp for schedule(static)
            for (int64_t t = 0; t < tiles; t++) {
                // A band shorter than nth rows: its tiles keep the full unit's numbering (thl < nth).
#if defined(__x86_64__)
                if (wide) wtransform512(p, xt, yt, t, V, Yh);
                else
#endif
                    wtransform(p, xt, yt, t, V, Yh);
            }
            CK_DYNAMIC_FOR(it, items, 1, next[s & 1]) {
                const int64_t mb = it % p->nmb, cb = it / p->nmb % p->ncb, xi = it / (p->nmb * p->ncb);
                int64_t m0, mr;
                wmblock(p, mb, &m0, &mr);
                const int64_t c0 = cb * NR;
                ck_gemm_epilogue ep;
                ep.lo = -INFINITY, ep.hi = INFINITY, ep.nload = NR, ep.ldc = Cg, ep.nseg = 1;
                ep.seg[0].j0 = 0, ep.seg[0].j1 = ck_min(NR, Cg - c0);
                ep.seg[0].dst = Z + (xi * Mg + m0) * Cg + c0;
                p->uk->fn[mr](tiles, Yh + (xi * Mg + m0) * p->tu, V + xi * p->tu * p->CP + c0, p->off, NULL, &ep);
            }
#pragma omp barrier
            if (single) continue;
            float *ag = acc + gi * nz;
#pragma omp for schedule(static)
            for (int64_t e = 0; e < nz; e++) ag[e] += Z[e];
        }
        // dW = Gᵀ Z G per (g, m, c) (final_row / final_row512).
#pragma omp for schedule(static)
        for (int64_t e = 0; e < G * Mg; e++) {
#if defined(__x86_64__)
            if (wide) final_row512(p, acc + (e / Mg) * nz + (e % Mg) * Cg, dw + e * Cg * 9);
            else
#endif
                final_row(p, acc + (e / Mg) * nz + (e % Mg) * Cg, dw + e * Cg * 9);
        }
    }
    free(ws);
    return CK_OK;
}
