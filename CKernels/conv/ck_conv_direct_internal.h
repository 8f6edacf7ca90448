// Direct convolution: what the ISA-free driver (ck_conv_ncx_direct_f32.c) shares with its per-ISA row kernels
// (ck_conv_ncx_direct_{avx512,avx2}_f32.c).
//
// Row kernels (stride 1 or 2 along w, any other geometry): work item = (n, output channel, od, block of output
// rows, block of output columns), fixed by the problem. Inside an item, R output rows × V vectors of output columns
// are held in registers; for each input channel c of the group, each depth tap kd and each input row the R rows
// read (in increasing order), the row's taps along w are loaded once, as vectors at the tap's column (stride 2:
// the even lanes of 2 vectors, split by a permute), and added into every one of the R output rows that uses that
// input row. Per output element the terms therefore come in (c, kd, kh, kw) order after the bias, whatever the
// blocking. Input rows outside the input read a row of zeros and columns outside it are masked loads that read 0
// (both add 0·w; depth taps outside the input are skipped); blocks whose loads all lie inside the row use plain
// loads. No copies of the input.
//
// The AVX2 and AVX-512 kernels do the same FMAs in the same order, so they give the same bits.
#ifndef CK_CONV_DIRECT_INTERNAL_H
#define CK_CONV_DIRECT_INTERNAL_H
#include "conv_internal.h"

#define CK_DC_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))
#define CK_DC_AVX2 __attribute__((target("avx2,fma")))

/// One call's row-kernel problem.
typedef struct ck_dconv_rows {
    const ck_conv_desc *d;
    const float *x, *w, *bias;  // w: cross-correlation order (already flipped in flip mode); bias may be NULL
    float *y;
    int64_t rows, cols;         // output rows / columns per item
    int64_t rblocks, cblocks;   // items per output (n, m, od) row plane along h / w
    int64_t items;              // N · M · OD · rblocks · cblocks
    /// ck_dconv_zeros(A) zeros: the kernels read them for input rows outside the input (adding 0·w, so that a
    /// block is straight-line code). Only columns inside [0, IW) are ever read, so an item addresses them from
    /// b = max(0, ow0·s − p): column j of the zero row is zeros[64 + j − b].
    const float *zeros;
} ck_dconv_rows;

/// Floats of ck_dconv_rows.zeros: the input columns one item's blocks may read (at most the row), plus margins.
static inline int64_t ck_dconv_zeros(const ck_dconv_rows *A) {
    const ck_window *g = &A->d->g;
    return 128 + ck_min(g->in[2], A->cols * g->stride[2] + (g->kernel[2] - 1) * g->dilation[2] + 256);
}

/// Output rows [oh0, oh1), columns [ow0, ow1) of output channel m of image n at depth od.
typedef struct ck_dconv_item {
    int64_t n, m, od, oh0, oh1, ow0, ow1;
} ck_dconv_item;

static inline ck_dconv_item ck_dconv_decode(const ck_dconv_rows *A, int64_t t) {
    const ck_window *g = &A->d->g;
    ck_dconv_item it;
    const int64_t cb = t % A->cblocks;
    t /= A->cblocks;
    const int64_t rb = t % A->rblocks;
    t /= A->rblocks;
    it.od = t % g->out[0];
    t /= g->out[0];
    it.m = t % A->d->out_channels;
    it.n = t / A->d->out_channels;
    it.oh0 = rb * A->rows;
    it.oh1 = ck_min(g->out[1], it.oh0 + A->rows);
    it.ow0 = cb * A->cols;
    it.ow1 = ck_min(g->out[2], it.ow0 + A->cols);
    return it;
}

/// `base` + `off` floats without C pointer arithmetic: masked loads may start before a row (the masked-off lanes
/// are never accessed) and the address must not be formed as an out-of-object pointer.
static inline const float *ck_dconv_addr(const float *base, int64_t off) {
    return (const float *)((uintptr_t)base + (uintptr_t)off * sizeof(float));
}

/// The next input row after row j of a block (rows relative to its first, oh0·SH − PH) that one of its R output
/// rows reads, r·SH + kh·DH with kh < KH; INT64_MAX past the last. Rows none of them reads add nothing, so a sparse
/// window (a dilation or stride far beyond the kernel) steps over them rather than through them.
static inline int64_t ck_dconv_next_row(int64_t j, int R, int64_t SH, int64_t DH, int64_t KH) {
    int64_t next = INT64_MAX;
    for (int r = 0; r < R; r++) {
        const int64_t q = j + 1 - r * SH;  // the first kernel row of output row r at or after row j + 1
        const int64_t kh = q <= 0 ? 0 : q / DH + (q % DH != 0);
        if (kh < KH) next = ck_min(next, r * SH + kh * DH);
    }
    return next;
}
/// Taps [*k0, *k1) of one axis with id0 + k·DD inside [0, ID) (a kernel of 1 may carry any dilation: no DD − 1 sums).
static inline void ck_dconv_depth_taps(int64_t id0, int64_t DD, int64_t KD, int64_t ID, int64_t *k0, int64_t *k1) {
    *k0 = id0 >= 0 ? 0 : -id0 / DD + (-id0 % DD != 0);
    *k1 = id0 >= ID ? 0 : ck_min(KD, (ID - 1 - id0) / DD + 1);
}

/// Whether the row kernels take this problem (stride 1 or 2 along w; the driver checks everything else).
static inline int ck_dconv_rows_supported(const ck_conv_desc *d) { return d->g.stride[2] <= 2; }

#if defined(__x86_64__)
/// Computes item `item` of A.
void ck_conv_direct_rows_avx512(const ck_dconv_rows *A, int64_t item);
void ck_conv_direct_rows_avx2(const ck_dconv_rows *A, int64_t item);
#endif

#endif
