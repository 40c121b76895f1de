/* Image-folder scanning; see folder.h. */
#include "data/folder.h"

#include "util/err.h"
#include "util/fileio.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FOLDER_PATH_MAX 4096

/* A growable list of owned strings. */
typedef struct {
    char **items;
    int    n, cap;
} Names;

static void names_free(Names *v) {
    for (int i = 0; i < v->n; i++)
        free(v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static int names_push(Names *v, const char *s) {
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 64;
        char **grown = realloc(v->items, (size_t)cap * sizeof *grown);
        if (!grown)
            return err_set(ERR_NOMEM, "out of memory");
        v->items = grown;
        v->cap = cap;
    }
    if (!(v->items[v->n] = strdup(s)))
        return err_set(ERR_NOMEM, "out of memory");
    v->n++;
    return ERR_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                   strcasecmp(dot, ".png") == 0);
}

/* Lists dir's visible entries that are folders (want_dirs) or files, sorted. */
static int list_dir(const char *dir, int want_dirs, Names *out, long *skipped) {
    DIR *d = opendir(dir);
    if (!d)
        return err_set_errno(ERR_IO, "%s: cannot open folder", dir);

    int rc = ERR_OK;
    struct dirent *e;
    char full[FOLDER_PATH_MAX];
    while (rc == ERR_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(full, sizeof full, "%s/%s", dir, e->d_name) >= (int)sizeof full) {
            rc = err_set(ERR_IO, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        int is_dir = file_is_dir(full);
        if (want_dirs && is_dir)
            rc = names_push(out, e->d_name);
        else if (!want_dirs && !is_dir && is_image_name(e->d_name))
            rc = names_push(out, e->d_name);
        else if (skipped)
            (*skipped)++;
    }
    closedir(d);
    if (rc == ERR_OK && out->n > 1)
        qsort(out->items, (size_t)out->n, sizeof *out->items, cmp_str);
    return rc;
}

/* Appends split/CLASS/FILE rows for every class of one split. */
static int scan_split(const char *root, const char *split, Names *paths, Names *truth,
                      long *skipped) {
    char dir[FOLDER_PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/%s", root, split) >= (int)sizeof dir)
        return err_set(ERR_IO, "%s: path too long", root);
    if (!file_is_dir(dir))
        return err_set(ERR_IO, "%s: no %s/ folder (a dataset folder holds train/CLASS/* "
                       "and val/CLASS/*)", root, split);

    Names classes = {0};
    int rc = list_dir(dir, 1, &classes, skipped);
    if (rc == ERR_OK && classes.n == 0)
        rc = err_set(ERR_INVALID, "%s: no class folders", dir);
    for (int c = 0; rc == ERR_OK && c < classes.n; c++) {
        char cdir[FOLDER_PATH_MAX], rel[FOLDER_PATH_MAX];
        Names files = {0};
        if (snprintf(cdir, sizeof cdir, "%s/%s", dir, classes.items[c]) >= (int)sizeof cdir)
            rc = err_set(ERR_IO, "%s/%s: path too long", dir, classes.items[c]);
        if (rc == ERR_OK)
            rc = list_dir(cdir, 0, &files, skipped);
        if (rc == ERR_OK && files.n == 0)
            rc = err_set(ERR_INVALID, "%s: no image files (.JPEG, .jpg, .png)", cdir);
        for (int f = 0; rc == ERR_OK && f < files.n; f++) {
            if (snprintf(rel, sizeof rel, "%s/%s/%s", split, classes.items[c],
                         files.items[f]) >= (int)sizeof rel)
                rc = err_set(ERR_IO, "%s/%s: path too long", cdir, files.items[f]);
            if (rc == ERR_OK)
                rc = names_push(paths, rel);
            if (rc == ERR_OK)
                rc = names_push(truth, classes.items[c]);
        }
        names_free(&files);
    }
    names_free(&classes);
    return rc;
}

int folder_label_table(const char *root, LabelTable *t, long *skipped) {
    Names paths = {0}, truth = {0};
    long n_skipped = 0;
    memset(t, 0, sizeof *t);

    int rc = scan_split(root, "train", &paths, &truth, &n_skipped);
    int n_train = paths.n;
    if (rc == ERR_OK)
        rc = scan_split(root, "val", &paths, &truth, &n_skipped);

    uint8_t *is_valid = rc == ERR_OK ? malloc((size_t)paths.n + 1) : NULL;
    if (rc == ERR_OK && !is_valid)
        rc = err_set(ERR_NOMEM, "out of memory");
    if (rc == ERR_OK) {
        for (int i = 0; i < paths.n; i++)
            is_valid[i] = i >= n_train;
        rc = labels_from_truth(t, paths.n, (const char *const *)paths.items,
                               (const char *const *)truth.items, is_valid);
    }

    /* A validation class without training images cannot be learnt. */
    if (rc == ERR_OK) {
        uint8_t *has_train = calloc((size_t)t->n_classes, 1);
        if (!has_train)
            rc = err_set(ERR_NOMEM, "out of memory");
        for (int i = 0; rc == ERR_OK && i < n_train; i++)
            has_train[t->truth[i]] = 1;
        for (int c = 0; rc == ERR_OK && c < t->n_classes; c++)
            if (!has_train[c])
                rc = err_set(ERR_INVALID, "%s/val/%s: class has no train/%s folder", root,
                             t->names[c], t->names[c]);
        free(has_train);
        if (rc < 0)
            labels_free(t);
    }

    free(is_valid);
    names_free(&paths);
    names_free(&truth);
    if (skipped)
        *skipped = n_skipped;
    return rc;
}

void folder_dataset_name(const char *root, char *name, size_t cap) {
    /* Last component, ignoring trailing slashes. */
    size_t end = strlen(root);
    while (end > 1 && root[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && root[start - 1] != '/')
        start--;
    size_t len = end - start;
    if (len >= cap)
        len = cap - 1;
    memcpy(name, root + start, len);
    name[len] = '\0';

    /* Strip "-320" and then "2": imagenette2-320 -> imagenette. */
    char *dash = strrchr(name, '-');
    if (dash && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1))
        *dash = '\0';
    size_t n = strlen(name);
    while (n > 1 && isdigit((unsigned char)name[n - 1]))
        name[--n] = '\0';
    if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        snprintf(name, cap, "dataset");
}
