/* The image pipeline end to end on a small folder dataset made of the
 * decode fixtures (RGB, grey, CMYK, YCCK, progressive JPEGs, a PNG named
 * .JPEG): validation images equal the reference's (Pillow) byte for byte,
 * the batches do not depend on the thread count, and a truncated file is
 * an error naming it, or a counted skip with skip_bad. */
#include "test_util.h"

#include "data/dataset.h"
#include "data/loader.h"
#include "data/sample.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TRAIN_A[] = {"rgb.jpg", "grey.jpg", "cmyk.jpg", "rgb444.jpg"};
static const char *const TRAIN_B[] = {"png_named.JPEG", "progressive.jpg", "ycck.jpg",
                                      "rgb422.jpg"};
static const char *const VALID[] = {"rgb.jpg", "grey.jpg", "cmyk.jpg", "ycck.jpg",
                                    "png_named.JPEG", "rgba.png"};

static void copy_file(const char *from, const char *to) {
    char *data;
    size_t len;
    assert_int_equal(file_read_all(from, 1 << 24, &data, &len), 0);
    test_write(to, data, len);
    free(data);
}

/* ROOT/train/{a,b}/..., ROOT/val/v/... and ROOT/noisy_set.csv; the
 * validation rows all belong to class a or b alternately. */
static char *make_dataset(void) {
    char *root = test_mkdtemp(), src[4096], dst[4096], line[512];
    char csv[8192] = "path,noisy_labels_0,is_valid\n";
    for (int i = 0; i < 4; i++) {
        for (int c = 0; c < 2; c++) {
            const char *f = c ? TRAIN_B[i] : TRAIN_A[i];
            snprintf(src, sizeof src, "%s/decode/%s", NOISETTE_GOLDEN, f);
            snprintf(dst, sizeof dst, "%s/train/%c/%s", root, 'a' + c, f);
            copy_file(src, dst);
            snprintf(line, sizeof line, "train/%c/%s,%c,False\n", 'a' + c, f, 'a' + c);
            strcat(csv, line);
        }
    }
    for (int i = 0; i < 6; i++) {
        snprintf(src, sizeof src, "%s/decode/%s", NOISETTE_GOLDEN, VALID[i]);
        snprintf(dst, sizeof dst, "%s/val/v/%s", root, VALID[i]);
        copy_file(src, dst);
        snprintf(line, sizeof line, "val/v/%s,%c,True\n", VALID[i], 'a' + i % 2);
        strcat(csv, line);
    }
    snprintf(dst, sizeof dst, "%s/noisy_set.csv", root);
    test_write_str(dst, csv);
    return root;
}

static void open_dataset(const char *root, Dataset *d) {
    DatasetOptions opt = {.data = root, .check_files = 1};
    assert_int_equal(dataset_open(d, &opt), 0);
}

static void test_validation_matches_pillow(void **state) {
    (void)state;
    char *root = make_dataset();
    Dataset d;
    open_dataset(root, &d);
    SampleScratch sc = {0};
    const int sizes[2] = {16, 12};

    for (int s = 0; s < 2; s++) {
        SampleSpec spec = {.size = sizes[s], .crop = 1, .dct_scale = 1, .seed = 1};
        for (int i = 0; i < 6; i++) {
            const Image *im;
            assert_int_equal(sample_load(&d, SPLIT_VALID, i, 0, &spec, &sc, &im), 0);
            assert_int_equal(im->w, sizes[s]);
            assert_int_equal(im->c, 3);

            char path[4096], *want;
            size_t len;
            snprintf(path, sizeof path, "%s/pipeline/valid%d_%s.rgb", NOISETTE_GOLDEN,
                     sizes[s], VALID[i]);
            assert_int_equal(file_read_all(path, 1 << 20, &want, &len), 0);
            assert_int_equal(len, (size_t)sizes[s] * sizes[s] * 3);
            if (memcmp(im->px, want, len) != 0)
                fail_msg("%s at %d px differs from Pillow", VALID[i], sizes[s]);
            free(want);
        }
    }
    sample_scratch_free(&sc);
    dataset_free(&d);
    test_rmtree(root);
    free(root);
}

static float *epoch_bytes(const Dataset *d, int threads, int skip_bad, int *n, int *rc_out,
                          long *bad) {
    LoaderOptions o = {.split = SPLIT_TRAIN, .batch_size = 3, .threads = threads,
                       .layout = LAYOUT_NHWC, .skip_bad = skip_bad,
                       .sample = {.size = 16, .augment = 1, .crop = 1, .dct_scale = 1,
                                  .min_scale = 0.35, .seed = 5}};
    Loader *l = loader_new(d, &o);
    assert_non_null(l);
    float *all = calloc(8 * 16 * 16 * 3, sizeof *all);
    *n = 0;
    loader_start_epoch(l, 3);
    Batch *b;
    int rc;
    while ((rc = loader_next(l, &b)) > 0) {
        memcpy(all + (size_t)*n * 768, b->x, (size_t)b->n * 768 * sizeof *all);
        *n += b->n;
        loader_release(l, b);
    }
    *rc_out = rc;
    *bad = loader_bad_count(l);
    loader_free(l);
    return all;
}

static void test_threads_and_layout(void **state) {
    (void)state;
    char *root = make_dataset();
    Dataset d;
    open_dataset(root, &d);
    int n1, n3, rc;
    long bad;
    float *one = epoch_bytes(&d, 1, 0, &n1, &rc, &bad);
    assert_int_equal(rc, 0);
    float *three = epoch_bytes(&d, 3, 0, &n3, &rc, &bad);
    assert_int_equal(rc, 0);
    assert_int_equal(n1, 6);                /* 8 images, batches of 3, last dropped */
    assert_int_equal(n3, 6);
    assert_memory_equal(one, three, (size_t)n1 * 768 * sizeof *one);
    free(one);
    free(three);
    dataset_free(&d);
    test_rmtree(root);
    free(root);
}

static void test_truncated_file(void **state) {
    (void)state;
    char *root = make_dataset(), src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/decode/truncated.jpg", NOISETTE_GOLDEN);
    snprintf(dst, sizeof dst, "%s/train/a/grey.jpg", root);
    copy_file(src, dst);

    Dataset d;
    open_dataset(root, &d);
    int n, rc;
    long bad;
    float *x = epoch_bytes(&d, 2, 0, &n, &rc, &bad);
    assert_int_equal(rc, ERR_PARSE);
    assert_contains(err_msg(), "train/a/grey.jpg");
    free(x);

    /* skip_bad: the image is dropped and counted; the epoch completes */
    x = epoch_bytes(&d, 2, 1, &n, &rc, &bad);
    assert_int_equal(rc, 0);
    assert_int_equal(bad, 1);
    assert_int_equal(n, 5);
    free(x);
    dataset_free(&d);
    test_rmtree(root);
    free(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_matches_pillow),
        cmocka_unit_test(test_threads_and_layout),
        cmocka_unit_test(test_truncated_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
