/* Confident learning over arrays; see confident.h and the spec, §11.
 *
 * The steps follow cleanlab's find_label_issues: per-class thresholds, the
 * confident joint by counting, its calibration to the label counts, the
 * prune counts, one of the filters, the final "the model agrees with the
 * label" step, then a ranking. Written from the spec; where the spec says
 * nothing (ties, rounding) the choice is stated at the code that makes it.
 *
 * LIMITATION: no confidence-weighted-entropy ranking (the spec's formula
 * and the reference's rescaled score rank in opposite directions; settling
 * which is meant would lift this), no num_to_remove_per_class, no
 * multi-label data. A user asking for the ranking gets a usage error. */
#include "report/confident.h"

#include "util/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const FILTER_NAMES[CONFIDENT_FILTER_COUNT] = {
    "prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
    "predicted_neq_given", "low_self_confidence", "low_normalized_margin",
};

static const char *const RANK_NAMES[CONFIDENT_RANK_COUNT] = {
    "self_confidence", "normalized_margin",
};

const char *confident_filter_name(ConfidentFilter f) {
    return f >= 0 && f < CONFIDENT_FILTER_COUNT ? FILTER_NAMES[f] : "?";
}

const char *confident_rank_name(ConfidentRank r) {
    return r >= 0 && r < CONFIDENT_RANK_COUNT ? RANK_NAMES[r] : "?";
}

int confident_filter_parse(const char *s) {
    for (int f = 0; f < CONFIDENT_FILTER_COUNT; f++)
        if (strcmp(s, FILTER_NAMES[f]) == 0)
            return f;
    return -1;
}

int confident_rank_parse(const char *s) {
    for (int r = 0; r < CONFIDENT_RANK_COUNT; r++)
        if (strcmp(s, RANK_NAMES[r]) == 0)
            return r;
    return -1;
}

ConfidentOptions confident_defaults(void) {
    return (ConfidentOptions){CONFIDENT_FILTER_PRUNE_BY_NOISE_RATE,
                              CONFIDENT_RANK_SELF_CONFIDENCE, 1, 1.0};
}

/* ---- thresholds and the confident joint (§11.2, §11.3) -------------------- */

void confident_label_counts(int n, int k, const int32_t *given, long *label_counts) {
    memset(label_counts, 0, (size_t)k * sizeof *label_counts);
    for (int i = 0; i < n; i++)
        label_counts[given[i]]++;
}

/* t_j = (1/n_j) sum_{i: given_i = j} p_ij, clipped below at 2e-6; a class
 * with n_j = 0 gets 2, which no probability reaches. */
void confident_thresholds(int n, int k, const double *probs, const int32_t *given,
                          const long *label_counts, double *thresh) {
    memset(thresh, 0, (size_t)k * sizeof *thresh);
    for (int i = 0; i < n; i++)
        thresh[given[i]] += probs[(size_t)i * (size_t)k + (size_t)given[i]];
    for (int j = 0; j < k; j++)
        thresh[j] = label_counts[j]
                        ? fmax(thresh[j] / (double)label_counts[j], CONFIDENT_THRESHOLD_MIN)
                        : CONFIDENT_THRESHOLD_ABSENT;
}

static int argmax(int k, const double *p) {
    int best = 0;
    for (int j = 1; j < k; j++)
        if (p[j] > p[best])
            best = j;
    return best;
}

/* Candidates C_i = { j : p_ij >= t_j - 1e-6 }. None: not counted; one: it
 * is y*_i; several: y*_i = argmax_j p_ij over all classes (the reference's
 * rule, even when that class is below its own threshold). Then
 * C[given_i][y*_i] += 1, and C[j][j] = max(C[j][j], 1). */
void confident_count(int n, int k, const double *probs, const int32_t *given,
                     const double *thresh, int32_t *guess, long *joint) {
    memset(joint, 0, (size_t)k * (size_t)k * sizeof *joint);
    for (int i = 0; i < n; i++) {
        const double *p = probs + (size_t)i * (size_t)k;
        int n_cand = 0, first = -1;
        for (int j = 0; j < k; j++)
            if (p[j] >= thresh[j] - CONFIDENT_EPS) {
                if (!n_cand++)
                    first = j;
            }
        guess[i] = n_cand == 0 ? -1 : n_cand == 1 ? first : argmax(k, p);
        if (guess[i] >= 0)
            joint[(size_t)given[i] * (size_t)k + (size_t)guess[i]]++;
    }
    for (int j = 0; j < k; j++)
        if (joint[(size_t)j * (size_t)k + (size_t)j] < 1)
            joint[(size_t)j * (size_t)k + (size_t)j] = 1;
}

