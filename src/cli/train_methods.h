/* noisette train's options for the noise-robust methods of train/methods.h
 * (MixUp, SAM/ASAM, ELR, co-teaching): their flags, checks, help text and
 * record in the results file. */
#ifndef NOISETTE_CLI_TRAIN_METHODS_H
#define NOISETTE_CLI_TRAIN_METHODS_H

#include "train/loop.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

/* getopt_long codes, above cmd_train.c's own. */
enum {
    OPT_MIXUP = 512, OPT_SAM, OPT_ASAM, OPT_SAM_NO_WD, OPT_ELR, OPT_ELR_BETA, OPT_COTEACH,
    OPT_FORGET_RATE, OPT_FORGET_EPOCHS, OPT_FORGET_EXP
};

#define TRAIN_METHOD_LONGOPTS                                                   \
    {"mixup", required_argument, NULL, OPT_MIXUP},                              \
    {"sam", required_argument, NULL, OPT_SAM},                                  \
    {"asam", no_argument, NULL, OPT_ASAM},                                      \
    {"sam-no-wd", no_argument, NULL, OPT_SAM_NO_WD},                            \
    {"elr", required_argument, NULL, OPT_ELR},                                  \
    {"elr-beta", required_argument, NULL, OPT_ELR_BETA},                        \
    {"co-teaching", no_argument, NULL, OPT_COTEACH},                            \
    {"forget-rate", required_argument, NULL, OPT_FORGET_RATE},                  \
    {"forget-epochs", required_argument, NULL, OPT_FORGET_EPOCHS},              \
    {"forget-exponent", required_argument, NULL, OPT_FORGET_EXP}

/* Everything off; ELR's beta and co-teaching's schedule at their defaults
 * (the forget rate, -1 here, becomes the noise level in methods_finish). */
void methods_defaults(MethodConfig *m);

/* Handles one of the codes above with its argument: 0, or a usage error's
 * exit code (message printed). */
int methods_option(MethodConfig *m, int code, const char *arg);

/* Checks the combination and fills what depends on the run (the forget
 * rate from the noise level pct). 0 or a usage error's exit code. */
int methods_finish(MethodConfig *m, double pct);

/* The help lines for these options. */
void methods_help(FILE *out);

/* The methods in use with their settings, for the results file. */
json_t *methods_json(const MethodConfig *m);

#endif
