/* Noisy-label generation; see noise.h for the three kinds.
 *
 * The random stream is consumed level by level in ascending order (nested:
 * once, up front), so adding a level never changes the lower ones' rows when
 * nested, and a seed fixes every column. */
#include "labels/noise.h"

#include "util/err.h"
#include "util/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MATRIX_ROW_TOL 1e-6

long noise_uniform_count(double pct, long n) {
    /* pct * n is exact for whole-number pct, and x / 100 is then an integer
     * exactly when the true quotient is; the reference's p*N in binary
     * floating point can overshoot a whole number (1% of 300 -> 4 there). */
    double x = pct * (double)n;
    long k = (long)ceil(x / 100.0);
    return k < n ? k : n;
}

long noise_pairflip_count(double pct, long n) {
    long k = (long)floor(pct * (double)n / 100.0 + 0.5);
    return k < n ? k : n;
}

void noise_largest_remainder(long n, const double *weights, int k, long *counts) {
    long given = 0;
    for (int j = 0; j < k; j++) {
        counts[j] = (long)floor((double)n * weights[j]);
        given += counts[j];
    }

    /* Hand out what flooring left, one each, largest remainder first. */
    while (given < n) {
        int best = -1;
        double best_rem = -1;
        for (int j = 0; j < k; j++) {
            double rem = (double)n * weights[j] - (double)counts[j];
            if (rem > best_rem) {
                best_rem = rem;
                best = j;
            }
        }
        counts[best]++;
        given++;
    }

    /* Rows summing a hair above 1 can floor to more than n: take back. */
    while (given > n) {
        int worst = 0;
        for (int j = 1; j < k; j++)
            if (counts[j] > counts[worst])
                worst = j;
        counts[worst]--;
        given--;
    }
}

int noise_check_matrix(const double *m, int k) {
    for (int i = 0; i < k; i++) {
        double sum = 0;
        for (int j = 0; j < k; j++) {
            double v = m[i * k + j];
            if (!(v >= 0 && v <= 1))
                return err_set(ERR_INVALID, "row %d, column %d: %g is not a probability "
                               "in [0,1]", i + 1, j + 1, v);
            sum += v;
        }
        if (fabs(sum - 1) > MATRIX_ROW_TOL)
            return err_set(ERR_INVALID, "row %d sums to %.9g, not 1 (a transition matrix "
                           "is row-stochastic: row i gives P(noisy = j | true = i))",
                           i + 1, sum);
    }
    return ERR_OK;
}

/* Per class, the training rows of that class (CSR-like: rows of class c are
 * idx[start[c] .. start[c+1])). */
typedef struct {
    uint32_t *idx;
    long     *start;
} ClassRows;

static int class_rows_init(const LabelTable *t, ClassRows *cr) {
    int k = t->n_classes;
    cr->idx = malloc((size_t)(t->n_train ? t->n_train : 1) * sizeof *cr->idx);
    cr->start = calloc((size_t)k + 1, sizeof *cr->start);
    if (!cr->idx || !cr->start)
        return err_set(ERR_NOMEM, "out of memory");

    /* Count, prefix-sum, then place rows in table order. */
    for (int i = 0; i < t->n_rows; i++)
        if (!t->is_valid[i])
            cr->start[t->truth[i] + 1]++;
    for (int c = 0; c < k; c++)
        cr->start[c + 1] += cr->start[c];
    long *fill = malloc((size_t)(k ? k : 1) * sizeof *fill);
    if (!fill)
        return err_set(ERR_NOMEM, "out of memory");
    memcpy(fill, cr->start, (size_t)k * sizeof *fill);
    for (int i = 0; i < t->n_rows; i++)
        if (!t->is_valid[i])
            cr->idx[fill[t->truth[i]]++] = (uint32_t)i;
    free(fill);
    return ERR_OK;
}

static void class_rows_free(ClassRows *cr) {
    free(cr->idx);
    free(cr->start);
}

/* Shuffles each class's rows in place (class order, one stream). */
static void class_rows_shuffle(ClassRows *cr, int k, Rng *rng) {
    for (int c = 0; c < k; c++) {
        uint32_t *rows = cr->idx + cr->start[c];
        long n = cr->start[c + 1] - cr->start[c];
        for (long i = n; i > 1; i--) {
            long j = (long)rng_below(rng, (uint64_t)i);
            uint32_t tmp = rows[i - 1];
            rows[i - 1] = rows[j];
            rows[j] = tmp;
        }
    }
}

/* A label uniform over the k-1 classes other than truth. */
static int32_t other_class(Rng *rng, int k, int32_t truth) {
    int32_t r = (int32_t)rng_below(rng, (uint64_t)(k - 1));
    return r >= truth ? r + 1 : r;
}

