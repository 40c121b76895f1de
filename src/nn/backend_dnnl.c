/* The oneDNN backend: convolutions on oneDNN 2.x primitives, each kernel
 * in the layout measured fastest for its shape, or on the BLAS kernel where
 * oneDNN measured slower; gemm and pooling are the BLAS backend's.
 * A thread's first call on a geometry builds the primitive and the
 * reorders between the caller's NCHW / OIHW arrays and the primitive's
 * layout, and caches them; their copies live in one growing per-thread
 * arena, so a shape seen before allocates nothing. oneDNN's backward
 * kernels overwrite, so they write into the arena and a reorder with a sum
 * post-op adds into dx or dw. Whatever oneDNN refuses runs on the BLAS
 * kernels: slower, never wrong.
 * Legend: N batch, CI / CO channels in / out, H x W in, OH x OW out,
 * K kernel side, G groups. */
#include "nn/backend.h"
#include "nn/backend_internal.h"

#include "util/log.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#endif

#define CACHE_MAX   256     /* geometries kept per thread; the least recently used goes */
#define ARENA_ALIGN 64      /* bytes: one cache line, the alignment oneDNN's kernels like */

/* The three kernels. Their arrays, in the order the table passes them:
 *   forward          x, w   -> y    (y overwritten)
 *   backward data    dy, w  -> dx   (dx += ...)
 *   backward weight  x, dy  -> dw   (dw += ...) */
typedef enum {
    CONV_PASS_FORWARD,
    CONV_PASS_BACKWARD_DATA,
    CONV_PASS_BACKWARD_WEIGHT,
    CONV_PASS_COUNT
} ConvPass;

/* The three arrays of a convolution: x / dx, w / dw, y / dy. */
enum { ROLE_X, ROLE_W, ROLE_Y };

static const int PASS_ROLE[CONV_PASS_COUNT][3] = {
    {ROLE_X, ROLE_W, ROLE_Y},
    {ROLE_Y, ROLE_W, ROLE_X},
    {ROLE_X, ROLE_Y, ROLE_W},
};

