#ifndef CK_POOL_INTERNAL_H
#define CK_POOL_INTERNAL_H
#include "../common/ck_rows.h"

/// Output columns are processed in blocks of this many.
enum { CK_POOL_OWB = 512 };

/// Explicit instruction-set variants (SwiftPM cannot set per-file flags, so per-function targets).
#define CK_POOL_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))
#define CK_POOL_AVX2 __attribute__((target("avx2,fma")))

/// Compiles `name##_body` (always inlined) once per instruction set as name_portable / _avx2 / _avx512, and
/// CK_POOL_ISA_CALL runs the one for `isa` (already resolved against the CPU).
#if defined(__x86_64__)
#define CK_POOL_ISA_VARIANTS(name, params, args)                                                                    \
    static void name##_portable params { name##_body args; }                                                        \
    CK_POOL_AVX2 static void name##_avx2 params { name##_body args; }                                               \
    CK_POOL_AVX512 static void name##_avx512 params { name##_body args; }
#define CK_POOL_ISA_CALL(name, isa, args)                                                                           \
    ((isa) >= CK_ISA_AVX512 ? name##_avx512 args : (isa) >= CK_ISA_AVX2 ? name##_avx2 args : name##_portable args)
#else
#define CK_POOL_ISA_VARIANTS(name, params, args) static void name##_portable params { name##_body args; }
#define CK_POOL_ISA_CALL(name, isa, args) name##_portable args
#endif

/// Checks a pooling descriptor against the tensor counts.
int ck_pool_check(const ck_pool_desc *d, const float *x, int64_t x_count, const float *y, int64_t y_count);

/// Number of taps k in [0, K) along one axis with o*s - pad + k*d inside [lo_bound, hi_bound).
int64_t ck_axis_count(int64_t o, int64_t s, int64_t pad, int64_t K, int64_t d, int64_t lo_bound, int64_t hi_bound);

/// Whether every window is the whole plane (global pooling).
int ck_pool_is_global(const ck_window *g);

/// What a sum pool adds per tap: AveragePool's x (then divided per count_include_pad), LpPool's |x| (p = 1),
/// x² (p = 2, then √) or |x|^p (then ^(1/p)).
typedef enum { CK_SUM_PLAIN = 0, CK_SUM_ABS = 1, CK_SUM_SQUARE = 2, CK_SUM_POWER = 3 } ck_sum_term;

/// AveragePool (CK_SUM_PLAIN) and LpPool (the other terms).
int ck_pool_sum_kernel(const ck_pool_desc *d, ck_sum_term f, float p, int include_pad, const float *x, int64_t x_count,
                       float *y, int64_t y_count, int threads, int isa);

// ---- row kernels (ck_*pool_ncx_rows_*_f32.c): stride 1 or 2 along w, vectorised over output columns ----------
//
// Work item = one output row (plane, od, oh). The window's input rows inside the input are listed in (kd, kh)
// order; along w every tap is a masked vector load (padding filled with -inf or 0), stride 2 split into even and
// odd lanes by permutes. Max folds the taps in row-major window order with strict `>` (ties keep the first); a row
// whose input holds a NaN is recomputed by the exact scalar ck_max_row_exact.

/// Most taps along w the row kernels take, and most input rows per window with indices (one lookup register).
enum { CK_PROW_MAX_KW = 16, CK_PROW_MAX_ROWS = 16 };

typedef struct {
    const ck_pool_desc *d;
    const float *x;
    float *y;
    int64_t *ix;              // max: indices or NULL
    const int32_t *first_kw;  // max: per output column, its first tap inside the row
    const float *inv_w;       // average: per output column, 1 / (w factor of the divisor)
    const float *inv_dh;      // average: per (od, oh), 1 / (d·h factor)
    ck_sum_term f;            // sums: CK_SUM_PLAIN, _ABS or _SQUARE
} ck_prow_args;


/// The loads of one output block along w, k < CK_PROW_NG: stride 1 reads tap GTA(k) as one vector at column
/// ow + GOFF(k) − pw; stride 2 reads a vector pair at 2·ow + GOFF(k) − pw whose even lanes are tap GTA(k) and odd
/// lanes tap GTB(k) (dilation 1; -1: none). Taps come out in increasing kw. Expects SW, KW, dw and pairs =
/// (SW == 2 && dw == 1) in scope; the row kernels instantiate common (SW, KW) as constants.
#define CK_PROW_NG (pairs ? (KW + 1) / 2 : KW)
#define CK_PROW_GOFF(k) (pairs ? 2 * (k) : (k) * dw)
#define CK_PROW_GTA(k) (pairs ? 2 * (k) : (k))
#define CK_PROW_GTB(k) (pairs && 2 * (k) + 1 < KW ? 2 * (k) + 1 : -1)
/// Runs ROW(A, ..., SW, KW) with the common (SW, KW) as constants, else with the runtime values.
#define CK_PROW_DISPATCH(ROW, A, ...)                                                                                \
    do {                                                                                                            \
        const int64_t sw_ = (A)->d->g.stride[2], kw_ = (A)->d->g.kernel[2], dw_ = (A)->d->g.dilation[2];         \
        if (sw_ == 2 && kw_ == 2 && dw_ == 1) ROW(A, __VA_ARGS__, 2, 2);                                          \
        else if (sw_ == 2 && kw_ == 3 && dw_ == 1) ROW(A, __VA_ARGS__, 2, 3);                                     \
        else if (sw_ == 1 && kw_ == 3) ROW(A, __VA_ARGS__, 1, 3);                                                 \
        else ROW(A, __VA_ARGS__, sw_, kw_);                                                                        \
    } while (0)
/// Bits e of [0, lim) with column c + e inside [0, IW): the lanes of a load at column c (lim <= 64).
static inline uint64_t ck_prow_lanes(int64_t c, int64_t lim, int64_t IW) {
    const int64_t lo = c < 0 ? ck_min(-c, 64) : 0, hi = ck_min(lim, IW - c);
    if (hi <= lo) return 0;
    return (hi >= 64 ? ~0ull : (1ull << hi) - 1) & ~((1ull << lo) - 1);
}

/// Whether the row kernels take this window (with_idx: max with indices; sum: average / Lp with f <= 2).
int ck_prow_supported(const ck_pool_desc *d, int with_idx, int sum);
/// ⌈a / b⌉ for a >= 0, b > 0, without forming a + b − 1 (a kernel of 1 may carry any dilation up to INT64_MAX).
static inline int64_t ck_ceildiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }
/// Taps k in [*k0, *k1) of one axis, k < K, whose coordinate o*s - pad + k*d lies in [0, n) (empty when *k1 <= *k0).
/// Computed, not searched: a window far larger than the input costs nothing (coordinates are < 2^62, see
/// ck_window_check). Only coordinates of taps inside the range may be formed: *k0 itself can exceed K.
static inline void ck_tap_range(int64_t o, int64_t s, int64_t pad, int64_t K, int64_t d, int64_t n, int64_t *k0,
                                int64_t *k1) {
    const int64_t base = o * s - pad;
    *k0 = base >= 0 ? 0 : ck_ceildiv(-base, d);
    *k1 = n - base <= 0 ? 0 : ck_min(K, (n - 1 - base) / d + 1);
}
/// Taps of axis `a` of `g` inside the input for output o along it: none when the input is empty along any axis (a
/// loop over the taps of one axis must not walk a long axis of an empty input).
static inline void ck_axis_taps(const ck_window *g, int a, int64_t o, int64_t *k0, int64_t *k1) {
    if (g->in[0] == 0 || g->in[1] == 0 || g->in[2] == 0) {
        *k0 = *k1 = 0;
        return;
    }
    ck_tap_range(o, g->stride[a], g->pad[a], g->kernel[a], g->dilation[a], g->in[a], k0, k1);
}

