/* The layers (src/nn/): every layer's and every parameter's analytic
 * gradient against central finite differences, accumulation and NULL input
 * gradients, batch-norm statistics and modes, large-|x| activations, the
 * attention's power iteration, and agreement with PyTorch on the golden
 * fixtures of tools/make_layer_golden.py (tests/golden/layers/README.md).
 *
 * The gradient checks use the loss L = sum(y * r) for a fixed random r, so
 * dL/dy = r is what each backward pass receives. */
#include "test_util.h"

#include "golden.h"
#include "nn/layers.h"
#include "util/err.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NOISETTE_GOLDEN
#define NOISETTE_GOLDEN "tests/golden"
#endif

#define PREFIX "l"
#define GC_MAX_ARRAYS 12
#define REPORT_MAX 5

static const Backend *be;

/* ---- a layer under test ------------------------------------------------- */

/* The squeeze-and-excitation chain of spec §3.6 built from the layers:
 * pooled = mean(x); z1 = conv1(pooled); a1 = mish(z1); z2 = conv2(a1);
 * s = sigmoid(z2); y = x * s. d* are the intermediates' gradients. */
typedef struct {
    Conv2d conv1, conv2;
    Tensor pooled, z1, a1, z2, s;
    Tensor dpooled, dz1, da1, dz2, ds;
} SeChain;

typedef struct Case Case;
struct Case {
    const char *name;
    Tensor x, y, dx, r;         /* input, output, input gradient, dL/dy */
    Tensor x2, dx2;             /* the second input of add and scale */
    ParamList params, buffers;
    Conv2d conv;
    BatchNorm bn;
    ActKind act;
    Pool2d pool;
    Linear fc;
    SelfAttention attn;
    SeChain se;
    void (*forward)(Case *c, int train);
    void (*backward)(Case *c, int with_dx);
    int fd_train;               /* the mode of the finite differences' forwards */
};

static Tensor tensor_new(int n, int c, int h, int w) {
    Tensor t = {calloc((size_t)n * c * h * w, sizeof(float)), n, c, h, w};
    assert_non_null(t.data);
    return t;
}

static void fill_normal(Rng *rng, float *a, size_t n, double scale) {
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(scale * rng_normal(rng));
}

/* x, dx (zero) and y, r of the given shapes; x ~ N(0, 1), r ~ N(0, 1). */
static void case_tensors(Case *c, Rng *rng, int n, int ch, int h, int w, int yc, int yh,
                         int yw) {
    c->x = tensor_new(n, ch, h, w);
    c->dx = tensor_new(n, ch, h, w);
    c->y = tensor_new(n, yc, yh, yw);
    c->r = tensor_new(n, yc, yh, yw);
    fill_normal(rng, c->x.data, tensor_numel(&c->x), 1.0);
    fill_normal(rng, c->r.data, tensor_numel(&c->r), 1.0);
}

static void params_randomize(ParamList *pl, Rng *rng, double scale) {
    for (int i = 0; i < pl->n; i++)
        fill_normal(rng, pl->items[i]->data, pl->items[i]->numel, scale);
}

static void se_free(SeChain *se) {
    Tensor *all[] = {&se->pooled, &se->z1, &se->a1, &se->z2, &se->s,
                     &se->dpooled, &se->dz1, &se->da1, &se->dz2, &se->ds};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free(all[i]->data);
}

static void case_free(Case *c) {
    free(c->x.data), free(c->y.data), free(c->dx.data), free(c->r.data);
    free(c->x2.data), free(c->dx2.data);
    batchnorm_free(&c->bn);
    pool2d_free(&c->pool);
    attention_free(&c->attn);
    se_free(&c->se);
    param_list_free(&c->params);
    param_list_free(&c->buffers);
    memset(c, 0, sizeof *c);
}

/* ---- forward and backward of each kind ----------------------------------- */

static Tensor *dx_or_null(Case *c, int with_dx) {
    return with_dx ? &c->dx : NULL;
}

static void conv_fwd(Case *c, int train) {
    (void)train;
    conv2d_forward(&c->conv, be, &c->x, &c->y);
}

static void conv_bwd(Case *c, int with_dx) {
    conv2d_backward(&c->conv, be, &c->x, &c->r, dx_or_null(c, with_dx));
}

static void bn_fwd(Case *c, int train) {
    batchnorm_forward(&c->bn, &c->x, &c->y, train);
}

static void bn_bwd(Case *c, int with_dx) {
    batchnorm_backward(&c->bn, &c->x, &c->r, dx_or_null(c, with_dx));
}

static void act_fwd(Case *c, int train) {
    (void)train;
    activation_forward(c->act, &c->x, &c->y);
}

static void act_bwd(Case *c, int with_dx) {
    activation_backward(c->act, &c->x, &c->y, &c->r, dx_or_null(c, with_dx));
}

static void pool_fwd(Case *c, int train) {
    (void)train;
    pool2d_forward(&c->pool, be, &c->x, &c->y);
}

static void pool_bwd(Case *c, int with_dx) {
    pool2d_backward(&c->pool, be, &c->r, dx_or_null(c, with_dx));
}

static void gap_fwd(Case *c, int train) {
    (void)train;
    global_avgpool_forward(&c->x, &c->y);
}

static void gap_bwd(Case *c, int with_dx) {
    global_avgpool_backward(&c->r, dx_or_null(c, with_dx));
}

static void linear_fwd(Case *c, int train) {
    (void)train;
    linear_forward(&c->fc, be, &c->x, &c->y);
}

static void linear_bwd(Case *c, int with_dx) {
    linear_backward(&c->fc, be, &c->x, &c->r, dx_or_null(c, with_dx));
}

static void add_fwd(Case *c, int train) {
    (void)train;
    add_forward(&c->x, &c->x2, &c->y);
}

static void add_bwd(Case *c, int with_dx) {
    add_backward(&c->r, dx_or_null(c, with_dx), with_dx ? &c->dx2 : NULL);
}

static void scale_fwd(Case *c, int train) {
    (void)train;
    scale_forward(&c->x, &c->x2, &c->y);
}

