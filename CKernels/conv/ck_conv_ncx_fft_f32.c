// FFT convolution, 2-D (and 1-D as a 2-D problem of height 1) NCHW, overlap-save tiles.
//
// The output (at stride 1; a strided layer keeps every s-th value) is cut into tiles of vh × vw outputs; tile t
// reads the input window of Th × Tw = (vh + eh − 1) × (vw + ew − 1) pixels (eh, ew: dilated kernel extents, zeros
// outside the image), whose circular correlation with the kernel is exact on those vh × vw outputs. Th, Tw are
// powers of two in [16, 1024] picked per problem by the cost model below. Two tiles travel as one complex signal
// (tile A the real part, tile B the imaginary part): the kernels are real, so the inverse of Σ_c Z_c·H[m,c] is
// (A ⋆ w) + i·(B ⋆ w) — a full complex transform of the pair costs what two real transforms would, with no
// real-to-complex post-processing. Per work item (image, group, tile pair): each input channel's pair is
// transformed once (columns along h, transpose, columns along w: fft/ck_fft_body.h), then for each output channel
// the spectra are multiplied by the kernel spectra and summed over the group's channels (complex MAC), inverse
// transformed once, and the epilogue adds the bias, clamps and writes the valid region. Kernel spectra (scaled by
// 1/(Th·Tw)) are computed at prepare time when the weights are given, else per run into the workspace.
// Items are fixed by the problem and each output is written by one item, so results do not depend on the thread
// count. Memory: per thread (Cg + 3) complex tiles; the spectra M·Cg complex tiles.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conv_internal.h"
#include "../fft/ck_fft_internal.h"

struct ck_conv_fft {
    ck_conv_desc d;
    int isa, clamp;
    float lo, hi;
    const ck_fft_kernels *k;
    int64_t C, M;                 // channels per group (in, out)
    int64_t H, W, OH, OW;         // input and output planes
    int64_t sh, sw, dh, dw, kh, kw, ph, pw;
    int64_t Th, Tw, vh, vw;       // transform size, valid stride-1 outputs per tile
    int64_t nth, ntw, pairs;      // tiles along h, w; tile pairs per (image, group)
    int64_t F;                    // Th·Tw
    ck_fft_twiddles twh, tww;
    int64_t x_count, y_count, w_count, spec_floats;
    float *S;                     // kernel spectra [groups·M·C][re, im][Tw][Th], or NULL
    float *w;                     // the plan-time weights (as given), for tiles with non-finite inputs, or NULL
};

// ---- cost model ------------------------------------------------------------------------------------------------
// Modeled one-core time in ns, fitted (non-negative least squares on relative error) to 26 single-thread CPU-time
// measurements on this project's AVX-512 machine (kernels 7–301, 1–32 channels per group, tiles 16²–1024²;
// CKernels/README.md "FFT convolution"): per tile pair of F = Th·Tw points
//   F·[(C + M)·(A·log2 F + B·spill) + C·M·(D + E·[spectra beyond L2])]
// plus G_OUT per output value (work items rounded up to whole rounds of the team), where spill = log2 of the per-thread buffers (8·F·(C + 3) bytes) beyond 512 KiB (the
// passes then run from L3), and the kernel spectra of a group (8·F·C·M bytes) beyond 2 MiB stream from memory at
// about 16 GB/s. A = 0.073, B = 0.50, D = 0.115, E = 0.50, G_OUT = 0.50 ns; the fit is within ±25 % on 22 of the
// 26 points. AVX2 measured 1.0–1.17× and portable 1.4–1.9× the AVX-512 time (the passes are L2-bound).
static const double fft_a = 0.073, fft_b = 0.50, fft_d = 0.115, fft_e = 0.50, fft_out = 0.50;

static double isa_factor(int isa) { return isa >= CK_ISA_AVX512 ? 1.0 : isa >= CK_ISA_AVX2 ? 1.1 : 1.6; }

static int log2i(int64_t n) {
    int l = 0;
    while (((int64_t)1 << l) < n) l++;
    return l;
}

