/* The robust losses (train/loss_robust.c): values worked by hand and from
 * spec robust-methods §14, central-difference gradient checks of the batch
 * mean, golden values and gradients from PyTorch autograd
 * (tools/make_robust_loss_golden.py), per-sample weights, bad targets and
 * hyperparameters, logits of +-80 and beyond; truncated GCE's mask, the
 * bi-tempered loss's limits, names, defaults and dispatch. */
#include "test_util.h"

#include "golden.h"

#include "train/loss.h"
#include "util/err.h"
#include "util/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_TOL       1.5e-6   /* §14 gives 6 decimals */
#define MAX_CONFIGS    32
#define LN_1E4         (-9.21034037f)

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

static LossConfig config(LossKind kind) {
    LossConfig c;
    loss_config_default(kind, &c);
    return c;
}

/* "sce(alpha 0.1 beta 1 A -4)": which configuration failed. */
static const char *describe(const LossConfig *c) {
    static char buf[160];
    switch (c->kind) {
    case LOSS_SCE:
        snprintf(buf, sizeof buf, "sce(alpha %g beta %g A %g)", c->sce_alpha, c->sce_beta,
                 c->sce_a);
        break;
    case LOSS_GCE: snprintf(buf, sizeof buf, "gce(q %g)", c->gce_q); break;
    case LOSS_TGCE: snprintf(buf, sizeof buf, "tgce(q %g k %g)", c->gce_q, c->tgce_k); break;
    case LOSS_TAYLOR: snprintf(buf, sizeof buf, "taylor(t %d)", c->taylor_t); break;
    case LOSS_BITEMPERED:
        snprintf(buf, sizeof buf, "bitempered(t1 %g t2 %g eps %g iters %d)", c->bt_t1,
                 c->bt_t2, c->bt_smoothing, c->bt_iters);
        break;
    case LOSS_NCE_RCE:
        snprintf(buf, sizeof buf, "nce_rce(alpha %g beta %g A %g)", c->nce_alpha, c->nce_beta,
                 c->nce_a);
        break;
    default: snprintf(buf, sizeof buf, "%s", loss_name(c->kind)); break;
    }
    return buf;
}

/* Every robust loss at its defaults, then other settings of each: the
 * reference code's A, q at both ends, no truncation, orders 1 and 6,
 * bi-tempered at t2 = 1, t1 = 1, t2 = 2, 4 and 10, with smoothing, and in the
 * reference's 5-step mode (last, as its gradient is not exact). */
static int robust_configs(LossConfig *out, int with_reference_mode) {
    static const LossKind kinds[] = {LOSS_SCE, LOSS_GCE, LOSS_TGCE, LOSS_TAYLOR,
                                     LOSS_BITEMPERED, LOSS_NCE_RCE};
    int n = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        out[n++] = config(kinds[i]);
    out[n] = config(LOSS_SCE), out[n].sce_a = LN_1E4, n++;
    out[n] = config(LOSS_SCE), out[n].sce_alpha = 6.0f, out[n].sce_beta = 0.1f, n++;
    out[n] = config(LOSS_GCE), out[n].gce_q = 0.05f, n++;
    out[n] = config(LOSS_GCE), out[n].gce_q = 1.0f, n++;
    out[n] = config(LOSS_TGCE), out[n].tgce_k = 0.0f, n++;
    out[n] = config(LOSS_TAYLOR), out[n].taylor_t = 1, n++;
    out[n] = config(LOSS_TAYLOR), out[n].taylor_t = 6, n++;
    out[n] = config(LOSS_BITEMPERED), out[n].bt_t1 = 0.5f, out[n].bt_t2 = 1.0f, n++;
    out[n] = config(LOSS_BITEMPERED), out[n].bt_t1 = 1.0f, out[n].bt_t2 = 1.0f, n++;
    out[n] = config(LOSS_BITEMPERED), out[n].bt_t1 = 0.5f, out[n].bt_t2 = 2.0f, n++;
    out[n] = config(LOSS_BITEMPERED), out[n].bt_t1 = 0.0f, out[n].bt_t2 = 4.0f, n++;
    out[n] = config(LOSS_BITEMPERED), out[n].bt_t1 = 1.0f, out[n].bt_t2 = 1.5f, n++;
    out[n] = config(LOSS_BITEMPERED), out[n].bt_t1 = 0.9f, out[n].bt_t2 = LOSS_BT_T2_MAX, n++;
    out[n] = config(LOSS_BITEMPERED), out[n].bt_smoothing = 0.1f, n++;
    out[n] = config(LOSS_NCE_RCE), out[n].nce_alpha = 10.0f, out[n].nce_beta = 0.1f, n++;
    out[n] = config(LOSS_NCE_RCE), out[n].nce_beta = 0.0f, n++;
    if (with_reference_mode)
        out[n] = config(LOSS_BITEMPERED), out[n].bt_iters = LOSS_BT_REFERENCE_ITERS, n++;
    assert_true(n <= MAX_CONFIGS);
    return n;
}

