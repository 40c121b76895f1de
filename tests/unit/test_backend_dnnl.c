/* The oneDNN backend (src/nn/backend_dnnl.c) against the reference backend:
 * the three convolution kernels in each layout the backend can run them in
 * (its default choice, oneDNN's blocked layout, plain NCHW, channels-last),
 * on chosen shapes (plain, strided, padded, 1x1, grouped with 1 to 32
 * channels per group, odd sizes, batches 1 and 3) and random ones; the
 * "+=" kernels starting from non-zero arrays; the primitive cache (a shape
 * seen before builds nothing and gives the same bits; a new thread count
 * builds anew); two threads at once; a whole xresnet18 forward and
 * backward; and the name. Every shape must run on oneDNN itself, not on
 * the BLAS fallback.
 *
 * Tolerance for one kernel whose outputs are sums of L products:
 *   |dnnl - ref| <= (1e-5 + 1e-4 * |ref|) * sqrt(L)
 * the BLAS backend's test's bound, for the same reason: both sum in float,
 * in different orders, and rounding errors of a sum of L terms grow about
 * as sqrt(L) times the terms' size (inputs uniform in [-1, 1]). */
#include "test_util.h"

#include "conv_check.h"

#include "nn/backend.h"
#include "nn/backend_internal.h"
#include "nn/model.h"
#include "util/err.h"
#include "util/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const Backend *ref, *dnnl;

static const char *const LAYOUT_NAMES[DNNL_LAYOUT_COUNT] = {"auto", "blocked", "nchw", "nhwc"};

/* ---- the three kernels against the reference ------------------------------ */

/* The arrays of one convolution: inputs, and each backend's outputs. */
typedef struct {
    size_t nx, nw, ny;
    float *x, *w, *dy;
    float *y[2], *dx[2], *dw[2];    /* [0] reference, [1] dnnl */
} ConvCase;

static void case_init(ConvCase *c, const ConvGeom *g, Rng *rng) {
    c->nx = (size_t)g->n * g->ci * g->h * g->w;
    c->nw = (size_t)g->co * (g->ci / g->groups) * g->k * g->k;
    c->ny = (size_t)g->n * g->co * g->oh * g->ow;
    c->x = alloc_floats(c->nx), c->w = alloc_floats(c->nw), c->dy = alloc_floats(c->ny);
    fill_uniform(rng, c->x, c->nx), fill_uniform(rng, c->w, c->nw);
    fill_uniform(rng, c->dy, c->ny);
    for (int b = 0; b < 2; b++) {
        c->y[b] = alloc_floats(c->ny), c->dx[b] = alloc_floats(c->nx);
        c->dw[b] = alloc_floats(c->nw);
    }
}

static void case_free(ConvCase *c) {
    free(c->x), free(c->w), free(c->dy);
    for (int b = 0; b < 2; b++)
        free(c->y[b]), free(c->dx[b]), free(c->dw[b]);
}

/* Both backends' three kernels on c, dnnl in layout. y starts as NaN (the
 * forward must overwrite it); dx and dw start from the same random values
 * for both, so the "+=" is checked along with the sums. */
