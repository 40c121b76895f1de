/* Strict CSV reading and field writing; see csv.h.
 *
 * The reader is a small state machine over bytes: field start, inside an
 * unquoted field, inside a quoted field, just after a closing quote. Field
 * text is copied into one growing buffer, each field NUL-terminated, and
 * pointers are fixed up once the record is complete (the buffer may move). */
#include "labels/csv.h"

#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char UTF8_BOM[3] = {0xEF, 0xBB, 0xBF};

void csv_reader_init(CsvReader *r, const char *name, const char *data, size_t len, int flags) {
    memset(r, 0, sizeof *r);
    r->name = name;
    r->data = data;
    r->len = len;
    r->flags = flags;
    r->line = 1;
}

void csv_reader_free(CsvReader *r) {
    free(r->fields);
    free(r->field_col);
    free(r->field_line);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

static int col_at(const CsvReader *r, size_t pos) {
    return (int)(pos - r->line_start) + 1;
}

static int fail(CsvReader *r, size_t pos, const char *what) {
    return err_set(ERR_PARSE, "%s:%ld:%d: %s", r->name, r->line, col_at(r, pos), what);
}

static int buf_put(CsvReader *r, size_t *used, char c) {
    if (*used == r->buf_cap) {
        size_t cap = r->buf_cap ? 2 * r->buf_cap : 256;
        char *grown = realloc(r->buf, cap);
        if (!grown)
            return err_set(ERR_NOMEM, "%s: out of memory", r->name);
        r->buf = grown;
        r->buf_cap = cap;
    }
    r->buf[(*used)++] = c;
    return ERR_OK;
}

/* Records the start of a new field; offsets are kept in fields[] as
 * integers until the record ends, then turned into pointers. */
static int field_begin(CsvReader *r, size_t used, size_t pos) {
    if (r->n_fields == r->fields_cap) {
        int cap = r->fields_cap ? 2 * r->fields_cap : 16;
        char **f = realloc(r->fields, (size_t)cap * sizeof *f);
        if (f)
            r->fields = f;
        int *c = realloc(r->field_col, (size_t)cap * sizeof *c);
        if (c)
            r->field_col = c;
        long *l = realloc(r->field_line, (size_t)cap * sizeof *l);
        if (l)
            r->field_line = l;
        if (!f || !c || !l)
            return err_set(ERR_NOMEM, "%s: out of memory", r->name);
        r->fields_cap = cap;
    }
    r->fields[r->n_fields] = (char *)(uintptr_t)used;
    r->field_col[r->n_fields] = col_at(r, pos);
    r->field_line[r->n_fields] = r->line;
    r->n_fields++;
    return ERR_OK;
}

/* Handles the byte at r->pos when it is '\r': with CSV_ALLOW_CRLF a CRLF
 * ends the record (returns 1, pos moved past it); otherwise an error. */
static int crlf_end(CsvReader *r) {
    size_t p = r->pos;
    if (p + 1 < r->len && r->data[p + 1] == '\n') {
        if (r->flags & CSV_ALLOW_CRLF) {
            r->pos = p + 2;
            return 1;
        }
        return fail(r, p, "CRLF (Windows) line end; the label format uses LF "
                          "(convert with: sed -i 's/\\r$//' FILE)");
    }
    return fail(r, p, "carriage return inside a field");
}

enum { ST_START, ST_PLAIN, ST_QUOTED, ST_AFTER_QUOTE };

/* Parser state within one record. */
typedef struct {
    int    st;
    size_t used;                /* bytes of r->buf filled */
    long   quote_line;          /* where the open quote sits, for messages */
    int    quote_col;
    int    done;                /* the record's line end was consumed */
} RowState;

/* Field start: a quote opens a quoted field, anything else a plain one
 * (the byte itself is handled by the plain state). */
static int step_start(CsvReader *r, RowState *rs, char c) {
    int rc = field_begin(r, rs->used, r->pos);
    if (rc < 0)
        return rc;
    if (c == '"') {
        rs->quote_line = r->line;
        rs->quote_col = col_at(r, r->pos);
        rs->st = ST_QUOTED;
        r->pos++;
    } else {
        rs->st = ST_PLAIN;
    }
    return ERR_OK;
}

/* Inside a plain field, or just after a closing quote: a comma ends the
 * field, LF (or an allowed CRLF) the record; after a quote nothing else
 * may follow, and a plain field may not hold a quote. */
static int step_plain(CsvReader *r, RowState *rs, char c) {
    int rc;
    if (c == ',') {
        rs->st = ST_START;
        r->pos++;
        return buf_put(r, &rs->used, '\0');
    }
    if (c == '\n') {
        r->pos++;
        rs->done = 1;
        return ERR_OK;
    }
    if (c == '\r') {
        if ((rc = crlf_end(r)) < 0)
            return rc;
        rs->done = 1;
        return ERR_OK;
    }
    if (rs->st == ST_AFTER_QUOTE)
        return fail(r, r->pos, "unexpected character after a closing quote "
                               "(expected a comma or a line end)");
    if (c == '"')
        return fail(r, r->pos, "quote inside an unquoted field "
                               "(quote the whole field and double the quote)");
    r->pos++;
    return buf_put(r, &rs->used, c);
}

/* Inside quotes: "" is one quote, a lone " closes, all else is text. */
static int step_quoted(CsvReader *r, RowState *rs, char c) {
    if (c == '"') {
        if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
            r->pos += 2;
            return buf_put(r, &rs->used, '"');
        }
        rs->st = ST_AFTER_QUOTE;
        r->pos++;
        return ERR_OK;
    }
    r->pos++;
    if (c == '\n') {
        r->line++;
        r->line_start = r->pos;
    }
    return buf_put(r, &rs->used, c);
}

