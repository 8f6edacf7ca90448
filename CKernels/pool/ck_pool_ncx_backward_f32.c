// Pooling input gradients. Max and stochastic (training) pooling run the forward kernel for the selected element
// of every window (ck_maxpool_ncx_f32 / ck_stochpool_ncx_f32 with indices: the same first-maximum, NaN and
// sampling rules) and add dY there; average and Lp pooling add every window's dY times its derivative to each of
// its taps inside the input. Each (n, c) plane is one item: one thread zeroes it and walks its outputs in order,
// so overlapping windows accumulate in a fixed order and dX is bitwise identical for any thread count.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pool_internal.h"


CK_HOT static void window_plane(const ck_pool_desc *d, int kind, float p, const float *x, const float *dy, float *dx,
                                const float *divisor, int64_t plane) {
    const ck_window *g = &d->g;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t IS = ID * IH * IW, OS = OD * OH * OW;
    const float *xp = x + plane * IS, *yp = dy + plane * OS;
    float *gp = dx + plane * IS;
    memset(gp, 0, sizeof(float) * (size_t)IS);
    for (int64_t od = 0; od < OD; od++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                const int64_t o = (od * OH + oh) * OW + ow;
                const float gy = yp[o];
                if (kind == CK_POOL_BWD_AVERAGE || kind == CK_POOL_BWD_AVERAGE_PAD) {
                    const float v = gy / divisor[o];
                    CK_FOR_WINDOW_TAPS({ gp[pos] += v; })
                } else if (kind == CK_POOL_BWD_LP) {
                    double s = 0.0;
                    CK_FOR_WINDOW_TAPS({ s += pow(fabs((double)xp[pos]), (double)p); })
                    if (!(s > 0.0)) {
                        if (s != s) CK_FOR_WINDOW_TAPS({ gp[pos] += NAN; })
                        continue;
                    }
                    const double f = gy * pow(s, 1.0 / p - 1.0);
                    CK_FOR_WINDOW_TAPS({
                        const double a = xp[pos];
                        const double t = a > 0 ? pow(a, (double)p - 1.0) : a < 0 ? -pow(-a, (double)p - 1.0) : 0.0;
                        gp[pos] += (float)(t * f);
                    })
                } else {  // stochastic expectation: y = Σ a⁺·a / Σ a⁺ (the mean when Σ a⁺ = 0)
                    double sp = 0.0, sq = 0.0;
                    int64_t count = 0;
                    int nan = 0;
                    CK_FOR_WINDOW_TAPS({
                        const float a = xp[pos];
                        if (a != a) nan = 1;
                        else if (a > 0) { sp += a; sq += (double)a * a; }
                        count++;
                    })
                    if (nan) {
                        CK_FOR_WINDOW_TAPS({ gp[pos] += NAN; })
                        continue;
                    }
                    if (count == 0) continue;
                    if (sp > 0) {
                        const double y = sq / sp;
                        CK_FOR_WINDOW_TAPS({
                            const float a = xp[pos];
                            if (a > 0) gp[pos] += (float)(gy * (2.0 * a - y) / sp);
                        })
                    } else {
                        const float v = (float)(gy / (double)count);
                        CK_FOR_WINDOW_TAPS({ gp[pos] += v; })
                    }
                }
            }
}

int ck_pool_ncx_backward_f32(const ck_pool_desc *d, int kind, float p, uint64_t seed, const float *x, int64_t x_count,
                             const float *dy, int64_t dy_count, float *dx, int64_t dx_count, int threads, int isa) {
    if (kind < CK_POOL_BWD_MAX || kind > CK_POOL_BWD_STOCHASTIC_EXPECTATION) return CK_ERR_ARGUMENT;
    int status = ck_pool_check(d, x, x_count, dy, dy_count);
    if (status != CK_OK) return status;
    if (dx_count != x_count || (dx_count && !dx)) return CK_ERR_ARGUMENT;
    if (kind == CK_POOL_BWD_LP && (!(p > 0.0f) || isinf(p))) return CK_ERR_ARGUMENT;
    if (dy_count == 0) {  // no window: dX is 0 (and the per-plane tables below must not follow an unused OS)
        if (dx_count) memset(dx, 0, sizeof(float) * (size_t)dx_count);
        return CK_OK;
    }
    const ck_window *g = &d->g;
    const int64_t planes = d->batch * d->channels, IS = ck_prod3(g->in), OS = ck_prod3(g->out);
    const int64_t IH = g->in[1], IW = g->in[2];
    const int team = ck_team_for(threads, ck_work3(dy_count, ck_prod3(g->kernel), 1) + x_count);
    if (kind == CK_POOL_BWD_MAX || kind == CK_POOL_BWD_STOCHASTIC) {
        float *y = malloc(sizeof(float) * (size_t)ck_max(1, dy_count));
        int64_t *ix = malloc(sizeof(int64_t) * (size_t)ck_max(1, dy_count));
        if (!y || !ix) {
            free(y); free(ix);
            return CK_ERR_NOMEM;
        }
        status = kind == CK_POOL_BWD_MAX ? ck_maxpool_ncx_f32(d, x, x_count, y, dy_count, ix, threads, isa)
                                         : ck_stochpool_ncx_f32(d, 0, seed, x, x_count, y, dy_count, ix, threads);
        if (status == CK_OK) {
#pragma omp parallel for num_threads(team) schedule(static)
            for (int64_t pl = 0; pl < planes; pl++) {
                float *gp = dx + pl * IS;
                memset(gp, 0, sizeof(float) * (size_t)IS);
                for (int64_t o = pl * OS; o < (pl + 1) * OS; o++) {
                    const int64_t k = ix[o];
                    if (k < 0) continue;  // a window with no tap inside the input
                    int64_t r = k - pl * IS;
                    if (r < 0 || r >= IS) continue;
                    if (d->column_major) r = (r % IH) * IW + r / IH;  // storage_order 1: index ih + iw·IH
                    gp[r] += dy[o];
                }
            }
        }
        free(y);
        free(ix);
        return status;
    }
    float *divisor = NULL;
    if (kind == CK_POOL_BWD_AVERAGE || kind == CK_POOL_BWD_AVERAGE_PAD) {
        // The forward kernel's divisors: taps inside the input (or the input and explicit padding), per axis.
        divisor = malloc(sizeof(float) * (size_t)ck_max(1, OS));
        if (!divisor) return CK_ERR_NOMEM;
        const int pad = kind == CK_POOL_BWD_AVERAGE_PAD;
        for (int64_t o = 0; o < OS; o++) {
            const int64_t oc[3] = {o / (g->out[1] * g->out[2]), o / g->out[2] % g->out[1], o % g->out[2]};
            int64_t n = 1;
            for (int a = 0; a < 3; a++)
                n *= ck_axis_count(oc[a], g->stride[a], g->pad[a], g->kernel[a], g->dilation[a], pad ? -g->pad[a] : 0,
                                   g->in[a] + (pad ? d->pad_end[a] : 0));
            divisor[o] = (float)n;
        }
    }
#pragma omp parallel for num_threads(team) schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) window_plane(d, kind, p, x, dy, dx, divisor, pl);
    free(divisor);
    return CK_OK;
}
