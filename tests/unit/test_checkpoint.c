/* Checkpoints: a bit-exact round trip of model, optimizer, RNG and position
 * (and identical training after resuming); mismatches (architecture,
 * version, shape, missing or extra arrays, another optimizer); a file cut
 * at every length and with every byte flipped; random mutations with a
 * repaired checksum, which exercise the parser (a loader over arbitrary
 * bytes must only return errors, and a failed load changes nothing); a
 * missing file; the header peek; atomic replacement. */
#include "test_util.h"

#include "nn/tensor.h"
#include "train/checkpoint.h"
#include "train/optim.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/rng.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ARCH "xresnet50 c_out=10 sa=1 pool=MaxPool"
#define FILE_MAX ((size_t)16 << 20)
#define FUZZ_ROUNDS 3000

/* A small model and its optimizer. */
typedef struct {
    ParamList  pl;
    Optimizer *opt;
} Model;

/* Variants change one thing against the default model. */
enum {
    MODEL_DEFAULT,
    MODEL_WIDER_FC,         /* fc.weight 10 x 5 instead of 10 x 4 */
    MODEL_EXTRA_PARAM,      /* one more parameter */
    MODEL_NO_FC_BIAS,       /* one parameter fewer */
    MODEL_MEAN_IS_PARAM     /* bn.running_mean with a gradient */
};

static void add(ParamList *pl, const char *name, int grad, int no_decay, int ndim, int d0,
                int d1, int d2, int d3) {
    int shape[4] = {d0, d1, d2, d3};
    if (!param_add(pl, name, grad, no_decay, ndim, shape))
        fail_msg("param_add: %s", err_msg());
}

/* Parameters and buffers interleaved as a model builds them, filled from
 * seed (0: left zero); an optimizer of kind opt_name ("" for none). */
static Model make_model(int variant, uint64_t seed, const char *opt_name) {
    Model m = {0};
    add(&m.pl, "conv.weight", 1, 0, 4, 4, 3, 3, 3);
    add(&m.pl, "bn.weight", 1, 1, 1, 4, 0, 0, 0);
    add(&m.pl, "bn.bias", 1, 1, 1, 4, 0, 0, 0);
    add(&m.pl, "bn.running_mean", variant == MODEL_MEAN_IS_PARAM, 0, 1, 4, 0, 0, 0);
    add(&m.pl, "bn.running_var", 0, 0, 1, 4, 0, 0, 0);
    add(&m.pl, "fc.weight", 1, 0, 2, 10, variant == MODEL_WIDER_FC ? 5 : 4, 0, 0);
    if (variant != MODEL_NO_FC_BIAS)
        add(&m.pl, "fc.bias", 1, 1, 1, 10, 0, 0, 0);
    if (variant == MODEL_EXTRA_PARAM)
        add(&m.pl, "head.scale", 1, 0, 1, 1, 0, 0, 0);

    if (seed) {
        Rng r;
        rng_seed(&r, seed);
        for (int i = 0; i < m.pl.n; i++)
            for (size_t j = 0; j < m.pl.items[i]->numel; j++)
                m.pl.items[i]->data[j] = (float)(rng_uniform(&r) * 2.0 - 1.0);
    }
    if (opt_name[0]) {
        OptConfig cfg;
        OptHyper h;
        assert_int_equal(optim_parse(opt_name, &cfg, &h), 0);
        h.lr = 1e-2;
        m.opt = optimizer_new_model(&cfg, &m.pl, &h);
        if (!m.opt)
            fail_msg("optimizer: %s", err_msg());
    }
    return m;
}

static void free_model(Model *m) {
    optimizer_free(m->opt);
    param_list_free(&m->pl);
}

/* n optimizer steps with gradients drawn from seed. */
static void train(Model *m, int n, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < m->pl.n; i++)
            if (m->pl.items[i]->grad)
                for (size_t j = 0; j < m->pl.items[i]->numel; j++)
                    m->pl.items[i]->grad[j] = (float)(rng_uniform(&r) - 0.5);
        optimizer_step(m->opt);
    }
}

