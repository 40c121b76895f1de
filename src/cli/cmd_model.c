/* noisette model: describe an architecture (layers, parameters, FLOPs). */
#include "cli/cli.h"

#include "nn/model.h"
#include "util/err.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_DEFAULT_SIZE 128

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette model [OPTIONS] ARCH\n"
            "\n"
            "Build ARCH as training would and print its layers (name, kind, output\n"
            "shape, parameters, forward MFLOPs per image), the parameter count and the\n"
            "forward FLOPs per image (2 x multiply-adds of convolutions, linear and\n"
            "attention products) at the given size.\n"
            "\n"
            "Architectures:");
    for (const char *const *a = model_arch_names(); *a; a++)
        fprintf(out, "%s %s", a == model_arch_names() ? "" : ",", *a);
    fprintf(out,
            "\n\nOptions:\n"
            "      --size S           image size (default %d)\n"
            "      --act mish|relu    activation (default mish, the reference's)\n"
            "      --pool avgpool|maxpool  pooling of the downsampling shortcut\n"
            "                         (default avgpool)\n"
            "      --sa               SimpleSelfAttention in stage 0's last block\n"
            "      --sym              symmetric attention weight\n"
            "      --c-in N           input channels (default 3; 1 for Fashion-MNIST)\n"
            "      --n-out N          outputs (default 10)\n"
            "  -q, --quiet            print only the totals line\n"
            "  -h, --help             show this help\n"
            "\n"
            "Exit codes: 0 done, 1 failed, 2 bad usage.\n",
            MODEL_DEFAULT_SIZE);
}

int cmd_model(int argc, char **argv) {
    enum { OPT_SIZE = 256, OPT_ACT, OPT_POOL, OPT_SA, OPT_SYM, OPT_CIN, OPT_NOUT };
    static const struct option longopts[] = {
        {"size", required_argument, NULL, OPT_SIZE},
        {"act", required_argument, NULL, OPT_ACT},
        {"pool", required_argument, NULL, OPT_POOL},
        {"sa", no_argument, NULL, OPT_SA},
        {"sym", no_argument, NULL, OPT_SYM},
        {"c-in", required_argument, NULL, OPT_CIN},
        {"n-out", required_argument, NULL, OPT_NOUT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ModelConfig cfg;
    model_config_default(&cfg, "");
    int size = MODEL_DEFAULT_SIZE, quiet = 0, opt, bad = 0;

    optind = 1;
    argv[0] = "noisette model";
    while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1 && !bad) {
        switch (opt) {
        case OPT_SIZE: bad = cli_parse_int("model", "--size", optarg, 1, &size); break;
        case OPT_ACT: bad = cli_parse_act("model", optarg, &cfg.act); break;
        case OPT_POOL: bad = cli_parse_pool("model", optarg, &cfg.pool); break;
        case OPT_SA: cfg.sa = 1; break;
        case OPT_SYM: cfg.sym = 1; break;
        case OPT_CIN: bad = cli_parse_int("model", "--c-in", optarg, 1, &cfg.c_in); break;
        case OPT_NOUT: bad = cli_parse_int("model", "--n-out", optarg, 1, &cfg.n_out); break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("model");
        }
    }
    if (bad)
        return bad;
    if (optind != argc - 1)
        return cli_usage_error("model", optind >= argc ? "missing ARCH" : "one ARCH at a time");
    snprintf(cfg.arch, sizeof cfg.arch, "%s", argv[optind]);

    /* One image is enough to know every shape. */
    Model m;
    Rng rng;
    rng_seed(&rng, 0);
    int rc = model_build(&m, &cfg, 1, size, backend_reference(), &rng);
    if (rc < 0)
        return cli_report(rc);
    if (quiet)
        printf("%s: %zu parameters, %.3f GFLOPs per %dx%d image\n", cfg.arch,
               param_count(&m.params), model_flops(&m) / 1e9, size, size);
    else
        model_print(&m, stdout);
    model_free(&m);
    return EXIT_CODE_OK;
}
