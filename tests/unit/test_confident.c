/* Confident learning (report/confident.c) and the PROBS reader
 * (report/probs.c): a K = 3 case worked by hand through every step and
 * every filter, rounding that must preserve row totals, prune counts with
 * the diagonal raised and frac_noise, ties, a class nobody has, clean data
 * that flags nothing, order independence, scoring against the truth, and
 * the reader's errors with file:line. */
#include "test_util.h"

#include "report/confident.h"
#include "report/probs.h"
#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define assert_close(got, want, tol) \
    check_close((got), (want), (tol), #got, __FILE__, __LINE__)
static void check_close(double got, double want, double tol, const char *what,
                        const char *file, int line) {
    if (!(fabs(got - want) <= tol)) {
        print_error("%s:%d: %s: expected %.9g, got %.9g\n", file, line, what, want, got);
        _fail(file, line);
    }
}

/* The indices set in mask[0..n), as "2 3 7", for assert_string_equal. */
static const char *set_of(const uint8_t *mask, int n) {
    static char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        if (mask[i])
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%d", used ? " " : "", i);
    return buf;
}

/* The first m entries of an index list, as "2 11 7". */
static const char *list_of(const int *idx, int m) {
    static char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (int x = 0; x < m; x++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%d", x ? " " : "", idx[x]);
    return buf;
}

static void assert_matrix(const long *got, const long *want, int k) {
    for (int x = 0; x < k * k; x++)
        if (got[x] != want[x]) {
            print_error("entry [%d][%d]: expected %ld, got %ld\n", x / k, x % k, want[x],
                        got[x]);
            fail();
        }
}

/* ---- the worked example ----------------------------------------------------
 *
 * K = 3 classes a, b, c (0, 1, 2); 13 samples, rows p = (p_a, p_b, p_c):
 *
 *   i   given  p                   truth   note
 *   0   a      (0.90, 0.05, 0.05)  a
 *   1   a      (0.62, 0.33, 0.05)  a
 *   2   a      (0.10, 0.80, 0.10)  b       mislabeled, confidently b
 *   3   a      (0.45, 0.50, 0.05)  a       ambiguous, no class confident
 *   4   a      (0.28, 0.30, 0.42)  a       no class confident
 *   5   b      (0.05, 0.90, 0.05)  b
 *   6   b      (0.20, 0.70, 0.10)  b
 *   7   b      (0.75, 0.20, 0.05)  a       mislabeled
 *   8   b      (0.10, 0.60, 0.30)  b       p_b equals t_b: a candidate
 *   9   c      (0.10, 0.30, 0.60)  c
 *  10   c      (0.05, 0.25, 0.70)  c
 *  11   c      (0.55, 0.35, 0.10)  a       mislabeled
 *  12   c      (0.50, 0.03, 0.47)  a       mislabeled; two classes confident
 *
 * §11.2 thresholds, mean p_j over the samples given j:
 *   t_a = (.90 + .62 + .10 + .45 + .28) / 5 = 2.35 / 5 = 0.47
 *   t_b = (.90 + .70 + .20 + .60) / 4       = 2.40 / 4 = 0.60
 *   t_c = (.60 + .70 + .10 + .47) / 4       = 1.87 / 4 = 0.4675
 * §11.3 candidates p_j >= t_j - 1e-6 and the guess y*:
 *   0 {a} a;  1 {a} a;  2 {b} b;  3 {} -;  4 {} - (.42 < .4675);
 *   5 {b} b;  6 {b} b;  7 {a} a;  8 {b} b;  9 {c} c;  10 {c} c;  11 {a} a;
 *   12 {a, c} -> argmax = a.
 *   Counted joint C (rows given, columns y*), row sums 3, 4, 4:
 *     a: 2 1 0      b: 1 3 0      c: 2 0 2
 * Calibration: row a * 5/3 = (3.33, 1.67, 0) -> (3, 2, 0); rows b and c
 *   already sum to n_b = n_c = 4; the total is then 13 = N (no change).
 * Prune counts = calibrated (every diagonal >= 1, frac_noise 1).
 * §11.4 prune_by_noise_rate: a->b 2: largest p_b - p_a in a: 2 (+.70),
 *   3 (+.05) [4 +.02]; b->a 1: largest p_a - p_b in b: 7 (+.55); c->a 2:
 *   largest p_a - p_c in c: 11 (+.45), 12 (+.03). Flagged 2 3 7 11 12.
 * prune_by_class: a: 5 - 3 = 2 smallest p_a: 2 (.10), 4 (.28); b: 4 - 3 = 1:
 *   7 (.20); c: 4 - 2 = 2: 11 (.10), 12 (.47). Flagged 2 4 7 11 12.
 * both: 2 7 11 12.  confident_learning (off-diagonal): 2 7 11 12.
 * predicted_neq_given (argmax != given): 2 3 4 7 11 12.
 * The final step keeps them all: none has the given label as its argmax.
 * num_label_issues: off-diagonal and argmax != given: 2 7 11 12 -> 4.
 * low_self_confidence, the 4 lowest p_given: 2 (.10), 11 (.10, tie: lower
 *   index first), 7 (.20), 4 (.28).
 * Normalized margin (p_given - max other + 1)/2: 2 .15, 7 .225, 11 .275,
 *   4 .43, 3 .475, 12 .485, ...; low_normalized_margin: 2 7 11 4.
 * Ranking of the default's flagged set by self-confidence:
 *   2 (.10), 11 (.10), 7 (.20), 3 (.45), 12 (.47).
 * Suggested (argmax over the other classes): 2 b, 3 b, 7 a, 11 a, 12 a. */
enum { EX_N = 13, EX_K = 3 };

static const double EX_P[EX_N * EX_K] = {
    0.90, 0.05, 0.05,   0.62, 0.33, 0.05,   0.10, 0.80, 0.10,   0.45, 0.50, 0.05,
    0.28, 0.30, 0.42,   0.05, 0.90, 0.05,   0.20, 0.70, 0.10,   0.75, 0.20, 0.05,
    0.10, 0.60, 0.30,   0.10, 0.30, 0.60,   0.05, 0.25, 0.70,   0.55, 0.35, 0.10,
    0.50, 0.03, 0.47,
};
static const int32_t EX_GIVEN[EX_N] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
static const int32_t EX_TRUTH[EX_N] = {0, 0, 1, 0, 0, 1, 1, 0, 1, 2, 2, 0, 0};

static ConfidentOptions options(ConfidentFilter f, ConfidentRank r) {
    ConfidentOptions o = confident_defaults();
    o.filter = f;
    o.rank = r;
    return o;
}

static void test_worked_steps(void **state) {
    (void)state;
    ConfidentResult res;
    ConfidentOptions o = confident_defaults();
    assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), 0);

    assert_close(res.thresholds[0], 0.47, 1e-12);
    assert_close(res.thresholds[1], 0.60, 1e-12);
    assert_close(res.thresholds[2], 0.4675, 1e-12);
    static const int32_t guess[EX_N] = {0, 0, 1, -1, -1, 1, 1, 0, 1, 2, 2, 0, 0};
    for (int i = 0; i < EX_N; i++)
        assert_int_equal(res.guess[i], guess[i]);

    static const long joint[9] = {2, 1, 0, 1, 3, 0, 2, 0, 2};
    static const long calibrated[9] = {3, 2, 0, 1, 3, 0, 2, 0, 2};
    assert_matrix(res.joint, joint, EX_K);
    assert_matrix(res.calibrated, calibrated, EX_K);
    assert_matrix(res.prune, calibrated, EX_K);
    assert_int_equal(res.n_estimated, 4);

    assert_string_equal(set_of(res.flagged, EX_N), "2 3 7 11 12");
    assert_int_equal(res.n_flagged, 5);
    assert_string_equal(list_of(res.order, res.n_flagged), "2 11 7 3 12");
    assert_int_equal(res.suggested[2], 1);
    assert_int_equal(res.suggested[3], 1);
    assert_int_equal(res.suggested[7], 0);
    assert_int_equal(res.suggested[11], 0);
    assert_int_equal(res.suggested[12], 0);
    assert_close(res.scores[12], 0.47, 1e-12);
    confident_result_free(&res);
}

