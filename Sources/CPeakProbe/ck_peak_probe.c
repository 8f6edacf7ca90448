// Machine-peak probes; see include/ck_peak_probe.h.
#define _GNU_SOURCE
#include "ck_peak_probe.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int ck_probe_has_avx2_fma(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

void ck_probe_trim_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

int ck_probe_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int64_t ck_probe_l3_bytes(void) {
#ifdef _SC_LEVEL3_CACHE_SIZE
    long size = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return size > 0 ? (int64_t)size : 0;
#else
    return 0;
#endif
}

// ---- FMA chains ------------------------------------------------------------------------------------------------

enum { FMA_CHAINS = 12, FMA_LANES = 8 };

#if defined(__x86_64__)
/// `iterations` × 12 independent vfmadd231ps on ymm0–ymm11 (operands ymm12, ymm13, all zero: no denormals).
__attribute__((target("avx2,fma"))) static void fma_chains(uint64_t iterations) {
    if (iterations == 0) return;
    __asm__ __volatile__(
        "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
        "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"
        "vxorps %%ymm2, %%ymm2, %%ymm2\n\t"
        "vxorps %%ymm3, %%ymm3, %%ymm3\n\t"
        "vxorps %%ymm4, %%ymm4, %%ymm4\n\t"
        "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"
        "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"
        "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"
        "vxorps %%ymm8, %%ymm8, %%ymm8\n\t"
        "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"
        "vxorps %%ymm10, %%ymm10, %%ymm10\n\t"
        "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"
        "vxorps %%ymm12, %%ymm12, %%ymm12\n\t"
        "vxorps %%ymm13, %%ymm13, %%ymm13\n\t"
        "1:\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm0\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm1\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm2\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm3\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm4\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm5\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm6\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm7\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm8\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm9\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm10\n\t"
        "vfmadd231ps %%ymm12, %%ymm13, %%ymm11\n\t"
        "sub $1, %[n]\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : [n] "+r"(iterations)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13");
}