/* One sample's loss and gradient (N = 1, so dz is the per-sample gradient). */
static double one(const LossConfig *c, const float *z, int k, int y, float *dz) {
    LossBatch b = {.n = 1, .k = k, .logits = z, .targets = &y};
    double mean;
    float loss;
    assert_int_equal(loss_compute(c, &b, &loss, dz, &mean), 0);
    assert_close(loss, mean, 0, 1e-7);
    return mean;
}

static void assert_row(const float *got, const double *want, int k, double tol) {
    for (int j = 0; j < k; j++)
        assert_close(got[j], want[j], tol, 0);
}

/* ---- (1) values by hand ---- */

/* K = 2, z = (0, ln 3): p = (1/4, 3/4). */
static void test_hand_k2(void **state) {
    (void)state;
    float z[2] = {0.0f, (float)log(3.0)}, dz[2];
    LossConfig c;

    /* SCE, y = 1: 0.1 (-ln 0.75) + 4 (1 - 0.75) = 1.0287682;
     * factor 0.1 + 4 * 0.75 = 3.1, dz = 3.1 (0.25, -0.25). */
    c = config(LOSS_SCE);
    assert_close(one(&c, z, 2, 1, dz), 1.0287682, 1e-6, 0);
    assert_row(dz, (double[]){0.775, -0.775}, 2, 1e-6);

    /* GCE q = 0.5, y = 1: (1 - sqrt 0.75) / 0.5 = 0.2679492;
     * dz = sqrt(0.75) (0.25, -0.25) = (0.2165064, -0.2165064). */
    c = config(LOSS_GCE), c.gce_q = 0.5f;
    assert_close(one(&c, z, 2, 1, dz), 0.2679492, 1e-6, 0);
    assert_row(dz, (double[]){0.2165064, -0.2165064}, 2, 1e-6);

    /* Truncated GCE q = 0.5, k = 0.25, y = 1: (sqrt 0.25 - sqrt 0.75) / 0.5
     * = -0.7320508, with GCE's gradient. */
    c.kind = LOSS_TGCE, c.tgce_k = 0.25f;
    assert_close(one(&c, z, 2, 1, dz), -0.7320508, 1e-6, 0);
    assert_row(dz, (double[]){0.2165064, -0.2165064}, 2, 1e-6);

    /* Taylor t = 2, y = 0: r = 0.75, 0.75 + 0.75^2/2 = 1.03125; weight
     * 1 - 0.75^2 = 0.4375, dz = 0.4375 (0.25 - 1, 0.75). */
    c = config(LOSS_TAYLOR);
    assert_close(one(&c, z, 2, 0, dz), 1.03125, 1e-6, 0);
    assert_row(dz, (double[]){-0.328125, 0.328125}, 2, 1e-6);

    /* NCE+RCE 1, 1, A = -4, y = 1: u = ln 0.75 = -0.2876821, S = ln 0.25 +
     * ln 0.75 = -1.6739764, NCE = u/S = 0.1718555, RCE = 4 * 0.25 = 1.
     * dNCE/dz_0 = ((0 - 0.25) S - u (1 - 2 * 0.25)) / S^2 = 0.2006765,
     * dRCE/dz_0 = 4 * 0.75 * 0.25 = 0.75; dz_1 = -dz_0 (rows sum to 0). */
    c = config(LOSS_NCE_RCE), c.nce_a = -4.0f;
    assert_close(one(&c, z, 2, 1, dz), 1.1718555, 1e-6, 0);
    assert_row(dz, (double[]){0.9506765, -0.9506765}, 2, 1e-6);

    /* Bi-tempered t1 = 0.5, t2 = 1 (softmax), y = 1: -log_0.5(0.75) =
     * 2 (1 - sqrt 0.75) = 0.2679492, minus (1 - 0.25^1.5 - 0.75^1.5) / 1.5 =
     * 0.1503206: 0.1176286. d = (p - y) p^0.5 = (0.125, -0.2165064), e = p:
     * dz = d - p (d_0 + d_1) = (0.1478766, -0.1478766). */
    c = config(LOSS_BITEMPERED), c.bt_t1 = 0.5f, c.bt_t2 = 1.0f;
    assert_close(one(&c, z, 2, 1, dz), 0.1176286, 1e-6, 0);
    assert_row(dz, (double[]){0.1478766, -0.1478766}, 2, 1e-6);

    /* t2 = 1.2 on equal logits: p = (1/2, 1/2) whatever t2; y = 0:
     * 2 (1 - 0.5^0.5) - (1 - 2 * 0.5^1.5) / 1.5 = 0.3905243, and
     * d = (-0.5, 0.5) 0.5^0.7 sums to 0: dz = (-0.3077861, 0.3077861). */
    float flat[2] = {0.7f, 0.7f};
    c.bt_t2 = 1.2f;
    assert_close(one(&c, flat, 2, 0, dz), 0.3905243, 1e-6, 0);
    assert_row(dz, (double[]){-0.3077861, 0.3077861}, 2, 1e-6);
}

