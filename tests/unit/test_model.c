/* The xresnet family: parameter counts equal the reference's (spec §3.5),
 * the shape walk, initialisation, a finite forward, the whole model's
 * gradient against finite differences, and build errors. */
#include "test_util.h"

#include "golden.h"
#include "nn/model.h"
#include "train/checkpoint.h"
#include "train/optim.h"
#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static size_t count(const char *arch, int sa) {
    ModelConfig cfg;
    model_config_default(&cfg, arch);
    cfg.sa = sa;
    Model m;
    Rng rng;
    rng_seed(&rng, 1);
    assert_int_equal(model_build(&m, &cfg, 1, 64, backend_reference(), &rng), 0);
    size_t n = param_count(&m.params);
    model_free(&m);
    return n;
}

/* spec: reference-training.md §3.5, n_out 10 */
static void test_parameter_counts(void **state) {
    (void)state;
    assert_int_equal(count("xse_resnext50", 0), 25550618);
    assert_int_equal(count("xse_resnext50", 1), 25616155);
    assert_int_equal(count("xresnext50", 0), 23019626);
    assert_int_equal(count("xresnext50", 1), 23085163);
    assert_int_equal(count("xresnet50", 0), 23547754);
    assert_int_equal(count("xresnet50", 1), 23613291);
    assert_int_equal(count("xresnet34", 0), 21309034);
    assert_int_equal(count("xresnet34", 1), 21313131);
    assert_int_equal(count("xresnet18", 0), 11200874);
    assert_int_equal(count("xresnet18", 1), 11204971);
}

static const Node *find_node(const Model *m, const char *name) {
    for (int i = 0; i < m->n_nodes; i++)
        if (strcmp(m->nodes[i].name, name) == 0)
            return &m->nodes[i];
    fail_msg("no node %s", name);
    return NULL;
}

/* spec §3.5's shape walk of xse_resnext50 at 128 px, and its init. */
static void test_shapes_and_init(void **state) {
    (void)state;
    ModelConfig cfg;
    model_config_default(&cfg, "xse_resnext50");
    cfg.sa = 1;
    Model m;
    Rng rng;
    rng_seed(&rng, 2);
    assert_int_equal(model_build(&m, &cfg, 1, 128, backend_reference(), &rng), 0);
    assert_int_equal(find_node(&m, "stem.0.act")->y.h, 64);
    assert_int_equal(find_node(&m, "stem.pool")->y.h, 32);
    const char *last[4] = {"stages.0.2.act", "stages.1.3.act", "stages.2.5.act",
                           "stages.3.2.act"};
    const int c[4] = {256, 512, 1024, 2048}, side[4] = {32, 16, 8, 4};
    for (int s = 0; s < 4; s++) {
        assert_int_equal(find_node(&m, last[s])->y.c, c[s]);
        assert_int_equal(find_node(&m, last[s])->y.h, side[s]);
    }
    assert_int_equal(find_node(&m, "stages.0.0.se.conv1")->y.c, 16);
    assert_int_equal(find_node(&m, "stages.3.0.se.conv1")->y.c, 128);
    assert_non_null(find_node(&m, "stages.0.2.sa"));
    assert_int_equal(model_logits(&m)->c, 10);

    /* init: the branch's last BN weight 0, others 1; conv weights with
     * sd sqrt(2 / fan_in); gamma 0 */
    const Param *zero = param_find(&m.params, "stages.1.2.convs.2.bn.weight");
    const Param *one = param_find(&m.params, "stages.1.2.convs.1.bn.weight");
    assert_non_null(zero);
    assert_non_null(one);
    assert_true(zero->data[0] == 0.0f && one->data[0] == 1.0f);
    assert_true(param_find(&m.params, "stages.0.2.sa.gamma")->data[0] == 0.0f);
    const Param *w = param_find(&m.params, "stages.2.0.convs.0.conv.weight");
    double ss = 0;
    for (size_t i = 0; i < w->numel; i++)
        ss += (double)w->data[i] * w->data[i];
    double sd = sqrt(ss / w->numel), want = sqrt(2.0 / 512);
    assert_true(fabs(sd - want) < 0.03 * want);
    assert_true(param_find(&m.params, "head.fc.bias")->no_decay);
    assert_false(param_find(&m.params, "head.fc.weight")->no_decay);
    model_free(&m);
}

