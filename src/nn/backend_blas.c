/* The BLAS backend: convolutions as matrix products on OpenBLAS's sgemm.
 *
 * Per sample and per group g, with R = CI/G*K*K rows and P = OH*OW columns,
 * im2col lays the input windows out as cols (R x P), and the convolution
 * becomes Y_g (CO/G x P) = W_g (CO/G x R) * cols; the two backward kernels
 * are the products with W_g^T and cols^T. A 1x1 convolution at stride 1
 * without padding needs no copy: x_g itself is cols. Small maps put several
 * samples side by side in one product, and backward data at stride 1 runs
 * as a convolution of dy when that is faster. The column buffers are one
 * growing scratch per thread; should it fail to grow, a kernel falls back
 * to the reference loops (slow, never wrong). Pooling is the reference's
 * kernels, the samples split over the OpenMP threads. OpenBLAS picks its
 * thread count (all cores; OPENBLAS_NUM_THREADS overrides).
 * Legend: N batch, CI / CO channels in / out, H x W in, OH x OW out,
 * K kernel side, G groups, P = OH*OW. */
#include "nn/backend.h"
#include "nn/parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- scratch: one growing column buffer per thread ------------------------ */

/* Two models may run in two threads, so each thread owns its buffer; it
 * grows to the largest convolution's need and is freed when the thread
 * ends (key destructor) or, for the thread that calls exit, by an atexit
 * handler. */
typedef struct {
    size_t cap;
    float  data[];
} Scratch;

static pthread_key_t  scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int            scratch_ready;

static void scratch_destroy(void *s) {
    free(s);
}

static void scratch_release_at_exit(void) {
    Scratch *s = pthread_getspecific(scratch_key);
    pthread_setspecific(scratch_key, NULL);
    free(s);
}

static void scratch_init(void) {
    if (pthread_key_create(&scratch_key, scratch_destroy) != 0)
        return;
    scratch_ready = 1;
    atexit(scratch_release_at_exit);
}

/* This thread's buffer of at least n floats, or NULL when it cannot grow
 * (the callers then fall back to the reference kernel). */
static float *scratch_get(size_t n) {
    pthread_once(&scratch_once, scratch_init);
    if (!scratch_ready)
        return NULL;
    Scratch *s = pthread_getspecific(scratch_key);
    if (s && s->cap >= n)
        return s->data;

    /* Grow: the old contents are never needed, so free before allocating. */
    free(s);
    pthread_setspecific(scratch_key, NULL);
    if (n > (SIZE_MAX - sizeof *s) / sizeof(float))
        return NULL;
    s = malloc(sizeof *s + n * sizeof(float));
    if (!s || pthread_setspecific(scratch_key, s) != 0) {
        free(s);
        return NULL;
    }
    s->cap = n;
    return s->data;
}

/* ---- im2col and col2im ---------------------------------------------------- */

/* Outputs o in [*lo, *hi) read an input inside [0, in) at tap t along one
 * axis: 0 <= o*stride - pad + t < in. */
static void tap_range(int t, int stride, int pad, int in, int out, int *lo, int *hi) {
    int first = pad - t, end = in + pad - t;

    *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    *hi = end <= 0 ? 0 : (end + stride - 1) / stride;
    if (*lo > out)
        *lo = out;
    if (*hi > out)
        *hi = out;
    if (*hi < *lo)
        *hi = *lo;
}

/* cols[(c*K + ky)*K + kx][oy*OW + ox] = x_g[c, oy*s - p + ky, ox*s - p + kx],
 * 0 outside x, for the cig channels of one sample's group; consecutive rows
 * of cols lie ld floats apart (ld >= OH*OW leaves room for other samples). */
