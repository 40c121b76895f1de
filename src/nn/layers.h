/* Layers: each a forward / backward pair over Tensors (legend in tensor.h).
 *
 * A layer's struct holds its hyper-parameters, its Params (registered in a
 * ParamList under a name prefix when the layer is set up) and whatever its
 * forward pass caches for the backward pass, allocated at set-up for the
 * largest batch (max_n) so that a step allocates nothing.
 *
 * Backward passes ACCUMULATE: dx += dL/dx (a tensor read by several layers
 * receives the sum), and parameter gradients += dL/dparam. dx may be NULL
 * when the input needs no gradient. `train` selects batch statistics (BN),
 * power-iteration updates (attention) and caching; eval forwards skip
 * caching where they can. Each function's math is stated in its .c file. */
#ifndef NOISETTE_NN_LAYERS_H
#define NOISETTE_NN_LAYERS_H

#include "nn/backend.h"
#include "nn/tensor.h"
#include "util/rng.h"

/* ---- conv2d.c: convolution, optional bias ----------------------------- */

typedef struct {
    int    ci, co, k, stride, pad, groups;
    Param *weight;      /* CO x CI/G x K x K, "<prefix>.weight" */
    Param *bias;        /* CO or NULL, "<prefix>.bias" (no weight decay) */
} Conv2d;

/* Padding is (k - 1) / 2, as the reference's ConvLayer. */
int conv2d_setup(Conv2d *l, ParamList *params, const char *prefix, int ci, int co, int k,
                 int stride, int groups, int bias);
void conv2d_geom(const Conv2d *l, const Tensor *x, ConvGeom *g);
void conv2d_forward(const Conv2d *l, const Backend *be, const Tensor *x, Tensor *y);
void conv2d_backward(const Conv2d *l, const Backend *be, const Tensor *x, const Tensor *dy,
                     Tensor *dx);

/* ---- batchnorm.c: 2-D batch normalisation ----------------------------- */

#define BN_EPS      1e-5f
#define BN_MOMENTUM 0.1f

/* Synchronised batch norm: fn replaces v[0..n) by its sum over the
 * processes that train together (train/dist.c). fn NULL: each process
 * uses its own batch's statistics. */
typedef struct {
    void (*fn)(void *ctx, double *v, int n);
    void  *ctx;
} BnSync;

typedef struct {
    int    c;
    Param *weight, *bias;               /* C each, no weight decay */
    Param *running_mean, *running_var;  /* C buffers: 0 and 1 at set-up */
    float *mean, *rstd;                 /* C: the last training batch's */
    BnSync sync;
    double *sums;                       /* 2C + 1 for sync: channel sums, count */
    double count;                       /* values a channel over all processes */
} BatchNorm;

/* Registers weight (1, or 0 when zero_weight), bias (0) and the running
 * statistics (as buffers in `buffers`). */
int batchnorm_setup(BatchNorm *l, ParamList *params, ParamList *buffers, const char *prefix,
                    int c, int zero_weight);
/* y must not be x in training: the backward pass reads x again. */
void batchnorm_forward(BatchNorm *l, const Tensor *x, Tensor *y, int train);
/* x is the input of the last training forward, unchanged since. */
void batchnorm_backward(BatchNorm *l, const Tensor *x, const Tensor *dy, Tensor *dx);
void batchnorm_free(BatchNorm *l);
/* Statistics over the batches of every process of sync (see BnSync). */
int batchnorm_set_sync(BatchNorm *l, BnSync sync);

/* ---- activation.c: elementwise nonlinearities -------------------------- */

typedef enum {
    ACT_NONE = 0,
    ACT_RELU,
    ACT_MISH,
    ACT_SIGMOID
} ActKind;

/* y = act(x) elementwise, y may be x (Mish's backward needs x, though). */
void activation_forward(ActKind act, const Tensor *x, Tensor *y);
/* The same on n floats, on the calling thread (y may be x). */
void activation_span(ActKind act, const float *x, float *y, size_t n);
/* dx += dy * act'(x); uses x (the input) and y (the output) as needed. */
void activation_backward(ActKind act, const Tensor *x, const Tensor *y, const Tensor *dy,
                         Tensor *dx);