/// `iterations` × 12 independent 512-bit vfmadd231ps on zmm0–zmm11 (operands zmm12, zmm13, all zero).
__attribute__((target("avx512f"))) static void fma512_chains(uint64_t iterations) {
    if (iterations == 0) return;
    __asm__ __volatile__(
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
        "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
        "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
        "vpxord %%zmm3, %%zmm3, %%zmm3\n\t"
        "vpxord %%zmm4, %%zmm4, %%zmm4\n\t"
        "vpxord %%zmm5, %%zmm5, %%zmm5\n\t"
        "vpxord %%zmm6, %%zmm6, %%zmm6\n\t"
        "vpxord %%zmm7, %%zmm7, %%zmm7\n\t"
        "vpxord %%zmm8, %%zmm8, %%zmm8\n\t"
        "vpxord %%zmm9, %%zmm9, %%zmm9\n\t"
        "vpxord %%zmm10, %%zmm10, %%zmm10\n\t"
        "vpxord %%zmm11, %%zmm11, %%zmm11\n\t"
        "vpxord %%zmm12, %%zmm12, %%zmm12\n\t"
        "vpxord %%zmm13, %%zmm13, %%zmm13\n\t"
        "1:\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm0\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm1\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm2\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm3\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm4\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm5\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm6\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm7\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm8\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm9\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm10\n\t"
        "vfmadd231ps %%zmm12, %%zmm13, %%zmm11\n\t"
        "sub $1, %[n]\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : [n] "+r"(iterations)
        :
        : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13");
}

/// Copies `bytes` (a multiple of 128, both pointers 32-byte aligned) with 256-bit loads and stores.
__attribute__((target("avx2"))) static void copy_block(float *dst, const float *src, uint64_t bytes, int streaming) {
    if (bytes == 0) return;
    if (streaming) {
        __asm__ __volatile__(
            "1:\n\t"
            "vmovaps (%[s]), %%ymm0\n\t"
            "vmovaps 32(%[s]), %%ymm1\n\t"
            "vmovaps 64(%[s]), %%ymm2\n\t"
            "vmovaps 96(%[s]), %%ymm3\n\t"
            "vmovntps %%ymm0, (%[d])\n\t"
            "vmovntps %%ymm1, 32(%[d])\n\t"
            "vmovntps %%ymm2, 64(%[d])\n\t"
            "vmovntps %%ymm3, 96(%[d])\n\t"
            "add $128, %[s]\n\t"
            "add $128, %[d]\n\t"
            "sub $128, %[n]\n\t"
            "jnz 1b\n\t"
            "sfence\n\t"
            "vzeroupper\n\t"
            : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(bytes)
            :
            : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3");
    } else {
        __asm__ __volatile__(
            "1:\n\t"
            "vmovaps (%[s]), %%ymm0\n\t"
            "vmovaps 32(%[s]), %%ymm1\n\t"
            "vmovaps 64(%[s]), %%ymm2\n\t"
            "vmovaps 96(%[s]), %%ymm3\n\t"
            "vmovaps %%ymm0, (%[d])\n\t"
            "vmovaps %%ymm1, 32(%[d])\n\t"
            "vmovaps %%ymm2, 64(%[d])\n\t"
            "vmovaps %%ymm3, 96(%[d])\n\t"
            "add $128, %[s]\n\t"
            "add $128, %[d]\n\t"
            "sub $128, %[n]\n\t"
            "jnz 1b\n\t"
            "vzeroupper\n\t"
            : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(bytes)
            :
            : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3");
    }
}
#endif

// ---- threads ---------------------------------------------------------------------------------------------------

typedef struct probe_job {
    const int *go;         // threads spin until *go != 0, so they start together
    int kind;              // 0 = FMA (AVX2), 1 = copy, 2 = FMA (AVX-512)
    uint64_t iterations;   // FMA loop trips, or copy passes
    float *dst;
    const float *src;
    uint64_t bytes;        // this thread's slice
    int streaming;
    double start, end;
} probe_job;

static void *probe_thread(void *argument) {
    probe_job *job = argument;
    while (!__atomic_load_n(job->go, __ATOMIC_ACQUIRE)) {
    }
    job->start = now_seconds();
#if defined(__x86_64__)
    if (job->kind == 0) {
        fma_chains(job->iterations);
    } else if (job->kind == 2) {
        fma512_chains(job->iterations);
    } else {
        for (uint64_t pass = 0; pass < job->iterations; pass++) copy_block(job->dst, job->src, job->bytes, job->streaming);
    }
#endif
    job->end = now_seconds();
    return NULL;
}

/// Runs `jobs[0..threads)` in parallel (jobs[0] on the calling thread); returns last end − first start, or −1 when
/// a thread could not be started.
static double run_jobs(probe_job *jobs, int threads) {
    int go = 0;
    pthread_t *handles = calloc((size_t)threads, sizeof(pthread_t));
    if (!handles) return -1;
    int started = 1;
    for (int t = 0; t < threads; t++) jobs[t].go = &go;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&handles[t], NULL, probe_thread, &jobs[t]) != 0) break;
        started++;
    }
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    probe_thread(&jobs[0]);
    for (int t = 1; t < started; t++) pthread_join(handles[t], NULL);
    free(handles);
    if (started != threads) return -1;
    double first = jobs[0].start, last = jobs[0].end;
    for (int t = 1; t < threads; t++) {
        if (jobs[t].start < first) first = jobs[t].start;
        if (jobs[t].end > last) last = jobs[t].end;
    }
    return last - first;
}

