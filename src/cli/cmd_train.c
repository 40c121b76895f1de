/* noisette train: train at one noise level, as the reference script does,
 * and record each run in a JSON-lines results file. */
#include "cli/cli.h"
#include "cli/train_loss.h"
#include "cli/train_methods.h"

#include "data/dataset.h"
#include "labels/class_names.h"
#include "train/dist.h"
#include "train/loop.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/rng.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The rng stream that deals training images to --folds (apart from the
 * engine's streams, which use the top bits). */
#define FOLD_STREAM 0x464f4c44ULL

#ifndef NOISETTE_VERSION
#define NOISETTE_VERSION "unknown"
#endif

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette train [OPTIONS] DATA\n"
            "\n"
            "Train a model at one noise level and evaluate it on the clean validation\n"
            "set after every epoch, printing the reference's table. DATA is a dataset\n"
            "folder with its label CSV, fashion-mnist (noisy labels made from --seed), or\n"
            "a dataset name: imagenette or imagewoof (the variant --size calls for:\n"
            "320 px files up to 224, full size above) or an archive name such as\n"
            "imagenette2-160, taken from the cache and downloaded first if missing\n"
            "(docs/get.md).\n"
            "Each run is appended to a JSON-lines results file; a checkpoint is written\n"
            "after every epoch and on Ctrl-C, and --resume continues it exactly.\n"
            "\n"
            "Reference flags (fastai's train_imagenette.py; defaults as there):\n"
            "      --pct-noise P      noise level, column noisy_labels_P (default 0)\n"
            "      --size S           image size (default 128; 28 for fashion-mnist)\n"
            "      --epochs E         (default 5)\n"
            "      --lr LR            peak learning rate, flat then cosine (default 0.01)\n"
            "      --bs N             batch size (default 64)\n"
            "      --mom M --sqrmom SQ --eps EPS --wd WD   (0.9, 0.99, 1e-6, 0.01)\n"
            "      --opt NAME         ranger (default), adam, radam, rms, sgd\n"
            "      --arch NAME        xresnet50 (default); see noisette model --help\n"
            "      --act mish|relu    --pool avgpool|maxpool   --sa [1]   --sym\n"
            "      --runs N           repeat the run N times (default 1)\n"
            "      --woof [1]         Imagewoof instead of Imagenette (DATA a dataset name)\n"
            "      --fp16             accepted; training stays in fp32 on the CPU\n"
            "      --sh S             RandomErasing, rectangles of up to S of the image\n"
            "      --beta B           SAdam's softplus beta inside RAdam (default 0: off)\n"
            "      --dump 1           print the model and exit\n"
            "      --workers N        as --threads   --repro   --meta X   --gpu N (no-ops)\n"
            "The reference's spellings --pct_noise and --act_fn are accepted too.\n"
            "\n"
            "noisette's options:\n");
    loss_options_help(out);
    fprintf(out,
            "      --seed N           seed of labels, init, order, augmentation (default 42)\n"
            "      --threads N        loader threads (default 1)\n"
            "      --limit N          only the first N training images\n"
            "      --labels FILE      the label CSV (default: the folder's noisy_*.csv)\n"
            "      --out DIR          checkpoints and results (default runs)\n"
            "      --results FILE     results file (default DIR/results.jsonl)\n"
            "      --resume CKPT      continue a run from its checkpoint\n"
            "      --folds K          K models, each trained without one K-th of the\n"
            "                         training images and predicting it: out-of-sample\n"
            "                         probabilities in DIR/foldF/probs.csv for\n"
            "                         noisette mislabeled (an interrupted run resumes)\n"
            "      --save-train-probs EPOCH   after EPOCH, the model's probabilities on\n"
            "                         its own training images (DIR/runR/train_probs.csv)\n"
            "      --width-div N      divide every width by N (quick experiments)\n"
            "      --backend NAME     kernels: dnnl (oneDNN convolutions; the default in\n"
            "                         builds with libdnnl-dev), blas (im2col + OpenBLAS;\n"
            "                         the default otherwise), or reference (plain loops,\n"
            "                         the tests' truth)\n"
            "      --no-dct-scale     decode JPEGs at full size, as the reference\n"
            "      --skip-bad         drop unreadable images, with a count\n"
            "      --sync-bn          under mpirun: batch-norm statistics over the global\n"
            "                         batch (default: each rank's own, as PyTorch DDP)\n"
            "      --fashion-mnist-dir DIR\n"
            "      --offline          never download: a dataset name must be in the cache\n"
            "  -q, --quiet            only the table and errors\n"
            "  -h, --help             show this help\n"
            "\n");
    methods_help(out);
    fprintf(out,
            "\n"
            "Several processes or machines: mpirun -n R noisette train ... trains on R\n"
            "ranks, --bs being the global batch (docs/distributed.md). SIGUSR1, which\n"
            "mpirun passes on, stops a run with a checkpoint as Ctrl-C does.\n"
            "\n"
            "Exit codes: 0 done (or interrupted with a checkpoint), 1 failed, 2 bad usage.\n");
}

