/* Label table: parsing, writing and building; see label_table.h.
 *
 * Parsing is two passes over the records: the first checks each row and
 * interns its label strings in a vocabulary of first-seen ids; the second
 * (after the last row) sorts the vocabulary into classes and outsiders and
 * renumbers every label. Every problem is reported where it sits. */
#include "labels/label_table.h"

#include "labels/csv.h"
#include "util/err.h"
#include "util/fileio.h"
#include "util/strmap.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LABELS_FILE_MAX ((size_t)1 << 31)
#define LEVEL_PREFIX "noisy_labels_"

void labels_free(LabelTable *t) {
    if (t->paths)
        for (int i = 0; i < t->n_rows; i++)
            free(t->paths[i]);
    if (t->names)
        for (int i = 0; i < t->n_names; i++)
            free(t->names[i]);
    free(t->paths);
    free(t->names);
    free(t->is_valid);
    free(t->lines);
    free(t->truth);
    free(t->noisy);
    memset(t, 0, sizeof *t);
}

/* ---- header ----------------------------------------------------------- */

/* Where each known column sits in the file. */
typedef struct {
    int n_cols;
    int col_path, col_valid, col_truth;
    int col_level[LABELS_MAX_LEVELS];   /* in file order of the level columns */
} Header;

static int level_of_name(const char *name, double *pct) {
    if (strncmp(name, LEVEL_PREFIX, strlen(LEVEL_PREFIX)) != 0)
        return 0;
    const char *num = name + strlen(LEVEL_PREFIX);
    char *end;
    /* A number as written, digit first: strtod alone would also skip white
     * space (a "\v25" would not survive being written back) and take a sign. */
    if (!isdigit((unsigned char)*num) && *num != '.')
        return 0;
    double v = strtod(num, &end);
    if (*end || !isfinite(v) || v < 0 || v >= 100)
        return 0;
    *pct = v;
    return 1;
}

static int parse_header(CsvReader *r, LabelTable *t, Header *h) {
    memset(h, 0, sizeof *h);
    h->col_path = h->col_valid = h->col_truth = -1;
    h->n_cols = r->n_fields;

    for (int c = 0; c < r->n_fields; c++) {
        const char *f = r->fields[c];
        int *slot = NULL;
        double pct = 0;

        if (strcmp(f, "path") == 0) {
            slot = &h->col_path;
        } else if (strcmp(f, "is_valid") == 0) {
            slot = &h->col_valid;
        } else if (strncmp(f, LEVEL_PREFIX, strlen(LEVEL_PREFIX)) == 0 &&
                   strlen(f) - strlen(LEVEL_PREFIX) >= LABELS_LEVEL_TEXT) {
            /* Longer than level_text holds: it could not be written back. */
            return err_set(ERR_PARSE, "%s:1:%d: column name \"%.64s\" too long (at most "
                           "%d characters after %s)", r->name, r->field_col[c], f,
                           LABELS_LEVEL_TEXT - 1, LEVEL_PREFIX);
        } else if (level_of_name(f, &pct) && pct == 0) {
            slot = &h->col_truth;
        } else if (level_of_name(f, &pct)) {
            if (labels_find_level(t, pct) >= 0)
                return err_set(ERR_PARSE, "%s:1:%d: duplicate column \"%s\" (noise level %g%% "
                               "appears twice)", r->name, r->field_col[c], f, pct);
            if (t->n_levels == LABELS_MAX_LEVELS)
                return err_set(ERR_PARSE, "%s:1:%d: more than %d noise-level columns",
                               r->name, r->field_col[c], LABELS_MAX_LEVELS);
            h->col_level[t->n_levels] = c;
            t->levels[t->n_levels] = pct;
            snprintf(t->level_text[t->n_levels], LABELS_LEVEL_TEXT, "%s",
                     f + strlen(LEVEL_PREFIX));
            t->n_levels++;
            continue;
        } else {
            return err_set(ERR_PARSE, "%s:1:%d: unknown column \"%.64s\" (expected path, "
                           "noisy_labels_P for P in [0,100), is_valid)",
                           r->name, r->field_col[c], f);
        }
        if (*slot >= 0)
            return err_set(ERR_PARSE, "%s:1:%d: duplicate column \"%s\"",
                           r->name, r->field_col[c], f);
        *slot = c;
    }

    const char *missing = h->col_path < 0 ? "path"
                        : h->col_truth < 0 ? "noisy_labels_0"
                        : h->col_valid < 0 ? "is_valid" : NULL;
    if (missing)
        return err_set(ERR_PARSE, "%s:1: missing column \"%s\" (a label CSV has path, "
                       "noisy_labels_0, noisy_labels_P..., is_valid)", r->name, missing);
    return ERR_OK;
}

