/* One sample from file (or IDX pixels) to its S x S image; see sample.h. */
#include "data/sample.h"

#include "data/fashion_mnist.h"
#include "data/transform.h"
#include "util/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_FILE_MAX ((size_t)64 << 20)

void sample_scratch_free(SampleScratch *sc) {
    free(sc->file);
    image_free(&sc->decoded);
    image_free(&sc->resized);
    image_free(&sc->full);
    resize_scratch_free(&sc->rs);
    memset(sc, 0, sizeof *sc);
}

/* Reads path into sc->file, growing it only when needed. */
static int read_file(SampleScratch *sc, const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set_errno(ERR_IO, "%s: cannot open", path);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    if (size < 0 || (size_t)size > SAMPLE_FILE_MAX) {
        fclose(fp);
        return err_set(ERR_IO, "%s: unreadable or larger than 64 MiB", path);
    }
    if ((size_t)size > sc->file_cap || !sc->file) {
        uint8_t *grown = realloc(sc->file, (size_t)size + 1);
        if (!grown) {
            fclose(fp);
            return err_set(ERR_NOMEM, "out of memory");
        }
        sc->file = grown;
        sc->file_cap = (size_t)size + 1;
    }
    size_t got = fread(sc->file, 1, (size_t)size, fp);
    int failed = ferror(fp);
    fclose(fp);
    if (failed || got != (size_t)size)
        return err_set(ERR_IO, "%s: read failed", path);
    *len = got;
    return ERR_OK;
}

/* Crops box of src and resizes it to S x S, or (validation) resizes all
 * of src to F x F and keeps the centre S x S. */
static int geometry(const Image *src, const CropBox *box, int size, int centre,
                    SampleScratch *sc, const Image **out) {
    int rc;
    if (!centre) {
        rc = image_resize(src, box->x, box->y, box->w, box->h, size, size, &sc->resized,
                          &sc->rs);
        *out = &sc->resized;
        return rc;
    }

    /* Squash to F x F, then copy the centre rows' middle span. */
    int full = transform_valid_full(size), off = (full - size) / 2, c = src->c;
    if ((rc = image_resize(src, 0, 0, src->w, src->h, full, full, &sc->full, &sc->rs)) < 0)
        return rc;
    if ((rc = image_reserve(&sc->resized, size, size, c)) < 0)
        return rc;
    for (int y = 0; y < size; y++)
        memcpy(sc->resized.px + (size_t)y * size * c,
               sc->full.px + ((size_t)(y + off) * full + off) * c, (size_t)size * c);
    *out = &sc->resized;
    return ERR_OK;
}

static int load_folder(const Dataset *d, const char *rel, Rng *rng, const SampleSpec *spec,
                       SampleScratch *sc, const Image **out) {
    char path[4096];
    size_t len = 0;
    ImageInfo info;
    snprintf(path, sizeof path, "%s/%s", d->root, rel);
    int rc = read_file(sc, path, &len);
    if (rc == ERR_OK)
        rc = image_probe(sc->file, len, path, &info);
    if (rc < 0)
        return rc;

    /* Geometry first, in full-size pixels: it decides the decode scale. */
    int flip = spec->augment && rng_uniform(rng) < TRANSFORM_FLIP_P;
    CropBox box = {0, 0, info.w, info.h};
    int need = transform_valid_full(spec->size);
    if (spec->augment) {
        transform_random_crop(rng, info.w, info.h, spec->min_scale, &box);
        need = spec->size;
    }
    int eighths = spec->dct_scale ? transform_dct_scale(box.w, box.h, need, need) : 8;
    if ((rc = image_decode(sc->file, len, path, eighths, &sc->decoded)) < 0)
        return rc;

    /* The flip comes before the crop, as the reference orders them. */
    if (flip)
        transform_flip(&sc->decoded);
    CropBox scaled = box;
    if (sc->decoded.w != info.w || sc->decoded.h != info.h)
        transform_scale_box(&box, info.w, info.h, sc->decoded.w, sc->decoded.h, &scaled);
    if ((rc = geometry(&sc->decoded, &scaled, spec->size, !spec->augment, sc, out)) < 0)
        return err_prefix(rc, "%s", path);
    return ERR_OK;
}

static int load_fmnist(const Dataset *d, int row, Rng *rng, const SampleSpec *spec,
                       SampleScratch *sc, const Image **out) {
    int rc = image_reserve(&sc->decoded, FMNIST_SIDE, FMNIST_SIDE, 1);
    if (rc < 0)
        return rc;
    memcpy(sc->decoded.px, d->pixels + (size_t)row * FMNIST_SIDE * FMNIST_SIDE,
           FMNIST_SIDE * FMNIST_SIDE);

    /* Flip only, unless a crop is asked; resize only when S != 28. */
    if (spec->augment && rng_uniform(rng) < TRANSFORM_FLIP_P)
        transform_flip(&sc->decoded);
    if (spec->crop) {
        CropBox box = {0, 0, FMNIST_SIDE, FMNIST_SIDE};
        if (spec->augment)
            transform_random_crop(rng, FMNIST_SIDE, FMNIST_SIDE, spec->min_scale, &box);
        return geometry(&sc->decoded, &box, spec->size, !spec->augment, sc, out);
    }
    if (spec->size == FMNIST_SIDE) {
        *out = &sc->decoded;
        return ERR_OK;
    }
    CropBox all = {0, 0, FMNIST_SIDE, FMNIST_SIDE};
    return geometry(&sc->decoded, &all, spec->size, 0, sc, out);
}

int sample_load(const Dataset *d, Split s, int i, int epoch, const SampleSpec *spec,
                SampleScratch *sc, const Image **out) {
    Rng rng;
    rng_seed_stream(&rng, spec->seed, (uint64_t)epoch, (uint64_t)s << 32 | (uint64_t)i);
    if (d->kind == DATASET_FMNIST)
        return load_fmnist(d, d->rows[s][i], &rng, spec, sc, out);
    return load_folder(d, dataset_item_path(d, s, i), &rng, spec, sc, out);
}