static void scale_bwd(Case *c, int with_dx) {
    scale_backward(&c->x, &c->x2, &c->r, dx_or_null(c, with_dx), with_dx ? &c->dx2 : NULL);
}

static void se_fwd(Case *c, int train) {
    SeChain *se = &c->se;
    (void)train;
    global_avgpool_forward(&c->x, &se->pooled);
    conv2d_forward(&se->conv1, be, &se->pooled, &se->z1);
    activation_forward(ACT_MISH, &se->z1, &se->a1);
    conv2d_forward(&se->conv2, be, &se->a1, &se->z2);
    activation_forward(ACT_SIGMOID, &se->z2, &se->s);
    scale_forward(&c->x, &se->s, &c->y);
}

/* x reaches y twice, directly and through the gate, so dx sums both. */
static void se_bwd(Case *c, int with_dx) {
    SeChain *se = &c->se;
    Tensor *inner[] = {&se->dpooled, &se->dz1, &se->da1, &se->dz2, &se->ds};
    for (size_t i = 0; i < sizeof inner / sizeof *inner; i++)
        memset(inner[i]->data, 0, tensor_numel(inner[i]) * sizeof(float));
    scale_backward(&c->x, &se->s, &c->r, dx_or_null(c, with_dx), &se->ds);
    activation_backward(ACT_SIGMOID, &se->z2, &se->s, &se->ds, &se->dz2);
    conv2d_backward(&se->conv2, be, &se->a1, &se->dz2, &se->da1);
    activation_backward(ACT_MISH, &se->z1, &se->a1, &se->da1, &se->dz1);
    conv2d_backward(&se->conv1, be, &se->pooled, &se->dz1, &se->dpooled);
    global_avgpool_backward(&se->dpooled, dx_or_null(c, with_dx));
}

static void attn_fwd(Case *c, int train) {
    attention_forward(&c->attn, be, &c->x, &c->y, train);
}

static void attn_bwd(Case *c, int with_dx) {
    attention_backward(&c->attn, be, &c->x, &c->r, dx_or_null(c, with_dx));
}

/* ---- building cases ------------------------------------------------------- */

static void case_conv(Case *c, Rng *rng, int n, int ci, int co, int h, int w, int k,
                      int stride, int groups, int bias) {
    assert_int_equal(conv2d_setup(&c->conv, &c->params, PREFIX, ci, co, k, stride, groups,
                                  bias), 0);
    ConvGeom g = {n, ci, h, w, co, k, stride, (k - 1) / 2, groups, 0, 0};
    conv_geom_finish(&g);
    case_tensors(c, rng, n, ci, h, w, co, g.oh, g.ow);
    params_randomize(&c->params, rng, 0.5);
    c->forward = conv_fwd, c->backward = conv_bwd, c->fd_train = 1;
}

static void case_bn(Case *c, Rng *rng, int n, int ch, int h, int w) {
    size_t numel = (size_t)n * ch * h * w;
    assert_int_equal(batchnorm_setup(&c->bn, &c->params, &c->buffers, PREFIX, ch, 0), 0);
    case_tensors(c, rng, n, ch, h, w, ch, h, w);
    for (size_t i = 0; i < numel; i++)
        c->x.data[i] = 2.0f * c->x.data[i] + 0.5f;
    params_randomize(&c->params, rng, 0.5);
    for (int i = 0; i < ch; i++)
        c->bn.weight->data[i] += 1.0f;
    c->forward = bn_fwd, c->backward = bn_bwd, c->fd_train = 1;
}

/* ReLU's inputs keep |x| >= 0.05, away from the kink at 0 by more than the
 * finite-difference step. */
static void case_act(Case *c, Rng *rng, ActKind act, int n, int ch, int h, int w,
                     double scale) {
    case_tensors(c, rng, n, ch, h, w, ch, h, w);
    for (size_t i = 0; i < tensor_numel(&c->x); i++) {
        c->x.data[i] *= (float)scale;
        if (act == ACT_RELU && fabsf(c->x.data[i]) < 0.05f)
            c->x.data[i] = c->x.data[i] < 0 ? -0.05f - c->x.data[i] : 0.05f + c->x.data[i];
    }
    c->act = act;
    c->forward = act_fwd, c->backward = act_bwd, c->fd_train = 1;
}

/* Max pooling's inputs are a shuffled grid of step 0.05, so no window has
 * two values within the finite-difference step of each other. */
static void case_pool(Case *c, Rng *rng, PoolKind kind, int k, int stride, int pad,
                      int ceil_mode, int n, int ch, int h, int w) {
    PoolGeom g = {n, ch, h, w, k, stride, pad, ceil_mode, 0, 0};
    pool_geom_finish(&g);
    size_t out = (size_t)n * ch * g.oh * g.ow, numel = (size_t)n * ch * h * w;
    assert_int_equal(pool2d_setup(&c->pool, kind, k, stride, pad, ceil_mode, out), 0);
    case_tensors(c, rng, n, ch, h, w, ch, g.oh, g.ow);
    if (kind == POOL_MAX) {
        uint32_t *perm = malloc(numel * sizeof *perm);
        assert_non_null(perm);
        rng_permutation(rng, perm, numel);
        for (size_t i = 0; i < numel; i++)
            c->x.data[i] = 0.05f * ((float)perm[i] - (float)numel / 2);
        free(perm);
    }
    c->forward = pool_fwd, c->backward = pool_bwd, c->fd_train = 1;
}

static void case_gap(Case *c, Rng *rng, int n, int ch, int h, int w) {
    case_tensors(c, rng, n, ch, h, w, ch, 1, 1);
    c->forward = gap_fwd, c->backward = gap_bwd, c->fd_train = 1;
}

static void case_linear(Case *c, Rng *rng, int n, int ch, int h, int w, int out) {
    assert_int_equal(linear_setup(&c->fc, &c->params, PREFIX, ch * h * w, out), 0);
    case_tensors(c, rng, n, ch, h, w, out, 1, 1);
    params_randomize(&c->params, rng, 0.5);
    c->forward = linear_fwd, c->backward = linear_bwd, c->fd_train = 1;
}

