/* Losses and metrics: the reference values of spec §4.1, gradient checks by
 * central differences, per-sample weights, numerical stability, golden
 * values from PyTorch (tools/make_loss_golden.py), argument errors; and
 * accuracy / top-k counts with ties and NaNs. */
#include "test_util.h"

#include "golden.h"

#include "train/loss.h"
#include "train/metrics.h"
#include "util/err.h"
#include "util/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Relative plus absolute tolerance, printing where it fails. */
#define assert_close(got, want, abs_tol, rel_tol) \
    check_close((got), (want), (abs_tol), (rel_tol), #got, __FILE__, __LINE__)
static void check_close(double got, double want, double abs_tol, double rel_tol,
                        const char *what, const char *file, int line) {
    if (!(fabs(got - want) <= abs_tol + rel_tol * fabs(want))) {
        print_error("%s:%d: %s: expected %.9g, got %.9g (diff %.3g)\n", file, line, what, want,
                    got, fabs(got - want));
        _fail(file, line);
    }
}

static void test_uniform_logits_give_ln_k(void **state) {
    (void)state;
    float logits[3 * 10], losses[3], dz[3 * 10];
    int targets[3] = {0, 4, 9};
    for (int i = 0; i < 30; i++)
        logits[i] = 1.5f;
    LossBatch b = {.n = 3, .k = 10, .logits = logits, .targets = targets};

    /* Both losses are ln K = 2.302585 on a uniform prediction (spec §4.1). */
    double mean;
    assert_int_equal(loss_cross_entropy(&b, losses, dz, &mean), 0);
    assert_close(mean, 2.302585, 1e-6, 0);
    assert_close(losses[1], log(10.0), 1e-6, 0);
    assert_int_equal(loss_label_smoothing(&b, 0.1f, losses, dz, &mean), 0);
    assert_close(mean, 2.302585, 1e-6, 0);

    /* Gradient (p - q)/N: (0.1 - 0.01 - 0.9)/3 on the target, (0.1 - 0.01)/3 elsewhere. */
    assert_close(dz[0], (0.1 - 0.01 - 0.9) / 3, 1e-7, 0);
    assert_close(dz[1], (0.1 - 0.01) / 3, 1e-7, 0);
}

/* At p = 0.91 on the target and 0.01 elsewhere the smoothed loss reaches
 * its minimum 0.500288, and p equals the soft target, so dz = 0. */
static void test_label_smoothing_minimum(void **state) {
    (void)state;
    float logits[10], dz[10];
    int target = 2;
    for (int j = 0; j < 10; j++)
        logits[j] = (float)log(j == target ? 0.91 : 0.01);
    LossBatch b = {.n = 1, .k = 10, .logits = logits, .targets = &target};
    double mean;
    assert_int_equal(loss_label_smoothing(&b, LOSS_LS_EPS_DEFAULT, NULL, dz, &mean), 0);
    assert_close(mean, 0.500288, 1e-6, 0);
    for (int j = 0; j < 10; j++)
        assert_close(dz[j], 0.0, 1e-7, 0);

    /* Moving the prediction either way raises the loss. */
    double moved;
    logits[target] += 0.01f;
    assert_int_equal(loss_label_smoothing(&b, 0.1f, NULL, NULL, &moved), 0);
    assert_true(moved > mean);
    logits[target] -= 0.02f;
    assert_int_equal(loss_label_smoothing(&b, 0.1f, NULL, NULL, &moved), 0);
    assert_true(moved > mean);
}

/* Logits on a 1/64 grid and a step of 1/1024 keep z +- h exact in float,
 * so the central differences are taken on the double-precision mean. */
static void gradient_check(float eps, const float *weights) {
    enum { N = 4, K = 7 };
    float logits[N * K], dz[N * K];
    int targets[N] = {3, 0, 6, 3};
    uint32_t state = 12345;
    for (int i = 0; i < N * K; i++) {
        state = 1664525u * state + 1013904223u;
        logits[i] = (float)((int)(state >> 24) - 128) / 64.0f;
    }
    LossBatch b = {.n = N, .k = K, .logits = logits, .targets = targets, .weights = weights};
    double mean;
    assert_int_equal(loss_label_smoothing(&b, eps, NULL, dz, &mean), 0);

    const float h = 1.0f / 1024;
    double worst = 0.0;
    for (int i = 0; i < N * K; i++) {
        double up, down;
        float z = logits[i];
        logits[i] = z + h;
        assert_int_equal(loss_label_smoothing(&b, eps, NULL, NULL, &up), 0);
        logits[i] = z - h;
        assert_int_equal(loss_label_smoothing(&b, eps, NULL, NULL, &down), 0);
        logits[i] = z;
        double numeric = (up - down) / (2.0 * h);
        worst = fmax(worst, fabs(numeric - dz[i]));
        /* Truncation error h^2/6 |f'''| is below 1e-7; dz is a float. */
        assert_close(dz[i], numeric, 2e-7, 1e-5);
    }
    print_message("gradient check eps %.2f%s: max |analytic - numeric| %.3g\n", eps,
                  weights ? " weighted" : "", worst);
}

static void test_gradient_check(void **state) {
    (void)state;
    const float weights[4] = {0.5f, 2.0f, 0.0f, 1.25f};
    gradient_check(0.0f, NULL);
    gradient_check(0.1f, NULL);
    gradient_check(0.1f, weights);
    gradient_check(0.3f, weights);
}

/* mean = (1/N) sum w_i loss_i; per-sample losses stay unweighted; each
 * gradient row scales by w_i, so w_i = 0 drops the sample. */
static void test_per_sample_weights(void **state) {
    (void)state;
    float logits[3 * 4] = {1, 2, 3, 4, -1, 0.5f, 0, 2, 3, 3, -2, 1};
    int targets[3] = {3, 0, 2};
    float weights[3] = {2.0f, 0.0f, 0.5f};
    float plain_losses[3], plain_dz[12], w_losses[3], w_dz[12];
    LossBatch b = {.n = 3, .k = 4, .logits = logits, .targets = targets};
    double plain, weighted;
    assert_int_equal(loss_label_smoothing(&b, 0.1f, plain_losses, plain_dz, &plain), 0);
    b.weights = weights;
    assert_int_equal(loss_label_smoothing(&b, 0.1f, w_losses, w_dz, &weighted), 0);

    double want = (2.0 * plain_losses[0] + 0.5 * plain_losses[2]) / 3.0;
    assert_close(weighted, want, 1e-6, 1e-6);
    for (int i = 0; i < 3; i++) {
        assert_close(w_losses[i], plain_losses[i], 0, 0);
        for (int j = 0; j < 4; j++)
            assert_close(w_dz[i * 4 + j], weights[i] * plain_dz[i * 4 + j], 1e-7, 1e-6);
    }

    /* All ones is the same as no weights. */
    float ones[3] = {1, 1, 1};
    b.weights = ones;
    assert_int_equal(loss_label_smoothing(&b, 0.1f, NULL, NULL, &weighted), 0);
    assert_close(weighted, plain, 0, 0);
}

/* Logits far apart: the log-sum-exp keeps everything finite and exact. */
static void test_large_logits_stay_finite(void **state) {
    (void)state;
    float logits[2 * 3] = {1e4f, -1e4f, 0, 100, 100, 100};
    int targets[2] = {1, 0};
    float losses[2], dz[6];
    LossBatch b = {.n = 2, .k = 3, .logits = logits, .targets = targets};
    double mean;
    assert_int_equal(loss_cross_entropy(&b, losses, dz, &mean), 0);
    assert_close(losses[0], 2e4, 0, 1e-7);          /* -log p_y = z_max - z_y */
    assert_close(losses[1], log(3.0), 1e-6, 0);
    assert_close(dz[0], 0.5, 1e-7, 0);              /* p = (1, 0, 0), y = 1, N = 2 */
    assert_close(dz[1], -0.5, 1e-7, 0);
    assert_int_equal(loss_label_smoothing(&b, 0.1f, losses, dz, &mean), 0);
    assert_true(isfinite(mean));
    assert_close(losses[0], 0.9 * 2e4 + 0.1 / 3 * (0 + 2e4 + 1e4), 0, 1e-6);
}

static void test_loss_errors(void **state) {
    (void)state;
    float logits[4] = {0, 1, 2, 3}, losses[2] = {7, 7};
    int targets[2] = {0, 2};
    LossBatch b = {.n = 2, .k = 2, .logits = logits, .targets = targets};
    double mean = 7;

    assert_int_equal(loss_cross_entropy(&b, losses, NULL, &mean), ERR_INVALID);
    assert_contains(err_msg(), "sample 1: target 2 is not a class in [0, 2)");
    assert_true(losses[0] == 7 && mean == 7);       /* nothing written */
    targets[1] = -1;
    assert_int_equal(loss_label_smoothing(&b, 0.1f, NULL, NULL, &mean), ERR_INVALID);
    targets[1] = 1;
    assert_int_equal(loss_label_smoothing(&b, 1.5f, NULL, NULL, &mean), ERR_INVALID);
    assert_contains(err_msg(), "eps 1.5 is not in [0, 1]");
    b.n = 0;
    assert_int_equal(loss_cross_entropy(&b, NULL, NULL, &mean), ERR_INVALID);
}

static void test_dispatch_and_names(void **state) {
    (void)state;
    float logits[3] = {0.5f, -1, 2};
    int target = 0;
    LossBatch b = {.n = 1, .k = 3, .logits = logits, .targets = &target};
    double direct, via;
    LossConfig cfg = {.kind = LOSS_LABEL_SMOOTHING, .eps = 0.2f};
    assert_int_equal(loss_label_smoothing(&b, 0.2f, NULL, NULL, &direct), 0);
    assert_int_equal(loss_compute(&cfg, &b, NULL, NULL, &via), 0);
    assert_close(via, direct, 0, 0);
    cfg.kind = LOSS_CROSS_ENTROPY;
    assert_int_equal(loss_compute(&cfg, &b, NULL, NULL, &via), 0);
    assert_close(via, -log(exp(0.5) / (exp(0.5) + exp(-1.0) + exp(2.0))), 1e-12, 0);

    LossKind kind;
    assert_int_equal(loss_parse("label_smoothing", &kind), 0);
    assert_int_equal(kind, LOSS_LABEL_SMOOTHING);
    assert_string_equal(loss_name(LOSS_CROSS_ENTROPY), "cross_entropy");
    assert_int_equal(loss_parse("focal", &kind), ERR_USAGE);
    assert_contains(err_msg(), "unknown loss \"focal\"");
}

/* ---- Golden values from PyTorch ---- */

/* One "case NAME LOSS EPS N K WEIGHTED FILE" line: the C loss on the same
 * logits against torch's float64 results. */
static int golden_case(const char *dir, const char *line) {
    char name[64], kind[8], file[128];
    double eps;
    int n, k, weighted;
    if (sscanf(line, "case %63s %7s %lf %d %d %d %127s", name, kind, &eps, &n, &k, &weighted,
               file) != 7)
        fail_msg("loss cases.txt: bad line: %s", line);

    /* The fixture, then the C loss on its inputs, every output compared. */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    GoldenLoss g;
    golden_loss_load(&g, path, n, k, weighted);
    float *losses = malloc((size_t)n * sizeof *losses);
    float *dz = malloc((size_t)n * (size_t)k * sizeof *dz);
    LossBatch b = {.n = n, .k = k, .logits = g.logits, .targets = g.targets,
                   .weights = g.weights};
    double mean;
    int rc = strcmp(kind, "ce") == 0 ? loss_cross_entropy(&b, losses, dz, &mean)
                                     : loss_label_smoothing(&b, (float)eps, losses, dz, &mean);
    assert_int_equal(rc, 0);
    int ok = golden_loss_check(name, &g, losses, dz, mean);
    free(losses), free(dz);
    golden_loss_free(&g);
    return ok;
}

static void test_golden_torch(void **state) {
    (void)state;
    const char *dir = NOISETTE_GOLDEN "/loss";
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("%s: cannot open (make it with tools/make_loss_golden.py)", path);
    int n_cases = 0, n_passed = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "case ", 5) == 0) {
            n_cases++;
            n_passed += golden_case(dir, line);
        }
    }
    fclose(fp);
    assert_int_equal(n_passed, n_cases);
    assert_int_equal(n_cases, 7);
}