/* Every byte the checkpoint covers: arrays, then the optimizer's state. */
static size_t snapshot(const Model *m, uint8_t *out) {
    size_t n = 0;
    for (int i = 0; i < m->pl.n; i++) {
        size_t bytes = m->pl.items[i]->numel * sizeof(float);
        if (out)
            memcpy(out + n, m->pl.items[i]->data, bytes);
        n += bytes;
    }
    for (int i = 0; m->opt && i < optimizer_state_count(m->opt); i++) {
        const OptState *st = optimizer_state_at(m->opt, i);
        size_t bytes = st->numel * (st->type == OPT_STATE_F32 ? sizeof(float) : 8);
        if (out)
            memcpy(out + n, st->data, bytes);
        n += bytes;
    }
    return n;
}

static void assert_same_state(const Model *a, const Model *b) {
    size_t n = snapshot(a, NULL);
    assert_int_equal(n, snapshot(b, NULL));
    uint8_t *sa = malloc(n), *sb = malloc(n);
    snapshot(a, sa);
    snapshot(b, sb);
    assert_memory_equal(sa, sb, n);
    free(sa);
    free(sb);
}

static Checkpoint ck_of(Model *m, const char *arch) {
    Checkpoint ck = {.arch = arch, .model = &m->pl, .opt = m->opt};
    rng_seed(&ck.rng, 0);
    return ck;
}

static void save(Model *m, const char *path, uint64_t epoch, uint64_t step) {
    Checkpoint ck = ck_of(m, ARCH);
    rng_seed(&ck.rng, 42);
    for (int i = 0; i < 7; i++)
        rng_next_u64(&ck.rng);
    ck.epoch = epoch, ck.step = step;
    if (checkpoint_save(path, &ck) < 0)
        fail_msg("checkpoint_save: %s", err_msg());
}

static char *read_all(const char *path, size_t *len) {
    char *data;
    if (file_read_all(path, FILE_MAX, &data, len) < 0)
        fail_msg("%s", err_msg());
    return data;
}

/* Rewrites the last 4 bytes as the CRC-32 of the others. */
static void fix_crc(uint8_t *data, size_t len) {
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)(len - 4));
    for (int i = 0; i < 4; i++)
        data[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

/* Loads path into a zeroed model with a fresh optimizer of the same kind. */
static int load_into(Model *m, const char *path, const char *arch) {
    Checkpoint ck = ck_of(m, arch);
    return checkpoint_load(path, &ck);
}

/* ---- Round trip ---- */

static void test_round_trip_bit_exact(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    Model a = make_model(MODEL_DEFAULT, 7, "ranger");
    train(&a, 4, 100);
    save(&a, path, 3, 4);

    /* Everything comes back bit for bit. */
    Model b = make_model(MODEL_DEFAULT, 0, "ranger");
    Checkpoint ck = ck_of(&b, ARCH);
    assert_int_equal(checkpoint_load(path, &ck), 0);
    assert_same_state(&a, &b);
    assert_int_equal(ck.epoch, 3);
    assert_int_equal(ck.step, 4);
    Rng want;
    rng_seed(&want, 42);
    for (int i = 0; i < 7; i++)
        rng_next_u64(&want);
    assert_memory_equal(ck.rng.s, want.s, sizeof want.s);
    assert_int_equal(b.opt->lookahead_count, 4);
    assert_int_equal(b.opt->slots[0].step, 4);

    /* Training on from both gives the same bits, across the lookahead sync
     * at step 6. */
    train(&a, 5, 200);
    train(&b, 5, 200);
    assert_same_state(&a, &b);
    free_model(&a);
    free_model(&b);
    test_rmtree(dir);
    free(dir);
}

/* Without an optimizer: save none; a load that passes none skips the
 * file's optimizer records; one that wants them and finds none fails. */
static void test_model_only(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), with_opt[4096], no_opt[4096];
    snprintf(with_opt, sizeof with_opt, "%s/a.ckpt", dir);
    snprintf(no_opt, sizeof no_opt, "%s/b.ckpt", dir);
    Model a = make_model(MODEL_DEFAULT, 7, "adam");
    train(&a, 2, 100);
    save(&a, with_opt, 1, 2);
    Optimizer *opt = a.opt;
    a.opt = NULL;
    save(&a, no_opt, 1, 2);
    a.opt = opt;

    Model b = make_model(MODEL_DEFAULT, 0, "");
    assert_int_equal(load_into(&b, with_opt, ARCH), 0);
    b.opt = NULL;
    Model a_model = {a.pl, NULL};
    assert_same_state(&a_model, &b);
    free_model(&b);

    Model c = make_model(MODEL_DEFAULT, 0, "adam");
    assert_int_equal(load_into(&c, no_opt, ARCH), ERR_INVALID);
    assert_contains(err_msg(), "optimizer state \"grad_avg:conv.weight\" is missing");
    free_model(&c);
    free_model(&a);
    test_rmtree(dir);
    free(dir);
}

