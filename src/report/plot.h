/* PNG figures drawn with cairo: training curves of finished runs, and the
 * heat map of a label transition matrix.
 *
 * Curves: two panels over the epochs, loss (train solid, valid dashed) and
 * validation accuracy, runs overlaid, one colour per configuration (the
 * signature of results.h), a legend naming each. Heat map: rows true class,
 * columns given label, each cell coloured by its share of the row and
 * labelled with its count or rate, a colour bar beside. Both are written
 * through AtomicFile. Fonts come from fontconfig ("sans-serif"). */
#ifndef NOISETTE_REPORT_PLOT_H
#define NOISETTE_REPORT_PLOT_H

#include "report/results.h"

#define PLOT_WIDTH_DEFAULT  1200
#define PLOT_HEIGHT_DEFAULT 720
#define PLOT_SIZE_MIN       320
#define PLOT_SIZE_MAX       8192
#define PLOT_PALETTE_N      8

/* Configuration colours in the order they are handed out, 0xRRGGBB: the
 * Okabe-Ito palette for colour-blind readers (Okabe & Ito, "Color Universal
 * Design", 2008), yellow last as it is faint on white. */
extern const unsigned plot_palette[PLOT_PALETTE_N];

/* Draws the curves of every run in set with a history into a width x
 * height PNG at path (sizes in [PLOT_SIZE_MIN, PLOT_SIZE_MAX]); title NULL
 * gives "Training curves: N runs, M configurations". Runs without a history
 * (old lines) are left out. Fails with ERR_INVALID when no run has one. */
int plot_curves(const RunSet *set, const char *title, int width, int height, const char *path);

typedef struct {
    const char        *title;       /* first line, bold */
    const char        *subtitle;    /* second line, or NULL */
    int                n_rows, n_cols;
    const char *const *row_names;   /* n_rows: true classes */
    const char *const *col_names;   /* n_cols: given labels */
    const long        *counts;      /* n_rows x n_cols, row-major */
    int                rates;       /* 1: cells show row rates, 0: counts */
} HeatMap;

/* Where plot_heatmap put things, in pixels: the image size, the top-left
 * corner of the first cell and the cell's side. */
typedef struct {
    int width, height;
    int x0, y0, cell;
} HeatMapLayout;

/* Draws h as a PNG at path, sized to fit its labels; layout (may be NULL)
 * receives the geometry. */
int plot_heatmap(const HeatMap *h, const char *path, HeatMapLayout *layout);

/* Frees the font caches cairo and fontconfig keep from one figure to the
 * next, which a leak checker reports at exit. Call once no cairo object is
 * alive and no other thread draws (the program: after its last figure). */
void plot_release(void);

#endif