/* ---- Metrics ---- */

static void test_accuracy_and_ties(void **state) {
    (void)state;
    float logits[4 * 3] = {
        0.1f, 0.9f, 0.3f,   /* argmax 1 */
        2.0f, 2.0f, 1.0f,   /* tie 0/1: goes to 0 */
        1.0f, 3.0f, 3.0f,   /* tie 1/2: goes to 1 */
        -1.0f, -2.0f, -0.5f /* argmax 2 */
    };
    int targets[4] = {1, 1, 1, 0};
    assert_int_equal(metrics_count_correct(logits, targets, 4, 3), 2);
    targets[1] = 0, targets[2] = 2, targets[3] = 2;
    assert_int_equal(metrics_count_correct(logits, targets, 4, 3), 3);
    assert_int_equal(metrics_count_correct(logits, targets, 0, 3), 0);
}

static void test_topk(void **state) {
    (void)state;
    /* Scores 0..9 reversed: class j has rank j. */
    float logits[10];
    for (int j = 0; j < 10; j++)
        logits[j] = (float)(10 - j);
    for (int y = 0; y < 10; y++)
        for (int top = 1; top <= 10; top++)
            assert_int_equal(metrics_count_topk(logits, &y, 1, 10, top), y < top);
    assert_int_equal(metrics_count_topk(logits, (int[]){9}, 1, 10, 12), 1);

    /* Ties rank by index: with classes 2..6 equal, class 4 is third among them. */
    float tied[8] = {9, 8, 5, 5, 5, 5, 5, 1};
    int y = 4;
    assert_int_equal(metrics_count_topk(tied, &y, 1, 8, 4), 0);
    assert_int_equal(metrics_count_topk(tied, &y, 1, 8, 5), 1);
}

static void test_metrics_nan_and_errors(void **state) {
    (void)state;
    float logits[3] = {NAN, 1.0f, 0.5f};
    int y = 1;
    assert_int_equal(metrics_count_correct(logits, &y, 1, 3), 1);   /* NaN never wins */
    y = 0;
    assert_int_equal(metrics_count_topk(logits, &y, 1, 3, 3), 0);   /* NaN target is wrong */
    y = 3;
    assert_int_equal(metrics_count_correct(logits, &y, 1, 3), ERR_INVALID);
    assert_contains(err_msg(), "target 3 is not a class in [0, 3)");
    y = 0;
    assert_int_equal(metrics_count_topk(logits, &y, 1, 3, 0), ERR_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_logits_give_ln_k),
        cmocka_unit_test(test_label_smoothing_minimum),
        cmocka_unit_test(test_gradient_check),
        cmocka_unit_test(test_per_sample_weights),
        cmocka_unit_test(test_large_logits_stay_finite),
        cmocka_unit_test(test_loss_errors),
        cmocka_unit_test(test_dispatch_and_names),
        cmocka_unit_test(test_golden_torch),
        cmocka_unit_test(test_accuracy_and_ties),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_metrics_nan_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
