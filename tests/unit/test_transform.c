/* Item transform geometry and normalisation (spec: reference-training.md
 * §2.3-2.7): rounding, RandomResizedCrop bounds and fallback, validation
 * size, DCT scale choice, box scaling, flip, normalisation layouts. */
#include "test_util.h"

#include "data/transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_round_half_even(void **state) {
    (void)state;
    assert_true(transform_round_half_even(0.5) == 0.0);
    assert_true(transform_round_half_even(1.5) == 2.0);
    assert_true(transform_round_half_even(2.5) == 2.0);
    assert_true(transform_round_half_even(2.4999) == 2.0);
    assert_true(transform_round_half_even(2.5001) == 3.0);
    assert_true(transform_round_half_even(7.0) == 7.0);
}

/* 20,000 draws on a 320 x 427 image: every box inside the image, with
 * area and aspect within the drawn ranges up to the rounding of its sides,
 * and offsets reaching both ends of their range. */
static void test_random_crop_bounds(void **state) {
    (void)state;
    enum { W = 320, H = 427 };
    Rng rng;
    rng_seed(&rng, 4);
    int left_edge = 0, right_edge = 0;
    double min_frac = 1, max_frac = 0;
    for (int t = 0; t < 20000; t++) {
        CropBox b;
        transform_random_crop(&rng, W, H, TRANSFORM_MIN_SCALE, &b);
        assert_true(b.x >= 0 && b.y >= 0 && b.w >= 1 && b.h >= 1);
        assert_true(b.x + b.w <= W && b.y + b.h <= H);

        /* sides are rounded, so allow half a pixel on each */
        double frac = (double)b.w * b.h / ((double)W * H);
        double aspect_lo = (b.w - 0.5) / (b.h + 0.5), aspect_hi = (b.w + 0.5) / (b.h - 0.5);
        assert_true(frac > 0.35 - 0.01 && frac < 1.0 + 0.01);
        assert_true(aspect_hi >= 0.75 && aspect_lo <= 4.0 / 3.0);
        min_frac = frac < min_frac ? frac : min_frac;
        max_frac = frac > max_frac ? frac : max_frac;
        left_edge += b.x == 0;
        right_edge += b.x + b.w == W;
    }
    assert_true(min_frac < 0.37 && max_frac > 0.9);
    assert_true(left_edge > 0 && right_edge > 0);
}

/* When no attempt fits (a 1000 x 10 strip cannot hold 35% of its area at
 * aspect <= 4/3), the centre crop of the clamped aspect is used. */
static void test_random_crop_fallback(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 5);
    CropBox b;
    transform_random_crop(&rng, 1000, 10, TRANSFORM_MIN_SCALE, &b);
    assert_int_equal(b.w, 13);      /* floor(10 * 4/3) */
    assert_int_equal(b.h, 10);
    assert_int_equal(b.x, 493);     /* floor((1000 - 13) / 2) */
    assert_int_equal(b.y, 0);

    transform_random_crop(&rng, 10, 1000, TRANSFORM_MIN_SCALE, &b);
    assert_int_equal(b.w, 10);
    assert_int_equal(b.h, 13);      /* floor(10 / 0.75) */
    assert_int_equal(b.y, 493);
}

static void test_valid_full(void **state) {
    (void)state;
    assert_int_equal(transform_valid_full(128), 152);
    assert_int_equal(transform_valid_full(192), 224);
    assert_int_equal(transform_valid_full(256), 296);
}

static void test_dct_scale(void **state) {
    (void)state;
    /* validation at 128: 320 x 427 -> 160 x 214 still covers 152 */
    assert_int_equal(transform_dct_scale(320, 427, 152, 152), 4);
    /* a 300 x 400 crop for 128 px: half is 150 >= 129 */
    assert_int_equal(transform_dct_scale(300, 400, 128, 128), 4);
    /* a 190 x 250 crop: half would be 95 < 128, so full size */
    assert_int_equal(transform_dct_scale(190, 250, 128, 128), 8);
    /* a 1200 px image for 128: a quarter is 300, an eighth 150 */
    assert_int_equal(transform_dct_scale(1200, 1600, 128, 128), 1);
    assert_int_equal(transform_dct_scale(128, 128, 128, 128), 8);
}

