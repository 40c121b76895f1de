/* The static layer graph: nodes, forward, backward, printing. The xresnet
 * builder that fills it is in xresnet.c. */
#include "nn/model.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Appends a node reading in0 (and in1) with an output of c x h x w per
 * image; its output is allocated for max_n images, its gradient later by
 * model_plan_gradients. Returns the node's index or a negative ErrCode. */
int model_add_node(Model *m, NodeKind kind, const char *name, int in0, int in1, int c, int h,
                   int w) {
    if (c < 1 || h < 1 || w < 1)
        return err_set(ERR_INVALID, "%s: output %d x %d x %d is empty (image too small?)",
                       name, c, h, w);
    if (m->n_nodes == m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        Node *grown = realloc(m->nodes, (size_t)cap * sizeof *grown);
        if (!grown)
            return err_set(ERR_NOMEM, "out of memory");
        m->nodes = grown;
        m->cap = cap;
    }

    Node *nd = &m->nodes[m->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->kind = kind;
    snprintf(nd->name, sizeof nd->name, "%s", name);
    nd->in[0] = in0;
    nd->in[1] = in1;
    nd->param_begin = m->params.n;     /* the builder adds its parameters next */
    size_t numel = (size_t)m->max_n * (size_t)c * (size_t)h * (size_t)w;
    nd->y = (Tensor){calloc(numel, sizeof(float)), m->max_n, c, h, w};
    nd->dy = (Tensor){NULL, m->max_n, c, h, w};
    if (!nd->y.data)
        return err_set(ERR_NOMEM, "out of memory for %s (%zu floats)", name, numel);
    return m->n_nodes++;
}

/* ---- shared buffers --------------------------------------------------------- */

/* A plan of shared buffers: each free or held by one node's array. */
typedef struct {
    size_t *cap;
    int    *busy;
    int     n;
} BufPool;

/* A free buffer for need floats: the smallest free one that is large
 * enough, else the largest free one grown to need, else a new one. Returns
 * its index, or -1 when out of memory. */
static int pool_take(BufPool *p, size_t need) {
    int fit = -1, largest = -1;
    for (int b = 0; b < p->n; b++) {
        if (p->busy[b])
            continue;
        if (p->cap[b] >= need && (fit < 0 || p->cap[b] < p->cap[fit]))
            fit = b;
        if (largest < 0 || p->cap[b] > p->cap[largest])
            largest = b;
    }
    int b = fit >= 0 ? fit : largest;
    if (b < 0) {
        /* The node count bounds the pool, so it was sized for this. */
        b = p->n++;
        p->cap[b] = 0;
    }
    if (p->cap[b] < need)
        p->cap[b] = need;
    p->busy[b] = 1;
    return b;
}

static int pool_new(BufPool *p, int n) {
    *p = (BufPool){calloc((size_t)n, sizeof *p->cap), calloc((size_t)n, sizeof *p->busy), 0};
    return p->cap && p->busy ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
}

/* Allocates the planned buffers into *bufs (*n_bufs of them, *floats in
 * all) and frees the plan. */
static int pool_allocate(BufPool *p, float ***bufs, int *n_bufs, size_t *floats) {
    int rc = ERR_OK;
    *bufs = calloc((size_t)(p->n ? p->n : 1), sizeof **bufs);
    if (!*bufs)
        rc = err_set(ERR_NOMEM, "out of memory");
    for (int b = 0; rc == ERR_OK && b < p->n; b++) {
        (*bufs)[b] = calloc(p->cap[b], sizeof(float));
        if (!(*bufs)[b])
            rc = err_set(ERR_NOMEM, "out of memory for %zu floats", p->cap[b]);
        *n_bufs = b + 1;
    }
    *floats = 0;
    for (int b = 0; b < p->n; b++)
        *floats += p->cap[b];
    free(p->cap), free(p->busy);
    return rc;
}

/* Walks the backward pass in its order: a node's gradient takes a buffer
 * when its first writer (its last consumer, or itself for the logits and
 * for a node nothing reads) runs and gives it back after its own backward.
 * Then allocates the buffers and points each node's dy into its own. */
static int plan_gradients(Model *m) {
    int n = m->n_nodes;
    BufPool p;
    int *owner = malloc((size_t)n * sizeof *owner);
    if (pool_new(&p, n) < 0 || !owner) {
        free(p.cap), free(p.busy), free(owner);
        return err_set(ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++)
        owner[i] = -1;

    for (int i = n - 1; i >= 1; i--) {
        Node *nd = &m->nodes[i];
        if (nd->kind == NODE_INPUT)
            continue;
        if (owner[i] < 0) {
            owner[i] = pool_take(&p, tensor_numel(&nd->dy));
            nd->zero_self = i != n - 1;     /* the logits' gradient is copied in */
        }
        for (int k = 0; k < 2; k++) {
            int in = nd->in[k];
            if (in < 0 || m->nodes[in].kind == NODE_INPUT || owner[in] >= 0)
                continue;
            owner[in] = pool_take(&p, tensor_numel(&m->nodes[in].dy));
            nd->zero_in[k] = 1;
        }
        p.busy[owner[i]] = 0;
    }

    int rc = pool_allocate(&p, &m->grad_bufs, &m->n_grad_bufs, &m->grad_floats);
    for (int i = 0; rc == ERR_OK && i < n; i++)
        if (owner[i] >= 0)
            m->nodes[i].dy.data = m->grad_bufs[owner[i]];
    free(owner);
    return rc;
}

/* Whether the backward pass reads node i's output: its own backward does
 * for ReLU and the sigmoid (they differentiate through their output), and
 * a consumer's does when it reads its input (convolution, batch norm,
 * Mish, linear, scale, attention; not an add, a pooling window or a
 * global average). The loss reads the logits. */
static int output_needed(const Model *m, int i) {
    const Node *nd = &m->nodes[i];
    if (i == m->n_nodes - 1 || nd->kind == NODE_INPUT ||
        (nd->kind == NODE_ACT && (nd->act == ACT_RELU || nd->act == ACT_SIGMOID)))
        return 1;
    for (int j = i + 1; j < m->n_nodes; j++) {
        const Node *c = &m->nodes[j];
        if (c->in[0] != i && c->in[1] != i)
            continue;
        if (c->kind == NODE_ACT ? c->act == ACT_MISH
                                : c->kind != NODE_ADD && c->kind != NODE_POOL &&
                                  c->kind != NODE_GAP)
            return 1;
    }
    return 0;
}

/* Outputs the backward pass does not read (e.g. the last batch norm of a
 * residual branch, read only by the add) live from their node's forward to
 * their last reader's, so they share buffers too: a walk of the forward
 * pass hands them out and takes them back as the gradient plan does. */
static int plan_outputs(Model *m) {
    int n = m->n_nodes;
    BufPool p;
    int *owner = malloc((size_t)n * sizeof *owner), *last = malloc((size_t)n * sizeof *last);
    if (pool_new(&p, n) < 0 || !owner || !last) {
        free(p.cap), free(p.busy), free(owner), free(last);
        return err_set(ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++)
        owner[i] = -1, last[i] = i;
    for (int j = 0; j < n; j++)
        for (int k = 0; k < 2; k++)
            if (m->nodes[j].in[k] >= 0)
                last[m->nodes[j].in[k]] = j;

    for (int i = 1; i < n; i++) {
        if (!output_needed(m, i))
            owner[i] = pool_take(&p, tensor_numel(&m->nodes[i].y));
        for (int k = 0; k < 2; k++) {
            int in = m->nodes[i].in[k];
            if (in >= 0 && owner[in] >= 0 && last[in] == i)
                p.busy[owner[in]] = 0;
        }
        if (owner[i] >= 0 && last[i] == i)
            p.busy[owner[i]] = 0;
    }

    int rc = pool_allocate(&p, &m->out_bufs, &m->n_out_bufs, &m->out_floats);
    for (int i = 0; rc == ERR_OK && i < n; i++)
        if (owner[i] >= 0) {
            free(m->nodes[i].y.data);
            m->nodes[i].y.data = m->out_bufs[owner[i]];
            m->nodes[i].y_shared = 1;
        }
    free(owner), free(last);
    return rc;
}

/* A batch norm read by the activation after it and by nothing else: in
 * evaluation the pair runs as one pass (batchnorm_forward_eval_act). */
static void plan_fusion(Model *m) {
    for (int i = 0; i + 1 < m->n_nodes; i++) {
        Node *bn = &m->nodes[i], *act = &m->nodes[i + 1];
        if (bn->kind != NODE_BN || act->kind != NODE_ACT || act->in[0] != i)
            continue;
        int readers = 0;
        for (int j = i + 1; j < m->n_nodes; j++)
            readers += (m->nodes[j].in[0] == i) + (m->nodes[j].in[1] == i);
        bn->fuse_act = act->fused = readers == 1;
    }
    m->fuse_eval = 1;
}

int model_plan(Model *m) {
    plan_fusion(m);
    int rc = plan_outputs(m);
    return rc < 0 ? rc : plan_gradients(m);
}

size_t model_gradient_floats(const Model *m) {
    return m->grad_floats;
}

static void node_free(Node *nd) {
    if (!nd->y_shared)
        free(nd->y.data);
    switch (nd->kind) {
    case NODE_BN: batchnorm_free(&nd->u.bn); break;
    case NODE_POOL: pool2d_free(&nd->u.pool); break;
    case NODE_ATTN: attention_free(&nd->u.attn); break;
    default: break;
    }
}

void model_free(Model *m) {
    for (int i = 0; i < m->n_nodes; i++)
        node_free(&m->nodes[i]);
    free(m->nodes);
    for (int b = 0; b < m->n_grad_bufs; b++)
        free(m->grad_bufs[b]);
    free(m->grad_bufs);
    for (int b = 0; b < m->n_out_bufs; b++)
        free(m->out_bufs[b]);
    free(m->out_bufs);
    param_list_free(&m->params);
    param_list_free(&m->buffers);
    memset(m, 0, sizeof *m);
}

/* ---- passes ------------------------------------------------------------ */

static const Tensor *input_of(const Model *m, const Node *nd, int k) {
    return nd->in[k] >= 0 ? &m->nodes[nd->in[k]].y : NULL;
}

/* The gradient tensor of a node's k-th input, NULL for the model input. */
static Tensor *dinput_of(Model *m, const Node *nd, int k) {
    if (nd->in[k] < 0 || m->nodes[nd->in[k]].kind == NODE_INPUT)
        return NULL;
    return &m->nodes[nd->in[k]].dy;
}

static void node_forward(Model *m, Node *nd, int train) {
    const Tensor *x = input_of(m, nd, 0), *x1 = input_of(m, nd, 1);
    switch (nd->kind) {
    case NODE_INPUT: case NODE_KIND_COUNT: break;
    case NODE_CONV: conv2d_forward(&nd->u.conv, m->be, x, &nd->y); break;
    case NODE_BN:
        if (!train && nd->fuse_act && m->fuse_eval)
            batchnorm_forward_eval_act(&nd->u.bn, x, nd[1].act, &nd[1].y);
        else
            batchnorm_forward(&nd->u.bn, x, &nd->y, train);
        break;
    case NODE_ACT:
        if (train || !nd->fused || !m->fuse_eval)
            activation_forward(nd->act, x, &nd->y);
        break;
    case NODE_POOL: pool2d_forward(&nd->u.pool, m->be, x, &nd->y); break;
    case NODE_GAP: global_avgpool_forward(x, &nd->y); break;
    case NODE_LINEAR: linear_forward(&nd->u.linear, m->be, x, &nd->y); break;
    case NODE_ADD: add_forward(x, x1, &nd->y); break;
    case NODE_SCALE: scale_forward(x, x1, &nd->y); break;
    case NODE_ATTN: attention_forward(&nd->u.attn, m->be, x, &nd->y, train); break;
    }
}

static void node_backward(Model *m, Node *nd) {
    const Tensor *x = input_of(m, nd, 0), *x1 = input_of(m, nd, 1);
    Tensor *dx = dinput_of(m, nd, 0), *dx1 = dinput_of(m, nd, 1);
    switch (nd->kind) {
    case NODE_INPUT: case NODE_KIND_COUNT: break;
    case NODE_CONV: conv2d_backward(&nd->u.conv, m->be, x, &nd->dy, dx); break;
    case NODE_BN: batchnorm_backward(&nd->u.bn, x, &nd->dy, dx); break;
    case NODE_ACT: activation_backward(nd->act, x, &nd->y, &nd->dy, dx); break;
    case NODE_POOL: pool2d_backward(&nd->u.pool, m->be, &nd->dy, dx); break;
    case NODE_GAP: global_avgpool_backward(&nd->dy, dx); break;
    case NODE_LINEAR: linear_backward(&nd->u.linear, m->be, x, &nd->dy, dx); break;
    case NODE_ADD: add_backward(&nd->dy, dx, dx1); break;
    case NODE_SCALE: scale_backward(x, x1, &nd->dy, dx, dx1); break;
    case NODE_ATTN: attention_backward(&nd->u.attn, m->be, x, &nd->dy, dx); break;
    }
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Adds the time since *t0 to the profile of nd's kind and pass. */
static void profile_add(Model *m, const Node *nd, int pass, double *t0) {
    double t = now_seconds();
    m->profile[2 * nd->kind + pass] += t - *t0;
    *t0 = t;
}

void model_forward(Model *m, const float *x, int n, int train) {
    /* Every tensor takes the batch size of this pass. */
    for (int i = 0; i < m->n_nodes; i++)
        m->nodes[i].y.n = m->nodes[i].dy.n = n;
    Node *in = &m->nodes[0];
    memcpy(in->y.data, x, tensor_numel(&in->y) * sizeof *x);

    double t0 = m->profile ? now_seconds() : 0;
    for (int i = 1; i < m->n_nodes; i++) {
        node_forward(m, &m->nodes[i], train);
        if (m->profile)
            profile_add(m, &m->nodes[i], 0, &t0);
    }
}

const Tensor *model_logits(const Model *m) {
    return &m->nodes[m->n_nodes - 1].y;
}

static void zero_tensor(Tensor *t) {
    memset(t->data, 0, tensor_numel(t) * sizeof(float));
}

void model_backward(Model *m, const float *dlogits) {
    Node *last = &m->nodes[m->n_nodes - 1];
    memcpy(last->dy.data, dlogits, tensor_numel(&last->dy) * sizeof *dlogits);

    /* Gradients accumulate into producers, so each starts at zero when
     * its first writer takes its buffer. */
    double t0 = m->profile ? now_seconds() : 0;
    for (int i = m->n_nodes - 1; i >= 1; i--) {
        Node *nd = &m->nodes[i];
        if (nd->zero_self)
            zero_tensor(&nd->dy);
        for (int k = 0; k < 2; k++)
            if (nd->zero_in[k])
                zero_tensor(&m->nodes[nd->in[k]].dy);
        node_backward(m, nd);
        if (m->profile)
            profile_add(m, nd, 1, &t0);
        if (m->backward_hook)
            m->backward_hook(m->hook_ctx, i);
    }
}

void model_set_backward_hook(Model *m, void (*fn)(void *ctx, int node), void *ctx) {
    m->backward_hook = fn;
    m->hook_ctx = ctx;
}

int model_set_bn_sync(Model *m, BnSync sync) {
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].kind == NODE_BN && batchnorm_set_sync(&m->nodes[i].u.bn, sync) < 0)
            return ERR_NOMEM;
    return ERR_OK;
}

void model_zero_grad(Model *m) {
    for (int i = 0; i < m->params.n; i++)
        memset(m->params.items[i]->grad, 0, m->params.items[i]->numel * sizeof(float));
}

int model_prefix_names(Model *m, const char *prefix) {
    ParamList *lists[2] = {&m->params, &m->buffers};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            Param *p = lists[l]->items[i];
            char name[PARAM_NAME_MAX];
            int len = snprintf(name, sizeof name, "%s%s", prefix, p->name);
            if (len < 0 || (size_t)len >= sizeof name)
                return err_set(ERR_INVALID, "array name \"%s%s\" too long", prefix, p->name);
            memcpy(p->name, name, (size_t)len + 1);
        }
    return ERR_OK;
}

double model_flops(const Model *m) {
    double total = 0;
    for (int i = 0; i < m->n_nodes; i++)
        total += m->nodes[i].flops;
    return total;
}

int model_arrays(const Model *m, ParamList *view) {
    int n = m->params.n + m->buffers.n;
    view->items = malloc((size_t)(n ? n : 1) * sizeof *view->items);
    if (!view->items)
        return err_set(ERR_NOMEM, "out of memory");
    memcpy(view->items, m->params.items, (size_t)m->params.n * sizeof *view->items);
    memcpy(view->items + m->params.n, m->buffers.items,
           (size_t)m->buffers.n * sizeof *view->items);
    view->n = view->cap = n;
    return ERR_OK;
}

void param_list_view_free(ParamList *view) {
    free(view->items);
    memset(view, 0, sizeof *view);
}

void model_describe(const Model *m, char *out, size_t cap) {
    const ModelConfig *c = &m->cfg;
    snprintf(out, cap, "%s act=%s pool=%s sa=%d sym=%d c_in=%d n_out=%d width_div=%d",
             c->arch, c->act == ACT_RELU ? "relu" : "mish", c->pool == POOL_MAX ? "max" : "avg",
             c->sa, c->sym, c->c_in, c->n_out, c->width_div);
}

/* ---- printing ------------------------------------------------------------ */

static const char *const NODE_KIND_NAMES[NODE_KIND_COUNT] = {
    [NODE_INPUT] = "input", [NODE_CONV] = "conv2d", [NODE_BN] = "batchnorm",
    [NODE_ACT] = "act", [NODE_POOL] = "pool", [NODE_GAP] = "avgpool 1x1",
    [NODE_LINEAR] = "linear", [NODE_ADD] = "add", [NODE_SCALE] = "se scale",
    [NODE_ATTN] = "self-attention",
};

const char *model_node_kind_name(NodeKind kind) {
    return kind < NODE_KIND_COUNT ? NODE_KIND_NAMES[kind] : "?";
}

static const char *act_name(ActKind a) {
    return a == ACT_RELU ? "relu" : a == ACT_MISH ? "mish" : a == ACT_SIGMOID ? "sigmoid" : "none";
}

/* Parameters whose names start with the node's name and a dot. */
static size_t node_params(const Model *m, const Node *nd) {
    size_t total = 0, len = strlen(nd->name);
    for (int i = 0; i < m->params.n; i++) {
        const char *pn = m->params.items[i]->name;
        if (strncmp(pn, nd->name, len) == 0 && pn[len] == '.')
            total += m->params.items[i]->numel;
    }
    return total;
}

void model_print(const Model *m, FILE *out) {
    fprintf(out, "%-34s %-15s %-18s %12s %14s\n", "layer", "kind", "output (C x H x W)",
            "params", "MFLOPs/image");
    for (int i = 0; i < m->n_nodes; i++) {
        const Node *nd = &m->nodes[i];
        char shape[40], kind[32];
        snprintf(shape, sizeof shape, "%d x %d x %d", nd->y.c, nd->y.h, nd->y.w);
        if (nd->kind == NODE_ACT)
            snprintf(kind, sizeof kind, "%s", act_name(nd->act));
        else if (nd->kind == NODE_POOL)
            snprintf(kind, sizeof kind, "%s %dx%d/%d", nd->u.pool.kind == POOL_MAX ? "maxpool"
                     : "avgpool", nd->u.pool.k, nd->u.pool.k, nd->u.pool.stride);
        else
            snprintf(kind, sizeof kind, "%s", NODE_KIND_NAMES[nd->kind]);
        fprintf(out, "%-34s %-15s %-18s %12zu %14.2f\n", nd->name, kind, shape,
                node_params(m, nd), nd->flops / 1e6);
    }
    fprintf(out, "\n%s: %zu parameters (%zu in buffers), %.3f GFLOPs per %dx%d image\n",
            m->cfg.arch, param_count(&m->params), param_count(&m->buffers),
            model_flops(m) / 1e9, m->size, m->size);
}
