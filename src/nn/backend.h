/* The kernels behind the layers: one table of functions per backend.
 *
 * Layers never loop over convolutions, pooling windows or matrix products
 * themselves; they call the backend they are given. The reference backend
 * (backend_ref.c) is plain loops, obviously right, and the truth that
 * tests hold any faster backend to. A fast backend fills the same table,
 * so swapping it changes no layer.
 *
 * Conventions: NCHW float arrays; "+=" kernels accumulate into their
 * output (gradients flowing into a tensor from several consumers add up);
 * the others overwrite it. */
#ifndef NOISETTE_NN_BACKEND_H
#define NOISETTE_NN_BACKEND_H

/* A 2-D convolution's shape: x is N x CI x H x W, w is CO x CI/G x K x K,
 * y is N x CO x OH x OW with OH = (H + 2*pad - K) / stride + 1. */
typedef struct {
    int n, ci, h, w;
    int co, k, stride, pad, groups;
    int oh, ow;
} ConvGeom;

/* A pooling window's shape: x is N x C x H x W, y is N x C x OH x OW; a
 * window of K x K at stride, zero padding pad (never counted in averages),
 * OH from floor or (ceil_mode) ceil division as PyTorch does. */
typedef struct {
    int n, c, h, w;
    int k, stride, pad, ceil_mode;
    int oh, ow;
} PoolGeom;

typedef struct {
    const char *name;

    /* y = conv(x, w) */
    void (*conv2d_forward)(const ConvGeom *g, const float *x, const float *w, float *y);
    /* dx += conv_transpose(dy, w) */
    void (*conv2d_backward_data)(const ConvGeom *g, const float *dy, const float *w, float *dx);
    /* dw += correlation of x with dy */
    void (*conv2d_backward_weight)(const ConvGeom *g, const float *x, const float *dy,
                                   float *dw);

    /* C (M x N) = alpha * op(A) op(B) + beta * C, row-major, op = transpose
     * when the flag is set; A is M x K (or K x M), B is K x N (or N x K). */
    void (*gemm)(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                 const float *b, float beta, float *c);

    /* y = max over each window; argmax (N*C*OH*OW ints, flat index into the
     * sample's H*W plane) is written for the backward pass */
    void (*maxpool_forward)(const PoolGeom *g, const float *x, float *y, int *argmax);
    /* dx += dy routed to each window's argmax */
    void (*maxpool_backward)(const PoolGeom *g, const float *dy, const int *argmax, float *dx);
    /* y = mean over each window's non-padding cells */
    void (*avgpool_forward)(const PoolGeom *g, const float *x, float *y);
    /* dx += dy / cells, spread over each window */
    void (*avgpool_backward)(const PoolGeom *g, const float *dy, float *dx);
} Backend;

/* The plain-loops reference backend. */
const Backend *backend_reference(void);

/* The OpenBLAS backend (backend_blas.c): convolutions as im2col + sgemm on
 * OpenBLAS's own threads, pooling as the reference. Safe to call from
 * several threads at once: each keeps its own column buffer, grown to the
 * largest convolution it has run and freed when the thread ends. */
const Backend *backend_blas(void);

/* The oneDNN backend (backend_dnnl.c): convolutions on oneDNN primitives,
 * made once per thread and shape and cached, the rest as the BLAS
 * backend. Safe to call from several threads at once. NULL, with the
 * reason recorded (util/err.h), in a build without oneDNN (libdnnl-dev). */
const Backend *backend_dnnl(void);

/* The backend called name: "reference" (or "ref"), "blas" or "dnnl"; NULL,
 * with the reason recorded (util/err.h), for any other name, and for
 * "dnnl" in a build without oneDNN. */
const Backend *backend_by_name(const char *name);

/* The fastest backend this build has: dnnl with oneDNN, else blas. */
const Backend *backend_default(void);

/* Fills g's output size from its input, kernel, stride and padding. */
void conv_geom_finish(ConvGeom *g);
void pool_geom_finish(PoolGeom *g);

#endif
