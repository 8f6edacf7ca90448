// Implicit GEMM. Per (image n, group g) the output [Mg, P] is W_g [Mg, K] · B [K, P] with K = Cg·Πkernel, but B
// is never materialised. The input of (n, g) is copied once into zero-padded stride-phase planes (phase
// (a, b, c) holds padded input rows a, a+s, … along each axis, only the phases some tap uses), whose extents
// (Dq, Hq, Wq) make output (od, oh, ow) the flat position p = (od·Hq + oh)·Wq + ow, and tap (kd, kh, kw) of
// channel c the element p + off[c, kd, kh, kw]. Every K-row of B is therefore a unit-stride vector of the planes,
// and a microkernel tile of NR consecutive p reads its rows straight from them (gemm/gemm_internal.h). Positions
// with ow ≥ OW (or oh ≥ OH) are junk columns, computed and dropped: the microkernel stores a tile as the output row
// segments it covers (masked stores), straight into y.
// A 1×1 kernel with unit stride and no padding needs no planes: B is the input itself (one row of P positions).
//
// Memory stays bounded: when the planes of a whole (n, g) exceed BAND_FLOATS, the output is cut into bands
// (boxes of output rows, or of columns for very long rows) and each band gets planes of its own input rows; all
// bands share one geometry and offset table. Units (n, g, band) are processed in stages of several units that fit
// STAGE_FLOATS: the team builds a stage's planes (split by plane slices), then claims its GEMM items, (unit, strip
// group, M-block), from an atomic counter. Strip groups are sized so that their B stays in L2 while consecutive items
// walk the M-blocks; the item split depends only on the problem and the cache sizes, and every output element is
// one microkernel's sum in k order, so results are bitwise identical for every thread count.
//
// Weights are packed once into [K][mr] panels per (group, M-block); M-blocks split Mg evenly into blocks of at
// most mr_max rows (64 rows with mr_max 12: 11, 11, 11, 11, 10, 10), so every block runs a full-width tile.
//
// Transposed orientation (tmode): for few output positions, junk columns and strip rounding can waste a large share of
// the FMAs (a 7×7 output: 49 valid of 64 computed columns). When the whole output is one band and the cost model in
// prepare says so, Yᵀ [P, Mg] = Bᵀ [P, K] · Wᵀ [K, Mg] runs instead (gemm_internal.h, "transposed orientation"):
// tiles of up to 6 valid positions (poff: plane offset of each) × one weight panel of up to 64 (AVX-512) / 16 (AVX2)
// channels, packed K-major at prepare time; items (image·group, position group, panel), K walked in chunks whose
// panel slice stays in L2. Each output is still bias + Σ_k in k order, one FMA per term: the same bits as the strip
// orientation, for every thread count.
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "conv_internal.h"
#include "../gemm/gemm_internal.h"

enum {
    BAND_FLOATS = 512 << 10,   // planes of one unit (2 MiB)
    STAGE_FLOATS = 512 << 10,  // planes of one stage: what a run allocates besides packed weights
    MIN_ITEMS = 24,            // GEMM items per unit, where it has strips enough
    MIN_TITEMS = 8,            // transposed orientation: items per unit, where it has tiles enough
    TG_MAX = 24,               // transposed orientation: position tiles per item at most
    TCOST_NUM = 20,            // transposed orientation when its FMAs · NUM < the other's · DEN (measured break-even ~0.94)
    TCOST_DEN = 19,
};

struct ck_conv_gemm {
    ck_conv_desc d;
    const ck_gemm_ukernels *uk;
    float lo, hi;
    int64_t Cg, Mg, K, KK, P;
    int copy;                  // 0: B is the input itself (1×1, unit stride, no padding)
    // Phase planes (copy = 1): nr[a] phases along axis a, nph = their product per channel.
    int64_t nr[3], nph;
    int64_t *res[3];           // per axis: the residue (k·dilation mod stride) of each stored phase
    int64_t band[3], nband[3]; // output extent of a band, bands per axis
    int64_t Q[3], vol;         // plane extents of a band (band + kernel reach), Q0·Q1·Q2
    int64_t unit_floats;       // planes of one unit, Cg·nph·vol
    int64_t unit_stride;       // unit_floats rounded up to whole cache lines
    int64_t units, ups, stages;
    // GEMM items.
    int64_t nstrips, sg, nsg, nmb, ipu;
    int32_t *off;              // K entries
    // Transposed orientation (tmode = 1, see the header comment): panels of up to W channels, tiles of positions.
    const ck_gemmt_ukernels *tk;
    int tmode;
    int64_t W, Mpad, npanels;  // panel width (vl·nv_max), Mg rounded up to vl, panels per group
    int64_t ntiles, tg, npg;   // position tiles per unit, tiles per group, groups
    int64_t kc, nkc;           // K chunk (its panel slice stays in L2) and chunks
    int32_t *poff;             // P entries: plane offset of each valid output position
    int64_t pack_floats;       // packed weights: M·K (tmode 0) or G·Mpad·K
    float *packed;             // pack_floats floats or NULL
    int64_t bytes;             // what the plan holds
};

