// Direct convolution row kernel, AVX2: 8 output columns per vector (see ck_conv_direct_internal.h).
#include "ck_conv_direct_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

// The loops over taps and rows are unrolled in full where their bounds are constants; the generic instantiations
// keep runtime bounds, for which clang would warn that it cannot.
#pragma clang diagnostic ignored "-Wpass-failed"

#define DC static inline __attribute__((always_inline)) CK_DC_AVX2

/// Lanes of an 8-float load at column `col` that lie inside [0, IW), as a maskload mask.
DC __m256i lanes8(int64_t col, int64_t IW) {
    const int64_t lo = col < 0 ? ck_min(-col, 8) : 0, hi = ck_max(lo, ck_min(8, IW - col));
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)lo), iota),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), iota));
}
DC __m256 load8(const float *row, int64_t col, int64_t IW, const int masked) {
    return masked ? _mm256_maskload_ps(ck_dconv_addr(row, col), lanes8(col, IW)) : _mm256_loadu_ps(row + col);
}

/// Tap vector: input columns col + SW·l, l < 8, of `row` (0 outside [0, IW) when masked).
DC __m256 tap8(const float *row, int64_t col, int64_t IW, const int64_t SW, const int masked) {
    if (SW == 1) return load8(row, col, IW, masked);
    // Stride 2: the lanes of parity col & 1 of the 32 columns from col & ~1 relative to an even base, so that taps
    // kw and kw + 1 (dilation 1) share one pair of loads.
    const int64_t par = col & 1, c = col - par;
    const __m256 a = load8(row, c, IW, masked), b = load8(row, c + 8, IW, masked);
    const __m256 s = par ? _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)) : _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// Input column `col` of `row` broadcast (0 outside [0, IW) when masked).
DC __m256 col8(const float *row, int64_t col, int64_t IW, const int masked) {
    return _mm256_set1_ps(!masked || (col >= 0 && col < IW) ? row[col] : 0.0f);
}

/// Stride 2, dilation 1, pad PW known (PAIRS): the taps of one row and vector from the even / odd lanes E, O of the
/// 16 columns from B = 2·ow: tap kw reads columns B + 2l + q, q = kw − PW = 2s + p, i.e. lanes of P = (E, O)[p]
/// shifted by s ∈ {−1, 0, 1} lanes, the lane shifted in broadcast from one column and blended in (fewer shuffles
/// than splitting a pair of loads per tap).
DC __m256 pair_tap(__m256 E, __m256 O, const float *row, int64_t B, int64_t q, int64_t IW, const int masked) {
    const int64_t p = q & 1, sft = (q - p) / 2;
    const __m256 P = p ? O : E;
    if (sft == 0) return P;
    if (sft < 0)  // lane 0 = column B + q, lanes 1.. = P[0..6]
        return _mm256_blend_ps(_mm256_permutevar8x32_ps(P, _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6)),
                               col8(row, B + q, IW, masked), 0x01);
    // lanes 0..6 = P[1..7], lane 7 = column B + 14 + q
    return _mm256_blend_ps(_mm256_permutevar8x32_ps(P, _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0)),
                           col8(row, B + 14 + q, IW, masked), 0x80);
}

/// What an item's blocks share, computed once per item (no divisions in the blocks).
typedef struct {
    const float *xg, *wm;  // the group's first input channel (image n); output channel m's weights
    const float *zrow;     // a row of zeros (columns of this item's blocks)
    float *ym;             // output plane (n, m, od)
    float bias;
    int64_t Cg, IH, IW, OW, IP, IS, PH, PW, KD, kd0, kd1, id0, DD;  // valid depth taps [kd0, kd1), id = id0 + kd·DD
} item_ctx;

