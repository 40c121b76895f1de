/* Classification losses: per-sample values, the batch mean, and the
 * gradient of that mean with respect to the logits.
 *
 * Every loss has the same shape of call, so a robust loss (SCE, GCE, ...)
 * slots in beside these: it reads a LossBatch and writes per-sample losses
 * and dlogits. The batch mean is (1/N) * sum_i w_i * loss_i whatever the
 * weights, so weighted calls add up linearly (mixup, co-teaching masks).
 * Soft targets and per-sample state (ELR) are not covered yet. */
#ifndef NOISETTE_TRAIN_LOSS_H
#define NOISETTE_TRAIN_LOSS_H

/* fastai's LabelSmoothingCrossEntropy default (spec §4.1). */
#define LOSS_LS_EPS_DEFAULT 0.1f

/* One batch of N samples over K classes. */
typedef struct {
    int          n, k;      /* samples, classes; both >= 1 */
    const float *logits;    /* N x K, row-major */
    const int   *targets;   /* N class indices, each in [0, K) */
    const float *weights;   /* N per-sample weights, or NULL for all 1 */
} LossBatch;

typedef enum {
    LOSS_CROSS_ENTROPY,
    LOSS_LABEL_SMOOTHING    /* fastai's LabelSmoothingCrossEntropy */
} LossKind;

typedef struct {
    LossKind kind;
    float    eps;           /* LOSS_LABEL_SMOOTHING only, in [0, 1] */
} LossConfig;

/* Cross entropy, loss_i = -log softmax(z_i)[y_i].
 * Writes the unweighted per-sample losses to losses (N floats, or NULL),
 * d(mean)/d(logits) to dlogits (N x K, or NULL) and the weighted mean
 * (1/N) sum_i w_i loss_i to *mean. Non-finite logits give a non-finite
 * mean; the caller decides what to do. Fails with ERR_INVALID (nothing
 * written) on N < 1, K < 1 or a target outside [0, K). */
int loss_cross_entropy(const LossBatch *b, float *losses, float *dlogits, double *mean);

/* fastai's label-smoothing cross entropy with smoothing eps in [0, 1]:
 * loss_i = (1 - eps) * CE_i + (eps / K) * sum_j -log softmax(z_i)[j].
 * Same outputs and failures as loss_cross_entropy; eps 0 is cross entropy. */
int loss_label_smoothing(const LossBatch *b, float eps, float *losses, float *dlogits,
                         double *mean);

/* The loss cfg names, with the outputs and failures of the functions above. */
int loss_compute(const LossConfig *cfg, const LossBatch *b, float *losses, float *dlogits,
                 double *mean);

/* "cross_entropy" or "label_smoothing". */
const char *loss_name(LossKind kind);

/* The kind named name (as loss_name spells it); ERR_USAGE naming the
 * accepted names if there is none. */
int loss_parse(const char *name, LossKind *kind);

#endif
