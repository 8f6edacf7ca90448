// Resize internals: the vectorised path (AVX2 / AVX-512) shared by both instruction-set files.
//
// Rows are resampled along w once each (H pass) into a small ring of rows per thread, then every output row is a
// weighted sum of ring rows along (d, h) (V pass), as in OpenCV's resize. The H pass reads the w tap table as
// blocks of L output columns: for each block and tap, the L source columns lie in a window of 2·L columns starting
// at `base` (two vector loads and one permute, no gather) or, when they do not, are gathered.
#ifndef CK_RESIZE_INTERNAL_H
#define CK_RESIZE_INTERNAL_H
#include <string.h>
#include "../common/ck_internal.h"

#define CK_RESIZE_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))
#define CK_RESIZE_AVX2 __attribute__((target("avx2,fma")))

/// The w tap table re-laid for L-lane blocks: entry k = block·T + tap.
typedef struct {
    int64_t L, T, nb;   // lanes, taps, blocks (nb·L >= OW)
    int32_t *base;      // per entry: first source column of the 2·L-column window (or 0 for gathers)
    int32_t *nvalid;    // per entry: columns of the window inside the row (loads are masked past it)
    int32_t *gather;    // per entry: 1 = rel holds absolute columns (the window does not fit)
    uint32_t *nz;       // per entry: lanes with a nonzero weight (zero-weight taps are skipped: 0·inf ≠ NaN)
    int32_t *rel;       // per entry and lane: column within the window (or absolute)
    float *w;           // per entry and lane: weight (0 past OW)
    uint8_t *simple;    // per block: one window serves every tap and every lane weighs: no masks, no branches
    int identity;       // every output column reads its own column with weight 1: the H pass is the row itself
} ck_htab;

int ck_htab_build(ck_htab *t, const ck_resize_axis *aw, int64_t L, int nearest);
void ck_htab_free(ck_htab *t);

typedef struct {
    const ck_resize_axis *axes;
    const ck_htab *tab;
    int64_t planes;
    int nearest;
    float extrapolation;
    const float *x;
    float *y;
    int64_t rows_per_item;  // output rows (along h) per work item
    int64_t ring;           // ring rows per thread
} ck_resize_job;

/// Ring slots one thread needs: distinct (d, h) source rows of one output row, plus two for reuse.
int64_t ck_resize_ring_rows(const ck_resize_axis *axes);

typedef void (*ck_resize_item_fn)(const ck_resize_job *J, int64_t item, float *ring, int64_t *tag, uint8_t *pin,
                                  int64_t *key, float *wk, const float **rows);
/// Runs `item` over the job's work items (planes × d × blocks of h rows) on a team with per-thread rings.
int ck_resize_run(const ck_resize_job *J, int threads, ck_resize_item_fn item);

int ck_resize_ring_avx512(const ck_resize_job *J, int threads);
int ck_resize_ring_avx2(const ck_resize_job *J, int threads);

