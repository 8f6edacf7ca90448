// MaxUnpool gradient: the forward scatter's transpose is a gather, dx[i] = dy[target(index[i])].
#include "../common/ck_internal.h"

int ck_maxunpool_ncx_backward_f32(int64_t batch, int64_t channels, int64_t spatial_rank, const int64_t *space,
                                  const int64_t *out, const float *dy, int64_t dy_count, const int64_t *index,
                                  float *dx, int64_t dx_count, int threads) {
    if (batch < 0 || channels < 0 || spatial_rank < 1 || spatial_rank > 3 || !space || !out) return CK_ERR_ARGUMENT;
    int64_t sp[3] = {1, 1, 1}, op[3] = {1, 1, 1};
    for (int64_t a = 0; a < spatial_rank; a++) {
        sp[3 - spatial_rank + a] = space[a];
        op[3 - spatial_rank + a] = out[a];
        if (space[a] < 0 || out[a] < space[a]) return CK_ERR_ARGUMENT;
    }
    const int64_t planes = ck_mul(batch, channels), SS = ck_prod3(sp), OS = ck_prod3(op);
    if (planes < 0 || SS < 0 || OS < 0 || ck_mul(planes, OS) != dy_count || dx_count < 0) return CK_ERR_ARGUMENT;
    if ((dx_count && (!dx || !index)) || (dy_count && !dy)) return CK_ERR_ARGUMENT;
    const int64_t limit = ck_mul(planes, SS), sh = sp[1], sw = sp[2], oh = op[1], ow = op[2];
    int bad = 0;
#pragma omp parallel for num_threads(ck_team_for(threads, dx_count)) schedule(static) reduction(|| : bad)
    for (int64_t i = 0; i < dx_count; i++) {
        const int64_t k = index[i];
        if (k < 0 || k >= limit) {
            bad = 1;
            dx[i] = 0.0f;
            continue;
        }
        dx[i] = dy[k / SS * OS + (k % SS / (sh * sw) * oh + k % (sh * sw) / sw) * ow + k % sw];
    }
    return bad ? CK_ERR_ARGUMENT : CK_OK;
}
