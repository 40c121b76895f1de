/* The reference backend (src/nn/backend_ref.c) on cases small enough to
 * work out by hand: convolutions (1x1, 3x3 with padding, grouped, strided)
 * and their two backward kernels, gemm in all four transpose combinations
 * against a naive loop, and pooling output sizes and values under
 * PyTorch's ceil-mode rule. Faster backends are held to this one. */
#include "test_util.h"

#include "nn/backend.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

static const Backend *be;

#define ASSERT_FLOATS(got, want, n, eps)                                             \
    do {                                                                             \
        for (size_t i_ = 0; i_ < (size_t)(n); i_++)                                  \
            if (fabs((double)(got)[i_] - (double)(want)[i_]) > (eps))                \
                fail_msg("%s[%zu] = %.9g, expected %.9g", #got, i_, (double)(got)[i_], \
                         (double)(want)[i_]);                                        \
    } while (0)

static ConvGeom conv_geom(int n, int ci, int h, int w, int co, int k, int stride, int pad,
                          int groups) {
    ConvGeom g = {n, ci, h, w, co, k, stride, pad, groups, 0, 0};
    conv_geom_finish(&g);
    return g;
}

/* ---- convolution ---------------------------------------------------------- */

/* 1x1: y[co] = sum over ci of w[co, ci] * x[ci], at every position; the
 * backward kernels are W^T dy and sum over positions of x * dy. */
static void test_conv_1x1(void **state) {
    (void)state;
    ConvGeom g = conv_geom(1, 2, 2, 2, 3, 1, 1, 0, 1);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float w[6] = {1, 2, -1, 0.5f, 0, 3};
    float y[12], want[12] = {11, 14, 17, 20, 1.5f, 1, 0.5f, 0, 15, 18, 21, 24};
    be->conv2d_forward(&g, x, w, y);
    ASSERT_FLOATS(y, want, 12, 0);

    /* dy = 1 everywhere; dx starts at 1 to show accumulation. */
    float dy[12], dx[8], dw[6] = {0};
    for (int i = 0; i < 12; i++)
        dy[i] = 1;
    for (int i = 0; i < 8; i++)
        dx[i] = 1;
    float dx_want[8] = {1, 1, 1, 1, 6.5f, 6.5f, 6.5f, 6.5f};
    float dw_want[6] = {10, 26, 10, 26, 10, 26};
    be->conv2d_backward_data(&g, dy, w, dx);
    be->conv2d_backward_weight(&g, x, dy, dw);
    ASSERT_FLOATS(dx, dx_want, 8, 0);
    ASSERT_FLOATS(dw, dw_want, 6, 0);
}

/* 3x3 with padding 1 on x = 1..9: all-ones weights sum each neighbourhood;
 * a single tap at (0, 0) shifts x down and right (cross-correlation, as
 * PyTorch's conv2d, not a flipped convolution). */
static void test_conv_3x3_padding(void **state) {
    (void)state;
    ConvGeom g = conv_geom(1, 1, 3, 3, 1, 3, 1, 1, 1);
    assert_int_equal(g.oh, 3);
    assert_int_equal(g.ow, 3);
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, ones[9], tap[9] = {1}, y[9];
    for (int i = 0; i < 9; i++)
        ones[i] = 1;
    float sums[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    float shifted[9] = {0, 0, 0, 0, 1, 2, 0, 4, 5};
    be->conv2d_forward(&g, x, ones, y);
    ASSERT_FLOATS(y, sums, 9, 0);
    be->conv2d_forward(&g, x, tap, y);
    ASSERT_FLOATS(y, shifted, 9, 0);

    /* With dy = 1: the tap sends dy back up and left; the weight gradient
     * of x against ones is again the neighbourhood sums. */
    float dx[9] = {0}, dw[9] = {0};
    float dx_want[9] = {1, 1, 0, 1, 1, 0, 0, 0, 0};
    be->conv2d_backward_data(&g, ones, tap, dx);
    be->conv2d_backward_weight(&g, x, ones, dw);
    ASSERT_FLOATS(dx, dx_want, 9, 0);
    ASSERT_FLOATS(dw, sums, 9, 0);
}

/* Groups: output channel 0 sees input channels 0-1 only, channel 1 sees
 * 2-3, with weights CO x CI/G = 2 x 2. */
static void test_conv_groups(void **state) {
    (void)state;
    ConvGeom g = conv_geom(1, 4, 1, 1, 2, 1, 1, 0, 2);
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 10, 100, 1000}, y[2];
    float want[2] = {21, 4300};
    be->conv2d_forward(&g, x, w, y);
    ASSERT_FLOATS(y, want, 2, 0);

    float dy[2] = {1, 2}, dx[4] = {0}, dw[4] = {0};
    float dx_want[4] = {1, 10, 200, 2000}, dw_want[4] = {1, 2, 6, 8};
    be->conv2d_backward_data(&g, dy, w, dx);
    be->conv2d_backward_weight(&g, x, dy, dw);
    ASSERT_FLOATS(dx, dx_want, 4, 0);
    ASSERT_FLOATS(dw, dw_want, 4, 0);
}

