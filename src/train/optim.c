/* fastai's optimizers written out; see optim.h.
 *
 * Sources: fastai optimizer.py (weight_decay, average_grad, average_sqr_grad,
 * step_stat, sgd_step, momentum_step, rms_prop_step, adam_step, radam_step,
 * Lookahead, ranger) and spec §5. Scalars (bias corrections, step sizes)
 * are computed in double, as Python does, then used in float loops in the
 * order of fastai's tensor operations, so results match PyTorch to a few
 * float roundings. */
#include "train/optim.h"

#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RAdam rectifies only when the variance estimate is tractable. */
#define RADAM_RHO_MIN 5.0
/* torch.nn.functional.softplus's threshold: linear above beta*x > 20. */
#define SOFTPLUS_THRESHOLD 20.0f

OptHyper optim_defaults(OptKind kind) {
    OptHyper h = {0};
    switch (kind) {
    case OPT_SGD:
        break;
    case OPT_RMSPROP:
        h.sqr_mom = 0.99, h.eps = 1e-8;
        break;
    case OPT_ADAM:
        h.mom = 0.9, h.sqr_mom = 0.99, h.eps = 1e-5, h.wd = 0.01;
        break;
    case OPT_RADAM:
        h.mom = 0.9, h.sqr_mom = 0.99, h.eps = 1e-5;
        break;
    }
    return h;
}

int optim_parse(const char *name, OptConfig *cfg, OptHyper *defaults) {
    static const struct {
        const char *name;
        OptKind     kind;
    } plain[] = {
        {"sgd", OPT_SGD}, {"rms", OPT_RMSPROP}, {"rmsprop", OPT_RMSPROP},
        {"adam", OPT_ADAM}, {"radam", OPT_RADAM},
    };
    memset(cfg, 0, sizeof *cfg);
    cfg->lookahead_alpha = OPT_LOOKAHEAD_ALPHA;

    /* ranger(lr, mom=0.95, wd=0.01, eps=1e-6, k=6, alpha=0.5) */
    if (strcmp(name, "ranger") == 0) {
        cfg->kind = OPT_RADAM;
        cfg->lookahead_k = OPT_LOOKAHEAD_K;
        *defaults = optim_defaults(OPT_RADAM);
        defaults->mom = 0.95, defaults->wd = 0.01, defaults->eps = 1e-6;
        return ERR_OK;
    }
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (strcmp(name, plain[i].name) == 0) {
            cfg->kind = plain[i].kind;
            *defaults = optim_defaults(plain[i].kind);
            return ERR_OK;
        }
    }
    return err_set(ERR_USAGE,
                   "unknown optimizer \"%s\": expected sgd, rms, rmsprop, adam, radam or ranger",
                   name);
}

const char *optim_kind_name(OptKind kind) {
    switch (kind) {
    case OPT_SGD:
        return "sgd";
    case OPT_RMSPROP:
        return "rmsprop";
    case OPT_ADAM:
        return "adam";
    case OPT_RADAM:
        return "radam";
    }
    return "unknown";
}

/* RAdam (Liu et al. 2020, eq. 6-7; fastai radam_step):
 *   rho_inf = 2/(1 - b2) - 1,   rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
 *   r_t = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t))
 * when rho_t > 5, else no rectification. */
double optim_radam_rect(double sqr_mom, uint64_t t) {
    double b2_t = pow(sqr_mom, (double)t);
    double rho_inf = 2.0 / (1.0 - sqr_mom) - 1.0;
    double rho = rho_inf - 2.0 * (double)t * b2_t / (1.0 - b2_t);
    if (!(rho > RADAM_RHO_MIN))
        return 0.0;
    return sqrt((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho));
}

/* ---- Updates, one Param at a time ---- */

/* Decoupled weight decay (Loshchilov & Hutter; fastai weight_decay):
 *   p <- p * (1 - lr*wd), before the update, never on no_decay Params. */
static void apply_weight_decay(Param *p, const OptHyper *h) {
    if (h->wd == 0.0 || p->no_decay)
        return;
    float keep = (float)(1.0 - h->lr * h->wd);
    for (size_t i = 0; i < p->numel; i++)
        p->data[i] *= keep;
}