/// Tiles of v outputs covering q stride-1 positions.
static int64_t tiles_for(int64_t q, int64_t v) { return (q + v - 1) / v; }

typedef struct fft_geom {
    int64_t C, M, groups, batch, eh, ew, qh, qw, outputs;
} fft_geom;

/// Modeled ns of the whole problem with tile Th × Tw on `team` threads, as one-core time including the idle share
/// of an uneven last round of work items (a few huge tiles on 2 threads), or INFINITY when the tile cannot hold
/// the kernel or the per-thread buffers would exceed 64 MiB.
static double model(const fft_geom *g, int64_t Th, int64_t Tw, int isa, int team) {
    const int64_t vh = Th - g->eh + 1, vw = Tw - g->ew + 1;
    if (vh < 1 || vw < 1) return INFINITY;
    const double F = (double)Th * (double)Tw, C = (double)g->C, M = (double)g->M;
    const double buffers = F * 8 * (C + 3);
    if (buffers > 64.0 * (1 << 20)) return INFINITY;
    const double tiles = (double)tiles_for(g->qh, vh) * (double)tiles_for(g->qw, vw);
    const double items = ceil(tiles / 2) * (double)g->batch * (double)g->groups;
    const double rounds = ceil(items / team) * team;
    const double spill = buffers > (1 << 19) ? log2(buffers / (1 << 19)) : 0;
    const double stream = F * 8 * C * M > (1 << 21) ? fft_e : 0;
    const double per = F * ((C + M) * (fft_a * (log2i(Th) + log2i(Tw)) + fft_b * spill) + C * M * (fft_d + stream));
    return isa_factor(isa) * (rounds * per + fft_out * (double)g->outputs);
}

/// The geometry, or CK_ERR_ARGUMENT when the problem is not one this kernel takes.
static int geometry(const ck_conv_desc *d, fft_geom *g) {
    if (!d || ck_window_check(&d->g) != CK_OK) return CK_ERR_ARGUMENT;
    const ck_window *w = &d->g;
    if (w->in[0] != 1 || w->out[0] != 1 || w->kernel[0] != 1 || w->pad[0] != 0) return CK_ERR_ARGUMENT;
    if (d->batch < 0 || d->in_channels < 0 || d->out_channels < 0 || d->groups < 1 || d->in_channels % d->groups ||
        d->out_channels % d->groups)
        return CK_ERR_ARGUMENT;
    const int64_t lim = (int64_t)1 << 28;
    for (int a = 1; a < 3; a++)
        if (w->in[a] > lim || w->out[a] > lim || w->pad[a] > lim || w->pad[a] < -lim || w->stride[a] > lim ||
            w->kernel[a] > lim || w->dilation[a] > lim)
            return CK_ERR_ARGUMENT;
    if (d->in_channels > lim || d->out_channels > lim || d->batch > lim) return CK_ERR_ARGUMENT;
    g->C = d->in_channels / d->groups;
    g->M = d->out_channels / d->groups;
    g->groups = d->groups;
    g->batch = d->batch;
    g->eh = (w->kernel[1] - 1) * w->dilation[1] + 1;
    g->ew = (w->kernel[2] - 1) * w->dilation[2] + 1;
    if (g->eh > CK_FFT_MAX || g->ew > CK_FFT_MAX) return CK_ERR_ARGUMENT;
    g->qh = w->out[1] ? (w->out[1] - 1) * w->stride[1] + 1 : 0;
    g->qw = w->out[2] ? (w->out[2] - 1) * w->stride[2] + 1 : 0;
    g->outputs = (double)d->batch * (double)d->out_channels * (double)w->out[1] * (double)w->out[2] > 1e18
                     ? INT64_MAX
                     : d->batch * d->out_channels * w->out[1] * w->out[2];
    return CK_OK;
}

