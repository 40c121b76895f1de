/* Datasets at one noise level; see dataset.h. */
#include "data/dataset.h"

#include "data/fashion_mnist.h"
#include "data/folder.h"
#include "labels/class_names.h"
#include "labels/noise.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DATASET_PATH_MAX 4096

void dataset_free(Dataset *d) {
    free(d->root);
    free(d->labels_path);
    labels_free(&d->table);
    for (int s = 0; s < 2; s++) {
        free(d->rows[s]);
        free(d->label[s]);
    }
    free(d->pixels);
    memset(d, 0, sizeof *d);
}

const char *dataset_item_path(const Dataset *d, Split s, int i) {
    return d->table.paths[d->rows[s][i]];
}

const char *dataset_class_name(const Dataset *d, int k) {
    const char *human = class_display_name(d->table.names[k]);
    return human ? human : d->table.names[k];
}

/* Appends "a, b, c" (the first few offenders) to buf. */
static void list_add(char *buf, size_t cap, long *count, const char *item) {
    if (*count < DATASET_SHOW_MAX) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", item);
    }
    (*count)++;
}

/* ---- finding the label CSV of a folder -------------------------------- */

/* The folder's noisy_NAME.csv, else its only noisy_*.csv. */
static int find_labels_csv(const char *root, char *out, size_t cap) {
    char name[256];
    folder_dataset_name(root, name, sizeof name);
    snprintf(out, cap, "%s/noisy_%s.csv", root, name);
    if (file_exists(out))
        return ERR_OK;

    DIR *dir = opendir(root);
    if (!dir)
        return err_set_errno(ERR_IO, "%s: cannot open folder", root);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "noisy_", 6) == 0 && n > 10 &&
            strcmp(e->d_name + n - 4, ".csv") == 0) {
            if (found++ == 0)
                snprintf(out, cap, "%s/%s", root, e->d_name);
        }
    }
    closedir(dir);
    if (found == 1)
        return ERR_OK;
    return err_set(ERR_IO, "%s: %s label CSV (noisy_*.csv); name one with --labels FILE, "
                   "or make one with 'noisette labels %s'", root,
                   found ? "more than one" : "no", root);
}

/* ---- the two kinds ------------------------------------------------------ */

static int open_folder(Dataset *d, const DatasetOptions *opt) {
    char csv[DATASET_PATH_MAX];
    int rc = ERR_OK;
    if (opt->labels)
        snprintf(csv, sizeof csv, "%s", opt->labels);
    else
        rc = find_labels_csv(opt->data, csv, sizeof csv);
    if (rc < 0)
        return rc;

    d->kind = DATASET_FOLDER;
    d->channels = 3;
    d->root = strdup(opt->data);
    d->labels_path = strdup(csv);
    if (!d->root || !d->labels_path)
        return err_set(ERR_NOMEM, "out of memory");
    return labels_read(csv, &d->table);
}

static int open_fmnist(Dataset *d, const DatasetOptions *opt) {
    d->kind = DATASET_FMNIST;
    d->channels = 1;
    int n_images = 0;
    int rc = fmnist_read_images(opt->fmnist_dir, &d->pixels, &n_images);
    if (rc < 0)
        return rc;

    /* Labels on the fly: the truth, then uniform noise at pct. */
    if (!opt->labels) {
        if ((rc = fmnist_label_table(opt->fmnist_dir, &d->table)) < 0)
            return rc;
        if (opt->pct <= 0)
            return labels_reset_levels(&d->table, 0, NULL);
        NoiseSpec spec = {.kind = NOISE_UNIFORM, .n_levels = 1, .levels = {opt->pct},
                          .seed = opt->seed};
        return noise_apply(&d->table, &spec);
    }

    /* Labels from a CSV: each row must name a Fashion-MNIST image, and the
     * pixels are reordered to follow the table. */
    if ((rc = labels_read(opt->labels, &d->table)) < 0)
        return rc;
    if (!(d->labels_path = strdup(opt->labels)))
        return err_set(ERR_NOMEM, "out of memory");
    uint8_t *px = malloc((size_t)d->table.n_rows * FMNIST_SIDE * FMNIST_SIDE);
    if (!px)
        return err_set(ERR_NOMEM, "out of memory");
    char bad[512] = "";
    long n_bad = 0;
    for (int r = 0; r < d->table.n_rows; r++) {
        int k = fmnist_path_index(d->table.paths[r]);
        if (k < 0 || k >= n_images) {
            list_add(bad, sizeof bad, &n_bad, d->table.paths[r]);
            continue;
        }
        memcpy(px + (size_t)r * FMNIST_SIDE * FMNIST_SIDE,
               d->pixels + (size_t)k * FMNIST_SIDE * FMNIST_SIDE, FMNIST_SIDE * FMNIST_SIDE);
    }
    free(d->pixels);
    d->pixels = px;
    if (n_bad)
        return err_set(ERR_INVALID, "%s: %ld path%s no Fashion-MNIST image (expected "
                       "train/NNNNN or val/NNNNN): %s%s", opt->labels, n_bad,
                       n_bad == 1 ? " names" : "s name", bad,
                       n_bad > DATASET_SHOW_MAX ? ", ..." : "");
    return ERR_OK;
}

/* ---- level, splits and checks ----------------------------------------- */