/* SGD (fastai average_grad without dampening, momentum_step / sgd_step):
 *   m <- mom*m + g;  p <- p - lr*m       (without momentum: p <- p - lr*g) */
static void step_sgd(OptSlot *s, const OptHyper *h) {
    float *w = s->param->data, *m = s->grad_avg;
    const float *g = s->param->grad;
    float mom = (float)h->mom, neg_lr = (float)-h->lr;
    size_t n = s->param->numel;

    if (!m) {
        for (size_t i = 0; i < n; i++)
            w[i] += neg_lr * g[i];
        return;
    }
    for (size_t i = 0; i < n; i++) {
        m[i] = m[i] * mom + g[i];
        w[i] += neg_lr * m[i];
    }
}

/* RMSProp (fastai average_sqr_grad, rms_prop_step; no bias correction):
 *   v <- b2*v + (1-b2) g^2;  [m <- mom*m + g];  p <- p - lr * m / (sqrt(v) + eps)
 * where m is g itself when the optimizer was made with mom 0. */
static void step_rmsprop(OptSlot *s, const OptHyper *h) {
    float *w = s->param->data, *m = s->grad_avg, *v = s->sqr_avg;
    const float *g = s->param->grad;
    float mom = (float)h->mom, b2 = (float)h->sqr_mom, c2 = (float)(1.0 - h->sqr_mom);
    float neg_lr = (float)-h->lr, eps = (float)h->eps;

    for (size_t i = 0; i < s->param->numel; i++) {
        float num = g[i];
        if (m) {
            m[i] = m[i] * mom + g[i];
            num = m[i];
        }
        v[i] = v[i] * b2 + c2 * g[i] * g[i];
        w[i] += neg_lr * (num / (sqrtf(v[i]) + eps));
    }
}

/* Adam's moments (fastai average_grad with dampening, average_sqr_grad):
 *   m <- b1*m + (1-b1) g;   v <- b2*v + (1-b2) g^2 */
static void update_moments(OptSlot *s, const OptHyper *h) {
    float *m = s->grad_avg, *v = s->sqr_avg;
    const float *g = s->param->grad;
    float b1 = (float)h->mom, c1 = (float)(1.0 - h->mom);
    float b2 = (float)h->sqr_mom, c2 = (float)(1.0 - h->sqr_mom);

    for (size_t i = 0; i < s->param->numel; i++) {
        m[i] = m[i] * b1 + c1 * g[i];
        v[i] = v[i] * b2 + c2 * g[i] * g[i];
    }
}

/* Adam (Kingma & Ba; fastai adam_step), eps after the square root:
 *   p <- p - lr/(1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps) */
static void step_adam(OptSlot *s, const OptHyper *h) {
    float *w = s->param->data, *m = s->grad_avg, *v = s->sqr_avg;
    double t = (double)s->step;
    float step_size = (float)(-h->lr / (1.0 - pow(h->mom, t)));
    float debias2 = (float)(1.0 - pow(h->sqr_mom, t)), eps = (float)h->eps;

    update_moments(s, h);
    for (size_t i = 0; i < s->param->numel; i++)
        w[i] += step_size * (m[i] / (sqrtf(v[i] / debias2) + eps));
}

/* torch's softplus_beta(x) = log(1 + exp(beta x)) / beta, x when beta x > 20. */
static float softplus(float x, float beta) {
    float bx = x * beta;
    return bx > SOFTPLUS_THRESHOLD ? x : log1pf(expf(bx)) / beta;
}

/* RAdam (fastai radam_step, spec §5.6), after Adam's moments:
 *   r_t > 0:  d = sqrt(v / (1 - b2^t)) + eps, then softplus_beta(d) if beta;
 *             p <- p - lr r_t / (1 - b1^t) * m / d
 *   else:     p <- p - lr / (1 - b1^t) * m */