/// The cheapest tile, its modeled ns in *cost (INFINITY when none fits).
static void pick_tile(const fft_geom *g, int isa, int team, int64_t *Th, int64_t *Tw, double *cost) {
    *cost = INFINITY;
    *Th = *Tw = CK_FFT_MIN;
    for (int64_t th = CK_FFT_MIN; th <= CK_FFT_MAX; th *= 2) {
        for (int64_t tw = CK_FFT_MIN; tw <= CK_FFT_MAX; tw *= 2) {
            const double c = model(g, th, tw, isa, team);
            if (c < *cost) {
                *cost = c;
                *Th = th;
                *Tw = tw;
            }
        }
    }
}

double ck_conv_ncx_fft_cost_f32(const ck_conv_desc *d, int isa, int threads, int64_t *tile_h, int64_t *tile_w) {
    fft_geom g;
    if (geometry(d, &g) != CK_OK) return -1;
    int64_t th, tw;
    double cost;
    // The tile is picked as for one thread (as the plan does: the tile, and so the rounding, must not depend on
    // the thread count); the cost then counts the idle share of `threads`.
    pick_tile(&g, ck_isa_resolve(isa), 1, &th, &tw, &cost);
    if (!isfinite(cost)) return -1;
    cost = model(&g, th, tw, ck_isa_resolve(isa), ck_team(threads));
    if (tile_h) *tile_h = th;
    if (tile_w) *tile_w = tw;
    return cost * 1e-9;
}

// ---- transforms ------------------------------------------------------------------------------------------------

/// Forward 2-D transform of planes (re, im) [Th][Tw] into (dr, di) [Tw][Th]; (re, im) and (sr, si) are clobbered.
static void forward2d(const struct ck_conv_fft *p, float *re, float *im, float *sr, float *si, float *dr, float *di) {
    p->k->columns(&p->twh, p->Tw, re, im, sr, si, 0);
    p->k->transpose(re, p->Tw, p->Th, p->Tw, dr, p->Th);
    p->k->transpose(im, p->Tw, p->Th, p->Tw, di, p->Th);
    p->k->columns(&p->tww, p->Th, dr, di, sr, si, 0);
}

/// Inverse 2-D transform (unscaled) of (re, im) [Tw][Th] into (dr, di) [Th][Tw]; (re, im), (sr, si) clobbered.
static void inverse2d(const struct ck_conv_fft *p, float *re, float *im, float *sr, float *si, float *dr, float *di) {
    p->k->columns(&p->tww, p->Th, re, im, sr, si, 1);
    p->k->transpose(re, p->Th, p->Tw, p->Th, dr, p->Tw);
    p->k->transpose(im, p->Th, p->Tw, p->Th, di, p->Tw);
    p->k->columns(&p->twh, p->Tw, dr, di, sr, si, 1);
}

/// Spectra of every (group, m, c) kernel into S (see the struct), scaled by 1/F; `buf` holds 6·F floats per thread.
static int kernel_spectra(const struct ck_conv_fft *p, const float *w, float *S, int threads) {
    const int64_t F = p->F, count = p->d.groups * p->M * p->C, taps = p->kh * p->kw;
    const int team = ck_team_for(threads, ck_work3(count, F, 20));
    float *buf = aligned_alloc(64, (size_t)(6 * F * 4) * (size_t)team);
    if (!buf) return CK_ERR_NOMEM;
    const float scale = 1.0f / (float)F;
#pragma omp parallel for num_threads(team) schedule(static)
    for (int64_t i = 0; i < count; i++) {
        float *re = buf + 6 * F * omp_get_thread_num(), *im = re + F, *sr = im + F, *si = sr + F, *tr = si + F,
              *ti = tr + F;
        memset(re, 0, (size_t)(2 * F * 4));
        const float *src = w + i * taps;
        for (int64_t a = 0; a < p->kh; a++)
            for (int64_t b = 0; b < p->kw; b++) {
                // Correlation: y[q] = Σ_k t[q + k·d]·w[k] = Σ_j t[j]·h[q − j] with h[−k·d mod T] = w[k].
                const int64_t r = (p->Th - a * p->dh % p->Th) % p->Th, c = (p->Tw - b * p->dw % p->Tw) % p->Tw;
                const int64_t tap = p->d.flip ? taps - 1 - (a * p->kw + b) : a * p->kw + b;
                re[r * p->Tw + c] = src[tap];
            }
        forward2d(p, re, im, sr, si, tr, ti);
        float *dst = S + i * 2 * F;
        for (int64_t e = 0; e < F; e++) {
            dst[e] = tr[e] * scale;
            dst[F + e] = ti[e] * scale;
        }
    }
    free(buf);
    return CK_OK;
}

