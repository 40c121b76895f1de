/* Fashion-MNIST label table from its IDX label files; see fashion_mnist.h. */
#include "data/fashion_mnist.h"

#include "data/idx.h"
#include "util/err.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>

const char *const FMNIST_CLASS_NAMES[FMNIST_CLASSES] = {
    "tshirt_top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle_boot",
};

static const char *const FMNIST_LABEL_FILES[2] = {
    "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
};

#define FMNIST_PATH_LEN 32

int fmnist_label_table(const char *dir, LabelTable *t) {
    if (!dir)
        dir = FMNIST_DEFAULT_DIR;
    if (!file_is_dir(dir))
        return err_set(ERR_IO, "%s: no such folder; install Fashion-MNIST with "
                       "'apt-get install dataset-fashion-mnist' or name its folder "
                       "with --fashion-mnist-dir", dir);

    /* Both label files, checked: one dimension, labels in 0..9. */
    IdxArray split[2] = {{0}};
    int rc = ERR_OK;
    for (int s = 0; s < 2 && rc == ERR_OK; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, FMNIST_LABEL_FILES[s]);
        rc = idx_read(path, &split[s]);
        if (rc == ERR_OK && split[s].ndim != 1)
            rc = err_set(ERR_PARSE, "%s: expected a 1-D label file, got %d dimensions",
                         path, split[s].ndim);
        for (size_t i = 0; rc == ERR_OK && i < split[s].size; i++)
            if (split[s].data[i] >= FMNIST_CLASSES)
                rc = err_set(ERR_PARSE, "%s: label %u at index %zu is not in 0..9", path,
                             split[s].data[i], i);
    }

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