static void im2col(const ConvGeom *g, int cig, const float *x_g, float *cols, size_t ld) {
    size_t plane = (size_t)g->h * g->w;
    int k = g->k, s = g->stride;

    for (int c = 0; c < cig; c++)
        for (int ky = 0; ky < k; ky++) {
            int oy0, oy1;
            tap_range(ky, s, g->pad, g->h, g->oh, &oy0, &oy1);
            for (int kx = 0; kx < k; kx++) {
                float *row = cols + ((size_t)(c * k + ky) * k + kx) * ld;
                int ox0, ox1;
                tap_range(kx, s, g->pad, g->w, g->ow, &ox0, &ox1);

                /* Rows of the window above or below x are zero. */
                memset(row, 0, (size_t)oy0 * g->ow * sizeof *row);
                memset(row + (size_t)oy1 * g->ow, 0,
                       (size_t)(g->oh - oy1) * g->ow * sizeof *row);
                for (int oy = oy0; oy < oy1; oy++) {
                    float *r = row + (size_t)oy * g->ow;
                    const float *x_row = x_g + c * plane + (size_t)(oy * s - g->pad + ky) * g->w;
                    int ix0 = ox0 * s - g->pad + kx;

                    /* Columns left and right of x are zero; the rest a copy. */
                    memset(r, 0, (size_t)ox0 * sizeof *r);
                    memset(r + ox1, 0, (size_t)(g->ow - ox1) * sizeof *r);
                    if (ox1 == ox0)
                        continue;
                    if (s == 1)
                        memcpy(r + ox0, x_row + ix0, (size_t)(ox1 - ox0) * sizeof *r);
                    else
                        for (int ox = ox0; ox < ox1; ox++)
                            r[ox] = x_row[ix0 + (ox - ox0) * s];
                }
            }
        }
}

/* The adjoint of im2col: dx_g[c, iy, ix] += every cols entry that im2col
 * copied from (c, iy, ix); padding entries are dropped. */
static void col2im_add(const ConvGeom *g, int cig, const float *cols, size_t ld, float *dx_g) {
    size_t plane = (size_t)g->h * g->w;
    int k = g->k, s = g->stride;

    for (int c = 0; c < cig; c++)
        for (int ky = 0; ky < k; ky++) {
            int oy0, oy1;
            tap_range(ky, s, g->pad, g->h, g->oh, &oy0, &oy1);
            for (int kx = 0; kx < k; kx++) {
                const float *row = cols + ((size_t)(c * k + ky) * k + kx) * ld;
                int ox0, ox1;
                tap_range(kx, s, g->pad, g->w, g->ow, &ox0, &ox1);
                for (int oy = oy0; oy < oy1; oy++) {
                    const float *r = row + (size_t)oy * g->ow;
                    float *dx_row = dx_g + c * plane + (size_t)(oy * s - g->pad + ky) * g->w;
                    int ix0 = ox0 * s - g->pad + kx;
                    for (int ox = ox0; ox < ox1; ox++)
                        dx_row[ix0 + (ox - ox0) * s] += r[ox];
                }
            }
        }
}

/* ---- convolution ---------------------------------------------------------- */

/* Products narrower than a few hundred columns run below OpenBLAS's speed,
 * and their weights are read once per sample: a small map (stage 3 at
 * 128 px is 4 x 4) puts several samples side by side in one product. A 1x1
 * product that could read x in place pays a copy for that, worth it only on
 * the smallest maps. (Measured with bench/bench_conv.c, docs/model.md.) */
#define CONV_COLS_MIN       512     /* im2col products: columns to reach */
#define POINTWISE_COLS_MIN  256     /* 1x1 products: columns to reach ... */
#define POINTWISE_P_INPLACE 64      /* ... unless a sample has this many */

/* How one convolution is cut into products. */
typedef struct {
    int    cig, cog;    /* channels per group in, out */
    int    r, p;        /* rows R = CIG*K*K, columns P = OH*OW per sample */
    int    nb;          /* samples per product */
    int    pointwise;   /* 1x1, stride 1, no padding: x_g is its own cols */
    float *cols;        /* R x nb*P: im2col of nb samples, side by side */
    float *mat;         /* CO/G x nb*P: y or dy of nb samples (nb > 1) */
} ConvPlan;

/* Fills the plan and takes its buffers from this thread's scratch; -1 when
 * the scratch cannot grow. */
static int conv_plan(const ConvGeom *g, ConvPlan *pl) {
    pl->cig = g->ci / g->groups;
    pl->cog = g->co / g->groups;
    pl->r = pl->cig * g->k * g->k;
    pl->p = g->oh * g->ow;
    pl->pointwise = g->k == 1 && g->stride == 1 && g->pad == 0;
    int want = pl->pointwise ? POINTWISE_COLS_MIN : CONV_COLS_MIN;
    pl->nb = (want + pl->p - 1) / pl->p;
    if (pl->pointwise && pl->p >= POINTWISE_P_INPLACE)
        pl->nb = 1;
    if (pl->nb > g->n)
        pl->nb = g->n > 1 ? g->n : 1;

    /* A pointwise product of one sample reads x and writes y in place. */
    size_t cols = (size_t)pl->r * pl->nb * pl->p, mat = (size_t)pl->cog * pl->nb * pl->p;
    if (pl->nb == 1)
        mat = 0;
    if (pl->nb == 1 && pl->pointwise)
        cols = 0;
    pl->cols = pl->mat = NULL;
    if (cols + mat == 0)
        return 0;
    float *buf = scratch_get(cols + mat);
    if (!buf)
        return -1;
    pl->cols = buf;
    pl->mat = buf + cols;
    return 0;
}