// ---- plan ------------------------------------------------------------------------------------------------------

int ck_conv_ncx_fft_prepare_f32(const ck_conv_desc *d, int isa, int threads, const float *w, int64_t w_count,
                                float act_lo, float act_hi, ck_conv_fft **out) {
    if (!out) return CK_ERR_ARGUMENT;
    *out = NULL;
    fft_geom g;
    if (geometry(d, &g) != CK_OK) return CK_ERR_ARGUMENT;
    if (isnan(act_lo) || isnan(act_hi) || act_lo > act_hi) return CK_ERR_ARGUMENT;
    const ck_window *gw = &d->g;
    const int64_t x_count = ck_mul3(d->batch, d->in_channels, gw->in[1] * gw->in[2]);
    const int64_t y_count = ck_mul3(d->batch, d->out_channels, gw->out[1] * gw->out[2]);
    const int64_t w_expect = ck_mul3(d->out_channels, g.C, gw->kernel[1] * gw->kernel[2]);
    if (x_count < 0 || y_count < 0 || w_expect < 0) return CK_ERR_ARGUMENT;
    if (w && w_count != w_expect) return CK_ERR_ARGUMENT;
    const int level = ck_isa_resolve(isa);
    int64_t Th, Tw;
    double cost;
    pick_tile(&g, level, 1, &Th, &Tw, &cost);  // thread-independent: results are bitwise equal for every count
    if (!isfinite(cost)) return CK_ERR_ARGUMENT;
    const int64_t F = Th * Tw;
    const int64_t spec = ck_mul3(d->out_channels, g.C, 2 * F);
    // Spectra beyond 1 GiB: a layer this kernel should not run (the cost model never picks it).
    if (spec < 0 || spec > ((int64_t)1 << 28)) return CK_ERR_ARGUMENT;

    struct ck_conv_fft *p = calloc(1, sizeof *p);
    if (!p) return CK_ERR_NOMEM;
    p->d = *d;
    p->isa = level;
    p->k = ck_fft_kernels_for(level);
    p->clamp = act_lo > -INFINITY || act_hi < INFINITY;
    p->lo = act_lo;
    p->hi = act_hi;
    p->C = g.C;
    p->M = g.M;
    p->H = gw->in[1];
    p->W = gw->in[2];
    p->OH = gw->out[1];
    p->OW = gw->out[2];
    p->sh = gw->stride[1];
    p->sw = gw->stride[2];
    p->dh = gw->dilation[1];
    p->dw = gw->dilation[2];
    p->kh = gw->kernel[1];
    p->kw = gw->kernel[2];
    p->ph = gw->pad[1];
    p->pw = gw->pad[2];
    p->Th = Th;
    p->Tw = Tw;
    p->F = F;
    p->vh = Th - g.eh + 1;
    p->vw = Tw - g.ew + 1;
    p->nth = tiles_for(g.qh, p->vh);
    p->ntw = tiles_for(g.qw, p->vw);
    p->pairs = (p->nth * p->ntw + 1) / 2;
    p->x_count = x_count;
    p->y_count = y_count;
    p->w_count = w_expect;
    p->spec_floats = spec;
    int status = ck_fft_twiddles_init(&p->twh, Th);
    if (status == CK_OK) status = ck_fft_twiddles_init(&p->tww, Tw);
    if (status == CK_OK && w && spec > 0) {
        p->S = aligned_alloc(64, (size_t)spec * 4);
        p->w = malloc((size_t)w_expect * 4);
        status = p->S && p->w ? kernel_spectra(p, w, p->S, threads) : CK_ERR_NOMEM;
        if (p->w) memcpy(p->w, w, (size_t)w_expect * 4);
    }
    if (status != CK_OK) {
        ck_conv_ncx_fft_destroy_f32(p);
        return status;
    }
    *out = p;
    return CK_OK;
}

