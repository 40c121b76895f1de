/* The label table: one row per image, its true label, its noisy label at
 * each noise level, and its split; read from and written to the published
 * Noisy Imagenette CSV format:
 *
 *   path,noisy_labels_0,noisy_labels_1,noisy_labels_5,...,is_valid
 *   train/n02979186/n02979186_9036.JPEG,n02979186,...,False
 *
 * noisy_labels_0 is the truth. Labels are stored as indices into names[]:
 * [0, n_classes) are the classes, the distinct true labels in byte order
 * (the reference's class indices); [n_classes, n_names) are labels that
 * occur only in noisy columns, which audit reports as outside the class set. */
#ifndef NOISETTE_LABELS_LABEL_TABLE_H
#define NOISETTE_LABELS_LABEL_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LABELS_MAX_LEVELS 32
#define LABELS_LEVEL_TEXT 24

typedef struct {
    int       n_rows, n_train, n_valid;
    char    **paths;                /* n_rows, relative to the dataset root */
    uint8_t  *is_valid;             /* n_rows, 1 = validation row */
    long     *lines;                /* n_rows source lines; NULL if not read */

    int       n_classes;            /* K */
    int       n_names;              /* K + labels outside the class set */
    char    **names;                /* n_names label strings */

    int32_t  *truth;                /* n_rows, in [0, K) */
    int       n_levels;             /* noisy columns besides noisy_labels_0 */
    double    levels[LABELS_MAX_LEVELS];                /* percent */
    char      level_text[LABELS_MAX_LEVELS][LABELS_LEVEL_TEXT]; /* "25" */
    int32_t  *noisy;                /* n_levels x n_rows, level-major */
} LabelTable;

/* Noisy label of row i at level l. */
static inline int32_t *labels_noisy(const LabelTable *t, int l) {
    return t->noisy + (size_t)l * (size_t)t->n_rows;
}

/* Parses a label CSV held in memory; name is used in messages. On success
 * t owns everything (labels_free); on failure t is empty and the message
 * names the file, line and column. Strict: the published format only (LF
 * line ends, no byte-order mark, no unknown columns, unique paths). */
int labels_parse(const char *name, const char *data, size_t len, LabelTable *t);

/* Reads and parses the label CSV at path (see labels_parse). */
int labels_read(const char *path, LabelTable *t);

/* Writes t in the published format: header, then rows in table order. */
int labels_write(const LabelTable *t, FILE *fp);

/* Builds a table of n rows with only the truth: paths and class strings
 * are copied; truth_names[i] is row i's class. Classes become the sorted
 * distinct strings. Used by dataset scanners. */
int labels_from_truth(LabelTable *t, int n, const char *const *paths,
                      const char *const *truth_names, const uint8_t *is_valid);

/* Index of the level whose percentage equals pct, or -1. */
int labels_find_level(const LabelTable *t, double pct);

/* Replaces all noisy columns by n_levels new ones, each a copy of the truth.
 * levels are percentages in (0, 100), strictly ascending. */
int labels_reset_levels(LabelTable *t, int n_levels, const double *levels);

void labels_free(LabelTable *t);

#endif
