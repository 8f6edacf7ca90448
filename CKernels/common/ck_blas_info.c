#include "ck_blas_info.h"

char *openblas_get_corename(void);

const char *ck_blas_core_name(void) { return openblas_get_corename(); }

int ck_cpu_has_avx2_fma(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}
