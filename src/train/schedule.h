/* Learning-rate (and momentum) schedules over the training position.
 *
 * The position runs from 0 at the first batch towards 1 at the end of
 * training: before batch i of n in epoch e of E, pos = e/E + i/(n*E)
 * (spec §6.1). A schedule maps pos to the lr, and for one-cycle also to the
 * momentum, that the optimizer uses for that batch. These are fastai's
 * fit_flat_cos and fit_one_cycle; other fastai schedules are not here. */
#ifndef NOISETTE_TRAIN_SCHEDULE_H
#define NOISETTE_TRAIN_SCHEDULE_H

#include "train/optim.h"

typedef enum {
    SCHED_CONSTANT,     /* lr_max throughout */
    SCHED_FLAT_COS,     /* flat at lr_max, then cosine down to lr_max/div_final */
    SCHED_ONE_CYCLE     /* cosine up from lr_max/div, then down; momentum cycle */
} SchedKind;

typedef struct {
    SchedKind kind;
    double    lr_max;       /* the peak (flat-phase) learning rate */
    double    pct_start;    /* fraction of training in the first phase, [0, 1] */
    double    div;          /* one-cycle starts at lr_max/div */
    double    div_final;    /* the end value is lr_max/div_final */
    double    mom_max;      /* one-cycle momentum: mom_max -> mom_min -> mom_max */
    double    mom_min;
} Schedule;

/* fit_flat_cos defaults: pct_start 0.75, div_final 1e5, no momentum schedule. */
Schedule schedule_flat_cos(double lr_max);

/* fit_one_cycle defaults: div 25, div_final 1e5, pct_start 0.25,
 * momentum 0.95 -> 0.85 -> 0.95. */
Schedule schedule_one_cycle(double lr_max);

/* A constant lr_max, no momentum schedule. */
Schedule schedule_constant(double lr_max);

/* The training position before batch iter (0-based) of n_iter in epoch
 * (0-based) of n_epochs: epoch/n_epochs + iter/(n_iter*n_epochs). */
double schedule_pos(int epoch, int n_epochs, int iter, int n_iter);

/* The learning rate at pos; positions past [0, 1] continue the last phase. */
double schedule_lr(const Schedule *s, double pos);

/* Writes the momentum at pos to *mom and returns 1 for a schedule with a
 * momentum cycle; returns 0 and leaves *mom alone otherwise. */
int schedule_mom(const Schedule *s, double pos, double *mom);

/* Sets lr (and a scheduled mom) of every group of opt for pos. */
void schedule_apply(const Schedule *s, double pos, Optimizer *opt);

#endif