/* add (scale_s = 0: x2 has x's shape) or scale (x2 is N x C x 1 x 1). */
static void case_combine(Case *c, Rng *rng, int is_scale, int n, int ch, int h, int w) {
    case_tensors(c, rng, n, ch, h, w, ch, h, w);
    c->x2 = is_scale ? tensor_new(n, ch, 1, 1) : tensor_new(n, ch, h, w);
    c->dx2 = is_scale ? tensor_new(n, ch, 1, 1) : tensor_new(n, ch, h, w);
    fill_normal(rng, c->x2.data, tensor_numel(&c->x2), 1.0);
    c->forward = is_scale ? scale_fwd : add_fwd;
    c->backward = is_scale ? scale_bwd : add_bwd;
    c->fd_train = 1;
}

static void case_se(Case *c, Rng *rng, int n, int ch, int hidden, int h, int w) {
    SeChain *se = &c->se;
    assert_int_equal(conv2d_setup(&se->conv1, &c->params, PREFIX ".conv1", ch, hidden, 1, 1,
                                  1, 1), 0);
    assert_int_equal(conv2d_setup(&se->conv2, &c->params, PREFIX ".conv2", hidden, ch, 1, 1,
                                  1, 1), 0);
    case_tensors(c, rng, n, ch, h, w, ch, h, w);
    params_randomize(&c->params, rng, 0.5);
    se->pooled = tensor_new(n, ch, 1, 1), se->dpooled = tensor_new(n, ch, 1, 1);
    se->z1 = tensor_new(n, hidden, 1, 1), se->dz1 = tensor_new(n, hidden, 1, 1);
    se->a1 = tensor_new(n, hidden, 1, 1), se->da1 = tensor_new(n, hidden, 1, 1);
    se->z2 = tensor_new(n, ch, 1, 1), se->dz2 = tensor_new(n, ch, 1, 1);
    se->s = tensor_new(n, ch, 1, 1), se->ds = tensor_new(n, ch, 1, 1);
    c->forward = se_fwd, c->backward = se_bwd, c->fd_train = 1;
}

/* The finite differences run in eval mode, so that u and v stay those of
 * the training forward that made the analytic gradient (PyTorch, too,
 * treats them as constants). */
static void case_attention(Case *c, Rng *rng, int n, int ch, int h, int w, int sym,
                           float gamma) {
    assert_int_equal(attention_setup(&c->attn, &c->params, &c->buffers, PREFIX, ch, sym, n,
                                     h * w, rng), 0);
    case_tensors(c, rng, n, ch, h, w, ch, h, w);
    for (size_t i = 0; i < tensor_numel(&c->x); i++)
        c->x.data[i] *= 0.7f;
    fill_normal(rng, c->attn.weight->data, c->attn.weight->numel, sqrt(2.0 / ch));
    c->attn.gamma->data[0] = gamma;
    c->forward = attn_fwd, c->backward = attn_bwd, c->fd_train = 0;
}

/* ---- the gradient check --------------------------------------------------- */

typedef struct {
    const char *name;
    float *data, *grad;
    float *analytic;        /* the first backward's gradient, kept */
    size_t n;
    int is_input;           /* its gradient is a backward's (nullable) dx */
} GcArray;

static int gc_arrays(Case *c, GcArray *arr) {
    int k = 0;
    arr[k++] = (GcArray){"x", c->x.data, c->dx.data, NULL, tensor_numel(&c->x), 1};
    if (c->x2.data)
        arr[k++] = (GcArray){"x2", c->x2.data, c->dx2.data, NULL, tensor_numel(&c->x2), 1};
    for (int i = 0; i < c->params.n; i++) {
        Param *p = c->params.items[i];
        assert_true(k < GC_MAX_ARRAYS);
        arr[k++] = (GcArray){p->name, p->data, p->grad, NULL, p->numel, 0};
    }
    return k;
}

static void gc_zero(GcArray *arr, int na) {
    for (int a = 0; a < na; a++)
        memset(arr[a].grad, 0, arr[a].n * sizeof(float));
}

static double loss_at(Case *c, int train) {
    c->forward(c, train);
    double loss = 0;
    for (size_t i = 0; i < tensor_numel(&c->y); i++)
        loss += (double)c->y.data[i] * c->r.data[i];
    return loss;
}

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* Each gradient equals factor times the kept one (to the rounding of a
 * repeated accumulation), or is still 0 for an input when inputs_zero;
 * returns the number of mismatches. */
static int gc_expect_multiple(const Case *c, const GcArray *arr, int na, double factor,
                              int inputs_zero, const char *what) {
    int bad = 0;
    for (int a = 0; a < na; a++) {
        int zero = arr[a].is_input && inputs_zero;
        double tol = zero ? 0 : 1e-5 * max_abs(arr[a].analytic, arr[a].n);
        for (size_t i = 0; i < arr[a].n; i++) {
            double want = zero ? 0 : factor * arr[a].analytic[i];
            if (fabs(arr[a].grad[i] - want) > tol && bad++ < REPORT_MAX)
                print_error("%s: %s: %s[%zu] = %.9g, expected %.9g\n", c->name, what,
                            arr[a].name, i, arr[a].grad[i], want);
        }
    }
    return bad;
}

/* Finite differences of one array against its analytic gradient. The step
 * is the float difference actually made, (x+h) - (x-h) after rounding. */
static int gc_compare(Case *c, const GcArray *g, double h, double rtol, double atol) {
    double scale = max_abs(g->analytic, g->n), worst = 0;
    int bad = 0;
    for (size_t i = 0; i < g->n; i++) {
        float x0 = g->data[i], xp = (float)(x0 + h), xm = (float)(x0 - h);
        g->data[i] = xp;
        double lp = loss_at(c, c->fd_train);
        g->data[i] = xm;
        double lm = loss_at(c, c->fd_train);
        g->data[i] = x0;
        double numeric = (lp - lm) / ((double)xp - (double)xm), analytic = g->analytic[i];
        double err = fabs(numeric - analytic), tol = rtol * fabs(analytic) + atol * scale;
        worst = fmax(worst, err / fmax(tol, 1e-30));
        if (err > tol && bad++ < REPORT_MAX)
            print_error("%s: d/d%s[%zu]: numeric %.7g, analytic %.7g (tolerance %.3g)\n",
                        c->name, g->name, i, numeric, analytic, tol);
    }
    if (bad || getenv("NOISETTE_TEST_VERBOSE"))
        print_message("%s: %s: %d of %zu gradients off, worst at %.3f x tolerance\n",
                      c->name, g->name, bad, g->n, worst);
    return bad;
}

