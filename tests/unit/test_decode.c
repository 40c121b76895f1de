/* Image decoding (decode.c) against Pillow: every fixture of
 * tests/golden/decode (tools/make_decode_fixtures.py) must decode to the
 * exact bytes of Pillow's Image.open(f).convert("RGB"); JPEGs at every DCT
 * scale have the documented size and keep their mean colour; probe reports
 * format and size; bad files fail with ERR_PARSE and a message naming them.
 * A stress pass feeds every prefix and many one-byte corruptions of each
 * fixture through the decoder in exactly-sized buffers, for ASan to watch. */
#include "test_util.h"

#include "data/image.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define FIX_W         33
#define FIX_H         21
#define FIX_MAX_BYTES (1 << 20)
#define MEAN_TOL      2.0           /* levels, scaled decode vs full size */
#define CORRUPT_SPOTS 64            /* byte positions corrupted per fixture */

typedef struct {
    const char *name;
    ImageFormat format;
    int         noise;      /* corrupt data: scaled decodes need not agree */
} Fixture;

static const Fixture DECODABLE[] = {
    {"rgb.jpg",            IMAGE_JPEG, 0},
    {"rgb422.jpg",         IMAGE_JPEG, 0},
    {"rgb444.jpg",         IMAGE_JPEG, 0},
    {"grey.jpg",           IMAGE_JPEG, 0},
    {"cmyk.jpg",           IMAGE_JPEG, 0},
    {"ycck.jpg",           IMAGE_JPEG, 0},
    {"progressive.jpg",    IMAGE_JPEG, 0},
    {"corrupt_scan.jpg",   IMAGE_JPEG, 1},
    {"png_named.JPEG",     IMAGE_PNG,  0},
    {"rgba.png",           IMAGE_PNG,  0},
    {"la.png",             IMAGE_PNG,  0},
    {"palette.png",        IMAGE_PNG,  0},
    {"grey1.png",          IMAGE_PNG,  0},
    {"grey16.png",         IMAGE_PNG,  0},
    {"rgb16.png",          IMAGE_PNG,  0},
    {"la16.png",           IMAGE_PNG,  0},
    {"rgba16.png",         IMAGE_PNG,  0},
    {"interlaced.png",     IMAGE_PNG,  0},
    {"palette_short.png",  IMAGE_PNG,  0},
};
#define N_DECODABLE (sizeof DECODABLE / sizeof DECODABLE[0])

/* Files that must fail, and what the message must say besides the name. */
static const struct {
    const char *name;
    const char *why;
} FAILING[] = {
    {"truncated.jpg", "truncated JPEG: Premature end of JPEG file"},
    {"truncated.png", "truncated PNG: premature end of data"},
    {"corrupt.jpg", "corrupt JPEG: "},
    {"not_an_image.JPEG", "not a JPEG or PNG file (starts with 3c 68 74 6d 6c 3e 3c 62 ...)"},
};
#define N_FAILING (sizeof FAILING / sizeof FAILING[0])

/* The bytes of tests/golden/decode/NAME (free()); fails the test if absent. */
static uint8_t *read_fixture(const char *name, size_t *len) {
    char path[4096], *data = NULL;
    snprintf(path, sizeof path, "%s/decode/%s", NOISETTE_GOLDEN, name);
    if (file_read_all(path, FIX_MAX_BYTES, &data, len) != 0)
        fail_msg("%s (run tools/make_decode_fixtures.py)", err_msg());
    return (uint8_t *)data;
}

static int is_jpeg(const Fixture *f) {
    return f->format == IMAGE_JPEG;
}

/* Mean of channel k over the image. */
static double channel_mean(const Image *im, int k) {
    double sum = 0;
    size_t n = (size_t)im->w * (size_t)im->h;
    for (size_t i = 0; i < n; i++)
        sum += im->px[i * 3 + k];
    return sum / (double)n;
}

/* Mean of channel k over [0, cover_w) x [0, cover_h) of im extended past
 * its edges by repeating the last column and row (as a JPEG encoder pads
 * its last blocks), a partly covered pixel weighing its covered share. A
 * DCT-scaled decode of s/8 covers out_w * 8 / s source pixels, padding
 * included: on a 33-px-wide image, 5 px at 1/8 stand for 40. */