static void test_scale_box(void **state) {
    (void)state;
    CropBox in = {10, 20, 100, 50}, out;
    transform_scale_box(&in, 320, 427, 160, 214, &out);
    assert_int_equal(out.x, 5);
    assert_int_equal(out.w, 50);
    assert_int_equal(out.y, 10);
    assert_int_equal(out.h, 25);

    /* a 1-pixel box at the far edge stays one pixel, inside */
    CropBox edge = {319, 426, 1, 1};
    transform_scale_box(&edge, 320, 427, 40, 54, &out);
    assert_int_equal(out.w, 1);
    assert_int_equal(out.h, 1);
    assert_true(out.x + out.w <= 40 && out.y + out.h <= 54);
}

static void test_flip(void **state) {
    (void)state;
    Image im = {0};
    assert_int_equal(image_reserve(&im, 3, 2, 3), 0);
    for (int p = 0; p < 18; p++)
        im.px[p] = (uint8_t)p;
    transform_flip(&im);
    const uint8_t want[18] = {6, 7, 8, 3, 4, 5, 0, 1, 2, 15, 16, 17, 12, 13, 14, 9, 10, 11};
    assert_memory_equal(im.px, want, 18);
    image_free(&im);
}

static void test_normalize_layouts(void **state) {
    (void)state;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    Image im = {0};
    assert_int_equal(image_reserve(&im, 2, 2, 3), 0);
    for (int p = 0; p < 12; p++)
        im.px[p] = (uint8_t)(p * 20);

    float nchw[12], nhwc[12];
    transform_normalize(&im, mean, std, LAYOUT_NCHW, nchw);
    transform_normalize(&im, mean, std, LAYOUT_NHWC, nhwc);
    for (int pix = 0; pix < 4; pix++) {
        for (int k = 0; k < 3; k++) {
            double want = (im.px[pix * 3 + k] / 255.0 - mean[k]) / std[k];
            assert_true(fabs(nchw[k * 4 + pix] - want) < 1e-5);
            assert_true(fabs(nhwc[pix * 3 + k] - want) < 1e-5);
        }
    }
    image_free(&im);
}

/* RandomErasing (spec §2.9): about 3 batches in 10 erased; 1 to 3
 * rectangles, the same in every image and channel, N(0, 1) inside and the
 * input untouched outside; the same seed erases the same way. */
static void test_random_erase(void **state) {
    (void)state;
    enum { N = 2, C = 3, S = 16 };
    static float x[N * C * S * S], y[N * C * S * S];
    Rng r;
    rng_seed(&r, 3);
    int erased = 0, trials = 4000;
    for (int t = 0; t < trials; t++)
        erased += transform_random_erase(&r, x, N, C, S, 0.4) > 0;
    assert_true(erased > 0.27 * trials && erased < 0.33 * trials);

    for (int seed = 0, checked = 0; checked < 20; seed++) {
        for (size_t i = 0; i < sizeof x / sizeof *x; i++)
            x[i] = 100.0f;
        Rng a, b;
        rng_seed(&a, (uint64_t)seed);
        rng_seed(&b, (uint64_t)seed);
        int count = transform_random_erase(&a, x, N, C, S, 0.4);
        memcpy(y, x, sizeof y);
        for (size_t i = 0; i < sizeof x / sizeof *x; i++)
            x[i] = 100.0f;
        assert_int_equal(transform_random_erase(&b, x, N, C, S, 0.4), count);
        assert_memory_equal(x, y, sizeof x);
        if (!count)
            continue;
        checked++;
        assert_true(count >= 1 && count <= 3);
        /* One mask for all planes: a pixel is erased in every plane or none. */
        int changed = 0;
        for (int p = 0; p < S * S; p++) {
            int in0 = x[p] != 100.0f;
            changed += in0;
            for (int plane = 1; plane < N * C; plane++)
                assert_int_equal(x[(size_t)plane * S * S + p] != 100.0f, in0);
            assert_true(!in0 || fabsf(x[p]) < 10.0f);
        }
        /* Each rectangle covers at most 0.4 of its share of the image. */
        assert_true(changed <= 0.4 * S * S + 3 * (2 * S + 1));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_erase),
        cmocka_unit_test(test_round_half_even),
        cmocka_unit_test(test_random_crop_bounds),
        cmocka_unit_test(test_random_crop_fallback),
        cmocka_unit_test(test_valid_full),
        cmocka_unit_test(test_dct_scale),
        cmocka_unit_test(test_scale_box),
        cmocka_unit_test(test_flip),
        cmocka_unit_test(test_normalize_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