/* Group grp of samples n0 .. n0+cnt-1 as one R x cnt*P matrix: x_g itself
 * for one pointwise sample, else im2col into pl->cols. */
static const float *conv_cols(const ConvGeom *g, const ConvPlan *pl, const float *x, int n0,
                              int cnt, int grp) {
    size_t plane = (size_t)g->h * g->w, ld = (size_t)cnt * pl->p;
    const float *x_g = x + ((size_t)n0 * g->ci + (size_t)grp * pl->cig) * plane;
    if (cnt == 1 && pl->pointwise)
        return x_g;
    for (int s = 0; s < cnt; s++)
        im2col(g, pl->cig, x_g + (size_t)s * g->ci * plane, pl->cols + (size_t)s * pl->p, ld);
    return pl->cols;
}

/* Where row c of sample n0+s's group grp starts in a N x CO x P array, and
 * in pl->mat (CO/G x cnt*P). */
static size_t conv_out_row(const ConvGeom *g, const ConvPlan *pl, int n, int grp, int c) {
    return ((size_t)n * g->co + (size_t)grp * pl->cog + c) * pl->p;
}

static size_t conv_mat_row(const ConvPlan *pl, int cnt, int s, int c) {
    return (size_t)c * cnt * pl->p + (size_t)s * pl->p;
}

/* pl->mat = group grp of dy for samples n0 .. n0+cnt-1, side by side. */
static const float *conv_mat_gather(const ConvGeom *g, const ConvPlan *pl, const float *dy,
                                    int n0, int cnt, int grp) {
    for (int s = 0; s < cnt; s++)
        for (int c = 0; c < pl->cog; c++)
            memcpy(pl->mat + conv_mat_row(pl, cnt, s, c), dy + conv_out_row(g, pl, n0 + s, grp, c),
                   (size_t)pl->p * sizeof(float));
    return pl->mat;
}

/* The inverse: group grp of y for samples n0 .. n0+cnt-1 = pl->mat. */
static void conv_mat_scatter(const ConvGeom *g, const ConvPlan *pl, float *y, int n0, int cnt,
                             int grp) {
    for (int s = 0; s < cnt; s++)
        for (int c = 0; c < pl->cog; c++)
            memcpy(y + conv_out_row(g, pl, n0 + s, grp, c), pl->mat + conv_mat_row(pl, cnt, s, c),
                   (size_t)pl->p * sizeof(float));
}

/* LIMITATION: grouped convolutions (ResNeXt's 32 groups) run at 22-40
 * GFLOP/s against 110-220 for the others: each group's product has 4 to 32
 * output channels, far below the sizes where OpenBLAS is fast, so
 * xse_resnext50 spends a quarter of its convolution time on 5% of the
 * FLOPs. A direct kernel for narrow groups, threaded over groups, would
 * lift it. */

/* Per group, nb samples at a time: Y_g (CO/G x nb*P) = W_g (CO/G x R) * cols. */
static void blas_conv2d_forward(const ConvGeom *g, const float *x, const float *w, float *y) {
    ConvPlan pl;
    if (conv_plan(g, &pl) < 0) {
        backend_reference()->conv2d_forward(g, x, w, y);
        return;
    }

    for (int n0 = 0; n0 < g->n; n0 += pl.nb) {
        int cnt = g->n - n0 < pl.nb ? g->n - n0 : pl.nb, ld = cnt * pl.p;
        for (int grp = 0; grp < g->groups; grp++) {
            const float *cols = conv_cols(g, &pl, x, n0, cnt, grp);
            const float *w_g = w + (size_t)grp * pl.cog * pl.r;
            float *y_g = y + ((size_t)n0 * g->co + (size_t)grp * pl.cog) * pl.p;

            /* One sample writes y in place; several go through mat. */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, pl.cog, ld, pl.r, 1.0f, w_g,
                        pl.r, cols, ld, 0.0f, cnt == 1 ? y_g : pl.mat, ld);
            if (cnt > 1)
                conv_mat_scatter(g, &pl, y, n0, cnt, grp);
        }
    }
}

