/* noisette mislabeled: rank the training images whose given label is
 * probably wrong, by confident learning over out-of-sample probabilities
 * (PROBS files from train --folds); score the ranking when the truth is
 * known. The method is in report/confident.c, the file in report/probs.c. */
#include "cli/cli.h"

#include "labels/csv.h"
#include "report/confident.h"
#include "report/probs.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_OUTPUT  "suspects.csv"
#define DEBUG_MAX_K     20      /* -v prints K x K matrices up to this K */

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette mislabeled [OPTIONS] PROBS.csv...\n"
            "\n"
            "Find training images whose given label is probably wrong, by confident\n"
            "learning (Northcutt et al., JAIR 2021; cleanlab's find_label_issues) over\n"
            "out-of-sample predicted probabilities: the PROBS files of 'noisette train\n"
            "--folds K' (DIR/fold*/probs.csv), read together. Header path,given,truth,\n"
            "then one column per class in class-index order; see docs/mislabeled.md.\n"
            "\n"
            "Writes the flagged images, most suspect first: path,given,suggested,score\n"
            "(suggested: the most probable other class; score: lower = more suspect).\n"
            "When every row has its truth, prints precision, recall and F1 of the\n"
            "flagged set against the labels that truly differ (truth != given), overall\n"
            "and per given class, and ranking measures that need no threshold.\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE      suspects CSV (default ./%s; '-' for standard\n"
            "                         output, the report then goes to standard error)\n"
            "      --force            overwrite an existing file\n"
            "      --filter NAME      which images to flag (default prune_by_noise_rate):\n"
            "                         prune_by_noise_rate  per given class k and other\n"
            "                           class j, the C[k][j] largest p_j - p_k\n"
            "                         prune_by_class  per class k, the n_k - C[k][k]\n"
            "                           smallest p_k\n"
            "                         both  flagged by both of the above\n"
            "                         confident_learning  off-diagonal of the confident\n"
            "                           joint (guessed true label != given)\n"
            "                         predicted_neq_given  argmax p != given\n"
            "                         low_self_confidence, low_normalized_margin  the\n"
            "                           estimated number of issues with the lowest score\n"
            "      --rank NAME        order and score: self_confidence (p_given, default)\n"
            "                         or normalized_margin ((p_given - max other + 1)/2)\n"
            "      --frac-noise F     flag only this fraction in (0,1] of each estimated\n"
            "                         count (prune filters; default 1)\n"
            "      --min-per-class N  leave at least N images in each class, and leave\n"
            "                         classes of at most N images alone (default 1)\n"
            "  -v, --verbose          also print the thresholds and confident joints\n"
            "  -q, --quiet            print only errors\n"
            "  -h, --help             show this help\n"
            "\n"
            "Exit codes: 0 done, 1 failed (a bad PROBS file: the message names\n"
            "file:line), 2 bad usage.\n",
            DEFAULT_OUTPUT);
}

typedef struct {
    const char      *output;
    int              force, quiet;
    ConfidentOptions opt;
} MislabeledArgs;

/* Truth in every row or in none: a mix means files from different sources. */
static int check_truth(const ProbsTable *t) {
    if (t->n_truth == 0 || t->n_truth == t->n_rows)
        return ERR_OK;
    int with = -1, without = -1;
    for (int i = 0; i < t->n_rows && (with < 0 || without < 0); i++) {
        if (t->truth[i] == PROBS_NO_TRUTH && without < 0)
            without = i;
        if (t->truth[i] != PROBS_NO_TRUTH && with < 0)
            with = i;
    }
    return err_set(ERR_PARSE, "%s:%ld: truth is empty, but %s:%ld has one; give the truth in "
                   "every row or in none (%d of %d rows have it)", t->files[t->row_file[without]],
                   t->row_line[without], t->files[t->row_file[with]], t->row_line[with],
                   t->n_truth, t->n_rows);
}

/* ---- the suspects CSV ------------------------------------------------------ */

static int write_suspects(const ProbsTable *t, const ConfidentResult *res, FILE *fp) {
    fputs("path,given,suggested,score\n", fp);
    for (int x = 0; x < res->n_flagged; x++) {
        int i = res->order[x];
        csv_write_field(fp, t->paths[i]);
        fputc(',', fp);
        csv_write_field(fp, t->class_names[t->given[i]]);
        fputc(',', fp);
        csv_write_field(fp, t->class_names[res->suggested[i]]);
        fprintf(fp, ",%.6g\n", res->scores[i]);
    }
    return ferror(fp) ? err_set(ERR_IO, "write failed") : ERR_OK;
}

