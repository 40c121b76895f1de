/* Classification losses: per-sample values, the batch mean, and the
 * gradient of that mean with respect to the logits.
 *
 * Every loss has the same shape of call, so a robust loss (SCE, GCE, ...)
 * slots in beside these: it reads a LossBatch and writes per-sample losses
 * and dlogits. The batch mean is (1/N) * sum_i w_i * loss_i whatever the
 * weights, so weighted calls add up linearly (mixup, co-teaching masks).
 * The robust losses of spec robust-methods §2-6 (SCE, GCE, truncated GCE,
 * Taylor CE, bi-tempered, NCE+RCE) live in loss_robust.c and read their
 * hyperparameters from LossConfig. Soft targets (beyond bi-tempered's own
 * smoothing) and per-sample state across steps (ELR, truncated GCE's
 * pruning) are not covered: the caller keeps such state and passes it in
 * as weights. */
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
    LOSS_LABEL_SMOOTHING,   /* fastai's LabelSmoothingCrossEntropy */
    LOSS_SCE,               /* symmetric cross entropy (Wang et al., ICCV 2019) */
    LOSS_GCE,               /* generalized cross entropy L_q (Zhang & Sabuncu, NeurIPS 2018) */
    LOSS_TGCE,              /* truncated L_q, same paper */
    LOSS_TAYLOR,            /* Taylor cross entropy (Feng et al., IJCAI 2020) */
    LOSS_BITEMPERED,        /* bi-tempered logistic loss (Amid et al., NeurIPS 2019) */
    LOSS_NCE_RCE            /* normalized CE + reverse CE (Ma et al., ICML 2020) */
} LossKind;

/* A loss and its hyperparameters. loss_config_default fills every field,
 * those of the other kinds too; a loss reads only its own. */
typedef struct {
    LossKind kind;
    float    eps;           /* LOSS_LABEL_SMOOTHING: in [0, 1] */
    float    sce_alpha;     /* LOSS_SCE: weight of CE, >= 0 */
    float    sce_beta;      /* LOSS_SCE: weight of reverse CE, >= 0 */
    float    sce_a;         /* LOSS_SCE: log 0 := A in reverse CE, < 0 */
    float    gce_q;         /* LOSS_GCE, LOSS_TGCE: exponent q in (0, 1] */
    float    tgce_k;        /* LOSS_TGCE: truncation threshold on p_y, in [0, 1) */
    int      tgce_start;    /* LOSS_TGCE: first pruning after this epoch (1-based), >= 1 */
    int      tgce_every;    /* LOSS_TGCE: then every this many epochs, >= 1 */
    int      taylor_t;      /* LOSS_TAYLOR: order t in [1, LOSS_TAYLOR_T_MAX] */
    float    bt_t1;         /* LOSS_BITEMPERED: loss temperature in [0, 1] */
    float    bt_t2;         /* LOSS_BITEMPERED: softmax temperature in [1, LOSS_BT_T2_MAX] */
    float    bt_smoothing;  /* LOSS_BITEMPERED: eps in [0, 1], 1 - eps on y, eps/(K-1) off */
    int      bt_iters;      /* LOSS_BITEMPERED: 0 converge; n > 0 the reference's n steps */
    float    nce_alpha;     /* LOSS_NCE_RCE: weight of normalized CE, >= 0 */
    float    nce_beta;      /* LOSS_NCE_RCE: weight of reverse CE, >= 0 */
    float    nce_a;         /* LOSS_NCE_RCE: log 0 := A in reverse CE, < 0 */
} LossConfig;

#define LOSS_TAYLOR_T_MAX       1000
#define LOSS_BT_T2_MAX          10.0f
#define LOSS_BT_ITERS_MAX       1000
#define LOSS_BT_REFERENCE_ITERS 5       /* google/bi-tempered-loss's num_iters */

/* Truncated GCE's pruning schedule in the reference code (AlanChou/
 * Truncated-Loss, CIFAR-10): after epoch LOSS_TGCE_PRUNE_START (1-based)
 * and every LOSS_TGCE_PRUNE_EVERY epochs after it. See loss_tgce. */