static void step_radam(OptSlot *s, const OptHyper *h) {
    float *w = s->param->data, *m = s->grad_avg, *v = s->sqr_avg;
    double t = (double)s->step, debias1 = 1.0 - pow(h->mom, t);
    double r = optim_radam_rect(h->sqr_mom, s->step);
    size_t n = s->param->numel;

    update_moments(s, h);
    if (r == 0.0) {
        float step_size = (float)(-h->lr / debias1);
        for (size_t i = 0; i < n; i++)
            w[i] += step_size * m[i];
        return;
    }

    float step_size = (float)(-h->lr * r / debias1);
    float debias2 = (float)(1.0 - pow(h->sqr_mom, t));
    float eps = (float)h->eps, beta = (float)h->beta;
    for (size_t i = 0; i < n; i++) {
        float d = sqrtf(v[i] / debias2) + eps;
        if (beta != 0.0f)
            d = softplus(d, beta);
        w[i] += step_size * (m[i] / d);
    }
}

/* Lookahead (Zhang et al. 2019; fastai Lookahead), every k-th step:
 *   slow <- slow + alpha (fast - slow);  fast <- slow */
static void lookahead_sync(Optimizer *opt) {
    float alpha = (float)opt->cfg.lookahead_alpha;
    for (int j = 0; j < opt->n_slots; j++) {
        float *fast = opt->slots[j].param->data, *slow = opt->slots[j].slow;
        for (size_t i = 0; i < opt->slots[j].param->numel; i++) {
            slow[i] += alpha * (fast[i] - slow[i]);
            fast[i] = slow[i];
        }
    }
}

void optimizer_step(Optimizer *opt) {
    /* Lookahead's slow weights start as a copy of the weights before the
     * very first inner step. */
    int lookahead = opt->cfg.lookahead_k > 0;
    if (lookahead && opt->lookahead_count == 0)
        for (int j = 0; j < opt->n_slots; j++)
            memcpy(opt->slots[j].slow, opt->slots[j].param->data,
                   opt->slots[j].param->numel * sizeof(float));

    /* The inner step: weight decay first, then the kind's update. */
    for (int j = 0; j < opt->n_slots; j++) {
        OptSlot *s = &opt->slots[j];
        const OptHyper *h = &opt->groups[s->group].hyper;
        apply_weight_decay(s->param, h);
        s->step++;
        switch (opt->cfg.kind) {
        case OPT_SGD:
            step_sgd(s, h);
            break;
        case OPT_RMSPROP:
            step_rmsprop(s, h);
            break;
        case OPT_ADAM:
            step_adam(s, h);
            break;
        case OPT_RADAM:
            step_radam(s, h);
            break;
        }
    }

    /* The counter runs across epochs; sync on every k-th step. */
    if (lookahead && ++opt->lookahead_count % (uint64_t)opt->cfg.lookahead_k == 0)
        lookahead_sync(opt);
}

void optimizer_zero_grad(Optimizer *opt) {
    for (int j = 0; j < opt->n_slots; j++)
        memset(opt->slots[j].param->grad, 0, opt->slots[j].param->numel * sizeof(float));
}

void optimizer_set_lr(Optimizer *opt, double lr) {
    for (int g = 0; g < opt->n_groups; g++)
        opt->groups[g].hyper.lr = lr;
}

void optimizer_set_mom(Optimizer *opt, double mom) {
    for (int g = 0; g < opt->n_groups; g++)
        opt->groups[g].hyper.mom = mom;
}

int optimizer_state_count(const Optimizer *opt) {
    return opt->n_states;
}

const OptState *optimizer_state_at(const Optimizer *opt, int i) {
    return i >= 0 && i < opt->n_states ? &opt->states[i] : NULL;
}

/* ---- Construction ---- */

