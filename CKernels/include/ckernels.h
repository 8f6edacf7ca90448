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

/// Puts OpenBLAS in single-threaded mode (once per process; every GEMM tile is one call from one OpenMP thread).
/// Called before the first kernel runs, so that OpenBLAS's own pthread pool never competes with the OpenMP team,
/// even in processes that never reach an sgemm.
void ck_blas_single_threaded(void);

/// CK_OK when every kernel can take this geometry: sizes >= 0, kernel/stride/dilation >= 1, and every coordinate
/// expression o·s + k·d − p within ±2^60 (the adapter declines anything else before a kernel sees it).
int ck_window_check(const ck_window *g);

// ---- instruction sets (common/ck_cpu.c) ------------------------------------------------------------------------

/// Instruction-set variants, worst to best. A kernel with ISA variants takes the variant to run as an `isa`
/// argument and runs the best one available at or below it.
enum {
    CK_ISA_PORTABLE = 0,  // plain C (whatever the compiler's baseline target vectorises)
    CK_ISA_AVX2 = 1,      // x86-64-v3: AVX2 + FMA, 256-bit
    CK_ISA_AVX512 = 2,    // x86-64-v4: AVX-512 F/BW/DQ/VL, 512-bit
    CK_ISA_COUNT = 3
};
/// The best variant this CPU and OS support.
int ck_isa_detect(void);
/// `requested` capped at what the CPU supports; a negative request means "the best".
int ck_isa_resolve(int requested);
/// "portable", "avx2", "avx512".
const char *ck_isa_name(int isa);
/// Per-core L1 data and L2 cache sizes in bytes (32 KiB / 1 MiB when the system does not say).
void ck_cache_sizes(int64_t *l1, int64_t *l2);

// ---- conv/ ----------------------------------------------------------------------------------------------------

typedef struct ck_conv_desc {
    int64_t batch, in_channels, out_channels, groups;
    ck_window g;        // g.in = input spatial, g.out = output spatial
    int flip;           // 1 = true convolution (kernel flipped along every spatial axis)
} ck_conv_desc;

/// Conv, direct loops: y[n,m,o] = bias[m] + Σ_c,k x[n,c,o*s+k*d-p]·w[m,c,k]. x [N,C,in], w [M,C/g,k], bias [M] or NULL.
/// `isa`: the best CK_ISA_ variant at or below it runs (negative: the best the CPU has); the AVX2 and AVX-512
/// variants give the same bits, the portable one may differ in rounding; each is bitwise reproducible across
/// thread counts.
int ck_conv_ncx_direct_f32(const ck_conv_desc *desc, const float *x, int64_t x_count, const float *w, int64_t w_count,
                           const float *bias, float *y, int64_t y_count, int threads, int isa);
/// Bytes of workspace ck_conv_ncx_direct_f32 allocates at most (any isa) for this problem and thread count
/// (-1: invalid).
int64_t ck_conv_ncx_direct_workspace_f32(const ck_conv_desc *desc, int threads);
/// Conv, im2col tiles (workspace <= 16 MiB per call) + cblas_sgemm.
int ck_conv_ncx_im2col_gemm_f32(const ck_conv_desc *desc, const float *x, int64_t x_count, const float *w,
                                int64_t w_count, const float *bias, float *y, int64_t y_count, int threads);
/// Bytes of workspace ck_conv_ncx_im2col_gemm_f32 allocates for this problem and thread count (-1: invalid).
int64_t ck_conv_ncx_im2col_gemm_workspace_f32(const ck_conv_desc *desc, int threads);
/// Conv with a 1×1 kernel, stride 1, no padding: straight cblas_sgemm on the input, no copy.
int ck_conv_ncx_gemm1x1_f32(const ck_conv_desc *desc, const float *x, int64_t x_count, const float *w, int64_t w_count,
                            const float *bias, float *y, int64_t y_count, int threads);