/* The checks of one case, with step h, relative tolerance rtol and absolute
 * tolerance atol (a fraction of the array's largest gradient):
 *   1. a training forward and a backward give the analytic gradients;
 *   2. a second backward doubles every gradient (backward accumulates);
 *   3. a backward with NULL input gradients gives the same parameter
 *      gradients and leaves the input gradients alone;
 *   4. central differences of L = sum(y * r) in double match step 1.
 * Tolerance: the layers compute in float, so L carries rounding of about
 * 1e-7 relative per output element the step touches; divided by 2h = 2e-2
 * that is a few 1e-5 of a gradient of order 1, and the O(h^2) truncation
 * of the central difference adds up to ~1e-4 relative on these inputs
 * (the cubic attention is the worst). The bound, 2e-3 relative plus 2e-4
 * of the array's largest gradient (for values that cancel to near 0),
 * keeps a 4x margin over the worst case seen (NOISETTE_TEST_VERBOSE=1
 * prints each array's), and a wrong term shows up at order 1. Kinks are
 * kept out of reach of the step by the inputs (ReLU, max pool). */
static void grad_check(Case *c, double h, double rtol, double atol) {
    GcArray arr[GC_MAX_ARRAYS];
    int na = gc_arrays(c, arr), bad = 0;

    /* Step 1: analytic gradients. */
    gc_zero(arr, na);
    c->forward(c, 1);
    c->backward(c, 1);
    for (int a = 0; a < na; a++) {
        arr[a].analytic = malloc(arr[a].n * sizeof(float));
        assert_non_null(arr[a].analytic);
        memcpy(arr[a].analytic, arr[a].grad, arr[a].n * sizeof(float));
        assert_true(max_abs(arr[a].analytic, arr[a].n) > 0 || arr[a].n == 0);
    }

    /* Steps 2 and 3: accumulation and NULL input gradients. */
    c->backward(c, 1);
    bad += gc_expect_multiple(c, arr, na, 2.0, 0, "second backward");
    gc_zero(arr, na);
    c->backward(c, 0);
    bad += gc_expect_multiple(c, arr, na, 1.0, 1, "backward without dx");

    /* Step 4: finite differences. */
    for (int a = 0; a < na; a++)
        bad += gc_compare(c, &arr[a], h, rtol, atol);
    for (int a = 0; a < na; a++)
        free(arr[a].analytic);
    if (bad)
        fail_msg("%s: %d gradient checks failed", c->name, bad);
}

#define GC_H    1e-2
#define GC_RTOL 2e-3
#define GC_ATOL 2e-4

/* ---- gradient checks, one test per layer --------------------------------- */

static void test_conv2d_gradients(void **state) {
    (void)state;
    static const struct {
        const char *name;
        int n, ci, co, h, w, k, stride, groups, bias;
    } cases[] = {
        {"conv 3x3 s1 5x7 bias", 2, 3, 4, 5, 7, 3, 1, 1, 1},
        {"conv 3x3 s2 groups 2 5x7", 1, 4, 6, 5, 7, 3, 2, 2, 0},
        {"conv 1x1 s2 4x4 bias", 2, 3, 2, 4, 4, 1, 2, 1, 1},
        {"conv 1x1 s1 batch 1 5x7", 1, 2, 3, 5, 7, 1, 1, 1, 0},
        {"conv 3x3 s2 depthwise 6x5", 2, 4, 4, 6, 5, 3, 2, 4, 1},
        {"conv 3x3 s1 3x3 input", 1, 2, 2, 3, 3, 3, 1, 1, 1},
    };
    Rng rng;
    rng_seed(&rng, 1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Case c = {.name = cases[i].name};
        case_conv(&c, &rng, cases[i].n, cases[i].ci, cases[i].co, cases[i].h, cases[i].w,
                  cases[i].k, cases[i].stride, cases[i].groups, cases[i].bias);
        grad_check(&c, GC_H, GC_RTOL, GC_ATOL);
        case_free(&c);
    }
}

static void test_batchnorm_gradients(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 2);
    Case c = {.name = "batchnorm 2x3x5x7"};
    case_bn(&c, &rng, 2, 3, 5, 7);
    grad_check(&c, GC_H, GC_RTOL, GC_ATOL);
    case_free(&c);

    Case one = {.name = "batchnorm batch 1, 1x4x3x2"};
    case_bn(&one, &rng, 1, 4, 3, 2);
    grad_check(&one, GC_H, GC_RTOL, GC_ATOL);
    case_free(&one);
}

static void test_activation_gradients(void **state) {
    (void)state;
    static const struct {
        const char *name;
        ActKind act;
        double scale;
    } cases[] = {
        {"relu", ACT_RELU, 1.0},
        {"mish", ACT_MISH, 3.0},
        {"sigmoid", ACT_SIGMOID, 3.0},
        {"identity", ACT_NONE, 1.0},
    };
    Rng rng;
    rng_seed(&rng, 3);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Case c = {.name = cases[i].name};
        case_act(&c, &rng, cases[i].act, 2, 3, 5, 7, cases[i].scale);
        grad_check(&c, GC_H, GC_RTOL, GC_ATOL);
        case_free(&c);
    }
}

