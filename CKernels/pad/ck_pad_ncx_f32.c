// Pad (ONNX Pad-19) on a contiguous tensor of any rank, and its adjoint. Both walk rows of the last axis: a row
// of the output is a constant fill, a copy of the middle of one input row, and a few border positions mapped by
// ck_border_index. Work is proportional to the output (and, backward, to the input gradient).
#include "../common/ck_internal.h"
#include "../common/ck_border.h"
#include <stdlib.h>
#include <string.h>

enum { CK_PAD_MAX_RANK = 16 };
#define CK_PAD_MAX_BEGIN ((int64_t)1 << 60)

static int pad_check(int64_t rank, const int64_t *in, const int64_t *start, const int64_t *extent, const int64_t *begin,
                     const int64_t *out, int mode, int64_t in_count, int64_t out_count) {
    if (rank < 0 || rank > CK_PAD_MAX_RANK || (rank && (!in || !start || !extent || !begin || !out))) return CK_ERR_ARGUMENT;
    if (mode < CK_BORDER_CONSTANT || mode > CK_BORDER_WRAP) return CK_ERR_ARGUMENT;
    int64_t ni = 1, no = 1;
    int empty_in = 0, empty_out = 0;
    for (int64_t k = 0; k < rank; k++) {
        if (in[k] < 0 || out[k] < 0 || start[k] < 0 || extent[k] < 0 || start[k] > in[k] || extent[k] > in[k] - start[k])
            return CK_ERR_ARGUMENT;
        if (begin[k] < 0 || begin[k] > CK_PAD_MAX_BEGIN || begin[k] > out[k]) return CK_ERR_ARGUMENT;
        // A non-constant mode needs a source position on every axis that has outputs.
        if (mode != CK_BORDER_CONSTANT && extent[k] == 0 && out[k] > 0) return CK_ERR_ARGUMENT;
        empty_in |= in[k] == 0;
        empty_out |= out[k] == 0;
    }
    // Products only of non-empty shapes: an empty tensor's other extents may be anything.
    for (int64_t k = 0; k < rank && !empty_in; k++) ni = ck_mul(ni, in[k]);
    for (int64_t k = 0; k < rank && !empty_out; k++) no = ck_mul(no, out[k]);
    if (empty_in) ni = 0;
    if (empty_out) no = 0;
    if (ni < 0 || no < 0 || ni != in_count || no != out_count) return CK_ERR_ARGUMENT;
    return CK_OK;
}

/// Input position (of the full axis k) that output position o reads, or -1 in a constant border.
static inline int64_t source_index(int64_t o, int64_t k, const int64_t *start, const int64_t *extent,
                                   const int64_t *begin, int mode) {
    const int64_t i = extent[k] ? ck_border_index(o - begin[k], extent[k], mode) : -1;
    return i < 0 ? -1 : start[k] + i;
}

/// Flat input row read by output row r (the outer coordinates of r), or -1 when it lies in a constant border.
static int64_t source_row(int64_t r, int64_t rank, const int64_t *in, const int64_t *start, const int64_t *extent,
                          const int64_t *begin, const int64_t *out, int mode) {
    int64_t coord[CK_PAD_MAX_RANK];
    for (int64_t k = rank - 2; k >= 0; k--) {
        coord[k] = r % out[k];
        r /= out[k];
    }
    int64_t row = 0;
    for (int64_t k = 0; k + 1 < rank; k++) {
        const int64_t i = source_index(coord[k], k, start, extent, begin, mode);
        if (i < 0) return -1;
        row = row * in[k] + i;
    }
    return row;
}

int ck_pad_ncx_f32(int64_t rank, const int64_t *in, const int64_t *start, const int64_t *extent, const int64_t *begin,
                   const int64_t *out, int mode, float value, const float *x, int64_t x_count, float *y, int64_t y_count,
                   int threads) {
    if (pad_check(rank, in, start, extent, begin, out, mode, x_count, y_count) != CK_OK) return CK_ERR_ARGUMENT;
    if ((x_count && !x) || (y_count && !y)) return CK_ERR_ARGUMENT;
    if (y_count == 0) return CK_OK;
    if (rank == 0) {
        y[0] = x[0];
        return CK_OK;
    }
    // Along the last axis: kept columns [sw, sw + IW) of each input row; output columns [lo, hi) copy kept columns
    // [lo - bw, hi - bw).
    const int64_t IW = extent[rank - 1], sw = start[rank - 1], OW = out[rank - 1], bw = begin[rank - 1];
    const int64_t rows = y_count / OW, lo = ck_min(bw, OW), hi = ck_max(lo, ck_min(bw + IW, OW));
#pragma omp parallel for num_threads(ck_team_for(threads, y_count)) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * OW;
        const int64_t src = IW ? source_row(r, rank, in, start, extent, begin, out, mode) : -1;
        if (src < 0) {
            for (int64_t o = 0; o < OW; o++) yr[o] = value;
            continue;
        }
        const float *xr = x + src * in[rank - 1] + sw;
        if (hi > lo) memcpy(yr + lo, xr + (lo - bw), (size_t)(hi - lo) * sizeof(float));
        if (mode == CK_BORDER_CONSTANT) {
            for (int64_t o = 0; o < lo; o++) yr[o] = value;
            for (int64_t o = hi; o < OW; o++) yr[o] = value;
        } else {
            for (int64_t o = 0; o < lo; o++) yr[o] = xr[ck_border_index(o - bw, IW, mode)];
            for (int64_t o = hi; o < OW; o++) yr[o] = xr[ck_border_index(o - bw, IW, mode)];
        }
    }
    return CK_OK;
}