static double padded_mean(const Image *im, int k, double cover_w, double cover_h) {
    double sum = 0, weight = 0;
    for (int y = 0; y < cover_h; y++) {
        double wy = cover_h - y < 1 ? cover_h - y : 1;
        const uint8_t *row = im->px + (size_t)(y < im->h ? y : im->h - 1) * im->w * 3;
        for (int x = 0; x < cover_w; x++) {
            double wx = cover_w - x < 1 ? cover_w - x : 1;
            sum += wx * wy * row[(x < im->w ? x : im->w - 1) * 3 + k];
            weight += wx * wy;
        }
    }
    return sum / weight;
}

/* Fails, naming the first differing byte and the count, unless got holds
 * exactly the n bytes of want. */
static void assert_same_pixels(const char *name, const Image *got, const uint8_t *want,
                               size_t n) {
    size_t first = n, diffs = 0;
    for (size_t i = 0; i < n; i++) {
        if (got->px[i] != want[i]) {
            diffs++;
            if (first == n)
                first = i;
        }
    }
    if (diffs) {
        size_t px = first / 3;
        fail_msg("%s: %zu of %zu bytes differ from Pillow; first at x=%zu y=%zu channel %zu: "
                 "expected %u, got %u", name, diffs, n, px % (size_t)got->w,
                 px / (size_t)got->w, first % 3, want[first], got->px[first]);
    }
}

/* Every decodable fixture equals Pillow's RGB byte for byte at 8/8. */
static void test_pillow_exact(void **state) {
    (void)state;
    Image im = {0};
    for (size_t i = 0; i < N_DECODABLE; i++) {
        const char *name = DECODABLE[i].name;
        char rgb_name[256];
        size_t len, want_len;
        uint8_t *data = read_fixture(name, &len);
        snprintf(rgb_name, sizeof rgb_name, "%s.rgb", name);
        uint8_t *want = read_fixture(rgb_name, &want_len);

        if (image_decode(data, len, name, 8, &im) != 0)
            fail_msg("%s: %s", name, err_msg());
        assert_int_equal(im.w, FIX_W);
        assert_int_equal(im.h, FIX_H);
        assert_int_equal(im.c, 3);
        assert_int_equal(want_len, (size_t)FIX_W * FIX_H * 3);
        assert_same_pixels(name, &im, want, want_len);
        free(data);
        free(want);
    }
    image_free(&im);
}

/* JPEGs at s/8 are ceil(w*s/8) x ceil(h*s/8) with the mean colour of the
 * full-size decode; PNGs ignore the scale. */
static void test_scaled_sizes(void **state) {
    (void)state;
    Image full = {0}, im = {0};
    for (size_t i = 0; i < N_DECODABLE; i++) {
        const Fixture *f = &DECODABLE[i];
        size_t len;
        uint8_t *data = read_fixture(f->name, &len);
        assert_int_equal(image_decode(data, len, f->name, 8, &full), 0);

        for (int s = 1; s <= 8; s++) {
            if (image_decode(data, len, f->name, s, &im) != 0)
                fail_msg("%s at %d/8: %s", f->name, s, err_msg());
            int want_w = is_jpeg(f) ? (FIX_W * s + 7) / 8 : FIX_W;
            int want_h = is_jpeg(f) ? (FIX_H * s + 7) / 8 : FIX_H;
            if (im.w != want_w || im.h != want_h || im.c != 3)
                fail_msg("%s at %d/8: expected %dx%dx3, got %dx%dx%d", f->name, s, want_w,
                         want_h, im.w, im.h, im.c);
            if (!is_jpeg(f)) {
                assert_memory_equal(im.px, full.px, (size_t)FIX_W * FIX_H * 3);
                continue;
            }
            for (int k = 0; k < 3 && !f->noise; k++) {
                double m_full = padded_mean(&full, k, im.w * 8.0 / s, im.h * 8.0 / s);
                double m = channel_mean(&im, k);
                if (m - m_full > MEAN_TOL || m_full - m > MEAN_TOL)
                    fail_msg("%s at %d/8: channel %d mean %.2f, full size %.2f", f->name, s,
                             k, m, m_full);
            }
        }
        free(data);
    }
    image_free(&full);
    image_free(&im);
}

/* Probe finds the format by magic bytes (a PNG named .JPEG is a PNG). */
static void test_probe(void **state) {
    (void)state;
    for (size_t i = 0; i < N_DECODABLE; i++) {
        size_t len;
        uint8_t *data = read_fixture(DECODABLE[i].name, &len);
        ImageInfo info = {0};
        if (image_probe(data, len, DECODABLE[i].name, &info) != 0)
            fail_msg("%s: %s", DECODABLE[i].name, err_msg());
        assert_int_equal(info.format, DECODABLE[i].format);
        assert_int_equal(info.w, FIX_W);
        assert_int_equal(info.h, FIX_H);
        free(data);
    }
}

