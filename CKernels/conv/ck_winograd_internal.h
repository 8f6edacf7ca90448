// Winograd F(4×4, 3×3): what the ISA-free driver (ck_conv_nchw_winograd_f32.c) shares with the per-ISA kernels.
//
// Layouts (L = channel lanes of one vector, 16 for AVX-512, 8 otherwise; one group at a time):
// - U (transformed weights): 36 matrices, ξ = 6·i + j; matrix ξ is split into Cout panels of `mblk` columns
//   (the last one narrower), each panel CP rows (input channels, zero-padded to L) × width floats:
//   U[ξ·CP·MP + mb·CP + c·width + (m − mb)], mb = panel start. The microkernel loads Cout as vectors.
// - V (transformed input of a tile block): tiles in groups of 6 (the microkernel's broadcast rows), channels in
//   blocks of L: V[((ξ·NG + q)·CB + cb)·6·L + t·L + l] for tile 6q + t, channel L·cb + l. Written by the input
//   transform as whole vectors (lanes = channels), read by the microkernel as broadcasts.
// - Z (GEMM output of a tile block × Cout chunk): Z[(ξ·6·NG + tile)·ldz + m − m0], ldz = the chunk padded to L.
#ifndef CK_WINOGRAD_INTERNAL_H
#define CK_WINOGRAD_INTERNAL_H
#include "conv_internal.h"

/// One group's geometry as the kernels see it.
typedef struct ck_wino_geom {
    int64_t C, CP, M, MP;     // input channels (and padded to L), output channels (and padded to L)
    int64_t H, W, OH, OW;     // input and output planes
    int64_t ph, pw;           // pads before
    int64_t TH, TW;           // tiles per image along h, w (4×4 outputs each)
    int64_t x_img, y_img;     // floats per image of x and y (all groups)
} ck_wino_geom;

/// Transformed input of tiles [t0, t0 + nt) (linear over batch, tile rows, tile columns) into V; tiles of the last
/// group of 6 beyond nt are zero. x points at the group's first channel of image 0.
typedef void (*ck_wino_input_fn)(const ck_wino_geom *g, const float *x, int64_t t0, int64_t nt, float *V);
/// Z = U·V for the 36 matrices, Cout [m0, m0 + mcp) (m0 a multiple of mblk, mcp padded to L), ceil(nt/6) groups.
typedef void (*ck_wino_gemm_fn)(const ck_wino_geom *g, const float *U, const float *V, int64_t ngroups, int64_t m0,
                                int64_t mcp, float *Z);
/// Inverse transform of Z into y for tiles [t0, t0 + nt), Cout [m0, m0 + mc): adds bias (may be NULL, indexed by
/// the group's channel) and clamps to [lo, hi] when clamp != 0. y points at the group's first channel of image 0.
typedef void (*ck_wino_output_fn)(const ck_wino_geom *g, const float *Z, int64_t t0, int64_t nt, int64_t m0,
                                  int64_t mc, int64_t ldz, const float *bias, float lo, float hi, int clamp, float *y);

typedef struct ck_wino_kernels {
    int lanes, mblk;
    ck_wino_input_fn input;
    ck_wino_gemm_fn gemm;
    ck_wino_output_fn output;
} ck_wino_kernels;

extern const ck_wino_kernels ck_wino_portable;
#if defined(__x86_64__)
extern const ck_wino_kernels ck_wino_avx2;
extern const ck_wino_kernels ck_wino_avx512;
#endif

/// Tile index → image, tile row, tile column.
static inline void ck_wino_tile(const ck_wino_geom *g, int64_t t, int64_t *n, int64_t *th, int64_t *tw) {
    const int64_t per = g->TH * g->TW;
    *n = t / per;
    t -= *n * per;
    *th = t / g->TW;
    *tw = t - *th * g->TW;
}

/// [lo, hi) ∩ [0, 6) of patch offsets whose input coordinate origin + k lies in [0, n).
static inline void ck_wino_span(int64_t origin, int64_t n, int *lo, int *hi) {
    const int64_t a = ck_max(0, -origin), b = ck_min(6, n - origin);
    *lo = (int)ck_min(a, 6);
    *hi = (int)ck_max(*lo, b);
}

/// `base` + `off` floats without C pointer arithmetic: masked loads may start before a row (the masked-off lanes
/// are never accessed) and the address must not be formed as an out-of-object pointer.
static inline const float *ck_wino_addr(const float *base, int64_t off) {
    return (const float *)((uintptr_t)base + (uintptr_t)off * sizeof(float));
}

#endif
