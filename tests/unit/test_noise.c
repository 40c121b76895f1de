/* Noise generation: exact counts, never the true label, uniformity
 * (chi-square), determinism, nesting, pair-flip and matrix counts. */
#include "test_util.h"

#include "labels/noise.h"
#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A synthetic table: n_train training rows, n_valid validation rows, class
 * of row i = i mod k for training rows (classes named c00, c01, ...). */
static void make_table(LabelTable *t, int n_train, int n_valid, int k) {
    int n = n_train + n_valid;
    char (*paths)[24] = malloc((size_t)n * sizeof *paths);
    char (*names)[16] = malloc((size_t)k * sizeof *names);
    const char **pp = malloc((size_t)n * sizeof *pp);
    const char **tp = malloc((size_t)n * sizeof *tp);
    uint8_t *valid = malloc((size_t)n);
    assert_true(paths && names && pp && tp && valid);

    for (int c = 0; c < k; c++)
        snprintf(names[c], sizeof names[c], "c%02d", c);
    for (int i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "r%07d", i);
        pp[i] = paths[i];
        tp[i] = names[(i * 7 + i / 3) % k];
        valid[i] = i >= n_train;
    }
    assert_int_equal(labels_from_truth(t, n, pp, tp, valid), 0);
    free(paths), free(names), free(pp), free(tp), free(valid);
}

static NoiseSpec uniform_spec(uint64_t seed, int nested) {
    NoiseSpec s = {.kind = NOISE_UNIFORM, .n_levels = 4, .levels = {1, 5, 25, 50},
                   .seed = seed, .nested = nested};
    return s;
}

static long changed_rows(const LabelTable *t, int l) {
    long n = 0;
    for (int i = 0; i < t->n_rows; i++)
        n += labels_noisy(t, l)[i] != t->truth[i];
    return n;
}

static void test_uniform_count_rule(void **state) {
    (void)state;
    /* The published files' counts (spec §11.3): Imagenette, Imagewoof. */
    assert_int_equal(noise_uniform_count(1, 9469), 95);
    assert_int_equal(noise_uniform_count(5, 9469), 474);
    assert_int_equal(noise_uniform_count(25, 9469), 2368);
    assert_int_equal(noise_uniform_count(50, 9469), 4735);
    assert_int_equal(noise_uniform_count(1, 9025), 91);
    assert_int_equal(noise_uniform_count(5, 9025), 452);
    assert_int_equal(noise_uniform_count(25, 9025), 2257);
    assert_int_equal(noise_uniform_count(50, 9025), 4513);
    /* Whole products stay whole (0.01 * 300 in floating point is 3.0000000000000004). */
    assert_int_equal(noise_uniform_count(1, 300), 3);
    assert_int_equal(noise_uniform_count(50, 10), 5);
    assert_int_equal(noise_uniform_count(2.5, 9469), 237);
    assert_int_equal(noise_uniform_count(99.9, 3), 3);
}

static void test_uniform_exact_counts_and_never_true(void **state) {
    (void)state;
    LabelTable t;
    make_table(&t, 9469, 3925, 10);
    NoiseSpec s = uniform_spec(42, 0);
    assert_int_equal(noise_apply(&t, &s), 0);
    assert_int_equal(t.n_levels, 4);
    assert_string_equal(t.level_text[2], "25");

    for (int l = 0; l < 4; l++) {
        long changed = 0;
        for (int i = 0; i < t.n_rows; i++) {
            int32_t y = labels_noisy(&t, l)[i];
            assert_true(y >= 0 && y < t.n_classes);
            if (t.is_valid[i])
                assert_int_equal(y, t.truth[i]);
            changed += y != t.truth[i];
        }
        assert_int_equal(changed, noise_uniform_count(s.levels[l], 9469));
    }
    labels_free(&t);
}

/* The wrong label is uniform over the other K-1 classes, and the changed
 * rows are spread over the classes in proportion to their size. */
