/* The reference's item transforms (spec: reference-training.md §2.3-2.7):
 * the geometry of RandomResizedCrop and of the validation squash-and-crop,
 * the choice of a JPEG DCT scale that never makes a crop upsample, and the
 * float conversion with per-channel normalisation into a batch.
 *
 * Geometry is separate from pixels so it can be tested exactly and drawn
 * before a file is decoded (the box decides how small to decode). */
#ifndef NOISETTE_DATA_TRANSFORM_H
#define NOISETTE_DATA_TRANSFORM_H

#include "data/image.h"
#include "util/rng.h"

#define TRANSFORM_MIN_SCALE 0.35    /* fastai RandomResizedCrop(min_scale) */
#define TRANSFORM_ATTEMPTS  10
#define TRANSFORM_FLIP_P    0.5

typedef struct {
    int x, y, w, h;
} CropBox;

typedef enum {
    LAYOUT_NCHW = 0,    /* batch[n][c][y][x] */
    LAYOUT_NHWC = 1     /* batch[n][y][x][c] */
} Layout;

/* Python's round(): to nearest, halves to even. */
double transform_round_half_even(double v);

/* RandomResizedCrop's box in a w x h image: up to 10 attempts of area
 * U(min_scale, 1)*w*h and aspect exp(U(ln 3/4, ln 4/3)), sides rounded
 * half-to-even; the first that fits is placed uniformly; if none fits,
 * the centre crop of the clamped aspect. Draws from rng. */
void transform_random_crop(Rng *rng, int w, int h, double min_scale, CropBox *box);

/* The validation resize target: S + 8*ceil(0.14*S/8) (152 for 128). */
int transform_valid_full(int size);

/* The largest JPEG DCT reduction, as eighths in {8, 4, 2, 1}, at which a
 * region of w x h source pixels still has more than need_w x need_h pixels
 * (w*s/8 >= need_w + 1, likewise h; the pixel of margin absorbs rounding
 * the region's edges): decoding smaller never upsamples. */
int transform_dct_scale(int w, int h, int need_w, int need_h);

/* Maps box from full-size coordinates (full_w x full_h) to an image
 * decoded at scaled_w x scaled_h, rounding each edge to the nearest pixel;
 * the result has at least one pixel per side and lies inside the image. */
void transform_scale_box(const CropBox *box, int full_w, int full_h, int scaled_w,
                         int scaled_h, CropBox *out);

/* Mirrors im left-right in place. */
void transform_flip(Image *im);

/* Writes im (S x S x c bytes) as floats (x/255 - mean[k]) / std[k] into
 * dst, the slot of one image in a batch of the given layout. */
void transform_normalize(const Image *im, const float *mean, const float *std,
                         Layout layout, float *dst);

/* fastai's RandomErasing as the reference's --sh S adds it (spec §2.9):
 * once per batch of n NCHW images of c x size x size, with probability 0.3,
 * 1 to 3 rectangles of up to max_area of size^2 / count each (aspect
 * between 0.3 and 1/0.3), the same for every image, filled with N(0, 1)
 * noise. Returns the number of rectangles drawn (0 when skipped). */
int transform_random_erase(Rng *rng, float *x, int n, int c, int size, double max_area);

#endif