/* Bad files: ERR_PARSE, the file's name and what went wrong. */
static void test_errors(void **state) {
    (void)state;
    Image im = {0};
    for (size_t i = 0; i < N_FAILING; i++) {
        size_t len;
        uint8_t *data = read_fixture(FAILING[i].name, &len);
        err_clear();
        assert_int_equal(image_decode(data, len, FAILING[i].name, 8, &im), ERR_PARSE);
        assert_contains(err_msg(), FAILING[i].name);
        assert_contains(err_msg(), FAILING[i].why);
        free(data);
    }

    /* Probe reads only headers: a file cut in its pixel data probes, a
     * bad header does not */
    size_t len;
    ImageInfo info;
    uint8_t *data = read_fixture("rgb.jpg", &len);
    assert_int_equal(image_probe(data, len - 100, "cut.jpg", &info), 0);
    assert_int_equal(image_decode(data, len - 100, "cut.jpg", 8, &im), ERR_PARSE);
    assert_contains(err_msg(), "cut.jpg: truncated JPEG");
    free(data);
    data = read_fixture("not_an_image.JPEG", &len);
    assert_int_equal(image_probe(data, len, "x/not_an_image.JPEG", &info), ERR_PARSE);
    assert_contains(err_msg(), "x/not_an_image.JPEG: not a JPEG or PNG file");
    free(data);

    /* Empty and short buffers, a bad scale */
    assert_int_equal(image_decode(NULL, 0, "empty.jpg", 8, &im), ERR_PARSE);
    assert_contains(err_msg(), "empty.jpg: not a JPEG or PNG file (it is empty)");
    const uint8_t two[2] = {0xFF, 0xD8};
    assert_int_equal(image_probe(two, 2, "two.jpg", &info), ERR_PARSE);
    assert_contains(err_msg(), "two.jpg: not a JPEG or PNG file (starts with ff d8)");
    const uint8_t soi[3] = {0xFF, 0xD8, 0xFF};
    assert_int_equal(image_decode(soi, 3, "soi.jpg", 8, &im), ERR_PARSE);
    assert_contains(err_msg(), "soi.jpg: truncated JPEG");
    data = read_fixture("rgb.jpg", &len);
    assert_int_equal(image_decode(data, len, "rgb.jpg", 0, &im), ERR_INVALID);
    assert_contains(err_msg(), "rgb.jpg: decode scale 0/8");
    assert_int_equal(image_decode(data, len, "rgb.jpg", 9, &im), ERR_INVALID);
    free(data);
    image_free(&im);
}

/* Offset of the first JPEG marker `marker`, or fails. */
static size_t jpeg_find_marker(const uint8_t *d, size_t len, uint8_t marker) {
    for (size_t i = 2; i + 4 <= len;) {
        assert_int_equal(d[i], 0xFF);
        if (d[i + 1] == marker)
            return i;
        i += 2 + ((size_t)d[i + 2] << 8 | d[i + 3]);
    }
    fail_msg("marker %02x not found", marker);
    return 0;
}

static void put_be16(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, unsigned long v) {
    put_be16(p, (unsigned)(v >> 16));
    put_be16(p + 2, (unsigned)(v & 0xFFFF));
}

/* Headers that claim more than 32768 px a side or 2^28 pixels are refused
 * before any pixel memory is allocated. */
static void test_too_large(void **state) {
    (void)state;
    Image im = {0};
    ImageInfo info;
    size_t len;

    /* JPEG: SOF0 holds height then width, after length and precision */
    uint8_t *data = read_fixture("rgb.jpg", &len);
    size_t sof = jpeg_find_marker(data, len, 0xC0);
    put_be16(data + sof + 5, 21);
    put_be16(data + sof + 7, 40000);
    assert_int_equal(image_probe(data, len, "wide.jpg", &info), ERR_PARSE);
    assert_contains(err_msg(), "wide.jpg: image too large (40000x21;");
    put_be16(data + sof + 5, 20000);
    put_be16(data + sof + 7, 20000);
    assert_int_equal(image_decode(data, len, "big.jpg", 8, &im), ERR_PARSE);
    assert_contains(err_msg(), "big.jpg: image too large (20000x20000;");
    assert_null(im.px);
    free(data);

    /* PNG: IHDR's width, with its CRC made right again */
    data = read_fixture("png_named.JPEG", &len);
    put_be32(data + 16, 32769);
    put_be32(data + 29, crc32(0, data + 12, 17));
    assert_int_equal(image_decode(data, len, "wide.png", 8, &im), ERR_PARSE);
    assert_contains(err_msg(), "wide.png: image too large (32769x21;");
    put_be32(data + 16, 32768);
    put_be32(data + 29, crc32(0, data + 12, 17));
    assert_int_equal(image_probe(data, len, "wide.png", &info), 0);
    assert_int_equal(info.w, 32768);
    free(data);
    image_free(&im);
}