/* ---- rows ------------------------------------------------------------- */

/* Growable per-row arrays while parsing; labels hold vocabulary ids. */
typedef struct {
    int      cap;
    StrMap   vocab, seen_paths;
    char   **vocab_names;
    int      n_vocab, vocab_cap;
    uint8_t *vocab_is_truth;
} Builder;

static int grow_rows(LabelTable *t, Builder *b) {
    int cap = b->cap ? 2 * b->cap : 1024;
    void *p;

    if (!(p = realloc(t->paths, (size_t)cap * sizeof *t->paths))) goto nomem;
    t->paths = p;
    if (!(p = realloc(t->is_valid, (size_t)cap))) goto nomem;
    t->is_valid = p;
    if (!(p = realloc(t->lines, (size_t)cap * sizeof *t->lines))) goto nomem;
    t->lines = p;
    if (!(p = realloc(t->truth, (size_t)cap * sizeof *t->truth))) goto nomem;
    t->truth = p;
    if (!(p = realloc(t->noisy, (size_t)cap * (size_t)(t->n_levels + 1) * sizeof *t->noisy)))
        goto nomem;
    t->noisy = p;
    b->cap = cap;
    return ERR_OK;
nomem:
    return err_set(ERR_NOMEM, "out of memory");
}

static int intern(Builder *b, const char *s, int as_truth, int *id) {
    int v = strmap_get(&b->vocab, s);
    if (v < 0) {
        if (b->n_vocab == b->vocab_cap) {
            int cap = b->vocab_cap ? 2 * b->vocab_cap : 32;
            char **n = realloc(b->vocab_names, (size_t)cap * sizeof *n);
            if (n)
                b->vocab_names = n;
            uint8_t *f = realloc(b->vocab_is_truth, (size_t)cap);
            if (f)
                b->vocab_is_truth = f;
            if (!n || !f)
                return err_set(ERR_NOMEM, "out of memory");
            b->vocab_cap = cap;
        }
        v = b->n_vocab;
        b->vocab_names[v] = strdup(s);
        if (!b->vocab_names[v])
            return err_set(ERR_NOMEM, "out of memory");
        b->vocab_is_truth[v] = 0;
        b->n_vocab++;
        int rc = strmap_put(&b->vocab, s, v);
        if (rc < 0)
            return rc;
    }
    if (as_truth)
        b->vocab_is_truth[v] = 1;
    *id = v;
    return ERR_OK;
}

/* Checks one data record and appends it; labels are vocabulary ids. While
 * parsing, noisy is row-major (n_levels per row) so it can grow by rows. */
static int parse_row(CsvReader *r, const Header *h, LabelTable *t, Builder *b) {
    int rc;
    long line = r->row_line;

    if (r->n_fields != h->n_cols) {
        if (r->n_fields == 1 && r->fields[0][0] == '\0')
            return err_set(ERR_PARSE, "%s:%ld: empty line", r->name, line);
        return err_set(ERR_PARSE, "%s:%ld: %d field%s, expected %d as in the header",
                       r->name, line, r->n_fields, r->n_fields == 1 ? "" : "s", h->n_cols);
    }
    if (t->n_rows == b->cap && (rc = grow_rows(t, b)) < 0)
        return rc;
    int i = t->n_rows;

    /* path: non-empty, relative, unique */
    const char *path = r->fields[h->col_path];
    int pc = r->field_col[h->col_path];
    long pl = r->field_line[h->col_path];
    if (!*path)
        return err_set(ERR_PARSE, "%s:%ld:%d: path: empty", r->name, pl, pc);
    if (path[0] == '/')
        return err_set(ERR_PARSE, "%s:%ld:%d: path: \"%.200s\" is absolute; paths are "
                       "relative to the dataset root", r->name, pl, pc, path);
    int dup = strmap_get(&b->seen_paths, path);
    if (dup >= 0)
        return err_set(ERR_PARSE, "%s:%ld:%d: path: \"%.200s\" already on line %ld",
                       r->name, pl, pc, path, t->lines[dup]);
    if ((rc = strmap_put(&b->seen_paths, path, i)) < 0)
        return rc;

    /* is_valid: the literal True or False */
    const char *v = r->fields[h->col_valid];
    if (strcmp(v, "True") != 0 && strcmp(v, "False") != 0)
        return err_set(ERR_PARSE, "%s:%ld:%d: is_valid: expected True or False, got \"%.40s\"",
                       r->name, r->field_line[h->col_valid], r->field_col[h->col_valid], v);

    /* labels: non-empty strings, interned */
    for (int l = -1; l < t->n_levels; l++) {
        int c = l < 0 ? h->col_truth : h->col_level[l];
        if (!r->fields[c][0])
            return err_set(ERR_PARSE, "%s:%ld:%d: empty label in column %s%s",
                           r->name, r->field_line[c], r->field_col[c], LEVEL_PREFIX,
                           l < 0 ? "0" : t->level_text[l]);
        int id;
        if ((rc = intern(b, r->fields[c], l < 0, &id)) < 0)
            return rc;
        if (l < 0)
            t->truth[i] = id;
        else
            t->noisy[(size_t)i * (size_t)t->n_levels + (size_t)l] = id;
    }

    if (!(t->paths[i] = strdup(path)))
        return err_set(ERR_NOMEM, "out of memory");
    t->is_valid[i] = v[0] == 'T';
    t->lines[i] = line;
    t->n_rows++;
    return ERR_OK;
}

