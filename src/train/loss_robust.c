/* The noise-robust losses of spec robust-methods §2-6 (loss.h, docs/methods.md).
 * SCE, GCE, truncated GCE and Taylor CE depend on the logits only through
 * p_y, so each is cross entropy re-weighted per sample, dL/dz = g (p - e_y)
 * with g = -f'(p_y) p_y (spec §0); NCE+RCE and bi-tempered use every class.
 * All work per sample in double from the log-sum-exp or the tempered
 * normaliser, so confident predictions stay finite; nothing is allocated.
 * Left out: bi-tempered with t2 < 1 (bt_normaliser) and truncated GCE's
 * per-image state, which the caller keeps (loss_tgce in loss.h). */
#include "train/loss.h"
#include "train/loss_internal.h"

#include "util/err.h"

#include <math.h>
#include <stddef.h>

/* Published defaults (spec robust-methods; the paper of each below). */
/* SCE: Wang et al., ICCV 2019, CIFAR-10 (alpha, beta from the official
 * script); A = -4 is the paper's, the code's clamp gives ln 1e-4. */
#define SCE_ALPHA_DEFAULT   0.1f
#define SCE_BETA_DEFAULT    1.0f
#define SCE_A_DEFAULT       (-4.0f)
/* GCE and truncated GCE: Zhang & Sabuncu, NeurIPS 2018. */
#define GCE_Q_DEFAULT       0.7f
#define TGCE_K_DEFAULT      0.5f
/* Taylor CE: Feng et al., IJCAI 2020 tune t per setting; 2 is our choice. */
#define TAYLOR_T_DEFAULT    2
/* Bi-tempered: Amid et al., NeurIPS 2019 tune (t1, t2) per dataset; (0.8,
 * 1.2) is a common practitioner choice, not the paper's. */
#define BT_T1_DEFAULT       0.8f
#define BT_T2_DEFAULT       1.2f
/* NCE+RCE: Ma et al., ICML 2020, CIFAR-10 config; A = ln 1e-4, the clamp
 * of the reference code those alpha, beta were tuned with. */
#define NCE_ALPHA_DEFAULT   1.0f
#define NCE_BETA_DEFAULT    1.0f
#define NCE_A_DEFAULT       (-9.21034037f)

/* The tempered normaliser: the spec's fixed point until |sum p - 1| is
 * below FP_TOL (at most FP_MAX steps), then Newton steps to NEWTON_TOL. */
#define BT_FP_TOL       1e-6
#define BT_FP_MAX       100
#define BT_NEWTON_TOL   1e-12
#define BT_NEWTON_MAX   100

/* One sample's loss (z: K logits, y: its target); when dz is not NULL also
 * scale * dloss/dz into dz (K floats). */
typedef double (*SampleLoss)(const LossConfig *c, const float *z, int k, int y, double scale,
                             float *dz);

/* ---- shared pieces ---------------------------------------------------------- */

/* dz_j = g (p_j - [j = y]), p = softmax(z) = exp(z - lse): the gradient of
 * any loss f(p_y), with g = -f'(p_y) p_y (spec §0). */
static void py_gradient(const float *z, int k, int y, double lse, double g, float *dz) {
    for (int j = 0; j < k; j++)
        dz[j] = (float)(g * (exp((double)z[j] - lse) - (j == y ? 1.0 : 0.0)));
}

/* The batch around one per-sample loss: checks, per-sample losses and
 * gradients, mean = (1/N) sum_i w_i loss_i, d(mean)/dz_i = (w_i/N) dloss_i. */
static int run_batch(const LossConfig *c, SampleLoss f, const LossBatch *b, float *losses,
                     float *dlogits, double *mean) {
    int rc = loss_config_check(c);
    if (rc < 0 || (rc = loss_check_batch(b)) < 0)
        return rc;
    if (c->kind == LOSS_NCE_RCE && b->k < 2)
        return err_set(ERR_INVALID, "loss: nce_rce needs at least 2 classes, got %d", b->k);

    double total = 0.0;
    for (int i = 0; i < b->n; i++) {
        size_t row = (size_t)i * (size_t)b->k;
        double w = b->weights ? (double)b->weights[i] : 1.0;
        double loss = f(c, b->logits + row, b->k, b->targets[i], w / b->n,
                        dlogits ? dlogits + row : NULL);
        if (losses)
            losses[i] = (float)loss;
        total += w * loss;
    }
    *mean = total / b->n;
    return ERR_OK;
}

