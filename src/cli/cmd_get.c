/* noisette get: download, check and unpack a known dataset into the cache. */
#include "cli/cli.h"

#include "get/get.h"
#include "get/verify.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_RETRIES 100

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette get [OPTIONS] NAME\n"
            "       noisette get --list\n"
            "\n"
            "Download a dataset's archive, check its size and checksum, and unpack it\n"
            "into the cache folder as CACHE/NAME (train/, val/ and the label CSV).\n"
            "Nothing is done when it is already there. A cut download is resumed by\n"
            "the next run; CACHE/NAME appears only complete. train and labels fetch a\n"
            "known NAME themselves when it is missing (unless --offline).\n"
            "\n"
            "NAME is one of imagenette2, imagenette2-320, imagenette2-160, imagewoof2,\n"
            "imagewoof2-320, imagewoof2-160, or imagenette / imagewoof with --size:\n"
            "up to %d px the -320 variant, above it the full size (as the reference).\n"
            "\n"
            "Options:\n"
            "  -l, --list             the known datasets and what the cache holds (stdout)\n"
            "      --dir DIR          the cache folder (default: $NOISETTE_DATA, else\n"
            "                         $XDG_CACHE_HOME/noisette, else ~/.cache/noisette)\n"
            "      --size S           image size that picks a short name's variant\n"
            "                         (default %d)\n"
            "      --url URL          download from URL instead of the official\n"
            "                         %sNAME.tgz:\n"
            "                         a mirror, or file:///path for a local copy; a URL\n"
            "                         ending in '/' is a folder holding NAME.tgz. The\n"
            "                         variable NOISETTE_MIRROR sets such a folder for\n"
            "                         get, train and labels; http_proxy and https_proxy\n"
            "                         are obeyed\n"
            "      --md5 HEX          expect this MD5 of the whole archive instead of the\n"
            "                         known size and checksums\n"
            "      --no-verify        check neither size nor checksum\n"
            "      --timeout SEC      give up an attempt after SEC seconds without data\n"
            "                         (default %d, or $NOISETTE_GET_TIMEOUT)\n"
            "      --retries N        retries after a time-out, a cut connection or a\n"
            "                         server error, waiting 1, 2, 4 ... s (default %d)\n"
            "      --keep-archive     keep CACHE/NAME.tgz after unpacking\n"
            "      --force            download and unpack again even if NAME is there\n"
            "  -v, --verbose          more detail on stderr\n"
            "  -q, --quiet            print only errors (no progress)\n"
            "  -h, --help             show this help\n"
            "\n"
            "The dataset's folder is printed on stdout. See docs/get.md.\n"
            "\n"
            "Exit codes: 0 done (or already there), 1 failed, 2 bad usage.\n",
            GET_SIZE_320_MAX, GET_DEFAULT_SIZE, GET_URL_BASE, GET_TIMEOUT_DEFAULT,
            GET_RETRIES_DEFAULT);
}

static int64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* One row of --list: name, archive size, state, where. */
static void list_row(const GetDataset *d, const char *cache) {
    char path[4200], a[32], b[32];
    get_format_bytes(d->size, b, sizeof b);
    printf("%-16s %-9s ", d->name, d->size > 0 ? b : "?");

    snprintf(path, sizeof path, "%s/%s", cache, d->name);
    if (file_is_dir(path)) {
        printf("%-10s %s\n", "ready", path);
        return;
    }
    snprintf(path, sizeof path, "%s/%s.tgz", cache, d->name);
    if (file_exists(path)) {
        printf("%-10s %s (not unpacked)\n", "archive", path);
        return;
    }
    snprintf(path, sizeof path, "%s/%s.tgz.part", cache, d->name);
    int64_t part = file_size(path);
    if (part >= 0)
        printf("%-10s %s (%s so far)\n", "partial", path, get_format_bytes(part, a, sizeof a));
    else
        printf("-\n");
}

static int list(const char *dir) {
    char cache[4096];
    int rc = get_cache_dir(dir, cache, sizeof cache);
    if (rc < 0)
        return cli_report(rc);
    printf("cache: %s\n", cache);
    printf("%-16s %-9s %-10s %s\n", "name", "archive", "state", "where");
    for (int i = 0; i < get_dataset_count(); i++)
        list_row(get_dataset_at(i), cache);
    printf("short names: imagenette, imagewoof (size <= %d: the -320 variant, above: "
           "full size)\n", GET_SIZE_320_MAX);
    return fflush(stdout) == 0 ? EXIT_CODE_OK : EXIT_CODE_FAIL;
}