/* Stride 2, 3x3 ones, padding 1 on a 5x5 x[r][c] = 5r + c: 3x3 windows
 * centred on even rows and columns, clipped at the border. */
static void test_conv_stride2(void **state) {
    (void)state;
    ConvGeom g = conv_geom(1, 1, 5, 5, 1, 3, 2, 1, 1);
    assert_int_equal(g.oh, 3);
    assert_int_equal(g.ow, 3);
    float x[25], ones[9], y[9];
    for (int i = 0; i < 25; i++)
        x[i] = (float)i;
    for (int i = 0; i < 9; i++)
        ones[i] = 1;
    float want[9] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
    be->conv2d_forward(&g, x, ones, y);
    ASSERT_FLOATS(y, want, 9, 0);

    /* Each x cell gets one dy per window covering it: 1, 2 or 4. */
    float dx[25] = {0}, dx_want[25] = {1, 2, 1, 2, 1, 2, 4, 2, 4, 2, 1, 2, 1,
                                       2, 1, 2, 4, 2, 4, 2, 1, 2, 1, 2, 1};
    be->conv2d_backward_data(&g, ones, ones, dx);
    ASSERT_FLOATS(dx, dx_want, 25, 0);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* The backward kernels are the forward's adjoints on a random grouped,
 * strided, odd-sized shape: <conv(x, w), dy> = <x, bwd_data(dy, w)>
 * = <w, bwd_weight(x, dy)>. */
static void test_conv_adjoint(void **state) {
    (void)state;
    ConvGeom g = conv_geom(2, 4, 5, 7, 6, 3, 2, 1, 2);
    enum { NX = 2 * 4 * 5 * 7, NW = 6 * 2 * 3 * 3, NY = 2 * 6 * 3 * 4 };
    assert_int_equal(g.n * g.co * g.oh * g.ow, NY);
    static float x[NX], w[NW], y[NY], dy[NY], dx[NX], dw[NW];
    Rng rng;
    rng_seed(&rng, 1);
    for (int i = 0; i < NX; i++)
        x[i] = (float)rng_normal(&rng);
    for (int i = 0; i < NW; i++)
        w[i] = (float)rng_normal(&rng);
    for (int i = 0; i < NY; i++)
        dy[i] = (float)rng_normal(&rng);
    memset(dx, 0, sizeof dx), memset(dw, 0, sizeof dw);
    be->conv2d_forward(&g, x, w, y);
    be->conv2d_backward_data(&g, dy, w, dx);
    be->conv2d_backward_weight(&g, x, dy, dw);
    double fwd = dot(y, dy, NY);
    assert_float_equal(dot(x, dx, NX), fwd, 1e-4 * fabs(fwd) + 1e-4);
    assert_float_equal(dot(w, dw, NW), fwd, 1e-4 * fabs(fwd) + 1e-4);
}

/* ---- gemm ----------------------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C, from explicit transposes and three loops. */
static void naive_gemm(int ta, int tb, int m, int n, int k, double alpha, const float *a,
                       const float *b, double beta, float *c) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[p * m + i] : a[i * k + p];
                double bv = tb ? b[j * k + p] : b[p * n + j];
                s += av * bv;
            }
            c[i * n + j] = (float)(alpha * s + (beta ? beta * c[i * n + j] : 0));
        }
}

static void test_gemm_transposes(void **state) {
    (void)state;
    enum { M = 3, N = 4, K = 5 };
    float a[M * K], b[K * N], c0[M * N], got[M * N], want[M * N];
    Rng rng;
    rng_seed(&rng, 2);
    for (int i = 0; i < M * K; i++)
        a[i] = (float)rng_normal(&rng);
    for (int i = 0; i < K * N; i++)
        b[i] = (float)rng_normal(&rng);
    for (int i = 0; i < M * N; i++)
        c0[i] = (float)rng_normal(&rng);

    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++) {
            /* beta = 0.5 blends the old C in; beta = 0 ignores it, NaN included. */
            memcpy(got, c0, sizeof got), memcpy(want, c0, sizeof want);
            be->gemm(ta, tb, M, N, K, 1.5f, a, b, 0.5f, got);
            naive_gemm(ta, tb, M, N, K, 1.5, a, b, 0.5, want);
            ASSERT_FLOATS(got, want, M * N, 1e-5);
            for (int i = 0; i < M * N; i++)
                got[i] = NAN;
            be->gemm(ta, tb, M, N, K, 1.0f, a, b, 0.0f, got);
            naive_gemm(ta, tb, M, N, K, 1.0, a, b, 0.0, want);
            ASSERT_FLOATS(got, want, M * N, 1e-5);
        }

    /* A 2x2 product written out: [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50]. */
    float p[4] = {1, 2, 3, 4}, q[4] = {5, 6, 7, 8}, r[4], pq[4] = {19, 22, 43, 50};
    be->gemm(0, 0, 2, 2, 2, 1.0f, p, q, 0.0f, r);
    ASSERT_FLOATS(r, pq, 4, 0);
}

