/* SimpleSelfAttention (spec §3.7): y = gamma * (X X^T) (W X) + X per
 * sample, with W the spectrally normalised (optionally symmetrised) weight
 * of a 1x1 Conv1d, PyTorch's classic spectral_norm with one power
 * iteration per training forward. The backward pass goes through the
 * normalisation with u and v held constant, as autograd does in PyTorch.
 * All matrix products are the backend's gemm.
 * Legend: N batch, C channels, P = H*W positions; per sample X is C x P. */
#include "nn/layers.h"

#include "util/err.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* torch.nn.utils.spectral_norm's eps: normalize(t) = t / max(|t|, eps). */
#define SPECTRAL_EPS 1e-12

/* The cache block holds, for a pass over n samples of p positions:
 * A (n x C x C), O (n x C x P), then scratch Y and dY (C x P each) and
 * dA and dW (C x C each). It is laid out afresh for each call's n and p,
 * so one number, cache_cap (the size for max_n and max_hw), bounds them. */
static size_t cache_need(size_t c, size_t n, size_t p) {
    return n * c * c + n * c * p + 2 * c * p + 2 * c * c;
}

static void carve(SelfAttention *l, int n, size_t p) {
    size_t c = (size_t)l->c;
    assert(cache_need(c, (size_t)n, p) <= l->cache_cap);
    l->o = l->a + (size_t)n * c * c;
    l->tmp = l->o + (size_t)n * c * p;
}

/* A C-vector buffer of unit length in a random direction. */
static Param *add_unit_vector(ParamList *pl, const char *prefix, const char *what, int c,
                              Rng *rng) {
    char name[PARAM_NAME_MAX];
    snprintf(name, sizeof name, "%s.conv.%s", prefix, what);
    Param *p = param_add(pl, name, 0, 1, 1, &c);
    if (!p)
        return NULL;
    double sq = 0;
    for (int i = 0; i < c; i++) {
        p->data[i] = (float)rng_normal(rng);
        sq += (double)p->data[i] * p->data[i];
    }
    double scale = 1.0 / fmax(sqrt(sq), SPECTRAL_EPS);
    for (int i = 0; i < c; i++)
        p->data[i] = (float)(p->data[i] * scale);
    return p;
}

int attention_setup(SelfAttention *l, ParamList *params, ParamList *buffers,
                    const char *prefix, int c, int sym, int max_n, int max_hw, Rng *rng) {
    *l = (SelfAttention){.c = c, .sym = sym != 0};
    if (c < 1 || max_n < 1 || max_hw < 1)
        return err_set(ERR_INVALID, "%s: self-attention over %d channels, %d samples of %d "
                       "positions", prefix, c, max_n, max_hw);

    /* gamma, then the weight (PyTorch's parameter order), then u and v. */
    char name[PARAM_NAME_MAX];
    int one = 1, w_shape[3] = {c, c, 1};
    snprintf(name, sizeof name, "%s.gamma", prefix);
    l->gamma = param_add(params, name, 1, 0, 1, &one);
    snprintf(name, sizeof name, "%s.conv.weight_orig", prefix);
    l->weight = l->gamma ? param_add(params, name, 1, 0, 3, w_shape) : NULL;
    l->u = l->weight ? add_unit_vector(buffers, prefix, "weight_u", c, rng) : NULL;
    l->v = l->u ? add_unit_vector(buffers, prefix, "weight_v", c, rng) : NULL;
    if (!l->v)
        return ERR_NOMEM;

    /* The normalised weight and the cache block. */
    l->cache_cap = cache_need((size_t)c, (size_t)max_n, (size_t)max_hw);
    l->w_norm = malloc((size_t)c * c * sizeof *l->w_norm);
    l->a = malloc(l->cache_cap * sizeof *l->a);
    if (!l->w_norm || !l->a) {
        attention_free(l);
        return err_set(ERR_NOMEM, "%s: out of memory for the attention caches", prefix);
    }
    return 0;
}

