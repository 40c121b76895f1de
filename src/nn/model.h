/* Models: a static graph of layers, built once per (architecture, batch
 * size, image size), and the xresnet family of the reference
 * (spec: reference-training.md §3).
 *
 * Each node reads one or two earlier nodes and owns its output, allocated
 * at build time for the largest batch; forward runs the nodes in order and
 * backward in reverse, every node adding its input gradients into its
 * producers'. A node's output gradient is needed only from the backward
 * of its last consumer to its own, so the gradients share a few buffers,
 * planned once when the model is built (model_plan): a training
 * step allocates nothing, and the gradients take the memory of the widest
 * moment of the backward pass instead of one copy of every output. */
#ifndef NOISETTE_NN_MODEL_H
#define NOISETTE_NN_MODEL_H

#include "nn/backend.h"
#include "nn/layers.h"
#include "nn/tensor.h"
#include "util/rng.h"

#include <stdio.h>

typedef enum {
    NODE_INPUT,
    NODE_CONV,
    NODE_BN,
    NODE_ACT,
    NODE_POOL,
    NODE_GAP,       /* adaptive average pool to 1 x 1 (and flatten) */
    NODE_LINEAR,
    NODE_ADD,
    NODE_SCALE,     /* x * s per channel, for squeeze-and-excitation */
    NODE_ATTN,
    NODE_KIND_COUNT
} NodeKind;

typedef struct {
    NodeKind kind;
    char     name[PARAM_NAME_MAX];
    int      in[2];         /* producer nodes, -1 when unused */
    Tensor   y, dy;         /* output and d(loss)/d(output); n = current batch;
                             * dy borrows a shared buffer, valid during backward
                             * only */
    unsigned char zero_in[2];   /* backward: zero input k's gradient first */
    unsigned char zero_self;    /* backward: no consumer wrote dy; zero it first */
    unsigned char fuse_act;     /* BN read only by the ACT after it: in evaluation
                                 * it writes that node's output, act applied */
    unsigned char fused;        /* that ACT: nothing to do in evaluation */
    unsigned char y_shared;     /* y borrows a shared buffer: an output the
                                 * backward pass never reads */
    ActKind  act;           /* NODE_ACT */
    int      param_begin;   /* index of the node's first parameter in
                             * Model.params (its own follow, to the next
                             * node's param_begin) */
    double   flops;         /* per image: 2 x multiply-adds of this node */
    union {
        Conv2d        conv;
        BatchNorm     bn;
        Pool2d        pool;
        Linear        linear;
        SelfAttention attn;
    } u;
} Node;

typedef struct {
    char     arch[32];      /* xresnet18 ... xse_resnext50 (see model_arch_names) */
    ActKind  act;           /* ACT_MISH (reference default) or ACT_RELU */
    PoolKind pool;          /* shortcut pool: POOL_AVG (default) or POOL_MAX */
    int      sa, sym;       /* SimpleSelfAttention in stage 0's last block */
    int      c_in, n_out;   /* 3 and 10 by default */
    int      width_div;     /* divide every width by this (1; small test models) */
} ModelConfig;

typedef struct {
    ModelConfig    cfg;
    int            max_n, size;     /* largest batch, input side */
    Node          *nodes;
    int            n_nodes, cap;
    ParamList      params, buffers;
    const Backend *be;
    float        **grad_bufs;       /* the shared gradient buffers */
    int            n_grad_bufs;
    size_t         grad_floats;     /* their total size */
    float        **out_bufs;        /* the shared buffers of outputs that backward
                                     * does not read (model_plan) */
    int            n_out_bufs;
    size_t         out_floats;
    int            fuse_eval;       /* 1 (set by model_plan): evaluation runs each
                                     * fuse_act pair as one pass; 0 for tests */
    double        *profile;         /* NULL, or NODE_KIND_COUNT x 2 seconds that
                                     * forward ([k][0]) and backward ([k][1])
                                     * add each node's time to, by kind */
    /* Called after each node's backward (node index), when set: from
     * then on, the gradients of parameters param_begin and later are
     * final (train/dist.c starts their all-reduce). */
    void         (*backward_hook)(void *ctx, int node);
    void          *hook_ctx;
} Model;