/// R output rows from oh0 × V vectors from ow0; HOIST: Cg = KD = 1. Rows outside the input read X->zrow (zeros),
/// so the block is straight-line code: the masks and weight broadcasts are computed once per block.
DC void block(const item_ctx *X, int64_t oh0, int64_t ow0, int64_t oh1, int64_t ow1,
              const int64_t KH, const int64_t KW, const int64_t SH, const int64_t SW, const int64_t DH,
              const int64_t DW, const int R, const int V, const int HOIST, const int64_t PWc, const int masked) {
    const int PAIRS = SW == 2 && DW == 1 && PWc >= 0;
    const int64_t IH = X->IH, IW = X->IW, IP = X->IP, IS = X->IS, KK2 = KH * KW;
    const int64_t c0 = ow0 * SW - X->PW, NJ = (R - 1) * SH + (KH - 1) * DH + 1;
    const int dense = DH == 1 && SH <= KH;  // every row of [0, NJ) is some output row's: step by one
    __m256 acc[R][V];
    const __m256 vb = _mm256_set1_ps(X->bias);
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) acc[r][v] = vb;
    const int64_t Cg = HOIST ? 1 : X->Cg, kd0 = HOIST ? 0 : X->kd0, kd1 = HOIST ? 1 : X->kd1;
    const int64_t KK = HOIST ? KK2 : KK2 * X->KD;
    for (int64_t c = 0; c < Cg; c++)
        for (int64_t kd = kd0; kd < kd1; kd++) {
            const float *xp = X->xg + c * IS + (HOIST ? X->id0 : X->id0 + kd * X->DD) * IP;
            const float *wk = X->wm + c * KK + kd * KK2;
#pragma clang loop unroll(full)
            for (int64_t j = 0; j < NJ; j = dense ? j + 1 : ck_dconv_next_row(j, R, SH, DH, KH)) {
                const int64_t ih = oh0 * SH - X->PH + j;
                const float *row = ih >= 0 && ih < IH ? xp + ih * IW : X->zrow;
                int64_t tr[R];  // per output row: the first tap of kernel row (j − r·SH)/DH, or -1
                for (int r = 0; r < R; r++) {
                    const int64_t jr = j - r * SH;
                    tr[r] = jr >= 0 && jr % DH == 0 && jr / DH < KH ? jr / DH * KW : -1;
                }
                __m256 E[V], O[V];
                if (PAIRS) {
                    for (int v = 0; v < V; v++) {
                        const __m256 a = load8(row, 2 * ow0 + 16 * v, IW, masked);
                        const __m256 b = load8(row, 2 * ow0 + 16 * v + 8, IW, masked);
                        E[v] = _mm256_castpd_ps(_mm256_permute4x64_pd(
                            _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
                        O[v] = _mm256_castpd_ps(_mm256_permute4x64_pd(
                            _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
                    }
                }
#pragma clang loop unroll(full)
                for (int64_t kw = 0; kw < KW; kw++)
                    for (int v = 0; v < V; v++) {
                        const __m256 L = PAIRS ? pair_tap(E[v], O[v], row, 2 * ow0 + 16 * v, kw - PWc, IW, masked)
                                               : tap8(row, c0 + 8 * v * SW + kw * DW, IW, SW, masked);
                        for (int r = 0; r < R; r++) {
                            if (tr[r] < 0) continue;
                            const int64_t t = tr[r] + kw;
                            acc[r][v] = _mm256_fmadd_ps(L, _mm256_set1_ps(wk[t]), acc[r][v]);
                        }
                    }
            }
        }
    if (oh0 + R <= oh1 && ow0 + 8 * V <= ow1) {  // a whole block: plain stores
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) _mm256_storeu_ps(X->ym + (oh0 + r) * X->OW + ow0 + 8 * v, acc[r][v]);
        return;
    }
    for (int r = 0; r < R && oh0 + r < oh1; r++)
        for (int v = 0; v < V; v++) {
            const int64_t lanes = ow1 - ow0 - 8 * v;
            float *dst = X->ym + (oh0 + r) * X->OW + ow0 + 8 * v;
            if (lanes >= 8) _mm256_storeu_ps(dst, acc[r][v]);
            else if (lanes > 0)
                _mm256_maskstore_ps(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes),
                                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), acc[r][v]);
        }
}

