/* Accuracy and top-k accuracy counts; see metrics.h. */
#include "train/metrics.h"

#include "util/err.h"

#include <math.h>
#include <stddef.h>

/* Rank of the target's logit in its row: the classes that beat it, i.e.
 * larger logits, and equal logits at a lower index. The sample is in the
 * top `top` when this rank is below top. */
static int target_rank(const float *z, int k, int y) {
    int rank = 0;
    for (int j = 0; j < k; j++)
        rank += z[j] > z[y] || (j < y && z[j] == z[y]);
    return rank;
}

int metrics_count_topk(const float *logits, const int *targets, int n, int k, int top) {
    if (n < 0 || k < 1 || top < 1)
        return err_set(ERR_INVALID, "metrics: %d samples, %d classes, top %d", n, k, top);

    int correct = 0;
    for (int i = 0; i < n; i++) {
        int y = targets[i];
        if (y < 0 || y >= k)
            return err_set(ERR_INVALID, "metrics: sample %d: target %d is not a class in [0, %d)",
                           i, y, k);
        const float *z_i = logits + (size_t)i * (size_t)k;
        correct += !isnan(z_i[y]) && target_rank(z_i, k, y) < top;
    }
    return correct;
}

int metrics_count_correct(const float *logits, const int *targets, int n, int k) {
    return metrics_count_topk(logits, targets, n, k, 1);
}