static int apply_uniform(LabelTable *t, const NoiseSpec *s, Rng *rng) {
    uint32_t *train = malloc((size_t)(t->n_train ? t->n_train : 1) * sizeof *train);
    uint32_t *perm = malloc((size_t)(t->n_train ? t->n_train : 1) * sizeof *perm);
    int32_t *wrong = malloc((size_t)(t->n_train ? t->n_train : 1) * sizeof *wrong);
    if (!train || !perm || !wrong) {
        free(train), free(perm), free(wrong);
        return err_set(ERR_NOMEM, "out of memory");
    }
    long n = 0;
    for (int i = 0; i < t->n_rows; i++)
        if (!t->is_valid[i])
            train[n++] = (uint32_t)i;

    /* Nested: one order and one wrong label per row serve every level. */
    long k_max = noise_uniform_count(s->levels[s->n_levels - 1], n);
    if (s->nested) {
        rng_permutation(rng, perm, (size_t)n);
        for (long p = 0; p < k_max; p++)
            wrong[p] = other_class(rng, t->n_classes, t->truth[train[perm[p]]]);
    }

    for (int l = 0; l < s->n_levels; l++) {
        long k = noise_uniform_count(s->levels[l], n);
        int32_t *col = labels_noisy(t, l);
        if (!s->nested)
            rng_permutation(rng, perm, (size_t)n);
        for (long p = 0; p < k; p++) {
            uint32_t row = train[perm[p]];
            col[row] = s->nested ? wrong[p] : other_class(rng, t->n_classes, t->truth[row]);
        }
    }
    free(train);
    free(perm);
    free(wrong);
    return ERR_OK;
}

/* Assigns class c's (shuffled) rows to labels by counts[]: the first
 * counts[0] get label 0, the next counts[1] label 1, and so on. */
static void assign_by_counts(int32_t *col, const uint32_t *rows, const long *counts, int k) {
    long p = 0;
    for (int j = 0; j < k; j++)
        for (long q = 0; q < counts[j]; q++)
            col[rows[p++]] = j;
}

static int apply_class_conditional(LabelTable *t, const NoiseSpec *s, Rng *rng) {
    int k = t->n_classes;
    ClassRows cr;
    double *row_t = malloc((size_t)k * sizeof *row_t);
    long *counts = malloc((size_t)k * sizeof *counts);
    int rc = class_rows_init(t, &cr);
    if (rc == ERR_OK && (!row_t || !counts))
        rc = err_set(ERR_NOMEM, "out of memory");

    if (rc == ERR_OK && s->nested)
        class_rows_shuffle(&cr, k, rng);
    for (int l = 0; rc == ERR_OK && l < s->n_levels; l++) {
        if (!s->nested)
            class_rows_shuffle(&cr, k, rng);

        /* Class c's counts per label: its matrix row by largest remainder,
         * or the pair-flip count to the next class. */
        for (int c = 0; c < k; c++) {
            long n_c = cr.start[c + 1] - cr.start[c];
            if (s->kind == NOISE_MATRIX) {
                memcpy(row_t, s->matrix + (size_t)c * (size_t)k, (size_t)k * sizeof *row_t);
                noise_largest_remainder(n_c, row_t, k, counts);
            } else {
                memset(counts, 0, (size_t)k * sizeof *counts);
                long flip = noise_pairflip_count(s->levels[l], n_c);
                counts[c] = n_c - flip;
                counts[(c + 1) % k] = flip;
            }

            /* Rows go to labels in label order over one shuffled list, so
             * with a shared shuffle (nested) a growing flip count takes a
             * growing run from one end: each level contains the lower. */
            assign_by_counts(labels_noisy(t, l), cr.idx + cr.start[c], counts, k);
        }
    }
    class_rows_free(&cr);
    free(row_t);
    free(counts);
    return rc;
}

int noise_apply(LabelTable *t, const NoiseSpec *s) {
    if (t->n_classes < 2)
        return err_set(ERR_INVALID, "%d class%s: noise needs at least 2", t->n_classes,
                       t->n_classes == 1 ? "" : "es");
    if (s->n_levels < 1)
        return err_set(ERR_USAGE, "no noise level given");
    for (int l = 0; l < s->n_levels; l++)
        if (!(s->levels[l] > 0 && s->levels[l] < 100) || (l && s->levels[l] <= s->levels[l - 1]))
            return err_set(ERR_USAGE, "noise levels must be ascending percentages in (0,100)");
    if (s->kind == NOISE_MATRIX && s->n_levels != 1)
        return err_set(ERR_USAGE, "a transition matrix makes exactly one noisy column");

    int rc = labels_reset_levels(t, s->n_levels, s->levels);
    if (rc < 0)
        return rc;
    Rng rng;
    rng_seed(&rng, s->seed);
    return s->kind == NOISE_UNIFORM ? apply_uniform(t, s, &rng)
                                    : apply_class_conditional(t, s, &rng);
}

double noise_matrix_rate(const LabelTable *t, const double *m) {
    int k = t->n_classes;
    double kept = 0;
    for (int i = 0; i < t->n_rows; i++)
        if (!t->is_valid[i])
            kept += m[(size_t)t->truth[i] * (size_t)k + (size_t)t->truth[i]];
    return t->n_train ? 100.0 * (1.0 - kept / t->n_train) : 0.0;
}
