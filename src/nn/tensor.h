/* Tensors and named parameters.
 *
 * Legend for every nn/ file: N batch, C channels (CI in, CO out), H x W
 * spatial size (OH x OW out), K kernel side, G groups, F features.
 * A Tensor is a float array in NCHW order that it does not own: the model
 * allocates all activations and gradients once, when it is built, and a
 * training step allocates nothing. A 2-D tensor (N x F) has h = w = 1. */
#ifndef NOISETTE_NN_TENSOR_H
#define NOISETTE_NN_TENSOR_H

#include <stddef.h>

typedef struct {
    float *data;
    int    n, c, h, w;
} Tensor;

static inline size_t tensor_numel(const Tensor *t) {
    return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

/* Elements of one sample (c * h * w). */
static inline size_t tensor_sample(const Tensor *t) {
    return (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

#define PARAM_NAME_MAX 96
#define PARAM_MAX_DIMS 4

/* A named array of the model: a trainable parameter (grad set) or a buffer
 * (grad NULL: batch-norm running statistics, the attention's power-
 * iteration vectors). Names follow the reference model's module paths,
 * e.g. "stem.0.conv.weight", "stages.0.1.convs.2.bn.weight". */
typedef struct {
    char   name[PARAM_NAME_MAX];
    float *data;
    float *grad;
    size_t numel;
    int    ndim, shape[PARAM_MAX_DIMS];
    int    no_decay;    /* a BN weight or bias, or any bias: no weight decay */
} Param;

typedef struct {
    Param **items;      /* owned; Param addresses never move */
    int     n, cap;
} ParamList;

/* Adds a zero-filled array named name with the given shape (ndim <= 4) to
 * pl; with_grad also allocates its gradient. Returns the new Param, or NULL
 * with the reason recorded. */
Param *param_add(ParamList *pl, const char *name, int with_grad, int no_decay, int ndim,
                 const int *shape);

/* The parameter named name, or NULL. */
Param *param_find(const ParamList *pl, const char *name);

/* Total elements over the list. */
size_t param_count(const ParamList *pl);

void param_list_free(ParamList *pl);

#endif
