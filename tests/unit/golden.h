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

#endif