/* Spec §14: z = (1, -0.5, 2, 0.3, -1.2); y = 2 agrees with the model,
 * y = 4 is the typical mislabeled sample. */
static void spec_case(LossConfig c, int y, double want, const double *want_dz) {
    const float z[5] = {1.0f, -0.5f, 2.0f, 0.3f, -1.2f};
    float dz[5];
    assert_close(one(&c, z, 5, y, dz), want, SPEC_TOL, 0);
    assert_row(dz, want_dz, 5, SPEC_TOL);
}

static void test_spec_worked_values(void **state) {
    (void)state;
    LossConfig c = config(LOSS_SCE);
    spec_case(c, 2, 1.661158, (double[]){0.547469, 0.122157, -1.002153, 0.271865, 0.060661});
    spec_case(c, 4, 4.274051, (double[]){0.043404, 0.009685, 0.117984, 0.021554, -0.192626});
    c = config(LOSS_GCE);
    spec_case(c, 2, 0.432294, (double[]){0.153314, 0.034209, -0.280644, 0.076133, 0.016988});
    spec_case(c, 4, 1.322509, (double[]){0.016322, 0.003642, 0.044367, 0.008105, -0.072435});

    /* Truncated GCE: GCE less L_q(0.5) = (1 - 0.5^0.7)/0.7 = 0.5491826. */
    c = config(LOSS_TGCE);
    spec_case(c, 4, 1.322509 - 0.5491826,
              (double[]){0.016322, 0.003642, 0.044367, 0.008105, -0.072435});
    c = config(LOSS_TAYLOR);
    spec_case(c, 2, 0.483388, (double[]){0.184238, 0.041109, -0.337250, 0.091490, 0.020414});
    spec_case(c, 4, 1.451579, (double[]){0.010580, 0.002361, 0.028758, 0.005254, -0.046952});
    c.taylor_t = 6;
    spec_case(c, 2, 0.514485, (double[]){0.218905, 0.048844, -0.400709, 0.108705, 0.024255});
    spec_case(c, 4, 2.308202, (double[]){0.030236, 0.006746, 0.082189, 0.015015, -0.134186});

    /* NCE alone (beta 0); then RCE adds |A| (1 - p_y) and |A| p_y (p - e_y),
     * p_y = 0.597582, A = -4: 1.609672 and 2.390328 (p - e_y). */
    c = config(LOSS_NCE_RCE), c.nce_beta = 0.0f;
    spec_case(c, 2, 0.046915, (double[]){0.019608, 0.007696, -0.045167, 0.011889, 0.005974});
    spec_case(c, 4, 0.338505, (double[]){0.016972, 0.027750, -0.006865, 0.023956, -0.061814});
    c.nce_beta = 1.0f, c.nce_a = -4.0f;
    spec_case(c, 2, 0.046915 + 1.609672,
              (double[]){0.019608 + 2.390328 * 0.219838, 0.007696 + 2.390328 * 0.049053,
                         -0.045167 - 2.390328 * 0.402418, 0.011889 + 2.390328 * 0.109168,
                         0.005974 + 2.390328 * 0.024359});

    /* Bi-tempered (0.8, 1.2), converged, and the reference's 5 steps (which
     * the spec finds equal to 6 decimals here). */
    c = config(LOSS_BITEMPERED);
    spec_case(c, 2, 0.458138, (double[]){0.154826, 0.039634, -0.296460, 0.079153, 0.022847});
    spec_case(c, 4, 2.016965, (double[]){0.059072, 0.010954, 0.211261, 0.026225, -0.307512});
    c.bt_iters = LOSS_BT_REFERENCE_ITERS;
    spec_case(c, 2, 0.458138, (double[]){0.154826, 0.039634, -0.296460, 0.079153, 0.022847});
}

/* ---- (2) gradient checks ---- */

/* Logits on a 1/64 grid in [-2, 2) and a step of 1/4096 keep z +- h exact
 * in float, so the central differences are taken on the double mean. */