static void test_worked_filters(void **state) {
    (void)state;
    static const struct {
        ConfidentFilter f;
        const char     *flagged;
    } cases[] = {
        {CONFIDENT_FILTER_PRUNE_BY_NOISE_RATE, "2 3 7 11 12"},
        {CONFIDENT_FILTER_PRUNE_BY_CLASS, "2 4 7 11 12"},
        {CONFIDENT_FILTER_BOTH, "2 7 11 12"},
        {CONFIDENT_FILTER_CONFIDENT_LEARNING, "2 7 11 12"},
        {CONFIDENT_FILTER_PREDICTED_NEQ_GIVEN, "2 3 4 7 11 12"},
        {CONFIDENT_FILTER_LOW_SELF_CONFIDENCE, "2 4 7 11"},
        {CONFIDENT_FILTER_LOW_NORMALIZED_MARGIN, "2 4 7 11"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ConfidentResult res;
        ConfidentOptions o = options(cases[c].f, CONFIDENT_RANK_SELF_CONFIDENCE);
        assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), 0);
        if (strcmp(set_of(res.flagged, EX_N), cases[c].flagged) != 0)
            print_error("filter %s\n", confident_filter_name(cases[c].f));
        assert_string_equal(set_of(res.flagged, EX_N), cases[c].flagged);
        confident_result_free(&res);
    }
}

