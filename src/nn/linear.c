/* Fully connected layer with bias, torch.nn.Linear: the head's classifier.
 *
 * The products are the backend's gemm on row-major matrices: the input is
 * N x F_in (a C x H x W sample read as F_in = C*H*W features), the weight
 * F_out x F_in, as in PyTorch, so checkpoints map one to one.
 * Legend: N batch, F_in / F_out features in / out. */
#include "nn/layers.h"

#include "util/err.h"

#include <assert.h>
#include <stdio.h>

int linear_setup(Linear *l, ParamList *params, const char *prefix, int in, int out) {
    if (in < 1 || out < 1)
        return err_set(ERR_INVALID, "%s: linear layer %d -> %d features", prefix, in, out);
    *l = (Linear){.in = in, .out = out};

    /* Weight F_out x F_in (decayed), bias F_out (not decayed). */
    char name[PARAM_NAME_MAX];
    int w_shape[2] = {out, in};
    snprintf(name, sizeof name, "%s.weight", prefix);
    l->weight = param_add(params, name, 1, 0, 2, w_shape);
    snprintf(name, sizeof name, "%s.bias", prefix);
    l->bias = l->weight ? param_add(params, name, 1, 1, 1, &out) : NULL;
    return l->bias ? 0 : ERR_NOMEM;
}

/* Forward:  y = x W^T + b                       (N x F_out)
 * Backward: dW += dy^T x;  db += sum over n of dy;  dx += dy W */
void linear_forward(const Linear *l, const Backend *be, const Tensor *x, Tensor *y) {
    assert(tensor_sample(x) == (size_t)l->in && tensor_sample(y) == (size_t)l->out);
    assert(y->n == x->n);
    be->gemm(0, 1, x->n, l->out, l->in, 1.0f, x->data, l->weight->data, 0.0f, y->data);
    for (int n = 0; n < x->n; n++)
        for (int o = 0; o < l->out; o++)
            y->data[(size_t)n * l->out + o] += l->bias->data[o];
}

void linear_backward(const Linear *l, const Backend *be, const Tensor *x, const Tensor *dy,
                     Tensor *dx) {
    assert(tensor_sample(x) == (size_t)l->in && tensor_sample(dy) == (size_t)l->out);
    assert(dy->n == x->n && (!dx || tensor_numel(dx) == tensor_numel(x)));

    /* Weight and bias gradients. */
    be->gemm(1, 0, l->out, l->in, x->n, 1.0f, dy->data, x->data, 1.0f, l->weight->grad);
    for (int o = 0; o < l->out; o++) {
        double sum = 0;
        for (int n = 0; n < dy->n; n++)
            sum += dy->data[(size_t)n * l->out + o];
        l->bias->grad[o] += (float)sum;
    }

    /* Input gradient. */
    if (dx)
        be->gemm(0, 0, x->n, l->in, l->out, 1.0f, dy->data, l->weight->data, 1.0f, dx->data);
}
