/* PROBS files: reading several into one table, sorting, writing; see
 * probs.h.
 *
 * Each file is read record by record with the strict CSV reader: the
 * header is checked against the classes already known (or sets them), then
 * each row is checked field by field and appended. Problems are reported
 * where they sit: file, line and the column of the field. */
#include "report/probs.h"

#include "labels/csv.h"
#include "util/err.h"
#include "util/fileio.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROBS_FILE_MAX ((size_t)1 << 34)
#define FIXED_COLS     3                   /* path, given, truth */

static const char *const FIXED_NAMES[FIXED_COLS] = {"path", "given", "truth"};

void probs_init(ProbsTable *t) {
    memset(t, 0, sizeof *t);
    strmap_init(&t->seen);
    strmap_init(&t->class_index);
}

static void free_strings(char **s, int n) {
    if (s)
        for (int i = 0; i < n; i++)
            free(s[i]);
    free(s);
}

void probs_free(ProbsTable *t) {
    free_strings(t->class_names, t->n_classes);
    free_strings(t->paths, t->n_rows);
    free_strings(t->files, t->n_files);
    free(t->given);
    free(t->truth);
    free(t->probs);
    free(t->row_file);
    free(t->row_line);
    strmap_free(&t->seen);
    strmap_free(&t->class_index);
    probs_init(t);
}

/* ---- header ------------------------------------------------------------ */

/* The first file's header: path,given,truth then K >= 2 distinct,
 * non-empty class names. */
static int set_classes(ProbsTable *t, const CsvReader *r) {
    int k = r->n_fields - FIXED_COLS;
    if (k < 2)
        return err_set(ERR_PARSE, "%s:1: %d class column%s; a PROBS file has path,given,truth "
                       "and then at least 2 class columns", r->name, k < 0 ? 0 : k,
                       k == 1 ? "" : "s");
    if (k > PROBS_MAX_CLASSES)
        return err_set(ERR_PARSE, "%s:1: %d class columns, at most %d are supported",
                       r->name, k, PROBS_MAX_CLASSES);
    if (!(t->class_names = calloc((size_t)k, sizeof *t->class_names)))
        return err_set(ERR_NOMEM, "out of memory");
    t->n_classes = k;

    int rc = ERR_OK;
    for (int j = 0; j < k && rc == ERR_OK; j++) {
        const char *s = r->fields[FIXED_COLS + j];
        int col = r->field_col[FIXED_COLS + j];
        int before = strmap_get(&t->class_index, s);
        if (!*s)
            rc = err_set(ERR_PARSE, "%s:1:%d: class column %d has an empty name",
                         r->name, col, j);
        else if (before >= 0)
            rc = err_set(ERR_PARSE, "%s:1:%d: class \"%.64s\" named twice (columns %d and "
                         "%d)", r->name, col, s, FIXED_COLS + before + 1, FIXED_COLS + j + 1);
        else if (!(t->class_names[j] = strdup(s)))
            rc = err_set(ERR_NOMEM, "out of memory");
        else
            rc = strmap_put(&t->class_index, s, j);
    }
    return rc;
}

static int check_header(ProbsTable *t, const CsvReader *r) {
    for (int c = 0; c < FIXED_COLS; c++) {
        if (c == r->n_fields)
            return err_set(ERR_PARSE, "%s:1: missing column \"%s\" (a PROBS header is "
                           "path,given,truth,<classes>)", r->name, FIXED_NAMES[c]);
        if (strcmp(r->fields[c], FIXED_NAMES[c]) != 0)
            return err_set(ERR_PARSE, "%s:1:%d: column %d is \"%.64s\", expected \"%s\" (a "
                           "PROBS header is path,given,truth,<classes>)", r->name,
                           r->field_col[c], c + 1, r->fields[c], FIXED_NAMES[c]);
    }
    if (!t->class_names)
        return set_classes(t, r);

    /* A later file: the same classes in the same order. */
    const char *first = t->files[0];
    if (r->n_fields - FIXED_COLS != t->n_classes)
        return err_set(ERR_PARSE, "%s:1: %d class columns, but %s has %d", r->name,
                       r->n_fields - FIXED_COLS, first, t->n_classes);
    for (int j = 0; j < t->n_classes; j++)
        if (strcmp(r->fields[FIXED_COLS + j], t->class_names[j]) != 0)
            return err_set(ERR_PARSE, "%s:1:%d: class %d is \"%.64s\", but in %s it is "
                           "\"%.64s\"", r->name, r->field_col[FIXED_COLS + j], j,
                           r->fields[FIXED_COLS + j], first, t->class_names[j]);
    return ERR_OK;
}

/* ---- rows ---------------------------------------------------------------- */