/* Fills cfg with the reference defaults for arch (Mish, AvgPool shortcut,
 * no SA, 3 input channels, 10 outputs, full width). */
void model_config_default(ModelConfig *cfg, const char *arch);

/* The architecture names model_build accepts, NULL-terminated. */
const char *const *model_arch_names(void);

/* Builds the model for inputs of max_n x c_in x size x size, parameters
 * initialised as the reference (Kaiming normal fan-in for conv and linear
 * weights, zero biases, BN weight 1 except each residual branch's last BN
 * at 0, attention gamma 0) from rng. Fails for an unknown architecture or
 * a size too small for its five halvings. */
int model_build(Model *m, const ModelConfig *cfg, int max_n, int size, const Backend *be,
                Rng *rng);

void model_free(Model *m);

/* Runs the forward pass on x (n x c_in x size x size, n <= max_n): logits
 * in model_logits(m) (n x n_out). train: batch statistics and caches. */
void model_forward(Model *m, const float *x, int n, int train);

const Tensor *model_logits(const Model *m);

/* Backward pass from dlogits (n x n_out, for the n of the last forward):
 * parameter gradients are ADDED to (zero them with model_zero_grad). */
void model_backward(Model *m, const float *dlogits);

void model_zero_grad(Model *m);

/* Installs (fn non-NULL) or removes the backward hook (see Model). */
void model_set_backward_hook(Model *m, void (*fn)(void *ctx, int node), void *ctx);

/* Makes every batch norm of m compute its training statistics over the
 * union of the batches of all processes that share sync (nn/layers.h,
 * BnSync); a NULL sync.fn turns that off. 0 or ERR_NOMEM. */
int model_set_bn_sync(Model *m, BnSync sync);

/* Forward FLOPs per image (2 x multiply-adds of convolutions, linear
 * layers and attention products). */
double model_flops(const Model *m);

/* Puts prefix before the name of every parameter and buffer (a second
 * network's arrays beside the first's in one checkpoint). ERR_INVALID if a
 * name would not fit PARAM_NAME_MAX. */
int model_prefix_names(Model *m, const char *prefix);

/* For builders: appends a node reading in0 (and in1, or -1) whose output
 * is c x h x w per image, allocated for max_n images. Returns its index or
 * a negative ErrCode (an empty output names the node). */
int model_add_node(Model *m, NodeKind kind, const char *name, int in0, int in1, int c, int h,
                   int w);

/* For builders, once every node is added: gives each node's gradient a
 * shared buffer (see above), and each output that the backward pass does
 * not read (a residual branch's last batch norm, read only by the add)
 * one too, for its forward lifetime; marks the batch norms that
 * evaluation runs together with their activation. 0 or ERR_NOMEM. */
int model_plan(Model *m);

/* Floats held by the shared gradient buffers (for bench/ and tests). */
size_t model_gradient_floats(const Model *m);

/* Fills view with the model's parameters, then its buffers, borrowed (for
 * checkpoints, which save both). Free it with param_list_view_free, never
 * param_list_free. 0 or ERR_NOMEM. */
int model_arrays(const Model *m, ParamList *view);

/* Releases a list of borrowed Params (not the Params themselves). */
void param_list_view_free(ParamList *view);

/* A one-line description of the configuration, e.g.
 * "xse_resnext50 act=mish pool=max sa=1 sym=0 c_in=3 n_out=10 width_div=1",
 * which checkpoints store and compare. */
void model_describe(const Model *m, char *out, size_t cap);

/* "conv2d", "batchnorm", ...: the kind's name in model_print. */
const char *model_node_kind_name(NodeKind kind);

/* Prints the layers (name, kind, output shape, parameters) and totals. */
void model_print(const Model *m, FILE *out);

#endif