/* ---- calibration and prune counts (§11.3, §11.4 step 1) ------------------- */

void confident_round_rows(int n_rows, int n_cols, const double *x, long *out) {
    for (int a = 0; a < n_rows; a++) {
        const double *xa = x + (size_t)a * (size_t)n_cols;
        long *ra = out + (size_t)a * (size_t)n_cols;
        double sum = 0;
        long got = 0;
        for (int j = 0; j < n_cols; j++) {
            sum += xa[j];
            ra[j] = (long)rint(xa[j]);
            got += ra[j];
        }

        /* Move one unit at a time where rounding erred most; each move
         * changes that entry's residual x - r by 1, so the next goes
         * elsewhere when needed. */
        long want = (long)rint(sum);
        while (got != want) {
            int up = got < want, pick = 0;
            for (int j = 1; j < n_cols; j++) {
                double rj = xa[j] - (double)ra[j], rp = xa[pick] - (double)ra[pick];
                if (up ? rj > rp : rj < rp)
                    pick = j;
            }
            ra[pick] += up ? 1 : -1;
            got += up ? 1 : -1;
        }
    }
}

/* Q[a][j] = C[a][j] * n_a / sum_j C[a][j], then Q *= N / sum(Q) (a no-op
 * for single labels: the rows already add up to N), then rounded so each
 * row still sums to n_a. */
int confident_calibrate(int k, const long *joint, const long *label_counts, long *calibrated) {
    size_t kk = (size_t)k * (size_t)k;
    double *q = malloc(kk * sizeof *q);
    if (!q)
        return err_set(ERR_NOMEM, "out of memory");

    double total = 0, n = 0;
    for (int a = 0; a < k; a++) {
        const long *ca = joint + (size_t)a * (size_t)k;
        double row = 0;
        for (int j = 0; j < k; j++)
            row += (double)ca[j];
        row = fmax(row, 1e-12);
        for (int j = 0; j < k; j++) {
            q[(size_t)a * (size_t)k + (size_t)j] = (double)ca[j] / row * (double)label_counts[a];
            total += q[(size_t)a * (size_t)k + (size_t)j];
        }
        n += (double)label_counts[a];
    }
    if (total > 0)
        for (size_t x = 0; x < kk; x++)
            q[x] *= n / total;
    confident_round_rows(k, k, q, calibrated);
    free(q);
    return ERR_OK;
}

/* For given class a with diagonal d < m: raise it to m and lower each of
 * the row's z non-zero off-diagonal entries by (m - d) / z, not below 0.
 * Then off-diagonals *= frac_noise, the diagonal gains what they lost, and
 * every entry is truncated (the reference casts to int here). */
void confident_prune_counts(int k, const long *calibrated, long min_per_class,
                            double frac_noise, long *prune) {
    for (int a = 0; a < k; a++) {
        const long *ca = calibrated + (size_t)a * (size_t)k;
        long *pa = prune + (size_t)a * (size_t)k;
        double diag = (double)(ca[a] > min_per_class ? ca[a] : min_per_class);
        double raise = diag - (double)ca[a];
        int nonzero = 0;
        for (int j = 0; j < k; j++)
            nonzero += j != a && ca[j] > 0;
        double each = raise / (nonzero ? nonzero : 1), moved = 0;
        for (int j = 0; j < k; j++) {
            if (j == a)
                continue;
            double v = ca[j] > 0 ? fmax((double)ca[j] - each, 0) : 0;
            moved += v - v * frac_noise;
            pa[j] = (long)floor(v * frac_noise);
        }
        pa[a] = (long)floor(diag + moved);
    }
}

/* ---- scores (§11.5) -------------------------------------------------------- */

/* self-confidence s = p_given; normalized margin
 * s = (p_given - max_{j != given} p_j + 1) / 2, in [0, 1]. */
double confident_score(int k, const double *p_i, int32_t given_i, ConfidentRank rank) {
    if (rank == CONFIDENT_RANK_NORMALIZED_MARGIN)
        return (p_i[given_i] - p_i[confident_suggest(k, p_i, given_i)] + 1) / 2;
    return p_i[given_i];
}

