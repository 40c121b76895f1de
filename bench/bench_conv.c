/* Throughput of the convolution kernels and of whole training steps.
 *
 * Part 1: forward, backward-data and backward-weight of the typical
 * convolutions of xresnet50 (and xresnext50's grouped 3x3) at 128 px,
 * batch 16, on the BLAS backend and, in builds with oneDNN, the dnnl
 * backend, plus one shape on the reference backend (its plain loops are
 * too slow for the rest), in GFLOP/s: 2 x the multiply-adds, the same
 * count for each of the three kernels. --layouts adds the dnnl backend
 * forced into each of its layouts (backend_internal.h).
 * Part 2: training steps (forward in training mode, then backward) of
 * whole models at 128 px, batch 16, on the same backends, in images/s, and
 * how much of a step the convolutions take (their kernels timed alone on
 * each conv layer's shapes); with Mish, the reference's activation, and
 * with ReLU, to show what the rest of the step costs.
 * The backends are timed back to back in one run, twice in turn (blas,
 * dnnl, blas, dnnl), keeping each one's best, so that a load that comes
 * and goes on the machine favours neither.
 * Inputs are uniform noise: speed does not depend on the values.
 *
 * Usage: bench_conv [--layouts] [SECONDS]   (least time per measurement,
 * default 1) */
#include "nn/backend.h"
#include "nn/backend_internal.h"
#include "nn/model.h"

#include "util/err.h"
#include "util/rng.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_BATCH 16
#define BENCH_SIZE  128
#define BENCH_TURNS 2       /* times each backend is timed, in turn with the others */
#define COLUMNS_MAX 6

typedef struct {
    const char *what;
    int         ci, hw, co, k, stride, groups;
    int         reference;      /* also time the reference backend */
} ConvShape;

/* Spatial sizes at 128 px: stem 64, stages 32, 16, 8, 4. */
static const ConvShape SHAPES[] = {
    {"stem 32->64 3x3", 32, 64, 64, 3, 1, 1, 0},
    {"stage0 64->64 3x3", 64, 32, 64, 3, 1, 1, 1},
    {"stage0 256->64 1x1", 256, 32, 64, 1, 1, 1, 0},
    {"stage0 64->256 1x1", 64, 32, 256, 1, 1, 1, 0},
    {"stage1 128->128 3x3/2", 128, 32, 128, 3, 2, 1, 0},
    {"stage2 256->256 3x3", 256, 8, 256, 3, 1, 1, 0},
    {"stage2 1024->256 1x1", 1024, 8, 256, 1, 1, 1, 0},
    {"stage3 512->512 3x3/2", 512, 8, 512, 3, 2, 1, 0},
    {"stage3 512->512 3x3", 512, 4, 512, 3, 1, 1, 0},
    {"resnext0 128->128 3x3 g32", 128, 32, 128, 3, 1, 32, 0},
    {"resnext3 1024->1024 3x3 g32", 1024, 4, 1024, 3, 1, 32, 0},
};

static const struct {
    const char *arch;
    ActKind     act;
} MODELS[] = {
    {"xresnet18", ACT_MISH}, {"xresnet18", ACT_RELU}, {"xresnet50", ACT_MISH},
    {"xresnet50", ACT_RELU}, {"xse_resnext50", ACT_MISH},
};

/* One backend as timed: in a layout of its own for the dnnl backend. */
typedef struct {
    const char    *label;
    const Backend *be;
    int            layout;  /* DnnlLayout, for the dnnl backend */
} Column;

static Column columns[COLUMNS_MAX];
static int    n_columns;

/* blas, then (in builds with oneDNN) dnnl, and with all_layouts the dnnl
 * backend in each forced layout. */
static void columns_init(int all_layouts) {
    columns[n_columns++] = (Column){"blas", backend_blas(), DNNL_LAYOUT_AUTO};
#ifdef NOISETTE_HAVE_DNNL
    static const char *const names[DNNL_LAYOUT_COUNT] = {"dnnl", "dnnl/blk", "dnnl/nchw",
                                                         "dnnl/nhwc"};
    for (int l = DNNL_LAYOUT_AUTO; l < (all_layouts ? DNNL_LAYOUT_COUNT : 1); l++)
        columns[n_columns++] = (Column){names[l], backend_dnnl(), l};
#else
    (void)all_layouts;
#endif
}

/* Makes column c's layout the dnnl backend's. */
static void column_select(const Column *c) {
#ifdef NOISETTE_HAVE_DNNL
    backend_dnnl_set_layout((DnnlLayout)c->layout);
#else
    (void)c;
#endif
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *noise(size_t n, Rng *rng) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (float)(2.0 * rng_uniform(rng) - 1.0);
    return p;
}

/* The three kernels' buffers for one shape. */
typedef struct {
    ConvGeom g;
    float   *x, *w, *y, *dx, *dw;
} ConvBufs;

