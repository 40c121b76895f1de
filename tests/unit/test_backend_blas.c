/* The BLAS backend (src/nn/backend_blas.c) against the reference backend:
 * every kernel on chosen and random shapes (kernels 1 to 7, strides
 * 1 to 3, plain, grouped and depthwise convolutions, odd sizes, kernels
 * wider than the input), the "+=" kernels starting from non-zero arrays,
 * gemm in all transpose combinations, two threads at once, and a whole
 * xresnet18 forward and backward built once with each backend.
 *
 * Tolerance for one kernel whose outputs are sums of L products:
 *   |blas - ref| <= (1e-5 + 1e-4 * |ref|) * sqrt(L)
 * Both sum in float, in different orders; rounding errors of a sum of L
 * terms grow about as sqrt(L) times the terms' size; inputs here are
 * uniform in [-1, 1], and the worst case seen is 0.04 of the bound. */
#include "test_util.h"

#include "conv_check.h"

#include "nn/backend.h"
#include "nn/model.h"
#include "util/err.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const Backend *ref, *blas;

/* ---- convolution ---------------------------------------------------------- */

/* The three convolution kernels of both backends on random x, w and dy;
 * dx and dw start from the same random values for both, so the "+=" is
 * checked along with the sums. y starts as NaN: forward must overwrite. */
static void check_conv(const ConvGeom *g, Rng *rng) {
    size_t nx = (size_t)g->n * g->ci * g->h * g->w;
    size_t nw = (size_t)g->co * (g->ci / g->groups) * g->k * g->k;
    size_t ny = (size_t)g->n * g->co * g->oh * g->ow;
    float *x = alloc_floats(nx), *w = alloc_floats(nw), *dy = alloc_floats(ny);
    float *y_ref = alloc_floats(ny), *y_blas = alloc_floats(ny);
    float *dx_ref = alloc_floats(nx), *dx_blas = alloc_floats(nx);
    float *dw_ref = alloc_floats(nw), *dw_blas = alloc_floats(nw);
    fill_uniform(rng, x, nx), fill_uniform(rng, w, nw), fill_uniform(rng, dy, ny);
    fill_uniform(rng, dx_ref, nx), fill_uniform(rng, dw_ref, nw);
    memcpy(dx_blas, dx_ref, nx * sizeof *dx_ref);
    memcpy(dw_blas, dw_ref, nw * sizeof *dw_ref);
    fill_value(y_ref, ny, NAN), fill_value(y_blas, ny, NAN);

    /* Run both backends. */
    ref->conv2d_forward(g, x, w, y_ref);
    blas->conv2d_forward(g, x, w, y_blas);
    ref->conv2d_backward_data(g, dy, w, dx_ref);
    blas->conv2d_backward_data(g, dy, w, dx_blas);
    ref->conv2d_backward_weight(g, x, dy, dw_ref);
    blas->conv2d_backward_weight(g, x, dy, dw_blas);

    /* Compare, each with its own reduction length. */
    char what[160];
    int cig = g->ci / g->groups, cog = g->co / g->groups, kk = g->k * g->k;
    int len = snprintf(what, sizeof what, "n=%d ci=%d %dx%d co=%d k=%d s=%d p=%d g=%d", g->n,
                       g->ci, g->h, g->w, g->co, g->k, g->stride, g->pad, g->groups);
    snprintf(what + len, sizeof what - len, " forward");
    expect_close(what, y_blas, y_ref, ny, (double)cig * kk);
    snprintf(what + len, sizeof what - len, " backward_data");
    expect_close(what, dx_blas, dx_ref, nx, (double)cog * kk);
    snprintf(what + len, sizeof what - len, " backward_weight");
    expect_close(what, dw_blas, dw_ref, nw, (double)g->n * g->oh * g->ow);

    free(x), free(w), free(dy), free(y_ref), free(y_blas);
    free(dx_ref), free(dx_blas), free(dw_ref), free(dw_blas);
}