static int team_of(const struct ck_conv_fft *p, int threads) {
    const int64_t items = ck_work3(p->d.batch, p->d.groups, p->pairs);
    return (int)ck_min(ck_team_for(threads, ck_work3(items, p->F, p->C + p->M)), ck_max(1, items));
}

/// Floats of one thread's buffers: the group's input spectra (C), the accumulator, a tile and scratch (2 each).
static int64_t thread_floats(const struct ck_conv_fft *p) { return 2 * p->F * (p->C + 3); }

int64_t ck_conv_ncx_fft_workspace_f32(const ck_conv_fft *p, int threads, int weights_given) {
    if (!p) return -1;
    int64_t bytes = thread_floats(p) * 4 * team_of(p, threads);
    if (weights_given || !p->S) bytes += p->spec_floats * 4 + 6 * p->F * 4 * ck_team(threads);
    return bytes;
}

int64_t ck_conv_ncx_fft_plan_bytes_f32(const ck_conv_fft *p) {
    if (!p) return -1;
    return (int64_t)sizeof *p + (p->S ? p->spec_floats * 4 + p->w_count * 4 : 0) + 8 * (p->Th + p->Tw);
}

int ck_conv_ncx_fft_isa(const ck_conv_fft *p) { return p ? p->isa : -1; }

void ck_conv_ncx_fft_tile(const ck_conv_fft *p, int64_t *tile_h, int64_t *tile_w) {
    if (tile_h) *tile_h = p ? p->Th : 0;
    if (tile_w) *tile_w = p ? p->Tw : 0;
}

void ck_conv_ncx_fft_destroy_f32(ck_conv_fft *p) {
    if (!p) return;
    ck_fft_twiddles_free(&p->twh);
    ck_fft_twiddles_free(&p->tww);
    free(p->S);
    free(p->w);
    free(p);
}

// ---- run -------------------------------------------------------------------------------------------------------

/// Copies the input window of tile t (zeros outside the image) of plane x into dst [Th][Tw]; a missing tile
/// (t ≥ tiles) is all zeros.
static void load_tile(const struct ck_conv_fft *p, const float *x, int64_t t, float *dst) {
    const int64_t Th = p->Th, Tw = p->Tw;
    if (t >= p->nth * p->ntw) {
        memset(dst, 0, (size_t)(p->F * 4));
        return;
    }
    const int64_t h0 = t / p->ntw * p->vh - p->ph, w0 = t % p->ntw * p->vw - p->pw;
    const int64_t c0 = ck_max(0, -w0), c1 = ck_max(c0, ck_min(Tw, p->W - w0));
    for (int64_t r = 0; r < Th; r++) {
        float *row = dst + r * Tw;
        const int64_t h = h0 + r;
        if (h < 0 || h >= p->H || c1 <= c0) {
            memset(row, 0, (size_t)(Tw * 4));
            continue;
        }
        if (c0) memset(row, 0, (size_t)(c0 * 4));
        memcpy(row + c0, x + h * p->W + w0 + c0, (size_t)((c1 - c0) * 4));
        if (c1 < Tw) memset(row + c1, 0, (size_t)((Tw - c1) * 4));
    }
}

/// Whether every value of the tile is finite: the largest |bits| stays below the exponent-all-ones pattern (an
/// integer max, which vectorises).
CK_HOT static int tile_finite(const float *t, int64_t count) {
    uint32_t top = 0;
    for (int64_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, t + i, 4);
        bits &= 0x7fffffffu;
        top = bits > top ? bits : top;
    }
    return top < 0x7f800000u;
}