static void check_case(const ConvGeom *g, ConvCase *c, DnnlLayout layout, Rng *rng) {
    fill_value(c->y[0], c->ny, NAN), fill_value(c->y[1], c->ny, NAN);
    fill_uniform(rng, c->dx[0], c->nx), fill_uniform(rng, c->dw[0], c->nw);
    memcpy(c->dx[1], c->dx[0], c->nx * sizeof(float));
    memcpy(c->dw[1], c->dw[0], c->nw * sizeof(float));

    /* Run both backends. */
    backend_dnnl_set_layout(layout);
    for (int b = 0; b < 2; b++) {
        const Backend *be = b ? dnnl : ref;
        be->conv2d_forward(g, c->x, c->w, c->y[b]);
        be->conv2d_backward_data(g, c->dy, c->w, c->dx[b]);
        be->conv2d_backward_weight(g, c->x, c->dy, c->dw[b]);
    }
    backend_dnnl_set_layout(DNNL_LAYOUT_AUTO);

    /* Compare, each with its own reduction length. */
    char what[200];
    int cig = g->ci / g->groups, cog = g->co / g->groups, kk = g->k * g->k;
    int len = snprintf(what, sizeof what, "%s n=%d ci=%d %dx%d co=%d k=%d s=%d p=%d g=%d",
                       LAYOUT_NAMES[layout], g->n, g->ci, g->h, g->w, g->co, g->k, g->stride,
                       g->pad, g->groups);
    snprintf(what + len, sizeof what - len, " forward");
    expect_close(what, c->y[1], c->y[0], c->ny, (double)cig * kk);
    snprintf(what + len, sizeof what - len, " backward_data");
    expect_close(what, c->dx[1], c->dx[0], c->nx, (double)cog * kk);
    snprintf(what + len, sizeof what - len, " backward_weight");
    expect_close(what, c->dw[1], c->dw[0], c->nw, (double)g->n * g->oh * g->ow);
}

/* g in every layout, all on oneDNN: a BLAS fallback would pass the
 * comparison while testing nothing of this backend. */
static void check_conv(const ConvGeom *g, Rng *rng) {
    ConvCase c;
    case_init(&c, g, rng);
    long fallbacks = backend_dnnl_fallbacks();
    for (int layout = 0; layout < DNNL_LAYOUT_COUNT; layout++)
        check_case(g, &c, (DnnlLayout)layout, rng);
    if (backend_dnnl_fallbacks() != fallbacks)
        fail_msg("n=%d ci=%d %dx%d co=%d k=%d s=%d p=%d g=%d: %ld calls ran on BLAS", g->n,
                 g->ci, g->h, g->w, g->co, g->k, g->stride, g->pad, g->groups,
                 backend_dnnl_fallbacks() - fallbacks);
    case_free(&c);
}

/* Plain, strided, padded, unpadded, 1x1 (also strided), odd sides, wide
 * kernels, a kernel wider than the input, channel counts that fill no
 * SIMD block; batches 1 and 3. */
static void test_conv_chosen_shapes(void **state) {
    (void)state;
    static const int cases[][9] = {
        /* n, ci, h, w, co, k, stride, pad, groups */
        {3, 8, 6, 6, 8, 3, 1, 1, 1},      /* plain 3x3 */
        {1, 5, 7, 9, 6, 3, 1, 1, 1},      /* odd sides and channels */
        {3, 4, 11, 8, 10, 3, 2, 1, 1},    /* stride 2 */
        {1, 2, 10, 10, 3, 3, 3, 1, 1},    /* stride 3: the last rows skipped */
        {3, 3, 6, 7, 2, 3, 1, 0, 1},      /* no padding */
        {1, 3, 15, 13, 5, 7, 2, 3, 1},    /* a 7x7 stem */
        {3, 2, 3, 4, 3, 7, 1, 3, 1},      /* 7x7 wider than a 3x4 input */
        {3, 4, 1, 1, 6, 3, 1, 1, 1},      /* 1x1 input, 3x3 kernel */
        {3, 8, 5, 7, 12, 1, 1, 0, 1},     /* 1x1 */
        {1, 6, 9, 9, 4, 1, 2, 0, 1},      /* 1x1 stride 2 */
        {3, 32, 8, 8, 64, 1, 1, 0, 1},    /* 1x1, whole SIMD blocks */
        {1, 64, 9, 9, 32, 3, 2, 1, 1},    /* 3x3 stride 2, whole blocks */
        {3, 17, 5, 5, 33, 3, 1, 1, 1},    /* one past whole blocks */
    };
    Rng rng;
    rng_seed(&rng, 21);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        ConvGeom g = geom(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
        check_conv(&g, &rng);
    }
}

/* Grouped: depthwise (1 channel per group, with and without a channel
 * multiplier), then ResNeXt's 32 groups of 4, 8, 16 and 32 channels, at
 * strides 1 and 2, and grouped 1x1. */
