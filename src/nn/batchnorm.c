/* 2-D batch normalisation, PyTorch's BatchNorm2d (spec §3.1).
 *
 * Training normalises each channel by the batch's mean and biased variance
 * over N x H x W, keeps the mean and 1/std for the backward pass (which
 * recomputes the normalised input from the layer's input, bit for bit as
 * the forward made it, instead of caching a copy as large as the input),
 * and moves the running estimates (with the unbiased variance) by momentum
 * 0.1. Evaluation uses the running estimates. Sums run in double so that
 * large feature maps keep float accuracy. Channels are independent, so the
 * passes split them over the OpenMP threads: the same sums in the same
 * order whatever the thread count.
 * Legend: N batch, C channels, H x W spatial, M = N*H*W values a channel. */
#include "nn/layers.h"

#include "nn/parallel.h"
#include "util/err.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The C-vector named "<prefix>.<what>", filled with value. */
static Param *add_vector(ParamList *pl, const char *prefix, const char *what, int with_grad,
                         int c, float value) {
    char name[PARAM_NAME_MAX];
    snprintf(name, sizeof name, "%s.%s", prefix, what);
    Param *p = param_add(pl, name, with_grad, 1, 1, &c);
    if (p)
        for (int i = 0; i < c; i++)
            p->data[i] = value;
    return p;
}

int batchnorm_setup(BatchNorm *l, ParamList *params, ParamList *buffers, const char *prefix,
                    int c, int zero_weight) {
    *l = (BatchNorm){.c = c};
    if (c < 1)
        return err_set(ERR_INVALID, "%s: batch norm of %d channels", prefix, c);

    /* Affine parameters, then the running statistics as buffers. */
    l->weight = add_vector(params, prefix, "weight", 1, c, zero_weight ? 0.0f : 1.0f);
    l->bias = add_vector(params, prefix, "bias", 1, c, 0.0f);
    l->running_mean = add_vector(buffers, prefix, "running_mean", 0, c, 0.0f);
    l->running_var = add_vector(buffers, prefix, "running_var", 0, c, 1.0f);
    if (!l->weight || !l->bias || !l->running_mean || !l->running_var)
        return ERR_NOMEM;

    /* The statistics of one training batch. */
    l->mean = malloc((size_t)c * sizeof *l->mean);
    l->rstd = malloc((size_t)c * sizeof *l->rstd);
    if (!l->mean || !l->rstd) {
        batchnorm_free(l);
        return err_set(ERR_NOMEM, "%s: out of memory", prefix);
    }
    return 0;
}

/* Mean and biased variance of channel c over the batch, two passes. Each
 * pass keeps LANES partial sums (element i goes to lane i % LANES of its
 * plane), which the compiler turns into vector adds, then adds the lanes;
 * the order is fixed, so the result is too. */
#define LANES 8

static double lanes_total(const double *acc) {
    double t = 0;
    for (int j = 0; j < LANES; j++)
        t += acc[j];
    return t;
}

/* Sum over channel c of x. */
static double channel_sum(const Tensor *x, int c) {
    size_t plane = (size_t)x->h * x->w, body = plane - plane % LANES;
    double acc[LANES] = {0}, tail = 0;
    for (int n = 0; n < x->n; n++) {
        const float *x_nc = x->data + ((size_t)n * x->c + c) * plane;
        for (size_t i = 0; i < body; i += LANES)
            for (int j = 0; j < LANES; j++)
                acc[j] += x_nc[i + j];
        for (size_t i = body; i < plane; i++)
            tail += x_nc[i];
    }
    return lanes_total(acc) + tail;
}

/* Sum over channel c of (x - mu)^2. */
static double channel_sqdev(const Tensor *x, int c, double mu) {
    size_t plane = (size_t)x->h * x->w, body = plane - plane % LANES;
    double sq[LANES] = {0}, tail = 0;
    for (int n = 0; n < x->n; n++) {
        const float *x_nc = x->data + ((size_t)n * x->c + c) * plane;
        for (size_t i = 0; i < body; i += LANES)
            for (int j = 0; j < LANES; j++)
                sq[j] += (x_nc[i + j] - mu) * (x_nc[i + j] - mu);
        for (size_t i = body; i < plane; i++)
            tail += (x_nc[i] - mu) * (x_nc[i] - mu);
    }
    return lanes_total(sq) + tail;
}

/* Training, per channel c over M values (biased var; unbiased var*M/(M-1)):
 *   mu, var = moments of x;  rstd = 1/sqrt(var + eps)
 *   xh = (x - mu) * rstd;  y = g*xh + b
 *   run_mean = 0.9*run_mean + 0.1*mu;  run_var = 0.9*run_var + 0.1*var*M/(M-1)
 * (torch.nn.BatchNorm2d.) With M = 1 PyTorch refuses to train; here the
 * unbiased variance falls back to the biased one (0). */
