/* noisette: one program, subcommands. main() picks the subcommand and hands
 * it the remaining arguments; each returns the process exit code. */
#include "cli/cli.h"

#include "nn/backend.h"
#include "train/dist.h"
#include "util/err.h"
#include "util/log.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef NOISETTE_VERSION
#define NOISETTE_VERSION "unknown"
#endif

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Command;

static const Command COMMANDS[] = {
    {"get", cmd_get, "download, check and unpack imagenette2 / imagewoof2 into the cache"},
    {"labels", cmd_labels, "make a noisy-label CSV for a dataset (seeded, exact counts)"},
    {"audit", cmd_audit, "check a label CSV and show its realised noise"},
    {"train", cmd_train, "train at one noise level, evaluate each epoch, record the run"},
    {"eval", cmd_eval, "evaluate a checkpoint on the clean validation set"},
    {"board", cmd_board, "leaderboard tables from results files, beside the baseline"},
    {"plot", cmd_plot, "training curves of results files as a PNG"},
    {"mislabeled", cmd_mislabeled, "rank training images whose label is probably wrong"},
    {"model", cmd_model, "describe an architecture: layers, parameters, FLOPs"},
    {"bench", cmd_bench, "measure throughput: the batch loader, training steps"},
};

#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette COMMAND [OPTIONS] [ARGS]\n"
            "       noisette --help | --version\n"
            "\n"
            "noisette is a toolkit for research on training with noisy labels, built\n"
            "around the Noisy Imagenette benchmark.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out,
            "\n"
            "'noisette COMMAND --help' describes one command.\n"
            "\n"
            "Exit codes: 0 done, 1 failed (bad input, I/O error, audit found problems),\n"
            "2 bad command line.\n");
}

/* libgomp reads OMP_WAIT_POLICY once, as it loads, before main. Its
 * default lets idle OpenMP threads spin after each parallel loop and each
 * oneDNN kernel, taking the cores from OpenBLAS's threads, the data
 * loader and other jobs (docs/performance.md). So unless the user chose a
 * policy, noisette runs itself again with the passive one; if that cannot
 * be done it goes on as it is. */
static void exec_with_passive_wait(char **argv) {
    char self[4096];
    if (getenv("OMP_WAIT_POLICY"))
        return;
    /* The program's own path, so that ps and pgrep still call it noisette. */
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0 || (size_t)len >= sizeof self - 1 ||
        setenv("OMP_WAIT_POLICY", "passive", 1) != 0)
        return;
    self[len] = '\0';
    execv(self, argv);
}

/* Runs a command, as one rank of an MPI job when mpirun started us
 * (train/dist.h): ranks other than 0 tag their messages, and a rank that
 * fails ends the whole job, since its peers may be waiting for it. */
static int run_command(const Command *c, int argc, char **argv) {
    if (dist_init(&argc, &argv) < 0) {
        log_error("%s", err_msg());
        return EXIT_CODE_FAIL;
    }
    if (dist_rank() > 0) {
        /* Rank 0 speaks for the job: the others print only their errors. */
        char tag[32];
        snprintf(tag, sizeof tag, "[rank %d] ", dist_rank());
        log_set_tag(tag);
        log_set_level(LOG_LEVEL_ERROR);
        if (!freopen("/dev/null", "w", stdout))
            log_error("cannot silence stdout; every rank's table follows");
    }
    int rc = c->run(argc - 1, argv + 1);
    if (rc != EXIT_CODE_OK)
        dist_abort(rc);
    dist_finalize();
    return rc;
}

int main(int argc, char **argv) {
    exec_with_passive_wait(argv);
    if (argc < 2) {
        print_help(stderr);
        return EXIT_CODE_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help(stdout);
        return EXIT_CODE_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("noisette %s\nbackends: reference blas%s (default %s)\n%s\n", NOISETTE_VERSION,
               backend_dnnl() ? " dnnl" : "", backend_default()->name, dist_describe());
        return EXIT_CODE_OK;
    }

    atomic_install_signal_cleanup();
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, COMMANDS[i].name) == 0)
            return run_command(&COMMANDS[i], argc, argv);

    fprintf(stderr, "noisette: unknown command '%s'\nTry 'noisette --help'.\n", cmd);
    return EXIT_CODE_USAGE;
}
