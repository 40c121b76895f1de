/* Noise-robust training methods that act around the loss: MixUp, SAM and
 * adaptive SAM, early-learning regularisation (ELR) and co-teaching
 * (spec: robust-methods.md §7-§10). Each is a few pure functions over
 * arrays; train/loop.c calls them at the right points of a step, so each
 * can be tested on its own against the spec's worked values. */
#ifndef NOISETTE_TRAIN_METHODS_H
#define NOISETTE_TRAIN_METHODS_H

#include "nn/tensor.h"
#include "util/rng.h"

#include <stddef.h>
#include <stdint.h>

/* ---- MixUp, fastai's form (spec §9.1) ----------------------------------------
 * One lam_i ~ Beta(alpha, alpha) per sample, lam_i <- max(lam_i, 1 - lam_i),
 * a random permutation pi of the batch; x~_i = lam_i x_i + (1 - lam_i) x_pi(i)
 * and L_i = lam_i L(z~_i, y_i) + (1 - lam_i) L(z~_i, y_pi(i)). */

/* A draw from Gamma(shape, 1), shape > 0 (Marsaglia and Tsang's method,
 * boosted by U^(1/shape) below shape 1). */
double rng_gamma(Rng *r, double shape);

/* A draw from Beta(a, b), a, b > 0. */
double rng_beta(Rng *r, double a, double b);

/* Draws lam (n floats) and the partner permutation (n ints) for one batch,
 * then writes the mixed inputs to out (n samples of `sample` floats each,
 * out != x). */
void mixup_batch(Rng *r, float alpha, const float *x, int n, size_t sample, float *lam,
                 int32_t *partner, float *out);

/* ---- SAM and ASAM (spec §10) -----------------------------------------------
 * SAM:  eps = rho g / (||g||_2 + 1e-12) over all parameters as one vector;
 * ASAM: eps_i = rho w_i^2 g_i / ||w g||_2 (the neighbourhood scaled by |w|).
 * g is each Param's gradient plus wd * w on the Params that take weight
 * decay (the paper's code has the L2 term in the loss); wd 0 leaves it out. */

/* Floats sam_perturb needs in saved: the total over the Params with a
 * gradient. */
size_t sam_saved_floats(const ParamList *params);

/* Saves every trainable Param's values to saved, then moves them to w + eps.
 * Returns ||g|| (or ||w g|| for ASAM); a zero gradient moves nothing. */
double sam_perturb(const ParamList *params, double rho, int adaptive, double wd, float *saved);

/* Puts back the values sam_perturb saved (bit for bit). */
void sam_restore(const ParamList *params, const float *saved);

/* Copies every buffer of buffers (batch-norm running statistics, ...) to or
 * from saved; the second SAM pass must not move them (spec §10.1). */
size_t buffers_floats(const ParamList *buffers);
void buffers_save(const ParamList *buffers, float *saved);
void buffers_restore(const ParamList *buffers, const float *saved);

/* ---- ELR (spec §7) -------------------------------------------------------------
 * Per training image i a target T_i (K floats, zero at first) that follows
 * the model's predictions: T_i <- beta T_i + (1 - beta) p^_i, with p^ the
 * clamped, renormalised softmax. The loss adds lambda * mean_i log(1 - <T_i, p_i>). */

#define ELR_CLAMP 1e-4f

/* The papers' defaults for CIFAR-10 with symmetric noise. */
#define ELR_LAMBDA_DEFAULT 3.0
#define ELR_BETA_DEFAULT   0.7

/* Updates the targets of the batch's images (items[j] is image j's row in T,
 * N x K row-major) from the logits (n x k). */
void elr_update(float *targets, int k, const float *logits, const int32_t *items, int n,
                float beta);

/* Adds lambda * (1/n) sum_j log(1 - s_j), s_j = <T_items[j], clamp(softmax(z_j))>,
 * to *mean and its gradient to dlogits (n x k, may be NULL). Clamped
 * probabilities pass no gradient, as under the reference's autograd. */
void elr_regularise(const float *targets, int k, const float *logits, const int32_t *items,
                    int n, float lambda, float *dlogits, double *mean);

/* ---- co-teaching (spec §8) -------------------------------------------------------
 * Two networks; each learns from the samples the other finds easiest. */

/* The reference's forget rate at epoch e: linspace(0, tau^c, tk) over the
 * first tk epochs, tau after. */
double coteach_forget_rate(int epoch, double tau, int tk, double c);

/* Keeps the keep = floor((1 - rate) n) samples of smallest loss (ties by
 * index) and writes per-sample weights: n / keep for them, 0 for the rest,
 * so that a loss's weighted batch mean (1/n) sum w_i l_i is the mean over
 * the kept samples. order is n ints of scratch. Returns keep (>= 1). */
int coteach_select(const float *losses, int n, double rate, int *order, float *weights);

#endif
