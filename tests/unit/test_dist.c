/* Data-parallel training (train/dist.h), run by CTest under
 * `mpirun --oversubscribe -n 2`: the collectives, the checks that ranks
 * agree, gradient averaging that keeps the replicas identical, and
 * synchronised batch norm against one process training on the whole
 * batch. */
#include "test_util.h"

#include "nn/model.h"
#include "train/dist.h"
#include "train/loss.h"
#include "train/optim.h"
#include "util/err.h"
#include "util/rng.h"

#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_BS 4
#define SIZE     32
#define CLASSES  4
#define STEPS    3

static void small_config(ModelConfig *cfg) {
    model_config_default(cfg, "xresnet18");
    cfg->c_in = 1;
    cfg->n_out = CLASSES;
    cfg->width_div = 8;
}

static void build(Model *m, int max_n) {
    ModelConfig cfg;
    small_config(&cfg);
    Rng rng;
    rng_seed(&rng, 7);     /* the same initial weights everywhere */
    assert_int_equal(model_build(m, &cfg, max_n, SIZE, backend_blas(), &rng), ERR_OK);
}

/* n images and labels from a stream of their own. */
static void batch(uint64_t stream, int n, float *x, int *y) {
    Rng rng;
    rng_seed_stream(&rng, 99, stream, 0);
    for (size_t i = 0; i < (size_t)n * SIZE * SIZE; i++)
        x[i] = (float)(2 * rng_uniform(&rng) - 1);
    for (int i = 0; i < n; i++)
        y[i] = (int)rng_below(&rng, CLASSES);
}

/* One SGD step at lr 0.1 on (x, y): cross entropy, backward, the
 * gradients averaged when g is given. */
static void step(Model *m, Optimizer *opt, GradSync *g, const float *x, const int *y, int n) {
    float dlogits[2 * LOCAL_BS * CLASSES];
    double loss;
    model_forward(m, x, n, 1);
    LossBatch lb = {n, CLASSES, model_logits(m)->data, y, NULL};
    assert_int_equal(loss_cross_entropy(&lb, NULL, dlogits, &loss), ERR_OK);
    model_zero_grad(m);
    model_backward(m, dlogits);
    if (g)
        gradsync_finish(g);
    optimizer_step(opt);
}

static Optimizer *sgd(Model *m) {
    OptConfig oc;
    OptHyper h;
    assert_int_equal(optim_parse("sgd", &oc, &h), ERR_OK);
    h.lr = 0.1;
    h.wd = 0;
    return optimizer_new_model(&oc, &m->params, &h);
}

/* Largest |a - b| over every parameter and buffer of two models. */
static double max_diff(const Model *a, const Model *b) {
    double worst = 0;
    const ParamList *la[2] = {&a->params, &a->buffers}, *lb[2] = {&b->params, &b->buffers};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < la[l]->n; i++)
            for (size_t j = 0; j < la[l]->items[i]->numel; j++) {
                double d = fabs((double)la[l]->items[i]->data[j] - lb[l]->items[i]->data[j]);
                worst = d > worst ? d : worst;
            }
    return worst;
}

static void test_collectives(void **state) {
    (void)state;
    double v[2] = {dist_rank() + 1.0, 10.0};
    dist_allreduce_sum(v, 2);
    assert_true(v[0] == 3.0 && v[1] == 20.0);

    float f[3] = {0};
    if (dist_rank() == 0)
        f[0] = 1.5f, f[1] = 2.5f, f[2] = -3.0f;
    dist_broadcast(f, 3);
    assert_true(f[0] == 1.5f && f[1] == 2.5f && f[2] == -3.0f);
}

static void test_check_same(void **state) {
    (void)state;
    assert_int_equal(dist_check_same("the configuration", "bs=64 lr=0.008"), ERR_OK);
    int rc = dist_check_same("the configuration", dist_rank() ? "bs=64 lr=0.01" : "bs=64");
    assert_int_equal(rc, ERR_INVALID);     /* on every rank */
    assert_contains(err_msg(), "the configuration differs between rank 0 and rank 1");
}

/* Each rank trains on different images; after averaging, every step is
 * the same everywhere, so the weights stay bit for bit identical. */
