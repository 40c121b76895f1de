/* The reference backend: the kernels as plain loops (see backend.h).
 *
 * Convolution, per output element (n, co, oy, ox), with g = co / (CO/G) its
 * group and CIG = CI/G input channels per group:
 *   y = sum over ci < CIG, ky, kx of x[n, g*CIG + ci, oy*s - p + ky, ox*s - p + kx]
 *                                   * w[co, ci, ky, kx]      (outside x: 0)
 * backward_data scatters dy * w into the same x positions; backward_weight
 * gathers x * dy into the same w positions. Slow and simple on purpose. */
#include "nn/backend.h"

#include <float.h>
#include <string.h>

void conv_geom_finish(ConvGeom *g) {
    g->oh = (g->h + 2 * g->pad - g->k) / g->stride + 1;
    g->ow = (g->w + 2 * g->pad - g->k) / g->stride + 1;
}

static int pool_out(int in, int k, int stride, int pad, int ceil_mode) {
    int span = in + 2 * pad - k;
    int out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;

    /* PyTorch: in ceil mode the last window must start inside the input
     * or its left padding. */
    if (ceil_mode && (out - 1) * stride >= in + pad)
        out--;
    return out;
}

void pool_geom_finish(PoolGeom *g) {
    g->oh = pool_out(g->h, g->k, g->stride, g->pad, g->ceil_mode);
    g->ow = pool_out(g->w, g->k, g->stride, g->pad, g->ceil_mode);
}

/* Walks every (x index, w index, y index) triple of a convolution and
 * calls the step for it; the three kernels differ only in the step. */
#define CONV_LOOP(g, STEP)                                                          \
    do {                                                                            \
        int cig = (g)->ci / (g)->groups, cog = (g)->co / (g)->groups;               \
        for (int n = 0; n < (g)->n; n++)                                            \
            for (int co = 0; co < (g)->co; co++) {                                  \
                int grp = co / cog;                                                 \
                for (int oy = 0; oy < (g)->oh; oy++)                                \
                    for (int ox = 0; ox < (g)->ow; ox++) {                          \
                        size_t yi = (((size_t)n * (g)->co + co) * (g)->oh + oy)     \
                                    * (g)->ow + ox;                                 \
                        for (int ci = 0; ci < cig; ci++)                            \
                            for (int ky = 0; ky < (g)->k; ky++) {                   \
                                int iy = oy * (g)->stride - (g)->pad + ky;          \
                                if (iy < 0 || iy >= (g)->h)                         \
                                    continue;                                       \
                                for (int kx = 0; kx < (g)->k; kx++) {               \
                                    int ix = ox * (g)->stride - (g)->pad + kx;      \
                                    if (ix < 0 || ix >= (g)->w)                     \
                                        continue;                                   \
                                    size_t xi = (((size_t)n * (g)->ci + grp * cig   \
                                                  + ci) * (g)->h + iy) * (g)->w + ix; \
                                    size_t wi = (((size_t)co * cig + ci) * (g)->k   \
                                                 + ky) * (g)->k + kx;               \
                                    STEP;                                           \
                                }                                                   \
                            }                                                       \
                    }                                                               \
            }                                                                       \
    } while (0)

static void ref_conv2d_forward(const ConvGeom *g, const float *x, const float *w, float *y) {
    memset(y, 0, (size_t)g->n * g->co * g->oh * g->ow * sizeof *y);
    CONV_LOOP(g, y[yi] += x[xi] * w[wi]);
}

static void ref_conv2d_backward_data(const ConvGeom *g, const float *dy, const float *w,
                                     float *dx) {
    CONV_LOOP(g, dx[xi] += dy[yi] * w[wi]);
}

static void ref_conv2d_backward_weight(const ConvGeom *g, const float *x, const float *dy,
                                       float *dw) {
    CONV_LOOP(g, dw[wi] += x[xi] * dy[yi]);
}

