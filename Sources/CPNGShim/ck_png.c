// libpng wrapped with setjmp so that errors become status codes (see include/ck_png.h).
#include "ck_png.h"

#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/// Largest decoded or encoded pixel buffer accepted (1 GiB): far above any photo, far below address-space trouble.
#define CK_PNG_MAX_BYTES ((size_t)1 << 30)

/// Everything libpng's callbacks touch, on the heap so that its fields keep their values across longjmp.
typedef struct ck_png_context {
    jmp_buf jump;
    char message[256];
    // Reading: the input bytes.
    const uint8_t *data;
    size_t size;
    size_t offset;
    // Writing: the growing output buffer.
    uint8_t *out;
    size_t out_size;
    size_t out_capacity;
    int out_failed;
    // Buffers to release on the error path.
    void *pixels;
    png_bytep *rows;
} ck_png_context;

static void ck_png_set_message(char *destination, size_t capacity, const char *format, ...) {
    if (destination == NULL || capacity == 0) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(destination, capacity, format, arguments);
    va_end(arguments);
}

static void ck_png_on_error(png_structp png, png_const_charp message) {
    ck_png_context *context = (ck_png_context *)png_get_error_ptr(png);
    ck_png_set_message(context->message, sizeof context->message, "%s", message ? message : "libpng error");
    longjmp(context->jump, 1);
}

static void ck_png_on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;  // Warnings (bad ancillary chunks, unknown sRGB profiles, …) do not stop decoding.
}

static void ck_png_read_bytes(png_structp png, png_bytep destination, size_t count) {
    ck_png_context *context = (ck_png_context *)png_get_io_ptr(png);
    if (count > context->size - context->offset) {
        png_error(png, "unexpected end of data (the file is truncated)");
    }
    memcpy(destination, context->data + context->offset, count);
    context->offset += count;
}

static void ck_png_write_bytes(png_structp png, png_bytep source, size_t count) {
    ck_png_context *context = (ck_png_context *)png_get_io_ptr(png);
    if (count > context->out_capacity - context->out_size) {
        size_t capacity = context->out_capacity ? context->out_capacity : 65536;
        while (capacity - context->out_size < count) {
            if (capacity > ((size_t)-1) / 2) png_error(png, "encoded image too large");
            capacity *= 2;
        }
        uint8_t *grown = (uint8_t *)realloc(context->out, capacity);
        if (grown == NULL) {
            context->out_failed = 1;
            png_error(png, "out of memory");
        }
        context->out = grown;
        context->out_capacity = capacity;
    }
    memcpy(context->out + context->out_size, source, count);
    context->out_size += count;
}

static void ck_png_flush(png_structp png) { (void)png; }

static int ck_png_host_is_little_endian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

