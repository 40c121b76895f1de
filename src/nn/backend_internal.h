/* Knobs of the fast backends for their tests and bench/, not for layers.
 *
 * Layers see only the kernel table (backend.h). The oneDNN backend also
 * lets a test or a benchmark force the memory layout its convolutions run
 * in, and counts the primitives it creates, so that a test can check that
 * a shape seen before reuses its primitive. */
#ifndef NOISETTE_NN_BACKEND_INTERNAL_H
#define NOISETTE_NN_BACKEND_INTERNAL_H

/* The layout oneDNN's convolution primitives read and write. The caller's
 * arrays are always plain NCHW (OIHW weights); any other layout costs a
 * reorder of each array on the way in and out. */
typedef enum {
    DNNL_LAYOUT_AUTO,       /* per kernel and shape, the fastest measured of the
                             * layouts below or the BLAS kernel (backend_dnnl.c) */
    DNNL_LAYOUT_BLOCKED,    /* oneDNN's choice (format tag any), e.g. nChw16c */
    DNNL_LAYOUT_NCHW,       /* the caller's arrays as they are: no reorders */
    DNNL_LAYOUT_NHWC,       /* channels-last activations, weights oneDNN's choice */
    DNNL_LAYOUT_COUNT
} DnnlLayout;

#ifdef NOISETTE_HAVE_DNNL

/* Makes every later oneDNN convolution, in every thread, use layout
 * (DNNL_LAYOUT_AUTO restores the default). Primitives already made for
 * another layout stay cached. */
void backend_dnnl_set_layout(DnnlLayout layout);

/* The number of convolution primitives created so far, all threads
 * together: one per distinct (kernel, layout, thread count, geometry) a
 * thread has run, plus one each time an evicted one comes back. */
long backend_dnnl_primitives_created(void);

/* The number of convolution calls, all threads together, that ran on the
 * BLAS backend's kernels because oneDNN could not run them (a geometry it
 * refuses, or memory that could not be had). */
long backend_dnnl_fallbacks(void);

#endif

#endif
