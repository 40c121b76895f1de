/* noisette train's method options; see train_methods.h. */
#include "cli/train_methods.h"

#include "cli/cli.h"
#include "train/methods.h"

#include <stdlib.h>

#define SAM_RHO_DEFAULT     0.05    /* Foret et al.'s "solid default" (spec §10.3) */
#define ASAM_RHO_DEFAULT    2.0     /* about 10x SAM's, as the ASAM authors suggest */
#define FORGET_EPOCHS       10      /* co-teaching's T_k (spec §8.2) */

void methods_defaults(MethodConfig *m) {
    *m = (MethodConfig){.elr_beta = ELR_BETA_DEFAULT, .forget_rate = -1,
                        .forget_epochs = FORGET_EPOCHS, .forget_exponent = 1.0};
}

static int number(const char *opt, const char *arg, double lo, double hi, double *v) {
    return cli_parse_double("train", opt, arg, lo, hi, v);
}

int methods_option(MethodConfig *m, int code, const char *arg) {
    double v = 0;
    int rc = 0;
    switch (code) {
    case OPT_MIXUP:
        if (!(rc = number("--mixup", arg, 0, 100, &v)))
            m->mixup = v;
        return rc;
    case OPT_SAM:
        if (!(rc = number("--sam", arg, 1e-6, 100, &v)))
            m->sam_rho = v;
        return rc;
    case OPT_ASAM: m->asam = 1; return 0;
    case OPT_SAM_NO_WD: m->sam_no_wd = 1; return 0;
    case OPT_ELR:
        if (!(rc = number("--elr", arg, 1e-6, 1000, &v)))
            m->elr_lambda = v;
        return rc;
    case OPT_ELR_BETA:
        if (!(rc = number("--elr-beta", arg, 0, 0.9999, &v)))
            m->elr_beta = v;
        return rc;
    case OPT_COTEACH: m->co_teaching = 1; return 0;
    case OPT_FORGET_RATE: return number("--forget-rate", arg, 0, 0.99, &m->forget_rate);
    case OPT_FORGET_EPOCHS:
        return cli_parse_int("train", "--forget-epochs", arg, 1, &m->forget_epochs);
    case OPT_FORGET_EXP: return number("--forget-exponent", arg, 0.01, 100, &m->forget_exponent);
    default: return cli_try_help("train");
    }
}

int methods_finish(MethodConfig *m, double pct) {
    if (m->asam && m->sam_rho == 0)
        m->sam_rho = ASAM_RHO_DEFAULT;
    if (m->sam_no_wd && m->sam_rho == 0)
        return cli_usage_error("train", "--sam-no-wd needs --sam RHO or --asam");
    if (m->co_teaching) {
        /* The two networks exchange small-loss samples; the other methods
         * change each network's own step, which the paper never combined. */
        if (m->mixup > 0 || m->sam_rho > 0 || m->elr_lambda > 0)
            return cli_usage_error("train", "--co-teaching does not combine with --mixup, "
                                   "--sam/--asam or --elr");
        if (m->forget_rate < 0)
            m->forget_rate = pct / 100.0;
    } else if (m->forget_rate >= 0 || m->forget_epochs != FORGET_EPOCHS ||
               m->forget_exponent != 1.0) {
        return cli_usage_error("train", "--forget-rate, --forget-epochs and --forget-exponent "
                               "need --co-teaching");
    }
    return 0;
}

void methods_help(FILE *out) {
    fprintf(out,
            "Noise-robust methods (docs/methods.md):\n"
            "      --mixup ALPHA      MixUp as fastai does it, lam ~ Beta(ALPHA, ALPHA)\n"
            "                         per image (reference flag; default 0: off)\n"
            "      --sam RHO          sharpness-aware minimisation, radius RHO (0.05 is\n"
            "                         the paper's default); two passes per step\n"
            "      --asam             adaptive SAM (RHO 2.0 unless --sam gives one)\n"
            "      --sam-no-wd        leave weight decay out of SAM's direction\n"
            "      --elr LAMBDA       early-learning regularisation (the paper used 3)\n"
            "      --elr-beta B       ELR's target momentum (default 0.7)\n"
            "      --co-teaching      train two networks on each other's small-loss samples\n"
            "      --forget-rate TAU  share of each batch dropped (default: the noise level)\n"
            "      --forget-epochs N  epochs to reach TAU (default 10)\n"
            "      --forget-exponent C   TAU^C at the end of the ramp (default 1)\n");
}

json_t *methods_json(const MethodConfig *m) {
    json_t *o = json_object();
    if (m->mixup > 0)
        json_object_set_new(o, "mixup", json_real(m->mixup));
    if (m->sam_rho > 0)
        json_object_set_new(o, m->asam ? "asam" : "sam",
                            json_pack("{s:f, s:b}", "rho", m->sam_rho, "wd", !m->sam_no_wd));
    if (m->elr_lambda > 0)
        json_object_set_new(o, "elr", json_pack("{s:f, s:f}", "lambda", m->elr_lambda,
                                                "beta", m->elr_beta));
    if (m->co_teaching)
        json_object_set_new(o, "co_teaching",
                            json_pack("{s:f, s:i, s:f}", "forget_rate", m->forget_rate,
                                      "forget_epochs", m->forget_epochs, "forget_exponent",
                                      m->forget_exponent));
    return o;
}
