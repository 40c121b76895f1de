/* Dataset indexes: image folders, IDX files, Fashion-MNIST. */
#include "test_util.h"

#include "data/fashion_mnist.h"
#include "data/folder.h"
#include "data/idx.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void touch(const char *root, const char *rel) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    test_write_str(path, "x");
}

static void test_folder_scan_sorted(void **state) {
    (void)state;
    char *root = test_mkdtemp();
    touch(root, "train/b/2.JPEG");
    touch(root, "train/b/10.jpg");
    touch(root, "train/a/x.png");
    touch(root, "train/a/notes.txt");
    touch(root, "train/a/.hidden.JPEG");
    touch(root, "val/b/v1.JPEG");
    touch(root, "val/a/v2.JPEG");

    LabelTable t;
    long skipped = -1;
    assert_int_equal(folder_label_table(root, &t, &skipped), 0);
    assert_int_equal(t.n_rows, 5);
    assert_int_equal(t.n_train, 3);
    assert_int_equal(skipped, 1);
    /* byte order: classes a < b, files "10.jpg" < "2.JPEG" */
    assert_string_equal(t.paths[0], "train/a/x.png");
    assert_string_equal(t.paths[1], "train/b/10.jpg");
    assert_string_equal(t.paths[2], "train/b/2.JPEG");
    assert_string_equal(t.paths[3], "val/a/v2.JPEG");
    assert_int_equal(t.is_valid[2], 0);
    assert_int_equal(t.is_valid[3], 1);
    assert_string_equal(t.names[t.truth[1]], "b");
    labels_free(&t);
    test_rmtree(root);
    free(root);
}

static void test_folder_errors(void **state) {
    (void)state;
    char *root = test_mkdtemp();
    LabelTable t;

    touch(root, "train/a/1.JPEG");
    assert_int_equal(folder_label_table(root, &t, NULL), ERR_IO);
    assert_contains(err_msg(), "no val/ folder");

    touch(root, "val/c/1.JPEG");
    assert_int_equal(folder_label_table(root, &t, NULL), ERR_INVALID);
    assert_contains(err_msg(), "val/c: class has no train/c folder");

    touch(root, "train/c/notes.txt");
    assert_int_equal(folder_label_table(root, &t, NULL), ERR_INVALID);
    assert_contains(err_msg(), "train/c: no image files");
    test_rmtree(root);
    free(root);
}

static void test_dataset_name(void **state) {
    (void)state;
    char name[64];
    folder_dataset_name("/data/imagenette2-320", name, sizeof name);
    assert_string_equal(name, "imagenette");
    folder_dataset_name("imagewoof2/", name, sizeof name);
    assert_string_equal(name, "imagewoof");
    folder_dataset_name("my-set", name, sizeof name);
    assert_string_equal(name, "my-set");
    folder_dataset_name("/", name, sizeof name);
    assert_string_equal(name, "dataset");
}

static void write_gz(const char *path, const unsigned char *bytes, size_t n) {
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, bytes, (unsigned)n), (int)n);
    assert_int_equal(gzclose(gz), Z_OK);
}

static void test_idx_read_and_errors(void **state) {
    (void)state;
    char *dir = test_mkdtemp();
    char path[4096];
    snprintf(path, sizeof path, "%s/a.idx.gz", dir);
    IdxArray a;

    const unsigned char good[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
    write_gz(path, good, sizeof good);
    assert_int_equal(idx_read(path, &a), 0);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.dims[1], 3);
    assert_int_equal(a.size, 6);
    assert_int_equal(a.data[5], 6);
    idx_free(&a);

    write_gz(path, good, sizeof good - 2);
    assert_int_equal(idx_read(path, &a), ERR_PARSE);
    assert_contains(err_msg(), "truncated");

    const unsigned char wrong_type[] = {0, 0, 0x0d, 1, 0, 0, 0, 1, 0};
    write_gz(path, wrong_type, sizeof wrong_type);
    assert_int_equal(idx_read(path, &a), ERR_PARSE);
    assert_contains(err_msg(), "value type 0x0d");

    const unsigned char bad_magic[] = {'P', 'K', 3, 4, 0, 0};
    write_gz(path, bad_magic, sizeof bad_magic);
    assert_int_equal(idx_read(path, &a), ERR_PARSE);
    assert_contains(err_msg(), "not an IDX file");
    test_rmtree(dir);
    free(dir);
}

static void test_fashion_mnist(void **state) {
    (void)state;
    if (!file_is_dir(FMNIST_DEFAULT_DIR)) {
        print_message("skip: %s missing (apt-get install dataset-fashion-mnist)\n",
                      FMNIST_DEFAULT_DIR);
        skip();
    }
    LabelTable t;
    assert_int_equal(fmnist_label_table(NULL, &t), 0);
    assert_int_equal(t.n_rows, 70000);
    assert_int_equal(t.n_train, 60000);
    assert_int_equal(t.n_classes, 10);
    assert_string_equal(t.paths[42], "train/00042");
    assert_string_equal(t.paths[60000], "val/00000");
    long per_class[10] = {0};
    for (int i = 0; i < t.n_train; i++)
        per_class[t.truth[i]]++;
    for (int c = 0; c < 10; c++)
        assert_int_equal(per_class[c], 6000);
    labels_free(&t);

    assert_int_equal(fmnist_label_table("/nonexistent", &t), ERR_IO);
    assert_contains(err_msg(), "dataset-fashion-mnist");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folder_scan_sorted),
        cmocka_unit_test(test_folder_errors),
        cmocka_unit_test(test_dataset_name),
        cmocka_unit_test(test_idx_read_and_errors),
        cmocka_unit_test(test_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
