/* Background batch loader over pthreads; see loader.h.
 *
 * Slots cycle FREE -> FILLING (a worker builds the batch, unlocked) ->
 * READY -> TAKEN (the caller holds it) -> FREE. A worker may claim batch b
 * only when slot b mod depth is FREE, so at most `depth` batches exist at
 * once and the caller receives them in order. Starting an epoch bumps a
 * generation number; a batch finished for an older generation is dropped. */
#include "data/loader.h"

#include "util/err.h"
#include "util/log.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ImageNet statistics (spec: reference-training.md §2.7), R, G, B. */
static const float IMAGENET_MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float IMAGENET_STD[3] = {0.229f, 0.224f, 0.225f};

#define SHUFFLE_STREAM (1ULL << 63)     /* rng stream of the epoch order */

typedef enum {
    SLOT_FREE,
    SLOT_FILLING,
    SLOT_READY,
    SLOT_TAKEN
} SlotState;

typedef struct {
    Batch     batch;
    SlotState state;
    int       err;                  /* a sample failed: its ErrCode */
    char      msg[ERR_MSG_MAX];     /* and its message */
    long      bad;                  /* samples dropped (skip_bad) */
} Slot;

typedef struct {
    Loader        *loader;
    SampleScratch  scratch;
    pthread_t      thread;
} Worker;

struct Loader {
    const Dataset  *d;
    LoaderOptions   opt;
    int             n_items, n_batches, per_image;
    float           mean[3], std[3];
    uint32_t       *order;
    int32_t        *items;          /* the subset asked for, or NULL: items 0.. */
    Slot           *slots;
    Worker         *workers;
    int             n_workers;

    pthread_mutex_t mu;
    pthread_cond_t  work_cv, ready_cv;
    int             epoch, generation, active, stop;
    int             next_claim, next_take;
    long            bad;
};

/* ---- filling a batch (no lock held) ----------------------------------- */

static void fill_batch(Loader *l, Worker *w, Slot *slot, int b, int epoch) {
    const Dataset *d = l->d;
    Batch *bt = &slot->batch;
    int bs = l->opt.batch_size;
    int first = b * bs, last = first + bs < l->n_items ? first + bs : l->n_items;
    if (l->opt.shard_count > 1) {
        /* Part r of R: [first + len*r/R, first + len*(r+1)/R). */
        long len = last - first, r = l->opt.shard_rank, shards = l->opt.shard_count;
        last = first + (int)(len * (r + 1) / shards);
        first += (int)(len * r / shards);
    }

    bt->n = 0;
    bt->index = b;
    slot->err = 0;
    slot->bad = 0;
    for (int p = first; p < last; p++) {
        int item = l->items ? l->items[l->order[p]] : (int)l->order[p];
        const Image *im;
        int rc = sample_load(d, l->opt.split, item, epoch, &l->opt.sample, &w->scratch, &im);
        if (rc < 0 && l->opt.skip_bad) {
            log_debug("%s (skipped)", err_msg());
            slot->bad++;
            continue;
        }
        if (rc < 0) {
            slot->err = rc;
            snprintf(slot->msg, sizeof slot->msg, "%s", err_msg());
            return;
        }
        transform_normalize(im, l->mean, l->std, l->opt.layout,
                            bt->x + (size_t)bt->n * (size_t)l->per_image);
        bt->y[bt->n] = d->label[l->opt.split][item];
        bt->item[bt->n] = item;
        bt->n++;
    }
}

