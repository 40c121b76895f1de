/* noisette board: leaderboard tables from results files, beside the
 * published baseline. */
#include "cli/cli.h"

#include "report/baseline.h"
#include "report/board.h"
#include "report/results.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#ifndef NOISETTE_VERSION
#define NOISETTE_VERSION "unknown"
#endif

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette board [OPTIONS] RESULTS...\n"
            "\n"
            "Leaderboard tables from results files (the JSON lines of noisette train):\n"
            "runs grouped by dataset, noise level, size, epochs and configuration (the\n"
            "settings but seed, run and file names), accuracy as the mean and sample\n"
            "standard deviation of their final accuracies, and the difference from the\n"
            "published baseline (fastai/imagenette noisy_labels/extended_lb.csv, built\n"
            "in). One Markdown table per dataset and noise level, in the format of the\n"
            "Noisy Imagenette boards; runs that are not leaderboard cells (other\n"
            "datasets, sizes or budgets, --limit, old results lines) in a table apart.\n"
            "\n"
            "Lines that cannot be used are skipped with a FILE:LINE note on stderr:\n"
            "malformed lines (warnings), interrupted or unfinished runs, a last line\n"
            "still being written, the same run twice.\n"
            "\n"
            "Options:\n"
            "      --format md|csv   Markdown tables (default), or the baseline's CSV\n"
            "                        columns pct_noise,imagewoof,size,epochs,accuracy\n"
            "                        (the mean of each leaderboard row)\n"
            "  -o, --output FILE     write to FILE, replaced atomically (default stdout)\n"
            "      --url URL         the URL column: a link to the code and commit\n"
            "                        (default \"noisette %s\")\n"
            "      --baseline FILE   compare with this CSV instead (same columns)\n"
            "  -q, --quiet           print only errors\n"
            "  -h, --help            show this help\n"
            "\n"
            "Exit codes: 0 written (malformed lines are skipped with a warning); 1 a file\n"
            "cannot be read, the baseline is malformed (FILE:LINE:COL) or no run is\n"
            "usable; 2 bad usage.\n",
            NOISETTE_VERSION);
}

typedef struct {
    int         csv;
    const char *output, *url, *baseline;
    int         quiet;
} BoardArgs;

static int parse_args(int argc, char **argv, BoardArgs *a) {
    enum { OPT_FORMAT = 256, OPT_URL, OPT_BASELINE };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"url", required_argument, NULL, OPT_URL},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    argv[0] = "noisette board";
    while ((opt = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_FORMAT:
            if (strcmp(optarg, "md") != 0 && strcmp(optarg, "csv") != 0)
                return cli_usage_error("board", "--format: \"%s\" is not md or csv", optarg);
            a->csv = strcmp(optarg, "csv") == 0;
            break;
        case 'o': a->output = optarg; break;
        case OPT_URL: a->url = optarg; break;
        case OPT_BASELINE: a->baseline = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': print_help(stdout); return -1;
        default: return cli_try_help("board");
        }
    }
    if (optind >= argc)
        return cli_usage_error("board", "missing RESULTS file");
    return EXIT_CODE_OK;
}

int cli_read_results(char **files, int n, RunSet *set) {
    for (int i = 0; i < n; i++) {
        int first = set->n_notes, rc = results_read(set, files[i]);
        for (int k = first; k < set->n_notes; k++) {
            if (set->notes[k].warning)
                log_warn("%s", set->notes[k].text);
            else
                log_info("%s", set->notes[k].text);
        }
        if (rc < 0)
            return cli_report(rc);
    }
    if (set->n_runs == 0) {
        log_error("no finished run in %s%s", files[0], n > 1 ? " and the other files" : "");
        return EXIT_CODE_FAIL;
    }
    return EXIT_CODE_OK;
}

/* The board cannot tell a published label file from another one: says so
 * for each leaderboard row that holds runs trained with --labels. */
static void note_label_files(const Board *b, const RunSet *set) {
    for (int k = 0; k < b->n_cells; k++) {
        const BoardGroup *g = &b->groups[k];
        for (int i = 0; i < g->n_runs; i++) {
            const RunRecord *r = &set->runs[g->runs[i]];
            if (r->labels) {
                log_info("%s:%ld: trained with --labels %s: counted as the published labels "
                         "at %g%% noise", r->file, r->line, r->labels, r->pct_noise);
                break;
            }
        }
    }
}

static int write_board(const BoardArgs *a, const Board *b, const RunSet *set,
                       const Baseline *base) {
    char url[64];
    snprintf(url, sizeof url, "noisette %s", NOISETTE_VERSION);
    const char *base_name = a->baseline ? a->baseline
                                        : "fastai/imagenette noisy_labels/extended_lb.csv";

    /* stdout, or a temporary file renamed over the target once complete. */
    AtomicFile af;
    int to_file = a->output && strcmp(a->output, "-") != 0, rc;
    if (to_file && (rc = atomic_open(&af, a->output, 1)) < 0)
        return cli_report(rc);
    FILE *out = to_file ? af.fp : stdout;
    rc = a->csv ? board_write_csv(b, set, out)
                : board_write_markdown(b, set, base, base_name, a->url ? a->url : url, out);
    if (to_file && rc < 0)
        atomic_abort(&af);
    else if (to_file)
        rc = atomic_commit(&af);
    else if (fflush(stdout) != 0)
        rc = err_set_errno(ERR_IO, "stdout: write failed");
    if (rc < 0)
        return cli_report(rc);
    if (to_file)
        log_info("board: %d leaderboard row%s, %d other%s: %s", b->n_cells,
                 b->n_cells == 1 ? "" : "s", b->n_groups - b->n_cells,
                 b->n_groups - b->n_cells == 1 ? "" : "s", a->output);
    return EXIT_CODE_OK;
}

int cmd_board(int argc, char **argv) {
    BoardArgs a = {0};
    int code = parse_args(argc, argv, &a);
    if (code != EXIT_CODE_OK)
        return code < 0 ? EXIT_CODE_OK : code;
    cli_set_verbosity(0, a.quiet);

    /* The baseline first: a bad --baseline file stops before any work. */
    Baseline base;
    int rc = a.baseline ? baseline_read(a.baseline, &base) : baseline_builtin(&base);
    if (rc < 0)
        return cli_report(rc);

    RunSet set;
    Board b = {0};
    results_init(&set);
    code = cli_read_results(argv + optind, argc - optind, &set);
    if (code == EXIT_CODE_OK && (rc = board_build(&set, &b)) < 0)
        code = cli_report(rc);
    if (code == EXIT_CODE_OK) {
        note_label_files(&b, &set);
        code = write_board(&a, &b, &set, &base);
    }
    board_free(&b);
    results_free(&set);
    baseline_free(&base);
    return code;
}
