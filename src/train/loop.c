/* The training loop, its table and its checkpoints; see loop.h. */
#include "train/loop.h"

#include "train/checkpoint.h"
#include "train/metrics.h"
#include "train/schedule.h"
#include "util/err.h"
#include "util/log.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EMA_BETA        0.98    /* fastai's smoothed training loss (spec §9.2) */
#define HISTORY_FIELDS  5       /* train, valid loss, accuracy, top-5, seconds */
#define TOP_K           5
#define MODEL_STREAM    (1ULL << 62)
#define CKPT_FILE       "checkpoint.ckpt"

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
    ParamList          extra;       /* loss EMA and history, saved with the model */
    Param             *ema;         /* [value, count] */
    Param             *history;     /* epochs x HISTORY_FIELDS */
    float             *dlogits;
    char               desc[256], ckpt[4096];
    uint64_t           step;
} Run;

static void run_free(Run *r) {
    loader_free(r->train);
    loader_free(r->valid);
    optimizer_free(r->opt);
    model_free(&r->model);
    param_list_free(&r->extra);
    free(r->dlogits);
}

static int run_setup(Run *r, const TrainConfig *cfg, const Dataset *d) {
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->d = d;

    /* Model, optimizer, schedule. */
    Rng rng;
    rng_seed_stream(&rng, cfg->seed, 0, MODEL_STREAM);
    int rc = model_build(&r->model, &cfg->model, cfg->bs, cfg->size, cfg->backend, &rng);
    if (rc < 0)
        return rc;
    OptConfig oc;
    OptHyper defaults;
    if ((rc = optim_parse(cfg->opt, &oc, &defaults)) < 0)
        return rc;
    if (!(r->opt = optimizer_new_model(&oc, &r->model.params, &cfg->hyper)))
        return ERR_INVALID;
    r->sched = schedule_flat_cos(cfg->hyper.lr);

    /* Loaders: augmented training batches, clean validation batches. */
    LoaderOptions lo = {.split = SPLIT_TRAIN, .batch_size = cfg->bs, .threads = cfg->threads,
                        .layout = LAYOUT_NCHW, .skip_bad = cfg->skip_bad, .limit = cfg->limit,
                        .sample = {.size = cfg->size, .augment = 1,
                                   .crop = d->kind != DATASET_FMNIST,
                                   .dct_scale = cfg->dct_scale, .min_scale = 0.35,
                                   .seed = cfg->seed}};
    if (!(r->train = loader_new(d, &lo)))
        return ERR_INVALID;
    lo.split = SPLIT_VALID;
    lo.limit = 0;
    lo.sample.augment = 0;
    if (!(r->valid = loader_new(d, &lo)))
        return ERR_INVALID;
    if (loader_batches(r->train) == 0)
        return err_set(ERR_INVALID, "%d training images make no batch of %d", d->n[SPLIT_TRAIN],
                       cfg->bs);

    /* What a checkpoint holds beyond the model: the loss EMA, the history. */
    int ema_shape[1] = {2}, hist_shape[2] = {cfg->epochs, HISTORY_FIELDS};
    r->ema = param_add(&r->extra, "train.loss_ema", 0, 0, 1, ema_shape);
    r->history = param_add(&r->extra, "train.history", 0, 0, 2, hist_shape);
    r->dlogits = malloc((size_t)cfg->bs * (size_t)cfg->model.n_out * sizeof *r->dlogits);
    if (!r->ema || !r->history || !r->dlogits)
        return err_set(ERR_NOMEM, "out of memory");

    model_describe(&r->model, r->desc, sizeof r->desc);
    size_t n = strlen(r->desc);
    snprintf(r->desc + n, sizeof r->desc - n, " size=%d epochs=%d bs=%d", cfg->size,
             cfg->epochs, cfg->bs);
    snprintf(r->ckpt, sizeof r->ckpt, "%s/%s", cfg->out_dir, CKPT_FILE);
    return ERR_OK;
}

/* The model's arrays, then the run's extra ones, for a checkpoint. */
static int arrays_view(Run *r, ParamList *view) {
    ParamList model;
    int rc = model_arrays(&r->model, &model);
    if (rc < 0)
        return rc;
    int n = model.n + r->extra.n;
    view->items = malloc((size_t)n * sizeof *view->items);
    if (!view->items) {
        param_list_view_free(&model);
        return err_set(ERR_NOMEM, "out of memory");
    }
    memcpy(view->items, model.items, (size_t)model.n * sizeof *view->items);
    memcpy(view->items + model.n, r->extra.items, (size_t)r->extra.n * sizeof *view->items);
    view->n = view->cap = n;
    param_list_view_free(&model);
    return ERR_OK;
}

static int run_checkpoint(Run *r, int load, uint64_t epoch) {
    ParamList view;
    int rc = arrays_view(r, &view);
    if (rc < 0)
        return rc;
    Checkpoint ck = {r->desc, &view, r->opt, {{0}}, epoch, r->step};
    rc = load ? checkpoint_load(r->cfg->resume, &ck) : checkpoint_save(r->ckpt, &ck);
    if (load && rc == ERR_OK)
        r->step = ck.step;
    param_list_view_free(&view);
    return rc;
}

/* ---- phases ---------------------------------------------------------------- */