static void normalise_channel(BatchNorm *l, const Tensor *x, Tensor *y, int c, double mean,
                              double var, double m) {
    size_t plane = (size_t)x->h * x->w;
    l->mean[c] = (float)mean;
    l->rstd[c] = (float)(1.0 / sqrt(var + BN_EPS));

    /* Normalise, scale and shift. */
    float mu = l->mean[c], rstd = l->rstd[c];
    float g = l->weight->data[c], b = l->bias->data[c];
    for (int n = 0; n < x->n; n++) {
        size_t off = ((size_t)n * x->c + c) * plane;
        const float *xs = x->data + off;
        float *ys = y->data + off;
        for (size_t i = 0; i < plane; i++)
            ys[i] = g * ((xs[i] - mu) * rstd) + b;
    }

    /* Running estimates. */
    double bessel = m > 1 ? m / (m - 1) : 1.0;
    float *rm = &l->running_mean->data[c], *rv = &l->running_var->data[c];
    *rm = (1.0f - BN_MOMENTUM) * *rm + BN_MOMENTUM * (float)mean;
    *rv = (1.0f - BN_MOMENTUM) * *rv + BN_MOMENTUM * (float)(var * bessel);
}

static void forward_train(BatchNorm *l, const Tensor *x, Tensor *y) {
    size_t plane = (size_t)x->h * x->w, m = (size_t)x->n * plane;
    NN_PARALLEL_FOR_N(m * (size_t)l->c)
    for (int c = 0; c < l->c; c++) {
        double mean = channel_sum(x, c) / (double)m;
        normalise_channel(l, x, y, c, mean, channel_sqdev(x, c, mean) / (double)m, (double)m);
    }
}

/* The same over the batches of every process: the count and the channel
 * sums are summed over them, then the squared deviations from the common
 * mean (two passes, as above). sums: [count, sum_c..., sqdev_c...]. */
static void forward_train_sync(BatchNorm *l, const Tensor *x, Tensor *y) {
    size_t m = (size_t)x->n * x->h * x->w;
    double *sum = l->sums + 1, *sqdev = l->sums + 1 + l->c;
    l->sums[0] = (double)m;
    NN_PARALLEL_FOR_N(m * (size_t)l->c)
    for (int c = 0; c < l->c; c++)
        sum[c] = channel_sum(x, c);
    l->sync.fn(l->sync.ctx, l->sums, l->c + 1);
    l->count = l->sums[0];
    NN_PARALLEL_FOR_N(m * (size_t)l->c)
    for (int c = 0; c < l->c; c++)
        sqdev[c] = channel_sqdev(x, c, sum[c] / l->count);
    l->sync.fn(l->sync.ctx, sqdev, l->c);
    NN_PARALLEL_FOR_N(m * (size_t)l->c)
    for (int c = 0; c < l->c; c++)
        normalise_channel(l, x, y, c, sum[c] / l->count, sqdev[c] / l->count, l->count);
}

int batchnorm_set_sync(BatchNorm *l, BnSync sync) {
    free(l->sums);
    l->sums = NULL;
    l->sync = sync;
    if (sync.fn && !(l->sums = malloc((2 * (size_t)l->c + 1) * sizeof *l->sums))) {
        l->sync.fn = NULL;
        return err_set(ERR_NOMEM, "out of memory");
    }
    return ERR_OK;
}

/* Evaluation: y = g * (x - run_mean) / sqrt(run_var + eps) + b, then act
 * on each plane while it is in cache (ACT_NONE: none). */
static void forward_eval(const BatchNorm *l, const Tensor *x, ActKind act, Tensor *y) {
    size_t plane = (size_t)x->h * x->w;
    NN_PARALLEL_FOR_N(tensor_numel(x))
    for (int c = 0; c < l->c; c++) {
        float rstd = (float)(1.0 / sqrt((double)l->running_var->data[c] + BN_EPS));
        float scale = l->weight->data[c] * rstd;
        float shift = l->bias->data[c] - l->running_mean->data[c] * scale;
        for (int n = 0; n < x->n; n++) {
            size_t off = ((size_t)n * x->c + c) * plane;
            for (size_t i = 0; i < plane; i++)
                y->data[off + i] = x->data[off + i] * scale + shift;
            if (act != ACT_NONE)
                activation_span(act, y->data + off, y->data + off, plane);
        }
    }
}

void batchnorm_forward_eval_act(const BatchNorm *l, const Tensor *x, ActKind act, Tensor *y) {
    assert(x->c == l->c && tensor_numel(y) == tensor_numel(x));
    forward_eval(l, x, act, y);
}

void batchnorm_forward(BatchNorm *l, const Tensor *x, Tensor *y, int train) {
    assert(x->c == l->c && tensor_numel(y) == tensor_numel(x));
    if (train) {
        assert(y->data != x->data);     /* the backward pass reads x */
        if (l->sync.fn)
            forward_train_sync(l, x, y);
        else
            forward_train(l, x, y);
    } else {
        forward_eval(l, x, ACT_NONE, y);
    }
}