static void test_worked_rankings(void **state) {
    (void)state;
    ConfidentResult res;
    ConfidentOptions o = options(CONFIDENT_FILTER_LOW_SELF_CONFIDENCE,
                                 CONFIDENT_RANK_SELF_CONFIDENCE);
    assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), 0);
    assert_string_equal(list_of(res.order, res.n_flagged), "2 11 7 4");
    confident_result_free(&res);

    o = options(CONFIDENT_FILTER_PRUNE_BY_NOISE_RATE, CONFIDENT_RANK_NORMALIZED_MARGIN);
    assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), 0);
    assert_string_equal(list_of(res.order, res.n_flagged), "2 7 11 3 12");
    assert_close(res.scores[2], 0.15, 1e-12);
    assert_close(res.scores[7], 0.225, 1e-12);
    assert_close(res.scores[11], 0.275, 1e-12);
    assert_close(res.scores[3], 0.475, 1e-12);
    assert_close(res.scores[12], 0.485, 1e-12);
    confident_result_free(&res);

    o = options(CONFIDENT_FILTER_LOW_NORMALIZED_MARGIN, CONFIDENT_RANK_NORMALIZED_MARGIN);
    assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), 0);
    assert_string_equal(list_of(res.order, res.n_flagged), "2 7 11 4");
    confident_result_free(&res);
}

/* Truth: 2 b, 7 a, 11 a, 12 a changed, M = {2, 7, 11, 12}; the default
 * flags F = {2, 3, 7, 11, 12}: TP 4, precision 4/5, recall 1,
 * F1 = 2 * .8 / 1.8 = 0.888889; every TP's suggestion is its truth.
 * Per given class (images, changed, flagged, tp): a 5 1 2 1, b 4 1 1 1,
 * c 4 2 2 2.
 * Ranking all 13 by p_given: 2 .10 M, 11 .10 M, 7 .20 M, 4 .28, 3 .45,
 * 12 .47 M, then 9 clean... The 4 lowest hold 3 changed: 0.75.
 * AUROC: changed 2, 11, 7 are below all 9 clean, 12 below 7 of them:
 * (9 + 9 + 9 + 7) / 36 = 0.944444. AP: the tie {2, 11} gives recall 2/4 at
 * precision 1, 7 gives 1/4 at 1, 12 gives 1/4 at 4/6:
 * .5 + .25 + .166667 = 0.916667. */
static void test_worked_detection(void **state) {
    (void)state;
    ConfidentResult res;
    ConfidentDetection d;
    ConfidentOptions o = confident_defaults();
    assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), 0);
    assert_int_equal(confident_detection(&res, EX_GIVEN, EX_TRUTH, &d), 0);

    assert_int_equal(d.n_flagged, 5);
    assert_int_equal(d.n_changed, 4);
    assert_int_equal(d.tp, 4);
    assert_close(d.precision, 0.8, 1e-12);
    assert_close(d.recall, 1.0, 1e-12);
    assert_close(d.f1, 16.0 / 18.0, 1e-12);
    assert_int_equal(d.suggested_right, 4);
    static const long per_class[3][4] = {{5, 1, 2, 1}, {4, 1, 1, 1}, {4, 2, 2, 2}};
    for (int a = 0; a < 3; a++) {
        assert_int_equal(d.class_n[a], per_class[a][0]);
        assert_int_equal(d.class_changed[a], per_class[a][1]);
        assert_int_equal(d.class_flagged[a], per_class[a][2]);
        assert_int_equal(d.class_tp[a], per_class[a][3]);
    }
    assert_int_equal(d.top_hits, 3);
    assert_close(d.top_precision, 0.75, 1e-12);
    assert_close(d.auroc, 34.0 / 36.0, 1e-12);
    assert_close(d.average_precision, 0.5 + 0.25 + 0.25 * 4.0 / 6.0, 1e-12);
    confident_detection_free(&d);
    confident_result_free(&res);
}

/* The same samples in another order give the same flags (prune filters). */
static void test_order_independent(void **state) {
    (void)state;
    static const int perm[EX_N] = {12, 5, 0, 9, 3, 11, 7, 1, 10, 2, 8, 6, 4};
    double p[EX_N * EX_K];
    int32_t given[EX_N];
    for (int x = 0; x < EX_N; x++) {
        memcpy(p + x * EX_K, EX_P + perm[x] * EX_K, EX_K * sizeof *p);
        given[x] = EX_GIVEN[perm[x]];
    }
    for (int f = 0; f <= CONFIDENT_FILTER_PREDICTED_NEQ_GIVEN; f++) {
        ConfidentResult a, b;
        ConfidentOptions o = options((ConfidentFilter)f, CONFIDENT_RANK_SELF_CONFIDENCE);
        assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &a), 0);
        assert_int_equal(confident_find_issues(EX_N, EX_K, p, given, &o, &b), 0);
        for (int x = 0; x < EX_N; x++)
            assert_int_equal(b.flagged[x], a.flagged[perm[x]]);
        confident_result_free(&a);
        confident_result_free(&b);
    }
}

/* ---- the steps on their own ---------------------------------------------------- */

static void test_round_rows(void **state) {
    (void)state;
    /* (2.5, 2.5, 0): both round to 2 (half to even), the row needs 5: +1 to
     * the first of the equal residuals.  (5/3, 5/3, 5/3): 2+2+2 = 6 > 5: -1
     * to the first.  (.4, .4, .2): 0 < 1: +1 to the first largest residual.
     * (1.5, 1.5, 0): 2+2 = 4 > rint(3) = 3: -1 from a rounded-up entry,
     * never from the 0 (which would go negative).  (1.5, 1.5, 1.5): 6 >
     * rint(4.5) = 4: two moves, to the first two. */
    static const double x[5 * 3] = {2.5, 2.5, 0,   5.0 / 3, 5.0 / 3, 5.0 / 3,
                                    0.4, 0.4, 0.2, 1.5, 1.5, 0, 1.5, 1.5, 1.5};
    static const long want[5 * 3] = {3, 2, 0, 1, 2, 2, 1, 0, 0, 1, 2, 0, 1, 1, 2};
    long got[5 * 3];
    confident_round_rows(5, 3, x, got);
    for (int i = 0; i < 15; i++)
        assert_int_equal(got[i], want[i]);
}

