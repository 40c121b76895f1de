/* Audit of a label table: what noise it really holds.
 *
 * Per level: how many training rows differ from the truth (the realised
 * noise), the count the reference's uniform rule would give, and the
 * true -> noisy transition counts over training rows. Problems are
 * validation rows that differ from the truth (the benchmark keeps the
 * validation set clean) and labels outside the class set. */
#ifndef NOISETTE_LABELS_AUDIT_H
#define NOISETTE_LABELS_AUDIT_H

#include "labels/label_table.h"

#include <stdio.h>

#define AUDIT_SHOW_MAX 5    /* offending rows listed per kind of problem */

typedef struct {
    long  changed_train;    /* training rows whose label is not the truth */
    long  uniform_count;    /* ceil(P/100 * n_train), the reference's count */
    long  changed_valid;    /* validation rows whose label is not the truth */
    long  outside;          /* rows whose label is not a class */
    long *transitions;      /* n_classes x n_names, training rows only */
} LevelAudit;

typedef struct {
    long      *class_train;     /* n_classes true-label counts */
    long      *class_valid;
    LevelAudit levels[LABELS_MAX_LEVELS];
    int        nested;          /* 1 if each level's changes contain the lower's */
    long       problems;        /* changed_valid + outside over all levels */
} LabelAudit;

/* Computes the audit of t into a (which owns its arrays: audit_free). */
int audit_compute(const LabelTable *t, LabelAudit *a);

void audit_free(const LabelTable *t, LabelAudit *a);

/* Prints the report for t (read from file name) to out: summary, classes,
 * per-level noise, problems with the first few offending rows, and each
 * level's transition matrix (counts, or row-normalised rates). */
void audit_print(const LabelTable *t, const LabelAudit *a, const char *name, FILE *out,
                 int normalize);

#endif