/* t <- t / max(|t|, eps) for a C-vector. */
static void normalize(float *t, int c) {
    double sq = 0;
    for (int i = 0; i < c; i++)
        sq += (double)t[i] * t[i];
    double scale = 1.0 / fmax(sqrt(sq), SPECTRAL_EPS);
    for (int i = 0; i < c; i++)
        t[i] = (float)(t[i] * scale);
}

/* Spectral normalisation (Miyato et al. 2018; torch.nn.utils.spectral_norm)
 * of the C x C weight W_orig, with unit vectors u, v:
 *   training only:  v <- normalize(W_orig^T u);  u <- normalize(W_orig v)
 *   sigma = u^T W_orig v;  W = W_orig / sigma;  sym: W <- (W + W^T) / 2
 * wv is C floats of scratch. sym follows spec §3.7. In fastai itself the
 * symmetrised weight is assigned to conv.weight and then overwritten by
 * spectral_norm's pre-forward hook, so there --sym changes nothing. */
static void spectral_norm(SelfAttention *l, const Backend *be, int train, float *wv) {
    int c = l->c;
    const float *w = l->weight->data;
    float *u = l->u->data, *v = l->v->data;
    if (train) {
        be->gemm(1, 0, c, 1, c, 1.0f, w, u, 0.0f, v);
        normalize(v, c);
        be->gemm(0, 0, c, 1, c, 1.0f, w, v, 0.0f, u);
        normalize(u, c);
    }

    /* sigma, then the normalised weight. */
    be->gemm(0, 0, c, 1, c, 1.0f, w, v, 0.0f, wv);
    double sigma = 0;
    for (int i = 0; i < c; i++)
        sigma += (double)u[i] * wv[i];
    l->sigma = (float)sigma;
    for (size_t i = 0; i < (size_t)c * c; i++)
        l->w_norm[i] = w[i] / l->sigma;
    if (!l->sym)
        return;
    for (int i = 0; i < c; i++)
        for (int j = 0; j < i; j++) {
            float mean = 0.5f * (l->w_norm[i * c + j] + l->w_norm[j * c + i]);
            l->w_norm[i * c + j] = l->w_norm[j * c + i] = mean;
        }
}

/* Forward, per sample (spec §3.7 steps 3-4), caching A and O:
 *   Y = W X;  A = X X^T;  O = A Y;  out = gamma * O + X */
void attention_forward(SelfAttention *l, const Backend *be, const Tensor *x, Tensor *y,
                       int train) {
    int c = l->c;
    size_t p = (size_t)x->h * x->w, cp = (size_t)c * p;
    assert(x->c == c && tensor_numel(y) == tensor_numel(x) && y->data != x->data);
    carve(l, x->n, p);
    float *y_buf = l->tmp, *wv = l->tmp + 2 * cp;
    spectral_norm(l, be, train, wv);

    float gamma = l->gamma->data[0];
    for (int n = 0; n < x->n; n++) {
        const float *x_n = x->data + n * cp;
        float *a_n = l->a + (size_t)n * c * c, *o_n = l->o + n * cp, *out_n = y->data + n * cp;
        be->gemm(0, 0, c, (int)p, c, 1.0f, l->w_norm, x_n, 0.0f, y_buf);
        be->gemm(0, 1, c, c, (int)p, 1.0f, x_n, x_n, 0.0f, a_n);
        be->gemm(0, 0, c, (int)p, c, 1.0f, a_n, y_buf, 0.0f, o_n);
        for (size_t i = 0; i < cp; i++)
            out_n[i] = gamma * o_n[i] + x_n[i];
    }
}

/* dL/dX of one sample, given D = dL/dout and dY = gamma A D:
 *   dA = gamma D Y^T (Y recomputed);  dX += D + W^T dY + (dA + dA^T) X */