/// y[i] = min(max(y[i], lo), hi) for count elements (the fused activation of the kernels that have no epilogue
/// for it); lo = -INFINITY and hi = INFINITY do nothing. NaN stays NaN.
int ck_clamp_f32(float *y, int64_t count, float lo, float hi, int threads);

/// The convolution algorithms, in the order of conv/ck_conv_algorithms.def (the list the Swift adapter, the
/// tests and the benchmarks read): number of entries, and the name of entry i (NULL outside the list).
int ck_conv_algorithm_count(void);
const char *ck_conv_algorithm_name(int i);

/// A prepared implicit-GEMM convolution (opaque): geometry, offset table, ISA and optionally packed weights.
typedef struct ck_conv_gemm ck_conv_gemm;
/// Prepares conv `d` for implicit GEMM with ISA `isa` (capped by ck_isa_resolve; negative = best) for up to
/// `threads` threads (they pack the weights); epilogue clamp [act_lo, act_hi] (-INFINITY/INFINITY = none, 0/INFINITY
/// = ReLU). When `w` is non-NULL its w_count floats ([M, C/G, k…], flipped if d->flip) are packed into the plan.
/// Returns CK_OK and *out, or an error status (CK_ERR_ARGUMENT when the descriptor is invalid or sizes are beyond
/// what it handles, CK_ERR_NOMEM) and *out = NULL.
int ck_conv_ncx_implicit_gemm_prepare_f32(const ck_conv_desc *d, int isa, int threads, const float *w, int64_t w_count,
                                          float act_lo, float act_hi, ck_conv_gemm **out);
/// Runs a prepared plan: y = clamp(conv(x, w) + bias). `w` may be NULL when the plan holds packed weights;
/// otherwise w is packed into this run's workspace first. The plan is read-only during a run: several threads may
/// run the same plan at once. Results are bitwise identical for every `threads`.
int ck_conv_ncx_implicit_gemm_run_f32(const ck_conv_gemm *p, const float *x, int64_t x_count, const float *w,
                                      int64_t w_count, const float *bias, float *y, int64_t y_count, int threads);
/// Workspace bytes one run allocates: at most 16 MiB of input planes, and the packed weights
/// when `weights_given` (or the plan holds none). -1 for a NULL plan.
int64_t ck_conv_ncx_implicit_gemm_workspace_f32(const ck_conv_gemm *p, int threads, int weights_given);
/// Bytes the plan holds (packed weights included).
int64_t ck_conv_ncx_implicit_gemm_plan_bytes_f32(const ck_conv_gemm *p);
/// The ISA the plan's microkernels use (CK_ISA_*).
int ck_conv_ncx_implicit_gemm_isa(const ck_conv_gemm *p);
void ck_conv_ncx_implicit_gemm_destroy_f32(ck_conv_gemm *p);

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
/// ties give the first in row-major window order. `isa`: the best CK_ISA_ variant at or below it runs (negative:
/// the best the CPU has); every variant gives the same bits.
int ck_maxpool_ncx_f32(const ck_pool_desc *desc, const float *x, int64_t x_count, float *y, int64_t y_count,
                       int64_t *indices, int threads, int isa);
/// AveragePool; count_include_pad counts taps inside the input or the explicit padding. `isa` as for MaxPool
/// (variants may differ in rounding; each is bitwise reproducible across thread counts).
int ck_avgpool_ncx_f32(const ck_pool_desc *desc, int count_include_pad, const float *x, int64_t x_count, float *y,
                       int64_t y_count, int threads, int isa);
/// LpPool: (Σ |x|^p)^(1/p) over taps inside the input. `isa` as for AveragePool.
int ck_lppool_ncx_f32(const ck_pool_desc *desc, float p, const float *x, int64_t x_count, float *y, int64_t y_count,
                      int threads, int isa);
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
/// `isa` as for AveragePool (nearest is bit-exact in every variant).
int ck_resize_ncx_taps_f32(int64_t planes, const ck_resize_axis axes[3], int nearest, float extrapolation,
                           const float *x, int64_t x_count, float *y, int64_t y_count, int threads, int isa);

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

