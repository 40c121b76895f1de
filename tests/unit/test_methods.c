/* MixUp, SAM/ASAM, ELR and co-teaching (train/methods.h): the spec's
 * worked values (robust-methods.md §10.5 quadratic, §14 ELR rows and ELR
 * target steps), a finite-difference check of the ELR gradient, the
 * samplers' moments, and the forget-rate schedule and small-loss choice. */
#include "test_util.h"

#include "train/loss.h"
#include "train/methods.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define assert_near(got, want, tol) \
    check_near((got), (want), (tol), #got, __FILE__, __LINE__)
static void check_near(double got, double want, double tol, const char *what,
                       const char *file, int line) {
    if (!(fabs(got - want) <= tol)) {
        print_error("%s:%d: %s: expected %.9g, got %.9g\n", file, line, what, want, got);
        _fail(file, line);
    }
}

/* ---- samplers ---------------------------------------------------------------- */

static void test_gamma_and_beta_moments(void **state) {
    (void)state;
    Rng r;
    rng_seed(&r, 7);
    const double shapes[3] = {0.4, 1.0, 3.0};
    for (int s = 0; s < 3; s++) {
        double sum = 0, n = 200000;
        for (int i = 0; i < n; i++)
            sum += rng_gamma(&r, shapes[s]);
        assert_near(sum / n, shapes[s], 0.02 * shapes[s] + 0.005);   /* E = shape */
    }
    /* Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)). */
    double sum = 0, sq = 0, n = 200000, a = 0.4;
    for (int i = 0; i < n; i++) {
        double b = rng_beta(&r, a, a);
        assert_true(b >= 0 && b <= 1);
        sum += b;
        sq += b * b;
    }
    double mean = sum / n;
    assert_near(mean, 0.5, 0.005);
    assert_near(sq / n - mean * mean, 1.0 / (4 * (2 * a + 1)), 0.003);
}

static void test_mixup_batch(void **state) {
    (void)state;
    enum { N = 6, S = 4 };
    float x[N * S], out[N * S], lam[N], out2[N * S], lam2[N];
    int32_t partner[N], partner2[N];
    for (int i = 0; i < N * S; i++)
        x[i] = (float)(i * 0.37 - 3);
    Rng r, r2;
    rng_seed(&r, 11);
    rng_seed(&r2, 11);
    mixup_batch(&r, 0.4f, x, N, S, lam, partner, out);
    mixup_batch(&r2, 0.4f, x, N, S, lam2, partner2, out2);

    /* Same seed, same batch; the partner map is a permutation; the original
     * sample dominates; each output is the stated mix. */
    assert_memory_equal(out, out2, sizeof out);
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        assert_true(partner[i] >= 0 && partner[i] < N);
        seen[partner[i]]++;
        assert_true(lam[i] >= 0.5f && lam[i] <= 1.0f);
        for (int p = 0; p < S; p++)
            assert_near(out[i * S + p],
                        lam[i] * x[i * S + p] + (1 - lam[i]) * x[partner[i] * S + p], 1e-5);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
}

/* ---- SAM ----------------------------------------------------------------------- */

/* One Param w of 2 values with gradient H w, H = diag(1, 4). */
static Param *quadratic(ParamList *pl, float w0, float w1, int no_decay) {
    int shape[1] = {2};
    Param *p = param_add(pl, "w", 1, no_decay, 1, shape);
    assert_non_null(p);
    p->data[0] = w0, p->data[1] = w1;
    p->grad[0] = w0, p->grad[1] = 4 * w1;
    return p;
}

static void test_sam_on_a_quadratic(void **state) {
    (void)state;
    ParamList pl = {0};
    Param *w = quadratic(&pl, 1, 1, 0);
    float saved[2];
    assert_int_equal(sam_saved_floats(&pl), 2);

    /* g = (1, 4), ||g|| = sqrt 17, eps = 0.1 g / ||g|| = (0.024254, 0.097014). */
    double norm = sam_perturb(&pl, 0.1, 0, 0.0, saved);
    assert_near(norm, sqrt(17.0), 1e-6);
    assert_near(w->data[0], 1.024254, 1e-6);
    assert_near(w->data[1], 1.097014, 1e-6);
    /* The second pass's gradient, H (w + eps) = (1.024254, 4.388057). */
    assert_near(w->data[0], 1.024254, 1e-6);
    assert_near(4 * w->data[1], 4.388057, 1e-5);
    sam_restore(&pl, saved);
    assert_true(w->data[0] == 1.0f && w->data[1] == 1.0f);
    param_list_free(&pl);
}

static void test_asam_on_a_quadratic(void **state) {
    (void)state;
    ParamList pl = {0};
    Param *w = quadratic(&pl, 2, 1, 0);
    float saved[2];

    /* g = (2, 4), |w| g = (4, 4), norm 5.656854; eps = 0.1 (w^2 g) / norm
     * = 0.1 (8, 4) / 5.656854 = (0.141421, 0.070711). */
    double norm = sam_perturb(&pl, 0.1, 1, 0.0, saved);
    assert_near(norm, 5.656854, 1e-6);
    assert_near(w->data[0] - 2.0, 0.141421, 1e-6);
    assert_near(w->data[1] - 1.0, 0.070711, 1e-6);
    sam_restore(&pl, saved);
    assert_true(w->data[0] == 2.0f && w->data[1] == 1.0f);
    param_list_free(&pl);

    /* At w = 1 ASAM is SAM. */
    ParamList p2 = {0};
    w = quadratic(&p2, 1, 1, 0);
    sam_perturb(&p2, 0.1, 1, 0.0, saved);
    assert_near(w->data[1], 1.097014, 1e-6);
    param_list_free(&p2);
}

static void test_sam_weight_decay_only_where_it_applies(void **state) {
    (void)state;
    ParamList pl = {0};
    Param *a = quadratic(&pl, 1, 1, 0);
    int shape[1] = {1};
    Param *b = param_add(&pl, "bias", 1, 1, 1, shape);
    b->data[0] = 5, b->grad[0] = 0;
    float saved[3];

    /* wd 1: a's g becomes (2, 5); b's stays 0 (no decay), so b does not move. */
    double norm = sam_perturb(&pl, 1.0, 0, 1.0, saved);
    assert_near(norm, sqrt(29.0), 1e-6);
    assert_near(a->data[0], 1 + 2 / sqrt(29.0), 1e-6);
    assert_true(b->data[0] == 5.0f);
    sam_restore(&pl, saved);
    assert_true(a->data[0] == 1.0f && a->data[1] == 1.0f);
    param_list_free(&pl);
}

static void test_buffers_save_restore(void **state) {
    (void)state;
    ParamList bl = {0};
    int s1[1] = {3}, s2[2] = {2, 2};
    Param *x = param_add(&bl, "bn.running_mean", 0, 0, 1, s1);
    Param *y = param_add(&bl, "bn.running_var", 0, 0, 2, s2);
    for (int i = 0; i < 3; i++)
        x->data[i] = (float)i;
    for (int i = 0; i < 4; i++)
        y->data[i] = (float)(10 + i);
    assert_int_equal(buffers_floats(&bl), 7);
    float saved[7];
    buffers_save(&bl, saved);
    x->data[1] = -1, y->data[3] = -1;
    buffers_restore(&bl, saved);
    assert_true(x->data[1] == 1.0f && y->data[3] == 13.0f);
    param_list_free(&bl);
}

/* ---- ELR --------------------------------------------------------------------------- */

static const float Z[5] = {1.0f, -0.5f, 2.0f, 0.3f, -1.2f};
static const float T_ROW[5] = {0.1f, 0.1f, 0.6f, 0.1f, 0.1f};

/* CE + ELR (lambda 3) at the spec's logits: §14's rows for y = 2 and 4. */
static void test_elr_worked_values(void **state) {
    (void)state;
    const int ys[2] = {2, 4};
    const double want_l[2] = {-1.011575, 2.188425};
    const double want_g[2][5] = {{0.547606, 0.122187, -1.002403, 0.271933, 0.060676},
                                 {0.547606, 0.122187, -0.002403, 0.271933, -0.939324}};
    int32_t item = 0;
    for (int c = 0; c < 2; c++) {
        float dz[5];
        double mean;
        LossBatch b = {1, 5, Z, &ys[c], NULL};
        assert_int_equal(loss_cross_entropy(&b, NULL, dz, &mean), 0);
        elr_regularise(T_ROW, 5, Z, &item, 1, 3.0f, dz, &mean);
        assert_near(mean, want_l[c], 1e-6);
        for (int j = 0; j < 5; j++)
            assert_near(dz[j], want_g[c][j], 1e-6);
    }
}

/* The regulariser's gradient against central differences of its value,
 * over a batch of 3 with different targets, one probability clamped. */
static void test_elr_gradient_check(void **state) {
    (void)state;
    enum { N = 3, K = 4 };
    float z[N * K] = {0.3f, -1.0f, 2.0f, 0.5f, 1.0f, 1.0f, -0.2f, 0.0f,
                      12.0f, -1.0f, 0.0f, 0.4f};   /* row 2: p_1 clamps at 1e-4 */
    float t[N * K] = {0.2f, 0.1f, 0.5f, 0.1f, 0.25f, 0.25f, 0.25f, 0.2f,
                      0.5f, 0.3f, 0.1f, 0.05f};
    int32_t items[N] = {2, 0, 1};
    float dz[N * K] = {0};
    double base = 0;
    elr_regularise(t, K, z, items, N, 2.0f, dz, &base);
    for (int i = 0; i < N * K; i++) {
        const float h = 1e-2f;
        float keep = z[i];
        double up = 0, down = 0;
        z[i] = keep + h;
        elr_regularise(t, K, z, items, N, 2.0f, NULL, &up);
        z[i] = keep - h;
        elr_regularise(t, K, z, items, N, 2.0f, NULL, &down);
        z[i] = keep;
        assert_near(dz[i], (up - down) / (2.0 * h), 2e-4);
    }
}

/* T_i = (1 - 0.7^n) p^ after n visits with the same prediction (§14). */
static void test_elr_target_steps(void **state) {
    (void)state;
    float t[2 * 5] = {0};
    int32_t item = 1;
    double p[5], sum = 0, mx = 2.0;
    for (int j = 0; j < 5; j++)
        sum += p[j] = exp(Z[j] - mx);
    const double after[3] = {0.3, 0.51, 0.657};
    for (int visit = 0; visit < 3; visit++) {
        elr_update(t, 5, Z, &item, 1, 0.7f);
        for (int j = 0; j < 5; j++) {
            assert_near(t[5 + j], after[visit] * p[j] / sum, 1e-6);
            assert_true(t[j] == 0.0f);     /* other rows untouched */
        }
    }
}

/* ---- co-teaching -------------------------------------------------------------------- */

static void test_forget_rate_schedule(void **state) {
    (void)state;
    assert_near(coteach_forget_rate(0, 0.5, 10, 1), 0.0, 1e-12);
    assert_near(coteach_forget_rate(4, 0.5, 10, 1), 0.5 * 4 / 9, 1e-12);
    assert_near(coteach_forget_rate(9, 0.5, 10, 1), 0.5, 1e-12);
    assert_near(coteach_forget_rate(40, 0.5, 10, 1), 0.5, 1e-12);
    /* The exponent applies to the end point, not the time axis. */
    assert_near(coteach_forget_rate(9, 0.5, 10, 2), 0.25, 1e-12);
    assert_near(coteach_forget_rate(10, 0.5, 10, 2), 0.5, 1e-12);
}

static void test_small_loss_selection(void **state) {
    (void)state;
    float losses[5] = {0.5f, 0.1f, 0.9f, 0.1f, 0.3f}, w[5];
    int order[5];

    /* Rate 0.5 keeps floor(2.5) = 2: the two 0.1s, weighted 5/2. */
    assert_int_equal(coteach_select(losses, 5, 0.5, order, w), 2);
    const float want[5] = {0, 2.5f, 0, 2.5f, 0};
    assert_memory_equal(w, want, sizeof w);

    /* Rate 0 keeps all at weight 1; a rate near 1 still keeps one. */
    assert_int_equal(coteach_select(losses, 5, 0.0, order, w), 5);
    for (int i = 0; i < 5; i++)
        assert_true(w[i] == 1.0f);
    assert_int_equal(coteach_select(losses, 5, 0.99, order, w), 1);
    assert_true(w[1] == 5.0f && w[3] == 0.0f);

    /* The weighted CE mean is the mean over the kept samples. */
    float z[5 * 2] = {1, 0, 0, 1, 2, -1, 0.5f, 0.5f, -1, 1};
    int y[5] = {0, 1, 1, 0, 1};
    float l[5];
    double all, kept;
    LossBatch b = {5, 2, z, y, NULL};
    loss_cross_entropy(&b, l, NULL, &all);
    coteach_select(l, 5, 0.4, order, w);    /* keeps 3 */
    b.weights = w;
    loss_cross_entropy(&b, NULL, NULL, &kept);
    double want_mean = (l[order[0]] + l[order[1]] + l[order[2]]) / 3.0;
    assert_near(kept, want_mean, 1e-6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gamma_and_beta_moments),
        cmocka_unit_test(test_mixup_batch),
        cmocka_unit_test(test_sam_on_a_quadratic),
        cmocka_unit_test(test_asam_on_a_quadratic),
        cmocka_unit_test(test_sam_weight_decay_only_where_it_applies),
        cmocka_unit_test(test_buffers_save_restore),
        cmocka_unit_test(test_elr_worked_values),
        cmocka_unit_test(test_elr_gradient_check),
        cmocka_unit_test(test_elr_target_steps),
        cmocka_unit_test(test_forget_rate_schedule),
        cmocka_unit_test(test_small_loss_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