/* ---- finishing: vocabulary ids -> sorted class indices ---------------- */

typedef struct {
    const char *name;
    int id, is_truth;
} VocabEntry;

static int cmp_vocab(const void *a, const void *b) {
    const VocabEntry *x = a, *y = b;
    if (x->is_truth != y->is_truth)
        return y->is_truth - x->is_truth;   /* classes first */
    return strcmp(x->name, y->name);
}

static int finish(LabelTable *t, Builder *b) {
    int nv = b->n_vocab;
    VocabEntry *e = malloc((size_t)(nv ? nv : 1) * sizeof *e);
    int *remap = malloc((size_t)(nv ? nv : 1) * sizeof *remap);
    int32_t *noisy = malloc((size_t)t->n_rows * (size_t)(t->n_levels ? t->n_levels : 1)
                            * sizeof *noisy);
    t->names = malloc((size_t)(nv ? nv : 1) * sizeof *t->names);
    if (!e || !remap || !noisy || !t->names) {
        free(e), free(remap), free(noisy);
        return err_set(ERR_NOMEM, "out of memory");
    }

    /* Sort: classes (true labels) in byte order, then the outsiders. */
    for (int v = 0; v < nv; v++)
        e[v] = (VocabEntry){b->vocab_names[v], v, b->vocab_is_truth[v]};
    qsort(e, (size_t)nv, sizeof *e, cmp_vocab);
    t->n_classes = 0;
    for (int k = 0; k < nv; k++) {
        remap[e[k].id] = k;
        t->names[k] = b->vocab_names[e[k].id];
        b->vocab_names[e[k].id] = NULL;
        t->n_classes += e[k].is_truth;
    }
    t->n_names = nv;

    /* Renumber, and turn noisy from row-major into level-major. */
    t->n_train = t->n_valid = 0;
    for (int i = 0; i < t->n_rows; i++) {
        t->truth[i] = remap[t->truth[i]];
        for (int l = 0; l < t->n_levels; l++)
            noisy[(size_t)l * (size_t)t->n_rows + (size_t)i] =
                remap[t->noisy[(size_t)i * (size_t)t->n_levels + (size_t)l]];
        t->n_valid += t->is_valid[i];
    }
    t->n_train = t->n_rows - t->n_valid;
    free(t->noisy);
    t->noisy = noisy;
    free(e);
    free(remap);
    return ERR_OK;
}

static void builder_free(Builder *b) {
    if (b->vocab_names)
        for (int v = 0; v < b->n_vocab; v++)
            free(b->vocab_names[v]);
    free(b->vocab_names);
    free(b->vocab_is_truth);
    strmap_free(&b->vocab);
    strmap_free(&b->seen_paths);
}

int labels_parse(const char *name, const char *data, size_t len, LabelTable *t) {
    memset(t, 0, sizeof *t);
    if (len == 0)
        return err_set(ERR_PARSE, "%s: empty file (expected a header line: path,"
                       "noisy_labels_0,...,is_valid)", name);

    CsvReader r;
    Builder b;
    memset(&b, 0, sizeof b);
    strmap_init(&b.vocab);
    strmap_init(&b.seen_paths);
    csv_reader_init(&r, name, data, len, 0);

    /* Header, rows, then the sorted vocabulary. */
    Header h;
    int rc = csv_read_row(&r);
    if (rc > 0)
        rc = parse_header(&r, t, &h);
    while (rc >= 0 && (rc = csv_read_row(&r)) > 0)
        rc = parse_row(&r, &h, t, &b);
    if (rc == 0 && t->n_rows == 0)
        rc = err_set(ERR_PARSE, "%s:%ld: no data rows after the header", name, r.line);
    if (rc == 0)
        rc = finish(t, &b);

    csv_reader_free(&r);
    builder_free(&b);
    if (rc < 0)
        labels_free(t);
    return rc < 0 ? rc : ERR_OK;
}