/* ---- Mismatches ---- */

/* Loads path into a model of variant with optimizer opt_name; expects code
 * and a message containing want, and no change to the model. */
static void expect_load_error(const char *path, int variant, const char *opt_name,
                              const char *arch, int code, const char *want) {
    Model m = make_model(variant, 99, opt_name);
    size_t n = snapshot(&m, NULL);
    uint8_t *before = malloc(n), *after = malloc(n);
    snapshot(&m, before);
    assert_int_equal(load_into(&m, path, arch), code);
    assert_contains(err_msg(), path);
    assert_contains(err_msg(), want);
    snapshot(&m, after);
    assert_memory_equal(before, after, n);
    free(before);
    free(after);
    free_model(&m);
}

/* model_only (evaluation): the file's arrays the model lacks are skipped,
 * but every array of the model must still be in the file. */
static void test_model_only_skips_extra_arrays(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096], small[4096];
    snprintf(path, sizeof path, "%s/extra.ckpt", dir);
    snprintf(small, sizeof small, "%s/small.ckpt", dir);
    Model a = make_model(MODEL_EXTRA_PARAM, 7, "adam");
    save(&a, path, 1, 2);

    Model b = make_model(MODEL_DEFAULT, 0, "");
    Checkpoint ck = ck_of(&b, ARCH);
    assert_int_not_equal(checkpoint_load(path, &ck), 0);
    assert_contains(err_msg(), "head.scale");
    ck.model_only = 1;
    assert_int_equal(checkpoint_load(path, &ck), 0);
    for (int i = 0; i < b.pl.n; i++)
        assert_memory_equal(b.pl.items[i]->data, param_find(&a.pl, b.pl.items[i]->name)->data,
                            b.pl.items[i]->numel * sizeof(float));

    save(&b, small, 1, 2);
    Model c = make_model(MODEL_EXTRA_PARAM, 0, "");
    Checkpoint cc = ck_of(&c, ARCH);
    cc.model_only = 1;
    assert_int_not_equal(checkpoint_load(small, &cc), 0);
    assert_contains(err_msg(), "missing");
    free_model(&a);
    free_model(&b);
    free_model(&c);
    test_rmtree(dir);
    free(dir);
}

static void test_mismatches(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096], adam_path[4096];
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    snprintf(adam_path, sizeof adam_path, "%s/adam.ckpt", dir);
    Model a = make_model(MODEL_DEFAULT, 7, "ranger");
    train(&a, 2, 100);
    save(&a, path, 1, 2);
    Model ad = make_model(MODEL_DEFAULT, 7, "adam");
    save(&ad, adam_path, 1, 2);

    expect_load_error(path, MODEL_DEFAULT, "ranger", "xresnet18 c_out=10", ERR_INVALID,
                      "architecture \"" ARCH "\" in the file, but the model is "
                      "\"xresnet18 c_out=10\"");
    expect_load_error(path, MODEL_WIDER_FC, "ranger", ARCH, ERR_INVALID,
                      "(parameter \"fc.weight\"): shape [10, 4] in the file, but [10, 5] in "
                      "the model");
    expect_load_error(path, MODEL_EXTRA_PARAM, "ranger", ARCH, ERR_INVALID,
                      "the model's parameter \"head.scale\" is missing from the file");
    expect_load_error(path, MODEL_NO_FC_BIAS, "ranger", ARCH, ERR_INVALID,
                      "(parameter \"fc.bias\"): not an array of this model");
    expect_load_error(path, MODEL_MEAN_IS_PARAM, "", ARCH, ERR_INVALID,
                      "(buffer \"bn.running_mean\"): a parameter in the model");
    expect_load_error(path, MODEL_DEFAULT, "adam", ARCH, ERR_INVALID,
                      "(optimizer array \"slow:conv.weight\"): not a state of this optimizer");
    expect_load_error(adam_path, MODEL_DEFAULT, "ranger", ARCH, ERR_INVALID,
                      "optimizer state \"slow:conv.weight\" is missing from the file");

    /* Another format version, even with a valid checksum. */
    size_t len;
    uint8_t *data = (uint8_t *)read_all(path, &len);
    data[CKPT_MAGIC_LEN] = 2;
    fix_crc(data, len);
    test_write(path, data, len);
    expect_load_error(path, MODEL_DEFAULT, "ranger", ARCH, ERR_INVALID,
                      "checkpoint format version 2, but this noisette reads version 1 only");

    /* Bytes after the last record, checksum repaired. */
    data[CKPT_MAGIC_LEN] = 1;
    data = realloc(data, len + 8);
    memmove(data + len + 4, data + len - 4, 4);
    memset(data + len - 4, 0xab, 8);
    fix_crc(data, len + 8);
    test_write(path, data, len + 8);
    expect_load_error(path, MODEL_DEFAULT, "ranger", ARCH, ERR_PARSE,
                      "8 unexpected bytes after the last record");

    /* Not a checkpoint, and no file at all. */
    test_write_str(path, "path,noisy_labels_0\n");
    expect_load_error(path, MODEL_DEFAULT, "ranger", ARCH, ERR_PARSE,
                      "not a noisette checkpoint");
    snprintf(path, sizeof path, "%s/missing.ckpt", dir);
    expect_load_error(path, MODEL_DEFAULT, "ranger", ARCH, ERR_IO, "cannot open");
    free(data);
    free_model(&a);
    free_model(&ad);
    test_rmtree(dir);
    free(dir);
}