int ck_pad_ncx_backward_f32(int64_t rank, const int64_t *in, const int64_t *start, const int64_t *extent,
                            const int64_t *begin, const int64_t *out, int mode, const float *dy, int64_t dy_count,
                            float *dx, int64_t dx_count, int threads) {
    if (pad_check(rank, in, start, extent, begin, out, mode, dx_count, dy_count) != CK_OK) return CK_ERR_ARGUMENT;
    if ((dx_count && !dx) || (dy_count && !dy)) return CK_ERR_ARGUMENT;
    if (dx_count == 0) return CK_OK;
    if (dy_count == 0) {
        memset(dx, 0, (size_t)dx_count * sizeof(float));
        return CK_OK;
    }
    if (rank == 0) {
        dx[0] = dy[0];
        return CK_OK;
    }
    // Per outer axis, the output positions reading each input position (CSR: start[k][i] .. start[k][i + 1]), in
    // increasing order. Each input row then sums its output rows in one fixed order: bitwise the same for any team.
    int64_t total = 0;
    for (int64_t k = 0; k + 1 < rank; k++) total += in[k] + 1 + out[k];
    int64_t *csr = malloc((size_t)ck_max(1, total) * sizeof(int64_t));
    if (!csr) return CK_ERR_NOMEM;
    int64_t *first[CK_PAD_MAX_RANK], *list[CK_PAD_MAX_RANK];
    int64_t *next = csr;
    for (int64_t k = 0; k + 1 < rank; k++) {
        first[k] = next;
        list[k] = next + in[k] + 1;
        next = list[k] + out[k];
        memset(first[k], 0, (size_t)(in[k] + 1) * sizeof(int64_t));
        for (int64_t o = 0; o < out[k]; o++) {
            const int64_t i = source_index(o, k, start, extent, begin, mode);
            if (i >= 0) first[k][i + 1]++;
        }
        for (int64_t i = 0; i < in[k]; i++) first[k][i + 1] += first[k][i];
        // Fill with first[i] as the cursor of position i, then shift the starts back into place.
        for (int64_t o = 0; o < out[k]; o++) {
            const int64_t i = source_index(o, k, start, extent, begin, mode);
            if (i >= 0) list[k][first[k][i]++] = o;
        }
        for (int64_t i = in[k]; i > 0; i--) first[k][i] = first[k][i - 1];
        first[k][0] = 0;
    }
    const int64_t IW = extent[rank - 1], sw = start[rank - 1], OW = out[rank - 1], bw = begin[rank - 1];
    const int64_t rows = dx_count / in[rank - 1], lo = ck_min(bw, OW), hi = ck_max(lo, ck_min(bw + IW, OW));
#pragma omp parallel for num_threads(ck_team_for(threads, dx_count + dy_count)) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        memset(dx + r * in[rank - 1], 0, (size_t)in[rank - 1] * sizeof(float));
        float *g = dx + r * in[rank - 1] + sw;  // the kept columns
        int64_t coord[CK_PAD_MAX_RANK], pick[CK_PAD_MAX_RANK];
        int64_t rest = r, empty = 0;
        for (int64_t k = rank - 2; k >= 0; k--) {
            coord[k] = rest % in[k];
            rest /= in[k];
            pick[k] = first[k][coord[k]];
            empty |= pick[k] == first[k][coord[k] + 1];
        }
        if (empty || IW == 0) continue;  // no output row reads this input row (cropped away)
        for (;;) {
            int64_t orow = 0;
            for (int64_t k = 0; k + 1 < rank; k++) orow = orow * out[k] + list[k][pick[k]];
            const float *d = dy + orow * OW;
            for (int64_t o = lo; o < hi; o++) g[o - bw] += d[o];
            if (mode != CK_BORDER_CONSTANT) {
                for (int64_t o = 0; o < lo; o++) g[ck_border_index(o - bw, IW, mode)] += d[o];
                for (int64_t o = hi; o < OW; o++) g[ck_border_index(o - bw, IW, mode)] += d[o];
            }
            // Next combination of output rows, last outer axis fastest.
            int64_t k = rank - 2;
            while (k >= 0) {
                if (++pick[k] < first[k][coord[k] + 1]) break;
                pick[k] = first[k][coord[k]];
                k--;
            }
            if (k < 0) break;
        }
    }
    free(csr);
    return CK_OK;
}
