// Batched complex FFTs on split (real plane, imaginary plane) arrays: what the FFT convolution
// (conv/ck_conv_ncx_fft_f32.c) shares with the per-ISA kernels (fft/ck_fft_{avx512,avx2,portable}_f32.c, one body
// in ck_fft_body.h compiled three times with a different vector width).
//
// Layout: a plane is `n` rows of `width` floats (width a multiple of 16, rows contiguous). A "column" transform
// is a length-n FFT along the row index for every one of the `width` columns at once, so every butterfly is a
// vector operation over whole rows (Stockham autosort: no bit reversal, every stage reads and writes contiguous
// runs). A 2-D transform is columns, an 8×8-blocked transpose, columns again.
#ifndef CK_FFT_INTERNAL_H
#define CK_FFT_INTERNAL_H
#include "../common/ck_internal.h"

/// Smallest and largest transform length (powers of two).
enum { CK_FFT_MIN = 16, CK_FFT_MAX = 1024 };

/// Twiddles of length n: re[k] = cos(2πk/n), im[k] = −sin(2πk/n), k < n (computed in double).
typedef struct ck_fft_twiddles {
    int64_t n;
    float *re, *im;
} ck_fft_twiddles;

/// Length-n (a power of two in [CK_FFT_MIN, CK_FFT_MAX]) forward (inverse = 0: Σ x·e^{−2πijk/n}) or unscaled
/// inverse (e^{+…}) FFT of every column of the planes (re, im) [n][width], in place; (sre, sim) are scratch planes of
/// the same size. The stage sequence has an even number of passes, so the result ends where it started.
typedef void (*ck_fft_columns_fn)(const ck_fft_twiddles *t, int64_t width, float *re, float *im, float *sre,
                                  float *sim, int inverse);
/// dst[c·ld_dst + r] = src[r·ld_src + c] for r < rows, c < cols (both multiples of 8).
typedef void (*ck_fft_transpose_fn)(const float *src, int64_t ld_src, int64_t rows, int64_t cols, float *dst,
                                    int64_t ld_dst);
/// (cr, ci) (+)= (ar, ai)·(br, bi) elementwise over count (a multiple of 16) complex values; accumulate = 0 stores.
typedef void (*ck_fft_cmac_fn)(int64_t count, const float *ar, const float *ai, const float *br, const float *bi,
                               float *cr, float *ci, int accumulate);

typedef struct ck_fft_kernels {
    ck_fft_columns_fn columns;
    ck_fft_transpose_fn transpose;
    ck_fft_cmac_fn cmac;
} ck_fft_kernels;

extern const ck_fft_kernels ck_fft_portable;
#if defined(__x86_64__)
extern const ck_fft_kernels ck_fft_avx2;
extern const ck_fft_kernels ck_fft_avx512;
#endif

/// The kernels of the best variant at or below `isa` (already resolved).
static inline const ck_fft_kernels *ck_fft_kernels_for(int isa) {
#if defined(__x86_64__)
    if (isa >= CK_ISA_AVX512) return &ck_fft_avx512;
    if (isa >= CK_ISA_AVX2) return &ck_fft_avx2;
#endif
    (void)isa;
    return &ck_fft_portable;
}

/// Fills t for length n (a power of two in range); CK_ERR_NOMEM / CK_ERR_ARGUMENT on failure. ck_fft_free releases.
int ck_fft_twiddles_init(ck_fft_twiddles *t, int64_t n);
void ck_fft_twiddles_free(ck_fft_twiddles *t);

#endif