/// Rows and first row of M-block b when Mg rows are split evenly into nmb blocks.
static inline void mblock(const ck_conv_gemm *p, int64_t b, int64_t *m0, int64_t *mr) {
    const int64_t q = p->Mg / p->nmb, r = p->Mg % p->nmb;
    *m0 = b * q + ck_min(b, r);
    *mr = q + (b < r);
}

/// Packs the weights of panels [first, last) (panel = group·nmb + M-block) into dst: panel rows k-major,
/// mr floats per k, each kernel reversed in flip mode (reversing the flat (kd, kh, kw) index flips every axis).
static void pack_panels(const ck_conv_gemm *p, const float *w, float *dst, int64_t first, int64_t last) {
    const int64_t K = p->K, KK = p->KK;
    for (int64_t pi = first; pi < last; pi++) {
        const int64_t g = pi / p->nmb;
        int64_t m0, mr;
        mblock(p, pi % p->nmb, &m0, &mr);
        const float *src = w + (g * p->Mg + m0) * K;
        float *panel = dst + (g * p->Mg + m0) * K;
        for (int64_t i = 0; i < mr; i++)
            for (int64_t k = 0; k < K; k++) {
                const int64_t ks = p->d.flip ? k - k % KK + (KK - 1 - k % KK) : k;
                panel[k * mr + i] = src[i * K + ks];
            }
    }
}

/// Transposed orientation: packs the channel panels [first, last) (panel = group·npanels + index) K-major with
/// lda = its width floats per k, zero rows for the padding channels.
static void pack_tpanels(const ck_conv_gemm *p, const float *w, float *dst, int64_t first, int64_t last) {
    const int64_t K = p->K, KK = p->KK, vl = p->tk->vl;
    for (int64_t pi = first; pi < last; pi++) {
        const int64_t g = pi / p->npanels, c0 = pi % p->npanels * p->W;
        const int64_t nch = ck_min(p->W, p->Mg - c0), wd = ck_min(p->W, (nch + vl - 1) / vl * vl);
        const float *src = w + (g * p->Mg + c0) * K;
        float *panel = dst + (g * p->Mpad + c0) * K;
        for (int64_t k = 0; k < K; k++) {
            const int64_t ks = p->d.flip ? k - k % KK + (KK - 1 - k % KK) : k;
            for (int64_t i = 0; i < wd; i++) panel[k * wd + i] = i < nch ? src[i * K + ks] : 0.0f;
        }
    }
}

static void pack_any(const ck_conv_gemm *p, const float *w, float *dst, int64_t pi) {
    if (p->tmode)
        pack_tpanels(p, w, dst, pi, pi + 1);
    else
        pack_panels(p, w, dst, pi, pi + 1);
}

