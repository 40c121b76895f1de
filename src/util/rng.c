/* xoshiro256** seeded by SplitMix64; see rng.h. Constants from the
 * authors' reference descriptions (prng.di.unimi.it). */
#include "util/rng.h"

#include <assert.h>
#include <math.h>

uint64_t rng_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(Rng *r, uint64_t seed) {
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix64(&sm);
}

void rng_seed_stream(Rng *r, uint64_t seed, uint64_t a, uint64_t b) {
    /* Chain SplitMix64 through the three numbers; each step mixes fully, so
     * neighbouring (a, b) give unrelated states. */
    uint64_t h = seed;
    uint64_t k = rng_splitmix64(&h) ^ a;
    k = rng_splitmix64(&k) ^ b;
    rng_seed(r, rng_splitmix64(&k));
}

static inline uint64_t rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next_u64(Rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

uint64_t rng_below(Rng *r, uint64_t n) {
    assert(n > 0);

    /* Reject the lowest (2^64 mod n) outputs so every residue is equally
     * likely; the loop runs once with probability > 1 - n/2^64. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = rng_next_u64(r);
        if (x >= threshold)
            return x % n;
    }
}

double rng_uniform(Rng *r) {
    return (double)(rng_next_u64(r) >> 11) * 0x1.0p-53;
}

double rng_normal(Rng *r) {
    /* 1 - u is in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - rng_uniform(r), u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

void rng_permutation(Rng *r, uint32_t *idx, size_t n) {
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;

    /* Fisher-Yates from the top: position i takes a uniform pick of 0..i. */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