static void *worker_main(void *arg) {
    Worker *w = arg;
    Loader *l = w->loader;

    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        int b = l->next_claim;
        Slot *slot = &l->slots[b % l->opt.depth];
        if (!l->active || b >= l->n_batches || slot->state != SLOT_FREE) {
            pthread_cond_wait(&l->work_cv, &l->mu);
            continue;
        }

        /* Claim batch b, build it unlocked, publish it if still wanted. */
        slot->state = SLOT_FILLING;
        l->next_claim++;
        int generation = l->generation, epoch = l->epoch;
        pthread_mutex_unlock(&l->mu);
        fill_batch(l, w, slot, b, epoch);
        pthread_mutex_lock(&l->mu);
        if (generation == l->generation) {
            slot->state = SLOT_READY;
            l->bad += slot->bad;
            pthread_cond_broadcast(&l->ready_cv);
        } else {
            slot->state = SLOT_FREE;
            pthread_cond_broadcast(&l->work_cv);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- the caller's side ------------------------------------------------- */

/* Per-channel mean and std: ImageNet's for colour images, the training
 * images' own for Fashion-MNIST. */
static void set_statistics(Loader *l) {
    const Dataset *d = l->d;
    if (d->channels == 3) {
        memcpy(l->mean, IMAGENET_MEAN, sizeof l->mean);
        memcpy(l->std, IMAGENET_STD, sizeof l->std);
        return;
    }
    double sum = 0, sum_sq = 0;
    size_t n = 0, side2 = (size_t)28 * 28;
    for (int i = 0; i < d->n[SPLIT_TRAIN]; i++) {
        const uint8_t *px = d->pixels + (size_t)d->rows[SPLIT_TRAIN][i] * side2;
        for (size_t p = 0; p < side2; p++) {
            sum += px[p];
            sum_sq += (double)px[p] * px[p];
        }
        n += side2;
    }
    double mean = n ? sum / (double)n : 0, var = n ? sum_sq / (double)n - mean * mean : 1;
    l->mean[0] = (float)(mean / 255.0);
    l->std[0] = var > 0 ? (float)(sqrt(var) / 255.0) : 1.0f;
}

static int alloc_slots(Loader *l) {
    int bs = l->opt.batch_size;
    l->slots = calloc((size_t)l->opt.depth, sizeof *l->slots);
    if (!l->slots)
        return err_set(ERR_NOMEM, "out of memory");
    for (int s = 0; s < l->opt.depth; s++) {
        Batch *b = &l->slots[s].batch;
        b->x = malloc((size_t)bs * (size_t)l->per_image * sizeof *b->x);
        b->y = malloc((size_t)bs * sizeof *b->y);
        b->item = malloc((size_t)bs * sizeof *b->item);
        if (!b->x || !b->y || !b->item)
            return err_set(ERR_NOMEM, "out of memory for %d batches of %d images", l->opt.depth,
                           bs);
    }
    return ERR_OK;
}

Loader *loader_new(const Dataset *d, const LoaderOptions *opt) {
    if (opt->batch_size < 1 || opt->threads < 1 || opt->sample.size < 1) {
        err_set(ERR_USAGE, "loader: batch size, threads and image size must be positive");
        return NULL;
    }
    if (opt->shard_count > 1 && (opt->shard_rank < 0 || opt->shard_rank >= opt->shard_count)) {
        err_set(ERR_USAGE, "loader: shard %d of %d", opt->shard_rank, opt->shard_count);
        return NULL;
    }
    Loader *l = calloc(1, sizeof *l);
    if (!l) {
        err_set(ERR_NOMEM, "out of memory");
        return NULL;
    }
    l->d = d;
    l->opt = *opt;
    if (l->opt.depth < 1)
        l->opt.depth = 2 * opt->threads + 1;
    l->n_items = d->n[opt->split];
    if (opt->limit > 0 && opt->limit < l->n_items)
        l->n_items = opt->limit;
    if (opt->subset) {
        l->n_items = opt->n_subset;
        l->items = malloc((size_t)(opt->n_subset ? opt->n_subset : 1) * sizeof *l->items);
        if (l->items)
            memcpy(l->items, opt->subset, (size_t)opt->n_subset * sizeof *l->items);
        l->opt.subset = NULL;   /* the caller's array need not outlive us */
        for (int i = 0; l->items && i < l->n_items; i++)
            if (l->items[i] < 0 || l->items[i] >= d->n[opt->split]) {
                err_set(ERR_INVALID, "loader: subset item %d is not in the split's %d items",
                        l->items[i], d->n[opt->split]);
                free(l->items);
                free(l);
                return NULL;
            }
    }
    /* Training drops its last partial batch, as fastai does. */
    int drop_last = opt->split == SPLIT_TRAIN && !opt->in_order;
    l->n_batches = drop_last ? l->n_items / opt->batch_size
                             : (l->n_items + opt->batch_size - 1) / opt->batch_size;
    l->per_image = d->channels * opt->sample.size * opt->sample.size;
    set_statistics(l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->ready_cv, NULL);

    /* Buffers, then the workers (idle until an epoch starts). */
    l->order = malloc((size_t)(l->n_items ? l->n_items : 1) * sizeof *l->order);
    l->workers = calloc((size_t)opt->threads, sizeof *l->workers);
    int rc = l->order && l->workers && (l->items || !opt->subset)
                 ? alloc_slots(l) : err_set(ERR_NOMEM, "out of memory");
    for (int t = 0; rc == ERR_OK && t < opt->threads; t++) {
        l->workers[t].loader = l;
        if (pthread_create(&l->workers[t].thread, NULL, worker_main, &l->workers[t]) != 0)
            rc = err_set(ERR_NOMEM, "loader: cannot start thread %d", t + 1);
        else
            l->n_workers++;
    }
    if (rc < 0) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err_msg());
        loader_free(l);
        err_set(rc, "%s", msg);
        return NULL;
    }
    return l;
}

