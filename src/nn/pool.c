/* Pooling: max and average windows (through the backend) and the global
 * average pool of the head and of squeeze-and-excitation.
 *
 * Window geometry follows PyTorch's MaxPool2d / AvgPool2d, ceil mode
 * included (pool_geom_finish); padding never enters an average, which is
 * PyTorch's count_include_pad only where pad = 0, as everywhere in the
 * xresnet. Max pooling caches each output's argmax for the backward pass.
 * Legend: N batch, C channels, H x W in, OH x OW out, K window side. */
#include "nn/layers.h"

#include "util/err.h"

#include <assert.h>
#include <stdlib.h>

int pool2d_setup(Pool2d *l, PoolKind kind, int k, int stride, int pad, int ceil_mode,
                 size_t max_out_numel) {
    *l = (Pool2d){.kind = kind, .k = k, .stride = stride, .pad = pad, .ceil_mode = ceil_mode};

    /* PyTorch's own limits: a window of at least 1, padding at most half. */
    if (k < 1 || stride < 1 || pad < 0 || 2 * pad > k)
        return err_set(ERR_INVALID, "pooling window %dx%d, stride %d, padding %d: expected "
                       "k >= 1, stride >= 1 and 0 <= padding <= k/2", k, k, stride, pad);
    if (kind != POOL_MAX)
        return 0;
    l->argmax = malloc((max_out_numel ? max_out_numel : 1) * sizeof *l->argmax);
    if (!l->argmax)
        return err_set(ERR_NOMEM, "out of memory for %zu pooling indices", max_out_numel);
    l->argmax_cap = max_out_numel;
    return 0;
}

void pool2d_geom(const Pool2d *l, const Tensor *x, PoolGeom *g) {
    *g = (PoolGeom){.n = x->n, .c = x->c, .h = x->h, .w = x->w, .k = l->k,
                    .stride = l->stride, .pad = l->pad, .ceil_mode = l->ceil_mode};
    pool_geom_finish(g);
}

/* Max:     y = max over the window;  argmax cached;  dx[argmax] += dy
 * Average: y = mean over the window's cells inside x;  dx += dy / cells
 * (torch.nn.MaxPool2d, torch.nn.AvgPool2d; loops in backend_ref.c). */
void pool2d_forward(Pool2d *l, const Backend *be, const Tensor *x, Tensor *y) {
    PoolGeom g;
    pool2d_geom(l, x, &g);
    assert(y->n == x->n && y->c == x->c && y->h == g.oh && y->w == g.ow);
    if (l->kind == POOL_MAX) {
        assert(tensor_numel(y) <= l->argmax_cap);
        be->maxpool_forward(&g, x->data, y->data, l->argmax);
    } else {
        be->avgpool_forward(&g, x->data, y->data);
    }
}

/* dx's shape is the forward's input, dy's its output. */
void pool2d_backward(const Pool2d *l, const Backend *be, const Tensor *dy, Tensor *dx) {
    if (!dx)
        return;
    PoolGeom g;
    pool2d_geom(l, dx, &g);
    assert(dy->n == dx->n && dy->c == dx->c && dy->h == g.oh && dy->w == g.ow);
    if (l->kind == POOL_MAX) {
        assert(tensor_numel(dy) <= l->argmax_cap);
        be->maxpool_backward(&g, dy->data, l->argmax, dx->data);
    } else {
        be->avgpool_backward(&g, dy->data, dx->data);
    }
}

void pool2d_free(Pool2d *l) {
    free(l->argmax);
    l->argmax = NULL;
    l->argmax_cap = 0;
}

/* Global average (torch.nn.AdaptiveAvgPool2d(1)), per plane of P = H*W:
 *   y[n, c] = sum(x[n, c, :, :]) / P;   dx[n, c, :, :] += dy[n, c] / P */
void global_avgpool_forward(const Tensor *x, Tensor *y) {
    size_t plane = (size_t)x->h * x->w, planes = (size_t)x->n * x->c;
    assert(y->n == x->n && y->c == x->c && y->h == 1 && y->w == 1);
    for (size_t nc = 0; nc < planes; nc++) {
        const float *x_nc = x->data + nc * plane;
        double sum = 0;
        for (size_t i = 0; i < plane; i++)
            sum += x_nc[i];
        y->data[nc] = (float)(sum / (double)plane);
    }
}

void global_avgpool_backward(const Tensor *dy, Tensor *dx) {
    if (!dx)
        return;
    size_t plane = (size_t)dx->h * dx->w, planes = (size_t)dx->n * dx->c;
    assert(tensor_numel(dy) == planes);
    for (size_t nc = 0; nc < planes; nc++) {
        float share = dy->data[nc] / (float)plane, *dx_nc = dx->data + nc * plane;
        for (size_t i = 0; i < plane; i++)
            dx_nc[i] += share;
    }
}
