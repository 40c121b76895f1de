/* Optimizers: single steps computed by hand, RAdam's rectification terms
 * (spec §5.6) and its un-rectified first steps, Lookahead's sync every k
 * steps, the no-decay rule, the listed state, argument errors, and golden
 * trajectories of fastai's rules run in PyTorch (tools/make_optim_golden.py). */
#include "test_util.h"

#include "nn/tensor.h"
#include "train/optim.h"
#include "util/err.h"
#include "util/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_MAX_BYTES ((size_t)1 << 20)

#define assert_close(got, want, tol) check_close((got), (want), (tol), #got, __FILE__, __LINE__)
static void check_close(double got, double want, double tol, const char *what,
                        const char *file, int line) {
    if (!(fabs(got - want) <= tol)) {
        print_error("%s:%d: %s: expected %.9g, got %.9g (diff %.3g)\n", file, line, what, want,
                    got, fabs(got - want));
        _fail(file, line);
    }
}

/* A model of two Params: "w" (decayed) and "b" (no_decay), each numel n,
 * filled with value, gradients g. */
static ParamList make_params(int n, float value, float g) {
    ParamList pl = {0};
    int shape[1] = {n};
    Param *w = param_add(&pl, "w", 1, 0, 1, shape);
    Param *b = param_add(&pl, "b", 1, 1, 1, shape);
    assert_non_null(w);
    assert_non_null(b);
    for (int i = 0; i < n; i++) {
        w->data[i] = b->data[i] = value;
        w->grad[i] = b->grad[i] = g;
    }
    return pl;
}

static Optimizer *make_opt(OptKind kind, int la_k, const ParamList *pl, OptHyper h) {
    OptConfig cfg = {.kind = kind, .lookahead_k = la_k, .lookahead_alpha = OPT_LOOKAHEAD_ALPHA};
    Optimizer *opt = optimizer_new_model(&cfg, pl, &h);
    if (!opt)
        fail_msg("optimizer_new_model: %s", err_msg());
    return opt;
}

/* SGD, p = 1, g = 0.5, lr 0.1, wd 0.1, mom 0.9, two steps by hand:
 *   step 1: p = 0.99;  m = 0.5;   p = 0.99 - 0.05 = 0.94
 *   step 2: p = 0.9306; m = 0.95; p = 0.9306 - 0.095 = 0.8356
 * The no_decay Param skips the 0.99 factors. */
static void test_sgd_by_hand(void **state) {
    (void)state;
    ParamList pl = make_params(1, 1.0f, 0.5f);
    Optimizer *opt = make_opt(OPT_SGD, 0, &pl, (OptHyper){.lr = 0.1, .mom = 0.9, .wd = 0.1});
    optimizer_step(opt);
    assert_close(pl.items[0]->data[0], 0.94, 1e-7);
    assert_close(pl.items[1]->data[0], 0.95, 1e-7);
    optimizer_step(opt);
    assert_close(pl.items[0]->data[0], 0.8356, 1e-7);
    assert_close(pl.items[1]->data[0], 1.0 - 0.05 - 0.095, 1e-7);
    optimizer_free(opt);

    /* Without momentum no buffer exists and p <- p - lr*g. */
    opt = make_opt(OPT_SGD, 0, &pl, (OptHyper){.lr = 0.1});
    assert_null(opt->slots[0].grad_avg);
    optimizer_step(opt);
    assert_close(pl.items[1]->data[0], 0.855 - 0.05, 1e-7);
    optimizer_free(opt);
    param_list_free(&pl);
}

/* Adam, p = 1, g = 0.5, lr 0.1, b1 0.9, b2 0.99, eps 1e-5, wd 0:
 *   m = 0.05, v = 0.0025, 1 - b1 = 0.1, 1 - b2 = 0.01
 *   p = 1 - 0.1/0.1 * 0.05 / (sqrt(0.0025/0.01) + 1e-5) */