DC void rows(const ck_dconv_rows *A, int64_t item, const int64_t KH, const int64_t KW, const int64_t SH,
             const int64_t SW, const int64_t DH, const int64_t DW, const int R, const int V, const int HOIST,
             const int64_t PWc) {
    const ck_conv_desc *d = A->d;
    const ck_window *g = &d->g;
    const ck_dconv_item it = ck_dconv_decode(A, item);
    const int64_t C = d->in_channels, G = d->groups, Cg = C / G, Mg = d->out_channels / G;
    item_ctx X;
    X.Cg = Cg; X.IH = g->in[1]; X.IW = g->in[2]; X.OW = g->out[2]; X.IP = X.IH * X.IW; X.IS = g->in[0] * X.IP;
    X.PH = g->pad[1]; X.PW = g->pad[2]; X.KD = g->kernel[0]; X.DD = g->dilation[0];
    X.id0 = it.od * g->stride[0] - g->pad[0];
    // Depth taps kd with id0 + kd·DD inside [0, ID).
    ck_dconv_depth_taps(X.id0, X.DD, X.KD, g->in[0], &X.kd0, &X.kd1);
    X.xg = A->x + (it.n * C + it.m / Mg * Cg) * X.IS;
    X.wm = A->w + it.m * Cg * X.KD * KH * KW;
    X.ym = A->y + ((it.n * d->out_channels + it.m) * g->out[0] + it.od) * g->out[1] * X.OW;
    X.bias = A->bias ? A->bias[it.m] : 0.0f;
    if (HOIST && X.kd0 >= X.kd1) {  // the only depth tap is outside the input: bias only
        for (int64_t oh = it.oh0; oh < it.oh1; oh++)
            for (int64_t ow = it.ow0; ow < it.ow1; ow++) X.ym[oh * X.OW + ow] = X.bias;
        return;
    }
    // Zeros standing in for rows outside the input, addressed like this item's rows (see ck_dconv_rows.zeros).
    X.zrow = ck_dconv_addr(A->zeros, 64 - ck_max(0, it.ow0 * SW - X.PW));
    // First and last column a block's loads touch, relative to its first tap column c0 (PAIRS: to 2·ow0).
    const int PAIRS = SW == 2 && DW == 1 && PWc >= 0;
    const int64_t lo = PAIRS ? ck_min(0, -PWc) : 0;
    const int64_t reach = PAIRS ? 16 * (V - 1) + ck_max(15, 14 + KW - 1 - PWc) : 8 * SW * V - 1 + (KW - 1) * DW;
    // Row groups top to bottom, each left to right: rows of the input are read in order (a column-strip order
    // would step by whole rows and, with power-of-two widths, keep hitting the same cache sets).
    for (int64_t oh0 = it.oh0; oh0 < it.oh1; oh0 += R)
        for (int64_t ow0 = it.ow0; ow0 < it.ow1; ow0 += 8 * V) {
            const int64_t c0 = PAIRS ? 2 * ow0 : ow0 * SW - X.PW;
            if (c0 + lo >= 0 && c0 + reach < X.IW)
                block(&X, oh0, ow0, it.oh1, it.ow1, KH, KW, SH, SW, DH, DW, R, V, HOIST, PWc, 0);
            else block(&X, oh0, ow0, it.oh1, it.ow1, KH, KW, SH, SW, DH, DW, R, V, HOIST, PWc, 1);
        }
}

