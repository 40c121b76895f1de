/* noisette labels: make a noisy-label CSV for a dataset. */
#include "cli/cli.h"

#include "data/fashion_mnist.h"
#include "data/folder.h"
#include "get/get.h"
#include "labels/label_table.h"
#include "labels/matrix_csv.h"
#include "labels/noise.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SEED 42     /* the reference notebook's seed */
#define FMNIST_DEFAULT_OUTPUT "noisy_fashion_mnist.csv"

static const double DEFAULT_LEVELS[] = {1, 5, 25, 50};

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette labels [OPTIONS] DATA\n"
            "\n"
            "Make a noisy-label CSV in the Noisy Imagenette format: path, the true\n"
            "label (noisy_labels_0), one noisy_labels_P column per level, is_valid.\n"
            "Only training rows are changed; validation rows keep their true label.\n"
            "\n"
            "DATA is one of:\n"
            "  a dataset folder   train/CLASS/*.JPEG and val/CLASS/*.JPEG, listed in\n"
            "                     sorted order\n"
            "  a label CSV        its noisy_labels_0 column is noised anew\n"
            "  fashion-mnist      the IDX files of Debian's dataset-fashion-mnist\n"
            "  a dataset name     imagenette2-320, imagewoof2, imagenette ... (see\n"
            "                     noisette get --list): its folder in the cache,\n"
            "                     downloaded first when missing\n"
            "\n"
            "Noise (default: uniform at 1,5,25,50%%, as the reference notebook):\n"
            "      --levels LIST      percentages, comma-separated, each in (0,100)\n"
            "      --noise KIND       uniform: exactly ceil(P*N/100) training rows get a\n"
            "                         label drawn uniformly from the other classes;\n"
            "                         pairflip: round(P*N_i/100) rows (halves up) of\n"
            "                         each class i go to the next class in sorted order\n"
            "      --matrix FILE      K x K row-stochastic transition matrix (CSV, rows =\n"
            "                         true class, sorted order); class i's rows go to j\n"
            "                         in proportion T_ij. One column, named after the\n"
            "                         expected rate unless --levels names it\n"
            "      --nested           each level's changed rows, with their labels,\n"
            "                         contain the lower level's (default: independent)\n"
            "      --seed N           random seed (default %d); the same seed gives the\n"
            "                         same file on every machine\n"
            "\n"
            "Output:\n"
            "  -o, --output FILE      write here, '-' for standard output. Default: a\n"
            "                         folder's DATA/noisy_NAME.csv (imagenette2-320 ->\n"
            "                         noisy_imagenette.csv), ./%s for\n"
            "                         fashion-mnist; required for a CSV\n"
            "      --force            overwrite an existing file\n"
            "      --fashion-mnist-dir DIR  where the IDX files are (default\n"
            "                         %s)\n"
            "      --offline          never download: a dataset name not in the cache\n"
            "                         is an error\n"
            "  -v, --verbose          more detail on stderr\n"
            "  -q, --quiet            print only errors\n"
            "  -h, --help             show this help\n"
            "\n"
            "Exit codes: 0 done, 1 failed, 2 bad usage.\n",
            DEFAULT_SEED, FMNIST_DEFAULT_OUTPUT, FMNIST_DEFAULT_DIR);
}

typedef struct {
    const char *data, *output, *matrix_path, *fmnist_dir;
    NoiseSpec   spec;
    int         levels_given, force;
} LabelsArgs;

/* Loads DATA's truth: a folder, fashion-mnist, or a label CSV. Sets the
 * default output name in out (empty when -o is required). */
static int load_truth(const LabelsArgs *a, LabelTable *t, char *out, size_t cap) {
    out[0] = '\0';
    if (strcmp(a->data, "fashion-mnist") == 0) {
        snprintf(out, cap, "%s", FMNIST_DEFAULT_OUTPUT);
        return fmnist_label_table(a->fmnist_dir, t);
    }
    if (file_is_dir(a->data)) {
        char name[256];
        long skipped = 0;
        folder_dataset_name(a->data, name, sizeof name);
        snprintf(out, cap, "%s/noisy_%s.csv", a->data, name);
        int rc = folder_label_table(a->data, t, &skipped);
        if (rc == ERR_OK && skipped)
            log_info("%s: passed over %ld entries that are not image files", a->data, skipped);
        return rc;
    }
    if (!file_exists(a->data))
        return err_set(ERR_IO, "%s: no such file or folder (DATA is a dataset folder, a "
                       "label CSV, or fashion-mnist)", a->data);
    return labels_read(a->data, t);
}

static int write_table(const LabelTable *t, const char *path, int force) {
    if (strcmp(path, "-") == 0)
        return labels_write(t, stdout) < 0 || fflush(stdout) != 0
                   ? err_set(ERR_IO, "standard output: write failed") : ERR_OK;

    AtomicFile af;
    int rc = atomic_open(&af, path, force);
    if (rc < 0)
        return rc;
    if ((rc = labels_write(t, af.fp)) < 0) {
        atomic_abort(&af);
        return err_prefix(rc, "%s", path);
    }
    return atomic_commit(&af);
}

/* With a matrix: read it, and name the column after its expected rate
 * unless the user named it. */
static int prepare_matrix(LabelsArgs *a, const LabelTable *t, double **m) {
    int rc = matrix_csv_read(a->matrix_path, t, m);
    if (rc < 0)
        return rc;
    if (a->levels_given && a->spec.n_levels != 1)
        return err_set(ERR_USAGE, "--matrix makes one noisy column: give --levels one value "
                       "or none");
    if (!a->levels_given) {
        double rate = noise_matrix_rate(t, *m);
        long whole = (long)(rate + 0.5);
        if (whole < 1 || whole > 99)
            return err_set(ERR_USAGE, "%s changes %.2f%% of the training labels; name the "
                           "column with --levels P", a->matrix_path, rate);
        a->spec.levels[0] = (double)whole;
        a->spec.n_levels = 1;
    }
    a->spec.kind = NOISE_MATRIX;
    a->spec.matrix = *m;
    return ERR_OK;
}

