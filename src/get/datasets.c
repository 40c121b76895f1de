/* Known datasets, short names, cache folder and addresses; see datasets.h. */
#include "get/datasets.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sizes and md5_head: fastai's own table of its downloads,
 * fastai/data/download_checks.py (fastai 2.5 and later; the same numbers
 * as the later fastai/data/checks.txt), read by fastdownload's
 * path_stats(): the file size in bytes and the MD5 of its first megabyte
 * (2^20 bytes), not of the whole file. md5_full: the MD5 of the whole
 * archive from torchvision/datasets/imagenette.py (Imagenette only).
 *
 * LIMITATION: no whole-file checksum of the Imagewoof archives was found in
 * a source we could verify, so a change past their first megabyte that
 * keeps the size is caught only by the gzip CRC-32 checked when unpacking
 * (extract.c). A verified MD5 or SHA-256 in md5_full would lift it. */
static const GetDataset DATASETS[] = {
    {"imagenette2", "noisy_imagenette.csv", 1557161267,
     "2c774ecb40005b35d7937d50f5d42336", "fe2fc210e6bb7c5664d602c3cd71e612"},
    {"imagenette2-320", "noisy_imagenette.csv", 341663724,
     "1f1f74f133caff120e575856659b87a2", "3df6f0d01a2c9592104656642f5e78a3"},
    {"imagenette2-160", "noisy_imagenette.csv", 99003388,
     "c475f8f7617a200ba35b9facc48443c3", "e793b78cc4c9e9a4ccc0c1155377a412"},
    {"imagewoof2", "noisy_imagewoof.csv", 1343715595,
     "2cc1c1e36e20cb6fd24ffb978edcb487", NULL},
    {"imagewoof2-320", "noisy_imagewoof.csv", 328387740,
     "7a1fd92672a559a85de76e4810a20c21", NULL},
    {"imagewoof2-160", "noisy_imagewoof.csv", 92612825,
     "3559b194123981a540b87132dbda412f", NULL},
};

#define N_DATASETS ((int)(sizeof DATASETS / sizeof DATASETS[0]))

int get_dataset_count(void) {
    return N_DATASETS;
}

const GetDataset *get_dataset_at(int i) {
    return i >= 0 && i < N_DATASETS ? &DATASETS[i] : NULL;
}

static const GetDataset *find_exact(const char *name) {
    for (int i = 0; i < N_DATASETS; i++)
        if (strcmp(DATASETS[i].name, name) == 0)
            return &DATASETS[i];
    return NULL;
}

const GetDataset *get_dataset_find(const char *name, int size) {
    const GetDataset *d = find_exact(name);
    if (d)
        return d;

    /* The reference trains sizes up to 224 from the 320-px JPEGs and larger
     * ones from the full-size JPEGs (spec/reference-training.md §1.3). */
    const char *base = strcmp(name, "imagenette") == 0 ? "imagenette2"
                     : strcmp(name, "imagewoof") == 0  ? "imagewoof2" : NULL;
    if (!base)
        return NULL;
    if (size <= 0)
        size = GET_DEFAULT_SIZE;
    char exact[32];
    snprintf(exact, sizeof exact, "%s%s", base, size <= GET_SIZE_320_MAX ? "-320" : "");
    return find_exact(exact);
}

int get_cache_dir(const char *dir, char *buf, size_t cap) {
    const char *env;
    int n;

    /* XDG says a relative XDG_CACHE_HOME is invalid and must be ignored. */
    if (dir)
        n = snprintf(buf, cap, "%s", dir);
    else if ((env = getenv("NOISETTE_DATA")) && *env)
        n = snprintf(buf, cap, "%s", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/')
        n = snprintf(buf, cap, "%s/noisette", env);
    else if ((env = getenv("HOME")) && *env)
        n = snprintf(buf, cap, "%s/.cache/noisette", env);
    else
        return err_set(ERR_USAGE, "no cache folder: set NOISETTE_DATA (or HOME), or give "
                       "--dir DIR");
    if (n < 0 || (size_t)n >= cap)
        return err_set(ERR_USAGE, "cache folder path too long (%d bytes)", n);

    /* "dir/" and "dir" are the same folder; keep messages tidy. */
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    return ERR_OK;
}

char *get_dataset_url(const GetDataset *d, const char *url) {
    const char *base = GET_URL_BASE;
    const char *mirror = getenv("NOISETTE_MIRROR");
    int folder = 1;

    if (url) {
        base = url;
        folder = *url && url[strlen(url) - 1] == '/';
    } else if (mirror && *mirror) {
        base = mirror;
    }

    /* A folder gets NAME.tgz, with the '/' a mirror variable may lack. */
    size_t len = strlen(base) + strlen(d->name) + 8;
    char *out = malloc(len);
    if (!out) {
        err_set(ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!folder)
        snprintf(out, len, "%s", base);
    else
        snprintf(out, len, "%s%s%s.tgz", base, base[strlen(base) - 1] == '/' ? "" : "/",
                 d->name);
    return out;
}

const char *get_format_bytes(int64_t bytes, char *buf, size_t cap) {
    static const char *const UNITS[] = {"bytes", "kB", "MB", "GB", "TB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%lld bytes", (long long)bytes);
    else
        snprintf(buf, cap, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, UNITS[u]);
    return buf;
}
