/* Confident learning: which training labels are probably wrong, from
 * out-of-sample predicted probabilities (Northcutt, Jiang, Chuang, JAIR
 * 2021; cleanlab's find_label_issues; spec robust-methods.md §11).
 *
 * Pure functions over arrays. Shapes: N samples, K classes; probs is N x K
 * row-major (row i: sample i's predicted probabilities), given[i] in
 * [0, K) is the label training used. K x K matrices are row-major with rows
 * indexed by the given label and columns by the guessed true label.
 * Ties are broken towards the lower index (class or sample), so a caller
 * that wants results independent of input order sorts the samples first. */
#ifndef NOISETTE_REPORT_CONFIDENT_H
#define NOISETTE_REPORT_CONFIDENT_H

#include <stdint.h>

#define CONFIDENT_THRESHOLD_MIN    2e-6    /* t_j clipped below (§11.2) */
#define CONFIDENT_THRESHOLD_ABSENT 2.0     /* t_j of a class nobody has: never reached */
#define CONFIDENT_EPS              1e-6    /* candidate slack; given-label tolerance */

typedef enum {
    CONFIDENT_FILTER_PRUNE_BY_NOISE_RATE,   /* cleanlab's default */
    CONFIDENT_FILTER_PRUNE_BY_CLASS,
    CONFIDENT_FILTER_BOTH,                  /* both of the above */
    CONFIDENT_FILTER_CONFIDENT_LEARNING,    /* off-diagonal of the counting */
    CONFIDENT_FILTER_PREDICTED_NEQ_GIVEN,
    CONFIDENT_FILTER_LOW_SELF_CONFIDENCE,
    CONFIDENT_FILTER_LOW_NORMALIZED_MARGIN,
    CONFIDENT_FILTER_COUNT
} ConfidentFilter;

typedef enum {
    CONFIDENT_RANK_SELF_CONFIDENCE,         /* p_i,given */
    CONFIDENT_RANK_NORMALIZED_MARGIN,       /* (p_given - max_other + 1) / 2 */
    CONFIDENT_RANK_COUNT
} ConfidentRank;

/* The option spelling of each filter / ranking ("prune_by_noise_rate"). */
const char *confident_filter_name(ConfidentFilter f);
const char *confident_rank_name(ConfidentRank r);

/* The filter or ranking spelled s; -1 if none. */
int confident_filter_parse(const char *s);
int confident_rank_parse(const char *s);

/* ---- the steps (§11.2-11.5), each usable alone --------------------------- */

/* label_counts[j] (K): the number of samples whose given label is j. */
void confident_label_counts(int n, int k, const int32_t *given, long *label_counts);

/* thresh[j] (K) = mean of p_ij over the label_counts[j] samples given
 * label j, clipped below at CONFIDENT_THRESHOLD_MIN;
 * CONFIDENT_THRESHOLD_ABSENT if there are none. */
void confident_thresholds(int n, int k, const double *probs, const int32_t *given,
                          const long *label_counts, double *thresh);

/* The confident joint by counting (§11.3). guess[i] (N) receives the
 * guessed true label y*_i, or -1 when no class reaches its threshold;
 * joint (K x K) receives C[given][guess] over the counted samples, with the
 * diagonal raised to at least 1. */
void confident_count(int n, int k, const double *probs, const int32_t *given,
                     const double *thresh, int32_t *guess, long *joint);

/* Rounds each row of the n_rows x n_cols matrix x to integers whose sum is
 * round(row sum): every entry to nearest (half to even), then the entries
 * that lost the most get +1 (or those that gained the most get -1), lower
 * column first among equals. Entries >= 0 stay >= 0. */
void confident_round_rows(int n_rows, int n_cols, const double *x, long *out);

/* The calibrated joint (§11.3): each row of joint scaled to sum to that
 * class's label count, the matrix to sum to N, rounded row by row.
 * Returns 0 or ERR_NOMEM. */
int confident_calibrate(int k, const long *joint, const long *label_counts, long *calibrated);