static const int PASS_ARG[CONV_PASS_COUNT][3] = {
    {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
    {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
    {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS},
};

/* One array of a primitive: the caller's, and when the primitive wants
 * another layout (or, for a "+=" output, always), a copy in the arena
 * with the reorder between the two. */
typedef struct {
    dnnl_memory_t    user;      /* plain layout, pointed at the caller's array per call */
    dnnl_memory_t    copy;      /* the primitive's layout in the arena, or NULL */
    dnnl_primitive_t reorder;   /* user -> copy (inputs), copy -> user (output) */
    size_t           offset;    /* bytes from the arena's start to copy */
} DnnlArray;

/* A cached convolution; key: pass, layout, threads, g. */
typedef struct {
    ConvPass         pass;
    DnnlLayout       layout;
    int              threads;   /* oneDNN splits work for the count at creation */
    ConvGeom         g;
    uint64_t         used;      /* the context's clock at the last call */
    dnnl_primitive_t conv;      /* NULL: oneDNN refused, the BLAS kernel runs */
    DnnlArray        arr[3];    /* in the pass's order: two inputs, then the output */
    dnnl_memory_t    scratchpad;
    size_t           scratchpad_offset, arena_need;
} DnnlEntry;

/* What one thread owns: its stream, its cache and its arena. */
typedef struct {
    dnnl_stream_t stream;
    int           n;
    uint64_t      clock;
    void         *arena;
    size_t        arena_cap;
    DnnlEntry     entries[CACHE_MAX];
} DnnlContext;

static dnnl_engine_t  engine;
static pthread_key_t  context_key;
static pthread_once_t context_once = PTHREAD_ONCE_INIT;
static atomic_long    primitives_created;
static atomic_long    fallbacks;
static atomic_int     layout_forced = DNNL_LAYOUT_AUTO;

/* ---- layouts -------------------------------------------------------------- */

/* What the default runs a kernel on: a layout of oneDNN's, or this. */
#define CHOICE_BLAS (-1)    /* the BLAS backend's kernel: oneDNN is slower there */

/* The default choice per kernel and shape (DNNL_LAYOUT_AUTO), measured
 * inside training steps at 128 px, batch 16, 2 threads and
 * OMP_WAIT_POLICY=passive: every convolution call timed on the BLAS kernel
 * and in each layout, best of 6 steps. (Kernels timed alone, as in
 * bench_conv --layouts, mislead on 1x1: with their arrays warm in cache,
 * oneDNN's sgemm on plain nchw looked fastest down to 8x8 maps; inside a
 * step the blocked kernels win there.) Milliseconds per step, forward /
 * backward data / backward weight, xresnet50 then xse_resnext50:
 *   shape (output map)      blas            blocked          nchw
 *   64->64 3x3 (32x32)      51.9 47.9 52.5  27.6 33.2 33.2   44.5 61.0 80.2
 *   256->64 1x1 (32x32)     18.5 11.4 14.7  18.4 17.0 17.1   13.8 20.4 13.5
 *   64->256 1x1 (32x32)     29.1 34.1 27.1  32.0 36.3 35.0   21.5 25.6 22.6
 *   512->128 1x1 (16x16)    18.5 14.6 18.7  17.7 16.3 16.7   13.8 18.0 16.0
 *   1024->256 1x1 (8x8)     31.0 32.1 26.7  23.2 20.9 24.5   24.6 29.7 24.7
 *   256->256 3x3 (8x8)      78.1 74.4 63.6  42.2 37.3 40.9   59.1 77.2 65.8
 *   512->512 3x3 (4x4)      29.9 26.9 24.1  18.7 15.1 24.3   32.5 43.6 73.2
 *   2048->512 1x1 (4x4)     13.1 12.0 11.3   9.1  9.3 15.4   12.2 19.5 21.6
 *   128 g32, 4 each (32x32) 21.5 16.7 22.5  12.0 10.8 306    22.1 42.0 289
 *   512 g32, 16 each (8x8)  40.3 33.6 38.8   6.8  6.2  5.9   17.3 19.9 15.9
 * (channels-last, nhwc, never won clearly). All convolutions of a step:
 *   xresnet50       blas 1652  blocked 1260  nchw 1786  nhwc 1537  ms
 *                   this choice 1222, the best per call 1168
 *   xse_resnext50   blas 1177  blocked 1113  nchw 1314  nhwc 1030  ms
 *                   this choice 778, the best per call 745
 * So: the blocked layout for 3x3 and grouped kernels and small maps,
 * reorders included; oneDNN's sgemm on the plain arrays for 1x1 kernels
 * on maps of 256 cells or more, except backward data into at least as
 * many channels as it reads, which OpenBLAS adds straight into dx; for
 * backward weight from 64 cells on; the BLAS kernels
 * for backward weight on maps of 16 cells or fewer and for both backward
 * kernels with 2 to 7 channels per group (oneDNN's backward weight took
 * 94 to 306 ms there, from run to run). One thread with oneDNN held to
 * AVX2 (DNNL_MAX_CPU_ISA=AVX2) and OpenBLAS to its Haswell kernels ranked
 * the isolated kernels the same way, at about two thirds of the speed. */
static int choose_auto(ConvPass pass, const ConvGeom *g) {
    int cig = g->ci / g->groups, p = g->oh * g->ow;
    int pointwise = g->k == 1 && g->stride == 1 && g->pad == 0;
    int narrow_groups = g->groups > 1 && cig > 1 && cig < 8;

    if (pass == CONV_PASS_FORWARD)
        return pointwise && p >= 256 ? DNNL_LAYOUT_NCHW : DNNL_LAYOUT_BLOCKED;
    if (narrow_groups)
        return CHOICE_BLAS;
    if (pass == CONV_PASS_BACKWARD_DATA && pointwise && p >= 256)
        return g->ci < g->co ? DNNL_LAYOUT_NCHW : CHOICE_BLAS;
    if (pass == CONV_PASS_BACKWARD_DATA)
        return DNNL_LAYOUT_BLOCKED;
    if (pointwise && p >= 64)
        return DNNL_LAYOUT_NCHW;
    return g->groups == 1 && p <= 16 ? CHOICE_BLAS : DNNL_LAYOUT_BLOCKED;
}

/* Memory descriptor of role's array: in the caller's plain layout when
 * layout is DNNL_LAYOUT_NCHW, else the primitive's wish for the layout.
 * Grouped weights are 5-D (G, CO/G, CI/G, K, K): the caller's OIHW array
 * read as goihw. */
static dnnl_status_t array_md(const ConvGeom *g, int role, DnnlLayout layout,
                              dnnl_memory_desc_t *md) {
    dnnl_format_tag_t act = layout == DNNL_LAYOUT_NCHW   ? dnnl_nchw
                            : layout == DNNL_LAYOUT_NHWC ? dnnl_nhwc
                                                         : dnnl_format_tag_any;
    if (role == ROLE_X) {
        dnnl_dims_t dims = {g->n, g->ci, g->h, g->w};
        return dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, act);
    }
    if (role == ROLE_Y) {
        dnnl_dims_t dims = {g->n, g->co, g->oh, g->ow};
        return dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, act);
    }
    int plain = layout == DNNL_LAYOUT_NCHW;
    if (g->groups == 1) {
        dnnl_dims_t dims = {g->co, g->ci, g->k, g->k};
        return dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32,
                                            plain ? dnnl_oihw : dnnl_format_tag_any);
    }
    dnnl_dims_t dims = {g->groups, g->co / g->groups, g->ci / g->groups, g->k, g->k};
    return dnnl_memory_desc_init_by_tag(md, 5, dims, dnnl_f32,
                                        plain ? dnnl_goihw : dnnl_format_tag_any);
}