/// Picks the band extents: the whole output if its planes fit BAND_FLOATS; else whole rows and planes but as many
/// depth slices as fit; else one slice and as many rows; else one row and as many columns; evened out over the
/// bands. Returns 0 when not even one output column's planes fit.
static int choose_bands(ck_conv_gemm *p, const int64_t ext[3]) {
    const ck_window *g = &p->d.g;
    const int64_t per = ck_mul(p->Cg, p->nph);  // planes per unit
    int64_t b[3] = {g->out[0], g->out[1], g->out[2]};
    for (int a = 0; a < 3; a++) {
        int64_t rest = per;  // floats per unit of extent along a
        for (int o = 0; o < 3; o++)
            if (o != a) rest = ck_mul(rest, b[o] + ext[o]);
        const int64_t all = ck_mul(rest, b[a] + ext[a]);
        if (all >= 0 && all <= BAND_FLOATS) break;
        const int64_t fit = rest > 0 ? BAND_FLOATS / rest - ext[a] : 0;
        b[a] = ck_max(1, ck_min(b[a], fit));
        if (fit >= 1) break;
    }
    int64_t vol = 1;
    for (int a = 0; a < 3; a++) {
        const int64_t out = g->out[a];
        p->nband[a] = out ? (out + b[a] - 1) / b[a] : 1;
        p->band[a] = out ? (out + p->nband[a] - 1) / p->nband[a] : 0;
        p->Q[a] = p->band[a] + ext[a];
        vol = ck_mul(vol, p->Q[a]);
    }
    p->vol = vol;
    p->unit_floats = ck_mul(per, vol);
    return vol >= 0 && p->unit_floats >= 0 && p->unit_floats <= BAND_FLOATS;
}

void ck_conv_ncx_implicit_gemm_destroy_f32(ck_conv_gemm *p) {
    if (!p) return;
    for (int a = 0; a < 3; a++) free(p->res[a]);
    free(p->off);
    free(p->poff);
    free(p->packed);
    free(p);
}

int ck_conv_ncx_implicit_gemm_prepare_f32(const ck_conv_desc *d, int isa, int threads, const float *w, int64_t w_count,
                                          float act_lo, float act_hi, ck_conv_gemm **out) {
    if (!out) return CK_ERR_ARGUMENT;
    *out = NULL;
    if (!d) return CK_ERR_ARGUMENT;
    const ck_window *g = &d->g;
    if (ck_window_check(g) != CK_OK || d->batch < 0 || d->in_channels < 0 || d->out_channels < 0 || d->groups < 1 ||
        d->in_channels % d->groups || d->out_channels % d->groups || isnan(act_lo) || isnan(act_hi) ||
        act_lo > act_hi)
        return CK_ERR_ARGUMENT;
    const int64_t G = d->groups, Cg = d->in_channels / G, Mg = d->out_channels / G, KK = ck_prod3(g->kernel);
    const int64_t K = ck_mul(Cg, KK), P = ck_prod3(g->out), MK = ck_mul(d->out_channels, K);
    // K rows beyond 2^28 (a 1 GiB row table, weights of at least as much per output channel): beyond what it takes.
    if (K < 0 || MK < 0 || K > (INT_MAX >> 3)) return CK_ERR_ARGUMENT;
    if (w && w_count != MK) return CK_ERR_ARGUMENT;

    ck_conv_gemm *p = calloc(1, sizeof *p);
    if (!p) return CK_ERR_NOMEM;
    p->d = *d;
    p->lo = act_lo;
    p->hi = act_hi;
    p->Cg = Cg, p->Mg = Mg, p->K = K, p->KK = KK, p->P = P;
    isa = ck_isa_resolve(isa);
    p->uk = ck_gemm_ukernels_portable_f32();
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) p->uk = ck_gemm_ukernels_avx512_f32();
    else if (isa >= CK_ISA_AVX2) p->uk = ck_gemm_ukernels_avx2_f32();
