/* Audit: realised counts, transitions, problems, nesting, the report. */
#include "test_util.h"

#include "labels/audit.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Level 10: row 2 a->b (changed). Level 20: rows 2 a->b, 3 b->a, and the
 * validation row 5 changed (a problem). Level 30: row 4 gets "zz", which
 * is not a class (a problem). */
static const char CSV[] =
    "path,noisy_labels_0,noisy_labels_10,noisy_labels_20,noisy_labels_30,is_valid\n"
    "r1,a,a,a,a,False\n"
    "r2,a,b,b,a,False\n"
    "r3,b,b,a,b,False\n"
    "r4,b,b,b,zz,False\n"
    "r5,a,a,b,a,True\n";

static void test_counts_and_problems(void **state) {
    (void)state;
    LabelTable t;
    LabelAudit a;
    assert_int_equal(labels_parse("t.csv", CSV, strlen(CSV), &t), 0);
    assert_int_equal(audit_compute(&t, &a), 0);

    assert_int_equal(a.class_train[0], 2);
    assert_int_equal(a.class_train[1], 2);
    assert_int_equal(a.class_valid[0], 1);
    assert_int_equal(a.levels[0].changed_train, 1);
    assert_int_equal(a.levels[0].uniform_count, 1);   /* ceil(0.4) */
    assert_int_equal(a.levels[1].changed_train, 2);
    assert_int_equal(a.levels[1].changed_valid, 1);
    assert_int_equal(a.levels[2].outside, 1);
    assert_int_equal(a.levels[2].changed_train, 1);
    assert_int_equal(a.problems, 2);

    /* transitions: n_classes x n_names (a, b, zz), training rows only */
    const long *m = a.levels[1].transitions;
    assert_int_equal(m[0 * 3 + 0], 1);
    assert_int_equal(m[0 * 3 + 1], 1);
    assert_int_equal(m[1 * 3 + 0], 1);
    assert_int_equal(m[1 * 3 + 1], 1);
    assert_int_equal(a.levels[2].transitions[1 * 3 + 2], 1);
    assert_false(a.nested);     /* row 3 changes at 20 but not at 30 */
    audit_free(&t, &a);
    labels_free(&t);
}

static void test_nested_detected(void **state) {
    (void)state;
    const char *s = "path,noisy_labels_0,noisy_labels_5,noisy_labels_50,is_valid\n"
                    "r1,a,b,b,False\nr2,a,a,b,False\nr3,b,b,b,False\n";
    LabelTable t;
    LabelAudit a;
    assert_int_equal(labels_parse("t.csv", s, strlen(s), &t), 0);
    assert_int_equal(audit_compute(&t, &a), 0);
    assert_true(a.nested);
    assert_int_equal(a.problems, 0);
    audit_free(&t, &a);
    labels_free(&t);
}

/* Columns out of order (50 before 5 before 25): nesting is judged by level. */
static void test_nested_any_column_order(void **state) {
    (void)state;
    const char *s = "path,noisy_labels_0,noisy_labels_50,noisy_labels_5,noisy_labels_25,is_valid\n"
                    "r1,a,b,a,a,False\nr2,a,b,b,b,False\nr3,b,b,b,b,False\n";
    LabelTable t;
    LabelAudit a;
    assert_int_equal(labels_parse("t.csv", s, strlen(s), &t), 0);
    assert_int_equal(audit_compute(&t, &a), 0);
    assert_true(a.nested);
    audit_free(&t, &a);
    labels_free(&t);

    /* r1 changes at 25 but not at 50: not nested */
    const char *u = "path,noisy_labels_0,noisy_labels_50,noisy_labels_5,noisy_labels_25,is_valid\n"
                    "r1,a,a,a,b,False\nr2,a,b,b,b,False\nr3,b,b,b,b,False\n";
    assert_int_equal(labels_parse("t.csv", u, strlen(u), &t), 0);
    assert_int_equal(audit_compute(&t, &a), 0);
    assert_false(a.nested);
    audit_free(&t, &a);
    labels_free(&t);
}

static void test_report_text(void **state) {
    (void)state;
    LabelTable t;
    LabelAudit a;
    assert_int_equal(labels_parse("t.csv", CSV, strlen(CSV), &t), 0);
    assert_int_equal(audit_compute(&t, &a), 0);

    char *buf = NULL;
    size_t len;
    FILE *fp = open_memstream(&buf, &len);
    audit_print(&t, &a, "t.csv", fp, 1);
    fclose(fp);
    assert_contains(buf, "t.csv: 5 rows (4 train, 1 valid), 2 classes, 3 noise levels");
    assert_contains(buf, "labels outside the class set: 2=zz");
    assert_contains(buf, "problems: 2");
    assert_contains(buf, "t.csv:6: noisy_labels_20 = \"b\": validation row differs");
    assert_contains(buf, "t.csv:5: noisy_labels_30 = \"zz\": not a class");
    assert_contains(buf, "row rates");
    assert_contains(buf, "0.5000");
    free(buf);
    audit_free(&t, &a);
    labels_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_problems),
        cmocka_unit_test(test_nested_detected),
        cmocka_unit_test(test_nested_any_column_order),
        cmocka_unit_test(test_report_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
