/* Results files: the JSON lines `noisette train` appends, one run a line,
 * read back for leaderboards and plots.
 *
 * A file is read once into memory, so a training that rewrites it meanwhile
 * is seen before or after its write, never half way. Lines that cannot be
 * used are skipped with a note naming FILE:LINE: malformed JSON or fields
 * (warnings); a last line without its newline (a write in progress), an
 * interrupted or unfinished run, the same run twice (notes). Lines written
 * before the results held "dataset", "woof", "loss_params" and "methods"
 * are kept and marked old: they can be listed, never put on a leaderboard.
 * The configuration is kept flattened ("methods.sam.rho" = "0.05") so runs
 * can be grouped and told apart without JSON in the callers. */
#ifndef NOISETTE_REPORT_RESULTS_H
#define NOISETTE_REPORT_RESULTS_H

#include <stddef.h>

#define RESULTS_FILE_MAX ((size_t)1 << 30)

typedef struct {
    double train_loss, valid_loss;
    double accuracy;                /* fraction of the clean validation set */
} ResultEpoch;

typedef struct {
    char *key;                      /* dotted path: "lr", "loss_params.q" */
    char *json;                     /* the value as compact JSON ("0.008", "\"gce\"") */
} ResultField;

typedef struct {
    const char  *file;              /* the file it came from (owned by the RunSet) */
    long         line;              /* 1-based line in that file */
    int          old_format;        /* lacks dataset/woof/loss_params/methods */
    char        *dataset;           /* "imagenette", ...; NULL in old-format lines */
    char        *data;              /* config.data as given ("" if absent) */
    char        *labels;            /* config.labels (--labels FILE), NULL if none */
    int          woof;
    double       pct_noise;
    int          size, epochs;
    long         limit;             /* 0: the whole training set */
    int          folds;             /* K of train --folds K (a fold's model), else 0 */
    char        *arch, *loss;       /* "?" when absent */
    char        *methods;           /* method names joined by "+", "" for none */
    double       accuracy;          /* final accuracy, fraction */
    ResultEpoch *history;           /* n_history epochs, epoch 0 first */
    int          n_history;
    ResultField *fields;            /* configuration without per-run keys, by key */
    int          n_fields;
    char        *signature;         /* the fields as one string: equal iff same config */
    char        *identity;          /* finished time, seed, run, accuracy, signature:
                                     * equal iff the same run appears twice */
} RunRecord;

typedef struct {
    int   warning;                  /* 1: malformed input; 0: a run left out on purpose */
    char *text;                     /* "FILE:LINE: reason" */
} ResultNote;

typedef struct RunSet {
    RunRecord  *runs;
    int         n_runs, cap_runs;
    ResultNote *notes;
    int         n_notes, cap_notes;
    char      **files;              /* names given to results_read, owned */
    int         n_files;
} RunSet;

/* An empty set. */
void results_init(RunSet *set);

/* Reads the results file at path and appends its usable runs to set, and a
 * note for every line left out. Fails (ERR_IO, ERR_NOMEM) only when the file
 * cannot be read; bad lines never fail it. */
int results_read(RunSet *set, const char *path);

/* Same, for a file already in memory; name is used in notes (copied). */
int results_parse(RunSet *set, const char *name, const char *data, size_t len);

void results_free(RunSet *set);

/* The JSON text of a configuration field of r, or NULL if r has none. */
const char *results_field(const RunRecord *r, const char *key);

/* Configuration groups: runs with the same signature. (*group)[i] is run
 * i's group, numbered in order of first appearance; *n_groups their count.
 * *group is owned by the caller (free()). */
int results_group(const RunSet *set, int **group, int *n_groups);

/* A short description of reps[i] among the n configurations reps:
 * "xresnet50, gce, mixup+sam" (arch, loss, methods or "no method"), then
 * "key=value" for each setting that tells it apart from the others (lr,
 * loss_params.q, ...), leaving out the cell (dataset, woof, pct_noise,
 * size, epochs), which callers show on their own. Writes at most cap bytes
 * to buf, NUL included. */
void results_describe(const RunRecord *const *reps, int n, int i, char *buf, size_t cap);

#endif
