// PNG decode/encode for CNNKit's image I/O: libpng behind setjmp, reporting status codes instead of longjmp.
//
// libpng signals errors by longjmp out of its error callback; a longjmp through Swift frames is undefined, so
// every libpng call happens inside these functions, between a setjmp and its return. The functions never abort
// and never read past the input: a truncated or corrupt file gives CK_PNG_CORRUPT and a message.
#ifndef CK_PNG_H
#define CK_PNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes of the ck_png_* functions.
typedef enum ck_png_status {
    CK_PNG_OK = 0,
    /// The data does not start with the PNG signature.
    CK_PNG_NOT_PNG = 1,
    /// libpng reported an error: truncated data, bad CRC of a critical chunk, bad zlib stream, bad header, …
    CK_PNG_CORRUPT = 2,
    /// A valid PNG this decoder does not handle (bit depth 1, 2 or 4).
    CK_PNG_UNSUPPORTED = 3,
    /// Width · height · channels · bytes does not fit the decoder's limit.
    CK_PNG_TOO_LARGE = 4,
    /// malloc failed.
    CK_PNG_NO_MEMORY = 5,
    /// A caller error: null pointer, zero size, channel count not 1–4.
    CK_PNG_INVALID_ARGUMENT = 6
} ck_png_status;

/// A decoded image: interleaved samples, rows top to bottom.
typedef struct ck_png_image {
    uint32_t width;
    uint32_t height;
    /// Samples per pixel after decoding: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette images decode to RGB).
    uint32_t channels;
    /// 8 (`pixels` holds uint8_t) or 16 (`pixels` holds uint16_t in host byte order).
    uint32_t bit_depth;
    /// The PNG colour type as stored in the file (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA).
    uint32_t color_type;
    /// Whether the file has a tRNS chunk (transparency that is not an alpha channel; ignored by the decoder).
    uint32_t has_transparency_chunk;
    /// width · height · channels samples, malloc'd; release with ck_png_image_free.
    void *pixels;
    /// On failure: what went wrong, NUL-terminated.
    char message[256];
} ck_png_image;

/// Decodes the PNG file held in `data[0..<size]` into `image`. On any status other than CK_PNG_OK, `image->pixels`
/// is NULL and `image->message` says what went wrong.
int ck_png_decode(const uint8_t *data, size_t size, ck_png_image *image);

/// Releases the pixels of a decoded image (safe on a zeroed or failed image).
void ck_png_image_free(ck_png_image *image);

/// Encodes 8-bit interleaved samples (`channels` 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) as a PNG file in memory.
/// On CK_PNG_OK, `*out` (malloc'd; release with ck_png_buffer_free) holds `*out_size` bytes. On failure `message`
/// (of `message_capacity` bytes) says why.
int ck_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  uint8_t **out, size_t *out_size, char *message, size_t message_capacity);

/// Releases a buffer returned by ck_png_encode.
void ck_png_buffer_free(uint8_t *buffer);

/// The version string of the libpng linked at run time, e.g. "1.6.39".
const char *ck_png_library_version(void);

#ifdef __cplusplus
}
#endif

#endif