/// The per-item driver, instantiated per instruction set with its H kernel (hrow: one source row → L-padded row,
/// `n` columns stored) and V kernel (vblend: Σ w_i·rows_i over OW columns).
#define CK_RESIZE_DRIVER(TARGET, HROW, VBLEND)                                                                      \
    TARGET static void resize_item(const ck_resize_job *J, int64_t item, float *ring, int64_t *tag, uint8_t *pin,         \
                            int64_t *key, float *wk, const float **rows) {                                         \
        const ck_resize_axis *ad = &J->axes[0], *ah = &J->axes[1], *aw = &J->axes[2];                             \
        const ck_htab *tab = J->tab;                                                                                \
        const int64_t OD = ad->out, OH = ah->out, OW = aw->out, IH = ah->in, IW = aw->in;                         \
        const int64_t RB = J->rows_per_item, hb = (OH + RB - 1) / RB, padded = tab->nb * tab->L;                  \
        const int64_t b = item % hb, od = (item / hb) % OD, plane = item / (hb * OD);                             \
        const float *xp = J->x + plane * ad->in * IH * IW;                                                         \
        int64_t prev = -1; /* nearest: source row of the previous output row of this item */                      \
        for (int64_t oh = b * RB; oh < ck_min(OH, (b + 1) * RB); oh++) {                                          \
            float *dst = J->y + ((plane * OD + od) * OH + oh) * OW;                                                \
            if ((ad->outside && ad->outside[od]) || (ah->outside && ah->outside[oh])) {                            \
                for (int64_t i = 0; i < OW; i++) dst[i] = J->extrapolation;                                       \
                prev = -1;                                                                                          \
                continue;                                                                                           \
            }                                                                                                       \
            if (J->nearest) {                                                                                       \
                const int64_t k = ad->index[od] * IH + ah->index[oh];                                              \
                if (k == prev) {                                                                                    \
                    memcpy(dst, dst - OW, sizeof(float) * (size_t)OW);                                              \
                } else if (tab->identity) {                                                                         \
                    memcpy(dst, xp + k * IW, sizeof(float) * (size_t)OW);                                           \
                } else {                                                                                            \
                    HROW(tab, J->nearest, xp + k * IW, dst, OW);                                                   \
                }                                                                                                   \
                prev = k;                                                                                           \
            } else {                                                                                                \
                /* The (d, h) taps with a nonzero weight, in the old code's order. */                              \
                int64_t n = 0;                                                                                      \
                for (int64_t td = 0; td < ad->taps; td++)                                                           \
                    for (int64_t th = 0; th < ah->taps; th++) {                                                     \
                        const float w = ad->weight[od * ad->taps + td] * ah->weight[oh * ah->taps + th];           \
                        if (w == 0.0f) continue;                                                                    \
                        key[n] = ad->index[od * ad->taps + td] * IH + ah->index[oh * ah->taps + th];               \
                        wk[n++] = w;                                                                                \
                    }                                                                                               \
                if (n == 0) { /* every (d, h) weight is zero: a zero row, as the portable path (no rows to blend) */ \
                    for (int64_t i = 0; i < OW; i++) dst[i] = 0.0f;                                                 \
                } else if (n == 1 && wk[0] == 1.0f) {                                                               \
                    if (tab->identity) memcpy(dst, xp + key[0] * IW, sizeof(float) * (size_t)OW);                 \
                    else HROW(tab, 0, xp + key[0] * IW, dst, OW);                                                  \
                } else if (tab->identity) {                                                                         \
                    for (int64_t i = 0; i < n; i++) rows[i] = xp + key[i] * IW;                                    \
                    VBLEND(rows, wk, n, dst, OW);                                                                   \
                } else {                                                                                            \
                    /* Ring lookup: hits are pinned first, then misses take unpinned slots round-robin. */         \
                    for (int64_t s = 0; s < J->ring; s++) pin[s] = 0;                                              \
                    for (int64_t i = 0; i < n; i++) {                                                               \
                        rows[i] = NULL;                                                                             \
                        for (int64_t s = 0; s < J->ring; s++)                                                       \
                            if (tag[s] == key[i]) { rows[i] = ring + s * padded; pin[s] = 1; break; }              \
                    }                                                                                               \
                    for (int64_t i = 0, s = tag[J->ring]; i < n; i++) {                                             \
                        if (rows[i]) continue;                                                                      \
                        int64_t j = 0; /* a later key may equal this one (repeated clamped taps) */                \
                        while (j < i && !(key[j] == key[i] && rows[j])) j++;                                        \
                        if (j < i) { rows[i] = rows[j]; continue; }                                                 \
                        while (pin[s]) s = (s + 1) % J->ring;                                                       \
                        tag[s] = key[i];                                                                            \
                        pin[s] = 1;                                                                                 \
                        rows[i] = ring + s * padded;                                                                \
                        HROW(tab, 0, xp + key[i] * IW, ring + s * padded, padded);                                 \
                        tag[J->ring] = s = (s + 1) % J->ring;                                                       \
                    }                                                                                               \
                    VBLEND(rows, wk, n, dst, OW);                                                                   \
                }                                                                                                   \
            }                                                                                                       \
            if (aw->outside)                                                                                        \
                for (int64_t i = 0; i < OW; i++)                                                                    \
                    if (aw->outside[i]) dst[i] = J->extrapolation;                                                 \
        }                                                                                                           \
    }

#endif
