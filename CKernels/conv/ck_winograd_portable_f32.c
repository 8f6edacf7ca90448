// Winograd F(4×4, 3×3) kernels in plain C (any CPU): the AVX2 layouts (8 lanes, Cout panels of 16), with
// fixed-length lane loops the compiler vectorises for the baseline target.
#include "ck_winograd_internal.h"

#define PL 8   // lanes
#define PB 16  // Cout panel

/// 1-D input transform Bᵀd for the points 0, ±1, ±2 (∞), on PL lanes.
CK_INLINE void bt_p(float o[6][PL], float d[6][PL]) {
    for (int l = 0; l < PL; l++) {
        const float d0 = d[0][l], d1 = d[1][l], d2 = d[2][l], d3 = d[3][l], d4 = d[4][l], d5 = d[5][l];
        o[0][l] = 4.0f * d0 - 5.0f * d2 + d4;
        o[1][l] = (d3 + d4) - 4.0f * (d1 + d2);
        o[2][l] = (d4 - d3) + 4.0f * (d1 - d2);
        o[3][l] = (d4 - d2) + 2.0f * (d3 - d1);
        o[4][l] = (d4 - d2) - 2.0f * (d3 - d1);
        o[5][l] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

/// 1-D inverse transform Aᵀm.
CK_INLINE void at_p(float o[4][PL], float m[6][PL]) {
    for (int l = 0; l < PL; l++) {
        const float s12 = m[1][l] + m[2][l], d12 = m[1][l] - m[2][l];
        const float s34 = m[3][l] + m[4][l], d34 = m[3][l] - m[4][l];
        o[0][l] = m[0][l] + s12 + s34;
        o[1][l] = d12 + 2.0f * d34;
        o[2][l] = s12 + 4.0f * s34;
        o[3][l] = d12 + 8.0f * d34 + m[5][l];
    }
}

static void input_p(const ck_wino_geom *g, const float *x, int64_t t0, int64_t nt, float *V) {
    const int64_t CB = g->CP / PL, NG = (nt + 5) / 6, xs = NG * CB * 6 * PL, HW = g->H * g->W;
    for (int64_t t = 0; t < NG * 6; t++) {
        float *vt = V + (t / 6) * CB * 6 * PL + (t % 6) * PL;
        if (t >= nt) {
            for (int xi = 0; xi < 36; xi++)
                for (int64_t cb = 0; cb < CB; cb++)
                    for (int l = 0; l < PL; l++) vt[xi * xs + cb * 6 * PL + l] = 0.0f;
            continue;
        }
        int64_t n, th, tw;
        ck_wino_tile(g, t0 + t, &n, &th, &tw);
        const int64_t r0 = th * 4 - g->ph, c0 = tw * 4 - g->pw;
        int ilo, ihi, jlo, jhi;
        ck_wino_span(r0, g->H, &ilo, &ihi);
        ck_wino_span(c0, g->W, &jlo, &jhi);
        for (int64_t cb = 0; cb < CB; cb++) {
            float d[6][6][PL], h[6][6][PL];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    for (int l = 0; l < PL; l++) {
                        const int64_t c = cb * PL + l;
                        d[i][j][l] = (i >= ilo && i < ihi && j >= jlo && j < jhi && c < g->C)
                                         ? x[n * g->x_img + c * HW + (r0 + i) * g->W + c0 + j]
                                         : 0.0f;
                    }
            for (int i = 0; i < 6; i++) bt_p(h[i], d[i]);  // along w: h[i][k] from d[i][0..5]
            for (int k = 0; k < 6; k++) {
                float col[6][PL], o[6][PL];
                for (int i = 0; i < 6; i++)
                    for (int l = 0; l < PL; l++) col[i][l] = h[i][k][l];
                bt_p(o, col);
                for (int i = 0; i < 6; i++)
                    for (int l = 0; l < PL; l++) vt[(i * 6 + k) * xs + cb * 6 * PL + l] = o[i][l];
            }
        }
    }
}

/// One 6-tile × `width`-Cout block of one matrix (width 16 or 8, a constant after inlining): the full reduction.
CK_INLINE void micro_p(const float *u, const int width, const float *v, int64_t CB, float *z, int64_t ldz) {
    float acc[6][PB] = {{0}};
    for (int64_t cb = 0; cb < CB; cb++)
        for (int cc = 0; cc < PL; cc++) {
            const float *ur = u + (cb * PL + cc) * width;
            for (int t = 0; t < 6; t++) {
                const float b = v[cb * 6 * PL + t * PL + cc];
                for (int m = 0; m < width; m++) acc[t][m] += ur[m] * b;
            }
        }
    for (int t = 0; t < 6; t++)
        for (int m = 0; m < width; m++) z[t * ldz + m] = acc[t][m];
}

static void gemm_p(const ck_wino_geom *g, const float *U, const float *V, int64_t NG, int64_t m0, int64_t mcp,
                   float *Z) {
    const int64_t CB = g->CP / PL, vs = NG * CB * 6 * PL, zs = NG * 6 * mcp;
    for (int xi = 0; xi < 36; xi++)
        for (int64_t mb = m0; mb < m0 + mcp; mb += PB) {
            const float *panel = U + xi * g->CP * g->MP + mb * g->CP, *v = V + xi * vs;
            float *z = Z + xi * zs + (mb - m0);
            if (g->MP - mb >= PB)
                for (int64_t q = 0; q < NG; q++) micro_p(panel, PB, v + q * CB * 6 * PL, CB, z + q * 6 * mcp, mcp);
            else
                for (int64_t q = 0; q < NG; q++) micro_p(panel, PL, v + q * CB * 6 * PL, CB, z + q * 6 * mcp, mcp);
        }
}

static void output_p(const ck_wino_geom *g, const float *Z, int64_t t0, int64_t nt, int64_t m0, int64_t mc,
                     int64_t ldz, const float *bias, float lo, float hi, int clamp, float *y) {
    const int64_t zs = (nt + 5) / 6 * 6 * ldz, OHW = g->OH * g->OW;
    for (int64_t t = 0; t < nt; t++) {
        int64_t n, th, tw;
        ck_wino_tile(g, t0 + t, &n, &th, &tw);
        const int64_t oy = th * 4, ox = tw * 4;
        const int rows = (int)ck_min(4, g->OH - oy), cols = (int)ck_min(4, g->OW - ox);
        for (int64_t mo = 0; mo < mc; mo += PL) {
            const float *zp = Z + t * ldz + mo;
            float r[4][6][PL], p[4][4][PL];
            for (int j = 0; j < 6; j++) {
                float m[6][PL], o[4][PL];
                for (int i = 0; i < 6; i++)
                    for (int l = 0; l < PL; l++) m[i][l] = zp[(i * 6 + j) * zs + l];
                at_p(o, m);
                for (int a = 0; a < 4; a++)
                    for (int l = 0; l < PL; l++) r[a][j][l] = o[a][l];
            }
            for (int a = 0; a < 4; a++) at_p(p[a], r[a]);
            const int valid = (int)ck_min(PL, mc - mo);
            for (int l = 0; l < valid; l++) {
                const int64_t m = m0 + mo + l;
                const float b = bias ? bias[m] : 0.0f;
                float *yo = y + n * g->y_img + m * OHW + oy * g->OW + ox;
                for (int a = 0; a < rows; a++)
                    for (int q = 0; q < cols; q++) {
                        float v = p[a][q][l] + b;
                        if (clamp) {
                            v = v < lo ? lo : v;
                            v = v > hi ? hi : v;
                        }
                        yo[a * g->OW + q] = v;
                    }
            }
        }
    }
}

const ck_wino_kernels ck_wino_portable = {PL, PB, input_p, gemm_p, output_p};
