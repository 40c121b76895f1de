/* Pillow-exact bilinear resizing of a box of an 8-bit image (see image.h).
 *
 * Pillow's BILINEAR is not 4-tap interpolation: it is a separable triangle
 * filter widened by the scale factor (antialiased when shrinking), with
 * weights rounded to 22-bit fixed point, applied horizontally into an 8-bit
 * intermediate and then vertically. Every rounding step below is Pillow's,
 * so outputs match byte for byte. Only the triangle filter and 1 or 3
 * channels are supported; the box must lie inside the image (fastai crops
 * before resizing, so the filter never reads outside the box). */
#include "data/image.h"

#include "util/err.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RESIZE_PRECISION_BITS 22                        /* Pillow's PRECISION_BITS */
#define RESIZE_ONE            (1 << RESIZE_PRECISION_BITS)
#define RESIZE_HALF           (1 << (RESIZE_PRECISION_BITS - 1))

/* The weights of one axis: output index i reads taps first[i] ..
 * first[i] + count[i] - 1 of the input, with weights coef[i*ksize + t]. */
typedef struct {
    int            n_out, ksize;
    int           *bounds;      /* 2 per output index: first tap, tap count */
    int32_t       *coef;        /* ksize per output index, 0 past count */
} AxisFilter;

/* The triangle ("tent") kernel with support 1. */
static double tri(double x) {
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Input pixels per output pixel, n_in / n_out (Pillow's scale). */
static double axis_scale(int n_in, int n_out) {
    return (double)n_in / n_out;
}

/* Pillow's ksize, the most taps an output can have: the filter reaches
 * support = max(scale, 1) input pixels either side, 2*ceil(support) + 1. */
static size_t axis_ksize(int n_in, int n_out) {
    double support = fmax(axis_scale(n_in, n_out), 1.0);
    return (size_t)ceil(support) * 2 + 1;
}

/* Weights of one axis, as Pillow 9's precompute_coeffs and
 * normalize_coeffs_8bpc (libImaging/Resample.c) compute them, in double:
 *   scale = n_in / n_out;  fs = max(scale, 1);  support = fs
 *   center_i = (i + 0.5) * scale
 *   taps j in [max(int(center - support + 0.5), 0), min(int(center + support + 0.5), n_in))
 *   w_j = tri((j - center + 0.5) * (1 / fs)) / sum_j w_j
 *   k_j = int(w_j * 2^22 + 0.5) (half away from zero for w_j < 0)
 * Pillow keeps the unnormalised w_j in a buffer; recomputing them gives the
 * same doubles, so no buffer of ksize doubles is needed. (x - c + 0.5) * ss
 * has no multiply-add, so FMA contraction cannot change the result. */
static void axis_filter_fill(AxisFilter *f, int n_in) {
    double scale = axis_scale(n_in, f->n_out);
    double fs = fmax(scale, 1.0);
    double support = fs;    /* the triangle's support, 1, times fs */
    double ss = 1.0 / fs;

    for (int i = 0; i < f->n_out; i++) {
        /* Tap range, truncated toward zero like Pillow's (int) casts. */
        double center = (i + 0.5) * scale;
        double lo_d = center - support + 0.5, hi_d = center + support + 0.5;
        int lo = lo_d < 0.0 ? 0 : (int)lo_d;
        int hi = hi_d >= (double)n_in ? n_in : (int)hi_d;
        int count = hi - lo;
        assert(count >= 1 && (size_t)count <= (size_t)f->ksize);

        /* Sum of the raw weights, then the normalised fixed-point ones. */
        double ww = 0.0;
        for (int t = 0; t < count; t++)
            ww += tri(((t + lo) - center + 0.5) * ss);
        int32_t *k = f->coef + (size_t)i * f->ksize;
        for (int t = 0; t < count; t++) {
            double w = tri(((t + lo) - center + 0.5) * ss);
            if (ww != 0.0)
                w /= ww;
            k[t] = w < 0.0 ? (int32_t)(-0.5 + w * RESIZE_ONE)
                           : (int32_t)(0.5 + w * RESIZE_ONE);
        }
        for (int t = count; t < f->ksize; t++)
            k[t] = 0;
        f->bounds[2 * i] = lo;
        f->bounds[2 * i + 1] = count;
    }
}

/* Pillow's clip8: the accumulator's integer part, clamped to 0..255. */
static inline uint8_t clip8(int32_t acc) {
    if (acc <= 0)
        return 0;
    if (acc >= 256 * RESIZE_ONE)
        return 255;
    return (uint8_t)(acc >> RESIZE_PRECISION_BITS);
}

/* Horizontal pass over rows rows of in (stride in_stride bytes, pixel 0 of
 * each row at the box's left edge), C channels, into dst (f->n_out * C
 * bytes per row, packed). C is a constant in each caller, so the channel
 * loop unrolls. out[x] = clip8(2^21 + sum_t in[first + t] * k_t). */
static inline void pass_horizontal(const uint8_t *in, size_t in_stride, int rows,
                                   const AxisFilter *f, int C, uint8_t *dst) {
    size_t dst_stride = (size_t)f->n_out * C;
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = in + (size_t)r * in_stride;
        uint8_t *d = dst + (size_t)r * dst_stride;
        for (int i = 0; i < f->n_out; i++) {
            const uint8_t *p = row + (size_t)f->bounds[2 * i] * C;
            const int32_t *k = f->coef + (size_t)i * f->ksize;
            int count = f->bounds[2 * i + 1];

            /* One accumulator per channel, started at one half for rounding. */
            int32_t acc[3] = {RESIZE_HALF, RESIZE_HALF, RESIZE_HALF};
            for (int t = 0; t < count; t++)
                for (int ch = 0; ch < C; ch++)
                    acc[ch] += p[t * C + ch] * k[t];
            for (int ch = 0; ch < C; ch++)
                d[i * C + ch] = clip8(acc[ch]);
        }
    }
}

static void pass_horizontal_grey(const uint8_t *in, size_t in_stride, int rows,
                                 const AxisFilter *f, uint8_t *dst) {
    pass_horizontal(in, in_stride, rows, f, 1, dst);
}

static void pass_horizontal_rgb(const uint8_t *in, size_t in_stride, int rows,
                                const AxisFilter *f, uint8_t *dst) {
    pass_horizontal(in, in_stride, rows, f, 3, dst);
}

/* Vertical pass: each output row is a weighted sum of whole input rows of n
 * bytes (stride in_stride), accumulated row by row in acc[0..n) so the
 * innermost loop runs along contiguous memory and vectorises. Integer sums
 * are exact, so the order differs from Pillow's without changing a bit. */
static void pass_vertical(const uint8_t *in, size_t in_stride, size_t n, const AxisFilter *f,
                          int32_t *restrict acc, uint8_t *restrict dst) {
    for (int i = 0; i < f->n_out; i++) {
        const int32_t *k = f->coef + (size_t)i * f->ksize;
        int first = f->bounds[2 * i], count = f->bounds[2 * i + 1];

        /* Start at one half, add each tap's row, then clip into the output. */
        for (size_t x = 0; x < n; x++)
            acc[x] = RESIZE_HALF;
        for (int t = 0; t < count; t++) {
            const uint8_t *restrict row = in + (size_t)(first + t) * in_stride;
            int32_t kt = k[t];
            for (size_t x = 0; x < n; x++)
                acc[x] += row[x] * kt;
        }
        uint8_t *d = dst + (size_t)i * n;
        for (size_t x = 0; x < n; x++)
            d[x] = clip8(acc[x]);
    }
}

/* A buffer of at least need elements of size elem: old itself when its
 * *cap suffices, else a new one (old freed, contents not kept; *cap
 * updated). NULL with a message when out of memory, old left intact. */
static void *scratch_grow(void *old, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return old;
    void *p = need <= SIZE_MAX / elem ? malloc(need * elem) : NULL;
    if (!p) {
        err_set(ERR_NOMEM, "image_resize: out of memory for %zu scratch elements", need);
        return NULL;
    }
    free(old);
    *cap = need;
    return p;
}

static int check_args(const Image *src, int x0, int y0, int bw, int bh, int out_w, int out_h,
                      const Image *out) {
    if (!src->px || (src->c != 1 && src->c != 3) || src->w <= 0 || src->h <= 0)
        return err_set(ERR_INVALID, "image_resize: source %dx%d with %d channels, expected "
                       "a non-empty image with 1 or 3", src->w, src->h, src->c);
    if (bw <= 0 || bh <= 0 || out_w <= 0 || out_h <= 0)
        return err_set(ERR_INVALID, "image_resize: box %dx%d to %dx%d, sizes must be positive",
                       bw, bh, out_w, out_h);
    if (x0 < 0 || y0 < 0 || bw > src->w - x0 || bh > src->h - y0)
        return err_set(ERR_INVALID, "image_resize: box (%d, %d) %dx%d is not inside the "
                       "%dx%d image", x0, y0, bw, bh, src->w, src->h);
    if (out == src)
        return err_set(ERR_INVALID, "image_resize: output and source are the same image");
    return ERR_OK;
}

/* Lays both axes' weights and one row of vertical accumulators (*acc, n_acc
 * int32s) out in the scratch, growing it: coef holds the horizontal weights,
 * the vertical ones, then the accumulators; bounds the horizontal bounds,
 * then the vertical ones. The caps count elements, not bytes. */
static int filters_setup(ResizeScratch *s, int bw, int bh, AxisFilter *fh, AxisFilter *fv,
                         size_t n_acc, int32_t **acc) {
    if (axis_ksize(bw, fh->n_out) > INT_MAX || axis_ksize(bh, fv->n_out) > INT_MAX)
        return err_set(ERR_NOMEM, "image_resize: %dx%d to %dx%d needs too many weights",
                       bw, bh, fh->n_out, fv->n_out);
    fh->ksize = (int)axis_ksize(bw, fh->n_out);
    fv->ksize = (int)axis_ksize(bh, fv->n_out);
    size_t n_coef_h = (size_t)fh->n_out * fh->ksize, n_coef_v = (size_t)fv->n_out * fv->ksize;

    int32_t *coef = scratch_grow(s->coef, &s->coef_cap, n_coef_h + n_coef_v + n_acc,
                                 sizeof *coef);
    if (!coef)
        return ERR_NOMEM;
    s->coef = coef;
    int *bounds = scratch_grow(s->bounds, &s->bounds_cap,
                               2 * ((size_t)fh->n_out + (size_t)fv->n_out), sizeof *bounds);
    if (!bounds)
        return ERR_NOMEM;
    s->bounds = bounds;

    fh->coef = coef;
    fv->coef = coef + n_coef_h;
    *acc = coef + n_coef_h + n_coef_v;
    fh->bounds = bounds;
    fv->bounds = bounds + 2 * (size_t)fh->n_out;
    return ERR_OK;
}

/* Resizes as Pillow's ImagingResampleInner does: a pass runs only when its
 * size changes (neither: a copy of the box); the horizontal one covers only
 * the box rows the vertical one reads, from the first tap of the first
 * output row to the last tap of the last one. */
int image_resize(const Image *src, int x0, int y0, int bw, int bh, int out_w, int out_h,
                 Image *out, ResizeScratch *scratch) {
    int rc = check_args(src, x0, y0, bw, bh, out_w, out_h, out);
    if (rc < 0)
        return rc;
    int c = src->c;
    size_t src_stride = (size_t)src->w * c;
    const uint8_t *box = src->px + (size_t)y0 * src_stride + (size_t)x0 * c;
    int need_h = out_w != bw, need_v = out_h != bh;

    /* The output, and the box copied as is when neither pass is needed. */
    if ((rc = image_reserve(out, out_w, out_h, c)) < 0)
        return rc;
    size_t row_bytes = (size_t)out_w * c;
    if (!need_h && !need_v) {
        for (int y = 0; y < out_h; y++)
            memcpy(out->px + (size_t)y * row_bytes, box + (size_t)y * src_stride, row_bytes);
        return ERR_OK;
    }

    /* Weights; the vertical ones first, as they decide the rows to read. */
    AxisFilter fh = {.n_out = out_w}, fv = {.n_out = out_h};
    int32_t *acc = NULL;
    if ((rc = filters_setup(scratch, bw, bh, &fh, &fv, row_bytes, &acc)) < 0)
        return rc;
    axis_filter_fill(&fv, bh);

    /* Horizontal pass over the rows the vertical pass reads, into the
     * intermediate (or straight into out when it is the only pass). */
    const uint8_t *v_in = box;
    size_t v_stride = src_stride;
    if (need_h) {
        axis_filter_fill(&fh, bw);
        int row_first = fv.bounds[0];
        int rows = fv.bounds[2 * (out_h - 1)] + fv.bounds[2 * (out_h - 1) + 1] - row_first;
        uint8_t *dst = out->px;
        if (need_v) {
            if (!(dst = scratch_grow(scratch->tmp, &scratch->tmp_cap, row_bytes * rows, 1)))
                return ERR_NOMEM;
            scratch->tmp = dst;
        }
        const uint8_t *h_in = box + (size_t)row_first * src_stride;
        if (c == 3)
            pass_horizontal_rgb(h_in, src_stride, rows, &fh, dst);
        else
            pass_horizontal_grey(h_in, src_stride, rows, &fh, dst);
        for (int i = 0; i < out_h; i++)
            fv.bounds[2 * i] -= row_first;
        v_in = dst;
        v_stride = row_bytes;
    }

    /* Vertical pass from the intermediate, or from the box itself. */
    if (need_v)
        pass_vertical(v_in, v_stride, row_bytes, &fv, acc, out->px);
    return ERR_OK;
}

void resize_scratch_free(ResizeScratch *s) {
    free(s->tmp);
    free(s->coef);
    free(s->bounds);
    memset(s, 0, sizeof *s);
}