/* ---- losses of p_y ------------------------------------------------------------ */

/* Symmetric CE (Wang et al., ICCV 2019; spec §2), A < 0 standing for log 0:
 *   loss = alpha (-log p_y) + beta (-A) (1 - p_y)
 *   dloss/dz_j = (alpha - beta A p_y) (p_j - [j = y])   from f' = -alpha/p_y + beta A */
static double sce_sample(const LossConfig *c, const float *z, int k, int y, double scale,
                         float *dz) {
    double alpha = c->sce_alpha, beta_a = (double)c->sce_beta * c->sce_a;
    double lse = loss_log_sum_exp(z, k), lp = z[y] - lse;
    if (dz)
        py_gradient(z, k, y, lse, scale * (alpha - beta_a * exp(lp)), dz);
    return -alpha * lp + beta_a * expm1(lp);
}

/* Generalized CE L_q (Zhang & Sabuncu, NeurIPS 2018; spec §3.1), with
 * p_y^q = exp(q log p_y) so no clamp is needed:
 *   loss = (1 - p_y^q) / q
 *   dloss/dz_j = p_y^q (p_j - [j = y])                  from f' = -p_y^(q-1) */
static double gce_sample(const LossConfig *c, const float *z, int k, int y, double scale,
                         float *dz) {
    double q = c->gce_q, lse = loss_log_sum_exp(z, k), lp = z[y] - lse;
    if (dz)
        py_gradient(z, k, y, lse, scale * exp(q * lp), dz);
    return -expm1(q * lp) / q;
}

/* Truncated L_q, stateless (same paper, §3.2): the caller's weights prune.
 *   loss = L_q(p_y) - L_q(k) = (k^q - p_y^q) / q
 *   dloss/dz_j = p_y^q (p_j - [j = y])                  (the constant drops out) */
static double tgce_sample(const LossConfig *c, const float *z, int k, int y, double scale,
                          float *dz) {
    double q = c->gce_q, lse = loss_log_sum_exp(z, k), lp = z[y] - lse;
    if (dz)
        py_gradient(z, k, y, lse, scale * exp(q * lp), dz);
    return (pow(c->tgce_k, q) - exp(q * lp)) / q;
}

/* Taylor CE of order t (Feng et al., IJCAI 2020; spec §4), r = 1 - p_y:
 *   loss = sum_{n=1..t} r^n / n
 *   dloss/dz_j = (1 - r^t) (p_j - [j = y])              from f' = -(1 - r^t) / p_y
 * 1 - r^t = -expm1(t log r), with log r = log1p(-p_y) for small p_y, so the
 * weight stays t p_y, not 0, when p_y is tiny, and 1 when p_y nears 1. */
static double taylor_sample(const LossConfig *c, const float *z, int k, int y, double scale,
                            float *dz) {
    double lse = loss_log_sum_exp(z, k), lp = z[y] - lse, p = exp(lp), r = -expm1(lp);
    if (dz) {
        double log_r = p < 0.5 ? log1p(-p) : log(r);
        py_gradient(z, k, y, lse, scale * -expm1(c->taylor_t * log_r), dz);
    }

    double loss = 0.0, r_n = 1.0;
    for (int n = 1; n <= c->taylor_t; n++) {
        r_n *= r;
        loss += r_n / n;
    }
    return loss;
}

/* ---- every class ------------------------------------------------------------- */

/* NCE+RCE (Ma et al., ICML 2020; spec §6), u = log p_y, S = sum_k log p_k,
 * S <= -K log K < 0 for K >= 2, both from the log-sum-exp:
 *   loss = alpha u / S + beta (-A) (1 - p_y)
 *   dloss/dz_j = alpha [(d_jy - p_j) S - u (1 - K p_j)] / S^2 + beta (-A) p_y (p_j - d_jy) */
static double nce_rce_sample(const LossConfig *c, const float *z, int k, int y, double scale,
                             float *dz) {
    double alpha = c->nce_alpha, beta_a = (double)c->nce_beta * c->nce_a;
    double lse = loss_log_sum_exp(z, k), u = z[y] - lse, p_y = exp(u), s = 0.0;
    for (int j = 0; j < k; j++)
        s += (double)z[j] - lse;
    if (dz) {
        for (int j = 0; j < k; j++) {
            double p = exp((double)z[j] - lse), hot = j == y ? 1.0 : 0.0;
            double d_nce = ((hot - p) * s - u * (1.0 - k * p)) / (s * s);
            dz[j] = (float)(scale * (alpha * d_nce - beta_a * p_y * (p - hot)));
        }
    }
    return alpha * u / s + beta_a * expm1(u);
}

