/* Schedules: the training position, fit_flat_cos against the example of
 * spec §6.2 (LR 8e-3, 5 epochs of 147 batches), fit_one_cycle's end points
 * and midpoints (spec §6.3), and applying a schedule to an optimizer. */
#include "test_util.h"

#include "nn/tensor.h"
#include "train/optim.h"
#include "train/schedule.h"

#include <math.h>
#include <stdio.h>

#define assert_rel(got, want, rel) check_rel((got), (want), (rel), #got, __FILE__, __LINE__)
static void check_rel(double got, double want, double rel, const char *what, const char *file,
                      int line) {
    if (!(fabs(got - want) <= rel * fabs(want))) {
        print_error("%s:%d: %s: expected %.9g, got %.9g (relative diff %.3g)\n", file, line,
                    what, want, got, fabs(got - want) / fabs(want));
        _fail(file, line);
    }
}

#define EPOCHS  5
#define BATCHES 147     /* Imagenette's 9469 training images in batches of 64 */

/* The lr of overall batch index b (0..734) of the spec's example. */
static double flat_cos_lr(int b) {
    Schedule s = schedule_flat_cos(8e-3);
    return schedule_lr(&s, schedule_pos(b / BATCHES, EPOCHS, b % BATCHES, BATCHES));
}

static void test_position(void **state) {
    (void)state;
    assert_rel(schedule_pos(0, 5, 0, 147) + 1.0, 1.0, 0);
    assert_rel(schedule_pos(3, 5, 0, 147), 0.6, 1e-15);
    assert_rel(schedule_pos(3, 5, 111, 147), 552.0 / 735.0, 1e-15);
    assert_rel(schedule_pos(4, 5, 146, 147), 1.0 - 1.0 / 735.0, 1e-15);
}

/* Spec §6.2: batches 0-551 at 0.008, then 7.99967e-3 (batch 552),
 * 6.68922e-3 (600), 6.95118e-4 (700), 6.646e-7 (734); digits as given. */
static void test_flat_cos_spec_values(void **state) {
    (void)state;
    for (int b = 0; b < 552; b++)
        assert_true(flat_cos_lr(b) == 8e-3);
    assert_rel(flat_cos_lr(552), 7.99967e-3, 1e-5);
    assert_rel(flat_cos_lr(600), 6.68922e-3, 1e-5);
    assert_rel(flat_cos_lr(700), 6.95118e-4, 1e-5);
    assert_rel(flat_cos_lr(734), 6.646e-7, 1e-3);

    /* Monotone in the cosine phase, ending at LR/1e5 at pos 1. */
    for (int b = 552; b < 734; b++)
        assert_true(flat_cos_lr(b + 1) < flat_cos_lr(b));
    Schedule s = schedule_flat_cos(8e-3);
    assert_rel(schedule_lr(&s, 1.0), 8e-8, 1e-9);     /* cancellation: LR - (LR - LR/1e5) */
    double mom = 0.9;
    assert_int_equal(schedule_mom(&s, 0.9, &mom), 0);
    assert_rel(mom, 0.9, 0);
}

/* Spec §6.3: lr LR/25 -> LR over [0, 0.25), LR -> LR/1e5 over [0.25, 1);
 * mom 0.95 -> 0.85 -> 0.95 on the same pieces; each piece half a cosine. */
static void test_one_cycle(void **state) {
    (void)state;
    const double lr = 1e-2;
    Schedule s = schedule_one_cycle(lr);
    double mom;
    assert_rel(schedule_lr(&s, 0.0), lr / 25, 1e-15);
    assert_int_equal(schedule_mom(&s, 0.0, &mom), 1);
    assert_rel(mom, 0.95, 1e-15);

    assert_rel(schedule_lr(&s, 0.125), (lr / 25 + lr) / 2, 1e-12);
    schedule_mom(&s, 0.125, &mom);
    assert_rel(mom, 0.90, 1e-12);

    assert_rel(schedule_lr(&s, 0.25), lr, 1e-15);
    schedule_mom(&s, 0.25, &mom);
    assert_rel(mom, 0.85, 1e-15);

    assert_rel(schedule_lr(&s, 0.625), (lr + lr / 1e5) / 2, 1e-12);
    schedule_mom(&s, 0.625, &mom);
    assert_rel(mom, 0.90, 1e-12);

    assert_rel(schedule_lr(&s, 1.0), lr / 1e5, 1e-9);
    schedule_mom(&s, 1.0, &mom);
    assert_rel(mom, 0.95, 1e-15);

    /* A quarter into the first piece: start + (end - start)(1 - cos(pi/4))/2. */
    double a = (1.0 - cos(3.14159265358979323846 / 4)) / 2;
    assert_rel(schedule_lr(&s, 0.0625), lr / 25 + (lr - lr / 25) * a, 1e-12);
}

static void test_constant_and_apply(void **state) {
    (void)state;
    Schedule c = schedule_constant(3e-3);
    assert_rel(schedule_lr(&c, 0.0), 3e-3, 0);
    assert_rel(schedule_lr(&c, 0.99), 3e-3, 0);

    ParamList pl = {0};
    int shape[1] = {2};
    assert_non_null(param_add(&pl, "w", 1, 0, 1, shape));
    OptConfig cfg = {.kind = OPT_ADAM};
    OptHyper h = optim_defaults(OPT_ADAM);
    Optimizer *opt = optimizer_new_model(&cfg, &pl, &h);
    assert_non_null(opt);

    /* Flat-cos leaves mom alone; one-cycle sets both. */
    Schedule s = schedule_flat_cos(8e-3);
    schedule_apply(&s, schedule_pos(4, 5, 100, 147), opt);
    assert_rel(opt->groups[0].hyper.lr, flat_cos_lr(4 * 147 + 100), 1e-15);
    assert_rel(opt->groups[0].hyper.mom, 0.9, 0);
    s = schedule_one_cycle(8e-3);
    schedule_apply(&s, 0.25, opt);
    assert_rel(opt->groups[0].hyper.lr, 8e-3, 1e-15);
    assert_rel(opt->groups[0].hyper.mom, 0.85, 1e-15);
    optimizer_free(opt);
    param_list_free(&pl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_position),
        cmocka_unit_test(test_flat_cos_spec_values),
        cmocka_unit_test(test_one_cycle),
        cmocka_unit_test(test_constant_and_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
