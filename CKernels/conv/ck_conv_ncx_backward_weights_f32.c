// Conv weight and bias gradients: dW[m, c, k] = Σ_n Σ_o dY[n, m, o] · X[n, c, o·s − p + k·d], dB[m] = Σ_n Σ_o dY.
//
// Microkernel path (enough input channels per group for a register tile's columns). Per group, dW_k [Mg, Cg] for
// every tap k is a GEMM reducing over the output positions r = (n, o): A = dY packed into [r][mr] panels per
// M-block (mr output channels per reduction step), B = the input transposed to channel-last and zero-padded,
// XT[n][qd][qh][qw][c], so that the B row of position r and tap k is the Cg consecutive floats at
// XT + off[r] + tapoff[k]: the gemm/ register-tile microkernels read it through their indirect B operand, and no
// im2col matrix is built (XT is as large as the input; the panels as large as dY).
//
// Determinism (oneDNN's fixed-order reduction, KERNELS.md §5): the reduction is cut into units (a group's images
// [n0, n1), or one image's band of output rows when an image is too large) and, when a unit has too few tiles for
// the team, into R fixed chunks; every chunk's tile is one microkernel sum in r order written to its own partial
// buffer, and the partials are added into the accumulator in chunk order, unit after unit. Units, chunks and
// tiles depend only on the problem, never on the thread count, so dW is bitwise identical for any team.
//
// Dot path (few channels per group: depthwise and the like): every dW element is one dot product over (n, o),
// accumulated in 8 lanes by column and combined in a fixed order.
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ck_conv_backward_internal.h"

enum {
    UNIT_FLOATS = 2 << 20,  // XT + dY panels of one unit (8 MiB)
    MIN_ITEMS = 32,         // tiles per unit wanted before the reduction is split
    MIN_CHUNK = 2048,       // reduction positions per chunk at least
};

struct ck_conv_bwd_weights {
    ck_conv_desc d;
    const ck_gemm_ukernels *uk;
    int mode;               // 0 microkernel, 1 dot products, 2 Winograd
    ck_wino_bwd *wino;      // mode 2
    int64_t G, Cg, Mg, KK, P, M, C;
    // Microkernel path.
    int band_axis;          // -1: whole images (ns per unit); 0: bands of od slices; 1: bands of oh rows in one od
    int64_t ns, bext, nbands, units;  // units per group
    int64_t nd, nh;         // output d slices and h rows of a full unit (per image)
    int64_t E[3], xt_img;   // XT extents of a full unit per image, floats per image (E0·E1·E2·Cg)
    int64_t red;            // reduction length of a full unit: ns·nd·nh·OW
    int32_t *off;           // red entries
    int64_t *tapoff;        // KK entries
    int64_t nmb, ncb, R, chunk, items;
    int64_t bytes;
};

static inline void mblock(const ck_conv_bwd_weights *p, int64_t b, int64_t *m0, int64_t *mr) {
    const int64_t q = p->Mg / p->nmb, r = p->Mg % p->nmb;
    *m0 = b * q + ck_min(b, r);
    *mr = q + (b < r);
}

void ck_conv_ncx_backward_weights_destroy_f32(ck_conv_bwd_weights *p) {
    if (!p) return;
    ck_wino_bwd_destroy(p->wino);
    free(p->off);
    free(p->tapoff);
    free(p);
}

/// Floats of XT + panels for a unit of `imgs` images, nd slices and nh rows per image.
static int64_t unit_floats(const ck_conv_bwd_weights *p, int64_t imgs, int64_t nd, int64_t nh) {
    const ck_window *g = &p->d.g;
    const int64_t e0 = (nd - 1) * g->stride[0] + (g->kernel[0] - 1) * g->dilation[0] + 1;
    const int64_t e1 = (nh - 1) * g->stride[1] + (g->kernel[1] - 1) * g->dilation[1] + 1;
    const int64_t e2 = (g->out[2] - 1) * g->stride[2] + (g->kernel[2] - 1) * g->dilation[2] + 1;
    const int64_t xt = ck_mul(ck_mul3(e0, e1, e2), p->Cg), panels = ck_mul3(p->Mg, nd * nh, g->out[2]);
    if (xt < 0 || panels < 0) return -1;
    const int64_t per = xt + panels;
    return ck_mul(per, imgs);
}

