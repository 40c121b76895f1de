/* Leaderboards: finished runs grouped by configuration, in the Markdown
 * tables of the Noisy Imagenette boards (spec: reference-training.md §12)
 * or in the baseline's CSV columns.
 *
 * A group is every run with the same configuration signature (results.h),
 * so one cell (dataset, noise, size, epochs) may hold several rows, one per
 * method. Only runs the published boards accept are leaderboard cells:
 * Imagenette or Imagewoof, 128/192/256 px, 5/20/80/200 epochs, 0/1/5/25/50%
 * noise, the whole training set, the current results format. The rest are
 * listed apart, saying why, never mixed in. */
#ifndef NOISETTE_REPORT_BOARD_H
#define NOISETTE_REPORT_BOARD_H

#include "report/baseline.h"
#include "report/results.h"

#include <stdio.h>

#define BOARD_APART_MAX 192

typedef struct {
    int    *runs;                   /* indices into the RunSet, in input order */
    int     n_runs;
    double  mean, std;              /* final accuracy, fraction; sample std, 0 for 1 run */
    int     cell;                   /* 1: a leaderboard cell */
    char    apart[BOARD_APART_MAX]; /* why not, when cell is 0: "dataset fashion-mnist" */
} BoardGroup;

typedef struct {
    BoardGroup *groups;             /* cells first, in board order, then the others */
    int         n_groups;
    int         n_cells;            /* groups[0..n_cells) are cells */
} Board;

/* Groups the runs of set (which must outlive b) and orders them: cells by
 * Imagewoof, noise, size, epochs, then best mean first; the others by
 * dataset, noise, size, epochs, mean. */
int board_build(const RunSet *set, Board *b);

void board_free(Board *b);

/* The Markdown leaderboards: a short legend, one table per dataset and
 * noise level with columns Size (px) | Epochs | URL | Accuracy | # Runs |
 * Δ baseline, then an "Other runs" table. url fills the URL column (its
 * '|' escaped); a configuration summary follows it where several share a
 * cell. base_name names the baseline in the legend. Returns 0, or ERR_IO
 * if the stream reports an error. */
int board_write_markdown(const Board *b, const RunSet *set, const Baseline *base,
                         const char *base_name, const char *url, FILE *out);

/* The baseline's CSV columns pct_noise,imagewoof,size,epochs,accuracy for
 * the leaderboard groups, accuracy the group's mean as a fraction with six
 * decimals, one row per group in board order. */
int board_write_csv(const Board *b, const RunSet *set, FILE *out);

#endif