#endif
    const int64_t NR = p->uk->nr;
    int status = CK_ERR_ARGUMENT;

    // B straight from the input when it already is the (single) phase plane and its offsets fit 32 bits.
    int plain = 1;
    for (int a = 0; a < 3; a++)
        plain &= g->kernel[a] == 1 && g->stride[a] == 1 && g->pad[a] == 0 && g->out[a] == g->in[a];
    p->copy = !(plain && ck_mul(Cg, P) >= 0 && ck_mul(Cg, P) <= INT32_MAX - NR);
    int64_t ext[3] = {0, 0, 0}, period[3] = {1, 1, 1};
    if (p->copy) {
        p->nph = 1;
        for (int a = 0; a < 3; a++) {
            const int64_t k = g->kernel[a], s = g->stride[a], dl = g->dilation[a];
            ext[a] = (k - 1) * dl / s;
            // t·dl mod s takes distinct values for t below s / gcd(dl, s) and then repeats: the phases in order of
            // first use are those of the first min(k, period) taps (a hostile kernel costs no pass over its taps).
            int64_t u = dl, v = s;
            while (v) { const int64_t t = u % v; u = v; v = t; }
            period[a] = s / u;
            const int64_t n = ck_min(k, period[a]);
            if (n > BAND_FLOATS) goto fail;  // more phases than one unit's planes can hold
            p->res[a] = malloc(sizeof(int64_t) * (size_t)n);
            if (!p->res[a]) goto nomem;
            for (int64_t t = 0; t < n; t++) p->res[a][t] = t * dl % s;
            p->nr[a] = n;
            p->nph *= p->nr[a];
        }
        if (!choose_bands(p, ext)) goto fail;
    } else {
        p->nph = 1;
        p->nband[0] = p->nband[1] = p->nband[2] = 1;
        p->band[0] = p->band[1] = 1, p->band[2] = P;
        p->Q[0] = p->Q[1] = 1, p->Q[2] = P;
        p->vol = P;
        p->unit_floats = Cg * P;
    }
    p->unit_stride = (p->unit_floats + 15) / 16 * 16;
    p->units = ck_mul(ck_mul(d->batch, G), ck_prod3(p->nband));
    if (p->units < 0) goto fail;
    p->ups = p->copy ? ck_max(1, ck_min(p->units, STAGE_FLOATS / ck_max(1, p->unit_stride))) : ck_max(1, p->units);
    p->stages = (p->units + p->ups - 1) / p->ups;

    // Offsets of the K rows, relative to the tile's first position.
    p->off = malloc(sizeof(int32_t) * (size_t)ck_max(1, K));
    if (!p->off) goto nomem;
    for (int64_t k = 0; k < K; k++) {
        const int64_t c = k / KK, t = k % KK;
        if (!p->copy) {
            p->off[k] = (int32_t)(c * P);
            continue;
        }
        const int64_t tk[3] = {t / (g->kernel[1] * g->kernel[2]), t / g->kernel[2] % g->kernel[1], t % g->kernel[2]};
        int64_t phase = 0, shift = 0;
        for (int a = 0; a < 3; a++) {
            const int64_t s = g->stride[a], i = tk[a] % period[a];  // res[a][i] = tk·dl mod s
            phase = phase * p->nr[a] + i;
            shift = shift * p->Q[a] + tk[a] * g->dilation[a] / s;
        }
        p->off[k] = (int32_t)((c * p->nph + phase) * p->vol + shift);
    }

    // Strips of NR flat positions up to the last valid one of a band, in groups whose planes fill at most a quarter
    // of L2, so that B stays there while consecutive items walk the M-blocks over one group; and at least
    // MIN_ITEMS items per unit where there are strips enough, so that the team's shares stay even.
    {
        const int64_t last = ((p->band[0] - 1) * p->Q[1] + p->band[1] - 1) * p->Q[2] + p->band[2];
        p->nstrips = P ? (last + NR - 1) / NR : 0;
        p->nmb = Mg ? (Mg + p->uk->mr_max - 1) / p->uk->mr_max : 0;
        int64_t l1, l2;
        ck_cache_sizes(&l1, &l2);
        const int64_t per_strip = ck_max(1, 4 * p->unit_floats / ck_max(1, p->nstrips));
        p->nsg = ck_max((p->nstrips + l2 / 4 / per_strip - 1) / ck_max(1, l2 / 4 / per_strip),
                        (MIN_ITEMS + p->nmb - 1) / ck_max(1, p->nmb));
        p->nsg = ck_min(p->nsg, p->nstrips);
        p->sg = p->nsg ? (p->nstrips + p->nsg - 1) / p->nsg : 1;
        p->nsg = p->nsg ? (p->nstrips + p->sg - 1) / p->sg : 0;
        p->ipu = p->nsg * p->nmb;
    }

    // The transposed orientation, for few positions and many channels: when the whole output is one band, every
    // valid position is listed (no junk columns) and channels are padded only to whole vectors. Cost model: FMAs
    // issued by each orientation, the transposed one charged TCOST_NUM / TCOST_DEN for its extra broadcast loads
    // and scatters.
    p->pack_floats = MK;
#if defined(__x86_64__)
    if (p->uk->isa >= CK_ISA_AVX512) p->tk = ck_gemmt_ukernels_avx512_f32();
    else if (p->uk->isa >= CK_ISA_AVX2) p->tk = ck_gemmt_ukernels_avx2_f32();
