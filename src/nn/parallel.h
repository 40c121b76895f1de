/* Splitting the elementwise layers' loops over OpenMP threads.
 *
 * The layers' loops (batch norm per channel, activations and adds per
 * element) run on OpenMP's threads when the build has OpenMP, in static
 * chunks, so each output is computed by the same arithmetic whatever the
 * thread count; without OpenMP they run on the calling thread. The thread
 * count is OpenMP's (OMP_NUM_THREADS, by default one per core). */
#ifndef NOISETTE_NN_PARALLEL_H
#define NOISETTE_NN_PARALLEL_H

/* Element loops shorter than this stay on one thread: waking the others
 * costs more than the work (a few microseconds). */
#define NN_PARALLEL_MIN 16384

#ifdef _OPENMP
#define NN_PRAGMA(x) _Pragma(#x)
#define NN_PARALLEL_FOR NN_PRAGMA(omp parallel for schedule(static))
/* The loop that follows, over n elements, split when n is large enough. */
#define NN_PARALLEL_FOR_N(n) NN_PRAGMA(omp parallel for schedule(static) if ((n) >= NN_PARALLEL_MIN))
#else
#define NN_PARALLEL_FOR
#define NN_PARALLEL_FOR_N(n)
#endif

/* A hot loop's function compiled twice, for AVX2 and for any x86-64, the
 * one to run picked as the program loads (GCC's target_clones). No FMA:
 * both versions round alike, so results do not depend on the CPU. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NN_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NN_SIMD_CLONES
#endif

#endif
