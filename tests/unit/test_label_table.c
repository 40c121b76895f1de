/* Label table: parsing the published format, writing it back byte for byte,
 * the published files' realised noise, and every malformed input. */
#include "test_util.h"

#include "labels/label_table.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SMALL[] =
    "path,noisy_labels_0,noisy_labels_5,is_valid\n"
    "train/b/1.JPEG,b,b,False\n"
    "train/a/2.JPEG,a,c,False\n"
    "train/c/3.JPEG,c,c,False\n"
    "val/a/4.JPEG,a,a,True\n";

static int parse(const char *s, LabelTable *t) {
    return labels_parse("t.csv", s, strlen(s), t);
}

static void test_parse_small(void **state) {
    (void)state;
    LabelTable t;
    assert_int_equal(parse(SMALL, &t), 0);
    assert_int_equal(t.n_rows, 4);
    assert_int_equal(t.n_train, 3);
    assert_int_equal(t.n_valid, 1);
    assert_int_equal(t.n_classes, 3);
    assert_string_equal(t.names[0], "a");
    assert_string_equal(t.names[2], "c");
    assert_int_equal(t.n_levels, 1);
    assert_true(t.levels[0] == 5.0);
    assert_string_equal(t.level_text[0], "5");
    assert_int_equal(t.truth[0], 1);
    assert_int_equal(labels_noisy(&t, 0)[1], 2);
    assert_int_equal(t.is_valid[3], 1);
    assert_int_equal(t.lines[3], 5);
    assert_string_equal(t.paths[1], "train/a/2.JPEG");
    labels_free(&t);
}

/* A noisy label that no row has as its truth is kept, outside the classes. */
static void test_label_outside_classes(void **state) {
    (void)state;
    LabelTable t;
    assert_int_equal(parse("path,noisy_labels_0,noisy_labels_5,is_valid\n"
                           "x,a,zz,False\ny,b,b,True\n", &t), 0);
    assert_int_equal(t.n_classes, 2);
    assert_int_equal(t.n_names, 3);
    assert_string_equal(t.names[labels_noisy(&t, 0)[0]], "zz");
    labels_free(&t);
}

static void test_write_round_trip(void **state) {
    (void)state;
    LabelTable t;
    assert_int_equal(parse(SMALL, &t), 0);
    size_t len;
    char *out = test_table_bytes(&t, &len);
    assert_string_equal(out, SMALL);
    free(out);
    labels_free(&t);
}

/* Quoted fields are unquoted on read and quoted again on write. */
static void test_quoted_round_trip(void **state) {
    (void)state;
    const char *s = "path,noisy_labels_0,is_valid\n\"train/a,b/1.jpg\",\"x\"\"y\",False\n";
    LabelTable t;
    assert_int_equal(parse(s, &t), 0);
    assert_string_equal(t.paths[0], "train/a,b/1.jpg");
    assert_string_equal(t.names[0], "x\"y");
    size_t len;
    char *out = test_table_bytes(&t, &len);
    assert_string_equal(out, s);
    free(out);
    labels_free(&t);
}

static void expect_parse_error(const char *s, const char *where, const char *what) {
    LabelTable t;
    assert_int_equal(parse(s, &t), ERR_PARSE);
    assert_contains(err_msg(), where);
    assert_contains(err_msg(), what);
    assert_null(t.paths);
}

static void test_malformed_header(void **state) {
    (void)state;
    expect_parse_error("", "t.csv: empty file", "header");
    expect_parse_error("path,noisy_labels_0,is_valid\n", "t.csv:", "no data rows");
    expect_parse_error("path,noisy_labels_0\nx,a\n", "t.csv:1:", "missing column \"is_valid\"");
    expect_parse_error("path,is_valid\nx,True\n", "t.csv:1:", "missing column \"noisy_labels_0\"");
    expect_parse_error("noisy_labels_0,is_valid\na,True\n", "t.csv:1:", "missing column \"path\"");
    expect_parse_error("path,path,noisy_labels_0,is_valid\n", "t.csv:1:6:", "duplicate column");
    expect_parse_error("path,noisy_labels_5,noisy_labels_5.0,noisy_labels_0,is_valid\n",
                       "t.csv:1:21:", "duplicate column");
    expect_parse_error("path,noisy_labels_0,note,is_valid\n", "t.csv:1:21:",
                       "unknown column \"note\"");
    expect_parse_error("path,noisy_labels_0,noisy_labels_100,is_valid\n", "t.csv:1:21:",
                       "unknown column");
}

