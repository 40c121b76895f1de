/* Item transform geometry and normalisation; see transform.h. */
#include "data/transform.h"

#include <math.h>
#include <string.h>

double transform_round_half_even(double v) {
    double r = floor(v + 0.5);
    if (r - v == 0.5 && fmod(r, 2.0) != 0.0)
        r -= 1.0;   /* exactly halfway and odd: go to the even neighbour */
    return r;
}

void transform_random_crop(Rng *rng, int w, int h, double min_scale, CropBox *box) {
    double area = (double)w * (double)h;
    double log_lo = log(3.0 / 4.0), log_hi = log(4.0 / 3.0);

    /* fastai: up to 10 draws of (area fraction, log aspect); the first box
     * that fits is placed with uniform integer offsets, bounds inclusive. */
    for (int attempt = 0; attempt < TRANSFORM_ATTEMPTS; attempt++) {
        double a = (min_scale + (1.0 - min_scale) * rng_uniform(rng)) * area;
        double ratio = exp(log_lo + (log_hi - log_lo) * rng_uniform(rng));
        int cw = (int)transform_round_half_even(sqrt(a * ratio));
        int ch = (int)transform_round_half_even(sqrt(a / ratio));
        if (cw >= 1 && ch >= 1 && cw <= w && ch <= h) {
            box->w = cw;
            box->h = ch;
            box->x = (int)rng_below(rng, (uint64_t)(w - cw) + 1);
            box->y = (int)rng_below(rng, (uint64_t)(h - ch) + 1);
            return;
        }
    }

    /* Fallback: the centre crop with the aspect clamped to [3/4, 4/3]. */
    double aspect = (double)w / (double)h;
    box->w = w;
    box->h = h;
    if (aspect < 3.0 / 4.0)
        box->h = (int)floor(w / 0.75);
    else if (aspect > 4.0 / 3.0)
        box->w = (int)floor(h * 4.0 / 3.0);
    box->x = (w - box->w) / 2;
    box->y = (h - box->h) / 2;
}

int transform_valid_full(int size) {
    return size + 8 * (int)ceil(size * 0.14 / 8.0);
}

int transform_dct_scale(int w, int h, int need_w, int need_h) {
    for (int s = 1; s < 8; s *= 2)
        if ((long)w * s >= 8L * (need_w + 1) && (long)h * s >= 8L * (need_h + 1))
            return s;
    return 8;
}

/* Nearest pixel edge of edge e (0..full) in a scaled axis, as
 * round(e * scaled / full) in integers. */
static int scale_edge(int e, int full, int scaled) {
    return (int)((2 * (long long)e * scaled + full) / (2 * (long long)full));
}

void transform_scale_box(const CropBox *box, int full_w, int full_h, int scaled_w,
                         int scaled_h, CropBox *out) {
    int x0 = scale_edge(box->x, full_w, scaled_w);
    int x1 = scale_edge(box->x + box->w, full_w, scaled_w);
    int y0 = scale_edge(box->y, full_h, scaled_h);
    int y1 = scale_edge(box->y + box->h, full_h, scaled_h);

    /* At least one pixel, inside the image. */
    if (x1 <= x0)
        x1 = x0 + 1;
    if (y1 <= y0)
        y1 = y0 + 1;
    if (x1 > scaled_w)
        x0 -= x1 - scaled_w, x1 = scaled_w;
    if (y1 > scaled_h)
        y0 -= y1 - scaled_h, y1 = scaled_h;
    *out = (CropBox){x0, y0, x1 - x0, y1 - y0};
}

void transform_flip(Image *im) {
    int c = im->c;
    for (int y = 0; y < im->h; y++) {
        uint8_t *row = im->px + (size_t)y * (size_t)im->w * (size_t)c;
        for (int a = 0, b = im->w - 1; a < b; a++, b--) {
            for (int k = 0; k < c; k++) {
                uint8_t t = row[a * c + k];
                row[a * c + k] = row[b * c + k];
                row[b * c + k] = t;
            }
        }
    }
}

void transform_normalize(const Image *im, const float *mean, const float *std,
                         Layout layout, float *dst) {
    int c = im->c;
    size_t hw = (size_t)im->w * (size_t)im->h;

    /* y = (x/255 - mean) / std = x * scale[k] + shift[k], folded once. */
    float scale[4], shift[4];
    for (int k = 0; k < c; k++) {
        scale[k] = 1.0f / (255.0f * std[k]);
        shift[k] = -mean[k] / std[k];
    }
    if (layout == LAYOUT_NHWC) {
        for (size_t p = 0; p < hw * (size_t)c; p++)
            dst[p] = im->px[p] * scale[p % (size_t)c] + shift[p % (size_t)c];
        return;
    }
    for (int k = 0; k < c; k++) {
        float *plane = dst + (size_t)k * hw;
        for (size_t p = 0; p < hw; p++)
            plane[p] = im->px[p * (size_t)c + (size_t)k] * scale[k] + shift[k];
    }
}

int transform_random_erase(Rng *rng, float *x, int n, int c, int size, double max_area) {
    if (rng_uniform(rng) >= 0.3)
        return 0;
    int count = 1 + (int)rng_below(rng, 3);
    double area = (double)size * size / count, log_lo = log(0.3), log_hi = log(1 / 0.3);
    for (int r = 0; r < count; r++) {
        double a = rng_uniform(rng) * max_area * area;
        double asp = exp(log_lo + rng_uniform(rng) * (log_hi - log_lo));
        int hs = (int)transform_round_half_even(sqrt(a * asp));
        int ws = (int)transform_round_half_even(sqrt(a / asp));
        int top = (int)rng_below(rng, (uint64_t)(size - hs > 0 ? size - hs : 0) + 1);
        int left = (int)rng_below(rng, (uint64_t)(size - ws > 0 ? size - ws : 0) + 1);
        int bottom = top + hs < size ? top + hs : size, right = left + ws < size ? left + ws : size;
        for (int i = 0; i < n * c; i++)
            for (int y = top; y < bottom; y++) {
                float *row = x + ((size_t)i * size + y) * size;
                for (int xx = left; xx < right; xx++)
                    row[xx] = (float)rng_normal(rng);
            }
    }
    return count;
}
