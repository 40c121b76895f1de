/* libFuzzer target for the image decoders (JPEG through libjpeg-turbo, PNG
 * through libpng) and the resize after them.
 *
 * The first byte of each input picks the DCT scale (1..8 eighths); the rest
 * is the file. A file that probes and decodes must come out at the size the
 * header promised (scaled for JPEG), and is then resized to 17 x 13 as the
 * pipeline would. Errors are fine; a crash, a leak or a wrong size is a
 * finding. Built by `make fuzz FUZZ_TARGET=fuzz_image_decode`; replayed over
 * tests/fuzz/image_corpus/ in every `make test`. */
#include "data/image.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what) {
    fprintf(stderr, "fuzz_image_decode: %s (%s)\n", what, err_msg());
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int eighths = 1 + data[0] % 8;
    data++, size--;

    ImageInfo info;
    if (image_probe(data, size, "fuzz", &info) < 0)
        return 0;
    Image im = {0}, out = {0};
    ResizeScratch rs = {0};
    if (image_decode(data, size, "fuzz", eighths, &im) == 0) {
        int want_w = info.w, want_h = info.h;
        if (info.format == IMAGE_JPEG) {
            want_w = (info.w * eighths + 7) / 8;
            want_h = (info.h * eighths + 7) / 8;
        }
        if (im.c != 3 || im.w != want_w || im.h != want_h)
            fail("decoded size differs from the header");
        if (image_resize(&im, 0, 0, im.w, im.h, 17, 13, &out, &rs) < 0)
            fail("resize of a decoded image failed");
    }
    image_free(&im);
    image_free(&out);
    resize_scratch_free(&rs);
    return 0;
}
