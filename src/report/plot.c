/* Curves and heat maps on a cairo image surface with its toy text API; see
 * plot.h. Every layout is computed from measured text, so long labels push
 * the plot area aside instead of overlapping it. Nothing here is
 * interactive or vector: one PNG per call. */
#include "report/plot.h"

#include "util/err.h"
#include "util/fileio.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const unsigned plot_palette[PLOT_PALETTE_N] = {
    0x0072B2,   /* blue */
    0xD55E00,   /* vermillion */
    0x009E73,   /* bluish green */
    0xCC79A7,   /* reddish purple */
    0xE69F00,   /* orange */
    0x56B4E9,   /* sky blue */
    0x000000,   /* black */
    0xF0E442,   /* yellow */
};

/* The sequential ramp of the heat map, light to dark: ColorBrewer "Blues",
 * 9 classes (Cynthia Brewer, colorbrewer2.org), interpolated between. */
static const unsigned BLUES[9] = {
    0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6, 0x4292C6, 0x2171B5, 0x08519C, 0x08306B,
};

#define FONT        "sans-serif"
#define INK         0x222222    /* text */
#define INK_LIGHT   0x666666    /* secondary text */
#define GRID        0xE6E6E6
#define FRAME       0x9A9A9A
#define PAD         16.0
#define PI          3.14159265358979323846
#define LINE_WIDTH  2.0
#define MARKER_MAX_EPOCHS 40    /* draw a marker per epoch up to this many */
#define LEGEND_ROW  20.0
#define PANEL_MIN_H 200.0     /* a panel with its title and axis labels */
#define LABEL_MAX   640

typedef struct {
    double x, y, w, h;
} Rect;

typedef struct {
    double lo, hi, step;
    int    decimals;
} Axis;

/* ---- drawing helpers ------------------------------------------------------ */

