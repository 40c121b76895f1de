/* noisette audit: read label CSVs, print what noise they hold. */
#include "cli/cli.h"

#include "labels/audit.h"
#include "labels/class_names.h"
#include "labels/label_table.h"
#include "report/plot.h"
#include "util/err.h"
#include "util/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            "      --png FILE    also draw one level's transition matrix as a heat map\n"
            "                    (rows true class, columns given label, class names for\n"
            "                    Imagenette and Imagewoof; one CSV only)\n"
            "      --level P     the level --png draws (default the highest)\n"
            "  -v, --verbose     more detail (the heat map's geometry)\n"
            "  -q, --quiet       print only errors\n"
            "  -h, --help        show this help\n"
            "\n"
            "Exit codes: 0 every file read and clean; 1 a file is malformed (the message\n"
            "names file:line:column) or the audit flagged a problem; 2 bad usage.\n");
}

/* --png: level P's transition matrix (the highest when P < 0) as a heat
 * map; an ErrCode. */
static int draw_level(const LabelTable *t, const LabelAudit *a, const char *csv,
                      const char *png, double pct, int normalize) {
    int l = pct < 0 ? 0 : labels_find_level(t, pct);
    if (t->n_levels == 0)
        return err_set(ERR_INVALID, "%s: no noise level (only noisy_labels_0) to draw", csv);
    if (l < 0)
        return err_set(ERR_INVALID, "%s: no column noisy_labels_%g (--level)", csv, pct);
    for (int k = 1; pct < 0 && k < t->n_levels; k++)
        if (t->levels[k] > t->levels[l])
            l = k;

    /* Class names where noisette knows them, else the labels themselves. */
    const char **names = malloc((size_t)t->n_names * sizeof *names);
    if (!names)
        return err_set(ERR_NOMEM, "out of memory");
    for (int i = 0; i < t->n_names; i++) {
        const char *name = class_display_name(t->names[i]);
        names[i] = name ? name : t->names[i];
    }
    const char *base = strrchr(csv, '/') ? strrchr(csv, '/') + 1 : csv;
    const LevelAudit *la = &a->levels[l];
    char title[512], subtitle[512];
    snprintf(title, sizeof title, "%s: noisy_labels_%s", base, t->level_text[l]);
    snprintf(subtitle, sizeof subtitle, "training rows by true class and given label; %ld of "
             "%d changed (%.2f%%)", la->changed_train, t->n_train,
             t->n_train ? 100.0 * la->changed_train / t->n_train : 0.0);
    HeatMap h = {title, subtitle, t->n_classes, t->n_names, names, names, la->transitions,
                 normalize};
    HeatMapLayout g;
    int rc = plot_heatmap(&h, png, &g);
    plot_release();
    free(names);
    if (rc == ERR_OK)
        log_debug("heat map %dx%d px: first cell at (%d, %d), cells of %d px", g.width,
                  g.height, g.x0, g.y0, g.cell);
    return rc;
}

static int audit_one(const char *path, int normalize, const char *png, double level) {
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
    if (png && (rc = draw_level(&t, &a, path, png, level, normalize)) < 0) {
        audit_free(&t, &a);
        labels_free(&t);
        return cli_report(rc);
    }
    long problems = a.problems;
    audit_free(&t, &a);
    labels_free(&t);
    return problems ? EXIT_CODE_FAIL : EXIT_CODE_OK;
}

int cmd_audit(int argc, char **argv) {
    static const struct option longopts[] = {
        {"normalize", no_argument, NULL, 'n'},
        {"png", required_argument, NULL, 'p'},
        {"level", required_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int normalize = 0, quiet = 0, verbose = 0, opt;
    const char *png = NULL;
    double level = -1;
    char *end;

    optind = 1;
    argv[0] = "noisette audit";
    while ((opt = getopt_long(argc, argv, "vqh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n': normalize = 1; break;
        case 'p': png = optarg; break;
        case 'l':
            level = strtod(optarg, &end);
            if (!*optarg || *end || !(level > 0 && level < 100))
                return cli_usage_error("audit", "--level: \"%s\" is not a percentage in "
                                       "(0,100)", optarg);
            break;
        case 'v': verbose = 1; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("audit");
        }
    }
    if (optind >= argc)
        return cli_usage_error("audit", "missing CSV file");
    if (png && argc - optind > 1)
        return cli_usage_error("audit", "--png draws one CSV's matrix; %d CSVs given",
                               argc - optind);
    if (!png && level >= 0)
        return cli_usage_error("audit", "--level chooses the level --png draws; no --png");
    cli_set_verbosity(verbose, quiet);

    /* Every file is audited; the worst outcome is the exit code. */
    int worst = EXIT_CODE_OK;
    for (int i = optind; i < argc; i++) {
        if (i > optind)
            fputc('\n', stdout);
        int code = audit_one(argv[i], normalize, png, level);
        if (code > worst)
            worst = code;
    }
    return worst;
}