static void test_malformed_rows(void **state) {
    (void)state;
    const char *h = "path,noisy_labels_0,is_valid\n";
    char s[512];

    snprintf(s, sizeof s, "%sa,x,False\nb,x\n", h);
    expect_parse_error(s, "t.csv:3:", "2 fields, expected 3");
    snprintf(s, sizeof s, "%sa,x,False,1\n", h);
    expect_parse_error(s, "t.csv:2:", "4 fields, expected 3");
    snprintf(s, sizeof s, "%sa,x,False\n\nb,x,True\n", h);
    expect_parse_error(s, "t.csv:3:", "empty line");
    snprintf(s, sizeof s, "%sa,x,False\nb,x,yes\n", h);
    expect_parse_error(s, "t.csv:3:5:", "is_valid: expected True or False, got \"yes\"");
    snprintf(s, sizeof s, "%sa,x,False\nb,x,true\n", h);
    expect_parse_error(s, "t.csv:3:5:", "expected True or False");
    snprintf(s, sizeof s, "%sa,x,False\nb,x,True\na,y,True\n", h);
    expect_parse_error(s, "t.csv:4:1:", "already on line 2");
    snprintf(s, sizeof s, "%sa,,False\n", h);
    expect_parse_error(s, "t.csv:2:3:", "empty label");
    snprintf(s, sizeof s, "%s,x,False\n", h);
    expect_parse_error(s, "t.csv:2:1:", "path: empty");
    snprintf(s, sizeof s, "%s/etc/a,x,False\n", h);
    expect_parse_error(s, "t.csv:2:1:", "absolute");
    snprintf(s, sizeof s, "%sa,\"x,False\n", h);
    expect_parse_error(s, "t.csv:2:3:", "never closed");
    snprintf(s, sizeof s, "%sa,x\"y,False\n", h);
    expect_parse_error(s, "t.csv:2:4:", "quote inside");
    snprintf(s, sizeof s, "%sa,\"x\"y,False\n", h);
    expect_parse_error(s, "t.csv:2:6:", "after a closing quote");
}

static void test_bom_and_crlf_refused(void **state) {
    (void)state;
    expect_parse_error("\xEF\xBB\xBFpath,noisy_labels_0,is_valid\na,x,False\n", "t.csv:1:1:",
                       "byte-order mark");
    expect_parse_error("path,noisy_labels_0,is_valid\r\na,x,False\r\n", "t.csv:1:",
                       "CRLF");
}

static void test_ten_megabyte_line(void **state) {
    (void)state;
    size_t n = 10u << 20;
    char *s = malloc(n + 64);
    assert_non_null(s);
    strcpy(s, "path,noisy_labels_0,is_valid\n");
    size_t h = strlen(s);
    memset(s + h, 'p', n);
    strcpy(s + h + n, ",x,False\n");
    LabelTable t;
    assert_int_equal(labels_parse("t.csv", s, strlen(s), &t), ERR_PARSE);
    assert_contains(err_msg(), "t.csv:2:");
    assert_contains(err_msg(), "longer than 1 MiB");
    free(s);
}

static void test_missing_file(void **state) {
    (void)state;
    LabelTable t;
    assert_int_equal(labels_read("/nonexistent/labels.csv", &t), ERR_IO);
    assert_contains(err_msg(), "/nonexistent/labels.csv: cannot open");
}

/* ---- the published files ------------------------------------------------ */

typedef struct {
    const char *file;
    int rows, train, valid;
    long changed[4];
    long class_train[10], class_valid[10];
} Published;

