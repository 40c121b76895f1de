/* Datasets at a noise level: the CSV-driven split and label choice, the
 * label CSV lookup, and the errors found before training (missing images,
 * labels outside the classes, classes without images, absent levels). */
#include "test_util.h"

#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "labels/noise.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char CSV[] =
    "path,noisy_labels_0,noisy_labels_5,noisy_labels_50,is_valid\n"
    "train/a/1.JPEG,a,b,b,False\n"
    "train/a/2.JPEG,a,a,a,False\n"
    "train/b/3.JPEG,b,b,b,False\n"
    "val/a/4.JPEG,a,a,a,True\n"
    "val/b/5.JPEG,b,b,b,True\n";

/* A folder ROOT/tiny2-320 with the images of CSV and noisy_tiny.csv. */
static char *make_folder(const char *csv, char **root_out) {
    char *root = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/tiny2-320/noisy_tiny.csv", root);
    test_write_str(path, csv);
    const char *files[] = {"train/a/1.JPEG", "train/a/2.JPEG", "train/b/3.JPEG",
                           "val/a/4.JPEG", "val/b/5.JPEG"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/tiny2-320/%s", root, files[i]);
        test_write_str(path, "x");
    }
    char *data = malloc(4096);
    snprintf(data, 4096, "%s/tiny2-320", root);
    *root_out = root;
    return data;
}

static void test_split_and_level(void **state) {
    (void)state;
    char *tmp, *data = make_folder(CSV, &tmp);
    Dataset d;
    DatasetOptions opt = {.data = data, .pct = 5, .check_files = 1};
    assert_int_equal(dataset_open(&d, &opt), 0);
    assert_int_equal(d.kind, DATASET_FOLDER);
    assert_int_equal(d.n[SPLIT_TRAIN], 3);
    assert_int_equal(d.n[SPLIT_VALID], 2);
    assert_int_equal(d.n_classes, 2);
    assert_int_equal(d.channels, 3);
    assert_string_equal(dataset_item_path(&d, SPLIT_TRAIN, 2), "train/b/3.JPEG");
    assert_int_equal(d.label[SPLIT_TRAIN][0], 1);     /* noisy at 5%: a -> b */
    assert_int_equal(d.label[SPLIT_VALID][1], 1);     /* validation: the truth */
    assert_contains(d.labels_path, "noisy_tiny.csv");
    dataset_free(&d);

    /* 0% trains on the truth */
    opt.pct = 0;
    assert_int_equal(dataset_open(&d, &opt), 0);
    assert_int_equal(d.label[SPLIT_TRAIN][0], 0);
    dataset_free(&d);

    opt.pct = 25;
    assert_int_equal(dataset_open(&d, &opt), ERR_INVALID);
    assert_contains(err_msg(), "no noisy_labels_25 column (levels: 0, 5, 50)");
    test_rmtree(tmp);
    free(tmp), free(data);
}

static void test_missing_images(void **state) {
    (void)state;
    char *tmp, *data = make_folder(CSV, &tmp), path[4096];
    snprintf(path, sizeof path, "%s/val/b/5.JPEG", data);
    remove(path);
    snprintf(path, sizeof path, "%s/train/a/1.JPEG", data);
    remove(path);

    Dataset d;
    DatasetOptions opt = {.data = data, .check_files = 1};
    assert_int_equal(dataset_open(&d, &opt), ERR_IO);
    assert_contains(err_msg(), "2 of 5 images listed in");
    assert_contains(err_msg(), "train/a/1.JPEG, val/b/5.JPEG");
    test_rmtree(tmp);
    free(tmp), free(data);
}

static void test_label_outside_classes(void **state) {
    (void)state;
    char *tmp, *data = make_folder("path,noisy_labels_0,noisy_labels_5,is_valid\n"
                                   "train/a/1.JPEG,a,zz,False\n"
                                   "train/a/2.JPEG,a,a,False\n"
                                   "train/b/3.JPEG,b,b,False\n"
                                   "val/a/4.JPEG,a,a,True\n"
                                   "val/b/5.JPEG,b,b,True\n", &tmp);
    Dataset d;
    DatasetOptions opt = {.data = data, .pct = 5, .check_files = 1};
    assert_int_equal(dataset_open(&d, &opt), ERR_INVALID);
    assert_contains(err_msg(), "1 training label at 5% is not a class");
    assert_contains(err_msg(), "line 2 \"zz\"");
    test_rmtree(tmp);
    free(tmp), free(data);
}