static int check_hyper(const OptConfig *cfg, const OptHyper *h, int group) {
    int adam_like = cfg->kind == OPT_ADAM || cfg->kind == OPT_RADAM;
    if (!isfinite(h->lr) || !isfinite(h->wd) || !isfinite(h->beta) || h->beta < 0.0)
        return err_set(ERR_INVALID, "optimizer group %d: lr, wd and beta must be finite, "
                       "beta >= 0 (got lr %g, wd %g, beta %g)", group, h->lr, h->wd, h->beta);
    if (!(h->mom >= 0.0 && h->mom < (adam_like ? 1.0 : INFINITY)))
        return err_set(ERR_INVALID, "optimizer group %d: mom %g out of range (%s)", group,
                       h->mom, adam_like ? "[0, 1)" : ">= 0");
    if (!(h->sqr_mom >= 0.0 && h->sqr_mom < 1.0) && cfg->kind != OPT_SGD)
        return err_set(ERR_INVALID, "optimizer group %d: sqr_mom %g is not in [0, 1)", group,
                       h->sqr_mom);
    if (!(h->eps >= 0.0 && isfinite(h->eps)))
        return err_set(ERR_INVALID, "optimizer group %d: eps %g must be >= 0", group, h->eps);
    return ERR_OK;
}

static int check_config(const OptConfig *cfg, const OptGroup *groups, int n_groups) {
    if ((int)cfg->kind < OPT_SGD || (int)cfg->kind > OPT_RADAM)
        return err_set(ERR_INVALID, "optimizer: unknown kind %d", (int)cfg->kind);
    if (cfg->lookahead_k < 0 ||
        (cfg->lookahead_k > 0 && !(cfg->lookahead_alpha > 0.0 && cfg->lookahead_alpha <= 1.0)))
        return err_set(ERR_INVALID, "lookahead: k %d must be >= 0 and alpha %g in (0, 1]",
                       cfg->lookahead_k, cfg->lookahead_alpha);
    if (n_groups < 1)
        return err_set(ERR_INVALID, "optimizer: no parameter groups");

    /* Every Param trainable, and in one group only. */
    for (int g = 0; g < n_groups; g++) {
        int rc = check_hyper(cfg, &groups[g].hyper, g);
        if (rc < 0)
            return rc;
        if (groups[g].n < 0)
            return err_set(ERR_INVALID, "optimizer group %d: %d parameters", g, groups[g].n);
        for (int i = 0; i < groups[g].n; i++) {
            const Param *p = groups[g].params[i];
            if (!p->grad)
                return err_set(ERR_INVALID, "optimizer: %s has no gradient (a buffer?)",
                               p->name);
            for (int g2 = 0; g2 <= g; g2++)
                for (int i2 = 0; i2 < (g2 == g ? i : groups[g2].n); i2++)
                    if (groups[g2].params[i2] == p)
                        return err_set(ERR_INVALID, "optimizer: %s is given twice", p->name);
        }
    }
    return ERR_OK;
}

/* Adds a state entry; slot j's Param gives the shape of a float array. */
static void add_state(Optimizer *opt, const char *prefix, const OptSlot *s, OptStateType type,
                      void *data) {
    OptState *st = &opt->states[opt->n_states++];
    snprintf(st->name, sizeof st->name, "%s%s", prefix, s ? s->param->name : "");
    st->type = type;
    st->data = data;
    if (type == OPT_STATE_U64) {
        st->numel = 1, st->ndim = 1, st->shape[0] = 1;
        return;
    }
    st->numel = s->param->numel;
    st->ndim = s->param->ndim;
    memcpy(st->shape, s->param->shape, sizeof st->shape);
}

/* Lists the state: the float arrays slot by slot, then the counters. */
static void list_states(Optimizer *opt) {
    for (int j = 0; j < opt->n_slots; j++) {
        OptSlot *s = &opt->slots[j];
        if (s->grad_avg)
            add_state(opt, "grad_avg:", s, OPT_STATE_F32, s->grad_avg);
        if (s->sqr_avg)
            add_state(opt, "sqr_avg:", s, OPT_STATE_F32, s->sqr_avg);
        if (s->slow)
            add_state(opt, "slow:", s, OPT_STATE_F32, s->slow);
    }
    for (int j = 0; j < opt->n_slots; j++)
        add_state(opt, "step:", &opt->slots[j], OPT_STATE_U64, &opt->slots[j].step);
    if (opt->cfg.lookahead_k > 0)
        add_state(opt, "lookahead.count", NULL, OPT_STATE_U64, &opt->lookahead_count);
}

/* Allocates slot s's arrays: which ones depends on the kind (fastai builds
 * SGD's and RMSProp's momentum only when mom was non-zero). */