/* Runs kernel 0 (forward), 1 (backward data) or 2 (backward weight). */
static void run_kernel(const Backend *be, ConvBufs *b, int kernel) {
    if (kernel == 0)
        be->conv2d_forward(&b->g, b->x, b->w, b->y);
    else if (kernel == 1)
        be->conv2d_backward_data(&b->g, b->y, b->w, b->dx);
    else
        be->conv2d_backward_weight(&b->g, b->x, b->y, b->dw);
}

/* Seconds per call: one warm-up call, then the best of as many as fit in
 * `least` seconds (at least 3, or 1 when one call already takes that). */
static double time_kernel(const Backend *be, ConvBufs *b, int kernel, double least) {
    double t0 = now_s();
    run_kernel(be, b, kernel);
    double first = now_s() - t0, best = first, start = now_s();
    if (first >= least)
        return first;
    for (int r = 0; r < 3 || now_s() - start < least; r++) {
        t0 = now_s();
        run_kernel(be, b, kernel);
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    return best;
}

/* One line per column timed on shape s: GFLOP/s of the three kernels, and
 * for the columns after the first, their speed over the first's. */
static int bench_shape(const ConvShape *s, double least, Rng *rng) {
    ConvBufs b = {.g = {BENCH_BATCH, s->ci, s->hw, s->hw, s->co, s->k, s->stride,
                        (s->k - 1) / 2, s->groups, 0, 0}};
    conv_geom_finish(&b.g);
    size_t nx = (size_t)BENCH_BATCH * s->ci * s->hw * s->hw;
    size_t nw = (size_t)s->co * (s->ci / s->groups) * s->k * s->k;
    size_t ny = (size_t)BENCH_BATCH * s->co * b.g.oh * b.g.ow;
    b.x = noise(nx, rng), b.w = noise(nw, rng), b.y = noise(ny, rng);
    b.dx = noise(nx, rng), b.dw = noise(nw, rng);
    int rc = b.x && b.w && b.y && b.dx && b.dw ? 0 : err_set(ERR_NOMEM, "out of memory");

    /* Each kernel: every column in turn, BENCH_TURNS times, best kept. */
    double flops = 2.0 * ny * (s->ci / s->groups) * s->k * s->k, sec[COLUMNS_MAX][3];
    for (int kernel = 0; rc == 0 && kernel < 3; kernel++)
        for (int turn = 0; turn < BENCH_TURNS; turn++)
            for (int c = 0; c < n_columns; c++) {
                column_select(&columns[c]);
                double t = time_kernel(columns[c].be, &b, kernel, least / BENCH_TURNS);
                sec[c][kernel] = turn == 0 || t < sec[c][kernel] ? t : sec[c][kernel];
            }
    for (int c = 0; rc == 0 && c < n_columns; c++) {
        printf("%-28s %-9s %6.2f GFLOP  %8.1f %8.1f %8.1f GFLOP/s", s->what, columns[c].label,
               flops * 1e-9, flops / sec[c][0] * 1e-9, flops / sec[c][1] * 1e-9,
               flops / sec[c][2] * 1e-9);
        if (c > 0)
            printf("  x%.2f x%.2f x%.2f", sec[0][0] / sec[c][0], sec[0][1] / sec[c][1],
                   sec[0][2] / sec[c][2]);
        printf("\n");
    }

    /* The reference, once: its plain loops take seconds. */
    if (rc == 0 && s->reference) {
        for (int kernel = 0; kernel < 3; kernel++)
            sec[0][kernel] = time_kernel(backend_reference(), &b, kernel, 0);
        printf("%-28s %-9s %6.2f GFLOP  %8.1f %8.1f %8.1f GFLOP/s\n", s->what, "reference",
               flops * 1e-9, flops / sec[0][0] * 1e-9, flops / sec[0][1] * 1e-9,
               flops / sec[0][2] * 1e-9);
    }
    fflush(stdout);
    free(b.x), free(b.w), free(b.y), free(b.dx), free(b.dw);
    return rc;
}

/* Seconds the model's convolution kernels take in one training step, each
 * run alone on its layer's arrays (backward data skipped, as in the model,
 * where the input is the image). Leaves the gradients changed. */
static double conv_seconds(Model *m) {
    double total = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        Node *nd = &m->nodes[i], *in = &m->nodes[nd->in[0] < 0 ? 0 : nd->in[0]];
        if (nd->kind != NODE_CONV)
            continue;
        ConvGeom g;
        conv2d_geom(&nd->u.conv, &in->y, &g);
        const float *w = nd->u.conv.weight->data;
        double t0 = now_s();
        m->be->conv2d_forward(&g, in->y.data, w, nd->y.data);
        if (in->kind != NODE_INPUT)
            m->be->conv2d_backward_data(&g, nd->dy.data, w, in->dy.data);
        m->be->conv2d_backward_weight(&g, in->y.data, nd->dy.data, nd->u.conv.weight->grad);
        total += now_s() - t0;
    }
    return total;
}

