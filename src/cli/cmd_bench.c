/* noisette bench: throughput of the parts of training.
 *   bench loader DATA   images/s and CPU time per image of the batch loader
 *   bench train         training steps and evaluation of a model
 *                       (cmd_bench_train.c) */
#include "cli/cli.h"

#include "data/dataset.h"
#include "data/loader.h"
#include "util/err.h"
#include "util/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_DEFAULT_SIZE  128
#define BENCH_DEFAULT_BS    64
#define BENCH_DEFAULT_SEED  42

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette bench loader [OPTIONS] DATA\n"
            "       noisette bench train [OPTIONS]   (see noisette bench train --help)\n"
            "\n"
            "Measure the batch loader: read, decode, augment and normalise images into\n"
            "batches as training would, and report images per second (wall clock) and\n"
            "CPU time per image (all threads). DATA is a dataset folder with its label\n"
            "CSV, or fashion-mnist.\n"
            "\n"
            "Options:\n"
            "      --size S           image size (default %d; 28 for fashion-mnist)\n"
            "      --bs N             batch size (default %d)\n"
            "      --threads N        loader threads (default 1)\n"
            "      --batches N        stop after N batches (default: one epoch)\n"
            "      --valid            the validation pipeline (squash + centre crop)\n"
            "                         instead of training augmentation\n"
            "      --pct-noise P      label column noisy_labels_P (default 0)\n"
            "      --labels FILE      the label CSV (default: the folder's noisy_*.csv)\n"
            "      --no-dct-scale     decode JPEGs at full size\n"
            "      --skip-bad         drop unreadable images with a count, instead of failing\n"
            "      --seed N           augmentation seed (default %d)\n"
            "      --fashion-mnist-dir DIR\n"
            "  -q, --quiet            print only the result\n"
            "  -h, --help             show this help\n"
            "\n"
            "Exit codes: 0 done, 1 failed, 2 bad usage.\n",
            BENCH_DEFAULT_SIZE, BENCH_DEFAULT_BS, BENCH_DEFAULT_SEED);
}

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs the loader for up to max_batches batches of epoch 0 and prints. */
static int bench_loader(const Dataset *d, const LoaderOptions *lo, int max_batches,
                        const char *data) {
    Loader *l = loader_new(d, lo);
    if (!l)
        return cli_report(ERR_NOMEM);
    int n_batches = loader_batches(l);
    if (max_batches > 0 && max_batches < n_batches)
        n_batches = max_batches;

    double wall0 = seconds(CLOCK_MONOTONIC), cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    long images = 0;
    int rc = loader_start_epoch(l, 0);
    for (int b = 0; rc >= 0 && b < n_batches; b++) {
        Batch *batch;
        rc = loader_next(l, &batch);
        if (rc > 0) {
            images += batch->n;
            loader_release(l, batch);
        }
    }
    double wall = seconds(CLOCK_MONOTONIC) - wall0;
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    long bad = loader_bad_count(l);
    loader_free(l);
    if (rc < 0)
        return cli_report(rc);

    if (bad)
        log_warn("%ld unreadable image%s skipped", bad, bad == 1 ? "" : "s");
    printf("loader %s: %s, size %d, batch %d, %d thread%s%s: %ld images in %.2f s\n", data,
           lo->split == SPLIT_TRAIN ? "train" : "valid", lo->sample.size, lo->batch_size,
           lo->threads, lo->threads == 1 ? "" : "s", lo->sample.dct_scale ? "" : ", no DCT scaling",
           images, wall);
    printf("  %.1f images/s, %.3f ms CPU per image\n", images / wall,
           images ? 1e3 * cpu / (double)images : 0.0);
    return EXIT_CODE_OK;
}

