/* A dataset ready for training at one noise level.
 *
 * Two kinds: an image folder read through its label CSV (image path =
 * root/path, training labels from the column noisy_labels_P, split by
 * is_valid), and Fashion-MNIST from its IDX files, with noisy labels made
 * on the fly from a seed or read from a CSV of `noisette labels`. Classes
 * are the sorted distinct true labels. Everything a run could trip over
 * (a missing image, a label outside the classes, a class without training
 * images) is found when the dataset is opened, before any training. */
#ifndef NOISETTE_DATA_DATASET_H
#define NOISETTE_DATA_DATASET_H

#include "labels/label_table.h"

#include <stdint.h>

typedef enum {
    DATASET_FOLDER = 1,
    DATASET_FMNIST = 2
} DatasetKind;

typedef enum {
    SPLIT_TRAIN = 0,
    SPLIT_VALID = 1
} Split;

#define DATASET_SHOW_MAX 5      /* offenders listed in an error */

typedef struct {
    const char *data;           /* a dataset folder or "fashion-mnist" */
    const char *labels;         /* label CSV; NULL: the folder's noisy_NAME.csv */
    double      pct;            /* noise level: noisy_labels_<pct>, 0 = truth */
    uint64_t    seed;           /* Fashion-MNIST without a CSV: the noise seed */
    const char *fmnist_dir;     /* NULL: the Debian folder */
    int         check_files;    /* folder: check every image exists (default on) */
} DatasetOptions;

typedef struct {
    DatasetKind kind;
    char       *root;           /* folder: where paths are relative to */
    char       *labels_path;    /* the CSV read, or NULL when made on the fly */
    LabelTable  table;
    int         level;          /* table column of the training labels, -1 = truth */
    double      pct;
    int         channels;       /* 3, or 1 for Fashion-MNIST */
    int         n_classes;
    int         n[2];           /* items per split */
    int        *rows[2];        /* table row of each item, in file order */
    int32_t    *label[2];       /* class learnt from: noisy (train), true (valid) */
    uint8_t    *pixels;         /* Fashion-MNIST: 28x28 bytes per table row */
} Dataset;

/* Opens the dataset described by opt into d (dataset_free releases it).
 * Fails with a message naming the file and the first offenders. */
int dataset_open(Dataset *d, const DatasetOptions *opt);

void dataset_free(Dataset *d);

/* Path of item i of a split relative to the root ("train/n01440764/x.JPEG"). */
const char *dataset_item_path(const Dataset *d, Split s, int i);

/* The name to show for class k: "tench" for Imagenette's n01440764,
 * else the label itself. */
const char *dataset_class_name(const Dataset *d, int k);

#endif