typedef struct {
    TrainConfig    t;
    DatasetOptions d;
    int            runs, fp16, woof, offline;
    int            folds;           /* --folds K: cross-validated probabilities */
    int            dump, repro;     /* the reference's --dump (print the model), --repro */
    int            probs_epoch;     /* --save-train-probs EPOCH */
    const char    *results;
    const char    *dataset;         /* imagenette, imagewoof, fashion-mnist or folder */
    unsigned       loss_flags;      /* loss hyperparameter flags given, bit i: LOSS_FLAGS[i] */
} TrainArgs;

/* The first Ctrl-C asks for a checkpoint and a clean stop after the
 * current batch; a second one ends the program at once. */
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig) {
    if (signals_seen++) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    train_request_stop();
}

/* mkdir -p for the output folder. */
static int make_dirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return err_set(ERR_IO, "%.100s...: path too long", path);
    memcpy(buf, path, strlen(path) + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char keep = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return err_set_errno(ERR_IO, "%s: cannot create folder", buf);
            *p = keep;
            if (!keep)
                break;
        }
    }
    return ERR_OK;
}

/* ---- the results file ------------------------------------------------------ */

static json_t *config_json(const TrainArgs *a, int run) {
    const TrainConfig *t = &a->t;
    return json_pack("{s:s, s:s, s:b, s:s?, s:f, s:s, s:s, s:s, s:b, s:b, s:i, s:i, s:i, s:i,"
                     " s:i, s:s,"
                     " s:f, s:f, s:f, s:f, s:f, s:s, s:o, s:I, s:i, s:i, s:i, s:s, s:b, s:o}",
                     "data", a->d.data, "dataset", a->dataset, "woof",
                     strcmp(a->dataset, "imagewoof") == 0, "labels", a->d.labels,
                     "pct_noise", a->d.pct,
                     "arch", t->model.arch, "act", t->model.act == ACT_RELU ? "relu" : "mish",
                     "pool", t->model.pool == POOL_MAX ? "maxpool" : "avgpool",
                     "sa", t->model.sa, "sym", t->model.sym, "c_in", t->model.c_in,
                     "n_out", t->model.n_out, "size", t->size, "epochs", t->epochs,
                     "bs", t->bs, "opt", t->opt, "lr", t->hyper.lr, "mom", t->hyper.mom,
                     "sqrmom", t->hyper.sqr_mom, "eps", t->hyper.eps, "wd", t->hyper.wd,
                     "loss", loss_label(t->loss.kind), "loss_params", loss_params_json(&t->loss),
                     "seed", (json_int_t)t->seed, "run", run, "limit", t->limit,
                     "width_div", t->model.width_div, "backend", t->backend->name,
                     "dct_scale", t->dct_scale, "methods", methods_json(&t->methods));
}