// ---- conv/ Winograd F(4x4, 3x3) (conv/ck_conv_nchw_winograd_f32.c) -------------------------------------------

/// A prepared Winograd F(4×4, 3×3) convolution (opaque): geometry, blocking, ISA and optionally transformed weights.
typedef struct ck_conv_winograd ck_conv_winograd;
/// Prepares 2-D conv `d` (3×3 kernel, stride 1, dilation 1, d axis of size 1 with no pad; any pads on h, w, the
/// end pads implied by g.out; groups, batch, flip) with ISA `isa` (capped by ck_isa_resolve; negative = best);
/// `threads` transform the weights. Epilogue clamp [act_lo, act_hi] (-INFINITY/INFINITY = none, 0/INFINITY = ReLU).
/// When `w` is non-NULL its w_count floats [M, C/G, 3, 3] are transformed (in double) into the plan. Returns CK_OK
/// and *out, or CK_ERR_ARGUMENT (any other geometry, bad sizes) / CK_ERR_NOMEM and *out = NULL.
int ck_conv_nchw_winograd_prepare_f32(const ck_conv_desc *d, int isa, int threads, const float *w, int64_t w_count,
                                      float act_lo, float act_hi, ck_conv_winograd **out);
/// Runs a prepared plan: y = clamp(conv(x, w) + bias), bias [M] or NULL. `w` may be NULL when the plan holds
/// transformed weights; otherwise w is transformed into this run's workspace first (and used instead of the
/// plan's). The plan is read-only during a run: several threads may run one plan at once. Results are bitwise
/// identical for every `threads`. Error: max|y − exact| / max|exact| ≤ 1e-4 (measured 1.5e-5 at 512→512 @14 on
/// normal data).
int ck_conv_nchw_winograd_run_f32(const ck_conv_winograd *p, const float *x, int64_t x_count, const float *w,
                                  int64_t w_count, const float *bias, float *y, int64_t y_count, int threads);
/// Workspace bytes one run allocates: per-thread transform blocks (about 1 MiB each, 1.8 MiB at 2048 channels
/// per group; independent of the image size), plus the transformed weights when `weights_given` (or the plan
/// holds none). -1 for a NULL plan.
int64_t ck_conv_nchw_winograd_workspace_f32(const ck_conv_winograd *p, int threads, int weights_given);
/// Bytes the plan holds (transformed weights included: about 36·(C/G)·(M/G) floats per group, 4× the weights).
int64_t ck_conv_nchw_winograd_plan_bytes_f32(const ck_conv_winograd *p);
/// The ISA the plan's kernels use (CK_ISA_*).
int ck_conv_nchw_winograd_isa(const ck_conv_winograd *p);
void ck_conv_nchw_winograd_destroy_f32(ck_conv_winograd *p);

// ---- conv/ FFT convolution (conv/ck_conv_ncx_fft_f32.c, transforms in fft/) ---------------------------------

/// A prepared FFT convolution (opaque): tile size, twiddles, ISA and optionally the kernel spectra.
typedef struct ck_conv_fft ck_conv_fft;
/// Prepares 1-D or 2-D conv `d` (d axis of size 1 with kernel 1 and no pad; any kernel up to a dilated extent of
/// 1024, stride, dilation, pads, groups, batch, flip) for FFT overlap-save tiles of Th × Tw (powers of two in
/// [16, 1024], the cheapest under ck_conv_ncx_fft_cost_f32's model) with ISA `isa` (capped by ck_isa_resolve;
/// negative = best). Epilogue clamp [act_lo, act_hi] (-INFINITY/INFINITY = none). When `w` is non-NULL its w_count
/// floats [M, C/G, kh, kw] are transformed into the plan (`threads` do it). Returns CK_OK and *out, or
/// CK_ERR_ARGUMENT (3-D, extents beyond 1024, kernel spectra beyond 1 GiB, bad sizes) / CK_ERR_NOMEM and *out = NULL.
int ck_conv_ncx_fft_prepare_f32(const ck_conv_desc *d, int isa, int threads, const float *w, int64_t w_count,
                                float act_lo, float act_hi, ck_conv_fft **out);