static void test_calibrate(void **state) {
    (void)state;
    /* Rows (1, 1, 1) with n = 5, (0, 4, 0) with n = 2, (2, 1, 1) with
     * n = 6: 5/3 each -> (1, 2, 2); (0, 2, 0); 6/4 -> (3, 1.5, 1.5) ->
     * (3, 2, 2) = 7 > 6 -> (3, 1, 2). */
    static const long joint[9] = {1, 1, 1, 0, 4, 0, 2, 1, 1};
    static const long counts[3] = {5, 2, 6};
    static const long want[9] = {1, 2, 2, 0, 2, 0, 3, 1, 2};
    long got[9];
    assert_int_equal(confident_calibrate(3, joint, counts, got), 0);
    assert_matrix(got, want, 3);
}

static void test_prune_counts(void **state) {
    (void)state;
    /* Row a (0, 3, 2): diagonal raised to 1, the raise taken evenly from
     * the 2 non-zero entries: (1, 2.5, 1.5) -> (1, 2, 1). Row b (0, 0, 0),
     * a class nobody has: (0, 1, 0). Row c (4, 0, 3) untouched. */
    static const long cal[9] = {0, 3, 2, 0, 0, 0, 4, 0, 3};
    static const long want1[9] = {1, 2, 1, 0, 1, 0, 4, 0, 3};
    long got[9];
    confident_prune_counts(3, cal, 1, 1.0, got);
    assert_matrix(got, want1, 3);

    /* frac_noise 0.5: c: off-diagonal 4 -> 2, the diagonal gains 2 -> 5;
     * a: (1, 1.25, .75) and the diagonal 1 + 2 -> (3, 1, 0). */
    static const long want2[9] = {3, 1, 0, 0, 1, 0, 2, 0, 5};
    confident_prune_counts(3, cal, 1, 0.5, got);
    assert_matrix(got, want2, 3);

    /* min_per_class 0 leaves a zero diagonal alone. */
    static const long want3[9] = {0, 3, 2, 0, 0, 0, 4, 0, 3};
    confident_prune_counts(3, cal, 0, 1.0, got);
    assert_matrix(got, want3, 3);
}

/* Several classes above threshold, the most probable below its own: the
 * reference takes the argmax over all classes anyway. Thresholds: t_a = .9
 * (row 0), t_b = (.3 + .3) / 2 = .3 (rows 1, 3), t_c = .25 (row 2). Row 3
 * (.45, .30, .25) has candidates {b, c} and y* = a; row 1 (.2, .3, .5) has
 * {b, c} and y* = c. */
static void test_guess_argmax_over_all(void **state) {
    (void)state;
    static const double p[4 * 3] = {0.9, 0.05, 0.05, 0.2, 0.3, 0.5, 0.2, 0.55, 0.25,
                                    0.45, 0.30, 0.25};
    static const int32_t given[4] = {0, 1, 2, 1};
    long counts[3], joint[9];
    double t[3];
    int32_t guess[4];
    confident_label_counts(4, 3, given, counts);
    confident_thresholds(4, 3, p, given, counts, t);
    assert_close(t[0], 0.9, 1e-12);
    assert_close(t[1], 0.3, 1e-12);
    assert_close(t[2], 0.25, 1e-12);
    confident_count(4, 3, p, given, t, guess, joint);
    assert_int_equal(guess[3], 0);
    assert_int_equal(guess[1], 2);      /* {b, c} (b by the slack): argmax c */
    assert_int_equal(joint[1 * 3 + 0], 1);
}

/* A class counts as a candidate within 1e-6 below its threshold: class b's
 * p_b are .6 + 4e-7 and .6 - 4e-7, t_b = .6; sample 2 is 4e-7 short and
 * still guessed b, sample 3 is 2e-6 short and not counted. */
static void test_candidate_slack(void **state) {
    (void)state;
    static const double p[4 * 2] = {0.9, 0.1, 0.4 - 4e-7, 0.6 + 4e-7, 0.4 + 4e-7, 0.6 - 4e-7,
                                    0.4 + 2e-6, 0.6 - 2e-6};
    static const int32_t given[4] = {0, 1, 1, 0};
    long counts[2], joint[4];
    double t[2];
    int32_t guess[4];
    confident_label_counts(4, 2, given, counts);
    confident_thresholds(4, 2, p, given, counts, t);
    assert_close(t[1], 0.6, 1e-12);
    confident_count(4, 2, p, given, t, guess, joint);
    assert_int_equal(guess[2], 1);
    assert_int_equal(guess[3], -1);     /* .4 < t_a = .65 too */
}