static double gradient_check(const LossConfig *c, const float *weights) {
    enum { N = 4, K = 7 };
    float logits[N * K], dz[N * K];
    int targets[N] = {3, 0, 6, 3};
    uint32_t seed = 12345;
    for (int i = 0; i < N * K; i++) {
        seed = 1664525u * seed + 1013904223u;
        logits[i] = (float)((int)(seed >> 24) - 128) / 64.0f;
    }
    LossBatch b = {.n = N, .k = K, .logits = logits, .targets = targets, .weights = weights};
    double mean;
    assert_int_equal(loss_compute(c, &b, NULL, dz, &mean), 0);

    const float h = 1.0f / 4096;
    double worst = 0.0;
    for (int i = 0; i < N * K; i++) {
        double up, down;
        float z = logits[i];
        logits[i] = z + h;
        assert_int_equal(loss_compute(c, &b, NULL, NULL, &up), 0);
        logits[i] = z - h;
        assert_int_equal(loss_compute(c, &b, NULL, NULL, &down), 0);
        logits[i] = z;
        double numeric = (up - down) / (2.0 * h);
        worst = fmax(worst, fabs(numeric - dz[i]));
        /* Truncation h^2/6 |f'''| stays below 1e-8 here; dz is a float. */
        if (!(fabs(dz[i] - numeric) <= 1e-7 + 1e-5 * fabs(numeric)))
            fail_msg("%s: dlogits[%d] %.9g, central difference %.9g", describe(c), i, dz[i],
                     numeric);
    }
    return worst;
}

static void test_gradient_check(void **state) {
    (void)state;
    const float weights[4] = {0.5f, 2.0f, 0.0f, 1.25f};
    LossConfig cs[MAX_CONFIGS];
    int n = robust_configs(cs, 0);
    for (int i = 0; i < n; i++) {
        double plain = gradient_check(&cs[i], NULL), weighted = gradient_check(&cs[i], weights);
        print_message("gradient check %-44s max |analytic - numeric| %.2g, weighted %.2g\n",
                      describe(&cs[i]), plain, weighted);
    }
}

/* ---- (3) golden values from PyTorch ---- */

/* "field=value" onto c, for the fields the generator may set. */
static void set_field(LossConfig *c, const char *kv) {
    char key[32];
    const char *eq = strchr(kv, '=');
    if (!eq || (size_t)(eq - kv) >= sizeof key)
        fail_msg("loss_robust cases.txt: bad field %s", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    double v = strtod(eq + 1, NULL);
    static const struct {
        const char *name;
        size_t      offset;
    } floats[] = {
#define FLOAT_FIELD(f) {#f, offsetof(LossConfig, f)}
        FLOAT_FIELD(sce_alpha), FLOAT_FIELD(sce_beta),  FLOAT_FIELD(sce_a),
        FLOAT_FIELD(gce_q),     FLOAT_FIELD(tgce_k),    FLOAT_FIELD(bt_t1),
        FLOAT_FIELD(bt_t2),     FLOAT_FIELD(bt_smoothing), FLOAT_FIELD(nce_alpha),
        FLOAT_FIELD(nce_beta),  FLOAT_FIELD(nce_a),
#undef FLOAT_FIELD
    };
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        if (strcmp(key, floats[i].name) == 0) {
            *(float *)((char *)c + floats[i].offset) = (float)v;
            return;
        }
    }
    if (strcmp(key, "taylor_t") == 0)
        c->taylor_t = (int)v;
    else if (strcmp(key, "bt_iters") == 0)
        c->bt_iters = (int)v;
    else
        fail_msg("loss_robust cases.txt: unknown field %s", key);
}

/* One "case NAME LOSS N K WEIGHTED FILE [FIELD=VALUE ...]" line: the C loss
 * on the same logits against torch's float64 results. */
static int golden_case(const char *dir, char *line) {
    char name[64], kind_name[32], file[128];
    int n, k, weighted, used;
    if (sscanf(line, "case %63s %31s %d %d %d %127s%n", name, kind_name, &n, &k, &weighted,
               file, &used) != 6)
        fail_msg("loss_robust cases.txt: bad line: %s", line);
    LossKind kind;
    assert_int_equal(loss_parse(kind_name, &kind), 0);
    LossConfig c = config(kind);
    for (char *tok = strtok(line + used, " \n"); tok; tok = strtok(NULL, " \n"))
        set_field(&c, tok);

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
    assert_int_equal(loss_compute(&c, &b, losses, dz, &mean), 0);
    int ok = golden_loss_check(name, &g, losses, dz, mean);
    free(losses), free(dz);
    golden_loss_free(&g);
    return ok;
}

static void test_golden_torch(void **state) {
    (void)state;
    const char *dir = NOISETTE_GOLDEN "/loss_robust";
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("%s: cannot open (make it with tools/make_robust_loss_golden.py)", path);
    int n_cases = 0, n_passed = 0, seen[LOSS_NCE_RCE + 1] = {0};
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "case ", 5) == 0) {
            char kind_name[32];
            LossKind kind;
            if (sscanf(line, "case %*s %31s", kind_name) == 1 && loss_parse(kind_name, &kind) == 0)
                seen[kind]++;
            n_cases++;
            n_passed += golden_case(dir, line);
        }
    }
    fclose(fp);
    assert_int_equal(n_passed, n_cases);
    assert_int_equal(n_cases, 24);
    for (int kind = LOSS_SCE; kind <= LOSS_NCE_RCE; kind++)
        assert_true(seen[kind] >= 2);
}

/* ---- (4) per-sample weights ---- */

