// MaxUnpool: scatter x[i] to y at the position index[i] names. Later inputs win on collisions: when every index
// stays inside its own (n, c) plane (what MaxPool produces) planes are independent and run in parallel; otherwise
// the scatter runs in input order on one thread.
#include "../common/ck_internal.h"

int ck_maxunpool_ncx_f32(int64_t batch, int64_t channels, int64_t spatial_rank, const int64_t *space,
                         const int64_t *out, const float *x, const int64_t *index, int64_t x_count, float *y,
                         int64_t y_count, int threads) {
    if (batch < 0 || channels < 0 || spatial_rank < 1 || spatial_rank > 3 || !space || !out) return CK_ERR_ARGUMENT;
    int64_t sp[3] = {1, 1, 1}, op[3] = {1, 1, 1};
    for (int64_t a = 0; a < spatial_rank; a++) {
        sp[3 - spatial_rank + a] = space[a];
        op[3 - spatial_rank + a] = out[a];
        if (space[a] < 0 || out[a] < space[a]) return CK_ERR_ARGUMENT;
    }
    const int64_t planes = ck_mul(batch, channels), SS = ck_prod3(sp), OS = ck_prod3(op);
    if (planes < 0 || SS < 0 || OS < 0 || ck_mul(planes, OS) != y_count || x_count < 0) return CK_ERR_ARGUMENT;
    if ((x_count && (!x || !index)) || (y_count && !y)) return CK_ERR_ARGUMENT;
    const int64_t limit = ck_mul(planes, SS);
    if (planes == 0 || x_count == 0) return CK_OK;
    if (x_count % planes) return CK_ERR_ARGUMENT;
    const int64_t per_plane = x_count / planes;
    int in_plane = 1, bad = 0;
#pragma omp parallel for num_threads(ck_team_for(threads, x_count)) schedule(static) reduction(&& : in_plane) reduction(|| : bad)
    for (int64_t i = 0; i < x_count; i++) {
        const int64_t k = index[i];
        if (k < 0 || k >= limit) bad = 1;
        else if (k / SS != i / per_plane) in_plane = 0;
    }
    if (bad) return CK_ERR_ARGUMENT;
    const int64_t sh = sp[1], sw = sp[2], oh = op[1], ow = op[2];
#define TARGET(k) ((k) / SS * OS + ((k) % SS / (sh * sw) * oh + (k) % (sh * sw) / sw) * ow + (k) % sw)
    if (in_plane) {
#pragma omp parallel for num_threads(ck_team_for(threads, x_count)) schedule(static)
        for (int64_t p = 0; p < planes; p++)
            for (int64_t i = p * per_plane; i < (p + 1) * per_plane; i++) y[TARGET(index[i])] = x[i];
    } else {
        for (int64_t i = 0; i < x_count; i++) y[TARGET(index[i])] = x[i];
    }
#undef TARGET
    return CK_OK;
}