static void log_summary(const LabelTable *t, const char *path) {
    log_info("wrote %s: %d rows (%d train, %d valid), %d classes",
             strcmp(path, "-") == 0 ? "standard output" : path, t->n_rows, t->n_train,
             t->n_valid, t->n_classes);
    for (int l = 0; l < t->n_levels; l++) {
        long changed = 0;
        for (int i = 0; i < t->n_rows; i++)
            changed += labels_noisy(t, l)[i] != t->truth[i];
        log_info("  noisy_labels_%s: %ld training labels changed (%.4f%%)", t->level_text[l],
                 changed, t->n_train ? 100.0 * (double)changed / t->n_train : 0.0);
    }
}

static int run(LabelsArgs *a) {
    LabelTable t;
    char out[4096];
    double *matrix = NULL;

    int rc = load_truth(a, &t, out, sizeof out);
    if (rc < 0)
        return cli_report(rc);
    if (a->output)
        snprintf(out, sizeof out, "%s", a->output);

    if (!out[0])
        rc = err_set(ERR_USAGE, "%s is a label CSV: name the new file with -o FILE "
                     "('-' for standard output)", a->data);
    if (rc == ERR_OK && a->matrix_path)
        rc = prepare_matrix(a, &t, &matrix);
    if (rc == ERR_OK) {
        static const char *const KIND[] = {"uniform", "pairflip", "matrix"};
        log_debug("%s: %d rows, %d classes; %s noise, seed %llu, %s levels", a->data,
                  t.n_rows, t.n_classes, KIND[a->spec.kind],
                  (unsigned long long)a->spec.seed, a->spec.nested ? "nested" : "independent");
        rc = noise_apply(&t, &a->spec);
    }
    if (rc == ERR_OK)
        rc = write_table(&t, out, a->force);
    if (rc == ERR_OK)
        log_summary(&t, out);

    free(matrix);
    labels_free(&t);
    return rc < 0 ? cli_report(rc) : EXIT_CODE_OK;
}

int cmd_labels(int argc, char **argv) {
    enum { OPT_LEVELS = 256, OPT_NOISE, OPT_MATRIX, OPT_NESTED, OPT_SEED, OPT_FORCE, OPT_FMNIST,
           OPT_OFFLINE };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"levels", required_argument, NULL, OPT_LEVELS},
        {"noise", required_argument, NULL, OPT_NOISE},
        {"matrix", required_argument, NULL, OPT_MATRIX},
        {"nested", no_argument, NULL, OPT_NESTED},
        {"seed", required_argument, NULL, OPT_SEED},
        {"force", no_argument, NULL, OPT_FORCE},
        {"fashion-mnist-dir", required_argument, NULL, OPT_FMNIST},
        {"offline", no_argument, NULL, OPT_OFFLINE},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    LabelsArgs a;
    memset(&a, 0, sizeof a);
    a.spec.kind = NOISE_UNIFORM;
    a.spec.seed = DEFAULT_SEED;
    a.spec.n_levels = (int)(sizeof DEFAULT_LEVELS / sizeof DEFAULT_LEVELS[0]);
    memcpy(a.spec.levels, DEFAULT_LEVELS, sizeof DEFAULT_LEVELS);
    int verbose = 0, quiet = 0, offline = 0, opt;

    optind = 1;
    argv[0] = "noisette labels";
    while ((opt = getopt_long(argc, argv, "o:vqh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': a.output = optarg; break;
        case OPT_LEVELS:
            if (cli_parse_levels(optarg, a.spec.levels, &a.spec.n_levels, LABELS_MAX_LEVELS) < 0)
                return cli_usage_error("labels", "%s", err_msg());
            a.levels_given = 1;
            break;
        case OPT_NOISE:
            if (strcmp(optarg, "uniform") == 0)
                a.spec.kind = NOISE_UNIFORM;
            else if (strcmp(optarg, "pairflip") == 0)
                a.spec.kind = NOISE_PAIRFLIP;
            else
                return cli_usage_error("labels", "--noise: \"%s\" is not uniform or pairflip "
                                       "(for a transition matrix use --matrix FILE)", optarg);
            break;
        case OPT_MATRIX: a.matrix_path = optarg; break;
        case OPT_NESTED: a.spec.nested = 1; break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, &a.spec.seed) < 0)
                return cli_usage_error("labels", "--seed: \"%s\" is not a non-negative "
                                       "integer below 2^64", optarg);
            break;
        case OPT_FORCE: a.force = 1; break;
        case OPT_FMNIST: a.fmnist_dir = optarg; break;
        case OPT_OFFLINE: offline = 1; break;
        case 'v': verbose = 1; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("labels");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("labels", optind >= argc ? "missing DATA" : "one DATA at a time");
    if (a.matrix_path && a.spec.kind == NOISE_PAIRFLIP)
        return cli_usage_error("labels", "--matrix and --noise pairflip exclude each other");
    if (a.matrix_path && a.spec.nested)
        return cli_usage_error("labels", "--nested needs several levels; --matrix makes one");
    cli_set_verbosity(verbose, quiet);

    /* A dataset name means its folder in the cache, fetched if missing. */
    char *data;
    int rc = get_resolve_data(argv[optind], 0, offline, &data);
    if (rc < 0)
        return cli_report(rc);
    a.data = data;
    rc = run(&a);
    free(data);
    return rc;
}