/* ---- Damaged files ---- */

/* A copy of the file cut at every length, and with each byte flipped in
 * turn: every load fails with the file's name and leaves the model as it
 * was. */
static void test_truncated_and_flipped(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096], bad[4096];
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    Model a = make_model(MODEL_DEFAULT, 7, "ranger");
    train(&a, 2, 100);
    save(&a, path, 1, 2);
    size_t len;
    uint8_t *data = (uint8_t *)read_all(path, &len);

    Model m = make_model(MODEL_DEFAULT, 5, "ranger");
    size_t n = snapshot(&m, NULL);
    uint8_t *before = malloc(n), *after = malloc(n);
    snapshot(&m, before);
    for (size_t cut = 0; cut < len; cut++) {
        test_write(bad, data, cut);
        int rc = load_into(&m, bad, ARCH);
        if (rc != ERR_PARSE)
            fail_msg("cut at %zu of %zu: returned %d: %s", cut, len, rc, err_msg());
        assert_contains(err_msg(), bad);
        assert_contains(err_msg(), cut == 0 ? "empty file" : "truncated");
    }
    for (size_t i = 0; i < len; i++) {
        data[i] ^= 0x5a;
        test_write(bad, data, len);
        int rc = load_into(&m, bad, ARCH);
        data[i] ^= 0x5a;
        if (rc >= 0)
            fail_msg("byte %zu of %zu flipped: the load succeeded", i, len);
        assert_contains(err_msg(), bad);
    }
    snapshot(&m, after);
    assert_memory_equal(before, after, n);
    print_message("%zu-byte checkpoint: %zu cuts and %zu flipped bytes all refused\n", len, len,
                  len);

    /* A flipped byte in the data of the first record (from byte 143) is a
     * checksum mismatch; one in a length field is also malformed. */
    data[200] ^= 1;
    test_write(bad, data, len);
    assert_int_equal(load_into(&m, bad, ARCH), ERR_PARSE);
    assert_contains(err_msg(), "checksum mismatch (stored ");
    assert_contains(err_msg(), "): the file is corrupt");
    data[200] ^= 1;
    data[len - 20] ^= 1;                    /* the rank of the last record */
    test_write(bad, data, len);
    assert_int_equal(load_into(&m, bad, ARCH), ERR_PARSE);
    assert_contains(err_msg(), "(optimizer counter \"lookahead.count\"): rank not in 1..4; "
                               "checksum mismatch too");
    free(before);
    free(after);
    free(data);
    free_model(&a);
    free_model(&m);
    test_rmtree(dir);
    free(dir);
}

/* Random byte changes with the checksum repaired reach the parser itself:
 * it may accept (a changed data byte) or refuse, never crash, and a
 * refusal changes nothing. Runs over fmemopen, the fuzzing entry point. */
