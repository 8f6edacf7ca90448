// Stride-phase planes: the front end of the whole-plane kernels (direct conv, max pooling) for 1-D and 2-D inputs.
//
// An input plane is copied once into padded phase planes: phase (a, b) holds padded rows a, a+sh, … and columns
// b, b+sw, … (only the phases some tap uses). Tap (kh, kw) of output (r, c) is then element r·Wq + c + off[tap] of
// the planes, so every tap is one long unit-stride pass over the flattened output, r·Wq + c (the Wq − OW columns
// past the end of each output row are junk and dropped).
#ifndef CK_PLANES_H
#define CK_PLANES_H
#include <stdlib.h>
#include "ck_internal.h"

/// Geometry of the plane path.
typedef struct {
    int64_t Hq, Wq, n;          // phase plane extents; n = OH·Wq flattened outputs
    int64_t nrh, nrw;           // row / column phases stored
    int64_t rh[64], rw[64];     // the phases (at most min(stride, kernel) each)
    int64_t mb;                 // output channels per item
    int64_t *off;               // per tap (kh, kw): offset into the phase planes (filled by ck_plane_offsets)
} ck_plane_plan;

/// Plans the phase planes of `g` (1-D/2-D only) within `budget` floats of buffers per thread, with up to
/// `channels_per_item` (at most 16) flattened outputs of n floats; returns 0 when that does not fit.
static inline int ck_plane_plan_init(ck_plane_plan *pp, const ck_window *g, int64_t channels_per_item,
                                     int64_t budget) {
    // A 2-D problem: one depth slice, read at depth 0 (a depth pad would move the only tap outside the input).
    if (g->in[0] != 1 || g->out[0] != 1 || g->kernel[0] != 1 || g->pad[0] != 0) return 0;
    const int64_t OH = g->out[1], OW = g->out[2], KH = g->kernel[1], KW = g->kernel[2];
    const int64_t sh = g->stride[1], sw = g->stride[2], dh = g->dilation[1], dw = g->dilation[2];
    if (KH > 64 || KW > 64) return 0;
    pp->Hq = OH + (KH - 1) * dh / sh + 1;
    pp->Wq = OW + (KW - 1) * dw / sw + 1;
    pp->n = OH * pp->Wq;
    pp->nrh = pp->nrw = 0;
    for (int64_t kh = 0; kh < KH; kh++) {
        const int64_t r = kh * dh % sh;
        int64_t k = 0;
        while (k < pp->nrh && pp->rh[k] != r) k++;
        if (k == pp->nrh) pp->rh[pp->nrh++] = r;
    }
    for (int64_t kw = 0; kw < KW; kw++) {
        const int64_t r = kw * dw % sw;
        int64_t k = 0;
        while (k < pp->nrw && pp->rw[k] != r) k++;
        if (k == pp->nrw) pp->rw[pp->nrw++] = r;
    }
    const int64_t planes = ck_mul3(pp->nrh * pp->nrw, pp->Hq, pp->Wq);
    if (planes < 0 || planes > budget / 2 || pp->n > budget - planes) return 0;
    pp->mb = ck_max(1, ck_min(ck_min(channels_per_item, 16), (budget - planes) / ck_max(1, pp->n)));
    pp->off = NULL;
    return 1;
}

/// Builds the phase planes of one input plane, `pad` outside the input.
CK_INLINE void ck_build_planes(const ck_window *g, const ck_plane_plan *pp, const float *xc, float pad, float *ph) {
    const int64_t IH = g->in[1], IW = g->in[2], sh = g->stride[1], sw = g->stride[2];
    const int64_t Hq = pp->Hq, Wq = pp->Wq;
    for (int64_t a = 0; a < pp->nrh; a++)
        for (int64_t b = 0; b < pp->nrw; b++) {
            float *dst = ph + (a * pp->nrw + b) * Hq * Wq;
            int64_t clo, chi;  // phase columns u with input column u·sw + rw − pw inside the row
            ck_valid_range(Wq, IW, sw, pp->rw[b] - g->pad[2], &clo, &chi);
            for (int64_t u = 0; u < Hq; u++) {
                float *row = dst + u * Wq;
                const int64_t ih = u * sh + pp->rh[a] - g->pad[1];
                if (ih < 0 || ih >= IH || clo >= chi) {
                    for (int64_t c = 0; c < Wq; c++) row[c] = pad;
                    continue;
                }
                const float *src = xc + ih * IW + (clo * sw + pp->rw[b] - g->pad[2]);
                for (int64_t c = 0; c < clo; c++) row[c] = pad;
                if (sw == 1)
                    for (int64_t c = 0; c < chi - clo; c++) row[clo + c] = src[c];
                else if (sw == 2)  // a constant stride vectorises (shuffles) where a variable one would not
                    for (int64_t c = 0; c < chi - clo; c++) row[clo + c] = src[2 * c];
                else
                    for (int64_t c = 0; c < chi - clo; c++) row[clo + c] = src[c * sw];
                for (int64_t c = chi; c < Wq; c++) row[c] = pad;
            }
        }
}

/// Fills pp->off (KH·KW entries, allocated; free it with free(pp->off)). Returns CK_ERR_NOMEM on failure.
static inline int ck_plane_offsets(ck_plane_plan *pp, const ck_window *g) {
    const int64_t KH = g->kernel[1], KW = g->kernel[2], sh = g->stride[1], sw = g->stride[2];
    const int64_t dh = g->dilation[1], dw = g->dilation[2];
    pp->off = malloc(sizeof(int64_t) * (size_t)(KH * KW));
    if (!pp->off) return CK_ERR_NOMEM;
    for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++) {
            int64_t a = 0, b = 0;
            while (pp->rh[a] != kh * dh % sh) a++;
            while (pp->rw[b] != kw * dw % sw) b++;
            pp->off[kh * KW + kw] = (a * pp->nrw + b) * pp->Hq * pp->Wq + (kh * dh / sh) * pp->Wq + kw * dw / sw;
        }
    return CK_OK;
}

/// Floats of phase planes one thread needs.
static inline int64_t ck_plane_floats(const ck_plane_plan *pp) { return pp->nrh * pp->nrw * pp->Hq * pp->Wq; }

#endif
