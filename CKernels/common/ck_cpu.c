// Run-time CPU-feature detection: the one place that decides which instruction-set variant of a kernel may run.
#include "ck_internal.h"

int ck_isa_detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();  // compiler-rt's checks include the OS's XSAVE state (XCR0) for ymm / zmm registers
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
        return CK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_ISA_AVX2;
#endif
    return CK_ISA_PORTABLE;
}

int ck_isa_resolve(int requested) {
    const int best = ck_isa_detect();
    if (requested < 0 || requested > best) return best;
    return requested;
}

const char *ck_isa_name(int isa) {
    switch (isa) {
    case CK_ISA_PORTABLE: return "portable";
    case CK_ISA_AVX2: return "avx2";
    case CK_ISA_AVX512: return "avx512";
    default: return "unknown";
    }
}

#include <unistd.h>

/// Per-core data cache sizes in bytes (L1d, L2) from the C library, with common values when it does not know.
void ck_cache_sizes(int64_t *l1, int64_t *l2) {
    long a = -1, b = -1;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
    a = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    b = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    *l1 = a > 4096 ? a : 32 << 10;
    *l2 = b > 65536 ? b : 1 << 20;
}
