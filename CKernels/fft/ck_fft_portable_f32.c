// The FFT kernels, portable variant: 4-float generic vectors (whatever the baseline target makes of them).
#define CK_FFT_V 4
#define CK_FFT_TARGET
#define CK_FFT_TABLE ck_fft_portable
#include "ck_fft_body.h"
