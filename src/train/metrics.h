/* Classification metrics on one batch: how many samples are right.
 *
 * Counts, not fractions, so an epoch's accuracy is the exact fraction
 * sum(correct) / sum(N) over batches of any size (spec §4.2). Ties between
 * equal logits go to the lower class index, as torch's argmax does; a NaN
 * logit never ranks above a number, and a NaN on the target is wrong. */
#ifndef NOISETTE_TRAIN_METRICS_H
#define NOISETTE_TRAIN_METRICS_H

/* The reference's top_k_accuracy (spec §4.2). */
#define METRICS_TOP_K_DEFAULT 5

/* Number of the N samples (logits N x K, row-major) whose arg-max class
 * equals targets[i]. Returns the count (0..N), or ERR_INVALID on N < 0,
 * K < 1 or a target outside [0, K). */
int metrics_count_correct(const float *logits, const int *targets, int n, int k);

/* Number of samples whose target is among the top classes with the largest
 * logits, equal logits ranked by index (so top = 1 is metrics_count_correct);
 * top >= K counts every sample but those whose target logit is NaN.
 * Returns the count, or ERR_INVALID as above or when top < 1. */
int metrics_count_topk(const float *logits, const int *targets, int n, int k, int top);

#endif