/* At 50% every b image is relabelled a and the only b is in validation. */
static void test_empty_class(void **state) {
    (void)state;
    char *tmp, *data = make_folder("path,noisy_labels_0,noisy_labels_50,is_valid\n"
                                   "train/a/1.JPEG,a,a,False\n"
                                   "train/a/2.JPEG,a,a,False\n"
                                   "train/b/3.JPEG,b,a,False\n"
                                   "val/a/4.JPEG,a,a,True\n"
                                   "val/b/5.JPEG,b,b,True\n", &tmp);
    Dataset d;
    DatasetOptions opt = {.data = data, .pct = 50, .check_files = 1};
    assert_int_equal(dataset_open(&d, &opt), ERR_INVALID);
    assert_contains(err_msg(), "1 class without training images at 50%: b");
    test_rmtree(tmp);
    free(tmp), free(data);
}

static void test_labels_lookup(void **state) {
    (void)state;
    char *tmp, *data = make_folder(CSV, &tmp), path[4096], other[4096];
    Dataset d;
    DatasetOptions opt = {.data = data, .check_files = 1};

    /* no noisy_tiny.csv, but exactly one noisy_*.csv: that one */
    snprintf(path, sizeof path, "%s/noisy_tiny.csv", data);
    snprintf(other, sizeof other, "%s/noisy_other.csv", data);
    assert_int_equal(rename(path, other), 0);
    assert_int_equal(dataset_open(&d, &opt), 0);
    assert_contains(d.labels_path, "noisy_other.csv");
    dataset_free(&d);

    /* two candidates: an error that says how to choose */
    snprintf(path, sizeof path, "%s/noisy_third.csv", data);
    test_write_str(path, CSV);
    assert_int_equal(dataset_open(&d, &opt), ERR_IO);
    assert_contains(err_msg(), "more than one label CSV");
    assert_contains(err_msg(), "--labels FILE");

    /* --labels wins */
    opt.labels = path;
    assert_int_equal(dataset_open(&d, &opt), 0);
    dataset_free(&d);

    opt.data = "/nonexistent-dataset";
    assert_int_equal(dataset_open(&d, &opt), ERR_IO);
    assert_contains(err_msg(), "not a dataset folder");
    test_rmtree(tmp);
    free(tmp), free(data);
}

static int have_fmnist(void) {
    if (file_is_dir(FMNIST_DEFAULT_DIR))
        return 1;
    print_message("skip: %s missing\n", FMNIST_DEFAULT_DIR);
    return 0;
}

/* On the fly: uniform noise at 25% from the seed, exact count. */
static void test_fmnist_on_the_fly(void **state) {
    (void)state;
    if (!have_fmnist())
        skip();
    Dataset d;
    DatasetOptions opt = {.data = "fashion-mnist", .pct = 25, .seed = 3};
    assert_int_equal(dataset_open(&d, &opt), 0);
    assert_int_equal(d.kind, DATASET_FMNIST);
    assert_int_equal(d.channels, 1);
    assert_int_equal(d.n[SPLIT_TRAIN], 60000);
    assert_int_equal(d.n[SPLIT_VALID], 10000);
    long changed = 0;
    for (int i = 0; i < 60000; i++)
        changed += d.label[SPLIT_TRAIN][i] != d.table.truth[d.rows[SPLIT_TRAIN][i]];
    assert_int_equal(changed, 15000);
    dataset_free(&d);
}

/* From a CSV whose rows are in another order: pixels follow the rows. */
static void test_fmnist_from_csv(void **state) {
    (void)state;
    if (!have_fmnist())
        skip();
    Dataset ref;
    DatasetOptions opt = {.data = "fashion-mnist"};
    assert_int_equal(dataset_open(&ref, &opt), 0);

    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/fm.csv", dir);
    test_write_str(path, "path,noisy_labels_0,noisy_labels_5,is_valid\n"
                         "train/00007,tshirt_top,tshirt_top,False\n"
                         "train/00003,dress,tshirt_top,False\n"
                         "train/00005,dress,dress,False\n"
                         "train/00001,trouser,trouser,False\n"
                         "val/00002,trouser,trouser,True\n");
    Dataset d;
    DatasetOptions from_csv = {.data = "fashion-mnist", .labels = path, .pct = 5};
    assert_int_equal(dataset_open(&d, &from_csv), 0);
    assert_int_equal(d.n[SPLIT_TRAIN], 4);
    assert_memory_equal(d.pixels, ref.pixels + 7 * 784, 784);
    assert_memory_equal(d.pixels + 4 * 784, ref.pixels + 60002 * 784, 784);
    dataset_free(&d);

    test_write_str(path, "path,noisy_labels_0,is_valid\ntrain/7,bag,False\n");
    assert_int_equal(dataset_open(&d, &from_csv), ERR_INVALID);
    assert_contains(err_msg(), "1 path names no Fashion-MNIST image");
    assert_contains(err_msg(), "train/7");
    dataset_free(&ref);
    test_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_and_level),
        cmocka_unit_test(test_missing_images),
        cmocka_unit_test(test_label_outside_classes),
        cmocka_unit_test(test_empty_class),
        cmocka_unit_test(test_labels_lookup),
        cmocka_unit_test(test_fmnist_on_the_fly),
        cmocka_unit_test(test_fmnist_from_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