static int save_suspects(const ProbsTable *t, const ConfidentResult *res, const char *path,
                         int force) {
    if (strcmp(path, "-") == 0)
        return write_suspects(t, res, stdout) < 0 || fflush(stdout) != 0
                   ? err_set(ERR_IO, "standard output: write failed") : ERR_OK;

    AtomicFile af;
    int rc = atomic_open(&af, path, force);
    if (rc < 0)
        return rc;
    if ((rc = write_suspects(t, res, af.fp)) < 0) {
        atomic_abort(&af);
        return err_prefix(rc, "%s", path);
    }
    return atomic_commit(&af);
}

/* ---- the report -------------------------------------------------------------- */

/* A ratio with 4 decimals, or "-" when it is undefined (0/0). */
static const char *ratio(double v, char *buf, size_t cap) {
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.4f", v);
    return buf;
}

static void print_class_table(const ProbsTable *t, const ConfidentDetection *d, FILE *out) {
    int w = (int)strlen("given_class");
    for (int a = 0; a < t->n_classes; a++)
        if ((int)strlen(t->class_names[a]) > w)
            w = (int)strlen(t->class_names[a]);

    fprintf(out, "%-*s  %7s  %7s  %7s  %7s  %9s  %7s  %7s\n", w, "given_class", "images",
            "changed", "flagged", "tp", "precision", "recall", "f1");
    for (int a = 0; a < t->n_classes; a++) {
        double p, r, f;
        char bp[16], br[16], bf[16];
        confident_prf(d->class_flagged[a], d->class_changed[a], d->class_tp[a], &p, &r, &f);
        fprintf(out, "%-*s  %7ld  %7ld  %7ld  %7ld  %9s  %7s  %7s\n", w, t->class_names[a],
                d->class_n[a], d->class_changed[a], d->class_flagged[a], d->class_tp[a],
                ratio(p, bp, sizeof bp), ratio(r, br, sizeof br), ratio(f, bf, sizeof bf));
    }
}

/* The detection report of §11.6: the flagged set, then the ranking. */
static void print_detection(const ProbsTable *t, const ConfidentResult *res,
                            const ConfidentDetection *d, const ConfidentOptions *opt, FILE *out) {
    char b1[16], b2[16], b3[16];
    fprintf(out, "images %d  classes %d  filter %s  rank %s\n", res->n, res->k,
            confident_filter_name(opt->filter), confident_rank_name(opt->rank));
    fprintf(out, "flagged %ld  estimated %ld  changed %ld  tp %ld  precision %s  recall %s  "
            "f1 %s\n", d->n_flagged, res->n_estimated, d->n_changed, d->tp,
            ratio(d->precision, b1, sizeof b1), ratio(d->recall, b2, sizeof b2),
            ratio(d->f1, b3, sizeof b3));
    fprintf(out, "suggested label = truth on %ld of %ld true positives\n", d->suggested_right,
            d->tp);
    fprintf(out, "ranking all images by %s: precision_at_%ld %s (%ld of %ld)  auroc %s  "
            "average_precision %s\n", confident_rank_name(opt->rank), d->n_changed,
            ratio(d->top_precision, b1, sizeof b1), d->top_hits, d->n_changed,
            ratio(d->auroc, b2, sizeof b2), ratio(d->average_precision, b3, sizeof b3));
    fputc('\n', out);
    print_class_table(t, d, out);
}

/* -v: thresholds and the three K x K matrices, on stderr. */
static void log_details(const ProbsTable *t, const ConfidentResult *res) {
    if (log_get_level() < LOG_LEVEL_DEBUG || res->k > DEBUG_MAX_K)
        return;
    const char *what[3] = {"confident joint (counted)", "calibrated", "prune counts"};
    const long *m[3] = {res->joint, res->calibrated, res->prune};
    for (int a = 0; a < res->k; a++)
        log_debug("class %d %s: %ld images, threshold %.6f", a, t->class_names[a],
                  res->label_counts[a], res->thresholds[a]);
    for (int x = 0; x < 3; x++) {
        log_debug("%s, rows = given label, columns = guessed true label:", what[x]);
        for (int a = 0; a < res->k; a++) {
            char line[DEBUG_MAX_K * 12 + 1];
            size_t used = 0;
            for (int j = 0; j < res->k; j++)
                used += (size_t)snprintf(line + used, sizeof line - used, " %7ld",
                                         m[x][(size_t)a * (size_t)res->k + (size_t)j]);
            log_debug("  %s", line);
        }
    }
}

