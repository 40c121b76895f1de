/* Data-parallel training with MPI; see dist.h. */
#include "train/dist.h"

#include "util/err.h"
#include "util/log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NOISETTE_HAVE_MPI
#include <mpi.h>
#endif

/* FNV-1a, 64 bits: a hash to compare texts and weights across ranks. */
static uint64_t fnv1a(uint64_t h, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

/* Variables an MPI launcher sets in each process it starts (Open MPI's
 * mpirun, Slurm's srun with PMI or PMIx, MPICH's hydra). */
static const char *const LAUNCHER_VARS[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                            "PMI_SIZE"};

static int launched_by_mpi(void) {
    for (size_t i = 0; i < sizeof LAUNCHER_VARS / sizeof *LAUNCHER_VARS; i++)
        if (getenv(LAUNCHER_VARS[i]))
            return 1;
    return 0;
}

#ifdef NOISETTE_HAVE_MPI

static int joined, rank = 0, size = 1;

int dist_init(int *argc, char ***argv) {
    if (joined || !launched_by_mpi())
        return ERR_OK;
    /* Loader and OpenMP threads run beside the main thread, which alone
     * calls MPI. */
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return err_set(ERR_INVALID, "MPI_Init_thread failed");
    joined = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return ERR_OK;
}

void dist_finalize(void) {
    if (joined)
        MPI_Finalize();
    joined = 0;
}

void dist_abort(int code) {
    if (joined && size > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code);
    }
}

int dist_rank(void) {
    return rank;
}

int dist_size(void) {
    return size;
}

const char *dist_describe(void) {
    static char text[MPI_MAX_LIBRARY_VERSION_STRING + 16];
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = '\0';    /* "Open MPI v4.1.4" without the rest */
    snprintf(text, sizeof text, "MPI: %s", lib);
    return text;
}

void dist_barrier(void) {
    if (size > 1)
        MPI_Barrier(MPI_COMM_WORLD);
}

int dist_from_rank0(int v) {
    if (size > 1)
        MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v;
}