static int plan_units(ck_conv_bwd_weights *p) {
    const ck_window *g = &p->d.g;
    const int64_t N = p->d.batch, OD = g->out[0], OH = g->out[1];
    const int64_t one = unit_floats(p, 1, OD, OH);
    if (one < 0) return 0;
    if (one <= UNIT_FLOATS) {
        p->band_axis = -1;
        p->ns = ck_max(1, ck_min(N, UNIT_FLOATS / ck_max(1, one)));
        p->nd = OD, p->nh = OH, p->nbands = 1;
        p->units = (N + p->ns - 1) / p->ns;
    } else {
        p->ns = 1;
        int64_t b = OD;
        while (b > 1 && unit_floats(p, 1, b, OH) > UNIT_FLOATS) b = (b + 1) / 2;
        if (OD > 1 && b >= 1 && unit_floats(p, 1, b, OH) <= UNIT_FLOATS) {
            p->band_axis = 0;
            p->nbands = (OD + b - 1) / b;
            p->bext = (OD + p->nbands - 1) / p->nbands;
            p->nd = p->bext, p->nh = OH;
            p->units = N * p->nbands;
        } else {
            b = OH;
            while (b > 1 && unit_floats(p, 1, 1, b) > UNIT_FLOATS) b = (b + 1) / 2;
            p->band_axis = 1;
            p->nbands = (OH + b - 1) / b;
            p->bext = (OH + p->nbands - 1) / p->nbands;
            p->nd = 1, p->nh = p->bext;
            p->units = N * OD * p->nbands;
        }
    }
    p->E[0] = (p->nd - 1) * g->stride[0] + (g->kernel[0] - 1) * g->dilation[0] + 1;
    p->E[1] = (p->nh - 1) * g->stride[1] + (g->kernel[1] - 1) * g->dilation[1] + 1;
    p->E[2] = (g->out[2] - 1) * g->stride[2] + (g->kernel[2] - 1) * g->dilation[2] + 1;
    p->xt_img = ck_mul(ck_mul3(p->E[0], p->E[1], p->E[2]), p->Cg);
    p->red = ck_mul(ck_mul3(p->ns, p->nd, p->nh), g->out[2]);
    const int64_t span = ck_mul(p->ns, p->xt_img);
    return p->xt_img >= 0 && p->red >= 0 && span >= 0 && span <= INT32_MAX - 2 * CK_GEMM_NR_LIMIT &&
           p->red <= INT32_MAX;
}

int ck_conv_ncx_backward_weights_prepare_f32(const ck_conv_desc *d, int isa, ck_conv_bwd_weights **out) {
    if (!out) return CK_ERR_ARGUMENT;
    *out = NULL;
    if (!d || ck_window_check(&d->g) != CK_OK || d->batch < 0 || d->in_channels < 0 || d->out_channels < 0 ||
        d->groups < 1 || d->in_channels % d->groups || d->out_channels % d->groups)
        return CK_ERR_ARGUMENT;
    ck_conv_bwd_weights *p = calloc(1, sizeof *p);
    if (!p) return CK_ERR_NOMEM;
    p->d = *d;
    const ck_window *g = &d->g;
    p->G = d->groups, p->C = d->in_channels, p->M = d->out_channels;
    p->Cg = p->C / p->G, p->Mg = p->M / p->G, p->KK = ck_prod3(g->kernel), p->P = ck_prod3(g->out);
    if (ck_mul3(p->M, p->Cg, p->KK) < 0 || p->P < 0) goto bad;
    isa = ck_isa_resolve(isa);
    p->uk = ck_gemm_ukernels_portable_f32();
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) p->uk = ck_gemm_ukernels_avx512_f32();
    else if (isa >= CK_ISA_AVX2) p->uk = ck_gemm_ukernels_avx2_f32();
