// Twiddle tables of the FFT kernels (ck_fft_internal.h).
#include <math.h>
#include <stdlib.h>
#include "ck_fft_internal.h"

int ck_fft_twiddles_init(ck_fft_twiddles *t, int64_t n) {
    t->n = n;
    t->re = t->im = NULL;
    if (n < CK_FFT_MIN || n > CK_FFT_MAX || (n & (n - 1))) return CK_ERR_ARGUMENT;
    t->re = malloc((size_t)n * sizeof(float));
    t->im = malloc((size_t)n * sizeof(float));
    if (!t->re || !t->im) {
        ck_fft_twiddles_free(t);
        return CK_ERR_NOMEM;
    }
    const double pi = 3.14159265358979323846;
    for (int64_t k = 0; k < n; k++) {
        t->re[k] = (float)cos(2 * pi * (double)k / (double)n);
        t->im[k] = (float)-sin(2 * pi * (double)k / (double)n);
    }
    return CK_OK;
}

void ck_fft_twiddles_free(ck_fft_twiddles *t) {
    free(t->re);
    free(t->im);
    t->re = t->im = NULL;
}
