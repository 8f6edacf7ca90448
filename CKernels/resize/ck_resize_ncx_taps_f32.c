// Resize by per-axis tap tables (the Swift side computes coordinates and weights for every mode). AVX2 / AVX-512:
// the ring path of resize_internal.h. Portable: work item = (plane, output d, output h); linear/cubic combine the
// input rows the d and h taps name with weight w_d·w_h, then resample that row along w. Nearest copies the one
// tap, so it is bit-exact in every variant.
#include <stdlib.h>
#include "resize_internal.h"

static int check_axis(const ck_resize_axis *a, int nearest) {
    if (a->in < 0 || a->out < 0 || a->taps < 1 || (nearest && a->taps != 1)) return 0;
    const int64_t n = ck_mul(a->out, a->taps);
    if (n < 0 || (n && (!a->index || (!nearest && !a->weight)))) return 0;
    for (int64_t i = 0; i < n; i++)
        if (a->index[i] < 0 || a->index[i] >= a->in) return 0;
    return 1;
}

CK_INLINE
void ck_resize_row(const ck_resize_axis *A, int nearest, float extrapolation, const float *x, float *y, int64_t item,
                   float *v) {
    const ck_resize_axis *ad = &A[0], *ah = &A[1], *aw = &A[2];
    const int64_t OD = ad->out, OH = ah->out, OW = aw->out, IH = ah->in, IW = aw->in;
    const int64_t oh = item % OH, od = (item / OH) % OD, plane = item / (OH * OD);
    const float *xp = x + plane * ad->in * IH * IW;
    float *dst = y + item * OW;
    if ((ad->outside && ad->outside[od]) || (ah->outside && ah->outside[oh])) {
        for (int64_t i = 0; i < OW; i++) dst[i] = extrapolation;
        return;
    }
    if (nearest) {
        const float *row = xp + (ad->index[od] * IH + ah->index[oh]) * IW;
        for (int64_t i = 0; i < OW; i++) dst[i] = row[aw->index[i]];
    } else {
        // Combine the input rows along d and h first (unit stride), then resample the combined row along w.
        int first = 1;
        for (int64_t td = 0; td < ad->taps; td++)
            for (int64_t th = 0; th < ah->taps; th++) {
                const float wdh = ad->weight[od * ad->taps + td] * ah->weight[oh * ah->taps + th];
                if (wdh == 0.0f) continue;  // zero-weight taps are skipped: 0·inf must not make NaN
                const float *row = xp + (ad->index[od * ad->taps + td] * IH + ah->index[oh * ah->taps + th]) * IW;
                if (first)
                    for (int64_t i = 0; i < IW; i++) v[i] = wdh * row[i];
                else
                    for (int64_t i = 0; i < IW; i++) v[i] += wdh * row[i];
                first = 0;
            }
        if (first)
            for (int64_t i = 0; i < IW; i++) v[i] = 0.0f;
        const int64_t T = aw->taps;
        if (T == 2) {
            for (int64_t i = 0; i < OW; i++) {
                const float w0 = aw->weight[2 * i], w1 = aw->weight[2 * i + 1];
                float s = 0.0f;
                if (w0 != 0.0f) s += w0 * v[aw->index[2 * i]];
                if (w1 != 0.0f) s += w1 * v[aw->index[2 * i + 1]];
                dst[i] = s;
            }
        } else {
            for (int64_t i = 0; i < OW; i++) {
                float s = 0.0f;
                for (int64_t t = 0; t < T; t++) {
                    const float wt = aw->weight[i * T + t];
                    if (wt != 0.0f) s += wt * v[aw->index[i * T + t]];
                }
                dst[i] = s;
            }
        }
    }
    if (aw->outside)
        for (int64_t i = 0; i < OW; i++)
            if (aw->outside[i]) dst[i] = extrapolation;
}

