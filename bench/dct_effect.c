/* What JPEG DCT downscaling changes in the training and validation images.
 *
 * For the first N items of a split, the same sample (same seed, epoch and
 * item, so the same flip and crop) is made twice: decoded at full size as
 * the reference does, and at the DCT scale the loader picks. Prints the
 * mean and largest absolute difference over all pixels (0..255), the share
 * of samples that were decoded smaller, and the time of each pipeline.
 *
 * Usage: dct_effect DATA [N] [SIZE] [valid]   (default 500 items, 128 px) */
#include "data/dataset.h"
#include "data/sample.h"
#include "data/transform.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: dct_effect DATA [N] [SIZE] [valid]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 500, size = argc > 3 ? atoi(argv[3]) : 128;
    Split split = argc > 4 && strcmp(argv[4], "valid") == 0 ? SPLIT_VALID : SPLIT_TRAIN;
    Dataset d;
    DatasetOptions dopt = {.data = argv[1], .check_files = 1};
    if (dataset_open(&d, &dopt) < 0) {
        fprintf(stderr, "dct_effect: %s\n", err_msg());
        return 1;
    }
    if (n > d.n[split])
        n = d.n[split];

    SampleSpec exact = {.size = size, .augment = split == SPLIT_TRAIN, .crop = 1,
                        .dct_scale = 0, .min_scale = TRANSFORM_MIN_SCALE, .seed = 42};
    SampleSpec fast = exact;
    fast.dct_scale = 1;
    SampleScratch sa = {0}, sb = {0};
    double sum = 0, t_exact = 0, t_fast = 0;
    long pixels = 0, reduced = 0;
    int worst = 0;

    /* Same sample both ways; compare byte by byte. */
    for (int i = 0; i < n; i++) {
        const Image *a, *b;
        double t0 = now();
        int rc = sample_load(&d, split, i, 0, &exact, &sa, &a);
        double t1 = now();
        if (rc == 0)
            rc = sample_load(&d, split, i, 0, &fast, &sb, &b);
        t_exact += t1 - t0;
        t_fast += now() - t1;
        if (rc < 0) {
            fprintf(stderr, "dct_effect: %s\n", err_msg());
            return 1;
        }
        reduced += sb.decoded.w < sa.decoded.w;
        size_t bytes = (size_t)a->w * a->h * a->c;
        for (size_t p = 0; p < bytes; p++) {
            int diff = abs((int)a->px[p] - (int)b->px[p]);
            sum += diff;
            worst = diff > worst ? diff : worst;
        }
        pixels += (long)bytes;
    }
    printf("%s, %d %s samples at %d px: %.1f%% decoded smaller; |difference| mean %.3f, "
           "max %d (of 255); %.2f ms per sample at full size, %.2f ms with DCT scaling\n",
           argv[1], n, split == SPLIT_TRAIN ? "training" : "validation", size,
           100.0 * reduced / n, sum / (double)pixels, worst, 1e3 * t_exact / n,
           1e3 * t_fast / n);
    sample_scratch_free(&sa);
    sample_scratch_free(&sb);
    dataset_free(&d);
    return 0;
}