/* The run's configuration, with its fold when it is one of --folds. */
static json_t *run_config_json(const TrainArgs *a, int unit) {
    json_t *c = config_json(a, a->folds ? 0 : unit);
    json_object_set_new(c, "sh", json_real(a->t.erase_sh));
    json_object_set_new(c, "beta", json_real(a->t.hyper.beta));
    if (a->folds) {
        json_object_set_new(c, "folds", json_integer(a->folds));
        json_object_set_new(c, "fold", json_integer(unit));
    }
    if (a->probs_epoch)
        json_object_set_new(c, "save_train_probs", json_integer(a->probs_epoch));
    if (dist_size() > 1) {
        json_object_set_new(c, "ranks", json_integer(dist_size()));
        json_object_set_new(c, "sync_bn", json_boolean(a->t.sync_bn));
    }
    return c;
}

static json_t *result_json(const TrainArgs *a, int run, const TrainResult *res) {
    json_t *hist = json_array();
    double ips = 0;
    for (int e = 0; e < res->n_epochs; e++) {
        const EpochStats *s = &res->epochs[e];
        json_array_append_new(hist, json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "epoch", e,
                                              "train_loss", s->train_loss, "valid_loss",
                                              s->valid_loss, "accuracy", s->accuracy,
                                              "top_k_accuracy", s->top5, "seconds",
                                              s->seconds));
        ips = s->train_images_per_s > 0 ? s->train_images_per_s : ips;
    }
    const EpochStats *last = res->n_epochs ? &res->epochs[res->n_epochs - 1] : NULL;
    char when[32];
    time_t t = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    return json_pack("{s:s, s:s, s:o, s:o, s:{s:f, s:f, s:f}, s:f, s:f, s:b}",
                     "version", NOISETTE_VERSION, "finished", when,
                     "config", run_config_json(a, run), "history", hist,
                     "final", "accuracy", last ? last->accuracy : 0.0,
                     "top_k_accuracy", last ? last->top5 : 0.0,
                     "valid_loss", last ? last->valid_loss : 0.0,
                     "train_images_per_s", ips, "wall_seconds", res->seconds,
                     "interrupted", res->interrupted);
}

/* Appends one line: the old file and the line go to a temporary file that
 * replaces it, so the results file is never half written. */
static int append_result(const char *path, json_t *obj) {
    char *line = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (!line)
        return err_set(ERR_NOMEM, "out of memory");
    char *old = NULL;
    size_t old_len = 0;
    if (file_exists(path) && file_read_all(path, (size_t)1 << 30, &old, &old_len) < 0) {
        free(line);
        return ERR_IO;
    }
    AtomicFile af;
    int rc = atomic_open(&af, path, 1);
    if (rc == ERR_OK) {
        fwrite(old ? old : "", 1, old_len, af.fp);
        fprintf(af.fp, "%s\n", line);
        rc = atomic_commit(&af);
    }
    free(old);
    free(line);
    return rc;
}

/* ---- runs ------------------------------------------------------------------ */

/* Fold f of k over the training items (the first --limit): a seeded
 * shuffle dealt round-robin, each fold sorted. *held gets fold f, *rest
 * the others (free both). */
static int fold_items(const TrainArgs *a, const Dataset *d, int k, int f, int32_t **held,
                      int *n_held, int32_t **rest, int *n_rest) {
    int n = d->n[SPLIT_TRAIN];
    if (a->t.limit > 0 && a->t.limit < n)
        n = a->t.limit;
    uint32_t *perm = malloc((size_t)n * sizeof *perm);
    *held = malloc((size_t)n * sizeof **held);
    *rest = malloc((size_t)n * sizeof **rest);
    if (!perm || !*held || !*rest) {
        free(perm);
        return err_set(ERR_NOMEM, "out of memory");
    }
    Rng rng;
    rng_seed_stream(&rng, a->t.seed, FOLD_STREAM, (uint64_t)k);
    rng_permutation(&rng, perm, (size_t)n);
    /* Marks fold f's items, then lists both sides in item order. */
    uint8_t *in = calloc((size_t)n, 1);
    if (!in) {
        free(perm);
        return err_set(ERR_NOMEM, "out of memory");
    }
    for (int i = f; i < n; i += k)
        in[perm[i]] = 1;
    *n_held = *n_rest = 0;
    for (int i = 0; i < n; i++) {
        if (in[i])
            (*held)[(*n_held)++] = i;
        else
            (*rest)[(*n_rest)++] = i;
    }
    free(in);
    free(perm);
    return ERR_OK;
}