/* ---- building a cached convolution ---------------------------------------- */

/* The primitive descriptor of e's pass on arrays described by md (by
 * role). The backward passes need the forward's descriptor as a hint. The
 * far padding is what the last window reaches, less than pad (even
 * negative) when the stride skips the last rows: oneDNN insists that
 * (H + pad_l + pad_r - K) / stride + 1 = OH hold. */
static dnnl_status_t conv_pd_create(const DnnlEntry *e, const dnnl_memory_desc_t md[3],
                                    dnnl_primitive_desc_t *pd) {
    const ConvGeom *g = &e->g;
    dnnl_dims_t strides = {g->stride, g->stride}, pad_l = {g->pad, g->pad};
    dnnl_dims_t pad_r = {(g->oh - 1) * g->stride + g->k - g->h - g->pad,
                         (g->ow - 1) * g->stride + g->k - g->w - g->pad};
    dnnl_convolution_desc_t fwd, bwd;
    dnnl_primitive_desc_t hint = NULL;
    dnnl_primitive_attr_t attr = NULL;

    /* Scratchpads come from the arena, not from an allocation per call. */
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success)
        st = dnnl_convolution_forward_desc_init(&fwd, dnnl_forward_training,
                                                dnnl_convolution_direct, &md[ROLE_X],
                                                &md[ROLE_W], NULL, &md[ROLE_Y], strides,
                                                pad_l, pad_r);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(e->pass == CONV_PASS_FORWARD ? pd : &hint, &fwd,
                                        attr, engine, NULL);

    /* The backward pass, guided by the forward's choices. */
    if (st == dnnl_success && e->pass == CONV_PASS_BACKWARD_DATA)
        st = dnnl_convolution_backward_data_desc_init(&bwd, dnnl_convolution_direct,
                                                      &md[ROLE_X], &md[ROLE_W], &md[ROLE_Y],
                                                      strides, pad_l, pad_r);
    if (st == dnnl_success && e->pass == CONV_PASS_BACKWARD_WEIGHT)
        st = dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct,
                                                         &md[ROLE_X], &md[ROLE_W], NULL,
                                                         &md[ROLE_Y], strides, pad_l, pad_r);
    if (st == dnnl_success && e->pass != CONV_PASS_FORWARD)
        st = dnnl_primitive_desc_create(pd, &bwd, attr, engine, hint);
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st;
}

