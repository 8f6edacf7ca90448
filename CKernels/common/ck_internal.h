// Helpers shared by the kernel families (not part of the public header).
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "ckernels.h"

// The few OpenMP entry points used, declared here so that no versioned omp.h include path is needed.
int omp_get_thread_num(void);
int omp_get_num_procs(void);

// The OpenBLAS entry points used (CBLAS enums are plain ints in the ABI), declared for the same reason.
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
#define CK_ROW_MAJOR 101
#define CK_NO_TRANS 111
#define CK_TRANS 112

/// Largest workspace one call may allocate (the 16 MiB promised in the README).
#define CK_WORKSPACE_LIMIT ((int64_t)16 << 20)

/// Hot loops are compiled twice, for x86-64-v3 (AVX2 + FMA) and baseline, and picked at load time.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CK_NO_CLONES 1
#endif
#endif
#if defined(__x86_64__) && defined(__clang__) && !defined(CK_NO_CLONES)
#define CK_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CK_HOT
#endif
/// Helpers of hot loops: always inlined, so they are compiled for the caller's target.
#define CK_INLINE static inline __attribute__((always_inline))

static inline int64_t ck_min(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t ck_max(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int ck_team(int threads) { return threads < 1 ? 1 : threads; }
/// a·b, or -1 when either is negative or the product overflows.
static inline int64_t ck_mul(int64_t a, int64_t b) {
    int64_t r;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) return -1;
    return r;
}
static inline int64_t ck_mul3(int64_t a, int64_t b, int64_t c) {
    int64_t ab = ck_mul(a, b);
    return ab < 0 ? -1 : ck_mul(ab, c);
}
static inline int64_t ck_prod3(const int64_t v[3]) { return ck_mul3(v[0], v[1], v[2]); }

/// a·b·c for work estimates: saturates instead of overflowing.
static inline int64_t ck_work3(int64_t a, int64_t b, int64_t c) {
    const int64_t r = ck_mul3(a, b, c);
    return r < 0 ? INT64_MAX : r;
}

/// The team for `work` elementary operations: no more threads than there are 32 K-operation shares, so that a
/// small call does not pay for waking threads (and is not delayed by one that is slow to wake on a busy machine).
static inline int ck_team_for(int threads, int64_t work) {
    const int64_t shares = work / 32768;
    return shares < 1 ? 1 : shares < ck_team(threads) ? (int)shares : ck_team(threads);
}


/// Floor division for b > 0.
static inline int64_t ck_floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// ck_window_check (ckernels.h) checks the invariants every window kernel relies on. Pads may be anything: kernels
// clip every access against [0, in).

/// First and one-past-last output position o in [0, out) whose tap o*s + off lies in [0, in).
static inline void ck_valid_range(int64_t out, int64_t in, int64_t s, int64_t off, int64_t *lo, int64_t *hi) {
    // o*s + off >= 0  ->  o >= ceil(-off / s);  o*s + off < in  ->  o <= floor((in - 1 - off) / s)
    int64_t a = -off > 0 ? (-off + s - 1) / s : 0;
    int64_t b = ck_floordiv(in - 1 - off, s) + 1;
    *lo = ck_max(0, ck_min(a, out));
    *hi = ck_max(*lo, ck_min(b, out));
}

/// Inside a parallel region, with `mine` = this thread's allocation failed: whether any thread's failed. Every thread
/// must call it (it holds a barrier), since a thread without buffers cannot take its share of a static schedule.
static inline int ck_team_failed(int *failed, int mine) {
    if (mine) {
#pragma omp atomic write
        *failed = 1;
    }
#pragma omp barrier
    int any;
#pragma omp atomic read
    any = *failed;
    return any;
}

/// Inside a parallel region: every thread claims chunks of [0, count) from the shared `counter` (initially 0) until
/// none are left. Which thread runs an item never changes what the item computes, so results stay independent of
/// the thread count, while a thread slowed down by a busy machine simply claims fewer chunks. (Hand-rolled because
/// clang 21's dynamic schedules need a newer OpenMP runtime than Debian's libomp 14, see README.)
#define CK_DYNAMIC_FOR(var, count, chunk, counter)                                                              \
    for (int64_t ck_first_; (ck_first_ = __atomic_fetch_add(&(counter), (chunk), __ATOMIC_RELAXED)) < (count);) \
        for (int64_t var = ck_first_, ck_end_ = ck_min((count), ck_first_ + (chunk)); var < ck_end_; var++)

/// A chunk size giving each of `team` threads about 16 chunks of [0, count).
static inline int64_t ck_chunk(int64_t count, int team) { return ck_max(1, count / (16 * (int64_t)ck_team(team))); }

/// Runs the CBLAS sgemm of one tile on the calling thread (OpenBLAS itself is kept single-threaded, see ck_common.c).
void ck_sgemm(int trans_a, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
              float beta, float *c, int64_t ldc);

#endif
