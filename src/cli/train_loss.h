/* noisette train's options for the loss: --loss NAME and one flag per
 * hyperparameter of the robust losses (train/loss.h), their help, checks
 * and record in the results file. */
#ifndef NOISETTE_CLI_TRAIN_LOSS_H
#define NOISETTE_CLI_TRAIN_LOSS_H

#include "train/loss.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

/* getopt_long codes, above cmd_train.c's own and below train_methods.h's. */
enum {
    OPT_SCE_ALPHA = 384, OPT_SCE_BETA, OPT_SCE_A, OPT_GCE_Q, OPT_TGCE_K, OPT_TAYLOR_T, OPT_BT_T1,
    OPT_BT_T2, OPT_BT_SMOOTHING, OPT_BT_ITERS, OPT_NCE_ALPHA, OPT_NCE_BETA, OPT_NCE_A,
    OPT_TGCE_START, OPT_TGCE_EVERY
};

#define TRAIN_LOSS_LONGOPTS \
    {"sce-alpha", required_argument, NULL, OPT_SCE_ALPHA}, \
    {"sce-beta", required_argument, NULL, OPT_SCE_BETA}, \
    {"sce-a", required_argument, NULL, OPT_SCE_A}, \
    {"gce-q", required_argument, NULL, OPT_GCE_Q}, \
    {"tgce-k", required_argument, NULL, OPT_TGCE_K}, \
    {"taylor-t", required_argument, NULL, OPT_TAYLOR_T}, \
    {"bt-t1", required_argument, NULL, OPT_BT_T1}, \
    {"bt-t2", required_argument, NULL, OPT_BT_T2}, \
    {"bt-smoothing", required_argument, NULL, OPT_BT_SMOOTHING}, \
    {"bt-iters", required_argument, NULL, OPT_BT_ITERS}, \
    {"nce-alpha", required_argument, NULL, OPT_NCE_ALPHA}, \
    {"nce-beta", required_argument, NULL, OPT_NCE_BETA}, \
    {"nce-a", required_argument, NULL, OPT_NCE_A}, \
    {"tgce-start", required_argument, NULL, OPT_TGCE_START}, \
    {"tgce-every", required_argument, NULL, OPT_TGCE_EVERY}

/* --loss NAME for command cmd: ls, ce, or a name loss_parse knows. 0 or a usage error's
 * exit code (message printed). */
int loss_option_name(LossConfig *c, const char *cmd, const char *arg);

/* A hyperparameter flag (code in OPT_SCE_ALPHA..OPT_TGCE_EVERY) with its
 * argument: the value into its field of c, the flag noted in *given. */
int loss_option(LossConfig *c, unsigned *given, int code, const char *arg);

/* After all options: each flag in given belongs to c's loss, and the
 * values are in range. 0 or exit code 2. */
int loss_options_check(const LossConfig *c, unsigned given);

/* The help lines for --loss and its flags. */
void loss_options_help(FILE *out);

/* The name the results file gives the loss (ls, ce, or loss_name's). */
const char *loss_label(LossKind kind);

/* The loss's hyperparameters for the results file. */
json_t *loss_params_json(const LossConfig *c);

#endif
