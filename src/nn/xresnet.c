/* The xresnet family, as fastai builds it (spec: reference-training.md §3).
 *
 *   stem:   ConvLayer(c_in, 32, s2), ConvLayer(32, 32), ConvLayer(32, 64),
 *           max pool 3x3/2/1
 *   stages: 4 stages of residual blocks, widths 64, 128, 256, 512 (x e),
 *           stride 2 in the first block of stages 1-3
 *   head:   average pool to 1x1, linear to n_out (with bias)
 *   block:  act(branch(x) + shortcut(x)); branch = 2 (e = 1) or 3 (e = 4)
 *           ConvLayers, the last with its BN weight at 0 and no act, then
 *           SE and attention when asked; shortcut = [2x2 pool if stride 2]
 *           [1x1 conv + BN if the width changes]
 * A ConvLayer is conv (no bias) -> BN -> act. */
#include "nn/model.h"

#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum {
    BLOCK_PLAIN,
    BLOCK_SE,
    BLOCK_RESNEXT,
    BLOCK_SE_RESNEXT
} BlockKind;

typedef struct {
    const char *name;
    BlockKind   kind;
    int         e;
    int         layers[4];
} ArchSpec;

/* spec §3.5 */
static const ArchSpec ARCHS[] = {
    {"xresnet18", BLOCK_PLAIN, 1, {2, 2, 2, 2}},
    {"xresnet34", BLOCK_PLAIN, 1, {3, 4, 6, 3}},
    {"xresnet50", BLOCK_PLAIN, 4, {3, 4, 6, 3}},
    {"xresnet101", BLOCK_PLAIN, 4, {3, 4, 23, 3}},
    {"xresnet152", BLOCK_PLAIN, 4, {3, 8, 36, 3}},
    {"xse_resnet18", BLOCK_SE, 1, {2, 2, 2, 2}},
    {"xse_resnet34", BLOCK_SE, 1, {3, 4, 6, 3}},
    {"xse_resnet50", BLOCK_SE, 4, {3, 4, 6, 3}},
    {"xresnext18", BLOCK_RESNEXT, 1, {2, 2, 2, 2}},
    {"xresnext34", BLOCK_RESNEXT, 1, {3, 4, 6, 3}},
    {"xresnext50", BLOCK_RESNEXT, 4, {3, 4, 6, 3}},
    {"xresnext101", BLOCK_RESNEXT, 4, {3, 4, 23, 3}},
    {"xse_resnext18", BLOCK_SE_RESNEXT, 1, {2, 2, 2, 2}},
    {"xse_resnext34", BLOCK_SE_RESNEXT, 1, {3, 4, 6, 3}},
    {"xse_resnext50", BLOCK_SE_RESNEXT, 4, {3, 4, 6, 3}},
    {"xse_resnext101", BLOCK_SE_RESNEXT, 4, {3, 4, 23, 3}},
};

#define N_ARCHS          (sizeof ARCHS / sizeof ARCHS[0])
#define RESNEXT_GROUPS   32
#define RESNEXT_BASE     4      /* base width: w = floor(nf * 4 / 64) * 32 */
#define SE_REDUCTION     16

const char *const *model_arch_names(void) {
    static const char *names[N_ARCHS + 1];
    for (size_t i = 0; i < N_ARCHS; i++)
        names[i] = ARCHS[i].name;
    return names;
}

void model_config_default(ModelConfig *cfg, const char *arch) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->arch, sizeof cfg->arch, "%s", arch);
    cfg->act = ACT_MISH;
    cfg->pool = POOL_AVG;
    cfg->c_in = 3;
    cfg->n_out = 10;
    cfg->width_div = 1;
}

/* What the builder threads through: the model, its rng, the width divisor. */
typedef struct {
    Model *m;
    Rng   *rng;
    int    div;
} Builder;

/* Kaiming normal, fan-in mode, gain sqrt(2): N(0, sqrt(2 / fan_in)). */
static void init_kaiming(Param *w, int fan_in, Rng *rng) {
    double sd = sqrt(2.0 / fan_in);
    for (size_t i = 0; i < w->numel; i++)
        w->data[i] = (float)(sd * rng_normal(rng));
}

/* Node i's output shape, by value: adding a node may move the array. */
static Tensor output_of(const Builder *b, int i) {
    return b->m->nodes[i].y;
}