#endif
    if (p->tk && P > 0 && Mg > 0 && ck_prod3(p->nband) == 1) {
        const int64_t vl = p->tk->vl, W = vl * p->tk->nv_max, Mpad = (Mg + vl - 1) / vl * vl;
        const int64_t old_cols = p->nstrips * NR, new_work = ck_mul(Mpad, P), old_work = ck_mul(Mg, old_cols);
        if (Mg >= W && new_work > 0 && old_work > 0 && ck_mul(Mpad, P) <= INT32_MAX &&
            ck_mul(new_work, TCOST_NUM) < ck_mul(old_work, TCOST_DEN) && ck_mul3(G, Mpad, K) >= 0) {
            p->tmode = 1;
            p->W = W, p->Mpad = Mpad, p->npanels = (Mg + W - 1) / W;
            const int64_t np = p->tk->np_max;
            p->ntiles = (P + np - 1) / np;
            // Position groups: at most TG_MAX tiles (their partial sums live on the stack), and enough groups for
            // MIN_TITEMS items per (image, group) where there are tiles enough.
            p->npg = ck_max((p->ntiles + TG_MAX - 1) / TG_MAX, (MIN_TITEMS + p->npanels * G - 1) / (p->npanels * G));
            p->npg = ck_min(p->npg, p->ntiles);
            p->tg = (p->ntiles + p->npg - 1) / p->npg;
            p->npg = (p->ntiles + p->tg - 1) / p->tg;
            p->ipu = p->npg * p->npanels;
            int64_t l1, l2;
            ck_cache_sizes(&l1, &l2);
            const int64_t kmax = ck_max(16, l2 / 4 / (4 * W));
            p->nkc = ck_max(1, (K + kmax - 1) / kmax);  // K = 0 (no input channel): one empty chunk, no 0 / 0
            p->kc = (K + p->nkc - 1) / p->nkc;
            p->pack_floats = ck_mul3(G, Mpad, K);
            p->poff = malloc(sizeof(int32_t) * (size_t)P);
            if (!p->poff) goto nomem;
            for (int64_t j = 0; j < P; j++) {
                if (!p->copy) {
                    p->poff[j] = (int32_t)j;
                    continue;
                }
                const int64_t ow = j % g->out[2], oh = j / g->out[2] % g->out[1], od = j / (g->out[2] * g->out[1]);
                p->poff[j] = (int32_t)((od * p->Q[1] + oh) * p->Q[2] + ow);
            }
        }
    }

    p->bytes = (int64_t)sizeof *p + 4 * ck_max(1, K) + (p->tmode ? 4 * P : 0);
    for (int a = 0; a < 3; a++) p->bytes += 8 * p->nr[a];
    if (w && MK) {
        p->packed = malloc(sizeof(float) * (size_t)p->pack_floats);
        if (!p->packed) goto nomem;
        p->bytes += 4 * p->pack_floats;
        const int64_t panels = G * (p->tmode ? p->npanels : p->nmb);
#pragma omp parallel for num_threads(ck_team_for(threads, MK)) schedule(static)
        for (int64_t pi = 0; pi < panels; pi++) pack_any(p, w, p->packed, pi);
    }
    *out = p;
    return CK_OK;
nomem:
    status = CK_ERR_NOMEM;
fail:
    ck_conv_ncx_implicit_gemm_destroy_f32(p);
    return status;
}

int ck_conv_ncx_implicit_gemm_isa(const ck_conv_gemm *p) { return p ? p->uk->isa : -1; }

int64_t ck_conv_ncx_implicit_gemm_plan_bytes_f32(const ck_conv_gemm *p) { return p ? p->bytes : -1; }

/// Floats of the stage planes, with NR floats of zeroed slack for the last tile's reads.
static int64_t stage_floats(const ck_conv_gemm *p) { return p->copy ? p->ups * p->unit_stride + p->uk->nr : 0; }

static int run_team(const ck_conv_gemm *p, int threads) {
    const ck_conv_desc *d = &p->d;
    const int64_t work = ck_work3(d->batch * d->out_channels, p->P, ck_max(1, p->K));
    return ck_team_for(threads, work);
}

