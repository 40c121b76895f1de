/* The command line: one function per subcommand, shared option helpers.
 * Only cli/ decides to exit; every command returns an exit code. */
#ifndef NOISETTE_CLI_CLI_H
#define NOISETTE_CLI_CLI_H

#include "nn/layers.h"

#include <stdint.h>

typedef enum {
    EXIT_CODE_OK    = 0,    /* done */
    EXIT_CODE_FAIL  = 1,    /* runtime error: bad input file, I/O, audit problems */
    EXIT_CODE_USAGE = 2     /* bad command line */
} ExitCode;

int cmd_get(int argc, char **argv);
int cmd_labels(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_train(int argc, char **argv);   /* bench train, cmd_bench_train.c */
int cmd_model(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_board(int argc, char **argv);
int cmd_plot(int argc, char **argv);

/* board and plot: reads the n results files into set (report/results.h),
 * printing each skipped line's note (warnings for malformed lines). Returns
 * 0, or 1 after an error message when a file cannot be read or no run is
 * usable. Defined in cmd_board.c. */
struct RunSet;
int cli_read_results(char **files, int n, struct RunSet *set);
int cmd_mislabeled(int argc, char **argv);

/* Prints "noisette: error: <recorded message>" and returns the exit code
 * for the ErrCode rc (usage errors -> 2, the rest -> 1). */
int cli_report(int rc);

/* get_resolve_data (get/get.h) for a command that may run on several MPI
 * ranks: rank 0 first, since it may download, then the others, which
 * find the files on the same machine or a shared cache. */
int cli_resolve_data(const char *name, int size, int offline, char **data);

/* Prints "noisette CMD: MESSAGE" and a pointer to --help; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* After getopt_long has printed its own complaint: prints a pointer to
 * --help and returns 2. */
int cli_try_help(const char *cmd);

/* Parses a non-negative integer that fits 64 bits; 0 ok, -1 bad. */
int cli_parse_u64(const char *s, uint64_t *v);

/* Parses an integer option value in [lo, 2^20]: 0 with *v set, or prints
 * "noisette CMD: OPT: ..." and returns 2 (EXIT_CODE_USAGE). */
int cli_parse_int(const char *cmd, const char *opt, const char *s, int lo, int *v);

/* Parses a number option value in [lo, hi] (NaN refused): 0 with *v set,
 * or prints "noisette CMD: OPT: ..." and returns 2. */
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi,
                     double *v);

/* Parses --act (mish or relu) and --pool (avgpool or maxpool), any case:
 * 0 with *v set, or prints "noisette CMD: --act: ..." and returns 2. */
int cli_parse_act(const char *cmd, const char *s, ActKind *v);
int cli_parse_pool(const char *cmd, const char *s, PoolKind *v);

/* Parses a comma-separated list of percentages in (0,100) into ascending
 * order; duplicates are refused. 0 ok, -1 bad (message recorded). */
int cli_parse_levels(const char *s, double *levels, int *n, int max);

/* Applies -v / -q. */
void cli_set_verbosity(int verbose, int quiet);

#endif