static void test_pool_gradients(void **state) {
    (void)state;
    static const struct {
        const char *name;
        PoolKind kind;
        int k, stride, pad, ceil_mode, n, c, h, w;
    } cases[] = {
        {"maxpool 3/2/1 7x9", POOL_MAX, 3, 2, 1, 0, 2, 2, 7, 9},
        {"maxpool 3/2/1 ceil 6x8", POOL_MAX, 3, 2, 1, 1, 1, 2, 6, 8},
        {"maxpool 2/2/1 ceil 3x5", POOL_MAX, 2, 2, 1, 1, 1, 2, 3, 5},
        {"maxpool 2/2 floor 5x7", POOL_MAX, 2, 2, 0, 0, 2, 2, 5, 7},
        {"avgpool 2/2 ceil 5x7", POOL_AVG, 2, 2, 0, 1, 2, 3, 5, 7},
        {"avgpool 3/2/1 ceil 5x6", POOL_AVG, 3, 2, 1, 1, 1, 2, 5, 6},
    };
    Rng rng;
    rng_seed(&rng, 4);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Case c = {.name = cases[i].name};
        case_pool(&c, &rng, cases[i].kind, cases[i].k, cases[i].stride, cases[i].pad,
                  cases[i].ceil_mode, cases[i].n, cases[i].c, cases[i].h, cases[i].w);
        grad_check(&c, GC_H, GC_RTOL, GC_ATOL);
        case_free(&c);
    }

    Case gap = {.name = "global avgpool 5x7"};
    case_gap(&gap, &rng, 2, 3, 5, 7);
    grad_check(&gap, GC_H, GC_RTOL, GC_ATOL);
    case_free(&gap);
}

static void test_linear_gradients(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 5);
    Case c = {.name = "linear 8 -> 5 from 2x2x2"};
    case_linear(&c, &rng, 3, 2, 2, 2, 5);
    grad_check(&c, GC_H, GC_RTOL, GC_ATOL);
    case_free(&c);

    Case one = {.name = "linear 7 -> 3, batch 1"};
    case_linear(&one, &rng, 1, 7, 1, 1, 3);
    grad_check(&one, GC_H, GC_RTOL, GC_ATOL);
    case_free(&one);
}

static void test_combine_gradients(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 6);
    Case add = {.name = "add 2x3x4x5"};
    case_combine(&add, &rng, 0, 2, 3, 4, 5);
    grad_check(&add, GC_H, GC_RTOL, GC_ATOL);
    case_free(&add);

    Case scale = {.name = "scale 2x4x3x5 by 2x4"};
    case_combine(&scale, &rng, 1, 2, 4, 3, 5);
    grad_check(&scale, GC_H, GC_RTOL, GC_ATOL);
    case_free(&scale);

    Case se = {.name = "SE block 8 -> 4 -> 8 on 2x8x5x5"};
    case_se(&se, &rng, 2, 8, 4, 5, 5);
    grad_check(&se, GC_H, GC_RTOL, GC_ATOL);
    case_free(&se);
}

static void test_attention_gradients(void **state) {
    (void)state;
    static const struct {
        const char *name;
        int n, c, h, w, sym;
        float gamma;
    } cases[] = {
        {"attention sym 0, 2x4x3x5", 2, 4, 3, 5, 0, 0.7f},
        {"attention sym 1, 2x4x3x5", 2, 4, 3, 5, 1, 0.7f},
        {"attention sym 1, batch 1, 1x6x2x3", 1, 6, 2, 3, 1, -0.4f},
        {"attention sym 0, 3x5x1x4", 3, 5, 1, 4, 0, 1.3f},
    };
    Rng rng;
    rng_seed(&rng, 7);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Case c = {.name = cases[i].name};
        case_attention(&c, &rng, cases[i].n, cases[i].c, cases[i].h, cases[i].w, cases[i].sym,
                       cases[i].gamma);
        grad_check(&c, GC_H, GC_RTOL, GC_ATOL);
        case_free(&c);
    }
}

/* ---- modes, statistics and edge values ------------------------------------ */

/* Two channels of M = 4 values: channel 0 holds 1, 2 (sample 0) and 3, 4
 * (sample 1): mean 2.5, biased variance 1.25, unbiased 5/3. */
static void test_batchnorm_running_stats_and_eval(void **state) {
    (void)state;
    ParamList params = {0}, buffers = {0};
    BatchNorm bn;
    assert_int_equal(batchnorm_setup(&bn, &params, &buffers, "bn", 2, 0), 0);
    assert_non_null(param_find(&params, "bn.weight"));
    assert_non_null(param_find(&params, "bn.bias"));
    assert_non_null(param_find(&buffers, "bn.running_mean"));
    assert_non_null(param_find(&buffers, "bn.running_var"));
    assert_true(param_find(&params, "bn.weight")->no_decay);
    assert_float_equal(bn.running_var->data[0], 1.0f, 0);

    /* One training step moves the running statistics by 0.1. */
    float xd[8] = {1, 2, -1, 1, 3, 4, 0, 4}, yd[8];
    Tensor x = {xd, 2, 2, 1, 2}, y = {yd, 2, 2, 1, 2};
    batchnorm_forward(&bn, &x, &y, 1);
    assert_float_equal(bn.running_mean->data[0], 0.25f, 1e-7);
    assert_float_equal(bn.running_var->data[0], 0.9f + 0.1f * 5.0f / 3.0f, 1e-6);
    assert_float_equal(bn.running_mean->data[1], 0.1f, 1e-7);      /* mean 1 */
    assert_float_equal(bn.running_var->data[1], 0.9f + 0.1f * 14.0f / 3.0f, 1e-6);
    assert_float_equal(yd[0], (float)((1 - 2.5) / sqrt(1.25 + 1e-5)), 1e-6);
    assert_float_equal(yd[5], (float)((4 - 2.5) / sqrt(1.25 + 1e-5)), 1e-6);

    /* Evaluation uses the running statistics and changes nothing. */
    bn.weight->data[1] = 2.0f, bn.bias->data[1] = -0.5f;
    float rm = bn.running_mean->data[1], rv = bn.running_var->data[1];
    batchnorm_forward(&bn, &x, &y, 0);
    for (int i = 0; i < 8; i++) {
        int ch = (i / 2) % 2;
        double w = ch ? 2.0 : 1.0, b = ch ? -0.5 : 0.0;
        double want = w * (xd[i] - bn.running_mean->data[ch])
                      / sqrt(bn.running_var->data[ch] + 1e-5) + b;
        assert_float_equal(yd[i], (float)want, 1e-5);
    }
    assert_true(bn.running_mean->data[1] == rm && bn.running_var->data[1] == rv);

    /* A zero-weight BN (the last of a residual branch) outputs its bias. */
    BatchNorm zero;
    assert_int_equal(batchnorm_setup(&zero, &params, &buffers, "bn0", 2, 1), 0);
    batchnorm_forward(&zero, &x, &y, 1);
    for (int i = 0; i < 8; i++)
        assert_float_equal(yd[i], 0.0f, 0);
    batchnorm_free(&zero);
    batchnorm_free(&bn);
    param_list_free(&params);
    param_list_free(&buffers);
}

