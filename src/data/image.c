/* Image buffers: sizing and freeing (see image.h). Decoding lives in
 * decode.c and resizing in resize.c; this file only owns the memory, which
 * grows to the largest image seen and is never shrunk. */
#include "data/image.h"

#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int image_reserve(Image *im, int w, int h, int c) {
    if (w < 0 || h < 0 || c < 1)
        return err_set(ERR_INVALID, "image size %dx%d with %d channels", w, h, c);

    /* Bytes needed, refusing sizes that overflow size_t. */
    size_t need = (size_t)w;
    if (h > 0 && need > SIZE_MAX / (size_t)h)
        return err_set(ERR_NOMEM, "image %dx%dx%d is too large", w, h, c);
    need *= (size_t)h;
    if (need > SIZE_MAX / (size_t)c)
        return err_set(ERR_NOMEM, "image %dx%dx%d is too large", w, h, c);
    need *= (size_t)c;

    /* Grow only; the old pixels are not kept, so no realloc copy. */
    if (need > im->cap) {
        uint8_t *px = malloc(need);
        if (!px)
            return err_set(ERR_NOMEM, "out of memory for a %dx%dx%d image", w, h, c);
        free(im->px);
        im->px = px;
        im->cap = need;
    }
    im->w = w;
    im->h = h;
    im->c = c;
    return ERR_OK;
}

void image_free(Image *im) {
    free(im->px);
    memset(im, 0, sizeof *im);
}
