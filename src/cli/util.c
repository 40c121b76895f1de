/* Option helpers shared by the subcommands; see cli.h. */
#include "cli/cli.h"

#include "get/get.h"
#include "nn/layers.h"
#include "train/dist.h"
#include "util/err.h"
#include "util/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cli_report(int rc) {
    log_error("%s", err_msg());
    return rc == ERR_USAGE ? EXIT_CODE_USAGE : EXIT_CODE_FAIL;
}

int cli_resolve_data(const char *name, int size, int offline, char **data) {
    if (dist_rank() == 0) {
        int rc = get_resolve_data(name, size, offline, data);
        dist_from_rank0(rc);    /* the others wait for it */
        return rc;
    }
    if (dist_from_rank0(ERR_OK) < 0)
        return err_set(ERR_INVALID, "rank 0 could not find DATA %s", name);
    return get_resolve_data(name, size, offline, data);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "noisette %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'noisette %s --help'.\n", cmd);
    return EXIT_CODE_USAGE;
}

int cli_try_help(const char *cmd) {
    fprintf(stderr, "Try 'noisette %s --help'.\n", cmd);
    return EXIT_CODE_USAGE;
}

int cli_parse_u64(const char *s, uint64_t *v) {
    char *end;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *v = (uint64_t)x;
    return 0;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, int lo, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno || x < lo || x > 1 << 20)
        return cli_usage_error(cmd, "%s: \"%s\" is not an integer in [%d, %d]", opt, s, lo,
                               1 << 20);
    *v = (int)x;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi,
                     double *v) {
    char *end;
    double x = strtod(s, &end);
    if (!*s || *end || !(x >= lo && x <= hi))
        return cli_usage_error(cmd, "%s: \"%s\" is not a number in [%g, %g]", opt, s, lo, hi);
    *v = x;
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cli_parse_levels(const char *s, double *levels, int *n, int max) {
    char buf[1024];
    if (strlen(s) >= sizeof buf)
        return err_set(ERR_USAGE, "--levels: list too long"), -1;
    strcpy(buf, s);

    *n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *end;
        double v = strtod(tok, &end);
        if (end == tok || *end || !isfinite(v) || v <= 0 || v >= 100)
            return err_set(ERR_USAGE, "--levels: \"%s\" is not a percentage in (0,100)", tok), -1;
        if (*n == max)
            return err_set(ERR_USAGE, "--levels: at most %d levels", max), -1;
        levels[(*n)++] = v;
    }
    if (*n == 0)
        return err_set(ERR_USAGE, "--levels: empty list"), -1;

    qsort(levels, (size_t)*n, sizeof *levels, cmp_double);
    for (int i = 1; i < *n; i++)
        if (levels[i] == levels[i - 1])
            return err_set(ERR_USAGE, "--levels: %g given twice", levels[i]), -1;
    return 0;
}

void cli_set_verbosity(int verbose, int quiet) {
    if (quiet)
        log_set_level(LOG_LEVEL_ERROR);
    else if (verbose)
        log_set_level(LOG_LEVEL_DEBUG);
}

int cli_parse_act(const char *cmd, const char *s, ActKind *v) {
    if (strcasecmp(s, "mish") != 0 && strcasecmp(s, "relu") != 0)
        return cli_usage_error(cmd, "--act: \"%s\" is not mish or relu", s);
    *v = strcasecmp(s, "relu") == 0 ? ACT_RELU : ACT_MISH;
    return 0;
}

int cli_parse_pool(const char *cmd, const char *s, PoolKind *v) {
    if (strcasecmp(s, "avgpool") != 0 && strcasecmp(s, "maxpool") != 0)
        return cli_usage_error(cmd, "--pool: \"%s\" is not avgpool or maxpool", s);
    *v = strcasecmp(s, "maxpool") == 0 ? POOL_MAX : POOL_AVG;
    return 0;
}
