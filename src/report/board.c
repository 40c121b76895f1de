/* Leaderboard tables from results; see board.h. The formats follow the
 * published boards: accuracy as a percentage with two decimals, "# Runs" as
 * "1" or "N, mean±std" (this program always gives the std beside a mean).
 *
 * LIMITATION: a run trained with --labels FILE counts as trained on the
 * published labels of its noise level: the results keep the file's name,
 * not its content, so noisette cannot tell a published CSV from another.
 * noisette board says so for each row that holds such runs; recording the
 * label file's checksum in the results would lift this. */
#include "report/board.h"

#include "util/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_MAX 512
#define PLUS_MINUS "\xc2\xb1"       /* UTF-8 ± */
#define DELTA "\xce\x94"            /* UTF-8 Δ */

static const int CELL_SIZES[] = {128, 192, 256};
static const int CELL_EPOCHS[] = {5, 20, 80, 200};
static const int CELL_NOISE[] = {0, 1, 5, 25, 50};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Imagewoof's flag of a cell run, from its dataset name. */
static int cell_woof(const RunRecord *r) {
    return strcmp(r->dataset, "imagewoof") == 0;
}

static int in_list(int v, const int *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

/* ---- grouping ------------------------------------------------------------ */

/* Appends "; text" (or text) to the reasons in apart. */
static void add_reason(char *apart, const char *text) {
    size_t n = strlen(apart);
    snprintf(apart + n, BOARD_APART_MAX - n, "%s%s", n ? "; " : "", text);
}

/* 1 if r may stand on a leaderboard, else 0 with the reasons in apart. */
static int is_cell(const RunRecord *r, char *apart) {
    char text[96];
    apart[0] = '\0';
    if (r->old_format) {
        add_reason(apart, "old results format (no dataset, methods)");
        return 0;
    }
    if (strcmp(r->dataset, "imagenette") != 0 && strcmp(r->dataset, "imagewoof") != 0) {
        snprintf(text, sizeof text, "dataset %.64s", r->dataset);
        add_reason(apart, text);
    }
    if (!in_list(r->size, CELL_SIZES, COUNT(CELL_SIZES))) {
        snprintf(text, sizeof text, "size %d px", r->size);
        add_reason(apart, text);
    }
    if (!in_list(r->epochs, CELL_EPOCHS, COUNT(CELL_EPOCHS))) {
        snprintf(text, sizeof text, "%d epochs", r->epochs);
        add_reason(apart, text);
    }
    if (r->pct_noise != floor(r->pct_noise) ||
        !in_list((int)r->pct_noise, CELL_NOISE, COUNT(CELL_NOISE))) {
        snprintf(text, sizeof text, "noise %g%%", r->pct_noise);
        add_reason(apart, text);
    }
    if (r->limit != 0) {
        snprintf(text, sizeof text, "limit %ld images", r->limit);
        add_reason(apart, text);
    }
    if (r->folds) {
        snprintf(text, sizeof text, "a model of --folds %d (trained on part of the data)",
                 r->folds);
        add_reason(apart, text);
    }
    return apart[0] == '\0';
}

/* Mean and sample standard deviation of the group's final accuracies. */
static void group_stats(const RunSet *set, BoardGroup *g) {
    double sum = 0, sq = 0;
    for (int i = 0; i < g->n_runs; i++)
        sum += set->runs[g->runs[i]].accuracy;
    g->mean = sum / g->n_runs;
    for (int i = 0; i < g->n_runs; i++) {
        double d = set->runs[g->runs[i]].accuracy - g->mean;
        sq += d * d;
    }
    g->std = g->n_runs > 1 ? sqrt(sq / (g->n_runs - 1)) : 0;
}

static int cmp_double(double a, double b) {
    return (a > b) - (a < b);
}

/* Board order; qsort's context comes through this file-level pointer. */
static const RunSet *sort_set;

static int cmp_group(const void *pa, const void *pb) {
    const BoardGroup *ga = pa, *gb = pb;
    const RunRecord *a = &sort_set->runs[ga->runs[0]], *b = &sort_set->runs[gb->runs[0]];
    int c;
    if ((c = gb->cell - ga->cell) != 0)
        return c;
    if (ga->cell)
        c = cell_woof(a) - cell_woof(b);
    else
        c = strcmp(a->dataset ? a->dataset : a->data, b->dataset ? b->dataset : b->data);
    if (c || (c = cmp_double(a->pct_noise, b->pct_noise)) || (c = a->size - b->size) ||
        (c = a->epochs - b->epochs) || (c = cmp_double(gb->mean, ga->mean)))
        return c;
    return strcmp(a->signature, b->signature);
}

int board_build(const RunSet *set, Board *b) {
    int *group = NULL, n = 0;
    memset(b, 0, sizeof *b);
    int rc = results_group(set, &group, &n);
    if (rc < 0)
        return rc;

    /* Step 1: each group's runs, in input order. */
    b->groups = calloc((size_t)n + 1, sizeof *b->groups);
    if (!b->groups)
        goto nomem;
    b->n_groups = n;
    for (int i = 0; i < set->n_runs; i++) {
        BoardGroup *g = &b->groups[group[i]];
        int *grown = realloc(g->runs, (size_t)(g->n_runs + 1) * sizeof *grown);
        if (!grown)
            goto nomem;
        g->runs = grown;
        g->runs[g->n_runs++] = i;
    }

    /* Step 2: statistics and the cell test (one run speaks for its group:
     * they share the configuration, which holds everything the test reads). */
    for (int k = 0; k < n; k++) {
        BoardGroup *g = &b->groups[k];
        group_stats(set, g);
        g->cell = is_cell(&set->runs[g->runs[0]], g->apart);
        b->n_cells += g->cell;
    }

    /* Step 3: board order. */
    sort_set = set;
    qsort(b->groups, (size_t)n, sizeof *b->groups, cmp_group);
    free(group);
    return ERR_OK;

nomem:
    free(group);
    board_free(b);
    return err_set(ERR_NOMEM, "out of memory");
}

void board_free(Board *b) {
    for (int k = 0; k < b->n_groups; k++)
        free(b->groups[k].runs);
    free(b->groups);
    memset(b, 0, sizeof *b);
}

/* ---- Markdown ---------------------------------------------------------------- */

/* s with '|' escaped and line ends as spaces, so it stays in its cell. */
static void put_cell(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
    }
}

