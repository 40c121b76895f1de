/* The published Noisy Imagenette baseline: one accuracy per leaderboard
 * cell, in the CSV of fastai/imagenette's noisy_labels/extended_lb.csv
 *
 *   pct_noise,imagewoof,size,epochs,accuracy
 *   1,0,128,5,0.844586
 *
 * A copy of that file (data/extended_lb.csv, Apache-2.0) is compiled into
 * the program; a file of the same form can replace it. Reading is strict:
 * exactly these columns, each row a distinct cell, errors as FILE:LINE:COL. */
#ifndef NOISETTE_REPORT_BASELINE_H
#define NOISETTE_REPORT_BASELINE_H

#include <stddef.h>

#define BASELINE_FILE_MAX ((size_t)16 << 20)
#define BASELINE_BUILTIN_NAME "extended_lb.csv (built in)"

typedef struct {
    double pct_noise;           /* percent, [0, 100) */
    int    imagewoof;           /* 0 Imagenette, 1 Imagewoof */
    int    size, epochs;
    double accuracy;            /* fraction */
    long   line;                /* where it was read */
} BaselineRow;

typedef struct {
    BaselineRow *rows;
    int          n;
} Baseline;

/* Parses a baseline CSV held in memory; name is used in messages. On
 * success b owns its rows (baseline_free); on failure b is empty and the
 * message names the file, line and column. */
int baseline_parse(const char *name, const char *data, size_t len, Baseline *b);

/* Reads and parses the baseline CSV at path. */
int baseline_read(const char *path, Baseline *b);

/* The baseline compiled into the program (data/extended_lb.csv). */
int baseline_builtin(Baseline *b);

/* The row of a cell, or NULL if the baseline has none. */
const BaselineRow *baseline_find(const Baseline *b, double pct_noise, int imagewoof, int size,
                                 int epochs);

void baseline_free(Baseline *b);

#endif