typedef struct {
    GetOptions  o;
    const char *name;
    int         size, list, timeout_s, retries;
} GetArgs;

static int run(GetArgs *a) {
    const GetDataset *d = get_dataset_find(a->name, a->size);
    if (!d) {
        char known[256] = "";
        for (int i = 0; i < get_dataset_count(); i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s, ",
                     get_dataset_at(i)->name);
        return cli_usage_error("get", "\"%s\" is not a dataset noisette knows: %s or "
                               "imagenette / imagewoof with --size", a->name, known);
    }

    /* The defaults read the log level, so they come after -q / -v. */
    GetOptions defaults;
    int rc = get_options_default(&defaults);
    if (rc < 0)
        return cli_report(rc);
    a->o.dl = defaults.dl;
    if (a->timeout_s > 0)
        a->o.dl.timeout_s = a->timeout_s;
    if (a->retries >= 0)
        a->o.dl.retries = a->retries;

    char *path;
    if ((rc = get_fetch(d, &a->o, &path)) < 0)
        return cli_report(rc);
    printf("%s\n", path);
    free(path);
    return fflush(stdout) == 0 ? EXIT_CODE_OK : EXIT_CODE_FAIL;
}

int cmd_get(int argc, char **argv) {
    enum { OPT_DIR = 256, OPT_SIZE, OPT_URL, OPT_MD5, OPT_NO_VERIFY, OPT_TIMEOUT,
           OPT_RETRIES, OPT_KEEP, OPT_FORCE };
    static const struct option longopts[] = {
        {"list", no_argument, NULL, 'l'},
        {"dir", required_argument, NULL, OPT_DIR},
        {"size", required_argument, NULL, OPT_SIZE},
        {"url", required_argument, NULL, OPT_URL},
        {"md5", required_argument, NULL, OPT_MD5},
        {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"keep-archive", no_argument, NULL, OPT_KEEP},
        {"force", no_argument, NULL, OPT_FORCE},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    GetArgs a;
    memset(&a, 0, sizeof a);
    a.retries = -1;
    int verbose = 0, quiet = 0, opt;

    optind = 1;
    argv[0] = "noisette get";
    while ((opt = getopt_long(argc, argv, "lvqh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l': a.list = 1; break;
        case OPT_DIR: a.o.cache_dir = optarg; break;
        case OPT_SIZE:
            if (cli_parse_int("get", "--size", optarg, 1, &a.size))
                return EXIT_CODE_USAGE;
            break;
        case OPT_URL:
            if (!*optarg)
                return cli_usage_error("get", "--url: empty");
            a.o.url = optarg;
            break;
        case OPT_MD5:
            if (!get_md5_is_valid(optarg))
                return cli_usage_error("get", "--md5: \"%s\" is not 32 hexadecimal digits",
                                       optarg);
            a.o.md5 = optarg;
            break;
        case OPT_NO_VERIFY: a.o.no_verify = 1; break;
        case OPT_TIMEOUT:
            if (cli_parse_int("get", "--timeout", optarg, 1, &a.timeout_s))
                return EXIT_CODE_USAGE;
            break;
        case OPT_RETRIES:
            if (cli_parse_int("get", "--retries", optarg, 0, &a.retries))
                return EXIT_CODE_USAGE;
            if (a.retries > MAX_RETRIES)
                return cli_usage_error("get", "--retries: at most %d", MAX_RETRIES);
            break;
        case OPT_KEEP: a.o.keep_archive = 1; break;
        case OPT_FORCE: a.o.force = 1; break;
        case 'v': verbose = 1; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("get");
        }
    }
    cli_set_verbosity(verbose, quiet);
    if (a.list)
        return optind == argc ? list(a.o.cache_dir)
                              : cli_usage_error("get", "--list takes no NAME");
    if (optind != argc - 1)
        return cli_usage_error("get", optind >= argc ? "missing NAME (or --list)"
                                                     : "one NAME at a time");
    if (a.o.md5 && a.o.no_verify)
        return cli_usage_error("get", "--md5 and --no-verify exclude each other");
    a.name = argv[optind];
    return run(&a);
}
