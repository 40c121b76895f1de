/* noisette plot: training curves of results files as a PNG. */
#include "cli/cli.h"

#include "report/plot.h"
#include "report/results.h"
#include "util/err.h"
#include "util/log.h"

#include <getopt.h>
#include <stdio.h>

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette plot [OPTIONS] RESULTS... -o FILE.png\n"
            "\n"
            "Training curves of the runs in results files (the JSON lines of noisette\n"
            "train) as a PNG: loss per epoch (train solid, valid dashed) and validation\n"
            "accuracy, runs overlaid, one colour per configuration (runs that differ\n"
            "only by seed share it), a legend naming each. The colours are the\n"
            "Okabe-Ito palette, readable with colour-blindness.\n"
            "\n"
            "Lines that cannot be used are skipped with a FILE:LINE note, as in\n"
            "noisette board.\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE   the PNG to write, replaced atomically (required)\n"
            "      --width W       image width in pixels (default %d)\n"
            "      --height H      image height in pixels (default %d)\n"
            "      --title TEXT    title (default: the number of runs and configurations)\n"
            "  -q, --quiet         print only errors\n"
            "  -h, --help          show this help\n"
            "\n"
            "Exit codes: 0 written; 1 a file cannot be read or holds no usable run, or\n"
            "the PNG cannot be written; 2 bad usage.\n",
            PLOT_WIDTH_DEFAULT, PLOT_HEIGHT_DEFAULT);
}

int cmd_plot(int argc, char **argv) {
    enum { OPT_WIDTH = 256, OPT_HEIGHT, OPT_TITLE };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"height", required_argument, NULL, OPT_HEIGHT},
        {"title", required_argument, NULL, OPT_TITLE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *title = NULL;
    int width = PLOT_WIDTH_DEFAULT, height = PLOT_HEIGHT_DEFAULT, quiet = 0, opt, code;

    optind = 1;
    argv[0] = "noisette plot";
    while ((opt = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': output = optarg; break;
        case OPT_WIDTH:
            if ((code = cli_parse_int("plot", "--width", optarg, PLOT_SIZE_MIN, &width)))
                return code;
            break;
        case OPT_HEIGHT:
            if ((code = cli_parse_int("plot", "--height", optarg, PLOT_SIZE_MIN, &height)))
                return code;
            break;
        case OPT_TITLE: title = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("plot");
        }
    }
    if (optind >= argc)
        return cli_usage_error("plot", "missing RESULTS file");
    if (!output)
        return cli_usage_error("plot", "missing -o FILE.png");
    if (width > PLOT_SIZE_MAX || height > PLOT_SIZE_MAX)
        return cli_usage_error("plot", "--width and --height must be at most %d",
                               PLOT_SIZE_MAX);
    cli_set_verbosity(0, quiet);

    RunSet set;
    results_init(&set);
    code = cli_read_results(argv + optind, argc - optind, &set);
    if (code == EXIT_CODE_OK) {
        int rc = plot_curves(&set, title, width, height, output);
        if (rc < 0)
            code = cli_report(rc);
        else
            log_info("plot: %d run%s, %dx%d px: %s", set.n_runs, set.n_runs == 1 ? "" : "s",
                     width, height, output);
    }
    results_free(&set);
    plot_release();
    return code;
}