/// Visits the taps of window (od, oh, ow) inside the input in row-major order; BODY sees id, ih, iw and `pos`, the
/// tap's offset within its plane. Expects `g` (the ck_window), `od`, `oh`, `ow`, `IH` and `IW` in scope.
#define CK_FOR_WINDOW_TAPS(BODY)                                                                                    \
    {                                                                                                               \
        int64_t kd0_, kd1_, kh0_, kh1_, kw0_, kw1_;                                                                 \
        ck_axis_taps(g, 0, od, &kd0_, &kd1_);                                                                       \
        ck_axis_taps(g, 1, oh, &kh0_, &kh1_);                                                                       \
        ck_axis_taps(g, 2, ow, &kw0_, &kw1_);                                                                       \
        for (int64_t kd = kd0_; kd < kd1_; kd++) {                                                                  \
            const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];                                 \
            for (int64_t kh = kh0_; kh < kh1_; kh++) {                                                              \
                const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];                             \
                for (int64_t kw = kw0_; kw < kw1_; kw++) {                                                          \
                    const int64_t iw = ow * g->stride[2] - g->pad[2] + kw * g->dilation[2];                         \
                    const int64_t pos = (id * IH + ih) * IW + iw;                                                   \
                    BODY                                                                                            \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
    }
/// Taps along w that some output column of [o0, o1] (o0 <= o1) reads inside the input: k0 of o1 to k1 of o0 (both
/// fall as o grows). Taps in between may still lie outside for some of the columns; they read the padding there.
static inline void ck_block_taps(const ck_window *g, int64_t o0, int64_t o1, int64_t *k0, int64_t *k1) {
    int64_t a, b;
    ck_axis_taps(g, 2, o1, k0, &a);
    ck_axis_taps(g, 2, o0, &b, k1);
}
/// Whether the window along w spans more than 2·IW + 16 columns, the bound the Swift adapter declines beyond (see
/// CBackend.maximumPoolingKernel). Its phase rows would be mostly padding: the row paths hand such windows to the
/// per-output loops over the taps inside the input (ck_max_row_exact, the sum kernel's exact rows).
static inline int ck_pool_wide(const ck_window *g) {
    return (g->kernel[2] - 1) * g->dilation[2] + 1 > 2 * g->in[2] + 16;
}
/// Input rows of output row (od, oh) inside the input, in (kd, kh) order: their offsets within the plane
/// (rowoff) and h coordinates (rih); returns how many (at most ck_prow_max_rows).
static inline int64_t ck_prow_rows(const ck_window *g, int64_t od, int64_t oh, int64_t *rowoff, int64_t *rih) {
    int64_t n = 0, d0, d1, h0, h1;
    ck_axis_taps(g, 0, od, &d0, &d1);
    ck_axis_taps(g, 1, oh, &h0, &h1);
    for (int64_t kd = d0; kd < d1; kd++) {
        const int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
        for (int64_t kh = h0; kh < h1; kh++) {
            const int64_t ih = oh * g->stride[1] - g->pad[1] + kh * g->dilation[1];
            rowoff[n] = (id * g->in[1] + ih) * g->in[2];
            rih[n++] = ih;
        }
    }
    return n;
}
/// Most rows ck_prow_rows returns (min(KD, ID) · min(KH, IH), at least 1), or -1 when that is too many for a
/// per-thread buffer (the caller declines with CK_ERR_NOMEM).
static inline int64_t ck_prow_max_rows(const ck_window *g) {
    const int64_t n = ck_mul(ck_min(g->kernel[0], g->in[0]), ck_min(g->kernel[1], g->in[1]));
    return n < 0 || n > ((int64_t)1 << 32) ? -1 : ck_max(1, n);
}
/// Output row `item` of max pooling by the old exact rules (row-major taps, PICK), one column at a time.
void ck_max_row_exact(const ck_prow_args *A, int64_t item);

int ck_maxpool_rows_avx512(const ck_prow_args *A, int threads);
int ck_maxpool_rows_avx2(const ck_prow_args *A, int threads);
int ck_poolsum_rows_avx512(const ck_prow_args *A, int threads);
int ck_poolsum_rows_avx2(const ck_prow_args *A, int threads);

/// Work items of the row kernels: (plane, od, block of output rows), the block about 2 K outputs (fixed by the
/// problem, so results never depend on the team).
static inline int64_t ck_prow_block(const ck_window *g) { return ck_max(1, ck_min(g->out[1], 2048 / ck_max(1, g->out[2]))); }
static inline int64_t ck_prow_items(const ck_pool_desc *d) {
    const ck_window *g = &d->g;
    const int64_t rb = ck_prow_block(g);
    return d->batch * d->channels * g->out[0] * ((g->out[1] + rb - 1) / rb);
}
/// Team for the row kernels: about 32 K operations per thread at least.
static inline int ck_prow_team(const ck_pool_desc *d, int threads) {
    const ck_window *g = &d->g;
    const int64_t y_count = d->batch * d->channels * ck_prod3(g->out);
    return ck_team_for(threads, ck_work3(y_count, ck_prod3(g->kernel), 1) + ck_work3(d->batch * d->channels, ck_prod3(g->in), 1));
}
/// Runs ROW(A, flat output row, plane, od, oh, rowoff, rih, ...) over the output rows of one work item.
#define CK_PROW_ITEM(ROW, A, item, rowoff, rih, ...)                                                                     \
    do {                                                                                                            \
        const ck_window *g_ = &(A)->d->g;                                                                           \
        const int64_t rb_ = ck_prow_block(g_), nb_ = (g_->out[1] + rb_ - 1) / rb_, b_ = (item) % nb_;              \
        const int64_t od_ = ((item) / nb_) % g_->out[0], pl_ = (item) / (nb_ * g_->out[0]);                        \
        for (int64_t oh_ = b_ * rb_; oh_ < ck_min(g_->out[1], (b_ + 1) * rb_); oh_++)                               \
            ROW(A, (pl_ * g_->out[0] + od_) * g_->out[1] + oh_, pl_, od_, oh_, rowoff, rih, __VA_ARGS__);                        \
    } while (0)

#endif