/* Bytes n rounded up to the arena's alignment. */
static size_t arena_round(size_t n) {
    return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

/* The reorder between user and want: user -> want for an input, want ->
 * user for an output, adding into user's values when accumulate is set. */
static dnnl_status_t reorder_create(const dnnl_memory_desc_t *user,
                                    const dnnl_memory_desc_t *want, int output,
                                    int accumulate, dnnl_primitive_t *prim) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_success;

    if (accumulate) {
        st = dnnl_primitive_attr_create(&attr);
        if (st == dnnl_success)
            st = dnnl_post_ops_create(&post);
        if (st == dnnl_success)
            st = dnnl_post_ops_append_sum(post, 1.0f);
        if (st == dnnl_success)
            st = dnnl_primitive_attr_set_post_ops(attr, post);
    }
    if (st == dnnl_success)
        st = output ? dnnl_reorder_primitive_desc_create(&pd, want, engine, user, engine, attr)
                    : dnnl_reorder_primitive_desc_create(&pd, user, engine, want, engine, attr);
    if (st == dnnl_success)
        st = dnnl_primitive_create(prim, pd);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (post)
        dnnl_post_ops_destroy(post);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st;
}

/* Array slot of e: memory for the caller's array, and a copy in the arena
 * with its reorder when the primitive wants another layout or the slot is
 * a "+=" output. *arena grows by the copy's size. */
static dnnl_status_t array_build(DnnlEntry *e, int slot, const dnnl_memory_desc_t *user,
                                 const dnnl_memory_desc_t *want, size_t *arena) {
    DnnlArray *a = &e->arr[slot];
    int output = slot == 2, accumulate = output && e->pass != CONV_PASS_FORWARD;
    dnnl_status_t st = dnnl_memory_create(&a->user, user, engine, DNNL_MEMORY_NONE);
    if (st != dnnl_success || (!accumulate && dnnl_memory_desc_equal(user, want)))
        return st;

    a->offset = *arena;
    *arena += arena_round(dnnl_memory_desc_get_size(want));
    st = dnnl_memory_create(&a->copy, want, engine, DNNL_MEMORY_NONE);
    if (st == dnnl_success)
        st = reorder_create(user, want, output, accumulate, &a->reorder);
    return st;
}

/* Everything e's key asks for: the primitive, its arrays, its scratchpad. */
static dnnl_status_t entry_build(DnnlEntry *e) {
    dnnl_memory_desc_t user[3], want[3];
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_success;

    /* The caller's arrays, and what the primitive wants (any = its choice). */
    for (int role = 0; role < 3 && st == dnnl_success; role++) {
        st = array_md(&e->g, role, DNNL_LAYOUT_NCHW, &user[role]);
        if (st == dnnl_success)
            st = array_md(&e->g, role, e->layout, &want[role]);
    }
    if (st == dnnl_success)
        st = conv_pd_create(e, want, &pd);
    if (st == dnnl_success)
        st = dnnl_primitive_create(&e->conv, pd);
    if (st != dnnl_success) {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        return st;
    }
    atomic_fetch_add(&primitives_created, 1);

    /* Each array as the primitive chose it, then the scratchpad. */
    size_t arena = 0;
    for (int slot = 0; slot < 3 && st == dnnl_success; slot++) {
        int role = PASS_ROLE[e->pass][slot];
        const dnnl_memory_desc_t *chosen =
            dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, PASS_ARG[e->pass][slot]);
        st = chosen ? array_build(e, slot, &user[role], chosen, &arena) : dnnl_runtime_error;
    }
    const dnnl_memory_desc_t *pad_md = dnnl_primitive_desc_query_md(pd,
                                                                     dnnl_query_scratchpad_md, 0);
    size_t pad_size = pad_md ? dnnl_memory_desc_get_size(pad_md) : 0;
    if (st == dnnl_success && pad_size > 0) {
        e->scratchpad_offset = arena;
        arena += arena_round(pad_size);
        st = dnnl_memory_create(&e->scratchpad, pad_md, engine, DNNL_MEMORY_NONE);
    }
    e->arena_need = arena;
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/* Frees what e holds and leaves it empty. */
static void entry_clear(DnnlEntry *e) {
    for (int slot = 0; slot < 3; slot++) {
        DnnlArray *a = &e->arr[slot];
        if (a->reorder)
            dnnl_primitive_destroy(a->reorder);
        if (a->copy)
            dnnl_memory_destroy(a->copy);
        if (a->user)
            dnnl_memory_destroy(a->user);
    }
    if (e->scratchpad)
        dnnl_memory_destroy(e->scratchpad);
    if (e->conv)
        dnnl_primitive_destroy(e->conv);
    memset(e, 0, sizeof *e);
}