/* A tiny xse_resnext50 with attention (every width / 8) on 64 px images
 * (big enough that batch norm sees at least 16 values per channel):
 * the derivative of sum(logits * r) along a random unit direction of each
 * of several parameters, from the stem to the head, against central
 * differences. A direction over a whole parameter gives a signal that
 * float32 rounding and max-pool ties (single elements) drown; the limit is
 * 2%. The golden comparison with PyTorch below is the tight check. */
/* The buffers (running statistics, the power iteration's u and v) as they
 * were before the check: a training forward moves them, so every
 * evaluation starts from the same ones. */
typedef struct {
    float **data;
    int     n;
} Snapshot;

static Snapshot snapshot_take(const Model *m) {
    Snapshot s = {calloc((size_t)m->buffers.n, sizeof(float *)), m->buffers.n};
    for (int i = 0; i < s.n; i++) {
        const Param *b = m->buffers.items[i];
        s.data[i] = malloc(b->numel * sizeof(float));
        memcpy(s.data[i], b->data, b->numel * sizeof(float));
    }
    return s;
}

static void snapshot_free(Snapshot *s) {
    for (int i = 0; i < s->n; i++)
        free(s->data[i]);
    free(s->data);
}

static double loss_of(Model *m, const Snapshot *s, const float *x, int n, const float *r) {
    for (int i = 0; i < s->n; i++)
        memcpy(m->buffers.items[i]->data, s->data[i],
               m->buffers.items[i]->numel * sizeof(float));
    model_forward(m, x, n, 1);
    const Tensor *z = model_logits(m);
    double l = 0;
    for (size_t i = 0; i < tensor_numel(z); i++)
        l += (double)z->data[i] * r[i];
    return l;
}

static void test_whole_model_gradient(void **state) {
    (void)state;
    ModelConfig cfg;
    model_config_default(&cfg, "xse_resnext50");
    cfg.sa = 1;
    cfg.width_div = 8;
    Model m;
    Rng rng;
    rng_seed(&rng, 3);
    enum { N = 4, S = 64 };
    assert_int_equal(model_build(&m, &cfg, N, S, backend_reference(), &rng), 0);

    /* Make every branch matter: BN weights and gamma away from 0. */
    for (int i = 0; i < m.params.n; i++) {
        Param *p = m.params.items[i];
        if (strstr(p->name, "bn.weight") || strstr(p->name, "gamma"))
            for (size_t k = 0; k < p->numel; k++)
                p->data[k] = 0.5f + 0.5f * (float)rng_uniform(&rng);
    }
    float *x = malloc(N * 3 * S * S * sizeof *x), r[N * 10];
    for (int i = 0; i < N * 3 * S * S; i++)
        x[i] = (float)rng_normal(&rng);
    for (int i = 0; i < N * 10; i++)
        r[i] = (float)rng_normal(&rng);

    Snapshot snap = snapshot_take(&m);
    loss_of(&m, &snap, x, N, r);
    model_zero_grad(&m);
    model_backward(&m, r);

    const char *names[] = {"stem.0.conv.weight", "stages.0.0.convs.1.conv.weight",
                           "stages.0.2.sa.conv.weight_orig", "stages.0.2.sa.gamma",
                           "stages.1.0.idconv.bn.bias", "stages.2.1.se.conv1.bias",
                           "stages.3.2.convs.2.bn.weight", "head.fc.weight"};
    double worst = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        Param *p = param_find(&m.params, names[k]);
        assert_non_null(p);

        /* A random unit direction v over the whole parameter: the analytic
         * directional derivative grad . v against (L(p + hv) - L(p - hv)) / 2h. */
        float *keep = malloc(p->numel * sizeof *keep), *v = malloc(p->numel * sizeof *v);
        double norm = 0, analytic = 0, h = 1e-3;
        for (size_t e = 0; e < p->numel; e++) {
            v[e] = (float)rng_normal(&rng);
            norm += (double)v[e] * v[e];
        }
        for (size_t e = 0; e < p->numel; e++) {
            v[e] = (float)(v[e] / sqrt(norm));
            analytic += (double)p->grad[e] * v[e];
            keep[e] = p->data[e];
        }
        double side[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            for (size_t e = 0; e < p->numel; e++)
                p->data[e] = keep[e] + (float)((sgn ? -h : h) * v[e]);
            side[sgn] = loss_of(&m, &snap, x, N, r);
        }
        memcpy(p->data, keep, p->numel * sizeof *keep);
        double numeric = (side[0] - side[1]) / (2 * h);
        double err = fabs(numeric - analytic) / (1e-2 + fabs(numeric));
        print_message("  %-34s analytic %+.6f  numeric %+.6f\n", names[k], analytic, numeric);
        worst = err > worst ? err : worst;
        if (err > 0.02)
            fail_msg("%s: directional derivative %g, finite difference %g", names[k], analytic,
                     numeric);
        free(keep);
        free(v);
    }
    print_message("whole-model gradient check: worst relative error %.4f\n", worst);
    snapshot_free(&snap);
    free(x);
    model_free(&m);
}