static void test_mutations_with_valid_checksum(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    Model a = make_model(MODEL_DEFAULT, 7, "ranger");
    train(&a, 2, 100);
    save(&a, path, 1, 2);
    size_t len;
    uint8_t *orig = (uint8_t *)read_all(path, &len), *data = malloc(len);

    Model m = make_model(MODEL_DEFAULT, 5, "ranger");
    size_t n = snapshot(&m, NULL);
    uint8_t *before = malloc(n), *after = malloc(n);
    Rng r;
    rng_seed(&r, 2024);
    int refused = 0;
    for (int round = 0; round < FUZZ_ROUNDS; round++) {
        /* Up to 3 random bytes changed, before the checksum. */
        memcpy(data, orig, len);
        int k = 1 + (int)rng_below(&r, 3);
        for (int j = 0; j < k; j++) {
            size_t at = (size_t)rng_below(&r, len - 4);
            data[at] = rng_below(&r, 4) == 0 ? 0xff : (uint8_t)rng_next_u64(&r);
        }
        fix_crc(data, len);

        snapshot(&m, before);
        FILE *fp = fmemopen(data, len, "rb");
        assert_non_null(fp);
        Checkpoint ck = ck_of(&m, ARCH);
        int rc = checkpoint_read(fp, "mutated", &ck);
        fclose(fp);
        if (rc < 0) {
            refused++;
            assert_contains(err_msg(), "mutated");
            snapshot(&m, after);
            assert_memory_equal(before, after, n);
        }
    }
    print_message("%d mutated checkpoints: %d refused, %d accepted\n", FUZZ_ROUNDS, refused,
                  FUZZ_ROUNDS - refused);
    assert_true(refused > FUZZ_ROUNDS / 20);
    free(before);
    free(after);
    free(orig);
    free(data);
    free_model(&a);
    free_model(&m);
    test_rmtree(dir);
    free(dir);
}

/* ---- Header peek and atomic writes ---- */

static void test_peek(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096], arch[CKPT_ARCH_MAX];
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    Model a = make_model(MODEL_DEFAULT, 7, "sgd");
    save(&a, path, 12, 1764);
    uint64_t epoch, step;
    assert_int_equal(checkpoint_peek(path, arch, sizeof arch, &epoch, &step), 0);
    assert_string_equal(arch, ARCH);
    assert_int_equal(epoch, 12);
    assert_int_equal(step, 1764);
    assert_int_equal(checkpoint_peek(path, arch, 8, NULL, NULL), ERR_INVALID);
    snprintf(path, sizeof path, "%s/none.ckpt", dir);
    assert_int_equal(checkpoint_peek(path, arch, sizeof arch, NULL, NULL), ERR_IO);
    free_model(&a);
    test_rmtree(dir);
    free(dir);
}

/* A save replaces the file in one rename and leaves no temporary file; a
 * save that cannot write fails and creates nothing. */
static void test_atomic_replace(void **state) {
    (void)state;
    char *dir = test_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    Model a = make_model(MODEL_DEFAULT, 7, "radam");
    save(&a, path, 1, 10);
    train(&a, 1, 5);
    save(&a, path, 2, 11);
    assert_int_equal(test_count_entries(dir), 1);
    Model b = make_model(MODEL_DEFAULT, 0, "radam");
    Checkpoint ck = ck_of(&b, ARCH);
    assert_int_equal(checkpoint_load(path, &ck), 0);
    assert_int_equal(ck.epoch, 2);
    assert_same_state(&a, &b);

    snprintf(path, sizeof path, "%s/no/such/dir/run.ckpt", dir);
    Checkpoint out = ck_of(&a, ARCH);
    assert_int_equal(checkpoint_save(path, &out), ERR_IO);
    assert_contains(err_msg(), path);
    assert_int_equal(test_count_entries(dir), 1);
    free_model(&a);
    free_model(&b);
    test_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_bit_exact),
        cmocka_unit_test(test_model_only),
        cmocka_unit_test(test_model_only_skips_extra_arrays),
        cmocka_unit_test(test_mismatches),
        cmocka_unit_test(test_truncated_and_flipped),
        cmocka_unit_test(test_mutations_with_valid_checksum),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_atomic_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