static void set_rgb(cairo_t *cr, unsigned rgb) {
    cairo_set_source_rgb(cr, ((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0,
                         (rgb & 255) / 255.0);
}

static void set_font(cairo_t *cr, double size, int bold) {
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

/* Draws s with its vertical middle at y; ax places x: 0 left end, 0.5
 * centre, 1 right end. */
static void text_at(cairo_t *cr, double x, double y, const char *s, double ax) {
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    cairo_move_to(cr, x - ax * text_width(cr, s), y + (fe.ascent - fe.descent) / 2);
    cairo_show_text(cr, s);
}

/* s cut to at most max_w pixels wide, ending in "..." when cut, in buf
 * (cap bytes); cuts fall between UTF-8 characters. Returns buf. */
static const char *fit_text(cairo_t *cr, const char *s, double max_w, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", s);
    size_t n = strlen(buf);
    if (text_width(cr, buf) <= max_w)
        return buf;
    while (n > 0) {
        do
            n--;
        while (n > 0 && ((unsigned char)buf[n] & 0xC0) == 0x80);
        if (n + 4 > cap)
            continue;
        memcpy(buf + n, "...", 4);
        if (text_width(cr, buf) <= max_w)
            return buf;
    }
    buf[0] = '\0';
    return buf;
}

/* Same, turned by angle radians about (x, y). */
static void text_turned(cairo_t *cr, double x, double y, double angle, const char *s,
                        double ax) {
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    text_at(cr, 0, 0, s, ax);
    cairo_restore(cr);
}

static cairo_status_t write_chunk(void *closure, const unsigned char *data, unsigned n) {
    return fwrite(data, 1, n, closure) == n ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* The surface as a PNG at path, through a temporary file. */
static int save_png(cairo_surface_t *s, const char *path) {
    AtomicFile af;
    int rc = atomic_open(&af, path, 1);
    if (rc < 0)
        return rc;
    cairo_status_t st = cairo_surface_write_to_png_stream(s, write_chunk, af.fp);
    if (st != CAIRO_STATUS_SUCCESS) {
        atomic_abort(&af);
        return err_set(ERR_IO, "%s: cannot write the PNG: %s", path,
                       cairo_status_to_string(st));
    }
    return atomic_commit(&af);
}

/* A white canvas; NULL (message recorded) if cairo cannot make one. */
static cairo_t *canvas(int width, int height, cairo_surface_t **surface) {
    *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(*surface);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        err_set(ERR_NOMEM, "cannot make a %dx%d image: %s", width, height,
                cairo_status_to_string(cairo_status(cr)));
        cairo_destroy(cr);
        cairo_surface_destroy(*surface);
        return NULL;
    }
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    return cr;
}

/* ---- axes ----------------------------------------------------------------- */

/* An axis over [lo, hi] widened to round ticks: steps of 1, 2 or 5 times a
 * power of ten, at most about max_ticks of them. */
static Axis axis_make(double lo, double hi, int max_ticks, int integer) {
    if (!(hi > lo)) {
        double d = fabs(lo) > 0 ? fabs(lo) * 0.1 : 0.5;
        lo -= d;
        hi += d;
    }
    double raw = (hi - lo) / max_ticks, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    if (integer && step < 1)
        step = 1;
    Axis a = {floor(lo / step + 1e-9) * step, ceil(hi / step - 1e-9) * step, step, 0};
    a.decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    return a;
}

static double map_x(const Rect *r, const Axis *a, double v) {
    return r->x + (v - a->lo) / (a->hi - a->lo) * r->w;
}

static double map_y(const Rect *r, const Axis *a, double v) {
    return r->y + r->h - (v - a->lo) / (a->hi - a->lo) * r->h;
}

static int axis_ticks(const Axis *a) {
    return (int)floor((a->hi - a->lo) / a->step + 1e-6) + 1;
}

static void tick_text(const Axis *a, int i, char *buf, size_t cap) {
    double v = a->lo + i * a->step;
    if (fabs(v) < a->step * 1e-6)
        v = 0;
    snprintf(buf, cap, "%.*f", a->decimals, v);
}

/* Frame, grid, ticks with numbers, axis labels and the panel's title. */
static void draw_axes(cairo_t *cr, const Rect *r, const Axis *ax, const Axis *ay,
                      const char *title, const char *xlabel, const char *ylabel) {
    char num[32];

    /* Grid lines at the ticks, under everything. */
    cairo_set_line_width(cr, 1);
    set_rgb(cr, GRID);
    for (int i = 0; i < axis_ticks(ay); i++) {
        double y = floor(map_y(r, ay, ay->lo + i * ay->step)) + 0.5;
        cairo_move_to(cr, r->x, y);
        cairo_line_to(cr, r->x + r->w, y);
    }
    for (int i = 0; i < axis_ticks(ax); i++) {
        double x = floor(map_x(r, ax, ax->lo + i * ax->step)) + 0.5;
        cairo_move_to(cr, x, r->y);
        cairo_line_to(cr, x, r->y + r->h);
    }
    cairo_stroke(cr);

    /* The frame and the tick numbers. */
    set_rgb(cr, FRAME);
    cairo_rectangle(cr, floor(r->x) + 0.5, floor(r->y) + 0.5, floor(r->w), floor(r->h));
    cairo_stroke(cr);
    set_font(cr, 12, 0);
    set_rgb(cr, INK);
    for (int i = 0; i < axis_ticks(ay); i++) {
        tick_text(ay, i, num, sizeof num);
        text_at(cr, r->x - 6, map_y(r, ay, ay->lo + i * ay->step), num, 1);
    }
    for (int i = 0; i < axis_ticks(ax); i++) {
        tick_text(ax, i, num, sizeof num);
        text_at(cr, map_x(r, ax, ax->lo + i * ax->step), r->y + r->h + 12, num, 0.5);
    }

    /* Axis labels and the title. */
    set_font(cr, 13, 0);
    text_at(cr, r->x + r->w / 2, r->y + r->h + 32, xlabel, 0.5);
    text_turned(cr, r->x - 50, r->y + r->h / 2, -PI / 2, ylabel, 0.5);
    char fitted[LABEL_MAX];
    set_font(cr, 14, 1);
    text_at(cr, r->x, r->y - 14, fit_text(cr, title, r->w, fitted, sizeof fitted), 0);
}

/* ---- curves ----------------------------------------------------------------- */

typedef enum { SERIES_TRAIN_LOSS, SERIES_VALID_LOSS, SERIES_ACCURACY } Series;

static double series_value(const ResultEpoch *e, Series s) {
    return s == SERIES_TRAIN_LOSS ? e->train_loss
         : s == SERIES_VALID_LOSS ? e->valid_loss : 100 * e->accuracy;
}

/* Circles for the first PLOT_PALETTE_N configurations, squares after, when
 * the colours come round again. */
static void draw_marker(cairo_t *cr, double x, double y, int square) {
    if (square)
        cairo_rectangle(cr, x - 3, y - 3, 6, 6);
    else
        cairo_arc(cr, x, y, 3, 0, 2 * PI);
    cairo_fill(cr);
}

/* One run's series as a line from epoch 1 to its last, over the axes. */
static void draw_series(cairo_t *cr, const Rect *r, const Axis *ax, const Axis *ay,
                        const RunRecord *run, Series s, int colour) {
    cairo_save(cr);
    cairo_rectangle(cr, r->x - 4, r->y - 4, r->w + 8, r->h + 8);
    cairo_clip(cr);
    set_rgb(cr, plot_palette[colour % PLOT_PALETTE_N]);
    cairo_set_line_width(cr, LINE_WIDTH);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (s == SERIES_VALID_LOSS) {
        static const double dash[] = {7, 4};
        cairo_set_dash(cr, dash, 2, 0);
    }
    for (int e = 0; e < run->n_history; e++) {
        double x = map_x(r, ax, e + 1), y = map_y(r, ay, series_value(&run->history[e], s));
        if (e == 0)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
    }
    cairo_stroke(cr);
    if (run->n_history <= MARKER_MAX_EPOCHS && s != SERIES_VALID_LOSS)
        for (int e = 0; e < run->n_history; e++)
            draw_marker(cr, map_x(r, ax, e + 1),
                        map_y(r, ay, series_value(&run->history[e], s)),
                        colour >= PLOT_PALETTE_N);
    cairo_restore(cr);
}

typedef struct {
    int    n_runs, n_groups;        /* runs with a history; their configurations */
    int   *colour;                  /* per run of the set: its colour index, -1 none */
    int   *rep;                     /* per colour: the first run of that configuration */
    int   *count;                   /* per colour: its runs */
    int    epochs;                  /* the longest history */
    double loss_lo, loss_hi, acc_lo, acc_hi;
} CurveData;

static void curve_data_free(CurveData *d) {
    free(d->colour);
    free(d->rep);
    free(d->count);
}

/* Colours by configuration, in order of first appearance among the runs
 * that have a history, and the ranges of the axes. */
static int curve_data(const RunSet *set, CurveData *d) {
    int *group = NULL, n_groups = 0;
    memset(d, 0, sizeof *d);
    int rc = results_group(set, &group, &n_groups);
    if (rc < 0)
        return rc;
    int *colour_of_group = malloc((size_t)n_groups * sizeof *colour_of_group + 1);
    d->colour = malloc((size_t)set->n_runs * sizeof *d->colour + 1);
    d->rep = malloc((size_t)n_groups * sizeof *d->rep + 1);
    d->count = calloc((size_t)n_groups + 1, sizeof *d->count);
    if (!colour_of_group || !d->colour || !d->rep || !d->count) {
        free(group);
        free(colour_of_group);
        curve_data_free(d);
        return err_set(ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < n_groups; k++)
        colour_of_group[k] = -1;

    d->loss_lo = d->acc_lo = INFINITY;
    d->loss_hi = d->acc_hi = -INFINITY;
    for (int i = 0; i < set->n_runs; i++) {
        const RunRecord *run = &set->runs[i];
        d->colour[i] = -1;
        if (run->n_history == 0)
            continue;
        int *c = &colour_of_group[group[i]];
        if (*c < 0) {
            *c = d->n_groups++;
            d->rep[*c] = i;
        }
        d->colour[i] = *c;
        d->count[*c]++;
        d->n_runs++;
        if (run->n_history > d->epochs)
            d->epochs = run->n_history;
        for (int e = 0; e < run->n_history; e++) {
            const ResultEpoch *h = &run->history[e];
            d->loss_lo = fmin(d->loss_lo, fmin(h->train_loss, h->valid_loss));
            d->loss_hi = fmax(d->loss_hi, fmax(h->train_loss, h->valid_loss));
            d->acc_lo = fmin(d->acc_lo, 100 * h->accuracy);
            d->acc_hi = fmax(d->acc_hi, 100 * h->accuracy);
        }
    }
    free(group);
    free(colour_of_group);
    return ERR_OK;
}

/* The legend text of configuration c: its cell, then what tells it apart. */
static void legend_label(const RunSet *set, const CurveData *d, int c, char *buf) {
    const RunRecord *reps[256];
    int n = d->n_groups < 256 ? d->n_groups : 256;
    for (int k = 0; k < n; k++)
        reps[k] = &set->runs[d->rep[k]];
    const RunRecord *r = &set->runs[d->rep[c]];
    char what[LABEL_MAX / 2];
    results_describe(reps, n, c < n ? c : 0, what, sizeof what);
    snprintf(buf, LABEL_MAX, "%.64s, %g%% noise, %d px, %d epochs: %s (%d run%s)",
             r->dataset ? r->dataset : r->data, r->pct_noise, r->size, r->epochs, what,
             d->count[c], d->count[c] == 1 ? "" : "s");
}

typedef struct {
    int    cols, rows, shown;       /* entries drawn: shown; "+ N more" after if fewer */
    double col_w, height;
} LegendLayout;

static LegendLayout legend_layout(cairo_t *cr, const RunSet *set, const CurveData *d,
                                  double width, double max_height) {
    char label[LABEL_MAX];
    LegendLayout l = {1, 0, 0, 0, 0};
    set_font(cr, 12, 0);
    for (int c = 0; c < d->n_groups; c++) {
        legend_label(set, d, c, label);
        l.col_w = fmax(l.col_w, 30 + text_width(cr, label) + 24);
    }
    l.col_w = fmin(l.col_w, width);
    l.cols = (int)fmax(1, fmin(d->n_groups, floor(width / l.col_w)));
    l.rows = (d->n_groups + l.cols - 1) / l.cols;
    int max_rows = (int)fmax(1, floor(max_height / LEGEND_ROW));
    l.shown = d->n_groups;
    if (l.rows > max_rows) {
        l.rows = max_rows;
        l.shown = l.rows * l.cols - 1;
    }
    l.height = l.rows * LEGEND_ROW + 8;
    return l;
}

static void draw_legend(cairo_t *cr, const RunSet *set, const CurveData *d,
                        const LegendLayout *l, double x0, double y0) {
    char label[LABEL_MAX];
    set_font(cr, 12, 0);
    for (int c = 0; c < l->shown; c++) {
        double x = floor(x0 + (c / l->rows) * l->col_w);
        double y = floor(y0 + 8 + (c % l->rows) * LEGEND_ROW);

        /* A swatch on whole pixels: its colour is exact in the PNG. */
        set_rgb(cr, plot_palette[c % PLOT_PALETTE_N]);
        cairo_rectangle(cr, x, y + 5, 22, 10);
        cairo_fill(cr);
        if (c >= PLOT_PALETTE_N) {
            set_rgb(cr, 0xFFFFFF);
            draw_marker(cr, x + 11, y + 10, 1);
        }
        legend_label(set, d, c, label);
        set_rgb(cr, INK);
        char fitted[LABEL_MAX];
        text_at(cr, x + 30, y + 10, fit_text(cr, label, l->col_w - 30 - 8, fitted, sizeof fitted),
                0);
    }
    if (l->shown < d->n_groups) {
        snprintf(label, sizeof label, "+ %d more configurations", d->n_groups - l->shown);
        set_rgb(cr, INK_LIGHT);
        text_at(cr, x0 + (l->shown / l->rows) * l->col_w + 30,
                y0 + 8 + (l->shown % l->rows) * LEGEND_ROW + 10, label, 0);
    }
}

/* Both panels: loss (train solid, valid dashed) and validation accuracy. */
static void draw_panels(cairo_t *cr, const RunSet *set, const CurveData *d, double top,
                        double bottom, double width) {
    double panel_w = (width - 2 * PAD - 40) / 2;
    Rect loss = {PAD + 64, top + 30, panel_w - 64 - 8, bottom - top - 30 - 48};
    Rect acc = {PAD + panel_w + 40 + 64, loss.y, loss.w, loss.h};
    /* About one tick per 60 px across and 40 px up. */
    int x_ticks = (int)fmax(2, fmin(10, loss.w / 60)), y_ticks = (int)fmax(2, fmin(8, loss.h / 40));
    Axis ax = axis_make(0, d->epochs, x_ticks, 1);
    Axis ay_loss = axis_make(d->loss_lo, d->loss_hi, y_ticks, 0);
    Axis ay_acc = axis_make(d->acc_lo, d->acc_hi, y_ticks, 0);
    ay_acc.lo = fmax(ay_acc.lo, 0);
    ay_acc.hi = fmin(ay_acc.hi, 100);
    if (!(ay_acc.hi > ay_acc.lo))
        ay_acc = axis_make(0, 100, y_ticks, 0);

    draw_axes(cr, &loss, &ax, &ay_loss, "Loss (solid: train, dashed: valid)",
              "epochs trained", "loss");
    draw_axes(cr, &acc, &ax, &ay_acc, "Validation accuracy", "epochs trained",
              "accuracy (%)");
    for (int i = 0; i < set->n_runs; i++) {
        int c = d->colour[i];
        if (c < 0)
            continue;
        draw_series(cr, &loss, &ax, &ay_loss, &set->runs[i], SERIES_TRAIN_LOSS, c);
        draw_series(cr, &loss, &ax, &ay_loss, &set->runs[i], SERIES_VALID_LOSS, c);
        draw_series(cr, &acc, &ax, &ay_acc, &set->runs[i], SERIES_ACCURACY, c);
    }
}

int plot_curves(const RunSet *set, const char *title, int width, int height, const char *path) {
    if (width < PLOT_SIZE_MIN || width > PLOT_SIZE_MAX || height < PLOT_SIZE_MIN ||
        height > PLOT_SIZE_MAX)
        return err_set(ERR_USAGE, "plot size %dx%d: each side must be in [%d, %d]", width,
                       height, PLOT_SIZE_MIN, PLOT_SIZE_MAX);
    CurveData d;
    int rc = curve_data(set, &d);
    if (rc < 0)
        return rc;
    if (d.n_runs == 0) {
        curve_data_free(&d);
        return err_set(ERR_INVALID, "no run with a training history to plot");
    }
    cairo_surface_t *surface;
    cairo_t *cr = canvas(width, height, &surface);
    if (!cr) {
        curve_data_free(&d);
        return ERR_NOMEM;
    }

    /* Step 1: the title. */
    char text[LABEL_MAX];
    if (!title) {
        snprintf(text, sizeof text, "Training curves: %d run%s, %d configuration%s", d.n_runs,
                 d.n_runs == 1 ? "" : "s", d.n_groups, d.n_groups == 1 ? "" : "s");
        title = text;
    }
    set_font(cr, 18, 1);
    set_rgb(cr, INK);
    text_at(cr, width / 2.0, PAD + 10, title, 0.5);

    /* Step 2: the legend at the bottom, as many rows as it needs while the
     * panels keep PANEL_MIN_H. */
    double top = PAD + 26;
    LegendLayout l = legend_layout(cr, set, &d, width - 2 * PAD,
                                   height - top - PANEL_MIN_H - PAD);
    double bottom = height - PAD - l.height;

    /* Step 3: panels, then the legend over nothing. */
    draw_panels(cr, set, &d, top, bottom, width);
    draw_legend(cr, set, &d, &l, PAD, bottom);

    rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS
             ? save_png(surface, path)
             : err_set(ERR_INVALID, "%s: drawing failed: %s", path,
                       cairo_status_to_string(cairo_status(cr)));
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    curve_data_free(&d);
    return rc;
}

/* ---- heat map ----------------------------------------------------------------- */

/* The ramp's colour at t in [0, 1]. */
static unsigned ramp(double t) {
    t = fmin(1, fmax(0, t)) * 8;
    int i = (int)fmin(7, floor(t));
    double f = t - i;
    unsigned rgb = 0;
    for (int shift = 16; shift >= 0; shift -= 8) {
        double a = (BLUES[i] >> shift) & 255, b = (BLUES[i + 1] >> shift) & 255;
        rgb |= (unsigned)lround(a + f * (b - a)) << shift;
    }
    return rgb;
}

#define RAMP_DARK 0.45              /* white text on cells darker than this */
#define COS45 0.70710678118654752

typedef struct {
    double cell, row_w, col_w;      /* cell side, widest row and column label */
    double x0, y0;                  /* first cell */
    double bar_x;                   /* colour bar */
    int    width, height;
} HeatGeometry;

static void cell_text(const HeatMap *h, int i, int j, long row_sum, char *buf, size_t cap) {
    long v = h->counts[(size_t)i * (size_t)h->n_cols + (size_t)j];
    if (h->rates)
        snprintf(buf, cap, "%.2f", row_sum ? (double)v / (double)row_sum : 0.0);
    else
        snprintf(buf, cap, "%ld", v);
}

static long row_sum(const HeatMap *h, int i) {
    long s = 0;
    for (int j = 0; j < h->n_cols; j++)
        s += h->counts[(size_t)i * (size_t)h->n_cols + (size_t)j];
    return s;
}

/* Sizes from the widest texts: row names at the left, column names turned
 * 45 degrees above the cells, the colour bar and its numbers at the right. */
static HeatGeometry heat_geometry(cairo_t *cr, const HeatMap *h) {
    HeatGeometry g = {0};
    char num[32];
    set_font(cr, 11, 0);
    double text_w = 0;
    for (int i = 0; i < h->n_rows; i++)
        for (int j = 0; j < h->n_cols; j++) {
            cell_text(h, i, j, row_sum(h, i), num, sizeof num);
            text_w = fmax(text_w, text_width(cr, num));
        }
    g.cell = ceil(fmax(40, text_w + 14));
    set_font(cr, 12, 0);
    for (int i = 0; i < h->n_rows; i++)
        g.row_w = fmax(g.row_w, text_width(cr, h->row_names[i]));
    for (int j = 0; j < h->n_cols; j++)
        g.col_w = fmax(g.col_w, text_width(cr, h->col_names[j]));

    double title_h = 24 + (h->subtitle ? 20 : 0);
    g.x0 = ceil(PAD + 22 + g.row_w + 10);
    g.y0 = ceil(PAD + title_h + 12 + g.col_w * COS45 + 14);
    double grid_right = g.x0 + h->n_cols * g.cell;
    g.bar_x = grid_right + 28;
    double right = fmax(g.bar_x + 18 + 44 + 24, grid_right - g.cell / 2 + g.col_w * COS45 + 12);

    set_font(cr, 16, 1);
    double title_w = text_width(cr, h->title);
    set_font(cr, 12, 0);
    if (h->subtitle)
        title_w = fmax(title_w, text_width(cr, h->subtitle));
    g.width = (int)ceil(fmax(right + PAD, title_w + 2 * PAD));
    g.height = (int)ceil(g.y0 + h->n_rows * g.cell + 44 + PAD);
    return g;
}

static void draw_cells(cairo_t *cr, const HeatMap *h, const HeatGeometry *g) {
    char num[32];
    set_font(cr, 11, 0);
    for (int i = 0; i < h->n_rows; i++) {
        long sum = row_sum(h, i);
        for (int j = 0; j < h->n_cols; j++) {
            long v = h->counts[(size_t)i * (size_t)h->n_cols + (size_t)j];
            double t = sum ? (double)v / (double)sum : 0;
            double x = g->x0 + j * g->cell, y = g->y0 + i * g->cell;

            /* The cell, one pixel short so white lines part the cells. */
            set_rgb(cr, ramp(t));
            cairo_rectangle(cr, x, y, g->cell - 1, g->cell - 1);
            cairo_fill(cr);
            cell_text(h, i, j, sum, num, sizeof num);
            set_rgb(cr, t > RAMP_DARK ? 0xFFFFFF : INK);
            text_at(cr, x + (g->cell - 1) / 2, y + (g->cell - 1) / 2, num, 0.5);
        }
    }
}

static void draw_heat_labels(cairo_t *cr, const HeatMap *h, const HeatGeometry *g) {
    double grid_w = h->n_cols * g->cell, grid_h = h->n_rows * g->cell;

    /* Titles. */
    set_rgb(cr, INK);
    set_font(cr, 16, 1);
    text_at(cr, PAD, PAD + 10, h->title, 0);
    if (h->subtitle) {
        set_font(cr, 12, 0);
        set_rgb(cr, INK_LIGHT);
        text_at(cr, PAD, PAD + 32, h->subtitle, 0);
    }

    /* Row names right-aligned at the left, column names turned above. */
    set_font(cr, 12, 0);
    set_rgb(cr, INK);
    for (int i = 0; i < h->n_rows; i++)
        text_at(cr, g->x0 - 8, g->y0 + (i + 0.5) * g->cell, h->row_names[i], 1);
    for (int j = 0; j < h->n_cols; j++)
        text_turned(cr, g->x0 + (j + 0.5) * g->cell - 4, g->y0 - 10, -PI / 4,
                    h->col_names[j], 0);

    /* What the axes are. */
    set_font(cr, 13, 1);
    text_at(cr, g->x0 + grid_w / 2, g->y0 + grid_h + 22, "given label", 0.5);
    text_turned(cr, PAD + 8, g->y0 + grid_h / 2, -PI / 2, "true class", 0.5);
}

/* A vertical bar of the ramp, 0 at the bottom, with numbers every 0.25. */
static void draw_colour_bar(cairo_t *cr, const HeatMap *h, const HeatGeometry *g) {
    double y = g->y0, bar_h = h->n_rows * g->cell - 1, x = g->bar_x;
    cairo_pattern_t *p = cairo_pattern_create_linear(0, y + bar_h, 0, y);
    for (int s = 0; s < 9; s++) {
        unsigned c = BLUES[s];
        cairo_pattern_add_color_stop_rgb(p, s / 8.0, ((c >> 16) & 255) / 255.0,
                                         ((c >> 8) & 255) / 255.0, (c & 255) / 255.0);
    }
    cairo_rectangle(cr, x, y, 18, bar_h);
    cairo_set_source(cr, p);
    cairo_fill(cr);
    cairo_pattern_destroy(p);

    set_rgb(cr, FRAME);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y + 0.5, 17, floor(bar_h));
    cairo_stroke(cr);
    set_font(cr, 11, 0);
    set_rgb(cr, INK);
    for (int i = 0; i <= 4; i++) {
        char num[16];
        snprintf(num, sizeof num, "%.2f", i / 4.0);
        text_at(cr, x + 24, y + bar_h - i / 4.0 * bar_h, num, 0);
    }
    set_font(cr, 12, 0);
    text_turned(cr, x + 24 + 44, y + bar_h / 2, PI / 2, "share of the true class", 0.5);
}

int plot_heatmap(const HeatMap *h, const char *path, HeatMapLayout *layout) {
    if (h->n_rows < 1 || h->n_cols < 1 || h->n_rows > 1000 || h->n_cols > 1000)
        return err_set(ERR_INVALID, "heat map of %dx%d cells: need 1 to 1000 a side",
                       h->n_rows, h->n_cols);

    /* The geometry needs text measures, so a scratch surface comes first. */
    cairo_surface_t *surface;
    cairo_t *cr = canvas(1, 1, &surface);
    if (!cr)
        return ERR_NOMEM;
    HeatGeometry g = heat_geometry(cr, h);
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    if (g.width > 32767 || g.height > 32767)
        return err_set(ERR_INVALID, "heat map of %dx%d cells: too large to draw", h->n_rows,
                       h->n_cols);
    if (!(cr = canvas(g.width, g.height, &surface)))
        return ERR_NOMEM;

    draw_heat_labels(cr, h, &g);
    draw_cells(cr, h, &g);
    draw_colour_bar(cr, h, &g);

    int rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS
                 ? save_png(surface, path)
                 : err_set(ERR_INVALID, "%s: drawing failed: %s", path,
                           cairo_status_to_string(cairo_status(cr)));
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    if (rc == ERR_OK && layout) {
        layout->width = g.width;
        layout->height = g.height;
        layout->x0 = (int)g.x0;
        layout->y0 = (int)g.y0;
        layout->cell = (int)g.cell;
    }
    return rc;
}

void plot_release(void) {
    cairo_debug_reset_static_data();
    FcFini();
}