static int alloc_slot(Optimizer *opt, OptSlot *s) {
    size_t n = s->param->numel ? s->param->numel : 1;
    int adam_like = opt->cfg.kind == OPT_ADAM || opt->cfg.kind == OPT_RADAM;
    int need_m = adam_like || opt->momentum;
    int need_v = adam_like || opt->cfg.kind == OPT_RMSPROP;

    if (need_m && !(s->grad_avg = calloc(n, sizeof(float))))
        return ERR_NOMEM;
    if (need_v && !(s->sqr_avg = calloc(n, sizeof(float))))
        return ERR_NOMEM;
    if (opt->cfg.lookahead_k > 0 && !(s->slow = calloc(n, sizeof(float))))
        return ERR_NOMEM;
    return ERR_OK;
}

/* Copies the groups and makes one slot per Param. */
static int build(Optimizer *opt, const OptGroup *groups, int n_groups) {
    if (n_groups < 1)
        return ERR_INVALID;
    opt->groups = calloc((size_t)n_groups, sizeof *opt->groups);
    if (!opt->groups)
        return ERR_NOMEM;
    opt->n_groups = n_groups;
    int n_slots = 0;
    for (int g = 0; g < n_groups; g++) {
        opt->groups[g] = groups[g];
        opt->groups[g].params = malloc(((size_t)groups[g].n + 1) * sizeof(Param *));
        if (!opt->groups[g].params)
            return ERR_NOMEM;
        memcpy(opt->groups[g].params, groups[g].params, (size_t)groups[g].n * sizeof(Param *));
        n_slots += groups[g].n;
    }

    /* At most 3 arrays and a counter per Param, and the lookahead count. */
    opt->slots = calloc((size_t)n_slots + 1, sizeof *opt->slots);
    opt->states = calloc(4 * (size_t)n_slots + 1, sizeof *opt->states);
    if (!opt->slots || !opt->states)
        return ERR_NOMEM;
    for (int g = 0; g < n_groups; g++) {
        for (int i = 0; i < groups[g].n; i++) {
            OptSlot *s = &opt->slots[opt->n_slots++];
            s->param = groups[g].params[i];
            s->group = g;
            if (alloc_slot(opt, s) < 0)
                return ERR_NOMEM;
        }
    }
    list_states(opt);
    return ERR_OK;
}

Optimizer *optimizer_new(const OptConfig *cfg, const OptGroup *groups, int n_groups) {
    if (check_config(cfg, groups, n_groups) < 0)
        return NULL;
    Optimizer *opt = calloc(1, sizeof *opt);
    if (!opt) {
        err_set(ERR_NOMEM, "optimizer: out of memory");
        return NULL;
    }
    opt->cfg = *cfg;
    for (int g = 0; g < n_groups; g++)
        opt->momentum |= groups[g].hyper.mom != 0.0;
    if (build(opt, groups, n_groups) < 0) {
        optimizer_free(opt);
        err_set(ERR_NOMEM, "optimizer: out of memory for its state");
        return NULL;
    }
    return opt;
}

Optimizer *optimizer_new_model(const OptConfig *cfg, const ParamList *pl, const OptHyper *h) {
    OptGroup group = {.params = malloc(((size_t)pl->n + 1) * sizeof(Param *)), .hyper = *h};
    if (!group.params) {
        err_set(ERR_NOMEM, "optimizer: out of memory");
        return NULL;
    }
    for (int i = 0; i < pl->n; i++)
        if (pl->items[i]->grad)
            group.params[group.n++] = pl->items[i];

    Optimizer *opt = optimizer_new(cfg, &group, 1);
    free(group.params);
    return opt;
}

void optimizer_free(Optimizer *opt) {
    if (!opt)
        return;
    for (int j = 0; j < opt->n_slots; j++) {
        free(opt->slots[j].grad_avg);
        free(opt->slots[j].sqr_avg);
        free(opt->slots[j].slow);
    }
    for (int g = 0; g < opt->n_groups; g++)
        free(opt->groups[g].params);
    free(opt->groups);
    free(opt->slots);
    free(opt->states);
    free(opt);
}
