// The FFT kernels' one body (see ck_fft_internal.h), included by each per-ISA file after it defines
//   CK_FFT_V       floats per vector (16 AVX-512, 8 AVX2, 4 portable),
//   CK_FFT_TARGET  the function attribute of that ISA (empty for portable),
//   CK_FFT_TABLE   the name of the kernel table to define.
// Vectors are the compiler's generic vector types, so the arithmetic is written once; loads and stores are
// memcpy (unaligned moves). Macros, not helper functions: vector arguments across functions of different targets
// would change the calling convention.
#include <string.h>
#include "ck_fft_internal.h"

typedef float vf __attribute__((vector_size(CK_FFT_V * 4)));
typedef float v8 __attribute__((vector_size(32)));

#define LD(p) ({ vf v_; memcpy(&v_, (p), sizeof v_); v_; })
#define ST(p, v) do { vf v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)
#define LD8(p) ({ v8 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define ST8(p, v) do { v8 v_ = (v); memcpy((p), &v_, sizeof v_); } while (0)

/// One radix-4 Stockham stage: sub-transforms of length len at stride s rows; each row of the strip is sw floats
/// at row stride ld.
CK_FFT_TARGET static void stage4(int64_t len, int64_t s, int64_t ld, int64_t sw, int64_t tstep,
                                 const float *restrict xr, const float *restrict xi, float *restrict yr,
                                 float *restrict yi, const float *twr, const float *twi, float sign) {
    const int64_t n1 = len / 4, run = s * ld;
    for (int64_t p = 0; p < n1; p++) {
        const float w1r = twr[p * tstep], w1i = sign * twi[p * tstep];
        const float w2r = twr[2 * p * tstep], w2i = sign * twi[2 * p * tstep];
        const float w3r = twr[3 * p * tstep], w3i = sign * twi[3 * p * tstep];
        const float *ar = xr + p * run, *ai = xi + p * run;
        const float *br = ar + n1 * run, *bi = ai + n1 * run;
        const float *cr = br + n1 * run, *ci = bi + n1 * run;
        const float *dr = cr + n1 * run, *di = ci + n1 * run;
        float *y0r = yr + 4 * p * run, *y0i = yi + 4 * p * run;
        float *y1r = y0r + run, *y1i = y0i + run, *y2r = y1r + run, *y2i = y1i + run;
        float *y3r = y2r + run, *y3i = y2i + run;
        for (int64_t q = 0; q < run; q += ld)
        for (int64_t r = q; r < q + sw; r += CK_FFT_V) {
            const vf a_r = LD(ar + r), a_i = LD(ai + r), b_r = LD(br + r), b_i = LD(bi + r);
            const vf c_r = LD(cr + r), c_i = LD(ci + r), d_r = LD(dr + r), d_i = LD(di + r);
            const vf apc_r = a_r + c_r, apc_i = a_i + c_i, amc_r = a_r - c_r, amc_i = a_i - c_i;
            const vf bpd_r = b_r + d_r, bpd_i = b_i + d_i;
            // ±j·(b − d): forward (sign = 1) uses e^{−2πi/4} = −j, so X1 = (a − c) − j(b − d).
            const vf jb_r = -sign * (b_i - d_i), jb_i = sign * (b_r - d_r);
            ST(y0r + r, apc_r + bpd_r);
            ST(y0i + r, apc_i + bpd_i);
            const vf u1r = amc_r - jb_r, u1i = amc_i - jb_i;
            ST(y1r + r, w1r * u1r - w1i * u1i);
            ST(y1i + r, w1r * u1i + w1i * u1r);
            const vf u2r = apc_r - bpd_r, u2i = apc_i - bpd_i;
            ST(y2r + r, w2r * u2r - w2i * u2i);
            ST(y2i + r, w2r * u2i + w2i * u2r);
            const vf u3r = amc_r + jb_r, u3i = amc_i + jb_i;
            ST(y3r + r, w3r * u3r - w3i * u3i);
            ST(y3i + r, w3r * u3i + w3i * u3r);
        }
    }
}

/// One radix-2 Stockham stage (arguments as stage4).
CK_FFT_TARGET static void stage2(int64_t len, int64_t s, int64_t ld, int64_t sw, int64_t tstep,
                                 const float *restrict xr, const float *restrict xi, float *restrict yr,
                                 float *restrict yi, const float *twr, const float *twi, float sign) {
    const int64_t n1 = len / 2, run = s * ld;
    for (int64_t p = 0; p < n1; p++) {
        const float wr = twr[p * tstep], wi = sign * twi[p * tstep];
        const float *ar = xr + p * run, *ai = xi + p * run, *br = ar + n1 * run, *bi = ai + n1 * run;
        float *y0r = yr + 2 * p * run, *y0i = yi + 2 * p * run, *y1r = y0r + run, *y1i = y0i + run;
        for (int64_t q = 0; q < run; q += ld)
        for (int64_t r = q; r < q + sw; r += CK_FFT_V) {
            const vf a_r = LD(ar + r), a_i = LD(ai + r), b_r = LD(br + r), b_i = LD(bi + r);
            ST(y0r + r, a_r + b_r);
            ST(y0i + r, a_i + b_i);
            const vf ur = a_r - b_r, ui = a_i - b_i;
            ST(y1r + r, wr * ur - wi * ui);
            ST(y1i + r, wr * ui + wi * ur);
        }
    }
}