static void test_conv_grouped(void **state) {
    (void)state;
    static const int cases[][9] = {
        {3, 8, 9, 7, 8, 3, 2, 1, 8},          /* depthwise */
        {1, 4, 6, 6, 8, 3, 1, 1, 4},          /* depthwise, 2 outputs per channel */
        {3, 6, 6, 5, 4, 3, 1, 1, 2},          /* 2 groups, 3 -> 2 channels */
        {3, 128, 8, 8, 128, 3, 1, 1, 32},     /* 4 channels per group */
        {1, 128, 9, 9, 128, 3, 2, 1, 32},     /* 4 per group, stride 2 */
        {1, 256, 6, 6, 256, 3, 1, 1, 32},     /* 8 per group */
        {3, 512, 4, 4, 512, 3, 1, 1, 32},     /* 16 per group */
        {1, 1024, 5, 5, 1024, 3, 2, 1, 32},   /* 32 per group, stride 2 */
        {1, 16, 8, 8, 4, 1, 1, 0, 4},         /* grouped 1x1 */
    };
    Rng rng;
    rng_seed(&rng, 22);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        ConvGeom g = geom(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
        check_conv(&g, &rng);
    }
}

/* The xresnet's own widths at a small size: wide reductions (L up to
 * 4608) test the tolerance's sqrt(L). */
static void test_conv_wide(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 23);
    ConvGeom a = geom(1, 512, 4, 4, 256, 3, 1, 1, 1);
    ConvGeom b = geom(3, 256, 8, 8, 64, 1, 1, 0, 1);
    check_conv(&a, &rng);
    check_conv(&b, &rng);
}

static int draw(Rng *rng, int lo, int hi) {
    return lo + (int)rng_below(rng, (uint64_t)(hi - lo + 1));
}

/* Random geometries: batch 1-3, kernel 1, 3, 5 or 7, stride 1-3, padding
 * up to K/2, 1-3 groups or depthwise, sides 1-13. Over a hundred shapes
 * in four layouts and three kernels also fill each thread's cache past
 * its size, so eviction runs too. */
static void test_conv_random_shapes(void **state) {
    (void)state;
    static const int kernels[] = {1, 3, 5, 7};
    Rng rng;
    rng_seed(&rng, 24);
    for (int t = 0; t < 40; t++) {
        int k = kernels[rng_below(&rng, 4)], pad = draw(&rng, 0, k / 2);
        int groups = draw(&rng, 1, 4), cig = draw(&rng, 1, 5), cog = draw(&rng, 1, 5);
        if (groups == 4)
            groups = draw(&rng, 2, 6), cig = 1;     /* depthwise */
        int h = draw(&rng, 1, 13), w = draw(&rng, 1, 13);
        if (h + 2 * pad < k || w + 2 * pad < k)
            h += k, w += k;
        ConvGeom g = geom(draw(&rng, 1, 3), cig * groups, h, w, cog * groups, k,
                          draw(&rng, 1, 3), pad, groups);
        check_conv(&g, &rng);
    }
}

/* ---- the cache ------------------------------------------------------------ */

/* Each kernel of one shape, twice per forced layout: the first call
 * builds one primitive per kernel, the second none and gives the same bits
 * (the "+=" kernels from the same starting values). Then the default
 * layout, which picks among those, builds nothing at all. */
