/* Layers that join two tensors: the residual sum and the per-channel scale
 * of squeeze-and-excitation (spec §3.3, §3.6).
 *
 * Both are elementwise, so the output may be one of the inputs. A NULL
 * gradient tensor in a backward pass is one that needs no gradient. Long
 * arrays are split over the OpenMP threads (nn/parallel.h).
 * Legend: N batch, C channels, H x W spatial, P = H*W. */
#include "nn/layers.h"
#include "nn/parallel.h"

#include <assert.h>

/* Forward: y = a + b.   Backward: da += dy;  db += dy. */
void add_forward(const Tensor *a, const Tensor *b, Tensor *y) {
    size_t n = tensor_numel(y);
    assert(tensor_numel(a) == n && tensor_numel(b) == n);
    NN_PARALLEL_FOR_N(n)
    for (size_t i = 0; i < n; i++)
        y->data[i] = a->data[i] + b->data[i];
}

void add_backward(const Tensor *dy, Tensor *da, Tensor *db) {
    size_t n = tensor_numel(dy);
    assert((!da || tensor_numel(da) == n) && (!db || tensor_numel(db) == n));
    if (da) {
        NN_PARALLEL_FOR_N(n)
        for (size_t i = 0; i < n; i++)
            da->data[i] += dy->data[i];
    }
    if (db) {
        NN_PARALLEL_FOR_N(n)
        for (size_t i = 0; i < n; i++)
            db->data[i] += dy->data[i];
    }
}

/* Forward:  y[n, c, p] = x[n, c, p] * s[n, c]
 * Backward: dx[n, c, p] += dy[n, c, p] * s[n, c];
 *           ds[n, c] += sum over p of dy[n, c, p] * x[n, c, p] */
void scale_forward(const Tensor *x, const Tensor *s, Tensor *y) {
    size_t plane = (size_t)x->h * x->w, planes = (size_t)x->n * x->c;
    assert(tensor_numel(s) == planes && tensor_numel(y) == tensor_numel(x));
    NN_PARALLEL_FOR_N(planes * plane)
    for (size_t nc = 0; nc < planes; nc++) {
        float s_nc = s->data[nc];
        for (size_t p = 0; p < plane; p++)
            y->data[nc * plane + p] = x->data[nc * plane + p] * s_nc;
    }
}

void scale_backward(const Tensor *x, const Tensor *s, const Tensor *dy, Tensor *dx,
                    Tensor *ds) {
    size_t plane = (size_t)x->h * x->w, planes = (size_t)x->n * x->c;
    assert(tensor_numel(s) == planes && tensor_numel(dy) == tensor_numel(x));
    assert((!dx || tensor_numel(dx) == tensor_numel(x)) && (!ds || tensor_numel(ds) == planes));
    NN_PARALLEL_FOR_N(planes * plane)
    for (size_t nc = 0; nc < planes; nc++) {
        const float *x_nc = x->data + nc * plane, *dy_nc = dy->data + nc * plane;
        if (dx)
            for (size_t p = 0; p < plane; p++)
                dx->data[nc * plane + p] += dy_nc[p] * s->data[nc];
        if (ds) {
            double sum = 0;
            for (size_t p = 0; p < plane; p++)
                sum += (double)dy_nc[p] * x_nc[p];
            ds->data[nc] += (float)sum;
        }
    }
}
