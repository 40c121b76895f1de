/* Whole-file reads and atomic writes.
 *
 * Every file noisette writes goes through AtomicFile: the bytes land in a
 * temporary file beside the target, which is flushed, synced and renamed
 * over the target only when complete. A crash or Ctrl-C never leaves a
 * half-written CSV or checkpoint; with atomic_install_signal_cleanup() the
 * temporary file is removed on SIGINT/SIGTERM/SIGHUP too. */
#ifndef NOISETTE_UTIL_FILEIO_H
#define NOISETTE_UTIL_FILEIO_H

#include <stddef.h>
#include <stdio.h>

/* Reads the file at path into a new NUL-terminated buffer (*data, owned by
 * the caller, free()); *len excludes the NUL. Fails with ERR_IO if the file
 * cannot be read or is larger than max_bytes. */
int file_read_all(const char *path, size_t max_bytes, char **data, size_t *len);

/* 1 if something exists at path, else 0. */
int file_exists(const char *path);

/* 1 if path is a directory, else 0. */
int file_is_dir(const char *path);

#define ATOMIC_PATH_MAX 4096

typedef struct {
    FILE *fp;                       /* write here between open and commit */
    char  path[ATOMIC_PATH_MAX];    /* the final name */
    char  tmp[ATOMIC_PATH_MAX];     /* the temporary name while open */
} AtomicFile;

/* Opens a temporary file in path's folder. Unless overwrite is set, fails
 * with ERR_EXISTS when path already exists. */
int atomic_open(AtomicFile *af, const char *path, int overwrite);

/* Flushes, syncs and closes the temporary file, then renames it to the final
 * name. On failure the temporary file is removed and the target untouched. */
int atomic_commit(AtomicFile *af);

/* Closes and removes the temporary file; the target is untouched. */
void atomic_abort(AtomicFile *af);

/* Installs handlers that remove open temporary files on SIGINT, SIGTERM
 * and SIGHUP, then let the signal end the process as it would have. */
void atomic_install_signal_cleanup(void);

#endif