/* name = prefix + suffix, cut to PARAM_NAME_MAX - 1 bytes. */
static void join(char *name, const char *prefix, const char *suffix) {
    size_t lp = strnlen(prefix, PARAM_NAME_MAX - 1);
    size_t ls = strnlen(suffix, PARAM_NAME_MAX - 1 - lp);
    memcpy(name, prefix, lp);
    memcpy(name + lp, suffix, ls);
    name[lp + ls] = '\0';
}

/* ---- layers as nodes ------------------------------------------------------ */

static int add_conv(Builder *b, const char *name, int in, int co, int k, int stride,
                    int groups, int bias) {
    const Tensor xv = output_of(b, in), *x = &xv;
    if (x->c % groups || co % groups)
        return err_set(ERR_INVALID, "%s: %d -> %d channels do not split into %d groups", name,
                       x->c, co, groups);
    int pad = (k - 1) / 2;
    int oh = (x->h + 2 * pad - k) / stride + 1, ow = (x->w + 2 * pad - k) / stride + 1;
    int i = model_add_node(b->m, NODE_CONV, name, in, -1, co, oh, ow);
    if (i < 0)
        return i;

    Node *nd = &b->m->nodes[i];
    int rc = conv2d_setup(&nd->u.conv, &b->m->params, name, x->c, co, k, stride, groups, bias);
    if (rc < 0)
        return rc;
    int fan_in = x->c / groups * k * k;
    init_kaiming(nd->u.conv.weight, fan_in, b->rng);
    nd->flops = 2.0 * oh * ow * co * fan_in;
    return i;
}

static int add_bn(Builder *b, const char *name, int in, int zero_weight) {
    const Tensor xv = output_of(b, in), *x = &xv;
    int i = model_add_node(b->m, NODE_BN, name, in, -1, x->c, x->h, x->w);
    if (i < 0)
        return i;
    return batchnorm_setup(&b->m->nodes[i].u.bn, &b->m->params, &b->m->buffers, name, x->c,
                           zero_weight) < 0 ? ERR_NOMEM : i;
}

static int add_act(Builder *b, const char *name, int in, ActKind act) {
    const Tensor xv = output_of(b, in), *x = &xv;
    int i = model_add_node(b->m, NODE_ACT, name, in, -1, x->c, x->h, x->w);
    if (i >= 0)
        b->m->nodes[i].act = act;
    return i;
}

static int add_pool(Builder *b, const char *name, int in, PoolKind kind, int k, int stride,
                    int pad, int ceil_mode) {
    const Tensor xv = output_of(b, in), *x = &xv;
    PoolGeom g = {x->n, x->c, x->h, x->w, k, stride, pad, ceil_mode, 0, 0};
    pool_geom_finish(&g);
    int i = model_add_node(b->m, NODE_POOL, name, in, -1, x->c, g.oh, g.ow);
    if (i < 0)
        return i;
    size_t out = (size_t)x->n * x->c * g.oh * g.ow;
    return pool2d_setup(&b->m->nodes[i].u.pool, kind, k, stride, pad, ceil_mode, out) < 0
               ? ERR_NOMEM : i;
}

/* conv -> BN -> act (ACT_NONE: no act), named prefix.conv / .bn / .act */
static int conv_layer(Builder *b, const char *prefix, int in, int co, int k, int stride,
                      int groups, ActKind act, int zero_bn) {
    char name[PARAM_NAME_MAX];
    join(name, prefix, ".conv");
    int i = add_conv(b, name, in, co, k, stride, groups, 0);
    join(name, prefix, ".bn");
    if (i >= 0)
        i = add_bn(b, name, i, zero_bn);
    join(name, prefix, ".act");
    if (i >= 0 && act != ACT_NONE)
        i = add_act(b, name, i, act);
    return i;
}

/* ---- blocks ---------------------------------------------------------------- */

/* Squeeze-and-excitation (spec §3.6): x * sigmoid(conv(act(conv(mean(x))))). */
static int add_se(Builder *b, const char *prefix, int in, ActKind act) {
    char name[PARAM_NAME_MAX];
    int c = output_of(b, in).c;
    int hidden = 8 * (int)ceil((c / SE_REDUCTION) / 8.0);

    join(name, prefix, ".pool");
    int s = model_add_node(b->m, NODE_GAP, name, in, -1, c, 1, 1);
    join(name, prefix, ".conv1");
    if (s >= 0)
        s = add_conv(b, name, s, hidden, 1, 1, 1, 1);
    join(name, prefix, ".act");
    if (s >= 0)
        s = add_act(b, name, s, act);
    join(name, prefix, ".conv2");
    if (s >= 0)
        s = add_conv(b, name, s, c, 1, 1, 1, 1);
    join(name, prefix, ".gate");
    if (s >= 0)
        s = add_act(b, name, s, ACT_SIGMOID);
    if (s < 0)
        return s;
    const Tensor xv = output_of(b, in), *x = &xv;
    join(name, prefix, ".scale");
    return model_add_node(b->m, NODE_SCALE, name, in, s, x->c, x->h, x->w);
}

