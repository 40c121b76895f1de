/* fastai's fit_flat_cos and fit_one_cycle; see schedule.h.
 *
 * Both are fastai's combine_scheds of two phases split at pct_start, each
 * phase annealing from a start to an end value over its own position
 * a in [0, 1). Sources: fastai callback/schedule.py (SchedNo, SchedCos,
 * combine_scheds, fit_flat_cos, fit_one_cycle) and spec §6. fastai rounds
 * a to float32; this computes it in double (a relative difference of
 * about 1e-7 in lr). */
#include "train/schedule.h"

#include <math.h>

#define FLAT_COS_PCT_START   0.75
#define ONE_CYCLE_PCT_START  0.25
#define ONE_CYCLE_DIV        25.0
#define DIV_FINAL            1e5
#define ONE_CYCLE_MOM_MAX    0.95
#define ONE_CYCLE_MOM_MIN    0.85
#define SCHED_PI             3.14159265358979323846

Schedule schedule_flat_cos(double lr_max) {
    return (Schedule){.kind = SCHED_FLAT_COS, .lr_max = lr_max,
                      .pct_start = FLAT_COS_PCT_START, .div = 1.0, .div_final = DIV_FINAL};
}

Schedule schedule_one_cycle(double lr_max) {
    return (Schedule){.kind = SCHED_ONE_CYCLE, .lr_max = lr_max,
                      .pct_start = ONE_CYCLE_PCT_START, .div = ONE_CYCLE_DIV,
                      .div_final = DIV_FINAL, .mom_max = ONE_CYCLE_MOM_MAX,
                      .mom_min = ONE_CYCLE_MOM_MIN};
}

Schedule schedule_constant(double lr_max) {
    return (Schedule){.kind = SCHED_CONSTANT, .lr_max = lr_max, .pct_start = 1.0,
                      .div = 1.0, .div_final = 1.0};
}

double schedule_pos(int epoch, int n_epochs, int iter, int n_iter) {
    return (double)epoch / n_epochs + (double)iter / ((double)n_iter * n_epochs);
}

/* fastai sched_cos: start + (1 + cos(pi (1 - a))) (end - start) / 2, i.e.
 * half a cosine from start (a = 0) to end (a = 1). */
static double anneal_cos(double start, double end, double a) {
    return start + (1.0 + cos(SCHED_PI * (1.0 - a))) * (end - start) / 2.0;
}

/* Which phase pos is in, and the position a inside it. */
static int phase_at(double pct_start, double pos, double *a) {
    if (pos < pct_start) {
        *a = pos / pct_start;
        return 0;
    }
    *a = pct_start < 1.0 ? (pos - pct_start) / (1.0 - pct_start) : 1.0;
    return 1;
}

/* flat_cos:  phase 0 lr_max;  phase 1 cos(lr_max -> lr_max/div_final)
 * one_cycle: phase 0 cos(lr_max/div -> lr_max);  phase 1 as flat_cos */
double schedule_lr(const Schedule *s, double pos) {
    double a;
    int phase = phase_at(s->pct_start, pos, &a);
    switch (s->kind) {
    case SCHED_CONSTANT:
        return s->lr_max;
    case SCHED_FLAT_COS:
        return phase == 0 ? s->lr_max : anneal_cos(s->lr_max, s->lr_max / s->div_final, a);
    case SCHED_ONE_CYCLE:
        return phase == 0 ? anneal_cos(s->lr_max / s->div, s->lr_max, a)
                          : anneal_cos(s->lr_max, s->lr_max / s->div_final, a);
    }
    return s->lr_max;
}

/* one_cycle momentum: phase 0 cos(mom_max -> mom_min); phase 1 back up. */
int schedule_mom(const Schedule *s, double pos, double *mom) {
    if (s->kind != SCHED_ONE_CYCLE)
        return 0;
    double a;
    int phase = phase_at(s->pct_start, pos, &a);
    *mom = phase == 0 ? anneal_cos(s->mom_max, s->mom_min, a)
                      : anneal_cos(s->mom_min, s->mom_max, a);
    return 1;
}

void schedule_apply(const Schedule *s, double pos, Optimizer *opt) {
    optimizer_set_lr(opt, schedule_lr(s, pos));
    double mom;
    if (schedule_mom(s, pos, &mom))
        optimizer_set_mom(opt, mom);
}
