/* What the backend tests share (test_backend_blas.c, test_backend_dnnl.c):
 * arrays, convolution shapes, the tolerance of a kernel against the
 * reference backend, and a two-thread check.
 *
 * Tolerance for one kernel whose outputs are sums of L products:
 *   |fast - ref| <= (1e-5 + 1e-4 * |ref|) * sqrt(L)
 * both backends sum in float, in different orders, and rounding errors of
 * a sum of L terms grow about as sqrt(L) times the terms' size (inputs
 * uniform in [-1, 1]). */
#ifndef NOISETTE_TEST_CONV_CHECK_H
#define NOISETTE_TEST_CONV_CHECK_H

#include "nn/backend.h"
#include "util/rng.h"

#include <stddef.h>
#include <stdint.h>

#define CONV_TOL_ABS 1e-5
#define CONV_TOL_REL 1e-4

/* n floats (at least one), or the test fails. */
float *alloc_floats(size_t n);

/* Uniform in [-1, 1], and all v. */
void fill_uniform(Rng *rng, float *p, size_t n);
void fill_value(float *p, size_t n, float v);

/* The largest |got[i] - want[i]| in units of the tolerance for sums of len
 * products, and where (a NaN is the worst of all): over 1 fails. */
double worst_excess(const float *got, const float *want, size_t n, double len, size_t *at);

/* Fails unless worst_excess <= 1, naming what and the worst element. */
void expect_close(const char *what, const float *got, const float *want, size_t n, double len);

/* The geometry of those sizes, its output side filled in. */
ConvGeom geom(int n, int ci, int h, int w, int co, int k, int stride, int pad, int groups);

/* Two threads running be's forward convolution on two geometries at once,
 * 20 times each, against the reference's result: per-thread buffers shared
 * by mistake would garble one of them. */
void conv_check_two_threads(const Backend *be, uint64_t seed);

#endif