int confident_argmax_given(int k, const double *p_i, int32_t given_i) {
    int best = 0;
    double best_p = given_i == 0 ? p_i[0] + CONFIDENT_EPS : p_i[0];
    for (int j = 1; j < k; j++) {
        double pj = j == given_i ? p_i[j] + CONFIDENT_EPS : p_i[j];
        if (pj > best_p) {
            best = j;
            best_p = pj;
        }
    }
    return best;
}

int confident_suggest(int k, const double *p_i, int32_t given_i) {
    int best = given_i == 0 ? 1 : 0;
    for (int j = best + 1; j < k; j++)
        if (j != given_i && p_i[j] > p_i[best])
            best = j;
    return best;
}

/* ---- filters (§11.4) -------------------------------------------------------- */

typedef struct {
    double v;
    int    i;
} Keyed;

/* Ascending by value, then by sample index: a total order. */
static int cmp_keyed(const void *a, const void *b) {
    const Keyed *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Samples grouped by given label: members[start[a] .. start[a+1]). */
typedef struct {
    int *start, *members;
} Groups;

static int groups_make(int n, int k, const int32_t *given, Groups *g) {
    g->start = calloc((size_t)k + 1, sizeof *g->start);
    g->members = malloc((size_t)(n ? n : 1) * sizeof *g->members);
    if (!g->start || !g->members)
        return err_set(ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        g->start[given[i] + 1]++;
    for (int a = 0; a < k; a++)
        g->start[a + 1] += g->start[a];
    int *fill = malloc((size_t)k * sizeof *fill);
    if (!fill)
        return err_set(ERR_NOMEM, "out of memory");
    memcpy(fill, g->start, (size_t)k * sizeof *fill);
    for (int i = 0; i < n; i++)
        g->members[fill[given[i]]++] = i;
    free(fill);
    return ERR_OK;
}

static void groups_free(Groups *g) {
    free(g->start);
    free(g->members);
}

/* Flags, among the m members of one class, every sample whose key is at
 * most the count-th smallest key: exactly count when there are no ties at
 * the cut, and all of a tie (so the set does not depend on sample order). */
static void flag_lowest(Keyed *key, int m, long count, uint8_t *mask) {
    if (count <= 0 || m == 0)
        return;
    qsort(key, (size_t)m, sizeof *key, cmp_keyed);
    double cut = key[count < m ? count - 1 : m - 1].v;
    for (int x = 0; x < m && key[x].v <= cut; x++)
        mask[key[x].i] = 1;
}

/* prune_by_noise_rate: in class a, for each j != a with c = prune[a][j] > 0,
 * flag the c samples with the largest margin p_ij - p_ia (the smallest
 * p_ia - p_ij), all of a tie at the c-th. Classes of at most
 * min_per_class samples are left alone. */
static void prune_by_noise_rate(int k, const double *probs, const Groups *g, const long *prune,
                                long min_per_class, Keyed *key, uint8_t *mask) {
    for (int a = 0; a < k; a++) {
        int m = g->start[a + 1] - g->start[a];
        const int *mem = g->members + g->start[a];
        if (m <= min_per_class)
            continue;
        for (int j = 0; j < k; j++) {
            if (j == a || prune[(size_t)a * (size_t)k + (size_t)j] <= 0)
                continue;
            for (int x = 0; x < m; x++) {
                const double *p = probs + (size_t)mem[x] * (size_t)k;
                key[x] = (Keyed){p[a] - p[j], mem[x]};
            }
            flag_lowest(key, m, prune[(size_t)a * (size_t)k + (size_t)j], mask);
        }
    }
}

/* prune_by_class: in class a flag the n_a - prune[a][a] samples with the
 * smallest p_ia, all of a tie at the cut. (The reference flags p_ia below
 * the next value instead, which leaves a tie out; with many saturated
 * probabilities that can flag nothing.) */
static void prune_by_class(int k, const double *probs, const Groups *g, const long *prune,
                           long min_per_class, Keyed *key, uint8_t *mask) {
    for (int a = 0; a < k; a++) {
        int m = g->start[a + 1] - g->start[a];
        const int *mem = g->members + g->start[a];
        if (m <= min_per_class)
            continue;
        for (int x = 0; x < m; x++)
            key[x] = (Keyed){probs[(size_t)mem[x] * (size_t)k + (size_t)a], mem[x]};
        flag_lowest(key, m, (long)m - prune[(size_t)a * (size_t)k + (size_t)a], mask);
    }
}

/* The prune filters on res->prune: noise rate, class, or both (AND). */
static int filter_prune(int n, int k, const double *probs, const int32_t *given,
                        const ConfidentOptions *opt, ConfidentResult *res) {
    Groups g = {NULL, NULL};
    Keyed *key = malloc((size_t)(n ? n : 1) * sizeof *key);
    uint8_t *by_class = calloc((size_t)(n ? n : 1), 1);
    int rc = key && by_class ? groups_make(n, k, given, &g) : err_set(ERR_NOMEM, "out of memory");

    if (rc == ERR_OK && opt->filter != CONFIDENT_FILTER_PRUNE_BY_CLASS)
        prune_by_noise_rate(k, probs, &g, res->prune, opt->min_per_class, key, res->flagged);
    if (rc == ERR_OK && opt->filter != CONFIDENT_FILTER_PRUNE_BY_NOISE_RATE)
        prune_by_class(k, probs, &g, res->prune, opt->min_per_class, key, by_class);
    for (int i = 0; rc == ERR_OK && i < n; i++) {
        if (opt->filter == CONFIDENT_FILTER_PRUNE_BY_CLASS)
            res->flagged[i] = by_class[i];
        else if (opt->filter == CONFIDENT_FILTER_BOTH)
            res->flagged[i] &= by_class[i];
    }
    groups_free(&g);
    free(key);
    free(by_class);
    return rc;
}

/* low_self_confidence / low_normalized_margin: exactly the n_estimated
 * lowest scores of that kind, lower index first among equals. */
static int filter_lowest(int n, int k, const double *probs, const int32_t *given,
                         ConfidentRank kind, ConfidentResult *res) {
    Keyed *key = malloc((size_t)(n ? n : 1) * sizeof *key);
    if (!key)
        return err_set(ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        key[i] = (Keyed){confident_score(k, probs + (size_t)i * (size_t)k, given[i], kind), i};
    qsort(key, (size_t)n, sizeof *key, cmp_keyed);
    for (long x = 0; x < res->n_estimated && x < n; x++)
        res->flagged[key[x].i] = 1;
    free(key);
    return ERR_OK;
}

static int apply_filter(int n, int k, const double *probs, const int32_t *given,
                        const ConfidentOptions *opt, ConfidentResult *res) {
    switch (opt->filter) {
    case CONFIDENT_FILTER_PRUNE_BY_NOISE_RATE:
    case CONFIDENT_FILTER_PRUNE_BY_CLASS:
    case CONFIDENT_FILTER_BOTH:
        return filter_prune(n, k, probs, given, opt, res);
    case CONFIDENT_FILTER_CONFIDENT_LEARNING:
        for (int i = 0; i < n; i++)
            res->flagged[i] = res->guess[i] >= 0 && res->guess[i] != given[i];
        return ERR_OK;
    case CONFIDENT_FILTER_PREDICTED_NEQ_GIVEN:
        for (int i = 0; i < n; i++)
            res->flagged[i] = argmax(k, probs + (size_t)i * (size_t)k) != given[i];
        return ERR_OK;
    case CONFIDENT_FILTER_LOW_SELF_CONFIDENCE:
        return filter_lowest(n, k, probs, given, CONFIDENT_RANK_SELF_CONFIDENCE, res);
    case CONFIDENT_FILTER_LOW_NORMALIZED_MARGIN:
        return filter_lowest(n, k, probs, given, CONFIDENT_RANK_NORMALIZED_MARGIN, res);
    default:
        return err_set(ERR_INVALID, "unknown filter %d", (int)opt->filter);
    }
}

/* ---- the whole method ------------------------------------------------------ */

void confident_result_free(ConfidentResult *res) {
    free(res->label_counts);
    free(res->thresholds);
    free(res->guess);
    free(res->joint);
    free(res->calibrated);
    free(res->prune);
    free(res->flagged);
    free(res->scores);
    free(res->suggested);
    free(res->order);
    memset(res, 0, sizeof *res);
}

static int result_alloc(int n, int k, ConfidentResult *res) {
    size_t nn = (size_t)(n ? n : 1), kk = (size_t)k * (size_t)k;
    memset(res, 0, sizeof *res);
    res->n = n;
    res->k = k;
    res->label_counts = malloc((size_t)k * sizeof *res->label_counts);
    res->thresholds = malloc((size_t)k * sizeof *res->thresholds);
    res->guess = malloc(nn * sizeof *res->guess);
    res->joint = malloc(kk * sizeof *res->joint);
    res->calibrated = malloc(kk * sizeof *res->calibrated);
    res->prune = malloc(kk * sizeof *res->prune);
    res->flagged = calloc(nn, 1);
    res->scores = malloc(nn * sizeof *res->scores);
    res->suggested = malloc(nn * sizeof *res->suggested);
    res->order = malloc(nn * sizeof *res->order);
    if (!res->label_counts || !res->thresholds || !res->guess || !res->joint ||
        !res->calibrated || !res->prune || !res->flagged || !res->scores || !res->suggested ||
        !res->order) {
        confident_result_free(res);
        return err_set(ERR_NOMEM, "out of memory");
    }
    return ERR_OK;
}

/* Sorts the flagged samples by score, lower index first among equals. */
static int rank_flagged(int n, ConfidentResult *res) {
    Keyed *key = malloc((size_t)(n ? n : 1) * sizeof *key);
    if (!key)
        return err_set(ERR_NOMEM, "out of memory");
    int m = 0;
    for (int i = 0; i < n; i++)
        if (res->flagged[i])
            key[m++] = (Keyed){res->scores[i], i};
    qsort(key, (size_t)m, sizeof *key, cmp_keyed);
    for (int x = 0; x < m; x++)
        res->order[x] = key[x].i;
    res->n_flagged = m;
    free(key);
    return ERR_OK;
}

int confident_find_issues(int n, int k, const double *probs, const int32_t *given,
                          const ConfidentOptions *opt, ConfidentResult *res) {
    memset(res, 0, sizeof *res);
    if (n < 1 || k < 2 || opt->filter < 0 || opt->filter >= CONFIDENT_FILTER_COUNT ||
        opt->rank < 0 || opt->rank >= CONFIDENT_RANK_COUNT || opt->min_per_class < 0 ||
        !(opt->frac_noise > 0 && opt->frac_noise <= 1))
        return err_set(ERR_INVALID, "confident learning: bad arguments (N %d, K %d)", n, k);
    int rc = result_alloc(n, k, res);
    if (rc < 0)
        return rc;

    /* Thresholds, counting, calibration, prune counts. */
    confident_label_counts(n, k, given, res->label_counts);
    confident_thresholds(n, k, probs, given, res->label_counts, res->thresholds);
    confident_count(n, k, probs, given, res->thresholds, res->guess, res->joint);
    if ((rc = confident_calibrate(k, res->joint, res->label_counts, res->calibrated)) < 0) {
        confident_result_free(res);
        return rc;
    }
    confident_prune_counts(k, res->calibrated, opt->min_per_class, opt->frac_noise, res->prune);

    /* Scores, suggestions, and num_label_issues: the counted off-diagonal
     * samples on which the model does not side with the given label. */
    for (int i = 0; i < n; i++) {
        const double *p = probs + (size_t)i * (size_t)k;
        res->scores[i] = confident_score(k, p, given[i], opt->rank);
        res->suggested[i] = confident_suggest(k, p, given[i]);
        res->n_estimated += res->guess[i] >= 0 && res->guess[i] != given[i] &&
                            confident_argmax_given(k, p, given[i]) != given[i];
    }

    /* The filter, the final step (not for the two low_* filters), the order. */
    if ((rc = apply_filter(n, k, probs, given, opt, res)) < 0) {
        confident_result_free(res);
        return rc;
    }
    if (opt->filter != CONFIDENT_FILTER_LOW_SELF_CONFIDENCE &&
        opt->filter != CONFIDENT_FILTER_LOW_NORMALIZED_MARGIN)
        for (int i = 0; i < n; i++)
            if (res->flagged[i] &&
                confident_argmax_given(k, probs + (size_t)i * (size_t)k, given[i]) == given[i])
                res->flagged[i] = 0;
    if ((rc = rank_flagged(n, res)) < 0)
        confident_result_free(res);
    return rc;
}

/* ---- scoring against the truth (§11.6) ------------------------------------- */

void confident_prf(long flagged, long changed, long tp, double *precision, double *recall,
                   double *f1) {
    *precision = flagged ? (double)tp / (double)flagged : NAN;
    *recall = changed ? (double)tp / (double)changed : NAN;
    if (isnan(*precision) || isnan(*recall))
        *f1 = NAN;
    else if (*precision + *recall == 0)
        *f1 = 0;
    else
        *f1 = 2 * *precision * *recall / (*precision + *recall);
}

void confident_detection_free(ConfidentDetection *det) {
    free(det->class_n);
    free(det->class_flagged);
    free(det->class_changed);
    free(det->class_tp);
    memset(det, 0, sizeof *det);
}

/* Over all samples sorted by score ascending (key, a total order):
 * AUROC = (sum over changed of the number of clean samples scored higher,
 * plus half of those tied) / (|M| |clean|); AP = sum over distinct scores
 * of (recall gained) * (precision there), sklearn's average_precision with
 * tied scores as one threshold. */
static void ranking_metrics(const Keyed *key, long n, const uint8_t *changed, long n_changed,
                            ConfidentDetection *det) {
    long n_clean = n - n_changed, seen = 0, hits = 0, clean_below = 0;
    double pairs = 0, ap = 0;
    for (long x = 0; x < n;) {
        long end = x, group_hits = 0, group_clean = 0;
        while (end < n && key[end].v == key[x].v) {
            group_hits += changed[key[end].i];
            group_clean += !changed[key[end].i];
            end++;
        }
        /* changed in this group: above every clean sample scored lower */
        pairs += (double)group_hits * ((double)(n_clean - clean_below - group_clean) +
                                       0.5 * (double)group_clean);
        clean_below += group_clean;
        seen += end - x;
        hits += group_hits;
        if (n_changed && group_hits)
            ap += (double)group_hits / (double)n_changed * (double)hits / (double)seen;
        x = end;
    }
    det->auroc = n_changed && n_clean ? pairs / ((double)n_changed * (double)n_clean) : NAN;
    det->average_precision = n_changed ? ap : NAN;

    /* the |M| lowest scores, lower index first among equals */
    det->top_hits = 0;
    for (long x = 0; x < n_changed && x < n; x++)
        det->top_hits += changed[key[x].i];
    det->top_precision = n_changed ? (double)det->top_hits / (double)n_changed : NAN;
}

int confident_detection(const ConfidentResult *res, const int32_t *given,
                        const int32_t *truth, ConfidentDetection *det) {
    int n = res->n, k = res->k;
    memset(det, 0, sizeof *det);
    det->k = k;
    det->n = n;
    det->class_n = calloc((size_t)k, sizeof *det->class_n);
    det->class_flagged = calloc((size_t)k, sizeof *det->class_flagged);
    det->class_changed = calloc((size_t)k, sizeof *det->class_changed);
    det->class_tp = calloc((size_t)k, sizeof *det->class_tp);
    uint8_t *changed = malloc((size_t)n);
    Keyed *key = malloc((size_t)n * sizeof *key);
    if (!det->class_n || !det->class_flagged || !det->class_changed || !det->class_tp ||
        !changed || !key) {
        free(changed);
        free(key);
        confident_detection_free(det);
        return err_set(ERR_NOMEM, "out of memory");
    }

    /* The flagged set F against M = { i : truth_i != given_i }. */
    for (int i = 0; i < n; i++) {
        int a = given[i], f = res->flagged[i], c = truth[i] != given[i];
        changed[i] = (uint8_t)c;
        det->class_n[a]++;
        det->class_flagged[a] += f;
        det->class_changed[a] += c;
        det->class_tp[a] += f && c;
        det->suggested_right += f && c && res->suggested[i] == truth[i];
        key[i] = (Keyed){res->scores[i], i};
    }
    for (int a = 0; a < k; a++) {
        det->n_flagged += det->class_flagged[a];
        det->n_changed += det->class_changed[a];
        det->tp += det->class_tp[a];
    }
    confident_prf(det->n_flagged, det->n_changed, det->tp, &det->precision, &det->recall,
                  &det->f1);

    /* The ranking of every sample, no threshold. */
    qsort(key, (size_t)n, sizeof *key, cmp_keyed);
    ranking_metrics(key, n, changed, det->n_changed, det);
    free(changed);
    free(key);
    return ERR_OK;
}
