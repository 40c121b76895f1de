/* 8-bit images in memory, and the two operations the pipeline builds on:
 * decoding a file (JPEG through libjpeg-turbo, PNG through libpng) and
 * resizing a box of an image as Pillow's Image.resize(BILINEAR) does.
 *
 * Pixels are interleaved, row-major: pixel (x, y) channel k sits at
 * px[(y * w + x) * c + k]. An Image owns its buffer and reuses it: the
 * functions that fill an image grow px only when it is too small, so a
 * worker that keeps its images allocates nothing in steady state. */
#ifndef NOISETTE_DATA_IMAGE_H
#define NOISETTE_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int      w, h, c;       /* c = 3 (RGB) or 1 (grey) */
    uint8_t *px;            /* h * w * c bytes */
    size_t   cap;           /* bytes allocated at px */
} Image;

typedef enum {
    IMAGE_JPEG = 1,
    IMAGE_PNG  = 2
} ImageFormat;

typedef struct {
    ImageFormat format;     /* found from the magic bytes, not the name */
    int         w, h;       /* full size, before any DCT scaling */
} ImageInfo;

/* Sets im's size and makes px hold at least w*h*c bytes (growing only;
 * old pixels are not kept). 0, ERR_NOMEM, or ERR_INVALID for a negative
 * size or fewer than one channel. */
int image_reserve(Image *im, int w, int h, int c);

void image_free(Image *im);

/* Reads the header of an encoded image held in data[0..len): its format
 * (by magic bytes: a PNG file named .JPEG is a PNG) and full size. name is
 * used in messages. ERR_PARSE for an unknown or corrupt header. */
int image_probe(const uint8_t *data, size_t len, const char *name, ImageInfo *info);

/* Decodes data into out as RGB (c = 3): grey is replicated, CMYK and YCCK
 * JPEGs are converted as Pillow does, alpha and palettes are resolved.
 * JPEGs are decoded at scale_eighths/8 of full size (1..8) with libjpeg's
 * DCT scaling (out->w = ceil(w * scale_eighths / 8), likewise h); PNGs
 * ignore it and come at full size. A truncated or corrupt file is an error
 * that names the file; no warning of libjpeg's is printed. */
int image_decode(const uint8_t *data, size_t len, const char *name, int scale_eighths,
                 Image *out);

/* Scratch memory that image_resize reuses between calls. */
typedef struct {
    uint8_t *tmp;           /* the 8-bit intermediate of the horizontal pass */
    size_t   tmp_cap;       /* bytes */
    int32_t *coef;          /* fixed-point weights of both passes, then one
                             * row of vertical-pass accumulators */
    int     *bounds;        /* first tap and tap count per output index */
    size_t   coef_cap, bounds_cap;  /* elements */
} ResizeScratch;

/* Resizes the box [x0, x0+bw) x [y0, y0+bh) of src (inside it) to
 * out_w x out_h (out gets src's channel count), exactly as Pillow 9's
 * Image.crop(box).resize((out_w, out_h), Image.BILINEAR): a separable
 * triangle filter widened by the scale factor (antialiased), 22-bit fixed
 * point weights, horizontal pass first into an 8-bit intermediate, a pass
 * skipped when its size does not change. out must not be src. 0, ERR_NOMEM
 * or ERR_INVALID (box outside src, a size below 1, out == src). */
int image_resize(const Image *src, int x0, int y0, int bw, int bh, int out_w, int out_h,
                 Image *out, ResizeScratch *scratch);

void resize_scratch_free(ResizeScratch *s);

#endif
