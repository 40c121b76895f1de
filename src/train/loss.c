/* Cross entropy and fastai's label smoothing; see loss.h.
 *
 * Both are cross entropy against a soft target q, computed per sample in
 * double from the log-sum-exp, so a confident wrong prediction gives a
 * large finite loss instead of log(0). */
#include "train/loss.h"
#include "train/loss_internal.h"

#include "util/err.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

int loss_check_batch(const LossBatch *b) {
    if (b->n < 1 || b->k < 1)
        return err_set(ERR_INVALID, "loss: batch of %d samples over %d classes", b->n, b->k);
    for (int i = 0; i < b->n; i++)
        if (b->targets[i] < 0 || b->targets[i] >= b->k)
            return err_set(ERR_INVALID, "loss: sample %d: target %d is not a class in [0, %d)",
                           i, b->targets[i], b->k);
    return ERR_OK;
}

double loss_row_max(const float *z, int k) {
    double m = z[0];
    for (int j = 1; j < k; j++)
        m = z[j] > m ? z[j] : m;
    return m;
}

double loss_log_sum_exp(const float *z, int k) {
    double m = loss_row_max(z, k), s = 0.0;
    for (int j = 0; j < k; j++)
        s += exp((double)z[j] - m);
    return m + log(s);
}

/* Smoothed cross entropy of sample i (source: fastai losses.py,
 * LabelSmoothingCrossEntropy; spec §4.1 and robust-methods §1.2).
 *   log p_j = z_j - lse(z)
 *   loss    = -(1 - eps) log p_y - (eps/K) sum_j log p_j
 *   q_j     = eps/K + (1 - eps) [j = y]          (sums to 1)
 *   d(mean)/dz_j = (w_i / N) (p_j - q_j)
 * eps = 0 is plain cross entropy: loss = -log p_y, gradient (p - e_y) w/N. */
static double smoothed_ce_sample(const LossBatch *b, int i, double eps, float *dz) {
    const float *z_i = b->logits + (size_t)i * (size_t)b->k;
    int y = b->targets[i], k = b->k;

    /* The loss from the log-softmax. */
    double lse = loss_log_sum_exp(z_i, k);
    double sum_logp = 0.0;
    for (int j = 0; j < k; j++)
        sum_logp += (double)z_i[j] - lse;
    double loss = -(1.0 - eps) * ((double)z_i[y] - lse) - eps / k * sum_logp;
    if (!dz)
        return loss;

    /* Its gradient, scaled for the batch mean. */
    double scale = (b->weights ? (double)b->weights[i] : 1.0) / b->n;
    for (int j = 0; j < k; j++) {
        double q_j = eps / k + (j == y ? 1.0 - eps : 0.0);
        dz[j] = (float)(scale * (exp((double)z_i[j] - lse) - q_j));
    }
    return loss;
}

int loss_label_smoothing(const LossBatch *b, float eps, float *losses, float *dlogits,
                         double *mean) {
    if (!(eps >= 0.0f && eps <= 1.0f))
        return err_set(ERR_INVALID, "loss: label smoothing eps %g is not in [0, 1]", eps);
    int rc = loss_check_batch(b);
    if (rc < 0)
        return rc;

    /* Per-sample losses and gradients; the weighted sum for the mean. */
    double total = 0.0;
    for (int i = 0; i < b->n; i++) {
        float *dz = dlogits ? dlogits + (size_t)i * (size_t)b->k : NULL;
        double loss = smoothed_ce_sample(b, i, eps, dz);
        if (losses)
            losses[i] = (float)loss;
        total += (b->weights ? (double)b->weights[i] : 1.0) * loss;
    }
    *mean = total / b->n;
    return ERR_OK;
}

int loss_cross_entropy(const LossBatch *b, float *losses, float *dlogits, double *mean) {
    return loss_label_smoothing(b, 0.0f, losses, dlogits, mean);
}

int loss_compute(const LossConfig *cfg, const LossBatch *b, float *losses, float *dlogits,
                 double *mean) {
    switch (cfg->kind) {
    case LOSS_CROSS_ENTROPY:
        return loss_cross_entropy(b, losses, dlogits, mean);
    case LOSS_LABEL_SMOOTHING:
        return loss_label_smoothing(b, cfg->eps, losses, dlogits, mean);
    case LOSS_SCE:
        return loss_sce(b, cfg->sce_alpha, cfg->sce_beta, cfg->sce_a, losses, dlogits, mean);
    case LOSS_GCE:
        return loss_gce(b, cfg->gce_q, losses, dlogits, mean);
    case LOSS_TGCE:
        return loss_tgce(b, cfg->gce_q, cfg->tgce_k, losses, dlogits, mean);
    case LOSS_TAYLOR:
        return loss_taylor(b, cfg->taylor_t, losses, dlogits, mean);
    case LOSS_BITEMPERED:
        return loss_bitempered(b, cfg->bt_t1, cfg->bt_t2, cfg->bt_smoothing, cfg->bt_iters,
                               losses, dlogits, mean);
    case LOSS_NCE_RCE:
        return loss_nce_rce(b, cfg->nce_alpha, cfg->nce_beta, cfg->nce_a, losses, dlogits,
                            mean);
    }
    return err_set(ERR_INVALID, "loss: unknown kind %d", (int)cfg->kind);
}

static const char *const LOSS_NAMES[] = {
    [LOSS_CROSS_ENTROPY] = "cross_entropy",
    [LOSS_LABEL_SMOOTHING] = "label_smoothing",
    [LOSS_SCE] = "sce",
    [LOSS_GCE] = "gce",
    [LOSS_TGCE] = "tgce",
    [LOSS_TAYLOR] = "taylor",
    [LOSS_BITEMPERED] = "bitempered",
    [LOSS_NCE_RCE] = "nce_rce",
};
#define LOSS_KIND_COUNT ((int)(sizeof LOSS_NAMES / sizeof LOSS_NAMES[0]))

const char *loss_name(LossKind kind) {
    return (int)kind >= 0 && (int)kind < LOSS_KIND_COUNT ? LOSS_NAMES[kind] : "unknown";
}

int loss_parse(const char *name, LossKind *kind) {
    for (int i = 0; i < LOSS_KIND_COUNT; i++) {
        if (strcmp(name, LOSS_NAMES[i]) == 0) {
            *kind = (LossKind)i;
            return ERR_OK;
        }
    }
    return err_set(ERR_USAGE, "unknown loss \"%s\": expected cross_entropy, label_smoothing, "
                   "sce, gce, tgce, taylor, bitempered or nce_rce", name);
}
