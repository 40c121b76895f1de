/* The batch loader on Fashion-MNIST: batch counts (drop last in training,
 * keep it in validation), the same batches for any thread count, a new
 * order each epoch, flips that mirror, normalised statistics, and the
 * shards of data-parallel training. */
#include "test_util.h"

#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "data/loader.h"
#include "util/err.h"
#include "util/fileio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PER_IMAGE (28 * 28)

static Dataset fmnist;

static int setup(void **state) {
    (void)state;
    if (!file_is_dir(FMNIST_DEFAULT_DIR))
        return 0;
    DatasetOptions opt = {.data = "fashion-mnist", .pct = 50, .seed = 1};
    return dataset_open(&fmnist, &opt) == 0 ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    dataset_free(&fmnist);
    return 0;
}

static void need_fmnist(void) {
    if (fmnist.n[SPLIT_TRAIN] == 0) {
        print_message("skip: %s missing\n", FMNIST_DEFAULT_DIR);
        skip();
    }
}

static LoaderOptions options(Split split, int threads, int limit) {
    LoaderOptions o = {.split = split, .batch_size = 64, .threads = threads,
                       .layout = LAYOUT_NCHW, .limit = limit,
                       .sample = {.size = 28, .augment = split == SPLIT_TRAIN,
                                  .min_scale = 0.35, .seed = 9}};
    return o;
}

/* Everything one epoch yields, concatenated. */
typedef struct {
    float   *x;
    int32_t *y, *item;
    int      n, batches, last_n;
} Epoch;

static Epoch run_epoch(const LoaderOptions *o, int epoch) {
    Loader *l = loader_new(&fmnist, o);
    assert_non_null(l);
    Epoch e = {0};
    int cap = loader_batches(l) * o->batch_size;
    e.x = malloc((size_t)cap * PER_IMAGE * sizeof *e.x);
    e.y = malloc((size_t)cap * sizeof *e.y);
    e.item = malloc((size_t)cap * sizeof *e.item);

    assert_int_equal(loader_start_epoch(l, epoch), 0);
    Batch *b;
    int rc;
    while ((rc = loader_next(l, &b)) > 0) {
        assert_int_equal(b->index, e.batches);
        memcpy(e.x + (size_t)e.n * PER_IMAGE, b->x, (size_t)b->n * PER_IMAGE * sizeof *b->x);
        memcpy(e.y + e.n, b->y, (size_t)b->n * sizeof *b->y);
        memcpy(e.item + e.n, b->item, (size_t)b->n * sizeof *b->item);
        e.n += b->n;
        e.last_n = b->n;
        e.batches++;
        loader_release(l, b);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(e.batches, loader_batches(l));
    loader_free(l);
    return e;
}

static void epoch_free(Epoch *e) {
    free(e->x), free(e->y), free(e->item);
}

static void test_batch_counts(void **state) {
    (void)state;
    need_fmnist();
    LoaderOptions t = options(SPLIT_TRAIN, 2, 1000);
    Epoch e = run_epoch(&t, 0);
    assert_int_equal(e.batches, 15);        /* 1000 / 64, the last 40 dropped */
    assert_int_equal(e.n, 960);
    epoch_free(&e);

    LoaderOptions v = options(SPLIT_VALID, 2, 1000);
    e = run_epoch(&v, 0);
    assert_int_equal(e.batches, 16);        /* the last batch of 40 kept */
    assert_int_equal(e.last_n, 40);
    for (int i = 0; i < e.n; i++)
        assert_int_equal(e.item[i], i);     /* file order */
    epoch_free(&e);
}

static void test_thread_count_independent(void **state) {
    (void)state;
    need_fmnist();
    for (int epoch = 0; epoch < 2; epoch++) {
        LoaderOptions one = options(SPLIT_TRAIN, 1, 2000), three = options(SPLIT_TRAIN, 3, 2000);
        three.depth = 4;
        Epoch a = run_epoch(&one, epoch), b = run_epoch(&three, epoch);
        assert_int_equal(a.n, b.n);
        assert_memory_equal(a.item, b.item, (size_t)a.n * sizeof *a.item);
        assert_memory_equal(a.y, b.y, (size_t)a.n * sizeof *a.y);
        assert_memory_equal(a.x, b.x, (size_t)a.n * PER_IMAGE * sizeof *a.x);
        epoch_free(&a);
        epoch_free(&b);
    }
}

static void test_new_order_each_epoch(void **state) {
    (void)state;
    need_fmnist();
    LoaderOptions o = options(SPLIT_TRAIN, 2, 2000);
    Epoch a = run_epoch(&o, 0), b = run_epoch(&o, 1);
    int same = 0;
    for (int i = 0; i < a.n; i++)
        same += a.item[i] == b.item[i];
    assert_true(same < a.n / 20);
    epoch_free(&a);
    epoch_free(&b);
}

/* 1 if got is px (or px mirrored) normalised with mean m and std sd. */
static int matches(const float *got, const uint8_t *px, int mirror, float m, float sd) {
    for (int y = 0; y < 28; y++) {
        for (int x = 0; x < 28; x++) {
            int src = y * 28 + (mirror ? 27 - x : x);
            if (fabsf(got[y * 28 + x] - (px[src] / 255.0f - m) / sd) > 1e-4f)
                return 0;
        }
    }
    return 1;
}

/* Each augmented training image is its pixels, or their mirror image, and
 * about half are mirrored. Labels are the noisy ones. */
static void test_flip_and_labels(void **state) {
    (void)state;
    need_fmnist();
    LoaderOptions t = options(SPLIT_TRAIN, 2, 640);
    Loader *l = loader_new(&fmnist, &t);
    assert_non_null(l);
    float m = loader_mean(l)[0], sd = loader_std(l)[0];
    loader_free(l);
    assert_true(m > 0.2f && m < 0.4f && sd > 0.2f && sd < 0.5f);

    Epoch aug = run_epoch(&t, 0);
    int flipped = 0;
    for (int i = 0; i < aug.n; i++) {
        const float *got = aug.x + (size_t)i * PER_IMAGE;
        const uint8_t *px = fmnist.pixels + (size_t)fmnist.rows[SPLIT_TRAIN][aug.item[i]] * 784;
        int plain = matches(got, px, 0, m, sd), mirrored = matches(got, px, 1, m, sd);
        assert_true(plain || mirrored);
        flipped += mirrored && !plain;
        assert_int_equal(aug.y[i], fmnist.label[SPLIT_TRAIN][aug.item[i]]);
    }
    print_message("%d of %d training images mirrored\n", flipped, aug.n);
    assert_true(flipped > aug.n / 3 && flipped < 2 * aug.n / 3);
    epoch_free(&aug);
}

static void test_normalised_statistics(void **state) {
    (void)state;
    need_fmnist();
    LoaderOptions v = options(SPLIT_VALID, 2, 0);
    Epoch e = run_epoch(&v, 0);
    double sum = 0, sum_sq = 0;
    size_t n = (size_t)e.n * PER_IMAGE;
    for (size_t p = 0; p < n; p++) {
        sum += e.x[p];
        sum_sq += (double)e.x[p] * e.x[p];
    }
    double mean = sum / (double)n, sd = sqrt(sum_sq / (double)n - mean * mean);
    print_message("validation pixels after normalising: mean %.4f, sd %.4f\n", mean, sd);
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(sd - 1) < 0.02);
    epoch_free(&e);
}

