/* Seeded pseudo-random numbers that are the same on every machine.
 *
 * xoshiro256** (Blackman & Vigna, 2018), its state filled from the 64-bit
 * seed by SplitMix64 as its authors recommend. Only integer arithmetic is
 * used on the paths that make labels, so a seed gives the same stream, and
 * the same noisy labels, everywhere. Never use rand() in noisette. */
#ifndef NOISETTE_UTIL_RNG_H
#define NOISETTE_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} Rng;

/* SplitMix64 step: advances *state and returns the next output. */
uint64_t rng_splitmix64(uint64_t *state);

/* Seeds r from one 64-bit number (any value, 0 included). */
void rng_seed(Rng *r, uint64_t seed);

/* Seeds r for one item of one stream: the state depends on (seed, a, b)
 * only, e.g. (run seed, epoch, sample index), so any thread may draw a
 * sample's numbers and get the same ones. */
void rng_seed_stream(Rng *r, uint64_t seed, uint64_t a, uint64_t b);

/* Next raw 64-bit output. */
uint64_t rng_next_u64(Rng *r);

/* Uniform integer in [0, n), without modulo bias; n must be > 0. */
uint64_t rng_below(Rng *r, uint64_t n);

/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(Rng *r);

/* Standard normal draw (Box-Muller on two uniforms; one value per call). */
double rng_normal(Rng *r);

/* Fills idx with a uniformly random permutation of 0..n-1 (Fisher-Yates). */
void rng_permutation(Rng *r, uint32_t *idx, size_t n);

#endif