/* Flagged samples with equal scores are ranked by index. t_a = (.9 + .2 +
 * .2 + .85) / 4 = .5375, t_b = (.85 + .9) / 2 = .875, t_c = 2 (absent);
 * rows 1 and 2 (.2, .8, 0) reach no threshold (.8 < .875), so nothing is
 * off-diagonal and the estimate is 0, but predicted_neq_given flags both. */
static void test_tied_scores_rank_by_index(void **state) {
    (void)state;
    static const double p[6 * 3] = {
        0.90, 0.05, 0.05,  0.20, 0.80, 0.00,  0.20, 0.80, 0.00,  0.85, 0.10, 0.05,
        0.10, 0.85, 0.05,  0.05, 0.90, 0.05,
    };
    static const int32_t given[6] = {0, 0, 0, 0, 1, 1};
    long counts[3];
    double t[3];
    confident_label_counts(6, 3, given, counts);
    confident_thresholds(6, 3, p, given, counts, t);
    assert_close(t[0], 0.5375, 1e-12);
    assert_close(t[1], 0.875, 1e-12);
    assert_close(t[2], CONFIDENT_THRESHOLD_ABSENT, 0);

    ConfidentResult res;
    ConfidentOptions o = options(CONFIDENT_FILTER_PREDICTED_NEQ_GIVEN,
                                 CONFIDENT_RANK_SELF_CONFIDENCE);
    assert_int_equal(confident_find_issues(6, 3, p, given, &o, &res), 0);
    assert_string_equal(set_of(res.flagged, 6), "1 2");
    assert_string_equal(list_of(res.order, res.n_flagged), "1 2");
    assert_int_equal(res.n_estimated, 0);
    confident_result_free(&res);
}

/* A tie at the cut flags the whole tie. K = 2; given a: 0 (.9, .1),
 * 1 (.8, .2), 2 (.2, .8), 3 (.2, .8), 4 (.1, .9); given b: 5 (.1, .9),
 * 6 (.3, .7). t_a = 2.2 / 5 = .44, t_b = 1.6 / 2 = .8. Guesses: 0 a, 1 a,
 * 2 b, 3 b (.8 by the slack), 4 b, 5 b, 6 none. C = calibrated =
 * (2 3 / 0 2). With frac_noise .5 the count a->b is floor(1.5) = 1 and the
 * diagonal floor(2 + 1.5) = 3; with .67, floor(2.01) = 2 and floor(2.99)
 * = 2. Margins p_b - p_a in a: 4 .8, then 2 and 3 tied at .6.
 *   noise rate, count 1: {4};  count 2: cut in the tie -> {2, 3, 4}.
 *   by class, 5 - 2 = 3 smallest p_a: 4 .1, 2 .2, 3 .2 -> {2, 3, 4};
 *   5 - 3 = 2 smallest: the cut in the tie again -> {2, 3, 4}. */
static void test_tie_at_prune_cut(void **state) {
    (void)state;
    static const double p[7 * 2] = {0.9, 0.1, 0.8, 0.2, 0.2, 0.8, 0.2, 0.8,
                                    0.1, 0.9, 0.1, 0.9, 0.3, 0.7};
    static const int32_t given[7] = {0, 0, 0, 0, 0, 1, 1};
    ConfidentResult res;
    ConfidentOptions o = confident_defaults();
    o.frac_noise = 0.5;
    assert_int_equal(confident_find_issues(7, 2, p, given, &o, &res), 0);
    static const long cal[4] = {2, 3, 0, 2};
    assert_matrix(res.calibrated, cal, 2);
    assert_int_equal(res.prune[1], 1);
    assert_string_equal(set_of(res.flagged, 7), "4");
    confident_result_free(&res);

    o.frac_noise = 0.67;
    assert_int_equal(confident_find_issues(7, 2, p, given, &o, &res), 0);
    assert_int_equal(res.prune[1], 2);
    assert_string_equal(set_of(res.flagged, 7), "2 3 4");
    confident_result_free(&res);

    o.filter = CONFIDENT_FILTER_PRUNE_BY_CLASS;
    assert_int_equal(confident_find_issues(7, 2, p, given, &o, &res), 0);
    assert_int_equal(res.prune[0], 2);
    assert_string_equal(set_of(res.flagged, 7), "2 3 4");
    confident_result_free(&res);
    o.frac_noise = 0.5;
    assert_int_equal(confident_find_issues(7, 2, p, given, &o, &res), 0);
    assert_int_equal(res.prune[0], 3);
    assert_string_equal(set_of(res.flagged, 7), "2 3 4");
    confident_result_free(&res);
}

/* min_per_class keeps classes of at most that size whole. Class a has 6
 * samples guessed (a, b, b, b, b, c): C[a] = calibrated (1, 4, 1). With 5:
 * the diagonal rises to 5, each non-zero off-diagonal loses 4/2 = 2:
 * (5, 2, 0), and the 2 largest p_b - p_a (samples 1, 2) go. With 6 the
 * raise leaves (6, 1, 0), but a class of 6 is left alone. Classes b and
 * c (2 samples each) are left alone in both. */