/* log_t(x) from log x: (x^(1-t) - 1) / (1 - t), log x at t = 1 (spec §5.1). */
static double log_t(double log_x, double t) {
    return t == 1.0 ? log_x : expm1((1.0 - t) * log_x) / (1.0 - t);
}

/* log exp_t2(-d) for d >= 0 and t2 >= 1: -log(1 + (t2 - 1) d) / (t2 - 1). */
static double log_exp_t2(double d, double t2) {
    return t2 == 1.0 ? -d : -log1p((t2 - 1.0) * d) / (t2 - 1.0);
}

/* sum_k p_k, and sum_k p_k^t2 into *sum_pow (if not NULL), for the
 * tempered softmax p_k = exp_t2(z_k - lam). */
static double tempered_sum(const float *z, int k, double lam, double t2, double *sum_pow) {
    double s = 0.0, s_pow = 0.0;
    for (int j = 0; j < k; j++) {
        double lp = log_exp_t2(lam - z[j], t2);
        s += exp(lp);
        s_pow += exp(t2 * lp);
    }
    if (sum_pow)
        *sum_pow = s_pow;
    return s;
}

/* The normaliser lam of the tempered softmax, sum_k exp_t2(z_k - lam) = 1,
 * for t2 >= 1 (spec §5.2; google/bi-tempered-loss's fixed point):
 *   a = (z - mu) c with mu = max z, c = 1;  repeat: Z = sum_k exp_t2(a_k),
 *   c = Z^(1 - t2);  then lam = mu + (Z^(t2 - 1) - 1) / (t2 - 1).
 * iters > 0: exactly iters steps, as the reference. iters 0: steps until
 * |sum p - 1| < BT_FP_TOL, then Newton on lam, lam += (sum p - 1) / sum p^t2;
 * sum p is convex and decreasing in lam, so Newton converges from any lam
 * at or left of the root (lam >= mu, where sum p >= 1, holds throughout).
 * LIMITATION: t2 < 1 (the reference's bisection over a finite support) is
 * not implemented; loss_config_check rejects it, so such a run cannot start. */
static double bt_normaliser(const float *z, int k, double t2, int iters) {
    if (t2 == 1.0)
        return loss_log_sum_exp(z, k);

    /* The reference's fixed point, on the scale c of the shifted logits. */
    double mu = loss_row_max(z, k), c = 1.0, lam = mu;
    for (int it = 0;; it++) {
        double big_z = 0.0;
        for (int j = 0; j < k; j++)
            big_z += exp(log_exp_t2(c * (mu - z[j]), t2));
        lam = mu + expm1((t2 - 1.0) * log(big_z)) / (t2 - 1.0);
        int done = iters > 0 ? it == iters
                             : (it == BT_FP_MAX ||
                                fabs(tempered_sum(z, k, lam, t2, NULL) - 1.0) < BT_FP_TOL);
        if (done)
            break;
        c = exp((1.0 - t2) * log(big_z));
    }
    if (iters > 0)
        return lam;

    /* Newton to BT_NEWTON_TOL; a NaN stops it at once. */
    for (int it = 0; it < BT_NEWTON_MAX; it++) {
        double sum_pow, s = tempered_sum(z, k, lam, t2, &sum_pow);
        if (!(fabs(s - 1.0) >= BT_NEWTON_TOL))
            break;
        lam = fmax(lam + (s - 1.0) / sum_pow, mu);
    }
    return lam;
}

/* Bi-tempered logistic loss (Amid et al., NeurIPS 2019; spec §5.3-5.6),
 * p_k = exp_t2(z_k - lam), target y_k: 1 - eps on y, eps/(K - 1) elsewhere:
 *   loss = sum_k [y_k (log_t1 y_k - log_t1 p_k) - (y_k^(2-t1) - p_k^(2-t1)) / (2 - t1)]
 *   dloss/dz_j = d_j - e_j sum_k d_k,  d_k = (p_k - y_k) p_k^(t2-t1),  e_j = p_j^t2 / sum p^t2
 * (e is the escort distribution, dlam/dz; the reference's custom gradient,
 * exact when sum p = 1). Powers of p are exp(power * log p). */
