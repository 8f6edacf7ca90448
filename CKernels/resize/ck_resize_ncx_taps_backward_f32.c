// The adjoint of the tap-table resize (ck_resize_ncx_taps_f32): every output row's dY is first resampled back
// along w through the w taps into a row of input width, which is then added into the input rows its d and h taps
// name, weighted by w_d·w_h. Outputs outside the input on any axis (extrapolated) have no input dependence, and
// zero-weight taps are skipped as in the forward pass. One thread per plane, output rows in order: deterministic.
#include <stdlib.h>
#include <string.h>
#include "resize_internal.h"

static int axis_ok(const ck_resize_axis *a, int nearest) {
    if (a->in < 0 || a->out < 0 || a->taps < 1 || (nearest && a->taps != 1)) return 0;
    const int64_t n = ck_mul(a->out, a->taps);
    if (n < 0 || (n && (!a->index || (!nearest && !a->weight)))) return 0;
    for (int64_t i = 0; i < n; i++)
        if (a->index[i] < 0 || a->index[i] >= a->in) return 0;
    return 1;
}

CK_HOT static void plane_adjoint(const ck_resize_axis *A, int nearest, const float *dy, float *dx, int64_t plane,
                                 float *t) {
    const ck_resize_axis *ad = &A[0], *ah = &A[1], *aw = &A[2];
    const int64_t OD = ad->out, OH = ah->out, OW = aw->out, ID = ad->in, IH = ah->in, IW = aw->in, T = aw->taps;
    float *gp = dx + plane * ID * IH * IW;
    memset(gp, 0, sizeof(float) * (size_t)(ID * IH * IW));
    for (int64_t od = 0; od < OD; od++) {
        if (ad->outside && ad->outside[od]) continue;
        for (int64_t oh = 0; oh < OH; oh++) {
            if (ah->outside && ah->outside[oh]) continue;
            const float *yr = dy + ((plane * OD + od) * OH + oh) * OW;
            for (int64_t i = 0; i < IW; i++) t[i] = 0.0f;
            for (int64_t ow = 0; ow < OW; ow++) {
                if (aw->outside && aw->outside[ow]) continue;
                if (nearest) {
                    t[aw->index[ow]] += yr[ow];
                    continue;
                }
                for (int64_t k = 0; k < T; k++) {
                    const float w = aw->weight[ow * T + k];
                    if (w != 0.0f) t[aw->index[ow * T + k]] += w * yr[ow];
                }
            }
            for (int64_t td = 0; td < ad->taps; td++)
                for (int64_t th = 0; th < ah->taps; th++) {
                    const float wdh = nearest ? 1.0f : ad->weight[od * ad->taps + td] * ah->weight[oh * ah->taps + th];
                    if (wdh == 0.0f) continue;
                    float *row = gp + (ad->index[od * ad->taps + td] * IH + ah->index[oh * ah->taps + th]) * IW;
                    if (nearest)
                        for (int64_t i = 0; i < IW; i++) row[i] += t[i];
                    else
                        for (int64_t i = 0; i < IW; i++) row[i] += wdh * t[i];
                }
        }
    }
}

int ck_resize_ncx_taps_backward_f32(int64_t planes, const ck_resize_axis axes[3], int nearest, const float *dy,
                                    int64_t dy_count, float *dx, int64_t dx_count, int threads) {
    if (!axes || planes < 0) return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++)
        if (!axis_ok(&axes[a], nearest)) return CK_ERR_ARGUMENT;
    const int64_t in = ck_mul(planes, ck_mul3(axes[0].in, axes[1].in, axes[2].in));
    const int64_t out = ck_mul(planes, ck_mul3(axes[0].out, axes[1].out, axes[2].out));
    if (in < 0 || out < 0 || in != dx_count || out != dy_count || (in && !dx) || (out && !dy)) return CK_ERR_ARGUMENT;
    if (in == 0) return CK_OK;
    const int64_t taps = ck_mul3(axes[0].taps, axes[1].taps, axes[2].taps);
    const int team = (int)ck_max(1, ck_min(planes, ck_team_for(threads, ck_work3(out, taps, 1) + in)));
    int failed = 0;
#pragma omp parallel num_threads(team)
    {
        float *t = malloc(sizeof(float) * (size_t)ck_max(1, axes[2].in));
        if (!ck_team_failed(&failed, !t)) {
#pragma omp for schedule(static)
            for (int64_t p = 0; p < planes; p++) plane_adjoint(axes, nearest, dy, dx, p, t);
        }
        free(t);
    }
    return failed ? CK_ERR_NOMEM : CK_OK;
}