static int add_attention(Builder *b, const char *prefix, int in) {
    const Tensor xv = output_of(b, in), *x = &xv;
    int i = model_add_node(b->m, NODE_ATTN, prefix, in, -1, x->c, x->h, x->w);
    if (i < 0)
        return i;
    SelfAttention *l = &b->m->nodes[i].u.attn;
    if (attention_setup(l, &b->m->params, &b->m->buffers, prefix, x->c, b->m->cfg.sym,
                        b->m->max_n, x->h * x->w, b->rng) < 0)
        return ERR_NOMEM;
    init_kaiming(l->weight, x->c, b->rng);
    b->m->nodes[i].flops = 3 * 2.0 * x->c * x->c * x->h * x->w;
    return i;
}

typedef struct {
    int ni, nf, stride, groups, nh1, nh2, reduction, sa;
} BlockShape;

/* The residual branch: its ConvLayers, then SE and attention. */
static int add_branch(Builder *b, const char *prefix, int in, const BlockShape *s, int e) {
    const ModelConfig *cfg = &b->m->cfg;
    char name[PARAM_NAME_MAX];
    int i = in;
    if (e == 1) {
        join(name, prefix, ".convs.0");
        i = conv_layer(b, name, i, s->nh2, 3, s->stride, s->groups, cfg->act, 0);
        join(name, prefix, ".convs.1");
        if (i >= 0)
            i = conv_layer(b, name, i, s->nf * e, 3, 1, 1, ACT_NONE, 1);
    } else {
        join(name, prefix, ".convs.0");
        i = conv_layer(b, name, i, s->nh1, 1, 1, 1, cfg->act, 0);
        join(name, prefix, ".convs.1");
        if (i >= 0)
            i = conv_layer(b, name, i, s->nh2, 3, s->stride, s->groups, cfg->act, 0);
        join(name, prefix, ".convs.2");
        if (i >= 0)
            i = conv_layer(b, name, i, s->nf * e, 1, 1, 1, ACT_NONE, 1);
    }
    join(name, prefix, ".se");
    if (i >= 0 && s->reduction)
        i = add_se(b, name, i, cfg->act);
    join(name, prefix, ".sa");
    if (i >= 0 && s->sa)
        i = add_attention(b, name, i);
    return i;
}

static int add_block(Builder *b, const char *prefix, int in, const BlockShape *s, int e) {
    const ModelConfig *cfg = &b->m->cfg;
    char name[PARAM_NAME_MAX];
    int branch = add_branch(b, prefix, in, s, e);
    if (branch < 0)
        return branch;

    /* Shortcut ("tweak D"): pool first when striding, then a 1x1 conv. */
    int id = in;
    join(name, prefix, ".idpool");
    if (s->stride != 1)
        id = add_pool(b, name, id, cfg->pool, 2, 2, 0, cfg->pool == POOL_AVG);
    join(name, prefix, ".idconv");
    if (id >= 0 && s->ni * e != s->nf * e)
        id = conv_layer(b, name, id, s->nf * e, 1, 1, 1, ACT_NONE, 0);
    if (id < 0)
        return id;

    const Tensor yv = output_of(b, branch), sv = output_of(b, id), *y = &yv, *sc = &sv;
    if (y->c != sc->c || y->h != sc->h || y->w != sc->w)
        return err_set(ERR_INVALID, "%s: branch %d x %d x %d and shortcut %d x %d x %d differ "
                       "(an odd-sized map reached a max-pool shortcut: use the average pool "
                       "or an image size that is a multiple of 32)", prefix, y->c, y->h, y->w,
                       sc->c, sc->h, sc->w);
    join(name, prefix, ".add");
    int sum = model_add_node(b->m, NODE_ADD, name, branch, id, y->c, y->h, y->w);
    join(name, prefix, ".act");
    return sum < 0 ? sum : add_act(b, name, sum, cfg->act);
}

