/* Named parameter lists; see tensor.h. */
#include "nn/tensor.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Param *param_add(ParamList *pl, const char *name, int with_grad, int no_decay, int ndim,
                 const int *shape) {
    if (ndim < 1 || ndim > PARAM_MAX_DIMS || strlen(name) >= PARAM_NAME_MAX) {
        err_set(ERR_INVALID, "parameter %s: bad shape or name", name);
        return NULL;
    }
    if (pl->n == pl->cap) {
        int cap = pl->cap ? 2 * pl->cap : 64;
        Param **grown = realloc(pl->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            err_set(ERR_NOMEM, "out of memory");
            return NULL;
        }
        pl->items = grown;
        pl->cap = cap;
    }

    /* The array and its gradient, zero-filled. */
    Param *p = calloc(1, sizeof *p);
    if (!p) {
        err_set(ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->numel = 1;
    for (int d = 0; d < ndim; d++) {
        p->shape[d] = shape[d];
        p->numel *= (size_t)shape[d];
    }
    p->no_decay = no_decay;
    p->data = calloc(p->numel, sizeof *p->data);
    p->grad = with_grad ? calloc(p->numel, sizeof *p->grad) : NULL;
    if (!p->data || (with_grad && !p->grad)) {
        free(p->data), free(p->grad), free(p);
        err_set(ERR_NOMEM, "out of memory for parameter %s", name);
        return NULL;
    }
    pl->items[pl->n++] = p;
    return p;
}

Param *param_find(const ParamList *pl, const char *name) {
    for (int i = 0; i < pl->n; i++)
        if (strcmp(pl->items[i]->name, name) == 0)
            return pl->items[i];
    return NULL;
}

size_t param_count(const ParamList *pl) {
    size_t total = 0;
    for (int i = 0; i < pl->n; i++)
        total += pl->items[i]->numel;
    return total;
}

void param_list_free(ParamList *pl) {
    for (int i = 0; i < pl->n; i++) {
        free(pl->items[i]->data);
        free(pl->items[i]->grad);
        free(pl->items[i]);
    }
    free(pl->items);
    memset(pl, 0, sizeof *pl);
}