static void input_grad(SelfAttention *l, const Backend *be, const float *x_n,
                       const float *d_n, const float *dy, float *dx_n, size_t p) {
    int c = l->c;
    float *y_buf = l->tmp, *da = l->tmp + 2 * (size_t)c * p;
    float gamma = l->gamma->data[0];
    be->gemm(0, 0, c, (int)p, c, 1.0f, l->w_norm, x_n, 0.0f, y_buf);
    be->gemm(0, 1, c, c, (int)p, gamma, d_n, y_buf, 0.0f, da);

    /* da becomes dA + dA^T, in place. */
    for (int i = 0; i < c; i++)
        for (int j = 0; j <= i; j++) {
            float s = da[i * c + j] + da[j * c + i];
            da[i * c + j] = da[j * c + i] = s;
        }

    /* The three paths to X: the residual, through Y, through A. */
    for (size_t i = 0; i < (size_t)c * p; i++)
        dx_n[i] += d_n[i];
    be->gemm(1, 0, c, (int)p, c, 1.0f, l->w_norm, dy, 1.0f, dx_n);
    be->gemm(0, 0, c, (int)p, c, 1.0f, da, x_n, 1.0f, dx_n);
}

/* From G = dL/dW (summed over the batch) to dL/dW_orig, u and v constant:
 *   sym:  G <- (G + G^T) / 2
 *   dW_orig += G / sigma - sum(G o W_orig) / sigma^2 * u v^T */
static void weight_grad(SelfAttention *l, float *g) {
    int c = l->c;
    if (l->sym)
        for (int i = 0; i < c; i++)
            for (int j = 0; j < i; j++) {
                float mean = 0.5f * (g[i * c + j] + g[j * c + i]);
                g[i * c + j] = g[j * c + i] = mean;
            }

    double g_dot_w = 0;
    for (size_t i = 0; i < (size_t)c * c; i++)
        g_dot_w += (double)g[i] * l->weight->data[i];
    double sigma = l->sigma, k = g_dot_w / (sigma * sigma);
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++)
            l->weight->grad[i * c + j] += (float)(g[i * c + j] / sigma
                                                  - k * l->u->data[i] * l->v->data[j]);
}

/* Backward, per sample with D = dL/dout (spec §3.7, plain matrix calculus):
 *   dgamma += sum(O o D);  dY = gamma A D  (A symmetric);  dW += dY X^T
 * then dX (input_grad) and dW_orig (weight_grad). Needs a training
 * forward's caches. */
void attention_backward(SelfAttention *l, const Backend *be, const Tensor *x, const Tensor *dy,
                        Tensor *dx) {
    int c = l->c;
    size_t p = (size_t)x->h * x->w, cp = (size_t)c * p;
    assert(x->c == c && tensor_numel(dy) == tensor_numel(x));
    assert(!dx || tensor_numel(dx) == tensor_numel(x));
    carve(l, x->n, p);
    float *dy_buf = l->tmp + cp, *dw = l->tmp + 2 * cp + (size_t)c * c;
    float gamma = l->gamma->data[0];
    memset(dw, 0, (size_t)c * c * sizeof *dw);

    double dgamma = 0;
    for (int n = 0; n < x->n; n++) {
        const float *x_n = x->data + n * cp, *d_n = dy->data + n * cp;
        const float *a_n = l->a + (size_t)n * c * c, *o_n = l->o + n * cp;
        for (size_t i = 0; i < cp; i++)
            dgamma += (double)o_n[i] * d_n[i];
        be->gemm(0, 0, c, (int)p, c, gamma, a_n, d_n, 0.0f, dy_buf);
        be->gemm(0, 1, c, c, (int)p, 1.0f, dy_buf, x_n, 1.0f, dw);
        if (dx)
            input_grad(l, be, x_n, d_n, dy_buf, dx->data + n * cp, p);
    }
    l->gamma->grad[0] += (float)dgamma;
    weight_grad(l, dw);
}

void attention_free(SelfAttention *l) {
    free(l->w_norm);
    free(l->a);
    l->w_norm = l->a = l->o = l->tmp = NULL;
    l->cache_cap = 0;
}
