/* noisette eval: a checkpoint of noisette train on a clean validation set. */
#include "cli/cli.h"
#include "cli/train_loss.h"

#include "data/dataset.h"
#include "train/loop.h"
#include "util/err.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette eval [OPTIONS] CKPT DATA\n"
            "\n"
            "Load a checkpoint written by noisette train and evaluate it on the clean\n"
            "validation set of DATA (a dataset folder with its label CSV, fashion-mnist,\n"
            "or a dataset name as for noisette train): loss, accuracy, top-5 accuracy,\n"
            "and accuracy per class. The model and image size are the checkpoint's; of a\n"
            "co-teaching run, the first network is evaluated.\n"
            "\n"
            "Options:\n"
            "      --labels FILE      the label CSV (default: the folder's noisy_*.csv)\n"
            "      --loss NAME        the loss to report (default ls; any of train's)\n"
            "      --threads N        loader threads (default 1)\n"
            "      --no-dct-scale     decode JPEGs at full size\n"
            "      --fashion-mnist-dir DIR\n"
            "      --offline          never download: a dataset name must be in the cache\n"
            "  -h, --help             show this help\n"
            "\n"
            "Exit codes: 0 done, 1 failed, 2 bad usage.\n");
}

static void print_report(const Dataset *d, const EpochStats *s, const long *correct,
                         const long *total, const char *ckpt) {
    printf("%s on %d validation images: loss %.6f  accuracy %.6f  top_k_accuracy %.6f\n",
           ckpt, d->n[SPLIT_VALID], s->valid_loss, s->accuracy, s->top5);
    printf("\n  idx  class                    images  accuracy\n");
    for (int k = 0; k < d->n_classes; k++)
        printf("  %3d  %-24s %6ld  %8.4f\n", k, dataset_class_name(d, k), total[k],
               total[k] ? (double)correct[k] / (double)total[k] : 0.0);
}

int cmd_eval(int argc, char **argv) {
    enum { OPT_LABELS = 256, OPT_LOSS, OPT_THREADS, OPT_NO_DCT, OPT_FMNIST, OPT_OFFLINE };
    static const struct option longopts[] = {
        {"labels", required_argument, NULL, OPT_LABELS},
        {"loss", required_argument, NULL, OPT_LOSS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"no-dct-scale", no_argument, NULL, OPT_NO_DCT},
        {"fashion-mnist-dir", required_argument, NULL, OPT_FMNIST},
        {"offline", no_argument, NULL, OPT_OFFLINE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    TrainConfig t;
    memset(&t, 0, sizeof t);
    model_config_default(&t.model, "");
    t.backend = backend_default();
    t.threads = 1;
    t.dct_scale = 1;
    snprintf(t.opt, sizeof t.opt, "sgd");
    t.hyper = (OptHyper){.lr = 1e-2};
    loss_config_default(LOSS_LABEL_SMOOTHING, &t.loss);
    DatasetOptions dopt = {.check_files = 1};
    int opt, bad = 0, offline = 0;

    optind = 1;
    argv[0] = "noisette eval";
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1 && !bad) {
        switch (opt) {
        case OPT_LABELS: dopt.labels = optarg; break;
        case OPT_LOSS: bad = loss_option_name(&t.loss, "eval", optarg); break;
        case OPT_THREADS: bad = cli_parse_int("eval", "--threads", optarg, 1, &t.threads); break;
        case OPT_NO_DCT: t.dct_scale = 0; break;
        case OPT_FMNIST: dopt.fmnist_dir = optarg; break;
        case OPT_OFFLINE: offline = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("eval");
        }
    }
    if (bad)
        return bad;
    if (optind != argc - 2)
        return cli_usage_error("eval", "expected CKPT and DATA");
    t.resume = argv[optind];

    /* The model the checkpoint describes, the dataset (a name resolved for
     * the checkpoint's image size), then the pass. */
    char *data = NULL;
    int rc = train_config_from_checkpoint(t.resume, &t);
    if (rc == ERR_OK)
        rc = cli_resolve_data(argv[optind + 1], t.size, offline, &data);
    dopt.data = data;
    Dataset d;
    if (rc == ERR_OK)
        rc = dataset_open(&d, &dopt);
    if (rc < 0) {
        free(data);
        return cli_report(rc);
    }
    long *correct = calloc((size_t)d.n_classes, sizeof *correct);
    long *total = calloc((size_t)d.n_classes, sizeof *total);
    EpochStats s = {0};
    rc = correct && total ? train_eval(&t, &d, &s, correct, total)
                          : err_set(ERR_NOMEM, "out of memory");
    if (rc == ERR_OK)
        print_report(&d, &s, correct, total, t.resume);
    free(correct);
    free(total);
    dataset_free(&d);
    free(data);
    return rc < 0 ? cli_report(rc) : EXIT_CODE_OK;
}