static void test_min_per_class(void **state) {
    (void)state;
    static const double p[10 * 3] = {
        0.90, 0.05, 0.05,  0.10, 0.80, 0.10,  0.12, 0.78, 0.10,  0.14, 0.76, 0.10,
        0.16, 0.74, 0.10,  0.10, 0.10, 0.80,  0.15, 0.70, 0.15,  0.15, 0.70, 0.15,
        0.10, 0.10, 0.80,  0.10, 0.10, 0.80,
    };
    static const int32_t given[10] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 2};
    ConfidentResult res;
    ConfidentOptions o = confident_defaults();
    o.min_per_class = 5;
    assert_int_equal(confident_find_issues(10, 3, p, given, &o, &res), 0);
    static const long cal_a[3] = {1, 4, 1}, prune5_a[3] = {5, 2, 0}, prune6_a[3] = {6, 1, 0};
    for (int j = 0; j < 3; j++) {
        assert_int_equal(res.calibrated[j], cal_a[j]);
        assert_int_equal(res.prune[j], prune5_a[j]);
    }
    assert_string_equal(set_of(res.flagged, 10), "1 2");
    confident_result_free(&res);

    o.min_per_class = 6;
    assert_int_equal(confident_find_issues(10, 3, p, given, &o, &res), 0);
    for (int j = 0; j < 3; j++)
        assert_int_equal(res.prune[j], prune6_a[j]);
    assert_string_equal(set_of(res.flagged, 10), "");
    confident_result_free(&res);
}

/* Class c has no samples: t_c = 2 (never reached), C[c][c] = 1 before
 * calibration, row c calibrated to 0; predictions of c still show in
 * predicted_neq_given, and nothing crashes. */
static void test_class_without_samples(void **state) {
    (void)state;
    static const double p[4 * 3] = {0.8, 0.1, 0.1, 0.7, 0.2, 0.1, 0.1, 0.8, 0.1,
                                    0.1, 0.1, 0.8};
    static const int32_t given[4] = {0, 0, 1, 1};
    for (int f = 0; f < CONFIDENT_FILTER_COUNT; f++) {
        ConfidentResult res;
        ConfidentOptions o = options((ConfidentFilter)f, CONFIDENT_RANK_NORMALIZED_MARGIN);
        assert_int_equal(confident_find_issues(4, 3, p, given, &o, &res), 0);
        assert_close(res.thresholds[2], CONFIDENT_THRESHOLD_ABSENT, 0);
        assert_int_equal(res.joint[8], 1);
        assert_int_equal(res.calibrated[6] + res.calibrated[7] + res.calibrated[8], 0);
        assert_int_equal(res.prune[8], 1);
        assert_int_equal(res.guess[3], -1);      /* .1 < t_b = .45, .8 < 2 */
        if (f == CONFIDENT_FILTER_PREDICTED_NEQ_GIVEN) {
            assert_string_equal(set_of(res.flagged, 4), "3");
            assert_int_equal(res.suggested[3], 2);
        } else {
            assert_string_equal(set_of(res.flagged, 4), "");
        }
        confident_result_free(&res);
    }
}

/* Clean data, every sample confidently its given label: no filter flags
 * anything and the estimate is 0. */
static void test_clean_data_flags_nothing(void **state) {
    (void)state;
    enum { N = 30, K = 3 };
    double p[N * K];
    int32_t given[N];
    for (int i = 0; i < N; i++) {
        given[i] = i % K;
        for (int j = 0; j < K; j++)
            p[i * K + j] = j == given[i] ? 0.8 + 0.01 * (i % 7) : (0.2 - 0.01 * (i % 7)) / 2;
    }
    for (int f = 0; f < CONFIDENT_FILTER_COUNT; f++) {
        ConfidentResult res;
        ConfidentOptions o = options((ConfidentFilter)f, CONFIDENT_RANK_SELF_CONFIDENCE);
        assert_int_equal(confident_find_issues(N, K, p, given, &o, &res), 0);
        assert_int_equal(res.n_flagged, 0);
        assert_int_equal(res.n_estimated, 0);
        for (int a = 0; a < K; a++)
            for (int j = 0; j < K; j++)
                assert_int_equal(res.calibrated[a * K + j], a == j ? N / K : 0);
        confident_result_free(&res);
    }
}

static void test_given_label_tolerance(void **state) {
    (void)state;
    /* p_given + 1e-6 beats a class ahead by less than 1e-6, and the lower
     * index wins an exact tie. */
    double p[3] = {0.5, 0.5 + 5e-7, 0};
    assert_int_equal(confident_argmax_given(3, p, 0), 0);
    p[1] = 0.5 + 2e-6;
    assert_int_equal(confident_argmax_given(3, p, 0), 1);
    double r[3] = {0.5 + 5e-7, 0.5, 0};
    assert_int_equal(confident_argmax_given(3, r, 1), 1);
    assert_int_equal(confident_argmax_given(3, r, 2), 0);
    double q[3] = {0.4, 0.3, 0.3};
    assert_int_equal(confident_suggest(3, q, 0), 1);
    assert_int_equal(confident_suggest(3, q, 1), 0);
    assert_close(confident_score(3, q, 0, CONFIDENT_RANK_NORMALIZED_MARGIN), 0.55, 1e-12);
    assert_close(confident_score(3, q, 2, CONFIDENT_RANK_NORMALIZED_MARGIN), 0.45, 1e-12);
    assert_close(confident_score(3, q, 2, CONFIDENT_RANK_SELF_CONFIDENCE), 0.3, 1e-12);
}

