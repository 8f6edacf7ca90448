// Resize by per-axis tap tables (the Swift side computes coordinates and weights for every mode). Work item =
// (plane, output d, output h). Linear/cubic: the input rows the d and h taps name are combined with weight w_d·w_h,
// then that row is resampled along w. Nearest copies the one tap, so it is bit-exact.
#include <stdlib.h>
#include "../common/ck_internal.h"

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

CK_HOT static
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
                           const float *x, int64_t x_count, float *y, int64_t y_count, int threads) {
    if (!axes || planes < 0) return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++)
        if (!check_axis(&axes[a], nearest)) return CK_ERR_ARGUMENT;
    if (ck_mul(planes, ck_mul3(axes[0].in, axes[1].in, axes[2].in)) != x_count ||
        ck_mul(planes, ck_mul3(axes[0].out, axes[1].out, axes[2].out)) != y_count)
        return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (y_count && !y)) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;
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
