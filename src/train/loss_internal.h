/* What loss.c and loss_robust.c share; not part of the loss API. */
#ifndef NOISETTE_TRAIN_LOSS_INTERNAL_H
#define NOISETTE_TRAIN_LOSS_INTERNAL_H

#include "train/loss.h"

/* ERR_INVALID, with the reason, for N < 1, K < 1 or a target outside [0, K). */
int loss_check_batch(const LossBatch *b);

/* The largest of the K logits (the shift of a stable log-sum-exp). */
double loss_row_max(const float *z, int k);

/* log sum_j exp(z_j), shifted by the maximum so no exp overflows. */
double loss_log_sum_exp(const float *z, int k);

#endif