static void test_uniform_is_uniform(void **state) {
    (void)state;
    enum { K = 10 };
    LabelTable t;
    make_table(&t, 100000, 0, K);
    NoiseSpec s = {.kind = NOISE_UNIFORM, .n_levels = 1, .levels = {50}, .seed = 2024};
    assert_int_equal(noise_apply(&t, &s), 0);

    long trans[K][K] = {{0}}, size[K] = {0}, changed[K] = {0};
    for (int i = 0; i < t.n_rows; i++) {
        int a = t.truth[i], b = labels_noisy(&t, 0)[i];
        trans[a][b]++;
        size[a]++;
        changed[a] += a != b;
    }

    /* Off-diagonal cells: K*(K-2) = 80 degrees of freedom; the 0.999
     * quantile of chi-square(80) is 124.8. */
    double chi2 = 0;
    for (int a = 0; a < K; a++) {
        double expect = changed[a] / (double)(K - 1);
        for (int b = 0; b < K; b++)
            if (b != a)
                chi2 += pow(trans[a][b] - expect, 2) / expect;
    }
    print_message("wrong-label chi-square %.1f (80 dof, limit 124.8)\n", chi2);
    assert_true(chi2 < 124.8);

    /* Changed share per class: 9 dof, 0.999 quantile 27.9. */
    double chi2_rows = 0;
    for (int a = 0; a < K; a++) {
        double expect = 50000.0 * size[a] / 100000.0;
        chi2_rows += pow(changed[a] - expect, 2) / expect;
    }
    assert_true(chi2_rows < 27.9);
    labels_free(&t);
}

static void test_same_seed_same_bytes(void **state) {
    (void)state;
    LabelTable a, b, c;
    make_table(&a, 2000, 500, 7);
    make_table(&b, 2000, 500, 7);
    make_table(&c, 2000, 500, 7);
    NoiseSpec s1 = uniform_spec(5, 0), s2 = uniform_spec(6, 0);
    assert_int_equal(noise_apply(&a, &s1), 0);
    assert_int_equal(noise_apply(&b, &s1), 0);
    assert_int_equal(noise_apply(&c, &s2), 0);

    char *x = test_table_bytes(&a, NULL);
    char *y = test_table_bytes(&b, NULL);
    char *z = test_table_bytes(&c, NULL);
    assert_string_equal(x, y);
    assert_string_not_equal(x, z);
    free(x), free(y), free(z);
    labels_free(&a), labels_free(&b), labels_free(&c);
}

/* A committed file made with seed 42 by an independent implementation of
 * the algorithm (tools/make_label_golden.py): the same bytes on every
 * machine and in every later version. */
static void test_golden_seed_42(void **state) {
    (void)state;
    LabelTable t;
    make_table(&t, 60, 20, 4);
    NoiseSpec s = uniform_spec(42, 0);
    assert_int_equal(noise_apply(&t, &s), 0);
    char *got = test_table_bytes(&t, NULL);

    char path[4096];
    snprintf(path, sizeof path, "%s/labels_uniform_seed42.csv", NOISETTE_GOLDEN);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char want[16384];
    size_t n = fread(want, 1, sizeof want - 1, fp);
    want[n] = '\0';
    fclose(fp);
    assert_string_equal(got, want);
    free(got);
    labels_free(&t);
}

static void test_nested_levels_contain_lower(void **state) {
    (void)state;
    LabelTable t;
    make_table(&t, 9469, 100, 10);
    NoiseSpec s = uniform_spec(11, 1);
    assert_int_equal(noise_apply(&t, &s), 0);
    for (int l = 0; l < 4; l++)
        assert_int_equal(changed_rows(&t, l), noise_uniform_count(s.levels[l], 9469));
    for (int l = 0; l + 1 < 4; l++) {
        const int32_t *lo = labels_noisy(&t, l), *hi = labels_noisy(&t, l + 1);
        for (int i = 0; i < t.n_rows; i++)
            if (lo[i] != t.truth[i])
                assert_int_equal(hi[i], lo[i]);
    }
    labels_free(&t);
}