/* Shapes chosen to reach every path: the 1x1 without copy and with one
 * (stride 2), borders on odd sizes, strides, groups, depthwise with and
 * without a channel multiplier, kernels wider than the input, padding 0;
 * then products of one sample (maps of 512 cells and more, 1x1 from 64)
 * and of several side by side, the last group of samples short; and at
 * stride 1 on 512 cells or more with CI >= CO, backward data as a turned
 * convolution. */
static void test_conv_chosen_shapes(void **state) {
    (void)state;
    static const struct {
        int n, ci, h, w, co, k, stride, pad, groups;
    } cases[] = {
        {3, 8, 5, 7, 12, 1, 1, 0, 1},   /* 1x1: cols is x itself */
        {1, 6, 9, 9, 4, 1, 2, 0, 1},    /* 1x1 stride 2: im2col */
        {3, 5, 7, 9, 6, 3, 1, 1, 1},
        {1, 4, 11, 8, 10, 3, 2, 1, 1},
        {3, 6, 6, 5, 4, 3, 1, 1, 2},
        {1, 6, 7, 7, 9, 3, 2, 1, 3},
        {3, 8, 9, 7, 8, 3, 2, 1, 8},    /* depthwise */
        {1, 4, 6, 6, 8, 3, 1, 1, 4},    /* depthwise, 2 outputs per channel */
        {1, 3, 15, 13, 5, 7, 2, 3, 1},  /* a 7x7 stem */
        {3, 2, 3, 4, 3, 7, 1, 3, 1},    /* 7x7 wider than a 3x4 input */
        {3, 4, 1, 1, 6, 3, 1, 1, 2},    /* 1x1 input, 3x3 kernel */
        {1, 3, 6, 6, 2, 3, 1, 0, 1},    /* no padding */
        {3, 2, 10, 10, 3, 3, 3, 1, 1},  /* stride 3 */
        {1, 16, 8, 8, 4, 1, 1, 0, 4},   /* grouped 1x1 */
        {3, 3, 24, 24, 4, 3, 1, 1, 1},  /* 576 cells: one sample per product */
        {3, 4, 23, 23, 5, 1, 1, 0, 1},  /* 1x1 on 529 cells: in place */
        {5, 4, 8, 8, 6, 1, 1, 0, 1},    /* 1x1 on 64 cells: in place */
        {8, 3, 10, 10, 4, 3, 1, 1, 2},  /* 100 cells: 6 + 2 samples */
        {40, 4, 4, 4, 4, 1, 1, 0, 1},   /* 1x1 on 16 cells: 16 + 16 + 8 */
        {20, 8, 3, 3, 6, 1, 1, 0, 2},   /* 1x1 on 9 cells: all 20 at once */
        {1, 6, 26, 26, 4, 5, 1, 1, 2},  /* turned: 5x5, padding 1, groups */
        {2, 6, 24, 25, 6, 3, 1, 1, 6},  /* turned: depthwise */
        {1, 3, 30, 30, 2, 3, 1, 0, 1},  /* turned: no padding */
        {2, 3, 23, 24, 2, 7, 1, 3, 1},  /* turned: 7x7 */
    };
    Rng rng;
    rng_seed(&rng, 11);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ConvGeom g = geom(cases[i].n, cases[i].ci, cases[i].h, cases[i].w, cases[i].co,
                          cases[i].k, cases[i].stride, cases[i].pad, cases[i].groups);
        check_conv(&g, &rng);
    }
}

/* ResNeXt's grouped 3x3: 32 groups of 4 channels, at stride 1 and 2. */
static void test_conv_resnext(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 12);
    ConvGeom g1 = geom(3, 128, 8, 8, 128, 3, 1, 1, 32);
    ConvGeom g2 = geom(1, 128, 9, 9, 128, 3, 2, 1, 32);
    check_conv(&g1, &rng);
    check_conv(&g2, &rng);
}

/* The xresnet's own widths at a small size: wide reductions (L up to 4608
 * forward, 2304 backward data) test the tolerance's sqrt(L). */