/* Evaluation-mode batch norm and the activation after it in one pass over
 * memory (batchnorm.c): each N x C plane normalised into y, then act
 * applied to it while it is in cache. The same bits as batchnorm_forward
 * (train 0) followed by activation_forward. */
void batchnorm_forward_eval_act(const BatchNorm *l, const Tensor *x, ActKind act, Tensor *y);

/* ---- pool.c: max, average, global average ------------------------------ */

typedef enum {
    POOL_MAX,
    POOL_AVG
} PoolKind;

typedef struct {
    PoolKind kind;
    int      k, stride, pad, ceil_mode;
    int     *argmax;        /* max pool: max_n x C x OH x OW */
    size_t   argmax_cap;
} Pool2d;

int pool2d_setup(Pool2d *l, PoolKind kind, int k, int stride, int pad, int ceil_mode,
                 size_t max_out_numel);
void pool2d_geom(const Pool2d *l, const Tensor *x, PoolGeom *g);
void pool2d_forward(Pool2d *l, const Backend *be, const Tensor *x, Tensor *y);
void pool2d_backward(const Pool2d *l, const Backend *be, const Tensor *dy, Tensor *dx);
void pool2d_free(Pool2d *l);

/* Adaptive average pool to 1 x 1: y[n, c] = mean over H x W of x[n, c]. */
void global_avgpool_forward(const Tensor *x, Tensor *y);
void global_avgpool_backward(const Tensor *dy, Tensor *dx);

/* ---- linear.c: fully connected, with bias ------------------------------ */

typedef struct {
    int    in, out;
    Param *weight;      /* out x in */
    Param *bias;        /* out */
} Linear;

int linear_setup(Linear *l, ParamList *params, const char *prefix, int in, int out);
/* x: N x in (any C x H x W flattening to `in`), y: N x out */
void linear_forward(const Linear *l, const Backend *be, const Tensor *x, Tensor *y);
void linear_backward(const Linear *l, const Backend *be, const Tensor *x, const Tensor *dy,
                     Tensor *dx);

/* ---- combine.c: residual add, per-channel scale ------------------------ */

/* y = a + b (same shapes). Backward: da += dy, db += dy. */
void add_forward(const Tensor *a, const Tensor *b, Tensor *y);
void add_backward(const Tensor *dy, Tensor *da, Tensor *db);

/* y[n, c, :, :] = x[n, c, :, :] * s[n, c] (s is N x C x 1 x 1).
 * Backward: dx += dy * s;  ds[n, c] += sum over H x W of dy * x. */
void scale_forward(const Tensor *x, const Tensor *s, Tensor *y);
void scale_backward(const Tensor *x, const Tensor *s, const Tensor *dy, Tensor *dx,
                    Tensor *ds);

/* ---- attention.c: SimpleSelfAttention (spec §3.7) ---------------------- */

typedef struct {
    int    c, sym;
    Param *weight;      /* C x C x 1 ("<prefix>.conv.weight_orig"), decayed */
    Param *gamma;       /* 1 ("<prefix>.gamma"), decayed */
    Param *u, *v;       /* C buffers: the power iteration's unit vectors */
    float  sigma;       /* the last spectral norm */
    float *w_norm;      /* C x C: weight / sigma (symmetrised when sym) */
    float *a, *o, *tmp; /* caches: X X^T per sample, O = A W X, scratch */
    size_t cache_cap;
} SelfAttention;

/* u and v start as normalised N(0,1) draws from rng; gamma starts at 0. */
int attention_setup(SelfAttention *l, ParamList *params, ParamList *buffers,
                    const char *prefix, int c, int sym, int max_n, int max_hw, Rng *rng);
void attention_forward(SelfAttention *l, const Backend *be, const Tensor *x, Tensor *y,
                       int train);
void attention_backward(SelfAttention *l, const Backend *be, const Tensor *x, const Tensor *dy,
                        Tensor *dx);
void attention_free(SelfAttention *l);

#endif