/* Batch norm in evaluation may run in place (y = x) and gives the
 * out-of-place result. (Training may not: its backward pass reads x.) */
static void test_batchnorm_in_place(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 8);
    Case c = {.name = "batchnorm in place"};
    case_bn(&c, &rng, 2, 3, 4, 3);
    bn_fwd(&c, 1);      /* moves the running statistics away from 0 and 1 */
    batchnorm_forward(&c.bn, &c.x, &c.y, 0);
    size_t n = tensor_numel(&c.x);
    Tensor same = c.x;
    batchnorm_forward(&c.bn, &same, &same, 0);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(same.data[i], c.y.data[i], 1e-6);
    case_free(&c);
}

static float mish_ref(double x) {
    double sp = x > 20 ? x : log1p(exp(x));
    return (float)(x * tanh(sp));
}

/* No inf or NaN at any |x|; values and slopes where their limits are known. */
static void test_activation_large_inputs(void **state) {
    (void)state;
    float xs[] = {-1e30f, -1e4f, -1e3f, -100.0f, -88.8f, -30.0f, -20.5f, -20.0f, -1.0f,
                  0.0f, 1.0f, 19.5f, 20.0f, 20.5f, 30.0f, 88.8f, 100.0f, 1e3f, 1e4f, 1e30f};
    enum { NX = sizeof xs / sizeof *xs };
    float y[NX], ones[NX], dx[NX];
    Tensor tx = {xs, 1, NX, 1, 1}, ty = {y, 1, NX, 1, 1}, tones = {ones, 1, NX, 1, 1};
    Tensor tdx = {dx, 1, NX, 1, 1};
    for (int i = 0; i < NX; i++)
        ones[i] = 1.0f;
    ActKind acts[] = {ACT_MISH, ACT_SIGMOID, ACT_RELU};
    for (size_t a = 0; a < sizeof acts / sizeof *acts; a++) {
        memset(dx, 0, sizeof dx);
        activation_forward(acts[a], &tx, &ty);
        activation_backward(acts[a], &tx, &ty, &tones, &tdx);
        for (int i = 0; i < NX; i++) {
            if (!isfinite(y[i]) || !isfinite(dx[i]))
                fail_msg("activation %d at x = %g: y = %g, dy/dx = %g", (int)acts[a], xs[i],
                         y[i], dx[i]);
            if (acts[a] == ACT_MISH) {
                double want = mish_ref(xs[i]);
                assert_float_equal(y[i], want, 1e-6 * fmax(1, fabs(want)));
                if (fabsf(xs[i]) >= 30)
                    assert_float_equal(dx[i], xs[i] > 0 ? 1.0f : 0.0f, 1e-6);
            }
            if (acts[a] == ACT_SIGMOID && fabsf(xs[i]) >= 100) {
                assert_float_equal(y[i], xs[i] > 0 ? 1.0f : 0.0f, 1e-30);
                assert_float_equal(dx[i], 0.0f, 1e-30);
            }
        }
    }
}

/* Mish's own exponential: over [-90, 25] in steps of 1/128 (the ends
 * clamped), the value within 4e-7 relative of the double formula (or
 * 1e-35 absolute: below -87 it is clamped to x e^-87) and the slope
 * within 1e-6; NaN in, NaN out. */
static void test_mish_accuracy(void **state) {
    (void)state;
    enum { NX = 115 * 128 + 1 };
    float *x = malloc(NX * sizeof *x), *y = malloc(NX * sizeof *y);
    float *ones = malloc(NX * sizeof *ones), *dx = calloc(NX, sizeof *dx);
    assert_true(x && y && ones && dx);
    for (int i = 0; i < NX; i++)
        x[i] = -90.0f + (float)i / 128.0f, ones[i] = 1.0f;
    Tensor tx = {x, 1, NX, 1, 1}, ty = {y, 1, NX, 1, 1}, tones = {ones, 1, NX, 1, 1};
    Tensor tdx = {dx, 1, NX, 1, 1};
    activation_forward(ACT_MISH, &tx, &ty);
    activation_backward(ACT_MISH, &tx, &ty, &tones, &tdx);
    for (int i = 0; i < NX; i++) {
        double xi = x[i], sp = xi > 20 ? xi : log1p(exp(xi)), t = tanh(sp);
        double sig = 1.0 / (1.0 + exp(-xi));
        double want = xi * t, slope = xi > 20 ? 1.0 : t + xi * sig * (1.0 - t * t);
        if (fabs(y[i] - want) > fmax(4e-7 * fabs(want), 1e-35))
            fail_msg("mish(%.9g) = %.9g, want %.9g", xi, y[i], want);
        if (fabs(dx[i] - slope) > 1e-6)
            fail_msg("mish'(%.9g) = %.9g, want %.9g", xi, dx[i], slope);
    }

    x[0] = NAN;
    tx.c = ty.c = 1;
    activation_forward(ACT_MISH, &tx, &ty);
    assert_true(isnan(y[0]));
    free(x), free(y), free(ones), free(dx);
}

/* ReLU and sigmoid may run in place, and give the out-of-place result. */
static void test_activation_in_place(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 9);
    ActKind acts[] = {ACT_RELU, ACT_SIGMOID};
    for (size_t a = 0; a < sizeof acts / sizeof *acts; a++) {
        Case c = {.name = "in place"};
        case_act(&c, &rng, acts[a], 1, 2, 3, 4, 2.0);
        act_fwd(&c, 1);
        Tensor same = c.x;
        activation_forward(acts[a], &same, &same);
        for (size_t i = 0; i < tensor_numel(&c.x); i++)
            assert_float_equal(same.data[i], c.y.data[i], 0);
        case_free(&c);
    }
}

static double vector_norm(const float *v, int n) {
    double sq = 0;
    for (int i = 0; i < n; i++)
        sq += (double)v[i] * v[i];
    return sqrt(sq);
}