static void test_adam_by_hand(void **state) {
    (void)state;
    ParamList pl = make_params(1, 1.0f, 0.5f);
    Optimizer *opt = make_opt(OPT_ADAM, 0, &pl, (OptHyper){.lr = 0.1, .mom = 0.9,
                                                           .sqr_mom = 0.99, .eps = 1e-5});
    optimizer_step(opt);
    double p1 = 1.0 - 0.05 / (0.5 + 1e-5);
    assert_close(pl.items[0]->data[0], p1, 1e-7);

    /* Step 2, same gradient: m = 0.095, v = 0.004975. */
    optimizer_step(opt);
    double m = 0.095, v = 0.004975;
    double p2 = p1 - 0.1 / (1 - 0.81) * m / (sqrt(v / (1 - 0.9801)) + 1e-5);
    assert_close(pl.items[0]->data[0], p2, 2e-7);
    assert_int_equal(opt->slots[0].step, 2);
    optimizer_free(opt);
    param_list_free(&pl);
}

/* RMSProp, p = 1, g = 0.5, lr 0.1, b2 0.99, eps 1e-8, wd 0.1:
 *   p = 0.99; v = 0.0025; p = 0.99 - 0.1 * 0.5 / (0.05 + 1e-8) */
static void test_rmsprop_by_hand(void **state) {
    (void)state;
    ParamList pl = make_params(1, 1.0f, 0.5f);
    OptHyper h = optim_defaults(OPT_RMSPROP);
    h.lr = 0.1, h.wd = 0.1;
    Optimizer *opt = make_opt(OPT_RMSPROP, 0, &pl, h);
    assert_null(opt->slots[0].grad_avg);
    optimizer_step(opt);
    assert_close(pl.items[0]->data[0], 0.99 - 0.05 / (0.05 + 1e-8), 1e-6);
    assert_close(pl.items[1]->data[0], 1.0 - 0.05 / (0.05 + 1e-8), 1e-6);
    optimizer_free(opt);
    param_list_free(&pl);
}

