/* image_resize against Pillow 9.4 (golden fixtures made by
 * tools/make_resize_golden.py, compared byte for byte), its argument checks,
 * and the reuse of its scratch and output buffers. */
#include "test_util.h"

#include "data/image.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_MAX_BYTES ((size_t)64 << 20)

typedef struct {
    char  name[64];
    Image im;
} NamedImage;

typedef struct {
    NamedImage   *images;
    int           n_images;
    Image         out;
    ResizeScratch scratch;
    int           n_cases, n_failed;
} GoldenRun;

/* The LCG stream of tools/make_resize_golden.py. */
static void fill_lcg(uint8_t *px, size_t n, uint32_t seed) {
    uint32_t state = seed;
    for (size_t i = 0; i < n; i++) {
        state = 1664525u * state + 1013904223u;
        px[i] = (uint8_t)(state >> 24);
    }
}

static uint8_t *read_golden(const char *dir, const char *name, size_t expect_len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data;
    size_t len;
    if (file_read_all(path, GOLDEN_MAX_BYTES, &data, &len) < 0)
        fail_msg("%s", err_msg());
    if (len != expect_len)
        fail_msg("%s: %zu bytes, expected %zu", path, len, expect_len);
    return (uint8_t *)data;
}

/* "image NAME W H C SOURCE": loads or regenerates the input. */
static void golden_image(GoldenRun *run, const char *dir, const char *line) {
    char name[64], source[256];
    int w, h, c;
    if (sscanf(line, "image %63s %d %d %d %255s", name, &w, &h, &c, source) != 5)
        fail_msg("cases.txt: bad image line: %s", line);
    run->images = realloc(run->images, (size_t)(run->n_images + 1) * sizeof *run->images);
    assert_non_null(run->images);
    NamedImage *ni = &run->images[run->n_images++];
    memset(ni, 0, sizeof *ni);
    snprintf(ni->name, sizeof ni->name, "%s", name);
    assert_int_equal(image_reserve(&ni->im, w, h, c), 0);

    size_t n = (size_t)w * h * c;
    if (strncmp(source, "lcg:", 4) == 0) {
        fill_lcg(ni->im.px, n, (uint32_t)strtoul(source + 4, NULL, 10));
    } else {
        uint8_t *px = read_golden(dir, source, n);
        memcpy(ni->im.px, px, n);
        free(px);
    }
}

/* Prints where got and want differ first, the largest difference and how
 * many bytes differ. */
static void report_diff(const char *line, const uint8_t *got, const uint8_t *want, int w,
                        int c, size_t n) {
    size_t first = n, n_diff = 0;
    int max_diff = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)got[i] - (int)want[i]);
        if (d && first == n)
            first = i;
        n_diff += d != 0;
        max_diff = d > max_diff ? d : max_diff;
    }
    size_t px = first / (size_t)c;
    print_error("MISMATCH %s\n  first at x=%zu y=%zu channel %zu: got %d, Pillow %d; "
                "max |diff| %d; %zu of %zu bytes differ\n",
                line, px % (size_t)w, px / (size_t)w, first % (size_t)c, got[first], want[first],
                max_diff, n_diff, n);
}

/* "case IMAGE X0 Y0 BW BH OUT_W OUT_H FILE": resizes and compares. */
static void golden_case(GoldenRun *run, const char *dir, const char *line) {
    char name[64], file[256];
    int x0, y0, bw, bh, ow, oh;
    if (sscanf(line, "case %63s %d %d %d %d %d %d %255s", name, &x0, &y0, &bw, &bh, &ow, &oh,
               file) != 8)
        fail_msg("cases.txt: bad case line: %s", line);
    const Image *src = NULL;
    for (int i = 0; i < run->n_images; i++)
        if (strcmp(run->images[i].name, name) == 0)
            src = &run->images[i].im;
    if (!src)
        fail_msg("cases.txt: unknown image in: %s", line);

    int rc = image_resize(src, x0, y0, bw, bh, ow, oh, &run->out, &run->scratch);
    if (rc != 0)
        fail_msg("%s: image_resize returned %d: %s", line, rc, err_msg());
    assert_int_equal(run->out.w, ow);
    assert_int_equal(run->out.h, oh);
    assert_int_equal(run->out.c, src->c);

    size_t n = (size_t)ow * oh * src->c;
    uint8_t *want = read_golden(dir, file, n);
    run->n_cases++;
    if (memcmp(run->out.px, want, n) != 0) {
        report_diff(line, run->out.px, want, ow, src->c, n);
        run->n_failed++;
    }
    free(want);
}