int ck_png_decode(const uint8_t *data, size_t size, ck_png_image *image) {
    if (image == NULL) return CK_PNG_INVALID_ARGUMENT;
    memset(image, 0, sizeof *image);
    if (data == NULL && size > 0) {
        ck_png_set_message(image->message, sizeof image->message, "no data");
        return CK_PNG_INVALID_ARGUMENT;
    }
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        ck_png_set_message(image->message, sizeof image->message,
                           size < 8 ? "not a PNG file (%zu bytes, shorter than the PNG signature)"
                                    : "not a PNG file (no PNG signature)", size);
        return CK_PNG_NOT_PNG;
    }
    ck_png_context *context = (ck_png_context *)calloc(1, sizeof *context);
    if (context == NULL) return CK_PNG_NO_MEMORY;
    context->data = data;
    context->size = size;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, context, ck_png_on_error, ck_png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || info == NULL) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(context);
        return CK_PNG_NO_MEMORY;
    }
    int status = CK_PNG_OK;
    if (setjmp(context->jump)) {
        ck_png_set_message(image->message, sizeof image->message, "%s", context->message);
        status = CK_PNG_CORRUPT;
        goto cleanup;
    }
    png_set_read_fn(png, context, ck_png_read_bytes);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    image->color_type = (uint32_t)color_type;
    image->has_transparency_chunk = png_get_valid(png, info, PNG_INFO_tRNS) ? 1 : 0;
    if (bit_depth != 8 && bit_depth != 16) {
        ck_png_set_message(image->message, sizeof image->message,
                           "unsupported PNG bit depth %d (colour type %d); expected 8 or 16 bits per sample",
                           bit_depth, color_type);
        status = CK_PNG_UNSUPPORTED;
        goto cleanup;
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (bit_depth == 16 && ck_png_host_is_little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const size_t channels = png_get_channels(png, info);
    const size_t row_bytes = png_get_rowbytes(png, info);
    const size_t sample_bytes = bit_depth == 16 ? 2 : 1;
    if (width == 0 || height == 0 || channels < 1 || channels > 4 || row_bytes != (size_t)width * channels * sample_bytes) {
        ck_png_set_message(image->message, sizeof image->message, "unexpected PNG layout (%u x %u, %zu channels)",
                           (unsigned)width, (unsigned)height, channels);
        status = CK_PNG_CORRUPT;
        goto cleanup;
    }
    if (row_bytes > CK_PNG_MAX_BYTES / height) {
        ck_png_set_message(image->message, sizeof image->message,
                           "image too large (%u x %u x %zu channels; limit %zu bytes)", (unsigned)width,
                           (unsigned)height, channels, (size_t)CK_PNG_MAX_BYTES);
        status = CK_PNG_TOO_LARGE;
        goto cleanup;
    }
    context->pixels = malloc(row_bytes * height);
    context->rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (context->pixels == NULL || context->rows == NULL) {
        ck_png_set_message(image->message, sizeof image->message, "out of memory");
        status = CK_PNG_NO_MEMORY;
        goto cleanup;
    }
    for (png_uint_32 y = 0; y < height; y++) context->rows[y] = (png_bytep)context->pixels + (size_t)y * row_bytes;
    png_read_image(png, context->rows);
    png_read_end(png, NULL);

    image->width = width;
    image->height = height;
    image->channels = (uint32_t)channels;
    image->bit_depth = (uint32_t)bit_depth;
    image->pixels = context->pixels;
    context->pixels = NULL;

cleanup:
    png_destroy_read_struct(&png, &info, NULL);
    free(context->pixels);
    free(context->rows);
    free(context);
    return status;
}

void ck_png_image_free(ck_png_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    image->pixels = NULL;
}

int ck_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  uint8_t **out, size_t *out_size, char *message, size_t message_capacity) {
    if (out == NULL || out_size == NULL) return CK_PNG_INVALID_ARGUMENT;
    *out = NULL;
    *out_size = 0;
    if (pixels == NULL || width == 0 || height == 0 || channels < 1 || channels > 4) {
        ck_png_set_message(message, message_capacity, "invalid image (%u x %u, %u channels)", (unsigned)width,
                           (unsigned)height, (unsigned)channels);
        return CK_PNG_INVALID_ARGUMENT;
    }
    const size_t row_bytes = (size_t)width * channels;
    if (width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX || row_bytes > CK_PNG_MAX_BYTES / height) {
        ck_png_set_message(message, message_capacity, "image too large to encode (%u x %u)", (unsigned)width,
                           (unsigned)height);
        return CK_PNG_TOO_LARGE;
    }
    ck_png_context *context = (ck_png_context *)calloc(1, sizeof *context);
    if (context == NULL) return CK_PNG_NO_MEMORY;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, context, ck_png_on_error, ck_png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || info == NULL) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        free(context);
        return CK_PNG_NO_MEMORY;
    }
    int status = CK_PNG_OK;
    if (setjmp(context->jump)) {
        ck_png_set_message(message, message_capacity, "%s", context->message);
        status = context->out_failed ? CK_PNG_NO_MEMORY : CK_PNG_CORRUPT;
        goto cleanup;
    }
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_write_fn(png, context, ck_png_write_bytes, ck_png_flush);
    // Fast settings, measured on a 3840x2160 RGB photo (2 cores, libpng 1.6.39): zlib's run-length strategy
    // (Z_RLE, which ignores the level; level 1 is set for clarity) and the Paeth row filter on every row encode in
    // about 0.39 s, against 0.53 s with libpng's adaptive choice among all five filters (which picks Paeth on
    // nearly every row of a photo: the file is the same size) and 2.6 s with libpng's defaults (level 6, filtered
    // strategy), for a file 1.5% larger than the defaults'. Decoding such a file takes about 0.26 s either way.
    png_set_compression_level(png, 1);
    png_set_compression_strategy(png, Z_RLE);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_PAETH);
    png_set_IHDR(png, info, width, height, 8, color_types[channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    png_write_end(png, NULL);
    *out = context->out;
    *out_size = context->out_size;
    context->out = NULL;

cleanup:
    png_destroy_write_struct(&png, &info);
    free(context->out);
    free(context);
    return status;
}

void ck_png_buffer_free(uint8_t *buffer) { free(buffer); }

const char *ck_png_library_version(void) { return png_get_libpng_ver(NULL); }
