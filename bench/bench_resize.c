/* Throughput of image_resize on the pipeline's shapes: a RandomResizedCrop
 * box of a 320-px Imagenette image to 128, 192 and 256 squares, the
 * validation resizes, and a full-size image to 296. Inputs are LCG noise
 * (speed does not depend on content). Prints one line per shape to stdout.
 *
 * Usage: bench_resize [ITERATIONS]   (default 2000 per shape) */
#include "data/image.h"

#include "util/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_REPEATS 5

typedef struct {
    const char *what;
    int         src_w, src_h;
    int         x0, y0, bw, bh;
    int         out_w, out_h;
} BenchShape;

static const BenchShape SHAPES[] = {
    {"train crop to 128", 320, 427, 65, 100, 189, 252, 128, 128},
    {"train crop to 192", 320, 427, 65, 100, 189, 252, 192, 192},
    {"valid 320 to 152", 320, 427, 0, 0, 320, 427, 152, 152},
    {"valid 320 to 224", 320, 427, 0, 0, 320, 427, 224, 224},
    {"train crop to 256", 500, 375, 40, 30, 400, 300, 256, 256},
    {"valid 500 to 296", 500, 375, 0, 0, 500, 375, 296, 296},
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best of BENCH_REPEATS means of iters calls, in microseconds per call. */
static int bench_shape(const BenchShape *b, int iters, ResizeScratch *s, double *us) {
    Image src = {0}, out = {0};
    int rc = image_reserve(&src, b->src_w, b->src_h, 3);
    uint32_t state = 12345;
    for (size_t i = 0; rc == 0 && i < (size_t)b->src_w * b->src_h * 3; i++) {
        state = 1664525u * state + 1013904223u;
        src.px[i] = (uint8_t)(state >> 24);
    }

    *us = 1e30;
    for (int r = 0; rc == 0 && r < BENCH_REPEATS; r++) {
        double t0 = now_s();
        for (int i = 0; rc == 0 && i < iters; i++)
            rc = image_resize(&src, b->x0, b->y0, b->bw, b->bh, b->out_w, b->out_h, &out, s);
        double t = (now_s() - t0) / iters * 1e6;
        *us = t < *us ? t : *us;
    }
    image_free(&src);
    image_free(&out);
    return rc;
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    if (iters < 1) {
        fprintf(stderr, "usage: bench_resize [ITERATIONS]\n");
        return 2;
    }
    ResizeScratch s = {0};
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const BenchShape *b = &SHAPES[i];
        double us;
        if (bench_shape(b, iters, &s, &us) < 0) {
            fprintf(stderr, "bench_resize: %s\n", err_msg());
            resize_scratch_free(&s);
            return 1;
        }
        printf("%-18s %3dx%-3d box %3dx%-3d -> %3dx%-3d  %7.1f us/image  %7.0f images/s\n",
               b->what, b->src_w, b->src_h, b->bw, b->bh, b->out_w, b->out_h, us, 1e6 / us);
    }
    resize_scratch_free(&s);
    return 0;
}