/* Runs every case of dir/cases.txt through one scratch and one output image,
 * so each case also checks reuse after a differently sized one. */
static void run_golden_dir(const char *dir, int min_cases) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("%s: cannot open (make it with tools/make_resize_golden.py)", path);

    GoldenRun run = {0};
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "image ", 6) == 0)
            golden_image(&run, dir, line);
        else if (strncmp(line, "case ", 5) == 0)
            golden_case(&run, dir, line);
        else if (line[0] != '#' && line[0] != '\0')
            fail_msg("%s: unexpected line: %s", path, line);
    }
    fclose(fp);

    print_message("%s: %d of %d cases bit-exact with Pillow\n", dir,
                  run.n_cases - run.n_failed, run.n_cases);
    for (int i = 0; i < run.n_images; i++)
        image_free(&run.images[i].im);
    free(run.images);
    image_free(&run.out);
    resize_scratch_free(&run.scratch);
    assert_int_equal(run.n_failed, 0);
    assert_true(run.n_cases >= min_cases);
}

static void test_golden_pillow(void **state) {
    (void)state;
    run_golden_dir(NOISETTE_GOLDEN "/resize", 30);
}

/* NOISETTE_RESIZE_CASES=DIR runs a set made with --random N as well. */
static void test_golden_extra(void **state) {
    (void)state;
    const char *dir = getenv("NOISETTE_RESIZE_CASES");
    if (!dir || !*dir)
        skip();
    run_golden_dir(dir, 1);
}

static Image make_image(int w, int h, int c, uint32_t seed) {
    Image im = {0};
    assert_int_equal(image_reserve(&im, w, h, c), 0);
    fill_lcg(im.px, (size_t)w * h * c, seed);
    return im;
}

static void test_invalid_arguments(void **state) {
    (void)state;
    Image src = make_image(20, 10, 3, 7), out = {0};
    ResizeScratch s = {0};

    /* Boxes that leave the image, on each side. */
    assert_int_equal(image_resize(&src, -1, 0, 5, 5, 4, 4, &out, &s), ERR_INVALID);
    assert_contains(err_msg(), "not inside");
    assert_int_equal(image_resize(&src, 0, -1, 5, 5, 4, 4, &out, &s), ERR_INVALID);
    assert_int_equal(image_resize(&src, 16, 0, 5, 5, 4, 4, &out, &s), ERR_INVALID);
    assert_int_equal(image_resize(&src, 0, 6, 5, 5, 4, 4, &out, &s), ERR_INVALID);
    assert_int_equal(image_resize(&src, 0, 0, 21, 10, 4, 4, &out, &s), ERR_INVALID);
    assert_int_equal(image_resize(&src, 2147483647, 0, 5, 5, 4, 4, &out, &s), ERR_INVALID);

    /* Zero and negative sizes of the box and of the output. */
    assert_int_equal(image_resize(&src, 0, 0, 0, 5, 4, 4, &out, &s), ERR_INVALID);
    assert_contains(err_msg(), "positive");
    assert_int_equal(image_resize(&src, 0, 0, 5, 0, 4, 4, &out, &s), ERR_INVALID);
    assert_int_equal(image_resize(&src, 0, 0, 5, 5, 0, 4, &out, &s), ERR_INVALID);
    assert_int_equal(image_resize(&src, 0, 0, 5, 5, 4, -3, &out, &s), ERR_INVALID);

    /* Channel counts other than 1 and 3, and resizing in place. */
    src.c = 2;
    assert_int_equal(image_resize(&src, 0, 0, 5, 5, 4, 4, &out, &s), ERR_INVALID);
    src.c = 3;
    assert_int_equal(image_resize(&src, 0, 0, 5, 5, 4, 4, &src, &s), ERR_INVALID);

    /* The whole image is a valid box. */
    assert_int_equal(image_resize(&src, 0, 0, 20, 10, 4, 4, &out, &s), 0);
    image_free(&src);
    image_free(&out);
    resize_scratch_free(&s);
}

/* A second call with the same sizes gives the same bytes and allocates
 * nothing; a smaller one after it keeps the buffers too. */