/* ---- per-thread context --------------------------------------------------- */

static void context_destroy(void *p) {
    DnnlContext *ctx = p;
    if (!ctx)
        return;
    for (int i = 0; i < ctx->n; i++)
        entry_clear(&ctx->entries[i]);
    if (ctx->stream)
        dnnl_stream_destroy(ctx->stream);
    free(ctx->arena);
    free(ctx);
}

/* The thread that calls exit never runs its key destructor. The engine
 * stays: another thread may still be inside a kernel. */
static void context_release_at_exit(void) {
    DnnlContext *ctx = pthread_getspecific(context_key);
    pthread_setspecific(context_key, NULL);
    context_destroy(ctx);
}

/* Once per process: the key, the engine, and a word on the wait policy
 * (the LIMITATION at threads_sync). */
static void context_init(void) {
    if (pthread_key_create(&context_key, context_destroy) != 0)
        return;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) {
        engine = NULL;
        return;
    }
    atexit(context_release_at_exit);
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
    if (!getenv("OMP_WAIT_POLICY"))
        log_warn("backend dnnl: OMP_WAIT_POLICY is unset, so oneDNN's threads spin between "
                 "kernels and may run at half speed beside other work; set "
                 "OMP_WAIT_POLICY=passive");
#endif
}

/* This thread's context, made on its first call; NULL when oneDNN or
 * memory fails (the callers then run the BLAS kernels). */
static DnnlContext *context_get(void) {
    pthread_once(&context_once, context_init);
    if (!engine)
        return NULL;
    DnnlContext *ctx = pthread_getspecific(context_key);
    if (ctx)
        return ctx;

    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    if (dnnl_stream_create(&ctx->stream, engine, dnnl_stream_default_flags) != dnnl_success
        || pthread_setspecific(context_key, ctx) != 0) {
        context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

/* The context's arena, at least need bytes; -1 when it cannot grow. Its
 * old contents are never needed, so it is freed before the new one. */
static int arena_get(DnnlContext *ctx, size_t need, char **arena) {
    if (need > ctx->arena_cap) {
        free(ctx->arena);
        ctx->arena = NULL;
        ctx->arena_cap = 0;
        if (posix_memalign(&ctx->arena, ARENA_ALIGN, need) != 0) {
            ctx->arena = NULL;
            return -1;
        }
        ctx->arena_cap = need;
    }
    *arena = ctx->arena;
    return 0;
}

/* The cached convolution for the key, built on a miss in a free slot or
 * in place of the least recently used. A build that fails leaves an entry
 * without primitive: the key then goes straight to the BLAS kernels. */
static DnnlEntry *entry_get(DnnlContext *ctx, ConvPass pass, DnnlLayout layout, int threads,
                            const ConvGeom *g) {
    DnnlEntry *e = NULL;
    ctx->clock++;
    for (int i = 0; i < ctx->n; i++) {
        DnnlEntry *c = &ctx->entries[i];
        if (c->pass == pass && c->layout == layout && c->threads == threads
            && memcmp(&c->g, g, sizeof *g) == 0) {
            c->used = ctx->clock;
            return c;
        }
        if (!e || c->used < e->used)
            e = c;
    }

    /* A miss: a new slot while there is room. */
    if (ctx->n < CACHE_MAX)
        e = &ctx->entries[ctx->n++];
    entry_clear(e);
    *e = (DnnlEntry){.pass = pass, .layout = layout, .threads = threads, .g = *g,
                     .used = ctx->clock};
    if (entry_build(e) != dnnl_success) {
        entry_clear(e);
        *e = (DnnlEntry){.pass = pass, .layout = layout, .threads = threads, .g = *g,
                         .used = ctx->clock};
    }
    return e;
}

/* ---- running a convolution ------------------------------------------------ */

/* libgomp reads OMP_WAIT_POLICY once, as it loads, before main, so this
 * backend cannot choose how oneDNN's OpenMP threads wait. Unset, they
 * spin after every kernel, taking the cores from OpenBLAS's threads (this
 * backend runs BLAS kernels too), from the data loader and from other
 * jobs: on a shared 2-core machine xresnet18 then trained at 10-11
 * images/s instead of 19 with OMP_WAIT_POLICY=passive. The noisette
 * program sets it and runs itself again (src/cli/main.c); other programs
 * linking this backend get a warning once. */

/* oneDNN's OpenMP threads follow OpenBLAS's count (OPENBLAS_NUM_THREADS,
 * else OMP_NUM_THREADS, else all cores), so one setting governs both
 * backends; OpenMP keeps the count per thread, hence set on each call.
 * Returns the count (0: oneDNN's runtime is not OpenMP, left as it is). */
static int threads_sync(void) {
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
    int n = openblas_get_num_threads();
    if (n < 1)
        n = 1;
    if (omp_get_max_threads() != n)
        omp_set_num_threads(n);
    return n;
#else
    /* LIMITATION: with a TBB or threadpool build of oneDNN the backend
     * leaves the thread count to that runtime's own default (all cores),
     * whatever OPENBLAS_NUM_THREADS says. */
    return 0;
#endif
}

/* Runs the reorder of array a: into the arena's copy, or back out of it. */
static dnnl_status_t reorder_run(DnnlContext *ctx, const DnnlArray *a, int out) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, out ? a->copy : a->user},
                               {DNNL_ARG_TO, out ? a->user : a->copy}};
    return dnnl_primitive_execute(a->reorder, ctx->stream, 2, args);
}