/// Runs a prepared plan: y = clamp(conv(x, w) + bias), bias [M] or NULL; `w` may be NULL when the plan holds the
/// spectra, otherwise they are computed into this run's workspace. Read-only plan; results bitwise identical for
/// every `threads`. Error: max|y − exact| / max|exact| grows like log(Th·Tw), about 1e-6 (CKernels/README.md).
int ck_conv_ncx_fft_run_f32(const ck_conv_fft *p, const float *x, int64_t x_count, const float *w, int64_t w_count,
                            const float *bias, float *y, int64_t y_count, int threads);
/// Workspace bytes one run allocates: (C/G + 3) complex tiles per thread, plus the kernel spectra when
/// `weights_given` (or the plan holds none). -1 for a NULL plan.
int64_t ck_conv_ncx_fft_workspace_f32(const ck_conv_fft *p, int threads, int weights_given);
/// Bytes the plan holds (M·C/G complex Th × Tw spectra when given weights).
int64_t ck_conv_ncx_fft_plan_bytes_f32(const ck_conv_fft *p);
/// The ISA the plan's transforms use (CK_ISA_*).
int ck_conv_ncx_fft_isa(const ck_conv_fft *p);
/// The plan's transform size Th × Tw.
void ck_conv_ncx_fft_tile(const ck_conv_fft *p, int64_t *tile_h, int64_t *tile_w);
void ck_conv_ncx_fft_destroy_f32(ck_conv_fft *p);
/// The cost model's time in one-core seconds for conv `d` on `threads` threads (an uneven last round of work items
/// counted as busy) with the cheapest tile (written to tile_h, tile_w when non-NULL), or -1 when
/// ck_conv_ncx_fft_prepare_f32 would decline the geometry. The tile (the plan's) does not depend on `threads`.
double ck_conv_ncx_fft_cost_f32(const ck_conv_desc *d, int isa, int threads, int64_t *tile_h, int64_t *tile_w);

// ---- backward passes (vector-Jacobian products; CKernels/README.md "Backward") --------------------------------
//
// Each takes the forward problem's descriptor and dL/dY, and writes every element of the gradients asked for
// (never accumulates into them). Results are bitwise identical for every `threads`: reductions (weight and bias
// gradients, overlapping windows) are cut into pieces fixed by the problem and summed in a fixed order.

/// wt[g·Cg + c][m][k] = w[g·Mg + m][c][flip ? Πk−1−k : k] for conv `d` (w [M, C/G, k…], wt [C, M/G, k…]): the
/// weights of the input gradient computed as a forward convolution of dY.
int ck_conv_transpose_weights_f32(const ck_conv_desc *d, int flip, const float *w, int64_t w_count, float *wt,
                                  int64_t wt_count, int threads);
/// Conv input gradient for any geometry: dx [N, C, in] = transposed convolution of dy [N, M, out] with w
/// [M, C/G, k…] (flipped in d->flip mode), by the ConvTranspose GEMM + col2im kernel (Cg·Πk ≤ 4 Mi rows).
int ck_conv_ncx_backward_data_col2im_f32(const ck_conv_desc *d, const float *dy, int64_t dy_count, const float *w,
                                         int64_t w_count, float *dx, int64_t dx_count, int threads);