/* Names and shapes as PyTorch's; training forwards move u and v (unit
 * vectors) and evaluation forwards do not; gamma = 0 is the identity; and
 * the power iteration makes sigma converge to the largest singular value
 * (here of a diagonal matrix, 3). */
static void test_attention_modes(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 10);
    Case c = {.name = "attention modes"};
    case_attention(&c, &rng, 2, 3, 2, 2, 0, 0.0f);
    SelfAttention *l = &c.attn;
    assert_ptr_equal(param_find(&c.params, PREFIX ".gamma"), l->gamma);
    assert_ptr_equal(param_find(&c.params, PREFIX ".conv.weight_orig"), l->weight);
    assert_ptr_equal(param_find(&c.buffers, PREFIX ".conv.weight_u"), l->u);
    assert_ptr_equal(param_find(&c.buffers, PREFIX ".conv.weight_v"), l->v);
    assert_int_equal(l->weight->ndim, 3);
    assert_int_equal(l->weight->shape[2], 1);
    assert_float_equal(vector_norm(l->u->data, 3), 1.0, 1e-6);

    /* gamma = 0: the identity, in either mode. */
    float u0[3], v0[3];
    memcpy(u0, l->u->data, sizeof u0), memcpy(v0, l->v->data, sizeof v0);
    attn_fwd(&c, 0);
    assert_memory_equal(l->u->data, u0, sizeof u0);
    assert_memory_equal(l->v->data, v0, sizeof v0);
    assert_memory_equal(c.y.data, c.x.data, tensor_numel(&c.x) * sizeof(float));
    attn_fwd(&c, 1);
    assert_memory_equal(c.y.data, c.x.data, tensor_numel(&c.x) * sizeof(float));
    assert_float_equal(vector_norm(l->u->data, 3), 1.0, 1e-6);
    assert_float_equal(vector_norm(l->v->data, 3), 1.0, 1e-6);

    /* sigma of diag(1, -3, 2) after a few training steps. */
    memset(l->weight->data, 0, 9 * sizeof(float));
    l->weight->data[0] = 1, l->weight->data[4] = -3, l->weight->data[8] = 2;
    for (int i = 0; i < 30; i++)
        attn_fwd(&c, 1);
    assert_float_equal(l->sigma, 3.0f, 1e-4);
    case_free(&c);
}

/* An evaluation forward right after a training forward gives the same
 * output (it uses the u, v the training forward left). */
static void test_attention_eval_matches_train(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 11);
    Case c = {.name = "attention eval"};
    case_attention(&c, &rng, 2, 4, 3, 3, 1, 0.5f);
    attn_fwd(&c, 1);
    size_t n = tensor_numel(&c.y);
    float *train = malloc(n * sizeof *train);
    assert_non_null(train);
    memcpy(train, c.y.data, n * sizeof *train);
    attn_fwd(&c, 0);
    assert_memory_equal(train, c.y.data, n * sizeof *train);
    free(train);
    case_free(&c);
}

/* Set-up refuses shapes that cannot work, naming them. */
static void test_setup_errors(void **state) {
    (void)state;
    ParamList params = {0};
    Conv2d conv;
    Pool2d pool;
    Linear fc;
    assert_int_equal(conv2d_setup(&conv, &params, "c", 6, 4, 3, 1, 4, 0), ERR_INVALID);
    assert_contains(err_msg(), "4 groups");
    assert_int_equal(pool2d_setup(&pool, POOL_MAX, 2, 2, 2, 0, 4), ERR_INVALID);
    assert_contains(err_msg(), "padding 2");
    assert_int_equal(linear_setup(&fc, &params, "fc", 0, 3), ERR_INVALID);
    assert_int_equal(params.n, 0);
    param_list_free(&params);
}

/* ---- golden values from PyTorch ------------------------------------------- */

#define GOLDEN_ATOL 1e-5
#define GOLDEN_RTOL 1e-4

static const GoldenArray *golden_sized(const Golden *g, const char *name, size_t n) {
    const GoldenArray *a = golden_get(g, name);
    if (a->numel != n)
        fail_msg("golden array %s has %zu values, the test expects %zu", name, a->numel, n);
    return a;
}

static void golden_copy(const Golden *g, const char *name, float *dst, size_t n) {
    memcpy(dst, golden_sized(g, name, n)->data, n * sizeof *dst);
}

/* got against the fixture's array, |got - want| <= 1e-5 + 1e-4 |want|
 * (float arithmetic against a float64 reference rounded once to float);
 * fails the test naming the case, the array and the worst element. */
static void golden_expect(const Golden *g, const char *file, const char *name,
                          const float *got, size_t n) {
    char what[160];
    snprintf(what, sizeof what, "layers/%s.bin: %s", file, name);
    golden_compare(what, got, golden_sized(g, name, n)->data, n, GOLDEN_ATOL, GOLDEN_RTOL);
}

/* The parameter name without "l.", as the fixtures name it. */
static const char *short_name(const Param *p) {
    return p->name + strlen(PREFIX ".");
}

/* Loads inputs, parameters and buffers from the fixture, runs a training
 * forward and a backward of sum(y * r), and compares the output, the moved
 * buffers ("<name>_out"), dx and every parameter gradient ("d<name>"). */
static void golden_run(Case *c, const Golden *g, const char *file) {
    char name[PARAM_NAME_MAX + 8];
    golden_copy(g, "x", c->x.data, tensor_numel(&c->x));
    golden_copy(g, "r", c->r.data, tensor_numel(&c->r));
    for (int i = 0; i < c->params.n; i++) {
        Param *p = c->params.items[i];
        golden_copy(g, short_name(p), p->data, p->numel);
        memset(p->grad, 0, p->numel * sizeof *p->grad);
    }
    for (int i = 0; i < c->buffers.n; i++)
        golden_copy(g, short_name(c->buffers.items[i]), c->buffers.items[i]->data,
                    c->buffers.items[i]->numel);

    /* Forward: the output and the buffers it moved. */
    c->forward(c, 1);
    golden_expect(g, file, "y", c->y.data, tensor_numel(&c->y));
    for (int i = 0; i < c->buffers.n; i++) {
        snprintf(name, sizeof name, "%s_out", short_name(c->buffers.items[i]));
        golden_expect(g, file, name, c->buffers.items[i]->data, c->buffers.items[i]->numel);
    }

    /* Backward: dx and the parameter gradients. */
    memset(c->dx.data, 0, tensor_numel(&c->dx) * sizeof(float));
    c->backward(c, 1);
    golden_expect(g, file, "dx", c->dx.data, tensor_numel(&c->dx));
    for (int i = 0; i < c->params.n; i++) {
        Param *p = c->params.items[i];
        snprintf(name, sizeof name, "d%s", short_name(p));
        golden_expect(g, file, name, p->grad, p->numel);
    }
}

