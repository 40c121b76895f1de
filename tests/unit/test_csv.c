/* CSV reader and writer: quoting, positions, line ends, byte-order marks,
 * every syntax error with its file:line:col, and round trips. */
#include "test_util.h"

#include "labels/csv.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads all of s; returns the last csv_read_row result (0 = clean end). */
static int read_all(const char *s, size_t len, int flags, int *rows) {
    CsvReader r;
    csv_reader_init(&r, "t.csv", s, len, flags);
    int rc;
    *rows = 0;
    while ((rc = csv_read_row(&r)) > 0)
        (*rows)++;
    csv_reader_free(&r);
    return rc;
}

static void expect_error(const char *s, int flags, const char *where, const char *what) {
    int rows;
    assert_int_equal(read_all(s, strlen(s), flags, &rows), ERR_PARSE);
    assert_contains(err_msg(), where);
    assert_contains(err_msg(), what);
}

static void test_plain_rows(void **state) {
    (void)state;
    const char *s = "a,b,c\n1,,3\n";
    CsvReader r;
    csv_reader_init(&r, "t.csv", s, strlen(s), 0);

    assert_int_equal(csv_read_row(&r), 1);
    assert_int_equal(r.n_fields, 3);
    assert_string_equal(r.fields[2], "c");
    assert_int_equal(csv_read_row(&r), 1);
    assert_int_equal(r.row_line, 2);
    assert_string_equal(r.fields[1], "");
    assert_int_equal(r.field_col[2], 4);
    assert_int_equal(csv_read_row(&r), 0);
    csv_reader_free(&r);
}

static void test_quoted_fields(void **state) {
    (void)state;
    const char *s = "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\nx,\"\",y";
    CsvReader r;
    csv_reader_init(&r, "t.csv", s, strlen(s), 0);

    assert_int_equal(csv_read_row(&r), 1);
    assert_int_equal(r.n_fields, 3);
    assert_string_equal(r.fields[0], "a,b");
    assert_string_equal(r.fields[1], "say \"hi\"");
    assert_string_equal(r.fields[2], "two\nlines");

    /* The record after a quoted newline starts on line 3; no final LF. */
    assert_int_equal(csv_read_row(&r), 1);
    assert_int_equal(r.row_line, 3);
    assert_int_equal(r.n_fields, 3);
    assert_string_equal(r.fields[1], "");
    assert_string_equal(r.fields[2], "y");
    assert_int_equal(csv_read_row(&r), 0);
    csv_reader_free(&r);
}

static void test_trailing_comma_and_empty_line(void **state) {
    (void)state;
    const char *s = "a,\n\nb";
    CsvReader r;
    csv_reader_init(&r, "t.csv", s, strlen(s), 0);
    assert_int_equal(csv_read_row(&r), 1);
    assert_int_equal(r.n_fields, 2);
    assert_string_equal(r.fields[1], "");
    assert_int_equal(csv_read_row(&r), 1);
    assert_int_equal(r.n_fields, 1);
    assert_string_equal(r.fields[0], "");
    assert_int_equal(csv_read_row(&r), 1);
    assert_string_equal(r.fields[0], "b");
    assert_int_equal(csv_read_row(&r), 0);
    csv_reader_free(&r);
}

static void test_crlf_allowed_or_refused(void **state) {
    (void)state;
    const char *s = "a,b\r\n\"c\",d\r\n";
    int rows;
    assert_int_equal(read_all(s, strlen(s), CSV_ALLOW_CRLF, &rows), 0);
    assert_int_equal(rows, 2);
    expect_error(s, 0, "t.csv:1:4:", "CRLF");
    expect_error("a,\"b\"\r\n", 0, "t.csv:1:6:", "CRLF");
}

static void test_bom_allowed_or_refused(void **state) {
    (void)state;
    const char *s = "\xEF\xBB\xBFpath,x\n1,2\n";
    CsvReader r;
    csv_reader_init(&r, "t.csv", s, strlen(s), CSV_ALLOW_BOM);
    assert_int_equal(csv_read_row(&r), 1);
    assert_string_equal(r.fields[0], "path");
    assert_int_equal(r.field_col[0], 1);
    csv_reader_free(&r);
    expect_error(s, 0, "t.csv:1:1:", "byte-order mark");
}

static void test_syntax_errors_name_line_and_column(void **state) {
    (void)state;
    expect_error("a,b\nc,\"d\n", 0, "t.csv:2:3:", "never closed");
    expect_error("a,b\nc,d\"e\n", 0, "t.csv:2:4:", "quote inside an unquoted field");
    expect_error("a,\"b\"c\n", 0, "t.csv:1:6:", "after a closing quote");
    expect_error("a,b\rc\n", 0, "t.csv:1:4:", "carriage return");
    int rows;
    assert_int_equal(read_all("a,\0b\n", 5, 0, &rows), ERR_PARSE);
    assert_contains(err_msg(), "t.csv:1:3: NUL byte");
}

static void test_record_longer_than_limit(void **state) {
    (void)state;
    size_t n = CSV_RECORD_MAX + 100;
    char *s = malloc(n + 8);
    assert_non_null(s);
    memcpy(s, "a,b\n", 4);
    memset(s + 4, 'x', n);
    s[n + 4] = '\n';
    int rows;
    assert_int_equal(read_all(s, n + 5, 0, &rows), ERR_PARSE);
    assert_contains(err_msg(), "t.csv:2:");
    assert_contains(err_msg(), "longer than 1 MiB");
    assert_int_equal(rows, 1);
    free(s);
}

/* Writes rows of tricky fields, reads them back, and compares; then the
 * same bytes with CRLF line ends and a BOM must read back the same. */
static void test_round_trip(void **state) {
    (void)state;
    const char *fields[2][4] = {
        {"plain", "with,comma", "with \"quote\"", "multi\nline"},
        {"", " spaces ", "\"", "end"},
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 4; j++) {
            if (j)
                fputc(',', fp);
            assert_int_equal(csv_write_field(fp, fields[i][j]), 0);
        }
        fputc('\n', fp);
    }
    fclose(fp);

    /* The CRLF + BOM variant: CR before each record-ending LF only. */
    char *crlf = malloc(2 * len + 4);
    assert_non_null(crlf);
    size_t m = 0;
    memcpy(crlf, "\xEF\xBB\xBF", 3);
    m = 3;
    int in_quotes = 0;
    for (size_t k = 0; k < len; k++) {
        if (buf[k] == '"')
            in_quotes = !in_quotes;
        if (buf[k] == '\n' && !in_quotes)
            crlf[m++] = '\r';
        crlf[m++] = buf[k];
    }

    const char *inputs[2] = {buf, crlf};
    size_t lens[2] = {len, m};
    for (int v = 0; v < 2; v++) {
        CsvReader r;
        csv_reader_init(&r, "t.csv", inputs[v], lens[v], CSV_ALLOW_BOM | CSV_ALLOW_CRLF);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(csv_read_row(&r), 1);
            assert_int_equal(r.n_fields, 4);
            for (int j = 0; j < 4; j++)
                assert_string_equal(r.fields[j], fields[i][j]);
        }
        assert_int_equal(csv_read_row(&r), 0);
        csv_reader_free(&r);
    }
    free(buf);
    free(crlf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_trailing_comma_and_empty_line),
        cmocka_unit_test(test_crlf_allowed_or_refused),
        cmocka_unit_test(test_bom_allowed_or_refused),
        cmocka_unit_test(test_syntax_errors_name_line_and_column),
        cmocka_unit_test(test_record_longer_than_limit),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
