/* The engine learns: a small xresnet18 (every width / 8, 1 input channel,
 * 28 px) trained with ranger and label-smoothing cross entropy on the first
 * 1,024 Fashion-MNIST training images for 5 epochs reaches well above the
 * 10% of chance on 1,000 validation images. Skipped without the dataset. */
#include "test_util.h"

#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "data/loader.h"
#include "nn/model.h"
#include "train/loss.h"
#include "train/metrics.h"
#include "train/optim.h"
#include "train/schedule.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdlib.h>

enum { BATCH = 64, EPOCHS = 5, N_TRAIN = 1024, N_VALID = 1000 };

static LoaderOptions loader_options(Split split, int limit) {
    LoaderOptions o = {.split = split, .batch_size = BATCH, .threads = 1,
                       .layout = LAYOUT_NCHW, .limit = limit,
                       .sample = {.size = 28, .augment = split == SPLIT_TRAIN,
                                  .min_scale = 0.35, .seed = 7}};
    return o;
}

/* One epoch of training; returns the mean training loss. */
static double train_epoch(Model *m, Optimizer *opt, const Schedule *sched, Loader *l,
                          int epoch, float *dlogits) {
    double total = 0;
    int batches = 0, n_iter = loader_batches(l);
    Batch *b;
    assert_int_equal(loader_start_epoch(l, epoch), 0);
    while (loader_next(l, &b) > 0) {
        schedule_apply(sched, schedule_pos(epoch, EPOCHS, batches, n_iter), opt);
        model_forward(m, b->x, b->n, 1);
        LossBatch lb = {b->n, 10, model_logits(m)->data, b->y, NULL};
        LossConfig lc;
        loss_config_default(LOSS_LABEL_SMOOTHING, &lc);
        double loss;
        assert_int_equal(loss_compute(&lc, &lb, NULL, dlogits, &loss), 0);
        optimizer_zero_grad(opt);
        model_backward(m, dlogits);
        optimizer_step(opt);
        total += loss;
        batches++;
        loader_release(l, b);
    }
    return total / batches;
}

static double valid_accuracy(Model *m, Loader *l) {
    long correct = 0, seen = 0;
    Batch *b;
    assert_int_equal(loader_start_epoch(l, 0), 0);
    while (loader_next(l, &b) > 0) {
        model_forward(m, b->x, b->n, 0);
        correct += metrics_count_correct(model_logits(m)->data, b->y, b->n, 10);
        seen += b->n;
        loader_release(l, b);
    }
    return (double)correct / (double)seen;
}

static void test_learns_fashion_mnist(void **state) {
    (void)state;
    if (!file_is_dir(FMNIST_DEFAULT_DIR)) {
        print_message("skip: %s missing\n", FMNIST_DEFAULT_DIR);
        skip();
    }
    Dataset d;
    DatasetOptions dopt = {.data = "fashion-mnist"};
    assert_int_equal(dataset_open(&d, &dopt), 0);
    LoaderOptions to = loader_options(SPLIT_TRAIN, N_TRAIN);
    LoaderOptions vo = loader_options(SPLIT_VALID, N_VALID);
    Loader *train = loader_new(&d, &to), *valid = loader_new(&d, &vo);
    assert_non_null(train);
    assert_non_null(valid);

    ModelConfig cfg;
    model_config_default(&cfg, "xresnet18");
    cfg.c_in = 1;
    cfg.width_div = 8;
    Model m;
    Rng rng;
    rng_seed(&rng, 11);
    assert_int_equal(model_build(&m, &cfg, BATCH, 28, backend_blas(), &rng), 0);

    OptConfig oc;
    OptHyper h;
    assert_int_equal(optim_parse("ranger", &oc, &h), 0);
    h.lr = 8e-3;
    Optimizer *opt = optimizer_new_model(&oc, &m.params, &h);
    assert_non_null(opt);
    Schedule sched = schedule_flat_cos(h.lr);
    float *dlogits = malloc(BATCH * 10 * sizeof *dlogits);

    double first = 0, last = 0;
    for (int e = 0; e < EPOCHS; e++) {
        last = train_epoch(&m, opt, &sched, train, e, dlogits);
        if (e == 0)
            first = last;
    }
    double acc = valid_accuracy(&m, valid);
    print_message("train loss %.3f -> %.3f, validation accuracy %.1f%% (chance 10%%)\n", first,
                  last, 100 * acc);
    assert_true(last < first);
    assert_true(acc > 0.4);

    free(dlogits);
    optimizer_free(opt);
    model_free(&m);
    loader_free(train);
    loader_free(valid);
    dataset_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