static void test_build_errors(void **state) {
    (void)state;
    ModelConfig cfg;
    Model m;
    Rng rng;
    rng_seed(&rng, 4);
    model_config_default(&cfg, "xresnet9000");
    assert_int_equal(model_build(&m, &cfg, 1, 64, backend_reference(), &rng), ERR_USAGE);
    assert_contains(err_msg(), "unknown architecture \"xresnet9000\"");

    /* 28 px: a 7 x 7 map meets a floor-mode max-pool shortcut */
    model_config_default(&cfg, "xresnet18");
    cfg.pool = POOL_MAX;
    cfg.c_in = 1;
    assert_int_equal(model_build(&m, &cfg, 1, 28, backend_reference(), &rng), ERR_INVALID);
    assert_contains(err_msg(), "max-pool shortcut");
    cfg.pool = POOL_AVG;
    assert_int_equal(model_build(&m, &cfg, 1, 28, backend_reference(), &rng), 0);
    model_free(&m);
}

/* A whole reduced-width model against PyTorch (tools/make_model_golden.py):
 * same parameters and input, training-mode forward, backward of
 * sum(logits * r). Tolerances: float32 sums in another order through ~50
 * layers, with batch statistics over as few as 2 values in the last stage,
 * amplify rounding towards the input (measured: up to 1.3e-4 of a
 * gradient's largest element in the stem); so logits within 1e-4 + 1e-3
 * |ref| and each gradient within 1e-3 of its largest element + 1e-3 |ref|.
 * A wrong formula misses by orders of magnitude more. */
static void check_model_golden(const char *file, const char *arch, int sa) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model/%s", NOISETTE_GOLDEN, file);
    Golden g;
    golden_load(&g, path);

    ModelConfig cfg;
    model_config_default(&cfg, arch);
    cfg.sa = sa;
    cfg.width_div = 16;
    Model m;
    Rng rng;
    rng_seed(&rng, 5);
    const GoldenArray *x = golden_get(&g, "input");
    int n = x->dims[0];
    assert_int_equal(model_build(&m, &cfg, n, x->dims[2], backend_reference(), &rng), 0);

    /* Every parameter, and the attention's power-iteration vectors. */
    int loaded = 0;
    for (int i = 0; i < g.n; i++) {
        const GoldenArray *a = &g.arrays[i];
        int is_param = strncmp(a->name, "param:", 6) == 0;
        if (!is_param && strncmp(a->name, "buffer:", 7) != 0)
            continue;
        const char *name = strchr(a->name, ':') + 1;
        Param *p = param_find(is_param ? &m.params : &m.buffers, name);
        if (!p)
            fail_msg("%s: noisette has no %s", file, name);
        assert_int_equal(p->numel, a->numel);
        memcpy(p->data, a->data, a->numel * sizeof(float));
        loaded += is_param;
    }
    assert_int_equal(loaded, m.params.n);

    /* Forward, then backward from r. */
    model_forward(&m, x->data, n, 1);
    const GoldenArray *z = golden_get(&g, "logits");
    golden_compare("logits", model_logits(&m)->data, z->data, z->numel, 1e-4, 1e-3);
    model_zero_grad(&m);
    model_backward(&m, golden_get(&g, "r")->data);
    for (int i = 0; i < m.params.n; i++) {
        char key[PARAM_NAME_MAX + 8];
        snprintf(key, sizeof key, "grad:%s", m.params.items[i]->name);
        const GoldenArray *want = golden_get(&g, key);
        double scale = 0;
        for (size_t k = 0; k < want->numel; k++)
            scale = fabs(want->data[k]) > scale ? fabs(want->data[k]) : scale;
        golden_compare(key, m.params.items[i]->grad, want->data, want->numel, 1e-3 * scale,
                       1e-3);
    }

    /* Batch-norm running statistics after the step. */
    int checked = 0;
    for (int i = 0; i < g.n; i++) {
        if (strncmp(g.arrays[i].name, "after:", 6) != 0)
            continue;
        Param *p = param_find(&m.buffers, g.arrays[i].name + 6);
        if (!p)
            fail_msg("%s: noisette has no buffer %s", file, g.arrays[i].name + 6);
        golden_compare(g.arrays[i].name, p->data, g.arrays[i].data, p->numel, 1e-5, 1e-4);
        checked++;
    }
    assert_true(checked > 0);
    model_free(&m);
    golden_free(&g);
}