/* Widths of block j of stage i (spec §3.2, §3.5). */
static BlockShape block_shape(const ArchSpec *a, int i, int j, int div, int sa) {
    int e = a->e;
    int bs[5] = {64 / e / div, 64 / div, 128 / div, 256 / div, 512 / div};
    BlockShape s = {j == 0 ? bs[i] : bs[i + 1], bs[i + 1], j == 0 && i > 0 ? 2 : 1, 1, 0, 0,
                    0, sa && i == 0 && j == a->layers[0] - 1};
    int groups = RESNEXT_GROUPS / div > 0 ? RESNEXT_GROUPS / div : 1;

    s.nh2 = s.nf;
    s.nh1 = s.nh2;
    if (a->kind == BLOCK_SE) {
        s.nh1 = 2 * s.nf;
        s.nh2 = e * s.nf;
    } else if (a->kind == BLOCK_RESNEXT || a->kind == BLOCK_SE_RESNEXT) {
        int w = (s.nf * RESNEXT_BASE / 64) * groups;
        s.nh1 = s.nh2 = w > 0 ? w : groups;
        s.groups = groups;
    }
    if (a->kind == BLOCK_SE || a->kind == BLOCK_SE_RESNEXT)
        s.reduction = SE_REDUCTION;
    return s;
}

static int build(Builder *b, const ArchSpec *a) {
    Model *m = b->m;
    const ModelConfig *cfg = &m->cfg;
    char name[PARAM_NAME_MAX];
    int i = model_add_node(m, NODE_INPUT, "input", -1, -1, cfg->c_in, m->size, m->size);

    /* Stem: three ConvLayers and a max pool. */
    const int stem[3] = {32 / b->div, 32 / b->div, 64 / b->div};
    for (int k = 0; k < 3 && i >= 0; k++) {
        snprintf(name, sizeof name, "stem.%d", k);
        i = conv_layer(b, name, i, stem[k], 3, k == 0 ? 2 : 1, 1, cfg->act, 0);
    }
    if (i >= 0)
        i = add_pool(b, "stem.pool", i, POOL_MAX, 3, 2, 1, 0);

    /* Stages. */
    for (int s = 0; s < 4 && i >= 0; s++) {
        for (int j = 0; j < a->layers[s] && i >= 0; j++) {
            BlockShape shape = block_shape(a, s, j, b->div, cfg->sa);
            snprintf(name, sizeof name, "stages.%d.%d", s, j);
            i = add_block(b, name, i, &shape, a->e);
        }
    }

    /* Head: average pool, linear with bias (weights Kaiming, bias 0). */
    int c = i >= 0 ? output_of(b, i).c : 0;
    if (i >= 0)
        i = model_add_node(m, NODE_GAP, "head.pool", i, -1, c, 1, 1);
    if (i >= 0)
        i = model_add_node(m, NODE_LINEAR, "head.fc", i, -1, cfg->n_out, 1, 1);
    if (i < 0)
        return i;
    Node *fc = &m->nodes[i];
    if (linear_setup(&fc->u.linear, &m->params, "head.fc", c, cfg->n_out) < 0)
        return ERR_NOMEM;
    init_kaiming(fc->u.linear.weight, c, b->rng);
    fc->flops = 2.0 * c * cfg->n_out;
    return ERR_OK;
}

int model_build(Model *m, const ModelConfig *cfg, int max_n, int size, const Backend *be,
                Rng *rng) {
    memset(m, 0, sizeof *m);
    const ArchSpec *a = NULL;
    for (size_t k = 0; k < N_ARCHS; k++)
        if (strcmp(ARCHS[k].name, cfg->arch) == 0)
            a = &ARCHS[k];
    if (!a)
        return err_set(ERR_USAGE, "unknown architecture \"%s\" (see noisette model --help)",
                       cfg->arch);
    if (max_n < 1 || size < 1 || cfg->c_in < 1 || cfg->n_out < 1 || cfg->width_div < 1 ||
        64 % cfg->width_div != 0)
        return err_set(ERR_USAGE, "%s: batch, size, channels, outputs must be positive and "
                       "the width divisor divide 64", cfg->arch);

    m->cfg = *cfg;
    m->max_n = max_n;
    m->size = size;
    m->be = be;
    Builder b = {m, rng, cfg->width_div};
    int rc = build(&b, a);
    if (rc >= 0)
        rc = model_plan(m);
    if (rc < 0)
        model_free(m);
    return rc;
}