/* Data-parallel shards: R loaders, each yielding its part of every batch,
 * give together, batch by batch and in rank order, the images, labels and
 * items of one loader; also for a short last validation batch. */
static void check_shards(LoaderOptions o, int shards, int epoch) {
    Epoch whole = run_epoch(&o, epoch);
    Loader *l[4];
    assert_true(shards <= 4);
    for (int r = 0; r < shards; r++) {
        o.shard_rank = r;
        o.shard_count = shards;
        assert_non_null(l[r] = loader_new(&fmnist, &o));
        assert_int_equal(loader_batches(l[r]), whole.batches);
        assert_int_equal(loader_start_epoch(l[r], epoch), 0);
    }
    int at = 0;
    for (int b = 0; b < whole.batches; b++)
        for (int r = 0; r < shards; r++) {
            Batch *bt;
            assert_int_equal(loader_next(l[r], &bt), 1);
            assert_int_equal(bt->index, b);
            if (b < whole.batches - 1)  /* full batches split evenly */
                assert_true(bt->n == o.batch_size / shards || bt->n == o.batch_size / shards + 1);
            assert_memory_equal(bt->item, whole.item + at, (size_t)bt->n * sizeof *bt->item);
            assert_memory_equal(bt->y, whole.y + at, (size_t)bt->n * sizeof *bt->y);
            assert_memory_equal(bt->x, whole.x + (size_t)at * PER_IMAGE,
                                (size_t)bt->n * PER_IMAGE * sizeof *bt->x);
            at += bt->n;
            loader_release(l[r], bt);
        }
    assert_int_equal(at, whole.n);
    for (int r = 0; r < shards; r++)
        loader_free(l[r]);
    epoch_free(&whole);
}

static void test_shards_make_the_batch(void **state) {
    (void)state;
    need_fmnist();
    check_shards(options(SPLIT_TRAIN, 2, 1000), 2, 1);    /* 32 + 32, augmented */
    check_shards(options(SPLIT_TRAIN, 2, 1000), 3, 0);    /* 21 + 21 + 22 */
    check_shards(options(SPLIT_VALID, 1, 1000), 3, 0);    /* last batch: 13 + 13 + 14 */
}

static void test_bad_options(void **state) {
    (void)state;
    need_fmnist();
    LoaderOptions o = options(SPLIT_TRAIN, 0, 0);
    assert_null(loader_new(&fmnist, &o));
    assert_contains(err_msg(), "must be positive");
    o = options(SPLIT_TRAIN, 1, 0);
    o.shard_rank = 2;
    o.shard_count = 2;
    assert_null(loader_new(&fmnist, &o));
    assert_contains(err_msg(), "shard 2 of 2");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_counts),
        cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_new_order_each_epoch),
        cmocka_unit_test(test_flip_and_labels),
        cmocka_unit_test(test_normalised_statistics),
        cmocka_unit_test(test_shards_make_the_batch),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
