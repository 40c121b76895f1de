/* Elementwise nonlinearities: ReLU, Mish (spec §3.1) and the sigmoid.
 *
 * Everything is float, written so that no |x| (1e4 and beyond) makes an
 * inf or NaN: the sigmoid only exponentiates non-positive numbers, and
 * Mish only numbers in [-87, 20] (PyTorch's softplus threshold), with an
 * exponential of its own that vectorises. ReLU and the
 * sigmoid differentiate through their output, so they may run in place;
 * Mish needs its input. Long arrays are split over the OpenMP threads
 * (nn/parallel.h).
 * Legend: any N x C x H x W, treated as one flat array. */
#include "nn/layers.h"
#include "nn/parallel.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* PyTorch's softplus returns x itself above this (beta 1). */
#define SOFTPLUS_THRESHOLD 20.0f

static float sigmoid(float x) {
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* e^x for x in [EXP_LO, SOFTPLUS_THRESHOLD], branch-free so that the loops
 * calling it vectorise: x = k ln2 + r with k = round(x / ln2) (adding and
 * subtracting 1.5 * 2^23 rounds to nearest), ln2 in two parts so that
 * k * ln2_hi is exact, |r| <= ln2 / 2, e^r by its Taylor polynomial of
 * degree 7 (truncation below 6e-9 relative) and 2^k built in the float's
 * exponent bits, read off k + 1.5 * 2^23 + 127 as unsigned integers.
 * Within 2 ulp of expf. Outside the range the result is meaningless but
 * nothing is undefined; mish_exp masks it. (Clamping x from below here
 * instead, a second compare in the loop, made GCC's vector code 12 times
 * slower.) */
#define EXP_LO (-87.0f)

static inline __attribute__((always_inline)) float exp_bounded(float x) {
    const float round = 12582912.0f;
    float k = (x * 1.44269504f + round) - round;
    float r = (x - k * 0.693145751953125f) - k * 1.42860677e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    float biased = k + (round + 127.0f);
    uint32_t bits;
    memcpy(&bits, &biased, sizeof bits);
    bits = (bits - 0x4B400000u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* tanh(softplus(x)), 1 - tanh(softplus(x))^2 and sigmoid(x) from one
 * exponential e = e^x (mish_exp):
 *   tanh(ln(1 + e)) = ((1+e)^2 - 1) / ((1+e)^2 + 1) = t / (t + 2), t = e(e + 2)
 *   1 - tanh^2 = (1 - tanh)(1 + tanh) = 2 / (t + 2) * (1 + tanh)
 *   sigmoid(x) = e / (1 + e)
 * (the second form keeps the slope accurate where tanh is near 1). Above
 * the softplus threshold, softplus(x) = x: x clamped to 20 makes tanh and
 * sigmoid exactly 1 in float (t = 2.4e17, far inside float's range), and
 * the slope's second term takes the clamped x, so that it is 0 there too,
 * not x * 1e-17. Below EXP_LO, e is taken as 0 (it is under 2e-38). A NaN
 * input comes out NaN through y = x * tanh, so a diverging run still shows
 * in its loss. */
static inline __attribute__((always_inline)) float mish_clamp(float x) {
    return x < SOFTPLUS_THRESHOLD ? x : SOFTPLUS_THRESHOLD;
}

static inline __attribute__((always_inline)) float mish_exp(float x, float xc) {
    float e = exp_bounded(xc);
    return x > EXP_LO ? e : 0.0f;
}

/* Mish over one span, compiled for AVX2 and for any x86-64 (picked when the
 * program loads; the same IEEE operations, so the same bits either way). */
NN_SIMD_CLONES
static void mish_forward_span(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float e = mish_exp(x[i], mish_clamp(x[i])), t = e * (e + 2.0f);
        y[i] = x[i] * (t / (t + 2.0f));
    }
}

NN_SIMD_CLONES
static void mish_backward_span(const float *x, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float xc = mish_clamp(x[i]), e = mish_exp(x[i], xc), t = e * (e + 2.0f);
        float tanh_sp = t / (t + 2.0f), sech2 = 2.0f / (t + 2.0f) * (1.0f + tanh_sp);
        dx[i] += dy[i] * (tanh_sp + xc * (e / (1.0f + e)) * sech2);
    }
}

/* The spans a loop over n elements is cut into for the threads. */
#define SPAN 4096

/* ReLU:    y = max(x, 0);            dx += dy * (y > 0)   (0 at x = 0, as PyTorch)
 * sigmoid: y = 1 / (1 + e^-x);       dx += dy * y * (1 - y)
 * Mish:    y = x * tanh(sp(x)), sp(x) = ln(1 + e^x) (x when x > 20);
 *          dx += dy * (tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2))
 *          (Misra 2019, "Mish"; fastai's MishJitAutoFn backward). */
void activation_span(ActKind act, const float *x, float *y, size_t n) {
    switch (act) {
    case ACT_NONE:
        if (y != x)
            memmove(y, x, n * sizeof *y);
        break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case ACT_MISH: mish_forward_span(x, y, n); break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = sigmoid(x[i]);
        break;
    }
}

void activation_forward(ActKind act, const Tensor *x, Tensor *y) {
    size_t n = tensor_numel(x);
    assert(tensor_numel(y) == n);
    const float *xd = x->data;
    float *yd = y->data;
    NN_PARALLEL_FOR_N(n)
    for (size_t i = 0; i < n; i += SPAN)
        activation_span(act, xd + i, yd + i, n - i < SPAN ? n - i : SPAN);
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
        NN_PARALLEL_FOR_N(n)
        for (size_t i = 0; i < n; i++)
            dxd[i] += g[i];
        break;
    case ACT_RELU:
        NN_PARALLEL_FOR_N(n)
        for (size_t i = 0; i < n; i++) {
            float gi = g[i];    /* read unconditionally, so that the loop vectorises */
            dxd[i] += yd[i] > 0.0f ? gi : 0.0f;
        }
        break;
    case ACT_MISH:
        NN_PARALLEL_FOR_N(n)
        for (size_t i = 0; i < n; i += SPAN)
            mish_backward_span(xd + i, g + i, dxd + i, n - i < SPAN ? n - i : SPAN);
        break;
    case ACT_SIGMOID:
        NN_PARALLEL_FOR_N(n)
        for (size_t i = 0; i < n; i++)
            dxd[i] += g[i] * yd[i] * (1.0f - yd[i]);
        break;
    }
}