/* The prune counts of §11.4 step 1 from the calibrated joint: row k keeps
 * at least min_per_class on its diagonal (the raise taken evenly from the
 * row's non-zero off-diagonal entries), off-diagonal entries scaled by
 * frac_noise in (0, 1] and the difference moved to the diagonal, then
 * truncated to integers as the reference does. */
void confident_prune_counts(int k, const long *calibrated, long min_per_class,
                            double frac_noise, long *prune);

/* Sample i's score under rank (§11.5); lower = more likely mislabeled. */
double confident_score(int k, const double *p_i, int32_t given_i, ConfidentRank rank);

/* argmax_j p_ij with p_i,given raised by CONFIDENT_EPS; equals given when
 * the model agrees with the label (the final step of §11.4). */
int confident_argmax_given(int k, const double *p_i, int32_t given_i);

/* The most probable class other than given_i (the suggested label). */
int confident_suggest(int k, const double *p_i, int32_t given_i);

/* ---- the whole method ----------------------------------------------------- */

typedef struct {
    ConfidentFilter filter;
    ConfidentRank   rank;
    long            min_per_class;      /* cleanlab's min_examples_per_class: 1 */
    double          frac_noise;         /* (0, 1]; cleanlab's default 1 */
} ConfidentOptions;

/* Options as cleanlab's defaults: prune_by_noise_rate, self-confidence,
 * min_per_class 1, frac_noise 1. */
ConfidentOptions confident_defaults(void);

typedef struct {
    int      n, k;
    long    *label_counts;      /* K */
    double  *thresholds;        /* K, t_j */
    int32_t *guess;             /* N, y*_i or -1 (not counted) */
    long    *joint;             /* K x K, counted, diagonal >= 1 */
    long    *calibrated;        /* K x K, rows sum to label_counts */
    long    *prune;             /* K x K, the counts the prune filters use */
    uint8_t *flagged;           /* N, 1 = label issue */
    double  *scores;            /* N, the ranking score of every sample */
    int32_t *suggested;         /* N, argmax over the classes other than given */
    int     *order;             /* n_flagged sample indices, most suspect first */
    int      n_flagged;
    long     n_estimated;       /* num_label_issues (off_diagonal), §11.4 */
} ConfidentResult;

/* Runs §11.2-11.5 on the N x K probs: every intermediate above, the flagged
 * set under opt->filter and its order by opt->rank (score ascending, lower
 * sample index first among equals). Needs N >= 1, K >= 2, given in [0, K),
 * probs finite in [0, 1]. res owns its arrays (confident_result_free).
 * Returns 0, ERR_INVALID for bad options, or ERR_NOMEM. */
int confident_find_issues(int n, int k, const double *probs, const int32_t *given,
                          const ConfidentOptions *opt, ConfidentResult *res);

void confident_result_free(ConfidentResult *res);

/* ---- scoring against the truth (§11.6) ------------------------------------ */

typedef struct {
    int     k;
    long    n, n_flagged, n_changed, tp;    /* |F|, |M| = #{truth != given}, |F & M| */
    double  precision, recall, f1;          /* NAN when undefined (0/0) */
    long    suggested_right;                /* TP whose suggested label is the truth */
    long    top_hits;                       /* changed among the |M| lowest scores */
    double  top_precision;                  /* top_hits / |M| (also recall at |M|) */
    double  auroc;                          /* P(score changed < score clean), ties 1/2 */
    double  average_precision;              /* of "changed" ranked by score ascending */
    long   *class_n, *class_flagged, *class_changed, *class_tp;    /* K, by given label */
} ConfidentDetection;

/* Scores res against truth (N, in [0, K)). Returns 0 or ERR_NOMEM; det
 * owns its per-class arrays (confident_detection_free). */
int confident_detection(const ConfidentResult *res, const int32_t *given,
                        const int32_t *truth, ConfidentDetection *det);

void confident_detection_free(ConfidentDetection *det);

/* precision, recall and F1 from counts; NAN where a ratio is 0/0, and F1
 * 0 when precision + recall is 0. */
void confident_prf(long flagged, long changed, long tp, double *precision, double *recall,
                   double *f1);

#endif