/* "85.00%" for one run, "85.00 ± 1.00%" for several. */
static void put_accuracy(FILE *out, const BoardGroup *g) {
    if (g->n_runs == 1)
        fprintf(out, "%.2f%%", 100 * g->mean);
    else
        fprintf(out, "%.2f " PLUS_MINUS " %.2f%%", 100 * g->mean, 100 * g->std);
}

static void put_runs(FILE *out, const BoardGroup *g) {
    if (g->n_runs == 1)
        fputs("1", out);
    else
        fprintf(out, "%d, mean" PLUS_MINUS "std", g->n_runs);
}

/* The difference from the baseline in points: "+1.23", "-0.40", "n/a". */
static void put_delta(FILE *out, const BoardGroup *g, const RunRecord *r, const Baseline *base) {
    const BaselineRow *row = baseline_find(base, r->pct_noise, cell_woof(r), r->size, r->epochs);
    if (!row) {
        fputs("n/a", out);
        return;
    }
    double d = round(100 * 100 * (g->mean - row->accuracy)) / 100;
    fprintf(out, "%+.2f", d == 0 ? 0.0 : d);
}

/* Groups [lo, hi) share a cell (or a row key of the other runs): the
 * description of group k among them, for telling rows apart. */
static void describe(const Board *b, const RunSet *set, int lo, int hi, int k, char *buf) {
    const RunRecord *reps[256];
    int n = 0, self = 0;
    for (int j = lo; j < hi && n < (int)COUNT(reps); j++) {
        if (j == k)
            self = n;
        reps[n++] = &set->runs[b->groups[j].runs[0]];
    }
    results_describe(reps, n, self, buf, SUMMARY_MAX);
}

/* 1 if groups j and k are in the same cell: dataset, noise, size, epochs. */
static int same_cell(const Board *b, const RunSet *set, int j, int k) {
    const RunRecord *x = &set->runs[b->groups[j].runs[0]];
    const RunRecord *y = &set->runs[b->groups[k].runs[0]];
    const char *dx = x->dataset ? x->dataset : x->data, *dy = y->dataset ? y->dataset : y->data;
    return strcmp(dx, dy) == 0 && x->pct_noise == y->pct_noise && x->size == y->size &&
           x->epochs == y->epochs;
}

static void write_legend(const Board *b, const RunSet *set, const char *base_name, FILE *out) {
    fprintf(out, "# Noisy Imagenette leaderboards\n\n");
    fprintf(out, "Top-1 accuracy on the clean validation set after the last epoch, from\n"
            "%d run%s in %d file%s. Accuracy is the mean over a row's runs, with the\n"
            "sample standard deviation when there are several (\"N, mean" PLUS_MINUS "std\").\n"
            DELTA " baseline: the difference from the baseline accuracy of the same cell,\n"
            "in percentage points (%s).\n",
            set->n_runs, set->n_runs == 1 ? "" : "s", set->n_files, set->n_files == 1 ? "" : "s",
            base_name);
    if (b->n_cells == 0)
        fprintf(out, "\nNo leaderboard runs: every run is listed under \"Other runs\".\n");
}