/* Training steps of m on x (forward in training mode, then backward from
 * dz) until `least` seconds have passed, after one warm-up step; the best
 * step and forward times are kept in *step and *fwd (lowered, never
 * raised), *steps counts the steps timed. */
static void time_steps(Model *m, const float *x, const float *dz, double least, double *step,
                       double *fwd, int *steps) {
    double start = 0;
    for (int r = 0; r <= 3 || now_s() - start < least; r++) {
        double t0 = now_s();
        model_forward(m, x, BENCH_BATCH, 1);
        double t1 = now_s();
        model_zero_grad(m);
        model_backward(m, dz);
        double t2 = now_s();
        if (r == 0) {
            start = now_s();
            continue;
        }
        ++*steps;
        *step = t2 - t0 < *step ? t2 - t0 : *step;
        *fwd = t1 - t0 < *fwd ? t1 - t0 : *fwd;
    }
}

/* Training steps of arch, one model per column, timed in turn: images/s
 * of forward + backward, the convolutions' share, and the forward FLOPs
 * per image. */
static int bench_model(const char *arch, ActKind act, double least, Rng *rng) {
    ModelConfig cfg;
    model_config_default(&cfg, arch);
    cfg.act = act;
    Model m[COLUMNS_MAX];
    int built = 0, rc = 0;
    for (; rc == 0 && built < n_columns; built++)
        rc = model_build(&m[built], &cfg, BENCH_BATCH, BENCH_SIZE, columns[built].be, rng);
    if (rc < 0)
        built--;
    size_t nx = (size_t)BENCH_BATCH * cfg.c_in * BENCH_SIZE * BENCH_SIZE;
    float *x = noise(nx, rng), *dz = noise((size_t)BENCH_BATCH * cfg.n_out, rng);
    if (rc == 0 && (!x || !dz))
        rc = err_set(ERR_NOMEM, "out of memory for the %s benchmark", arch);

    /* Each column's model in turn, BENCH_TURNS times. */
    double step[COLUMNS_MAX], fwd[COLUMNS_MAX];
    int steps[COLUMNS_MAX] = {0};
    for (int c = 0; c < n_columns; c++)
        step[c] = fwd[c] = 1e30;
    for (int turn = 0; rc == 0 && turn < BENCH_TURNS; turn++)
        for (int c = 0; c < n_columns; c++) {
            column_select(&columns[c]);
            time_steps(&m[c], x, dz, least / BENCH_TURNS, &step[c], &fwd[c], &steps[c]);
        }

    /* One line per column. */
    for (int c = 0; rc == 0 && c < n_columns; c++) {
        column_select(&columns[c]);
        double conv = conv_seconds(&m[c]);
        printf("%-14s %-4s %-9s forward %6.3f s  step %6.3f s  %6.1f images/s  "
               "convolutions %6.3f s  (%.2f GFLOP/image forward, %d steps)\n", arch,
               act == ACT_RELU ? "relu" : "mish", columns[c].label, fwd[c], step[c],
               BENCH_BATCH / step[c], conv, model_flops(&m[c]) * 1e-9, steps[c]);
    }
    fflush(stdout);
    free(x), free(dz);
    for (int c = 0; c < built; c++)
        model_free(&m[c]);
    return rc;
}

int main(int argc, char **argv) {
    int all_layouts = argc > 1 && strcmp(argv[1], "--layouts") == 0;
    double least = argc > 1 + all_layouts ? atof(argv[1 + all_layouts]) : 1.0;
    if (argc > 2 + all_layouts || least <= 0) {
        fprintf(stderr, "usage: bench_conv [--layouts] [SECONDS]\n");
        return 2;
    }
    columns_init(all_layouts);
    Rng rng;
    rng_seed(&rng, 1);
    /* The oneDNN backend runs on as many OpenMP threads as OpenBLAS has;
     * how they wait between kernels matters (backend_dnnl.c). */
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("OpenBLAS threads %d, OMP_WAIT_POLICY %s; batch %d, %d px; columns: forward, "
           "backward data, backward weight\n", openblas_get_num_threads(),
           wait ? wait : "unset", BENCH_BATCH, BENCH_SIZE);
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++)
        if (bench_shape(&SHAPES[i], least, &rng) < 0) {
            fprintf(stderr, "bench_conv: %s\n", err_msg());
            return 1;
        }
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++)
        if (bench_model(MODELS[i].arch, MODELS[i].act, least, &rng) < 0) {
            fprintf(stderr, "bench_conv: %s: %s\n", MODELS[i].arch, err_msg());
            return 1;
        }
    return 0;
}
