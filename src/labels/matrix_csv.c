/* Transition-matrix CSV reader; see matrix_csv.h. Spreadsheet exports are
 * welcome here, so a byte-order mark and CRLF line ends are accepted. */
#include "labels/matrix_csv.h"

#include "labels/csv.h"
#include "labels/noise.h"
#include "util/err.h"
#include "util/fileio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MATRIX_FILE_MAX ((size_t)64 << 20)

static int parse_number(const char *s, double *v) {
    char *end;
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    *v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end == '\0' && isfinite(*v);
}

/* Checks an optional header line of class names against t's order. */
static int check_header(const CsvReader *r, const LabelTable *t, const char *path) {
    int k = t->n_classes;
    if (r->n_fields != k)
        return err_set(ERR_PARSE, "%s:%ld: header names %d classes, the labels have %d",
                       path, r->row_line, r->n_fields, k);
    for (int j = 0; j < k; j++)
        if (strcmp(r->fields[j], t->names[j]) != 0)
            return err_set(ERR_PARSE, "%s:%ld:%d: column %d is \"%.64s\", expected \"%s\" "
                           "(classes in sorted order)", path, r->row_line, r->field_col[j],
                           j + 1, r->fields[j], t->names[j]);
    return ERR_OK;
}

static int parse_matrix(CsvReader *r, const LabelTable *t, const char *path, double *m) {
    int k = t->n_classes, row = 0, rc;
    double v;

    while ((rc = csv_read_row(r)) > 0) {
        /* A first line that is not numeric is a header of class names. */
        if (r->row_line == 1 && !parse_number(r->fields[0], &v)) {
            if ((rc = check_header(r, t, path)) < 0)
                return rc;
            continue;
        }
        if (row == k)
            return err_set(ERR_PARSE, "%s:%ld: more than %d rows (one per class)", path,
                           r->row_line, k);
        if (r->n_fields != k)
            return err_set(ERR_PARSE, "%s:%ld: %d values, expected %d (one per class)",
                           path, r->row_line, r->n_fields, k);
        for (int j = 0; j < k; j++)
            if (!parse_number(r->fields[j], &m[row * k + j]))
                return err_set(ERR_PARSE, "%s:%ld:%d: expected a number, got \"%.40s\"",
                               path, r->field_line[j], r->field_col[j], r->fields[j]);
        row++;
    }
    if (rc < 0)
        return rc;
    if (row < k)
        return err_set(ERR_PARSE, "%s: %d rows, expected %d (one per class)", path, row, k);
    if ((rc = noise_check_matrix(m, k)) < 0)
        return err_prefix(rc, "%s", path);
    return ERR_OK;
}

int matrix_csv_read(const char *path, const LabelTable *t, double **m) {
    char *data;
    size_t len;
    int rc = file_read_all(path, MATRIX_FILE_MAX, &data, &len);
    if (rc < 0)
        return rc;

    *m = calloc((size_t)t->n_classes * (size_t)t->n_classes + 1, sizeof **m);
    if (!*m) {
        free(data);
        return err_set(ERR_NOMEM, "out of memory");
    }
    CsvReader r;
    csv_reader_init(&r, path, data, len, CSV_ALLOW_BOM | CSV_ALLOW_CRLF);
    rc = parse_matrix(&r, t, path, *m);
    csv_reader_free(&r);
    free(data);
    if (rc < 0) {
        free(*m);
        *m = NULL;
    }
    return rc;
}