/* One training: run `unit` of --runs, or fold `unit` of --folds (trained
 * without that fold, whose probabilities it then predicts). A fold whose
 * probabilities exist is skipped, and one with a checkpoint resumes, so an
 * interrupted --folds run continues where it stopped. */
static int run_unit(TrainArgs *a, const Dataset *d, int unit, double *acc, int *interrupted) {
    char dir[4200], probs[4300], ckpt[4300];
    snprintf(dir, sizeof dir, "%s/%s%d", a->t.out_dir, a->folds ? "fold" : "run", unit);
    int rc = make_dirs(dir);
    if (rc < 0)
        return rc;
    TrainConfig t = a->t;
    t.out_dir = dir;
    t.seed = a->t.seed + (uint64_t)(a->folds ? 0 : unit);
    int32_t *held = NULL, *rest = NULL;
    *interrupted = 0;
    *acc = -1;
    if (a->folds) {
        /* What rank 0 finds in --out decides for every rank (the others
         * may not see it, on other machines). */
        snprintf(probs, sizeof probs, "%s/probs.csv", dir);
        snprintf(ckpt, sizeof ckpt, "%s/checkpoint.ckpt", dir);
        if (dist_from_rank0(file_exists(probs))) {
            log_info("fold %d of %d: done before (%s)", unit + 1, a->folds, probs);
            return ERR_OK;
        }
        if (!t.resume && dist_from_rank0(file_exists(ckpt)))
            t.resume = ckpt;
        if ((rc = fold_items(a, d, a->folds, unit, &held, &t.n_probs_items, &rest,
                             &t.n_train_items)) < 0) {
            free(held);
            free(rest);
            return rc;
        }
        t.probs_items = held;
        t.train_items = rest;
        t.probs_epoch = t.epochs;
        t.probs_path = probs;
        log_info("fold %d of %d: training on %d images, predicting %d", unit + 1, a->folds,
                 t.n_train_items, t.n_probs_items);
    } else if (a->probs_epoch) {
        snprintf(probs, sizeof probs, "%s/train_probs.csv", dir);
        t.probs_epoch = a->probs_epoch;
        t.probs_path = probs;
    }
    if (a->runs > 1)
        log_info("Run: %d", unit);

    TrainResult res;
    rc = train_run(&t, d, &res);
    if (dist_rank() == 0 && (rc == ERR_OK || res.n_epochs > 0)) {
        json_t *obj = result_json(a, unit, &res);
        int wrc = append_result(a->results, obj);
        json_decref(obj);
        if (wrc < 0)
            log_error("%s", err_msg());
    }
    *interrupted = res.interrupted;
    if (res.n_epochs)
        *acc = res.epochs[res.n_epochs - 1].accuracy;
    free(res.epochs);
    free(held);
    free(rest);
    return rc;
}

static int run_all(TrainArgs *a, const Dataset *d) {
    double acc_sum = 0, acc_sq = 0;
    int done = 0, units = a->folds ? a->folds : a->runs;

    for (int unit = 0; unit < units; unit++) {
        double acc;
        int interrupted;
        int rc = run_unit(a, d, unit, &acc, &interrupted);
        if (rc < 0)
            return cli_report(rc);
        if (interrupted)
            return EXIT_CODE_OK;
        if (acc >= 0) {
            acc_sum += acc;
            acc_sq += acc * acc;
            done++;
        }
    }
    if (done > 1 && !a->folds) {
        double mean = acc_sum / done, var = (acc_sq - done * mean * mean) / (done - 1);
        log_info("accuracy over %d runs: %.4f +- %.4f (mean +- std)", done, mean,
                 var > 0 ? sqrt(var) : 0.0);
    }
    if (a->folds)
        log_info("out-of-sample probabilities of every training image: %s/fold*/probs.csv "
                 "(rank suspects with: noisette mislabeled %s/fold*/probs.csv)", a->t.out_dir,
                 a->t.out_dir);
    log_info("results appended to %s", a->results);
    return EXIT_CODE_OK;
}