static double bt_sample(const LossConfig *c, const float *z, int k, int y, double scale,
                        float *dz) {
    double t1 = c->bt_t1, t2 = c->bt_t2, lam = bt_normaliser(z, k, t2, c->bt_iters);
    double eps = k > 1 ? c->bt_smoothing : 0.0, y_off = k > 1 ? eps / (k - 1) : 0.0;

    /* The loss, and the two sums the gradient needs. */
    double loss = 0.0, sum_d = 0.0, sum_pow = 0.0;
    for (int j = 0; j < k; j++) {
        double lp = log_exp_t2(lam - z[j], t2), y_j = j == y ? 1.0 - eps : y_off;
        loss += exp((2.0 - t1) * lp) / (2.0 - t1);
        if (y_j > 0.0) {
            double ly = log(y_j);
            loss += y_j * (log_t(ly, t1) - log_t(lp, t1)) - exp((2.0 - t1) * ly) / (2.0 - t1);
        }
        sum_d += (exp(lp) - y_j) * exp((t2 - t1) * lp);
        sum_pow += exp(t2 * lp);
    }
    if (!dz)
        return loss;

    /* The gradient, from the same p. */
    for (int j = 0; j < k; j++) {
        double lp = log_exp_t2(lam - z[j], t2), y_j = j == y ? 1.0 - eps : y_off;
        double d_j = (exp(lp) - y_j) * exp((t2 - t1) * lp);
        dz[j] = (float)(scale * (d_j - exp(t2 * lp) / sum_pow * sum_d));
    }
    return loss;
}

/* ---- the public calls ---------------------------------------------------------- */

int loss_sce(const LossBatch *b, float alpha, float beta, float a, float *losses,
             float *dlogits, double *mean) {
    LossConfig c = {.kind = LOSS_SCE, .sce_alpha = alpha, .sce_beta = beta, .sce_a = a};
    return run_batch(&c, sce_sample, b, losses, dlogits, mean);
}

int loss_gce(const LossBatch *b, float q, float *losses, float *dlogits, double *mean) {
    LossConfig c = {.kind = LOSS_GCE, .gce_q = q};
    return run_batch(&c, gce_sample, b, losses, dlogits, mean);
}

int loss_tgce(const LossBatch *b, float q, float k, float *losses, float *dlogits,
              double *mean) {
    LossConfig c = {.kind = LOSS_TGCE, .gce_q = q, .tgce_k = k, .tgce_start = 1,
                    .tgce_every = 1};
    return run_batch(&c, tgce_sample, b, losses, dlogits, mean);
}

int loss_taylor(const LossBatch *b, int t, float *losses, float *dlogits, double *mean) {
    LossConfig c = {.kind = LOSS_TAYLOR, .taylor_t = t};
    return run_batch(&c, taylor_sample, b, losses, dlogits, mean);
}

int loss_bitempered(const LossBatch *b, float t1, float t2, float smoothing, int iters,
                    float *losses, float *dlogits, double *mean) {
    LossConfig c = {.kind = LOSS_BITEMPERED, .bt_t1 = t1, .bt_t2 = t2,
                    .bt_smoothing = smoothing, .bt_iters = iters};
    return run_batch(&c, bt_sample, b, losses, dlogits, mean);
}

int loss_nce_rce(const LossBatch *b, float alpha, float beta, float a, float *losses,
                 float *dlogits, double *mean) {
    LossConfig c = {.kind = LOSS_NCE_RCE, .nce_alpha = alpha, .nce_beta = beta, .nce_a = a};
    return run_batch(&c, nce_rce_sample, b, losses, dlogits, mean);
}

int loss_tgce_mask(const LossBatch *b, float k, float *mask) {
    LossConfig c = {.kind = LOSS_TGCE, .gce_q = GCE_Q_DEFAULT, .tgce_k = k, .tgce_start = 1,
                    .tgce_every = 1};
    int rc = loss_config_check(&c);
    if (rc < 0 || (rc = loss_check_batch(b)) < 0)
        return rc;

    /* p_y > k as log p_y > log k; k = 0 keeps every sample. */
    double log_k = log(k);
    for (int i = 0; i < b->n; i++) {
        const float *z_i = b->logits + (size_t)i * (size_t)b->k;
        mask[i] = z_i[b->targets[i]] - loss_log_sum_exp(z_i, b->k) > log_k ? 1.0f : 0.0f;
    }
    return ERR_OK;
}

