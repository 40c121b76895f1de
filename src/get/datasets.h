/* The datasets `noisette get` knows, where they come from, and where they go.
 *
 * Six archives published by fastai (imagenette2 and imagewoof2, full size,
 * 320 px and 160 px), each with the size and checksums recorded by others
 * (see datasets.c for the sources), and the cache folder they unpack into:
 *   CACHE/NAME/              the unpacked dataset (train/, val/, label CSV)
 *   CACHE/NAME.tgz.part      a download in progress, resumed by the next run
 *   CACHE/NAME.tgz           a complete download (removed after unpacking)
 * CACHE is $NOISETTE_DATA, else $XDG_CACHE_HOME/noisette, else
 * ~/.cache/noisette. Nothing here touches the network. */
#ifndef NOISETTE_GET_DATASETS_H
#define NOISETTE_GET_DATASETS_H

#include <stddef.h>
#include <stdint.h>

/* The official addresses (fastai/imagenette README): GET_URL_BASE NAME.tgz. */
#define GET_URL_BASE "https://s3.amazonaws.com/fast-ai-imageclas/"

/* Short names pick a variant by image size as the reference does. */
#define GET_DEFAULT_SIZE 128
#define GET_SIZE_320_MAX 224    /* size <= this: the -320 variant; above: full size */

typedef struct {
    const char *name;       /* "imagenette2-320": the archive and its folder */
    const char *label_csv;  /* the label file inside: "noisy_imagenette.csv" */
    int64_t     size;       /* bytes of NAME.tgz; 0 when unknown */
    const char *md5_head;   /* MD5 of the first GET_MD5_HEAD_BYTES, as fastai
                               checks its downloads; NULL when unknown */
    const char *md5_full;   /* MD5 of the whole archive; NULL when unknown */
} GetDataset;

#define GET_MD5_HEAD_BYTES ((int64_t)1 << 20)

/* The known datasets, in the order --list shows them. */
int get_dataset_count(void);
const GetDataset *get_dataset_at(int i);

/* The dataset an archive name or a short name means: an exact name
 * ("imagewoof2-160"), or "imagenette" / "imagewoof" with the image size
 * that picks the variant (size <= 224: -320, above: full size; size <= 0
 * means GET_DEFAULT_SIZE). NULL when the name is not known. */
const GetDataset *get_dataset_find(const char *name, int size);

/* The cache folder: dir when not NULL, else from the environment as above.
 * Writes at most cap bytes to buf. Fails (ERR_USAGE) when no variable gives
 * a folder or the path does not fit. Creates nothing. */
int get_cache_dir(const char *dir, char *buf, size_t cap);

/* The address of a dataset's archive: url when not NULL (a trailing '/'
 * makes it a mirror folder: url + NAME.tgz), else $NOISETTE_MIRROR the same
 * way, else GET_URL_BASE NAME.tgz. Returns a new string (free()) or NULL
 * when out of memory (message recorded). */
char *get_dataset_url(const GetDataset *d, const char *url);

/* Formats bytes with a decimal unit ("94.4 MB") into buf; returns buf. */
const char *get_format_bytes(int64_t bytes, char *buf, size_t cap);

#endif
