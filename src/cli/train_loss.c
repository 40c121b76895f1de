/* noisette train's loss options; see train_loss.h. */
#include "cli/train_loss.h"

#include "cli/cli.h"
#include "util/err.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The loss's hyperparameter flags, in the order of their codes from
 * OPT_SCE_ALPHA: the LossConfig field each sets (a float, or an int when
 * is_int), its key in the results file, and the losses it applies to. */
typedef struct {
    const char *flag, *key;
    size_t      offset;
    int         is_int;
    LossKind    kind, kind2;
} LossFlag;

static const LossFlag LOSS_FLAGS[] = {
    {"--sce-alpha", "sce_alpha", offsetof(LossConfig, sce_alpha), 0, LOSS_SCE, LOSS_SCE},
    {"--sce-beta", "sce_beta", offsetof(LossConfig, sce_beta), 0, LOSS_SCE, LOSS_SCE},
    {"--sce-a", "sce_a", offsetof(LossConfig, sce_a), 0, LOSS_SCE, LOSS_SCE},
    {"--gce-q", "gce_q", offsetof(LossConfig, gce_q), 0, LOSS_GCE, LOSS_TGCE},
    {"--tgce-k", "tgce_k", offsetof(LossConfig, tgce_k), 0, LOSS_TGCE, LOSS_TGCE},
    {"--taylor-t", "taylor_t", offsetof(LossConfig, taylor_t), 1, LOSS_TAYLOR, LOSS_TAYLOR},
    {"--bt-t1", "bt_t1", offsetof(LossConfig, bt_t1), 0, LOSS_BITEMPERED, LOSS_BITEMPERED},
    {"--bt-t2", "bt_t2", offsetof(LossConfig, bt_t2), 0, LOSS_BITEMPERED, LOSS_BITEMPERED},
    {"--bt-smoothing", "bt_smoothing", offsetof(LossConfig, bt_smoothing), 0, LOSS_BITEMPERED,
     LOSS_BITEMPERED},
    {"--bt-iters", "bt_iters", offsetof(LossConfig, bt_iters), 1, LOSS_BITEMPERED,
     LOSS_BITEMPERED},
    {"--nce-alpha", "nce_alpha", offsetof(LossConfig, nce_alpha), 0, LOSS_NCE_RCE, LOSS_NCE_RCE},
    {"--nce-beta", "nce_beta", offsetof(LossConfig, nce_beta), 0, LOSS_NCE_RCE, LOSS_NCE_RCE},
    {"--nce-a", "nce_a", offsetof(LossConfig, nce_a), 0, LOSS_NCE_RCE, LOSS_NCE_RCE},
    {"--tgce-start", "tgce_start", offsetof(LossConfig, tgce_start), 1, LOSS_TGCE, LOSS_TGCE},
    {"--tgce-every", "tgce_every", offsetof(LossConfig, tgce_every), 1, LOSS_TGCE, LOSS_TGCE},
};
#define N_LOSS_FLAGS ((int)(sizeof LOSS_FLAGS / sizeof LOSS_FLAGS[0]))
_Static_assert(N_LOSS_FLAGS == OPT_TGCE_EVERY - OPT_SCE_ALPHA + 1, "one LOSS_FLAGS entry per code");

void loss_options_help(FILE *out) {
    LossConfig d;
    loss_config_default(LOSS_SCE, &d);
    fprintf(out,
            "      --loss NAME        ls (label_smoothing, eps %g; the default), ce\n"
            "                         (cross_entropy), or a robust loss: sce, gce, tgce, taylor,\n"
            "                         bitempered, nce_rce (docs/methods.md); its flags:\n"
            "      --sce-alpha A --sce-beta B --sce-a A   sce: CE and reverse-CE weights,\n"
            "                         log 0 := A < 0 (%g, %g, %g: Wang et al. 2019)\n"
            "      --gce-q Q          gce, tgce: q in (0, 1] (%g: Zhang & Sabuncu 2018)\n"
            "      --tgce-k K         tgce: threshold on p_y in [0, 1) (%g)\n"
            "      --tgce-start E --tgce-every N   tgce: prune after epoch E, then every N\n"
            "                         (%d, %d: the reference's CIFAR-10 schedule)\n"
            "      --taylor-t T       taylor: order >= 1 (%d, our choice; Feng et al. 2020)\n"
            "      --bt-t1 T1 --bt-t2 T2   bitempered: t1 in [0, 1], t2 in [1, %g] (%g, %g)\n"
            "      --bt-smoothing E   bitempered: 1 - E on the label, E/(K-1) elsewhere (%g)\n"
            "      --bt-iters N       bitempered: normaliser steps, %d (default) to solve it,\n"
            "                         N > 0 the reference's N fixed-point steps (it uses %d)\n"
            "      --nce-alpha A --nce-beta B --nce-a A   nce_rce: NCE and RCE weights,\n"
            "                         log 0 := A (%g, %g, %.4g: Ma et al. 2020)\n",
            d.eps, d.sce_alpha, d.sce_beta, d.sce_a, d.gce_q, d.tgce_k, d.tgce_start, d.tgce_every,
            d.taylor_t, LOSS_BT_T2_MAX, d.bt_t1, d.bt_t2, d.bt_smoothing, d.bt_iters,
            LOSS_BT_REFERENCE_ITERS, d.nce_alpha, d.nce_beta, d.nce_a);
}