void loss_config_default(LossKind kind, LossConfig *cfg) {
    *cfg = (LossConfig){
        .kind = kind,
        .eps = LOSS_LS_EPS_DEFAULT,
        .sce_alpha = SCE_ALPHA_DEFAULT,
        .sce_beta = SCE_BETA_DEFAULT,
        .sce_a = SCE_A_DEFAULT,
        .gce_q = GCE_Q_DEFAULT,
        .tgce_k = TGCE_K_DEFAULT,
        .tgce_start = LOSS_TGCE_PRUNE_START,
        .tgce_every = LOSS_TGCE_PRUNE_EVERY,
        .taylor_t = TAYLOR_T_DEFAULT,
        .bt_t1 = BT_T1_DEFAULT,
        .bt_t2 = BT_T2_DEFAULT,
        .bt_smoothing = 0.0f,
        .bt_iters = 0,
        .nce_alpha = NCE_ALPHA_DEFAULT,
        .nce_beta = NCE_BETA_DEFAULT,
        .nce_a = NCE_A_DEFAULT,
    };
}

/* v in the interval lo..hi, each end open or closed ('(' or '[', ')' or
 * ']'); else ERR_INVALID naming the loss and the hyperparameter. NaN fails. */
static int check_range(const char *loss, const char *name, double v, char open, double lo,
                       double hi, char close) {
    int ok = (open == '(' ? v > lo : v >= lo) && (close == ')' ? v < hi : v <= hi);
    return ok ? ERR_OK
              : err_set(ERR_INVALID, "loss: %s %s %g is not in %c%g, %g%c", loss, name, v, open,
                        lo, hi, close);
}

int loss_config_check(const LossConfig *c) {
    int rc = ERR_OK;
    switch (c->kind) {
    case LOSS_CROSS_ENTROPY:
        return ERR_OK;
    case LOSS_LABEL_SMOOTHING:
        return check_range("label_smoothing", "eps", c->eps, '[', 0, 1, ']');
    case LOSS_SCE:
        if ((rc = check_range("sce", "alpha", c->sce_alpha, '[', 0, INFINITY, ')')) < 0 ||
            (rc = check_range("sce", "beta", c->sce_beta, '[', 0, INFINITY, ')')) < 0)
            return rc;
        return check_range("sce", "A", c->sce_a, '(', -INFINITY, 0, ')');
    case LOSS_TGCE:
        if ((rc = check_range("tgce", "k", c->tgce_k, '[', 0, 1, ')')) < 0 ||
            (rc = check_range("tgce", "start", c->tgce_start, '[', 1, INFINITY, ')')) < 0 ||
            (rc = check_range("tgce", "every", c->tgce_every, '[', 1, INFINITY, ')')) < 0)
            return rc;
        return check_range("tgce", "q", c->gce_q, '(', 0, 1, ']');
    case LOSS_GCE:
        return check_range("gce", "q", c->gce_q, '(', 0, 1, ']');
    case LOSS_TAYLOR:
        return check_range("taylor", "t", c->taylor_t, '[', 1, LOSS_TAYLOR_T_MAX, ']');
    case LOSS_BITEMPERED:
        if ((rc = check_range("bitempered", "t1", c->bt_t1, '[', 0, 1, ']')) < 0 ||
            (rc = check_range("bitempered", "t2", c->bt_t2, '[', 1, LOSS_BT_T2_MAX, ']')) < 0 ||
            (rc = check_range("bitempered", "smoothing", c->bt_smoothing, '[', 0, 1, ']')) < 0)
            return rc;
        return check_range("bitempered", "iters", c->bt_iters, '[', 0, LOSS_BT_ITERS_MAX, ']');
    case LOSS_NCE_RCE:
        if ((rc = check_range("nce_rce", "alpha", c->nce_alpha, '[', 0, INFINITY, ')')) < 0 ||
            (rc = check_range("nce_rce", "beta", c->nce_beta, '[', 0, INFINITY, ')')) < 0)
            return rc;
        return check_range("nce_rce", "A", c->nce_a, '(', -INFINITY, 0, ')');
    }
    return err_set(ERR_INVALID, "loss: unknown kind %d", (int)c->kind);
}
