#ifndef CK_CONV_INTERNAL_H
#define CK_CONV_INTERNAL_H
#include "../common/ck_internal.h"

/// Validates a conv (transpose = 0) or conv-transpose (1) descriptor against the tensor counts.
int ck_conv_check(const ck_conv_desc *d, const float *x, int64_t x_count, const float *w, int64_t w_count,
                  const float *y, int64_t y_count, int transpose);

/// The weights as cross-correlation wants them: `w` itself, or (flip mode) a flipped copy stored in *owned.
/// Returns NULL when the copy cannot be allocated.
const float *ck_conv_weights(const ck_conv_desc *d, const float *w, int64_t w_count, float **owned);

/// Fills y[n, m, :] with bias[m] (or 0) for every n, m; `spatial` elements per channel.
void ck_fill_bias(float *y, int64_t batch, int64_t channels, int64_t spatial, const float *bias, int threads);

/// Adds column block rows of one channel into its image: column (b_d, b_h, b_w) of row (k_d, k_h, k_w) lands on
/// image position b*stride - pad + k*dilation when that lies inside g->in. `col` holds Πkernel rows of `ld`
/// floats; its columns are grid positions [p0, p1) of the grid g->out.
void ck_col2im_add(const ck_window *g, const float *col, int64_t ld, int64_t p0, int64_t p1, float *image);

#endif