/* ---- pooling -------------------------------------------------------------- */

/* Output sizes against PyTorch 1.13's MaxPool2d / AvgPool2d, including the
 * ceil-mode rule that drops a last window starting in the right padding. */
static void test_pool_output_sizes(void **state) {
    (void)state;
    static const struct {
        int h, k, stride, pad, ceil_mode, want;
    } cases[] = {
        {5, 2, 2, 0, 1, 3},  {4, 2, 2, 0, 1, 2},  {5, 2, 2, 0, 0, 2},  {7, 2, 2, 0, 1, 4},
        {64, 3, 2, 1, 0, 32}, {128, 3, 2, 1, 0, 64}, {7, 3, 2, 1, 0, 4}, {6, 3, 2, 1, 1, 4},
        {8, 3, 2, 1, 1, 5},  {3, 2, 2, 1, 1, 2},  {2, 3, 2, 1, 1, 2},  {1, 2, 2, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        PoolGeom g = {1, 1, cases[i].h, cases[i].h + 1, cases[i].k, cases[i].stride,
                      cases[i].pad, cases[i].ceil_mode, 0, 0};
        pool_geom_finish(&g);
        if (g.oh != cases[i].want)
            fail_msg("pool H=%d k=%d s=%d p=%d ceil=%d: %d rows, PyTorch has %d", cases[i].h,
                     cases[i].k, cases[i].stride, cases[i].pad, cases[i].ceil_mode, g.oh,
                     cases[i].want);
    }
}

/* Max 2x2/2 on 4x4: each quadrant's maximum and where it sits; the backward
 * pass routes dy to those cells only. */
static void test_maxpool_values(void **state) {
    (void)state;
    PoolGeom g = {1, 1, 4, 4, 2, 2, 0, 0, 0, 0};
    pool_geom_finish(&g);
    float x[16] = {1, 9, 2, 3, 4, 5, 8, 7, -1, -2, 6, 0, -3, -4, 1, 6.5f};
    float y[4], want[4] = {9, 8, -1, 6.5f};
    int argmax[4], argmax_want[4] = {1, 6, 8, 15};
    be->maxpool_forward(&g, x, y, argmax);
    ASSERT_FLOATS(y, want, 4, 0);
    assert_memory_equal(argmax, argmax_want, sizeof argmax);

    float dy[4] = {1, 2, 3, 4}, dx[16] = {0};
    be->maxpool_backward(&g, dy, argmax, dx);
    float dx_want[16] = {0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 4};
    ASSERT_FLOATS(dx, dx_want, 16, 0);
}

/* Max 3x3/2/1 on 3x3: padding is never a candidate, so all-negative inputs
 * keep their negative maxima. */
static void test_maxpool_padding(void **state) {
    (void)state;
    PoolGeom g = {1, 1, 3, 3, 3, 2, 1, 0, 0, 0};
    pool_geom_finish(&g);
    assert_int_equal(g.oh, 2);
    float x[9], y[4];
    int argmax[4];
    for (int i = 0; i < 9; i++)
        x[i] = (float)(i + 1);
    float up[4] = {5, 6, 8, 9};
    be->maxpool_forward(&g, x, y, argmax);
    ASSERT_FLOATS(y, up, 4, 0);
    for (int i = 0; i < 9; i++)
        x[i] = -x[i];
    float down[4] = {-1, -2, -4, -5};
    be->maxpool_forward(&g, x, y, argmax);
    ASSERT_FLOATS(y, down, 4, 0);
}

/* Average 2x2/2 in ceil mode on 3x3 = 1..9: the last row and column of
 * windows hang over the edge and average only the cells they cover. */
static void test_avgpool_ceil(void **state) {
    (void)state;
    PoolGeom g = {1, 1, 3, 3, 2, 2, 0, 1, 0, 0};
    pool_geom_finish(&g);
    assert_int_equal(g.oh, 2);
    assert_int_equal(g.ow, 2);
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[4], want[4] = {3, 4.5f, 7.5f, 9};
    be->avgpool_forward(&g, x, y);
    ASSERT_FLOATS(y, want, 4, 0);

    float dy[4] = {1, 1, 1, 1}, dx[9] = {0};
    float dx_want[9] = {0.25f, 0.25f, 0.5f, 0.25f, 0.25f, 0.5f, 0.5f, 0.5f, 1};
    be->avgpool_backward(&g, dy, dx);
    ASSERT_FLOATS(dx, dx_want, 9, 0);
}

int main(void) {
    be = backend_reference();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_1x1),
        cmocka_unit_test(test_conv_3x3_padding),
        cmocka_unit_test(test_conv_groups),
        cmocka_unit_test(test_conv_stride2),
        cmocka_unit_test(test_conv_adjoint),
        cmocka_unit_test(test_gemm_transposes),
        cmocka_unit_test(test_pool_output_sizes),
        cmocka_unit_test(test_maxpool_values),
        cmocka_unit_test(test_maxpool_padding),
        cmocka_unit_test(test_avgpool_ceil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