int labels_read(const char *path, LabelTable *t) {
    char *data;
    size_t len;
    memset(t, 0, sizeof *t);
    int rc = file_read_all(path, LABELS_FILE_MAX, &data, &len);
    if (rc < 0)
        return rc;
    rc = labels_parse(path, data, len, t);
    free(data);
    return rc;
}

/* ---- writing and building --------------------------------------------- */

int labels_write(const LabelTable *t, FILE *fp) {
    fputs("path," LEVEL_PREFIX "0", fp);
    for (int l = 0; l < t->n_levels; l++)
        fprintf(fp, "," LEVEL_PREFIX "%s", t->level_text[l]);
    fputs(",is_valid\n", fp);

    for (int i = 0; i < t->n_rows; i++) {
        csv_write_field(fp, t->paths[i]);
        fputc(',', fp);
        csv_write_field(fp, t->names[t->truth[i]]);
        for (int l = 0; l < t->n_levels; l++) {
            fputc(',', fp);
            csv_write_field(fp, t->names[labels_noisy(t, l)[i]]);
        }
        fputs(t->is_valid[i] ? ",True\n" : ",False\n", fp);
    }
    return ferror(fp) ? err_set(ERR_IO, "write failed") : ERR_OK;
}

int labels_from_truth(LabelTable *t, int n, const char *const *paths,
                      const char *const *truth_names, const uint8_t *is_valid) {
    memset(t, 0, sizeof *t);
    Builder b;
    memset(&b, 0, sizeof b);
    strmap_init(&b.vocab);
    strmap_init(&b.seen_paths);

    int rc = ERR_OK;
    for (int i = 0; i < n && rc == ERR_OK; i++) {
        if (t->n_rows == b.cap && (rc = grow_rows(t, &b)) < 0)
            break;
        if (strmap_get(&b.seen_paths, paths[i]) >= 0) {
            rc = err_set(ERR_INVALID, "duplicate path \"%s\"", paths[i]);
            break;
        }
        if ((rc = strmap_put(&b.seen_paths, paths[i], i)) < 0)
            break;
        if ((rc = intern(&b, truth_names[i], 1, &t->truth[i])) < 0)
            break;
        if (!(t->paths[i] = strdup(paths[i]))) {
            rc = err_set(ERR_NOMEM, "out of memory");
            break;
        }
        t->is_valid[i] = is_valid[i] != 0;
        t->lines[i] = 0;
        t->n_rows++;
    }
    if (rc == ERR_OK && n == 0)
        rc = err_set(ERR_INVALID, "no images found");
    if (rc == ERR_OK)
        rc = finish(t, &b);

    builder_free(&b);
    if (rc < 0)
        labels_free(t);
    else {
        free(t->lines);
        t->lines = NULL;
    }
    return rc;
}

int labels_find_level(const LabelTable *t, double pct) {
    for (int l = 0; l < t->n_levels; l++)
        if (t->levels[l] == pct)
            return l;
    return -1;
}

int labels_reset_levels(LabelTable *t, int n_levels, const double *levels) {
    if (n_levels < 0 || n_levels > LABELS_MAX_LEVELS)
        return err_set(ERR_USAGE, "at most %d noise levels", LABELS_MAX_LEVELS);
    int32_t *noisy = malloc((size_t)t->n_rows * (size_t)(n_levels ? n_levels : 1)
                            * sizeof *noisy);
    if (!noisy)
        return err_set(ERR_NOMEM, "out of memory");

    for (int l = 0; l < n_levels; l++) {
        t->levels[l] = levels[l];
        snprintf(t->level_text[l], LABELS_LEVEL_TEXT, "%.10g", levels[l]);
        memcpy(noisy + (size_t)l * (size_t)t->n_rows, t->truth, (size_t)t->n_rows * sizeof *noisy);
    }
    free(t->noisy);
    t->noisy = noisy;
    t->n_levels = n_levels;
    return ERR_OK;
}
