/* Golden fixture reader and comparison; see golden.h. */
#include "test_util.h"

#include "golden.h"

#include "util/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char GOLDEN_MAGIC[8] = {'N', 'S', 'G', 'O', 'L', 'D', '1', '\n'};

/* Little-endian reads with bounds checks; any overrun fails the test. */
static void take(const char *buf, size_t len, size_t *pos, void *out, size_t n) {
    if (*pos + n > len)
        fail_msg("golden file truncated at byte %zu", *pos);
    memcpy(out, buf + *pos, n);
    *pos += n;
}

void golden_load(Golden *g, const char *path) {
    char *buf;
    size_t len, pos = 0;
    if (file_read_all(path, (size_t)1 << 30, &buf, &len) != 0)
        fail_msg("cannot read golden file %s", path);
    char magic[8];
    uint32_t count;
    take(buf, len, &pos, magic, 8);
    if (memcmp(magic, GOLDEN_MAGIC, 8) != 0)
        fail_msg("%s: not a golden file", path);
    take(buf, len, &pos, &count, 4);

    g->n = (int)count;
    g->arrays = calloc(count, sizeof *g->arrays);
    for (uint32_t i = 0; i < count; i++) {
        GoldenArray *a = &g->arrays[i];
        uint16_t name_len;
        uint8_t ndim;
        take(buf, len, &pos, &name_len, 2);
        a->name = calloc(name_len + 1u, 1);
        take(buf, len, &pos, a->name, name_len);
        take(buf, len, &pos, &ndim, 1);
        if (ndim > 8)
            fail_msg("%s: array %s has %d dimensions", path, a->name, ndim);
        a->ndim = ndim;
        a->numel = 1;
        for (int d = 0; d < ndim; d++) {
            uint32_t dim;
            take(buf, len, &pos, &dim, 4);
            a->dims[d] = (int)dim;
            a->numel *= dim;
        }
        a->data = malloc(a->numel * sizeof(float) + 1);
        take(buf, len, &pos, a->data, a->numel * sizeof(float));
    }
    free(buf);
}

const GoldenArray *golden_find(const Golden *g, const char *name) {
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->arrays[i].name, name) == 0)
            return &g->arrays[i];
    return NULL;
}

const GoldenArray *golden_get(const Golden *g, const char *name) {
    const GoldenArray *a = golden_find(g, name);
    if (!a)
        fail_msg("golden array %s missing", name);
    return a;
}

void golden_free(Golden *g) {
    for (int i = 0; i < g->n; i++) {
        free(g->arrays[i].name);
        free(g->arrays[i].data);
    }
    free(g->arrays);
    memset(g, 0, sizeof *g);
}

void golden_compare(const char *what, const float *got, const float *want, size_t n,
                    double atol, double rtol) {
    size_t worst = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - want[i]);
        double excess = diff - (atol + rtol * fabs(want[i]));
        if (excess > worst_excess || isnan(got[i])) {
            worst_excess = isnan(got[i]) ? INFINITY : excess;
            worst = i;
        }
    }
    if (worst_excess > 0)
        fail_msg("%s: element %zu is %.8g, PyTorch %.8g (|diff| %.3g > %.3g + %.3g * |ref|)",
                 what, worst, got[worst], want[worst], fabs((double)got[worst] - want[worst]),
                 atol, rtol);
}

/* ---- loss cases ---- */

#define LOSS_ABS_TOL 1e-6
#define LOSS_REL_TOL 1e-6

void golden_loss_load(GoldenLoss *g, const char *path, int n, int k, int weighted) {
    char *buf;
    size_t len, pos = 0, nk = (size_t)n * (size_t)k;
    if (file_read_all(path, (size_t)1 << 24, &buf, &len) != 0)
        fail_msg("cannot read golden file %s", path);
    memset(g, 0, sizeof *g);
    g->n = n, g->k = k;
    g->logits = malloc(nk * sizeof *g->logits);
    g->targets = malloc((size_t)n * sizeof *g->targets);
    g->weights = weighted ? malloc((size_t)n * sizeof *g->weights) : NULL;
    g->losses = malloc((size_t)n * sizeof *g->losses);
    g->dz = malloc(nk * sizeof *g->dz);
    take(buf, len, &pos, g->logits, nk * 4);
    take(buf, len, &pos, g->targets, (size_t)n * 4);
    if (weighted)
        take(buf, len, &pos, g->weights, (size_t)n * 4);
    take(buf, len, &pos, g->losses, (size_t)n * 8);
    take(buf, len, &pos, &g->mean, 8);
    take(buf, len, &pos, g->dz, nk * 8);
    if (pos != len)
        fail_msg("%s: %zu bytes after the case", path, len - pos);
    free(buf);
}

/* The largest difference seen, as a fraction of its tolerance, and where. */
typedef struct {
    double ratio, got, want;
    char   where[64];
} Worst;

static void worst_of(Worst *w, double got, double want, const char *what, size_t i) {
    double ratio = fabs(got - want) / (LOSS_ABS_TOL + LOSS_REL_TOL * fabs(want));
    if (isnan(w->ratio) || ratio <= w->ratio)
        return;
    w->ratio = ratio, w->got = got, w->want = want;
    snprintf(w->where, sizeof w->where, "%s[%zu]", what, i);
}

int golden_loss_check(const char *name, const GoldenLoss *g, const float *losses,
                      const float *dz, double mean) {
    Worst w = {.ratio = -1.0};
    worst_of(&w, mean, g->mean, "mean", 0);
    for (int i = 0; i < g->n; i++)
        worst_of(&w, losses[i], g->losses[i], "loss", (size_t)i);
    for (size_t i = 0; i < (size_t)g->n * (size_t)g->k; i++)
        worst_of(&w, dz[i], g->dz[i], "dlogits", i);
    print_message("%-18s worst at %-12s C %.9g, torch %.9g (%.2f of the tolerance)\n", name,
                  w.where, w.got, w.want, w.ratio);
    return w.ratio <= 1.0;
}

void golden_loss_free(GoldenLoss *g) {
    free(g->logits), free(g->weights), free(g->targets), free(g->losses), free(g->dz);
    memset(g, 0, sizeof *g);
}