#endif
    const int64_t NR = p->uk->nr;
    // The tile's columns are input channels: worth it with at least half a tile of them, and rows enough.
    p->mode = p->Cg * 2 >= NR && p->Mg >= 4 && p->P > 0 && d->batch > 0 ? 0 : 1;
    if (p->mode == 0 && !plan_units(p)) p->mode = 1;
    p->bytes = (int64_t)sizeof *p;
    // Winograd F(4×4, 3×3) for 3×3 stride-1 layers with channels and tiles enough (as the forward pass chooses it).
    const int64_t tiles = d->batch * ((g->out[1] + 3) / 4) * ((g->out[2] + 3) / 4);
    if (p->mode == 0 && isa >= CK_ISA_AVX2 && p->Cg >= 16 && p->Mg >= 16 && tiles >= 16) {
        const int s = ck_wino_bwd_prepare(d, p->uk, &p->wino);
        if (s == CK_ERR_NOMEM) {
            ck_conv_ncx_backward_weights_destroy_f32(p);
            return CK_ERR_NOMEM;
        }
        if (s == CK_OK) {
            p->mode = 2;
            *out = p;
            return CK_OK;
        }
    }
    if (p->mode == 0) {
        const int64_t OW = g->out[2];
        p->off = malloc(sizeof(int32_t) * (size_t)ck_max(1, p->red));
        p->tapoff = malloc(sizeof(int64_t) * (size_t)ck_max(1, p->KK));
        if (!p->off || !p->tapoff) {
            ck_conv_ncx_backward_weights_destroy_f32(p);
            return CK_ERR_NOMEM;
        }
        const int64_t E1 = p->E[1], E2 = p->E[2], Cg = p->Cg;
        for (int64_t r = 0; r < p->red; r++) {
            const int64_t ow = r % OW, oh = r / OW % p->nh, od = r / (OW * p->nh) % p->nd, nl = r / (OW * p->nh * p->nd);
            p->off[r] = (int32_t)(nl * p->xt_img + ((od * g->stride[0] * E1 + oh * g->stride[1]) * E2 + ow * g->stride[2]) * Cg);
        }
        for (int64_t k = 0; k < p->KK; k++) {
            const int64_t kd = k / (g->kernel[1] * g->kernel[2]), kh = k / g->kernel[2] % g->kernel[1], kw = k % g->kernel[2];
            p->tapoff[k] = ((kd * g->dilation[0] * E1 + kh * g->dilation[1]) * E2 + kw * g->dilation[2]) * Cg;
        }
        p->nmb = (p->Mg + p->uk->mr_max - 1) / p->uk->mr_max;
        p->ncb = (p->Cg + NR - 1) / NR;
        const int64_t tiles = p->KK * p->nmb * p->ncb;
        p->R = 1;
        if (tiles < MIN_ITEMS) p->R = ck_max(1, ck_min((MIN_ITEMS + tiles - 1) / tiles, p->red / MIN_CHUNK));
        p->chunk = (p->red + p->R - 1) / p->R;
        p->items = p->R * tiles;
        p->bytes += 4 * p->red + 8 * p->KK;
    }
    *out = p;
    return CK_OK;
bad:
    free(p);
    return CK_ERR_ARGUMENT;
}

int ck_conv_ncx_backward_weights_isa(const ck_conv_bwd_weights *p) { return p ? (p->mode != 1 ? p->uk->isa : CK_ISA_PORTABLE) : -1; }
int ck_conv_ncx_backward_weights_path(const ck_conv_bwd_weights *p) { return p ? p->mode : -1; }

/// Floats of one run's workspace (microkernel path): XT with slack, panels, partials, accumulator.
static int64_t ws_floats(const ck_conv_bwd_weights *p, int64_t *xt, int64_t *pan, int64_t *part, int64_t *acc) {
    *xt = p->ns * p->xt_img + 2 * CK_GEMM_NR_LIMIT;
    *pan = p->Mg * p->red;
    *part = p->R * p->KK * p->Mg * p->Cg;
    *acc = p->G * p->KK * p->Mg * p->Cg;
    return *xt + *pan + *part + *acc + 64;
}

int64_t ck_conv_ncx_backward_weights_workspace_f32(const ck_conv_bwd_weights *p) {
    if (!p) return -1;
    if (p->mode == 2) return ck_wino_bwd_workspace(p->wino);
    if (p->mode != 0) return 0;
    int64_t a, b, c, e;
    return 4 * ws_floats(p, &a, &b, &c, &e);
}

