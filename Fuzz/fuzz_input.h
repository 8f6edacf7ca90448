// Byte reader shared by the libFuzzer targets of the C kernels (scripts/fuzz.sh builds them with
// -fsanitize=fuzzer,address). Every target turns fuzz bytes into a descriptor — mostly small sizes, now and then
// a hostile value (negative, 0, near INT64_MAX, 2^40, 2^62) — and calls the ck_* entry points with buffers that
// really hold the element counts it passes, so any out-of-bounds access or crash is the kernel's.
#ifndef CK_FUZZ_INPUT_H
#define CK_FUZZ_INPUT_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ckernels.h"

typedef struct { const uint8_t *data; size_t size, at; } fz;

static inline uint64_t fz_bits(fz *f, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | (f->at < f->size ? f->data[f->at++] : 0);
    return v;
}
static const int64_t fz_hostile[] = {0, -1, 1, 2, INT64_MAX, INT64_MIN, INT64_MAX - 1, (int64_t)1 << 62,
                                     (int64_t)1 << 40, (int64_t)1 << 31, ((int64_t)1 << 31) - 1, (int64_t)1 << 60,
                                     -((int64_t)1 << 40), 65536, 3};
/// An extent or attribute in lo..hi, or (1 in 16) a hostile value.
static inline int64_t fz_int(fz *f, int64_t lo, int64_t hi) {
    const uint64_t b = fz_bits(f, 1);
    if ((b & 15) == 15) return fz_hostile[fz_bits(f, 1) % (sizeof fz_hostile / sizeof fz_hostile[0])];
    return lo + (int64_t)(fz_bits(f, 1) % (uint64_t)(hi - lo + 1));
}
static inline float fz_float(fz *f) {
    const uint64_t b = fz_bits(f, 1);
    if ((b & 31) == 31) {
        static const float special[] = {1.0f / 0.0f, -1.0f / 0.0f, 0.0f / 0.0f, -0.0f, 3.4e38f, 1e-45f};
        return special[fz_bits(f, 1) % 6];
    }
    return (float)((int)fz_bits(f, 1) - 128) / 64.0f;
}
/// a·b·…, or -1 when negative or beyond `cap` (then the target passes a small mismatched count instead).
static inline int64_t fz_count(const int64_t *v, int n, int64_t cap) {
    int64_t r = 1;
    for (int i = 0; i < n; i++) {
        if (v[i] < 0) return -1;
        if (v[i] == 0) return 0;
    }
    for (int i = 0; i < n; i++) {
        if (__builtin_mul_overflow(r, v[i], &r) || r > cap) return -1;
    }
    return r;
}
/// The count to pass for a buffer whose descriptor wants `want` elements: usually `want`; sometimes off by one
/// (the kernel must reject it); a small count when `want` is unrepresentable.
static inline int64_t fz_pick_count(fz *f, int64_t want) {
    const uint64_t b = fz_bits(f, 1);
    if (want < 0) return (int64_t)(b % 8);
    if ((b & 31) == 31) return want + 1;
    if ((b & 31) == 30 && want > 0) return want - 1;
    return want;
}
static inline float *fz_floats(fz *f, int64_t count) {
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    for (int64_t i = 0; i < count; i++) p[i] = fz_float(f);
    return p;
}
#define FZ_CAP ((int64_t)1 << 15)
#endif