/* One table per dataset and noise level. */
static void write_cells(const Board *b, const RunSet *set, const Baseline *base,
                        const char *url, FILE *out) {
    char summary[SUMMARY_MAX];
    for (int k = 0; k < b->n_cells; k++) {
        const BoardGroup *g = &b->groups[k];
        const RunRecord *r = &set->runs[g->runs[0]];
        const RunRecord *prev = k ? &set->runs[b->groups[k - 1].runs[0]] : NULL;
        if (!prev || cell_woof(prev) != cell_woof(r) || prev->pct_noise != r->pct_noise) {
            fprintf(out, "\n## %s w/ Label Noise = %g%%\n\n",
                    cell_woof(r) ? "Imagewoof" : "Imagenette", r->pct_noise);
            fprintf(out, "| Size (px) | Epochs | URL | Accuracy | # Runs | " DELTA
                    " baseline |\n|--|--|--|--|--|--|\n");
        }

        /* The cell's other configurations, for a summary when there are some. */
        int lo = k, hi = k + 1;
        while (lo > 0 && same_cell(b, set, lo - 1, k))
            lo--;
        while (hi < b->n_cells && same_cell(b, set, hi, k))
            hi++;
        fprintf(out, "| %d | %d | ", r->size, r->epochs);
        put_cell(out, url);
        if (hi - lo > 1) {
            describe(b, set, lo, hi, k, summary);
            fputs(" (", out);
            put_cell(out, summary);
            fputs(")", out);
        }
        fputs(" | ", out);
        put_accuracy(out, g);
        fputs(" | ", out);
        put_runs(out, g);
        fputs(" | ", out);
        put_delta(out, g, r, base);
        fputs(" |\n", out);
    }
}

static void write_others(const Board *b, const RunSet *set, FILE *out) {
    char summary[SUMMARY_MAX];
    if (b->n_cells == b->n_groups)
        return;
    fprintf(out, "\n## Other runs\n\n"
            "Not leaderboard cells, which take Imagenette or Imagewoof at 128, 192\n"
            "or 256 px, 5, 20, 80 or 200 epochs, 0, 1, 5, 25 or 50%% noise and the\n"
            "whole training set.\n\n");
    fprintf(out, "| Dataset | Noise (%%) | Size (px) | Epochs | Configuration | Accuracy "
            "| # Runs | Why apart |\n|--|--|--|--|--|--|--|--|\n");
    for (int k = b->n_cells; k < b->n_groups; k++) {
        const BoardGroup *g = &b->groups[k];
        const RunRecord *r = &set->runs[g->runs[0]];
        int lo = k, hi = k + 1;
        while (lo > b->n_cells && same_cell(b, set, lo - 1, k))
            lo--;
        while (hi < b->n_groups && same_cell(b, set, hi, k))
            hi++;
        describe(b, set, lo, hi, k, summary);

        fputs("| ", out);
        put_cell(out, r->dataset ? r->dataset : r->data);
        fprintf(out, " | %g | %d | %d | ", r->pct_noise, r->size, r->epochs);
        put_cell(out, summary);
        fputs(" | ", out);
        put_accuracy(out, g);
        fputs(" | ", out);
        put_runs(out, g);
        fputs(" | ", out);
        put_cell(out, g->apart);
        fputs(" |\n", out);
    }
}

int board_write_markdown(const Board *b, const RunSet *set, const Baseline *base,
                         const char *base_name, const char *url, FILE *out) {
    write_legend(b, set, base_name, out);
    write_cells(b, set, base, url, out);
    write_others(b, set, out);
    return ferror(out) ? err_set(ERR_IO, "write failed") : ERR_OK;
}

/* ---- CSV ------------------------------------------------------------------- */

int board_write_csv(const Board *b, const RunSet *set, FILE *out) {
    fputs("pct_noise,imagewoof,size,epochs,accuracy\n", out);
    for (int k = 0; k < b->n_cells; k++) {
        const BoardGroup *g = &b->groups[k];
        const RunRecord *r = &set->runs[g->runs[0]];
        fprintf(out, "%g,%d,%d,%d,%.6f\n", r->pct_noise, cell_woof(r), r->size, r->epochs,
                g->mean);
    }
    return ferror(out) ? err_set(ERR_IO, "write failed") : ERR_OK;
}
