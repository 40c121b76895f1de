/* noisette audit: read label CSVs, print what noise they hold. */
#include "cli/cli.h"

#include "labels/audit.h"
#include "labels/label_table.h"
#include "util/err.h"

#include <getopt.h>
#include <stdio.h>

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette audit [OPTIONS] CSV...\n"
            "\n"
            "Check label CSVs in the Noisy Imagenette format and report, for each:\n"
            "rows, the train/valid split, classes with counts, and per noise level the\n"
            "realised noise rate, the number of changed training rows, the count the\n"
            "reference's uniform rule gives (ceil(P*N/100)) and the true -> noisy\n"
            "transition matrix over training rows.\n"
            "\n"
            "Problems flagged: validation rows whose label differs from the truth, and\n"
            "labels outside the class set (the distinct noisy_labels_0 values).\n"
            "\n"
            "Options:\n"
            "      --normalize   transition matrix as row rates instead of counts\n"
            "  -q, --quiet       print only errors\n"
            "  -h, --help        show this help\n"
            "\n"
            "Exit codes: 0 every file read and clean; 1 a file is malformed (the message\n"
            "names file:line:column) or the audit flagged a problem; 2 bad usage.\n");
}

static int audit_one(const char *path, int normalize) {
    LabelTable t;
    int rc = labels_read(path, &t);
    if (rc < 0)
        return cli_report(rc);

    LabelAudit a;
    if ((rc = audit_compute(&t, &a)) < 0) {
        labels_free(&t);
        return cli_report(rc);
    }
    audit_print(&t, &a, path, stdout, normalize);
    long problems = a.problems;
    audit_free(&t, &a);
    labels_free(&t);
    return problems ? EXIT_CODE_FAIL : EXIT_CODE_OK;
}

int cmd_audit(int argc, char **argv) {
    static const struct option longopts[] = {
        {"normalize", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int normalize = 0, quiet = 0, opt;

    optind = 1;
    argv[0] = "noisette audit";
    while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n': normalize = 1; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("audit");
        }
    }
    if (optind >= argc)
        return cli_usage_error("audit", "missing CSV file");
    cli_set_verbosity(0, quiet);

    /* Every file is audited; the worst outcome is the exit code. */
    int worst = EXIT_CODE_OK;
    for (int i = optind; i < argc; i++) {
        if (i > optind)
            fputc('\n', stdout);
        int code = audit_one(argv[i], normalize);
        if (code > worst)
            worst = code;
    }
    return worst;
}