static void progress(const Run *r, int epoch, int i, int n, double t0) {
    if (!r->cfg->progress)
        return;
    double elapsed = now() - t0, rate = elapsed > 0 ? (double)i * r->cfg->bs / elapsed : 0;
    double eta = i ? elapsed * (n - i) / i : 0;
    float ema = r->ema->data[0], k = r->ema->data[1];
    fprintf(stderr, "\r  epoch %d/%d  %d/%d  %.1f img/s  eta %.0fs  loss %.4f   ", epoch + 1,
            r->cfg->epochs, i, n, rate, eta, k > 0 ? ema / (1 - pow(EMA_BETA, k)) : 0.0);
    if (i == n)
        fputs("\r\033[K", stderr);
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
        model_forward(&r->model, b->x, b->n, 1);
        LossBatch lb = {b->n, cfg->model.n_out, model_logits(&r->model)->data, b->y, NULL};
        double loss;
        if ((rc = loss_compute(&cfg->loss, &lb, NULL, r->dlogits, &loss)) < 0)
            break;
        if (!isfinite(loss)) {
            loader_release(r->train, b);
            return err_set(ERR_INVALID, "the training loss became %s at epoch %d, batch %d; "
                           "stopping (the last checkpoint, %s, is kept); try a lower --lr",
                           isnan(loss) ? "NaN" : "infinite", epoch, i, r->ckpt);
        }
        optimizer_zero_grad(r->opt);
        model_backward(&r->model, r->dlogits);
        optimizer_step(r->opt);
        r->step++;
        images += b->n;
        loader_release(r->train, b);

        /* The smoothed loss: v = 0.98 v + 0.02 L over the whole run. */
        r->ema->data[0] = (float)(EMA_BETA * r->ema->data[0] + (1 - EMA_BETA) * loss);
        r->ema->data[1] += 1;
        progress(r, epoch, i + 1, n, t0);
        if (stop_requested)
            return 1;
    }
    *images_per_s = images / (now() - t0);
    return rc < 0 ? rc : 0;
}

/* Validation loss, accuracy and top-5; per-class counts when asked. */
static int validate(Run *r, EpochStats *s, long *class_correct, long *class_total) {
    double loss_sum = 0;
    long correct = 0, top = 0, seen = 0;
    Batch *b;
    int rc = loader_start_epoch(r->valid, 0);
    while (rc >= 0 && (rc = loader_next(r->valid, &b)) > 0) {
        int k = r->cfg->model.n_out;
        model_forward(&r->model, b->x, b->n, 0);
        const float *z = model_logits(&r->model)->data;
        LossBatch lb = {b->n, k, z, b->y, NULL};
        double loss;
        rc = loss_compute(&r->cfg->loss, &lb, NULL, NULL, &loss);
        loss_sum += loss * b->n;
        correct += metrics_count_correct(z, b->y, b->n, k);
        for (int j = 0; class_total && j < b->n; j++) {
            class_total[b->y[j]]++;
            class_correct[b->y[j]] += metrics_count_correct(z + (size_t)j * k, &b->y[j], 1, k);
        }
        top += metrics_count_topk(z, b->y, b->n, k, k < TOP_K ? k : TOP_K);
        seen += b->n;
        loader_release(r->valid, b);
    }
    if (rc < 0)
        return rc;
    s->valid_loss = loss_sum / (double)seen;
    s->accuracy = (double)correct / (double)seen;
    s->top5 = (double)top / (double)seen;
    return ERR_OK;
}

/* ---- the run ------------------------------------------------------------- */

static void record(Run *r, int epoch, const EpochStats *s) {
    float *h = r->history->data + (size_t)epoch * HISTORY_FIELDS;
    h[0] = (float)s->train_loss;
    h[1] = (float)s->valid_loss;
    h[2] = (float)s->accuracy;
    h[3] = (float)s->top5;
    h[4] = (float)s->seconds;
}

static void replay_history(const Run *r, int epochs, TrainResult *res) {
    for (int e = 0; e < epochs; e++) {
        const float *h = r->history->data + (size_t)e * HISTORY_FIELDS;
        EpochStats s = {h[0], h[1], h[2], h[3], h[4], 0};
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
        if (rc < 0 || (rc = validate(r, &s, NULL, NULL)) < 0)
            return rc;
        float k = r->ema->data[1];
        s.train_loss = r->ema->data[0] / (1 - pow(EMA_BETA, k));
        s.seconds = now() - t0;
        record(r, e, &s);
        res->epochs[e] = s;
        res->n_epochs = e + 1;
        train_print_row(cfg->table, e, &s);
        if ((rc = run_checkpoint(r, 0, (uint64_t)e + 1)) < 0)
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
    m->act = strcmp(act, "relu") == 0 ? ACT_RELU : ACT_MISH;
    m->pool = strcmp(pool, "max") == 0 ? POOL_MAX : POOL_AVG;
    return ERR_OK;
}

int train_eval(const TrainConfig *cfg, const Dataset *d, EpochStats *s, long *class_correct,
               long *class_total) {
    Run r;
    int rc = run_setup(&r, cfg, d);
    if (rc == ERR_OK) {
        ParamList view;
        rc = arrays_view(&r, &view);
        if (rc == ERR_OK) {
            Checkpoint ck = {r.desc, &view, NULL, {{0}}, 0, 0};
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
