/* A strict RFC 4180 CSV reader over a buffer in memory, and a field writer.
 *
 * The reader yields one record at a time; each field's text is unquoted and
 * NUL-terminated, and its line and byte column are kept so every message can
 * say "file.csv:LINE:COL: what was found, what was expected". Quoted fields
 * may hold commas, doubled quotes and newlines. A UTF-8 byte-order mark and
 * CRLF line ends are errors unless the caller allows them (the published
 * label format has neither). No record may be longer than CSV_RECORD_MAX. */
#ifndef NOISETTE_LABELS_CSV_H
#define NOISETTE_LABELS_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_RECORD_MAX (1u << 20)

typedef enum {
    CSV_ALLOW_BOM  = 1 << 0,    /* skip a leading EF BB BF */
    CSV_ALLOW_CRLF = 1 << 1     /* accept \r\n as a record end */
} CsvFlags;

typedef struct {
    const char *name;           /* file name for messages */
    const char *data;           /* the whole input, not owned */
    size_t      len, pos;
    int         flags;
    long        line;           /* 1-based line at pos */
    size_t      line_start;     /* offset of that line's first byte */

    long        row_line;       /* line where the current record starts */
    int         n_fields;
    char      **fields;         /* n_fields pointers into buf */
    int        *field_col;      /* 1-based byte column of each field */
    long       *field_line;     /* line of each field (quoted ones may span) */
    int         fields_cap;
    char       *buf;
    size_t      buf_cap;
} CsvReader;

/* Starts reading data[0..len); name is used in messages (not copied). */
void csv_reader_init(CsvReader *r, const char *name, const char *data, size_t len, int flags);

/* Reads the next record into r->fields. Returns 1 for a record, 0 at the
 * end of input, or a negative ErrCode with a "name:line:col: ..." message. */
int csv_read_row(CsvReader *r);

void csv_reader_free(CsvReader *r);

/* Writes s as one field, quoted only when it holds a comma, quote, CR or
 * LF. Returns 0, or ERR_IO if the stream reports an error. */
int csv_write_field(FILE *fp, const char *s);

#endif