static void test_scratch_reuse(void **state) {
    (void)state;
    Image src = make_image(189, 252, 3, 11), a = {0}, b = {0};
    ResizeScratch s = {0};

    assert_int_equal(image_resize(&src, 0, 0, 189, 252, 128, 128, &a, &s), 0);
    ResizeScratch first = s;
    assert_int_equal(image_resize(&src, 0, 0, 189, 252, 128, 128, &b, &s), 0);
    assert_memory_equal(a.px, b.px, 128 * 128 * 3);
    assert_ptr_equal(s.coef, first.coef);
    assert_ptr_equal(s.bounds, first.bounds);
    assert_ptr_equal(s.tmp, first.tmp);

    /* Smaller sizes reuse scratch and output; results stay right. */
    uint8_t *b_px = b.px;
    assert_int_equal(image_resize(&src, 10, 20, 100, 90, 64, 50, &b, &s), 0);
    assert_ptr_equal(s.coef, first.coef);
    assert_ptr_equal(b.px, b_px);
    assert_int_equal(image_resize(&src, 0, 0, 189, 252, 128, 128, &b, &s), 0);
    assert_memory_equal(a.px, b.px, 128 * 128 * 3);

    /* A fresh scratch gives the same bytes as a reused one. */
    ResizeScratch fresh = {0};
    assert_int_equal(image_resize(&src, 10, 20, 100, 90, 64, 50, &a, &fresh), 0);
    assert_int_equal(image_resize(&src, 10, 20, 100, 90, 64, 50, &b, &s), 0);
    assert_memory_equal(a.px, b.px, 64 * 50 * 3);
    image_free(&src);
    image_free(&a);
    image_free(&b);
    resize_scratch_free(&s);
    resize_scratch_free(&fresh);
}

/* Properties that hold for any size: a constant image stays constant, and
 * grey equals each channel of an RGB image whose channels are that grey. */
static void test_grey_and_constant(void **state) {
    (void)state;
    Image grey = make_image(53, 31, 1, 5), rgb = {0}, g_out = {0}, c_out = {0};
    ResizeScratch s = {0};
    assert_int_equal(image_reserve(&rgb, 53, 31, 3), 0);
    for (int i = 0; i < 53 * 31; i++)
        for (int k = 0; k < 3; k++)
            rgb.px[3 * i + k] = grey.px[i];

    static const int sizes[][2] = {{20, 11}, {53, 7}, {100, 31}, {1, 1}, {211, 97}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int ow = sizes[t][0], oh = sizes[t][1];
        assert_int_equal(image_resize(&grey, 3, 2, 47, 27, ow, oh, &g_out, &s), 0);
        assert_int_equal(image_resize(&rgb, 3, 2, 47, 27, ow, oh, &c_out, &s), 0);
        assert_int_equal(g_out.c, 1);
        for (int i = 0; i < ow * oh; i++)
            for (int k = 0; k < 3; k++)
                assert_int_equal(c_out.px[3 * i + k], g_out.px[i]);
    }

    memset(rgb.px, 200, 53 * 31 * 3);
    assert_int_equal(image_resize(&rgb, 0, 0, 53, 31, 17, 90, &c_out, &s), 0);
    for (int i = 0; i < 17 * 90 * 3; i++)
        assert_int_equal(c_out.px[i], 200);
    image_free(&grey);
    image_free(&rgb);
    image_free(&g_out);
    image_free(&c_out);
    resize_scratch_free(&s);
}

static void test_image_reserve(void **state) {
    (void)state;
    Image im = {0};
    assert_int_equal(image_reserve(&im, 10, 10, 3), 0);
    assert_true(im.cap >= 300);
    uint8_t *px = im.px;
    assert_int_equal(image_reserve(&im, 5, 4, 1), 0);
    assert_ptr_equal(im.px, px);
    assert_int_equal(im.w, 5);
    assert_int_equal(im.h, 4);
    assert_int_equal(im.c, 1);
    assert_int_equal(image_reserve(&im, -1, 4, 1), ERR_INVALID);
    image_free(&im);
    assert_null(im.px);
    assert_int_equal(im.cap, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_pillow),
        cmocka_unit_test(test_golden_extra),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_scratch_reuse),
        cmocka_unit_test(test_grey_and_constant),
        cmocka_unit_test(test_image_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