static int select_level(Dataset *d, double pct) {
    const LabelTable *t = &d->table;
    d->pct = pct;
    d->level = pct > 0 ? labels_find_level(t, pct) : -1;
    if (pct > 0 && d->level < 0) {
        char have[256] = "";
        for (int l = 0; l < t->n_levels; l++) {
            size_t n = strlen(have);
            snprintf(have + n, sizeof have - n, "%s%s", l ? ", " : "", t->level_text[l]);
        }
        return err_set(ERR_INVALID, "%s: no noisy_labels_%g column (levels: 0%s%s)",
                       d->labels_path ? d->labels_path : "labels", pct, *have ? ", " : "",
                       have);
    }
    return ERR_OK;
}

static int build_splits(Dataset *d) {
    const LabelTable *t = &d->table;
    d->n_classes = t->n_classes;
    d->n[SPLIT_TRAIN] = t->n_train;
    d->n[SPLIT_VALID] = t->n_valid;
    for (int s = 0; s < 2; s++) {
        d->rows[s] = malloc((size_t)(d->n[s] ? d->n[s] : 1) * sizeof *d->rows[s]);
        d->label[s] = malloc((size_t)(d->n[s] ? d->n[s] : 1) * sizeof *d->label[s]);
        if (!d->rows[s] || !d->label[s])
            return err_set(ERR_NOMEM, "out of memory");
    }

    /* Training items learn from the chosen column; validation stays clean. */
    const int32_t *noisy = d->level >= 0 ? labels_noisy(t, d->level) : t->truth;
    int fill[2] = {0, 0};
    for (int r = 0; r < t->n_rows; r++) {
        int s = t->is_valid[r] ? SPLIT_VALID : SPLIT_TRAIN;
        d->rows[s][fill[s]] = r;
        d->label[s][fill[s]] = s == SPLIT_VALID ? t->truth[r] : noisy[r];
        fill[s]++;
    }
    return ERR_OK;
}

static int check_labels(const Dataset *d) {
    const LabelTable *t = &d->table;
    const char *src = d->labels_path ? d->labels_path : "labels";
    char bad[512] = "";
    long n_bad = 0;

    /* Every training label must be a class. */
    for (int i = 0; i < d->n[SPLIT_TRAIN]; i++) {
        int r = d->rows[SPLIT_TRAIN][i];
        if (d->label[SPLIT_TRAIN][i] >= d->n_classes) {
            char item[320];
            snprintf(item, sizeof item, "line %ld \"%s\"", t->lines ? t->lines[r] : 0L,
                     t->names[d->label[SPLIT_TRAIN][i]]);
            list_add(bad, sizeof bad, &n_bad, item);
        }
    }
    if (n_bad)
        return err_set(ERR_INVALID, "%s: %ld training label%s at %g%% %s not a class (the "
                       "classes are the noisy_labels_0 values): %s%s", src, n_bad,
                       n_bad == 1 ? "" : "s", d->pct, n_bad == 1 ? "is" : "are", bad,
                       n_bad > DATASET_SHOW_MAX ? ", ..." : "");
    if (d->n[SPLIT_TRAIN] == 0)
        return err_set(ERR_INVALID, "%s: no training rows (is_valid False)", src);

    /* Every class must have training images to learn from. */
    long *count = calloc((size_t)d->n_classes, sizeof *count);
    if (!count)
        return err_set(ERR_NOMEM, "out of memory");
    for (int i = 0; i < d->n[SPLIT_TRAIN]; i++)
        count[d->label[SPLIT_TRAIN][i]]++;
    for (int k = 0; k < d->n_classes; k++)
        if (count[k] == 0)
            list_add(bad, sizeof bad, &n_bad, t->names[k]);
    free(count);
    if (n_bad)
        return err_set(ERR_INVALID, "%s: %ld class%s without training images at %g%%: %s",
                       src, n_bad, n_bad == 1 ? "" : "es", d->pct, bad);
    return ERR_OK;
}

/* Every image of both splits must exist under the root. */
static int check_files(const Dataset *d) {
    char bad[512] = "", path[DATASET_PATH_MAX];
    long n_bad = 0;
    struct stat st;
    for (int r = 0; r < d->table.n_rows; r++) {
        snprintf(path, sizeof path, "%s/%s", d->root, d->table.paths[r]);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            list_add(bad, sizeof bad, &n_bad, d->table.paths[r]);
    }
    if (n_bad)
        return err_set(ERR_IO, "%s: %ld of %d images listed in %s are missing: %s%s",
                       d->root, n_bad, d->table.n_rows, d->labels_path, bad,
                       n_bad > DATASET_SHOW_MAX ? ", ..." : "");
    return ERR_OK;
}

int dataset_open(Dataset *d, const DatasetOptions *opt) {
    memset(d, 0, sizeof *d);
    int rc;
    if (strcmp(opt->data, "fashion-mnist") == 0)
        rc = open_fmnist(d, opt);
    else if (file_is_dir(opt->data))
        rc = open_folder(d, opt);
    else
        rc = err_set(ERR_IO, "%s: not a dataset folder (train/, val/ and a label CSV) nor "
                     "fashion-mnist", opt->data);

    if (rc == ERR_OK)
        rc = select_level(d, opt->pct);
    if (rc == ERR_OK)
        rc = build_splits(d);
    if (rc == ERR_OK)
        rc = check_labels(d);
    if (rc == ERR_OK && d->kind == DATASET_FOLDER && opt->check_files)
        rc = check_files(d);
    if (rc == ERR_OK)
        log_debug("%s: %d training and %d validation images, %d classes, labels %s at %g%%",
                  opt->data, d->n[SPLIT_TRAIN], d->n[SPLIT_VALID], d->n_classes,
                  d->labels_path ? d->labels_path : "made on the fly", d->pct);
    if (rc < 0)
        dataset_free(d);
    return rc;
}
