/* Fashion-MNIST label table from its IDX label files; see fashion_mnist.h. */
#include "data/fashion_mnist.h"

#include "data/idx.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const FMNIST_CLASS_NAMES[FMNIST_CLASSES] = {
    "tshirt_top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle_boot",
};

static const char *const FMNIST_LABEL_FILES[2] = {
    "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
};

static const char *const FMNIST_IMAGE_FILES[2] = {
    "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz",
};

#define FMNIST_N_TRAIN 60000
#define FMNIST_N_TEST  10000

#define FMNIST_PATH_LEN 32

static int check_dir(const char *dir) {
    if (!file_is_dir(dir))
        return err_set(ERR_IO, "%s: no such folder; install Fashion-MNIST with "
                       "'apt-get install dataset-fashion-mnist' or name its folder "
                       "with --fashion-mnist-dir", dir);
    return ERR_OK;
}

/* Reads the training and test files of one kind (labels: 1-D; images:
 * N x 28 x 28) from dir into split[0] and split[1]. */
static int read_splits(const char *dir, const char *const files[2], int images,
                       IdxArray split[2]) {
    if (!dir)
        dir = FMNIST_DEFAULT_DIR;
    if (check_dir(dir) < 0)
        return ERR_IO;

    int rc = ERR_OK;
    for (int s = 0; s < 2 && rc == ERR_OK; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[s]);
        rc = idx_read(path, &split[s]);
        const IdxArray *a = &split[s];
        int shape_ok = images ? a->ndim == 3 && a->dims[1] == FMNIST_SIDE &&
                                a->dims[2] == FMNIST_SIDE
                              : a->ndim == 1;
        if (rc == ERR_OK && !shape_ok)
            rc = err_set(ERR_PARSE, "%s: expected %s, got %d dimensions", path,
                         images ? "N x 28 x 28 images" : "a 1-D label file", a->ndim);
    }
    return rc;
}

int fmnist_label_table(const char *dir, LabelTable *t) {
    /* Both label files, checked: one dimension, labels in 0..9. */
    IdxArray split[2] = {{0}};
    int rc = read_splits(dir, FMNIST_LABEL_FILES, 0, split);
    for (int s = 0; s < 2 && rc == ERR_OK; s++)
        for (size_t i = 0; rc == ERR_OK && i < split[s].size; i++)
            if (split[s].data[i] >= FMNIST_CLASSES)
                rc = err_set(ERR_PARSE, "%s: label %u at index %zu is not in 0..9",
                             FMNIST_LABEL_FILES[s], split[s].data[i], i);

    /* Rows: train/NNNNN then val/NNNNN, named by index within the split. */
    size_t n = rc == ERR_OK ? split[0].size + split[1].size : 0;
    char (*paths)[FMNIST_PATH_LEN] = malloc((n ? n : 1) * sizeof *paths);
    const char **path_ptr = malloc((n ? n : 1) * sizeof *path_ptr);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    uint8_t *is_valid = malloc(n ? n : 1);
    if (rc == ERR_OK && (!paths || !path_ptr || !names || !is_valid))
        rc = err_set(ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        size_t r = 0;
        for (int s = 0; s < 2; s++) {
            for (size_t i = 0; i < split[s].size; i++, r++) {
                snprintf(paths[r], FMNIST_PATH_LEN, "%s/%05zu", s ? "val" : "train", i);
                path_ptr[r] = paths[r];
                names[r] = FMNIST_CLASS_NAMES[split[s].data[i]];
                is_valid[r] = (uint8_t)s;
            }
        }
        rc = labels_from_truth(t, (int)n, path_ptr, names, is_valid);
    }

    free(paths);
    free(path_ptr);
    free(names);
    free(is_valid);
    idx_free(&split[0]);
    idx_free(&split[1]);
    return rc;
}

int fmnist_read_images(const char *dir, uint8_t **pixels, int *n_images) {
    /* Both files: N x 28 x 28 bytes each, then one buffer in row order. */
    IdxArray split[2] = {{0}};
    int rc = read_splits(dir, FMNIST_IMAGE_FILES, 1, split);
    if (rc == ERR_OK) {
        *pixels = malloc(split[0].size + split[1].size);
        if (!*pixels)
            rc = err_set(ERR_NOMEM, "out of memory");
    }
    if (rc == ERR_OK) {
        memcpy(*pixels, split[0].data, split[0].size);
        memcpy(*pixels + split[0].size, split[1].data, split[1].size);
        *n_images = (int)(split[0].dims[0] + split[1].dims[0]);
    }
    idx_free(&split[0]);
    idx_free(&split[1]);
    return rc;
}

int fmnist_path_index(const char *path) {
    int base, limit;
    const char *num;
    if (strncmp(path, "train/", 6) == 0) {
        base = 0, limit = FMNIST_N_TRAIN, num = path + 6;
    } else if (strncmp(path, "val/", 4) == 0) {
        base = FMNIST_N_TRAIN, limit = FMNIST_N_TEST, num = path + 4;
    } else {
        return -1;
    }
    if (strlen(num) != 5 || strspn(num, "0123456789") != 5)
        return -1;
    int i = atoi(num);
    return i < limit ? base + i : -1;
}
