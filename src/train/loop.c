/* The training loop, its table and its checkpoints; see loop.h. */
#include "train/loop.h"

#include "data/transform.h"
#include "labels/csv.h"
#include "train/checkpoint.h"
#include "train/dist.h"
#include "train/methods.h"
#include "train/metrics.h"
#include "train/schedule.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EMA_BETA        0.98    /* fastai's smoothed training loss (spec §9.2) */
#define HISTORY_FIELDS  5       /* train, valid loss, accuracy, top-5, seconds */
#define HISTORY_FLOATS  (2 * HISTORY_FIELDS)    /* each double as two floats */
#define TOP_K           5
#define MODEL_STREAM    (1ULL << 62)
#define PEER_STREAM     (MODEL_STREAM + 1)
#define MIXUP_STREAM    (MODEL_STREAM + 2)
#define ERASE_STREAM    (MODEL_STREAM + 3)
#define CKPT_FILE       "checkpoint.ckpt"
#define BUCKET_BYTES    (4u << 20)  /* gradients per all-reduce (dist.h) */

static volatile sig_atomic_t stop_requested;

void train_request_stop(void) {
    stop_requested = 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the table (spec §9.4) ---------------------------------------------- */

static const char *const COLUMNS[6] = {"epoch", "train_loss", "valid_loss", "accuracy",
                                       "top_k_accuracy", "time"};

/* Each column is its name padded to 8, then two spaces. */
static int column_width(int c) {
    int n = (int)strlen(COLUMNS[c]);
    return (n < 8 ? 8 : n) + 2;
}

void train_print_header(FILE *out) {
    for (int c = 0; c < 6; c++)
        fprintf(out, "%-*s", column_width(c), COLUMNS[c]);
    fputc('\n', out);
}

void train_print_row(FILE *out, int epoch, const EpochStats *s) {
    char cells[6][64];
    long secs = (long)s->seconds;
    snprintf(cells[0], sizeof cells[0], "%d", epoch);
    snprintf(cells[1], sizeof cells[1], "%.6f", s->train_loss);
    snprintf(cells[2], sizeof cells[2], "%.6f", s->valid_loss);
    snprintf(cells[3], sizeof cells[3], "%.6f", s->accuracy);
    snprintf(cells[4], sizeof cells[4], "%.6f", s->top5);
    if (secs >= 3600)
        snprintf(cells[5], sizeof cells[5], "%ld:%02ld:%02ld", secs / 3600, secs / 60 % 60,
                 secs % 60);
    else
        snprintf(cells[5], sizeof cells[5], "%02ld:%02ld", secs / 60, secs % 60);
    for (int c = 0; c < 6; c++)
        fprintf(out, "%-*s", column_width(c), cells[c]);
    fputc('\n', out);
    fflush(out);
}

/* ---- one run's state ----------------------------------------------------- */

typedef struct {
    const TrainConfig *cfg;
    const Dataset     *d;
    Model              model;
    Optimizer         *opt;
    Schedule           sched;
    Loader            *train, *valid;
    Loader            *prune;       /* truncated GCE: training images, not augmented */
    ParamList          extra;       /* loss EMA and history, saved with the model */
    Param             *ema;         /* [value, count] */
    Param             *history;     /* epochs x HISTORY_FLOATS */
    float             *dlogits;
    char               desc[320], ckpt[4096];
    uint64_t           step;

    /* MixUp: mixed inputs, per-sample lam and partner, the second label's
     * targets, weights, losses and gradient. */
    float             *mixed, *lam, *w1, *w2, *l2, *dl2;
    int32_t           *partner, *y2;
    /* SAM: the weights at w and the buffers after the first pass. */
    float             *sam_saved, *buf_saved;
    /* ELR: the targets, one row per training image (checkpointed). */
    Param             *elr;
    /* Truncated GCE: a 0/1 weight per training image (checkpointed), and
     * the batch's weights. */
    Param             *tgce;
    float             *wt;
    /* Co-teaching: the peer network, and per-sample losses and weights of
     * both; the optimizer steps both networks' parameters. */
    Model              peer;
    int                has_peer;
    float             *loss_a, *loss_b, *w_a, *w_b, *dlogits_b;
    int               *order;
    double             progress_at; /* when the last progress line was printed */
    /* Data-parallel runs: ranks, this rank's share of a batch, the
     * gradient averaging, and whether any rank was asked to stop. */
    int                ranks, rank, local_bs, stop_all;
    GradSync          *gs;
} Run;

static void run_free(Run *r) {
    gradsync_free(r->gs);
    loader_free(r->train);
    loader_free(r->valid);
    loader_free(r->prune);
    optimizer_free(r->opt);
    model_free(&r->model);
    param_list_free(&r->extra);
    if (r->has_peer)
        model_free(&r->peer);
    void *bufs[] = {r->dlogits, r->mixed, r->lam, r->w1, r->w2, r->l2, r->dl2, r->partner,
                    r->y2, r->sam_saved, r->buf_saved, r->loss_a, r->loss_b, r->w_a, r->w_b,
                    r->dlogits_b, r->order, r->wt};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
}

/* Every Param of the model and the peer (when there is one), for one
 * optimizer over both: each network's parameters step independently. */
static Optimizer *run_optimizer(Run *r, const OptConfig *oc) {
    if (!r->has_peer)
        return optimizer_new_model(oc, &r->model.params, &r->cfg->hyper);
    ParamList both = {0};
    int n = r->model.params.n + r->peer.params.n;
    if (!(both.items = malloc((size_t)n * sizeof *both.items))) {
        err_set(ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(both.items, r->model.params.items, (size_t)r->model.params.n * sizeof *both.items);
    memcpy(both.items + r->model.params.n, r->peer.params.items,
           (size_t)r->peer.params.n * sizeof *both.items);
    both.n = both.cap = n;
    Optimizer *opt = optimizer_new_model(oc, &both, &r->cfg->hyper);
    param_list_view_free(&both);
    return opt;
}

/* The buffers each method needs, allocated once: a step allocates nothing. */
static int method_setup(Run *r) {
    const MethodConfig *m = &r->cfg->methods;
    size_t bs = (size_t)r->local_bs, k = (size_t)r->cfg->model.n_out;
    size_t sample = (size_t)r->cfg->model.c_in * (size_t)r->cfg->size * (size_t)r->cfg->size;
    int ok = 1;

    if (m->mixup > 0) {
        ok &= !!(r->mixed = malloc(bs * sample * sizeof *r->mixed));
        ok &= !!(r->lam = malloc(bs * sizeof *r->lam));
        ok &= !!(r->w1 = malloc(bs * sizeof *r->w1));
        ok &= !!(r->w2 = malloc(bs * sizeof *r->w2));
        ok &= !!(r->l2 = malloc(bs * sizeof *r->l2));
        ok &= !!(r->dl2 = malloc(bs * k * sizeof *r->dl2));
        ok &= !!(r->partner = malloc(bs * sizeof *r->partner));
        ok &= !!(r->y2 = malloc(bs * sizeof *r->y2));
    }
    if (m->sam_rho > 0) {
        ok &= !!(r->sam_saved = malloc(sam_saved_floats(&r->model.params) * sizeof(float)));
        size_t nb = buffers_floats(&r->model.buffers);
        ok &= !!(r->buf_saved = malloc((nb ? nb : 1) * sizeof(float)));
    }
    if (m->co_teaching) {
        ok &= !!(r->loss_a = malloc(bs * sizeof *r->loss_a));
        ok &= !!(r->loss_b = malloc(bs * sizeof *r->loss_b));
        ok &= !!(r->w_a = malloc(bs * sizeof *r->w_a));
        ok &= !!(r->w_b = malloc(bs * sizeof *r->w_b));
        ok &= !!(r->dlogits_b = malloc(bs * k * sizeof *r->dlogits_b));
        ok &= !!(r->order = malloc(bs * sizeof *r->order));
    }
    if (!ok)
        return err_set(ERR_NOMEM, "out of memory");
    if (m->elr_lambda > 0) {
        int shape[2] = {r->d->n[SPLIT_TRAIN], (int)k};
        if (!(r->elr = param_add(&r->extra, "elr.targets", 0, 0, 2, shape)))
            return err_set(ERR_NOMEM, "out of memory for ELR's %d x %zu targets", shape[0], k);
    }
    if (r->cfg->loss.kind == LOSS_TGCE) {
        int shape[1] = {r->d->n[SPLIT_TRAIN]};
        if (!(r->tgce = param_add(&r->extra, "tgce.weights", 0, 0, 1, shape)) ||
            !(r->wt = malloc(bs * sizeof *r->wt)))
            return err_set(ERR_NOMEM, "out of memory");
        for (int i = 0; i < shape[0]; i++)
            r->tgce->data[i] = 1.0f;    /* training starts as plain GCE */
    }
    return ERR_OK;
}

/* The checkpoint's description of the run: the model, its size, epochs and
 * batch, and the methods that add arrays (so that a checkpoint of another
 * setup is refused with both descriptions). */
static void run_describe(Run *r) {
    const TrainConfig *cfg = r->cfg;
    model_describe(&r->model, r->desc, sizeof r->desc);
    size_t n = strlen(r->desc);
    n += (size_t)snprintf(r->desc + n, sizeof r->desc - n, " size=%d epochs=%d bs=%d%s%s%s",
                          cfg->size, cfg->epochs, cfg->bs,
                          cfg->methods.elr_lambda > 0 ? " elr" : "",
                          cfg->methods.co_teaching ? " co-teaching" : "",
                          cfg->loss.kind == LOSS_TGCE ? " tgce" : "");
    /* A data-parallel run resumes with as many ranks, for the same result. */
    if (r->ranks > 1 && n < sizeof r->desc)
        snprintf(r->desc + n, sizeof r->desc - n, " ranks=%d%s", r->ranks,
                 cfg->sync_bn ? " sync-bn" : "");
}

static int run_setup(Run *r, const TrainConfig *cfg, const Dataset *d) {
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->d = d;
    r->ranks = dist_size();
    r->rank = dist_rank();
    r->local_bs = cfg->bs / r->ranks;
    int rc = ERR_OK;
    if (cfg->bs % r->ranks != 0)
        return err_set(ERR_USAGE, "--bs %d does not divide among %d ranks", cfg->bs, r->ranks);
    /* LIMITATION: co-teaching's and ELR's per-image state is not exchanged
     * between ranks, so with several ranks they refuse to run. */
    if (r->ranks > 1 && (cfg->methods.co_teaching || cfg->methods.elr_lambda > 0))
        return err_set(ERR_USAGE, "co-teaching and ELR do not run on several ranks yet");

    /* Model, optimizer, schedule. The same draws on every rank. */
    Rng rng;
    rng_seed_stream(&rng, cfg->seed, 0, MODEL_STREAM);
    if ((rc = model_build(&r->model, &cfg->model, r->local_bs, cfg->size, cfg->backend,
                          &rng)) < 0)
        return rc;
    if (r->ranks > 1) {
        if (!(r->gs = gradsync_new(&r->model, BUCKET_BYTES)))
            return ERR_NOMEM;
        if (cfg->sync_bn && (rc = model_set_bn_sync(&r->model,
                                                    (BnSync){dist_bn_sync, NULL})) < 0)
            return rc;
    }
    if (cfg->methods.co_teaching) {
        /* The peer: the same architecture from its own draws, its arrays
         * named peer.* in checkpoints. */
        rng_seed_stream(&rng, cfg->seed, 0, PEER_STREAM);
        if ((rc = model_build(&r->peer, &cfg->model, r->local_bs, cfg->size, cfg->backend,
                              &rng)) < 0)
            return rc;
        r->has_peer = 1;
        if ((rc = model_prefix_names(&r->peer, "peer.")) < 0)
            return rc;
    }
    OptConfig oc;
    OptHyper defaults;
    if ((rc = optim_parse(cfg->opt, &oc, &defaults)) < 0)
        return rc;
    if (!(r->opt = run_optimizer(r, &oc)))
        return ERR_INVALID;
    r->sched = schedule_flat_cos(cfg->hyper.lr);

    /* Loaders: augmented training batches, clean validation batches, each
     * rank's shard of each; truncated GCE's pass over every training image
     * runs whole on each rank (its weights are then the same everywhere). */
    LoaderOptions lo = {.split = SPLIT_TRAIN, .batch_size = cfg->bs, .threads = cfg->threads,
                        .layout = LAYOUT_NCHW, .skip_bad = cfg->skip_bad, .limit = cfg->limit,
                        .sample = {.size = cfg->size, .augment = 1,
                                   .crop = d->kind != DATASET_FMNIST,
                                   .dct_scale = cfg->dct_scale, .min_scale = 0.35,
                                   .seed = cfg->seed},
                        .subset = cfg->train_items, .n_subset = cfg->n_train_items,
                        .shard_rank = r->rank, .shard_count = r->ranks};
    if (!(r->train = loader_new(d, &lo)))
        return ERR_INVALID;
    lo.subset = NULL;
    lo.sample.augment = 0;
    lo.in_order = 1;
    lo.batch_size = r->local_bs;
    lo.shard_count = 0;
    if (cfg->loss.kind == LOSS_TGCE && !(r->prune = loader_new(d, &lo)))
        return ERR_INVALID;
    lo.split = SPLIT_VALID;
    lo.limit = 0;
    lo.batch_size = cfg->bs;
    lo.shard_count = r->ranks;
    if (!(r->valid = loader_new(d, &lo)))
        return ERR_INVALID;
    if (loader_batches(r->train) == 0)
        return err_set(ERR_INVALID, "%d training images make no batch of %d", d->n[SPLIT_TRAIN],
                       cfg->bs);

    /* What a checkpoint holds beyond the model: the loss EMA, the history. */
    int ema_shape[1] = {2}, hist_shape[2] = {cfg->epochs, HISTORY_FLOATS};
    r->ema = param_add(&r->extra, "train.loss_ema", 0, 0, 1, ema_shape);
    r->history = param_add(&r->extra, "train.history", 0, 0, 2, hist_shape);
    r->dlogits = malloc((size_t)cfg->bs * (size_t)cfg->model.n_out * sizeof *r->dlogits);
    if (!r->ema || !r->history || !r->dlogits)
        return err_set(ERR_NOMEM, "out of memory");
    if ((rc = method_setup(r)) < 0)
        return rc;

    run_describe(r);
    snprintf(r->ckpt, sizeof r->ckpt, "%s/%s", cfg->out_dir, CKPT_FILE);
    return ERR_OK;
}

/* The model's arrays, then the run's extra ones, for a checkpoint. */
static int arrays_view(Run *r, ParamList *view) {
    ParamList model = {0}, peer = {0};
    int rc = model_arrays(&r->model, &model);
    if (rc == ERR_OK && r->has_peer)
        rc = model_arrays(&r->peer, &peer);
    int n = model.n + peer.n + r->extra.n;
    if (rc == ERR_OK && !(view->items = malloc((size_t)n * sizeof *view->items)))
        rc = err_set(ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        memcpy(view->items, model.items, (size_t)model.n * sizeof *view->items);
        if (peer.n)
            memcpy(view->items + model.n, peer.items, (size_t)peer.n * sizeof *view->items);
        memcpy(view->items + model.n + peer.n, r->extra.items,
               (size_t)r->extra.n * sizeof *view->items);
        view->n = view->cap = n;
    }
    param_list_view_free(&model);
    param_list_view_free(&peer);
    return rc;
}

static int run_checkpoint(Run *r, int load, uint64_t epoch) {
    ParamList view;
    int rc = arrays_view(r, &view);
    if (rc < 0)
        return rc;
    Checkpoint ck = {.arch = r->desc, .model = &view, .opt = r->opt, .epoch = epoch,
                     .step = r->step};
    if (load)
        rc = checkpoint_load(r->cfg->resume, &ck);
    else if (r->rank == 0)
        rc = checkpoint_save(r->ckpt, &ck);     /* the ranks hold the same state */
    if (load && rc == ERR_OK)
        r->step = ck.step;
    param_list_view_free(&view);
    return rc;
}

/* ---- phases ---------------------------------------------------------------- */

static void progress(Run *r, int epoch, int i, int n, double t0) {
    if (!r->cfg->progress)
        return;
    double t = now(), elapsed = t - t0;
    double rate = elapsed > 0 ? (double)i * r->cfg->bs / elapsed : 0;
    double eta = i ? elapsed * (n - i) / i : 0;
    float ema = r->ema->data[0], k = r->ema->data[1];
    double loss = k > 0 ? ema / (1 - pow(EMA_BETA, k)) : 0.0;
    if (r->cfg->progress == PROGRESS_LINES) {
        /* A line now and then, none at the end: the table's row follows. */
        if (i == 1 || i == n)
            r->progress_at = t;
        if (t - r->progress_at < PROGRESS_LINE_SECONDS)
            return;
        r->progress_at = t;
        fprintf(stderr, "  epoch %d/%d  batch %d/%d  %.1f img/s  eta %.0fs  loss %.4f\n",
                epoch + 1, r->cfg->epochs, i, n, rate, eta, loss);
        return;
    }
    fprintf(stderr, "\r  epoch %d/%d  %d/%d  %.1f img/s  eta %.0fs  loss %.4f   ", epoch + 1,
            r->cfg->epochs, i, n, rate, eta, loss);
    if (i == n)
        fputs("\r\033[K", stderr);
}

/* The loss at logits z for batch b, with per-sample weights w (NULL: 1):
 * the configured loss, at both labels with MixUp (L = lam L(y) + (1 - lam)
 * L(y_partner), losses interpolated as fastai does), plus ELR's term.
 * Unweighted per-sample losses go to losses (may be NULL), d(mean)/dz to
 * dlogits, the mean to *mean. */
static int batch_loss(Run *r, const Batch *b, const float *z, const float *w, float *losses,
                      float *dlogits, double *mean) {
    const TrainConfig *cfg = r->cfg;
    int n = b->n, k = cfg->model.n_out, rc;
    if (r->tgce) {
        /* Truncated GCE: pruned images weigh 0. */
        for (int i = 0; i < n; i++)
            r->wt[i] = r->tgce->data[b->item[i]] * (w ? w[i] : 1.0f);
        w = r->wt;
    }
    LossBatch lb = {n, k, z, b->y, w};

    if (cfg->methods.mixup > 0) {
        for (int i = 0; i < n; i++) {
            float wi = w ? w[i] : 1.0f;
            r->w1[i] = r->lam[i] * wi;
            r->w2[i] = (1.0f - r->lam[i]) * wi;
            r->y2[i] = b->y[r->partner[i]];
        }
        double m1, m2;
        lb.weights = r->w1;
        if ((rc = loss_compute(&cfg->loss, &lb, losses, dlogits, &m1)) < 0)
            return rc;
        lb.targets = r->y2;
        lb.weights = r->w2;
        if ((rc = loss_compute(&cfg->loss, &lb, r->l2, dlogits ? r->dl2 : NULL, &m2)) < 0)
            return rc;
        for (size_t j = 0; dlogits && j < (size_t)n * k; j++)
            dlogits[j] += r->dl2[j];
        for (int i = 0; losses && i < n; i++)
            losses[i] = r->lam[i] * losses[i] + (1.0f - r->lam[i]) * r->l2[i];
        *mean = m1 + m2;
    } else if ((rc = loss_compute(&cfg->loss, &lb, losses, dlogits, mean)) < 0) {
        return rc;
    }
    if (r->elr)
        elr_regularise(r->elr->data, k, z, b->item, n, cfg->methods.elr_lambda, dlogits, mean);
    return ERR_OK;
}

/* Forward and backward of the model at x: the loss's gradient is left in
 * the parameters' grads, the loss in *loss. */
static int forward_backward(Run *r, const Batch *b, const float *x, int update_elr,
                            double *loss) {
    model_forward(&r->model, x, b->n, 1);
    const float *z = model_logits(&r->model)->data;
    if (update_elr && r->elr)
        elr_update(r->elr->data, r->cfg->model.n_out, z, b->item, b->n,
                   r->cfg->methods.elr_beta);
    int rc = batch_loss(r, b, z, NULL, NULL, r->dlogits, loss);
    if (rc < 0)
        return rc;
    model_zero_grad(&r->model);
    model_backward(&r->model, r->dlogits);
    if (r->gs)
        gradsync_finish(r->gs);
    return ERR_OK;
}

/* Several ranks: the loss of the global batch (the mean of the ranks'
 * means, their shards being equal), and whether any rank was asked to
 * stop, agreed by all so that they act alike. */
static void agree(Run *r, double *loss) {
    r->stop_all = stop_requested;
    if (r->ranks < 2)
        return;
    double v[2] = {*loss, stop_requested ? 1.0 : 0.0};
    dist_allreduce_sum(v, 2);
    *loss = v[0] / r->ranks;
    r->stop_all = v[1] > 0;
}

/* Co-teaching (spec §8.1): both networks see the batch; each is trained on
 * the samples of smallest loss under the other, at this epoch's forget
 * rate. The reported loss is the first network's. */
static int coteach_step(Run *r, const Batch *b, int epoch, double *loss) {
    const MethodConfig *m = &r->cfg->methods;
    int n = b->n, rc;
    double unused;

    model_forward(&r->model, b->x, n, 1);
    model_forward(&r->peer, b->x, n, 1);
    const float *za = model_logits(&r->model)->data, *zb = model_logits(&r->peer)->data;
    if ((rc = batch_loss(r, b, za, NULL, r->loss_a, NULL, &unused)) < 0 ||
        (rc = batch_loss(r, b, zb, NULL, r->loss_b, NULL, &unused)) < 0)
        return rc;
    double rate = coteach_forget_rate(epoch, m->forget_rate, m->forget_epochs,
                                      m->forget_exponent);
    coteach_select(r->loss_b, n, rate, r->order, r->w_a);   /* the peer picks for us */
    coteach_select(r->loss_a, n, rate, r->order, r->w_b);
    if ((rc = batch_loss(r, b, za, r->w_a, NULL, r->dlogits, loss)) < 0 ||
        (rc = batch_loss(r, b, zb, r->w_b, NULL, r->dlogits_b, &unused)) < 0)
        return rc;
    optimizer_zero_grad(r->opt);
    model_backward(&r->model, r->dlogits);
    model_backward(&r->peer, r->dlogits_b);
    return ERR_OK;
}

/* One optimizer step on batch b: RandomErasing (--sh), then MixUp, change
 * the inputs first; SAM takes the gradient again at w + eps, the batch-norm
 * statistics of that second pass discarded (spec §10.1); train_loss is the
 * loss at w. */
static int train_step(Run *r, const Batch *b, int epoch, double *loss) {
    const TrainConfig *cfg = r->cfg;
    const MethodConfig *m = &cfg->methods;
    const float *x = b->x;
    int rc;

    /* Each rank its own draws; with one rank, the step's. */
    uint64_t draw = r->step * (uint64_t)r->ranks + (uint64_t)r->rank;
    if (cfg->erase_sh > 0) {
        Rng rng;
        rng_seed_stream(&rng, cfg->seed, ERASE_STREAM, draw);
        transform_random_erase(&rng, b->x, b->n, cfg->model.c_in, cfg->size, cfg->erase_sh);
    }
    if (m->co_teaching) {
        if ((rc = coteach_step(r, b, epoch, loss)) < 0)
            return rc;
        optimizer_step(r->opt);
        agree(r, loss);
        return ERR_OK;
    }
    if (m->mixup > 0) {
        Rng rng;
        rng_seed_stream(&rng, cfg->seed, MIXUP_STREAM, draw);
        size_t sample = (size_t)cfg->model.c_in * (size_t)cfg->size * (size_t)cfg->size;
        mixup_batch(&rng, m->mixup, b->x, b->n, sample, r->lam, r->partner, r->mixed);
        x = r->mixed;
    }
    if ((rc = forward_backward(r, b, x, 1, loss)) < 0)
        return rc;
    agree(r, loss);
    if (m->sam_rho > 0 && isfinite(*loss)) {
        double second;
        buffers_save(&r->model.buffers, r->buf_saved);
        sam_perturb(&r->model.params, m->sam_rho, m->asam, m->sam_no_wd ? 0.0 : cfg->hyper.wd,
                    r->sam_saved);
        rc = forward_backward(r, b, x, 0, &second);
        sam_restore(&r->model.params, r->sam_saved);
        buffers_restore(&r->model.buffers, r->buf_saved);
        if (rc < 0)
            return rc;
    }
    if (isfinite(*loss))
        optimizer_step(r->opt);
    return ERR_OK;
}

static int train_epoch(Run *r, int epoch, int first, double *images_per_s) {
    const TrainConfig *cfg = r->cfg;
    int n = loader_batches(r->train), rc;
    long images = 0;
    double t0 = now();
    Batch *b;

    if ((rc = loader_start_epoch_at(r->train, epoch, first)) < 0)
        return rc;
    for (int i = first; (rc = loader_next(r->train, &b)) > 0; i++) {
        schedule_apply(&r->sched, schedule_pos(epoch, cfg->epochs, i, n), r->opt);
        double loss;
        if ((rc = train_step(r, b, epoch, &loss)) < 0) {
            loader_release(r->train, b);
            break;
        }
        if (!isfinite(loss)) {
            loader_release(r->train, b);
            return err_set(ERR_INVALID, "the training loss became %s at epoch %d, batch %d; "
                           "stopping (the last checkpoint, %s, is kept); try a lower --lr",
                           isnan(loss) ? "NaN" : "infinite", epoch, i, r->ckpt);
        }
        r->step++;
        images += (long)b->n * r->ranks;
        loader_release(r->train, b);

        /* The smoothed loss: v = 0.98 v + 0.02 L over the whole run. */
        r->ema->data[0] = (float)(EMA_BETA * r->ema->data[0] + (1 - EMA_BETA) * loss);
        r->ema->data[1] += 1;
        progress(r, epoch, i + 1, n, t0);
        if (r->stop_all)
            return 1;
    }
    *images_per_s = images / (now() - t0);
    return rc < 0 ? rc : 0;
}

/* Several ranks: each has counted its shard of the validation set; the
 * sums over the ranks, on every rank. */
static int reduce_counts(const Run *r, double *sums, long *class_correct, long *class_total) {
    int k = r->d->n_classes;
    if (r->ranks < 2)
        return ERR_OK;
    dist_allreduce_sum(sums, 4);
    if (!class_total)
        return ERR_OK;
    double *v = malloc(2 * (size_t)k * sizeof *v);
    if (!v)
        return err_set(ERR_NOMEM, "out of memory");
    for (int j = 0; j < k; j++) {
        v[j] = (double)class_correct[j];
        v[k + j] = (double)class_total[j];
    }
    dist_allreduce_sum(v, 2 * k);
    for (int j = 0; j < k; j++) {
        class_correct[j] = (long)v[j];
        class_total[j] = (long)v[k + j];
    }
    free(v);
    return ERR_OK;
}

/* Validation loss, accuracy and top-5; per-class counts when asked. */
static int validate(Run *r, EpochStats *s, long *class_correct, long *class_total) {
    double sums[4] = {0};   /* loss sum, correct, top-k, seen */
    Batch *b;
    int rc = loader_start_epoch(r->valid, 0);
    while (rc >= 0 && (rc = loader_next(r->valid, &b)) > 0) {
        int k = r->cfg->model.n_out;
        if (b->n == 0) {        /* a rank's empty share of a short last batch */
            loader_release(r->valid, b);
            continue;
        }
        model_forward(&r->model, b->x, b->n, 0);
        const float *z = model_logits(&r->model)->data;
        LossBatch lb = {b->n, k, z, b->y, NULL};
        double loss;
        rc = loss_compute(&r->cfg->loss, &lb, NULL, NULL, &loss);
        sums[0] += loss * b->n;
        sums[1] += metrics_count_correct(z, b->y, b->n, k);
        for (int j = 0; class_total && j < b->n; j++) {
            class_total[b->y[j]]++;
            class_correct[b->y[j]] += metrics_count_correct(z + (size_t)j * k, &b->y[j], 1, k);
        }
        sums[2] += metrics_count_topk(z, b->y, b->n, k, k < TOP_K ? k : TOP_K);
        sums[3] += b->n;
        loader_release(r->valid, b);
    }
    if (rc < 0 || (rc = reduce_counts(r, sums, class_correct, class_total)) < 0)
        return rc;
    s->valid_loss = sums[0] / sums[3];
    s->accuracy = sums[1] / sums[3];
    s->top5 = sums[2] / sums[3];
    return ERR_OK;
}

/* Truncated GCE's pruning (spec §3.2) after epoch e (0-based), on the
 * schedule tgce_start, then every tgce_every: the model in inference mode
 * over every training image, w_i = 1 where p_y > k, else 0. The reference
 * runs its best checkpoint by validation accuracy; noisette's validation
 * set is the benchmark's clean test set, so selecting on it would leak,
 * and the model as it stands is used instead. */
static int tgce_prune(Run *r, int e) {
    const LossConfig *lc = &r->cfg->loss;
    int done = e + 1;
    if (!r->tgce || done < lc->tgce_start || (done - lc->tgce_start) % lc->tgce_every != 0)
        return ERR_OK;
    long kept = 0, seen = 0;
    Batch *b;
    int rc = loader_start_epoch(r->prune, 0);
    while (rc >= 0 && (rc = loader_next(r->prune, &b)) > 0) {
        model_forward(&r->model, b->x, b->n, 0);
        LossBatch lb = {b->n, r->cfg->model.n_out, model_logits(&r->model)->data, b->y, NULL};
        rc = loss_tgce_mask(&lb, lc->tgce_k, r->wt);
        for (int j = 0; rc >= 0 && j < b->n; j++) {
            r->tgce->data[b->item[j]] = r->wt[j];
            kept += r->wt[j] > 0;
        }
        seen += b->n;
        loader_release(r->prune, b);
    }
    if (rc < 0)
        return rc;
    log_info("truncated GCE after epoch %d: %ld of %ld training images kept (p_y > %g)", done,
             kept, seen, lc->tgce_k);
    return ERR_OK;
}

/* The PROBS file of noisette mislabeled (docs/mislabeled.md): a header
 * path,given,truth,<classes>, then per training item its label strings
 * and the softmax of the model in inference mode. */
static int write_probs(Run *r) {
    const TrainConfig *cfg = r->cfg;
    const Dataset *d = r->d;
    const LabelTable *t = &d->table;
    int k = cfg->model.n_out;
    LoaderOptions lo = {.split = SPLIT_TRAIN, .batch_size = r->local_bs,
                        .threads = cfg->threads, .layout = LAYOUT_NCHW,
                        .skip_bad = cfg->skip_bad, .limit = cfg->limit,
                        .in_order = 1, .subset = cfg->probs_items,
                        .n_subset = cfg->n_probs_items,
                        .sample = {.size = cfg->size, .crop = d->kind != DATASET_FMNIST,
                                   .dct_scale = cfg->dct_scale, .seed = cfg->seed}};
    Loader *l = loader_new(d, &lo);
    if (!l)
        return ERR_INVALID;
    AtomicFile af;
    int rc = atomic_open(&af, cfg->probs_path, 1);
    if (rc < 0) {
        loader_free(l);
        return rc;
    }
    fputs("path,given,truth", af.fp);
    for (int j = 0; j < k; j++) {
        fputc(',', af.fp);
        csv_write_field(af.fp, t->names[j]);
    }
    fputc('\n', af.fp);

    Batch *b;
    long rows = 0;
    rc = loader_start_epoch(l, 0);
    while (rc >= 0 && (rc = loader_next(l, &b)) > 0) {
        model_forward(&r->model, b->x, b->n, 0);
        const float *z = model_logits(&r->model)->data;
        for (int i = 0; i < b->n; i++, rows++) {
            int row = d->rows[SPLIT_TRAIN][b->item[i]];
            const float *zi = z + (size_t)i * k;
            double mx = zi[0], sum = 0;
            for (int j = 1; j < k; j++)
                mx = zi[j] > mx ? zi[j] : mx;
            for (int j = 0; j < k; j++)
                sum += exp((double)zi[j] - mx);
            const char *fields[3] = {t->paths[row], t->names[b->y[i]],
                                     t->names[t->truth[row]]};
            for (int f = 0; f < 3; f++) {
                if (f)
                    fputc(',', af.fp);
                csv_write_field(af.fp, fields[f]);
            }
            for (int j = 0; j < k; j++)
                fprintf(af.fp, ",%.6g", exp((double)zi[j] - mx) / sum);
            fputc('\n', af.fp);
        }
        loader_release(l, b);
    }
    loader_free(l);
    if (rc < 0) {
        atomic_abort(&af);
        return rc;
    }
    if ((rc = atomic_commit(&af)) == ERR_OK)
        log_info("predicted probabilities of %ld training images: %s", rows, cfg->probs_path);
    return rc;
}

/* ---- the run ------------------------------------------------------------- */

/* The history keeps each statistic as a float and the float of what that
 * leaves out (48 bits together), so that a resumed run prints and records
 * the earlier epochs exactly as the uninterrupted run did: one float
 * alone moved a printed sixth decimal now and then. */
static void store_double(float *h, double v) {
    h[0] = (float)v;
    h[1] = isfinite(v) ? (float)(v - (double)h[0]) : 0.0f;
}

static double load_double(const float *h) {
    return (double)h[0] + (double)h[1];
}

static void record(Run *r, int epoch, const EpochStats *s) {
    float *h = r->history->data + (size_t)epoch * HISTORY_FLOATS;
    store_double(h, s->train_loss);
    store_double(h + 2, s->valid_loss);
    store_double(h + 4, s->accuracy);
    store_double(h + 6, s->top5);
    store_double(h + 8, s->seconds);
}

static void replay_history(const Run *r, int epochs, TrainResult *res) {
    for (int e = 0; e < epochs; e++) {
        const float *h = r->history->data + (size_t)e * HISTORY_FLOATS;
        EpochStats s = {load_double(h), load_double(h + 2), load_double(h + 4),
                        load_double(h + 6), load_double(h + 8), 0};
        res->epochs[e] = s;
        train_print_row(r->cfg->table, e, &s);
    }
    res->n_epochs = epochs;
}

static int run_epochs(Run *r, TrainResult *res) {
    const TrainConfig *cfg = r->cfg;
    int n = loader_batches(r->train);
    int start = (int)(r->step / (uint64_t)n), first = (int)(r->step % (uint64_t)n);
    replay_history(r, start, res);

    for (int e = start; e < cfg->epochs; e++, first = 0) {
        EpochStats s = {0};
        double t0 = now();
        int rc = train_epoch(r, e, first, &s.train_images_per_s);
        if (rc == 1) {
            res->interrupted = 1;
            log_info("interrupted at epoch %d, step %llu: checkpoint %s (continue with "
                     "--resume)", e, (unsigned long long)r->step, r->ckpt);
            return run_checkpoint(r, 0, (uint64_t)e);
        }
        if (rc < 0)
            return rc;
        /* Several ranks: rank 0's running statistics for all (see
         * dist_broadcast_buffers), then a check that the ranks agree. */
        if (r->ranks > 1 && !cfg->sync_bn)
            dist_broadcast_buffers(&r->model);
        if (r->ranks > 1 && (rc = dist_check_replicas(&r->model, "after an epoch")) < 0)
            return rc;
        if ((rc = validate(r, &s, NULL, NULL)) < 0)
            return rc;
        float k = r->ema->data[1];
        s.train_loss = r->ema->data[0] / (1 - pow(EMA_BETA, k));
        s.seconds = now() - t0;
        record(r, e, &s);
        res->epochs[e] = s;
        res->n_epochs = e + 1;
        train_print_row(cfg->table, e, &s);
        if ((rc = tgce_prune(r, e)) < 0 || (rc = run_checkpoint(r, 0, (uint64_t)e + 1)) < 0)
            return rc;
        if (cfg->probs_path && e + 1 == cfg->probs_epoch && r->rank == 0 &&
            (rc = write_probs(r)) < 0)
            return rc;
    }
    return ERR_OK;
}

int train_run(const TrainConfig *cfg, const Dataset *d, TrainResult *res) {
    memset(res, 0, sizeof *res);
    stop_requested = 0;
    if (cfg->epochs < 1 || cfg->epochs > TRAIN_MAX_EPOCHS)
        return err_set(ERR_USAGE, "--epochs must be in 1..%d", TRAIN_MAX_EPOCHS);
    res->epochs = calloc((size_t)cfg->epochs, sizeof *res->epochs);
    if (!res->epochs)
        return err_set(ERR_NOMEM, "out of memory");

    Run r;
    double t0 = now();
    int rc = run_setup(&r, cfg, d);
    if (rc == ERR_OK && cfg->resume)
        rc = run_checkpoint(&r, 1, 0);
    if (rc == ERR_OK && cfg->resume && r.ranks > 1)
        rc = dist_check_replicas(&r.model, "after loading the checkpoint");
    if (rc == ERR_OK) {
        train_print_header(cfg->table);
        rc = run_epochs(&r, res);
    }
    res->seconds = now() - t0;
    run_free(&r);
    return rc;
}

/* ---- evaluation of a checkpoint -------------------------------------------- */

int train_config_from_checkpoint(const char *path, TrainConfig *cfg) {
    char desc[4096], act[16], pool[16], arch[32];
    uint64_t epoch, step;
    int rc = checkpoint_peek(path, desc, sizeof desc, &epoch, &step);
    if (rc < 0)
        return rc;

    ModelConfig *m = &cfg->model;
    int got = sscanf(desc, "%31s act=%15s pool=%15s sa=%d sym=%d c_in=%d n_out=%d "
                     "width_div=%d size=%d epochs=%d bs=%d", arch, act, pool, &m->sa, &m->sym,
                     &m->c_in, &m->n_out, &m->width_div, &cfg->size, &cfg->epochs, &cfg->bs);
    if (got != 11)
        return err_set(ERR_PARSE, "%s: not a checkpoint of noisette train (it describes \"%.80s\")",
                       path, desc);
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    return ERR_OK;
}

int train_eval(const TrainConfig *cfg, const Dataset *d, EpochStats *s, long *class_correct,
               long *class_total) {
    /* The model's arrays only: the training state and any second network
     * in the file are skipped, under the file's own description. */
    Run r;
    memset(&r, 0, sizeof r);
    char desc[CKPT_ARCH_MAX];
    int rc = checkpoint_peek(cfg->resume, desc, sizeof desc, NULL, NULL);
    if (rc == ERR_OK)
        rc = run_setup(&r, cfg, d);
    if (rc == ERR_OK) {
        ParamList view;
        rc = model_arrays(&r.model, &view);
        if (rc == ERR_OK) {
            Checkpoint ck = {.arch = desc, .model = &view, .model_only = 1};
            rc = checkpoint_load(cfg->resume, &ck);
            param_list_view_free(&view);
        }
    }
    double t0 = now();
    if (rc == ERR_OK)
        rc = validate(&r, s, class_correct, class_total);
    s->seconds = now() - t0;
    run_free(&r);
    return rc;
}
