/* One sample, from its source to the S x S image the batch gets.
 *
 * Folder images: read the file, probe its size, draw the augmentation,
 * decode at the smallest DCT scale that keeps the needed region at least
 * S pixels (never upsampling what the reference downsamples), then
 *   training:   flip (p = 0.5) the image, crop the RandomResizedCrop box,
 *               resize it to S x S;
 *   validation: resize the whole image to F x F (F = S + extra), crop the
 *               centre S x S.
 * Fashion-MNIST: the 28 x 28 grey image, flipped when training, resized to
 * S x S when S != 28 (or cropped as above when crop is asked).
 * A sample's random numbers come from (seed, epoch, item) alone. */
#ifndef NOISETTE_DATA_SAMPLE_H
#define NOISETTE_DATA_SAMPLE_H

#include "data/dataset.h"
#include "data/image.h"

#include <stdint.h>

typedef struct {
    int    size;            /* S */
    int    augment;         /* flip + random crop (training) */
    int    crop;            /* crop geometry: random (augment) or centre */
    int    dct_scale;       /* allow JPEG DCT downscaling (default on) */
    double min_scale;       /* RandomResizedCrop's smallest area fraction */
    uint64_t seed;
} SampleSpec;

/* Memory one worker reuses for every sample: nothing is allocated once the
 * buffers have grown to the largest image seen. */
typedef struct {
    uint8_t      *file;
    size_t        file_cap;
    Image         decoded, resized, full;
    ResizeScratch rs;
} SampleScratch;

void sample_scratch_free(SampleScratch *sc);

/* Produces item i of split s at the given epoch into *out, an image of
 * spec->size squared pixels and d->channels channels owned by sc. Fails
 * with a message naming the image file. */
int sample_load(const Dataset *d, Split s, int i, int epoch, const SampleSpec *spec,
                SampleScratch *sc, const Image **out);

#endif