int loader_batches(const Loader *l) {
    return l->n_batches;
}

const float *loader_mean(const Loader *l) {
    return l->mean;
}

const float *loader_std(const Loader *l) {
    return l->std;
}

long loader_bad_count(const Loader *l) {
    return l->bad;
}

int loader_start_epoch(Loader *l, int epoch) {
    return loader_start_epoch_at(l, epoch, 0);
}

int loader_start_epoch_at(Loader *l, int epoch, int first_batch) {
    if (first_batch < 0 || first_batch > l->n_batches)
        return err_set(ERR_INVALID, "loader: batch %d outside the epoch's %d", first_batch,
                       l->n_batches);
    pthread_mutex_lock(&l->mu);

    /* Forget the last epoch's unclaimed and unread batches. */
    l->generation++;
    for (int s = 0; s < l->opt.depth; s++)
        if (l->slots[s].state == SLOT_READY)
            l->slots[s].state = SLOT_FREE;

    /* This epoch's order: a seeded shuffle for training, file order else. */
    for (int i = 0; i < l->n_items; i++)
        l->order[i] = (uint32_t)i;
    if (l->opt.split == SPLIT_TRAIN && !l->opt.in_order) {
        Rng rng;
        rng_seed_stream(&rng, l->opt.sample.seed, (uint64_t)epoch, SHUFFLE_STREAM);
        rng_permutation(&rng, l->order, (size_t)l->n_items);
    }
    l->epoch = epoch;
    l->next_claim = l->next_take = first_batch;
    l->bad = 0;
    l->active = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    return ERR_OK;
}

int loader_next(Loader *l, Batch **b) {
    pthread_mutex_lock(&l->mu);
    if (!l->active || l->next_take >= l->n_batches) {
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    Slot *slot = &l->slots[l->next_take % l->opt.depth];
    while (slot->state != SLOT_READY || slot->batch.index != l->next_take)
        pthread_cond_wait(&l->ready_cv, &l->mu);

    /* A failed sample ends the epoch with its message. */
    if (slot->err) {
        int rc = err_set(slot->err, "%s", slot->msg);
        slot->state = SLOT_FREE;
        l->active = 0;
        pthread_mutex_unlock(&l->mu);
        return rc;
    }
    slot->state = SLOT_TAKEN;
    l->next_take++;
    *b = &slot->batch;
    pthread_mutex_unlock(&l->mu);
    return 1;
}

void loader_release(Loader *l, Batch *b) {
    pthread_mutex_lock(&l->mu);
    Slot *slot = (Slot *)((char *)b - offsetof(Slot, batch));
    slot->state = SLOT_FREE;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
}

void loader_free(Loader *l) {
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    for (int t = 0; t < l->n_workers; t++)
        pthread_join(l->workers[t].thread, NULL);

    for (int t = 0; l->workers && t < l->opt.threads; t++)
        sample_scratch_free(&l->workers[t].scratch);
    for (int s = 0; l->slots && s < l->opt.depth; s++) {
        free(l->slots[s].batch.x);
        free(l->slots[s].batch.y);
        free(l->slots[s].batch.item);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work_cv);
    pthread_cond_destroy(&l->ready_cv);
    free(l->slots);
    free(l->workers);
    free(l->order);
    free(l->items);
    free(l);
}
