/* Elementwise nonlinearities: ReLU, Mish (spec §3.1) and the sigmoid.
 *
 * Everything is float, written so that no |x| (1e4 and beyond) makes an
 * inf or NaN: the sigmoid only exponentiates non-positive numbers, and
 * Mish only numbers below PyTorch's softplus threshold of 20. ReLU and the
 * sigmoid differentiate through their output, so they may run in place;
 * Mish needs its input.
 * Legend: any N x C x H x W, treated as one flat array. */
#include "nn/layers.h"

#include <assert.h>
#include <math.h>

/* PyTorch's softplus returns x itself above this (beta 1). */
#define SOFTPLUS_THRESHOLD 20.0f

static float sigmoid(float x) {
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* tanh(softplus(x)) and sigmoid(x) from one exponential n = e^x:
 *   tanh(ln(1 + n)) = ((1+n)^2 - 1) / ((1+n)^2 + 1) = t / (t + 2), t = n(n + 2)
 *   sigmoid(x) = n / (1 + n)
 * Above the softplus threshold, softplus(x) = x and both are 1 in float.
 * At x = 20, t is 2.4e17, far inside float's range. */
static void mish_parts(float x, float *tsp, float *sig) {
    if (x > SOFTPLUS_THRESHOLD) {
        *tsp = 1.0f;
        *sig = 1.0f;
        return;
    }
    float n = expf(x), t = n * (n + 2.0f);
    *tsp = t / (t + 2.0f);
    *sig = n / (1.0f + n);
}

/* ReLU:    y = max(x, 0);            dx += dy * (y > 0)   (0 at x = 0, as PyTorch)
 * sigmoid: y = 1 / (1 + e^-x);       dx += dy * y * (1 - y)
 * Mish:    y = x * tanh(sp(x)), sp(x) = ln(1 + e^x) (x when x > 20);
 *          dx += dy * (tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2))
 *          (Misra 2019, "Mish"; fastai's MishJitAutoFn backward). */
void activation_forward(ActKind act, const Tensor *x, Tensor *y) {
    size_t n = tensor_numel(x);
    assert(tensor_numel(y) == n);
    const float *xd = x->data;
    float *yd = y->data;
    switch (act) {
    case ACT_NONE:
        for (size_t i = 0; i < n; i++)
            yd[i] = xd[i];
        break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            yd[i] = xd[i] > 0.0f ? xd[i] : 0.0f;
        break;
    case ACT_MISH:
        for (size_t i = 0; i < n; i++) {
            float tsp, sig;
            mish_parts(xd[i], &tsp, &sig);
            yd[i] = xd[i] * tsp;
        }
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            yd[i] = sigmoid(xd[i]);
        break;
    }
}

void activation_backward(ActKind act, const Tensor *x, const Tensor *y, const Tensor *dy,
                         Tensor *dx) {
    size_t n = tensor_numel(dy);
    if (!dx)
        return;
    assert(tensor_numel(dx) == n && tensor_numel(y) == n && tensor_numel(x) == n);
    const float *xd = x->data, *yd = y->data, *g = dy->data;
    float *dxd = dx->data;
    switch (act) {
    case ACT_NONE:
        for (size_t i = 0; i < n; i++)
            dxd[i] += g[i];
        break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dxd[i] += yd[i] > 0.0f ? g[i] : 0.0f;
        break;
    case ACT_MISH:
        for (size_t i = 0; i < n; i++) {
            float t, sig;
            mish_parts(xd[i], &t, &sig);
            dxd[i] += g[i] * (t + xd[i] * sig * (1.0f - t * t));
        }
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            dxd[i] += g[i] * yd[i] * (1.0f - yd[i]);
        break;
    }
}
