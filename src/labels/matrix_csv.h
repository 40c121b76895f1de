/* Reading a noise transition matrix from CSV.
 *
 * K rows of K numbers, row i = true class i, column j = noisy class j, in
 * the table's class order (sorted labels). An optional first line may name
 * the K classes; it must then list them in that order. */
#ifndef NOISETTE_LABELS_MATRIX_CSV_H
#define NOISETTE_LABELS_MATRIX_CSV_H

#include "labels/label_table.h"

/* Reads the matrix at path for t's classes into a new K*K array (*m, owned
 * by the caller, free()), checked with noise_check_matrix. */
int matrix_csv_read(const char *path, const LabelTable *t, double **m);

#endif