/* Runs e on the caller's arrays: inputs reordered into the arena, the
 * convolution, the output reordered (and added) back. The caller's output
 * is written by the last step only, so a failure leaves it untouched. The
 * inputs are const to the caller; oneDNN only reads them. */
static dnnl_status_t entry_run(DnnlContext *ctx, DnnlEntry *e, const float *in0,
                               const float *in1, float *out) {
    void *ptr[3] = {(void *)in0, (void *)in1, out};
    dnnl_exec_arg_t conv_args[4];
    int n_args = 0;
    char *arena;
    if (arena_get(ctx, e->arena_need, &arena) < 0)
        return dnnl_out_of_memory;

    /* Point every memory at this call's arrays and the arena. */
    dnnl_status_t st = dnnl_success;
    for (int slot = 0; slot < 3 && st == dnnl_success; slot++) {
        DnnlArray *a = &e->arr[slot];
        st = dnnl_memory_set_data_handle(a->user, ptr[slot]);
        if (st == dnnl_success && a->copy)
            st = dnnl_memory_set_data_handle(a->copy, arena + a->offset);
        conv_args[n_args++] = (dnnl_exec_arg_t){PASS_ARG[e->pass][slot],
                                                a->copy ? a->copy : a->user};
    }
    if (st == dnnl_success && e->scratchpad) {
        st = dnnl_memory_set_data_handle(e->scratchpad, arena + e->scratchpad_offset);
        conv_args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, e->scratchpad};
    }

    /* Inputs into the primitive's layout, the convolution, the output back. */
    for (int slot = 0; slot < 2 && st == dnnl_success; slot++)
        if (e->arr[slot].reorder)
            st = reorder_run(ctx, &e->arr[slot], 0);
    if (st == dnnl_success)
        st = dnnl_primitive_execute(e->conv, ctx->stream, n_args, conv_args);
    if (st == dnnl_success && e->arr[2].reorder)
        st = reorder_run(ctx, &e->arr[2], 1);
    if (st == dnnl_success)
        st = dnnl_stream_wait(ctx->stream);
    return st;
}

/* The BLAS backend's kernel for pass. */
static void conv_blas(ConvPass pass, const ConvGeom *g, const float *in0, const float *in1,
                      float *out) {
    const Backend *be = backend_blas();
    if (pass == CONV_PASS_FORWARD)
        be->conv2d_forward(g, in0, in1, out);
    else if (pass == CONV_PASS_BACKWARD_DATA)
        be->conv2d_backward_data(g, in0, in1, out);
    else
        be->conv2d_backward_weight(g, in0, in1, out);
}

/* oneDNN 2.6's 1x1 backward weight on channels-last activations with a
 * stride above 1 first copies the strided input into a workspace sized
 * for whole channel blocks (8 on AVX2, 16 on AVX-512); with fewer
 * channels per group than a multiple of the block it writes past it, and
 * the result depends on what lies there: on 2 threads here a 4-channel
 * case came out wrong about one run in two (oneDNN issue 6035 reports
 * hangs and crashes too). Such calls run in the blocked layout. */