/* At stride 1, backward data is itself a convolution: of dy, padded by
 * K-1-p, with the kernel turned by 180 degrees and CI and CO swapped:
 *   dx_g (CIG x H*W) += W'_g (CIG x CO/G*K*K) * im2col(dy_g)
 *   W'[g, ci, co, K-1-ky, K-1-kx] = W[g*CO/G + co, ci, ky, kx]
 * This replaces col2im's scattered adds by a copy and beta = 1, which pays
 * on maps large enough that W' (one copy of W per call) costs little, and
 * when CI >= CO: with fewer inputs than outputs the product, CIG rows
 * instead of CIG*K*K, is too thin for OpenBLAS (the 32 -> 64 stem conv). */
static int conv_backward_data_as_conv(const ConvGeom *g, const float *dy, const float *w,
                                      float *dx) {
    int cig = g->ci / g->groups, cog = g->co / g->groups, kk = g->k * g->k;
    size_t r_t = (size_t)cog * kk, plane = (size_t)g->h * g->w, p = (size_t)g->oh * g->ow;
    ConvGeom gt = {.h = g->oh, .w = g->ow, .k = g->k, .stride = 1, .pad = g->k - 1 - g->pad,
                   .oh = g->h, .ow = g->w};
    float *w_t = scratch_get((size_t)g->co * cig * kk + r_t * plane);
    if (!w_t)
        return -1;
    float *cols = w_t + (size_t)g->co * cig * kk;

    /* W', group by group: rows ci, columns (co, ky, kx) turned. */
    for (int grp = 0; grp < g->groups; grp++)
        for (int co = 0; co < cog; co++)
            for (int ci = 0; ci < cig; ci++) {
                const float *w_k = w + (((size_t)grp * cog + co) * cig + ci) * kk;
                float *w_t_k = w_t + ((size_t)grp * cig + ci) * r_t + (size_t)co * kk;
                for (int i = 0; i < kk; i++)
                    w_t_k[kk - 1 - i] = w_k[i];
            }

    /* One product per sample and group, added into dx. */
    for (int n = 0; n < g->n; n++)
        for (int grp = 0; grp < g->groups; grp++) {
            const float *dy_g = dy + ((size_t)n * g->co + (size_t)grp * cog) * p;
            float *dx_g = dx + ((size_t)n * g->ci + (size_t)grp * cig) * plane;
            im2col(&gt, cog, dy_g, cols, plane);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cig, (int)plane, (int)r_t,
                        1.0f, w_t + (size_t)grp * cig * r_t, (int)r_t, cols, (int)plane, 1.0f,
                        dx_g, (int)plane);
        }
    return 0;
}

/* Per group, nb samples at a time: cols (R x nb*P) = W_g^T * dY_g, then
 * dx_g += col2im(cols); one pointwise sample: dx_g += W_g^T * dY_g. */
static void blas_conv2d_backward_data(const ConvGeom *g, const float *dy, const float *w,
                                      float *dx) {
    ConvPlan pl;
    if (g->stride == 1 && g->k > 1 && g->pad < g->k && g->ci >= g->co
        && g->oh * g->ow >= CONV_COLS_MIN && conv_backward_data_as_conv(g, dy, w, dx) == 0)
        return;
    if (conv_plan(g, &pl) < 0) {
        backend_reference()->conv2d_backward_data(g, dy, w, dx);
        return;
    }

    size_t plane = (size_t)g->h * g->w;
    for (int n0 = 0; n0 < g->n; n0 += pl.nb) {
        int cnt = g->n - n0 < pl.nb ? g->n - n0 : pl.nb, ld = cnt * pl.p;
        for (int grp = 0; grp < g->groups; grp++) {
            float *dx_g = dx + ((size_t)n0 * g->ci + (size_t)grp * pl.cig) * plane;
            const float *w_g = w + (size_t)grp * pl.cog * pl.r;
            const float *dy_g = dy + ((size_t)n0 * g->co + (size_t)grp * pl.cog) * pl.p;
            if (cnt > 1)
                dy_g = conv_mat_gather(g, &pl, dy, n0, cnt, grp);
            if (cnt == 1 && pl.pointwise) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, pl.r, ld, pl.cog, 1.0f,
                            w_g, pl.r, dy_g, ld, 1.0f, dx_g, ld);
                continue;
            }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, pl.r, ld, pl.cog, 1.0f, w_g,
                        pl.r, dy_g, ld, 0.0f, pl.cols, ld);
            for (int s = 0; s < cnt; s++)
                col2im_add(g, pl.cig, pl.cols + (size_t)s * pl.p, ld,
                           dx_g + (size_t)s * g->ci * plane);
        }
    }
}

