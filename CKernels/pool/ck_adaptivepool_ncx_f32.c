// Adaptive max / average pooling (PyTorch's window rule: output i of an axis of extent L with `out` outputs pools
// [floor(i·L/out), ceil((i+1)·L/out))) and its gradient. Windows differ per output, so each axis gets a table of
// window bounds once per call. Forward work items are output rows (plane, od, oh); backward, planes (a window's
// gradient scatters within its plane, in one fixed order).
#include "../common/ck_internal.h"
#include <stdlib.h>
#include <string.h>

typedef struct adaptive_geometry {
    int64_t in[3], out[3];
    int64_t *lo[3], *hi[3];  // per axis, window bounds of each output
    int64_t *table;
} adaptive_geometry;

static int adaptive_init(adaptive_geometry *g, int64_t planes, int64_t rank, const int64_t *in, const int64_t *out,
                         int64_t x_count, int64_t y_count) {
    memset(g, 0, sizeof *g);
    if (planes < 0 || rank < 1 || rank > 3 || !in || !out) return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++) g->in[a] = g->out[a] = 1;
    for (int64_t a = 0; a < rank; a++) {
        g->in[3 - rank + a] = in[a];
        g->out[3 - rank + a] = out[a];
        if (in[a] < 1 || out[a] < 1 || ck_mul(out[a], in[a] + 1) < 0) return CK_ERR_ARGUMENT;
    }
    const int64_t is = ck_prod3(g->in), os = ck_prod3(g->out);
    if (is < 0 || os < 0 || ck_mul(planes, is) != x_count || ck_mul(planes, os) != y_count) return CK_ERR_ARGUMENT;
    g->table = malloc((size_t)(2 * (g->out[0] + g->out[1] + g->out[2])) * sizeof(int64_t));
    if (!g->table) return CK_ERR_NOMEM;
    int64_t *next = g->table;
    for (int a = 0; a < 3; a++) {
        g->lo[a] = next;
        g->hi[a] = next + g->out[a];
        next += 2 * g->out[a];
        const int64_t L = g->in[a], O = g->out[a];
        for (int64_t i = 0; i < O; i++) {
            g->lo[a][i] = i * L / O;
            g->hi[a][i] = ((i + 1) * L + O - 1) / O;
        }
    }
    return CK_OK;
}

int ck_adaptivepool_ncx_f32(int kind, int64_t planes, int64_t rank, const int64_t *in, const int64_t *out,
                            const float *x, int64_t x_count, float *y, int64_t y_count, int64_t *index, int threads) {
    if (kind != CK_ADAPTIVE_MAX && kind != CK_ADAPTIVE_AVERAGE) return CK_ERR_ARGUMENT;
    if (y_count == 0 && planes == 0) return CK_OK;
    adaptive_geometry g;
    const int status = adaptive_init(&g, planes, rank, in, out, x_count, y_count);
    if (status != CK_OK) return status;
    if ((x_count && !x) || (y_count && !y)) {
        free(g.table);
        return CK_ERR_ARGUMENT;
    }
    const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2], OD = g.out[0], OH = g.out[1], OW = g.out[2];
    const int64_t rows = planes * OD * OH;
#pragma omp parallel for num_threads(ck_team_for(threads, x_count + y_count)) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t oh = r % OH, od = r / OH % OD, plane = r / (OH * OD);
        const float *xp = x + plane * ID * IH * IW;
        float *yr = y + r * OW;
        for (int64_t ow = 0; ow < OW; ow++) {
            const int64_t d0 = g.lo[0][od], d1 = g.hi[0][od], h0 = g.lo[1][oh], h1 = g.hi[1][oh];
            const int64_t w0 = g.lo[2][ow], w1 = g.hi[2][ow];
            if (kind == CK_ADAPTIVE_MAX) {
                float best = xp[(d0 * IH + h0) * IW + w0];
                int64_t arg = (d0 * IH + h0) * IW + w0;
                for (int64_t d = d0; d < d1 && best == best; d++)
                    for (int64_t h = h0; h < h1 && best == best; h++) {
                        const float *row = xp + (d * IH + h) * IW;
                        for (int64_t w = w0; w < w1; w++) {
                            const float v = row[w];
                            if (v != v) {  // the first NaN wins
                                best = v;
                                arg = (d * IH + h) * IW + w;
                                break;
                            }
                            if (v > best) {
                                best = v;
                                arg = (d * IH + h) * IW + w;
                            }
                        }
                    }
                yr[ow] = best;
                if (index) index[r * OW + ow] = plane * ID * IH * IW + arg;
            } else {
                float sum = 0.0f;
                for (int64_t d = d0; d < d1; d++)
                    for (int64_t h = h0; h < h1; h++) {
                        const float *row = xp + (d * IH + h) * IW;
#pragma omp simd reduction(+ : sum)
                        for (int64_t w = w0; w < w1; w++) sum += row[w];
                    }
                yr[ow] = sum / (float)((d1 - d0) * (h1 - h0) * (w1 - w0));
            }
        }
    }
    free(g.table);
    return CK_OK;
}

int ck_adaptivepool_ncx_backward_f32(int kind, int64_t planes, int64_t rank, const int64_t *in, const int64_t *out,
                                     const float *x, int64_t x_count, const float *dy, int64_t dy_count, float *dx,
                                     int64_t dx_count, int threads) {
    if (kind != CK_ADAPTIVE_MAX && kind != CK_ADAPTIVE_AVERAGE) return CK_ERR_ARGUMENT;
    if (dy_count == 0 && planes == 0) return CK_OK;
    adaptive_geometry g;
    const int status = adaptive_init(&g, planes, rank, in, out, dx_count, dy_count);
    if (status != CK_OK) return status;
    if (x_count != dx_count || (dx_count && (!x || !dx)) || (dy_count && !dy)) {
        free(g.table);
        return CK_ERR_ARGUMENT;
    }
    const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2], OD = g.out[0], OH = g.out[1], OW = g.out[2];
    const int64_t is = ID * IH * IW, os = OD * OH * OW;
#pragma omp parallel for num_threads(ck_team_for(threads, dx_count + dy_count)) schedule(static)
    for (int64_t plane = 0; plane < planes; plane++) {
        const float *xp = x + plane * is, *dyp = dy + plane * os;
        float *g_ = dx + plane * is;
        memset(g_, 0, (size_t)is * sizeof(float));
        for (int64_t o = 0; o < os; o++) {
            const int64_t ow = o % OW, oh = o / OW % OH, od = o / (OW * OH);
            const int64_t d0 = g.lo[0][od], d1 = g.hi[0][od], h0 = g.lo[1][oh], h1 = g.hi[1][oh];
            const int64_t w0 = g.lo[2][ow], w1 = g.hi[2][ow];
            if (kind == CK_ADAPTIVE_MAX) {
                int64_t arg = (d0 * IH + h0) * IW + w0;
                float best = xp[arg];
                for (int64_t d = d0; d < d1 && best == best; d++)
                    for (int64_t h = h0; h < h1 && best == best; h++)
                        for (int64_t w = w0; w < w1; w++) {
                            const float v = xp[(d * IH + h) * IW + w];
                            if (v != v || v > best) {
                                best = v;
                                arg = (d * IH + h) * IW + w;
                                if (v != v) break;
                            }
                        }
                g_[arg] += dyp[o];
            } else {
                const float share = dyp[o] / (float)((d1 - d0) * (h1 - h0) * (w1 - w0));
                for (int64_t d = d0; d < d1; d++)
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++) g_[(d * IH + h) * IW + w] += share;
            }
        }
    }
    free(g.table);
    return CK_OK;
}