/* mean = (1/N) sum w_i loss_i; per-sample losses stay unweighted; each
 * gradient row scales by w_i, so w_i = 0 drops the sample. */
static void test_per_sample_weights(void **state) {
    (void)state;
    float logits[3 * 4] = {1, 2, 3, 4, -1, 0.5f, 0, 2, 3, 3, -2, 1};
    int targets[3] = {3, 0, 2};
    float weights[3] = {2.0f, 0.0f, 0.5f}, ones[3] = {1, 1, 1};
    LossConfig cs[MAX_CONFIGS];
    int n = robust_configs(cs, 1);
    for (int c = 0; c < n; c++) {
        float plain_losses[3], plain_dz[12], w_losses[3], w_dz[12];
        LossBatch b = {.n = 3, .k = 4, .logits = logits, .targets = targets};
        double plain, weighted;
        assert_int_equal(loss_compute(&cs[c], &b, plain_losses, plain_dz, &plain), 0);
        b.weights = weights;
        assert_int_equal(loss_compute(&cs[c], &b, w_losses, w_dz, &weighted), 0);

        double want = (2.0 * plain_losses[0] + 0.5 * plain_losses[2]) / 3.0;
        assert_close(weighted, want, 1e-7, 1e-6);
        assert_close(plain, (plain_losses[0] + plain_losses[1] + plain_losses[2]) / 3.0, 1e-7,
                     1e-6);
        for (int i = 0; i < 3; i++) {
            assert_close(w_losses[i], plain_losses[i], 0, 0);
            for (int j = 0; j < 4; j++)
                assert_close(w_dz[i * 4 + j], weights[i] * plain_dz[i * 4 + j], 1e-9, 1e-6);
        }

        /* All ones is the same as no weights. */
        b.weights = ones;
        assert_int_equal(loss_compute(&cs[c], &b, NULL, NULL, &weighted), 0);
        assert_close(weighted, plain, 0, 0);
    }
}

/* ---- (5) bad input ---- */

/* cfg fails with ERR_INVALID, the message containing msg, nothing written. */
static void expect_invalid(const LossConfig *cfg, int target, const char *msg) {
    float logits[2 * 3] = {0, 1, 2, 3, 4, 5}, losses[2] = {7, 7}, dz[6] = {7, 7, 7, 7, 7, 7};
    int targets[2] = {0, target};
    LossBatch b = {.n = 2, .k = 3, .logits = logits, .targets = targets};
    double mean = 7;
    err_clear();
    assert_int_equal(loss_compute(cfg, &b, losses, dz, &mean), ERR_INVALID);
    assert_contains(err_msg(), msg);
    assert_true(mean == 7 && losses[0] == 7 && losses[1] == 7);
    for (int j = 0; j < 6; j++)
        assert_true(dz[j] == 7);
}

