// CPeakProbe: machine-peak probes for `cnnkit bench --peak` (not part of the library's kernels).
//
// Both probes are written in x86-64 inline assembly so that the numbers do not depend on the optimisation level
// the package is built with (SwiftPM builds C targets at -O0 in debug), and the AVX2 instructions are enabled per
// function with __attribute__((target)), so the target needs no compiler flags (no unsafeFlags).
// Threads are POSIX threads started together behind a barrier; the rate is total work / (last end − first start).
#ifndef CK_PEAK_PROBE_H
#define CK_PEAK_PROBE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the CPU and OS support AVX2 and FMA (and the probes below can run), else 0.
int ck_probe_has_avx2_fma(void);

/// Peak single-precision FMA rate in GFLOP/s: `threads` threads each run 12 independent chains of 256-bit
/// vfmadd231ps (enough to cover a 4-cycle FMA latency on 2 FMA pipes) for about `seconds`; one FMA lane counts as
/// 2 FLOP. The best of `trials` such runs is returned: on a shared machine, short runs repeated many times catch
/// moments when the cores are free. Returns 0 when AVX2/FMA is missing or threads < 1.
double ck_probe_fma_gflops(int threads, double seconds, int trials);

/// 1 when the CPU and OS support AVX-512F, else 0.
int ck_probe_has_avx512(void);

/// As ck_probe_fma_gflops with 512-bit vfmadd231ps (zmm registers): the peak of code that uses AVX-512, for
/// machines that have it (informational: CNNKit's kernels and the %peak of `cnnkit bench` use AVX2).
/// Returns 0 when AVX-512F is missing or threads < 1.
double ck_probe_fma512_gflops(int threads, double seconds, int trials);

/// Two page-aligned buffers of `bytes` each (a multiple of 4 KiB) for the copy probe, written once so their pages
/// are resident. NULL when allocation fails or `bytes` < 4096.
typedef struct ck_probe_arena ck_probe_arena;
ck_probe_arena *ck_probe_arena_create(int64_t bytes);
void ck_probe_arena_destroy(ck_probe_arena *arena);

/// Copy bandwidth in GB/s (1e9 bytes/s), counting bytes read plus bytes written (write-allocate traffic is not
/// counted). One trial: `threads` threads copy disjoint slices of a `window`-byte region of the arena's first
/// buffer into its second, `passes` times. Successive trials move the region through the arena (wrapping), so a
/// window much smaller than an arena much larger than the cache measures memory, while a window equal to a small
/// arena (passes > 1, after a warm-up pass) measures the cache. `streaming` = 1 uses non-temporal stores
/// (vmovntps), 0 ordinary stores (vmovaps). Returns the best of `trials`; 0 for a NULL arena, threads < 1 or
/// missing AVX2.
double ck_probe_copy_gbs(ck_probe_arena *arena, int threads, int streaming, int64_t window, int passes, int trials);

/// Returns freed heap memory to the system (glibc malloc_trim), so that a later resident-size reading shows
/// live memory only. A no-op elsewhere.
void ck_probe_trim_heap(void);

/// Size of the last-level (L3) cache in bytes as the C library reports it, or 0 if unknown.
int64_t ck_probe_l3_bytes(void);

#ifdef __cplusplus
}
#endif

#endif