/* The name the results file gives a loss: --loss's short ls and ce for the
 * reference's two, loss_name for the rest. */
const char *loss_label(LossKind kind) {
    return kind == LOSS_CROSS_ENTROPY     ? "ce"
           : kind == LOSS_LABEL_SMOOTHING ? "ls"
                                          : loss_name(kind);
}

int loss_option_name(LossConfig *c, const char *cmd, const char *arg) {
    LossKind kind;
    if (strcmp(arg, "ls") == 0)
        kind = LOSS_LABEL_SMOOTHING;
    else if (strcmp(arg, "ce") == 0)
        kind = LOSS_CROSS_ENTROPY;
    else if (loss_parse(arg, &kind) < 0)
        return cli_usage_error(cmd, "--loss: %s (or ls, ce)", err_msg());
    c->kind = kind;
    return 0;
}

/* A hyperparameter flag: its value into its field, and the flag noted for
 * loss_options_check (the --loss it belongs to may come later). */
int loss_option(LossConfig *c, unsigned *given, int opt, const char *arg) {
    const LossFlag *f = &LOSS_FLAGS[opt - OPT_SCE_ALPHA];
    char *field = (char *)c + f->offset;
    *given |= 1u << (opt - OPT_SCE_ALPHA);
    if (f->is_int)
        return cli_parse_int("train", f->flag, arg, 0, (int *)(void *)field);
    char *end;
    double v = strtod(arg, &end);
    if (!*arg || *end)
        return cli_usage_error("train", "%s: \"%s\" is not a number", f->flag, arg);
    *(float *)(void *)field = (float)v;
    return 0;
}

/* After the options: every hyperparameter flag given belongs to the --loss
 * chosen, and the values are in range. 0, or exit code 2 with the message. */
int loss_options_check(const LossConfig *c, unsigned given) {
    for (int i = 0; i < N_LOSS_FLAGS; i++) {
        const LossFlag *f = &LOSS_FLAGS[i];
        if ((given >> i & 1u) && c->kind != f->kind && c->kind != f->kind2)
            return cli_usage_error("train", "%s applies to --loss %s%s%s, not --loss %s", f->flag,
                                   loss_name(f->kind), f->kind2 != f->kind ? " or " : "",
                                   f->kind2 != f->kind ? loss_name(f->kind2) : "",
                                   loss_label(c->kind));
    }
    if (loss_config_check(c) < 0)
        return cli_usage_error("train", "%s", err_msg());
    return 0;
}

/* The chosen loss's hyperparameters for the results file, keyed as LossConfig. */
json_t *loss_params_json(const LossConfig *c) {
    json_t *obj = json_object();
    char num[32];
    if (c->kind == LOSS_LABEL_SMOOTHING) {
        snprintf(num, sizeof num, "%.7g", c->eps);
        json_object_set_new(obj, "eps", json_real(strtod(num, NULL)));
    }
    for (int i = 0; i < N_LOSS_FLAGS; i++) {
        const LossFlag *f = &LOSS_FLAGS[i];
        const char *field = (const char *)c + f->offset;
        if (c->kind != f->kind && c->kind != f->kind2)
            continue;
        if (f->is_int) {
            json_object_set_new(obj, f->key, json_integer(*(const int *)(const void *)field));
            continue;
        }
        /* float to the shortest decimal that reads back as it: 0.1, not 0.100000001. */
        snprintf(num, sizeof num, "%.7g", *(const float *)(const void *)field);
        json_object_set_new(obj, f->key, json_real(strtod(num, NULL)));
    }
    return obj;
}

