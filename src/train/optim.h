/* Optimizers with fastai's semantics: SGD, RMSProp, Adam, RAdam, and
 * Lookahead over any of them (ranger = Lookahead(RAdam)).
 *
 * An Optimizer updates groups of Params, each group with hyper-parameters
 * that a schedule may change before any step. Every step first applies
 * decoupled weight decay, p *= 1 - lr*wd, except to no_decay Params (BN
 * weights and biases, every bias), then the update of the chosen kind
 * (spec §5). State is allocated when the optimizer is made, so a step
 * allocates nothing, and is listed as named arrays for checkpoints.
 * Not covered: L2 regularisation in the gradient, frozen parameters. */
#ifndef NOISETTE_TRAIN_OPTIM_H
#define NOISETTE_TRAIN_OPTIM_H

#include "nn/tensor.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    OPT_SGD,        /* momentum SGD, no dampening */
    OPT_RMSPROP,    /* no bias correction */
    OPT_ADAM,
    OPT_RADAM       /* rectified Adam, threshold 5, optional softplus */
} OptKind;

/* Hyper-parameters of one group, read at every step. */
typedef struct {
    double lr;          /* learning rate */
    double mom;         /* SGD/RMSProp momentum, Adam/RAdam beta1 */
    double sqr_mom;     /* beta2: decay of the squared-gradient average */
    double eps;         /* added to the denominator's square root */
    double wd;          /* decoupled weight decay */
    double beta;        /* RAdam softplus beta; 0 turns it off */
} OptHyper;

typedef struct {
    Param  **params;    /* borrowed; each has a gradient */
    int      n;
    OptHyper hyper;
} OptGroup;

typedef struct {
    OptKind kind;
    int     lookahead_k;        /* sync every k steps; 0: no lookahead */
    double  lookahead_alpha;    /* slow += alpha * (fast - slow) */
} OptConfig;

/* fastai's Lookahead defaults, also ranger's. */
#define OPT_LOOKAHEAD_K     6
#define OPT_LOOKAHEAD_ALPHA 0.5

/* Per-parameter state. step counts the steps this Param has taken. */
typedef struct {
    Param    *param;
    int       group;
    float    *grad_avg;     /* momentum or first moment, or NULL */
    float    *sqr_avg;      /* second moment, or NULL */
    float    *slow;         /* lookahead slow weights, or NULL */
    uint64_t  step;
} OptSlot;

typedef enum {
    OPT_STATE_F32,          /* float array shaped like its Param */
    OPT_STATE_U64           /* counter, numel 1 */
} OptStateType;

#define OPT_STATE_NAME_MAX (PARAM_NAME_MAX + 16)

/* One named state array, e.g. "grad_avg:stem.0.conv.weight",
 * "sqr_avg:...", "slow:...", "step:...", "lookahead.count". */
typedef struct {
    char         name[OPT_STATE_NAME_MAX];
    OptStateType type;
    void        *data;      /* float * or uint64_t *, inside the Optimizer */
    size_t       numel;
    int          ndim, shape[PARAM_MAX_DIMS];
} OptState;

typedef struct {
    OptConfig cfg;
    int       momentum;         /* SGD/RMSProp: a mom was non-zero when made */
    OptGroup *groups;           /* owned copies; params arrays owned too */
    int       n_groups;
    OptSlot  *slots;            /* one per Param, in group order */
    int       n_slots;
    uint64_t  lookahead_count;  /* steps since creation, lookahead only */
    OptState *states;           /* F32 arrays first, then the counters */
    int       n_states;
} Optimizer;

/* The hyper-parameters fastai's constructor of kind defaults to (lr 0:
 * the caller sets it): SGD mom 0; RMSProp mom 0, sqr_mom 0.99, eps 1e-8;
 * Adam 0.9, 0.99, 1e-5, wd 0.01; RAdam 0.9, 0.99, 1e-5, wd 0, beta 0. */
OptHyper optim_defaults(OptKind kind);

/* The optimizer the reference's --opt NAME builds: "sgd", "rms" (or
 * "rmsprop"), "adam", "radam", or "ranger" (RAdam with lookahead k 6,
 * alpha 0.5; defaults mom 0.95, sqr_mom 0.99, eps 1e-6, wd 0.01). Fills
 * cfg and *defaults; ERR_USAGE naming the accepted names if unknown. */
int optim_parse(const char *name, OptConfig *cfg, OptHyper *defaults);

/* "sgd", "rmsprop", "adam" or "radam". */
const char *optim_kind_name(OptKind kind);

/* RAdam's rectification r_t for beta2 = sqr_mom at step t >= 1, or 0 when
 * rho_t <= 5 and the step is un-rectified momentum SGD (spec §5.6). */
double optim_radam_rect(double sqr_mom, uint64_t t);

/* An optimizer over n_groups groups (copied; the Params stay the caller's
 * and must outlive it). Allocates the state of every Param, zeroed.
 * Returns NULL with the reason recorded when a Param has no gradient or
 * appears twice, a hyper-parameter is out of range (Adam/RAdam mom and
 * sqr_mom in [0, 1), eps >= 0, lookahead alpha in (0, 1]) or memory runs
 * out. Scheduled values must stay in the same ranges. */
Optimizer *optimizer_new(const OptConfig *cfg, const OptGroup *groups, int n_groups);

/* One group holding every Param of pl that has a gradient, in list order. */
Optimizer *optimizer_new_model(const OptConfig *cfg, const ParamList *pl, const OptHyper *h);

void optimizer_free(Optimizer *opt);

/* One step from the gradients now in the Params; allocates nothing. */
void optimizer_step(Optimizer *opt);

/* Sets every gradient of the optimizer's Params to zero. */
void optimizer_zero_grad(Optimizer *opt);

/* Sets lr (or mom) of every group, as a schedule does before a step. */
void optimizer_set_lr(Optimizer *opt, double lr);
void optimizer_set_mom(Optimizer *opt, double mom);

/* The named state arrays, for checkpoints: indexes 0..count-1, float
 * arrays first, then the u64 counters. The arrays live in opt; writing
 * them (a checkpoint load) restores the optimizer exactly. */
int optimizer_state_count(const Optimizer *opt);
const OptState *optimizer_state_at(const Optimizer *opt, int i);

#endif