/* Independent levels overlap about as chance says: |25 & 50| ~ 12.5% of N. */
static void test_independent_levels_overlap_by_chance(void **state) {
    (void)state;
    LabelTable t;
    make_table(&t, 10000, 0, 10);
    NoiseSpec s = uniform_spec(12, 0);
    assert_int_equal(noise_apply(&t, &s), 0);
    long both = 0;
    for (int i = 0; i < t.n_rows; i++)
        both += labels_noisy(&t, 2)[i] != t.truth[i] && labels_noisy(&t, 3)[i] != t.truth[i];
    assert_true(both > 1100 && both < 1400);
    labels_free(&t);
}

static void test_largest_remainder(void **state) {
    (void)state;
    long c[3];
    const double w[3] = {0.5, 0.3, 0.2};
    noise_largest_remainder(7, w, 3, c);        /* 3.5, 2.1, 1.4 */
    assert_int_equal(c[0], 4);
    assert_int_equal(c[1], 2);
    assert_int_equal(c[2], 1);
    const double third[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
    noise_largest_remainder(10, third, 3, c);   /* ties go to the lower index */
    assert_int_equal(c[0], 4);
    assert_int_equal(c[1], 3);
    assert_int_equal(c[2], 3);
    noise_largest_remainder(0, w, 3, c);
    assert_int_equal(c[0] + c[1] + c[2], 0);
}

/* Halves round up for every class, the last one (which flips to class 0)
 * included: 25% of 14 rows is 4. */
static void test_pairflip_count_rule(void **state) {
    (void)state;
    assert_int_equal(noise_pairflip_count(25, 14), 4);
    assert_int_equal(noise_pairflip_count(25, 13), 3);
    assert_int_equal(noise_pairflip_count(10, 1003), 100);
    assert_int_equal(noise_pairflip_count(45, 201), 90);
    assert_int_equal(noise_pairflip_count(50, 9), 5);

    /* two classes of 14 training rows each */
    const char *paths[28], *truth[28];
    char names[28][8];
    uint8_t valid[28] = {0};
    for (int i = 0; i < 28; i++) {
        snprintf(names[i], sizeof names[i], "r%02d", i);
        paths[i] = names[i];
        truth[i] = i < 14 ? "a" : "b";
    }
    LabelTable t;
    assert_int_equal(labels_from_truth(&t, 28, paths, truth, valid), 0);
    NoiseSpec s = {.kind = NOISE_PAIRFLIP, .n_levels = 1, .levels = {25}, .seed = 8};
    assert_int_equal(noise_apply(&t, &s), 0);
    long flipped[2] = {0};
    for (int i = 0; i < t.n_rows; i++)
        flipped[t.truth[i]] += labels_noisy(&t, 0)[i] != t.truth[i];
    assert_int_equal(flipped[0], 4);
    assert_int_equal(flipped[1], 4);
    labels_free(&t);
}

static void test_pairflip_counts(void **state) {
    (void)state;
    LabelTable t;
    make_table(&t, 1003, 50, 5);
    NoiseSpec s = {.kind = NOISE_PAIRFLIP, .n_levels = 2, .levels = {10, 45}, .seed = 3,
                   .nested = 1};
    assert_int_equal(noise_apply(&t, &s), 0);

    long size[5] = {0};
    for (int i = 0; i < t.n_rows; i++)
        if (!t.is_valid[i])
            size[t.truth[i]]++;
    for (int l = 0; l < 2; l++) {
        long flipped[5] = {0};
        for (int i = 0; i < t.n_rows; i++) {
            int a = t.truth[i], b = labels_noisy(&t, l)[i];
            if (a != b) {
                assert_false(t.is_valid[i]);
                assert_int_equal(b, (a + 1) % 5);   /* the next class, wrapping */
                flipped[a]++;
            }
        }
        for (int c = 0; c < 5; c++)
            assert_int_equal(flipped[c], noise_pairflip_count(s.levels[l], size[c]));
    }
    /* nested: every row flipped at 10% is flipped at 45% */
    for (int i = 0; i < t.n_rows; i++)
        if (labels_noisy(&t, 0)[i] != t.truth[i])
            assert_int_equal(labels_noisy(&t, 1)[i], labels_noisy(&t, 0)[i]);
    labels_free(&t);
}

static void test_matrix_counts(void **state) {
    (void)state;
    LabelTable t;
    make_table(&t, 30, 6, 3);
    const double m[9] = {0.6, 0.3, 0.1,
                         0.0, 1.0, 0.0,
                         0.25, 0.25, 0.5};
    NoiseSpec s = {.kind = NOISE_MATRIX, .n_levels = 1, .levels = {20}, .seed = 1,
                   .matrix = m};
    assert_int_equal(noise_apply(&t, &s), 0);

    long size[3] = {0}, got[3][3] = {{0}};
    for (int i = 0; i < t.n_rows; i++) {
        if (t.is_valid[i]) {
            assert_int_equal(labels_noisy(&t, 0)[i], t.truth[i]);
            continue;
        }
        size[t.truth[i]]++;
        got[t.truth[i]][labels_noisy(&t, 0)[i]]++;
    }
    for (int a = 0; a < 3; a++) {
        long want[3];
        noise_largest_remainder(size[a], m + 3 * a, 3, want);
        for (int b = 0; b < 3; b++)
            assert_int_equal(got[a][b], want[b]);
    }
    assert_true(fabs(noise_matrix_rate(&t, m) - 100.0 * (4 + 0 + 5) / 30.0) < 1e-9);
    labels_free(&t);
}

static void test_matrix_checks(void **state) {
    (void)state;
    const double bad_sum[4] = {0.5, 0.4, 0, 1};
    assert_int_equal(noise_check_matrix(bad_sum, 2), ERR_INVALID);
    assert_contains(err_msg(), "row 1 sums to 0.9");
    const double negative[4] = {1, 0, -0.5, 1.5};
    assert_int_equal(noise_check_matrix(negative, 2), ERR_INVALID);
    assert_contains(err_msg(), "row 2, column 1");
    const double ok[4] = {0.75, 0.25, 0, 1};
    assert_int_equal(noise_check_matrix(ok, 2), 0);
}

static void test_bad_specs(void **state) {
    (void)state;
    LabelTable t;
    make_table(&t, 10, 0, 1);
    NoiseSpec s = uniform_spec(1, 0);
    assert_int_equal(noise_apply(&t, &s), ERR_INVALID);
    assert_contains(err_msg(), "at least 2");
    labels_free(&t);

    make_table(&t, 10, 0, 2);
    NoiseSpec down = {.kind = NOISE_UNIFORM, .n_levels = 2, .levels = {50, 5}};
    assert_int_equal(noise_apply(&t, &down), ERR_USAGE);
    NoiseSpec none = {.kind = NOISE_UNIFORM, .n_levels = 0};
    assert_int_equal(noise_apply(&t, &none), ERR_USAGE);
    labels_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_count_rule),
        cmocka_unit_test(test_uniform_exact_counts_and_never_true),
        cmocka_unit_test(test_uniform_is_uniform),
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_golden_seed_42),
        cmocka_unit_test(test_nested_levels_contain_lower),
        cmocka_unit_test(test_independent_levels_overlap_by_chance),
        cmocka_unit_test(test_largest_remainder),
        cmocka_unit_test(test_pairflip_count_rule),
        cmocka_unit_test(test_pairflip_counts),
        cmocka_unit_test(test_matrix_counts),
        cmocka_unit_test(test_matrix_checks),
        cmocka_unit_test(test_bad_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
