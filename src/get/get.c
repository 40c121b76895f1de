/* Lock, download, verify, unpack; see get.h. */
#include "get/get.h"

#include "get/extract.h"
#include "get/interrupt.h"
#include "get/verify.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GET_PATH_MAX 4096

int get_options_default(GetOptions *o) {
    memset(o, 0, sizeof *o);
    get_download_defaults(&o->dl);
    LogLevel level = log_get_level();
    o->dl.progress = level < LOG_LEVEL_INFO    ? GET_PROGRESS_NONE
                   : isatty(STDERR_FILENO)     ? GET_PROGRESS_BAR
                                               : GET_PROGRESS_LINES;

    /* Tests and slow links set the stall time-out without a flag. */
    const char *env = getenv("NOISETTE_GET_TIMEOUT");
    if (env && *env) {
        char *end;
        errno = 0;
        long s = strtol(env, &end, 10);
        if (*end || errno || s < 1 || s > 86400)
            return err_set(ERR_USAGE, "NOISETTE_GET_TIMEOUT: \"%s\" is not a number of "
                           "seconds in [1, 86400]", env);
        o->dl.timeout_s = s;
    }
    return ERR_OK;
}

/* mkdir -p: each missing folder of path, with the usual umask mode. */
static int make_dirs(const char *path) {
    char buf[GET_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return err_set(ERR_IO, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set_errno(ERR_IO, "%s: cannot create the cache folder", buf);
        *p = c;
        if (!c)
            break;
    }
    if (!file_is_dir(path))
        return err_set(ERR_IO, "%s: not a folder", path);
    return ERR_OK;
}

/* One process at a time per dataset: two trainings started together must
 * not both write NAME.tgz.part. fcntl locks vanish with the process. */
static int lock_dataset(const char *cache, const char *name, int *fd_out) {
    char path[GET_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/.%s.lock", cache, name);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd < 0)
        return err_set_errno(ERR_IO, "%s: cannot open the lock file", path);

    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        log_info("waiting for another noisette to finish getting %s (%s)", name, path);
        while (fcntl(fd, F_SETLKW, &fl) != 0) {
            if (errno != EINTR || get_interrupt_pending()) {
                int rc = errno == EINTR ? err_set(ERR_IO, "%s: interrupted while waiting",
                                                  path)
                                        : err_set_errno(ERR_IO, "%s: cannot lock", path);
                close(fd);
                return rc;
            }
        }
    }
    *fd_out = fd;
    return ERR_OK;
}

/* Appends to the recorded message: what happened to the bad file. */
static int with_suffix(int rc, const char *suffix) {
    char msg[ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err_msg());
    return err_set(rc, "%s%s", msg, suffix);
}

static int verify(const GetDataset *d, const GetOptions *o, const char *archive) {
    GetChecks c;
    memset(&c, 0, sizeof c);
    if (o->no_verify) {
        log_info("%s: not checked (--no-verify)", archive);
        return ERR_OK;
    }
    if (o->md5) {
        c.md5_full = o->md5;
        c.source = "--md5";
    } else {
        c.size = d->size;
        c.md5_head = d->md5_head;
        c.md5_full = d->md5_full;
        c.source = d->md5_full ? "the published checks (fastai, torchvision)"
                               : "the published checks (fastai)";
        if (c.size <= 0 && !c.md5_head && !c.md5_full) {
            log_warn("%s: no size or checksum is known for %s; not checked", archive,
                     d->name);
            return ERR_OK;
        }
    }
    int rc = get_verify_file(archive, &c);
    if (rc == ERR_INVALID) {
        unlink(archive);
        rc = with_suffix(rc, "; removed it (run the command again to download it afresh; "
                         "--url for another copy)");
    }
    if (rc == ERR_OK && (c.md5_full || !c.md5_head))
        log_info("%s: size and checksum as expected (%s)", archive, c.source);
    else if (rc == ERR_OK)
        log_info("%s: size and MD5 of the first megabyte as expected (%s; no whole-file "
                 "checksum is known, the gzip CRC-32 is checked when unpacking)", archive,
                 c.source);
    return rc;
}

/* Download unless a complete archive is already there, then check it. */
static int fetch_archive(const GetDataset *d, const GetOptions *o, const char *archive) {
    char part[GET_PATH_MAX + 72];
    snprintf(part, sizeof part, "%s.part", archive);
    if (o->force) {
        unlink(archive);
        unlink(part);
    }
    if (!file_exists(archive)) {
        char *url = get_dataset_url(d, o->url);
        if (!url)
            return ERR_NOMEM;
        GetDownloadOptions dl = o->dl;
        char label[64];
        snprintf(label, sizeof label, "%s.tgz", d->name);
        dl.label = label;
        log_info("downloading %s", url);
        int rc = get_download(url, part, &dl);
        free(url);
        if (rc < 0)
            return rc;
        if (rename(part, archive) != 0)
            return err_set_errno(ERR_IO, "%s: cannot rename to %s", part, archive);
    } else {
        log_info("%s: already downloaded", archive);
    }
    return verify(d, o, archive);
}

/* The steps of get_fetch once the lock is held. */
static int fetch_locked(const GetDataset *d, const GetOptions *o, const char *cache,
                        const char *dest) {
    char archive[GET_PATH_MAX + 64];
    snprintf(archive, sizeof archive, "%s/%s.tgz", cache, d->name);
    int rc = fetch_archive(d, o, archive);
    if (rc < 0)
        return rc;

    /* A damaged or unsafe archive goes; after a write error it was fine. */
    rc = get_extract(archive, cache, d->name, o->force);
    if (rc == ERR_PARSE || rc == ERR_INVALID) {
        unlink(archive);
        return with_suffix(rc, "; removed the archive");
    }
    if (rc == ERR_OK && !o->keep_archive && unlink(archive) != 0)
        log_warn("%s: could not remove: %s", archive, strerror(errno));
    if (rc == ERR_OK)
        log_info("%s is ready: %s", d->name, dest);
    return rc;
}

int get_fetch(const GetDataset *d, const GetOptions *o, char **path_out) {
    char cache[GET_PATH_MAX], dest[GET_PATH_MAX + 64];
    *path_out = NULL;
    int rc = get_cache_dir(o->cache_dir, cache, sizeof cache);
    if (rc < 0)
        return rc;
    snprintf(dest, sizeof dest, "%s/%s", cache, d->name);
    if (!o->force && file_is_dir(dest)) {
        log_info("%s is already in the cache: %s", d->name, dest);
        return (*path_out = strdup(dest)) ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
    }
    if ((rc = make_dirs(cache)) < 0)
        return rc;

    /* Signals are noted from here on, so every step can clean up. */
    int lock_fd = -1;
    get_interrupt_begin();
    rc = lock_dataset(cache, d->name, &lock_fd);
    if (rc == ERR_OK && !o->force && file_is_dir(dest))
        log_info("%s is already in the cache: %s", d->name, dest);
    else if (rc == ERR_OK)
        rc = fetch_locked(d, o, cache, dest);
    if (lock_fd >= 0)
        close(lock_fd);
    if (get_interrupt_end() && rc == ERR_OK)
        rc = err_set(ERR_IO, "%s: interrupted", d->name);

    if (rc == ERR_OK && !(*path_out = strdup(dest)))
        rc = err_set(ERR_NOMEM, "out of memory");
    return rc;
}

int get_resolve_data(const char *data, int size, int offline, char **path_out) {
    const GetDataset *d = NULL;
    *path_out = NULL;

    /* A folder or file of that name wins over a dataset name. */
    if (strcmp(data, "fashion-mnist") == 0 || file_exists(data) ||
        !(d = get_dataset_find(data, size)))
        return (*path_out = strdup(data)) ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
    if (strcmp(d->name, data) != 0)
        log_debug("%s at size %d: %s", data, size > 0 ? size : GET_DEFAULT_SIZE, d->name);

    GetOptions o;
    char cache[GET_PATH_MAX], dest[GET_PATH_MAX + 64], b[32];
    int rc = get_options_default(&o);
    if (rc == ERR_OK)
        rc = get_cache_dir(NULL, cache, sizeof cache);
    if (rc < 0)
        return rc;
    snprintf(dest, sizeof dest, "%s/%s", cache, d->name);
    if (file_is_dir(dest))
        return (*path_out = strdup(dest)) ? ERR_OK : err_set(ERR_NOMEM, "out of memory");

    if (offline)
        return err_set(ERR_IO, "%s is not in the cache %s, and --offline forbids downloading "
                       "it: run `noisette get %s` first (or give a dataset folder)", d->name,
                       cache, d->name);
    log_info("%s is not in the cache %s; downloading it (%s)", d->name, cache,
             get_format_bytes(d->size, b, sizeof b));
    return get_fetch(d, &o, path_out);
}