static int rtus_unsafe(ConvPass pass, const ConvGeom *g) {
    return pass == CONV_PASS_BACKWARD_WEIGHT && g->k == 1 && g->stride > 1
           && (g->ci / g->groups) % 16 != 0;
}

/* One kernel call: the BLAS kernel where the default layout chooses it,
 * else the thread's cached primitive for this shape, or the BLAS kernel
 * when oneDNN cannot run it. */
static void conv_run(ConvPass pass, const ConvGeom *g, const float *in0, const float *in1,
                     float *out) {
    int choice = atomic_load(&layout_forced);
    if (choice == DNNL_LAYOUT_AUTO)
        choice = choose_auto(pass, g);
    if (choice == DNNL_LAYOUT_NHWC && rtus_unsafe(pass, g))
        choice = DNNL_LAYOUT_BLOCKED;
    if (choice == CHOICE_BLAS) {
        conv_blas(pass, g, in0, in1, out);
        return;
    }

    /* oneDNN, unless it cannot. */
    DnnlContext *ctx = context_get();
    int threads = threads_sync();
    DnnlEntry *e = ctx ? entry_get(ctx, pass, (DnnlLayout)choice, threads, g) : NULL;
    if (!e || !e->conv || entry_run(ctx, e, in0, in1, out) != dnnl_success) {
        atomic_fetch_add(&fallbacks, 1);
        conv_blas(pass, g, in0, in1, out);
    }
}

static void onednn_conv2d_forward(const ConvGeom *g, const float *x, const float *w,
                                  float *y) {
    conv_run(CONV_PASS_FORWARD, g, x, w, y);
}

static void onednn_conv2d_backward_data(const ConvGeom *g, const float *dy, const float *w,
                                        float *dx) {
    conv_run(CONV_PASS_BACKWARD_DATA, g, dy, w, dx);
}

static void onednn_conv2d_backward_weight(const ConvGeom *g, const float *x, const float *dy,
                                          float *dw) {
    conv_run(CONV_PASS_BACKWARD_WEIGHT, g, x, dy, dw);
}

/* ---- gemm and pooling: the BLAS backend's --------------------------------- */

static void onednn_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                        const float *a, const float *b, float beta, float *c) {
    backend_blas()->gemm(trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

static void onednn_maxpool_forward(const PoolGeom *g, const float *x, float *y, int *argmax) {
    backend_blas()->maxpool_forward(g, x, y, argmax);
}

static void onednn_maxpool_backward(const PoolGeom *g, const float *dy, const int *argmax,
                                    float *dx) {
    backend_blas()->maxpool_backward(g, dy, argmax, dx);
}

static void onednn_avgpool_forward(const PoolGeom *g, const float *x, float *y) {
    backend_blas()->avgpool_forward(g, x, y);
}

static void onednn_avgpool_backward(const PoolGeom *g, const float *dy, float *dx) {
    backend_blas()->avgpool_backward(g, dy, dx);
}

static const Backend BACKEND_DNNL = {
    .name = "dnnl",
    .conv2d_forward = onednn_conv2d_forward,
    .conv2d_backward_data = onednn_conv2d_backward_data,
    .conv2d_backward_weight = onednn_conv2d_backward_weight,
    .gemm = onednn_gemm,
    .maxpool_forward = onednn_maxpool_forward,
    .maxpool_backward = onednn_maxpool_backward,
    .avgpool_forward = onednn_avgpool_forward,
    .avgpool_backward = onednn_avgpool_backward,
};

const Backend *backend_dnnl(void) {
    return &BACKEND_DNNL;
}

void backend_dnnl_set_layout(DnnlLayout layout) {
    unsigned u = (unsigned)layout;
    atomic_store(&layout_forced, u < DNNL_LAYOUT_COUNT ? (int)u : DNNL_LAYOUT_AUTO);
}

long backend_dnnl_primitives_created(void) {
    return atomic_load(&primitives_created);
}

long backend_dnnl_fallbacks(void) {
    return atomic_load(&fallbacks);
}
