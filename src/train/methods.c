/* MixUp, SAM, ELR and co-teaching as array functions; see methods.h. */
#include "train/methods.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- MixUp ------------------------------------------------------------------- */

double rng_gamma(Rng *r, double shape) {
    /* Below 1: Gamma(a) = Gamma(a + 1) * U^(1/a). */
    if (shape < 1.0) {
        double u = rng_uniform(r);
        return rng_gamma(r, shape + 1.0) * pow(u > 0 ? u : 1e-300, 1.0 / shape);
    }
    /* Marsaglia and Tsang (2000): d = a - 1/3, c = 1/sqrt(9d); accept
     * v = (1 + c x)^3 when log U < x^2/2 + d - d v + d log v. */
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = rng_normal(r), v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = rng_uniform(r);
        if (u > 0 && log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

double rng_beta(Rng *r, double a, double b) {
    double x = rng_gamma(r, a), y = rng_gamma(r, b);
    return x + y > 0 ? x / (x + y) : 0.5;
}

void mixup_batch(Rng *r, float alpha, const float *x, int n, size_t sample, float *lam,
                 int32_t *partner, float *out) {
    for (int i = 0; i < n; i++) {
        double l = rng_beta(r, alpha, alpha);
        lam[i] = (float)(l > 0.5 ? l : 1.0 - l);
    }
    uint32_t *perm = (uint32_t *)partner;   /* same size; drawn in place */
    rng_permutation(r, perm, (size_t)n);
    for (int i = 0; i < n; i++) {
        const float *a = x + (size_t)i * sample, *b = x + (size_t)partner[i] * sample;
        float *o = out + (size_t)i * sample, li = lam[i], lj = 1.0f - lam[i];
        for (size_t p = 0; p < sample; p++)
            o[p] = li * a[p] + lj * b[p];
    }
}

/* ---- SAM -------------------------------------------------------------------------- */

size_t sam_saved_floats(const ParamList *params) {
    size_t n = 0;
    for (int i = 0; i < params->n; i++)
        if (params->items[i]->grad)
            n += params->items[i]->numel;
    return n;
}

/* The gradient SAM perturbs along: g, plus wd w where weight decay applies. */
static inline double sam_grad(const Param *p, size_t j, double wd) {
    return (double)p->grad[j] + (p->no_decay ? 0.0 : wd * (double)p->data[j]);
}

double sam_perturb(const ParamList *params, double rho, int adaptive, double wd, float *saved) {
    /* ||g|| (SAM) or ||w g|| (ASAM) over every parameter at once. */
    double sum = 0;
    for (int i = 0; i < params->n; i++) {
        const Param *p = params->items[i];
        for (size_t j = 0; p->grad && j < p->numel; j++) {
            double g = sam_grad(p, j, wd), s = adaptive ? fabs((double)p->data[j]) * g : g;
            sum += s * s;
        }
    }
    double norm = sqrt(sum), scale = rho / (norm + 1e-12);

    /* Save w, then w += scale * g (SAM) or scale * w^2 g (ASAM). */
    size_t at = 0;
    for (int i = 0; i < params->n; i++) {
        Param *p = params->items[i];
        if (!p->grad)
            continue;
        memcpy(saved + at, p->data, p->numel * sizeof *saved);
        at += p->numel;
        for (size_t j = 0; j < p->numel; j++) {
            double w = p->data[j], g = sam_grad(p, j, wd);
            p->data[j] = (float)(w + scale * (adaptive ? w * w * g : g));
        }
    }
    return norm;
}

void sam_restore(const ParamList *params, const float *saved) {
    size_t at = 0;
    for (int i = 0; i < params->n; i++) {
        Param *p = params->items[i];
        if (!p->grad)
            continue;
        memcpy(p->data, saved + at, p->numel * sizeof *saved);
        at += p->numel;
    }
}

size_t buffers_floats(const ParamList *buffers) {
    return param_count(buffers);
}

void buffers_save(const ParamList *buffers, float *saved) {
    for (int i = 0; i < buffers->n; i++) {
        memcpy(saved, buffers->items[i]->data, buffers->items[i]->numel * sizeof *saved);
        saved += buffers->items[i]->numel;
    }
}

void buffers_restore(const ParamList *buffers, const float *saved) {
    for (int i = 0; i < buffers->n; i++) {
        memcpy(buffers->items[i]->data, saved, buffers->items[i]->numel * sizeof *saved);
        saved += buffers->items[i]->numel;
    }
}

/* ---- ELR ------------------------------------------------------------------------- */

/* softmax(z) into q (k floats), in double for the sums. */
static void softmax_row(const float *z, int k, double *q) {
    double mx = z[0], sum = 0;
    for (int j = 1; j < k; j++)
        mx = z[j] > mx ? z[j] : mx;
    for (int j = 0; j < k; j++)
        sum += q[j] = exp((double)z[j] - mx);
    for (int j = 0; j < k; j++)
        q[j] /= sum;
}

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

void elr_update(float *targets, int k, const float *logits, const int32_t *items, int n,
                float beta) {
    double *q = malloc((size_t)k * sizeof *q);
    if (!q)
        return;
    for (int i = 0; i < n; i++) {
        softmax_row(logits + (size_t)i * k, k, q);
        double sum = 0;
        for (int j = 0; j < k; j++)
            sum += q[j] = clampd(q[j], ELR_CLAMP, 1.0 - ELR_CLAMP);
        float *t = targets + (size_t)items[i] * k;
        for (int j = 0; j < k; j++)
            t[j] = (float)(beta * t[j] + (1.0 - beta) * (q[j] / sum));
    }
    free(q);
}

void elr_regularise(const float *targets, int k, const float *logits, const int32_t *items,
                    int n, float lambda, float *dlogits, double *mean) {
    double *q = malloc((size_t)k * sizeof *q), total = 0;
    if (!q)
        return;
    for (int i = 0; i < n; i++) {
        const float *t = targets + (size_t)items[i] * k;
        softmax_row(logits + (size_t)i * k, k, q);

        /* s = sum_k T_k p_k with p = clamp(q); only the unclamped entries
         * carry gradient: ds/dz_j = [j free] T_j q_j - q_j sum_{k free} T_k q_k. */
        double s = 0, free_sum = 0;
        for (int j = 0; j < k; j++) {
            double p = clampd(q[j], ELR_CLAMP, 1.0 - ELR_CLAMP);
            s += t[j] * p;
            if (p == q[j])
                free_sum += t[j] * q[j];
        }
        double one_minus = 1.0 - s > ELR_CLAMP ? 1.0 - s : ELR_CLAMP;
        total += log(one_minus);

        /* d(lambda/n log(1 - s))/dz_j = -(lambda/n) ds/dz_j / (1 - s). */
        if (dlogits) {
            double f = -(double)lambda / n / one_minus;
            float *d = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++) {
                double p = clampd(q[j], ELR_CLAMP, 1.0 - ELR_CLAMP);
                double ds = (p == q[j] ? t[j] * q[j] : 0.0) - q[j] * free_sum;
                d[j] += (float)(f * ds);
            }
        }
    }
    *mean += lambda * total / n;
    free(q);
}

/* ---- co-teaching ----------------------------------------------------------------- */

double coteach_forget_rate(int epoch, double tau, int tk, double c) {
    if (epoch >= tk)
        return tau;
    double end = pow(tau, c);
    return tk > 1 ? end * epoch / (tk - 1) : end;
}

/* Sample i before sample j: smaller loss, then smaller index. */
static int before(const float *losses, int i, int j) {
    return losses[i] < losses[j] || (losses[i] == losses[j] && i < j);
}

int coteach_select(const float *losses, int n, double rate, int *order, float *weights) {
    int keep = (int)floor((1.0 - rate) * n);
    keep = keep < 1 ? 1 : keep > n ? n : keep;
    /* Insertion sort: a batch is a few hundred samples at most. */
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && before(losses, i, order[j - 1]); j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (int i = 0; i < n; i++)
        weights[i] = 0.0f;
    for (int i = 0; i < keep; i++)
        weights[order[i]] = (float)n / (float)keep;
    return keep;
}