int64_t ck_conv_ncx_implicit_gemm_workspace_f32(const ck_conv_gemm *p, int threads, int weights_given) {
    if (!p) return -1;
    const int64_t y = ck_mul3(p->d.batch, p->d.out_channels, p->P);
    if (y == 0 || p->K == 0) return 0;
    const int64_t packing = weights_given || !p->packed ? 4 * p->pack_floats : 0;
    (void)threads;  // the team shares one stage buffer, and tiles are stored straight into y
    const int64_t bytes = packing + 4 * stage_floats(p);
    return bytes ? bytes + 64 : 0;
}

/// Fills slice r of the stage buffer: the Q1 rows of (unit ui of the stage, channel c, phase ph, depth ud).
static void build_slice(const ck_conv_gemm *p, const float *x, int64_t u0, int64_t r, float *stage) {
    const ck_window *g = &p->d.g;
    const int64_t Q0 = p->Q[0], Q1 = p->Q[1], Q2 = p->Q[2];
    const int64_t ud = r % Q0, ph = r / Q0 % p->nph, c = r / (Q0 * p->nph) % p->Cg, ui = r / (Q0 * p->nph * p->Cg);
    const int64_t u = u0 + ui, nbw = p->nband[2], nbh = p->nband[1], nbd = p->nband[0];
    const int64_t bw = u % nbw, bh = u / nbw % nbh, bd = u / (nbw * nbh) % nbd, ng = u / (nbw * nbh * nbd);
    const int64_t n = ng / p->d.groups, gi = ng % p->d.groups;
    const int64_t pw = ph % p->nr[2], phh = ph / p->nr[2] % p->nr[1], pd = ph / (p->nr[2] * p->nr[1]);
    const int64_t IH = g->in[1], IW = g->in[2], sh = g->stride[1], sw = g->stride[2];
    float *dst = stage + ui * p->unit_stride + (c * p->nph + ph) * p->vol + ud * Q1 * Q2;
    const int64_t id = (bd * p->band[0] + ud) * g->stride[0] + p->res[0][pd] - g->pad[0];
    const int64_t ih0 = bh * p->band[1] * sh + p->res[1][phh] - g->pad[1];
    const int64_t j0 = bw * p->band[2] * sw + p->res[2][pw] - g->pad[2];
    int64_t lo, hi;  // plane columns whose input column j0 + u·sw lies inside the row
    ck_valid_range(Q2, IW, sw, j0, &lo, &hi);
    if (id < 0 || id >= g->in[0]) lo = hi = 0;
    const float *xc = x + ((n * p->d.in_channels + gi * p->Cg + c) * g->in[0] + ck_max(0, id)) * IH * IW;
    for (int64_t uh = 0; uh < Q1; uh++, dst += Q2) {
        const int64_t ih = ih0 + uh * sh;
        if (ih < 0 || ih >= IH || lo >= hi) {
            memset(dst, 0, sizeof(float) * (size_t)Q2);
            continue;
        }
        const float *src = xc + ih * IW + (j0 + lo * sw);
        float *row = dst + lo;
        memset(dst, 0, sizeof(float) * (size_t)lo);
        if (sw == 1)
            memcpy(row, src, sizeof(float) * (size_t)(hi - lo));
        else if (sw == 2)  // a constant stride vectorises (shuffles) where a variable one would not
            for (int64_t i = 0; i < hi - lo; i++) row[i] = src[2 * i];
        else
            for (int64_t i = 0; i < hi - lo; i++) row[i] = src[i * sw];
        memset(dst + hi, 0, sizeof(float) * (size_t)(Q2 - hi));
    }
}