/* ---- options ----------------------------------------------------------------- */

enum {
    OPT_PCT = 256, OPT_SIZE, OPT_EPOCHS, OPT_LR, OPT_BS, OPT_MOM, OPT_SQRMOM, OPT_EPS, OPT_WD,
    OPT_OPT, OPT_ARCH, OPT_ACT, OPT_POOL, OPT_SA, OPT_SYM, OPT_RUNS, OPT_FP16, OPT_LOSS,
    OPT_SEED, OPT_THREADS, OPT_LIMIT, OPT_LABELS, OPT_OUT, OPT_RESULTS, OPT_RESUME,
    OPT_WIDTH, OPT_BACKEND, OPT_NO_DCT, OPT_SKIP_BAD, OPT_FMNIST, OPT_WOOF, OPT_OFFLINE,
    OPT_FOLDS, OPT_PROBS, OPT_SH, OPT_BETA, OPT_DUMP, OPT_META, OPT_REPRO, OPT_GPU,
    OPT_SYNC_BN
};

static const struct option LONGOPTS[] = {
    {"pct-noise", required_argument, NULL, OPT_PCT},
    {"pct_noise", required_argument, NULL, OPT_PCT},
    {"size", required_argument, NULL, OPT_SIZE},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"lr", required_argument, NULL, OPT_LR},
    {"bs", required_argument, NULL, OPT_BS},
    {"mom", required_argument, NULL, OPT_MOM},
    {"sqrmom", required_argument, NULL, OPT_SQRMOM},
    {"eps", required_argument, NULL, OPT_EPS},
    {"wd", required_argument, NULL, OPT_WD},
    {"opt", required_argument, NULL, OPT_OPT},
    {"arch", required_argument, NULL, OPT_ARCH},
    {"act", required_argument, NULL, OPT_ACT},
    {"act_fn", required_argument, NULL, OPT_ACT},
    {"pool", required_argument, NULL, OPT_POOL},
    {"sa", no_argument, NULL, OPT_SA},
    {"sym", no_argument, NULL, OPT_SYM},
    {"runs", required_argument, NULL, OPT_RUNS},
    {"fp16", no_argument, NULL, OPT_FP16},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"out", required_argument, NULL, OPT_OUT},
    {"results", required_argument, NULL, OPT_RESULTS},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"width-div", required_argument, NULL, OPT_WIDTH},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"no-dct-scale", no_argument, NULL, OPT_NO_DCT},
    {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
    {"fashion-mnist-dir", required_argument, NULL, OPT_FMNIST},
    {"woof", no_argument, NULL, OPT_WOOF},
    {"offline", no_argument, NULL, OPT_OFFLINE},
    {"folds", required_argument, NULL, OPT_FOLDS},
    {"sh", required_argument, NULL, OPT_SH},
    {"beta", required_argument, NULL, OPT_BETA},
    {"dump", required_argument, NULL, OPT_DUMP},
    {"workers", required_argument, NULL, OPT_THREADS},
    {"meta", required_argument, NULL, OPT_META},
    {"repro", no_argument, NULL, OPT_REPRO},
    {"gpu", required_argument, NULL, OPT_GPU},
    {"save-train-probs", required_argument, NULL, OPT_PROBS},
    {"sync-bn", no_argument, NULL, OPT_SYNC_BN},
    TRAIN_LOSS_LONGOPTS,
    TRAIN_METHOD_LONGOPTS,
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The reference's defaults (spec §1.1). */
static void defaults(TrainArgs *a) {
    memset(a, 0, sizeof *a);
    model_config_default(&a->t.model, "xresnet50");
    a->t.backend = backend_default();
    a->t.bs = 64;
    a->t.epochs = 5;
    a->t.threads = 1;
    a->t.dct_scale = 1;
    snprintf(a->t.opt, sizeof a->t.opt, "ranger");
    a->t.hyper = (OptHyper){.lr = 1e-2, .mom = 0.9, .sqr_mom = 0.99, .eps = 1e-6, .wd = 1e-2};
    loss_config_default(LOSS_LABEL_SMOOTHING, &a->t.loss);
    methods_defaults(&a->t.methods);
    a->t.seed = 42;
    a->t.out_dir = "runs";
    a->t.table = stdout;
    a->runs = 1;
    a->d.check_files = 1;
}

/* The reference's --dump: the model it would train, then exit. */
static int dump_model(const TrainConfig *t) {
    Model m;
    Rng rng;
    rng_seed(&rng, t->seed);
    int rc = model_build(&m, &t->model, 1, t->size, t->backend, &rng);
    if (rc < 0)
        return rc;
    model_print(&m, stdout);
    model_free(&m);
    return ERR_OK;
}

/* --folds and --save-train-probs against the rest. 0 or exit code 2. */
static int check_probs_options(const TrainArgs *a) {
    if (a->folds && a->runs > 1)
        return cli_usage_error("train", "--folds trains one model per fold; drop --runs");
    if (a->folds && a->probs_epoch)
        return cli_usage_error("train", "--folds and --save-train-probs exclude each other");
    if (a->probs_epoch > a->t.epochs)
        return cli_usage_error("train", "--save-train-probs %d: the run has %d epochs",
                               a->probs_epoch, a->t.epochs);
    return 0;
}

/* DATA with --woof: the reference's switch from Imagenette to Imagewoof,
 * for a dataset name (imagenette -> imagewoof, imagenette2-320 ->
 * imagewoof2-320). 0, or a usage error's exit code. */
static int woof_name(const TrainArgs *a, const char *data, char *out, size_t cap) {
    static const char NETTE[] = "imagenette";
    snprintf(out, cap, "%s", data);
    if (!a->woof || strncmp(data, "imagewoof", 9) == 0)
        return 0;
    if (strncmp(data, NETTE, sizeof NETTE - 1) != 0 || strchr(data, '/'))
        return cli_usage_error("train", "--woof picks Imagewoof for a dataset name (imagenette, "
                               "imagenette2-320, ...); \"%s\" is not one", data);
    snprintf(out, cap, "imagewoof%s", data + sizeof NETTE - 1);
    return 0;
}

/* What the results file calls the dataset: its family by class set, for
 * the leaderboards. */
static const char *dataset_family(const Dataset *d) {
    if (d->kind == DATASET_FMNIST)
        return "fashion-mnist";
    const char *set = class_set_name((const char *const *)d->table.names, d->n_classes);
    return set ? set : "folder";
}

/* Several ranks must run the same program on the same data and labels:
 * the version, the configuration of the results file (without the paths,
 * which may differ between machines) and the training labels, compared
 * by hash. 0, or an error on every rank. */
static int check_ranks_agree(const TrainArgs *a, const Dataset *d) {
    if (dist_size() < 2)
        return ERR_OK;
    json_t *c = run_config_json(a, 0);
    json_object_del(c, "data");
    json_object_del(c, "labels");
    json_object_set_new(c, "version", json_string(NOISETTE_VERSION));
    json_object_set_new(c, "train_images", json_integer(d->n[SPLIT_TRAIN]));
    json_object_set_new(c, "valid_images", json_integer(d->n[SPLIT_VALID]));
    uint64_t h = 0;
    for (int i = 0; i < d->n[SPLIT_TRAIN]; i++)
        h = h * 31 + (uint64_t)d->label[SPLIT_TRAIN][i];
    json_object_set_new(c, "labels_hash", json_integer((json_int_t)(h >> 1)));
    char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    if (!text)
        return err_set(ERR_NOMEM, "out of memory");
    int rc = dist_check_same("the program version, configuration or training labels", text);
    free(text);
    if (rc < 0) {
        char why[ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err_msg());
        err_set(rc, "%s: every rank must run the same noisette with the same options on the "
                "same data (compare noisette --version and the command line on each machine)",
                why);
    }
    return rc;
}

/* A switch the reference also accepts as "--sa 1" / "--sa 0". */
static int switch_value(int argc, char **argv) {
    if (optind < argc && (strcmp(argv[optind], "0") == 0 || strcmp(argv[optind], "1") == 0))
        return argv[optind++][0] == '1';
    return 1;
}

/* A number option of train: the current getopt argument in [lo, hi]. */
static int number(const char *opt, double lo, double hi, double *v) {
    return cli_parse_double("train", opt, optarg, lo, hi, v);
}

static int parse_one(TrainArgs *a, int opt, int argc, char **argv) {
    TrainConfig *t = &a->t;
    if (opt >= OPT_MIXUP && opt <= OPT_FORGET_EXP)
        return methods_option(&t->methods, opt, optarg);
    if (opt >= OPT_SCE_ALPHA && opt <= OPT_TGCE_EVERY)
        return loss_option(&t->loss, &a->loss_flags, opt, optarg);
    switch (opt) {
    case OPT_PCT: return number("--pct-noise", 0, 99.999, &a->d.pct);
    case OPT_SIZE: return cli_parse_int("train", "--size", optarg, 8, &t->size);
    case OPT_EPOCHS: return cli_parse_int("train", "--epochs", optarg, 1, &t->epochs);
    case OPT_LR: return number("--lr", 0, 10, &t->hyper.lr);
    case OPT_BS: return cli_parse_int("train", "--bs", optarg, 1, &t->bs);
    case OPT_MOM: return number("--mom", 0, 0.9999, &t->hyper.mom);
    case OPT_SQRMOM: return number("--sqrmom", 0, 0.99999, &t->hyper.sqr_mom);
    case OPT_EPS: return number("--eps", 0, 1, &t->hyper.eps);
    case OPT_WD: return number("--wd", 0, 1, &t->hyper.wd);
    case OPT_OPT: snprintf(t->opt, sizeof t->opt, "%s", optarg); return 0;
    case OPT_ARCH: snprintf(t->model.arch, sizeof t->model.arch, "%s", optarg); return 0;
    case OPT_ACT: return cli_parse_act("train", optarg, &t->model.act);
    case OPT_POOL: return cli_parse_pool("train", optarg, &t->model.pool);
    case OPT_SA: t->model.sa = switch_value(argc, argv); return 0;
    case OPT_SYM: t->model.sym = 1; return 0;
    case OPT_RUNS: return cli_parse_int("train", "--runs", optarg, 1, &a->runs);
    case OPT_FP16: a->fp16 = switch_value(argc, argv); return 0;
    case OPT_LOSS: return loss_option_name(&t->loss, "train", optarg);
    case OPT_SEED:
        if (cli_parse_u64(optarg, &t->seed) < 0)
            return cli_usage_error("train", "--seed: \"%s\" is not a non-negative integer",
                                   optarg);
        return 0;
    case OPT_THREADS: return cli_parse_int("train", "--threads", optarg, 1, &t->threads);
    case OPT_LIMIT: return cli_parse_int("train", "--limit", optarg, 1, &t->limit);
    case OPT_LABELS: a->d.labels = optarg; return 0;
    case OPT_OUT: t->out_dir = optarg; return 0;
    case OPT_RESULTS: a->results = optarg; return 0;
    case OPT_RESUME: t->resume = optarg; return 0;
    case OPT_WIDTH: return cli_parse_int("train", "--width-div", optarg, 1, &t->model.width_div);
    case OPT_BACKEND:
        if (!(t->backend = backend_by_name(optarg)))
            return cli_usage_error("train", "--backend: \"%s\" is unknown", optarg);
        return 0;
    case OPT_NO_DCT: t->dct_scale = 0; return 0;
    case OPT_SKIP_BAD: t->skip_bad = 1; return 0;
    case OPT_FMNIST: a->d.fmnist_dir = optarg; return 0;
    case OPT_WOOF: a->woof = switch_value(argc, argv); return 0;
    case OPT_OFFLINE: a->offline = 1; return 0;
    case OPT_SH: return number("--sh", 0, 1, &t->erase_sh);
    case OPT_BETA: return number("--beta", 0, 100, &t->hyper.beta);
    case OPT_DUMP: return cli_parse_int("train", "--dump", optarg, 0, &a->dump);
    case OPT_META: return 0;    /* the reference ignores it too */
    case OPT_REPRO: a->repro = switch_value(argc, argv); return 0;
    case OPT_GPU:
        log_info("--gpu %s: noisette trains on the CPU; the flag changes nothing", optarg);
        return 0;
    case OPT_FOLDS: return cli_parse_int("train", "--folds", optarg, 2, &a->folds);
    case OPT_PROBS: return cli_parse_int("train", "--save-train-probs", optarg, 1,
                                         &a->probs_epoch);
    case OPT_SYNC_BN: t->sync_bn = 1; return 0;
    case 'q': log_set_level(LOG_LEVEL_ERROR); return 0;
    case 'h': print_help(stdout); return -1;
    default: return cli_try_help("train");
    }
}

int cmd_train(int argc, char **argv) {
    TrainArgs a;
    defaults(&a);
    int opt;
    optind = 1;
    argv[0] = "noisette train";
    while ((opt = getopt_long(argc, argv, "qh", LONGOPTS, NULL)) != -1) {
        int rc = parse_one(&a, opt, argc, argv);
        if (rc)
            return rc < 0 ? EXIT_CODE_OK : rc;
    }
    if (optind != argc - 1)
        return cli_usage_error("train", optind >= argc ? "missing DATA" : "one DATA at a time");
    a.d.seed = a.t.seed;
    int mrc = check_probs_options(&a);
    if (!mrc)
        mrc = methods_finish(&a.t.methods, a.d.pct);
    if (!mrc)
        mrc = loss_options_check(&a.t.loss, a.loss_flags);
    if (mrc)
        return mrc;
    if (a.t.bs % dist_size() != 0)
        return cli_usage_error("train", "--bs %d is the global batch; it must divide among the "
                               "%d ranks", a.t.bs, dist_size());
    char name[64];
    if ((mrc = woof_name(&a, argv[optind], name, sizeof name)))
        return mrc;

    /* A dataset name means its folder in the cache (the variant that suits
     * --size), fetched if missing; then the dataset at the chosen noise
     * level. Fashion-MNIST is 1 x 28 x 28. */
    char *data;
    int rc = cli_resolve_data(name, a.t.size, a.offline, &data);
    if (rc < 0)
        return cli_report(rc);
    a.d.data = data;
    Dataset d;
    if ((rc = dataset_open(&d, &a.d)) < 0) {
        free(data);
        return cli_report(rc);
    }
    a.dataset = dataset_family(&d);
    a.t.model.c_in = d.channels;
    a.t.model.n_out = d.n_classes;
    if (a.t.size == 0)
        a.t.size = d.kind == DATASET_FMNIST ? 28 : 128;
    if (a.dump) {
        rc = dump_model(&a.t);
        dataset_free(&d);
        free(data);
        return rc < 0 ? cli_report(rc) : EXIT_CODE_OK;
    }
    a.t.progress = log_get_level() < LOG_LEVEL_INFO ? 0
                   : isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_LINES;
    char results[4200];
    if (!a.results) {
        snprintf(results, sizeof results, "%s/results.jsonl", a.t.out_dir);
        a.results = results;
    }
    if ((dist_rank() == 0 && (rc = make_dirs(a.t.out_dir)) < 0) ||
        (rc = check_ranks_agree(&a, &d)) < 0) {
        dataset_free(&d);
        free(data);
        return cli_report(rc);
    }

    /* The reference's summary line, then the runs; Ctrl-C stops cleanly. */
    log_info("pct_noise: %g; epochs: %d; lr: %g; size: %d; sqrmom: %g; mom: %g; eps: %g",
             a.d.pct, a.t.epochs, a.t.hyper.lr, a.t.size, a.t.hyper.sqr_mom, a.t.hyper.mom,
             a.t.hyper.eps);
    if (a.fp16)
        log_info("--fp16: noisette trains in fp32 on the CPU (spec §8); the flag changes nothing");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGUSR1, on_signal);
    rc = run_all(&a, &d);
    dataset_free(&d);
    free(data);
    return rc;
}