/// A prepared conv weight / bias gradient (opaque).
typedef struct ck_conv_bwd_weights ck_conv_bwd_weights;
/// Prepares dW = Σ dY ⊗ X (and dB = Σ dY) of conv `d` with the register-tile microkernels of ISA `isa` (capped
/// by ck_isa_resolve; negative = best): Winograd F(4×4, 3×3) for 2-D 3×3 stride-1 layers with ≥ 16 channels per
/// group (error like the forward Winograd's, ~1e-5 relative), else the direct GEMM over a channel-last copy of X,
/// or per-element dot products when the groups have too few input channels for a tile. CK_ERR_ARGUMENT for an
/// invalid descriptor.
int ck_conv_ncx_backward_weights_prepare_f32(const ck_conv_desc *d, int isa, ck_conv_bwd_weights **out);
/// dw [M, C/G, k…] (NULL: not computed), db [M] (NULL: not computed) from x [N, C, in] and dy [N, M, out].
/// The plan is read-only during a run.
int ck_conv_ncx_backward_weights_run_f32(const ck_conv_bwd_weights *p, const float *x, int64_t x_count,
                                         const float *dy, int64_t dy_count, float *dw, int64_t dw_count, float *db,
                                         int64_t db_count, int threads);
/// Workspace bytes one run allocates (a channel-last copy of X, packed dY, partial sums; 0 on the dot path).
int64_t ck_conv_ncx_backward_weights_workspace_f32(const ck_conv_bwd_weights *p);
/// The ISA of the plan's microkernels (CK_ISA_PORTABLE on the dot path).
int ck_conv_ncx_backward_weights_isa(const ck_conv_bwd_weights *p);
/// 0: direct microkernel path, 1: dot products, 2: Winograd F(4×4, 3×3) (2-D 3×3 stride 1, AVX2 / AVX-512).
int ck_conv_ncx_backward_weights_path(const ck_conv_bwd_weights *p);
void ck_conv_ncx_backward_weights_destroy_f32(ck_conv_bwd_weights *p);
/// Bias gradient db[m] = Σ_n Σ_i dy[n, m, i] (dy [batch, channels, spatial]), 8 lanes combined in a fixed order.
int ck_conv_ncx_backward_bias_f32(int64_t batch, int64_t channels, int64_t spatial, const float *dy, int64_t dy_count,
                                  float *db, int64_t db_count, int threads);

/// Pooling kinds of ck_pool_ncx_backward_f32.
enum {
    CK_POOL_BWD_MAX = 0,            // dY to the forward argmax (ck_maxpool_ncx_f32's index: first maximum, NaN)
    CK_POOL_BWD_AVERAGE = 1,        // dY / divisor to every tap inside the input
    CK_POOL_BWD_AVERAGE_PAD = 2,    // count_include_pad
    CK_POOL_BWD_LP = 3,             // sign(x)·|x|^(p−1)·y^(1−p)·dY (0 where the window's Σ|x|^p is 0)
    CK_POOL_BWD_STOCHASTIC = 4,     // dY to the element ck_stochpool_ncx_f32 samples with `seed`
    CK_POOL_BWD_STOCHASTIC_EXPECTATION = 5,  // d(Σ a⁺·a / Σ a⁺)/da; mean's gradient when Σ a⁺ = 0
};
/// Pooling input gradient dx [N, C, in] from the forward input x and dy [N, C, out]. Each plane is summed by one
/// thread in output order (overlapping windows accumulate deterministically). `isa` runs the forward kernels that
/// find the argmax (every variant gives the same indices).
int ck_pool_ncx_backward_f32(const ck_pool_desc *d, int kind, float p, uint64_t seed, const float *x, int64_t x_count,
                             const float *dy, int64_t dy_count, float *dx, int64_t dx_count, int threads, int isa);

/// The adjoint of ck_resize_ncx_taps_f32: dx[i] = Σ over outputs o reading i of (w_d·w_h·w_w)(o)·dy[o]; outputs
/// outside the input on any axis (extrapolated) contribute nothing, zero-weight taps are skipped. One thread per
/// plane, outputs in order.
int ck_resize_ncx_taps_backward_f32(int64_t planes, const ck_resize_axis axes[3], int nearest, const float *dy,
                                    int64_t dy_count, float *dx, int64_t dx_count, int threads);