/// One GEMM item: M-block mb of strip group sgi of unit u (stage-relative ui), every strip of the group.
static void run_item(const ck_conv_gemm *p, const float *x, const float *wp, const float *bias, float *y,
                     const float *stage, int64_t u, int64_t ui, int64_t sgi, int64_t mb) {
    const ck_conv_desc *d = &p->d;
    const ck_window *g = &d->g;
    const int64_t NR = p->uk->nr, K = p->K, Q1 = p->Q[1], Q2 = p->Q[2], OH = g->out[1], OW = g->out[2];
    const int64_t nbw = p->nband[2], nbh = p->nband[1], nbd = p->nband[0];
    const int64_t bw = u % nbw, bh = u / nbw % nbh, bd = u / (nbw * nbh) % nbd, ng = u / (nbw * nbh * nbd);
    const int64_t n = ng / d->groups, gi = ng % d->groups;
    // The band's output box: origin o and valid extents e (the last band along an axis may be shorter).
    const int64_t o[3] = {bd * p->band[0], bh * p->band[1], bw * p->band[2]};
    int64_t e[3];
    for (int a = 0; a < 3; a++) e[a] = ck_min(p->band[a], g->out[a] - o[a]);
    if (!p->copy) e[2] = p->P, e[0] = e[1] = 1;  // one flat row of P positions
    const int64_t last = ((e[0] - 1) * Q1 + e[1] - 1) * Q2 + e[2];  // one past the last valid flat position
    int64_t m0, mr;
    mblock(p, mb, &m0, &mr);
    const float *panel = wp + (gi * p->Mg + m0) * K;
    const float *bb = bias ? bias + gi * p->Mg + m0 : NULL;
    float *yb = y + (n * d->out_channels + gi * p->Mg + m0) * p->P;
    const float *base = p->copy ? stage + ui * p->unit_stride : x + (n * d->in_channels + gi * p->Cg) * p->P;
    const ck_gemm_ukernel_f32 fn = p->uk->fn[mr];
    ck_gemm_epilogue ep;
    ep.lo = p->lo, ep.hi = p->hi, ep.nload = NR, ep.ldc = p->P;
    const int64_t s1 = ck_min(p->nstrips, (sgi + 1) * p->sg);
    for (int64_t s = sgi * p->sg; s < s1; s++) {
        const int64_t p0 = s * NR;
        if (p0 >= last) break;
        if (!p->copy) ep.nload = ck_min(NR, p->P - p0);
        // The tile's output row segments, from the band-local coordinates of p0 on.
        int64_t pw = p0 % Q2, ph = p0 / Q2 % Q1, pd = p0 / (Q1 * Q2);
        ep.nseg = 0;
        for (int64_t j = 0; j < NR;) {
            const int64_t run = ck_min(NR - j, Q2 - pw);
            const int64_t valid = ph < e[1] && pd < e[0] ? ck_max(0, ck_min(run, e[2] - pw)) : 0;
            if (valid) {
                ck_gemm_segment *sg = &ep.seg[ep.nseg++];
                sg->j0 = j, sg->j1 = j + valid;
                sg->dst = yb + ((o[0] + pd) * OH + o[1] + ph) * OW + o[2] + pw;
            }
            j += run;
            pw = 0;
            if (++ph == Q1) ph = 0, pd++;
        }
        fn(K, panel, base + p0, p->off, bb, &ep);
    }
}

/// A transposed-orientation item: channel panel pn of position group pgi of unit u (stage-relative ui), K in
/// chunks whose panel slice stays in L2 while the group's tiles walk it.
static void run_titem(const ck_conv_gemm *p, const float *x, const float *wp, const float *bias, float *y,
                      const float *stage, int64_t u, int64_t ui, int64_t pgi, int64_t pn) {
    const ck_conv_desc *d = &p->d;
    const int64_t K = p->K, P = p->P, vl = p->tk->vl, np_max = p->tk->np_max;
    const int64_t n = u / d->groups, gi = u % d->groups;  // one band per (n, g)
    const int64_t c0 = pn * p->W, nch = ck_min(p->W, p->Mg - c0), nv = (nch + vl - 1) / vl, wd = nv * vl;
    const float *panel = wp + (gi * p->Mpad + c0) * K;
    const float *base = p->copy ? stage + ui * p->unit_stride : x + (n * d->in_channels + gi * p->Cg) * P;
    ck_gemmt_store st;
    st.bias = bias ? bias + gi * p->Mg + c0 : NULL;
    st.lo = p->lo, st.hi = p->hi, st.ldc = P, st.nch = nch;
    float *yb = y + (n * d->out_channels + gi * p->Mg + c0) * P;
    const int64_t q = P / p->ntiles, r = P % p->ntiles;
    const int64_t t0 = pgi * p->tg, t1 = ck_min(p->ntiles, t0 + p->tg);
    float buf[TG_MAX * CK_GEMMT_NP_LIMIT * 64];  // partial sums of the group (36 KiB), used when K has several chunks
    for (int64_t kc0 = 0; kc0 < K; kc0 += p->kc) {
        const int64_t kn = ck_min(p->kc, K - kc0);
        const int mode = (kc0 ? CK_GEMMT_LOAD : 0) | (kc0 + kn == K ? CK_GEMMT_FINAL : 0);
        for (int64_t t = t0; t < t1; t++) {
            const int64_t j0 = t * q + ck_min(t, r), np = q + (t < r);
            st.y = yb + j0;
            p->tk->fn[nv][np](kn, panel + kc0 * wd, base, p->off + kc0, p->poff + j0,
                              buf + (t - t0) * np_max * 64, mode, &st);
        }
    }
}