CK_FFT_TARGET static void columns(const ck_fft_twiddles *t, int64_t width, float *re, float *im, float *sre,
                                  float *sim, int inverse) {
    const int64_t n = t->n;
    int L = 0;
    while (((int64_t)1 << L) < n) L++;
    // Radix-4 stages, then radix-2; one radix-4 traded for two radix-2 when the count would be odd, so that the
    // result lands back in (re, im).
    int r4 = L / 2, r2 = L % 2;
    if ((r4 + r2) % 2) {
        r4 -= 1;
        r2 += 2;
    }
    const float sign = inverse ? -1.0f : 1.0f;
    // Whole rows per stage: column strips sized for L1 measured 1.5–4× slower in place (rows a power of two apart
    // conflict in the cache sets) and 1.0–1.5× slower copied to compact buffers (the copies cost a pass each).
    float *xr = re, *xi = im, *yr = sre, *yi = sim;
    int64_t len = n, s = 1;
    for (int st = 0; st < r4 + r2; st++) {
        if (st < r4) {
            stage4(len, s, width, width, n / len, xr, xi, yr, yi, t->re, t->im, sign);
            len /= 4;
            s *= 4;
        } else {
            stage2(len, s, width, width, n / len, xr, xi, yr, yi, t->re, t->im, sign);
            len /= 2;
            s *= 2;
        }
        float *tr = xr, *ti = xi;
        xr = yr, xi = yi, yr = tr, yi = ti;
    }
}

CK_FFT_TARGET static void transpose(const float *src, int64_t ld_src, int64_t rows, int64_t cols, float *dst,
                                    int64_t ld_dst) {
    for (int64_t r0 = 0; r0 < rows; r0 += 8)
        for (int64_t c0 = 0; c0 < cols; c0 += 8) {
            const float *s = src + r0 * ld_src + c0;
            const v8 r0v = LD8(s), r1 = LD8(s + ld_src), r2 = LD8(s + 2 * ld_src), r3 = LD8(s + 3 * ld_src);
            const v8 r4 = LD8(s + 4 * ld_src), r5 = LD8(s + 5 * ld_src), r6 = LD8(s + 6 * ld_src),
                     r7 = LD8(s + 7 * ld_src);
            const v8 t0 = __builtin_shufflevector(r0v, r1, 0, 8, 1, 9, 4, 12, 5, 13);
            const v8 t1 = __builtin_shufflevector(r0v, r1, 2, 10, 3, 11, 6, 14, 7, 15);
            const v8 t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13);
            const v8 t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);
            const v8 t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13);
            const v8 t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);
            const v8 t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13);
            const v8 t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
            const v8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
            const v8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
            const v8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
            const v8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
            const v8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
            const v8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
            const v8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
            const v8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
            float *d = dst + c0 * ld_dst + r0;
            ST8(d, __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11));
            ST8(d + ld_dst, __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11));
            ST8(d + 2 * ld_dst, __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11));
            ST8(d + 3 * ld_dst, __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11));
            ST8(d + 4 * ld_dst, __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15));
            ST8(d + 5 * ld_dst, __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15));
            ST8(d + 6 * ld_dst, __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15));
            ST8(d + 7 * ld_dst, __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15));
        }
}

CK_FFT_TARGET static void cmac(int64_t count, const float *restrict ar, const float *restrict ai,
                               const float *restrict br, const float *restrict bi, float *restrict cr,
                               float *restrict ci, int accumulate) {
    if (accumulate) {
        for (int64_t i = 0; i < count; i += CK_FFT_V) {
            const vf a_r = LD(ar + i), a_i = LD(ai + i), b_r = LD(br + i), b_i = LD(bi + i);
            ST(cr + i, LD(cr + i) + a_r * b_r - a_i * b_i);
            ST(ci + i, LD(ci + i) + a_r * b_i + a_i * b_r);
        }
    } else {
        for (int64_t i = 0; i < count; i += CK_FFT_V) {
            const vf a_r = LD(ar + i), a_i = LD(ai + i), b_r = LD(br + i), b_i = LD(bi + i);
            ST(cr + i, a_r * b_r - a_i * b_i);
            ST(ci + i, a_r * b_i + a_i * b_r);
        }
    }
}

const ck_fft_kernels CK_FFT_TABLE = {columns, transpose, cmac};