static int grow_rows(ProbsTable *t) {
    if (t->cap > INT_MAX / 2)
        return err_set(ERR_NOMEM, "more than %d rows", t->cap);
    int cap = t->cap ? 2 * t->cap : 1024;
    size_t n = (size_t)cap, k = (size_t)t->n_classes;
    void *p;

    if (!(p = realloc(t->paths, n * sizeof *t->paths))) goto nomem;
    t->paths = p;
    if (!(p = realloc(t->given, n * sizeof *t->given))) goto nomem;
    t->given = p;
    if (!(p = realloc(t->truth, n * sizeof *t->truth))) goto nomem;
    t->truth = p;
    if (!(p = realloc(t->probs, n * k * sizeof *t->probs))) goto nomem;
    t->probs = p;
    if (!(p = realloc(t->row_file, n * sizeof *t->row_file))) goto nomem;
    t->row_file = p;
    if (!(p = realloc(t->row_line, n * sizeof *t->row_line))) goto nomem;
    t->row_line = p;
    t->cap = cap;
    return ERR_OK;
nomem:
    return err_set(ERR_NOMEM, "out of memory");
}

/* The class index of label field c, or an error; an empty field gives
 * PROBS_NO_TRUTH when empty_ok. */
static int parse_label(const ProbsTable *t, const CsvReader *r, int c, int empty_ok,
                       int32_t *out) {
    const char *s = r->fields[c];
    if (!*s && empty_ok) {
        *out = PROBS_NO_TRUTH;
        return ERR_OK;
    }
    int j = strmap_get(&t->class_index, s);
    if (j >= 0) {
        *out = j;
        return ERR_OK;
    }
    return err_set(ERR_PARSE, "%s:%ld:%d: %s: \"%.64s\" is not one of the %d classes of the "
                   "header%s", r->name, r->field_line[c], r->field_col[c], FIXED_NAMES[c], s,
                   t->n_classes, *s ? "" : " (given may not be empty)");
}

/* A probability as written: a decimal number, digit or point first (no
 * space, sign, nan, inf or hex), in [0, 1]. */
static int parse_prob(const CsvReader *r, int c, const char *cls, double *p) {
    const char *s = r->fields[c];
    char *end = NULL;
    int decimal = (isdigit((unsigned char)s[0]) || s[0] == '.') &&
                  s[strspn(s, "0123456789.eE+-")] == '\0';
    *p = decimal ? strtod(s, &end) : NAN;
    if (!decimal || *end || !isfinite(*p) || *p > 1)
        return err_set(ERR_PARSE, "%s:%ld:%d: probability of class %s: expected a number in "
                       "[0,1], got \"%.40s\"", r->name, r->field_line[c], r->field_col[c],
                       cls, s);
    return ERR_OK;
}

static int parse_row(ProbsTable *t, const CsvReader *r, int file) {
    int rc, k = t->n_classes;
    long line = r->row_line;

    if (r->n_fields != FIXED_COLS + k) {
        if (r->n_fields == 1 && r->fields[0][0] == '\0')
            return err_set(ERR_PARSE, "%s:%ld: empty line", r->name, line);
        return err_set(ERR_PARSE, "%s:%ld: %d field%s, expected %d as in the header",
                       r->name, line, r->n_fields, r->n_fields == 1 ? "" : "s", FIXED_COLS + k);
    }
    if (t->n_rows == t->cap && (rc = grow_rows(t)) < 0)
        return rc;
    int i = t->n_rows;

    /* path: non-empty and new across all files */
    const char *path = r->fields[0];
    if (!*path)
        return err_set(ERR_PARSE, "%s:%ld:%d: path: empty", r->name, line, r->field_col[0]);
    int dup = strmap_get(&t->seen, path);
    if (dup >= 0)
        return err_set(ERR_PARSE, "%s:%ld:%d: path \"%.200s\" already on %s:%ld", r->name,
                       r->field_line[0], r->field_col[0], path, t->files[t->row_file[dup]],
                       t->row_line[dup]);

    /* labels, then K probabilities summing to 1 */
    if ((rc = parse_label(t, r, 1, 0, &t->given[i])) < 0 ||
        (rc = parse_label(t, r, 2, 1, &t->truth[i])) < 0)
        return rc;
    double *p = t->probs + (size_t)i * (size_t)k, sum = 0;
    for (int j = 0; j < k; j++) {
        if ((rc = parse_prob(r, FIXED_COLS + j, t->class_names[j], &p[j])) < 0)
            return rc;
        sum += p[j];
    }
    if (fabs(sum - 1) > PROBS_SUM_TOL)
        return err_set(ERR_PARSE, "%s:%ld: probabilities sum to %.6g, expected 1 (within %g)",
                       r->name, line, sum, PROBS_SUM_TOL);

    if (!(t->paths[i] = strdup(path)))
        return err_set(ERR_NOMEM, "out of memory");
    t->row_file[i] = file;
    t->row_line[i] = line;
    t->n_truth += t->truth[i] != PROBS_NO_TRUTH;
    t->n_rows++;
    return strmap_put(&t->seen, path, i);
}

/* ---- files --------------------------------------------------------------- */