static void test_cache_reuse(void **state) {
    (void)state;
    static const DnnlLayout order[] = {DNNL_LAYOUT_BLOCKED, DNNL_LAYOUT_NCHW, DNNL_LAYOUT_NHWC,
                                       DNNL_LAYOUT_AUTO};
    ConvGeom g = geom(3, 24, 11, 10, 40, 3, 2, 1, 4);
    ConvCase c;
    Rng rng;
    rng_seed(&rng, 25);
    case_init(&c, &g, &rng);
    float *start_dx = alloc_floats(c.nx), *start_dw = alloc_floats(c.nw);
    fill_uniform(&rng, start_dx, c.nx), fill_uniform(&rng, start_dw, c.nw);

    for (int i = 0; i < DNNL_LAYOUT_COUNT; i++) {
        backend_dnnl_set_layout(order[i]);
        for (int call = 0; call < 2; call++) {
            long before = backend_dnnl_primitives_created();
            memcpy(c.dx[call], start_dx, c.nx * sizeof(float));
            memcpy(c.dw[call], start_dw, c.nw * sizeof(float));
            dnnl->conv2d_forward(&g, c.x, c.w, c.y[call]);
            dnnl->conv2d_backward_data(&g, c.dy, c.w, c.dx[call]);
            dnnl->conv2d_backward_weight(&g, c.x, c.dy, c.dw[call]);
            long want = call == 0 && order[i] != DNNL_LAYOUT_AUTO ? 3 : 0;
            assert_int_equal(backend_dnnl_primitives_created() - before, want);
        }
        assert_memory_equal(c.y[0], c.y[1], c.ny * sizeof(float));
        assert_memory_equal(c.dx[0], c.dx[1], c.nx * sizeof(float));
        assert_memory_equal(c.dw[0], c.dw[1], c.nw * sizeof(float));
    }
    backend_dnnl_set_layout(DNNL_LAYOUT_AUTO);
    free(start_dx), free(start_dw);
    case_free(&c);
}

/* A new OpenBLAS thread count is a new key: oneDNN splits its work for
 * the count a primitive is made with, and the backend follows OpenBLAS's
 * count. Back at the old count, the old primitive serves again. */
static void test_cache_thread_count(void **state) {
    (void)state;
    ConvGeom g = geom(2, 16, 8, 8, 16, 3, 1, 1, 1);
    ConvCase c;
    Rng rng;
    rng_seed(&rng, 26);
    case_init(&c, &g, &rng);
    int threads = openblas_get_num_threads();
    dnnl->conv2d_forward(&g, c.x, c.w, c.y[0]);

    /* One thread: a new primitive, the same sums up to rounding. */
    long before = backend_dnnl_primitives_created();
    openblas_set_num_threads(threads == 1 ? 2 : 1);
    dnnl->conv2d_forward(&g, c.x, c.w, c.y[1]);
    assert_int_equal(backend_dnnl_primitives_created() - before, 1);
    expect_close("other thread count", c.y[1], c.y[0], c.ny, 16.0 * 9);

    /* Back: nothing new. */
    openblas_set_num_threads(threads);
    before = backend_dnnl_primitives_created();
    dnnl->conv2d_forward(&g, c.x, c.w, c.y[1]);
    assert_int_equal(backend_dnnl_primitives_created() - before, 0);
    assert_memory_equal(c.y[0], c.y[1], c.ny * sizeof(float));
    case_free(&c);
}

/* ---- threads -------------------------------------------------------------- */

/* Two threads, two geometries of different buffer sizes, at once. */
static void test_two_threads(void **state) {
    (void)state;
    conv_check_two_threads(dnnl, 27);
}

/* ---- whole model ---------------------------------------------------------- */

/* xresnet18 at 1/8 width on both backends (test_util.c). */
static void test_whole_model(void **state) {
    (void)state;
    double worst = test_whole_model_vs_reference(dnnl, 28);
    print_message("whole model: worst difference %.2g of an array's largest element\n", worst);
}

/* ---- name ----------------------------------------------------------------- */

static void test_by_name(void **state) {
    (void)state;
    assert_ptr_equal(backend_by_name("dnnl"), dnnl);
    assert_string_equal(dnnl->name, "dnnl");
    assert_null(backend_by_name("onednn"));
    assert_contains(err_msg(), "dnnl");
}

int main(void) {
    ref = backend_reference();
    dnnl = backend_dnnl();
    assert_non_null(dnnl);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_chosen_shapes),
        cmocka_unit_test(test_conv_grouped),
        cmocka_unit_test(test_conv_wide),
        cmocka_unit_test(test_conv_random_shapes),
        cmocka_unit_test(test_cache_reuse),
        cmocka_unit_test(test_cache_thread_count),
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_whole_model),
        cmocka_unit_test(test_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