static void test_conv_wide(void **state) {
    (void)state;
    Rng rng;
    rng_seed(&rng, 13);
    ConvGeom a = geom(1, 512, 4, 4, 256, 3, 1, 1, 1);
    ConvGeom b = geom(3, 256, 8, 8, 64, 1, 1, 0, 1);
    ConvGeom c = geom(1, 64, 16, 16, 128, 3, 2, 1, 1);
    check_conv(&a, &rng);
    check_conv(&b, &rng);
    check_conv(&c, &rng);
}

static int draw(Rng *rng, int lo, int hi) {
    return lo + (int)rng_below(rng, (uint64_t)(hi - lo + 1));
}

/* Random geometries: batch 1-3, kernel 1, 3, 5 or 7, stride 1-3, any
 * padding up to K/2, groups 1, 2 or depthwise, sides 1-13. */
static void test_conv_random_shapes(void **state) {
    (void)state;
    static const int kernels[] = {1, 3, 5, 7};
    Rng rng;
    rng_seed(&rng, 14);
    for (int t = 0; t < 60; t++) {
        int k = kernels[rng_below(&rng, 4)], pad = draw(&rng, 0, k / 2);
        int groups = draw(&rng, 1, 3), cig = draw(&rng, 1, 4), cog = draw(&rng, 1, 4);
        if (groups == 3)
            groups = draw(&rng, 2, 6), cig = 1;     /* depthwise */
        int h = draw(&rng, 1, 13), w = draw(&rng, 1, 13);
        if (h + 2 * pad < k || w + 2 * pad < k)
            h += k, w += k;
        ConvGeom g = geom(draw(&rng, 1, 3), cig * groups, h, w, cog * groups, k,
                          draw(&rng, 1, 3), pad, groups);
        check_conv(&g, &rng);
    }
}

/* ---- gemm ----------------------------------------------------------------- */

static void check_gemm(Rng *rng, int ta, int tb, int m, int n, int k, float alpha,
                       float beta) {
    size_t nc = (size_t)m * n;
    float *a = alloc_floats((size_t)m * k), *b = alloc_floats((size_t)k * n);
    float *c_ref = alloc_floats(nc), *c_blas = alloc_floats(nc);
    fill_uniform(rng, a, (size_t)m * k), fill_uniform(rng, b, (size_t)k * n);

    /* beta = 0 must overwrite C, NaN included; otherwise C is blended in. */
    if (beta == 0.0f)
        fill_value(c_ref, nc, NAN), fill_value(c_blas, nc, NAN);
    else
        fill_uniform(rng, c_ref, nc), memcpy(c_blas, c_ref, nc * sizeof *c_ref);
    ref->gemm(ta, tb, m, n, k, alpha, a, b, beta, c_ref);
    blas->gemm(ta, tb, m, n, k, alpha, a, b, beta, c_blas);

    char what[96];
    snprintf(what, sizeof what, "gemm ta=%d tb=%d %dx%dx%d alpha=%g beta=%g", ta, tb, m, n, k,
             (double)alpha, (double)beta);
    expect_close(what, c_blas, c_ref, nc, k);
    free(a), free(b), free(c_ref), free(c_blas);
}

static void test_gemm(void **state) {
    (void)state;
    static const int shapes[][3] = {
        {1, 1, 1}, {7, 5, 13}, {64, 33, 100}, {16, 1, 64}, {1, 40, 9}, {3, 4, 0}, {100, 70, 257},
    };
    Rng rng;
    rng_seed(&rng, 15);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta <= 1; ta++)
            for (int tb = 0; tb <= 1; tb++) {
                check_gemm(&rng, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 1.0f, 0.0f);
                check_gemm(&rng, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 1.0f, 1.0f);
                check_gemm(&rng, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 0.5f,
                           -2.0f);
            }
}

/* ---- pooling -------------------------------------------------------------- */