/* ---- the command --------------------------------------------------------------- */

static int run(const MislabeledArgs *a, int n_files, char **files) {
    ProbsTable t;
    ConfidentResult res;
    ConfidentDetection det;
    memset(&res, 0, sizeof res);
    memset(&det, 0, sizeof det);
    probs_init(&t);

    /* Read every file into one table, in path order. */
    int rc = ERR_OK;
    for (int f = 0; f < n_files && rc == ERR_OK; f++)
        rc = probs_read(&t, files[f]);
    if (rc == ERR_OK)
        rc = check_truth(&t);
    if (rc == ERR_OK)
        rc = probs_sort_by_path(&t);

    /* Find, write, score. */
    if (rc == ERR_OK)
        rc = confident_find_issues(t.n_rows, t.n_classes, t.probs, t.given, &a->opt, &res);
    if (rc == ERR_OK)
        rc = save_suspects(&t, &res, a->output, a->force);
    if (rc == ERR_OK) {
        int to_stdout = strcmp(a->output, "-") == 0;
        log_info("%s: %d of %d images flagged (%s), %ld label issues estimated",
                 to_stdout ? "standard output" : a->output, res.n_flagged, res.n,
                 confident_filter_name(a->opt.filter), res.n_estimated);
        log_details(&t, &res);
        if (t.n_truth == t.n_rows &&
            (rc = confident_detection(&res, t.given, t.truth, &det)) == ERR_OK &&
            !(to_stdout && a->quiet))
            print_detection(&t, &res, &det, &a->opt, to_stdout ? stderr : stdout);
    }

    confident_detection_free(&det);
    confident_result_free(&res);
    probs_free(&t);
    return rc < 0 ? cli_report(rc) : EXIT_CODE_OK;
}

static int parse_frac(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (!*s || *end || errno || !(*v > 0 && *v <= 1))
        return cli_usage_error("mislabeled", "--frac-noise: \"%s\" is not a number in (0,1]",
                               s);
    return 0;
}

int cmd_mislabeled(int argc, char **argv) {
    enum { OPT_FORCE = 256, OPT_FILTER, OPT_RANK, OPT_FRAC, OPT_MIN };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, OPT_FORCE},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"rank", required_argument, NULL, OPT_RANK},
        {"frac-noise", required_argument, NULL, OPT_FRAC},
        {"min-per-class", required_argument, NULL, OPT_MIN},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    MislabeledArgs a = {DEFAULT_OUTPUT, 0, 0, confident_defaults()};
    int verbose = 0, opt, v, min;

    optind = 1;
    argv[0] = "noisette mislabeled";
    while ((opt = getopt_long(argc, argv, "o:vqh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': a.output = optarg; break;
        case OPT_FORCE: a.force = 1; break;
        case OPT_FILTER:
            if ((v = confident_filter_parse(optarg)) < 0)
                return cli_usage_error("mislabeled", "--filter: \"%s\" is not one of "
                                       "prune_by_noise_rate, prune_by_class, both, "
                                       "confident_learning, predicted_neq_given, "
                                       "low_self_confidence, low_normalized_margin", optarg);
            a.opt.filter = (ConfidentFilter)v;
            break;
        case OPT_RANK:
            if ((v = confident_rank_parse(optarg)) < 0)
                return cli_usage_error("mislabeled", "--rank: \"%s\" is not %s", optarg,
                                       strcmp(optarg, "confidence_weighted_entropy") == 0
                                           ? "offered (docs/mislabeled.md, Limits); use "
                                             "self_confidence or normalized_margin"
                                           : "self_confidence or normalized_margin");
            a.opt.rank = (ConfidentRank)v;
            break;
        case OPT_FRAC:
            if (parse_frac(optarg, &a.opt.frac_noise) != 0)
                return EXIT_CODE_USAGE;
            break;
        case OPT_MIN:
            if (cli_parse_int("mislabeled", "--min-per-class", optarg, 0, &min) != 0)
                return EXIT_CODE_USAGE;
            a.opt.min_per_class = min;
            break;
        case 'v': verbose = 1; break;
        case 'q': a.quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("mislabeled");
        }
    }
    if (optind >= argc)
        return cli_usage_error("mislabeled", "missing PROBS file");
    cli_set_verbosity(verbose, a.quiet);
    return run(&a, argc - optind, argv + optind);
}
