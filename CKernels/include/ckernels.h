// CKernels: the C backend's kernels (float32, channel-first contiguous tensors). See CKernels/README.md.
//
// Conventions shared by every kernel:
// - Names are ck_<op>_<layout>_<algo>_f32. Layout `ncx` = N, C, then 1–3 spatial axes, contiguous, last axis
//   fastest (NCL, NCHW, NCDHW). Spatial geometry is always passed as 3 axes (d, h, w); a 1-D or 2-D problem puts
//   size 1 / kernel 1 / stride 1 / pad 0 on its leading unused axes.
// - Every tensor argument comes with its element count. The kernel checks that the counts match the descriptor and
//   that all sizes are sane, and returns a CK_ status instead of reading or writing out of bounds. It never aborts.
// - `threads` is the OpenMP team size (values < 1 mean 1). Work is split over independent outputs only, in fixed
//   blocks, so results are bitwise identical for every thread count.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CK_OK = 0,
    CK_ERR_ARGUMENT = 1,  // a size, count or parameter that does not fit the descriptor
    CK_ERR_NOMEM = 2,     // workspace allocation failed
};

/// Sliding-window geometry along (d, h, w). For ConvTranspose, `in` is the input grid and `out` the output image,
/// related by o = i*stride - pad + k*dilation; `pad` may then be negative.
typedef struct ck_window {
    int64_t in[3], out[3], kernel[3], stride[3], dilation[3], pad[3];
} ck_window;

/// Number of processors OpenMP sees.
int ck_num_procs(void);

// ---- conv/ ----------------------------------------------------------------------------------------------------

typedef struct ck_conv_desc {
    int64_t batch, in_channels, out_channels, groups;
    ck_window g;        // g.in = input spatial, g.out = output spatial
    int flip;           // 1 = true convolution (kernel flipped along every spatial axis)
} ck_conv_desc;

/// Conv, direct loops: y[n,m,o] = bias[m] + Σ_c,k x[n,c,o*s+k*d-p]·w[m,c,k]. x [N,C,in], w [M,C/g,k], bias [M] or NULL.
int ck_conv_ncx_direct_f32(const ck_conv_desc *desc, const float *x, int64_t x_count, const float *w, int64_t w_count,
                           const float *bias, float *y, int64_t y_count, int threads);
/// Bytes of workspace ck_conv_ncx_direct_f32 allocates for this problem and thread count (-1: invalid).
int64_t ck_conv_ncx_direct_workspace_f32(const ck_conv_desc *desc, int threads);
/// Conv, im2col tiles (workspace <= 16 MiB per call) + cblas_sgemm.
int ck_conv_ncx_im2col_gemm_f32(const ck_conv_desc *desc, const float *x, int64_t x_count, const float *w,
                                int64_t w_count, const float *bias, float *y, int64_t y_count, int threads);
/// Bytes of workspace ck_conv_ncx_im2col_gemm_f32 allocates for this problem and thread count (-1: invalid).
int64_t ck_conv_ncx_im2col_gemm_workspace_f32(const ck_conv_desc *desc, int threads);
/// Conv with a 1×1 kernel, stride 1, no padding: straight cblas_sgemm on the input, no copy.
int ck_conv_ncx_gemm1x1_f32(const ck_conv_desc *desc, const float *x, int64_t x_count, const float *w, int64_t w_count,
                            const float *bias, float *y, int64_t y_count, int threads);

/// ConvTranspose: x [N,C,in], w [C,M/g,k], bias [M] or NULL, y [N,M,out]; cblas_sgemm into column tiles, then col2im.
int ck_convtranspose_ncx_gemm_col2im_f32(const ck_conv_desc *desc, const float *x, int64_t x_count, const float *w,
                                         int64_t w_count, const float *bias, float *y, int64_t y_count, int threads);

/// Col2Im: x [N, C·Πk, Πout] (column blocks on the grid g.out), y [N, C, g.in]; overlapping blocks are summed.
int ck_col2im_ncx_f32(const ck_window *g, int64_t batch, int64_t channels, const float *x, int64_t x_count, float *y,
                      int64_t y_count, int threads);

