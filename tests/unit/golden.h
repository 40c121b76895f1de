/* Golden fixtures: named float arrays written by the generators in tools/
 * (format in tools/golden_format.py), for comparing against PyTorch. */
#ifndef NOISETTE_TEST_GOLDEN_H
#define NOISETTE_TEST_GOLDEN_H

#include <stddef.h>

typedef struct {
    char   *name;
    int     ndim, dims[8];
    float  *data;
    size_t  numel;
} GoldenArray;

typedef struct {
    GoldenArray *arrays;
    int          n;
} Golden;

/* Loads path (fails the test on a malformed file). */
void golden_load(Golden *g, const char *path);

/* The array named name; fails the test if absent. */
const GoldenArray *golden_get(const Golden *g, const char *name);

/* The array named name, or NULL. */
const GoldenArray *golden_find(const Golden *g, const char *name);

void golden_free(Golden *g);

/* Compares got with want (n floats) within atol + rtol * |want|; on
 * failure prints what, the worst element and its values, and fails. */
void golden_compare(const char *what, const float *got, const float *want, size_t n,
                    double atol, double rtol);

/* One loss case of tools/make_loss_golden.py or make_robust_loss_golden.py
 * (raw little-endian): the inputs, then torch's float64 outputs. */
typedef struct {
    int     n, k;
    float  *logits, *weights;   /* weights NULL when the case is unweighted */
    int    *targets;
    double *losses, *dz, mean;
} GoldenLoss;

/* Loads the case file path of n samples over k classes; fails the test on
 * a short or long file. */
void golden_loss_load(GoldenLoss *g, const char *path, int n, int k, int weighted);

/* Compares the C outputs with the case's within 1e-6 + 1e-6 |want| and
 * prints the worst element as a fraction of that tolerance, under name.
 * Returns 1 when every output is within it. */
int golden_loss_check(const char *name, const GoldenLoss *g, const float *losses,
                      const float *dz, double mean);

void golden_loss_free(GoldenLoss *g);

#endif
