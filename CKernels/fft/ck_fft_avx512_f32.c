// The FFT kernels, AVX-512 variant: 16-float vectors (zmm).
#if defined(__x86_64__)
#define CK_FFT_V 16
#define CK_FFT_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,avx2")))
#define CK_FFT_TABLE ck_fft_avx512
#include "ck_fft_body.h"
#endif