/* Spec §5.6, beta2 = 0.99: steps 1-5 are not rectified, then r_t. */
static void test_radam_rectification_terms(void **state) {
    (void)state;
    for (uint64_t t = 1; t <= 5; t++)
        assert_true(optim_radam_rect(0.99, t) == 0.0);
    const struct {
        uint64_t t;
        double   r;
    } want[] = {{6, 0.08168}, {10, 0.15517}, {20, 0.26685}, {50, 0.45524},
                {100, 0.63412}, {200, 0.82433}, {500, 0.98272}, {1000, 0.99978}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_close(optim_radam_rect(0.99, want[i].t), want[i].r, 5e-6);
}

/* RAdam's first five steps are momentum SGD with lr/(1 - b1^t); the sixth
 * divides by the bias-corrected sqrt(v) + eps, scaled by r_6. */
static void test_radam_unrectified_steps(void **state) {
    (void)state;
    const double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-5;
    const float grads[6] = {0.5f, -0.25f, 1.0f, 0.75f, -0.5f, 0.25f};
    ParamList pl = make_params(1, 1.0f, 0.0f);
    Optimizer *opt = make_opt(OPT_RADAM, 0, &pl, (OptHyper){.lr = lr, .mom = b1,
                                                            .sqr_mom = b2, .eps = eps});
    double p = 1.0, m = 0.0, v = 0.0;
    for (int t = 1; t <= 6; t++) {
        pl.items[0]->grad[0] = grads[t - 1];
        optimizer_step(opt);
        m = b1 * m + (1 - b1) * grads[t - 1];
        v = b2 * v + (1 - b2) * grads[t - 1] * grads[t - 1];
        double debias1 = 1 - pow(b1, t);
        if (t <= 5)
            p -= lr / debias1 * m;
        else
            p -= lr * 0.08168 / debias1 * m / (sqrt(v / (1 - pow(b2, t))) + eps);
        assert_close(pl.items[0]->data[0], p, t <= 5 ? 1e-6 : 2e-5);
    }
    optimizer_free(opt);
    param_list_free(&pl);
}

/* Lookahead over plain SGD (lr 0.1, g = 1, alpha 0.5, k 6): the fast
 * weight walks p0 - 0.1t; at t = 6 slow = p0 - 0.3 and fast jumps there;
 * at t = 12 slow = p0 - 0.3 + 0.5 * (-0.6) = p0 - 0.6. */
static void test_lookahead_sync_every_k(void **state) {
    (void)state;
    ParamList pl = make_params(1, 2.0f, 1.0f);
    Optimizer *opt = make_opt(OPT_SGD, OPT_LOOKAHEAD_K, &pl, (OptHyper){.lr = 0.1});
    const double want[13] = {2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.4};
    for (int t = 1; t <= 12; t++) {
        optimizer_step(opt);
        assert_close(pl.items[0]->data[0], want[t], 1e-6);
        if (t == 1)
            assert_close(opt->slots[0].slow[0], 2.0, 0);   /* copied before step 1 */
    }
    assert_int_equal(opt->lookahead_count, 12);
    assert_close(opt->slots[0].slow[0], 1.4, 1e-6);
    optimizer_free(opt);
    param_list_free(&pl);
}

/* wd applies to "w" only; with a zero gradient, SGD changes nothing else. */
static void test_no_decay_params(void **state) {
    (void)state;
    ParamList pl = make_params(3, 2.0f, 0.0f);
    for (int kind = OPT_SGD; kind <= OPT_RADAM; kind++) {
        OptHyper h = optim_defaults((OptKind)kind);
        h.lr = 0.1, h.wd = 0.5;
        for (int i = 0; i < 3; i++)
            pl.items[0]->data[i] = pl.items[1]->data[i] = 2.0f;
        Optimizer *opt = make_opt((OptKind)kind, 0, &pl, h);
        optimizer_step(opt);
        for (int i = 0; i < 3; i++) {
            assert_close(pl.items[0]->data[i], 2.0 * 0.95, 1e-6);
            assert_close(pl.items[1]->data[i], 2.0, 0);
        }
        optimizer_free(opt);
    }
    param_list_free(&pl);
}

static void test_zero_grad_and_setters(void **state) {
    (void)state;
    ParamList pl = make_params(4, 1.0f, 3.0f);
    Optimizer *opt = make_opt(OPT_ADAM, 0, &pl, optim_defaults(OPT_ADAM));
    optimizer_zero_grad(opt);
    for (int i = 0; i < 4; i++)
        assert_true(pl.items[0]->grad[i] == 0.0f && pl.items[1]->grad[i] == 0.0f);
    optimizer_set_lr(opt, 0.25);
    optimizer_set_mom(opt, 0.8);
    assert_close(opt->groups[0].hyper.lr, 0.25, 0);
    assert_close(opt->groups[0].hyper.mom, 0.8, 0);
    optimizer_free(opt);
    param_list_free(&pl);
}

/* The state list of ranger: grad_avg, sqr_avg, slow per Param, then a step
 * counter per Param and the lookahead count; buffers are left out. */
static void test_state_listing(void **state) {
    (void)state;
    ParamList pl = {0};
    int shape_w[2] = {3, 4}, shape_b[1] = {4};
    assert_non_null(param_add(&pl, "fc.weight", 1, 0, 2, shape_w));
    assert_non_null(param_add(&pl, "bn.running_mean", 0, 0, 1, shape_b));
    assert_non_null(param_add(&pl, "fc.bias", 1, 1, 1, shape_b));
    OptConfig cfg;
    OptHyper h;
    assert_int_equal(optim_parse("ranger", &cfg, &h), 0);
    h.lr = 1e-3;
    Optimizer *opt = optimizer_new_model(&cfg, &pl, &h);
    assert_non_null(opt);

    const char *want[] = {"grad_avg:fc.weight", "sqr_avg:fc.weight", "slow:fc.weight",
                          "grad_avg:fc.bias", "sqr_avg:fc.bias", "slow:fc.bias",
                          "step:fc.weight", "step:fc.bias", "lookahead.count"};
    assert_int_equal(optimizer_state_count(opt), 9);
    for (int i = 0; i < 9; i++) {
        const OptState *st = optimizer_state_at(opt, i);
        assert_string_equal(st->name, want[i]);
        assert_int_equal(st->type, i < 6 ? OPT_STATE_F32 : OPT_STATE_U64);
    }
    const OptState *st = optimizer_state_at(opt, 0);
    assert_int_equal(st->numel, 12);
    assert_int_equal(st->ndim, 2);
    assert_int_equal(st->shape[1], 4);
    assert_ptr_equal(st->data, opt->slots[0].grad_avg);
    assert_null(optimizer_state_at(opt, 9));

    /* Steps advance the counters the list points at. */
    optimizer_step(opt);
    assert_int_equal(*(uint64_t *)optimizer_state_at(opt, 7)->data, 1);
    assert_int_equal(*(uint64_t *)optimizer_state_at(opt, 8)->data, 1);
    optimizer_free(opt);

    /* Plain SGD keeps only the step counters. */
    opt = make_opt(OPT_SGD, 0, &pl, (OptHyper){.lr = 0.1});
    assert_int_equal(optimizer_state_count(opt), 2);
    assert_string_equal(optimizer_state_at(opt, 0)->name, "step:fc.weight");
    optimizer_free(opt);
    param_list_free(&pl);
}

static void test_parse_and_defaults(void **state) {
    (void)state;
    OptConfig cfg;
    OptHyper h;
    assert_int_equal(optim_parse("ranger", &cfg, &h), 0);
    assert_int_equal(cfg.kind, OPT_RADAM);
    assert_int_equal(cfg.lookahead_k, 6);
    assert_close(cfg.lookahead_alpha, 0.5, 0);
    assert_close(h.mom, 0.95, 0);
    assert_close(h.sqr_mom, 0.99, 0);
    assert_close(h.eps, 1e-6, 0);
    assert_close(h.wd, 0.01, 0);
    assert_int_equal(optim_parse("rms", &cfg, &h), 0);
    assert_int_equal(cfg.kind, OPT_RMSPROP);
    assert_int_equal(cfg.lookahead_k, 0);
    assert_close(h.eps, 1e-8, 0);
    assert_int_equal(optim_parse("adam", &cfg, &h), 0);
    assert_close(h.eps, 1e-5, 0);
    assert_string_equal(optim_kind_name(OPT_RADAM), "radam");
    assert_int_equal(optim_parse("lamb", &cfg, &h), ERR_USAGE);
    assert_contains(err_msg(), "unknown optimizer \"lamb\"");
}

static void test_creation_errors(void **state) {
    (void)state;
    ParamList pl = make_params(2, 1.0f, 0.0f);
    int shape[1] = {2};
    Param *buffer = param_add(&pl, "bn.running_var", 0, 0, 1, shape);
    OptConfig cfg = {.kind = OPT_ADAM};
    OptHyper h = optim_defaults(OPT_ADAM);

    Param *with_buffer[2] = {pl.items[0], buffer};
    OptGroup g = {.params = with_buffer, .n = 2, .hyper = h};
    assert_null(optimizer_new(&cfg, &g, 1));
    assert_contains(err_msg(), "bn.running_var has no gradient");

    Param *twice[3] = {pl.items[0], pl.items[1], pl.items[0]};
    g = (OptGroup){.params = twice, .n = 3, .hyper = h};
    assert_null(optimizer_new(&cfg, &g, 1));
    assert_contains(err_msg(), "w is given twice");

    g.n = 2;
    g.hyper.mom = 1.0;
    assert_null(optimizer_new(&cfg, &g, 1));
    assert_contains(err_msg(), "mom 1 out of range");
    g.hyper = h;
    g.hyper.sqr_mom = -0.1;
    assert_null(optimizer_new(&cfg, &g, 1));
    assert_contains(err_msg(), "sqr_mom -0.1 is not in [0, 1)");
    g.hyper = h;
    cfg.lookahead_k = 6, cfg.lookahead_alpha = 0.0;
    assert_null(optimizer_new(&cfg, &g, 1));
    assert_contains(err_msg(), "alpha 0 in (0, 1]");
    cfg.lookahead_alpha = 0.5;
    assert_null(optimizer_new(&cfg, &g, 0));

    /* Two groups with their own hyper-parameters work. */
    Param *first[1] = {pl.items[0]}, *second[1] = {pl.items[1]};
    OptGroup groups[2] = {{first, 1, h}, {second, 1, h}};
    groups[1].hyper.lr = 0.5;
    Optimizer *opt = optimizer_new(&cfg, groups, 2);
    assert_non_null(opt);
    assert_int_equal(opt->n_slots, 2);
    assert_int_equal(opt->slots[1].group, 1);
    optimizer_free(opt);
    param_list_free(&pl);
}

/* ---- Golden trajectories ---- */

/* Against PyTorch float32 running the same operations: each step's scalars
 * differ by a double rounding and the elementwise results by an ulp or so
 * (6e-8 relative), amplified by divisions by a small sqrt(v) + eps and
 * carried over 7 steps: 1e-6 absolute plus 1e-5 relative leaves a margin
 * of about 10x over what is seen, while any slip in the rules (decay order,
 * bias correction, eps placement, a missed sync) moves values by 1e-3 or
 * more. */
#define GOLDEN_ABS_TOL 1e-6
#define GOLDEN_REL_TOL 1e-5
#define GOLDEN_W 12
#define GOLDEN_B 4
#define GOLDEN_STEPS_MAX 16

typedef struct {
    char    name[64], kind[16], file[128];
    int     la_k, steps;
    double  la_alpha, lr[GOLDEN_STEPS_MAX];
    OptHyper h;
} GoldenCase;

static OptKind kind_of(const char *name) {
    OptConfig cfg;
    OptHyper h;
    if (optim_parse(name, &cfg, &h) < 0)
        fail_msg("optim cases.txt: unknown kind %s", name);
    return cfg.kind;
}

/* Runs one case and compares every step; returns 1 when within tolerance. */
static int golden_run(const char *dir, const GoldenCase *gc) {
    char path[4096], *data;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, gc->file);
    if (file_read_all(path, GOLDEN_MAX_BYTES, &data, &len) < 0)
        fail_msg("%s", err_msg());
    size_t per_step = 2 * (GOLDEN_W + GOLDEN_B);
    assert_int_equal(len, 4 * (GOLDEN_W + GOLDEN_B + (size_t)gc->steps * per_step));
    const float *f = (const float *)data;   /* little-endian host assumed, as fixtures are */

    /* The parameters as in the generator, initial values from the file. */
    ParamList pl = {0};
    int shape_w[2] = {3, 4}, shape_b[1] = {4};
    Param *w = param_add(&pl, "weight", 1, 0, 2, shape_w);
    Param *b = param_add(&pl, "bias", 1, 1, 1, shape_b);
    memcpy(w->data, f, GOLDEN_W * 4);
    memcpy(b->data, f + GOLDEN_W, GOLDEN_B * 4);
    f += GOLDEN_W + GOLDEN_B;
    OptConfig cfg = {.kind = kind_of(gc->kind), .lookahead_k = gc->la_k,
                     .lookahead_alpha = gc->la_alpha};
    Optimizer *opt = optimizer_new_model(&cfg, &pl, &gc->h);
    assert_non_null(opt);

    /* Each step: gradients in, step with that step's lr, compare. */
    double worst = -1.0, worst_got = 0, worst_want = 0;
    int worst_step = 0, worst_i = 0;
    for (int s = 0; s < gc->steps; s++, f += per_step) {
        memcpy(w->grad, f, GOLDEN_W * 4);
        memcpy(b->grad, f + GOLDEN_W, GOLDEN_B * 4);
        optimizer_set_lr(opt, gc->lr[s]);
        optimizer_step(opt);
        const float *want = f + GOLDEN_W + GOLDEN_B;
        for (int i = 0; i < GOLDEN_W + GOLDEN_B; i++) {
            double got = i < GOLDEN_W ? w->data[i] : b->data[i - GOLDEN_W];
            double ratio = fabs(got - want[i]) / (GOLDEN_ABS_TOL + GOLDEN_REL_TOL * fabs(want[i]));
            if (!(ratio <= worst) && !isnan(worst)) {
                worst = ratio, worst_got = got, worst_want = want[i];
                worst_step = s + 1, worst_i = i;
            }
        }
    }
    print_message("%-17s %d steps, worst at step %d %s[%d]: C %.9g, torch %.9g (%.2f of the "
                  "tolerance)\n", gc->name, gc->steps, worst_step,
                  worst_i < GOLDEN_W ? "weight" : "bias",
                  worst_i < GOLDEN_W ? worst_i : worst_i - GOLDEN_W, worst_got, worst_want, worst);
    optimizer_free(opt);
    param_list_free(&pl);
    free(data);
    return worst <= 1.0;
}