static void ref_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *a, const float *b, float beta, float *c) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                float av = trans_a ? a[(size_t)p * m + i] : a[(size_t)i * k + p];
                float bv = trans_b ? b[(size_t)j * k + p] : b[(size_t)p * n + j];
                acc += (double)av * bv;
            }
            float *cij = &c[(size_t)i * n + j];
            *cij = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *cij));
        }
    }
}

/* Window bounds of output position o along one axis, clipped to [0, in). */
static void window(int o, int stride, int pad, int k, int in, int *lo, int *hi) {
    *lo = o * stride - pad;
    *hi = *lo + k;
    if (*lo < 0)
        *lo = 0;
    if (*hi > in)
        *hi = in;
}

static void ref_maxpool_forward(const PoolGeom *g, const float *x, float *y, int *argmax) {
    size_t plane = (size_t)g->h * g->w, out = 0;
    for (size_t nc = 0; nc < (size_t)g->n * g->c; nc++) {
        const float *xp = x + nc * plane;
        for (int oy = 0; oy < g->oh; oy++) {
            for (int ox = 0; ox < g->ow; ox++, out++) {
                int y0, y1, x0, x1, best = -1;
                float m = -FLT_MAX;
                window(oy, g->stride, g->pad, g->k, g->h, &y0, &y1);
                window(ox, g->stride, g->pad, g->k, g->w, &x0, &x1);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        if (best < 0 || xp[iy * g->w + ix] > m) {
                            m = xp[iy * g->w + ix];
                            best = iy * g->w + ix;
                        }
                y[out] = m;
                argmax[out] = best;
            }
        }
    }
}

static void ref_maxpool_backward(const PoolGeom *g, const float *dy, const int *argmax,
                                 float *dx) {
    size_t plane = (size_t)g->h * g->w, per = (size_t)g->oh * g->ow;
    for (size_t nc = 0; nc < (size_t)g->n * g->c; nc++)
        for (size_t o = 0; o < per; o++)
            dx[nc * plane + (size_t)argmax[nc * per + o]] += dy[nc * per + o];
}

static void ref_avgpool_forward(const PoolGeom *g, const float *x, float *y) {
    size_t plane = (size_t)g->h * g->w, out = 0;
    for (size_t nc = 0; nc < (size_t)g->n * g->c; nc++) {
        const float *xp = x + nc * plane;
        for (int oy = 0; oy < g->oh; oy++) {
            for (int ox = 0; ox < g->ow; ox++, out++) {
                int y0, y1, x0, x1;
                window(oy, g->stride, g->pad, g->k, g->h, &y0, &y1);
                window(ox, g->stride, g->pad, g->k, g->w, &x0, &x1);
                double sum = 0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        sum += xp[iy * g->w + ix];
                y[out] = (float)(sum / ((y1 - y0) * (x1 - x0)));
            }
        }
    }
}

static void ref_avgpool_backward(const PoolGeom *g, const float *dy, float *dx) {
    size_t plane = (size_t)g->h * g->w, out = 0;
    for (size_t nc = 0; nc < (size_t)g->n * g->c; nc++) {
        float *dxp = dx + nc * plane;
        for (int oy = 0; oy < g->oh; oy++) {
            for (int ox = 0; ox < g->ow; ox++, out++) {
                int y0, y1, x0, x1;
                window(oy, g->stride, g->pad, g->k, g->h, &y0, &y1);
                window(ox, g->stride, g->pad, g->k, g->w, &x0, &x1);
                float share = dy[out] / (float)((y1 - y0) * (x1 - x0));
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        dxp[iy * g->w + ix] += share;
            }
        }
    }
}

static const Backend BACKEND_REFERENCE = {
    .name = "reference",
    .conv2d_forward = ref_conv2d_forward,
    .conv2d_backward_data = ref_conv2d_backward_data,
    .conv2d_backward_weight = ref_conv2d_backward_weight,
    .gemm = ref_gemm,
    .maxpool_forward = ref_maxpool_forward,
    .maxpool_backward = ref_maxpool_backward,
    .avgpool_forward = ref_avgpool_forward,
    .avgpool_backward = ref_avgpool_backward,
};

const Backend *backend_reference(void) {
    return &BACKEND_REFERENCE;
}
