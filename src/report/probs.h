/* The PROBS file of noisette mislabeled: per training image, its path, the
 * label training used, the true label when known, and the model's
 * out-of-sample predicted probabilities (docs/mislabeled.md):
 *
 *   path,given,truth,<class 0>,<class 1>,...,<class K-1>
 *   train/n01440764/a.JPEG,n01440764,n01440764,0.91,0.02,...
 *
 * The class columns name the classes in class-index order. Several files
 * (one per cross-validation fold) are read into one table; they must agree
 * on the classes and never repeat a path. The reader is strict like the
 * label-CSV reader (LF, no byte-order mark), and every message names
 * file:line[:column]. It cannot tell out-of-sample from in-sample
 * probabilities: that is up to whoever wrote the file. */
#ifndef NOISETTE_REPORT_PROBS_H
#define NOISETTE_REPORT_PROBS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/strmap.h"

#define PROBS_MAX_CLASSES 4096      /* the K x K joint stays under 128 MiB */
#define PROBS_SUM_TOL     1e-3      /* |sum_j p_ij - 1| allowed per row */
#define PROBS_NO_TRUTH    (-1)      /* truth[i] when the field is empty */

typedef struct {
    int       n_rows, n_classes;    /* N, K */
    char    **class_names;          /* K, header order = class index */
    char    **paths;                /* N */
    int32_t  *given;                /* N, in [0, K) */
    int32_t  *truth;                /* N, in [0, K) or PROBS_NO_TRUTH */
    double   *probs;                /* N x K, row-major */
    int      *row_file;             /* N, index into files */
    long     *row_line;             /* N, line in that file */
    int       n_truth;              /* rows whose truth is given */

    int       n_files;
    char    **files;                /* names for messages, copied */

    int       cap, files_cap;       /* allocated rows, files */
    StrMap    seen;                 /* path -> row */
    StrMap    class_index;          /* class name -> index */
} ProbsTable;

/* An empty table, ready for probs_parse / probs_read. */
void probs_init(ProbsTable *t);

/* Frees everything t owns and leaves it empty. */
void probs_free(ProbsTable *t);

/* Appends the rows of one PROBS file held in data[0..len) to t; name is
 * used in messages (copied). The first file sets the classes; a later one
 * must have the same header. Fails with ERR_PARSE (syntax, a bad number, a
 * sum off 1 by more than PROBS_SUM_TOL, a label not in the classes, a path
 * already read, ...) or ERR_NOMEM; on failure t holds an unspecified
 * subset of the rows and may only be freed. */
int probs_parse(ProbsTable *t, const char *name, const char *data, size_t len);

/* Reads the file at path and appends it (see probs_parse). */
int probs_read(ProbsTable *t, const char *path);

/* Puts the rows in byte order of their paths, so that every later step
 * (ties included) is the same whatever order the files came in. Returns 0
 * or ERR_NOMEM (after which t may only be freed). */
int probs_sort_by_path(ProbsTable *t);

/* Writes t as one PROBS file, rows in table order, each probability with
 * the fewest digits that read back to the same double. ERR_IO on a stream
 * error. */
int probs_write(const ProbsTable *t, FILE *fp);

#endif