/* The pools are the reference's loops: equal to the last bit, argmax too,
 * also when the samples are split over threads (the last case is large
 * enough for that, nn/parallel.h). */
static void test_pool(void **state) {
    (void)state;
    static const int cases[][7] = {
        /* n, c, h, k, stride, pad, ceil_mode */
        {2, 3, 7, 3, 2, 1, 0}, {2, 3, 8, 2, 2, 0, 1}, {2, 3, 5, 2, 2, 0, 1},
        {2, 3, 9, 3, 1, 1, 0}, {8, 16, 32, 3, 2, 1, 0},
    };
    Rng rng;
    rng_seed(&rng, 16);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *k = cases[i];
        PoolGeom g = {k[0], k[1], k[2], k[2] + 1, k[3], k[4], k[5], k[6], 0, 0};
        pool_geom_finish(&g);
        size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.c * g.oh * g.ow;
        float *x = alloc_floats(nx), *dy = alloc_floats(ny);
        float *y_max[2], *dx_max[2], *y_avg[2], *dx_avg[2];
        int *arg[2];
        fill_uniform(&rng, x, nx), fill_uniform(&rng, dy, ny);

        /* Both backends, "+=" kernels from 0.25. */
        for (int b = 0; b < 2; b++) {
            const Backend *be = b ? blas : ref;
            y_max[b] = alloc_floats(ny), y_avg[b] = alloc_floats(ny);
            dx_max[b] = alloc_floats(nx), dx_avg[b] = alloc_floats(nx);
            arg[b] = malloc(ny * sizeof *arg[b]);
            assert_non_null(arg[b]);
            fill_value(dx_max[b], nx, 0.25f), fill_value(dx_avg[b], nx, 0.25f);
            be->maxpool_forward(&g, x, y_max[b], arg[b]);
            be->maxpool_backward(&g, dy, arg[b], dx_max[b]);
            be->avgpool_forward(&g, x, y_avg[b]);
            be->avgpool_backward(&g, dy, dx_avg[b]);
        }
        assert_memory_equal(y_max[0], y_max[1], ny * sizeof(float));
        assert_memory_equal(arg[0], arg[1], ny * sizeof(int));
        assert_memory_equal(dx_max[0], dx_max[1], nx * sizeof(float));
        assert_memory_equal(y_avg[0], y_avg[1], ny * sizeof(float));
        assert_memory_equal(dx_avg[0], dx_avg[1], nx * sizeof(float));
        free(x), free(dy);
        for (int b = 0; b < 2; b++)
            free(y_max[b]), free(dx_max[b]), free(y_avg[b]), free(dx_avg[b]), free(arg[b]);
    }
}

/* ---- threads -------------------------------------------------------------- */

/* Two threads, two geometries of different buffer sizes, at once. */
static void test_two_threads(void **state) {
    (void)state;
    conv_check_two_threads(blas, 17);
}

/* ---- whole model ---------------------------------------------------------- */

/* xresnet18 at 1/8 width on both backends (test_util.c). */
static void test_whole_model(void **state) {
    (void)state;
    double worst = test_whole_model_vs_reference(blas, 18);
    print_message("whole model: worst difference %.2g of an array's largest element\n", worst);
}

/* ---- names ---------------------------------------------------------------- */

static void test_by_name(void **state) {
    (void)state;
    assert_ptr_equal(backend_by_name("reference"), ref);
    assert_ptr_equal(backend_by_name("ref"), ref);
    assert_ptr_equal(backend_by_name("blas"), blas);
    assert_string_equal(blas->name, "blas");
    assert_null(backend_by_name("cuda"));
    assert_contains(err_msg(), "cuda");
    assert_null(backend_by_name(NULL));
}

int main(void) {
    ref = backend_reference();
    blas = backend_blas();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_chosen_shapes),
        cmocka_unit_test(test_conv_resnext),
        cmocka_unit_test(test_conv_wide),
        cmocka_unit_test(test_conv_random_shapes),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_whole_model),
        cmocka_unit_test(test_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
