// The FFT kernels, AVX2 + FMA variant: 8-float vectors (ymm).
#if defined(__x86_64__)
#define CK_FFT_V 8
#define CK_FFT_TARGET __attribute__((target("avx2,fma")))
#define CK_FFT_TABLE ck_fft_avx2
#include "ck_fft_body.h"
#endif