void dist_allreduce_sum(double *v, int n) {
    if (size > 1)
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void dist_broadcast(float *v, size_t n) {
    /* In pieces: MPI counts are ints. */
    for (size_t at = 0; size > 1 && at < n; at += (size_t)1 << 28) {
        size_t k = n - at < ((size_t)1 << 28) ? n - at : ((size_t)1 << 28);
        MPI_Bcast(v + at, (int)k, MPI_FLOAT, 0, MPI_COMM_WORLD);
    }
}

/* Compares every rank's hash with rank 0's: 0 on all ranks, or
 * ERR_INVALID on all ranks with the ranks that differ named. */
static int compare_hashes(uint64_t mine, const char *what) {
    if (size < 2)
        return ERR_OK;
    uint64_t first = mine;
    MPI_Bcast(&first, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    int differ = mine != first;
    int count = differ, lo = differ ? rank : size, hi = differ ? rank : -1;
    MPI_Allreduce(MPI_IN_PLACE, &count, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (count == 0)
        return ERR_OK;
    if (count == 1)
        return err_set(ERR_INVALID, "%s differs between rank 0 and rank %d", what, lo);
    return err_set(ERR_INVALID, "%s differs between rank 0 and %d ranks (%d to %d)", what,
                   count, lo, hi);
}

void dist_bn_sync(void *ctx, double *v, int n) {
    (void)ctx;
    dist_allreduce_sum(v, n);
}

/* ---- gradient buckets ------------------------------------------------------ */

/* Bucket b holds the gradients of parameters [lo, hi) of the model, at
 * offset off of the flat buffer. The buckets run from the last parameters
 * to the first, the order in which the backward pass finishes them. */
typedef struct {
    int         lo, hi;
    size_t      off, n;
    MPI_Request req;
    int         started;
} Bucket;

struct GradSync {
    Model   *m;
    float   *flat;
    Bucket  *buckets;
    int      n_buckets, next;   /* the next bucket to start */
    int     *first_param;       /* per node: its first parameter's index */
};

static void bucket_start(GradSync *g, Bucket *b) {
    const ParamList *pl = &g->m->params;
    float *dst = g->flat + b->off;
    for (int i = b->lo; i < b->hi; i++) {
        memcpy(dst, pl->items[i]->grad, pl->items[i]->numel * sizeof *dst);
        dst += pl->items[i]->numel;
    }
    MPI_Iallreduce(MPI_IN_PLACE, g->flat + b->off, (int)b->n, MPI_FLOAT, MPI_SUM,
                   MPI_COMM_WORLD, &b->req);
    b->started = 1;
}

/* After node `node`'s backward: every parameter from the node's first on
 * is final, so the buckets that lie wholly there can start. Testing the
 * started ones lets MPI move them on while the backward pass goes on. */
static void on_backward(void *ctx, int node) {
    GradSync *g = ctx;
    while (g->next < g->n_buckets && g->buckets[g->next].lo >= g->first_param[node])
        bucket_start(g, &g->buckets[g->next++]);
    for (int i = 0; i < g->next; i++)
        if (g->buckets[i].started == 1) {
            int done;
            MPI_Test(&g->buckets[i].req, &done, MPI_STATUS_IGNORE);
            if (done)
                g->buckets[i].started = 2;
        }
}

GradSync *gradsync_new(Model *m, size_t bucket_bytes) {
    GradSync *g = calloc(1, sizeof *g);
    const ParamList *pl = &m->params;
    size_t total = 0;
    for (int i = 0; i < pl->n; i++)
        total += pl->items[i]->numel;
    if (g) {
        g->m = m;
        g->flat = malloc((total ? total : 1) * sizeof *g->flat);
        g->buckets = calloc((size_t)(pl->n ? pl->n : 1), sizeof *g->buckets);
        g->first_param = malloc((size_t)m->n_nodes * sizeof *g->first_param);
    }
    if (!g || !g->flat || !g->buckets || !g->first_param) {
        gradsync_free(g);
        err_set(ERR_NOMEM, "out of memory for the gradient buffer (%zu floats)", total);
        return NULL;
    }
    for (int i = 0; i < m->n_nodes; i++)
        g->first_param[i] = m->nodes[i].param_begin;

    /* From the last parameter back, a bucket closes once it holds
     * bucket_bytes; offsets follow the same order. */
    size_t off = 0;
    for (int hi = pl->n; hi > 0;) {
        Bucket *b = &g->buckets[g->n_buckets++];
        b->hi = hi;
        b->lo = hi;
        b->off = off;
        while (b->lo > 0 && (b->n * sizeof(float) < bucket_bytes || b->n == 0)) {
            b->lo--;
            b->n += pl->items[b->lo]->numel;
        }
        off += b->n;
        hi = b->lo;
    }
    model_set_backward_hook(m, on_backward, g);
    return g;
}

void gradsync_free(GradSync *g) {
    if (!g)
        return;
    if (g->m)
        model_set_backward_hook(g->m, NULL, NULL);
    free(g->flat);
    free(g->buckets);
    free(g->first_param);
    free(g);
}

void gradsync_finish(GradSync *g) {
    const ParamList *pl = &g->m->params;
    while (g->next < g->n_buckets)
        bucket_start(g, &g->buckets[g->next++]);
    float scale = 1.0f / (float)size;
    for (int k = 0; k < g->n_buckets; k++) {
        Bucket *b = &g->buckets[k];
        if (b->started == 1)
            MPI_Wait(&b->req, MPI_STATUS_IGNORE);
        b->started = 0;
        const float *src = g->flat + b->off;
        for (int i = b->lo; i < b->hi; i++) {
            float *grad = pl->items[i]->grad;
            for (size_t j = 0; j < pl->items[i]->numel; j++)
                grad[j] = src[j] * scale;
            src += pl->items[i]->numel;
        }
    }
    g->next = 0;
}

#else   /* no MPI: one rank */

int dist_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (launched_by_mpi())
        return err_set(ERR_INVALID, "started by an MPI launcher, but this noisette was built "
                       "without MPI (install libopenmpi-dev and rebuild; noisette --version "
                       "says which)");
    return ERR_OK;
}

void dist_finalize(void) {
}

void dist_abort(int code) {
    (void)code;
}

int dist_rank(void) {
    return 0;
}

int dist_size(void) {
    return 1;
}

const char *dist_describe(void) {
    return "MPI: not built in (install libopenmpi-dev and rebuild for mpirun)";
}

void dist_barrier(void) {
}

int dist_from_rank0(int v) {
    return v;
}

void dist_allreduce_sum(double *v, int n) {
    (void)v;
    (void)n;
}

void dist_broadcast(float *v, size_t n) {
    (void)v;
    (void)n;
}

static int compare_hashes(uint64_t mine, const char *what) {
    (void)mine;
    (void)what;
    return ERR_OK;
}

void dist_bn_sync(void *ctx, double *v, int n) {
    (void)ctx;
    (void)v;
    (void)n;
}

GradSync *gradsync_new(Model *m, size_t bucket_bytes) {
    (void)m;
    (void)bucket_bytes;
    err_set(ERR_INVALID, "gradient averaging needs MPI, which this build lacks");
    return NULL;
}

void gradsync_free(GradSync *g) {
    (void)g;
}

void gradsync_finish(GradSync *g) {
    (void)g;
}

#endif

void dist_broadcast_buffers(Model *m) {
    for (int i = 0; i < m->buffers.n; i++)
        dist_broadcast(m->buffers.items[i]->data, m->buffers.items[i]->numel);
}

int dist_check_same(const char *what, const char *text) {
    return compare_hashes(fnv1a(FNV_OFFSET, text, strlen(text)), what);
}

int dist_check_replicas(const Model *m, const char *when) {
    uint64_t h = FNV_OFFSET;
    const ParamList *lists[2] = {&m->params, &m->buffers};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++)
            h = fnv1a(h, lists[l]->items[i]->data, lists[l]->items[i]->numel * sizeof(float));
    char what[128];
    snprintf(what, sizeof what, "the model %s", when);
    return compare_hashes(h, what);
}