/// The output range [o0, o1) of tile t along one axis: outputs o whose stride-1 position o·s lies in
/// [q0, q0 + v).
static void tile_outputs(int64_t q0, int64_t v, int64_t s, int64_t out, int64_t *o0, int64_t *o1) {
    *o0 = (q0 + s - 1) / s;
    *o1 = ck_min(out, (q0 + v + s - 1) / s);
}

/// Tile t of image n, group gi computed by direct sums (IEEE semantics for ±inf and NaN inputs, which a transform
/// would smear over the whole tile): y = clamp(bias + Σ_c Σ_k x·w), w [M, C/G, kh, kw] as given.
static void direct_tile(const struct ck_conv_fft *p, const float *x, const float *w, const float *bias, int64_t n,
                        int64_t gi, int64_t t, float *y) {
    if (t >= p->nth * p->ntw) return;
    int64_t oh0, oh1, ow0, ow1;
    tile_outputs(t / p->ntw * p->vh, p->vh, p->sh, p->OH, &oh0, &oh1);
    tile_outputs(t % p->ntw * p->vw, p->vw, p->sw, p->OW, &ow0, &ow1);
    const int64_t taps = p->kh * p->kw;
    for (int64_t m = 0; m < p->M; m++) {
        const int64_t mo = gi * p->M + m;
        float *plane = y + (n * p->d.out_channels + mo) * p->OH * p->OW;
        for (int64_t oh = oh0; oh < oh1; oh++)
            for (int64_t ow = ow0; ow < ow1; ow++) {
                float acc = bias ? bias[mo] : 0.0f;
                for (int64_t c = 0; c < p->C; c++) {
                    const float *xc = x + (n * p->d.in_channels + gi * p->C + c) * p->H * p->W;
                    const float *wc = w + (mo * p->C + c) * taps;
                    for (int64_t a = 0; a < p->kh; a++) {
                        const int64_t ih = oh * p->sh + a * p->dh - p->ph;
                        if (ih < 0 || ih >= p->H) continue;
                        for (int64_t b = 0; b < p->kw; b++) {
                            const int64_t iw = ow * p->sw + b * p->dw - p->pw;
                            if (iw < 0 || iw >= p->W) continue;
                            acc += xc[ih * p->W + iw] * wc[p->d.flip ? taps - 1 - (a * p->kw + b) : a * p->kw + b];
                        }
                    }
                }
                plane[oh * p->OW + ow] = p->clamp ? (acc < p->lo ? p->lo : acc > p->hi ? p->hi : acc) : acc;
            }
    }
}

/// Writes the valid outputs of tile t from src [Th][Tw] into plane y: every output o whose stride-1 position
/// o·s falls in the tile, plus the bias, clamped.
static void store_tile(const struct ck_conv_fft *p, const float *src, int64_t t, float bias, float *y) {
    if (t >= p->nth * p->ntw) return;
    const int64_t q0h = t / p->ntw * p->vh, q0w = t % p->ntw * p->vw;
    int64_t oh0, oh1, ow0, ow1;
    tile_outputs(q0h, p->vh, p->sh, p->OH, &oh0, &oh1);
    tile_outputs(q0w, p->vw, p->sw, p->OW, &ow0, &ow1);
    for (int64_t oh = oh0; oh < oh1; oh++) {
        const float *row = src + (oh * p->sh - q0h) * p->Tw;
        float *out = y + oh * p->OW;
        if (p->clamp) {
            for (int64_t ow = ow0; ow < ow1; ow++) {
                const float v = row[ow * p->sw - q0w] + bias;
                out[ow] = v < p->lo ? p->lo : v > p->hi ? p->hi : v;  // NaN passes through
            }
        } else {
            for (int64_t ow = ow0; ow < ow1; ow++) out[ow] = row[ow * p->sw - q0w] + bias;
        }
    }
}