// Rows × vectors per block: 16 ymm registers hold at most 8 accumulators next to the taps and loads.
CK_DC_AVX2 static void dw3s1(const ck_dconv_rows *A, int64_t item) { rows(A, item, 3, 3, 1, 1, 1, 1, 4, 2, 1, -1); }
CK_DC_AVX2 static void dw3s2(const ck_dconv_rows *A, int64_t item) { rows(A, item, 3, 3, 2, 2, 1, 1, 2, 2, 1, -1); }
CK_DC_AVX2 static void dw3s2p1(const ck_dconv_rows *A, int64_t item) { rows(A, item, 3, 3, 2, 2, 1, 1, 2, 2, 1, 1); }
CK_DC_AVX2 static void dw5s2p2(const ck_dconv_rows *A, int64_t item) { rows(A, item, 5, 5, 2, 2, 1, 1, 2, 2, 1, 2); }
CK_DC_AVX2 static void dw5s1(const ck_dconv_rows *A, int64_t item) { rows(A, item, 5, 5, 1, 1, 1, 1, 4, 1, 1, -1); }
CK_DC_AVX2 static void dw5s2(const ck_dconv_rows *A, int64_t item) { rows(A, item, 5, 5, 2, 2, 1, 1, 2, 2, 1, -1); }
CK_DC_AVX2 static void dw7s1(const ck_dconv_rows *A, int64_t item) { rows(A, item, 7, 7, 1, 1, 1, 1, 4, 1, 1, -1); }
CK_DC_AVX2 static void k3s1(const ck_dconv_rows *A, int64_t item) { rows(A, item, 3, 3, 1, 1, 1, 1, 4, 2, 0, -1); }
CK_DC_AVX2 static void k3s2(const ck_dconv_rows *A, int64_t item) { rows(A, item, 3, 3, 2, 2, 1, 1, 2, 2, 0, -1); }
/// Any other geometry: R = 4 rows × V = 2 vectors (8 FMA chains), or one row × 4 vectors for single-row outputs.
#define ANY(R, V, SW)                                                                                                 \
    rows(A, item, A->d->g.kernel[1], A->d->g.kernel[2], A->d->g.stride[1], SW, A->d->g.dilation[1],                 \
         A->d->g.dilation[2], R, V, 0, -1)
CK_DC_AVX2 static void any_s1(const ck_dconv_rows *A, int64_t item) { ANY(4, 2, 1); }
CK_DC_AVX2 static void any_s2(const ck_dconv_rows *A, int64_t item) { ANY(4, 2, 2); }
CK_DC_AVX2 static void line_s1(const ck_dconv_rows *A, int64_t item) { ANY(1, 4, 1); }
CK_DC_AVX2 static void line_s2(const ck_dconv_rows *A, int64_t item) { ANY(1, 4, 2); }

void ck_conv_direct_rows_avx2(const ck_dconv_rows *A, int64_t item) {
    const ck_conv_desc *d = A->d;
    const ck_window *g = &d->g;
    const int64_t kh = g->kernel[1], kw = g->kernel[2], sh = g->stride[1], sw = g->stride[2];
    const int sq = kh == kw && sh == sw && g->dilation[1] == 1 && g->dilation[2] == 1;
    const int thin = d->in_channels == d->groups && g->kernel[0] == 1;  // one input channel per group, 1-D/2-D
    if (sq && kh == 3 && sh == 1) thin ? dw3s1(A, item) : k3s1(A, item);
    else if (sq && kh == 3 && sh == 2 && thin && g->pad[2] == 1) dw3s2p1(A, item);
    else if (sq && kh == 3 && sh == 2) thin ? dw3s2(A, item) : k3s2(A, item);
    else if (sq && thin && kh == 5 && sh == 2 && g->pad[2] == 2) dw5s2p2(A, item);
    else if (sq && thin && kh == 5 && sh == 1) dw5s1(A, item);
    else if (sq && thin && kh == 5 && sh == 2) dw5s2(A, item);
    else if (sq && thin && kh == 7 && sh == 1) dw7s1(A, item);
    else if (g->out[1] == 1) sw == 1 ? line_s1(A, item) : line_s2(A, item);
    else sw == 1 ? any_s1(A, item) : any_s2(A, item);
}
#endif
