/* Temporary files and string checks for the unit tests; see test_util.h. */
#define _GNU_SOURCE
#include "test_util.h"

#include "nn/backend.h"
#include "nn/model.h"
#include "util/rng.h"

#include <dirent.h>
#include <math.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *test_mkdtemp(void) {
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);
    assert_non_null(path);
    snprintf(path, 4096, "%s/noisette-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

static void make_parents(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
}

void test_write(const char *path, const void *data, size_t len) {
    make_parents(path);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

void test_write_str(const char *path, const char *s) {
    test_write(path, s, strlen(s));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void test_rmtree(const char *path) {
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void test_assert_contains(const char *haystack, const char *needle, const char *file, int line) {
    if (!strstr(haystack, needle)) {
        print_error("%s:%d: expected text containing \"%s\", got \"%s\"\n", file, line, needle,
                    haystack);
        _fail(file, line);
    }
}

char *test_table_bytes(const LabelTable *t, size_t *len) {
    char *buf = NULL;
    size_t n;
    FILE *fp = open_memstream(&buf, &n);
    assert_non_null(fp);
    assert_int_equal(labels_write(t, fp), 0);
    fclose(fp);
    if (len)
        *len = n;
    return buf;
}

int test_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* ---- backends against the reference ---- */

/* Largest |a[i]|, at least 1e-30 so that a zero array compares exactly. */
static double max_abs(const float *a, size_t n) {
    double m = 1e-30;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i]));
    return m;
}

double test_expect_close_to_max(const char *what, const float *got, const float *want,
                                size_t n, double rel) {
    double tol = rel * max_abs(want, n), worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= worst))
            worst = d, at = i;
    }
    if (!(worst <= tol))
        fail_msg("%s: [%zu] = %.9g, reference %.9g (difference %.3g, tolerance %.3g)", what,
                 at, (double)got[at], (double)want[at], worst, tol);
    return worst / max_abs(want, n);
}

/* The tolerance is 1e-3 of each array's largest element: float sums taken
 * in another order differ by ~1e-7 relative per product, and twenty
 * layers, batch norm's division by batch statistics above all, carry and
 * amplify that; single elements can be near zero by cancellation, so an
 * element-wise relative bound would mean nothing. 64 px, not 32: at 32 px
 * the last stage is 1 x 1, its batch norms see 2 values per channel, map
 * them to about -1 and +1 whatever they are, and pass back a gradient that
 * is almost all cancellation; there the BLAS and reference backends
 * differed by up to 3e-3 over five seeds, against 1.5e-5 at most at 64 px
 * (2 x 2 x 2 values). */
double test_whole_model_vs_reference(const void *be, uint64_t seed) {
    enum { N = 2, S = 64, OUT = 10 };
    ModelConfig cfg;
    model_config_default(&cfg, "xresnet18");
    cfg.width_div = 8;
    Model m[2];
    for (int b = 0; b < 2; b++) {
        Rng rng;
        rng_seed(&rng, seed);
        assert_int_equal(model_build(&m[b], &cfg, N, S, b ? be : backend_reference(), &rng), 0);

        /* Make every branch matter: BN weights away from 0, identical in both. */
        for (int i = 0; i < m[b].params.n; i++) {
            Param *p = m[b].params.items[i];
            if (strstr(p->name, "bn.weight"))
                for (size_t e = 0; e < p->numel; e++)
                    p->data[e] = 0.5f + 0.5f * (float)rng_uniform(&rng);
        }
    }
    float *x = malloc((size_t)N * 3 * S * S * sizeof *x), dz[N * OUT];
    assert_non_null(x);
    Rng rng;
    rng_seed(&rng, seed + 1);
    for (size_t i = 0; i < (size_t)N * 3 * S * S; i++)
        x[i] = (float)rng_normal(&rng);
    for (int i = 0; i < N * OUT; i++)
        dz[i] = (float)rng_normal(&rng);

    /* Forward and backward with each backend, then the logits and every
     * gradient compared. */
    for (int b = 0; b < 2; b++) {
        model_forward(&m[b], x, N, 1);
        model_zero_grad(&m[b]);
        model_backward(&m[b], dz);
    }
    double worst = test_expect_close_to_max("logits", model_logits(&m[1])->data,
                                            model_logits(&m[0])->data, N * OUT, 1e-3);
    assert_int_equal(m[0].params.n, m[1].params.n);
    for (int i = 0; i < m[0].params.n; i++) {
        const Param *p0 = m[0].params.items[i], *p1 = m[1].params.items[i];
        char what[PARAM_NAME_MAX + 16];
        assert_string_equal(p0->name, p1->name);
        assert_memory_equal(p0->data, p1->data, p0->numel * sizeof(float));
        snprintf(what, sizeof what, "grad %s", p0->name);
        worst = fmax(worst, test_expect_close_to_max(what, p1->grad, p0->grad, p0->numel,
                                                     1e-3));
    }
    free(x);
    model_free(&m[0]);
    model_free(&m[1]);
    return worst;
}