int ck_conv_ncx_fft_run_f32(const ck_conv_fft *p, const float *x, int64_t x_count, const float *w, int64_t w_count,
                            const float *bias, float *y, int64_t y_count, int threads) {
    if (!p || x_count != p->x_count || y_count != p->y_count || (x_count && !x) || (y_count && !y))
        return CK_ERR_ARGUMENT;
    if (w ? w_count != p->w_count : !p->S && p->w_count) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;
    const int64_t F = p->F, C = p->C, M = p->M;
    if (C == 0 || p->w_count == 0) {
        // No input channels: every output is the bias (clamped).
        for (int64_t n = 0; n < p->d.batch; n++)
            for (int64_t m = 0; m < p->d.out_channels; m++) {
                const float v0 = bias ? bias[m] : 0.0f;
                const float v = p->clamp ? (v0 < p->lo ? p->lo : v0 > p->hi ? p->hi : v0) : v0;
                float *out = y + (n * p->d.out_channels + m) * p->OH * p->OW;
                for (int64_t i = 0; i < p->OH * p->OW; i++) out[i] = v;
            }
        return CK_OK;
    }
    const int team = team_of(p, threads);
    const int64_t per = thread_floats(p);
    char *spec_ws = NULL;
    const float *S = p->S, *wd = w ? w : p->w;
    if (w) {
        spec_ws = aligned_alloc(64, (size_t)p->spec_floats * 4);
        if (!spec_ws) return CK_ERR_NOMEM;
        const int status = kernel_spectra(p, w, (float *)spec_ws, threads);
        if (status != CK_OK) {
            free(spec_ws);
            return status;
        }
        S = (const float *)spec_ws;
    }
    float *buf = aligned_alloc(64, (size_t)(per * 4) * (size_t)team);
    if (!buf) {
        free(spec_ws);
        return CK_ERR_NOMEM;
    }
    const int64_t plane_in = p->H * p->W, plane_out = p->OH * p->OW;
    const int64_t items = p->d.batch * p->d.groups * p->pairs;
    int64_t counter = 0;
#pragma omp parallel num_threads(team)
    {
        float *X = buf + per * omp_get_thread_num();  // C input spectra, [re, im] each
        float *ar = X + 2 * F * C, *ai = ar + F, *tr = ai + F, *ti = tr + F, *sr = ti + F, *si = sr + F;
        CK_DYNAMIC_FOR(item, items, 1, counter) {
            const int64_t pair = item % p->pairs, ng = item / p->pairs, gi = ng % p->d.groups, n = ng / p->d.groups;
            const int64_t ta = 2 * pair, tb = 2 * pair + 1;
            int finite = 1;
            for (int64_t c = 0; c < C && finite; c++) {
                const float *plane = x + (n * p->d.in_channels + gi * C + c) * plane_in;
                load_tile(p, plane, ta, tr);
                load_tile(p, plane, tb, ti);
                finite = tile_finite(tr, F) && tile_finite(ti, F);
                if (finite) forward2d(p, tr, ti, sr, si, X + 2 * F * c, X + 2 * F * c + F);
            }
            if (!finite) {
                direct_tile(p, x, wd, bias, n, gi, ta, y);
                direct_tile(p, x, wd, bias, n, gi, tb, y);
                continue;
            }
            for (int64_t m = 0; m < M; m++) {
                const float *H = S + (gi * M + m) * C * 2 * F;
                for (int64_t c = 0; c < C; c++)
                    p->k->cmac(F, X + 2 * F * c, X + 2 * F * c + F, H + 2 * F * c, H + 2 * F * c + F, ar, ai, c > 0);
                inverse2d(p, ar, ai, sr, si, tr, ti);
                const int64_t mo = gi * M + m;
                float *plane = y + (n * p->d.out_channels + mo) * plane_out;
                const float b = bias ? bias[mo] : 0.0f;
                store_tile(p, tr, ta, b, plane);
                store_tile(p, ti, tb, b, plane);
            }
        }
    }
    free(buf);
    free(spec_ws);
    return CK_OK;
}
