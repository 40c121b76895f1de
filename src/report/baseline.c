/* Baseline CSV reader; see baseline.h. Spreadsheet exports are welcome, so
 * a byte-order mark and CRLF line ends are accepted; anything else that is
 * not the five columns with numbers in range is an error naming its place. */
#include "report/baseline.h"

#include "labels/csv.h"
#include "util/err.h"
#include "util/fileio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Written by src/report/embed_baseline.cmake from data/extended_lb.csv. */
extern const unsigned char report_baseline_csv[];
extern const size_t report_baseline_csv_len;

static const char *const COLUMNS[] = {"pct_noise", "imagewoof", "size", "epochs", "accuracy"};
#define N_COLUMNS 5

/* A whole-field number: 0 ok, -1 not one. */
static int parse_number(const char *s, double *v) {
    char *end;
    if (!*s || *s == ' ')
        return -1;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v) ? 0 : -1;
}

static int check_header(const CsvReader *r, const char *name) {
    int ok = r->n_fields == N_COLUMNS;
    for (int j = 0; ok && j < N_COLUMNS; j++)
        ok = strcmp(r->fields[j], COLUMNS[j]) == 0;
    if (!ok)
        return err_set(ERR_PARSE, "%s:%ld: header: expected "
                       "pct_noise,imagewoof,size,epochs,accuracy", name, r->row_line);
    return ERR_OK;
}

/* Field j of the current record as a number in [lo, hi], whole if integer. */
static int field_value(const CsvReader *r, const char *name, int j, double lo, double hi,
                       int integer, double *v) {
    if (parse_number(r->fields[j], v) < 0 || *v < lo || *v > hi ||
        (integer && *v != floor(*v)))
        return err_set(ERR_PARSE, "%s:%ld:%d: %s: expected %s in [%g, %g], got \"%.40s\"",
                       name, r->field_line[j], r->field_col[j], COLUMNS[j],
                       integer ? "an integer" : "a number", lo, hi, r->fields[j]);
    return ERR_OK;
}

static int parse_row(const CsvReader *r, const char *name, BaselineRow *row) {
    double v[N_COLUMNS];
    if (r->n_fields != N_COLUMNS)
        return err_set(ERR_PARSE, "%s:%ld: %d fields, expected %d (%s,%s,%s,%s,%s)", name,
                       r->row_line, r->n_fields, N_COLUMNS, COLUMNS[0], COLUMNS[1],
                       COLUMNS[2], COLUMNS[3], COLUMNS[4]);
    int rc;
    if ((rc = field_value(r, name, 0, 0, 100, 0, &v[0])) < 0 ||
        (rc = field_value(r, name, 1, 0, 1, 1, &v[1])) < 0 ||
        (rc = field_value(r, name, 2, 1, 1 << 20, 1, &v[2])) < 0 ||
        (rc = field_value(r, name, 3, 1, 1 << 20, 1, &v[3])) < 0 ||
        (rc = field_value(r, name, 4, 0, 1, 0, &v[4])) < 0)
        return rc;
    row->pct_noise = v[0];
    row->imagewoof = (int)v[1];
    row->size = (int)v[2];
    row->epochs = (int)v[3];
    row->accuracy = v[4];
    row->line = r->row_line;
    return ERR_OK;
}

static int parse_rows(CsvReader *r, const char *name, Baseline *b) {
    int rc, cap = 0;

    /* Step 1: the header. */
    if ((rc = csv_read_row(r)) < 0)
        return rc;
    if (rc == 0)
        return err_set(ERR_PARSE, "%s: empty, expected the header "
                       "pct_noise,imagewoof,size,epochs,accuracy", name);
    if ((rc = check_header(r, name)) < 0)
        return rc;

    /* Step 2: one row per cell; a cell given twice is an error. */
    while ((rc = csv_read_row(r)) > 0) {
        if (b->n == cap) {
            cap = cap ? 2 * cap : 128;
            BaselineRow *grown = realloc(b->rows, (size_t)cap * sizeof *grown);
            if (!grown)
                return err_set(ERR_NOMEM, "out of memory");
            b->rows = grown;
        }
        BaselineRow *row = &b->rows[b->n];
        if ((rc = parse_row(r, name, row)) < 0)
            return rc;
        const BaselineRow *seen =
            baseline_find(b, row->pct_noise, row->imagewoof, row->size, row->epochs);
        if (seen)
            return err_set(ERR_PARSE, "%s:%ld: the cell %g%% noise, imagewoof %d, %d px, "
                           "%d epochs is also on line %ld", name, row->line, row->pct_noise,
                           row->imagewoof, row->size, row->epochs, seen->line);
        b->n++;
    }
    return rc;
}

int baseline_parse(const char *name, const char *data, size_t len, Baseline *b) {
    memset(b, 0, sizeof *b);
    CsvReader r;
    csv_reader_init(&r, name, data, len, CSV_ALLOW_BOM | CSV_ALLOW_CRLF);
    int rc = parse_rows(&r, name, b);
    csv_reader_free(&r);
    if (rc < 0)
        baseline_free(b);
    return rc < 0 ? rc : ERR_OK;
}

int baseline_read(const char *path, Baseline *b) {
    char *data;
    size_t len;
    memset(b, 0, sizeof *b);
    int rc = file_read_all(path, BASELINE_FILE_MAX, &data, &len);
    if (rc < 0)
        return rc;
    rc = baseline_parse(path, data, len, b);
    free(data);
    return rc;
}

int baseline_builtin(Baseline *b) {
    return baseline_parse(BASELINE_BUILTIN_NAME, (const char *)report_baseline_csv,
                          report_baseline_csv_len, b);
}

const BaselineRow *baseline_find(const Baseline *b, double pct_noise, int imagewoof, int size,
                                 int epochs) {
    for (int i = 0; i < b->n; i++) {
        const BaselineRow *row = &b->rows[i];
        if (row->pct_noise == pct_noise && row->imagewoof == imagewoof && row->size == size &&
            row->epochs == epochs)
            return row;
    }
    return NULL;
}

void baseline_free(Baseline *b) {
    free(b->rows);
    memset(b, 0, sizeof *b);
}
