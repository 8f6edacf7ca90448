// The kernel behind AveragePool and LpPool: window sums in row-major window order, then the per-window divisor or
// root. Work item = (plane, output row, block of columns).
#include <math.h>
#include <stdlib.h>
#include "pool_internal.h"

/// f: 0 average (count_include_pad in `include_pad`), 1/2/3 Lp with p = 1 / 2 / other.
__attribute__((visibility("hidden")))
int ck_pool_sum_kernel(const ck_pool_desc *d, int f, float p, int include_pad, const float *x, int64_t x_count, float *y,
                    int64_t y_count, int threads) {
    int status = ck_pool_check(d, x, x_count, y, y_count);
    if (status != CK_OK) return status;
    if (y_count == 0) return CK_OK;
    const ck_window *g = &d->g;
    int global = 1;
    for (int a = 0; a < 3; a++)
        global &= g->out[a] == 1 && g->kernel[a] == g->in[a] && g->pad[a] == 0 && g->dilation[a] == 1;
    if (global) {  // one window = the whole plane, summed in memory order (= row-major window order)
        const int64_t planes = d->batch * d->channels, IS = ck_prod3(g->in);
#pragma omp parallel for num_threads(ck_team(threads)) schedule(static)
        for (int64_t pl = 0; pl < planes; pl++) {
            const float *v = x + pl * IS;
            float s = 0.0f;
            switch (f) {
            case 0: for (int64_t i = 0; i < IS; i++) s += v[i]; break;
            case 1: for (int64_t i = 0; i < IS; i++) s += fabsf(v[i]); break;
            case 2: for (int64_t i = 0; i < IS; i++) s += v[i] * v[i]; break;
            default: for (int64_t i = 0; i < IS; i++) s += powf(fabsf(v[i]), p); break;
            }
            y[pl] = f == 0 ? s / (float)IS : f == 1 ? s : f == 2 ? sqrtf(s) : powf(s, 1.0f / p);
        }
        return CK_OK;
    }
    ck_row_taps t;
    if (ck_row_taps_init(&t, g) != CK_OK) return CK_ERR_NOMEM;
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2], IS = ck_prod3(g->in);
    const int64_t wblocks = (OW + CK_POOL_OWB - 1) / CK_POOL_OWB;
    const int64_t items = d->batch * d->channels * OD * OH * wblocks;
    // Average divisors per axis: taps inside the input (or inside input + explicit padding with count_include_pad).
    int64_t *counts = f == 0 ? malloc(sizeof(int64_t) * (size_t)(OD + OH + OW)) : NULL;
    if (f == 0 && !counts) {
        ck_row_taps_free(&t);
        return CK_ERR_NOMEM;
    }
    if (f == 0) {
        int64_t *c = counts;
        for (int a = 0; a < 3; a++) {
            const int64_t lo = include_pad ? -g->pad[a] : 0, hi = g->in[a] + (include_pad ? d->pad_end[a] : 0);
            for (int64_t o = 0; o < g->out[a]; o++)
                *c++ = ck_axis_count(o, g->stride[a], g->pad[a], g->kernel[a], g->dilation[a], lo, hi);
        }
    }
    int failed = 0;
    int64_t next = 0;
    const int64_t chunk = ck_chunk(items, threads);
#pragma omp parallel num_threads(ck_team(threads))
    {
        float *acc = malloc(sizeof(float) * CK_POOL_OWB);
        float *ph = malloc(sizeof(float) * (size_t)ck_max(1, t.nph * t.plen));
        if (!ck_team_failed(&failed, !acc || !ph)) {
            CK_DYNAMIC_FOR(it, items, chunk, next) {
                int64_t rest = it;
                const int64_t wb = rest % wblocks; rest /= wblocks;
                const int64_t oh = rest % OH; rest /= OH;
                const int64_t od = rest % OD, plane = rest / OD;
                const int64_t ow0 = wb * CK_POOL_OWB, len = ck_min(OW, ow0 + CK_POOL_OWB) - ow0;
                ck_pool_sum_row(d, &t, x + plane * IS, od, oh, ow0, len, f, p, acc, ph);
                float *dst = y + ((plane * OD + od) * OH + oh) * OW + ow0;
                if (f == 0) {
                    const int64_t cnt_dh = counts[od] * counts[OD + oh], *cw = counts + OD + OH + ow0;
                    for (int64_t i = 0; i < len; i++) dst[i] = acc[i] / (float)(cnt_dh * cw[i]);
                } else if (f == 1) {
                    for (int64_t i = 0; i < len; i++) dst[i] = acc[i];
                } else if (f == 2) {
                    for (int64_t i = 0; i < len; i++) dst[i] = sqrtf(acc[i]);
                } else {
                    const float inv = 1.0f / p;
                    for (int64_t i = 0; i < len; i++) dst[i] = powf(acc[i], inv);
                }
            }
        }
        free(acc); free(ph);
    }
    ck_row_taps_free(&t);
    free(counts);
    return failed ? CK_ERR_NOMEM : CK_OK;
}