#define LOSS_TGCE_PRUNE_START   40
#define LOSS_TGCE_PRUNE_EVERY   10

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

/* ---- Robust losses (loss_robust.c; formulas in docs/methods.md) ----
 * Same outputs as loss_cross_entropy: unweighted per-sample losses, the
 * weighted mean (1/N) sum_i w_i loss_i and its gradient. Each fails with
 * ERR_INVALID, nothing written, on a bad batch (as above) or on a
 * hyperparameter outside the range LossConfig gives. */

/* Symmetric CE: alpha * (-log p_y) + beta * (-A) * (1 - p_y). */
int loss_sce(const LossBatch *b, float alpha, float beta, float a, float *losses,
             float *dlogits, double *mean);

/* Generalized CE: (1 - p_y^q) / q. */
int loss_gce(const LossBatch *b, float q, float *losses, float *dlogits, double *mean);

/* Truncated GCE, stateless: loss_i = L_q(p_y) - L_q(k) with L_q(x) =
 * (1 - x^q)/q, and the GCE gradient. The truncation is the caller's:
 * b->weights is the pruning mask w_i in {0, 1} (NULL: all kept, how
 * training starts). The training loop keeps one weight per training
 * image, starts it at 1, and at each pruning epoch (tgce_start, then every
 * tgce_every) runs the model over the training set in inference mode and
 * sets the weights with loss_tgce_mask; each batch passes its weights here. */
int loss_tgce(const LossBatch *b, float q, float k, float *losses, float *dlogits,
              double *mean);

/* Truncated GCE's pruning step: mask[i] = 1 if softmax(z_i)[y_i] > k, else
 * 0 (ignores b->weights). ERR_INVALID, nothing written, on a bad batch or a
 * k outside [0, 1). */
int loss_tgce_mask(const LossBatch *b, float k, float *mask);

/* Taylor CE of order t: sum_{n=1..t} (1 - p_y)^n / n. */
int loss_taylor(const LossBatch *b, int t, float *losses, float *dlogits, double *mean);

/* Bi-tempered logistic loss at temperatures t1, t2 with the reference's
 * label smoothing. iters 0 solves the tempered softmax's normaliser to
 * |sum p - 1| < 1e-12; iters n > 0 takes exactly n fixed-point steps as
 * the reference (5: LOSS_BT_REFERENCE_ITERS), with the reference's
 * gradient, which assumes sum p = 1. */
int loss_bitempered(const LossBatch *b, float t1, float t2, float smoothing, int iters,
                    float *losses, float *dlogits, double *mean);

/* Active-passive NCE+RCE: alpha * (-log p_y)/(-sum_k log p_k)
 * + beta * (-A) * (1 - p_y). Needs K >= 2. */
int loss_nce_rce(const LossBatch *b, float alpha, float beta, float a, float *losses,
                 float *dlogits, double *mean);

/* Fills cfg with kind and every hyperparameter's default: the papers'
 * where they give one, else a stated choice (Taylor's t, bi-tempered's
 * t1, t2); loss_robust.c and docs/methods.md name the sources. */
void loss_config_default(LossKind kind, LossConfig *cfg);

/* 0 if cfg's kind is known and its own hyperparameters are in range; else
 * ERR_INVALID naming the loss, the hyperparameter, the value and the range. */
int loss_config_check(const LossConfig *cfg);

/* ---- Any loss ---- */

/* The loss cfg names, with the outputs and failures of the functions above. */
int loss_compute(const LossConfig *cfg, const LossBatch *b, float *losses, float *dlogits,
                 double *mean);

/* "cross_entropy", "label_smoothing", "sce", "gce", "tgce", "taylor",
 * "bitempered" or "nce_rce"; "unknown" for anything else. */
const char *loss_name(LossKind kind);

/* The kind named name (as loss_name spells it); ERR_USAGE naming the
 * accepted names if there is none. */
int loss_parse(const char *name, LossKind *kind);

#endif