static
void ck_resize_worker(const ck_resize_axis *axes, int nearest, float extrapolation, const float *x, float *y,
                      int64_t items, int64_t chunk, int64_t *next, float *v) {
    int64_t prev = -1;  // the last row this thread wrote
    const ck_resize_axis *ah = &axes[1];
    const int64_t OW = axes[2].out, OH = ah->out;
    CK_DYNAMIC_FOR(it, items, chunk, *next) {
        // Nearest upsampling repeats source rows: copy the row this thread just wrote when it reads the same one.
        const int64_t oh = it % OH;
        if (nearest && prev == it - 1 && oh > 0 && ah->index[oh] == ah->index[oh - 1] &&
            !(ah->outside && ah->outside[oh] != ah->outside[oh - 1])) {
            for (int64_t i = 0; i < OW; i++) y[it * OW + i] = y[prev * OW + i];
        } else {
            ck_resize_row(axes, nearest, extrapolation, x, y, it, v);
        }
        prev = it;
    }
}

int ck_resize_ncx_taps_f32(int64_t planes, const ck_resize_axis axes[3], int nearest, float extrapolation,
                           const float *x, int64_t x_count, float *y, int64_t y_count, int threads, int isa) {
    if (!axes || planes < 0) return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++)
        if (!check_axis(&axes[a], nearest)) return CK_ERR_ARGUMENT;
    if (ck_mul(planes, ck_mul3(axes[0].in, axes[1].in, axes[2].in)) != x_count ||
        ck_mul(planes, ck_mul3(axes[0].out, axes[1].out, axes[2].out)) != y_count)
        return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (y_count && !y)) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;
#if defined(__x86_64__)
    isa = ck_isa_resolve(isa);
    if (isa >= CK_ISA_AVX2) {
        ck_htab tab;
        if (ck_htab_build(&tab, &axes[2], isa >= CK_ISA_AVX512 ? 16 : 8, nearest) != CK_OK) return CK_ERR_NOMEM;
        // Blocks of h rows: each reloads its ring once, so not too short; fixed by the problem, not the team.
        const ck_resize_job J = {axes, &tab, planes, nearest, extrapolation, x, y, 64, ck_resize_ring_rows(axes)};
        const int status = isa >= CK_ISA_AVX512 ? ck_resize_ring_avx512(&J, threads) : ck_resize_ring_avx2(&J, threads);
        ck_htab_free(&tab);
        return status;
    }
#else
    (void)isa;
#endif
    const int64_t items = planes * axes[0].out * axes[1].out, IW = axes[2].in;
    int failed = 0;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(items, threads);
#pragma omp parallel num_threads(ck_team_for(threads, ck_work3(y_count, axes[2].taps, 1)))
    {
        float *v = malloc(sizeof(float) * (size_t)ck_max(1, IW));
        if (!ck_team_failed(&failed, !v)) {
            ck_resize_worker(axes, nearest, extrapolation, x, y, items, chunk, &next, v);
        }
        free(v);
    }
    return failed ? CK_ERR_NOMEM : CK_OK;
}