static void test_golden_xresnet18(void **state) {
    (void)state;
    check_model_golden("xresnet18_div16.bin", "xresnet18", 0);
}

static void test_golden_xse_resnext50_sa(void **state) {
    (void)state;
    check_model_golden("xse_resnext50_sa_div16.bin", "xse_resnext50", 1);
}

/* The shared gradient buffers: xresnet50's take less than a fifth of the
 * memory of one gradient per node (its outputs that backward never reads
 * share buffers too), and since every buffer is reused dirty,
 * a second backward pass from zeroed parameter gradients must give the
 * first one's gradients bit for bit (a buffer not zeroed when a new node
 * takes it would add stale values). */
static void test_gradient_buffers(void **state) {
    (void)state;
    ModelConfig cfg;
    Model m;
    Rng rng;
    rng_seed(&rng, 5);
    model_config_default(&cfg, "xresnet50");
    assert_int_equal(model_build(&m, &cfg, 2, 64, backend_reference(), &rng), 0);
    size_t outputs = 0, shared = 0;
    for (int i = 1; i < m.n_nodes; i++) {
        outputs += tensor_numel(&m.nodes[i].y);
        if (m.nodes[i].y_shared)
            shared += tensor_numel(&m.nodes[i].y);
    }
    assert_true(model_gradient_floats(&m) * 5 < outputs);

    /* The residual branches' last batch norms (read only by the adds)
     * share a few buffers: a tenth of all outputs, in a third of that. */
    assert_true(shared * 10 > outputs);
    assert_true(m.out_floats * 3 < shared);
    model_free(&m);

    model_config_default(&cfg, "xse_resnext50");
    cfg.sa = 1;
    cfg.width_div = 16;
    assert_int_equal(model_build(&m, &cfg, 2, 32, backend_reference(), &rng), 0);
    float x[2 * 3 * 32 * 32], dz[20];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)rng_normal(&rng);
    for (int i = 0; i < 20; i++)
        dz[i] = (float)rng_normal(&rng);
    model_forward(&m, x, 2, 1);
    model_zero_grad(&m);
    model_backward(&m, dz);
    size_t total = param_count(&m.params), at = 0;
    float *first = malloc(total * sizeof *first);
    assert_non_null(first);
    for (int i = 0; i < m.params.n; i++) {
        memcpy(first + at, m.params.items[i]->grad, m.params.items[i]->numel * sizeof(float));
        at += m.params.items[i]->numel;
    }
    model_zero_grad(&m);
    model_backward(&m, dz);
    at = 0;
    for (int i = 0; i < m.params.n; i++) {
        const Param *p = m.params.items[i];
        for (size_t j = 0; j < p->numel; j++)
            if (p->grad[j] != first[at + j])
                fail_msg("%s[%zu]: %.9g in the second pass, %.9g in the first", p->name, j,
                         p->grad[j], first[at + j]);
        at += p->numel;
    }
    free(first);
    model_free(&m);
}

/* Evaluation runs each batch norm with the activation after it in one
 * pass; the logits are those of the two passes apart, bit for bit, with
 * Mish and with ReLU, once the running statistics have moved. */