int ck_conv_ncx_implicit_gemm_run_f32(const ck_conv_gemm *p, const float *x, int64_t x_count, const float *w,
                                      int64_t w_count, const float *bias, float *y, int64_t y_count, int threads) {
    if (!p) return CK_ERR_ARGUMENT;
    const ck_conv_desc *d = &p->d;
    const int64_t MK = d->out_channels * p->K;
    if (!w && !p->packed && MK) return CK_ERR_ARGUMENT;
    int status = ck_conv_check(d, x, x_count, w ? w : p->packed, w ? w_count : MK, y, y_count, 0);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    if (p->K == 0) {  // no terms: the output is the (clamped) bias
        ck_fill_bias(y, d->batch, d->out_channels, p->P, bias, threads);
        if (p->lo != -INFINITY || p->hi != INFINITY)
            for (int64_t i = 0; i < y_count; i++) y[i] = fminf(p->hi, fmaxf(p->lo, y[i]));
        return CK_OK;
    }
    const int team = run_team(p, threads);
    const int64_t NR = p->uk->nr, sf = stage_floats(p), pack = w ? p->pack_floats : 0;
    float *ws = pack + sf ? malloc(sizeof(float) * (size_t)(pack + sf) + 64) : NULL;
    if (pack + sf && !ws) return CK_ERR_NOMEM;
    float *stage = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63), *packed = stage + sf;
    const float *wp = w ? packed : p->packed;
    if (p->copy) {  // zero what the builder never writes: the gaps between units and the slack after the last
        for (int64_t ui = 0; ui < p->ups; ui++)
            memset(stage + ui * p->unit_stride + p->unit_floats, 0,
                   sizeof(float) * (size_t)(p->unit_stride - p->unit_floats));
        memset(stage + p->ups * p->unit_stride, 0, sizeof(float) * (size_t)NR);
    }
    int64_t next[2] = {0, 0};
    const int64_t panels = d->groups * (p->tmode ? p->npanels : p->nmb), slices_per_unit = p->Cg * p->nph * p->Q[0];
#pragma omp parallel num_threads(team)
    {
        const int tid = omp_get_thread_num();
        if (w) {
#pragma omp for schedule(static)
            for (int64_t pi = 0; pi < panels; pi++) pack_any(p, w, packed, pi);
        }
        for (int64_t s = 0; s < p->stages; s++) {
            const int64_t u0 = s * p->ups, nu = ck_min(p->units, u0 + p->ups) - u0;
            if (p->copy) {
                if (tid == 0) __atomic_store_n(&next[(s + 1) & 1], 0, __ATOMIC_RELAXED);
#pragma omp for schedule(static)
                for (int64_t r = 0; r < nu * slices_per_unit; r++) build_slice(p, x, u0, r, stage);
            }
            if (p->tmode) {
                CK_DYNAMIC_FOR(it, nu * p->ipu, 1, next[s & 1]) {
                    const int64_t ui = it / p->ipu, pgi = it % p->ipu / p->npanels, pn = it % p->npanels;
                    run_titem(p, x, wp, bias, y, stage, u0 + ui, ui, pgi, pn);
                }
            } else {
                CK_DYNAMIC_FOR(it, nu * p->ipu, 1, next[s & 1]) {
                    const int64_t ui = it / p->ipu, sgi = it % p->ipu / p->nmb, mb = it % p->nmb;
                    run_item(p, x, wp, bias, y, stage, u0 + ui, ui, sgi, mb);
                }
            }
            if (p->copy) {
#pragma omp barrier
            }
        }
    }
    free(ws);
    return CK_OK;
}