/* The image buffer is reused: a smaller decode keeps the same memory. */
static void test_buffer_reuse(void **state) {
    (void)state;
    Image im = {0};
    size_t len;
    uint8_t *data = read_fixture("cmyk.jpg", &len);
    assert_int_equal(image_decode(data, len, "cmyk.jpg", 8, &im), 0);
    uint8_t *px = im.px;
    size_t cap = im.cap;
    assert_int_equal(image_decode(data, len, "cmyk.jpg", 3, &im), 0);
    assert_ptr_equal(im.px, px);
    assert_int_equal(im.cap, cap);
    free(data);
    image_free(&im);
}

/* libjpeg's warnings about corrupt data reach no stream: stderr stays empty. */
static void test_no_warning_printed(void **state) {
    (void)state;
    Image im = {0};
    size_t len;
    uint8_t *data = read_fixture("corrupt_scan.jpg", &len);
    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/stderr.txt", dir);

    /* Decode with stderr sent to a file */
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(saved >= 0 && dup2(fileno(f), 2) == 2);
    int rc = image_decode(data, len, "corrupt_scan.jpg", 8, &im);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);

    assert_int_equal(rc, 0);
    char *text;
    size_t text_len;
    assert_int_equal(file_read_all(path, 1 << 16, &text, &text_len), 0);
    if (text_len)
        fail_msg("decoding printed: %s", text);
    free(text);
    test_rmtree(dir);
    free(dir);
    free(data);
    image_free(&im);
}

/* Decodes a copy of data[0..n) in a buffer of exactly n bytes, so that any
 * read past the end is ASan's; the result must be success or ERR_PARSE. */
static void decode_exact_copy(const uint8_t *data, size_t n, const char *name, Image *im) {
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, data, n);
    ImageInfo info;
    int rc = image_probe(copy, n, name, &info);
    if (rc != 0 && rc != ERR_PARSE)
        fail_msg("%s: probe of %zu bytes returned %d: %s", name, n, rc, err_msg());
    rc = image_decode(copy, n, name, 8, im);
    if (rc != 0 && rc != ERR_PARSE)
        fail_msg("%s: decode of %zu bytes returned %d: %s", name, n, rc, err_msg());
    if (rc == 0)
        assert_true(im->w > 0 && im->h > 0 && im->c == 3);
    free(copy);
}

/* Every prefix of every fixture, and each fixture with one byte set to 0,
 * 0xFF or flipped at CORRUPT_SPOTS positions: an error or a decode, never
 * a crash or an out-of-bounds read. */
static void test_stress(void **state) {
    (void)state;
    Image im = {0};
    const char *names[N_DECODABLE + N_FAILING];
    for (size_t i = 0; i < N_DECODABLE; i++)
        names[i] = DECODABLE[i].name;
    for (size_t i = 0; i < N_FAILING; i++)
        names[N_DECODABLE + i] = FAILING[i].name;

    for (size_t i = 0; i < N_DECODABLE + N_FAILING; i++) {
        size_t len;
        uint8_t *data = read_fixture(names[i], &len);

        /* Prefixes */
        for (size_t n = 0; n <= len; n++)
            decode_exact_copy(data, n, names[i], &im);

        /* One-byte corruptions */
        for (size_t spot = 0; spot < CORRUPT_SPOTS && len > 0; spot++) {
            size_t pos = spot * len / CORRUPT_SPOTS;
            uint8_t orig = data[pos];
            const uint8_t values[4] = {0x00, 0xFF, (uint8_t)(orig ^ 0x01),
                                       (uint8_t)(orig ^ 0x80)};
            for (int v = 0; v < 4; v++) {
                data[pos] = values[v];
                decode_exact_copy(data, len, names[i], &im);
            }
            data[pos] = orig;
        }
        free(data);
    }
    image_free(&im);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pillow_exact),
        cmocka_unit_test(test_scaled_sizes),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_buffer_reuse),
        cmocka_unit_test(test_no_warning_printed),
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