static void test_eval_fusion(void **state) {
    (void)state;
    ActKind acts[] = {ACT_MISH, ACT_RELU};
    for (int a = 0; a < 2; a++) {
        ModelConfig cfg;
        model_config_default(&cfg, "xse_resnext50");
        cfg.sa = 1;
        cfg.width_div = 16;
        cfg.act = acts[a];
        Model m;
        Rng rng;
        rng_seed(&rng, 8);
        assert_int_equal(model_build(&m, &cfg, 3, 32, backend_blas(), &rng), 0);
        int fused = 0;
        for (int i = 0; i < m.n_nodes; i++)
            fused += m.nodes[i].fuse_act;
        assert_true(fused >= 30);
        float x[3 * 3 * 32 * 32], logits[2][30];
        for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
            x[i] = (float)rng_normal(&rng);
        model_forward(&m, x, 3, 1);     /* moves the running statistics */
        for (int f = 0; f < 2; f++) {
            m.fuse_eval = f;
            model_forward(&m, x, 3, 0);
            memcpy(logits[f], model_logits(&m)->data, sizeof logits[f]);
        }
        assert_memory_equal(logits[0], logits[1], sizeof logits[0]);
        model_free(&m);
    }
}

/* A model, its buffers and its optimizer through a checkpoint and back:
 * every array bit-exact in a model built from another seed; a checkpoint of
 * another configuration is refused by name. */
static void test_checkpoint_round_trip(void **state) {
    (void)state;
    ModelConfig cfg;
    model_config_default(&cfg, "xse_resnext50");
    cfg.sa = 1;
    cfg.width_div = 16;
    Model a, b;
    Rng rng;
    rng_seed(&rng, 21);
    assert_int_equal(model_build(&a, &cfg, 2, 32, backend_reference(), &rng), 0);
    assert_int_equal(model_build(&b, &cfg, 2, 32, backend_reference(), &rng), 0);

    /* One training step moves parameters, buffers and optimizer state. */
    float x[2 * 3 * 32 * 32], dz[20];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)rng_normal(&rng);
    for (int i = 0; i < 20; i++)
        dz[i] = (float)rng_normal(&rng);
    OptConfig oc;
    OptHyper h;
    assert_int_equal(optim_parse("ranger", &oc, &h), 0);
    h.lr = 1e-2;
    Optimizer *oa = optimizer_new_model(&oc, &a.params, &h);
    Optimizer *ob = optimizer_new_model(&oc, &b.params, &h);
    model_forward(&a, x, 2, 1);
    model_backward(&a, dz);
    optimizer_step(oa);

    char dir_tmpl[] = "/tmp/noisette-ckpt-XXXXXX", path[512], desc[256];
    assert_non_null(mkdtemp(dir_tmpl));
    snprintf(path, sizeof path, "%s/model.ckpt", dir_tmpl);
    model_describe(&a, desc, sizeof desc);
    ParamList va, vb;
    assert_int_equal(model_arrays(&a, &va), 0);
    assert_int_equal(model_arrays(&b, &vb), 0);
    Checkpoint ca = {.arch = desc, .model = &va, .opt = oa, .rng = rng, .epoch = 3,
                     .step = 147};
    assert_int_equal(checkpoint_save(path, &ca), 0);
    Checkpoint cb = {.arch = desc, .model = &vb, .opt = ob};
    assert_int_equal(checkpoint_load(path, &cb), 0);
    assert_int_equal(cb.epoch, 3);
    assert_int_equal(cb.step, 147);
    for (int i = 0; i < va.n; i++)
        assert_memory_equal(va.items[i]->data, vb.items[i]->data,
                            va.items[i]->numel * sizeof(float));
    for (int i = 0; i < optimizer_state_count(oa); i++) {
        const OptState *sa = optimizer_state_at(oa, i), *sb = optimizer_state_at(ob, i);
        size_t bytes = sa->numel * (sa->type == OPT_STATE_F32 ? sizeof(float) : 8);
        assert_memory_equal(sa->data, sb->data, bytes);
    }

    /* Another configuration: refused, naming both. */
    Checkpoint other = {.arch = "xse_resnext50 act=relu", .model = &vb};
    assert_int_not_equal(checkpoint_load(path, &other), 0);
    assert_contains(err_msg(), "act=relu");
    remove(path);
    rmdir(dir_tmpl);
    param_list_view_free(&va);
    param_list_view_free(&vb);
    optimizer_free(oa);
    optimizer_free(ob);
    model_free(&a);
    model_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_counts),
        cmocka_unit_test(test_shapes_and_init),
        cmocka_unit_test(test_whole_model_gradient),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_gradient_buffers),
        cmocka_unit_test(test_eval_fusion),
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_golden_xresnet18),
        cmocka_unit_test(test_golden_xse_resnext50_sa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
