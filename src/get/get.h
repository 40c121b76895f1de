/* noisette get: a known dataset made present in the cache folder.
 *
 * One call does the whole path: take the cache's lock for that dataset,
 * download NAME.tgz (resuming NAME.tgz.part), check its size and checksums,
 * unpack it (extract.h), and remove the archive. A step that fails leaves
 * no CACHE/NAME folder; a download that fails keeps its .part to resume; a
 * file that fails its checks or cannot be unpacked is removed. */
#ifndef NOISETTE_GET_GET_H
#define NOISETTE_GET_GET_H

#include "get/datasets.h"
#include "get/download.h"

typedef struct {
    const char *cache_dir;      /* NULL: get_cache_dir's default */
    const char *url;            /* NULL: $NOISETTE_MIRROR or the official address */
    const char *md5;            /* whole-archive MD5 replacing the known checks */
    int         no_verify;      /* check neither size nor checksums */
    int         keep_archive;   /* keep CACHE/NAME.tgz after unpacking */
    int         force;          /* fetch and unpack again even when present */
    GetDownloadOptions dl;
} GetOptions;

/* The defaults: the environment's cache folder, $NOISETTE_GET_TIMEOUT
 * seconds (else GET_TIMEOUT_DEFAULT), a progress bar when stderr is a
 * terminal and plain lines otherwise (none below LOG_LEVEL_INFO). Fails
 * (ERR_USAGE) when $NOISETTE_GET_TIMEOUT is not a positive integer. */
int get_options_default(GetOptions *o);

/* Makes d present in the cache as above and sets *path_out to its folder
 * (free()). Does nothing but that when it is already there (unless
 * o->force). Errors name the URL or file and the cause; a signal during
 * the work ends the process as it would have, after the cleanup. */
int get_fetch(const GetDataset *d, const GetOptions *o, char **path_out);

/* What a DATA argument of train, labels or eval means. *path_out (free())
 * is data itself when it is "fashion-mnist", an existing file or folder, or
 * no known dataset name; else, for a known name (exact, or "imagenette" /
 * "imagewoof" with the image size that picks the variant, size <= 0 for the
 * default), the dataset's folder in the cache, downloaded first (saying so)
 * when missing, unless offline, which makes that an error naming the cache
 * and the `noisette get` command to run. */
int get_resolve_data(const char *data, int size, int offline, char **path_out);

#endif