static double fma_gflops(int kind, int lanes, int threads, double seconds, int trials) {
    probe_job *jobs = calloc((size_t)threads, sizeof(probe_job));
    if (!jobs) return 0;
    // Calibrate on one thread: grow the trip count until a run takes >= 2 ms, then scale to `seconds`.
    uint64_t trips = 1u << 12;
    for (;;) {
        probe_job one = {0};
        one.kind = kind;
        one.iterations = trips;
        double elapsed = run_jobs(&one, 1);
        if (elapsed >= 0.002 || trips > (1ull << 40)) {
            double per_trip = elapsed / (double)trips;
            trips = (uint64_t)(seconds / per_trip) + 1;
            break;
        }
        trips *= 4;
    }
    double best = 0;
    for (int trial = 0; trial < (trials < 1 ? 1 : trials); trial++) {
        for (int t = 0; t < threads; t++) {
            jobs[t].kind = kind;
            jobs[t].iterations = trips;
        }
        double elapsed = run_jobs(jobs, threads);
        if (elapsed > 0) {
            double rate = (double)trips * FMA_CHAINS * lanes * 2.0 * threads / elapsed * 1e-9;
            if (rate > best) best = rate;
        }
    }
    free(jobs);
    return best;
}

double ck_probe_fma_gflops(int threads, double seconds, int trials) {
    if (threads < 1 || !ck_probe_has_avx2_fma()) return 0;
    return fma_gflops(0, FMA_LANES, threads, seconds, trials);
}

double ck_probe_fma512_gflops(int threads, double seconds, int trials) {
    if (threads < 1 || !ck_probe_has_avx512()) return 0;
    return fma_gflops(2, 2 * FMA_LANES, threads, seconds, trials);
}

struct ck_probe_arena {
    void *src, *dst;
    uint64_t bytes;
};

ck_probe_arena *ck_probe_arena_create(int64_t bytes) {
    if (bytes < 4096) return NULL;
    ck_probe_arena *arena = calloc(1, sizeof(ck_probe_arena));
    if (!arena) return NULL;
    arena->bytes = (uint64_t)bytes & ~(uint64_t)4095;
    if (posix_memalign(&arena->src, 4096, arena->bytes) != 0) arena->src = NULL;
    if (posix_memalign(&arena->dst, 4096, arena->bytes) != 0) arena->dst = NULL;
    if (!arena->src || !arena->dst) {
        ck_probe_arena_destroy(arena);
        return NULL;
    }
    memset(arena->src, 1, arena->bytes);
    memset(arena->dst, 0, arena->bytes);
    return arena;
}

void ck_probe_arena_destroy(ck_probe_arena *arena) {
    if (!arena) return;
    free(arena->src);
    free(arena->dst);
    free(arena);
}

double ck_probe_copy_gbs(ck_probe_arena *arena, int threads, int streaming, int64_t window, int passes, int trials) {
    if (!arena || threads < 1 || !ck_probe_has_avx2_fma()) return 0;
    uint64_t region = window <= 0 || (uint64_t)window > arena->bytes ? arena->bytes : (uint64_t)window;
    // Each thread gets a slice that is a multiple of 4 KiB (so of 128 bytes).
    uint64_t slice = (region / (uint64_t)threads) & ~(uint64_t)4095;
    if (slice == 0) return 0;
    region = slice * (uint64_t)threads;
    uint64_t positions = arena->bytes / region;  // region offsets that fit without wrapping
    if (positions == 0) positions = 1;
    probe_job *jobs = calloc((size_t)threads, sizeof(probe_job));
    if (!jobs) return 0;
    double best = 0;
    int total = (trials < 1 ? 1 : trials) + (positions == 1 ? 1 : 0);  // a warm-up trial when the region repeats
    for (int trial = 0; trial < total; trial++) {
        uint64_t offset = ((uint64_t)trial % positions) * region;
        for (int t = 0; t < threads; t++) {
            jobs[t].kind = 1;
            jobs[t].src = (const float *)((char *)arena->src + offset + slice * (uint64_t)t);
            jobs[t].dst = (float *)((char *)arena->dst + offset + slice * (uint64_t)t);
            jobs[t].bytes = slice;
            jobs[t].streaming = streaming;
            jobs[t].iterations = passes < 1 ? 1 : (uint64_t)passes;
        }
        double elapsed = run_jobs(jobs, threads);
        if (positions == 1 && trial == 0) continue;  // warm-up
        if (elapsed > 0) {
            double rate = 2.0 * (double)region * (double)jobs[0].iterations / elapsed * 1e-9;
            if (rate > best) best = rate;
        }
    }
    free(jobs);
    return best;
}