static void parse_case(GoldenCase *gc, const char *line) {
    memset(gc, 0, sizeof *gc);
    if (sscanf(line, "case %63s %15s %d %lf %lf %lf %lf %lf %lf %d %127s", gc->name, gc->kind,
               &gc->la_k, &gc->la_alpha, &gc->h.mom, &gc->h.sqr_mom, &gc->h.eps, &gc->h.wd,
               &gc->h.beta, &gc->steps, gc->file) != 11 ||
        gc->steps < 1 || gc->steps > GOLDEN_STEPS_MAX)
        fail_msg("optim cases.txt: bad line: %s", line);
}

static void parse_lrs(GoldenCase *gc, const char *line) {
    char name[64];
    int used;
    if (sscanf(line, "lr %63s%n", name, &used) != 1 || strcmp(name, gc->name) != 0)
        fail_msg("optim cases.txt: lr line for another case: %s", line);
    const char *p = line + used;
    for (int s = 0; s < gc->steps; s++) {
        char *end;
        gc->lr[s] = strtod(p, &end);
        if (end == p)
            fail_msg("optim cases.txt: %s: %d learning rates expected", gc->name, gc->steps);
        p = end;
    }
}

static void test_golden_torch(void **state) {
    (void)state;
    const char *dir = NOISETTE_GOLDEN "/optim";
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("%s: cannot open (make it with tools/make_optim_golden.py)", path);
    GoldenCase gc;
    int n_cases = 0, n_passed = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "case ", 5) == 0) {
            parse_case(&gc, line);
        } else if (strncmp(line, "lr ", 3) == 0) {
            parse_lrs(&gc, line);
            n_cases++;
            n_passed += golden_run(dir, &gc);
        }
    }
    fclose(fp);
    assert_int_equal(n_passed, n_cases);
    assert_int_equal(n_cases, 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_by_hand),
        cmocka_unit_test(test_adam_by_hand),
        cmocka_unit_test(test_rmsprop_by_hand),
        cmocka_unit_test(test_radam_rectification_terms),
        cmocka_unit_test(test_radam_unrectified_steps),
        cmocka_unit_test(test_lookahead_sync_every_k),
        cmocka_unit_test(test_no_decay_params),
        cmocka_unit_test(test_zero_grad_and_setters),
        cmocka_unit_test(test_state_listing),
        cmocka_unit_test(test_parse_and_defaults),
        cmocka_unit_test(test_creation_errors),
        cmocka_unit_test(test_golden_torch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
