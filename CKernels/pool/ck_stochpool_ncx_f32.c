// Stochastic pooling (Zeiler & Fergus 2013), with the counter-based generator of Core/StochasticSampling.swift:
// window w (flat output index) under seed s draws u = (mix(mix(s ^ 0x6A09E667F3BCC909) + w) >> 11) · 2^-53.
// Weights max(a_i, 0) are accumulated in double in row-major window order over the taps inside the input; the
// first tap whose running sum exceeds u·S is drawn (tap ⌊u·count⌋ when S = 0). A window holding NaN yields its
// first NaN; a window with no tap inside the input yields 0 (index -1).
#include <math.h>
#include "pool_internal.h"

static inline uint64_t mix(uint64_t z) {
    uint64_t x = z + 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/// CK_FOR_WINDOW_TAPS with the tap's value `a` and its flat index `flat` as the Indices output reports it.
#define FOR_EACH_TAP(BODY)                                                                                          \
    CK_FOR_WINDOW_TAPS({                                                                                           \
        const float a = xp[pos];                                                                                   \
        const int64_t flat = plane * IS + (d->column_major ? ih + iw * IH : pos);                                  \
        BODY                                                                                                        \
    })

int ck_stochpool_ncx_f32(const ck_pool_desc *d, int expectation, uint64_t seed, const float *x, int64_t x_count,
                         float *y, int64_t y_count, int64_t *indices, int threads) {
    int status = ck_pool_check(d, x, x_count, y, y_count);
    if (status != CK_OK) return status;
    const ck_window *g = &d->g;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2], OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t IS = ID * IH * IW, OS = OD * OH * OW;
    const uint64_t key = mix(seed ^ 0x6A09E667F3BCC909ull);
#pragma omp parallel for num_threads(ck_team_for(threads, ck_work3(y_count, ck_prod3(g->kernel), 4))) schedule(static)
    for (int64_t w = 0; w < y_count; w++) {
        const int64_t plane = w / OS, ow = w % OW, oh = (w / OW) % OH, od = (w / (OW * OH)) % OD;
        const float *xp = x + plane * IS;
        double sum = 0.0, weighted = 0.0, plain = 0.0;
        int64_t count = 0, nan_index = -1;
        FOR_EACH_TAP({
            if (a != a) {
                if (nan_index < 0) nan_index = flat;
            } else {
                if (a > 0) { sum += a; weighted += (double)a * a; }
                plain += a;
            }
            count++;
        })
        float value;
        int64_t index = -1;
        if (nan_index >= 0) {
            value = NAN;
            index = nan_index;
        } else if (count == 0) {  // no tap inside the input
            value = 0.0f;
        } else if (expectation) {
            value = (float)(sum > 0 ? weighted / sum : plain / (double)count);
        } else {
            const double u = (double)(mix(key + (uint64_t)w) >> 11) * 0x1.0p-53;
            const double target = u * sum;
            const int64_t pick = sum > 0 ? -1 : ck_min((int64_t)(u * (double)count), count - 1);
            double run = 0.0;
            int64_t k = 0, last_positive = -1;
            float last_value = 0.0f;
            value = 0.0f;
            FOR_EACH_TAP({
                if (index < 0) {
                    if (pick >= 0) {
                        if (k == pick) { index = flat; value = a; }
                    } else if (a > 0) {
                        run += a;
                        last_positive = flat; last_value = a;
                        if (run > target) { index = flat; value = a; }
                    }
                }
                k++;
            })
            if (index < 0) { index = last_positive; value = last_value; }  // u·S rounded up to S
        }
        y[w] = value;
        if (indices) indices[w] = index;
    }
    return CK_OK;
}