int csv_read_row(CsvReader *r) {
    int rc;

    /* A byte-order mark can only sit at the very start. */
    if (r->pos == 0 && r->len >= 3 && memcmp(r->data, UTF8_BOM, 3) == 0) {
        if (!(r->flags & CSV_ALLOW_BOM))
            return fail(r, 0, "file starts with a UTF-8 byte-order mark; the label format "
                              "has none (remove it with: sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)");
        r->pos = r->line_start = 3;
    }
    if (r->pos >= r->len)
        return 0;

    /* Byte by byte until the record's line end or the end of input. */
    RowState rs = {ST_START, 0, 0, 0, 0};
    size_t row_start = r->pos;
    r->n_fields = 0;
    r->row_line = r->line;
    while (!rs.done) {
        if (r->pos - row_start > CSV_RECORD_MAX)
            return fail(r, r->pos, "record longer than 1 MiB; is this a label CSV?");
        if (r->pos >= r->len) {
            if (rs.st == ST_QUOTED)
                return err_set(ERR_PARSE, "%s:%ld:%d: quoted field never closed (end of file)",
                               r->name, rs.quote_line, rs.quote_col);
            if (rs.st == ST_START && (rc = field_begin(r, rs.used, r->pos)) < 0)
                return rc;
            break;
        }
        char c = r->data[r->pos];
        if (c == '\0')
            return fail(r, r->pos, "NUL byte; is this a text file?");
        rc = rs.st == ST_START  ? step_start(r, &rs, c)
           : rs.st == ST_QUOTED ? step_quoted(r, &rs, c)
                                : step_plain(r, &rs, c);
        if (rc < 0)
            return rc;
    }
    if ((rc = buf_put(r, &rs.used, '\0')) < 0)
        return rc;

    /* The record is complete: turn offsets into pointers, move to next line. */
    for (int i = 0; i < r->n_fields; i++)
        r->fields[i] = r->buf + (uintptr_t)r->fields[i];
    if (rs.done) {
        r->line++;
        r->line_start = r->pos;
    }
    return 1;
}

int csv_write_field(FILE *fp, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, fp);
    } else {
        fputc('"', fp);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', fp);
            fputc(*p, fp);
        }
        fputc('"', fp);
    }
    return ferror(fp) ? err_set(ERR_IO, "write failed") : ERR_OK;
}