/// The unit u of a group: first image n0 and image count nn, first output slice od0 and count, first row oh0 and
/// count.
static void unit_box(const ck_conv_bwd_weights *p, int64_t u, int64_t *n0, int64_t *nn, int64_t *od0, int64_t *nd,
                     int64_t *oh0, int64_t *nh) {
    const ck_window *g = &p->d.g;
    const int64_t OD = g->out[0], OH = g->out[1];
    if (p->band_axis < 0) {
        *n0 = u * p->ns, *nn = ck_min(p->ns, p->d.batch - *n0);
        *od0 = 0, *nd = OD, *oh0 = 0, *nh = OH;
    } else if (p->band_axis == 0) {
        const int64_t b = u % p->nbands;
        *n0 = u / p->nbands, *nn = 1;
        *od0 = b * p->bext, *nd = ck_min(p->bext, OD - *od0), *oh0 = 0, *nh = OH;
    } else {
        const int64_t b = u % p->nbands;
        *n0 = u / (p->nbands * OD), *nn = 1;
        *od0 = u / p->nbands % OD, *nd = 1;
        *oh0 = b * p->bext, *nh = ck_min(p->bext, OH - *oh0);
    }
}

/// XT row (nl, qd, qh) of a unit: E2 positions of Cg channels, zero outside the input.
CK_HOT static void build_xt_row(const ck_conv_bwd_weights *p, const float *x, int64_t gi, int64_t n0, int64_t od0,
                                int64_t oh0, int64_t row, float *xt) {
    const ck_window *g = &p->d.g;
    const int64_t E0 = p->E[0], E1 = p->E[1], E2 = p->E[2], Cg = p->Cg;
    const int64_t qh = row % E1, qd = row / E1 % E0, nl = row / (E1 * E0);
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], IS = ID * IH * IW;
    const int64_t id = od0 * g->stride[0] - g->pad[0] + qd, ih = oh0 * g->stride[1] - g->pad[1] + qh;
    const int64_t iw0 = -g->pad[2];
    float *dst = xt + nl * p->xt_img + (qd * E1 + qh) * E2 * Cg;
    if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
        memset(dst, 0, sizeof(float) * (size_t)(E2 * Cg));
        return;
    }
    int64_t lo, hi;  // positions qw with iw0 + qw inside the row
    ck_valid_range(E2, IW, 1, iw0, &lo, &hi);
    memset(dst, 0, sizeof(float) * (size_t)(lo * Cg));
    memset(dst + hi * Cg, 0, sizeof(float) * (size_t)((E2 - hi) * Cg));
    const float *src = x + ((n0 + nl) * p->C + gi * Cg) * IS + (id * IH + ih) * IW + iw0;
    int64_t c = 0;
    for (; c + 8 <= Cg; c += 8) {
        const float *s0 = src + c * IS;
        for (int64_t q = lo; q < hi; q++) {
            float *o = dst + q * Cg + c;
            for (int j = 0; j < 8; j++) o[j] = s0[j * IS + q];
        }
    }
    for (; c < Cg; c++)
        for (int64_t q = lo; q < hi; q++) dst[q * Cg + c] = src[c * IS + q];
}

/// Panel rows of output row `row` = (nl, odl, ohl) of a unit, for M-block mb: panel[r][i] = dY[n, m0 + i, pos(r)].
CK_HOT static void build_panel_row(const ck_conv_bwd_weights *p, const float *dy, int64_t gi, int64_t n0, int64_t od0,
                                   int64_t oh0, int64_t nd, int64_t nh, int64_t mb, int64_t row, float *panels) {
    const ck_window *g = &p->d.g;
    const int64_t OH = g->out[1], OW = g->out[2];
    const int64_t ohl = row % nh, odl = row / nh % nd, nl = row / (nh * nd);
    int64_t m0, mr;
    mblock(p, mb, &m0, &mr);
    const int64_t r0 = ((nl * p->nd + odl) * p->nh + ohl) * OW;  // full-unit strides (see off)
    float *dst = panels + m0 * p->red + r0 * mr;
    const float *src = dy + ((n0 + nl) * p->M + gi * p->Mg + m0) * p->P + ((od0 + odl) * OH + oh0 + ohl) * OW;
    for (int64_t i = 0; i < mr; i++) {
        const float *s = src + i * p->P;
        for (int64_t ow = 0; ow < OW; ow++) dst[ow * mr + i] = s[ow];
    }
}