// ---- pool/ ----------------------------------------------------------------------------------------------------

typedef struct ck_pool_desc {
    int64_t batch, channels;
    ck_window g;        // g.pad = pad before; pad_end gives the explicit end padding (count_include_pad)
    int64_t pad_end[3];
    int64_t spatial_rank;     // 1, 2 or 3 (index formula and storage order)
    int column_major;         // MaxPool storage_order = 1 (2-D only)
} ck_pool_desc;

/// MaxPool; `indices` (flat input positions, int64) may be NULL. NaN in a window gives NaN (the first NaN's index);
/// ties give the first in row-major window order.
int ck_maxpool_ncx_f32(const ck_pool_desc *desc, const float *x, int64_t x_count, float *y, int64_t y_count,
                       int64_t *indices, int threads);
/// AveragePool; count_include_pad counts taps inside the input or the explicit padding.
int ck_avgpool_ncx_f32(const ck_pool_desc *desc, int count_include_pad, const float *x, int64_t x_count, float *y,
                       int64_t y_count, int threads);
/// LpPool: (Σ |x|^p)^(1/p) over taps inside the input.
int ck_lppool_ncx_f32(const ck_pool_desc *desc, float p, const float *x, int64_t x_count, float *y, int64_t y_count,
                      int threads);
/// Stochastic pooling. expectation = 0: sample with the (seed, window) generator, `indices` may be NULL;
/// expectation = 1: Σ p_i·a_i (seed and indices unused).
int ck_stochpool_ncx_f32(const ck_pool_desc *desc, int expectation, uint64_t seed, const float *x, int64_t x_count,
                         float *y, int64_t y_count, int64_t *indices, int threads);

// ---- resize/ --------------------------------------------------------------------------------------------------

/// One resized axis as a tap table: output position o reads `taps` input positions index[o*taps + t] with weights
/// weight[o*taps + t]; outside[o] != 0 marks positions outside the input (tf_crop_and_resize extrapolation).
typedef struct ck_resize_axis {
    int64_t in, out, taps;
    const int64_t *index;   // out*taps entries, each in [0, in)
    const float *weight;    // out*taps entries (unused by nearest)
    const uint8_t *outside; // out entries, or NULL
} ck_resize_axis;

/// Resize of `planes` independent [d, h, w] volumes by per-axis tap tables; every output outside on any axis gets
/// `extrapolation`. nearest = 1 copies the single tap (bit-exact); otherwise the separable weighted sum.
int ck_resize_ncx_taps_f32(int64_t planes, const ck_resize_axis axes[3], int nearest, float extrapolation,
                           const float *x, int64_t x_count, float *y, int64_t y_count, int threads);

// ---- shuffle/ -------------------------------------------------------------------------------------------------

/// DepthToSpace (space_to_depth = 0) or SpaceToDepth (1) on NCHW; crd = 1 for the CRD channel order.
/// n, c, h, w describe the DepthToSpace output / SpaceToDepth input [N, C, H, W] (the spatially large side).
int ck_pixelshuffle_nchw_f32(int space_to_depth, int crd, int64_t n, int64_t c, int64_t h, int64_t w, int64_t block,
                             const float *x, int64_t x_count, float *y, int64_t y_count, int threads);

// ---- unpool/ --------------------------------------------------------------------------------------------------

/// MaxUnpool: y (zeroed by the caller) [N, C, out]; value i goes to index[i], a flat position in the index space
/// [N, C, space], mapped to the same (n, c, spatial) position in y. Later inputs win on collisions.
/// `spatial_rank` axes; out/space hold the spatial extents.
int ck_maxunpool_ncx_f32(int64_t batch, int64_t channels, int64_t spatial_rank, const int64_t *space,
                         const int64_t *out, const float *x, const int64_t *index, int64_t x_count, float *y,
                         int64_t y_count, int threads);

#ifdef __cplusplus
}
#endif
#endif
