/* The training run: what the reference's train_imagenette.py does for one
 * run (spec: reference-training.md §6, §9), on noisette's engine.
 *
 * Per epoch: a training phase (schedule set before each batch, forward,
 * loss, backward, optimizer step) and a validation phase on the clean
 * labels, then one row of the reference's table. After each epoch, and on
 * SIGINT or SIGTERM between batches, a checkpoint is written atomically; a
 * run resumed from it ends exactly as an uninterrupted one on the same
 * machine and thread count, because every random draw depends on (seed,
 * epoch, item). A non-finite loss stops the run, the last checkpoint kept.
 *
 * Under mpirun (train/dist.h) every rank runs train_run: cfg->bs is the
 * global batch, each rank trains on its 1/R of it, gradients are averaged
 * over the ranks, and rank 0 alone writes checkpoints and probabilities. */
#ifndef NOISETTE_TRAIN_LOOP_H
#define NOISETTE_TRAIN_LOOP_H

#include "data/dataset.h"
#include "data/loader.h"
#include "nn/model.h"
#include "train/loss.h"
#include "train/optim.h"

#include <stdio.h>

#define TRAIN_MAX_EPOCHS 10000

/* The noise-robust methods that act around the loss (train/methods.h);
 * all off when zeroed. */
typedef struct {
    double mixup;           /* MixUp's Beta(alpha, alpha); 0: off */
    double sam_rho;         /* SAM's neighbourhood radius; 0: off */
    int    asam;            /* adaptive SAM */
    int    sam_no_wd;       /* leave weight decay out of SAM's direction */
    double elr_lambda;      /* ELR's weight; 0: off */
    double elr_beta;        /* ELR's target momentum */
    int    co_teaching;     /* train a peer network, cross small-loss updates */
    double forget_rate;     /* co-teaching's tau, in [0, 1) */
    int    forget_epochs;   /* epochs to reach tau (the reference's T_k) */
    double forget_exponent; /* c in tau^c */
} MethodConfig;

typedef struct {
    ModelConfig    model;
    const Backend *backend;
    int            size, bs, epochs, limit, threads;
    int            dct_scale, skip_bad;
    double         erase_sh;        /* --sh: RandomErasing's max area; 0: off */
    char           opt[16];
    OptHyper       hyper;           /* lr, mom, sqr_mom, eps, wd, beta */
    LossConfig     loss;
    MethodConfig   methods;
    uint64_t       seed;
    const char    *out_dir;         /* checkpoint.ckpt goes here */
    const char    *resume;          /* a checkpoint to continue, or NULL */
    FILE          *table;           /* the per-epoch table (stdout) */
    /* Only these training items (a cross-validation fold's complement);
     * NULL: all (up to limit). */
    const int32_t *train_items;
    int            n_train_items;
    /* Predicted probabilities for noisette mislabeled: after epoch
     * probs_epoch (1-based; 0: never), the model in inference mode over the
     * training items probs_items (NULL: all) into the CSV probs_path. */
    int            probs_epoch;
    const int32_t *probs_items;
    int            n_probs_items;
    const char    *probs_path;
    int            progress;        /* on stderr: PROGRESS_BAR on a terminal,
                                     * PROGRESS_LINES otherwise, or 0 */
    int            sync_bn;         /* with several ranks (train/dist.h): batch
                                     * statistics over the global batch */
} TrainConfig;

/* TrainConfig.progress: a bar redrawn in place, or a plain line every
 * PROGRESS_LINE_SECONDS (for logs and batch jobs). */
#define PROGRESS_BAR          1
#define PROGRESS_LINES        2
#define PROGRESS_LINE_SECONDS 30.0

typedef struct {
    double train_loss;      /* smoothed as the reference (EMA 0.98, debiased) */
    double valid_loss;
    double accuracy, top5;
    double seconds;         /* wall time of the epoch, train + validation */
    double train_images_per_s;
} EpochStats;

typedef struct {
    EpochStats *epochs;     /* n_epochs entries, owned (free) */
    int         n_epochs;   /* finished */
    int         interrupted;
    double      seconds;
} TrainResult;

/* Trains one run on d (opened at the run's noise level) with cfg. Writes
 * the table rows to cfg->table and the history to res. 0 when the run
 * finished or was interrupted (res->interrupted, checkpoint written);
 * else a negative ErrCode with the message recorded. */
int train_run(const TrainConfig *cfg, const Dataset *d, TrainResult *res);

/* Asks a running train_run to stop after the current batch (signal safe). */
void train_request_stop(void);

/* Fills the model, size, epochs and batch size of cfg from the description
 * a checkpoint of train_run holds. 0, or an error naming the file. */
int train_config_from_checkpoint(const char *path, TrainConfig *cfg);

/* Loads the checkpoint cfg->resume into the model cfg describes and
 * evaluates it on the validation split of d: loss, accuracy, top-5 in *s,
 * and per class (d->n_classes entries each, may be NULL) the correct and
 * total counts. */
int train_eval(const TrainConfig *cfg, const Dataset *d, EpochStats *s, long *class_correct,
               long *class_total);

/* The reference's table: header, then rows (spec §9.4). */
void train_print_header(FILE *out);
void train_print_row(FILE *out, int epoch, const EpochStats *s);

#endif