static int add_file(ProbsTable *t, const char *name) {
    if (t->n_files == t->files_cap) {
        int cap = t->files_cap ? 2 * t->files_cap : 8;
        char **f = realloc(t->files, (size_t)cap * sizeof *f);
        if (!f)
            return err_set(ERR_NOMEM, "out of memory");
        t->files = f;
        t->files_cap = cap;
    }
    if (!(t->files[t->n_files] = strdup(name)))
        return err_set(ERR_NOMEM, "out of memory");
    t->n_files++;
    return ERR_OK;
}

int probs_parse(ProbsTable *t, const char *name, const char *data, size_t len) {
    if (len == 0)
        return err_set(ERR_PARSE, "%s: empty file (expected a header line: path,given,truth,"
                       "<classes>)", name);
    int rc = add_file(t, name);
    if (rc < 0)
        return rc;
    int file = t->n_files - 1;
    long rows_before = t->n_rows;

    /* Header, then rows. */
    CsvReader r;
    csv_reader_init(&r, t->files[file], data, len, 0);
    rc = csv_read_row(&r);
    if (rc > 0)
        rc = check_header(t, &r);
    while (rc >= 0 && (rc = csv_read_row(&r)) > 0)
        rc = parse_row(t, &r, file);
    if (rc == 0 && t->n_rows == rows_before)
        rc = err_set(ERR_PARSE, "%s:%ld: no data rows after the header", name, r.line);
    csv_reader_free(&r);
    return rc < 0 ? rc : ERR_OK;
}

int probs_read(ProbsTable *t, const char *path) {
    char *data;
    size_t len;
    int rc = file_read_all(path, PROBS_FILE_MAX, &data, &len);
    if (rc < 0)
        return rc;
    rc = probs_parse(t, path, data, len);
    free(data);
    return rc;
}

/* ---- sorting and writing ------------------------------------------------- */

typedef struct {
    const char *path;
    int         row;
} PathRow;

static int cmp_path(const void *a, const void *b) {
    return strcmp(((const PathRow *)a)->path, ((const PathRow *)b)->path);
}

/* Applies the permutation (new row i = old row pr[i].row) to one array of
 * n rows of size bytes each. */
static int permute(void *base, size_t size, const PathRow *pr, size_t n) {
    char *copy = malloc(n * size), *b = base;
    if (!copy)
        return err_set(ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        memcpy(copy + i * size, b + (size_t)pr[i].row * size, size);
    memcpy(b, copy, n * size);
    free(copy);
    return ERR_OK;
}

int probs_sort_by_path(ProbsTable *t) {
    size_t n = (size_t)t->n_rows, k = (size_t)t->n_classes;
    if (n == 0)
        return ERR_OK;
    PathRow *pr = malloc(n * sizeof *pr);
    if (!pr)
        return err_set(ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        pr[i] = (PathRow){t->paths[i], (int)i};
    qsort(pr, n, sizeof *pr, cmp_path);     /* paths are unique: a total order */

    /* Every per-row array, then the path map's row numbers. */
    int rc = permute(t->paths, sizeof *t->paths, pr, n);
    if (rc == ERR_OK) rc = permute(t->given, sizeof *t->given, pr, n);
    if (rc == ERR_OK) rc = permute(t->truth, sizeof *t->truth, pr, n);
    if (rc == ERR_OK) rc = permute(t->probs, k * sizeof *t->probs, pr, n);
    if (rc == ERR_OK) rc = permute(t->row_file, sizeof *t->row_file, pr, n);
    if (rc == ERR_OK) rc = permute(t->row_line, sizeof *t->row_line, pr, n);
    for (size_t i = 0; i < n && rc == ERR_OK; i++)
        rc = strmap_put(&t->seen, t->paths[i], (int)i);
    free(pr);
    return rc;
}

/* The shortest %.Ng form of v that strtod reads back to v. */
static void format_prob(char *buf, size_t cap, double v) {
    for (int digits = 6; digits < 17; digits++) {
        snprintf(buf, cap, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, cap, "%.17g", v);
}

int probs_write(const ProbsTable *t, FILE *fp) {
    char num[40];
    fputs("path,given,truth", fp);
    for (int j = 0; j < t->n_classes; j++) {
        fputc(',', fp);
        csv_write_field(fp, t->class_names[j]);
    }
    fputc('\n', fp);

    for (int i = 0; i < t->n_rows; i++) {
        const double *p = t->probs + (size_t)i * (size_t)t->n_classes;
        csv_write_field(fp, t->paths[i]);
        fputc(',', fp);
        csv_write_field(fp, t->class_names[t->given[i]]);
        fputc(',', fp);
        if (t->truth[i] != PROBS_NO_TRUTH)
            csv_write_field(fp, t->class_names[t->truth[i]]);
        for (int j = 0; j < t->n_classes; j++) {
            format_prob(num, sizeof num, p[j]);
            fputc(',', fp);
            fputs(num, fp);
        }
        fputc('\n', fp);
    }
    return ferror(fp) ? err_set(ERR_IO, "write failed") : ERR_OK;
}