/// Dot-path element (gi, m, c, k) of dW: Σ over images and outputs, in 8 column lanes.
CK_HOT static float dot_item(const ck_conv_bwd_weights *p, const float *x, const float *dy, int64_t gi, int64_t m,
                             int64_t c, int64_t k) {
    const ck_window *g = &p->d.g;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t kd = k / (g->kernel[1] * g->kernel[2]), kh = k / g->kernel[2] % g->kernel[1], kw = k % g->kernel[2];
    const int64_t sw = g->stride[2], offw = kw * g->dilation[2] - g->pad[2];
    int64_t lo, hi;
    ck_valid_range(OW, IW, sw, offw, &lo, &hi);
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t n = 0; n < p->d.batch; n++) {
        const float *yp = dy + (n * p->M + gi * p->Mg + m) * p->P;
        const float *xp = x + (n * p->C + gi * p->Cg + c) * ID * IH * IW;
        for (int64_t od = 0; od < OD; od++) {
            const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
            if (id < 0 || id >= ID) continue;
            for (int64_t oh = 0; oh < OH; oh++) {
                const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
                if (ih < 0 || ih >= IH) continue;
                const float *yr = yp + (od * OH + oh) * OW;
                const float *xr = xp + (id * IH + ih) * IW + offw;
                int64_t ow = lo;
                if (sw == 1) {
                    for (; ow + 8 <= hi; ow += 8)
                        for (int j = 0; j < 8; j++) acc[j] += yr[ow + j] * xr[ow + j];
                } else {
                    for (; ow + 8 <= hi; ow += 8)
                        for (int j = 0; j < 8; j++) acc[j] += yr[ow + j] * xr[(ow + j) * sw];
                }
                for (int j = 0; ow < hi; ow++, j++) acc[j] += yr[ow] * xr[ow * sw];
            }
        }
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// dB[m] = Σ_n Σ_o dY[n, m, o], in 8 lanes combined in a fixed order.
CK_HOT static float bias_item(const ck_conv_bwd_weights *p, const float *dy, int64_t m) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t n = 0; n < p->d.batch; n++) {
        const float *yp = dy + (n * p->M + m) * p->P;
        int64_t i = 0;
        for (; i + 8 <= p->P; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += yp[i + j];
        for (int j = 0; i < p->P; i++, j++) acc[j] += yp[i];
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

int ck_conv_ncx_backward_weights_run_f32(const ck_conv_bwd_weights *p, const float *x, int64_t x_count,
                                         const float *dy, int64_t dy_count, float *dw, int64_t dw_count, float *db,
                                         int64_t db_count, int threads) {
    if (!p) return CK_ERR_ARGUMENT;
    const ck_conv_desc *d = &p->d;
    const int64_t wn = p->M * p->Cg * p->KK;
    if (ck_conv_check(d, x, x_count, dw ? dw : (const float *)x, dw ? dw_count : wn, dy, dy_count, 0) != CK_OK)
        return CK_ERR_ARGUMENT;
    if (db && db_count != p->M) return CK_ERR_ARGUMENT;
    const int64_t KK = p->KK, Mg = p->Mg, Cg = p->Cg, G = p->G;
    const int64_t work = ck_work3(dy_count, ck_max(1, Cg * KK), 1);
    if (db) {
#pragma omp parallel for num_threads(ck_team_for(threads, dy_count)) schedule(static)
        for (int64_t m = 0; m < p->M; m++) db[m] = bias_item(p, dy, m);
    }
    if (!dw || wn == 0) return CK_OK;
    if (p->mode == 2) return ck_wino_bwd_run(p->wino, x, dy, dw, threads);
    if (p->mode == 1 || dy_count == 0) {
        if (dy_count == 0) {
            memset(dw, 0, sizeof(float) * (size_t)wn);
            return CK_OK;
        }
#pragma omp parallel for num_threads(ck_team_for(threads, work)) schedule(static)
        for (int64_t e = 0; e < wn; e++) {
            const int64_t k = e % KK, c = e / KK % Cg, mm = e / (KK * Cg), gi = mm / Mg;
            const int64_t kk = d->flip ? KK - 1 - k : k;  // forward used W flipped: tap kk pairs with X at tap k
            dw[e] = dot_item(p, x, dy, gi, mm % Mg, c, kk);
        }
        return CK_OK;
    }

    int64_t nxt, npan, npart, nacc;
    const int64_t total = ws_floats(p, &nxt, &npan, &npart, &nacc);
    float *ws = malloc(sizeof(float) * (size_t)total);
    if (!ws) return CK_ERR_NOMEM;
    float *xt = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63), *panels = xt + nxt, *part = panels + npan,
          *acc = part + npart;
    memset(xt + p->ns * p->xt_img, 0, sizeof(float) * 2 * CK_GEMM_NR_LIMIT);
    memset(acc, 0, sizeof(float) * (size_t)nacc);
    const int64_t NR = p->uk->nr, tiles = KK * p->ncb * p->nmb, elems = KK * Mg * Cg;
    const int team = ck_team_for(threads, work);
    int64_t next[2] = {0, 0};
#pragma omp parallel num_threads(team)
    {
        const int tid = omp_get_thread_num();
        for (int64_t s = 0; s < G * p->units; s++) {
            const int64_t gi = s / p->units, u = s % p->units;
            int64_t n0, nn, od0, nd, oh0, nh;
            unit_box(p, u, &n0, &nn, &od0, &nd, &oh0, &nh);
            const int64_t red = nn * nd * nh * d->g.out[2];  // a prefix of the full unit's table
            if (tid == 0) __atomic_store_n(&next[(s + 1) & 1], 0, __ATOMIC_RELAXED);
            const int64_t xrows = nn * p->E[0] * p->E[1], prows = nn * nd * nh;
#pragma omp for schedule(static) nowait
            for (int64_t r = 0; r < xrows; r++) build_xt_row(p, x, gi, n0, od0, oh0, r, xt);
#pragma omp for schedule(static)
            for (int64_t r = 0; r < p->nmb * prows; r++)
                build_panel_row(p, dy, gi, n0, od0, oh0, nd, nh, r / prows, r % prows, panels);
            CK_DYNAMIC_FOR(it, p->items, 1, next[s & 1]) {
                const int64_t mb = it % p->nmb, cb = it / p->nmb % p->ncb, k = it / (p->nmb * p->ncb) % KK;
                const int64_t rc = it / tiles;
                int64_t m0, mr;
                mblock(p, mb, &m0, &mr);
                const int64_t r0 = ck_min(red, rc * p->chunk), r1 = ck_min(red, r0 + p->chunk), c0 = cb * NR;
                ck_gemm_epilogue ep;
                ep.lo = -INFINITY, ep.hi = INFINITY, ep.nload = NR, ep.ldc = Cg, ep.nseg = 1;
                ep.seg[0].j0 = 0, ep.seg[0].j1 = ck_min(NR, Cg - c0);
                ep.seg[0].dst = part + ((rc * KK + k) * Mg + m0) * Cg + c0;
                p->uk->fn[mr](r1 - r0, panels + m0 * p->red + r0 * mr, xt + p->tapoff[k] + c0, p->off + r0, NULL, &ep);
            }
#pragma omp barrier
            float *ag = acc + gi * elems;
#pragma omp for schedule(static)
            for (int64_t e = 0; e < elems; e++) {
                float v = part[e];
                for (int64_t rc = 1; rc < p->R; rc++) v += part[rc * elems + e];
                ag[e] += v;
            }
        }
        // dW[g·Mg + m][c][k'] from acc[g][k][m][c], k' = k (or reversed in flip mode).
#pragma omp for schedule(static)
        for (int64_t e = 0; e < wn; e++) {
            const int64_t kq = e % KK, c = e / KK % Cg, mm = e / (KK * Cg), gi = mm / Mg;
            const int64_t k = d->flip ? KK - 1 - kq : kq;
            dw[e] = acc[((gi * KK + k) * Mg + mm % Mg) * Cg + c];
        }
    }
    free(ws);
    return CK_OK;
}

int ck_conv_ncx_backward_bias_f32(int64_t batch, int64_t channels, int64_t spatial, const float *dy, int64_t dy_count,
                                  float *db, int64_t db_count, int threads) {
    if (batch < 0 || channels < 0 || spatial < 0 || ck_mul3(batch, channels, spatial) != dy_count ||
        db_count != channels || (dy_count && !dy) || (db_count && !db))
        return CK_ERR_ARGUMENT;
#pragma omp parallel for num_threads(ck_team_for(threads, dy_count)) schedule(static)
    for (int64_t m = 0; m < channels; m++) {
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int64_t n = 0; n < batch; n++) {
            const float *yp = dy + (n * channels + m) * spatial;
            int64_t i = 0;
            for (; i + 8 <= spatial; i += 8)
                for (int j = 0; j < 8; j++) acc[j] += yp[i + j];
            for (int j = 0; i < spatial; i++, j++) acc[j] += yp[i];
        }
        db[m] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
    return CK_OK;
}
