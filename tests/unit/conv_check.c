/* Shared pieces of the backend tests; see conv_check.h. */
#include "test_util.h"

#include "conv_check.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

float *alloc_floats(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

void fill_uniform(Rng *rng, float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(2.0 * rng_uniform(rng) - 1.0);
}

void fill_value(float *p, size_t n, float v) {
    for (size_t i = 0; i < n; i++)
        p[i] = v;
}

double worst_excess(const float *got, const float *want, size_t n, double len, size_t *at) {
    double scale = sqrt(len > 1 ? len : 1), worst = 0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        double tol = (CONV_TOL_ABS + CONV_TOL_REL * fabs((double)want[i])) * scale;
        double excess = fabs((double)got[i] - (double)want[i]) / tol;
        if (isnan(excess))
            excess = INFINITY;
        if (excess > worst)
            worst = excess, *at = i;
    }
    return worst;
}

void expect_close(const char *what, const float *got, const float *want, size_t n,
                  double len) {
    size_t at;
    double worst = worst_excess(got, want, n, len, &at);
    if (worst > 1)
        fail_msg("%s: [%zu] = %.9g, reference %.9g (%.3g x the tolerance, L = %.0f)", what, at,
                 (double)got[at], (double)want[at], worst, len);
}

ConvGeom geom(int n, int ci, int h, int w, int co, int k, int stride, int pad, int groups) {
    ConvGeom g = {n, ci, h, w, co, k, stride, pad, groups, 0, 0};
    conv_geom_finish(&g);
    return g;
}

typedef struct {
    const Backend *be;
    ConvGeom       g;
    const float   *x, *w, *want;
    float         *y;
    int            bad;
} ThreadJob;

static void *conv_thread(void *arg) {
    ThreadJob *j = arg;
    size_t ny = (size_t)j->g.n * j->g.co * j->g.oh * j->g.ow, at;
    double len = (double)(j->g.ci / j->g.groups) * j->g.k * j->g.k;
    for (int r = 0; r < 20 && !j->bad; r++) {
        j->be->conv2d_forward(&j->g, j->x, j->w, j->y);
        j->bad = worst_excess(j->y, j->want, ny, len, &at) > 1;
    }
    return NULL;
}

void conv_check_two_threads(const Backend *be, uint64_t seed) {
    ThreadJob jobs[2] = {{.be = be, .g = geom(2, 16, 12, 12, 8, 3, 1, 1, 1)},
                         {.be = be, .g = geom(2, 8, 20, 20, 16, 5, 1, 2, 2)}};
    float *mem[2][4];
    Rng rng;
    rng_seed(&rng, seed);
    for (int t = 0; t < 2; t++) {
        ConvGeom *g = &jobs[t].g;
        size_t nx = (size_t)g->n * g->ci * g->h * g->w, ny = (size_t)g->n * g->co * g->oh * g->ow;
        size_t nw = (size_t)g->co * (g->ci / g->groups) * g->k * g->k;
        mem[t][0] = alloc_floats(nx), mem[t][1] = alloc_floats(nw);
        mem[t][2] = alloc_floats(ny), mem[t][3] = alloc_floats(ny);
        fill_uniform(&rng, mem[t][0], nx), fill_uniform(&rng, mem[t][1], nw);
        backend_reference()->conv2d_forward(g, mem[t][0], mem[t][1], mem[t][2]);
        jobs[t].x = mem[t][0], jobs[t].w = mem[t][1], jobs[t].want = mem[t][2];
        jobs[t].y = mem[t][3];
    }
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&th[t], NULL, conv_thread, &jobs[t]), 0);
    for (int t = 0; t < 2; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_false(jobs[t].bad);
        for (int i = 0; i < 4; i++)
            free(mem[t][i]);
    }
}