int cmd_bench(int argc, char **argv) {
    enum { OPT_SIZE = 256, OPT_BS, OPT_THREADS, OPT_BATCHES, OPT_VALID, OPT_PCT, OPT_LABELS,
           OPT_NO_DCT, OPT_SKIP_BAD, OPT_SEED, OPT_FMNIST };
    static const struct option longopts[] = {
        {"size", required_argument, NULL, OPT_SIZE},
        {"bs", required_argument, NULL, OPT_BS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"batches", required_argument, NULL, OPT_BATCHES},
        {"valid", no_argument, NULL, OPT_VALID},
        {"pct-noise", required_argument, NULL, OPT_PCT},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"no-dct-scale", no_argument, NULL, OPT_NO_DCT},
        {"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
        {"seed", required_argument, NULL, OPT_SEED},
        {"fashion-mnist-dir", required_argument, NULL, OPT_FMNIST},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_CODE_USAGE : EXIT_CODE_OK;
    }
    if (strcmp(argv[1], "train") == 0)
        return cmd_bench_train(argc - 1, argv + 1);
    if (strcmp(argv[1], "loader") != 0)
        return cli_usage_error("bench", "unknown benchmark \"%s\" (known: loader, train)",
                               argv[1]);

    DatasetOptions dopt = {.check_files = 1, .seed = BENCH_DEFAULT_SEED};
    LoaderOptions lo = {.split = SPLIT_TRAIN, .batch_size = BENCH_DEFAULT_BS, .threads = 1,
                        .layout = LAYOUT_NCHW,
                        .sample = {.size = 0, .augment = 1, .crop = 1, .dct_scale = 1,
                                   .min_scale = TRANSFORM_MIN_SCALE,
                                   .seed = BENCH_DEFAULT_SEED}};
    int max_batches = 0, quiet = 0, opt;

    optind = 1;
    argv[1] = "noisette bench loader";
    while ((opt = getopt_long(argc - 1, argv + 1, "qh", longopts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case OPT_SIZE: bad = cli_parse_int("bench", "--size", optarg, 1, &lo.sample.size); break;
        case OPT_BS: bad = cli_parse_int("bench", "--bs", optarg, 1, &lo.batch_size); break;
        case OPT_THREADS: bad = cli_parse_int("bench", "--threads", optarg, 1, &lo.threads); break;
        case OPT_BATCHES: bad = cli_parse_int("bench", "--batches", optarg, 1, &max_batches); break;
        case OPT_VALID: lo.split = SPLIT_VALID; break;
        case OPT_PCT:
            dopt.pct = strtod(optarg, NULL);
            if (!(dopt.pct >= 0 && dopt.pct < 100))
                bad = cli_usage_error("bench", "--pct-noise: \"%s\" is not in [0,100)", optarg);
            break;
        case OPT_LABELS: dopt.labels = optarg; break;
        case OPT_NO_DCT: lo.sample.dct_scale = 0; break;
        case OPT_SKIP_BAD: lo.skip_bad = 1; break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, &lo.sample.seed) < 0)
                bad = cli_usage_error("bench", "--seed: \"%s\" is not a non-negative integer",
                                      optarg);
            dopt.seed = lo.sample.seed;
            break;
        case OPT_FMNIST: dopt.fmnist_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("bench");
        }
        if (bad)
            return bad;
    }
    if (optind + 1 != argc - 1)
        return cli_usage_error("bench", "bench loader takes one DATA");
    dopt.data = argv[optind + 1];
    cli_set_verbosity(0, quiet);

    /* Fashion-MNIST keeps its 28 px and, as in training, flips only. */
    Dataset d;
    int rc = dataset_open(&d, &dopt);
    if (rc < 0)
        return cli_report(rc);
    if (d.kind == DATASET_FMNIST)
        lo.sample.crop = 0;
    if (lo.sample.size == 0)
        lo.sample.size = d.kind == DATASET_FMNIST ? 28 : BENCH_DEFAULT_SIZE;
    lo.sample.augment = lo.split == SPLIT_TRAIN;
    int code = bench_loader(&d, &lo, max_batches, dopt.data);
    dataset_free(&d);
    return code;
}
