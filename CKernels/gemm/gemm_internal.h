// Register-tile GEMM microkernels with an indirect B operand, the inner loop of the implicit-GEMM convolution
// (conv/ck_conv_ncx_implicit_gemm_f32.c).
//
// One call computes a tile C[mr][NR] = bias + Σ_k A[k][0..mr) ⊗ B_k[0..NR), clamped to [lo, hi]:
// - A is a packed weight panel, K-major with mr floats per k (a[k·mr + i]), so each k step broadcasts mr
//   consecutive floats;
// - B is indirect: row k is the NR consecutive floats at b + off[k]. For a convolution, b points at the tile's
//   first output position inside the stride-phase planes and off[k] is where tap k of channel c sits relative to
//   it, so no im2col matrix is ever built;
// - the terms of every element are added in k order, one FMA each, starting from the bias (or 0): a tile's result
//   does not depend on which thread computes it or on what else runs.
// Every ISA provides one function per row count 1..mr_max (the M-blocks of a layer split its rows evenly, so any
// count can occur) in a table; the loop nest only sees the table.
#ifndef CK_GEMM_INTERNAL_H
#define CK_GEMM_INTERNAL_H
#include <stdint.h>
#include "../common/ck_internal.h"

/// Columns per tile at most (any ISA).
#define CK_GEMM_NR_LIMIT 64

/// Where a tile's result goes: columns [j0, j1) of row i are stored at dst + i·ldc (dst holds column j0). A tile
/// of consecutive flat positions covers one or more output row segments (junk columns between them are stored
/// nowhere), so the caller describes each as a segment and the kernel stores it with masks: no staging copy.
typedef struct ck_gemm_segment {
    int64_t j0, j1;
    float *dst;
} ck_gemm_segment;

/// The per-call constants of a tile: epilogue clamp, how many of its NR columns B may be read for, destinations.
typedef struct ck_gemm_epilogue {
    float lo, hi;   // y = min(max(y, lo), hi); -INFINITY / INFINITY leave y as it is (NaN propagates)
    int64_t nload;  // columns of B readable at b + off[k] (< NR only at the end of an uncopied input; the others
                    // are read as 0 and their results are junk the caller drops)
    int64_t ldc;    // row stride of every destination
    int64_t nseg;   // segments, disjoint and in column order
    ck_gemm_segment seg[CK_GEMM_NR_LIMIT];
} ck_gemm_epilogue;

/// C[i][j] (i < mr, j < NR) = clamp(bias[i] (0 when bias is NULL) + Σ_{k<kc} a[k·mr + i] · b[off[k] + j]),
/// stored for the columns of e->seg.
typedef void (*ck_gemm_ukernel_f32)(int64_t kc, const float *a, const float *b, const int32_t *off,
                                    const float *bias, const ck_gemm_epilogue *e);

/// Row counts one table covers at most.
#define CK_GEMM_MR_LIMIT 16

/// The microkernels of one ISA: fn[mr] for mr = 1..mr_max (fn[0] unused), all with NR columns.
typedef struct ck_gemm_ukernels {
    int isa;
    int mr_max, nr;
    ck_gemm_ukernel_f32 fn[CK_GEMM_MR_LIMIT + 1];
} ck_gemm_ukernels;

/// The table of plain-C kernels, available everywhere.
const ck_gemm_ukernels *ck_gemm_ukernels_portable_f32(void);
#if defined(__x86_64__)
/// The AVX2 + FMA and AVX-512 tables; call only when ck_isa_detect() says the CPU has them.
const ck_gemm_ukernels *ck_gemm_ukernels_avx2_f32(void);
const ck_gemm_ukernels *ck_gemm_ukernels_avx512_f32(void);
#endif

// ---- the transposed orientation (layers with few output positions) -------------------------------------------
// Yᵀ[P, M] = Bᵀ[P, K] · Wᵀ[K, M]: a tile is NP output positions × nv vectors of consecutive output channels. A is
// a packed weight panel, K-major with lda = nv·VL floats per k (a[k·lda + c]); B element (k, pixel j) is
// b[off[k] + poff[j]], broadcast. Only valid positions are listed (no junk columns). The terms of every element are
// added in k order from the bias, one FMA each, exactly as the M × N kernels above do, so both orientations give the
// same bits. A K range may be split over several calls: partial sums go through `buf` ([NP][nv·VL] floats).
enum {
    CK_GEMMT_LOAD = 1,   // start from buf instead of the bias
    CK_GEMMT_FINAL = 2,  // clamp and store into y; otherwise store the partial sums into buf
};
typedef struct ck_gemmt_store {
    const float *bias;  // bias of the tile's first channel, or NULL
    float lo, hi;
    float *y;           // y of (first channel, first position): element (c, j) goes to y[c·ldc + j]
    int64_t ldc;
    int64_t nch;        // valid channels of the tile (≤ nv·VL); the others are padding, never stored
} ck_gemmt_store;
typedef void (*ck_gemmt_ukernel_f32)(int64_t kc, const float *a, const float *b, const int32_t *off,
                                     const int32_t *poff, float *buf, int mode, const ck_gemmt_store *st);
#define CK_GEMMT_NV_LIMIT 4
#define CK_GEMMT_NP_LIMIT 6
typedef struct ck_gemmt_ukernels {
    int isa;
    int vl, nv_max, np_max;  // vector length (floats), vectors per tile, positions per tile
    ck_gemmt_ukernel_f32 fn[CK_GEMMT_NV_LIMIT + 1][CK_GEMMT_NP_LIMIT + 1];  // fn[nv][np]
} ck_gemmt_ukernels;
#if defined(__x86_64__)
const ck_gemmt_ukernels *ck_gemmt_ukernels_avx2_f32(void);
const ck_gemmt_ukernels *ck_gemmt_ukernels_avx512_f32(void);
#endif

#endif