/* Per group, nb samples at a time: dW_g (CO/G x R) += dY_g (CO/G x nb*P) *
 * cols^T, with cols the forward's im2col of x, recomputed. */
static void blas_conv2d_backward_weight(const ConvGeom *g, const float *x, const float *dy,
                                        float *dw) {
    ConvPlan pl;
    if (conv_plan(g, &pl) < 0) {
        backend_reference()->conv2d_backward_weight(g, x, dy, dw);
        return;
    }

    for (int n0 = 0; n0 < g->n; n0 += pl.nb) {
        int cnt = g->n - n0 < pl.nb ? g->n - n0 : pl.nb, ld = cnt * pl.p;
        for (int grp = 0; grp < g->groups; grp++) {
            const float *cols = conv_cols(g, &pl, x, n0, cnt, grp);
            const float *dy_g = dy + ((size_t)n0 * g->co + (size_t)grp * pl.cog) * pl.p;
            float *dw_g = dw + (size_t)grp * pl.cog * pl.r;
            if (cnt > 1)
                dy_g = conv_mat_gather(g, &pl, dy, n0, cnt, grp);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, pl.cog, pl.r, ld, 1.0f, dy_g,
                        ld, cols, ld, 1.0f, dw_g, pl.r);
        }
    }
}

/* ---- gemm and pooling ----------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C, row-major (backend.h). BLAS rejects a
 * leading dimension of 0, so an empty product (k = 0) is done here. */
static void blas_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, const float *b, float beta, float *c) {
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (size_t i = 0; i < (size_t)m * n; i++)
            c[i] = beta == 0.0f ? 0.0f : beta * c[i];
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, trans_a ? m : k, b,
                trans_b ? k : n, beta, c, n);
}

/* Pooling windows are the reference's, a few adds per output and no
 * product, run one sample per OpenMP iteration: samples are independent
 * (argmax indexes a sample's own planes), so any thread count gives the
 * same result. */
static size_t pool_in(const PoolGeom *g) {
    return (size_t)g->c * g->h * g->w;
}

static size_t pool_out(const PoolGeom *g) {
    return (size_t)g->c * g->oh * g->ow;
}

static void blas_maxpool_forward(const PoolGeom *g, const float *x, float *y, int *argmax) {
    PoolGeom one = *g;
    one.n = 1;
    size_t in = pool_in(g), out = pool_out(g);
    NN_PARALLEL_FOR_N((size_t)g->n * in)
    for (int n = 0; n < g->n; n++)
        backend_reference()->maxpool_forward(&one, x + n * in, y + n * out, argmax + n * out);
}

static void blas_maxpool_backward(const PoolGeom *g, const float *dy, const int *argmax,
                                  float *dx) {
    PoolGeom one = *g;
    one.n = 1;
    size_t in = pool_in(g), out = pool_out(g);
    NN_PARALLEL_FOR_N((size_t)g->n * in)
    for (int n = 0; n < g->n; n++)
        backend_reference()->maxpool_backward(&one, dy + n * out, argmax + n * out, dx + n * in);
}

static void blas_avgpool_forward(const PoolGeom *g, const float *x, float *y) {
    PoolGeom one = *g;
    one.n = 1;
    size_t in = pool_in(g), out = pool_out(g);
    NN_PARALLEL_FOR_N((size_t)g->n * in)
    for (int n = 0; n < g->n; n++)
        backend_reference()->avgpool_forward(&one, x + n * in, y + n * out);
}

static void blas_avgpool_backward(const PoolGeom *g, const float *dy, float *dx) {
    PoolGeom one = *g;
    one.n = 1;
    size_t in = pool_in(g), out = pool_out(g);
    NN_PARALLEL_FOR_N((size_t)g->n * in)
    for (int n = 0; n < g->n; n++)
        backend_reference()->avgpool_backward(&one, dy + n * out, dx + n * in);
}

static const Backend BACKEND_BLAS = {
    .name = "blas",
    .conv2d_forward = blas_conv2d_forward,
    .conv2d_backward_data = blas_conv2d_backward_data,
    .conv2d_backward_weight = blas_conv2d_backward_weight,
    .gemm = blas_gemm,
    .maxpool_forward = blas_maxpool_forward,
    .maxpool_backward = blas_maxpool_backward,
    .avgpool_forward = blas_avgpool_forward,
    .avgpool_backward = blas_avgpool_backward,
};

const Backend *backend_blas(void) {
    return &BACKEND_BLAS;
}