static void golden_open(Golden *g, const char *file) {
    char path[4096];
    snprintf(path, sizeof path, "%s/layers/%s.bin", NOISETTE_GOLDEN, file);
    golden_load(g, path);
}

static void golden_check(Case *c, const char *file) {
    Golden g;
    golden_open(&g, file);
    golden_run(c, &g, file);
    golden_free(&g);
}

static void test_golden_conv2d(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 20);
    Case a = {.name = "golden conv"}, b = {.name = "golden conv"}, d = {.name = "golden conv"};
    case_conv(&a, &rng, 2, 3, 4, 5, 7, 3, 1, 1, 1);
    golden_check(&a, "conv_basic");
    case_conv(&b, &rng, 1, 4, 6, 5, 7, 3, 2, 2, 0);
    golden_check(&b, "conv_groups_stride");
    case_conv(&d, &rng, 2, 3, 5, 6, 5, 1, 2, 1, 1);
    golden_check(&d, "conv_1x1_stride");
    case_free(&a), case_free(&b), case_free(&d);
}

/* The training step, then an evaluation forward with the moved statistics. */
static void test_golden_batchnorm(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 21);
    Case c = {.name = "golden batchnorm"};
    case_bn(&c, &rng, 2, 3, 5, 7);
    Golden g;
    golden_open(&g, "batchnorm");
    golden_run(&c, &g, "batchnorm");
    bn_fwd(&c, 0);
    golden_expect(&g, "batchnorm", "y_eval", c.y.data, tensor_numel(&c.y));
    golden_free(&g);
    case_free(&c);
}

static void test_golden_activations(void **state) {
    (void)state;
    static const struct {
        const char *file;
        ActKind act;
    } cases[] = {{"relu", ACT_RELU}, {"mish", ACT_MISH}, {"sigmoid", ACT_SIGMOID}};
    Rng rng;
    rng_seed(&rng, 22);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Case c = {.name = cases[i].file};
        case_act(&c, &rng, cases[i].act, 2, 3, 4, 5, 1.0);
        golden_check(&c, cases[i].file);
        case_free(&c);
    }
}

static void test_golden_pools(void **state) {
    (void)state;
    static const struct {
        const char *file;
        PoolKind kind;
        int k, stride, pad, ceil_mode, n, c, h, w;
    } cases[] = {
        {"maxpool_3_2_1", POOL_MAX, 3, 2, 1, 0, 2, 3, 9, 11},
        {"maxpool_3_2_1_ceil", POOL_MAX, 3, 2, 1, 1, 1, 2, 6, 8},
        {"maxpool_2_2_1_ceil", POOL_MAX, 2, 2, 1, 1, 1, 2, 3, 5},
        {"maxpool_2", POOL_MAX, 2, 2, 0, 0, 2, 2, 5, 7},
        {"avgpool_2_ceil", POOL_AVG, 2, 2, 0, 1, 2, 3, 5, 7},
        {"avgpool_3_2_1_ceil_nopad", POOL_AVG, 3, 2, 1, 1, 2, 2, 5, 6},
    };
    Rng rng;
    rng_seed(&rng, 23);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        Case c = {.name = cases[i].file};
        case_pool(&c, &rng, cases[i].kind, cases[i].k, cases[i].stride, cases[i].pad,
                  cases[i].ceil_mode, cases[i].n, cases[i].c, cases[i].h, cases[i].w);
        golden_check(&c, cases[i].file);
        case_free(&c);
    }
    Case gap = {.name = "global_avgpool"};
    case_gap(&gap, &rng, 2, 3, 5, 7);
    golden_check(&gap, "global_avgpool");
    case_free(&gap);
}

static void test_golden_linear_and_se(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 24);
    Case fc = {.name = "linear"}, se = {.name = "se"};
    case_linear(&fc, &rng, 3, 2, 2, 2, 5);
    golden_check(&fc, "linear");
    case_se(&se, &rng, 2, 8, 4, 5, 5);
    golden_check(&se, "se");
    case_free(&fc), case_free(&se);
}

static void test_golden_attention(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 25);
    for (int sym = 0; sym <= 1; sym++) {
        Case c = {.name = "attention"};
        case_attention(&c, &rng, 2, 8, 3, 5, sym, 0.5f);
        golden_check(&c, sym ? "attention_sym1" : "attention_sym0");
        case_free(&c);
    }
}

int main(void) {
    be = backend_reference();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_gradients),
        cmocka_unit_test(test_batchnorm_gradients),
        cmocka_unit_test(test_activation_gradients),
        cmocka_unit_test(test_pool_gradients),
        cmocka_unit_test(test_linear_gradients),
        cmocka_unit_test(test_combine_gradients),
        cmocka_unit_test(test_attention_gradients),
        cmocka_unit_test(test_batchnorm_running_stats_and_eval),
        cmocka_unit_test(test_batchnorm_in_place),
        cmocka_unit_test(test_activation_large_inputs),
        cmocka_unit_test(test_mish_accuracy),
        cmocka_unit_test(test_activation_in_place),
        cmocka_unit_test(test_attention_modes),
        cmocka_unit_test(test_attention_eval_matches_train),
        cmocka_unit_test(test_setup_errors),
        cmocka_unit_test(test_golden_conv2d),
        cmocka_unit_test(test_golden_batchnorm),
        cmocka_unit_test(test_golden_activations),
        cmocka_unit_test(test_golden_pools),
        cmocka_unit_test(test_golden_linear_and_se),
        cmocka_unit_test(test_golden_attention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