static void test_bad_input(void **state) {
    (void)state;
    LossConfig cs[MAX_CONFIGS];
    int n = robust_configs(cs, 1);
    for (int c = 0; c < n; c++) {
        expect_invalid(&cs[c], 3, "sample 1: target 3 is not a class in [0, 3)");
        expect_invalid(&cs[c], -1, "sample 1: target -1 is not a class in [0, 3)");
    }

    /* One bad value of each hyperparameter, the range named. */
    static const struct {
        LossKind    kind;
        size_t      offset;
        float       value;
        const char *msg;
    } bad[] = {
        {LOSS_SCE, offsetof(LossConfig, sce_alpha), -0.5f, "sce alpha -0.5 is not in [0, inf)"},
        {LOSS_SCE, offsetof(LossConfig, sce_beta), NAN, "sce beta nan is not in [0, inf)"},
        {LOSS_SCE, offsetof(LossConfig, sce_a), 0.0f, "sce A 0 is not in (-inf, 0)"},
        {LOSS_SCE, offsetof(LossConfig, sce_a), -INFINITY, "sce A -inf is not in (-inf, 0)"},
        {LOSS_GCE, offsetof(LossConfig, gce_q), 0.0f, "gce q 0 is not in (0, 1]"},
        {LOSS_GCE, offsetof(LossConfig, gce_q), 1.5f, "gce q 1.5 is not in (0, 1]"},
        {LOSS_TGCE, offsetof(LossConfig, gce_q), 2.0f, "tgce q 2 is not in (0, 1]"},
        {LOSS_TGCE, offsetof(LossConfig, tgce_k), 1.0f, "tgce k 1 is not in [0, 1)"},
        {LOSS_BITEMPERED, offsetof(LossConfig, bt_t1), 1.5f, "t1 1.5 is not in [0, 1]"},
        {LOSS_BITEMPERED, offsetof(LossConfig, bt_t2), 0.9f, "t2 0.9 is not in [1, 10]"},
        {LOSS_BITEMPERED, offsetof(LossConfig, bt_t2), 11.0f, "t2 11 is not in [1, 10]"},
        {LOSS_BITEMPERED, offsetof(LossConfig, bt_smoothing), -0.1f,
         "smoothing -0.1 is not in [0, 1]"},
        {LOSS_NCE_RCE, offsetof(LossConfig, nce_alpha), -1.0f,
         "nce_rce alpha -1 is not in [0, inf)"},
        {LOSS_NCE_RCE, offsetof(LossConfig, nce_a), 2.0f, "nce_rce A 2 is not in (-inf, 0)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        LossConfig c = config(bad[i].kind);
        *(float *)((char *)&c + bad[i].offset) = bad[i].value;
        expect_invalid(&c, 1, bad[i].msg);
        assert_int_equal(loss_config_check(&c), ERR_INVALID);
    }
    LossConfig c = config(LOSS_TAYLOR);
    c.taylor_t = 0;
    expect_invalid(&c, 1, "taylor t 0 is not in [1, 1000]");
    c = config(LOSS_BITEMPERED), c.bt_iters = -1;
    expect_invalid(&c, 1, "bitempered iters -1 is not in [0, 1000]");

    /* NCE needs two classes (its denominator is 0 at K = 1); N = 0 fails. */
    float z = 0.5f, loss = 7;
    int y = 0;
    double mean = 7;
    LossBatch one_class = {.n = 1, .k = 1, .logits = &z, .targets = &y};
    c = config(LOSS_NCE_RCE);
    assert_int_equal(loss_compute(&c, &one_class, &loss, NULL, &mean), ERR_INVALID);
    assert_contains(err_msg(), "nce_rce needs at least 2 classes, got 1");
    assert_true(loss == 7 && mean == 7);
    one_class.n = 0;
    c = config(LOSS_GCE);
    assert_int_equal(loss_compute(&c, &one_class, NULL, NULL, &mean), ERR_INVALID);
}

/* ---- (6) numerical robustness ---- */

/* Rows of +-80 (right and wrong, and all equal) and of +-1e4: every loss,
 * gradient and mean is finite, and every gradient row sums to 0. */
static void test_extreme_logits(void **state) {
    (void)state;
    enum { N = 6, K = 5 };
    float logits[N * K], losses[N], dz[N * K];
    int targets[N] = {0, 1, 2, 0, 3, 4};
    for (int j = 0; j < K; j++) {
        logits[0 * K + j] = j == 0 ? 80.0f : -80.0f;    /* confident, right */
        logits[1 * K + j] = j == 0 ? 80.0f : -80.0f;    /* confident, wrong */
        logits[2 * K + j] = 80.0f;                      /* all equal and large */
        logits[3 * K + j] = j % 2 ? 80.0f : -80.0f;     /* wrong, two-way tie */
        logits[4 * K + j] = j == 0 ? 1e4f : -1e4f;      /* far beyond float's exp */
        logits[5 * K + j] = -80.0f + 40.0f * j;         /* spread, right */
    }
    LossBatch b = {.n = N, .k = K, .logits = logits, .targets = targets};
    LossConfig cs[MAX_CONFIGS];
    int n = robust_configs(cs, 1);
    for (int c = 0; c < n; c++) {
        double mean;
        assert_int_equal(loss_compute(&cs[c], &b, losses, dz, &mean), 0);
        if (!isfinite(mean))
            fail_msg("%s: mean %g", describe(&cs[c]), mean);
        for (int i = 0; i < N; i++) {
            double row = 0.0;
            for (int j = 0; j < K; j++) {
                if (!isfinite(dz[i * K + j]))
                    fail_msg("%s: dlogits[%d][%d] %g", describe(&cs[c]), i, j, dz[i * K + j]);
                row += dz[i * K + j];
            }
            if (!isfinite(losses[i]) || !(fabs(row) < 1e-6))
                fail_msg("%s: sample %d: loss %g, gradient sums to %g", describe(&cs[c]), i,
                         losses[i], row);
        }
    }

    /* A confident right prediction costs ~0 and pushes ~0. */
    LossConfig gce = config(LOSS_GCE);
    assert_int_equal(loss_compute(&gce, &b, losses, dz, &(double){0}), 0);
    assert_close(losses[0], 0.0, 1e-12, 0);
    assert_close(dz[0], 0.0, 1e-12, 0);
    /* Wrong: GCE tends to 1/q, its gradient to 0 (p_y^q = e^(-112)). */
    assert_close(losses[1], 1.0 / 0.7, 1e-6, 0);
    assert_close(dz[K + 1], 0.0, 1e-30, 0);
}

/* A sample the model is sure is mislabeled, p_y = 1/(1 + e^40) = 4.248e-18:
 * its gradient is tiny but not 0. Taylor's weight 1 - (1 - p_y)^2 is 2 p_y
 * (1 - p_y rounds to 1, hence log1p); GCE's is p_y^0.7 = exp(0.7 log p_y). */
static void test_tiny_p_y_keeps_its_gradient(void **state) {
    (void)state;
    float z[2] = {40.0f, 0.0f}, dz[2];
    double p_y = 1.0 / (1.0 + exp(40.0));
    LossConfig c = config(LOSS_TAYLOR);
    one(&c, z, 2, 1, dz);
    assert_close(dz[0], 2.0 * p_y, 0, 1e-6);
    assert_close(dz[1], -2.0 * p_y, 0, 1e-6);
    c = config(LOSS_GCE);
    one(&c, z, 2, 1, dz);
    assert_close(dz[0], pow(p_y, 0.7f), 0, 1e-5);
}

/* ---- truncated GCE and the bi-tempered loss ---- */

/* The mask keeps p_y > k; masked samples add nothing to the mean and get
 * no gradient. K = 2, z = (0, ln 3): p = (0.25, 0.75); z = (0, 1):
 * p = (0.269, 0.731). */
static void test_tgce_mask(void **state) {
    (void)state;
    float z[3 * 2] = {0, (float)log(3.0), 0, (float)log(3.0), 0, 1}, mask[3], dz[6], losses[3];
    int targets[3] = {1, 0, 0};
    LossBatch b = {.n = 3, .k = 2, .logits = z, .targets = targets};
    assert_int_equal(loss_tgce_mask(&b, 0.5f, mask), 0);
    assert_true(mask[0] == 1 && mask[1] == 0 && mask[2] == 0);   /* 0.75, 0.25, 0.269 */
    assert_int_equal(loss_tgce_mask(&b, 0.2f, mask), 0);
    assert_true(mask[0] == 1 && mask[1] == 1 && mask[2] == 1);
    assert_int_equal(loss_tgce_mask(&b, 0.0f, mask), 0);
    assert_true(mask[0] == 1 && mask[1] == 1 && mask[2] == 1);
    assert_int_equal(loss_tgce_mask(&b, 0.8f, mask), 0);
    assert_true(mask[0] == 0 && mask[1] == 0 && mask[2] == 0);
    mask[0] = 9;
    assert_int_equal(loss_tgce_mask(&b, 1.0f, mask), ERR_INVALID);
    assert_true(mask[0] == 9);

    /* Pruned by k = 0.5: only sample 0 counts, its loss (0.5^0.7 - 0.75^0.7)
     * / 0.7 = -0.2886165 divided by N = 3. */
    assert_int_equal(loss_tgce_mask(&b, 0.5f, mask), 0);
    b.weights = mask;
    double mean;
    assert_int_equal(loss_tgce(&b, 0.7f, 0.5f, losses, dz, &mean), 0);
    assert_close(losses[0], -0.2886165, 1e-6, 0);
    assert_close(mean, losses[0] / 3.0, 0, 1e-7);
    for (int j = 2; j < 6; j++)
        assert_true(dz[j] == 0.0f);
    assert_true(losses[1] > 0);     /* unweighted: p_y = 0.25 < k */
}

/* t1 = t2 = 1 is cross entropy; converging the normaliser matters for t2 =
 * 2 on spread logits, where the reference's 5 steps leave sum p != 1. */
static void test_bitempered_limits(void **state) {
    (void)state;
    float logits[2 * 4] = {1.5f, -2, 0.25f, 3, -1, 4, 2, -3};
    int targets[2] = {3, 0};
    float ce_dz[8], bt_dz[8];
    LossBatch b = {.n = 2, .k = 4, .logits = logits, .targets = targets};
    double ce, bt;
    assert_int_equal(loss_cross_entropy(&b, NULL, ce_dz, &ce), 0);
    assert_int_equal(loss_bitempered(&b, 1.0f, 1.0f, 0.0f, 0, NULL, bt_dz, &bt), 0);
    assert_close(bt, ce, 1e-12, 1e-12);
    for (int j = 0; j < 8; j++)
        assert_close(bt_dz[j], ce_dz[j], 1e-8, 0);

    /* The reference mode's error shows at t2 = 2 and logits 5 apart. */
    float spread[5] = {5, -5, 0, 2.5f, -2.5f};
    int y = 1;
    LossBatch s = {.n = 1, .k = 5, .logits = spread, .targets = &y};
    double converged, reference, ref_again;
    assert_int_equal(loss_bitempered(&s, 0.8f, 2.0f, 0.0f, 0, NULL, NULL, &converged), 0);
    assert_int_equal(loss_bitempered(&s, 0.8f, 2.0f, 0.0f, 5, NULL, NULL, &reference), 0);
    assert_int_equal(loss_bitempered(&s, 0.8f, 2.0f, 0.0f, 100, NULL, NULL, &ref_again), 0);
    print_message("bi-tempered t2 = 2: converged %.9f, 5 steps %.9f, 100 steps %.9f\n",
                  converged, reference, ref_again);
    assert_true(fabs(reference - converged) > 1e-6);
    assert_close(ref_again, converged, 1e-9, 0);

    /* Smoothing moves the minimum off the label: at eps 0.1 the loss is
     * bounded below by 0 and reached for p = target only. */
    float z0[3] = {0, 0, 0};
    int y0 = 0;
    LossBatch u = {.n = 1, .k = 3, .logits = z0, .targets = &y0};
    double smooth;
    assert_int_equal(loss_bitempered(&u, 0.5f, 1.0f, 2.0f / 3.0f, 0, NULL, NULL, &smooth), 0);
    assert_close(smooth, 0.0, 1e-12, 0);    /* target (1/3, 1/3, 1/3) = p */
}

/* ---- names, defaults, dispatch ---- */

static void test_names_defaults_dispatch(void **state) {
    (void)state;
    static const char *const names[] = {"cross_entropy", "label_smoothing", "sce", "gce",
                                        "tgce", "taylor", "bitempered", "nce_rce"};
    for (int i = 0; i < 8; i++) {
        LossKind kind;
        assert_int_equal(loss_parse(names[i], &kind), 0);
        assert_int_equal(kind, i);
        assert_string_equal(loss_name(kind), names[i]);
        LossConfig c = config(kind);
        assert_int_equal(c.kind, kind);
        assert_int_equal(loss_config_check(&c), 0);
    }
    LossKind kind;
    assert_int_equal(loss_parse("focal", &kind), ERR_USAGE);
    assert_contains(err_msg(), "sce, gce, tgce, taylor, bitempered or nce_rce");
    assert_string_equal(loss_name((LossKind)99), "unknown");

    /* The published defaults (spec robust-methods §2-6). */
    LossConfig c = config(LOSS_SCE);
    assert_true(c.sce_alpha == 0.1f && c.sce_beta == 1.0f && c.sce_a == -4.0f);
    assert_true(c.gce_q == 0.7f && c.tgce_k == 0.5f && c.taylor_t == 2);
    assert_true(c.bt_t1 == 0.8f && c.bt_t2 == 1.2f && c.bt_smoothing == 0 && c.bt_iters == 0);
    assert_true(c.nce_alpha == 1.0f && c.nce_beta == 1.0f);
    assert_close(c.nce_a, log(1e-4), 1e-6, 0);
    assert_true(c.eps == LOSS_LS_EPS_DEFAULT);

    /* loss_compute gives what the direct call gives. */
    float logits[2 * 3] = {0.5f, -1, 2, 1, 1, -0.25f};
    int targets[2] = {0, 2};
    LossBatch b = {.n = 2, .k = 3, .logits = logits, .targets = targets};
    double via, direct;
    c = config(LOSS_SCE);
    assert_int_equal(loss_compute(&c, &b, NULL, NULL, &via), 0);
    assert_int_equal(loss_sce(&b, 0.1f, 1.0f, -4.0f, NULL, NULL, &direct), 0);
    assert_close(via, direct, 0, 0);
    c = config(LOSS_GCE), c.gce_q = 0.4f;
    assert_int_equal(loss_compute(&c, &b, NULL, NULL, &via), 0);
    assert_int_equal(loss_gce(&b, 0.4f, NULL, NULL, &direct), 0);
    assert_close(via, direct, 0, 0);
    c.kind = LOSS_TGCE;
    assert_int_equal(loss_compute(&c, &b, NULL, NULL, &via), 0);
    assert_int_equal(loss_tgce(&b, 0.4f, 0.5f, NULL, NULL, &direct), 0);
    assert_close(via, direct, 0, 0);
    c = config(LOSS_TAYLOR), c.taylor_t = 3;
    assert_int_equal(loss_compute(&c, &b, NULL, NULL, &via), 0);
    assert_int_equal(loss_taylor(&b, 3, NULL, NULL, &direct), 0);
    assert_close(via, direct, 0, 0);
    c = config(LOSS_BITEMPERED), c.bt_smoothing = 0.2f, c.bt_iters = 7;
    assert_int_equal(loss_compute(&c, &b, NULL, NULL, &via), 0);
    assert_int_equal(loss_bitempered(&b, 0.8f, 1.2f, 0.2f, 7, NULL, NULL, &direct), 0);
    assert_close(via, direct, 0, 0);
    c = config(LOSS_NCE_RCE), c.nce_beta = 0.5f;
    assert_int_equal(loss_compute(&c, &b, NULL, NULL, &via), 0);
    assert_int_equal(loss_nce_rce(&b, 1.0f, 0.5f, LN_1E4, NULL, NULL, &direct), 0);
    assert_close(via, direct, 0, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_k2),
        cmocka_unit_test(test_spec_worked_values),
        cmocka_unit_test(test_gradient_check),
        cmocka_unit_test(test_golden_torch),
        cmocka_unit_test(test_per_sample_weights),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_extreme_logits),
        cmocka_unit_test(test_tiny_p_y_keeps_its_gradient),
        cmocka_unit_test(test_tgce_mask),
        cmocka_unit_test(test_bitempered_limits),
        cmocka_unit_test(test_names_defaults_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