static void test_detection_edges(void **state) {
    (void)state;
    double p, r, f;
    confident_prf(0, 3, 0, &p, &r, &f);
    assert_true(isnan(p) && isnan(f));
    assert_close(r, 0, 0);
    confident_prf(2, 0, 0, &p, &r, &f);
    assert_true(isnan(r) && isnan(f));
    confident_prf(4, 4, 0, &p, &r, &f);
    assert_close(f, 0, 0);

    /* A changed and a clean sample tied on score: AUROC 1/2 from the tie. */
    static const double q[2 * 2] = {0.3, 0.7, 0.3, 0.7};
    static const int32_t given[2] = {0, 0}, truth[2] = {1, 0};
    ConfidentResult res;
    ConfidentDetection d;
    ConfidentOptions o = confident_defaults();
    assert_int_equal(confident_find_issues(2, 2, q, given, &o, &res), 0);
    assert_int_equal(confident_detection(&res, given, truth, &d), 0);
    assert_close(d.auroc, 0.5, 1e-12);
    assert_close(d.average_precision, 0.5, 1e-12);
    confident_detection_free(&d);

    /* Nothing changed: recall, AUROC and AP are undefined. */
    assert_int_equal(confident_detection(&res, given, given, &d), 0);
    assert_true(isnan(d.recall) && isnan(d.auroc) && isnan(d.average_precision));
    confident_detection_free(&d);
    confident_result_free(&res);
}

static void test_bad_arguments_and_names(void **state) {
    (void)state;
    ConfidentResult res;
    ConfidentOptions o = confident_defaults();
    assert_int_equal(confident_find_issues(0, 3, EX_P, EX_GIVEN, &o, &res), ERR_INVALID);
    assert_int_equal(confident_find_issues(EX_N, 1, EX_P, EX_GIVEN, &o, &res), ERR_INVALID);
    o.frac_noise = 0;
    assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), ERR_INVALID);
    o = confident_defaults();
    o.filter = CONFIDENT_FILTER_COUNT;
    assert_int_equal(confident_find_issues(EX_N, EX_K, EX_P, EX_GIVEN, &o, &res), ERR_INVALID);

    for (int f = 0; f < CONFIDENT_FILTER_COUNT; f++)
        assert_int_equal(confident_filter_parse(confident_filter_name((ConfidentFilter)f)), f);
    for (int r = 0; r < CONFIDENT_RANK_COUNT; r++)
        assert_int_equal(confident_rank_parse(confident_rank_name((ConfidentRank)r)), r);
    assert_int_equal(confident_filter_parse("prune_by_noise"), -1);
    assert_int_equal(confident_rank_parse("confidence_weighted_entropy"), -1);
}

/* ---- the PROBS reader ------------------------------------------------------------ */

static const char PROBS_A[] =
    "path,given,truth,a,b,\"c,d\"\n"
    "x/2,a,b,0.1,0.8,0.1\n"
    "x/1,b,,0.25,0.75,0\n";
static const char PROBS_B[] =
    "path,given,truth,a,b,\"c,d\"\n"
    "\"x/0,q\",\"c,d\",a,1,0,0\n";

static int parse_str(ProbsTable *t, const char *name, const char *s) {
    return probs_parse(t, name, s, strlen(s));
}

static void test_probs_read_two_files(void **state) {
    (void)state;
    ProbsTable t;
    probs_init(&t);
    assert_int_equal(parse_str(&t, "f0.csv", PROBS_A), 0);
    assert_int_equal(parse_str(&t, "f1.csv", PROBS_B), 0);
    assert_int_equal(t.n_rows, 3);
    assert_int_equal(t.n_classes, 3);
    assert_string_equal(t.class_names[2], "c,d");
    assert_int_equal(t.n_truth, 2);
    assert_int_equal(t.truth[1], PROBS_NO_TRUTH);

    /* sorted by path: "x/0,q" < "x/1" < "x/2"; lines and files follow */
    assert_int_equal(probs_sort_by_path(&t), 0);
    assert_string_equal(t.paths[0], "x/0,q");
    assert_int_equal(t.given[0], 2);
    assert_int_equal(t.row_file[0], 1);
    assert_string_equal(t.paths[2], "x/2");
    assert_int_equal(t.row_line[2], 2);
    assert_close(t.probs[2 * 3 + 1], 0.8, 0);
    assert_close(t.probs[1 * 3 + 0], 0.25, 0);

    /* written out and read back: the same table */
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_int_equal(probs_write(&t, fp), 0);
    fclose(fp);
    assert_contains(buf, "\"x/0,q\",\"c,d\",a,1,0,0\n");
    assert_contains(buf, "x/1,b,,0.25,0.75,0\n");
    ProbsTable back;
    probs_init(&back);
    assert_int_equal(probs_parse(&back, "w.csv", buf, len), 0);
    assert_int_equal(back.n_rows, 3);
    for (int i = 0; i < 9; i++)
        assert_true(back.probs[i] == t.probs[i]);
    free(buf);
    probs_free(&back);
    probs_free(&t);
}