/* Counts from the published files (spec: reference-training.md §11.3). */
static const Published PUBLISHED[2] = {
    {"noisy_imagenette.csv", 13394, 9469, 3925, {95, 474, 2368, 4735},
     {963, 955, 993, 858, 941, 956, 961, 931, 951, 960},
     {387, 395, 357, 386, 409, 394, 389, 419, 399, 390}},
    {"noisy_imagewoof.csv", 12954, 9025, 3929, {91, 452, 2257, 4513},
     {941, 942, 932, 580, 949, 943, 949, 928, 921, 940},
     {409, 408, 418, 224, 401, 407, 401, 422, 429, 410}},
};

static void check_published(const Published *p) {
    char path[4096];
    snprintf(path, sizeof path, "%s/published/%s", NOISETTE_TEST_DATA, p->file);
    if (!file_exists(path)) {
        print_message("skip: %s is missing\n", path);
        skip();
    }
    LabelTable t;
    assert_int_equal(labels_read(path, &t), 0);
    assert_int_equal(t.n_rows, p->rows);
    assert_int_equal(t.n_train, p->train);
    assert_int_equal(t.n_valid, p->valid);
    assert_int_equal(t.n_classes, 10);
    assert_int_equal(t.n_names, 10);
    assert_int_equal(t.n_levels, 4);

    /* Realised noise per level; validation rows never change. */
    long class_train[10] = {0}, class_valid[10] = {0};
    for (int i = 0; i < t.n_rows; i++)
        (t.is_valid[i] ? class_valid : class_train)[t.truth[i]]++;
    for (int l = 0; l < 4; l++) {
        long changed = 0;
        for (int i = 0; i < t.n_rows; i++) {
            int differs = labels_noisy(&t, l)[i] != t.truth[i];
            assert_false(t.is_valid[i] && differs);
            changed += differs;
        }
        assert_int_equal(changed, p->changed[l]);
    }
    for (int c = 0; c < 10; c++) {
        assert_int_equal(class_train[c], p->class_train[c]);
        assert_int_equal(class_valid[c], p->class_valid[c]);
    }

    /* Writing the table back gives the published bytes exactly. */
    char *orig;
    size_t orig_len, len;
    assert_int_equal(file_read_all(path, 1 << 26, &orig, &orig_len), 0);
    char *out = test_table_bytes(&t, &len);
    assert_int_equal(len, orig_len);
    assert_memory_equal(out, orig, len);
    free(out);
    free(orig);
    labels_free(&t);
}

static void test_published_imagenette(void **state) {
    (void)state;
    check_published(&PUBLISHED[0]);
}

static void test_published_imagewoof(void **state) {
    (void)state;
    check_published(&PUBLISHED[1]);
}

static void test_from_truth_sorts_classes(void **state) {
    (void)state;
    const char *paths[] = {"train/z/1", "train/a/2", "val/z/3"};
    const char *truth[] = {"z", "a", "z"};
    const uint8_t valid[] = {0, 0, 1};
    LabelTable t;
    assert_int_equal(labels_from_truth(&t, 3, paths, truth, valid), 0);
    assert_int_equal(t.n_classes, 2);
    assert_string_equal(t.names[0], "a");
    assert_int_equal(t.truth[0], 1);
    assert_int_equal(t.n_train, 2);
    assert_int_equal(t.n_levels, 0);

    double levels[2] = {5, 50};
    assert_int_equal(labels_reset_levels(&t, 2, levels), 0);
    assert_int_equal(t.n_levels, 2);
    assert_string_equal(t.level_text[1], "50");
    assert_int_equal(labels_noisy(&t, 1)[0], t.truth[0]);
    assert_int_equal(labels_find_level(&t, 50), 1);
    assert_int_equal(labels_find_level(&t, 25), -1);
    labels_free(&t);

    const char *dup[] = {"p", "p"};
    assert_int_equal(labels_from_truth(&t, 2, dup, truth, valid), ERR_INVALID);
    assert_contains(err_msg(), "duplicate path \"p\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_small),
        cmocka_unit_test(test_label_outside_classes),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_quoted_round_trip),
        cmocka_unit_test(test_malformed_header),
        cmocka_unit_test(test_malformed_rows),
        cmocka_unit_test(test_bom_and_crlf_refused),
        cmocka_unit_test(test_ten_megabyte_line),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_published_imagenette),
        cmocka_unit_test(test_published_imagewoof),
        cmocka_unit_test(test_from_truth_sorts_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