static void test_replicas_stay_identical(void **state) {
    (void)state;
    Model m;
    build(&m, LOCAL_BS);
    GradSync *g = gradsync_new(&m, 4096);   /* small buckets: several per step */
    Optimizer *opt = sgd(&m);
    assert_non_null(g);
    assert_non_null(opt);
    float x[LOCAL_BS * SIZE * SIZE];
    int y[LOCAL_BS];
    for (int s = 0; s < STEPS; s++) {
        batch((uint64_t)(s * 2 + dist_rank()), LOCAL_BS, x, y);
        step(&m, opt, g, x, y, LOCAL_BS);
    }

    /* Rank 1's parameters, compared with rank 0's float by float (batch
     * norm's running statistics are each rank's own, as in PyTorch DDP,
     * until rank 0's are broadcast). */
    for (int i = 0; i < m.params.n; i++) {
        Param *p = m.params.items[i];
        float *other = malloc(p->numel * sizeof *other);
        assert_non_null(other);
        if (dist_rank() == 1)
            MPI_Send(p->data, (int)p->numel, MPI_FLOAT, 0, i, MPI_COMM_WORLD);
        else {
            MPI_Recv(other, (int)p->numel, MPI_FLOAT, 1, i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            assert_memory_equal(other, p->data, p->numel * sizeof *other);
        }
        free(other);
    }

    dist_broadcast_buffers(&m);
    assert_int_equal(dist_check_replicas(&m, "after the steps"), ERR_OK);

    /* The weights moved: the averaged gradients were not zero. */
    Model fresh;
    build(&fresh, LOCAL_BS);
    assert_true(max_diff(&m, &fresh) > 1e-3);
    model_free(&fresh);
    optimizer_free(opt);
    gradsync_free(g);
    model_free(&m);
}

/* dist_check_replicas passes on identical weights and fails on every rank
 * when one rank's weights differ. */
static void test_check_replicas(void **state) {
    (void)state;
    Model m;
    build(&m, LOCAL_BS);
    assert_int_equal(dist_check_replicas(&m, "at the start"), ERR_OK);
    if (dist_rank() == 1)
        m.params.items[3]->data[0] += 1e-6f;
    assert_int_equal(dist_check_replicas(&m, "at the start"), ERR_INVALID);
    assert_contains(err_msg(), "the model at the start differs between rank 0 and rank 1");
    model_free(&m);
}

/* With synchronised batch norm, R ranks on their shards of a global batch
 * take the steps one process takes on the whole batch: the same weights
 * and running statistics within float rounding. Without it the
 * statistics are per shard and the weights part. */
static void test_sync_bn_matches_one_process(void **state) {
    (void)state;
    int ranks = dist_size(), global = LOCAL_BS * ranks;
    float *x = malloc((size_t)global * SIZE * SIZE * sizeof *x);
    int *y = malloc((size_t)global * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);

    Model synced, unsynced, whole;
    build(&synced, LOCAL_BS);
    build(&unsynced, LOCAL_BS);
    build(&whole, global);
    assert_int_equal(model_set_bn_sync(&synced, (BnSync){dist_bn_sync, NULL}), ERR_OK);
    GradSync *gs = gradsync_new(&synced, 1 << 20), *gu = gradsync_new(&unsynced, 1 << 20);
    Optimizer *os = sgd(&synced), *ou = sgd(&unsynced), *ow = sgd(&whole);
    for (int s = 0; s < STEPS; s++) {
        batch((uint64_t)(100 + s), global, x, y);
        size_t shard = (size_t)dist_rank() * LOCAL_BS;
        step(&whole, ow, NULL, x, y, global);   /* one process, whole batch */
        step(&synced, os, gs, x + shard * SIZE * SIZE, y + shard, LOCAL_BS);
        step(&unsynced, ou, gu, x + shard * SIZE * SIZE, y + shard, LOCAL_BS);
    }
    double d_sync = max_diff(&synced, &whole), d_unsync = max_diff(&unsynced, &whole);
    print_message("max |w - w_one_process|: sync-bn %.3g, per-rank statistics %.3g\n", d_sync,
                  d_unsync);
    assert_true(d_sync < 1e-4);
    assert_true(d_unsync > 1e-3);

    optimizer_free(os);
    optimizer_free(ou);
    optimizer_free(ow);
    gradsync_free(gs);
    gradsync_free(gu);
    model_free(&synced);
    model_free(&unsynced);
    model_free(&whole);
    free(x);
    free(y);
}

int main(int argc, char **argv) {
    if (dist_init(&argc, &argv) < 0 || dist_size() != 2) {
        fprintf(stderr, "test_dist: run me with mpirun -n 2 (%s)\n", err_msg());
        dist_finalize();
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collectives),
        cmocka_unit_test(test_check_same),
        cmocka_unit_test(test_replicas_stay_identical),
        cmocka_unit_test(test_check_replicas),
        cmocka_unit_test(test_sync_bn_matches_one_process),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* A failure on one rank ends both: the other may wait in a collective. */
    if (failed)
        dist_abort(1);
    dist_finalize();
    return failed ? 1 : 0;
}