int ck_htab_build(ck_htab *t, const ck_resize_axis *aw, int64_t L, int nearest) {
    const int64_t T = aw->taps, OW = aw->out, IW = aw->in, nb = (OW + L - 1) / L, E = nb * T;
    t->L = L; t->T = T; t->nb = nb;
    t->base = malloc(sizeof(int32_t) * 3 * (size_t)E);
    t->nz = malloc(sizeof(uint32_t) * (size_t)E);
    t->rel = malloc(sizeof(int32_t) * (size_t)(E * L));
    t->w = malloc(sizeof(float) * (size_t)(E * L));
    t->simple = malloc((size_t)ck_max(1, nb));
    if (!t->base || !t->nz || !t->rel || !t->w || !t->simple || IW >= ((int64_t)1 << 31)) {
        ck_htab_free(t);
        return CK_ERR_NOMEM;
    }
    t->nvalid = t->base + E;
    t->gather = t->base + 2 * E;
    t->identity = IW == OW;
    for (int64_t o = 0; o < OW && t->identity; o++) {
        int hits = 0;
        for (int64_t tp = 0; tp < T; tp++) {
            const float w = nearest ? 1.0f : aw->weight[o * T + tp];
            if (w == 0.0f) continue;
            hits++;
            t->identity &= aw->index[o * T + tp] == o && w == 1.0f;
        }
        t->identity &= hits == 1;
    }
    for (int64_t b = 0; b < nb; b++) {
        // A lane is used when it is an output column and (nearest) or its weight is nonzero.
        int64_t blo = INT64_MAX, bhi = -1;
        for (int64_t tp = 0; tp < T; tp++)
            for (int64_t j = 0; j < L && b * L + j < OW; j++) {
                const int64_t o = b * L + j;
                if (!nearest && aw->weight[o * T + tp] == 0.0f) continue;
                blo = ck_min(blo, aw->index[o * T + tp]);
                bhi = ck_max(bhi, aw->index[o * T + tp]);
            }
        const int shared = bhi >= 0 && bhi - blo < 2 * L;  // one window serves every tap of the block
        t->simple[b] = (uint8_t)shared;
        for (int64_t tp = 0; tp < T; tp++) {
            const int64_t k = b * T + tp;
            int64_t lo = INT64_MAX, hi = -1;
            uint32_t nz = 0;
            for (int64_t j = 0; j < L && b * L + j < OW; j++) {
                const int64_t o = b * L + j;
                if (!nearest && aw->weight[o * T + tp] == 0.0f) continue;
                nz |= 1u << j;
                lo = ck_min(lo, aw->index[o * T + tp]);
                hi = ck_max(hi, aw->index[o * T + tp]);
            }
            if (shared) { lo = blo; hi = bhi; }
            const int gather = hi >= 0 && hi - lo >= 2 * L;
            t->nz[k] = nz;
            t->simple[b] &= nz == (L == 32 ? ~0u : (1u << L) - 1);
            t->gather[k] = gather;
            t->base[k] = hi < 0 || gather ? 0 : (int32_t)lo;
            t->nvalid[k] = hi < 0 || gather ? 0 : (int32_t)ck_min(2 * L, IW - lo);
            for (int64_t j = 0; j < L; j++) {
                const int64_t o = b * L + j;
                const int used = (nz >> j) & 1;
                t->rel[k * L + j] = used ? (int32_t)(aw->index[o * T + tp] - (gather ? 0 : lo)) : 0;
                t->w[k * L + j] = used && !nearest ? aw->weight[o * T + tp] : 0.0f;
            }
        }
    }
    return CK_OK;
}

void ck_htab_free(ck_htab *t) {
    free(t->base); free(t->nz); free(t->rel); free(t->w); free(t->simple);
    t->base = NULL; t->nz = NULL; t->rel = NULL; t->w = NULL; t->simple = NULL;
}

int64_t ck_resize_ring_rows(const ck_resize_axis *axes) { return axes[0].taps * axes[1].taps + 2; }

int ck_resize_run(const ck_resize_job *J, int threads, ck_resize_item_fn item) {
    const ck_resize_axis *axes = J->axes;
    const int64_t OH = axes[1].out, hb = (OH + J->rows_per_item - 1) / J->rows_per_item;
    const int64_t items = J->planes * axes[0].out * hb, R = J->ring, n = axes[0].taps * axes[1].taps;
    const int64_t padded = J->tab->nb * J->tab->L;
    const int64_t y_count = J->planes * axes[0].out * OH * axes[2].out;
    const int team = ck_team_for(threads, ck_work3(y_count, axes[2].taps + n, 1));
    const int64_t chunk = ck_max(1, items / (4 * (int64_t)team));
    int failed = 0;
    int64_t next = 0;
#pragma omp parallel num_threads(team)
    {
        const int64_t ring_floats = J->nearest || J->tab->identity ? 1 : ck_mul(R, padded);
        float *ring = ring_floats < 0 ? NULL : malloc(sizeof(float) * (size_t)ring_floats);
        int64_t *tag = malloc(sizeof(int64_t) * (size_t)(R + 1 + n));
        uint8_t *pin = malloc((size_t)R);
        float *wk = malloc(sizeof(float) * (size_t)n);
        const float **rows = malloc(sizeof(float *) * (size_t)n);
        if (!ck_team_failed(&failed, !ring || !tag || !pin || !wk || !rows)) {
            CK_DYNAMIC_FOR(it, items, chunk, next) {
                for (int64_t s = 0; s < R; s++) tag[s] = -1;  // ring rows hold rows of the previous item's plane
                tag[R] = 0;
                item(J, it, ring, tag, pin, tag + R + 1, wk, rows);
            }
        }
        free(ring); free(tag); free(pin); free(wk); free(rows);
    }
    return failed ? CK_ERR_NOMEM : CK_OK;
}
