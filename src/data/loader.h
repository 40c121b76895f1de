/* The background batch loader.
 *
 * Worker threads turn samples into normalised float batches while the
 * caller trains on earlier ones. Batches come out in order; batch b is
 * built whole by one worker into slot b mod depth of a ring of reusable
 * buffers, so nothing is allocated per batch. The training split is
 * reshuffled each epoch and its last partial batch dropped; validation
 * keeps file order and its last partial batch (as the reference). Every
 * sample depends only on (seed, epoch, item), so the batches are the same
 * for any number of threads, and the shards of a batch (one per process of
 * a data-parallel run) are together the batch of a single process. */
#ifndef NOISETTE_DATA_LOADER_H
#define NOISETTE_DATA_LOADER_H

#include "data/dataset.h"
#include "data/sample.h"
#include "data/transform.h"

typedef struct {
    Split      split;
    int        batch_size;
    int        threads;         /* worker threads, >= 1 */
    int        depth;           /* ready-batch slots; 0: 2 per thread + 1 */
    Layout     layout;
    int        skip_bad;        /* a bad image is dropped with a warning */
    int        limit;           /* use only the first `limit` items (0: all) */
    int        in_order;        /* training split too in file order, last batch kept
                                 * (a pass over the training images) */
    const int32_t *subset;      /* only these items of the split (copied), in this
                                 * order; NULL: all (after limit) */
    int        n_subset;
    /* Data-parallel training (train/dist.h): batch b of the epoch's order
     * is cut into shard_count contiguous parts and this loader yields part
     * shard_rank of each. 0 or 1 shards: the whole batch. */
    int        shard_rank, shard_count;
    SampleSpec sample;
} LoaderOptions;

typedef struct {
    float   *x;         /* n images, layout as asked, normalised */
    int32_t *y;         /* n class labels */
    int32_t *item;      /* n item indices within the split */
    int      n;         /* images in this batch (fewer when some were bad) */
    int      index;     /* batch number within the epoch */
} Batch;

typedef struct Loader Loader;

/* Starts the workers (idle until loader_start_epoch). NULL on failure, with
 * the reason recorded (err_msg). d must outlive the loader. */
Loader *loader_new(const Dataset *d, const LoaderOptions *opt);

/* Number of batches an epoch yields. */
int loader_batches(const Loader *l);

/* Channel means and standard deviations used for normalising. */
const float *loader_mean(const Loader *l);
const float *loader_std(const Loader *l);

/* Begins an epoch: the order is drawn and the workers start filling. Any
 * batches of the previous epoch not yet taken are discarded. */
int loader_start_epoch(Loader *l, int epoch);

/* As loader_start_epoch, beginning at batch first_batch of the epoch's
 * order (resuming an interrupted epoch); earlier batches are not made. */
int loader_start_epoch_at(Loader *l, int epoch, int first_batch);

/* Waits for the next batch of the epoch: 1 with *b set, 0 after the last,
 * or a negative ErrCode when a sample failed (without skip_bad). The batch
 * stays valid until loader_release. */
int loader_next(Loader *l, Batch **b);

/* Gives a batch's buffer back for reuse. */
void loader_release(Loader *l, Batch *b);

/* Images dropped as bad in the current epoch (skip_bad). */
long loader_bad_count(const Loader *l);

/* Stops the workers and frees everything. */
void loader_free(Loader *l);

#endif
