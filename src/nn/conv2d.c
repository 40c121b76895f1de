/* 2-D convolution with an optional per-channel bias (layers.h).
 *
 * The products themselves are the backend's (backend.h): this file fixes
 * the geometry, checks shapes, and adds the bias, which the kernels leave
 * out. Padding is always (K - 1) / 2, as the reference's ConvLayer (spec
 * §3.1); weights are left at zero for the model to initialise (§3.8).
 * Legend: N batch, CI / CO channels in / out, H x W in, OH x OW out,
 * K kernel side, G groups. */
#include "nn/layers.h"

#include "util/err.h"

#include <assert.h>
#include <stdio.h>

int conv2d_setup(Conv2d *l, ParamList *params, const char *prefix, int ci, int co, int k,
                 int stride, int groups, int bias) {
    if (ci < 1 || co < 1 || k < 1 || stride < 1 || groups < 1 || ci % groups || co % groups)
        return err_set(ERR_INVALID, "%s: no convolution %d -> %d channels, %dx%d kernel, "
                       "stride %d, %d groups", prefix, ci, co, k, k, stride, groups);
    *l = (Conv2d){.ci = ci, .co = co, .k = k, .stride = stride, .pad = (k - 1) / 2,
                  .groups = groups};

    /* Weight CO x CI/G x K x K (decayed), then the bias CO (not decayed). */
    char name[PARAM_NAME_MAX];
    int w_shape[4] = {co, ci / groups, k, k};
    snprintf(name, sizeof name, "%s.weight", prefix);
    l->weight = param_add(params, name, 1, 0, 4, w_shape);
    if (!l->weight)
        return ERR_NOMEM;
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", prefix);
        l->bias = param_add(params, name, 1, 1, 1, &co);
        if (!l->bias)
            return ERR_NOMEM;
    }
    return 0;
}

void conv2d_geom(const Conv2d *l, const Tensor *x, ConvGeom *g) {
    *g = (ConvGeom){.n = x->n, .ci = x->c, .h = x->h, .w = x->w, .co = l->co, .k = l->k,
                    .stride = l->stride, .pad = l->pad, .groups = l->groups};
    conv_geom_finish(g);
}

/* y[n, co] = conv(x[n], w[co]) + b[co]; the backend's comment gives the sum. */
void conv2d_forward(const Conv2d *l, const Backend *be, const Tensor *x, Tensor *y) {
    ConvGeom g;
    conv2d_geom(l, x, &g);
    assert(x->c == l->ci && y->n == x->n && y->c == l->co && y->h == g.oh && y->w == g.ow);
    be->conv2d_forward(&g, x->data, l->weight->data, y->data);
    if (!l->bias)
        return;

    /* The bias is one constant per output plane. */
    size_t plane = (size_t)g.oh * g.ow;
    for (int n = 0; n < y->n; n++)
        for (int co = 0; co < l->co; co++) {
            float b = l->bias->data[co], *y_nc = y->data + ((size_t)n * l->co + co) * plane;
            for (size_t i = 0; i < plane; i++)
                y_nc[i] += b;
        }
}

/* Backward of y = conv(x, w) + b:
 *   dx += conv_transpose(dy, w);  dw += correlation of x with dy;
 *   db[co] += sum over n, oy, ox of dy[n, co, oy, ox]. */
void conv2d_backward(const Conv2d *l, const Backend *be, const Tensor *x, const Tensor *dy,
                     Tensor *dx) {
    ConvGeom g;
    conv2d_geom(l, x, &g);
    assert(dy->n == x->n && dy->c == l->co && dy->h == g.oh && dy->w == g.ow);
    assert(!dx || tensor_numel(dx) == tensor_numel(x));

    /* Input and weight gradients: the backend's two adjoint kernels. */
    if (dx)
        be->conv2d_backward_data(&g, dy->data, l->weight->data, dx->data);
    be->conv2d_backward_weight(&g, x->data, dy->data, l->weight->grad);
    if (!l->bias)
        return;

    /* Bias gradient: each output plane's sum, accumulated in double. */
    size_t plane = (size_t)g.oh * g.ow;
    for (int co = 0; co < l->co; co++) {
        double sum = 0;
        for (int n = 0; n < dy->n; n++) {
            const float *dy_nc = dy->data + ((size_t)n * l->co + co) * plane;
            for (size_t i = 0; i < plane; i++)
                sum += dy_nc[i];
        }
        l->bias->grad[co] += (float)sum;
    }
}