/* Backward of a training forward on the same x, per channel c over M values:
 *   dxh = dy*g;  dg += sum(dy*xh);  db += sum(dy)
 *   dx += rstd/M * (M*dxh - sum(dxh) - xh*sum(dxh*xh))
 * (differentiating xh through mu and var of the same batch). */

/* Sums over channel c of dy and of dy*xh, in lanes as channel_sum. */
static void grad_sums(const BatchNorm *l, const Tensor *x, const Tensor *dy, int c,
                      double *sum_dy, double *sum_dy_xh) {
    size_t plane = (size_t)dy->h * dy->w, body = plane - plane % LANES;
    float mu = l->mean[c], rstd = l->rstd[c];
    double acc_dy[LANES] = {0}, acc_dy_xh[LANES] = {0}, s_dy = 0, s_dy_xh = 0;
    for (int n = 0; n < dy->n; n++) {
        size_t off = ((size_t)n * dy->c + c) * plane;
        const float *xs = x->data + off, *g = dy->data + off;
        for (size_t i = 0; i < body; i += LANES)
            for (int j = 0; j < LANES; j++) {
                acc_dy[j] += g[i + j];
                acc_dy_xh[j] += (double)g[i + j] * ((xs[i + j] - mu) * rstd);
            }
        for (size_t i = body; i < plane; i++) {
            s_dy += g[i];
            s_dy_xh += (double)g[i] * ((xs[i] - mu) * rstd);
        }
    }
    *sum_dy = s_dy + lanes_total(acc_dy);
    *sum_dy_xh = s_dy_xh + lanes_total(acc_dy_xh);
}

/* With dxh = g*dy: sum(dxh) = g*sum_dy, sum(dxh*xh) = g*sum_dy_xh. */
static void channel_dx(const BatchNorm *l, const Tensor *x, const Tensor *dy, Tensor *dx, int c,
                       double sum_dy, double sum_dy_xh, double m) {
    size_t plane = (size_t)dy->h * dy->w;
    float mu = l->mean[c], rstd = l->rstd[c];
    float k = l->weight->data[c] * rstd;
    float mean_dy = (float)(sum_dy / m), mean_dy_xh = (float)(sum_dy_xh / m);
    for (int n = 0; n < dy->n; n++) {
        size_t off = ((size_t)n * dy->c + c) * plane;
        const float *xs = x->data + off, *g = dy->data + off;
        float *d = dx->data + off;
        for (size_t i = 0; i < plane; i++)
            d[i] += k * (g[i] - mean_dy - ((xs[i] - mu) * rstd) * mean_dy_xh);
    }
}

/* Synchronised: each process adds its own sums to the parameters'
 * gradients (the gradient averaging sums those over the processes), and
 * dx uses the sums over all of them, as the statistics did. */
static void backward_sync(BatchNorm *l, const Tensor *x, const Tensor *dy, Tensor *dx) {
    size_t m = (size_t)dy->n * dy->h * dy->w;
    double *s_dy = l->sums, *s_dy_xh = l->sums + l->c;
    NN_PARALLEL_FOR_N(m * (size_t)l->c)
    for (int c = 0; c < l->c; c++) {
        grad_sums(l, x, dy, c, &s_dy[c], &s_dy_xh[c]);
        l->weight->grad[c] += (float)s_dy_xh[c];
        l->bias->grad[c] += (float)s_dy[c];
    }
    if (!dx)
        return;
    l->sync.fn(l->sync.ctx, l->sums, 2 * l->c);
    NN_PARALLEL_FOR_N(m * (size_t)l->c)
    for (int c = 0; c < l->c; c++)
        channel_dx(l, x, dy, dx, c, s_dy[c], s_dy_xh[c], l->count);
}

void batchnorm_backward(BatchNorm *l, const Tensor *x, const Tensor *dy, Tensor *dx) {
    assert(dy->c == l->c && tensor_numel(dy) == tensor_numel(x));
    assert(!dx || tensor_numel(dx) == tensor_numel(dy));
    if (l->sync.fn) {
        backward_sync(l, x, dy, dx);
        return;
    }
    size_t m = (size_t)dy->n * dy->h * dy->w;
    NN_PARALLEL_FOR_N(m * (size_t)l->c)
    for (int c = 0; c < l->c; c++) {
        double sum_dy, sum_dy_xh;
        grad_sums(l, x, dy, c, &sum_dy, &sum_dy_xh);
        l->weight->grad[c] += (float)sum_dy_xh;
        l->bias->grad[c] += (float)sum_dy;
        if (dx)
            channel_dx(l, x, dy, dx, c, sum_dy, sum_dy_xh, (double)m);
    }
}

void batchnorm_free(BatchNorm *l) {
    free(l->mean);
    free(l->rstd);
    free(l->sums);
    l->mean = l->rstd = NULL;
    l->sums = NULL;
}