/* Each bad input fails with a message naming file:line[:column]. */
static void test_probs_errors(void **state) {
    (void)state;
    static const struct {
        const char *second;     /* NULL: a file on its own; else after PROBS_A */
        const char *want;
    } cases[] = {
        {"", "e.csv: empty file"},
        {"path,given,truth,a,b,\"c,d\"\n", "e.csv:2: no data rows"},
        {"path,given,truth,a\nx,a,,1\n", "e.csv:1: 1 class column; a PROBS file"},
        {"path,label,truth,a,b\n", "e.csv:1:6: column 2 is \"label\", expected \"given\""},
        {"path,given\n", "e.csv:1: missing column \"truth\""},
        {"path,given,truth,a,b,a\n", "e.csv:1:22: class \"a\" named twice (columns 4 and 6)"},
        {"path,given,truth,a,,c\n", "e.csv:1:20: class column 1 has an empty name"},
        {"path,given,truth,a,b,c\nx/3,a,,1,0,0\n",
         "e.csv:1:22: class 2 is \"c\", but in f0.csv it is \"c,d\""},
        {"path,given,truth,a,b\nx/3,a,,1,0\n", "e.csv:1: 2 class columns, but f0.csv has 3"},
        {"path,given,truth,a,b,\"c,d\"\nx/1,a,,1,0,0\n",
         "e.csv:2:1: path \"x/1\" already on f0.csv:3"},
        {"path,given,truth,a,b,\"c,d\"\nx/3,z,,1,0,0\n",
         "e.csv:2:5: given: \"z\" is not one of the 3 classes"},
        {"path,given,truth,a,b,\"c,d\"\nx/3,,,1,0,0\n", "(given may not be empty)"},
        {"path,given,truth,a,b,\"c,d\"\nx/3,a,c,1,0,0\n",
         "e.csv:2:7: truth: \"c\" is not one of the 3 classes"},
        {"path,given,truth,a,b,\"c,d\"\nx/3,a,,0.5,0.4,0.05\n",
         "e.csv:2: probabilities sum to 0.95, expected 1 (within 0.001)"},
        {"path,given,truth,a,b,\"c,d\"\nx/3,a,,0.5,nan,0.5\n",
         "e.csv:2:12: probability of class b: expected a number in [0,1], got \"nan\""},
        {"path,given,truth,a,b,\"c,d\"\nx/3,a,,1.5,-0.5,0\n", "got \"1.5\""},
        {"path,given,truth,a,b,\"c,d\"\nx/3,a,, 1,0,0\n", "got \" 1\""},
        {"path,given,truth,a,b,\"c,d\"\nx/3,a,,0x1p0,0,0\n", "got \"0x1p0\""},
        {"path,given,truth,a,b,\"c,d\"\nx/3,a,,1,0\n", "e.csv:2: 5 fields, expected 6"},
        {"path,given,truth,a,b,\"c,d\"\n\n", "e.csv:2: empty line"},
        {"path,given,truth,a,b,\"c,d\"\n,a,,1,0,0\n", "e.csv:2:1: path: empty"},
        {"path,given,truth,a,b,\"c,d\"\r\nx,a,,1,0,0\r\n", "e.csv:1:"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ProbsTable t;
        probs_init(&t);
        int first_ok = 1;
        if (strstr(cases[c].want, "f0.csv"))
            first_ok = parse_str(&t, "f0.csv", PROBS_A) == 0;
        assert_true(first_ok);
        int rc = parse_str(&t, "e.csv", cases[c].second);
        if (rc != ERR_PARSE)
            print_error("case %zu: rc %d\n", c, rc);
        assert_int_equal(rc, ERR_PARSE);
        assert_contains(err_msg(), cases[c].want);
        probs_free(&t);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_steps),
        cmocka_unit_test(test_worked_filters),
        cmocka_unit_test(test_worked_rankings),
        cmocka_unit_test(test_worked_detection),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_round_rows),
        cmocka_unit_test(test_calibrate),
        cmocka_unit_test(test_prune_counts),
        cmocka_unit_test(test_guess_argmax_over_all),
        cmocka_unit_test(test_candidate_slack),
        cmocka_unit_test(test_tied_scores_rank_by_index),
        cmocka_unit_test(test_tie_at_prune_cut),
        cmocka_unit_test(test_min_per_class),
        cmocka_unit_test(test_class_without_samples),
        cmocka_unit_test(test_clean_data_flags_nothing),
        cmocka_unit_test(test_given_label_tolerance),
        cmocka_unit_test(test_detection_edges),
        cmocka_unit_test(test_bad_arguments_and_names),
        cmocka_unit_test(test_probs_read_two_files),
        cmocka_unit_test(test_probs_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
