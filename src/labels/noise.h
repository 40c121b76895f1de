/* Noise generation: fills a label table's noisy columns from its truth.
 *
 * Only training rows are touched; validation rows keep their true label.
 *   NOISE_UNIFORM  the reference notebook's rule, per level P: a uniformly
 *                  random set of exactly ceil(P/100 * N) training rows gets a
 *                  label drawn uniformly from the K-1 other classes.
 *   NOISE_PAIRFLIP class i -> class i+1 (mod K, sorted order), per class:
 *                  round(P/100 * N_i) rows of class i, halves rounded up.
 *   NOISE_MATRIX   a K x K row-stochastic T: of class i's N_i training rows,
 *                  N_i * T_ij (largest remainder) get label j. One level.
 * Levels are independent draws (as the reference) unless nested is set: then
 * each level's changed rows, with their wrong labels, contain the lower
 * level's. Integer arithmetic and the seeded xoshiro stream only, so a seed
 * gives byte-identical labels on every machine. */
#ifndef NOISETTE_LABELS_NOISE_H
#define NOISETTE_LABELS_NOISE_H

#include "labels/label_table.h"

#include <stdint.h>

typedef enum {
    NOISE_UNIFORM,
    NOISE_PAIRFLIP,
    NOISE_MATRIX
} NoiseKind;

typedef struct {
    NoiseKind     kind;
    int           n_levels;
    double        levels[LABELS_MAX_LEVELS];   /* percent, in (0,100), ascending */
    uint64_t      seed;
    int           nested;
    const double *matrix;                      /* K x K row-major, NOISE_MATRIX */
} NoiseSpec;

/* Number of the N training rows the uniform rule changes at pct percent:
 * ceil(pct * N / 100), with pct * N formed exactly for whole-number pct. */
long noise_uniform_count(double pct, long n);

/* Rows of a class of n training rows that pair-flip moves at pct percent:
 * round(pct * n / 100), halves rounded up, the product exact as above. */
long noise_pairflip_count(double pct, long n);

/* Splits n items over k bins in proportion to weights (summing to 1):
 * floor(n * w_j) each, then one more to the bins with the largest
 * remainders (ties to the lower index). counts[] sums to n. */
void noise_largest_remainder(long n, const double *weights, int k, long *counts);

/* Replaces t's noisy columns with spec's levels (NOISE_MATRIX: one column,
 * at spec->levels[0]) and fills them. t->truth and t->is_valid are read. */
int noise_apply(LabelTable *t, const NoiseSpec *spec);

/* Checks a K x K matrix: entries in [0,1], rows summing to 1 (+-1e-6).
 * On failure the message names the row and column (1-based). */
int noise_check_matrix(const double *m, int k);

/* Expected percentage of training rows a matrix changes for t's class
 * counts: 100 * sum_i N_i (1 - T_ii) / N. */
double noise_matrix_rate(const LabelTable *t, const double *m);

#endif
