/* Data-parallel training across processes with MPI (docs/distributed.md).
 *
 * `mpirun -n R noisette train ...` starts R copies of the program. Each
 * rank trains on its shard of every global batch; after the backward
 * pass the gradients are summed over the ranks and divided by R, so every
 * rank takes the same optimizer step from the same weights and the
 * weights stay identical. Batch norm uses each rank's own statistics
 * unless they are synchronised (--sync-bn: nn/layers.h, BnSync).
 *
 * MPI is initialised only when the environment says that mpirun (or
 * another PMI launcher) started the process; a plain `noisette train` is
 * one rank without MPI. Builds without MPI have the same functions for
 * one rank. */
#ifndef NOISETTE_TRAIN_DIST_H
#define NOISETTE_TRAIN_DIST_H

#include "nn/model.h"

#include <stddef.h>

/* Joins the job when started by an MPI launcher. 0, or an ErrCode with the
 * message recorded (an MPI launch in a build without MPI). */
int dist_init(int *argc, char ***argv);

/* Leaves the job after a successful run. */
void dist_finalize(void);

/* Ends every rank of the job after a failure on this one, with exit code
 * code (peers blocked in a collective cannot learn of it otherwise). With
 * one rank it returns. */
void dist_abort(int code);

int dist_rank(void);
int dist_size(void);

/* "MPI: Open MPI v4.1.4 ..." or "MPI: not built in", for --version. */
const char *dist_describe(void);

/* v[i] = sum over ranks of v[i], in place on every rank. */
void dist_allreduce_sum(double *v, int n);

/* Returns when every rank has called it. */
void dist_barrier(void);

/* Rank 0's v, on every rank: a decision rank 0 alone can make (what it
 * finds on its disk) taken by all. */
int dist_from_rank0(int v);

/* Copies rank 0's n floats to every rank. */
void dist_broadcast(float *v, size_t n);

/* Copies rank 0's buffers of m (batch norm's running statistics, which
 * each rank moves by its own batches unless they are synchronised) to
 * every rank, as PyTorch DDP does before each forward. */
void dist_broadcast_buffers(Model *m);

/* Checks that every rank holds the same text (the program version and the
 * run's configuration): 0 on all ranks, else ERR_INVALID on all ranks,
 * with a message naming `what` and the ranks that differ from rank 0. */
int dist_check_same(const char *what, const char *text);

/* Checks that the model's parameters and buffers are bit for bit those of
 * rank 0 (a hash of each rank's bytes); 0, else ERR_INVALID on all ranks,
 * "the model <when> differs between rank 0 and rank ...". */
int dist_check_replicas(const Model *m, const char *when);

/* The in-place sum over ranks that synchronised batch norm calls (BnSync). */
void dist_bn_sync(void *ctx, double *v, int n);

/* Gradient averaging for one model, in buckets of about bucket_bytes of
 * gradients, in the order the backward pass finishes them: each bucket's
 * all-reduce starts as soon as the backward pass has left its layers and
 * runs while the earlier layers are differentiated. */
typedef struct GradSync GradSync;

/* Plans the buckets of m and installs the backward hook that starts them.
 * NULL with the message recorded when out of memory. */
GradSync *gradsync_new(Model *m, size_t bucket_bytes);
void gradsync_free(GradSync *g);

/* After model_backward: starts the buckets still waiting, waits for all,
 * and leaves every parameter's gradient as the mean over the ranks. */
void gradsync_finish(GradSync *g);

#endif