/// Im2col (the Col2Im gradient): y [N, C·Πk, Πout] column blocks of x [N, C, g.in] on the grid g.out, 0 outside.
int ck_im2col_ncx_f32(const ck_window *g, int64_t batch, int64_t channels, const float *x, int64_t x_count, float *y,
                      int64_t y_count, int threads);

/// MaxUnpool gradient: dx[i] = dy[the position index[i] names] (ck_maxunpool_ncx_f32's mapping); dx has x_count
/// elements, every index must lie in [0, N·C·Πspace).
int ck_maxunpool_ncx_backward_f32(int64_t batch, int64_t channels, int64_t spatial_rank, const int64_t *space,
                                  const int64_t *out, const float *dy, int64_t dy_count, const int64_t *index,
                                  float *dx, int64_t dx_count, int threads);

// ---- Pad (pad/) ------------------------------------------------------------------------------------------------

/// Border modes (BorderMode in CNNKitCore): what a position beyond an axis's edge reads.
enum {
    CK_BORDER_CONSTANT = 0,   // a constant value
    CK_BORDER_REFLECT = 1,    // d c b | a b c d | c b a
    CK_BORDER_SYMMETRIC = 2,  // c b a | a b c d | d c b
    CK_BORDER_EDGE = 3,       // a a a | a b c d | d d d
    CK_BORDER_WRAP = 4,       // b c d | a b c d | a b c
};

/// Pad (ONNX Pad-19), any rank up to 16, contiguous C order. Per axis k the input keeps positions
/// [start[k], start[k] + extent[k]) (negative pads crop first), then output position o reads kept position
/// border(o - begin[k]) (begin = the positive begin pad), or `value` where a CK_BORDER_CONSTANT axis has no source.
int ck_pad_ncx_f32(int64_t rank, const int64_t *in, const int64_t *start, const int64_t *extent, const int64_t *begin,
                   const int64_t *out, int mode, float value, const float *x, int64_t x_count, float *y, int64_t y_count,
                   int threads);

/// Pad gradient: dx[i] = sum of dy over the output positions that read input position i (every element of dx
/// written; each row summed in one fixed order, so bitwise the same for every thread count).
int ck_pad_ncx_backward_f32(int64_t rank, const int64_t *in, const int64_t *start, const int64_t *extent,
                            const int64_t *begin, const int64_t *out, int mode, const float *dy, int64_t dy_count,
                            float *dx, int64_t dx_count, int threads);

// ---- adaptive pooling (pool/ck_adaptivepool_ncx_f32.c) ----------------------------------------------------------

enum { CK_ADAPTIVE_MAX = 0, CK_ADAPTIVE_AVERAGE = 1 };

/// Adaptive max / average pooling of `planes` = N·C planes of `rank` (1–3) spatial axes `in` to `out` (all >= 1);
/// output i of an axis pools [floor(i·L/out), ceil((i+1)·L/out)). `index` (max only, may be NULL) receives flat
/// input positions (first NaN, else first maximum in row-major window order).
int ck_adaptivepool_ncx_f32(int kind, int64_t planes, int64_t rank, const int64_t *in, const int64_t *out,
                            const float *x, int64_t x_count, float *y, int64_t y_count, int64_t *index, int threads);

/// Adaptive pooling gradient: dx (every element written) = max: dy to each window's forward argmax (recomputed
/// from x); average: dy / window size spread over the window; overlapping windows accumulate in output order.
int ck_adaptivepool_ncx_backward_f32(int kind, int64_t planes, int64_t rank, const int64_t *in, const int64_t *out,
                                     const float *x, int64_t x_count, const float *dy, int64_t dy_count, float *dx,
                                     int64_t dx_count, int threads);

#ifdef __cplusplus
}
#endif
#endif
